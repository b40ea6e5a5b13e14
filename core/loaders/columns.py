"""What each column of a table holds and what it is for: type, role, missing values.

Types: a column is ``numeric`` when its cells are numbers; a few cells that are not
(under 10 %) are kept as "bad cells" that make loading fail with their line and column
(a typo in a numeric column), unless the user sets the column's type to categorical.
Otherwise it is ``categorical`` (text, or true/false). A cell is a number when the table
reader made it one (:mod:`.tables` reads numbers in the file's own syntax, so a text cell
never counts as a number here). Roles: the target is the column the user chose, else one
named like target / label / class / y, else the last column; a column is ignored by
default when it is empty, is a row number (0, 1, 2, … or 1, 2, 3, …), is named ``id``, or
is text with a different value in every row (names, IDs); all other columns are features.

Tables may have 10⁶ columns: :func:`analyse_table` keeps one array per property (not one
object per column) and looks at the numeric columns a slab at a time, all columns of a
slab at once; :class:`ColumnInfo` objects are made only for a preview's few columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data import DataError
from .options import ColumnKey, LoadOptions

NUMERIC, CATEGORICAL = "numeric", "categorical"
TARGET_NAMES = ("target", "label", "labels", "class", "y")
ID_NAMES = ("id", "index", "row", "row_id")
MAX_BAD_SHARE = 0.1
MAX_LEVELS_SHOWN = 20
MIN_ROWS_FOR_IDS = 20  # fewer rows than this say too little to call a column a row number or an ID
PREVIEW_COLUMNS = 100  # a preview shows the first columns, the target and the columns the options name
SLAB_CELLS = 1 << 22  # cells of numeric columns looked at together (32 MiB of float64)
NAME_SEPARATOR = "\x00"  # joins column names to search them at once (text tables hold no NUL)


@dataclass(frozen=True)
class ParsedColumn:
    """A column as numbers: ``values`` (m,) float64 with NaN for missing cells.

    For a categorical column the values are level codes 0..k−1 and ``levels`` the k
    names (sorted); ``bad_rows`` are rows whose text is not a (finite) number in a
    numeric column.
    """

    kind: str
    values: np.ndarray
    levels: tuple[str, ...] = ()
    bad_rows: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))


@dataclass(frozen=True)
class ColumnInfo:
    """One column as the preview shows it.

    Attributes:
        index: 0-based position in the file. name: header name (or ``column_N``).
        kind: "numeric" or "categorical" (after the user's override); inferred_kind: the guess.
        role: "feature", "target" or "ignore". missing: cells without a value.
        distinct: different values. levels: up to 20 of them (categorical). (Both only
            when analysed with details.)
        bad_cells: cells that are not numbers in a numeric column; first_bad: (line, text)
            of the first one.
    """

    index: int
    name: str
    kind: str
    inferred_kind: str
    role: str
    missing: int
    distinct: int
    levels: tuple[str, ...] = ()
    bad_cells: int = 0
    first_bad: tuple[int, str] | None = None


@dataclass(frozen=True)
class ColumnTable:
    """Type, role and counts of every column of a frame, one array (c,) per property in
    frame order (what loading needs, without one object per column).

    Attributes:
        names: the c column names. positions: (c,) int64, each column's place in the file.
        kinds, inferred: (c,) object arrays of "numeric" / "categorical" (after the user's
            override / as guessed). roles: (c,) "feature", "target" or "ignore".
        missing, distinct, bad_cells: (c,) int64 counts (distinct 0 without details).
        first_bad: (c,) int64, the row of each column's first bad cell, −1 for none.
        levels: frame column → up to 20 level names, for categorical columns (with details).
        target: the frame column of the target.
    """

    names: list[str]
    positions: np.ndarray
    kinds: np.ndarray
    inferred: np.ndarray
    roles: np.ndarray
    missing: np.ndarray
    distinct: np.ndarray
    bad_cells: np.ndarray
    first_bad: np.ndarray
    levels: dict[int, tuple[str, ...]]
    target: int

    def infos(self, frame: pd.DataFrame, lines: pd.Index | None = None) -> list[ColumnInfo]:
        """One ColumnInfo per column (``lines``: each row's file line, default row + 1)."""
        infos = []
        for j, name in enumerate(self.names):
            row = int(self.first_bad[j])
            first_bad = None if row < 0 else (int(lines[row]) if lines is not None else row + 1, str(frame.iat[row, j]))
            infos.append(ColumnInfo(
                index=int(self.positions[j]), name=name, kind=str(self.kinds[j]), inferred_kind=str(self.inferred[j]),
                role=str(self.roles[j]), missing=int(self.missing[j]), distinct=int(self.distinct[j]),
                levels=self.levels.get(j, ()), bad_cells=int(self.bad_cells[j]), first_bad=first_bad,
            ))
        return infos


def numeric_columns(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(numeric, boolean) masks (c,) of the columns of ``frame`` by their dtype (numeric:
    integer or float, not bool); one check per distinct dtype, not per column."""
    dtypes = frame.dtypes.to_numpy()
    numeric, boolean = np.zeros(len(dtypes), bool), np.zeros(len(dtypes), bool)
    for dtype in set(dtypes.tolist()):
        if pd.api.types.is_bool_dtype(dtype):
            boolean |= dtypes == dtype
        elif pd.api.types.is_numeric_dtype(dtype):
            numeric |= dtypes == dtype
    return numeric, boolean


def slabs(columns: np.ndarray, rows: int) -> list[np.ndarray]:
    """``columns`` in pieces of at most SLAB_CELLS cells of ``rows`` rows each."""
    size = max(1, SLAB_CELLS // max(rows, 1))
    return [columns[start : start + size] for start in range(0, len(columns), size)]


def format_number(value: float) -> str:
    """Whole numbers without a decimal point, others in the shortest exact form."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(float(value))


def _numbers(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(values (m,) float64, NaN where missing or text; bad (m,) bool: text, or not finite)
    of a column: its numeric cells are numbers, its text cells are not."""
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.isinf(values)
    cells = series.to_numpy(dtype=object)
    present = series.notna().to_numpy()
    text = present & np.fromiter((isinstance(cell, str) for cell in cells), bool, count=len(cells))
    values = pd.to_numeric(pd.Series(np.where(text, None, cells)), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return values, present & ~np.isfinite(values)


def infer_kind(series: pd.Series) -> tuple[str, np.ndarray | None, np.ndarray]:
    """(kind, float values or None, rows of bad cells) of one parsed column."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return CATEGORICAL, None, np.empty(0, np.int64)
    values, bad = _numbers(series)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return NUMERIC, values, np.flatnonzero(bad)
    n_present = int(series.notna().sum())
    if n_present and bad.sum() <= MAX_BAD_SHARE * n_present:
        return NUMERIC, values, np.flatnonzero(bad)
    return CATEGORICAL, None, np.empty(0, np.int64)


def parse_column(series: pd.Series, kind: str | None = None) -> ParsedColumn:
    """``series`` as numbers of ``kind`` (None: inferred)."""
    inferred, numbers, bad = infer_kind(series)
    kind = kind or inferred
    if kind == NUMERIC:
        if numbers is None:  # categorical text forced to numeric: every text cell is bad
            numbers, bad_mask = _numbers(series)
            bad = np.flatnonzero(bad_mask)
        values = numbers.copy()
        values[bad] = np.nan
        return ParsedColumn(NUMERIC, values, bad_rows=bad)
    if numbers is not None and pd.api.types.is_numeric_dtype(series.dtype):
        present = ~np.isnan(numbers)
        uniques = np.unique(numbers[present])
        codes = np.full(len(numbers), np.nan)
        codes[present] = np.searchsorted(uniques, numbers[present])
        return ParsedColumn(CATEGORICAL, codes, tuple(format_number(u) for u in uniques))
    text = series.map(lambda cell: format_number(cell) if isinstance(cell, float) and not np.isnan(cell) else cell)
    codes, uniques = pd.factorize(text.astype("string").str.strip(), sort=True, use_na_sentinel=True)
    values = codes.astype(np.float64)
    values[codes < 0] = np.nan
    return ParsedColumn(CATEGORICAL, values, tuple(str(u) for u in uniques))


def resolve_column(key: ColumnKey, names: list[str]) -> int:
    """The 0-based position of column ``key``: a header name, or a position (negative
    counts from the end). A name wins over a position written as text."""
    if isinstance(key, str):
        if key in names:
            return names.index(key)
        stripped = key.strip()
        lowered = [n.lower() for n in names]
        if stripped.lower() in lowered:
            return lowered.index(stripped.lower())
        try:
            key = int(stripped)
        except ValueError:
            raise DataError(f"no column named {stripped!r}; the columns are: {_list(names)}") from None
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool) and -len(names) <= key < len(names):
        return int(key) % len(names)
    raise DataError(f"no column {key!r}: there are {len(names)} columns, numbered 0 to {len(names) - 1}")


def _list(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


def target_index(names: list[str], options: LoadOptions) -> int:
    """The target column: chosen by the user, else named like a target, else the last."""
    chosen = [resolve_column(k, names) for k, role in options.roles.items() if role == "target"]
    if options.target is not None:
        chosen.append(resolve_column(options.target, names))
    if len(set(chosen)) > 1:
        raise DataError(f"more than one target column chosen ({', '.join(names[i] for i in sorted(set(chosen)))}); choose one")
    if chosen:
        return chosen[0]
    named: dict[str, int] = {}
    for j, word in _named_like(names, TARGET_NAMES):
        named.setdefault(word, j)
    for candidate in TARGET_NAMES:
        if candidate in named:
            return named[candidate]
    return len(names) - 1


def _named_like(names: list[str], words: tuple[str, ...]) -> list[tuple[int, str]]:
    """(position, word) of every name that is one of ``words``, ignoring case and the spaces
    around it, in order. A table may have 10⁶ names: they are searched joined, not one by one."""
    sep = NAME_SEPARATOR
    joined = (sep + sep.join([name.strip() for name in names]) + sep).lower()
    if joined.count(sep) != len(names) + 1:  # a name holds the separator: look at each
        return [(j, name.strip().lower()) for j, name in enumerate(names) if name.strip().lower() in words]
    found = []
    for word in words:
        at = joined.find(f"{sep}{word}{sep}")
        while at >= 0:
            found.append((joined.count(sep, 0, at), word))
            at = joined.find(f"{sep}{word}{sep}", at + 1)
    return sorted(found)


def preview_positions(names: list[str], options: LoadOptions) -> list[int]:
    """The columns a preview shows: the first PREVIEW_COLUMNS, the target, and every column
    the options give a role or type (sorted)."""
    named = {resolve_column(k, names) for k in (*options.roles, *options.types)}
    return sorted(set(range(min(len(names), PREVIEW_COLUMNS))) | {target_index(names, options)} | named)


def _numeric_stats(values: np.ndarray, details: bool) -> tuple[np.ndarray, ...]:
    """(missing, bad cells, first bad row or −1, distinct (0 without details), row number)
    of each column of ``values`` (m, k) float64; row number: no gap and 0, 1, 2, … or 1, 2, 3, …"""
    m = len(values)
    missing = np.isnan(values).sum(axis=0)
    infinite = np.isinf(values)
    bad = infinite.sum(axis=0)
    first_bad = np.where(bad > 0, infinite.argmax(axis=0), -1)
    distinct = np.zeros(values.shape[1], np.int64)
    if details:
        ordered = np.sort(values, axis=0)  # NaN last
        new = ~np.isnan(ordered)
        new[1:] &= ordered[1:] != ordered[:-1]
        distinct = new.sum(axis=0)
    counting = np.arange(m, dtype=np.float64)[:, None]
    counts_rows = (values == counting).all(axis=0) | (values == counting + 1).all(axis=0)
    row_number = (m >= MIN_ROWS_FOR_IDS) & (missing == 0) & counts_rows
    return missing, bad, first_bad, distinct, row_number


def _text_ignored_by_default(series: pd.Series, kind: str, values: np.ndarray | None) -> bool:
    """Whether a column without a numeric dtype is ignored by default for what it holds
    (see the module docstring; the name and emptiness are checked for every column)."""
    m = len(series)
    if m < MIN_ROWS_FOR_IDS or series.isna().any():
        return False
    if kind == CATEGORICAL:
        return not pd.api.types.is_bool_dtype(series.dtype) and series.nunique() == m
    if values is not None:
        counting = np.arange(m, dtype=np.float64)
        return bool(np.array_equal(values, counting) or np.array_equal(values, counting + 1))
    return False


def analyse_table(frame: pd.DataFrame, options: LoadOptions, details: bool = True, *,
                  names: list[str] | None = None, positions: list[int] | np.ndarray | None = None) -> ColumnTable:
    """Type, role and counts of every column of ``frame``.

    ``names``: all the file's column names when ``frame`` holds only those at
    ``positions`` (a preview); roles and the target are resolved against them (the target
    must be among the columns read). ``details=False`` skips counting distinct values and
    listing levels, which loading does not need.
    """
    columns = list(map(str, frame.columns.tolist()))
    names = names if names is not None else columns
    positions = np.arange(len(columns), dtype=np.int64) if positions is None else np.asarray(positions, dtype=np.int64)
    frame_column = {int(p): j for j, p in enumerate(positions)} if len(positions) < len(names) else None
    at = (lambda p: frame_column[p]) if frame_column is not None else (lambda p: p)
    target = at(target_index(names, options))
    roles = {at(resolve_column(k, names)): role for k, role in options.roles.items()}
    kinds = {at(resolve_column(k, names)): kind for k, kind in options.types.items()}
    m, c = frame.shape
    numeric, _ = numeric_columns(frame)
    inferred = np.full(c, CATEGORICAL, dtype=object)  # object arrays of the same two strings, not c new ones
    inferred[numeric] = NUMERIC
    missing, bad_cells, first_bad, distinct = (np.zeros(c, np.int64) for _ in range(4))
    first_bad -= 1
    ignored = np.zeros(c, bool)
    ignored[[j for j, _ in _named_like(columns, ID_NAMES)]] = True
    for slab in slabs(np.flatnonzero(numeric), m):
        stats = _numeric_stats(frame.iloc[:, slab].to_numpy(dtype=np.float64, na_value=np.nan), details)
        missing[slab], bad_cells[slab], first_bad[slab], distinct[slab], row_number = stats
        ignored[slab] |= row_number
    for j in np.flatnonzero(~numeric):
        series = frame.iloc[:, j]
        inferred[j], values, bad = infer_kind(series)
        missing[j], bad_cells[j], first_bad[j] = int(series.isna().sum()), len(bad), bad[0] if len(bad) else -1
        distinct[j] = int(series.nunique(dropna=True)) if details else 0
        ignored[j] |= _text_ignored_by_default(series, inferred[j], values)
    ignored |= missing == m
    chosen = inferred.copy()
    for j, kind in kinds.items():
        chosen[j] = kind
        if kind != inferred[j]:
            bad = parse_column(frame.iloc[:, j], kind).bad_rows
            bad_cells[j], first_bad[j] = len(bad), bad[0] if len(bad) else -1
    role_of = np.full(c, "feature", dtype=object)
    role_of[ignored] = "ignore"
    for j, role in roles.items():
        if role != "target":
            role_of[j] = role
    role_of[target] = "target"
    levels = {}
    if details:
        for j in np.flatnonzero(chosen == CATEGORICAL):
            levels[int(j)] = parse_column(frame.iloc[:, j], CATEGORICAL).levels[:MAX_LEVELS_SHOWN]
    return ColumnTable(columns, positions, chosen, inferred, role_of, missing, distinct, bad_cells, first_bad, levels, target)


def analyse_columns(frame: pd.DataFrame, options: LoadOptions, lines: pd.Index | None = None, details: bool = True, *,
                    names: list[str] | None = None, positions: list[int] | np.ndarray | None = None) -> list[ColumnInfo]:
    """Type, role and missing values of every column of ``frame`` (the preview's model),
    see :func:`analyse_table`. ``lines`` gives each row's file line for ``first_bad``;
    default: row number + 1."""
    return analyse_table(frame, options, details, names=names, positions=positions).infos(frame, lines)
