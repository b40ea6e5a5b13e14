"""A table read as a time series: windows of consecutive rows, and the value that follows.

With ``options.window`` = T, ``options.horizon`` = h (default 1), the input columns
(``options.columns``; default: every numeric column that is not an ID, a row number or empty)
and the target column (``options.target``; default: the first input column):

1. rows with a missing value in any of those columns are dropped (or filled, as
   ``options.missing`` says; the report says how many), leaving n rows;
2. sample i, for 0 ≤ i < m = n − T − h + 1, holds rows i … i + T − 1 of the F input
   columns, (T, F) flattened step by step into X (m, T·F); its target is the target
   column at row i + T − 1 + h.

``meta["forecast"]`` = {"window": T, "horizon": h, "feature": the target's place among the
inputs (None when it is not one of them), "consecutive": True}. Refused with a LoaderError
naming the file: a column that is not numeric (with the line of a cell that is not a
number), a column given twice, fewer than T + h rows, and windows that would need more
memory than there is (m·T·F float64 values, checked before anything is copied).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import Dataset, counted, make_dataset
from ..limits import check_allocation
from ..sequences import step_names
from .columns import ID_NAMES, MIN_ROWS_FOR_IDS, NUMERIC, infer_kind, numeric_columns, parse_column, resolve_column
from .errors import LoaderError
from .missing import handle_missing
from .options import LoadOptions
from .progress import Monitor
from .tables import Table

WINDOW_COPIES = 1  # the windows' X is the one large array made (the rows themselves are a few columns)


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
    rows_needed = window + horizon
    most = max(len(frame) - rows_needed + 1, 0)
    check_allocation(f"{path}: {most:,} windows of {window:,} rows × {counted(features, 'column')} (float64)",
                     8 * most * window * features * WINDOW_COPIES, error=LoaderError)
    monitor.update(0.92, "reading the series")
    M = np.column_stack([_numbers(table, j, names[j]) for j in used])
    M, _, report = handle_missing(M, [names[j] for j in used], np.zeros(len(used), bool), policy=options.missing,
                                  positions=table.lines.to_numpy())
    samples = len(M) - rows_needed + 1
    if samples < 1:
        left = f"{len(M):,} rows" + (f" after dropping {report.rows_dropped:,} with missing values" if report.rows_dropped else "")
        raise LoaderError(f"{path}: a window of {window:,} rows and a horizon of {horizon:,} need at least {rows_needed:,} rows; "
                          f"the table has {left}: choose a shorter window")
    monitor.check()
    steps = np.lib.stride_tricks.sliding_window_view(M[:, :features], window, axis=0)[:samples]  # (m, F, T), a view
    X = np.ascontiguousarray(steps.transpose(0, 2, 1)).reshape(samples, window * features)
    y = M[window - 1 + horizon : window - 1 + horizon + samples, used.index(target)]
    forecast = {"window": window, "horizon": horizon, "feature": inputs.index(target) if target in inputs else None,
                "consecutive": True}
    meta = {"source": str(path), "format": "table", "dialect": table.dialect.describe(), "target": names[target],
            "series": {"columns": [names[j] for j in inputs], "target": names[target]}, "forecast": forecast,
            "missing": report.to_json(), "missing_summary": report.summary(), "scaling": {"method": "none"},
            "rows_read": int(len(frame))}
    monitor.update(0.98, "checking values")
    return make_dataset(X, y, name=name, task="regression", feature_names=step_names(window, tuple(names[j] for j in inputs)),
                        target_names=(names[target],), meta=meta, sample_shape=(window, features))
