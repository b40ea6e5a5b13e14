"""Detecting how a delimited text table is written: encoding, delimiter, decimal mark, header.

Only the first 64 KiB (decompressed, for ``.gz`` files) are looked at. Encoding: UTF-8,
with or without a byte-order mark; text that is not UTF-8 but has no control characters
is read as Latin-1. Anything with NUL bytes or many control characters is binary data
and refused. The delimiter is the candidate (``,`` ``;`` tab ``|``, else runs of spaces)
that splits the most lines into the same number of fields, preferring the one whose
fields read as numbers. A comma is the decimal mark when the delimiter is not a comma
and numbers like ``1,5`` outnumber numbers like ``1.5``. The first line is a header
when it holds text above a column of numbers, or text that does not repeat below.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from .errors import LoaderError
from .options import LoadOptions

SAMPLE_BYTES = 1 << 16
SAMPLE_LINES = 200
CANDIDATES = (",", ";", "\t", "|")
WHITESPACE = " "  # stands for "runs of spaces or tabs"
GZIP_MAGIC = b"\x1f\x8b"
NA_TOKENS = frozenset({"", "?", "na", "n/a", "nan", "null", "none", "-nan", "#n/a", "missing"})
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity)$", re.IGNORECASE)
_COMMA_NUMBER = re.compile(r"^[+-]?\d*,\d+([eE][+-]?\d+)?$")
_DOT_NUMBER = re.compile(r"^[+-]?\d*\.\d+([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Dialect:
    """How a text table is written.

    Attributes:
        encoding: a Python codec name ("utf-8-sig" or "latin-1").
        delimiter: ",", ";", "\\t", "|", another single character, or " " (runs of whitespace).
        decimal: "." or ",".
        header: whether the first line names the columns.
        compressed: whether the file is gzip-compressed.
    """

    encoding: str = "utf-8-sig"
    delimiter: str = ","
    decimal: str = "."
    header: bool = True
    compressed: bool = False

    def describe(self) -> str:
        names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar", WHITESPACE: "spaces"}
        parts = [f"{names.get(self.delimiter, repr(self.delimiter))}-separated",
                 "header line" if self.header else "no header line", f"decimal '{self.decimal}'"]
        if self.compressed:
            parts.append("gzip")
        return ", ".join(parts)


def read_sample(path: Path, size: int = SAMPLE_BYTES) -> tuple[bytes, bool, bool]:
    """The first ``size`` bytes (decompressed when gzip), whether that is all of the
    file, and whether the file is gzip-compressed."""
    try:
        with open(path, "rb") as f:
            head = f.read(size + 1)
            compressed = head[:2] == GZIP_MAGIC
            if compressed:
                f.seek(0)
                with gzip.GzipFile(fileobj=f) as g:
                    head = g.read(size + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise LoaderError(f"{path}: cannot be read ({exc})") from None
    return head[:size], len(head) <= size, compressed


def decode_sample(path: Path, raw: bytes, complete: bool, encoding: str | None = None) -> tuple[str, str]:
    """Decode the sample; return (text, codec). Raise LoaderError for binary data."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise LoaderError(f"{path}: binary data (a NUL byte at offset {nul}), not a text table; "
                          "expected CSV/TSV text, an .npz file, an IDX file or a folder of images")
    if encoding is None:
        try:
            text = codecs.getincrementaldecoder("utf-8-sig")().decode(raw, final=complete)
            encoding = "utf-8-sig"
        except UnicodeDecodeError:
            text, encoding = raw.decode("latin-1"), "latin-1"
    else:
        try:
            text = raw.decode(encoding, errors="strict" if complete else "ignore")
        except (LookupError, UnicodeDecodeError) as exc:
            raise LoaderError(f"{path}: cannot be read as {encoding} ({exc})") from None
    control = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\r\n\f") or 0x7F <= ord(ch) < 0xA0)
    if text and control > 0.02 * len(text):
        raise LoaderError(f"{path}: binary data ({control} control characters in the first {len(text)}), not a text table")
    return text, encoding


def sample_lines(text: str, complete: bool) -> list[str]:
    """Up to SAMPLE_LINES non-blank lines (the last, possibly cut, line dropped unless complete)."""
    lines = text.splitlines()
    if not complete and len(lines) > 1:
        lines = lines[:-1]
    return [line for line in lines if line.strip()][:SAMPLE_LINES]


def split_fields(lines: list[str], delimiter: str) -> list[list[str]]:
    """Split sample lines into stripped fields the way the table will be parsed."""
    if delimiter == WHITESPACE:
        return [line.split() for line in lines]
    try:
        return [[field.strip() for field in row] for row in csv.reader(lines, delimiter=delimiter, quotechar='"')]
    except csv.Error:
        return [line.split(delimiter) for line in lines]


def is_number(text: str, decimal: str = ".") -> bool:
    text = text.strip()
    if decimal == ",":
        text = text.replace(",", ".")
    return bool(_NUMBER.match(text))


def is_missing_token(text: str) -> bool:
    return text.strip().lower() in NA_TOKENS


def guess_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the sample most consistently (see the module docstring)."""
    best, best_score = None, None
    for delimiter in (*CANDIDATES, WHITESPACE):
        rows = split_fields(lines, delimiter)
        counts = [len(r) for r in rows]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        consistency = counts.count(mode) / len(counts)
        fields = [f for r in rows for f in r if f]
        numeric = sum(is_number(f) or is_number(f, ",") for f in fields) / max(len(fields), 1)
        score = (round(consistency, 2), round(numeric, 2), delimiter != WHITESPACE, mode)
        if best_score is None or score > best_score:
            best, best_score = delimiter, score
    return best if best is not None else ","


def guess_decimal(rows: list[list[str]], delimiter: str) -> str:
    if delimiter == ",":
        return "."
    fields = [f for r in rows for f in r]
    comma = sum(bool(_COMMA_NUMBER.match(f)) for f in fields)
    dot = sum(bool(_DOT_NUMBER.match(f)) for f in fields)
    return "," if comma > dot else "."


def guess_header(rows: list[list[str]], decimal: str) -> bool:
    """Whether the first row names the columns (see the module docstring)."""
    if not rows:
        return False
    first, body = rows[0], rows[1:]
    if not body:
        return not any(is_number(f, decimal) or is_missing_token(f) for f in first)
    width = len(first)
    columns = [[r[j] for r in body if j < len(r) and not is_missing_token(r[j])] for j in range(width)]
    for cell, values in zip(first, columns, strict=True):
        if values and not is_missing_token(cell) and not is_number(cell, decimal):
            if sum(is_number(v, decimal) for v in values) >= 0.9 * len(values):
                return True
    if any(is_number(cell, decimal) or is_missing_token(cell) for cell in first):
        return False
    return all(cell not in values for cell, values in zip(first, columns, strict=True))


def sniff(path: Path, options: LoadOptions | None = None) -> Dialect:
    """Detect the dialect of the text table at ``path``; options override what they set."""
    options = options or LoadOptions()
    raw, complete, compressed = read_sample(path)
    if not raw.strip():
        raise LoaderError(f"{path}: the file is empty")
    text, encoding = decode_sample(path, raw, complete, options.encoding)
    lines = sample_lines(text, complete)
    if not lines:
        raise LoaderError(f"{path}: the file is empty (only blank lines)")
    delimiter = options.delimiter or guess_delimiter(lines)
    rows = split_fields(lines, delimiter)
    decimal = options.decimal or guess_decimal(rows, delimiter)
    header = options.header if options.header is not None else guess_header(rows, decimal)
    return Dialect(encoding=encoding, delimiter=delimiter, decimal=decimal, header=header, compressed=compressed)
