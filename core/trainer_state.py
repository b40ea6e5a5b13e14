"""The complete state of a training run, as host data that a file can hold.

A :class:`TrainerState` is what :meth:`core.trainer.Trainer.state` gives and
:meth:`~core.trainer.Trainer.restore` takes: everything that decides the rest of a run, so
that restoring it and training N epochs gives the same weights, bit for bit, as N more
epochs of the run it was taken from. Its arrays are NumPy copies, read-only; the rest is
plain JSON data. :meth:`TrainerState.to_parts` splits it into a JSON-serialisable dict and
a dict of named arrays (what a file stores); :meth:`TrainerState.from_parts` checks and
joins them again.

The network's non-trainable state (``network.state``: BatchNorm's running statistics) is
part of it when the network has any (``network_state``; a state without it, from a network
without state or a file written before state existed, means the network's initial state).

In the middle of an epoch (``cursor > 0``) a state also holds the epoch's start
(:class:`EpochStart`: the parameters, non-trainable state, optimizer state and generators the epoch began
with, from which its shuffle order is drawn again and to which a divergence rolls back)
and the network outputs of the epoch's mini-batches so far (its training loss and metric
cover them).
"""

from __future__ import annotations

import copy
import functools
import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from .optimizers import LIVE_SETTINGS, check_setting, make_optimizer

SettingChange = tuple[float, str, float]  # (position in epochs done, setting name, new value)
PARAMETER_NAMES = ("W", "b")  # the parameters a hand edit can set, with one index per axis:
INDEX_LENGTHS = {"W": (2, 4), "b": (1,)}  # W (unit, input) of a Dense, (filter, row, column, channel) of a Conv2D; b (unit,)
MAX_STEPS = 2**63 - 1  # an optimizer's step count must fit an int64
_PROBES = threading.local()
NONNEGATIVE_SLOTS = ("v", "square_mean")  # Adam's second moments and RMSprop's mean squares: sums of squares


class ParameterEdit(NamedTuple):
    """One number of the network set by hand (:meth:`core.trainer.Trainer.edit_parameter`),
    between mini-batches: after ``epoch`` epochs and ``batch`` mini-batches of the next one,
    parameter ``name`` ("W" or "b") of layer ``layer`` (0-based in ``network.layers``) at
    ``index`` (one per axis, 0-based: a Dense W (unit, input), a Conv2D W (filter, row,
    column, channel), b (unit,)) became ``value``, as stored in the network's dtype."""

    epoch: int
    batch: int
    layer: int
    name: str
    index: tuple[int, ...]
    value: float

    def to_json(self) -> dict:
        return {"epoch": self.epoch, "batch": self.batch, "layer": self.layer, "name": self.name,
                "index": list(self.index), "value": self.value}


@dataclass(frozen=True, eq=False)
class EpochStart:
    """The parameters (P,), optimizer state (:meth:`~core.optimizers.Optimizer.state_dict`),
    generator states (``{"shuffle": state, "dropout": {"layer{i}": state}}``, NumPy
    ``bit_generator.state`` dicts) and the network's non-trainable state (S,) (None: the
    network's initial state) at the start of an epoch. In a :class:`TrainerState` its arrays
    are host copies; a trainer keeps its own on the device for the rollback."""

    params: Any
    optimizer: dict
    generators: dict
    network_state: Any = None


@dataclass(frozen=True, eq=False)
class TrainerState:
    """Everything that decides the rest of a run, as host data (never live device arrays).

    Attributes:
        epoch: epochs completed.
        cursor: mini-batches done in the current epoch (0 between epochs).
        config: ``TrainingConfig.to_json()`` of the trainer it was taken from.
        train_size: rows of the training part (a state fits only data that splits the same).
        params: (P,) the flat parameter vector, in the backend's dtype.
        optimizer: ``Optimizer.state_dict()``: name, steps, the live settings, (P,) slots.
        generators: ``{"shuffle": state, "dropout": {"layer{i}": state}}`` (NumPy
            ``bit_generator.state`` dicts; one per Dropout layer i, 0-based).
        setting_changes: (position in epochs done, setting name, new value) of every live
            setting change of the run so far, in order.
        parameter_edits: every number of the network set by hand so far, in order
            (:class:`ParameterEdit`); ``params`` already holds them, they are kept for the
            exports, which replay them at their mini-batch.
        network_state: (S,) the network's non-trainable state (``network.state``) in the
            backend's dtype, or None: a network without state, or the network's initial state
            (what a file written before state existed gives).
        epoch_start: when ``cursor > 0``, the current epoch's start; else None.
        outputs: when ``cursor > 0``, (rows, outputs) network outputs of the epoch's mini-batches
            so far, rows = min(cursor × batch size, train_size), in shuffled order; else None.
    """

    epoch: int
    cursor: int
    config: dict
    train_size: int
    params: np.ndarray
    optimizer: dict
    generators: dict
    setting_changes: tuple[SettingChange, ...] = ()
    epoch_start: EpochStart | None = None
    outputs: np.ndarray | None = None
    parameter_edits: tuple[ParameterEdit, ...] = ()
    network_state: np.ndarray | None = None

    @property
    def settings(self) -> dict:
        """The live optimizer settings (learning_rate, momentum, …) in force when it was taken."""
        return self.optimizer["settings"]

    @functools.cached_property
    def nbytes(self) -> int:
        """Bytes of its arrays (for checkpoint budgets; the arrays are read-only, so once)."""
        return sum(array.nbytes for array in self.to_parts()[1].values())

    def to_parts(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON-serialisable dict, arrays by short name: "params", "optimizer.<slot>", "network_state",
        "epoch_start.params", "epoch_start.network_state", "epoch_start.optimizer.<slot>", "outputs") —
        what a file stores. ``parameter_edits`` and the network states are written only when there
        are any, so that a state without them reads as before (and a file written before they
        existed reads as one without)."""
        arrays = {"params": self.params, **_slot_arrays(self.optimizer, "optimizer.")}
        if self.network_state is not None:
            arrays["network_state"] = self.network_state
        meta = {"epoch": self.epoch, "cursor": self.cursor, "config": self.config, "train_size": self.train_size,
                "optimizer": _without_slots(self.optimizer), "generators": self.generators,
                "setting_changes": [list(change) for change in self.setting_changes], "epoch_start": None}
        if self.parameter_edits:
            meta["parameter_edits"] = [edit.to_json() for edit in self.parameter_edits]
        if self.epoch_start is not None:
            start = self.epoch_start
            meta["epoch_start"] = {"optimizer": _without_slots(start.optimizer), "generators": start.generators}
            arrays["epoch_start.params"] = start.params
            if start.network_state is not None:
                arrays["epoch_start.network_state"] = start.network_state
            arrays.update(_slot_arrays(start.optimizer, "epoch_start.optimizer."))
        if self.outputs is not None:
            arrays["outputs"] = self.outputs
        return meta, arrays

    @classmethod
    def from_parts(cls, meta: dict, arrays: Mapping[str, np.ndarray]) -> TrainerState:
        """Inverse of :meth:`to_parts` (the arrays are copied); ValueError with one clear line for
        anything missing, of the wrong type or mis-shaped."""
        if not isinstance(meta, dict):
            raise ValueError(f"trainer state: expected a JSON object, got {type(meta).__name__}")
        missing = [key for key in ("epoch", "cursor", "config", "train_size", "optimizer", "generators",
                                   "setting_changes", "epoch_start") if key not in meta]
        if missing:
            raise ValueError(f"trainer state: missing {', '.join(missing)}")
        epoch, cursor, train_size = (_count(meta, key) for key in ("epoch", "cursor", "train_size"))
        config = _checked_config(meta["config"])
        batches = math.ceil(train_size / config["batch_size"])
        if cursor > batches:
            raise ValueError(f"trainer state: cursor {cursor} is past the {batches} mini-batches of an epoch "
                             f"({train_size} samples, batch size {config['batch_size']})")
        taken = set()

        def array(name: str, shape: tuple[int, ...] | None = None, dtype: Any = None) -> np.ndarray:
            if name not in arrays:
                raise ValueError(f"trainer state: missing array {name!r}")
            value = np.asarray(arrays[name])
            if not np.issubdtype(value.dtype, np.floating) or (dtype is not None and value.dtype != dtype):
                raise ValueError(f"trainer state: array {name!r} is {value.dtype}, expected {dtype or 'floating point'}")
            if (shape is None and value.ndim != 1) or (shape is not None and value.shape != shape):
                raise ValueError(f"trainer state: array {name!r} has shape {value.shape}, expected {shape or '(P,)'}")
            if not np.isfinite(value).all():
                raise ValueError(f"trainer state: array {name!r} holds NaN or infinite values")
            if name.rsplit(".", 1)[-1] in NONNEGATIVE_SLOTS and name != "params" and (value < 0).any():
                raise ValueError(f"trainer state: array {name!r} holds negative values (it is a mean of squares)")
            taken.add(name)
            return frozen_copy(value)

        params = array("params")
        network_state = array("network_state", dtype=params.dtype) if "network_state" in arrays else None
        optimizer = _optimizer(meta["optimizer"], "optimizer", array, params)
        if optimizer["name"] != config["optimizer"]:
            raise ValueError(f"trainer state: the optimizer is {optimizer['name']} but the config says {config['optimizer']}")
        generators = _generators(meta["generators"], "generators")
        start = outputs = None
        if cursor:
            if not isinstance(meta["epoch_start"], dict):
                raise ValueError(f"trainer state: cursor {cursor} (inside an epoch) needs an epoch_start object")
            start_meta = meta["epoch_start"]
            if ("epoch_start.network_state" in arrays) != (network_state is not None):
                raise ValueError("trainer state: 'network_state' and 'epoch_start.network_state' go together")
            start = EpochStart(array("epoch_start.params", params.shape, params.dtype),
                               _optimizer(start_meta.get("optimizer"), "epoch_start.optimizer", array, params),
                               _generators(start_meta.get("generators"), "epoch_start.generators"),
                               None if network_state is None else
                               array("epoch_start.network_state", network_state.shape, params.dtype))
            if "outputs" not in arrays or np.ndim(arrays["outputs"]) != 2:
                raise ValueError("trainer state: cursor > 0 needs a 2-D array 'outputs'")
            rows = min(cursor * config["batch_size"], train_size)
            outputs = array("outputs", (rows, np.shape(arrays["outputs"])[1]), params.dtype)
        elif meta["epoch_start"] is not None:
            raise ValueError("trainer state: epoch_start must be null between epochs (cursor 0)")
        extra = sorted(set(arrays) - taken)
        if extra:
            raise ValueError(f"trainer state: unexpected array {extra[0]!r}")
        return cls(epoch=epoch, cursor=cursor, config=config, train_size=train_size, params=params, optimizer=optimizer,
                   generators=generators, setting_changes=_setting_changes(meta["setting_changes"]),
                   epoch_start=start, outputs=outputs,
                   parameter_edits=_parameter_edits(meta.get("parameter_edits", []), (epoch, cursor), batches),
                   network_state=network_state)


def _checked_config(meta: object, where: str = "trainer state config") -> dict:
    """``TrainingConfig.from_json(meta).to_json()`` (ValueError naming the key), checked once for
    each different config: the checkpoints of a run share theirs, and a long run has thousands."""
    try:
        key = json.dumps(meta, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):  # not plain JSON: checked (and refused) below
        key = None
    return dict(_config_of(key, where) if key is not None else _config_of_value(meta, where))


@functools.lru_cache(maxsize=64)
def _config_of(key: str, where: str) -> dict:
    return _config_of_value(json.loads(key), where)


def _config_of_value(meta: object, where: str = "trainer state config") -> dict:
    from .trainer import TrainingConfig  # imported here: core.trainer imports this module

    return TrainingConfig.from_json(meta, where).to_json()


def frozen_copy(array: np.ndarray) -> np.ndarray:
    """A read-only NumPy copy of the host array ``array``."""
    frozen = np.array(array, copy=True)
    frozen.flags.writeable = False
    return frozen


def frozen_optimizer(state: dict) -> dict:
    """``state`` (an ``Optimizer.state_dict()`` with host slots) with read-only copies of its slots."""
    return {**state, "slots": {name: frozen_copy(slot) for name, slot in state["slots"].items()}}


def _without_slots(state: dict) -> dict:
    return {key: value for key, value in state.items() if key != "slots"}


def _slot_arrays(state: dict, prefix: str) -> dict[str, np.ndarray]:
    return {prefix + name: slot for name, slot in state["slots"].items()}


def _count(meta: dict, key: str) -> int:
    value = meta[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"trainer state: {key} must be a whole number ≥ 0, got {value!r}")
    return value


def _optimizer(meta: object, where: str, array, params: np.ndarray) -> dict:
    """The optimizer state_dict described by ``meta`` (name, steps, settings) with its slots
    (arrays ``<where>.<slot>``, each like ``params``)."""
    if not isinstance(meta, dict) or not isinstance(meta.get("settings"), dict):
        raise ValueError(f"trainer state: {where} must be an object with name, steps and settings")
    steps = meta.get("steps")
    if not isinstance(steps, int) or isinstance(steps, bool) or not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"trainer state: {where}.steps must be a whole number in [0, 2⁶³), got {_shown(steps)}")
    try:
        probe = make_optimizer(str(meta.get("name")), {})
        type(probe)(**meta["settings"])
        _checked_config(meta["settings"], f"trainer state {where}.settings")  # the ranges of TrainingConfig's fields
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"trainer state: {where}: {exc}") from None
    slots = {name: array(f"{where}.{name}", params.shape, params.dtype) for name in probe.slot_names}
    return {"name": probe.name, "steps": steps, "settings": dict(meta["settings"]), "slots": slots}


def _generators(meta: object, where: str) -> dict:
    """``{"shuffle": state, "dropout": {"layer{i}": state}}`` after checking each state sets a NumPy generator."""
    if not isinstance(meta, dict) or not isinstance(meta.get("dropout"), dict) or set(meta) != {"shuffle", "dropout"}:
        raise ValueError(f"trainer state: {where} must be an object with shuffle and dropout")
    probe = _probe_generator()
    for name, state in [("shuffle", meta["shuffle"]), *((f"dropout.{k}", v) for k, v in meta["dropout"].items())]:
        try:
            probe.bit_generator.state = state
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise ValueError(f"trainer state: {where}.{name} is not a generator state ({exc})") from None
    return copy.deepcopy({"shuffle": meta["shuffle"], "dropout": meta["dropout"]})


def _probe_generator() -> np.random.Generator:
    """A generator of this thread's own to try generator states on (made once: making one takes long)."""
    if not hasattr(_PROBES, "generator"):
        _PROBES.generator = np.random.default_rng()
    return _PROBES.generator


def _setting_changes(meta: object) -> tuple[SettingChange, ...]:
    if not isinstance(meta, list):
        raise ValueError("trainer state: setting_changes must be a list")
    changes = []
    for change in meta:
        if not (isinstance(change, (list, tuple)) and len(change) == 3 and change[1] in LIVE_SETTINGS
                and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (change[0], change[2]))):
            raise ValueError(f"trainer state: a setting change must be [position, live setting, value], got {_shown(change)}")
        try:
            position, value = float(change[0]), check_setting(change[1], change[2])
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"trainer state: the setting change {_shown(change)}: {exc}") from None
        if not (math.isfinite(position) and position >= 0):
            raise ValueError(f"trainer state: the setting change {_shown(change)} has no finite position ≥ 0")
        changes.append((position, change[1], value))
    return tuple(changes)


def _parameter_edits(meta: object, position: tuple[int, int], batches: int) -> tuple[ParameterEdit, ...]:
    """The hand edits of JSON ``meta`` (a list of ParameterEdit.to_json() objects), each at or
    before the state's (epochs, cursor) ``position``, in order. Their layer and index are checked
    against a network only when a trainer restores the state."""
    if not isinstance(meta, list):
        raise ValueError("trainer state: parameter_edits must be a list")
    edits, previous = [], (0, 0)
    for entry in meta:
        if not (isinstance(entry, dict) and set(entry) == set(ParameterEdit._fields) and entry["name"] in PARAMETER_NAMES
                and all(_whole(entry[key]) for key in ("epoch", "batch", "layer"))
                and isinstance(entry["index"], list) and len(entry["index"]) in INDEX_LENGTHS[entry["name"]]
                and all(_whole(i) for i in entry["index"])
                and isinstance(entry["value"], (int, float)) and not isinstance(entry["value"], bool)):
            raise ValueError("trainer state: a parameter edit must be {epoch, batch, layer, name: \"W\" or \"b\", "
                             f"index: [unit, input] or [filter, row, column, channel] or [unit], value}}, got {_shown(entry)}")
        edit = ParameterEdit(entry["epoch"], entry["batch"], entry["layer"], entry["name"], tuple(entry["index"]),
                             float(entry["value"]))
        where = (edit.epoch, edit.batch)
        if not math.isfinite(edit.value):
            raise ValueError(f"trainer state: the parameter edit {_shown(entry)} has no finite value")
        if where < previous or where > position or edit.batch > batches:
            raise ValueError(f"trainer state: the parameter edit {_shown(entry)} is out of order or after the state "
                             f"(epoch {position[0]}, mini-batch {position[1]})")
        edits.append(edit)
        previous = where
    return tuple(edits)


def _whole(value: object) -> bool:
    """Whether ``value`` is a whole number ≥ 0 (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _shown(value: object, chars: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= chars else text[: chars - 1] + "…"
