"""Autosave: unsaved work written to the application-data folder, off the GUI thread, and
offered back at the next start after a crash or a kill.

While the window has unsaved changes, :class:`Autosave` writes the session as an ordinary
``.epochlab`` within ``FIRST_SECONDS`` of the first change, then every ``EVERY_SECONDS``
while changes go on, to ``autosave/autosave-{pid}.epochlab`` under
``QStandardPaths.AppDataLocation``. The window's ``capture`` asks the trainer process for
its state and, when it arrives, takes a :class:`~app.session_io.SessionSnapshot` in the GUI
thread (training never waits: the process sends its state between two mini-batches and
goes on); a Python thread writes it (atomically: a kill while writing leaves the previous
autosave whole). A clean exit, a save and a discard remove the file; a crash, a kill or a
close without the question (a signal) leave it, and the next start finds it
(:func:`orphans`: files of processes no longer running) and offers Recover / Discard / Later.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal, Slot

from .session_io import SessionSnapshot

FIRST_SECONDS = 5.0  # from the first unsaved change to the first autosave (at most 10 s, as promised)
EVERY_SECONDS = 30.0  # between autosaves while changes go on
FOLDER_NAME = "autosave"
FILE_PATTERN = re.compile(r"autosave-(\d+)\.epochlab")

Capture = Callable[[Callable[[SessionSnapshot | None], None]], None]


def default_folder() -> Path | None:
    """``autosave/`` in the platform's application-data folder; None while QStandardPaths is in
    test mode (a test that wants autosave names its folder)."""
    if QStandardPaths.isTestModeEnabled():
        return None
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)) / FOLDER_NAME


def orphans(folder: Path | None) -> list[Path]:
    """The autosaves in ``folder`` left by processes that are not running any more, newest first."""
    if folder is None or not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = FILE_PATTERN.fullmatch(path.name)
        if match and path.is_file() and int(match.group(1)) != os.getpid() and not _running(int(match.group(1))):
            found.append(path)
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


class Autosave(QObject):
    """Writes the window's unsaved session to ``folder`` (None: never) as the module docstring says.

    ``capture(callback)`` must call ``callback(snapshot)`` later in the GUI thread, with None
    when no snapshot could be taken (the trainer did not answer).
    """

    saved = Signal(str)  # the autosave file written
    failed = Signal(str)  # why an autosave could not be written
    _written = Signal(str)  # from the writing thread: "" or the problem

    def __init__(self, capture: Capture, folder: Path | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._capture = capture
        self.folder = folder
        self.path = None if folder is None else folder / f"autosave-{os.getpid()}.epochlab"
        self._first, self._every = FIRST_SECONDS, EVERY_SECONDS
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._due)
        self._written.connect(self._on_written)
        self._dirty = False
        self._busy = False  # a snapshot is being taken or written
        self._last: float | None = None  # monotonic time of the last autosave since the work was last clean
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._round = 0  # counts clean(): a snapshot asked for before the work was saved is not written

    @property
    def pending(self) -> bool:
        """Whether an autosave is due or under way."""
        return self._timer.isActive() or self._busy

    def changed(self) -> None:
        """The session has changed since it was last saved: autosave soon."""
        if self.path is None or self._stopped:
            return
        self._dirty = True
        self._schedule()

    def clean(self) -> None:
        """The work is saved (or discarded): no autosave is needed, the old one goes."""
        self._dirty = False
        self._last = None
        self._round += 1
        self._timer.stop()
        self._join()
        self._remove()

    def stop(self, remove: bool) -> None:
        """No more autosaves (the window closes); the file stays for recovery unless ``remove``."""
        self._stopped = True
        self._timer.stop()
        self._join()
        if remove:
            self._remove()

    def _schedule(self) -> None:
        if self._timer.isActive() or self._busy:
            return
        wait = self._first if self._last is None else max(0.0, self._last + self._every - time.monotonic())
        self._timer.start(round(wait * 1000))

    @Slot()
    def _due(self) -> None:
        self._dirty = False
        self._busy = True
        self._last = time.monotonic()
        round_ = self._round
        self._capture(lambda snapshot: self._write(snapshot, round_))

    def _write(self, snapshot: SessionSnapshot | None, round_: int) -> None:
        """Write ``snapshot`` in a thread of its own (GUI thread: the capture's callback)."""
        if snapshot is None or self._stopped or round_ != self._round:
            self._busy = False
            if snapshot is None and not self._stopped:
                self.failed.emit("the trainer did not send its state in time; the next autosave tries again")
                self._dirty = True
                self._schedule()
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._write_file, args=(snapshot,), name="EpochLabAutosave")
        self._thread.start()

    def _write_file(self, snapshot: SessionSnapshot) -> None:
        """(writing thread) Write, and say how it went."""
        try:
            snapshot.write(self.path)
        except Exception as exc:  # the disk, the file system, a value JSON refuses: told, never raised here
            self._written.emit(f"{exc.__class__.__name__}: {exc}" if not str(exc) else str(exc))
        else:
            self._written.emit("")

    @Slot(str)
    def _on_written(self, problem: str) -> None:
        self._join()
        self._busy = False
        if problem:
            self.failed.emit(f"the autosave could not be written: {problem}")
        else:
            self.saved.emit(str(self.path))
        if self._dirty:
            self._schedule()

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _remove(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
