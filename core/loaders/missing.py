"""Missing feature values: find them, report where they are, drop their rows or fill them.

Works on a numeric matrix ``M`` (m, c) with NaN for a missing cell, where categorical
columns hold level codes. Policies: "drop" removes every row with a missing value;
"mean" fills a numeric column with its mean and a categorical column with its most
frequent level; "most_frequent" fills every column with its most frequent value (the
smallest one on a tie).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..data import DataError
from .options import MISSING_POLICIES

ROWS_LISTED = 10
COLUMNS_LISTED = 10


@dataclass(frozen=True)
class MissingReport:
    """Where values were missing and what was done.

    Attributes:
        policy: "drop", "mean" or "most_frequent".
        cells: missing feature cells. by_column: column name → missing cells (only > 0).
        rows_with_missing: rows with at least one missing feature.
        where: the first few of those rows as file lines (tables) or 1-based sample numbers.
        target_missing: rows without a target value (always dropped).
        rows_dropped: rows removed in all (missing target, and missing features under "drop").
        filled: column name → the value missing cells were filled with.
        empty_rows: rows empty in every column, dropped as the table was read (not in
            rows_dropped; the rows read count them).
    """

    policy: str = "drop"
    cells: int = 0
    by_column: dict[str, int] = field(default_factory=dict)
    rows_with_missing: int = 0
    where: tuple[int, ...] = ()
    target_missing: int = 0
    rows_dropped: int = 0
    filled: dict[str, float] = field(default_factory=dict)
    empty_rows: int = 0

    @property
    def any(self) -> bool:
        return bool(self.cells or self.target_missing)

    def summary(self, unit: str = "line") -> str:
        """One line for people, e.g. "16 missing values in bare_nuclei (16) at lines 24, 41, …; 16 rows dropped"."""
        empty = f"{self.empty_rows} empty row{'s' * (self.empty_rows != 1)} dropped" if self.empty_rows else ""
        if not self.any:
            return "; ".join(filter(None, ("no missing values", empty)))
        parts = []
        if self.cells:
            listed = list(self.by_column.items())[:COLUMNS_LISTED]
            columns = ", ".join(f"{name} ({count})" for name, count in listed)
            if len(self.by_column) > len(listed):
                columns += f", … ({len(self.by_column):,} columns in all)"
            at = ", ".join(str(w) for w in self.where) + (", …" if self.rows_with_missing > len(self.where) else "")
            parts.append(f"{self.cells} missing value{'s' * (self.cells != 1)} in {columns} at {unit}s {at}")
            if self.policy != "drop":
                parts.append(f"filled with the {'column mean' if self.policy == 'mean' else 'most frequent value'}")
        if self.target_missing:
            parts.append(f"{self.target_missing} row{'s' * (self.target_missing != 1)} without a target")
        parts.append(f"{self.rows_dropped} row{'s' * (self.rows_dropped != 1)} dropped")
        return "; ".join(filter(None, (*parts, empty)))

    def to_json(self) -> dict:
        return {"policy": self.policy, "cells": self.cells, "by_column": dict(self.by_column),
                "rows_with_missing": self.rows_with_missing, "where": list(self.where),
                "target_missing": self.target_missing, "rows_dropped": self.rows_dropped, "filled": dict(self.filled),
                "empty_rows": self.empty_rows}


def most_frequent(column: np.ndarray) -> float:
    """The most frequent non-NaN value of ``column`` (the smallest on a tie)."""
    values, counts = np.unique(column[~np.isnan(column)], return_counts=True)
    return float(values[np.argmax(counts)])


def handle_missing(M: np.ndarray, names: list[str], categorical: np.ndarray, *, policy: str,
                   positions: np.ndarray, target_missing: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, MissingReport]:
    """Apply ``policy`` to the NaN cells of ``M``.

    Args:
        M: (m, c) float64 features, NaN where missing (changed in place when filling).
        names: c column names. categorical: (c,) bool, True for level-code columns.
        policy: one of MISSING_POLICIES.
        positions: (m,) where each row is in the file (line or sample number), for the report.
        target_missing: (m,) bool, rows without a target (always dropped), or None.

    Returns:
        (rows of M kept, (m,) bool mask of the kept rows, report).
    """
    if policy not in MISSING_POLICIES:
        raise DataError(f"missing must be one of {', '.join(MISSING_POLICIES)}, got {policy!r}")
    m = M.shape[0]
    no_target = np.zeros(m, bool) if target_missing is None else target_missing
    holes = np.isnan(M)
    counts = holes.sum(axis=0)
    row_has = holes.any(axis=1)
    by_column = {names[j]: int(counts[j]) for j in np.flatnonzero(counts)}
    keep = ~no_target
    filled: dict[str, float] = {}
    if policy == "drop":
        keep &= ~row_has
    else:
        gaps = np.flatnonzero(counts)
        empty = gaps[holes[keep][:, gaps].all(axis=0)] if keep.any() else gaps
        if len(empty):
            raise DataError(f"column {names[empty[0]]!r} has no values to fill its missing cells from")
        by_mean = gaps[~categorical[gaps]] if policy == "mean" else gaps[:0]
        fill = np.full(M.shape[1], np.nan)
        if len(by_mean):
            fill[by_mean] = np.nanmean(M[keep][:, by_mean], axis=0)
        for j in np.setdiff1d(gaps, by_mean):
            fill[j] = most_frequent(M[keep, j])
        rows, cols = np.nonzero(holes)
        M[rows, cols] = fill[cols]
        filled = {names[j]: float(fill[j]) for j in gaps}
    report = MissingReport(
        policy=policy, cells=int(counts.sum()), by_column=by_column, rows_with_missing=int(row_has.sum()),
        where=tuple(int(p) for p in positions[row_has][:ROWS_LISTED]), target_missing=int(no_target.sum()),
        rows_dropped=int(m - keep.sum()), filled=filled,
    )
    if not keep.any():
        raise DataError(f"no rows left after dropping the rows with missing values ({report.summary()})")
    return (M if keep.all() else M[keep]), keep, report
