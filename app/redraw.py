"""The window's redraw scheduler: frames at a fixed rate, every shown stale view in each.

Data reach the views as they arrive (the GUI slots only store them); drawing happens here,
at most ``FRAME_MS`` apart. A frame first runs the frame callbacks (the toolbar's epoch
counter, the layer table: the run's numbers), then refreshes every view that is on screen
and has something new. A view tabbed behind another is not drawn at all: it draws when it
comes forward (its dock's ``visibilityChanged`` schedules a frame), at its real size.

A frame draws its views one per turn of the event loop: Qt paints the view just refreshed,
and answers the keyboard, mouse and trainer, before the next is refreshed. The views of a
frame show the same probe round and epochs within a few milliseconds of each other, and no
turn takes longer than the costliest single view: with every view on screen, a frame in
which the epoch axes step draws 5-6 axes again and took 35-40 ms of GUI time, 60-75 ms
next to the trainer on two CPUs (measured here).

The trainer's numerics run in a child process (:mod:`app.worker`); the rate is capped to
leave the GUI, which shares the machine with it, idle between frames.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from .views.common import LiveView, is_shown

FRAME_MS = 33  # at most ~30 frames a second


class RedrawScheduler(QObject):
    """Draws ``views`` (added with :meth:`add`) in frames, on demand (:meth:`schedule`)."""

    frameDrawn = Signal(float)  # seconds the frame's callbacks and refresh() calls took (GUI thread), for benchmarks and tests

    def __init__(self, parent: QObject | None = None, frame_ms: int = FRAME_MS):
        super().__init__(parent)
        self.views: list[LiveView] = []
        self._callbacks: list[Callable[[], None]] = []
        self._frame_ms = frame_ms
        self._last_frame = -float("inf")  # perf_counter() at the start of the last frame
        self._queue: list[LiveView] = []  # the views the frame being drawn has still to refresh
        self._seconds = 0.0  # what the frame being drawn has taken so far
        self._asked = False  # a frame was asked for while one was being drawn
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.draw_frame)
        self._turn = QTimer(self)  # the next view of a frame, at the next turn of the event loop
        self._turn.setSingleShot(True)
        self._turn.setInterval(0)
        self._turn.timeout.connect(self._draw_next)

    def add(self, view: LiveView) -> None:
        self.views.append(view)

    def add_frame_callback(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` at the start of every frame (cheap updates of labels and tables)."""
        self._callbacks.append(callback)

    @Slot()
    def schedule(self) -> None:
        """Ask for a frame: it comes ``FRAME_MS`` after the last one started (at once if that
        was longer ago, or once the frame being drawn is done), so data that arrive steadily
        are drawn at the full frame rate; asking again before it comes is free."""
        if self._queue:
            self._asked = True
        elif not self._timer.isActive():
            since = (time.perf_counter() - self._last_frame) * 1000
            self._timer.start(round(min(max(self._frame_ms - since, 0), self._frame_ms)))

    def stop(self) -> None:
        self._timer.stop()
        self._turn.stop()
        self._queue = []
        self._asked = False

    @Slot()
    def draw_frame(self) -> None:
        """Start a frame: the callbacks, then every shown view with something new (the first
        now, each of the others at a later turn of the event loop)."""
        started = self._last_frame = time.perf_counter()
        for callback in self._callbacks:
            callback()
        self._seconds = time.perf_counter() - started
        self._queue = [view for view in self.views if view.stale() and is_shown(view)]
        self._draw_next()

    @Slot()
    def _draw_next(self) -> None:
        """Refresh the frame's next view that is still shown and stale; the last one ends the frame."""
        while self._queue:
            view = self._queue.pop(0)
            if view.stale() and is_shown(view):
                started = time.perf_counter()
                view.refresh()
                self._seconds += time.perf_counter() - started
                if self._queue:
                    self._turn.start()
                    return
        self.frameDrawn.emit(self._seconds)
        if self._asked:
            self._asked = False
            self.schedule()
