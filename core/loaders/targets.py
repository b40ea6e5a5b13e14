"""The target column: classes or regression values.

``task="auto"``: a categorical target, or a numeric one with at most 20 different whole
numbers, becomes classes; any other numeric target becomes regression.
"classification" makes classes of any target with at most 100 different values;
"regression" needs a numeric target. Class names are the level texts or the numbers
(``3``, ``2.5``), sorted, so "benign" < "malignant" and "no" < "yes" make the second
one the positive class 1 of a binary task.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import DataError
from .columns import CATEGORICAL, ParsedColumn, format_number

AUTO_MAX_CLASSES = 20
MAX_CLASSES = 100


@dataclass(frozen=True)
class Target:
    """``y`` (m,) int64 labels 0..k−1 with ``class_names``, or (m,) float64 values (regression)."""

    y: np.ndarray
    task: str  # "classes" or "regression", as make_dataset takes it
    class_names: tuple[str, ...] = ()


def make_target(column: ParsedColumn, name: str, task: str) -> Target:
    """Classes or regression values from the parsed target ``column`` (no NaN left)."""
    if column.kind == CATEGORICAL:
        if task == "regression":
            raise DataError(f"the target column {name!r} holds text; regression needs numbers (choose classification)")
        return _classes(column.values.astype(np.int64), column.levels, name)
    values = column.values
    uniques = np.unique(values)
    whole = bool(np.all(uniques == np.round(uniques)))
    if task == "regression" or (task == "auto" and (not whole or len(uniques) > AUTO_MAX_CLASSES)):
        return Target(values.astype(np.float64), "regression")
    if len(uniques) > MAX_CLASSES:
        raise DataError(f"the target column {name!r} has {len(uniques)} different values, too many classes "
                        f"(at most {MAX_CLASSES}); choose regression")
    labels = np.searchsorted(uniques, values)
    return _classes(labels, tuple(format_number(u) for u in uniques), name)


def _classes(labels: np.ndarray, levels: tuple[str, ...], name: str) -> Target:
    present = np.unique(labels)
    if len(present) < 2:
        only = levels[present[0]] if len(present) else "none"
        raise DataError(f"the target column {name!r} has only one class ({only!r}); a classifier needs at least two")
    if len(present) < len(levels):  # levels seen only in dropped rows
        levels = tuple(levels[i] for i in present)
        labels = np.searchsorted(present, labels)
    return Target(labels.astype(np.int64), "classes", levels)
