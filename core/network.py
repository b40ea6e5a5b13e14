"""A feed-forward network built from a JSON-serialisable spec.

Spec::

    {"input_shape": [2],
     "layers": [{"type": "dense", "units": 8, "activation": "tanh", "initializer": "glorot_uniform"},
                {"type": "dropout", "rate": 0.1},
                {"type": "dense", "units": 1, "activation": "sigmoid"}]}

All parameters live in one flat vector ``params`` (and gradients in ``grads``, same
layout): the penalised weights first, in layer order, then the rest (biases). Each layer
holds reshaped views into them, so an optimizer updates everything in a few operations
and ``weights`` (the first ``n_regularized`` elements) is where L1/L2 penalties apply.
Non-trainable state (BatchNorm's running statistics) lives the same way in a flat ``state``
vector the optimizer never sees.

Image networks take samples (H, W, C); they also accept each sample flattened row-major
(H·W·C,), the way a Dataset stores images, and reshape it on the way in.

Sizes are checked before anything is allocated (core.limits): the parameter count comes
from the layers' shapes, and :func:`parameter_bytes` (what training keeps per parameter) must
fit the memory limit; :func:`activation_bytes` is what one training batch needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .backend import Backend, get_backend
from .layer_types import layer_from_spec
from .layers import Dense, Dropout, Layer, ParamSpec, SpecError
from .limits import check_allocation

Array = Any

# copies of the parameter vector that training keeps: the parameters and their gradients, an
# optimizer's state (Adam, the largest: two moments and a scratch vector), and the trainer's
# snapshot of the last finite parameters and moments
TRAINING_COPIES = 8
INITIAL_VALUE_BYTES = 16  # per parameter of the largest layer: initial values are drawn in float64 on the host, with a temporary


@dataclass(frozen=True)
class Preprocess:
    """Input standardization x' = (x − mean) / std, each (n,) on the host."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Preprocess:
        """Means and standard deviations of ``x`` (m, n); a constant column gets std 1."""
        mean = x.mean(axis=0)
        std = x.std(axis=0)
        return cls(mean, np.where(std > 0, std, 1.0))

    def apply(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.std

    def to_json(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_json(cls, data: dict) -> Preprocess:
        return cls(np.asarray(data["mean"], dtype=np.float64), np.asarray(data["std"], dtype=np.float64))


@dataclass(frozen=True)
class SummaryRow:
    """One line of :meth:`Network.summary`: a layer's label, output shape and parameters."""

    index: int
    label: str
    output_shape: tuple[int, ...]
    parameters: int


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(None, " + ", ".join(str(s) for s in shape) + ")"


def layer_seed(network_seed: int, index: int) -> int:
    """The seed of layer ``index`` (0-based)'s own generator (Dropout masks) in a network seeded ``network_seed``."""
    return network_seed * 1000 + index


class Network:
    """Layers, their parameters in one flat vector, forward/backward passes and prediction.

    Args:
        spec: the network spec (see the module docstring).
        backend: where arrays live; NumPy float32 by default.
        seed: seeds the initial weights (drawn on the host) and dropout masks.
    """

    def __init__(self, spec: dict, backend: Backend | None = None, seed: int = 0):
        self.backend = backend or get_backend()
        self.seed = int(seed)
        self.layers: list[Layer] = []
        self.preprocess: Preprocess | None = None
        if not isinstance(spec, dict) or "input_shape" not in spec or "layers" not in spec:
            raise SpecError("a network spec needs 'input_shape' and 'layers'")
        if not isinstance(spec["input_shape"], (list, tuple)) or not isinstance(spec["layers"], (list, tuple)):
            raise SpecError("a network spec's 'input_shape' and 'layers' must be lists")
        shape = tuple(spec["input_shape"])
        if not shape or not all(isinstance(s, int) and s >= 1 for s in shape):
            raise SpecError(f"input_shape must list whole numbers ≥ 1, got {spec['input_shape']!r}")
        self.input_shape = shape
        if not spec["layers"]:
            raise SpecError("the network has no layers; it needs at least an output layer")
        for i, layer_spec in enumerate(spec["layers"]):
            try:
                layer = layer_from_spec(layer_spec)
                if i > 0 and layer.kind == "embedding":
                    raise SpecError("an Embedding turns token ids into vectors and passes no gradient back: it must be the "
                                    "first layer")
                shape = layer.build(shape)
            except SpecError as exc:
                raise SpecError(f"layer {i + 1} ({layer_spec.get('type', '?') if isinstance(layer_spec, dict) else '?'}): {exc}") from None
            self.layers.append(layer)
        self.output_shape = shape
        self._allocate()
        self.initialize(self.seed)

    # ----- parameters -------------------------------------------------------------------
    def _allocate(self) -> None:
        xp, dtype = self.backend.xp, self.backend.dtype
        entries = [(i, p) for i, layer in enumerate(self.layers) for p in layer.param_specs()]
        entries.sort(key=lambda e: not e[1].regularized)  # stable: penalised weights first
        self.n_regularized = sum(math.prod(p.shape) for _, p in entries if p.regularized)
        total = sum(math.prod(p.shape) for _, p in entries)
        check_allocation(f"a network of {total:,} parameters ({np.dtype(dtype).name}, with their gradients, Adam's state "
                         "and initial values)", parameter_bytes([p for _, p in entries], dtype))
        self.params = xp.zeros(total, dtype)
        self.grads = xp.zeros(total, dtype)
        slots = _slots(len(self.layers), entries)
        state_slots = _slots(len(self.layers), [(i, p) for i, layer in enumerate(self.layers) for p in layer.state_specs()])
        self.state = xp.zeros(sum(math.prod(s) for layer in state_slots for _, s in layer.values()), dtype)
        for i, layer in enumerate(self.layers):
            layer.bind(_views(self.params, slots[i]), _views(self.grads, slots[i]), self.backend, seed=layer_seed(self.seed, i),
                       state=_views(self.state, state_slots[i]))

    def initialize(self, seed: int) -> None:
        """Draw fresh initial weights from a NumPy generator seeded with ``seed``; reset the state."""
        rng = np.random.default_rng(seed)
        self.set_parameters([layer.initial_values(rng) for layer in self.layers])
        self.set_state([layer.initial_state() for layer in self.layers])

    @property
    def weights(self) -> Array:
        """The penalised weights, a flat (n_regularized,) view of ``params``."""
        return self.params[: self.n_regularized]

    @property
    def parameter_count(self) -> int:
        """Trainable parameters."""
        return int(self.params.size)

    @property
    def state_count(self) -> int:
        """Non-trainable numbers (running statistics)."""
        return int(self.state.size)

    @property
    def is_dense(self) -> bool:
        """Whether every layer is Dense or Dropout: the networks the per-unit views explain."""
        return all(isinstance(layer, (Dense, Dropout)) for layer in self.layers)

    def parameters_by_layer(self) -> list[dict[str, np.ndarray]]:
        """Host copies of every layer's parameters, e.g. [{"W": (8, 2), "b": (8,)}, {}, ...]."""
        return [{n: self.backend.to_host(v).copy() for n, v in layer.params.items()} for layer in self.layers]

    def gradients_by_layer(self) -> list[dict[str, np.ndarray]]:
        """Host copies of the gradients of the last backward pass, shaped like the parameters."""
        return [{n: self.backend.to_host(v).copy() for n, v in layer.grads.items()} for layer in self.layers]

    def state_by_layer(self) -> list[dict[str, np.ndarray]]:
        """Host copies of every layer's state, e.g. [{}, {"running_mean": (8,), "running_var": (8,)}, ...]."""
        return [{n: self.backend.to_host(v).copy() for n, v in layer.state.items()} for layer in self.layers]

    def state_problem(self, state: np.ndarray) -> str | None:
        """Why the flat host vector ``state`` (state_count,) cannot be this network's state, naming
        the layer ("layer 2 (BatchNorm): running_var holds a negative variance (-1)"); None when it can."""
        offset = 0
        for i, layer in enumerate(self.layers):
            values = {}
            for spec in layer.state_specs():
                size = math.prod(spec.shape)
                values[spec.name] = np.asarray(state[offset: offset + size]).reshape(spec.shape)
                offset += size
            problem = layer.state_problem(values) if values else None
            if problem:
                return f"layer {i + 1} ({layer.describe()}): {problem}"
        return None

    def set_parameters(self, values: list[dict[str, np.ndarray]]) -> None:
        """Copy host arrays into the parameters; shapes must match layer by layer."""
        self._copy_in(values, "params", "parameter")

    def set_state(self, values: list[dict[str, np.ndarray]]) -> None:
        """Copy host arrays into the layers' state; shapes must match layer by layer."""
        self._copy_in(values, "state", "state")

    def _copy_in(self, values: list[dict[str, np.ndarray]], attribute: str, noun: str) -> None:
        if len(values) != len(self.layers):
            raise ValueError(f"expected {noun} values for {len(self.layers)} layers, got {len(values)}")
        for i, (layer, given) in enumerate(zip(self.layers, values, strict=True)):
            views = getattr(layer, attribute)
            if set(given) != set(views):
                raise ValueError(f"layer {i + 1}: expected {noun} {sorted(views)}, got {sorted(given)}")
            for name, view in views.items():
                arr = np.asarray(given[name])
                if arr.shape != view.shape:
                    raise ValueError(f"layer {i + 1} {noun} {name}: expected shape {view.shape}, got {arr.shape}")
                view[...] = self.backend.asarray(arr)

    # ----- passes -----------------------------------------------------------------------
    def forward(self, x: Array, training: bool = False) -> Array:
        """Output (m, *output_shape) for an already preprocessed batch x (m, *input_shape).

        In training mode the result is a buffer reused by the next training pass. An image
        network also takes x flattened, (m, H·W·C).
        """
        x = self._shaped(x)
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def forward_all(self, x: Array) -> list[Array]:
        """Every layer's output (prediction mode) for a preprocessed batch x (m, ...)."""
        x = self._shaped(x)
        outputs = []
        for layer in self.layers:
            x = layer.forward(x, False)
            outputs.append(x)
        return outputs

    def _shaped(self, x: Array) -> Array:
        """x (m, *input_shape): a flattened image batch (m, H·W·C) reshaped (a view)."""
        if len(self.input_shape) > 1 and x.ndim == 2:
            return x.reshape(x.shape[0], *self.input_shape)
        return x

    def backward(self, grad: Array, grad_is_dz: bool) -> None:
        """Fill ``grads`` from the output gradient (m, *output_shape) of the last training pass.

        ``grad_is_dz`` says the gradient is dL/dZ of the output layer (a fused loss).
        """
        last = len(self.layers) - 1
        for i in range(last, -1, -1):
            grad = self.layers[i].backward(grad, i > 0, grad_is_dz and i == last)

    def predict(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Host outputs (m, k) for raw host inputs x (m, *input_shape) or, for an image network,
        flattened (m, H·W·C); preprocess applied."""
        x = np.asarray(x, dtype=np.float64)
        if x.shape[1:] != self.input_shape and x.shape[1:] != (math.prod(self.input_shape),):
            raise ValueError(f"the network takes inputs of shape {self.input_shape}, got {x.shape[1:]}")
        x = x.reshape(len(x), -1)
        if self.preprocess is not None:
            x = self.preprocess.apply(x)
        parts = [self.backend.to_host(self.forward(self.backend.asarray(x[s : s + batch_size])))
                 for s in range(0, len(x), batch_size)]
        if not parts:
            return np.zeros((0, *self.output_shape), dtype=self.backend.dtype)
        return np.concatenate(parts)

    # ----- description ------------------------------------------------------------------
    @property
    def output_activation(self) -> str | None:
        """The activation of the last layer (None when it has none, e.g. a Dropout or
        BatchNorm last): the loss fuses with it only."""
        return self.layers[-1].activation_name

    def spec(self) -> dict:
        return {"input_shape": list(self.input_shape), "layers": [layer.to_spec() for layer in self.layers]}

    def summary(self) -> list[SummaryRow]:
        """One row per layer: label, output shape (per sample) and parameter count."""
        return [SummaryRow(i + 1, layer.describe(), layer.output_shape, layer.parameter_count) for i, layer in enumerate(self.layers)]

    def summary_text(self) -> str:
        """A Keras-like table: layer, output shape, parameters, then the totals."""
        rows = [("Layer", "Output shape", "Param #"), ("Input", _shape_text(self.input_shape), "0")]
        rows += [(f"{r.index}. {r.label}", _shape_text(r.output_shape), f"{r.parameters:,}") for r in self.summary()]
        widths = [max(len(r[c]) for r in rows) for c in range(3)]
        line = "─" * (sum(widths) + 6)
        out = [line]
        for j, r in enumerate(rows):
            out.append(f"{r[0]:<{widths[0]}}   {r[1]:<{widths[1]}}   {r[2]:>{widths[2]}}")
            if j == 0:
                out.append(line)
        out += [line, f"Total parameters: {self.parameter_count + self.state_count:,}",
                f"Trainable parameters: {self.parameter_count:,}", f"Non-trainable parameters: {self.state_count:,}"]
        return "\n".join(out)


def _slots(layers: int, entries: list[tuple[int, ParamSpec]]) -> list[dict[str, tuple[int, tuple[int, ...]]]]:
    """Per layer, each entry's (offset, shape) in one flat vector holding ``entries`` in order."""
    slots: list[dict[str, tuple[int, tuple[int, ...]]]] = [{} for _ in range(layers)]
    offset = 0
    for i, p in entries:
        slots[i][p.name] = (offset, p.shape)
        offset += math.prod(p.shape)
    return slots


def _views(vector: Array, slots: dict[str, tuple[int, tuple[int, ...]]]) -> dict[str, Array]:
    """Reshaped views of ``vector`` at ``slots`` (name → (offset, shape))."""
    return {n: vector[o : o + math.prod(s)].reshape(s) for n, (o, s) in slots.items()}


def parameter_bytes(params: list[ParamSpec], dtype: Any) -> int:
    """Bytes that training a network with these parameters holds: TRAINING_COPIES of the
    parameter vector in ``dtype``, and the largest layer parameter's float64 initial values."""
    sizes = [math.prod(p.shape) for p in params]
    return sum(sizes) * np.dtype(dtype).itemsize * TRAINING_COPIES + max(sizes, default=0) * INITIAL_VALUE_BYTES


def activation_bytes(network: Network, batch_size: int) -> int:
    """Bytes one training batch of ``batch_size`` samples takes, in the network's dtype: the
    input batch (m, *input_shape), and per layer its output and the delta of its output
    (m, *output_shape each), the delta it passes back (m, *input_shape) and the scratch a
    layer declares (``scratch_per_sample``: a Conv2D's im2col matrix)."""
    per_sample = math.prod(network.input_shape) + sum(
        2 * math.prod(layer.output_shape) + math.prod(layer.input_shape) + getattr(layer, "scratch_per_sample", 0)
        for layer in network.layers)
    return int(batch_size) * per_sample * np.dtype(network.backend.dtype).itemsize
