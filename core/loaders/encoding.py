"""Turning categorical feature columns into numbers: one-hot encoding.

A column with k > 2 levels becomes k indicator columns ``name=level``; a column with
two levels becomes one indicator of its second (sorted) level, e.g. ``smoker=yes``; a
column with one level carries no information and is dropped.
"""

from __future__ import annotations

import numpy as np

from ..data import DataError

MAX_LEVELS = 100


def one_hot(codes: np.ndarray, name: str, levels: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """(m, k') indicator columns (float64) and their names for level ``codes`` (m,) in 0..k−1."""
    k = len(levels)
    if k > MAX_LEVELS:
        raise DataError(f"column {name!r} has {k} different text values; one-hot encoding would make {k} features. "
                        "Set its role to ignore, or its type to numeric if it holds numbers")
    codes = codes.astype(np.int64)
    if k <= 1:
        return np.empty((len(codes), 0)), []
    if k == 2:
        return (codes == 1).astype(np.float64)[:, None], [f"{name}={levels[1]}"]
    return np.eye(k)[codes], [f"{name}={level}" for level in levels]
