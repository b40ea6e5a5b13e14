"""From a parsed table to a Dataset: roles, types, bad cells, missing values, encoding, scaling.

Steps: analyse the columns (type and role, see :mod:`.columns`); refuse text in a
numeric column with its line and column; parse the target and the features to numbers;
drop rows without a target; drop or fill missing feature values (:mod:`.missing`);
one-hot encode categorical features (:mod:`.encoding`); scale (:mod:`.scaling`); and
build the Dataset, whose ``meta`` records all of it (``source``, ``format``,
``dialect``, ``columns``, ``target``, ``missing``, ``scaling``, ``rows_read``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..data import Dataset, make_dataset
from .columns import CATEGORICAL, ColumnInfo, ParsedColumn, analyse_columns, parse_column
from .encoding import one_hot
from .errors import LoaderError
from .missing import handle_missing
from .options import LoadOptions
from .progress import Monitor
from .scaling import scale_features
from .tables import Table
from .targets import make_target


def _refuse_bad_cells(table: Table, infos: list[ColumnInfo]) -> None:
    for info in infos:
        if info.role != "ignore" and info.bad_cells:
            line, text = info.first_bad
            more = f" ({info.bad_cells} such cells)" if info.bad_cells > 1 else ""
            raise LoaderError(f'{table.path}: line {line}, column {info.index + 1} ("{info.name}"): {text!r} is not a number{more}; '
                              "fix the cell, or set the column's type to categorical")


def _encode(M: np.ndarray, features: list[ColumnInfo], parsed: list[ParsedColumn]) -> tuple[np.ndarray, list[str]]:
    """Features with categorical columns one-hot encoded, and their names."""
    blocks, names = [], []
    for j, (info, column) in enumerate(zip(features, parsed, strict=True)):
        if column.kind == CATEGORICAL:
            block, block_names = one_hot(M[:, j], info.name, column.levels)
        else:
            block, block_names = M[:, j : j + 1], [info.name]
        blocks.append(block)
        names.extend(block_names)
    return np.hstack(blocks), names


def table_dataset(table: Table, options: LoadOptions, name: str, monitor: Monitor | None = None) -> Dataset:
    """The Dataset ``options`` make of ``table``. Raises LoaderError or DataError."""
    monitor = monitor or Monitor()
    frame = table.frame
    infos = analyse_columns(frame, options, table.lines, details=False)
    _refuse_bad_cells(table, infos)
    monitor.update(0.92, "encoding columns")
    target_info = next(i for i in infos if i.role == "target")
    features = [i for i in infos if i.role == "feature"]
    if not features:
        raise LoaderError(f"{table.path}: no feature columns: every column besides the target {target_info.name!r} is ignored")
    target_column = parse_column(frame.iloc[:, target_info.index], target_info.kind)
    parsed = [parse_column(frame.iloc[:, i.index], i.kind) for i in features]
    M = np.empty((len(frame), len(parsed)), order="F")
    for j, column in enumerate(parsed):
        M[:, j] = column.values
    categorical = np.array([p.kind == CATEGORICAL for p in parsed])
    M, keep, report = handle_missing(M, [i.name for i in features], categorical, policy=options.missing,
                                     positions=table.lines.to_numpy(), target_missing=np.isnan(target_column.values))
    monitor.check()
    X, names = _encode(M, features, parsed) if categorical.any() else (M, [i.name for i in features])
    if X.shape[1] == 0:
        raise LoaderError(f"{table.path}: the feature columns hold no information (each has a single value)")
    target = make_target(replace(target_column, values=target_column.values[keep]), target_info.name, options.task)
    X, scaling = scale_features(np.ascontiguousarray(X), options.scale)  # samples-first, C order
    monitor.update(0.98, "checking values")
    meta = {
        "source": str(table.path), "format": "table", "dialect": table.dialect.describe(),
        "columns": [{"name": i.name, "kind": i.kind, "role": i.role} for i in infos],
        "target": target_info.name, "missing": report.to_json(), "missing_summary": report.summary(),
        "scaling": scaling, "rows_read": int(len(frame)),
    }
    return make_dataset(X, target.y, name=name, task=target.task, feature_names=names, class_names=target.class_names or None,
                        target_names=(target_info.name,), meta=meta)
