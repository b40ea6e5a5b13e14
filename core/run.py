"""Runs and the session that holds them: the one history the window, the CLI, the files and
the exports read.

* :class:`Run`: one training run: the experiment it trains (its JSON), its per-epoch
  record (:class:`~core.run_record.RunRecord`), its markers (setting changes, divergence,
  the epochs the user marked), its checkpoints, and the run it branched from (at which
  epoch). Its record holds absolute epoch numbers: a branch from epoch 60 records 61, 62, …
* :class:`Checkpoints`: full trainer states (:class:`~core.trainer_state.TrainerState`) of a
  run at some epochs, within a byte budget, thinned geometrically as the run grows.
* :class:`Session`: every run of a working session, and which one is training now.
  Starting over (Reset, another network or setting, a branch) starts a new run; the old one
  stays until it is deleted.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .run_record import RunRecord

if TYPE_CHECKING:
    from .trainer_state import TrainerState

CHECKPOINT_BUDGET = 64 << 20  # bytes of trainer states one run keeps (the initial and the latest are kept whatever their size)
CHECKPOINT_COUNT = 512  # states one run keeps at most besides those kept for good: each costs a few KiB of settings too
MARKER_KINDS = ("setting", "diverged", "branch", "mark", "edit")
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
SETTING_TITLES = {"learning_rate": "α", "batch_size": "batch", "optimizer": "optimizer", "l1": "L1", "l2": "L2",
                  "momentum": "μ", "beta1": "β₁", "beta2": "β₂", "rho": "ρ", "epochs": "epochs", "seed": "seed",
                  "val_fraction": "validation", "shuffle": "shuffle", "standardize": "standardize", "loss": "loss",
                  "nesterov": "Nesterov", "epsilon": "ε"}
UNCOMPARED_SETTINGS = ("epochs",)  # a different epochs target does not make another run


@dataclass(frozen=True)
class Marker:
    """A mark on a run's epoch axis. ``position`` is in epochs done (5.4 = after 5 epochs and
    40 % of the sixth); ``kind`` is one of MARKER_KINDS: a live setting changed, training
    diverged, a branch starts here, the user marked the epoch, or set a weight or bias by hand
    (:func:`edit_text`)."""

    position: float
    text: str
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in MARKER_KINDS:
            raise ValueError(f"a marker's kind is one of {', '.join(MARKER_KINDS)}, not {self.kind!r}")


def parameter_text(number: int, name: str, index: tuple[int, ...]) -> str:
    """A parameter in the course's notation with 1-based subscripts: ``parameter_text(2, "W", (0, 2))``
    → "W[2]₁₃", b → "b[2]₁"; subscripts of more than one digit are separated by a comma ("W[1]₁₂,₃")."""
    subscripts = [str(i + 1).translate(SUBSCRIPTS) for i in index]
    separator = "," if any(len(s) > 1 for s in subscripts) else ""
    return f"{name}[{number}]{separator.join(subscripts)}"


def edit_text(number: int, name: str, index: tuple[int, ...], value: float) -> str:
    """The text of an "edit" marker: ``edit_text(1, "W", (0, 1), 0.5)`` → "W[1]₁₂ := 0.5"."""
    return f"{parameter_text(number, name, index)} := {value:.10g}"


class Checkpoints:
    """Trainer states of one run at completed epochs, at most ``budget`` bytes and ``count``
    states of them.

    Kept: the initial state (epoch 0), the latest state added, every epoch the user pinned,
    and the epochs that are multiples of ``interval``. ``interval`` starts at 1 and doubles
    each time the states kept exceed the budget or the count, dropping those no longer on
    it: a run of any length keeps states spread evenly over it, between half and all of
    min(count, budget / state size) of them, and a state every epoch while the run is short. The trainer offers a state when
    :meth:`due` says so (and whenever it pauses, as the latest).
    """

    def __init__(self, budget: int = CHECKPOINT_BUDGET, count: int = CHECKPOINT_COUNT):
        self.budget, self.count = budget, count
        self.interval = 1
        self._states: dict[int, TrainerState] = {}
        self._pinned: set[int] = set()
        self._latest: int | None = None
        self._nbytes = 0

    def __len__(self) -> int:
        return len(self._states)

    def __contains__(self, epoch: int) -> bool:
        return epoch in self._states

    @property
    def epochs(self) -> list[int]:
        """The epochs kept, in order."""
        return sorted(self._states)

    @property
    def pinned(self) -> list[int]:
        """The epochs the user pinned, in order."""
        return sorted(self._pinned)

    @property
    def nbytes(self) -> int:
        """Bytes of the states kept."""
        return self._nbytes

    def due(self, epoch: int) -> bool:
        """Whether a state after ``epoch`` completed epochs would be kept on the interval."""
        return epoch % self.interval == 0

    def add(self, state: TrainerState, pinned: bool = False) -> None:
        """Keep ``state`` (one between epochs: ``state.cursor == 0``) as the latest, replacing any
        state at its epoch; the previous latest stays only when it is on the interval or
        pinned. Then thin to the budget."""
        if state.cursor:
            raise ValueError("a checkpoint is a state between epochs, not in the middle of one")
        epoch = state.epoch
        previous = self._latest
        replaced = self._states.get(epoch)
        self._nbytes += state.nbytes - (replaced.nbytes if replaced is not None else 0)
        self._states[epoch] = state
        self._latest = epoch if previous is None else max(previous, epoch)
        if pinned:
            self._pinned.add(epoch)
        if previous is not None and previous != self._latest:
            self._drop_unless_kept(previous)
        while (self.nbytes > self.budget or len(self._states) > self.count + len(self._pinned) + 2) and self._thinnable():
            self.interval *= 2
            for kept in list(self._states):
                self._drop_unless_kept(kept)

    def pin(self, epoch: int) -> bool:
        """Keep the state at ``epoch`` for good; False when there is none."""
        if epoch not in self._states:
            return False
        self._pinned.add(epoch)
        return True

    def get(self, epoch: int) -> TrainerState | None:
        return self._states.get(epoch)

    def nearest(self, epoch: float) -> TrainerState | None:
        """The state at the latest epoch at or before ``epoch``; None when there is none."""
        before = [kept for kept in self._states if kept <= epoch]
        return self._states[max(before)] if before else None

    def latest(self) -> TrainerState | None:
        return None if self._latest is None else self._states[self._latest]

    def items(self) -> Iterator[tuple[int, TrainerState]]:
        """(epoch, state) in epoch order."""
        for epoch in self.epochs:
            yield epoch, self._states[epoch]

    def _kept_for_good(self, epoch: int) -> bool:
        return epoch in (0, self._latest) or epoch in self._pinned

    def _drop_unless_kept(self, epoch: int) -> None:
        if not self._kept_for_good(epoch) and epoch % self.interval:
            self._nbytes -= self._states.pop(epoch).nbytes

    def _thinnable(self) -> bool:
        """Whether doubling the interval would drop a state (there is one not kept for good)."""
        return any(not self._kept_for_good(epoch) for epoch in self._states)


@dataclass(eq=False)
class Run:
    """One training run. ``experiment`` is the JSON object (core.experiment.Experiment.to_json())
    of what it trains; ``parent`` the id of the run it branched from after ``branch_epoch``
    epochs (None for a run from the initial weights); ``visible`` whether plots draw it."""

    id: int
    name: str
    experiment: dict
    record: RunRecord
    markers: list[Marker] = field(default_factory=list)
    checkpoints: Checkpoints = field(default_factory=Checkpoints)
    parent: int | None = None
    branch_epoch: int | None = None
    visible: bool = True
    created: float = field(default_factory=time.time)

    @property
    def epochs(self) -> int:
        """The last epoch recorded (a branch counts from its parent's epochs); 0 before any."""
        if len(self.record):
            return int(self.record.column("epoch")[-1])
        return self.branch_epoch or 0

    @property
    def training(self) -> dict:
        return self.experiment.get("training", {})

    def summary(self) -> dict:
        """What a runs table shows: name, epochs, the final and best losses and metrics (best
        validation when there is a validation part, else training) with the epoch of the best,
        seconds, and the main settings."""
        record, training = self.record, self.training
        summary = {"name": self.name, "epochs": self.epochs, "seconds": record.total("seconds"),
                   "optimizer": training.get("optimizer"), "learning_rate": training.get("learning_rate"),
                   "batch_size": training.get("batch_size"), "l1": training.get("l1"), "l2": training.get("l2"),
                   "metric_name": record.metric_name, "final_loss": None, "best_loss": None, "best_epoch": None,
                   "final_metric": None, "best_metric": None, "part": None}
        if not len(record):
            return summary
        part = "val" if not math.isnan(record.column("val_loss")[-1]) else "train"
        loss, metric, epochs = record.column(f"{part}_loss"), record.column(f"{part}_metric"), record.column("epoch")
        finite = np.isfinite(loss)
        summary.update(final_loss=float(loss[-1]), final_metric=float(metric[-1]), part=part)
        if finite.any():
            best = int(loss[finite].argmin())
            summary.update(best_loss=float(loss[finite][best]), best_epoch=int(epochs[finite][best]),
                           best_metric=float(metric[finite].max()))
        return summary

    def differences(self, other: Run) -> list[str]:
        """What this run does differently from ``other``, as short texts naming this run's own
        values ("α = 0.1", "batch = 64", "another network", "other data", and "from epoch 60"
        for a branch of ``other``): the legend of a comparison."""
        found = []
        if self.parent is not None and self.parent == other.id:
            found.append(f"from epoch {self.branch_epoch}")
        if self.experiment.get("dataset") != other.experiment.get("dataset"):
            found.append("other data")
        if self.experiment.get("network") != other.experiment.get("network"):
            found.append("another network")
        mine, theirs = self.training, other.training
        for key in sorted(mine.keys() | theirs.keys()):
            if key not in UNCOMPARED_SETTINGS and mine.get(key) != theirs.get(key):
                found.append(f"{SETTING_TITLES.get(key, key)} = {_setting_text(mine.get(key))}")
        return found


class Session:
    """Every run of a working session, oldest first, and the ``current`` one (the one training).
    ``version`` changes on every change a view should redraw for."""

    def __init__(self) -> None:
        self.runs: list[Run] = []
        self.current: Run | None = None
        self.version = 0
        self._next_id = 1

    def start_run(self, experiment: dict, metric_name: str, *, parent: Run | None = None, branch_epoch: int | None = None,
                  name: str | None = None, budget: int = CHECKPOINT_BUDGET) -> Run:
        """A new current run of ``experiment`` (its JSON object) whose metric is ``metric_name``;
        a branch of ``parent`` after ``branch_epoch`` epochs when given. A current run with
        no epoch recorded and no branch of its own is replaced rather than kept (a Reset of
        a fresh run leaves no empty run behind), and its number is used again when it was the
        latest."""
        if (parent is None) != (branch_epoch is None):
            raise ValueError("a branch needs both the run it starts from and the epoch")
        empty = self.current
        if empty is not None and not len(empty.record) and empty is not parent and not self.children(empty):
            self.runs.remove(empty)
            if empty.id == self._next_id - 1:
                self._next_id = empty.id
        run_id = self._next_id
        self._next_id += 1
        if name is None:
            name = f"Run {run_id}" if parent is None else f"Run {run_id} (from {parent.name}, epoch {branch_epoch})"
        run = Run(run_id, name, experiment, RunRecord(metric_name), checkpoints=Checkpoints(budget),
                  parent=None if parent is None else parent.id, branch_epoch=branch_epoch)
        if parent is not None:
            run.markers.append(Marker(float(branch_epoch), f"from {parent.name}", "branch"))
        self.runs.append(run)
        self.current = run
        self.version += 1
        return run

    def add(self, run: Run) -> None:
        """Take ``run`` as it is (read from a file): its id is kept, later ids follow it."""
        if any(kept.id == run.id for kept in self.runs):
            raise ValueError(f"the session already has a run {run.id}")
        self.runs.append(run)
        self._next_id = max(self._next_id, run.id + 1)
        self.version += 1

    def get(self, run_id: int) -> Run:
        """The run ``run_id``; KeyError when there is none."""
        for run in self.runs:
            if run.id == run_id:
                return run
        raise KeyError(f"no run {run_id} in this session")

    def children(self, run: Run) -> list[Run]:
        """The runs branched from ``run``."""
        return [other for other in self.runs if other.parent == run.id]

    def remove(self, run_id: int) -> None:
        """Delete run ``run_id`` (not the current one); its branches keep their curves and forget
        where they came from."""
        run = self.get(run_id)
        if run is self.current:
            raise ValueError("the run that is training cannot be deleted; start another run first")
        self.runs.remove(run)
        for child in self.children(run):
            child.parent = None
        self.version += 1

    def rename(self, run_id: int, name: str) -> None:
        name = name.strip()
        if not name:
            raise ValueError("a run's name cannot be empty")
        self.get(run_id).name = name
        self.version += 1

    def set_visible(self, run_id: int, visible: bool) -> None:
        self.get(run_id).visible = visible
        self.version += 1

    def changed(self) -> None:
        """Say that a run changed (epochs recorded, a marker): views redraw."""
        self.version += 1

    def lineage(self, run: Run) -> list[tuple[Run, int | None]]:
        """The runs whose epochs make up ``run``'s whole history, oldest first, each with the last
        epoch of it that counts (None: all of it): the parent's epochs up to the branch, then
        the branch's own."""
        chain: list[tuple[Run, int | None]] = [(run, None)]
        while chain[0][0].parent is not None:
            child = chain[0][0]
            try:
                parent = self.get(child.parent)
            except KeyError:
                break
            chain.insert(0, (parent, child.branch_epoch))
        return chain

    def records(self, run: Run) -> Iterator[dict]:
        """Every epoch of ``run``'s whole history (its lineage's), as RunRecord.records() gives them."""
        for part, last in self.lineage(run):
            for record in part.record.records():
                if last is None or record["epoch"] <= last:
                    yield record


def _setting_text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return "default" if value is None else str(value)
