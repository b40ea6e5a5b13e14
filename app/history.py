"""The per-epoch record of the current run, kept by the GUI thread for the plots.

The worker's reports are appended here as they arrive (the GUI slot does nothing else);
plots redraw from these columns on a timer. Every completed epoch is kept, none dropped,
as the engine keeps them (:class:`core.run_record.RunRecord`: seven float64 numbers an
epoch, columns grown by doubling, so a million epochs take 56 MiB).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.run_record import RunRecord
from core.trainer import Report


@dataclass(frozen=True)
class Marker:
    """A vertical mark on the epoch axis: a setting changed, or training diverged.

    ``position`` is in epochs done (5.4 = after 5 epochs and 40 % of the sixth);
    ``kind`` is "setting" or "diverged".
    """

    position: float
    text: str
    kind: str


class RunHistory(RunRecord):
    """Epoch series of one run: ``column(name)`` is a float64 (count,) view, NaN where a
    report had no value (no validation part). ``version`` changes on every edit, ``run``
    on every :meth:`clear`, so views can tell what they already drew."""

    def __init__(self) -> None:
        super().__init__()
        self.version = 0
        self.run = 0
        self.markers: list[Marker] = []

    @property
    def count(self) -> int:
        """Epochs recorded."""
        return len(self)

    def clear(self, metric_name: str = "accuracy") -> None:
        """Forget everything: a new run starts (its metric is ``metric_name``)."""
        super().clear(metric_name)
        self.markers = []
        self.run += 1
        self.version += 1

    def extend(self, reports: Iterable[Report]) -> None:
        """Append completed epoch reports, in order."""
        super().extend(reports)
        self.version += 1

    def add_marker(self, marker: Marker) -> None:
        self.markers.append(marker)
        self.version += 1
