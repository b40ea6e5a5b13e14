"""The trainer thread, and the trainer's process behind it.

::

    GUI thread                      trainer thread (QThread)       trainer process (app.trainer_process)
    TrainerController  ─────────── commands, a pipe ──────────────▶  listener thread ─▶ TrainerServer:
      play / pause / step / load / ...                                trains in its main thread,
      _relay (@Slot) ◀── received ── TrainerWorker ◀── messages ───   runs the probes
      re-emits epochsReady, probed, ...   reads, unpickles, a pipe

The numerics run in a child process, one per controller (per window), reused across loads:
in one process the trainer thread and the GUI thread take turns on the GIL (PySide6 holds
it while painting), so any continuous painting cut training to a third of its speed. The
window still sees what it saw before: a controller in the GUI thread whose methods are
commands and whose signals report every epoch, fed by a worker in a ``QThread``.

* ``load(trainer, target, state)`` takes a trainer built (but not trained) in the GUI thread
  and sends its :class:`~app.trainer_process.TrainerRecipe`, from which the child builds the
  same trainer bit for bit, then restores it from ``state`` (a
  :class:`~core.trainer_state.TrainerState`) when one is given; the dataset is sent only
  when it changes. The GUI thread never holds a live trainer again.
* ``request_state(tag)`` asks for the trainer's full state (``stateReady(tag, state)``);
  ``set_checkpoint_interval(n)`` has the states after every n-th epoch come as
  ``checkpointsReady`` right after their epochs; ``preview(state)`` shows a checkpoint in
  the views (probe results of its epoch) without disturbing the trainer.
* Commands are tuples written to the child's command pipe from the GUI thread (small and
  quick; the child's listener thread reads them at once). Pause, steps, settings and the
  like cut a running epoch after its current mini-batch (see ``app.trainer_process``).
* The worker (trainer thread) reads the child's messages ``(generation, signal, args)``
  and emits each as ``received``; the controller's one slot :meth:`TrainerController._relay`
  drops those about an older trainer (every load gets a new generation number, so a reset
  never mixes two runs) and re-emits the rest as its own signal of that name. Connect only
  GUI-thread slots to the controller's signals.
* The child is started with the "forkserver" method where there is one (never "fork": this
  process runs Qt threads), "spawn" elsewhere. The fork server starts with the first
  controller (0.3-0.4 s here) and preloads NumPy and the engine (``PRELOAD``), so a later
  child answers its first command ~30 ms after the controller is made. As in any
  multiprocessing program, each child first imports the main script again (not a
  ``python -m`` module): a script that opens windows needs the ``if __name__ == "__main__":``
  guard, and its imports cost each child their time (``main.py`` imports almost nothing).
  The child's BLAS leaves one CPU to the GUI (:func:`_trainer_environment`). A child gets
  its own CUDA context when it uses CuPy (the fork server never touches CUDA). The fork
  server and every child ignore SIGINT (:func:`_trainer_environment`): Ctrl-C in a terminal
  signals the whole process group, and the window, not a KeyboardInterrupt in some child,
  decides how they end (app.gui).
* If the child dies (killed, out of memory), ``failed`` says so and the next ``load``
  (Reset) starts a new one with the same probes. ``shutdown`` ends the child (terminated
  when it does not exit within ``EXIT_SECONDS``) and the thread.
* However the application ends, every controller is shut down: when its window closes,
  when the QApplication quits (``aboutToQuit``), and when the interpreter exits without
  either (``sys.exit`` in a slot ends Python from inside Qt's event loop): an ``atexit``
  hook; until then the controller is kept alive. No trainer thread is destroyed running,
  no trainer process outlives the window.
* ``load`` is all or nothing: its commands are pickled before any is sent, so when that
  fails (MemoryError for a large dataset) the trainer process still trains the old run.

Probes (:class:`Probe`) are registered here and computed in the child; each result arrives
as a :class:`ProbeResult` that says which epoch and mini-batch it shows.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import pickle
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from core.data import Dataset
from core.trainer import Trainer
from core.trainer_state import TrainerState

from . import trainer_process
from .trainer_process import Probe, ProbeResult, TrainerRecipe, weight_matrices

__all__ = ["Probe", "ProbeResult", "TrainerController", "TrainerWorker", "weight_matrices"]

EXIT_SECONDS = 0.2  # how long shutdown waits for the trainer process to exit before terminating it
PRELOAD = ["app.trainer_process", "core.insight"]  # imported once by the fork server, inherited by every child
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
LOST_MESSAGE = "the trainer process stopped unexpectedly (out of memory, or killed); press Reset to start again"
# Every controller not shut down yet, held here: one whose window went without closing must not be collected
# (Qt aborts the program when a running QThread is destroyed); the exit hook below ends it.
_RUNNING_CONTROLLERS: set[TrainerController] = set()


@atexit.register
def _shut_down_controllers() -> None:
    """At interpreter exit, end every trainer thread and process still running (runs before
    multiprocessing's own exit hook, registered earlier, when this module imported it)."""
    for controller in list(_RUNNING_CONTROLLERS):
        controller.shutdown()


def _context() -> multiprocessing.context.BaseContext:
    """The way to start a trainer process: forkserver (preloaded) where there is one, else spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # used when the server starts, the first time only
    return context


@contextmanager
def _trainer_environment() -> Iterator[None]:
    """While a trainer process (or the fork server) starts: its BLAS gets all CPUs but one,
    which the GUI thread needs, unless the user chose a thread count. Measured here (2 CPUs,
    digits 64-128-64-10): NumPy's OpenBLAS with 2 threads trains no faster headless than
    with one, but in the window its threads' spinning against the GUI thread cut training
    to 17-49 % of headless; with one thread, 80-87 %.

    SIGINT is ignored meanwhile (in the main thread, the only one that may say so), and a
    process started while it is ignored keeps ignoring it: an ignored signal stays ignored
    through fork and exec, Python then installs no KeyboardInterrupt handler, and the fork
    server gives its children the disposition it started with. A Ctrl-C in these few
    milliseconds is lost."""
    threads = str(max(1, (os.cpu_count() or 1) - 1))
    added = [name for name in BLAS_THREAD_VARIABLES if name not in os.environ]
    os.environ.update(dict.fromkeys(added, threads))
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous_handler = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main_thread else None
    try:
        yield
    finally:
        if in_main_thread:  # a handler set outside Python reads as None: the default then
            signal.signal(signal.SIGINT, signal.SIG_DFL if previous_handler is None else previous_handler)
        for name in added:
            del os.environ[name]


class TrainerWorker(QObject):
    """Lives in the trainer thread: reads the trainer process's messages and emits each,
    in order, as ``received``; when the process is gone (its pipe ends) the thread ends."""

    received = Signal(object)  # (generation or None, controller signal name, args)

    def __init__(self, messages: Connection) -> None:
        super().__init__()
        self._messages = messages
        self.stopping = threading.Event()  # set before the controller ends the process: its end is no news
        self.ended = threading.Event()  # the process's end of the pipe has closed: it has exited, or is exiting

    @Slot()
    def run(self) -> None:
        """Relay until the process's end of the pipe closes, then end the thread."""
        while True:
            try:
                data = self._messages.recv_bytes()
            except (EOFError, OSError):
                break
            try:
                message = pickle.loads(data)
            except Exception as exc:  # data of a class this process cannot import, say
                message = (None, "failed", (f"a message from the trainer process could not be read: {exc.__class__.__name__}: {exc}",))
            self.received.emit(message)
        self._messages.close()
        self.ended.set()
        if not self.stopping.is_set():
            self.received.emit((None, "playingChanged", (False, "error")))
            self.received.emit((None, "failed", (LOST_MESSAGE,)))
        self.moveToThread(QCoreApplication.instance().thread())
        QThread.currentThread().quit()


class TrainerController(QObject):
    """The GUI thread's handle on the trainer: commands as methods, results as signals.

    Its signals are emitted in the GUI thread, only for the trainer loaded last.
    """

    epochsReady = Signal(object)  # list[Report] of completed epochs, in order
    partialReport = Signal(object)  # Report of an unfinished epoch (stepped or cut by a command)
    diverged = Signal(object)  # Report with ``diverged`` set; training has paused
    playingChanged = Signal(bool, str)  # playing, why it stopped ("", "target", "diverged", "error")
    settingApplied = Signal(str, float, float)  # setting name, value, epochs done when it applied
    parameterEdited = Signal(int, str, object, float, float)  # layer, "W" | "b", index tuple, value stored, epochs done
    probed = Signal(object)  # ProbeResult
    stateReady = Signal(str, object)  # the tag of request_state, the TrainerState (None without a trainer)
    checkpointsReady = Signal(object)  # list[TrainerState] after the epochs of the epochsReady just before
    modelSaved = Signal(str)
    failed = Signal(str)

    RELAYED = frozenset({"epochsReady", "partialReport", "diverged", "playingChanged", "settingApplied", "parameterEdited",
                         "probed", "stateReady", "checkpointsReady", "modelSaved", "failed"})

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._generation = 0
        self._closed = False
        self.playing = False
        self._probes: dict[str, Probe] = {}  # as registered, enabled and configured: a new process gets them again
        self._speed = 0.0
        self._checkpoint_interval = 0
        self._start_process()
        _RUNNING_CONTROLLERS.add(self)
        QCoreApplication.instance().aboutToQuit.connect(self.shutdown)

    # ----- commands (GUI thread) ----------------------------------------------------------------
    def load(self, trainer: Trainer | None, target: int, state: TrainerState | None = None) -> None:
        """Hand over a new trainer that has not trained yet (or none), paused, to be restored
        from ``state`` when given; anything still coming about the old one is dropped. The
        trainer is not used here again. Raises (MemoryError, say) before anything is sent:
        then the old trainer goes on as it was."""
        if self._closed:
            return
        if self.worker.ended.is_set():
            self._restart_process()
        recipe = TrainerRecipe.of(trainer) if trainer is not None else None
        new_data = trainer is not None and trainer.dataset is not self._dataset
        commands = [("set_dataset", trainer.dataset)] if new_data else []
        commands.append(("load", self._generation + 1, recipe, target, state))
        packed = [ForkingPickler.dumps(command) for command in commands]
        for data in packed:
            self._send_packed(data)
        self._generation += 1
        if new_data:
            self._dataset = trainer.dataset
        if self.playing:
            self.playing = False
            self.playingChanged.emit(False, "")

    def play(self) -> None:
        self._send("play")

    def pause(self) -> None:
        """Stop playing after the current mini-batch."""
        self._send("pause")

    def step_epoch(self) -> None:
        """Run the rest of the current epoch (pausing first when playing)."""
        self._send("step_epoch")

    def step_batch(self) -> None:
        """Run the next mini-batch (pausing first when playing)."""
        self._send("step_batch")

    def set_setting(self, name: str, value: float) -> None:
        """Change a live optimizer setting (``core.trainer.Trainer.set_setting``) from the next mini-batch on;
        ``settingApplied`` confirms, with the point in the run where it applied."""
        self._send("set_setting", name, value)

    def edit_parameter(self, layer: int, name: str, index: tuple[int, ...], value: float) -> None:
        """Set one number of the network by hand (``core.trainer.Trainer.edit_parameter``: parameter
        ``name`` "W" or "b" of ``network.layers[layer]`` at ``index``, W (unit, input), b (unit,),
        0-based), between mini-batches even while playing; ``parameterEdited(layer, name, index,
        stored value, epochs done)`` confirms and the enabled probes run again at once, or
        ``failed`` says in one line why it cannot be set."""
        self._send("set_parameter", layer, name, tuple(index), value)

    def request_state(self, tag: str) -> None:
        """Ask for the trainer's full state now: ``stateReady(tag, state)`` answers, after every
        epoch the state includes."""
        self._send("request_state", tag)

    def set_checkpoint_interval(self, interval: int) -> None:
        """Have the state after every complete epoch that is a multiple of ``interval`` sent as
        ``checkpointsReady`` (0: none)."""
        self._checkpoint_interval = interval
        self._send("set_checkpoint_interval", interval)

    def preview(self, state: TrainerState | None) -> None:
        """Show ``state`` (a checkpoint) in the views: the enabled probes run on it and say its
        epoch; the trainer stays as it was. None: show the trainer as it is again."""
        self._send("preview", state)

    def set_target(self, epochs: int) -> None:
        """Stop playing when ``epochs`` epochs are done."""
        self._send("set_target", epochs)

    def set_speed(self, epochs_per_second: float) -> None:
        """Epochs per second while playing; 0 means as fast as possible."""
        self._speed = epochs_per_second
        self._send("set_speed", epochs_per_second)

    def add_probe(self, probe: Probe) -> None:
        """Register ``probe`` (its ``compute`` must pickle: see :class:`Probe`)."""
        try:
            pickle.dumps(probe.compute)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise TypeError(f"probe {probe.name!r}: its compute must be a module-level function or an instance of a "
                            f"module-level class, to run in the trainer process ({exc})") from None
        self._probes[probe.name] = probe
        self._send("add_probe", probe)

    def set_probe_enabled(self, name: str, enabled: bool) -> None:
        """Run probe ``name`` from now on (once at once) or no more."""
        self._probes[name].enabled = enabled
        self._send("set_probe_enabled", name, enabled)

    def configure_probe(self, name: str, **attributes: Any) -> None:
        """Set ``attributes`` on probe ``name``'s compute object, in the trainer process where it
        runs; the probe runs at once if enabled (e.g. ``configure_probe("activations", index=3)``)."""
        compute = self._probes[name].compute
        for key, value in attributes.items():
            setattr(compute, key, value)
        self._send("configure_probe", name, attributes)

    @property
    def enabled_probes(self) -> frozenset[str]:
        """The names of the probes enabled now."""
        return frozenset(name for name, probe in self._probes.items() if probe.enabled)

    def save_model(self, path: str) -> None:
        """Write the network as it is now to the model file ``path``; ``modelSaved`` or ``failed`` answers."""
        self._send("save_model", path)

    @property
    def process_id(self) -> int | None:
        """The trainer process's id; None once shut down."""
        return None if self._closed else self._process.pid

    def shutdown(self) -> None:
        """Stop training, end the trainer process and join the thread (idempotent; quick,
        even in the middle of a long epoch)."""
        if self._closed:
            return
        self._closed = True
        _RUNNING_CONTROLLERS.discard(self)
        self._stop_process()

    def _send(self, *command: Any) -> None:
        self._send_packed(ForkingPickler.dumps(command))

    def _send_packed(self, data: memoryview) -> None:
        """Write one pickled command to the trainer process."""
        if self._closed:
            return
        try:
            self._commands.send_bytes(data)
        except OSError:  # the process is gone: the worker says so
            pass

    # ----- the process --------------------------------------------------------------------------
    def _start_process(self) -> None:
        context = _context()
        child_commands, self._commands = context.Pipe(duplex=False)
        self._messages, child_messages = context.Pipe(duplex=False)
        self._process = context.Process(target=trainer_process.serve, args=(child_commands, child_messages),
                                        name="EpochLabTrainer", daemon=True)
        with _trainer_environment():
            self._process.start()
        child_commands.close()  # the child holds these ends now; its exit closes the message pipe
        child_messages.close()
        self._dataset: Dataset | None = None  # the dataset the process has
        self._thread = QThread()
        self._thread.setObjectName("EpochLabTrainer")
        self.worker = TrainerWorker(self._messages)
        self.worker.moveToThread(self._thread)
        self._thread.started.connect(self.worker.run)
        self.worker.received.connect(self._relay)
        self._thread.start()

    def _stop_process(self) -> None:
        self.worker.stopping.set()
        try:
            self._commands.send(("shutdown",))
        except OSError:
            pass
        self._commands.close()
        self._process.join(EXIT_SECONDS)
        if self._process.exitcode is None:  # in a long mini-batch: nothing there needs keeping
            self._process.terminate()
            self._process.join(EXIT_SECONDS)
        if self._process.exitcode is None:
            self._process.kill()
            self._process.join()
        self._process.close()
        self._thread.wait()  # the process's exit ended the pipe, so the worker has ended the thread

    def _restart_process(self) -> None:
        """A new process in place of one that died, told the speed, checkpoint interval and probes again."""
        self._stop_process()
        self._start_process()
        self._send("set_speed", self._speed)
        self._send("set_checkpoint_interval", self._checkpoint_interval)
        for probe in self._probes.values():
            self._send("add_probe", probe)

    # ----- results (GUI thread) -----------------------------------------------------------------
    @Slot(object)
    def _relay(self, message: tuple[int | None, str, tuple]) -> None:
        """Re-emit a message of the worker as the signal it names, unless it is about an older
        trainer (or comes from the worker of a process that died and was replaced)."""
        generation, name, args = message
        if self._closed or generation not in (None, self._generation) or name not in self.RELAYED or self.sender() is not self.worker:
            return
        if name == "playingChanged":
            self.playing = args[0]
        getattr(self, name).emit(*args)
