"""Layers: each knows its output shape and parameters before any data flows.

A layer is built from a JSON-serialisable spec (``{"type": "dense", "units": 8, ...}``).
``build(input_shape)`` infers the per-sample output shape; ``param_specs()`` lists the
parameters the network must allocate; ``bind()`` hands the layer views of the network's
flat parameter and gradient vectors. ``forward``/``backward`` work on samples-first
batches: an input of shape (m, *input_shape) gives an output of shape (m, *output_shape).

A layer also says what the rest of the program may assume about it: ``weight_name`` names
its weights (the parameter statistics, heatmaps and penalties are about), ``weight_matrix``
shows them as a 2-D matrix, ``state_specs`` declares non-trainable state (BatchNorm's
running statistics: saved and restored with the parameters, never touched by the optimizer
or a penalty), ``takes_images`` says it works on (H, W, C) samples, and ``activation_name``
is the activation of its own output (the loss fuses with the last layer's only).

New kinds subclass :class:`Layer` and register in ``core.layer_types.LAYER_TYPES``; the
network and trainer need no change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .activations import ACTIVATIONS, get_activation
from .backend import Backend
from .initializers import INITIALIZERS, initialize

Array = Any


ONE_UNIT_SOFTMAX = ("softmax over one unit always outputs 1 (it divides e^z by itself), so nothing before it can learn; "
                    "for two classes use one sigmoid unit, or give the softmax one unit per class")


class SpecError(ValueError):
    """A layer or network spec that cannot be built; the message says which layer and why."""


@dataclass(frozen=True)
class ParamSpec:
    """One parameter a layer owns: its name, shape, and whether L1/L2 penalties apply."""

    name: str
    shape: tuple[int, ...]
    regularized: bool


class Layer:
    """Base class. Subclasses set ``kind`` and override the methods that apply."""

    kind: ClassVar[str] = ""
    weight_name: ClassVar[str | None] = None  # the parameter that holds the layer's weights, if any
    weight_axes: ClassVar[tuple[str, str]] = ("unit", "input")  # what weight_matrix's rows and columns are
    takes_images: ClassVar[bool] = False  # works on image samples (H, W, C)
    takes_sequences: ClassVar[bool] = False  # works on sequence samples (T, F) or token ids (T,)
    activation_name: str | None = None

    def __init__(self) -> None:
        self.input_shape: tuple[int, ...] = ()
        self.output_shape: tuple[int, ...] = ()
        self.params: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        self.state: dict[str, Array] = {}
        self.backend: Backend | None = None

    def build(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Record ``input_shape`` (per sample) and return the output shape (per sample)."""
        self.input_shape = tuple(input_shape)
        self.output_shape = self.infer_output_shape(self.input_shape)
        return self.output_shape

    def infer_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return input_shape

    def param_specs(self) -> list[ParamSpec]:
        return []

    def initial_values(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Host arrays for every parameter in ``param_specs()``, drawn from ``rng``."""
        return {}

    def state_specs(self) -> list[ParamSpec]:
        """The non-trainable state the layer keeps (never regularized, never optimized)."""
        return []

    def initial_state(self) -> dict[str, np.ndarray]:
        """Host arrays for every entry of ``state_specs()`` before any training."""
        return {}

    def state_problem(self, values: dict[str, np.ndarray]) -> str | None:
        """Why host ``values`` (name → array, as ``state_specs`` says) cannot be this layer's
        state, e.g. "running_var holds a negative variance (-1)"; None when they can."""
        return None

    def bind(self, params: dict[str, Array], grads: dict[str, Array], backend: Backend, seed: int,
             state: dict[str, Array] | None = None) -> None:
        """Take views of the network's parameters, gradients and state; ``seed`` feeds any RNG."""
        self.params, self.grads, self.backend, self.state = params, grads, backend, state or {}

    def weight_matrix(self, weights: np.ndarray) -> np.ndarray:
        """The layer's weights (the ``weight_name`` parameter, host array) as a 2-D matrix to
        show: rows and columns as ``weight_axes`` says."""
        return weights.reshape(weights.shape[0], -1)

    def forward(self, x: Array, training: bool) -> Array:
        """(m, *input_shape) → (m, *output_shape). In training, keep what backward needs."""
        raise NotImplementedError

    def backward(self, grad: Array, need_input_grad: bool, grad_is_dz: bool = False) -> Array | None:
        """Fill ``self.grads`` from dL/d(output) (m, *output_shape); return dL/d(input).

        ``grad_is_dz`` says ``grad`` is already dL/dZ (a loss fused with this layer's
        activation). The returned array may be a reused buffer: use it before the next call.
        """
        raise NotImplementedError

    @property
    def parameter_count(self) -> int:
        return sum(math.prod(p.shape) for p in self.param_specs())

    def describe(self) -> str:
        """A short label for summaries, e.g. ``Dense(8, tanh)``."""
        return self.kind

    def to_spec(self) -> dict:
        raise NotImplementedError


class Dense(Layer):
    """Z = X·Wᵀ + b, A = g(Z), with W of shape (units, inputs) and b of shape (units,).

    Samples-first, this is the course's Z = W·X + b transposed. Backward, for m samples:
    dW = dZᵀ·X (units, inputs), db = Σ_rows dZ (units,), dX = dZ·W (m, inputs). The 1/m
    of the mean loss is already inside dZ.

    A training pass works in buffers of its batch size (kept for the batch size and the last
    partial batch) and on views of its parameters taken once, at :meth:`bind`; every GEMM
    is one BLAS call writing into its buffer (``dot``: for small matrices NumPy's ``matmul``
    ufunc costs about a microsecond more a call, the same BLAS call, the same numbers).
    """

    kind = "dense"
    weight_name = "W"

    def __init__(self, units: int, activation: str = "linear", initializer: str = "glorot_uniform", slope: float = 0.01):
        super().__init__()
        if not isinstance(units, int) or isinstance(units, bool) or units < 1:
            raise SpecError(f"units must be a whole number ≥ 1, got {units!r}")
        if activation not in ACTIVATIONS:
            raise SpecError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        if initializer not in INITIALIZERS:
            raise SpecError(f"unknown initializer {initializer!r}; choose one of {', '.join(INITIALIZERS)}")
        if activation == "softmax" and units == 1:
            raise SpecError(ONE_UNIT_SOFTMAX)
        try:
            self.activation = get_activation(activation, slope)
        except ValueError as exc:
            raise SpecError(str(exc)) from None
        self.units, self.activation_name, self.initializer, self.slope = units, activation, initializer, float(slope)
        self._buffers: dict[int, tuple[Array, Array, Array]] = {}
        self._x: Array = None
        self._a: Array = None
        self._w = self._wt = self._b = self._dw = self._db = None  # views of params and grads, set by bind

    def infer_output_shape(self, input_shape):
        if len(input_shape) == 2:
            raise SpecError(f"Dense needs a flat input (features,), got shape {input_shape}: a sequence of {input_shape[0]} steps; "
                            "set return_sequences to false on the last recurrent layer, or add a Flatten layer first")
        if len(input_shape) != 1:
            raise SpecError(f"Dense needs a flat input (features,), got shape {input_shape}; add a Flatten layer first")
        return (self.units,)

    def param_specs(self):
        return [ParamSpec("W", (self.units, self.input_shape[0]), True), ParamSpec("b", (self.units,), False)]

    def initial_values(self, rng):
        fan_in = self.input_shape[0]
        return {
            "W": initialize(self.initializer, (self.units, fan_in), fan_in, self.units, rng),
            "b": np.zeros(self.units),
        }

    def bind(self, params, grads, backend, seed, state=None):
        super().bind(params, grads, backend, seed, state)
        self._buffers.clear()
        self._w, self._b, self._dw, self._db = params["W"], params["b"], grads["W"], grads["b"]
        self._wt = self._w.T

    def _buffers_for(self, m: int) -> tuple[Array, Array, Array]:
        """(Z/A buffer (m, units), dZ buffer (m, units), dX buffer (m, inputs)) for batch size m."""
        bufs = self._buffers.get(m)
        if bufs is None:
            xp, dtype = self.backend.xp, self.backend.dtype
            if len(self._buffers) >= 4:  # batch size and last partial batch; drop stale sizes
                self._buffers.clear()
            bufs = (xp.empty((m, self.units), dtype), xp.empty((m, self.units), dtype), xp.empty((m, self.input_shape[0]), dtype))
            self._buffers[m] = bufs
        return bufs

    def forward(self, x, training):
        xp = self.backend.xp
        if not training:
            z = x @ self._wt
            z += self._b
            return self.activation.forward(z, xp)
        z = (self._buffers.get(x.shape[0]) or self._buffers_for(x.shape[0]))[0]
        xp.dot(x, self._wt, out=z)
        xp.add(z, self._b, out=z)
        self._x, self._a = x, self.activation.forward(z, xp)
        return self._a

    def backward(self, grad, need_input_grad, grad_is_dz=False):
        xp = self.backend.xp
        _, dz_buf, dx_buf = self._buffers.get(grad.shape[0]) or self._buffers_for(grad.shape[0])
        dz = grad if grad_is_dz else self.activation.backward(self._a, grad, dz_buf, xp)
        xp.dot(dz.T, self._x, out=self._dw)
        xp.add.reduce(dz, axis=0, out=self._db)
        if need_input_grad:
            return xp.dot(dz, self._w, out=dx_buf)
        return None

    def describe(self):
        return f"Dense({self.units}, {self.activation_name})"

    def to_spec(self):
        spec = {"type": "dense", "units": self.units, "activation": self.activation_name, "initializer": self.initializer}
        if self.activation_name == "leaky_relu":
            spec["slope"] = self.slope
        return spec


class Dropout(Layer):
    """Inverted dropout: in training, zero each input with probability ``rate`` and scale
    the rest by 1 / (1 − rate); at prediction time, pass inputs through unchanged.

    The masks come from a NumPy generator on the host (seeded by :meth:`bind`), drawn as
    ``rng.random(x.shape, dtype) >= rate`` and then moved to the device, so a seed gives the
    same masks on NumPy and CuPy; :attr:`rng_state` is that generator's state (a JSON-able dict).
    """

    kind = "dropout"

    def __init__(self, rate: float = 0.5):
        super().__init__()
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0.0 <= rate < 1.0:
            raise SpecError(f"dropout rate must be in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self._mask: Array = None
        self._rng: np.random.Generator | None = None

    def bind(self, params, grads, backend, seed, state=None):
        super().bind(params, grads, backend, seed, state)
        self._rng = np.random.default_rng(seed)

    @property
    def rng_state(self) -> dict:
        """The mask generator's ``bit_generator.state`` (a copy)."""
        return self._rng.bit_generator.state

    @rng_state.setter
    def rng_state(self, state: dict) -> None:
        self._rng.bit_generator.state = state

    def forward(self, x, training):
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        keep = self.backend.xp.asarray(self._rng.random(x.shape, dtype=x.dtype) >= self.rate)
        self._mask = keep.astype(x.dtype) * (1.0 / (1.0 - self.rate))
        return x * self._mask

    def backward(self, grad, need_input_grad, grad_is_dz=False):
        if not need_input_grad:
            return None
        return grad if self._mask is None else grad * self._mask

    def describe(self):
        return f"Dropout({self.rate:g})"

    def to_spec(self):
        return {"type": "dropout", "rate": self.rate}
