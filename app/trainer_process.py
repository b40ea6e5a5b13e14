"""The trainer's own process: trains a ``core.trainer.Trainer`` and sends back what it did.

This is the child side of :mod:`app.worker` and imports no Qt (a child process loads this
module, never the window's). Two one-way pipes connect it to the window's process:

* commands, window → child: tuples ``(name, *args)``, each naming a public method of
  :class:`TrainerServer` (``"load"``, ``"play"``, ``"pause"``, ``"step_epoch"``,
  ``"request_state"``, ``"preview"``, ``"set_parameter"``, …), or ``("shutdown",)``;
* messages, child → window: tuples ``(generation, signal, args)``: the name of a signal of
  ``app.worker.TrainerController`` and its arguments, about the trainer loaded with that
  generation number, or ``generation`` None for what concerns no trainer (a saved model).

The child's main thread trains and runs the probes; a listener thread receives commands and
queues them, and the main thread takes them between epochs. A command that must not wait
for a long epoch to end (all but those in ``PASSIVE``) also asks the trainer to stop after
its current mini-batch (``Trainer.request_stop``), and asks again every
``STOP_RETRY_SECONDS`` until the main thread has taken it, since a request that lands
between two epochs is cleared when the next one starts. A cut epoch goes on where it
stopped, so steps stay exact.

Completed epochs are sent in lists, flushed about every ``FLUSH_SECONDS`` while playing (at
once when paused, stepping, or when epochs are slower than that), so hundreds of epochs a
second cost the window ~30 messages a second and none is dropped. Views that need heavy
data from the network register a :class:`Probe`: it runs here at most every ``interval``
seconds while playing, and after every step, load, pause and reconfiguration, only while
enabled; its :class:`ProbeResult` says which epoch and mini-batch it shows.

Trainer states (:class:`core.trainer_state.TrainerState`, host data) travel three ways: a
trainer is loaded restored from one (``load(..., state)``: an opened file, a branch); the
current one is sent on request (``stateReady``: Save, autosave), after the epochs it
follows; and checkpoints: after each complete epoch that is a multiple of the interval the
window set (``set_checkpoint_interval``), the state is kept and sent as
``checkpointsReady`` in the same flush as the epochs, right after them. ``preview(state)``
runs the enabled probes on another state (a checkpoint) and puts the trainer back exactly
as it was; those results say the checkpoint's epoch.

An exception in a command, an epoch or a probe (a bug, MemoryError) is reported as
``playingChanged(False, "error")`` and ``failed(message)``; the process keeps serving.
"""

from __future__ import annotations

import math
import pickle
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import numpy as np

from core.backend import get_backend
from core.data import Dataset
from core.files import FileFormatError, save_model
from core.network import Network, Preprocess
from core.trainer import ConfigError, Report, Trainer, TrainingConfig
from core.trainer_state import TrainerState
from core.weight_layers import weight_matrices as network_weight_matrices

FLUSH_SECONDS = 0.03  # while playing, send completed epochs about this often
STOP_RETRY_SECONDS = 0.005  # how often an urgent command not yet taken asks the trainer again to stop
PASSIVE = frozenset({"set_dataset", "set_speed", "set_target", "add_probe", "set_checkpoint_interval"})  # commands that wait for the epoch to end


@dataclass
class Probe:
    """View data computed from the trainer in the trainer's process.

    ``compute(trainer)`` must be picklable (a module-level function, or an instance of a
    module-level class whose module imports no Qt) and return picklable host data (copies,
    never live arrays). It runs at most every ``interval`` seconds while playing, after
    every step, load and pause, and only while ``enabled``; a result whose data say
    ``again`` (nothing measured yet) runs it again after the next epoch instead.
    """

    name: str
    compute: Callable[[Trainer], Any]
    interval: float
    enabled: bool = False
    last: float = -math.inf


@dataclass(frozen=True, eq=False)
class ProbeResult:
    """What a probe computed, and when: ``epoch`` epochs completed and ``batch`` mini-batches
    done into the next one. Results compare by identity (their data hold arrays)."""

    name: str
    epoch: int
    batch: int
    data: Any


def weight_matrices(trainer: Trainer) -> list[np.ndarray | None]:
    """Host copies of each layer's weights as its 2-D matrix (:func:`core.weight_layers.weight_matrices`): a dense
    layer's W (units n[l], inputs n[l-1]), a convolution's kernels one row per filter; None for layers without weights."""
    return network_weight_matrices(trainer.network)


@dataclass(frozen=True)
class TrainerRecipe:
    """What another process needs to build a trainer equal, bit for bit, to one that has not
    trained yet: the network's spec, backend name, dtype name and seed (dropout masks), its
    exact flat parameter vector ``params`` (P,) on the host, its input standardization, and
    the training settings. The dataset travels on its own (it is sent once, not with every
    reset)."""

    spec: dict
    backend: str
    dtype: str
    seed: int
    params: np.ndarray
    preprocess: Preprocess | None
    config: TrainingConfig

    @classmethod
    def of(cls, trainer: Trainer) -> TrainerRecipe:
        """The recipe of ``trainer``; raises ValueError when it has trained already (its
        optimizer state and shuffle order would not travel)."""
        if trainer.epoch or trainer.cursor:
            raise ValueError("only a trainer that has not trained yet can be handed to the trainer process")
        network = trainer.network
        backend = network.backend
        return cls(network.spec(), backend.name, np.dtype(backend.dtype).name, network.seed,
                   backend.to_host(network.params).copy(), network.preprocess, trainer.config)

    def build(self, dataset: Dataset) -> Trainer:
        """A new trainer of ``dataset`` with this network, parameters and settings."""
        network = Network(self.spec, get_backend(self.backend, self.dtype), seed=self.seed)
        network.params[...] = network.backend.asarray(self.params)
        network.preprocess = self.preprocess
        return Trainer(network, dataset, self.config)


class TrainerServer:
    """Runs one trainer at a time as the commands say, and sends its reports to ``messages``.

    The public methods are the commands (see the module docstring); they run in the main
    thread, between epochs or mini-batches. :meth:`listen` runs in the listener thread.
    """

    def __init__(self, messages: Connection) -> None:
        self._messages = messages
        self._condition = threading.Condition()
        self._inbox: list[tuple] = []  # commands received, not yet taken (guarded by _condition)
        self._urgent = False  # one of them must not wait for the epoch to end (guarded by _condition)
        self._trainer: Trainer | None = None
        self._dataset: Dataset | None = None
        self._generation = 0
        self._playing = False
        self._target = 0
        self._seconds_per_epoch = 0.0
        self._next_epoch = 0.0  # perf_counter time before which no epoch starts (speed)
        self._pending: list[Report] = []
        self._pending_states: list[TrainerState] = []  # checkpoints of the epochs in _pending
        self._checkpoint_interval = 0  # keep a state after every epoch that is a multiple of it; 0: none
        self._last_flush = 0.0
        self._probes: dict[str, Probe] = {}

    # ----- threads ----------------------------------------------------------------------------
    def listen(self, commands: Connection) -> None:
        """Queue commands as they come until ``shutdown``, which the parent's going means too
        (listener thread)."""
        while True:
            if not commands.poll(STOP_RETRY_SECONDS if self._urgent else None):
                self._stop_epoch()
                continue
            try:
                command = pickle.loads(commands.recv_bytes())
            except (EOFError, OSError):
                command = ("shutdown",)
            except Exception as exc:  # a probe whose class cannot be imported here, say
                command = ("complain", f"a command could not be read by the trainer process: {exc.__class__.__name__}: {exc}")
            with self._condition:
                self._inbox.append(command)
                self._urgent = self._urgent or command[0] not in PASSIVE
                self._condition.notify()
            self._stop_epoch()
            if command[0] == "shutdown":
                return

    def serve(self) -> None:
        """Run commands, and epochs while playing, until ``shutdown`` (main thread)."""
        while True:
            for name, *args in self._take():
                if name == "shutdown":
                    return
                self._guarded(getattr(self, name), *args)
            if self._playing and time.perf_counter() >= self._next_epoch:
                self._guarded(self._play_epoch)

    def _take(self) -> list[tuple]:
        """The commands queued so far; waits for one while paused, or until the next epoch
        is due at a set speed."""
        with self._condition:
            if not self._inbox and not self._playing:
                self._condition.wait()
            elif not self._inbox and (delay := self._next_epoch - time.perf_counter()) > 0:
                self._condition.wait(delay)
            commands, self._inbox = self._inbox, []
            self._urgent = False
        return commands

    def _stop_epoch(self) -> None:
        """While an urgent command waits, ask the trainer to stop after its mini-batch (listener thread)."""
        with self._condition:
            if self._urgent and self._trainer is not None:
                self._trainer.request_stop()

    # ----- commands (main thread) ---------------------------------------------------------------
    def set_dataset(self, dataset: Dataset) -> None:
        """The data of the trainers loaded from now on."""
        self._dataset = dataset

    def load(self, generation: int, recipe: TrainerRecipe | None, target: int, state: TrainerState | None = None) -> None:
        """Train ``recipe``'s trainer (or none) from now on, paused, restored from ``state`` when
        given (Trainer.restore: an opened file, a branch); its messages carry ``generation``."""
        self._playing = False
        self._pending.clear()  # about the old trainer: the window drops them anyway
        self._pending_states.clear()
        self._generation, self._target, self._trainer = generation, target, None
        self._send("playingChanged", False, "")
        if recipe is None:
            return
        try:
            trainer = recipe.build(self._dataset)
        except Exception as exc:  # CuPy unusable here, or no memory left for another copy of the data
            self._send("failed", f"the trainer process could not set up this network: {exc.__class__.__name__}: {exc}")
            return
        if state is not None:
            try:
                trainer.restore(state)
            except ConfigError as exc:
                self._send("failed", f"the saved training state does not fit this network: {exc}")
                return
        self._trainer = trainer
        self._run_probes(force=True)

    def play(self) -> None:
        trainer = self._trainer
        if self._playing or trainer is None:
            return
        if trainer.epoch >= self._target:
            self._send("playingChanged", False, "target")
            return
        self._playing = True
        self._next_epoch = time.perf_counter()
        self._send("playingChanged", True, "")

    def pause(self) -> None:
        if self._playing:
            self._stop_playing("")

    def step_epoch(self) -> None:
        """Run the rest of the current epoch (all of it when none has started)."""
        self._step("run_epoch")

    def step_batch(self) -> None:
        """Run the next mini-batch."""
        self._step("step_batch")

    def set_setting(self, name: str, value: float) -> None:
        """Change a live optimizer setting (Trainer.set_setting) from the next mini-batch on."""
        trainer = self._trainer
        if trainer is None:
            return
        try:
            trainer.set_setting(name, value)
        except ConfigError as exc:
            self._send("failed", str(exc))
            return
        self._send("settingApplied", name, float(value), trainer.epoch + trainer.cursor / trainer.batches_per_epoch)

    def set_parameter(self, layer: int, name: str, index: tuple[int, ...], value: float) -> None:
        """Set one weight or bias by hand (Trainer.edit_parameter) between mini-batches (playing
        goes on after it), send ``parameterEdited(layer, name, index, stored value, epochs done)``
        and run the enabled probes at once; a refused edit is a ``failed`` line."""
        trainer = self._trainer
        if trainer is None:
            self._send("failed", "there is no network to edit: fix the network settings first")
            return
        try:
            stored = trainer.edit_parameter(layer, name, index, value)
        except ConfigError as exc:
            self._send("failed", f"that number cannot be set: {exc}")
            return
        position = trainer.epoch + trainer.cursor / trainer.batches_per_epoch
        self._send("parameterEdited", int(layer), name, tuple(int(i) for i in index), stored, position)
        self._run_probes(force=True)

    def request_state(self, tag: str) -> None:
        """Send ``stateReady(tag, state)``: the trainer's full state now (None without a
        trainer), after every epoch it includes."""
        self._flush()
        self._send("stateReady", tag, None if self._trainer is None else self._trainer.state())

    def set_checkpoint_interval(self, interval: int) -> None:
        """Keep the state after every complete epoch that is a multiple of ``interval`` (0: none)."""
        self._checkpoint_interval = interval

    def preview(self, state: TrainerState | None) -> None:
        """Run the enabled probes on ``state`` (a checkpoint), then put the trainer back exactly
        as it was; the results say ``state``'s epoch. None: run them on the trainer as it is
        (back from a checkpoint to the present)."""
        trainer = self._trainer
        if trainer is None:
            return
        if self._playing:
            self._stop_playing("")
        if state is None:
            self._run_probes(force=True)
            return
        current = trainer.state()
        try:
            trainer.restore(state)
            self._run_probes(force=True)
        except ConfigError as exc:
            self._send("failed", f"this checkpoint cannot be shown: {exc}")
        finally:
            trainer.restore(current)

    def set_target(self, epochs: int) -> None:
        self._target = epochs

    def set_speed(self, epochs_per_second: float) -> None:
        """Epochs per second while playing; 0 means as fast as possible."""
        self._seconds_per_epoch = 1.0 / epochs_per_second if epochs_per_second > 0 else 0.0
        self._next_epoch = time.perf_counter()

    def add_probe(self, probe: Probe) -> None:
        self._probes[probe.name] = probe

    def set_probe_enabled(self, name: str, enabled: bool) -> None:
        """Run probe ``name`` from now on (at once) or no more."""
        probe = self._probes[name]
        probe.enabled = enabled
        if enabled:
            self._run_probe(probe)

    def configure_probe(self, name: str, attributes: dict[str, Any]) -> None:
        """Set ``attributes`` on probe ``name``'s compute object; run it at once if enabled."""
        probe = self._probes[name]
        for key, value in attributes.items():
            setattr(probe.compute, key, value)
        if probe.enabled:
            self._run_probe(probe)

    def save_model(self, path: str) -> None:
        """Write the network to the model file ``path`` (core.files.save_model)."""
        if self._trainer is None:
            self._say("failed", "there is no network to save: fix the network settings first")
            return
        try:
            save_model(path, self._trainer.network)
        except (FileFormatError, OSError) as exc:
            self._say("failed", f"the model could not be saved: {exc}")
            return
        self._say("modelSaved", path)

    def complain(self, message: str) -> None:
        """Say that something went wrong outside any trainer (a command that could not be read)."""
        self._say("failed", message)

    # ----- work ---------------------------------------------------------------------------------
    def _guarded(self, work: Callable, *args: Any) -> None:
        """Run ``work``; an exception stops playing and is reported, and serving goes on."""
        try:
            work(*args)
        except Exception as exc:  # a bug, or memory: report it, keep the process alive
            traceback.print_exc(file=sys.stderr)
            self._playing = False
            self._flush()
            self._send("playingChanged", False, "error")
            self._send("failed", f"training stopped by an internal error: {exc.__class__.__name__}: {exc}")

    def _play_epoch(self) -> None:
        """One epoch of play (the rest of it when a command cut it), then flush and probes as due."""
        trainer = self._trainer
        started = time.perf_counter()
        report = self._run(trainer.run_epoch)
        if not self._playing:  # diverged
            return
        if report.complete:
            self._next_epoch = started + self._seconds_per_epoch
            if trainer.epoch >= self._target:
                self._stop_playing("target")
                return
        now = time.perf_counter()
        # flush unless the next epoch probably ends before a flush is due
        if now + max(now - started, self._seconds_per_epoch) >= self._last_flush + FLUSH_SECONDS:
            self._flush()
        self._run_probes(force=False)

    def _step(self, unit: str) -> None:
        trainer = self._trainer
        if trainer is None:
            return
        if self._playing:
            self._stop_playing("")
        self._run(getattr(trainer, unit))
        self._flush()
        self._run_probes(force=True)

    def _run(self, unit: Callable[[], Report]) -> Report:
        """Run one unit of work (an epoch or a mini-batch) and route its report."""
        report = unit()
        if report.diverged:
            self._flush()
            self._send("diverged", report)
            self._stop_playing("diverged")
        elif report.complete:
            self._pending.append(report)
            if self._checkpoint_interval and report.epoch % self._checkpoint_interval == 0:
                self._pending_states.append(self._trainer.state())
        else:
            self._flush()
            self._send("partialReport", report)
        return report

    def _stop_playing(self, reason: str) -> None:
        self._playing = False
        self._flush()
        self._send("playingChanged", False, reason)
        self._run_probes(force=True)

    def _flush(self) -> None:
        self._last_flush = time.perf_counter()
        if self._pending:
            reports, self._pending = self._pending, []
            self._send("epochsReady", reports)
        if self._pending_states:
            states, self._pending_states = self._pending_states, []
            self._send("checkpointsReady", states)

    def _run_probes(self, force: bool) -> None:
        now = time.perf_counter()
        for probe in self._probes.values():
            if probe.enabled and (force or now - probe.last >= probe.interval):
                self._run_probe(probe)

    def _run_probe(self, probe: Probe) -> None:
        trainer = self._trainer
        if trainer is None:
            return
        probe.last = time.perf_counter()
        self._flush()  # the epochs a probe result shows arrive before it
        data = probe.compute(trainer)
        if getattr(data, "again", False):
            probe.last = -math.inf
        self._send("probed", ProbeResult(probe.name, trainer.epoch, trainer.cursor, data))

    def _send(self, signal: str, *args: Any) -> None:
        """Send ``signal(*args)`` to the window, about the current trainer."""
        self._post(self._generation, signal, args)

    def _say(self, signal: str, *args: Any) -> None:
        """Send ``signal(*args)`` to the window, about no trainer in particular."""
        self._post(None, signal, args)

    def _post(self, generation: int | None, signal: str, args: tuple) -> None:
        try:
            self._messages.send((generation, signal, args))
        except OSError:  # the window's process is gone; the listener hears it and shuts down
            pass


def serve(commands: Connection, messages: Connection) -> None:
    """The trainer process's main function: serve ``commands``, answer on ``messages``."""
    server = TrainerServer(messages)
    threading.Thread(target=server.listen, args=(commands,), name="EpochLabCommands", daemon=True).start()
    server.serve()
    messages.close()
