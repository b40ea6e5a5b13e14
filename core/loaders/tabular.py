"""From a parsed table to a Dataset: roles, types, bad cells, missing values, encoding, scaling.

Steps: analyse the columns (type and role, see :mod:`.columns`); refuse text in a
numeric column with its line and column; refuse a table whose features need more memory
than the machine has (rows × features × 8 bytes, see core.limits); parse the target and
the features to numbers (numeric columns a slab at a time, straight from the frame);
drop rows without a target; drop or fill missing feature values (:mod:`.missing`);
one-hot encode categorical features (:mod:`.encoding`); scale (:mod:`.scaling`); and
build the Dataset, whose ``meta`` records all of it (``source``, ``format``,
``dialect``, ``columns``, ``target``, ``missing``, ``scaling``, ``rows_read``). ``columns``
lists ``{"name", "kind", "role"}`` of every column that is not a numeric feature (the
target, the ignored and the categorical columns): the numeric features are the
``feature_names`` without ``=`` (a table may have 10⁶ of them).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..data import Dataset, make_dataset
from ..limits import check_allocation
from .columns import CATEGORICAL, NUMERIC, ColumnTable, analyse_table, numeric_columns, parse_column, slabs
from .encoding import one_hot
from .errors import LoaderError
from .missing import handle_missing
from .options import LoadOptions
from .progress import Monitor
from .scaling import scale_features
from .tables import Table
from .targets import make_target


def _refuse_bad_cells(table: Table, columns: ColumnTable) -> None:
    used = np.flatnonzero((columns.roles != "ignore") & (columns.bad_cells > 0))
    if len(used):
        j = int(used[0])
        row, count = int(columns.first_bad[j]), int(columns.bad_cells[j])
        more = f" ({count} such cells)" if count > 1 else ""
        raise LoaderError(f'{table.path}: line {table.lines[row]}, column {columns.positions[j] + 1} ("{columns.names[j]}"): '
                          f"{str(table.frame.iat[row, j])!r} is not a number{more}; "
                          "fix the cell, or set the column's type to categorical")


def _check_size(table: Table, rows: int, features: int) -> None:
    what = f"{table.path}: {rows:,} rows × {features:,} features (float64) to train on"
    check_allocation(what, 8 * rows * features, error=LoaderError)


Levels = dict[int, tuple[str, ...]]  # feature → the level names of a categorical one


def _feature_matrix(frame: pd.DataFrame, features: np.ndarray, kinds: np.ndarray) -> tuple[np.ndarray, Levels]:
    """(M (m, f) float64, C order: each feature column as numbers, level codes for the
    categorical ones; feature → its levels, for the categorical ones)."""
    M = np.empty((len(frame), len(features)))
    numeric_dtype, _ = numeric_columns(frame)
    direct = (kinds == NUMERIC) & numeric_dtype[features]  # numbers already: copied a slab at a time
    for slab in slabs(np.flatnonzero(direct), len(frame)):
        M[:, slab] = frame.iloc[:, features[slab]].to_numpy(dtype=np.float64, na_value=np.nan)
    levels = {}
    for j in np.flatnonzero(~direct):
        column = parse_column(frame.iloc[:, features[j]], kinds[j])
        M[:, j] = column.values
        if column.kind == CATEGORICAL:
            levels[int(j)] = column.levels
    return M, levels


def _encode(table: Table, M: np.ndarray, names: list[str], levels: Levels) -> tuple[np.ndarray, list[str]]:
    """Features with the categorical columns (``levels``) one-hot encoded, and their names;
    runs of numeric columns are copied whole."""
    blocks = {j: one_hot(M[:, j], names[j], column_levels) for j, column_levels in levels.items()}
    width = M.shape[1] - len(blocks) + sum(block.shape[1] for block, _ in blocks.values())
    _check_size(table, len(M), width)
    X = np.empty((len(M), width))
    encoded: list[str] = []
    start = 0
    for j in [*sorted(blocks), M.shape[1]]:
        X[:, len(encoded) : len(encoded) + j - start] = M[:, start:j]
        encoded.extend(names[start:j])
        if j in blocks:
            block, block_names = blocks[j]
            X[:, len(encoded) : len(encoded) + block.shape[1]] = block
            encoded.extend(block_names)
        start = j + 1
    return X, encoded


def table_dataset(table: Table, options: LoadOptions, name: str, monitor: Monitor | None = None) -> Dataset:
    """The Dataset ``options`` make of ``table``. Raises LoaderError or DataError."""
    monitor = monitor or Monitor()
    frame = table.frame
    if frame.shape[1] < 2:
        raise LoaderError(f"{table.path}: only one column ({frame.columns[0] if frame.shape[1] else 'none'}) was found; a dataset "
                          "needs features and a target (is the delimiter right? a series of values reads as a time series with "
                          "a window)")
    columns = analyse_table(frame, options, details=False)
    _refuse_bad_cells(table, columns)
    monitor.update(0.92, "encoding columns")
    target_name = columns.names[columns.target]
    features = np.flatnonzero(columns.roles == "feature")
    if not len(features):
        raise LoaderError(f"{table.path}: no feature columns: every column besides the target {target_name!r} is ignored")
    _check_size(table, len(frame), len(features))
    target_column = parse_column(frame.iloc[:, columns.target], columns.kinds[columns.target])
    M, levels = _feature_matrix(frame, features, columns.kinds[features])
    monitor.check()
    feature_names = [columns.names[j] for j in features]
    categorical = np.zeros(len(features), bool)
    categorical[list(levels)] = True
    M, keep, report = handle_missing(M, feature_names, categorical, policy=options.missing,
                                     positions=table.lines.to_numpy(), target_missing=np.isnan(target_column.values))
    report = replace(report, empty_rows=table.empty_rows)
    monitor.check()
    X, names = _encode(table, M, feature_names, levels) if levels else (M, feature_names)
    if X.shape[1] == 0:
        raise LoaderError(f"{table.path}: the feature columns hold no information (each has a single value)")
    target = make_target(replace(target_column, values=target_column.values[keep]), target_name, options.task)
    X, scaling = scale_features(X, options.scale)  # samples-first, C order
    monitor.update(0.98, "checking values")
    meta = {
        "source": str(table.path), "format": "table", "dialect": table.dialect.describe(),
        "columns": [{"name": columns.names[j], "kind": columns.kinds[j], "role": columns.roles[j]}
                    for j in np.flatnonzero((columns.roles != "feature") | (columns.kinds != NUMERIC))],
        "target": target_name, "missing": report.to_json(), "missing_summary": report.summary(),
        "scaling": scaling, "rows_read": int(len(frame)) + table.empty_rows,
    }
    return make_dataset(X, target.y, name=name, task=target.task, feature_names=names, class_names=target.class_names or None,
                        target_names=(target_name,), meta=meta)
