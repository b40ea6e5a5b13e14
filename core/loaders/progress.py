"""Progress reports and cancellation for long loads.

A loader calls :meth:`Monitor.update` between pieces of work (a chunk of rows, an
image). The monitor forwards ``(fraction, message)`` to the caller's progress callback
(at most every 0.5 % unless the message changes) and raises :class:`LoadCancelled` when
the caller's ``threading.Event`` is set or the callback returned ``False``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .errors import LoadCancelled

ProgressCallback = Callable[[float, str], "bool | None"]
"""``progress(fraction, message)``: fraction in [0, 1]; return False to cancel."""


class Monitor:
    """Progress forwarding and cancellation checks for one load.

    Args:
        progress: called with (fraction in [0, 1], short message); returning False cancels.
        cancel: an event another thread may set to cancel the load.
    """

    def __init__(self, progress: ProgressCallback | None = None, cancel: threading.Event | None = None):
        self._progress, self._cancel = progress, cancel
        self._last_fraction, self._last_message = -1.0, None

    def check(self) -> None:
        """Raise LoadCancelled when cancellation was asked for."""
        if self._cancel is not None and self._cancel.is_set():
            raise LoadCancelled("loading was cancelled")

    def update(self, fraction: float, message: str = "") -> None:
        """Report ``fraction`` done (clipped to [0, 1], never less than before); raise
        LoadCancelled when asked to stop."""
        self.check()
        fraction = min(max(float(fraction), self._last_fraction, 0.0), 1.0)
        if self._progress is None:
            return
        if fraction - self._last_fraction < 0.005 and fraction < 1.0 and message == self._last_message:
            return
        self._last_fraction, self._last_message = fraction, message
        if self._progress(fraction, message) is False:
            raise LoadCancelled("loading was cancelled")
