"""The window's redraw scheduler: frames at a fixed rate, every shown stale view in each.

Data reach the views as they arrive (the GUI slots only store them); drawing happens here,
at most ``FRAME_MS`` apart. A frame first runs the frame callbacks (the toolbar's epoch
counter, the layer table: the run's numbers), then refreshes every view that is on screen
and has something new, so all of them show the same moment of the run in one frame. A
view tabbed behind another is not drawn at all: it draws when it comes forward (its dock's
``visibilityChanged`` schedules a frame), at its real size.

The trainer's numerics run in a child process (:mod:`app.worker`), so drawing here takes
nothing from training; the rate is capped only to leave the GUI idle between frames.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from .views.common import LiveView, is_shown

FRAME_MS = 33  # at most ~30 frames a second


class RedrawScheduler(QObject):
    """Draws ``views`` (added with :meth:`add`) in frames, on demand (:meth:`schedule`)."""

    frameDrawn = Signal(float)  # seconds the frame took (GUI thread), for benchmarks and tests

    def __init__(self, parent: QObject | None = None, frame_ms: int = FRAME_MS):
        super().__init__(parent)
        self.views: list[LiveView] = []
        self._callbacks: list[Callable[[], None]] = []
        self._frame_ms = frame_ms
        self._last_frame = -float("inf")  # perf_counter() at the start of the last frame
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.draw_frame)

    def add(self, view: LiveView) -> None:
        self.views.append(view)

    def add_frame_callback(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` at the start of every frame (cheap updates of labels and tables)."""
        self._callbacks.append(callback)

    @Slot()
    def schedule(self) -> None:
        """Ask for a frame: it comes ``FRAME_MS`` after the last one (at once if that was longer
        ago), so data that arrive steadily are drawn at the full frame rate; asking again before
        it comes is free."""
        if not self._timer.isActive():
            since = (time.perf_counter() - self._last_frame) * 1000
            self._timer.start(round(min(max(self._frame_ms - since, 0), self._frame_ms)))

    def stop(self) -> None:
        self._timer.stop()

    @Slot()
    def draw_frame(self) -> None:
        """One frame: the callbacks, then every shown view with something new."""
        started = self._last_frame = time.perf_counter()
        for callback in self._callbacks:
            callback()
        for view in self.views:
            if view.stale() and is_shown(view):
                view.refresh()
        self.frameDrawn.emit(time.perf_counter() - started)
