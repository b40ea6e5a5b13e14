"""Detecting how a delimited text table is written: encoding, delimiter, decimal mark, header.

The sample is the first 64 KiB (decompressed, for ``.gz`` files), grown up to 16 MiB when
that holds fewer than three lines (a very wide table). Encoding: UTF-8, with or without a
byte-order mark; otherwise the code page charset-normalizer finds most plausible (see
:func:`detect_legacy_encoding`). A sample of plain ASCII only presumes UTF-8: when a later
line is not UTF-8, :func:`redetect_encoding` looks at the whole file and the table is read
again in the encoding its non-ASCII lines are in; text is never decoded with replacement
characters, and a file that mixes UTF-8 with another encoding is refused. Anything with NUL
bytes or many control characters is binary data and refused.

The delimiter is the candidate (``,`` ``;`` tab ``|``, else runs of spaces) that splits the
most lines into the same number of fields, preferring the one whose fields read as numbers.
A comma is the decimal mark when the delimiter is not a comma and numbers like ``1,5``
outnumber numbers like ``1.5`` (numbers with both marks, ``1.234,56`` or ``1,234.56``,
decide first). Numbers may group thousands (:func:`number_pattern`). The first line is a
header when it holds text above a column of numbers, or text that does not repeat below.
Only the first 1,000 fields of a line are looked at for numbers and names.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import unicodedata
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import charset_normalizer

from .errors import LoaderError
from .options import LoadOptions

SAMPLE_BYTES = 1 << 16
SAMPLE_MAX_BYTES = 1 << 24  # the sample grows up to this to hold MIN_SAMPLE_LINES lines
MIN_SAMPLE_LINES = 3
SAMPLE_LINES = 200
SNIFF_FIELDS = 1000  # fields per line looked at for numbers and names
CANDIDATES = (",", ";", "\t", "|")
WHITESPACE = " "  # stands for "runs of spaces or tabs"
GZIP_MAGIC = b"\x1f\x8b"
UTF8 = "utf-8-sig"  # UTF-8 with or without a byte-order mark
NA_TOKENS = frozenset({"", "?", "na", "n/a", "nan", "null", "none", "-nan", "#n/a", "missing"})
THOUSANDS_SPACES = " \u00a0\u202f"  # space, no-break space, narrow no-break space
COMMON_ENCODINGS = ("cp1252", "latin_1", "iso8859_15", "cp1250", "iso8859_2", "cp1251", "koi8_r", "cp1253", "cp1254", "cp1257",
                    "cp932", "shift_jis", "gb18030", "gbk", "big5", "euc_kr", "euc_jp")  # Windows code pages lead
COMMON_SYMBOLS = frozenset("€£¥¢°µ§±×÷«»–—…‘’“”•·²³½¼¾©®™\u00a0")  # symbols tables hold
PLAUSIBILITY_CHARACTERS = 4096  # non-ASCII characters looked at to rank code pages
_EXPONENT = "(?:[eE][+-]?[0-9]+)?"
_INFINITY = "(?i:inf|infinity)"
_COMMA_NUMBER = re.compile(r"^[+-]?[0-9]*,[0-9]+([eE][+-]?[0-9]+)?$")
_DOT_NUMBER = re.compile(r"^[+-]?[0-9]*\.[0-9]+([eE][+-]?[0-9]+)?$")
# numbers with both marks, or grouped twice: 1.234,5 and 1.234.567 say "decimal comma", 1,234.5 and 1,234,567 "decimal point"
_GROUPED_COMMA_DECIMAL = re.compile(r"^[+-]?[0-9]{1,3}(\.[0-9]{3})+,[0-9]+$|^[+-]?[0-9]{1,3}(\.[0-9]{3}){2,}$")
_GROUPED_DOT_DECIMAL = re.compile(r"^[+-]?[0-9]{1,3}(,[0-9]{3})+\.[0-9]+$|^[+-]?[0-9]{1,3}(,[0-9]{3}){2,}$")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # control characters other than tab, line breaks, form feed


@dataclass(frozen=True)
class Dialect:
    """How a text table is written.

    Attributes:
        encoding: a Python codec name ("utf-8-sig", or a code page such as "cp1252").
        delimiter: ",", ";", "\\t", "|", another single character, or " " (runs of whitespace).
        decimal: "." or ",".
        header: whether the first line names the columns.
        compressed: whether the file is gzip-compressed.
        encoding_presumed: the sample held only ASCII, so UTF-8 is presumed; a later line
            that is not UTF-8 makes the reader look for the file's real encoding.
    """

    encoding: str = UTF8
    delimiter: str = ","
    decimal: str = "."
    header: bool = True
    compressed: bool = False
    encoding_presumed: bool = False

    def describe(self) -> str:
        names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "bar", WHITESPACE: "spaces"}
        parts = [f"{names.get(self.delimiter, repr(self.delimiter))}-separated",
                 "header line" if self.header else "no header line", f"decimal '{self.decimal}'"]
        if codecs.lookup(self.encoding).name != codecs.lookup(UTF8).name:
            parts.append(f"{self.encoding} text")
        if self.compressed:
            parts.append("gzip")
        return ", ".join(parts)


@contextmanager
def open_binary(path: Path, compressed: bool) -> Iterator[tuple[io.BufferedIOBase, io.BufferedReader]]:
    """Yield (stream to parse, raw file whose position measures progress)."""
    with open(path, "rb") as raw:
        yield (gzip.GzipFile(fileobj=raw) if compressed else raw), raw


# ----- numbers ------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def number_pattern(decimal: str) -> re.Pattern:
    """A number as a table with this decimal mark writes it (match the whole stripped cell).

    Thousands may be grouped by a space (also no-break) or, with a decimal comma, a dot
    (``1.234,56``, ``1 234,56``, ``12.345``); with a decimal point a comma groups them
    only in a number that also has a fraction (``1,234.56``: ``1,234`` alone could be
    either). Digits are ASCII only; ``inf`` and ``infinity`` count as numbers.
    """
    mark = re.escape(decimal)
    plain = f"(?:[0-9]+(?:{mark}[0-9]*)?|{mark}[0-9]+){_EXPONENT}"
    spaces = f"[{THOUSANDS_SPACES}]"
    if decimal == ",":
        grouped = rf"[0-9]{{1,3}}(?P<sep>\.|{spaces})[0-9]{{3}}(?:(?P=sep)[0-9]{{3}})*(?:,[0-9]+)?"
    else:
        grouped = (rf"[0-9]{{1,3}}(?P<sep>{spaces})[0-9]{{3}}(?:(?P=sep)[0-9]{{3}})*(?:\.[0-9]+)?"
                   rf"|[0-9]{{1,3}}(?:,[0-9]{{3}})+\.[0-9]+")
    return re.compile(f"[+-]?(?:{plain}|{grouped}|{_INFINITY})")


def canonical_number(text: str, decimal: str) -> str:
    """A cell that matches :func:`number_pattern` as Python's float() reads it."""
    separators = "." if decimal == "," else ","
    for mark in separators + THOUSANDS_SPACES:
        text = text.replace(mark, "")
    return text.replace(",", ".")


def to_number(text: str, decimal: str = ".") -> float | None:
    """The value of a cell written as a number in this dialect, else None."""
    text = text.strip()
    if not number_pattern(decimal).fullmatch(text):
        return None
    return float(canonical_number(text, decimal))


def is_number(text: str, decimal: str = ".") -> bool:
    return bool(number_pattern(decimal).fullmatch(text.strip()))


def is_missing_token(text: str) -> bool:
    return text.strip().lower() in NA_TOKENS


# ----- the sample and its encoding ------------------------------------------------------------------


def read_sample(path: Path, size: int = SAMPLE_BYTES) -> tuple[bytes, bool, bool]:
    """The first ``size`` bytes (decompressed when gzip; more, up to SAMPLE_MAX_BYTES, until
    they hold MIN_SAMPLE_LINES lines), whether that is all of the file, and whether the file
    is gzip-compressed."""
    try:
        with open(path, "rb") as f:
            compressed = f.read(2) == GZIP_MAGIC
            f.seek(0)
            stream = gzip.GzipFile(fileobj=f) if compressed else f
            head = stream.read(size + 1)
            while len(head) > size and head.count(b"\n") < MIN_SAMPLE_LINES and size < SAMPLE_MAX_BYTES:
                size = min(2 * size, SAMPLE_MAX_BYTES)
                head += stream.read(size + 1 - len(head))
    except (OSError, EOFError, zlib.error) as exc:
        raise LoaderError(f"{path}: cannot be read ({exc})") from None
    return head[:size], len(head) <= size, compressed


def non_ascii_lines(raw: bytes, limit: int = SAMPLE_BYTES) -> bytes:
    """The lines of ``raw`` that hold non-ASCII bytes, up to about ``limit`` bytes: what an
    encoding is detected on (in a table they are few among many lines of digits)."""
    picked, size = [], 0
    for line in raw.splitlines(keepends=True):
        if not line.isascii():
            picked.append(line)
            size += len(line)
            if size >= limit:
                break
    return b"".join(picked)


def _plausibility(text: str) -> float:
    """Share of the first non-ASCII characters of ``text`` that fit where they are: a
    Latin letter in a word that also has ASCII letters (or is at most two letters long), a
    letter of another script in a word without ASCII letters (``Kraków``, ``Москва``;
    not ``Kraкуw``, ``Ìîñêâà``), or a common symbol outside a word (``€5``, ``°C``; not
    ``£ódź``, ``Wroc³aw``)."""
    fitting = total = 0
    for match in _NON_ASCII.finditer(text):
        ch = match.group()
        if ch in COMMON_SYMBOLS or not ch.isalpha():
            before, after = (text[k] if 0 <= k < len(text) else " " for k in (match.start() - 1, match.end()))
            inside = before.isalpha() and after.isalpha() or any(c.isalpha() and not c.isascii() for c in (before, after))
            fitting += ch in COMMON_SYMBOLS and not inside
        else:
            start, end = match.start(), match.end()
            while start > 0 and text[start - 1].isalpha():
                start -= 1
            while end < len(text) and text[end].isalpha():
                end += 1
            word = text[start:end]
            ascii_letters = any(c.isascii() for c in word)
            latin = unicodedata.name(ch, "").startswith("LATIN")
            fitting += (ascii_letters or len(word) <= 2) if latin else not ascii_letters
        total += 1
        if total >= PLAUSIBILITY_CHARACTERS:
            break
    return fitting / total if total else 1.0


def detect_legacy_encoding(path: Path, sample: bytes) -> str:
    """The code page of ``sample`` (bytes that are not UTF-8, ideally its non-ASCII lines).

    charset-normalizer proposes the encodings that decode it; a short sample fits many, and
    its measures of mess and language coherence are rough there. So the candidates (its
    proposals, and the COMMON_ENCODINGS it did not propose, as the messiest) are ranked by
    how plausible their text is (:func:`_plausibility`), then by mess and coherence to the
    nearest tenth, then by how common the code page is, then in charset-normalizer's order.
    LoaderError when none fits.
    """
    proposed = [(match.chaos, match.coherence, [match.encoding, *match.could_be_from_charset])
                for match in charset_normalizer.from_bytes(sample)]
    candidates: dict[str, tuple] = {}
    for rank, (chaos, coherence, names) in enumerate([*proposed, (1.0, 0.0, list(COMMON_ENCODINGS))]):
        for name in names:
            if name in candidates:
                continue
            try:
                text = sample.decode(name)
            except (UnicodeDecodeError, LookupError):
                continue
            common = COMMON_ENCODINGS.index(name) if name in COMMON_ENCODINGS else len(COMMON_ENCODINGS)
            candidates[name] = (-round(_plausibility(text), 2), int(chaos * 10), -int(coherence * 10), common, rank)
    if not candidates:
        raise LoaderError(f"{path}: text in an unknown encoding (not UTF-8, and no code page fits it); save it as UTF-8")
    return min(candidates, key=candidates.__getitem__)


def decode_sample(path: Path, raw: bytes, complete: bool, encoding: str | None = None) -> tuple[str, str, bool]:
    """Decode the sample; return (text, codec, whether UTF-8 is only presumed because the
    sample is plain ASCII). Raise LoaderError for binary data or text that is not ``encoding``."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise LoaderError(f"{path}: binary data (a NUL byte at offset {nul}), not a text table; "
                          "expected CSV/TSV text, an .npz file, an IDX file or a folder of images")
    if encoding is None:
        try:
            text = codecs.getincrementaldecoder(UTF8)().decode(raw, final=complete)
            return _refuse_control_characters(path, text), UTF8, raw.isascii()
        except UnicodeDecodeError:
            lines = raw.splitlines(keepends=True)
            check = _Utf8Check(path, bom=raw.startswith(codecs.BOM_UTF8))
            for number, line in enumerate(lines if complete else lines[:-1], start=1):  # the last may be cut short
                if not line.isascii():
                    check.see(number, line)
            encoding = detect_legacy_encoding(path, non_ascii_lines(raw))
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(raw, final=complete)
    except (LookupError, UnicodeDecodeError) as exc:
        raise LoaderError(f"{path}: cannot be read as {encoding} ({exc})") from None
    return _refuse_control_characters(path, text), encoding, False


def _refuse_control_characters(path: Path, text: str) -> str:
    control = len(_CONTROL.findall(text))
    if text and control > 0.02 * len(text):
        raise LoaderError(f"{path}: binary data ({control} control characters in the first {len(text)}), not a text table")
    return text


class _Utf8Check:
    """Looks at the non-ASCII lines of a file that is not all UTF-8, in order: LoaderError
    as soon as one of them is UTF-8 text and another is not, or when one is not though the
    file starts with a UTF-8 byte-order mark (no one encoding reads them all as written)."""

    def __init__(self, path: Path, bom: bool):
        self.path, self.bom = path, bom
        self.utf8: int | None = None  # the first line of non-ASCII UTF-8 text
        self.other: int | None = None  # the first line that is not UTF-8

    def see(self, number: int, line: bytes) -> None:
        try:
            line.decode("utf-8")
            self.utf8 = self.utf8 or number
        except UnicodeDecodeError:
            self.other = self.other or number
        if self.other and self.bom:
            raise LoaderError(f"{self.path}: line {self.other} is not valid UTF-8 text, though the file starts with a UTF-8 "
                              "byte-order mark; save the file as UTF-8")
        if self.utf8 and self.other:
            raise LoaderError(f"{self.path}: mixed text encodings: line {self.utf8} is UTF-8 but line {self.other} is not; "
                              "save the file in one encoding (UTF-8)")


def redetect_encoding(path: Path, compressed: bool) -> str | None:
    """The encoding of a table whose sample was plain ASCII but that has a line further on
    that is not UTF-8: detected on its non-ASCII lines from that line on (up to
    SAMPLE_BYTES of them). None when every line is UTF-8. LoaderError for mixed encodings
    (see :class:`_Utf8Check`), or when no code page fits."""
    check = _Utf8Check(path, bom=False)
    sample, size = [], 0
    with open_binary(path, compressed) as (stream, _):
        for number, line in enumerate(stream, start=1):
            if line.isascii():
                continue
            check.see(number, line)
            if check.other:
                sample.append(line)
                size += len(line)
                if size >= SAMPLE_BYTES:
                    break
    return detect_legacy_encoding(path, b"".join(sample)) if sample else None


def undecodable_line(path: Path, compressed: bool, encoding: str) -> tuple[int, int] | None:
    """(line number, first bad byte) of the first line that is not valid ``encoding`` text."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with open_binary(path, compressed) as (stream, _):
        for number, line in enumerate(stream, start=1):
            try:
                decoder.decode(line)
            except UnicodeDecodeError as exc:
                return number, line[exc.start] if exc.start < len(line) else 0
    return None


# ----- delimiter, decimal mark, header ----------------------------------------------------------------


def sample_lines(text: str, complete: bool) -> list[str]:
    """Up to SAMPLE_LINES non-blank lines (the last, possibly cut, line dropped unless complete)."""
    lines = text.splitlines()
    if not complete and len(lines) > 1:
        lines = lines[:-1]
    return [line for line in lines if line.strip()][:SAMPLE_LINES]


def _quoted(lines: list[str]) -> bool:
    return any('"' in line for line in lines)


def field_counts(lines: list[str], delimiter: str) -> list[int]:
    """Fields of each sample record (quoted fields may hold delimiters and line breaks)."""
    if delimiter == WHITESPACE:
        return [len(line.split()) for line in lines]
    if not _quoted(lines):
        return [line.count(delimiter) + 1 for line in lines]
    return [len(row) for row in split_fields(lines, delimiter, limit=None)]


def split_fields(lines: list[str], delimiter: str, limit: int | None = SNIFF_FIELDS) -> list[list[str]]:
    """Split sample lines into stripped fields the way the table will be parsed; at most
    ``limit`` fields of each."""
    if delimiter == WHITESPACE:
        return [line.split(None, limit)[:limit] for line in lines]
    if not _quoted(lines):
        return [[field.strip() for field in line.split(delimiter, -1 if limit is None else limit)[:limit]] for line in lines]
    try:
        return [[field.strip() for field in row[:limit]] for row in csv.reader(lines, delimiter=delimiter, quotechar='"')]
    except csv.Error:
        return [line.split(delimiter)[:limit] for line in lines]


def guess_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the sample most consistently (see the module docstring)."""
    best, best_score = None, None
    for delimiter in (*CANDIDATES, WHITESPACE):
        counts = field_counts(lines, delimiter)
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        consistency = counts.count(mode) / len(counts)
        fields = [f for r in split_fields(lines, delimiter) for f in r if f]
        numeric = sum(is_number(f) or is_number(f, ",") for f in fields) / max(len(fields), 1)
        score = (round(consistency, 2), round(numeric, 2), delimiter != WHITESPACE, mode)
        if best_score is None or score > best_score:
            best, best_score = delimiter, score
    return best if best is not None else ","


def guess_decimal(rows: list[list[str]], delimiter: str) -> str:
    """"," or "." (see the module docstring)."""
    if delimiter == ",":
        return "."
    fields = [f for r in rows for f in r]
    grouped_comma = sum(bool(_GROUPED_COMMA_DECIMAL.match(f)) for f in fields)
    grouped_dot = sum(bool(_GROUPED_DOT_DECIMAL.match(f)) for f in fields)
    if grouped_comma != grouped_dot:
        return "," if grouped_comma > grouped_dot else "."
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
    text, encoding, presumed = decode_sample(path, raw, complete, options.encoding)
    lines = sample_lines(text, complete)
    if not lines:
        raise LoaderError(f"{path}: the file is empty (only blank lines)")
    delimiter = options.delimiter or guess_delimiter(lines)
    rows = split_fields(lines, delimiter)
    decimal = options.decimal or guess_decimal(rows, delimiter)
    header = options.header if options.header is not None else guess_header(rows, decimal)
    return Dialect(encoding=encoding, delimiter=delimiter, decimal=decimal, header=header, compressed=compressed,
                   encoding_presumed=presumed)
