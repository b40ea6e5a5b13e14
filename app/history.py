"""The per-epoch record of the current run, kept by the GUI thread for the plots.

The worker's reports are appended here as they arrive (the GUI slot does nothing else);
plots redraw from these arrays on a timer. Every completed epoch is kept, none dropped.
Columns grow by doubling, so appending is amortised O(1) and a column is a NumPy view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from core.trainer import Report

COLUMNS = ("epoch", "train_loss", "val_loss", "train_metric", "val_metric", "learning_rate", "seconds", "samples")


@dataclass(frozen=True)
class Marker:
    """A vertical mark on the epoch axis: a setting changed, or training diverged.

    ``position`` is in epochs done (5.4 = after 5 epochs and 40 % of the sixth);
    ``kind`` is "setting" or "diverged".
    """

    position: float
    text: str
    kind: str


class RunHistory:
    """Epoch series of one run: ``column(name)`` is a float64 (count,) view, NaN where a
    report had no value (no validation part). ``version`` changes on every edit, ``run``
    on every :meth:`clear`, so views can tell what they already drew."""

    def __init__(self, capacity: int = 1024):
        self._data = np.full((len(COLUMNS), capacity), np.nan)
        self._index = {name: i for i, name in enumerate(COLUMNS)}
        self.count = 0
        self.version = 0
        self.run = 0
        self.markers: list[Marker] = []
        self.metric_name = "accuracy"
        self.last: Report | None = None

    def clear(self, metric_name: str = "accuracy") -> None:
        """Forget everything: a new run starts (its metric is ``metric_name``)."""
        self.count = 0
        self.markers = []
        self.metric_name = metric_name
        self.last = None
        self.run += 1
        self.version += 1

    def extend(self, reports: Iterable[Report]) -> None:
        """Append completed epoch reports, in order."""
        for report in reports:
            if self.count == self._data.shape[1]:
                grown = np.full((len(COLUMNS), 2 * self.count), np.nan)
                grown[:, : self.count] = self._data
                self._data = grown
            self._data[:, self.count] = (
                report.epoch, report.train_loss, _number(report.val_loss), report.train_metric, _number(report.val_metric),
                report.learning_rate, report.seconds, report.samples_per_second * report.seconds,
            )
            self.count += 1
            self.last = report
        self.version += 1

    def add_marker(self, marker: Marker) -> None:
        self.markers.append(marker)
        self.version += 1

    def column(self, name: str) -> np.ndarray:
        """The (count,) values of column ``name`` (one of COLUMNS); a view, do not write."""
        return self._data[self._index[name], : self.count]

    def row(self, index: int) -> dict[str, float]:
        """All columns of epoch row ``index`` (0-based) as a dict."""
        return {name: float(self._data[i, index]) for i, name in enumerate(COLUMNS)}

    def total(self, name: str) -> float:
        """The sum of column ``name`` over the run (e.g. "seconds", "samples")."""
        return float(self.column(name).sum())


def _number(value: float | None) -> float:
    return np.nan if value is None else value
