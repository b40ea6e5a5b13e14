"""What the inspector shows, computed in the trainer's process: the float64 trace (core.trace)
of one chosen sample through the network as it is now, and the update the last mini-batch
made to the parameters.

:class:`InspectorProbe` is a probe (app.trainer_process.Probe): called with the trainer after
every step, load, pause or configuration, it returns an :class:`InspectorData`. It remembers
the parameters it saw at its previous call, so when the trainer has advanced by exactly one
mini-batch since then it can give that step: for every parameter (or only the ``selected``
ones) the value before, the gradient the optimizer used — ``network.gradients_by_layer()``,
the mean over the batch's samples of the data loss's gradient plus the L1/L2 penalty's
(l1·sign(w) + l2·w on the weights W, never on the biases) — the learning rate α and the value
after. With plain SGD, new = old − α·gradient (to the network's rounding: exact in float64);
any other optimizer makes its own update from its state (momentum, running averages), so the
inspector shows new − old then.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .data import encode_targets
from .insight import sample_target_text, split_of
from .trace import Trace, trace

PARAMETER_NAMES = ("W", "b")


@dataclass(frozen=True)
class ParameterStep:
    """One parameter array's update by the last mini-batch: the parameter ``name`` ("W" or "b")
    of layer ``layer`` (0-based, spec order), of ``shape`` (W (n[l], n[l−1]), b (n[l],)).
    ``positions`` (q,): the flat (C order) positions of the numbers kept, None for all of them;
    ``old``, ``gradient`` and ``new`` (q,) float64 values at those positions."""

    layer: int
    name: str
    shape: tuple[int, ...]
    positions: np.ndarray | None
    old: np.ndarray
    gradient: np.ndarray
    new: np.ndarray

    def index(self, k: int) -> tuple[int, ...]:
        """The (0-based) index into the parameter of the k-th number kept."""
        position = k if self.positions is None else int(self.positions[k])
        return tuple(int(i) for i in np.unravel_index(position, self.shape))


@dataclass(frozen=True)
class StepData:
    """The update of the last mini-batch of ``samples`` samples: the ``optimizer`` that made it
    with learning rate ``learning_rate`` (α), the penalties ``l1`` and ``l2`` included in the
    gradient, and one :class:`ParameterStep` per parameter array (dense layers' W then b, in
    layer order)."""

    optimizer: str
    learning_rate: float
    l1: float
    l2: float
    samples: int
    parameters: tuple[ParameterStep, ...]

    @property
    def plain_sgd(self) -> bool:
        """Whether new = old − α·gradient (otherwise the optimizer's own update rule made it)."""
        return self.optimizer == "sgd"

    @property
    def count(self) -> int:
        return sum(len(p.old) for p in self.parameters)


@dataclass(frozen=True)
class InspectorData:
    """The inspector's payload for dataset sample ``index``: its raw inputs ``x`` (n,), its
    target as text and whether it is in the ``part`` "training" or "validation"; the float64
    ``trace`` of that one sample (the network's preprocess applied first, ``standardized`` says
    whether there is one); the training's ``learning_rate``, ``optimizer`` and the network's
    ``dtype``; the names of the inputs and outputs; the split (``val_fraction``, ``seed``) for
    a table of the data; and the last ``step`` when the trainer moved by exactly one mini-batch
    (else None). ``reason`` says why there is no trace (then ``trace`` is None)."""

    index: int
    x: np.ndarray
    target: str
    part: str
    trace: Trace | None
    learning_rate: float
    optimizer: str
    dtype: str
    standardized: bool
    feature_names: tuple[str, ...]
    output_names: tuple[str, ...]
    val_fraction: float
    seed: int
    step: StepData | None
    reason: str = ""


Selection = Sequence[tuple[int, str, tuple[int, ...]]]


class InspectorProbe:
    """The inspector's probe (see the module docstring). Set from any thread, through
    configure_probe: ``index`` (the dataset sample to trace, an int) and ``selected`` (the
    parameters whose update to keep, as (layer, "W" | "b", index) triples; empty for all of
    them; triples that address no parameter of the network are left out)."""

    def __init__(self) -> None:
        self.index = 0
        self.selected: Selection = ()
        self._trainer = None
        self._position = -1  # mini-batches done at the previous call
        self._parameters: list[dict[str, np.ndarray]] = []  # what they were then
        self._step: StepData | None = None
        self._validation: np.ndarray | None = None  # per trainer: which samples are validation ones

    def __call__(self, trainer) -> InspectorData:
        network, data, config = trainer.network, trainer.dataset, trainer.config
        position = trainer.epoch * trainer.batches_per_epoch + trainer.cursor
        parameters = network.parameters_by_layer()
        step = None
        if trainer is self._trainer and position == self._position + 1:
            step = self._step_data(trainer, self._parameters, parameters)
        elif trainer is self._trainer and position == self._position and self._unchanged(parameters):
            step = self._step  # asked again (another sample, a view shown again): the same step
        if trainer is not self._trainer:
            validation = np.zeros(data.n_samples, bool)
            validation[split_of(trainer)[1]] = True
            self._validation = validation
        self._trainer, self._position, self._parameters, self._step = trainer, position, parameters, step
        index = min(max(int(self.index), 0), data.n_samples - 1)
        result, reason = None, ""
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                result = trace(network, data.X[index: index + 1], _encoded_target(data, index, network.output_shape[0]),
                               trainer.loss.name)
        except ValueError as exc:  # a layer the trace has no rule for
            reason = f"The inspector cannot trace this network: {exc}."
        return InspectorData(index, data.X[index].astype(np.float64), sample_target_text(data, index),
                             "validation" if self._validation[index] else "training", result, float(trainer.learning_rate),
                             trainer.optimizer.name, np.dtype(network.backend.dtype).name, network.preprocess is not None,
                             tuple(data.feature_names) or tuple(f"x{j + 1}" for j in range(data.n_features)),
                             _output_names(data, network.output_shape[0]), float(config.val_fraction), int(config.seed), step, reason)

    def _unchanged(self, parameters: list[dict[str, np.ndarray]]) -> bool:
        """Whether ``parameters`` are those of the previous call (no weight was edited since)."""
        return all(np.array_equal(now[name], before[name]) for now, before in zip(parameters, self._parameters, strict=True)
                   for name in now)

    def _step_data(self, trainer, before: list[dict[str, np.ndarray]], after: list[dict[str, np.ndarray]]) -> StepData:
        gradients = trainer.network.gradients_by_layer()
        chosen = _selection(self.selected, after)
        steps = []
        for layer, params in enumerate(after):
            for name in PARAMETER_NAMES:
                if name not in params or (chosen is not None and (layer, name) not in chosen):
                    continue
                positions = None if chosen is None else np.array(sorted(chosen[layer, name]), dtype=np.int64)
                old, gradient, new = (_kept(values, positions) for values in (before[layer][name], gradients[layer][name], params[name]))
                steps.append(ParameterStep(layer, name, params[name].shape, positions, old, gradient, new))
        config = trainer.config
        batch = (trainer.cursor or trainer.batches_per_epoch) - 1  # the mini-batch just done, in its epoch
        samples = min(config.batch_size, trainer.train_size - batch * config.batch_size)
        return StepData(trainer.optimizer.name, float(trainer.learning_rate), float(config.l1), float(config.l2), samples, tuple(steps))


def _selection(selected: Selection, parameters: list[dict[str, np.ndarray]]) -> dict[tuple[int, str], set[int]] | None:
    """The selected numbers as flat positions per (layer, name); None when none is selected
    (all of them are kept). Triples that address no parameter of ``parameters`` are left out."""
    if not selected:
        return None
    chosen: dict[tuple[int, str], set[int]] = {}
    for layer, name, where in selected:
        values = parameters[layer].get(name) if 0 <= layer < len(parameters) else None
        index = tuple(where)
        if values is None or len(index) != values.ndim or not all(0 <= i < n for i, n in zip(index, values.shape, strict=True)):
            continue
        chosen.setdefault((layer, name), set()).add(int(np.ravel_multi_index(index, values.shape)))
    return chosen


def _kept(values: np.ndarray, positions: np.ndarray | None) -> np.ndarray:
    """``values`` as a flat float64 vector, at ``positions`` only when given."""
    flat = values.astype(np.float64).ravel()
    return flat if positions is None else flat[positions]


def _encoded_target(dataset, index: int, outputs: int) -> np.ndarray:
    """The target of sample ``index`` as the output layer sees it (core.data.encode_targets), (1, k)."""
    one = dataclasses.replace(dataset, X=dataset.X[index: index + 1], y=dataset.y[index: index + 1])
    return encode_targets(one, outputs)


def _output_names(dataset, outputs: int) -> tuple[str, ...]:
    """What each output unit stands for: a class (softmax), P(the second class) for one sigmoid
    unit, a regression target; () when the data do not say."""
    if dataset.task == "regression":
        return tuple(dataset.target_names) if len(dataset.target_names) == outputs else ()
    if len(dataset.class_names) == outputs:
        return tuple(dataset.class_names)
    if outputs == 1 and len(dataset.class_names) == 2:
        return (f"P({dataset.class_names[1]})",)
    return ()
