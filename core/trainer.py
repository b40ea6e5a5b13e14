"""Mini-batch training, one epoch or one mini-batch at a time, with immutable reports.

The trainer owns the data split (:func:`split_indices`, the one the views and the exports
use too: independent samples at random; forecasting windows of one series in time order by
time, the validation part the last stretch of windows and the training part ending T + h − 1
windows before it, so that no window of one part shares a row or a target with the other;
the training part is shuffled each epoch, seeded, as any other), input standardization
(fitted on the training part only; never of token ids: when the network's first layer is an
Embedding its inputs stay raw whole numbers whatever ``standardize`` says, see
:func:`fits_standardization`), the optimizer and the position inside the current epoch. ``step_batch()`` runs the
next mini-batch, ``run_epoch()`` runs the rest of the current epoch; both return a
:class:`Report` holding host numbers only, never live arrays. Running the batches of an
epoch one by one gives the same weights, bit for bit, as running the epoch at once.

The training loss and metric of an epoch are over the network outputs seen during that
epoch's mini-batches (as Keras reports them); losses exclude the L1/L2 penalty so that
training and validation losses compare. With ``clip_norm`` > 0 each mini-batch's gradient,
penalty included, is scaled down to a global L2 norm of at most clip_norm (:func:`clip_by_global_norm`).
With ``bptt_steps`` k > 0 the recurrent layers backpropagate through time truncated to chunks of k
steps back from the last (:func:`core.recurrent.set_bptt_steps`, set when the trainer is made).
A non-finite loss or weight rolls the network and optimizer back to the start of the epoch
(the last finite weights) and the report says what it found (inputs far from unit scale,
a penalty too large, or a learning rate too high). :meth:`request_stop` (thread-safe) stops a running epoch between mini-batches;
the next call continues where it stopped; :meth:`discard_partial_epoch` goes back to the
end of the last complete epoch instead. :meth:`edit_parameter` sets one weight or bias by
hand between mini-batches and records it (with the live setting changes, in the state).

:meth:`Trainer.state` gives the whole state of the run (a host
:class:`~core.trainer_state.TrainerState`: parameters, the network's non-trainable state
(BatchNorm's running statistics, never touched by the optimizer or a penalty), optimizer, every random generator,
the position inside the epoch, the live setting changes and hand edits) and :meth:`Trainer.restore`
continues from one, bit for bit; the rollback and the discard go back to the epoch's start
through the same parts (:class:`~core.trainer_state.EpochStart`), generators included, so
a run that diverged and went on equals one that never diverged.

What cannot train is refused up front with a :class:`ConfigError`: a loss that does not fit
the targets or the output layer, non-finite initial weights, inputs that overflow the
backend's dtype. Completed epochs are kept in ``history``, a compact
:class:`~core.run_record.RunRecord` (56 bytes an epoch).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import operator
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, NamedTuple

import numpy as np
from pydantic import Field

from .backend import DTYPES
from .data import DataError, Dataset, a_or_an, counted, encode_targets, suggested_head
from .layers import Dropout
from .limits import check_allocation
from .losses import LOSSES, accuracy, add_penalty_gradient, get_loss, r_squared
from .network import Network, Preprocess, activation_bytes
from .optimizers import LIVE_SETTINGS, OPTIMIZERS, check_setting, make_optimizer
from .recurrent import set_bptt_steps
from .run_record import RunRecord
from .trainer_state import PARAMETER_NAMES, EpochStart, ParameterEdit, SettingChange, TrainerState, frozen_copy, frozen_optimizer

PROBE_SAMPLES = 128  # training samples used to count dead ReLU units each epoch
EVAL_CHUNK = 4096
RAW_INPUT_LIMIT = 10.0  # an unstandardized input beyond this size is named as the cause of a divergence
CROSS_ENTROPY = ("binary_crossentropy", "categorical_crossentropy")
PENALTY_DOMINANT = 1.0  # an L2 coefficient from which the penalty outweighs a mean loss
UnitInterval = Annotated[float, Field(ge=0, lt=1)]  # a TrainingConfig field in [0, 1)
EPOCH_FIELDS = ("batch_size", "shuffle", "seed", "val_fraction", "standardize")  # settings that decide an epoch's batches


class ConfigError(ValueError):
    """Training settings that cannot work; the message says which and why."""

@dataclass(frozen=True)
class TrainingConfig:
    """Everything that decides a training run besides the network and the data.

    Each field's type declares what it takes (a choice, or a number and its range); the
    schema of experiment files (core.schema) is derived from these fields, and every
    TrainingConfig, read from a file or built in code, is checked against them: a wrong
    value raises ConfigError naming the field, e.g. ``learning_rate: expected a number > 0,
    got -1``.
    """

    loss: Literal[LOSSES] | None = None  # None: the loss suggested by the data's task
    optimizer: Literal[OPTIMIZERS] = "adam"
    learning_rate: Annotated[float, Field(gt=0)] = 0.01
    batch_size: Annotated[int, Field(ge=1)] = 32
    epochs: Annotated[int, Field(ge=0)] = 200
    l1: Annotated[float, Field(ge=0)] = 0.0
    l2: Annotated[float, Field(ge=0)] = 0.0
    seed: Annotated[int, Field(ge=0)] = 0
    val_fraction: UnitInterval = 0.2
    shuffle: bool = True
    standardize: bool = True  # fit mean 0, std 1 on the training part; never for an Embedding's token ids
    momentum: UnitInterval = 0.9
    nesterov: bool = False
    beta1: UnitInterval = 0.9
    beta2: UnitInterval = 0.999
    rho: UnitInterval = 0.9
    epsilon: Annotated[float, Field(gt=0)] = 1e-7
    dtype: Literal[tuple(DTYPES)] = "float32"  # the network's floating-point type (core.backend.get_backend)
    clip_norm: Annotated[float, Field(ge=0)] = 0.0  # the largest global gradient norm ‖g‖ a step takes; 0: no clipping
    bptt_steps: Annotated[int, Field(ge=0)] = 0  # truncated BPTT: the recurrent gradient cut every k steps back from T; 0: full

    def __post_init__(self) -> None:
        from .schema import check_training_config  # imported here: core.schema imports this module

        check_training_config(self)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: object, where: str = "") -> TrainingConfig:
        """Build from a JSON object; unknown keys and wrong values are a ConfigError naming
        the key (after ``where``), missing keys take defaults."""
        from .schema import validate_training

        return cls(**validate_training(data, where))


@dataclass(frozen=True)
class LayerStats:
    """Per-layer numbers at the end of a report: ‖W‖ and ‖dW‖ (of the last mini-batch) of the
    layer's weights (its ``weight_name`` parameter, any shape; None for a layer without
    weights), and the fraction of a ReLU-family layer's units (its output's last axis: units,
    or a convolution's filters) that output ≤ 0 on every probe sample, at every position
    (None otherwise)."""

    index: int
    label: str
    weight_norm: float | None
    grad_norm: float | None
    dead_fraction: float | None


@dataclass(frozen=True)
class Report:
    """What one ``run_epoch()`` or ``step_batch()`` call did; plain host values only.

    ``epoch`` is the 1-based number of the epoch the work belongs to; ``batch`` of
    ``batches`` mini-batches of it are done (``complete`` when all are). Losses and the
    metric (accuracy for classification, R² for regression) of the training part cover
    the epoch's mini-batches so far; validation values are for the weights now (None
    without a validation part). ``diverged`` gives the reason when a non-finite value
    rolled the epoch back; ``stopped`` says a stop request cut the epoch short.
    """

    epoch: int
    batch: int
    batches: int
    train_loss: float
    val_loss: float | None
    train_metric: float
    val_metric: float | None
    metric_name: str
    learning_rate: float
    seconds: float
    samples_per_second: float
    layers: tuple[LayerStats, ...]
    diverged: str | None = None
    stopped: bool = False

    @property
    def complete(self) -> bool:
        return self.batch == self.batches and self.diverged is None

    def to_json(self) -> dict:
        """The CLI's per-epoch record: epoch, losses, metric named by kind, lr, seconds."""
        prefix = "accuracy" if self.metric_name == "accuracy" else "r2"
        return {
            "epoch": self.epoch,
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            f"train_{prefix}": self.train_metric,
            f"val_{prefix}": self.val_metric,
            "lr": self.learning_rate,
            "seconds": self.seconds,
        }


def check_loss_fits(loss: str, activation: str | None, units: int) -> None:
    """Raise ConfigError when the loss cannot train an output layer of ``units`` units with
    ``activation``: a cross-entropy on outputs that are not probabilities, binary
    cross-entropy on a softmax (its units are not independent yes/no answers), or categorical
    cross-entropy on one unit (only the samples of class 1 would count). (A softmax over one
    unit is refused by the layer itself.)"""
    if loss == "binary_crossentropy" and activation == "softmax":
        raise ConfigError(f"binary cross-entropy treats each output unit as a yes/no probability of its own, but a softmax "
                          f"over {units} units is one choice among classes: use categorical cross-entropy")
    if loss == "binary_crossentropy" and activation != "sigmoid":
        raise ConfigError(f"binary cross-entropy needs probabilities: use a sigmoid output layer, not {activation}")
    if loss == "categorical_crossentropy" and activation not in ("softmax", "sigmoid"):
        raise ConfigError(f"categorical cross-entropy needs probabilities: use a softmax output layer, not {activation}")
    if loss == "categorical_crossentropy" and units == 1:
        raise ConfigError(f"categorical cross-entropy on one {activation} unit counts only the samples of class 1: "
                          "use binary cross-entropy for one output unit")


def check_output_layer(network: Network) -> None:
    """Refuse a network that does not end with a dense layer: the loss needs one output vector
    per sample, made by the output layer's activation (and fused with it)."""
    last = network.layers[-1]
    if len(network.output_shape) != 1:
        shape = "×".join(map(str, network.output_shape))
        raise ConfigError(f"the last layer ({last.describe()}) outputs {shape} per sample: end the network with Flatten and a "
                          "Dense output layer")
    if last.activation_name is None:
        raise ConfigError(f"the network ends with {a_or_an(last.describe())} layer: end it with a Dense output layer, whose "
                          "activation makes the outputs the loss compares with the targets")


def check_batch_statistics(network: Network, batch_size: int) -> None:
    """Refuse a BatchNorm that would see one value per feature or channel in a mini-batch of
    ``batch_size``: its batch variance is then 0, so it outputs β and nothing before it learns."""
    for i, layer in enumerate(network.layers):
        if layer.kind == "batchnorm" and batch_size * math.prod(layer.input_shape[:-1]) == 1:
            raise ConfigError(f"layer {i + 1} ({layer.describe()}) normalises each feature over the mini-batch, and a batch of "
                              "1 sample gives it one value per feature (variance 0, nothing learns): use a batch size of 2 or more")


def check_input_fits(input_shape: tuple[int, ...], dataset: Dataset) -> None:
    """Refuse a network whose input is neither the data's samples (n,) nor its images (H, W, C)."""
    if input_shape in ((dataset.n_features,), dataset.sample_shape):
        return
    if len(input_shape) == 1:
        raise ConfigError(f"the network takes {input_shape[0]} inputs but the data has {dataset.n_features} features")
    shape = "×".join(map(str, dataset.sample_shape))
    raise ConfigError(f"the network takes images of shape {'×'.join(map(str, input_shape))} but the data's samples are {shape}")


def check_token_ids(network: Network, X: np.ndarray) -> None:
    """Refuse inputs X (m, T) an Embedding first layer cannot look up, naming the first
    offending sample and value: they must be whole numbers 0 … vocabulary − 1 (checked on the
    host float64 data, so the value named is exact; the layer's own check, on the backend's
    dtype, stays the last guard). Nothing for other networks."""
    if not takes_token_ids(network):
        return
    vocabulary = network.layers[0].vocabulary
    with np.errstate(invalid="ignore"):
        bad = ~((X >= 0) & (X < vocabulary) & (X == np.floor(X)))  # (m, n); NaN is bad too
    if not bad.any():
        return
    sample, step = divmod(int(np.flatnonzero(bad)[0]), X.shape[1])
    value = float(X[sample, step])
    whole = math.isfinite(value) and value == math.floor(value)
    where = f"sample {sample + 1}, step {step + 1}: {int(value) if whole else value!r}"
    if not whole:
        raise ConfigError(f"an Embedding first layer takes token ids, whole numbers 0 … {vocabulary - 1}; {where} is not one "
                          "(these inputs look like measurements: start the network with a recurrent or dense layer instead)")
    if value < 0:
        raise ConfigError(f"an Embedding first layer takes token ids 0 … {vocabulary - 1}; {where} is negative")
    largest = int(np.max(X))
    raise ConfigError(f"an Embedding first layer takes token ids 0 … {vocabulary - 1} (its vocabulary of {vocabulary:,}); "
                      f"{where} is beyond it: set the vocabulary to at least {largest + 1:,}")


def check_targets_fit(loss: str, dataset: Dataset) -> None:
    """Raise ConfigError when a cross-entropy loss is asked of continuous targets: regression
    data (float targets) whose values are not class labels (0 or 1; for categorical
    cross-entropy, one 1 per sample)."""
    if loss not in CROSS_ENTROPY or dataset.task != "regression":
        return
    y = dataset.y
    labels = np.isin(y, (0.0, 1.0))
    if labels.all() and (loss == "binary_crossentropy" or (y.sum(axis=1) == 1).all()):
        return
    example = f" (values such as {y[~labels].flat[0]:g})" if not labels.all() else ""
    kind = "binary" if loss == "binary_crossentropy" else "categorical"
    target = ", ".join(dataset.target_names) or "the target"
    raise ConfigError(f"{kind} cross-entropy needs class labels as targets, but {target} is continuous{example}: "
                      "use mse for regression, or give the classes as whole-number labels")


class Trainer:
    """Trains ``network`` on ``dataset`` as ``config`` says.

    Args:
        network: the network to train; its preprocess is fitted here when
            :func:`fits_standardization` says so (``config.standardize`` set, none yet, and
            its inputs are not token ids).
        dataset: raw data; split with ``config.seed`` into training and validation parts.
        config: the training settings.
    """

    def __init__(self, network: Network, dataset: Dataset, config: TrainingConfig):
        self.network, self.dataset, self.config = network, dataset, config
        self.backend = backend = network.backend
        check_input_fits(network.input_shape, dataset)
        check_token_ids(network, dataset.X)
        check_output_layer(network)
        check_batch_statistics(network, min(config.batch_size, dataset.n_samples))
        _check_finite_weights(network)
        loss_name = config.loss or suggested_head(dataset.task, dataset.n_outputs)[1]
        check_targets_fit(loss_name, dataset)
        check_loss_fits(loss_name, network.output_activation, network.output_shape[0])
        self.loss = get_loss(loss_name)
        try:
            targets = encode_targets(dataset, network.output_shape[0])
        except DataError as exc:
            raise ConfigError(str(exc)) from None
        self.metric_name = "r2" if dataset.task == "regression" else "accuracy"
        self._metric = r_squared if dataset.task == "regression" else accuracy

        train_idx, val_idx = split_indices(dataset, config.val_fraction, config.seed)
        self._check_memory(len(train_idx), len(val_idx))
        preprocess = network.preprocess
        with np.errstate(over="ignore", invalid="ignore"):  # inputs beyond the dtype's range: refused just below
            if fits_standardization(network, config):
                preprocess = Preprocess.fit(dataset.X[train_idx])
            x = preprocess.apply(dataset.X) if preprocess else dataset.X
            self.x_train, self.y_train = backend.asarray(x[train_idx]), backend.asarray(targets[train_idx])
            self.x_val, self.y_val = backend.asarray(x[val_idx]), backend.asarray(targets[val_idx])
        del x
        self._check_inputs_fit(preprocess)
        network.preprocess = preprocess
        self.train_size, self.val_size = len(train_idx), len(val_idx)
        self.batches_per_epoch = math.ceil(self.train_size / config.batch_size)

        self.optimizer = make_optimizer(config.optimizer, config.to_json())
        self.optimizer.bind(network.params.size, backend.xp, backend.dtype)
        self._shuffle_rng = np.random.default_rng([config.seed, 1])
        self._stop = threading.Event()
        self._plans: list[BatchPlan] | None = None  # made at the first epoch: see _make_plans
        self._gather = _numpy_gather if backend.xp is np else _device_gather
        self._output_activation = network.output_activation
        self._relu_layers = [i for i, layer in enumerate(network.layers) if layer.activation_name in ("relu", "leaky_relu")]
        self._dropout_layers = [(f"layer{i}", layer) for i, layer in enumerate(network.layers) if isinstance(layer, Dropout)]
        self.epoch = 0  # completed epochs
        self.cursor = 0  # mini-batches done in the current epoch
        self.history = RunRecord(self.metric_name)
        self._order = self._epoch_y = self._epoch_out = None
        self._epoch_start: EpochStart | None = None  # on the device: what the current epoch started from
        self._setting_changes: list[SettingChange] = []
        self._parameter_edits: list[ParameterEdit] = []
        set_bptt_steps(network.layers, config.bptt_steps)  # last: a trainer refused leaves the network as it was

    def _check_memory(self, train_size: int, val_size: int) -> None:
        """Refuse (ResourceError) a run whose data copies and activations exceed the memory
        limit: :func:`_data_copy_bytes`, and the activations of a training mini-batch and of a
        validation chunk (each batch size keeps buffers of its own)."""
        network, dataset, config = self.network, self.dataset, self.config
        batch = min(config.batch_size, train_size)
        needed = (_data_copy_bytes(network, dataset, config, train_size) + activation_bytes(network, batch)
                  + activation_bytes(network, min(EVAL_CHUNK, val_size)))
        check_allocation(f"training on {dataset.n_samples} samples × {dataset.n_features} features with mini-batches of {batch} "
                         f"({np.dtype(self.backend.dtype).name} copies of the data and the activations of a batch)", needed)

    def _check_inputs_fit(self, preprocess: Preprocess | None) -> None:
        """Refuse inputs that are not finite in the backend's dtype, naming the first such
        feature: values beyond its range (around 1e300 in float32), a standardization that
        overflowed (a variance beyond float64), or standardized values beyond the range."""
        xp = self.backend.xp
        finite = xp.ones(self.dataset.n_features, dtype=bool)
        for x in (self.x_train, self.x_val):
            if len(x):
                finite &= xp.isfinite(x).all(axis=0)
        finite = self.backend.to_host(finite)
        if preprocess is not None:
            finite &= np.isfinite(preprocess.mean) & np.isfinite(preprocess.std)
        if finite.all():
            return
        column = int(np.flatnonzero(~finite)[0])
        name, dtype = _feature_name(self.dataset, column), np.dtype(self.backend.dtype)
        peak, largest = float(np.abs(self.dataset.X[:, column]).max()), float(np.finfo(dtype).max)
        if preprocess is not None and not (math.isfinite(preprocess.mean[column]) and math.isfinite(preprocess.std[column])):
            raise ConfigError(f"input feature {name} reaches |x| = {peak:.3g}, too large to standardize "
                              "(its variance overflows): rescale that feature")
        if peak > largest:
            raise ConfigError(f"input feature {name} reaches |x| = {peak:.3g}, beyond what {dtype.name} holds ({largest:.3g}): "
                              "training cannot work; rescale that feature (or use float64)")
        raise ConfigError(f"input feature {name} becomes larger than {dtype.name} holds ({largest:.3g}) once standardized: "
                          "training cannot work; check the model's standardization or rescale that feature")

    # ----- control (thread-safe) ----------------------------------------------------------
    def request_stop(self) -> None:
        """Ask a running ``run_epoch`` to return after the current mini-batch."""
        self._stop.set()

    def set_learning_rate(self, learning_rate: float) -> None:
        """Use α = ``learning_rate`` from the next mini-batch on."""
        self.set_setting("learning_rate", learning_rate)

    def set_setting(self, name: str, value: float) -> None:
        """Use ``value`` for the live optimizer setting ``name`` (one of LIVE_SETTINGS that this
        optimizer has) from the next mini-batch on, and record it in :attr:`setting_changes`.

        Raises:
            ConfigError: a setting this optimizer does not have, or a value it cannot take.
        """
        if name not in LIVE_SETTINGS or not hasattr(self.optimizer, name):
            live = ", ".join(s for s in LIVE_SETTINGS if hasattr(self.optimizer, s))
            raise ConfigError(f"{name!r} is not a live setting of the {self.optimizer.name} optimizer (it has {live})")
        try:
            value = check_setting(name, value)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        setattr(self.optimizer, name, value)
        self._setting_changes.append((self.epoch + self.cursor / self.batches_per_epoch, name, value))

    @property
    def setting_changes(self) -> tuple[SettingChange, ...]:
        """(position in epochs done, setting name, new value) of every live setting change, in order."""
        return tuple(self._setting_changes)

    def edit_parameter(self, layer: int, name: str, index: tuple[int, ...], value: float) -> float:
        """Set one number of the network by hand, between mini-batches: parameter ``name`` ("W"
        or "b") of ``network.layers[layer]`` at ``index`` (W: (unit, input), b: (unit,), 0-based)
        becomes ``value`` rounded to the network's dtype, which is returned. The optimizer's state
        stays as it is. Recorded in :attr:`parameter_edits` (so states, files and exports keep it).

        Raises:
            ConfigError: no such layer, parameter or index, or a value that is not finite in the dtype.
        """
        where, array, index = self._parameter_at(layer, name, index)
        layer = int(layer)
        dtype = np.dtype(self.backend.dtype)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
        with np.errstate(over="ignore"):
            stored = dtype.type(number)
        if not math.isfinite(number) or not np.isfinite(stored):
            raise ConfigError(f"{where}: expected a finite number within {dtype.name}'s range (±{np.finfo(dtype).max:.3g}), "
                              f"got {number:g}")
        array[index] = stored
        self._parameter_edits.append(ParameterEdit(self.epoch, self.cursor, layer, name, index, float(stored)))
        return float(stored)

    def _parameter_at(self, layer: object, name: object, index: object) -> tuple[str, Any, tuple[int, ...]]:
        """(how to name it, the layer's parameter array (a view of ``network.params``), the index
        as a tuple of ints) of parameter ``name`` of layer ``layer`` at ``index``; ConfigError
        naming what does not exist."""
        layers = self.network.layers
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < len(layers):
            asked = f"layer {layer + 1}" if isinstance(layer, (int, np.integer)) and not isinstance(layer, bool) else repr(layer)
            raise ConfigError(f"the network has layers 1…{len(layers)}, not {asked}")  # counted from 1, as in the other messages
        described = f"layer {layer + 1} ({layers[layer].describe()})"
        params = layers[layer].params
        if isinstance(name, str) and name in params and name not in PARAMETER_NAMES:
            raise ConfigError(f"only weights and biases ({' and '.join(PARAMETER_NAMES)}) can be set by hand, not {name} of {described}")
        if not isinstance(name, str) or name not in params:
            have = " and ".join(params) or "no parameters"
            raise ConfigError(f"{described} has {have}, not {name!r}")
        array = params[name]
        given = index
        try:
            index = tuple(operator.index(i) for i in given)
        except TypeError:
            index = None
        shape = tuple(array.shape)
        if index is None or len(index) != len(shape) or not all(0 <= i < n for i, n in zip(index, shape, strict=True)):
            raise ConfigError(f"{name} of {described} is {'×'.join(map(str, shape))}: "
                              f"there is no index {given!r} (0-based, one whole number per axis) in it")
        return f"{name}{list(index)} of {described}", array, index

    @property
    def parameter_edits(self) -> tuple[ParameterEdit, ...]:
        """Every number set by hand (:meth:`edit_parameter`) that the weights still hold, in order."""
        return tuple(self._parameter_edits)

    @property
    def learning_rate(self) -> float:
        return self.optimizer.learning_rate

    # ----- work ---------------------------------------------------------------------------
    def run_epoch(self) -> Report:
        """Run the rest of the current epoch (all of it when none has started)."""
        self._stop.clear()
        start, first = time.perf_counter(), self.cursor
        stop = self._stop
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # divergence is checked in _finish
            while self.cursor < self.batches_per_epoch:
                if stop.is_set():
                    break
                self._train_batch()
            return self._finish(start, first, stopped=self.cursor < self.batches_per_epoch)

    def step_batch(self) -> Report:
        """Run the next mini-batch of the current epoch (starting a new epoch if needed)."""
        start, first = time.perf_counter(), self.cursor
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # divergence is checked in _finish
            self._train_batch()
            return self._finish(start, first, stopped=False)

    def discard_partial_epoch(self) -> None:
        """Go back to the end of the last complete epoch: the parameters, the optimizer's state
        and every generator (shuffle order, Dropout masks) as they were when the current epoch
        started, which is then started again by the next call. Nothing to do between epochs."""
        if self.cursor:
            self._rewind()

    def _rewind(self) -> None:
        """Back to the start of the current epoch, keeping the live settings in force now; the
        hand edits made inside the epoch go with its weights."""
        start = self._epoch_start
        self.network.params[...] = start.params
        self.network.state[...] = start.network_state
        self.optimizer.load_state_dict({**start.optimizer, "settings": {}})
        self._set_generators(start.generators)
        self.cursor = 0
        self._parameter_edits = [edit for edit in self._parameter_edits if (edit.epoch, edit.batch) <= (self.epoch, 0)]

    # ----- state --------------------------------------------------------------------------
    def state(self) -> TrainerState:
        """A host copy of everything that decides the rest of the run (later training does not change it)."""
        start = outputs = None
        if self.cursor:
            seen = min(self.cursor * self.config.batch_size, self.train_size)
            outputs = frozen_copy(self.backend.to_host(self._epoch_out[:seen]))
            epoch_start = self._epoch_start
            start = EpochStart(frozen_copy(self.backend.to_host(epoch_start.params)),
                               self._host_optimizer(epoch_start.optimizer), copy.deepcopy(epoch_start.generators),
                               self._host_network_state(epoch_start.network_state))
        return TrainerState(epoch=self.epoch, cursor=self.cursor, config=self.config.to_json(), train_size=self.train_size,
                            params=frozen_copy(self.backend.to_host(self.network.params)),
                            optimizer=frozen_optimizer(self.optimizer.state_dict()), generators=self._generator_states(),
                            setting_changes=self.setting_changes, epoch_start=start, outputs=outputs,
                            parameter_edits=self.parameter_edits, network_state=self._host_network_state(self.network.state))

    def _host_network_state(self, state: Any) -> np.ndarray | None:
        """A read-only host copy of the (S,) non-trainable state ``state``; None for a network without any."""
        return frozen_copy(self.backend.to_host(state)) if self.network.state_count else None

    def restore(self, state: TrainerState) -> None:
        """Continue exactly from ``state``; :attr:`history` starts empty, epochs numbered on from ``state.epoch``.

        With this trainer's config equal to ``state.config`` the run goes on as the original
        would, bit for bit. Otherwise (a branch with changed settings) the parameters, epoch,
        generators, setting changes and hand edits come from ``state``, the optimizer keeps its steps and
        moments only when it is of the same kind, and this config's settings apply.

        Raises:
            ConfigError: a state of another network (parameter count, non-trainable state, Dropout layers) or data
                (training-set size), or taken inside an epoch when this config batches the
                epoch differently (batch size, shuffling, split).
        """
        self._check_restorable(state)
        self._check_edits(state)
        branch = TrainingConfig.from_json(state.config) != self.config  # a state's missing keys are defaults (older states)
        if branch:
            self.optimizer = make_optimizer(self.config.optimizer, self.config.to_json())
            self.optimizer.bind(self.network.params.size, self.backend.xp, self.backend.dtype)
        self.epoch, self.cursor = state.epoch, 0
        if state.cursor:
            self._load(state.epoch_start, branch)
            self._begin_epoch()  # the epoch's shuffle order, drawn again from its start
            self._epoch_out[: len(state.outputs)] = self.backend.asarray(state.outputs)
        self._load(state, branch)
        self.cursor = state.cursor
        self._setting_changes = list(state.setting_changes)
        self._parameter_edits = list(state.parameter_edits)
        self.history = RunRecord(self.metric_name)

    def _check_restorable(self, state: TrainerState) -> None:
        mine, theirs = self.network.params.size, state.params.size
        if mine != theirs:
            raise ConfigError(f"the trainer state is of a network with {theirs} parameters, this network has {mine}")
        if state.network_state is not None and state.network_state.size != self.network.state_count:
            raise ConfigError(f"the trainer state is of a network with {state.network_state.size} non-trainable numbers "
                              f"(running statistics), this network has {self.network.state_count}")
        if state.network_state is None and self.network.state_count:
            raise ConfigError("the trainer state has none of the running statistics this network's BatchNorm layers keep")
        for where, part in (("", state), ("epoch start's ", state.epoch_start)):
            problem = self.network.state_problem(part.network_state) if part is not None and part.network_state is not None else None
            if problem:
                raise ConfigError(f"the trainer state's {where}running statistics do not fit: {problem}")
        dropout = sorted(state.generators["dropout"])
        if dropout != sorted(name for name, _ in self._dropout_layers):
            raise ConfigError(f"the trainer state is of a network with Dropout at {', '.join(dropout) or 'no layer'}, "
                              f"this network has it at {', '.join(name for name, _ in self._dropout_layers) or 'no layer'}")
        if state.train_size != self.train_size:
            raise ConfigError(f"the trainer state was trained on {state.train_size} training samples, "
                              f"this data and split give {self.train_size}")
        if not state.cursor:
            return
        config = self.config.to_json()
        changed = [f"{k} {state.config.get(k)!r} → {config[k]!r}" for k in EPOCH_FIELDS if state.config.get(k) != config[k]]
        if changed:
            raise ConfigError(f"the trainer state was taken inside epoch {state.epoch + 1}, which cannot go on with other "
                              f"batches ({', '.join(changed)}): continue from a state between epochs")
        if state.outputs.shape[1:] != self.y_train.shape[1:]:
            raise ConfigError(f"the trainer state's outputs have {state.outputs.shape[1]} columns, "
                              f"this network gives {self.y_train.shape[1]}")

    def _check_edits(self, state: TrainerState) -> None:
        for edit in state.parameter_edits:
            try:
                self._parameter_at(edit.layer, edit.name, edit.index)
            except ConfigError as exc:
                raise ConfigError(f"the trainer state's hand edit at epoch {edit.epoch}, mini-batch {edit.batch} does not "
                                  f"fit this network: {exc}") from None

    def _load(self, part: TrainerState | EpochStart, branch: bool) -> None:
        """Parameters, non-trainable state (none: the network's initial state), optimizer state and
        generators from ``part`` (host arrays). In a branch the optimizer (already made from this
        config) takes only the steps and moments, and only from an optimizer of its own kind."""
        network = self.network
        network.params[...] = self.backend.asarray(part.params)
        if part.network_state is None:
            network.set_state([layer.initial_state() for layer in network.layers])
        else:
            network.state[...] = self.backend.asarray(part.network_state)
        optimizer = part.optimizer
        if not branch:
            self.optimizer.load_state_dict(optimizer)
        elif optimizer["name"] == self.optimizer.name:
            self.optimizer.load_state_dict({**optimizer, "settings": {}})
        self._set_generators(part.generators)

    def _host_optimizer(self, state: dict) -> dict:
        """A copy of ``state`` (a state_dict with device slots) with read-only host copies of its slots."""
        return {**state, "settings": dict(state["settings"]),
                "slots": {name: frozen_copy(self.backend.to_host(slot)) for name, slot in state["slots"].items()}}

    def _generator_states(self) -> dict:
        return {"shuffle": self._shuffle_rng.bit_generator.state,
                "dropout": {name: layer.rng_state for name, layer in self._dropout_layers}}

    def _set_generators(self, states: dict) -> None:
        self._shuffle_rng.bit_generator.state = states["shuffle"]
        for name, layer in self._dropout_layers:
            layer.rng_state = states["dropout"][name]

    def run(self, epochs: int, on_report: Callable[[Report], None] | None = None) -> list[Report]:
        """Run up to ``epochs`` epochs, calling ``on_report`` after each; stop on divergence."""
        reports = []
        for _ in range(epochs):
            report = self.run_epoch()
            reports.append(report)
            if on_report:
                on_report(report)
            if report.diverged or report.stopped:
                break
        return reports

    def _begin_epoch(self) -> None:
        """Snapshot the epoch's start and draw its shuffle order: ``_order`` and the shuffled
        targets ``_epoch_y`` are filled in place, so the batch plans' views stay valid."""
        network = self.network
        if self._plans is None:
            self._plans = self._make_plans()
        self._epoch_start = EpochStart(network.params.copy(), self.optimizer.state_dict(host=False), self._generator_states(),
                                       network.state.copy())
        if self.config.shuffle:
            self._order[...] = self.backend.xp.asarray(self._shuffle_rng.permutation(self.train_size))
            self._gather(self.y_train, self._order, self._epoch_y)

    def _make_plans(self) -> list[BatchPlan]:
        """One :class:`BatchPlan` per mini-batch of an epoch, and the buffers they are views of.

        Shuffled, a batch's inputs are gathered from ``x_train`` into one (batch size, n)
        buffer when the batch comes (not the whole epoch at once), in the epoch's order; the
        targets of the whole epoch are gathered at its start (the epoch's loss needs them).
        """
        xp, dtype, size, rows = self.backend.xp, self.backend.dtype, self.config.batch_size, self.train_size
        self._epoch_out = xp.empty(self.y_train.shape, dtype)
        if self.config.shuffle:
            self._order = xp.empty(rows, dtype=xp.intp)
            self._epoch_y = xp.empty_like(self.y_train)
            batch_x = xp.empty((min(size, rows), *self.x_train.shape[1:]), self.x_train.dtype)
        else:
            self._epoch_y = self.y_train
        deltas: dict[int, Any] = {}
        plans = []
        for start in range(0, rows, size):
            end = min(start + size, rows)
            delta = deltas.setdefault(end - start, xp.empty((end - start, *self.y_train.shape[1:]), dtype))
            if self.config.shuffle:
                x, order = batch_x[: end - start], self._order[start:end]
            else:
                x, order = self.x_train[start:end], None
            plans.append(BatchPlan(x, order, self._epoch_y[start:end], self._epoch_out[start:end], delta))
        return plans

    def _train_batch(self) -> None:
        if self.cursor == 0:
            self._begin_epoch()
        net, xp, config = self.network, self.backend.xp, self.config
        plan = self._plans[self.cursor]
        if plan.order is not None:
            self._gather(self.x_train, plan.order, plan.x)
        out = net.forward(plan.x, True)
        plan.out[...] = out
        delta, is_dz = self.loss.output_delta(out, plan.y, self._output_activation, plan.delta, xp)
        net.backward(delta, is_dz)
        if config.l1 or config.l2:
            add_penalty_gradient(net.weights, net.grads[: net.n_regularized], config.l1, config.l2, xp)
        if config.clip_norm:
            clip_by_global_norm(net.grads, config.clip_norm, xp)
        self.optimizer.step(net.params, net.grads)
        self.cursor += 1

    def _finish(self, start: float, first_batch: int, stopped: bool) -> Report:
        """Measure, check for divergence, and build the report of the work just done."""
        xp = self.backend.xp
        seen = min(self.cursor * self.config.batch_size, self.train_size)
        done = seen - min(first_batch * self.config.batch_size, self.train_size)
        out, y = self._epoch_out[:seen], self._epoch_y[:seen]
        train_loss = self.loss.value(out, y, xp) if seen else float("nan")
        epoch_number, batch = self.epoch + 1, self.cursor
        diverged = None
        if not math.isfinite(train_loss) or not bool(xp.isfinite(self.network.params).all()):
            diverged = self._divergence_finding(train_loss, epoch_number)
            self._rewind()
        train_metric = self._metric(out, y, xp) if seen and diverged is None else float("nan")
        val_loss, val_metric = self._evaluate_validation()
        seconds = time.perf_counter() - start
        report = Report(
            epoch=epoch_number, batch=batch, batches=self.batches_per_epoch,
            train_loss=train_loss, val_loss=val_loss, train_metric=train_metric, val_metric=val_metric,
            metric_name=self.metric_name, learning_rate=self.learning_rate, seconds=seconds,
            samples_per_second=done / seconds if seconds > 0 else float("inf"),
            layers=self._layer_stats(), diverged=diverged, stopped=stopped,
        )
        if report.complete:
            self.epoch += 1
            self.cursor = 0
            self.history.append_report(report)
        return report

    def _divergence_finding(self, train_loss: float, epoch_number: int) -> str:
        """What was found when epoch ``epoch_number`` went non-finite, and what to change.

        A penalty too large is named first (:meth:`_penalty_finding`), then inputs far from
        unit scale (no standardization, features reaching |x| > ``RAW_INPUT_LIMIT``): they
        make the first layer's gradients huge whatever the learning rate; else the learning rate.
        """
        xp = self.backend.xp
        broken = [f"layer {i + 1}" for i, layer in enumerate(self.network.layers)
                  if any(not bool(xp.isfinite(v).all()) for v in layer.params.values())]
        found = f"the loss became {train_loss:g} in epoch {epoch_number}"
        if broken:
            found += f" and the weights of {', '.join(broken)} overflowed"
        penalty = self._penalty_finding()
        if penalty:
            return f"{found}: {penalty}"
        peak = float(xp.abs(self.x_train).max()) if self.train_size else 0.0
        if self.network.preprocess is None and peak > RAW_INPUT_LIMIT:
            column = int(xp.argmax(xp.abs(self.x_train).max(axis=0)))
            return (f"{found}. The inputs are not standardized: {_feature_name(self.dataset, column)} reaches |x| = {peak:.3g}, "
                    "which makes the gradients huge; standardize the inputs "
                    f"(or lower the learning rate α = {self.learning_rate:g} a lot)")
        return f"{found}: the learning rate α = {self.learning_rate:g} is too high for this network; try a lower one"

    def _penalty_finding(self) -> str | None:
        """Why the L1/L2 penalty alone blows the weights up, or None when it does not.

        For an L2 coefficient of at least ``PENALTY_DOMINANT`` (it then outweighs a mean
        loss), plain gradient steps make the decay w ← (1 − αλ)·w unstable: αλ beyond 2 for
        SGD, 2(1 + μ) for momentum, 2(1 + μ)/(1 + 2μ) for Nesterov. Or its gradient
        overflows the dtype at the epoch's starting weights (λ₂·max|w| or λ₁; √max for Adam
        and RMSprop, which square it).
        """
        l1, l2, alpha = self.config.l1, self.config.l2, self.learning_rate
        dtype = np.dtype(self.backend.dtype)
        limit = float(np.finfo(dtype).max)
        if self.config.optimizer in ("adam", "rmsprop"):
            limit = math.sqrt(limit)
        start = self._epoch_start.params[: self.network.n_regularized]
        peak = float(self.backend.xp.abs(start).max()) if start.size else 0.0
        bound = self._stable_decay_bound()
        if l2 >= PENALTY_DOMINANT and bound is not None and alpha * l2 >= bound:
            return (f"the L2 penalty λ = {l2:g} is too large (with α = {alpha:g} each step alone multiplies the weights by "
                    f"about 1 − αλ = {1 - alpha * l2:.3g}, so they grow without bound); use λ < {bound / alpha:.3g} "
                    "(1e-4 to 1e-2 is usual)")
        if l2 and l2 * peak >= limit:
            return (f"the L2 penalty λ = {l2:g} is too large (its gradient λ·w overflows {dtype.name} with weights up to "
                    f"|w| = {peak:.3g}); use a far smaller λ (1e-4 to 1e-2 is usual)")
        if l1 and l1 >= limit:
            return (f"the L1 penalty λ = {l1:g} is too large (its gradient overflows {dtype.name}); "
                    "use a far smaller λ (1e-5 to 1e-3 is usual)")
        return None

    def _stable_decay_bound(self) -> float | None:
        """The largest α·λ for which the optimizer's steps on the L2 penalty alone stay bounded;
        None for the adaptive optimizers (their steps are normalised)."""
        config = self.config
        if config.optimizer == "sgd":
            return 2.0
        if config.optimizer == "momentum":
            mu = config.momentum
            return 2 * (1 + mu) / (1 + 2 * mu) if config.nesterov else 2 * (1 + mu)
        return None

    def _evaluate_validation(self) -> tuple[float | None, float | None]:
        if self.val_size == 0:
            return None, None
        xp = self.backend.xp
        out = xp.concatenate([self.network.forward(self.x_val[s : s + EVAL_CHUNK]) for s in range(0, self.val_size, EVAL_CHUNK)])
        return self.loss.value(out, self.y_val, xp), self._metric(out, self.y_val, xp)

    def _dead_units(self) -> dict[int, Any]:
        """Per ReLU-family layer (0-based index): which of its units (its output's last axis)
        output ≤ 0 for every one of the first PROBE_SAMPLES training samples, in prediction mode.

        The prediction pass goes only as far as the last ReLU layer, in chunks of the batch size:
        GEMMs of the training steps' sizes (a larger one may go to BLAS threads, which a busy
        machine can stall for milliseconds).
        """
        network = self.network
        layers = network.layers[: self._relu_layers[-1] + 1]
        probe = self.x_train[:PROBE_SAMPLES]
        dead: dict[int, Any] = {}
        for start in range(0, len(probe), self.config.batch_size):
            x = probe[start : start + self.config.batch_size]
            x = x.reshape(len(x), *network.input_shape)
            for i, layer in enumerate(layers):
                x = layer.forward(x, False)
                if i in dead:
                    dead[i] &= (x <= 0).reshape(-1, x.shape[-1]).all(axis=0)
                elif i in self._relu_layers:
                    dead[i] = (x <= 0).reshape(-1, x.shape[-1]).all(axis=0)
        return dead

    def _layer_stats(self) -> tuple[LayerStats, ...]:
        xp = self.backend.xp
        dead: dict[int, float] = {}
        if self._relu_layers:
            for i, dead_units in self._dead_units().items():
                dead[i] = float(dead_units.mean())
        stats = []
        for i, layer in enumerate(self.network.layers):
            name = layer.weight_name
            w, g = (layer.params[name], layer.grads[name]) if name else (None, None)
            stats.append(LayerStats(
                index=i + 1, label=layer.describe(),
                weight_norm=float(xp.linalg.norm(w)) if w is not None else None,
                grad_norm=float(xp.linalg.norm(g)) if g is not None else None,
                dead_fraction=dead.get(i),
            ))
        return tuple(stats)


class BatchPlan(NamedTuple):
    """What one mini-batch of an epoch works on, made once per run (views of the trainer's buffers).

    Attributes:
        x: (m, n) the batch's inputs: a view of the training inputs, or (shuffled) of the batch
            buffer that ``order`` gathers them into.
        order: (m,) the rows of the training inputs the batch takes, in order (a view of the
            epoch's shuffle order), or None without shuffling.
        y: (m, k) the batch's targets; out: (m, k) where its outputs are kept for the epoch's
            loss; delta: (m, k) the buffer of the output gradient.
    """

    x: Any
    order: Any
    y: Any
    out: Any
    delta: Any


def clip_by_global_norm(grads: Any, clip_norm: float, xp: Any) -> None:
    """Scale the (P,) flat gradient ``grads`` in place by min(1, c/‖g‖), c = ``clip_norm`` > 0, so
    that its global L2 norm ‖g‖ is at most c; in its own dtype and on its device (no host sync).
    A norm that is not finite (a gradient already non-finite, or one whose squares overflow the
    dtype) leaves the gradient as it is: the epoch's divergence check then reports it."""
    norm = xp.linalg.norm(grads)
    grads *= xp.where(xp.isfinite(norm) & (norm > clip_norm), clip_norm / norm, 1).astype(grads.dtype)


def _numpy_gather(source: np.ndarray, rows: np.ndarray, out: np.ndarray) -> None:
    """out[...] = source[rows] without a temporary (``mode="clip"``: the rows are always in range)."""
    np.take(source, rows, axis=0, mode="clip", out=out)


def _device_gather(source: Any, rows: Any, out: Any) -> None:
    """out[...] = source[rows] on a CuPy device."""
    out[...] = source[rows]


def _feature_name(dataset: Dataset, column: int) -> str:
    """The name of feature ``column`` (0-based), or "feature k" (1-based) when it has none."""
    return dataset.feature_names[column] if column < len(dataset.feature_names) else f"feature {column + 1}"


def _check_finite_weights(network: Network) -> None:
    """Refuse a network whose parameters hold NaN or infinity (from a model file, say), naming the first such layer."""
    xp = network.backend.xp
    if bool(xp.isfinite(network.params).all()):
        return
    index = next(i for i, layer in enumerate(network.layers)
                 if any(not bool(xp.isfinite(v).all()) for v in layer.params.values()))
    raise ConfigError(f"the initial weights of layer {index + 1} ({network.layers[index].describe()}) hold NaN or infinite "
                      "values: training cannot start from them; use a model file with finite weights")


def _data_copy_bytes(network: Network, dataset: Dataset, config: TrainingConfig, train_size: int) -> int:
    """Bytes of the copies of the data a trainer makes: the standardized inputs (float64) while it
    builds them, the inputs and targets of both parts in the backend's dtype, the epoch's
    shuffled targets and one mini-batch of shuffled inputs, and the outputs of its epoch."""
    m, n, k = dataset.n_samples, dataset.n_features, network.output_shape[0]
    item = np.dtype(network.backend.dtype).itemsize
    standardized = m * n * 8 if network.preprocess is not None or fits_standardization(network, config) else 0
    shuffled = train_size * k + min(config.batch_size, train_size) * n if config.shuffle else 0
    return standardized + m * k * 8 + item * (m * (n + k) + shuffled + train_size * k)


def takes_token_ids(network: Network) -> bool:
    """Whether ``network``'s inputs are token ids: its first layer is an Embedding."""
    return bool(network.layers) and network.layers[0].kind == "embedding"


def fits_standardization(network: Network, config: TrainingConfig) -> bool:
    """Whether a trainer of ``network`` fits an input standardization: ``config.standardize``
    is set, the network has none yet, and its inputs are not token ids (an Embedding first
    layer looks its inputs up as whole numbers: standardized, they would be other ids)."""
    return config.standardize and network.preprocess is None and not takes_token_ids(network)


def split_indices(data: Dataset | int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (train, validation) sample indices of ``data`` (a Dataset, or a number of samples
    that are independent rows): the one split the trainer, the views and the exports use.

    The validation part has round(m × val_fraction) samples (at least 1 when the fraction is
    > 0) and the training part keeps at least one. Independent samples are split at random
    (a permutation seeded with [seed, 0]). Forecasting windows of one series in time order
    (``meta["forecast"]`` of a time-series table, or consecutive windows) overlap their
    neighbours, so a random split would validate on rows the training part saw: the
    validation part is then the last stretch of windows, and the training part ends
    T + h − 1 windows before it (window T, horizon h), so that no training window's rows or
    target lie in a validation window. ConfigError when the data are too few for that gap.
    """
    samples = data if isinstance(data, int) else data.n_samples
    n_val = 0 if val_fraction <= 0 else min(max(1, round(samples * val_fraction)), samples - 1)
    gap = None if isinstance(data, int) else time_split_gap(data)
    if gap is None:
        order = np.random.default_rng([seed, 0]).permutation(samples)
        return np.sort(order[n_val:]), np.sort(order[:n_val])
    train = samples - n_val - (gap if n_val else 0)
    if train < 1:
        raise ConfigError(f"{counted(samples, 'window')} are too few: a validation part of the last {n_val:,} needs "
                          f"{counted(gap, 'window')} left out before it (nearer windows share rows with it) and one to train on: "
                          "lower the validation share, shorten the window or read more rows")
    return np.arange(train), np.arange(samples - n_val, samples)


def time_split_gap(dataset: Dataset) -> int | None:
    """T + h − 1 for forecasting windows in time order (see :func:`split_indices`), else None."""
    forecast = dataset.meta.get("forecast")
    if forecast is None or not (forecast.get("consecutive") or "series" in dataset.meta):
        return None
    return int(forecast["window"]) + int(forecast["horizon"]) - 1
