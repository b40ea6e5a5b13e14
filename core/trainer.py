"""Mini-batch training, one epoch or one mini-batch at a time, with immutable reports.

The trainer owns the data split, input standardization (fitted on the training part
only), the optimizer and the position inside the current epoch. ``step_batch()`` runs the
next mini-batch, ``run_epoch()`` runs the rest of the current epoch; both return a
:class:`Report` holding host numbers only, never live arrays. Running the batches of an
epoch one by one gives the same weights, bit for bit, as running the epoch at once.

The training loss and metric of an epoch are over the network outputs seen during that
epoch's mini-batches (as Keras reports them); losses exclude the L1/L2 penalty so that
training and validation losses compare. A non-finite loss or weight rolls the network
and optimizer back to the start of the epoch (the last finite weights) and the report
says why. :meth:`request_stop` (thread-safe) stops a running epoch between mini-batches;
the next call continues where it stopped.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .data import DataError, Dataset, encode_targets, suggested_head
from .losses import LOSSES, accuracy, add_penalty_gradient, get_loss, r_squared
from .network import Network, Preprocess
from .optimizers import OPTIMIZERS, make_optimizer

PROBE_SAMPLES = 128  # training samples used to count dead ReLU units each epoch
EVAL_CHUNK = 4096
RAW_INPUT_LIMIT = 10.0  # an unstandardized input beyond this size is named as the cause of a divergence


class ConfigError(ValueError):
    """Training settings that cannot work; the message says which and why."""

@dataclass(frozen=True)
class TrainingConfig:
    """Everything that decides a training run besides the network and the data."""

    loss: str | None = None  # None: the loss suggested by the data's task
    optimizer: str = "adam"
    learning_rate: float = 0.01
    batch_size: int = 32
    epochs: int = 200
    l1: float = 0.0
    l2: float = 0.0
    seed: int = 0
    val_fraction: float = 0.2
    shuffle: bool = True
    standardize: bool = True
    momentum: float = 0.9
    nesterov: bool = False
    beta1: float = 0.9
    beta2: float = 0.999
    rho: float = 0.9
    epsilon: float = 1e-7

    def __post_init__(self) -> None:
        checks = [
            (self.loss is None or self.loss in LOSSES, f"loss must be one of {', '.join(LOSSES)}"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}"),
            (_positive(self.learning_rate), "learning_rate must be a positive number"),
            (_whole(self.batch_size) and self.batch_size >= 1, "batch_size must be a whole number ≥ 1"),
            (_whole(self.epochs) and self.epochs >= 0, "epochs must be a whole number ≥ 0"),
            (_non_negative(self.l1) and _non_negative(self.l2), "l1 and l2 must be ≥ 0"),
            (_unit_interval(self.val_fraction), "val_fraction must be in [0, 1)"),
            (_unit_interval(self.momentum), "momentum must be in [0, 1)"),
            (_unit_interval(self.beta1) and _unit_interval(self.beta2) and _unit_interval(self.rho), "beta1, beta2 and rho must be in [0, 1)"),
            (_positive(self.epsilon), "epsilon must be a positive number"),
            (_whole(self.seed) and self.seed >= 0, "seed must be a whole number ≥ 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> TrainingConfig:
        """Build from a dict; unknown keys are an error, missing keys take defaults."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown training setting(s): {', '.join(sorted(unknown))}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ConfigError(str(exc)) from None


def _positive(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0 and math.isfinite(x)


def _non_negative(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0 and math.isfinite(x)


def _whole(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _unit_interval(x: Any) -> bool:
    """A real number in [0, 1)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and 0.0 <= x < 1.0


@dataclass(frozen=True)
class LayerStats:
    """Per-layer numbers at the end of a report: ‖W‖, ‖dW‖ of the last mini-batch, and the
    fraction of ReLU-family units that output ≤ 0 on every probe sample (None otherwise)."""

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


def check_loss_fits(loss: str, activation: str | None) -> None:
    """Raise ConfigError when a cross-entropy loss meets outputs that are not probabilities."""
    if loss == "binary_crossentropy" and activation not in ("sigmoid", "softmax"):
        raise ConfigError(f"binary cross-entropy needs probabilities: use a sigmoid output layer, not {activation}")
    if loss == "categorical_crossentropy" and activation not in ("softmax", "sigmoid"):
        raise ConfigError(f"categorical cross-entropy needs probabilities: use a softmax output layer, not {activation}")


class Trainer:
    """Trains ``network`` on ``dataset`` as ``config`` says.

    Args:
        network: the network to train; its preprocess is fitted here when it has none and
            ``config.standardize`` is set.
        dataset: raw data; split with ``config.seed`` into training and validation parts.
        config: the training settings.
    """

    def __init__(self, network: Network, dataset: Dataset, config: TrainingConfig):
        self.network, self.dataset, self.config = network, dataset, config
        self.backend = backend = network.backend
        if network.input_shape != (dataset.n_features,):
            raise ConfigError(f"the network takes {network.input_shape[0]} inputs but the data has {dataset.n_features} features")
        loss_name = config.loss or suggested_head(dataset.task, dataset.n_outputs)[1]
        check_loss_fits(loss_name, network.output_activation)
        self.loss = get_loss(loss_name)
        try:
            targets = encode_targets(dataset, network.output_shape[0])
        except DataError as exc:
            raise ConfigError(str(exc)) from None
        self.metric_name = "r2" if dataset.task == "regression" else "accuracy"
        self._metric = r_squared if dataset.task == "regression" else accuracy

        train_idx, val_idx = split_indices(dataset.n_samples, config.val_fraction, config.seed)
        if network.preprocess is None and config.standardize:
            network.preprocess = Preprocess.fit(dataset.X[train_idx])
        x = network.preprocess.apply(dataset.X) if network.preprocess else dataset.X
        self.x_train, self.y_train = backend.asarray(x[train_idx]), backend.asarray(targets[train_idx])
        self.x_val, self.y_val = backend.asarray(x[val_idx]), backend.asarray(targets[val_idx])
        self.train_size, self.val_size = len(train_idx), len(val_idx)
        self.batches_per_epoch = math.ceil(self.train_size / config.batch_size)

        self.optimizer = make_optimizer(config.optimizer, config.to_json())
        self.optimizer.bind(network.params.size, backend.xp, backend.dtype)
        self._shuffle_rng = np.random.default_rng([config.seed, 1])
        self._stop = threading.Event()
        self._delta_buffers: dict[int, Any] = {}
        self._output_activation = network.output_activation
        self._relu_layers = [i for i, layer in enumerate(network.layers) if layer.activation_name in ("relu", "leaky_relu")]
        self.epoch = 0  # completed epochs
        self.cursor = 0  # mini-batches done in the current epoch
        self.history: list[Report] = []
        self._epoch_x = self._epoch_y = self._epoch_out = None
        self._snapshot: tuple[Any, Any] | None = None

    # ----- control (thread-safe) ----------------------------------------------------------
    def request_stop(self) -> None:
        """Ask a running ``run_epoch`` to return after the current mini-batch."""
        self._stop.set()

    def set_learning_rate(self, learning_rate: float) -> None:
        """Use α = ``learning_rate`` from the next mini-batch on."""
        if not _positive(learning_rate):
            raise ConfigError(f"the learning rate must be a positive number, got {learning_rate!r}")
        self.optimizer.learning_rate = float(learning_rate)

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
        xp = self.backend.xp
        self._snapshot = (self.network.params.copy(), self.optimizer.snapshot())
        if self.config.shuffle:
            order = xp.asarray(self._shuffle_rng.permutation(self.train_size))
            self._epoch_x, self._epoch_y = self.x_train[order], self.y_train[order]
        else:
            self._epoch_x, self._epoch_y = self.x_train, self.y_train
        if self._epoch_out is None:
            self._epoch_out = xp.empty(self.y_train.shape, self.backend.dtype)

    def _train_batch(self) -> None:
        if self.cursor == 0:
            self._begin_epoch()
        net, xp, size = self.network, self.backend.xp, self.config.batch_size
        start = self.cursor * size
        end = min(start + size, self.train_size)
        out = net.forward(self._epoch_x[start:end], True)
        self._epoch_out[start:end] = out
        delta_buffer = self._delta_buffers.get(end - start)
        if delta_buffer is None:
            delta_buffer = self._delta_buffers[end - start] = xp.empty(out.shape, out.dtype)
        delta, is_dz = self.loss.output_delta(out, self._epoch_y[start:end], self._output_activation, delta_buffer, xp)
        net.backward(delta, is_dz)
        if self.config.l1 or self.config.l2:
            add_penalty_gradient(net.weights, net.grads[: net.n_regularized], self.config.l1, self.config.l2, xp)
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
            params, optimizer_state = self._snapshot
            self.network.params[...] = params
            self.optimizer.restore(optimizer_state)
            self.cursor = 0
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
            self.history.append(report)
        return report

    def _divergence_finding(self, train_loss: float, epoch_number: int) -> str:
        """What was found when epoch ``epoch_number`` went non-finite, and what to change.

        Inputs far from unit scale (no standardization, features reaching |x| > ``RAW_INPUT_LIMIT``)
        are named first: they make the first layer's gradients huge whatever the learning rate.
        """
        xp = self.backend.xp
        broken = [f"layer {i + 1}" for i, layer in enumerate(self.network.layers)
                  if any(not bool(xp.isfinite(v).all()) for v in layer.params.values())]
        found = f"the loss became {train_loss:g} in epoch {epoch_number}"
        if broken:
            found += f" and the weights of {', '.join(broken)} overflowed"
        peak = float(xp.abs(self.x_train).max()) if self.train_size else 0.0
        if self.network.preprocess is None and peak > RAW_INPUT_LIMIT:
            column = int(xp.argmax(xp.abs(self.x_train).max(axis=0)))
            name = self.dataset.feature_names[column] if column < len(self.dataset.feature_names) else f"feature {column + 1}"
            return (f"{found}. The inputs are not standardized: {name} reaches |x| = {peak:.3g}, which makes the "
                    f"gradients huge; standardize the inputs (or lower the learning rate α = {self.learning_rate:g} a lot)")
        return f"{found}: the learning rate α = {self.learning_rate:g} is too high for this network; try a lower one"

    def _evaluate_validation(self) -> tuple[float | None, float | None]:
        if self.val_size == 0:
            return None, None
        xp = self.backend.xp
        out = xp.concatenate([self.network.forward(self.x_val[s : s + EVAL_CHUNK]) for s in range(0, self.val_size, EVAL_CHUNK)])
        return self.loss.value(out, self.y_val, xp), self._metric(out, self.y_val, xp)

    def _layer_stats(self) -> tuple[LayerStats, ...]:
        xp = self.backend.xp
        dead: dict[int, float] = {}
        if self._relu_layers:
            outputs = self.network.forward_all(self.x_train[:PROBE_SAMPLES])
            for i in self._relu_layers:
                dead[i] = float((outputs[i] <= 0).all(axis=0).mean())
        stats = []
        for i, layer in enumerate(self.network.layers):
            w, g = layer.params.get("W"), layer.grads.get("W")
            stats.append(LayerStats(
                index=i + 1, label=layer.describe(),
                weight_norm=float(xp.linalg.norm(w)) if w is not None else None,
                grad_norm=float(xp.linalg.norm(g)) if g is not None else None,
                dead_fraction=dead.get(i),
            ))
        return tuple(stats)


def split_indices(samples: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled (train, validation) row indices; the validation part has
    round(samples × val_fraction) rows (at least 1 when the fraction is > 0) and the
    training part keeps at least one."""
    order = np.random.default_rng([seed, 0]).permutation(samples)
    n_val = 0 if val_fraction <= 0 else min(max(1, round(samples * val_fraction)), samples - 1)
    return np.sort(order[n_val:]), np.sort(order[:n_val])
