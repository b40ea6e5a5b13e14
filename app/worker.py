"""The trainer thread: a worker that runs a ``core.trainer.Trainer`` one epoch per turn.

::

    GUI thread                                   worker thread (QThread event loop)
    TrainerController  ── queued signals ──▶    TrainerWorker
      play / pause / step / load / ...             slots; one epoch per turn, the next
      (re-emits, GUI thread) ◀── queued ───        turn re-queued on a zero-delay timer

Each turn of the worker's event loop runs an epoch, then returns to the loop and re-queues
the next turn with a timer (zero delay, or the delay of the chosen speed), so the control
slots (pause, step, set a learning rate) run between epochs with no polling. Returning to
the event loop releases the GIL (an explicit ``time.sleep(0)`` costs ~75 µs a call here,
7 % of a default epoch, for nothing more). When epochs are very short (the default spiral
trains ~1000 a second) a turn at full speed runs epochs back to back for up to
``SLICE_SECONDS``, but ends after the epoch in progress as soon as a command arrives (the
controller raises a thread-safe flag with every command), so every command still takes
effect at the next epoch boundary. To cut a long epoch short,
:meth:`TrainerWorker.interrupt` (thread-safe) sets an event and asks the trainer to stop
between mini-batches; the next epoch call continues where it stopped.

The GUI thread paints pyqtgraph views from Python, so it needs the GIL the trainer holds
between NumPy calls, and a frame takes and gives it back at each of its many Python calls.
Two things keep frames short: the controller lowers the interpreter's switch interval
(``GIL_SWITCH_SECONDS``), so the GUI gets the GIL back within a fraction of a millisecond
instead of 5 ms, and while the GUI draws (inside :meth:`TrainerController.drawing`) the
worker waits between epochs instead of starting the next one, for at most
``DRAW_WAIT_SECONDS``.

Completed epochs are sent in lists, flushed at most every ``FLUSH_SECONDS`` while playing
(at once when paused or stepping), so hundreds of epochs per second cost the GUI ~30 signals
a second and none is dropped. Views that need heavy data from the network (weights now;
the decision boundary later) register a :class:`Probe`: its function runs in the worker at
most every ``interval`` seconds while playing, after every step, and only while enabled.

Every trainer handed to the worker carries a generation number; the controller drops
anything the worker sent about an older trainer, so a reset never mixes two runs.
Connect only GUI-thread slots to the controller's signals.
"""

from __future__ import annotations

import math
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Signal, Slot

from core.files import FileFormatError, save_model
from core.trainer import ConfigError, Report, Trainer

FLUSH_SECONDS = 0.03  # send completed epochs to the GUI at most this often while playing
SLICE_SECONDS = 0.005  # at full speed, run epochs back to back in one turn for up to this long
GIL_SWITCH_SECONDS = 0.0005  # the interpreter's switch interval while the trainer thread exists (default 0.005)
DRAW_WAIT_SECONDS = 0.1  # the longest the worker waits between epochs for the GUI to finish drawing a frame
LIVE_SETTINGS = ("learning_rate", "momentum", "beta1", "beta2", "rho")  # optimizer settings changeable mid-run


@dataclass
class Probe:
    """View data computed from the trainer in the worker thread.

    ``compute(trainer)`` must return host data (copies, never live arrays); it runs at most
    every ``interval`` seconds while playing, after every step, reset and pause, and only
    while ``enabled``.
    """

    name: str
    compute: Callable[[Trainer], Any]
    interval: float
    enabled: bool = False
    last: float = -math.inf


def weight_matrices(trainer: Trainer) -> list[np.ndarray | None]:
    """Host copies of each layer's weight W (units n[l], inputs n[l-1]); None for layers without one."""
    return [params.get("W") for params in trainer.network.parameters_by_layer()]


class TrainerWorker(QObject):
    """Runs a trainer in its own thread; every slot runs there, between mini-batches or epochs."""

    epochsReady = Signal(int, object)  # generation, list[Report] of completed epochs, in order
    partialReport = Signal(int, object)  # generation, Report of an unfinished epoch (stepped or interrupted)
    diverged = Signal(int, object)  # generation, Report whose ``diverged`` says why
    playingChanged = Signal(int, bool, str)  # generation, playing, why it stopped ("", "target", "diverged", "error")
    settingApplied = Signal(int, str, float, float)  # generation, setting name, value, epochs done when applied
    probed = Signal(int, str, object)  # generation, probe name, its data
    modelSaved = Signal(str)
    failed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self._trainer: Trainer | None = None
        self._generation = 0
        self._playing = False
        self._halt = threading.Event()
        self.attention = threading.Event()  # set by the controller with every command: end the turn
        self.drawing_done = threading.Event()  # cleared while the GUI draws a frame
        self.drawing_done.set()
        self._target = 0
        self._seconds_per_epoch = 0.0
        self._pending: list[Report] = []
        self._last_flush = 0.0
        self._probes: dict[str, Probe] = {}
        self._timer = QTimer(self)  # a child: moves to the worker thread with its parent
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._turn)

    # ----- thread-safe ------------------------------------------------------------------------
    def interrupt(self) -> None:
        """Stop playing as soon as possible (call from any thread); the epoch in progress
        ends after its current mini-batch."""
        self._halt.set()
        self.cut_epoch()

    def cut_epoch(self) -> None:
        """End the epoch in progress after its current mini-batch, so that a command queued
        now runs before the next mini-batch; playing goes on with the rest of the epoch
        (call from any thread)."""
        trainer = self._trainer
        if trainer is not None:
            trainer.request_stop()

    # ----- slots (worker thread) ----------------------------------------------------------------
    @Slot(int, object, int)
    def load(self, generation: int, trainer: Trainer | None, target: int) -> None:
        """Take ``trainer`` (built in the GUI thread and never touched there again), paused."""
        self._set_playing(False)
        self._generation, self._trainer, self._target = generation, trainer, target
        self._pending.clear()
        self._playing_changed("")
        self._run_probes(force=True)

    @Slot()
    def play(self) -> None:
        self._halt.clear()
        if self._playing or self._trainer is None:
            return
        if self._trainer.epoch >= self._target:
            self._playing_changed("target")
            return
        self._set_playing(True)
        self._playing_changed("")
        self._timer.start(0)

    @Slot()
    def pause(self) -> None:
        if self._playing:
            self._stop_playing("")

    @Slot()
    def step_epoch(self) -> None:
        self._step(lambda trainer: trainer.run_epoch())

    @Slot()
    def step_batch(self) -> None:
        self._step(lambda trainer: trainer.step_batch())

    @Slot(str, float)
    def set_setting(self, name: str, value: float) -> None:
        """Change a live optimizer setting (one of LIVE_SETTINGS); applies at the next mini-batch."""
        trainer = self._trainer
        if trainer is None:
            return
        try:
            if name == "learning_rate":
                trainer.set_learning_rate(value)
            elif name in LIVE_SETTINGS and hasattr(trainer.optimizer, name):
                setattr(trainer.optimizer, name, float(value))
            else:
                return
        except ConfigError as exc:
            self.failed.emit(str(exc))
            return
        position = trainer.epoch + trainer.cursor / trainer.batches_per_epoch
        self.settingApplied.emit(self._generation, name, float(value), position)

    @Slot(int)
    def set_target(self, epochs: int) -> None:
        self._target = epochs

    @Slot(float)
    def set_speed(self, epochs_per_second: float) -> None:
        """Epochs per second while playing; 0 means as fast as possible."""
        self._seconds_per_epoch = 1.0 / epochs_per_second if epochs_per_second > 0 else 0.0
        if self._playing and self._timer.isActive():
            self._timer.start(0)

    @Slot(object)
    def add_probe(self, probe: Probe) -> None:
        self._probes[probe.name] = probe

    @Slot(str, bool)
    def set_probe_enabled(self, name: str, enabled: bool) -> None:
        probe = self._probes[name]
        probe.enabled = enabled
        if enabled:
            probe.last = -math.inf
            self._run_probes(force=False)

    @Slot(str)
    def save_model(self, path: str) -> None:
        if self._trainer is None:
            self.failed.emit("there is no network to save: fix the network settings first")
            return
        try:
            save_model(path, self._trainer.network)
        except (FileFormatError, OSError) as exc:
            self.failed.emit(f"the model could not be saved: {exc}")
            return
        self.modelSaved.emit(path)

    @Slot()
    def shutdown(self) -> None:
        """Stop, let go of the trainer, move back to the main thread and end this thread."""
        self._timer.stop()
        self._playing = False
        self._trainer = None
        thread = QThread.currentThread()
        self.moveToThread(QCoreApplication.instance().thread())
        thread.quit()

    # ----- work ---------------------------------------------------------------------------------
    def _set_playing(self, playing: bool) -> None:
        self._playing = playing
        if not playing:
            self._timer.stop()

    def _playing_changed(self, reason: str) -> None:
        self.playingChanged.emit(self._generation, self._playing, reason)

    def _stop_playing(self, reason: str) -> None:
        self._set_playing(False)
        self._flush()
        self._run_probes(force=True)
        self._playing_changed(reason)

    def _step(self, unit: Callable[[Trainer], Report]) -> None:
        if self._trainer is None:
            return
        if self._playing:
            self._stop_playing("")
        self._run(unit)
        self._flush()
        self._run_probes(force=True)

    @Slot()
    def _turn(self) -> None:
        """One turn of play: an epoch (or a slice of short ones), then the next turn is queued."""
        trainer = self._trainer
        if not self._playing or trainer is None:
            return
        if self.attention.is_set():  # a command was queued: let it run before any more training
            self.attention.clear()
            self._timer.start(0)
            return
        started = time.perf_counter()
        while True:
            self.drawing_done.wait(DRAW_WAIT_SECONDS)
            if self._halt.is_set():
                self._stop_playing("")
                return
            report = self._run(lambda t: t.run_epoch())
            if not self._playing:  # diverged or failed: already stopped
                return
            if report is not None and trainer.epoch >= self._target:
                self._stop_playing("target")
                return
            if self._seconds_per_epoch > 0 or self.attention.is_set() or time.perf_counter() - started >= SLICE_SECONDS:
                break
        if started - self._last_flush >= FLUSH_SECONDS or self._seconds_per_epoch >= FLUSH_SECONDS:
            self._flush()
        self._run_probes(force=False)
        delay = self._seconds_per_epoch - (time.perf_counter() - started)
        self._timer.start(max(0, round(delay * 1000)))

    def _run(self, unit: Callable[[Trainer], Report]) -> Report | None:
        """Run one unit of work and route its report; None when it raised."""
        try:
            report = unit(self._trainer)
        except Exception as exc:  # a bug, or memory: report it, keep the window alive
            traceback.print_exc(file=sys.stderr)
            self._stop_playing("error")
            self.failed.emit(f"training stopped by an internal error: {exc.__class__.__name__}: {exc}")
            return None
        if report.diverged:
            self._flush()
            self.diverged.emit(self._generation, report)
            self._stop_playing("diverged")
        elif report.complete:
            self._pending.append(report)
        else:
            self._flush()
            self.partialReport.emit(self._generation, report)
        return report

    def _flush(self) -> None:
        self._last_flush = time.perf_counter()
        if self._pending:
            reports, self._pending = self._pending, []
            self.epochsReady.emit(self._generation, reports)

    def _run_probes(self, force: bool) -> None:
        if self._trainer is None:
            return
        now = time.perf_counter()
        for probe in self._probes.values():
            if probe.enabled and (force or now - probe.last >= probe.interval):
                probe.last = now
                self.probed.emit(self._generation, probe.name, probe.compute(self._trainer))


class TrainerController(QObject):
    """The GUI thread's handle on the trainer thread: commands as methods, results as signals.

    Its signals are emitted in the GUI thread, only for the trainer loaded last.
    """

    epochsReady = Signal(object)  # list[Report] of completed epochs, in order
    partialReport = Signal(object)  # Report of an unfinished epoch
    diverged = Signal(object)  # Report with ``diverged`` set; training has paused
    playingChanged = Signal(bool, str)  # playing, why it stopped ("", "target", "diverged", "error")
    settingApplied = Signal(str, float, float)  # setting name, value, epochs done when it applied
    probed = Signal(str, object)  # probe name, its data
    modelSaved = Signal(str)
    failed = Signal(str)

    _load = Signal(int, object, int)
    _play = Signal()
    _pause = Signal()
    _step_epoch = Signal()
    _step_batch = Signal()
    _set_setting = Signal(str, float)
    _set_target = Signal(int)
    _set_speed = Signal(float)
    _add_probe = Signal(object)
    _set_probe_enabled = Signal(str, bool)
    _save_model = Signal(str)
    _shutdown = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._generation = 0
        self._closed = False
        self.playing = False
        self._holds = 0
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_SECONDS))
        self._thread = QThread()
        self._thread.setObjectName("EpochLabTrainer")
        self.worker = TrainerWorker()
        self.worker.moveToThread(self._thread)
        commands = {
            self._load: self.worker.load, self._play: self.worker.play, self._pause: self.worker.pause,
            self._step_epoch: self.worker.step_epoch, self._step_batch: self.worker.step_batch,
            self._set_setting: self.worker.set_setting, self._set_target: self.worker.set_target,
            self._set_speed: self.worker.set_speed, self._add_probe: self.worker.add_probe,
            self._set_probe_enabled: self.worker.set_probe_enabled, self._save_model: self.worker.save_model,
            self._shutdown: self.worker.shutdown,
        }
        for signal, slot in commands.items():
            signal.connect(slot)
        self.worker.epochsReady.connect(self._on_epochs)
        self.worker.partialReport.connect(self._on_partial)
        self.worker.diverged.connect(self._on_diverged)
        self.worker.playingChanged.connect(self._on_playing)
        self.worker.settingApplied.connect(self._on_setting)
        self.worker.probed.connect(self._on_probed)
        self.worker.modelSaved.connect(self._on_saved)
        self.worker.failed.connect(self._on_failed)
        self._thread.start()

    # ----- commands (GUI thread) ----------------------------------------------------------------
    def load(self, trainer: Trainer | None, target: int) -> None:
        """Hand over a new trainer (or none), paused; anything still coming from the old one is dropped."""
        if self._closed:
            return
        self.worker.interrupt()
        self._generation += 1
        self._load.emit(self._generation, trainer, target)
        if self.playing:
            self.playing = False
            self.playingChanged.emit(False, "")

    def play(self) -> None:
        self._send(self._play)

    def pause(self) -> None:
        if not self._closed:
            self.worker.interrupt()
        self._send(self._pause)

    def step_epoch(self) -> None:
        self._send(self._step_epoch)

    def step_batch(self) -> None:
        self._send(self._step_batch)

    def set_setting(self, name: str, value: float) -> None:
        """Change a live optimizer setting (see LIVE_SETTINGS) from the next mini-batch on;
        ``settingApplied`` confirms, with the point in the run where it applied."""
        if not self._closed:
            self.worker.cut_epoch()
        self._send(self._set_setting, name, value)

    def set_target(self, epochs: int) -> None:
        self._send(self._set_target, epochs)

    def set_speed(self, epochs_per_second: float) -> None:
        self._send(self._set_speed, epochs_per_second)

    def add_probe(self, probe: Probe) -> None:
        self._send(self._add_probe, probe)

    def set_probe_enabled(self, name: str, enabled: bool) -> None:
        self._send(self._set_probe_enabled, name, enabled)

    def save_model(self, path: str) -> None:
        self._send(self._save_model, path)

    @contextmanager
    def drawing(self) -> Iterator[None]:
        """While the GUI draws in this block (nesting allowed), the worker waits before its next epoch."""
        if self._holds == 0:
            self.worker.drawing_done.clear()
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1
            if self._holds == 0:
                self.worker.drawing_done.set()

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Stop training and join the thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.worker.interrupt()
        self.worker.drawing_done.set()
        self._shutdown.emit()
        self._thread.wait(timeout_ms)

    def _send(self, signal: Any, *args: Any) -> None:
        if not self._closed:
            signal.emit(*args)
            self.worker.attention.set()

    # ----- results (GUI thread) -----------------------------------------------------------------
    @Slot(int, object)
    def _on_epochs(self, generation: int, reports: list[Report]) -> None:
        if generation == self._generation:
            self.epochsReady.emit(reports)

    @Slot(int, object)
    def _on_partial(self, generation: int, report: Report) -> None:
        if generation == self._generation:
            self.partialReport.emit(report)

    @Slot(int, object)
    def _on_diverged(self, generation: int, report: Report) -> None:
        if generation == self._generation:
            self.diverged.emit(report)

    @Slot(int, bool, str)
    def _on_playing(self, generation: int, playing: bool, reason: str) -> None:
        if generation == self._generation:
            self.playing = playing
            self.playingChanged.emit(playing, reason)

    @Slot(int, str, float, float)
    def _on_setting(self, generation: int, name: str, value: float, position: float) -> None:
        if generation == self._generation:
            self.settingApplied.emit(name, value, position)

    @Slot(int, str, object)
    def _on_probed(self, generation: int, name: str, data: Any) -> None:
        if generation == self._generation:
            self.probed.emit(name, data)

    @Slot(str)
    def _on_saved(self, path: str) -> None:
        self.modelSaved.emit(path)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.failed.emit(message)
