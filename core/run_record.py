"""The per-epoch record of a run, kept compact so that a run of millions of epochs stays small.

* :class:`Columns`: named float64 columns that grow together by doubling (amortised O(1)
  appends; each column is its own array, so a growth step copies one column at a time).
* :class:`RunRecord`: every complete epoch of a run as seven numbers (56 bytes an epoch):
  epoch, training and validation loss and metric, learning rate and seconds; the run's
  total seconds and samples; and the last ``RECENT_REPORTS`` complete
  :class:`~core.trainer.Report` objects whole (with their per-layer statistics), in a
  bounded ring. ``records()`` gives the CLI's per-epoch dicts, exactly as
  ``Report.to_json()`` gives them.
* :class:`SampledRows`: a bounded (rows, width) table of per-epoch values that keeps every
  ``stride``-th epoch, the stride doubling (every other row dropped) when it is full: a
  whole run of any length in at most ``capacity`` rows, for trends such as gradient norms.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .trainer import Report

RECORD_COLUMNS = ("epoch", "train_loss", "val_loss", "train_metric", "val_metric", "learning_rate", "seconds")
TOTALS = ("seconds", "samples")  # summed over the run as it goes
RECENT_REPORTS = 256  # whole reports kept (their layer statistics): the latest epochs only
INITIAL_ROWS = 1024
SAMPLED_ROWS = 4096  # rows a SampledRows keeps at most: ≥ 2 points a pixel on any screen


class Columns:
    """Float64 columns ``names``, each a (capacity,) array of which the first ``len(self)``
    rows are filled; they grow together by doubling."""

    def __init__(self, names: Sequence[str], capacity: int = INITIAL_ROWS):
        self.names = tuple(names)
        self._index = {name: i for i, name in enumerate(self.names)}
        self._arrays = [np.empty(capacity) for _ in self.names]
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def clear(self) -> None:
        """Forget every row (the memory is kept for the next rows)."""
        self._count = 0

    def append(self, values: Sequence[float]) -> None:
        """Add one row: a value per column, in the order of ``names`` (NaN for none)."""
        count = self._count
        if count == len(self._arrays[0]):
            for i, array in enumerate(self._arrays):  # one column at a time: a small peak while growing
                grown = np.empty(2 * max(count, 1))
                grown[:count] = array
                self._arrays[i] = grown
        for array, value in zip(self._arrays, values, strict=True):
            array[count] = value
        self._count = count + 1

    def extend_rows(self, rows: np.ndarray) -> None:
        """Add ``rows`` (k, len(names)): one row per line, columns in the order of ``names``."""
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != len(self.names):
            raise ValueError(f"rows of {len(self.names)} columns are needed, got shape {rows.shape}")
        count, end = self._count, self._count + len(rows)
        if end > len(self._arrays[0]):
            for i, array in enumerate(self._arrays):
                grown = np.empty(max(end, 2 * len(array)))
                grown[:count] = array[:count]
                self._arrays[i] = grown
        for i, array in enumerate(self._arrays):
            array[count:end] = rows[:, i]
        self._count = end

    def rows(self) -> np.ndarray:
        """A (len, len(names)) copy of every filled row, columns in the order of ``names``."""
        return np.stack([array[: self._count] for array in self._arrays], axis=1)

    def column(self, name: str) -> np.ndarray:
        """The (len,) values of column ``name``; a view, do not write (KeyError for an unknown name)."""
        return self._arrays[self._index[name]][: self._count]

    def row(self, index: int) -> dict[str, float]:
        """Every column of row ``index`` (0-based; negative counts from the end) as a dict."""
        if not -self._count <= index < self._count:
            raise IndexError(f"row {index} of {self._count}")
        return {name: float(array[index % self._count]) for name, array in zip(self.names, self._arrays, strict=True)}

    def nbytes(self) -> int:
        """Bytes held by the columns, filled or not."""
        return sum(array.nbytes for array in self._arrays)


class RunRecord(Columns):
    """Every complete epoch of one run: the columns of ``RECORD_COLUMNS`` (NaN for a value a
    report did not have: no validation part), the ``TOTALS`` of the run, the latest report
    whole (``last``) and the last ``RECENT_REPORTS`` reports whole (``recent``).
    ``metric_name`` ("accuracy" or "r2") names the metric columns in :meth:`records`."""

    def __init__(self, metric_name: str = "accuracy", capacity: int = INITIAL_ROWS):
        super().__init__(RECORD_COLUMNS, capacity)
        self.metric_name = metric_name
        self._recent: deque[Report] = deque(maxlen=RECENT_REPORTS)
        self._totals = dict.fromkeys(TOTALS, 0.0)
        self._validation = True  # whether the run's reports have validation values

    def clear(self, metric_name: str | None = None) -> None:
        """Forget every epoch: a new run starts (its metric ``metric_name``, or the same)."""
        super().clear()
        self._recent.clear()
        self._totals = dict.fromkeys(TOTALS, 0.0)
        if metric_name is not None:
            self.metric_name = metric_name

    def append_report(self, report: Report) -> None:
        """Record a complete epoch's report."""
        if not len(self):
            self._validation = report.val_loss is not None
        self.append((report.epoch, report.train_loss, _number(report.val_loss), report.train_metric, _number(report.val_metric),
                     report.learning_rate, report.seconds))
        self._totals["seconds"] += report.seconds
        if report.seconds > 0:  # else the rate is infinite: inf × 0 would make the total NaN
            self._totals["samples"] += report.samples_per_second * report.seconds
        self._recent.append(report)

    def extend(self, reports: Iterable[Report]) -> None:
        """Record complete epochs' reports, in order."""
        for report in reports:
            self.append_report(report)

    @classmethod
    def restore(cls, metric_name: str, rows: np.ndarray, totals: dict[str, float], validation: bool) -> RunRecord:
        """A record read back from a file: ``rows`` (epochs, len(RECORD_COLUMNS)) as :meth:`rows`
        gave them, the ``TOTALS`` and whether the reports had validation values. Whole reports
        are not kept in files: ``last`` and ``recent`` start empty."""
        record = cls(metric_name, capacity=max(INITIAL_ROWS, len(rows)))
        record.extend_rows(rows)
        record._totals = {name: float(totals[name]) for name in TOTALS}
        record._validation = bool(validation)
        return record

    @property
    def has_validation(self) -> bool:
        """Whether the run's reports have validation values (False: None in :meth:`records`)."""
        return self._validation

    @property
    def last(self) -> Report | None:
        """The latest epoch's report, or None before the first."""
        return self._recent[-1] if self._recent else None

    @property
    def recent(self) -> tuple[Report, ...]:
        """The latest ``RECENT_REPORTS`` epochs' reports (fewer early on), oldest first."""
        return tuple(self._recent)

    def total(self, name: str) -> float:
        """The sum over the run of ``name``, one of ``TOTALS``: the seconds the epochs took,
        the samples they trained on."""
        return self._totals[name]

    def records(self) -> Iterator[dict]:
        """One dict per epoch, oldest first, equal to what ``Report.to_json()`` gave for it:
        ``epoch``, ``train_loss``, ``val_loss``, ``train_{metric}``, ``val_{metric}`` (None
        without a validation part), ``lr``, ``seconds``."""
        prefix = "accuracy" if self.metric_name == "accuracy" else "r2"
        keys = ("train_loss", "val_loss", f"train_{prefix}", f"val_{prefix}", "lr", "seconds")
        names = ("train_loss", "val_loss", "train_metric", "val_metric", "learning_rate", "seconds")
        columns = [self.column(name).tolist() for name in names]
        if not self._validation:
            columns[1] = columns[3] = [None] * len(self)
        for epoch, *values in zip(self.column("epoch").tolist(), *columns, strict=True):
            yield {"epoch": int(epoch), **dict(zip(keys, values, strict=True))}


class SampledRows:
    """Rows of ``width`` values at increasing epochs, at most ``capacity`` of them (even):
    every epoch is kept until the table is full, then every other row is dropped and only
    every ``stride``-th epoch (counted from the first) is kept from then on, ``stride``
    doubling each time. ``epochs`` and ``values`` are views of the rows kept."""

    def __init__(self, capacity: int = SAMPLED_ROWS):
        if capacity < 2 or capacity % 2:
            raise ValueError("the capacity of a SampledRows must be an even number ≥ 2")
        self.capacity = capacity
        self._epochs = np.empty(capacity)
        self._values = np.empty((capacity, 0))
        self._count = 0
        self.stride = 1
        self.offered = 0  # rows offered since the table was cleared, kept or not

    def __len__(self) -> int:
        return self._count

    @property
    def count(self) -> int:
        """Rows kept."""
        return self._count

    @property
    def width(self) -> int:
        return self._values.shape[1]

    @property
    def epochs(self) -> np.ndarray:
        """(len,) epochs of the rows kept."""
        return self._epochs[: self._count]

    @property
    def values(self) -> np.ndarray:
        """(len, width) values of the rows kept."""
        return self._values[: self._count]

    def clear(self, width: int | None = None) -> None:
        """Forget every row; rows of ``width`` values from now on (or the same width)."""
        if width is not None and width != self.width:
            self._values = np.empty((self.capacity, width))
        self._count, self.stride, self.offered = 0, 1, 0

    def extend(self, epochs: Sequence[float], rows: Sequence[Sequence[float]]) -> None:
        """Offer rows (one per epoch, in order); those on the stride are kept. Rows of another
        width than the table's start it over."""
        if len(rows) and len(rows[0]) != self.width:
            self.clear(len(rows[0]))
        for epoch, row in zip(epochs, rows, strict=True):
            if self.offered % self.stride == 0:
                if self._count == self.capacity:
                    self._halve()  # the stride doubles; this row is still on it (the capacity is even)
                self._epochs[self._count] = epoch
                self._values[self._count] = row
                self._count += 1
            self.offered += 1

    def _halve(self) -> None:
        """Keep every other row (the first, the third, …): the stride doubles."""
        half = self._count // 2
        self._epochs[:half] = self._epochs[: self._count : 2]
        self._values[:half] = self._values[: self._count : 2]
        self._count, self.stride = half, 2 * self.stride


def _number(value: float | None) -> float:
    return math.nan if value is None else value
