"""What each column of a table holds and what it is for: type, role, missing values.

Types: a column is ``numeric`` when its cells read as numbers; a few cells that do not
(under 10 %) are kept as "bad cells" that make loading fail with their line and column
(a typo in a numeric column), unless the user sets the column's type to categorical.
Otherwise it is ``categorical`` (text, or true/false). Roles: the target is the column
the user chose, else one named like target / label / class / y, else the last column;
a column is ignored by default when it is empty, is a row number (0, 1, 2, … or
1, 2, 3, …), is named ``id``, or is text with a different value in every row (names,
IDs); all other columns are features.
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
        index: 0-based position. name: header name (or ``column_N``).
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


def format_number(value: float) -> str:
    """Whole numbers without a decimal point, others in the shortest exact form."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(float(value))


def infer_kind(series: pd.Series) -> tuple[str, np.ndarray | None, np.ndarray]:
    """(kind, float values or None, rows of bad cells) of one parsed column."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return CATEGORICAL, None, np.empty(0, np.int64)
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.flatnonzero(np.isinf(values))
        return NUMERIC, values, bad
    present = series.notna().to_numpy()
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.flatnonzero(present & ~np.isfinite(numbers))
    n_present = int(present.sum())
    if n_present and len(bad) <= MAX_BAD_SHARE * n_present:
        return NUMERIC, numbers, bad
    return CATEGORICAL, None, np.empty(0, np.int64)


def parse_column(series: pd.Series, kind: str | None = None) -> ParsedColumn:
    """``series`` as numbers of ``kind`` (None: inferred)."""
    inferred, numbers, bad = infer_kind(series)
    kind = kind or inferred
    if kind == NUMERIC:
        if numbers is None:  # categorical text forced to numeric: every non-number is bad
            numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            bad = np.flatnonzero(series.notna().to_numpy() & ~np.isfinite(numbers))
        values = numbers.copy()
        values[bad] = np.nan
        return ParsedColumn(NUMERIC, values, bad_rows=bad)
    if numbers is not None and pd.api.types.is_numeric_dtype(series.dtype):
        present = ~np.isnan(numbers)
        uniques = np.unique(numbers[present])
        codes = np.full(len(numbers), np.nan)
        codes[present] = np.searchsorted(uniques, numbers[present])
        return ParsedColumn(CATEGORICAL, codes, tuple(format_number(u) for u in uniques))
    text = series.astype("string").str.strip()
    codes, uniques = pd.factorize(text, sort=True, use_na_sentinel=True)
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
    lowered = [n.strip().lower() for n in names]
    for candidate in TARGET_NAMES:
        if candidate in lowered:
            return lowered.index(candidate)
    return len(names) - 1


def _ignored_by_default(name: str, series: pd.Series, kind: str, values: np.ndarray | None) -> bool:
    present = series.dropna()
    if len(present) == 0:
        return True
    if name.strip().lower() in ID_NAMES:
        return True
    m = len(series)
    if m < 20 or len(present) < m:
        return False
    if kind == CATEGORICAL:
        return not pd.api.types.is_bool_dtype(series.dtype) and present.nunique() == m
    if values is not None:
        ordered = np.arange(m, dtype=np.float64)
        return bool(np.array_equal(values, ordered) or np.array_equal(values, ordered + 1))
    return False


def analyse_columns(frame: pd.DataFrame, options: LoadOptions, lines: pd.Index | None = None,
                    details: bool = True) -> list[ColumnInfo]:
    """Type, role and missing values of every column of ``frame`` (the preview's model).

    ``lines`` gives each row's file line for ``first_bad``; default: row number + 1.
    ``details=False`` skips counting distinct values and listing levels (left 0 and ()),
    which loading does not need.
    """
    names = [str(c) for c in frame.columns]
    if len(names) < 2:
        raise DataError(f"only one column ({names[0] if names else 'none'}) was found; a dataset needs features and a target "
                        "(is the delimiter right?)")
    target = target_index(names, options)
    roles = {resolve_column(k, names): role for k, role in options.roles.items()}
    kinds = {resolve_column(k, names): kind for k, kind in options.types.items()}
    infos = []
    for j, name in enumerate(names):
        series = frame.iloc[:, j]
        inferred, values, bad = infer_kind(series)
        kind = kinds.get(j, inferred)
        if j == target:
            role = "target"
        elif j in roles and roles[j] != "target":
            role = roles[j]
        else:
            role = "ignore" if _ignored_by_default(name, series, inferred, values) else "feature"
        if kind != inferred:
            bad = parse_column(series, kind).bad_rows
        first_bad = None
        if len(bad):
            row = int(bad[0])
            first_bad = (int(lines[row]) if lines is not None else row + 1, str(series.iloc[row]))
        levels, distinct = (), 0
        if details:
            distinct = int(series.nunique(dropna=True))
            if kind == CATEGORICAL:
                levels = parse_column(series, CATEGORICAL).levels[:MAX_LEVELS_SHOWN]
        infos.append(ColumnInfo(
            index=j, name=name, kind=kind, inferred_kind=inferred, role=role,
            missing=int(series.isna().sum()), distinct=distinct,
            levels=levels, bad_cells=len(bad), first_bad=first_bad,
        ))
    return infos
