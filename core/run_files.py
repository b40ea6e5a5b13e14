"""A session's runs as file parts: one JSON object and named arrays, and back (core.epochlab writes them).

JSON (``session_parts``' first value)::

    {"current": 2,                     # the id of the run training now, or null
     "runs": [{"id": 1, "name": "Run 1", "experiment": {...}, "metric_name": "accuracy",
               "markers": [{"position": 5.4, "text": "α 0.01 → 0.1", "kind": "setting"}, ...],
               "parent": null, "branch_epoch": null, "visible": true, "created": 1764612345.6,
               "record": {"epochs": 140, "validation": true, "totals": {"seconds": 12.5, "samples": 56000.0}},
               "checkpoints": {"budget": 67108864, "interval": 4, "pinned": [60],
                               "states": [{"epoch": 0, "state": {...TrainerState JSON...}}, ...]}}, ...]}

Arrays: ``run{id}.record`` (epochs, 7) float64, the columns of core.run_record.RECORD_COLUMNS
in order; ``run{id}.checkpoints.{name}`` (states, …) the arrays of every checkpoint's
TrainerState.to_parts() (``params``, ``optimizer.m``, …) stacked in the order of ``states``:
a few members a run however many checkpoints it keeps (every state of a run has the same
parts, all between epochs).

Reading checks every value's type before it is used and raises ValueError with one line
naming the key path (``session.runs[1].name: expected text, got 3``); arrays come from a
``read(name)`` callback that checks sizes before reading (core.npz_members).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .experiment import Experiment
from .run import Checkpoints, Marker, Run, Session
from .run_record import RECORD_COLUMNS, TOTALS, RunRecord
from .trainer_state import TrainerState

ReadArray = Callable[[str], np.ndarray]
SHOWN_CHARS = 40


# ----- writing --------------------------------------------------------------------------------
def session_parts(session: Session) -> tuple[dict, dict[str, np.ndarray]]:
    """The JSON object and the arrays (see the module docstring) that hold ``session``."""
    arrays: dict[str, np.ndarray] = {}
    runs = []
    for run in session.runs:
        arrays[f"run{run.id}.record"] = run.record.rows()
        states, stacks = [], {}
        for epoch, state in run.checkpoints.items():
            meta, parts = state.to_parts()
            states.append({"epoch": epoch, "state": meta})
            if stacks and set(parts) != set(stacks):
                raise ValueError(f"run {run.id}: the checkpoint at epoch {epoch} has other parts than the others")
            for name, value in parts.items():
                stacks.setdefault(name, []).append(value)
        arrays.update(prefixed({name: np.stack(values) for name, values in stacks.items()}, f"run{run.id}.checkpoints."))
        record = run.record
        runs.append({
            "id": run.id, "name": run.name, "experiment": run.experiment, "metric_name": record.metric_name,
            "markers": [{"position": m.position, "text": m.text, "kind": m.kind} for m in run.markers],
            "parent": run.parent, "branch_epoch": run.branch_epoch, "visible": run.visible, "created": run.created,
            "record": {"epochs": len(record), "validation": record.has_validation,
                       "totals": {name: record.total(name) for name in TOTALS}},
            "checkpoints": {"budget": run.checkpoints.budget, "interval": run.checkpoints.interval,
                            "pinned": run.checkpoints.pinned, "states": states},
        })
    current = None if session.current is None else session.current.id
    return {"current": current, "runs": runs}, arrays


def prefixed(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {prefix + name: value for name, value in arrays.items()}


# ----- reading --------------------------------------------------------------------------------
def session_from_parts(meta: object, read: ReadArray, names: Iterable[str], where: str = "session") -> Session:
    """The session the JSON ``meta`` and the arrays (``read(name)``; ``names``: every array of the
    file) describe; ValueError naming the key path for anything missing or of the wrong type."""
    meta = _object(meta, where)
    names = list(names)
    session = Session()
    for i, run_meta in enumerate(_list(meta, "runs", where)):
        run = _run(run_meta, read, names, f"{where}.runs[{i}]")
        try:
            session.add(run)
        except ValueError as exc:
            raise ValueError(f"{where}.runs[{i}]: {exc}") from None
    current = _get(meta, "current", (int, type(None)), where, "a run id or null")
    if current is not None:
        try:
            session.current = session.get(current)
        except KeyError:
            raise ValueError(f"{where}.current: no run {current} in the file") from None
    return session


def state_from_parts(meta: object, read: ReadArray, names: Iterable[str], prefix: str, where: str) -> TrainerState:
    """The TrainerState of JSON ``meta`` and the arrays named ``prefix + part``."""
    parts = {name.removeprefix(prefix): read(name) for name in names if name.startswith(prefix)}
    try:
        return TrainerState.from_parts(meta, parts)
    except ValueError as exc:
        raise ValueError(f"{where} (arrays {prefix}*): {exc}") from None


def _run(meta: object, read: ReadArray, names: list[str], where: str) -> Run:
    meta = _object(meta, where)
    run_id = _get(meta, "id", int, where, "a whole number")
    experiment = _object(_get(meta, "experiment", dict, where, "an object"), f"{where}.experiment")
    try:
        Experiment.from_json(experiment)
    except ValueError as exc:
        raise ValueError(f"{where}.experiment.{exc}") from None
    metric_name = _get(meta, "metric_name", str, where, "text")
    if metric_name not in ("accuracy", "r2"):
        raise ValueError(f"{where}.metric_name: expected \"accuracy\" or \"r2\", got {_shown(metric_name)}")
    record = _record(_object(_get(meta, "record", dict, where, "an object"), f"{where}.record"), metric_name,
                     read, f"run{run_id}.record", f"{where}.record")
    branch_epoch = _get(meta, "branch_epoch", (int, type(None)), where, "a whole number or null")
    return Run(id=run_id, name=_get(meta, "name", str, where, "text"), experiment=experiment, record=record,
               markers=[_marker(m, f"{where}.markers[{j}]") for j, m in enumerate(_list(meta, "markers", where))],
               checkpoints=_checkpoints(_get(meta, "checkpoints", dict, where, "an object"), read, names, run_id,
                                        f"{where}.checkpoints"),
               parent=_get(meta, "parent", (int, type(None)), where, "a run id or null"), branch_epoch=branch_epoch,
               visible=_get(meta, "visible", bool, where, "true or false"),
               created=_number(meta, "created", where))


def _record(meta: dict, metric_name: str, read: ReadArray, name: str, where: str) -> RunRecord:
    epochs = _get(meta, "epochs", int, where, "a whole number")
    totals = _object(_get(meta, "totals", dict, where, "an object"), f"{where}.totals")
    values = {key: _number(totals, key, f"{where}.totals") for key in TOTALS}
    rows = read(name)
    shape = (epochs, len(RECORD_COLUMNS))
    if rows.dtype != np.float64 or rows.shape != shape:
        raise ValueError(f"array '{name}' must be float64 of shape {shape} (epochs, columns), got {rows.dtype} {rows.shape}")
    epochs_column, train_loss = rows[:, RECORD_COLUMNS.index("epoch")], rows[:, RECORD_COLUMNS.index("train_loss")]
    if len(rows) and not (np.isfinite(epochs_column).all() and epochs_column[0] >= 1 and (np.diff(epochs_column) == 1).all()
                          and epochs_column[0] == round(epochs_column[0])):
        raise ValueError(f"array '{name}': its epoch column must count whole epochs up by one from 1 or more, "
                         f"got {_shown(epochs_column.tolist())}")
    if not np.isfinite(train_loss).all():
        raise ValueError(f"array '{name}': its training losses must be finite numbers (a recorded epoch did not diverge)")
    return RunRecord.restore(metric_name, rows, values, _get(meta, "validation", bool, where, "true or false"))


def _marker(meta: object, where: str) -> Marker:
    meta = _object(meta, where)
    position = _number(meta, "position", where)
    try:
        return Marker(position, _get(meta, "text", str, where, "text"), _get(meta, "kind", str, where, "text"))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _checkpoints(meta: dict, read: ReadArray, names: list[str], run_id: int, where: str) -> Checkpoints:
    """Checkpoints as they were: the same budget, interval, pinned epochs and states (added in
    epoch order with the saved interval, which keeps each of them). A file written before runs
    kept at most core.run.CHECKPOINT_COUNT states may hold more: they are thinned as they load."""
    budget = _get(meta, "budget", int, where, "a whole number")
    interval = _get(meta, "interval", int, where, "a whole number")
    if interval < 1 or budget < 0:
        raise ValueError(f"{where}: the interval must be ≥ 1 and the budget ≥ 0, got {interval} and {budget}")
    pinned = _list(meta, "pinned", where)
    if not all(isinstance(epoch, int) and not isinstance(epoch, bool) for epoch in pinned):
        raise ValueError(f"{where}.pinned: expected a list of epochs, got {_shown(pinned)}")
    entries = [_object(entry, f"{where}.states[{j}]") for j, entry in enumerate(_list(meta, "states", where))]
    prefix = f"run{run_id}.checkpoints."
    stacks = {name.removeprefix(prefix): read(name) for name in names if name.startswith(prefix)} if entries else {}
    for name, stack in stacks.items():
        if stack.ndim < 1 or len(stack) != len(entries):
            raise ValueError(f"array '{prefix}{name}' must hold {len(entries)} checkpoints, got shape {stack.shape}")
    checkpoints = Checkpoints(budget)
    checkpoints.interval = interval
    epochs: list[int] = []
    for j, entry in enumerate(entries):
        epoch = _get(entry, "epoch", int, f"{where}.states[{j}]", "a whole number")
        if epochs and epoch <= epochs[-1]:
            raise ValueError(f"{where}.states[{j}].epoch: the epochs must increase, got {epoch} after {epochs[-1]}")
        try:
            state = TrainerState.from_parts(entry.get("state"), {name: stack[j] for name, stack in stacks.items()})
        except ValueError as exc:
            raise ValueError(f"{where}.states[{j}] (arrays {prefix}*, row {j}): {exc}") from None
        if state.epoch != epoch or state.cursor:
            raise ValueError(f"{where}.states[{j}]: the state is at epoch {state.epoch} (cursor {state.cursor}), "
                             f"not between epochs at {epoch}")
        checkpoints.add(state, pinned=epoch in pinned)
        epochs.append(epoch)
    thinned = checkpoints.interval > interval  # a file of before the count limit: its run keeps fewer states now
    if (checkpoints.epochs != epochs and not thinned) or checkpoints.pinned != sorted(set(pinned)):
        raise ValueError(f"{where}: the states (epochs {_shown(epochs)}) and pinned epochs {_shown(pinned)} do not fit "
                         f"the interval {interval} and budget {budget}")
    return checkpoints


def _object(value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object, got {_shown(value)}")
    return value


def _list(meta: dict, key: str, where: str) -> list:
    return _get(meta, key, list, where, "a list")


def _get(meta: dict, key: str, kinds: Any, where: str, what: str) -> Any:
    """``meta[key]`` when it is of ``kinds`` (a bool is not a number); ValueError naming ``where.key``."""
    if key not in meta:
        raise ValueError(f"{where}: missing {key!r}")
    value = meta[key]
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise ValueError(f"{where}.{key}: expected {what}, got {_shown(value)}")
    return value


def _number(meta: dict, key: str, where: str) -> float:
    """``meta[key]`` as a finite float; ValueError naming ``where.key`` for anything else."""
    value = _get(meta, key, (int, float), where, "a number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"{where}.{key}: expected a finite number, got {_shown(value)}")
    return number


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
