"""A table read as a time series: windows of consecutive rows, and the value that follows.

With ``options.window`` = T, ``options.horizon`` = h (default 1), the input columns
(``options.columns``; default: every numeric column that is not an ID, a row number or empty)
and the target column (``options.target``; default: the first input column):

1. rows with a missing value in any of those columns are dropped (or filled, as
   ``options.missing`` says; the report says how many), and so are rows empty in every
   column (counted in the rows read and the missing report: ``Table.empty_rows``);
2. a window is T + h rows that follow one another in the file with none dropped between
   them: sample i holds T rows r … r + T − 1 of the F input columns, (T, F) flattened step by
   step into X (m, T·F); its target y[i, 0] is the target column at row r + T − 1 + h. Windows
   that would contain or span a dropped row are left out (``meta["series"]["left_out"]``
   counts them), so no window crosses a gap.

``meta["forecast"]`` = {"window": T, "horizon": h, "feature": the target's place among the
inputs, or None when it is not one of them (forecasting one column from others is allowed; a
view then has no input series of the target to draw), "consecutive": True when no window was
left out (window i then starts one row after window i − 1)}. Windows are in the file's order
either way (the trainer's validation part is the last stretch of them: see
:func:`core.trainer.split_indices`). Refused with a LoaderError naming the file: a column that
is not numeric (with the line of a cell that is not a number), a column given twice, no T + h
consecutive rows left, and windows that would need more memory than there is (m·T·F float64
values, checked before anything is copied).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..data import Dataset, counted, make_dataset
from ..limits import check_allocation
from ..sequences import step_names
from .columns import ID_NAMES, MIN_ROWS_FOR_IDS, NUMERIC, infer_kind, numeric_columns, parse_column, resolve_column
from .errors import LoaderError
from .missing import MissingReport, handle_missing
from .options import LoadOptions
from .progress import Monitor
from .tables import Table


def _is_row_number(values: np.ndarray) -> bool:
    """Whether a numeric column counts rows: 0, 1, 2, … or 1, 2, 3, … (at least MIN_ROWS_FOR_IDS of them)."""
    return (len(values) >= MIN_ROWS_FOR_IDS and values[0] in (0.0, 1.0)
            and np.array_equal(values, values[0] + np.arange(len(values))))


def default_inputs(frame: pd.DataFrame) -> list[int]:
    """The columns a time series reads when none are named: the numeric ones, without IDs
    (named like id, index, row), row numbers and empty columns."""
    numeric, _ = numeric_columns(frame)
    chosen = []
    for j, name in enumerate(map(str, frame.columns)):
        if name.strip().lower() in ID_NAMES:
            continue
        series = frame.iloc[:, j]
        if not numeric[j]:
            if series.notna().any() and infer_kind(series)[0] == NUMERIC:
                chosen.append(j)  # numbers with a few bad cells: refused with their line when read
            continue
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.isnan(values).all() and not _is_row_number(values):
            chosen.append(j)
    return chosen


def _input_columns(table: Table, names: list[str], options: LoadOptions) -> list[int]:
    if options.columns is None:
        inputs = default_inputs(table.frame)
        if not inputs:
            raise LoaderError(f"{table.path}: no numeric column to read as a series (the columns: {', '.join(names)}); "
                              "name the input columns")
        return inputs
    inputs = [resolve_column(key, names) for key in options.columns]
    repeated = next((j for j in inputs if inputs.count(j) > 1), None)
    if repeated is not None:
        raise LoaderError(f"{table.path}: column {names[repeated]!r} is named twice among the input columns")
    return inputs


def _numbers(table: Table, j: int, name: str) -> np.ndarray:
    """Column ``j`` as (rows,) float64, NaN where missing; LoaderError for a cell that is not a number."""
    series = table.frame.iloc[:, j]
    parsed = parse_column(series, NUMERIC)
    if len(parsed.bad_rows):
        row = int(parsed.bad_rows[0])
        kind = "a text column" if infer_kind(series)[0] != NUMERIC else f"{len(parsed.bad_rows)} cell(s) are not numbers"
        raise LoaderError(f'{table.path}: line {table.lines[row]}, column {j + 1} ("{name}"): {str(series.iat[row])!r} is not a '
                          f"number ({kind}); a time series' columns must hold numbers: fix the cell or leave the column out")
    return parsed.values


def _unbroken_starts(positions: np.ndarray, reach: int) -> tuple[np.ndarray, int]:
    """(the first rows of the windows, (m,) int64; how many windows were left out): of the rows
    kept, at their ``positions`` (n,) among the rows parsed, a window starts at row i when rows
    i … i + ``reach`` follow one another there (no row dropped between them)."""
    candidates = max(len(positions) - reach, 0)
    unbroken = positions[reach:] - positions[:candidates] == reach  # (candidates,)
    return np.flatnonzero(unbroken), int(candidates - unbroken.sum())


def _too_short(window: int, horizon: int, rows: int, report: MissingReport) -> str:
    """Why ``rows`` rows (after what ``report`` says was dropped) give no window."""
    needed = window + horizon
    want = (f"a window of {counted(window, 'row')} and a horizon of {horizon:,} need {needed:,} consecutive rows "
            f"({counted(window, 'row')} read, then the target {counted(horizon, 'row')} after the last)")
    dropped = report.rows_dropped + report.empty_rows
    if rows >= needed:
        return f"{want}; the {counted(dropped, 'row')} dropped for missing values leave no such stretch: fill them (missing: mean) or choose a shorter window"
    left = counted(rows, "row") + (f" after dropping {dropped:,} with missing values" if dropped else "")
    remedy = "choose a shorter window or horizon" if needed > 2 else "a series needs more rows"
    return f"{want}; the table has {left}: {remedy}"


def series_dataset(table: Table, options: LoadOptions, name: str, monitor: Monitor | None = None) -> Dataset:
    """The windows ``options`` (a window, maybe horizon, columns, target) make of ``table``
    (see the module docstring). Raises LoaderError or DataError."""
    monitor = monitor or Monitor()
    frame, path = table.frame, table.path
    names = [str(c) for c in frame.columns]
    window, horizon = options.window, options.horizon or 1
    inputs = _input_columns(table, names, options)
    target = inputs[0] if options.target is None else resolve_column(options.target, names)
    used = inputs + ([target] if target not in inputs else [])
    features = len(inputs)
    reach = window - 1 + horizon  # rows from a window's first to its target
    most = max(len(frame) - reach, 0)
    check_allocation(f"{path}: {most:,} windows of {window:,} rows × {counted(features, 'column')} (float64)",
                     8 * most * window * (features + 1), error=LoaderError)  # X and its (m, T) row numbers
    monitor.update(0.92, "reading the series")
    M = np.column_stack([_numbers(table, j, names[j]) for j in used])
    M, keep, report = handle_missing(M, [names[j] for j in used], np.zeros(len(used), bool), policy=options.missing,
                                     positions=table.lines.to_numpy())
    report = replace(report, empty_rows=table.empty_rows)
    starts, left_out = _unbroken_starts(table.positions[keep], reach)
    if not len(starts):
        raise LoaderError(f"{path}: {_too_short(window, horizon, len(M), report)}")
    monitor.check()
    rows = starts[:, None] + np.arange(window)  # (m, T): the rows of each window
    X = M[:, :features][rows].reshape(len(starts), window * features)
    y = M[starts + reach, used.index(target)]
    forecast = {"window": window, "horizon": horizon, "feature": inputs.index(target) if target in inputs else None,
                "consecutive": left_out == 0}
    meta = {"source": str(path), "format": "table", "dialect": table.dialect.describe(), "target": names[target],
            "series": {"columns": [names[j] for j in inputs], "target": names[target], "left_out": left_out}, "forecast": forecast,
            "missing": report.to_json(), "missing_summary": report.summary(), "scaling": {"method": "none"},
            "rows_read": int(len(frame)) + table.empty_rows}
    monitor.update(0.98, "checking values")
    return make_dataset(X, y, name=name, task="regression", feature_names=step_names(window, tuple(names[j] for j in inputs)),
                        target_names=(names[target],), meta=meta, sample_shape=(window, features))
