"""The window's view of the session's current run, read by the plots.

:class:`RunHistory` holds no epochs of its own: it shows the current
:class:`~core.run.Run` of a :class:`~core.run.Session` (the one history the window, the
files and the CLI share). The worker's reports are appended to that run as they arrive
(the GUI slot does nothing else); plots redraw from its columns on a timer. Every completed
epoch is kept, none dropped (:class:`core.run_record.RunRecord`: seven float64 numbers an
epoch, columns grown by doubling, so a million epochs take 56 MiB).

Starting over (Reset, another network or setting, a branch) starts a new run in the session
(:meth:`RunHistory.clear`, :meth:`RunHistory.start_run`); the old runs stay there, for the
plots' faded curves and the runs table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from core.run import Marker, Run, Session
from core.trainer import Report

__all__ = ["Marker", "RunHistory"]


class RunHistory:
    """Epoch series of the session's current run: ``column(name)`` is a float64 (count,) view,
    NaN where a report had no value (no validation part). ``version`` changes on every edit of
    the session (the session's own ``version``), ``run`` whenever another run becomes the
    current one, so views can tell what they already drew."""

    def __init__(self, session: Session | None = None) -> None:
        self.run = 0
        self.session = session or Session()
        if self.session.current is None:
            self.session.start_run({}, "accuracy")

    # ----- which run ------------------------------------------------------------------------------
    @property
    def current(self) -> Run:
        """The run the window trains and shows."""
        return self.session.current

    def show_session(self, session: Session) -> None:
        """Show ``session`` (read from a file) instead: its current run from now on."""
        if session.current is None:
            session.start_run({}, "accuracy")
        self.session = session
        self.run += 1
        session.changed()

    def start_run(self, experiment: dict, metric_name: str, *, parent: Run | None = None, branch_epoch: int | None = None) -> Run:
        """A new current run of ``experiment`` (its JSON object) in the session; a branch of
        ``parent`` after ``branch_epoch`` epochs when given (see core.run.Session.start_run)."""
        run = self.session.start_run(experiment, metric_name, parent=parent, branch_epoch=branch_epoch)
        self.run += 1
        return run

    def clear(self, metric_name: str = "accuracy", experiment: dict | None = None) -> None:
        """Start a new run (its metric ``metric_name``) of ``experiment``, or of the same
        experiment as the current run; the old run stays in the session."""
        self.start_run(self.current.experiment if experiment is None else experiment, metric_name)

    # ----- the current run's record ---------------------------------------------------------------
    @property
    def version(self) -> int:
        return self.session.version

    @property
    def markers(self) -> list[Marker]:
        return self.current.markers

    @property
    def count(self) -> int:
        """Epochs recorded."""
        return len(self.current.record)

    def __len__(self) -> int:
        return self.count

    @property
    def metric_name(self) -> str:
        return self.current.record.metric_name

    @property
    def last(self) -> Report | None:
        return self.current.record.last

    @property
    def recent(self) -> tuple[Report, ...]:
        return self.current.record.recent

    def column(self, name: str) -> np.ndarray:
        return self.current.record.column(name)

    def row(self, index: int) -> dict[str, float]:
        return self.current.record.row(index)

    def total(self, name: str) -> float:
        return self.current.record.total(name)

    def records(self) -> Iterator[dict]:
        return self.current.record.records()

    def extend(self, reports: Iterable[Report]) -> None:
        """Append completed epoch reports, in order."""
        self.current.record.extend(reports)
        self.session.changed()

    def add_marker(self, marker: Marker) -> None:
        self.current.markers.append(marker)
        self.session.changed()
