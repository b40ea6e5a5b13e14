"""Reading delimited text tables (CSV, TSV, …, optionally gzip-compressed).

:func:`read_frame` parses a file into a :class:`Table`, reporting progress by the bytes
consumed and checking for cancellation between chunks of rows. Two readers give the same
table:

- up to WIDE_COLUMNS columns, pandas parses the file in chunks of rows;
- wider tables, where pandas spends about 0.1 ms and a few KiB on every column, are read
  record by record (:func:`_read_wide`): numbers go straight into one float64 matrix
  (blocks of plain-number lines through NumPy's parser), and the columns that turn out to
  hold text are read as text in a second pass.

Both keep the names of :func:`read_names`, treat cells such as ``?``, ``NA`` or empty
cells as missing values, drop empty rows after parsing, counting them
(:attr:`Table.empty_rows`; row i of a pandas-read frame is line ``first_line + i`` unless a
quoted field spans lines; the wide reader counts lines exactly) and refuse ragged rows
with their line number. A column left as text whose cells are numbers in the dialect's syntax (a decimal comma, thousands grouped as in ``1.234,56``,
see :func:`.dialect.number_pattern`) becomes numbers; in a column with a few other cells
the numbers become floats and the rest stay text (bad cells, reported with their line). A
column of only true/false words becomes bools, as pandas reads it.

Before the rows are stored, the float64 matrix they need (rows estimated from the first
chunk) is checked against the memory available. When the dialect only presumed UTF-8 and
a line is not, the file is read again in the encoding :func:`.dialect.redetect_encoding`
finds; text is never decoded with replacement characters.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
import warnings
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from pandas._libs.parsers import STR_NA_VALUES  # the texts read_csv reads as missing by default

from ..limits import check_allocation
from .columns import numeric_columns
from .dialect import (
    NA_TOKENS,
    THOUSANDS_SPACES,
    UTF8,
    WHITESPACE,
    Dialect,
    number_pattern,
    open_binary,
    redetect_encoding,
    to_number,
    undecodable_line,
)
from .errors import LoaderError
from .progress import Monitor

WIDE_COLUMNS = 1000  # wider tables are read by the wide reader
CHUNK_ROWS = 50_000  # larger chunks parse faster; smaller ones report progress more often
BLOCK_CELLS = 1 << 20  # cells per block of records in the wide reader
NA_VALUES = sorted(NA_TOKENS | {t.upper() for t in NA_TOKENS} | {t.title() for t in NA_TOKENS})
NA_TEXTS = frozenset(NA_VALUES) | STR_NA_VALUES  # every cell text read_csv reads as missing with NA_VALUES
BOOLEANS = {"True": True, "TRUE": True, "true": True, "False": False, "FALSE": False, "false": False}  # as read_csv reads them
_TOO_MANY = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
PARSE_ERRORS = (ValueError, OverflowError, csv.Error, OSError, EOFError, zlib.error, IndexError)


@dataclass(frozen=True)
class Table:
    """A parsed table: ``frame`` (rows × the columns read, empty rows removed), the file
    line of each row in ``lines`` (1-based), how the file is written (``dialect``: the
    encoding it was read in, which may differ from the one the sample suggested), and
    ``positions`` (rows,) int64: each row's place among the rows parsed, empty ones included
    (a row empty in every column read; the pandas reader also parses a blank line as one), so
    that a jump marks empty rows dropped there."""

    frame: pd.DataFrame
    lines: pd.Index
    dialect: Dialect
    path: Path
    positions: np.ndarray

    @property
    def empty_rows(self) -> int:
        """How many empty rows were dropped between the first row kept and the last (those
        after the last row, such as blank lines ending the file, are not counted)."""
        return int(self.positions[-1] + 1 - len(self.positions)) if len(self.positions) else 0


# ----- records -------------------------------------------------------------------------------------


@contextmanager
def _text(path: Path, dialect: Dialect) -> Iterator[tuple[io.TextIOWrapper, io.BufferedReader]]:
    """(the decoded text, the raw file whose position measures progress)."""
    with open_binary(path, dialect.compressed) as (stream, raw):
        yield io.TextIOWrapper(stream, encoding=dialect.encoding, newline=""), raw


Record = tuple[int, str | None, list[str] | None]  # (first line number, line, fields): see _records


def _records(text: io.TextIOBase, delimiter: str) -> Iterator[Record]:
    """(first line number, line, fields) of every non-blank record. A record without quotes
    is one line, handed on unsplit (fields None, see :func:`_split`); one with quotes is
    split by the csv module (line None), and may span lines."""
    lines = iter(text)
    number = 0
    for line in lines:
        number += 1
        if not line.strip():
            continue
        if delimiter == WHITESPACE or '"' not in line:
            yield number, line, None
            continue
        reader = csv.reader(itertools.chain([line], lines), delimiter=delimiter, quotechar='"', skipinitialspace=True)
        yield number, None, next(reader)
        number += reader.line_num - 1


def _split(line: str, delimiter: str) -> list[str]:
    """The fields of a record line without quotes."""
    return line.split() if delimiter == WHITESPACE else line.rstrip("\r\n").split(delimiter)


def _first_record(path: Path, dialect: Dialect) -> tuple[int, list[str]]:
    """(line number, fields) of the first non-blank record: the header, or the first row."""
    with _text(path, dialect) as (text, _):
        for number, line, fields in _records(text, dialect.delimiter):
            return number, fields if fields is not None else _split(line, dialect.delimiter)
    raise LoaderError(f"{path}: the file is empty")


def _column_names(fields: Sequence[str], header: bool) -> list[str]:
    """Stripped header names (``column_N`` for an empty one or without a header), repeats
    numbered ``name.1``, ``name.2``, …"""
    names = [field.strip() for field in fields] if header else [""] * len(fields)
    if "" in names:
        names = [name or f"column_{j + 1}" for j, name in enumerate(names)]
    if len(set(names)) == len(names):
        return names
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        unique.append(name if count == 0 else f"{name}.{count}")
    return unique


def read_names(path: Path, dialect: Dialect) -> list[str]:
    """The names of all the columns of the table at ``path`` (see :func:`_column_names`):
    as many as its first record has fields."""
    try:
        return _column_names(_first_record(path, dialect)[1], dialect.header)
    except UnicodeDecodeError:
        raise _decode_error(path, dialect) from None
    except PARSE_ERRORS as exc:
        raise _parse_error(path, exc, dialect) from None


# ----- errors --------------------------------------------------------------------------------------


def _what_has(dialect: Dialect) -> str:
    return "the header has" if dialect.header else "the first line has"


def _ragged(path: Path, dialect: Dialect, line: int, fields: int, expected: int, *, hint: str = "") -> LoaderError:
    return LoaderError(f"{path}: line {line} has {fields} fields but {_what_has(dialect)} {expected} (ragged rows{hint})")


def _decode_error(path: Path, dialect: Dialect) -> LoaderError:
    name = "UTF-8" if dialect.encoding == UTF8 else dialect.encoding
    try:
        where = undecodable_line(path, dialect.compressed, dialect.encoding)
    except PARSE_ERRORS:
        where = None
    at = f"line {where[0]} (byte 0x{where[1]:02x})" if where else "part of it"
    return LoaderError(f"{path}: {at} is not valid {name} text; save the file as UTF-8")


def _parse_error(path: Path, exc: Exception, dialect: Dialect) -> LoaderError:
    text = str(exc)
    match = _TOO_MANY.search(text)
    if match:
        expected, line, saw = (int(g) for g in match.groups())
        return _ragged(path, dialect, line, saw, expected, hint="; check the delimiter and quotes")
    if isinstance(exc, pd.errors.EmptyDataError):
        return LoaderError(f"{path}: the file is empty (no columns to read)")
    if isinstance(exc, csv.Error) and "field larger than field limit" in text:
        return LoaderError(f"{path}: a quoted field runs on for more than {csv.field_size_limit():,} characters "
                           "(a quote that never closes?)")
    return LoaderError(f"{path}: cannot be parsed as a table ({text.splitlines()[0] if text else type(exc).__name__})")


def _check_memory(path: Path, rows_read: int, columns: int, *, consumed: int, total: int, nrows: int | None) -> int:
    """The rows the whole table is expected to have, from ``rows_read`` in the first
    ``consumed`` of ``total`` bytes of the file; LoaderError when their float64 matrix
    does not fit in memory."""
    rows = max(rows_read, round(rows_read * total / max(consumed, 1) * 1.05) + 1)
    rows = min(rows, nrows) if nrows is not None else rows
    what = f"{path}: a table of about {rows:,} rows × {columns:,} columns (float64)"
    check_allocation(what, 8 * rows * columns, error=LoaderError)
    return rows


# ----- numbers in text columns ----------------------------------------------------------------------


def _values_in_text(frame: pd.DataFrame, decimal: str) -> pd.DataFrame:
    """``frame`` with each text column whose cells are numbers in this dialect's syntax as
    float64, and with the number cells of a text column that also holds other text as
    floats (the other cells stay text: bad cells or categories). A column of only
    true/false words becomes bools, as pandas reads it."""
    separators = re.escape(("." if decimal == "," else ",") + THOUSANDS_SPACES)
    pattern = number_pattern(decimal).pattern
    numeric, boolean = numeric_columns(frame)
    for j in np.flatnonzero(~numeric & ~boolean):
        series = frame.iloc[:, j]
        stripped = series.astype("string").str.strip()
        present = series.notna().to_numpy()
        truth = stripped.map(BOOLEANS.get, na_action="ignore")
        if present.any() and truth[present].notna().all():
            frame.isetitem(j, truth.astype(bool) if present.all() else truth.astype(object))
            continue
        numbers = stripped.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
        if not numbers.any():
            continue
        values = np.full(len(series), np.nan)
        canonical = stripped[numbers].str.replace(f"[{separators}]", "", regex=True).str.replace(",", ".")
        values[numbers] = canonical.astype(np.float64)
        if numbers.sum() == present.sum():
            frame.isetitem(j, values)
        else:
            mixed = series.to_numpy(dtype=object, copy=True)
            mixed[numbers] = values[numbers]
            frame.isetitem(j, pd.Series(mixed, index=series.index, dtype=object))
    return frame


def _row_numbers(fields: list[str], decimal: str) -> tuple[np.ndarray, list[int]]:
    """(values (k,) float64, positions of the text cells) of one record's ``fields``:
    missing and text cells are NaN."""
    if decimal == ".":
        joined = "".join(fields)
        if joined.isascii() and "_" not in joined:  # float() also reads 1_000 and non-ASCII digits
            try:
                return np.array(fields, dtype=np.float64), []
            except ValueError:
                try:
                    return np.array(["nan" if f.strip() in NA_TEXTS else f for f in fields], dtype=np.float64), []
                except ValueError:
                    pass
    values = np.full(len(fields), np.nan)
    text_cells = []
    for j, cell in enumerate(fields):
        stripped = cell.strip()
        if stripped in NA_TEXTS:
            continue
        value = to_number(stripped, decimal)
        if value is None:
            text_cells.append(j)
        else:
            values[j] = value
    return values, text_cells


# ----- the wide reader --------------------------------------------------------------------------------


class _Rows:
    """A (rows, k) float64 matrix filled block by block, allocated once the first block
    shows how many rows to expect (checked against memory), grown when that was too few."""

    def __init__(self, path: Path, k: int):
        self.path, self.k, self.count = path, k, 0
        self.matrix = np.empty((0, k))

    def append(self, block: np.ndarray, expected_rows: int) -> None:
        end = self.count + len(block)
        if end > len(self.matrix):
            rows = max(end, expected_rows if not len(self.matrix) else len(self.matrix) * 3 // 2)
            what = f"{self.path}: a table of {rows:,} rows × {self.k:,} columns (float64)"
            check_allocation(what, 8 * rows * self.k, error=LoaderError)
            grown = np.empty((rows, self.k))
            grown[: self.count] = self.matrix[: self.count]
            self.matrix = grown
        self.matrix[self.count : end] = block
        self.count = end

    def finish(self) -> np.ndarray:
        """The (count, k) matrix, its spare rows given back."""
        self.matrix.resize((self.count, self.k), refcheck=False)
        return self.matrix


def _block_numbers(path: Path, dialect: Dialect, block: list[Record], width: int,
                   positions: np.ndarray | None) -> tuple[np.ndarray, set[int]]:
    """(values (records, k), columns with text) of a block of records; k = width, or
    len(positions) for the columns at ``positions``. Lines of plain numbers go through
    np.loadtxt at once; anything else record by record."""
    lines = [line for _, line, _ in block]
    plain = positions is None and None not in lines
    if plain and dialect.decimal == ",":  # 1,5 → 1.5 unless a dot could group thousands
        plain = dialect.delimiter != "," and not any("." in line for line in lines)
        lines = [line.replace(",", ".") for line in lines] if plain else lines
    if plain:
        try:
            values = np.loadtxt(lines, delimiter=None if dialect.delimiter == WHITESPACE else dialect.delimiter, dtype=np.float64,
                                comments=None, quotechar=None, ndmin=2)
            if values.shape == (len(block), width):
                return values, set()
        except ValueError:
            pass
    values = np.empty((len(block), width if positions is None else len(positions)))
    text: set[int] = set()
    for r, record in enumerate(block):
        line = record[1]
        picked = _picked_fields(line, dialect.delimiter, positions, width) if positions is not None and line is not None else None
        if picked is None:
            fields = _checked_fields(path, dialect, record, width)
            picked = fields if positions is None else [fields[p] for p in positions]
        values[r], cells = _row_numbers(picked, dialect.decimal)
        text.update(cells)
    return values, text


def _picked_fields(line: str, delimiter: str, positions: np.ndarray, width: int) -> list[str] | None:
    """The fields at ``positions`` of a record line without quotes that has exactly
    ``width`` fields, splitting off only as much of the line as they need (the first
    columns and the last one, in a preview); None for any other line."""
    if delimiter == WHITESPACE:
        return None
    line = line.rstrip("\r\n")
    if line.count(delimiter) + 1 != width:
        return None
    middle = width // 2
    head, tail = positions[positions < middle], positions[positions >= middle]
    first = line.split(delimiter, int(head[-1]) + 1) if len(head) else []
    last = line.rsplit(delimiter, width - int(tail[0])) if len(tail) else []
    return [first[p] for p in head] + [last[p - width] for p in tail]


def _checked_fields(path: Path, dialect: Dialect, record: Record, width: int) -> list[str]:
    """The ``width`` fields of a record; LoaderError for fewer, or for more unless the
    extra ones are empty (a delimiter at the end of the line)."""
    number, line, fields = record
    fields = fields if fields is not None else _split(line, dialect.delimiter)
    if len(fields) < width or len(fields) > width and any(f.strip() for f in fields[width:]):
        hint = "; check the delimiter and quotes" if len(fields) > width else ""
        raise _ragged(path, dialect, number, len(fields), width, hint=hint)
    return fields[:width]


def _data_records(text: io.TextIOBase, dialect: Dialect, first_line: int) -> Iterator[Record]:
    """The records after the header (all of them without a header)."""
    return (record for record in _records(text, dialect.delimiter) if record[0] > first_line or not dialect.header)


def _text_columns(path: Path, dialect: Dialect, columns: np.ndarray, *, first_line: int, width: int, rows: int) -> np.ndarray:
    """(rows, len(columns)) object array: the stripped cells of the file's columns at
    ``columns`` (NaN where missing) of the first ``rows`` data records."""
    cells = np.empty((rows, len(columns)), dtype=object)
    with _text(path, dialect) as (text, _):
        for r, record in enumerate(itertools.islice(_data_records(text, dialect, first_line), rows)):
            fields = _checked_fields(path, dialect, record, width)
            for c, p in enumerate(columns):
                field = fields[p].strip()
                cells[r, c] = np.nan if field in NA_TEXTS else field
    return cells


def _frame(values: np.ndarray, texts: np.ndarray, text_columns: np.ndarray) -> pd.DataFrame:
    """One frame of the number matrix ``values`` (rows, k) with the columns at
    ``text_columns`` taken from ``texts`` (rows, len(text_columns)); runs of columns of one
    kind share one block (no per-column cost)."""
    if not len(text_columns):
        return pd.DataFrame(values, copy=False)
    pieces, start, t = [], 0, 0
    while t < len(text_columns):
        end = t + 1
        while end < len(text_columns) and text_columns[end] == text_columns[end - 1] + 1:
            end += 1
        if start < text_columns[t]:
            pieces.append(pd.DataFrame(values[:, start : text_columns[t]], copy=False))
        pieces.append(pd.DataFrame(texts[:, t:end], dtype=object))
        start, t = text_columns[end - 1] + 1, end
    if start < values.shape[1]:
        pieces.append(pd.DataFrame(values[:, start:], copy=False))
    return pd.concat(pieces, axis=1, ignore_index=True)


def _read_wide(path: Path, dialect: Dialect, monitor: Monitor, *, nrows: int | None, first_line: int, width: int,
               positions: np.ndarray | None) -> tuple[pd.DataFrame, np.ndarray]:
    """(frame, line of each row) of a wide table; all columns, or those at ``positions``."""
    total = max(os.path.getsize(path), 1)
    per_block = max(1, BLOCK_CELLS // width)
    rows = _Rows(path, width if positions is None else len(positions))
    text: set[int] = set()
    lines: list[int] = []
    expected = 0
    with _text(path, dialect) as (stream, raw):
        records = _data_records(stream, dialect, first_line)
        if nrows is not None:
            records = itertools.islice(records, nrows)
        while block := list(itertools.islice(records, per_block)):
            values, cells = _block_numbers(path, dialect, block, width, positions)
            if not expected:
                expected = _check_memory(path, len(block), values.shape[1], consumed=raw.tell(), total=total, nrows=nrows)
            rows.append(values, expected)
            text |= cells
            lines.extend(number for number, _, _ in block)
            monitor.update(0.9 * raw.tell() / total, f"reading: {rows.count:,} rows")
    values = rows.finish()
    text_columns = np.array(sorted(text), dtype=np.int64)
    file_columns = text_columns if positions is None else positions[text_columns]
    texts = None
    if len(text_columns):
        texts = _text_columns(path, dialect, file_columns, first_line=first_line, width=width, rows=len(values))
    return _frame(values, texts, text_columns), np.array(lines, dtype=np.int64)


# ----- the pandas reader ----------------------------------------------------------------------------


def _read_csv_args(dialect: Dialect, skip: int) -> dict:
    return {
        "header": 0 if dialect.header else None, "decimal": dialect.decimal, "encoding": dialect.encoding, "skiprows": skip,
        "quotechar": '"', "skip_blank_lines": False, "na_values": NA_VALUES, "keep_default_na": True,
        "index_col": False, "skipinitialspace": True, "engine": "c",
        "sep": r"\s+" if dialect.delimiter == WHITESPACE else dialect.delimiter,
    }


def _read_pandas(path: Path, dialect: Dialect, monitor: Monitor, *, nrows: int | None, first_line: int, width: int,
                 positions: np.ndarray | None) -> tuple[pd.DataFrame, np.ndarray]:
    """(frame, line of each row) of a table read by pandas; all columns, or those at ``positions``."""
    total = max(os.path.getsize(path), 1)
    args = _read_csv_args(dialect, first_line - 1) | ({} if positions is None else {"usecols": positions.tolist()})
    chunks = []
    try:
        with warnings.catch_warnings(record=True) as caught, open_binary(path, dialect.compressed) as (stream, raw):
            warnings.simplefilter("always", pd.errors.ParserWarning)
            if nrows is not None:
                chunks.append(pd.read_csv(stream, nrows=nrows, **args))
            else:
                with pd.read_csv(stream, chunksize=CHUNK_ROWS, **args) as reader:
                    rows = 0
                    for chunk in reader:
                        if not chunks:
                            _check_memory(path, len(chunk), chunk.shape[1], consumed=raw.tell(), total=total, nrows=None)
                        chunks.append(chunk)
                        rows += len(chunk)
                        monitor.update(0.9 * raw.tell() / total, f"reading: {rows:,} rows")
    except UnicodeDecodeError:
        raise
    except PARSE_ERRORS as exc:
        raise _parse_error(path, exc, dialect) from None
    frame = pd.concat(chunks) if len(chunks) > 1 else chunks[0]
    if frame.shape[1] != (width if positions is None else len(positions)):
        raise LoaderError(f"{path}: cannot be parsed as a table ({_what_has(dialect)} {width} fields, "
                          f"but {frame.shape[1]} columns were read)")
    extra_fields = any(issubclass(w.category, pd.errors.ParserWarning) for w in caught)
    if extra_fields or (nrows is None and positions is None and frame.isna().to_numpy().any()):
        check_field_counts(path, dialect, width)
    lines = frame.index.to_numpy() + first_line + dialect.header
    return frame.reset_index(drop=True), lines


def check_field_counts(path: Path, dialect: Dialect, expected: int) -> None:
    """Raise LoaderError naming the first non-blank line with fewer fields than ``expected``,
    or with more, unless the extra fields are empty (a trailing delimiter)."""
    try:
        with _text(path, dialect) as (text, _):
            if dialect.delimiter == WHITESPACE:
                records = ((n, line.split()) for n, line in enumerate(text, start=1))
            else:
                reader = csv.reader(text, delimiter=dialect.delimiter, quotechar='"')
                records = ((reader.line_num, row) for row in reader)
            for line, fields in records:
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue
                if len(fields) < expected or any(f.strip() for f in fields[expected:]):
                    raise _ragged(path, dialect, line, len(fields), expected)
    except (LoaderError, UnicodeDecodeError):
        raise
    except PARSE_ERRORS as exc:
        raise _parse_error(path, exc, dialect) from None


# ----- reading a table --------------------------------------------------------------------------------


def _read(path: Path, dialect: Dialect, monitor: Monitor, nrows: int | None, columns: Sequence[int] | None) -> Table:
    first_line, fields = _first_record(path, dialect)
    names = _column_names(fields, dialect.header)
    positions = None if columns is None else np.asarray(sorted(set(columns)), dtype=np.int64)
    reader = _read_wide if len(names) > WIDE_COLUMNS else _read_pandas
    try:
        frame, lines = reader(path, dialect, monitor, nrows=nrows, first_line=first_line, width=len(names), positions=positions)
    except (LoaderError, UnicodeDecodeError):
        raise
    except PARSE_ERRORS as exc:
        raise _parse_error(path, exc, dialect) from None
    frame.columns = names if positions is None else [names[p] for p in positions]
    blank = frame.isna().all(axis=1).to_numpy()
    positions = np.flatnonzero(~blank)
    if blank.any():
        frame, lines = frame[~blank].reset_index(drop=True), lines[~blank]
    if len(frame) == 0:
        if dialect.header:
            raise LoaderError(f"{path}: only a header line ({len(names)} columns), no data rows")
        raise LoaderError(f"{path}: no data rows")
    frame = _values_in_text(frame, dialect.decimal)
    monitor.update(0.9, f"read {len(frame):,} rows")
    return Table(frame, pd.Index(lines), dialect, path, positions)


def read_frame(path: Path, dialect: Dialect, monitor: Monitor | None = None, nrows: int | None = None,
               columns: Sequence[int] | None = None) -> Table:
    """Parse the table at ``path`` as ``dialect`` says; at most ``nrows`` data rows; only the
    columns at ``columns`` (0-based positions; None: all of them).

    Raises LoaderError for ragged rows, undecodable text, a header without data rows, a
    table too large for the memory; LoadCancelled when the monitor says so.
    """
    monitor = monitor or Monitor()
    try:
        return _read(path, dialect, monitor, nrows, columns)
    except UnicodeDecodeError:
        if not dialect.encoding_presumed:
            raise _decode_error(path, dialect) from None
    try:
        encoding = redetect_encoding(path, dialect.compressed)
    except PARSE_ERRORS as exc:
        raise _parse_error(path, exc, dialect) from None
    if encoding is None:
        raise _decode_error(path, dialect)
    found = replace(dialect, encoding=encoding, encoding_presumed=False)
    try:
        return _read(path, found, monitor, nrows, columns)
    except UnicodeDecodeError:
        raise _decode_error(path, found) from None
