"""Reading delimited text tables (CSV, TSV, …, optionally gzip-compressed) with pandas.

:func:`read_frame` parses the whole file in chunks of rows, reporting progress by the
bytes consumed and checking for cancellation between chunks. Blank lines are kept while
parsing (so that row i of the frame is line ``first_line + i`` of the file, unless a
quoted field spans lines) and dropped afterwards. Ragged rows are refused with their line
number: too many fields by pandas' tokenizer, too few by a field count of the lines when
the parsed table has gaps. Cells such as ``?``, ``NA`` or empty cells are missing values.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .dialect import NA_TOKENS, WHITESPACE, Dialect
from .errors import LoaderError
from .progress import Monitor

CHUNK_ROWS = 50_000  # larger chunks parse faster; smaller ones report progress more often
NA_VALUES = sorted(NA_TOKENS | {t.upper() for t in NA_TOKENS} | {t.title() for t in NA_TOKENS})
_TOO_MANY = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


@dataclass(frozen=True)
class Table:
    """A parsed table: ``frame`` (rows × columns, blank lines removed), the file line of
    each row in ``lines`` (1-based), and how the file is written."""

    frame: pd.DataFrame
    lines: pd.Index
    dialect: Dialect
    path: Path


@contextmanager
def open_binary(path: Path, compressed: bool) -> Iterator[tuple[io.BufferedIOBase, io.BufferedReader]]:
    """Yield (stream to parse, raw file whose position measures progress)."""
    with open(path, "rb") as raw:
        yield (gzip.GzipFile(fileobj=raw) if compressed else raw), raw


def _read_csv_args(dialect: Dialect) -> dict:
    args = {
        "header": 0 if dialect.header else None, "decimal": dialect.decimal, "encoding": dialect.encoding,
        "quotechar": '"', "skip_blank_lines": False, "na_values": NA_VALUES, "keep_default_na": True,
        "index_col": False, "skipinitialspace": True, "engine": "c",
    }
    if dialect.delimiter == WHITESPACE:
        args["sep"] = r"\s+"
    else:
        args["sep"] = dialect.delimiter
    return args


def _column_names(frame: pd.DataFrame, header: bool) -> list[str]:
    names = []
    for j, name in enumerate(frame.columns):
        text = str(name).strip()
        if not header or not text or text.startswith("Unnamed: "):
            text = f"column_{j + 1}"
        names.append(text)
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        unique.append(name if count == 0 else f"{name}.{count}")
    return unique


def _parse_error(path: Path, exc: Exception, dialect: Dialect) -> LoaderError:
    text = str(exc)
    match = _TOO_MANY.search(text)
    if match:
        expected, line, saw = (int(g) for g in match.groups())
        return LoaderError(f"{path}: line {line} has {saw} fields but {'the header has' if dialect.header else 'the first line has'} "
                           f"{expected} (ragged rows; check the delimiter and quotes)")
    if isinstance(exc, UnicodeDecodeError):
        return LoaderError(f"{path}: not valid {dialect.encoding} text ({exc.reason} at byte {exc.start} of a block); save it as UTF-8")
    if isinstance(exc, pd.errors.EmptyDataError):
        return LoaderError(f"{path}: the file is empty (no columns to read)")
    return LoaderError(f"{path}: cannot be parsed as a table ({text.splitlines()[0] if text else type(exc).__name__})")


PARSE_ERRORS = (ValueError, OverflowError, csv.Error, OSError, EOFError, zlib.error, IndexError)


def read_frame(path: Path, dialect: Dialect, monitor: Monitor | None = None, nrows: int | None = None) -> Table:
    """Parse the table at ``path`` as ``dialect`` says; at most ``nrows`` data rows.

    Raises LoaderError for ragged rows, undecodable text, a header without data rows.
    """
    monitor = monitor or Monitor()
    total = max(os.path.getsize(path), 1)
    chunks = []
    try:
        with warnings.catch_warnings(record=True) as caught, open_binary(path, dialect.compressed) as (stream, raw):
            warnings.simplefilter("always", pd.errors.ParserWarning)
            if nrows is not None:
                chunks.append(pd.read_csv(stream, nrows=nrows, **_read_csv_args(dialect)))
            else:
                with pd.read_csv(stream, chunksize=CHUNK_ROWS, **_read_csv_args(dialect)) as reader:
                    rows = 0
                    for chunk in reader:
                        chunks.append(chunk)
                        rows += len(chunk)
                        monitor.update(0.9 * raw.tell() / total, f"reading: {rows:,} rows")
    except PARSE_ERRORS as exc:
        raise _parse_error(path, exc, dialect) from None
    frame = pd.concat(chunks) if len(chunks) > 1 else chunks[0]
    frame.columns = _column_names(frame, dialect.header)
    first_line = 2 if dialect.header else 1
    lines = frame.index + first_line
    extra_fields = any(issubclass(w.category, pd.errors.ParserWarning) for w in caught)
    if extra_fields or frame.isna().to_numpy().any():
        if nrows is None or extra_fields:
            check_field_counts(path, dialect, len(frame.columns))
        blank = frame.isna().all(axis=1).to_numpy()
        frame, lines = frame[~blank], lines[~blank]
    if len(frame) == 0:
        if dialect.header:
            raise LoaderError(f"{path}: only a header line ({len(frame.columns)} columns), no data rows")
        raise LoaderError(f"{path}: no data rows")
    frame = frame.reset_index(drop=True)
    monitor.update(0.9, f"read {len(frame):,} rows")
    return Table(frame, pd.Index(lines), dialect, path)


def check_field_counts(path: Path, dialect: Dialect, expected: int) -> None:
    """Raise LoaderError naming the first non-blank line with fewer fields than ``expected``,
    or with more, unless the extra fields are empty (a trailing delimiter)."""
    try:
        with open_binary(path, dialect.compressed) as (stream, _):
            text = io.TextIOWrapper(stream, encoding=dialect.encoding, newline="")
            if dialect.delimiter == WHITESPACE:
                records = ((n, line.split()) for n, line in enumerate(text, start=1))
            else:
                reader = csv.reader(text, delimiter=dialect.delimiter, quotechar='"')
                records = ((reader.line_num, row) for row in reader)
            for line, fields in records:
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue
                if len(fields) < expected or any(f.strip() for f in fields[expected:]):
                    what = "the header has" if dialect.header else "the first line has"
                    raise LoaderError(f"{path}: line {line} has {len(fields)} fields but {what} {expected} (ragged rows)")
    except LoaderError:
        raise
    except PARSE_ERRORS as exc:
        raise _parse_error(path, exc, dialect) from None
