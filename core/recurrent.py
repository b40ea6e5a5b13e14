"""Recurrent layers: SimpleRNN, LSTM and GRU over sequences, in PyTorch's layout.

A recurrent layer reads a batch of sequences x (m, T, F) one time step at a time, carrying
a hidden state h (m, units) from step to step, h_0 = 0. It outputs h_T (m, units), or with
``return_sequences`` every h_t, (m, T, units) (for another recurrent layer on top).

Every kind has G gate blocks of ``units`` rows (SimpleRNN 1, LSTM 4, GRU 3), stored as
PyTorch stores them so weights carry over:

    W (G·units, F)      input weights         (PyTorch weight_ih_l0)
    U (G·units, units)  recurrent weights     (weight_hh_l0)
    b (G·units,)        bias                  (bias_ih_l0; a SimpleRNN's or LSTM's one bias is
                                               PyTorch's bias_ih_l0 + bias_hh_l0)
    bh (G·units,)       GRU only: the recurrent bias (bias_hh_l0), inside the reset gate's product

With the pre-activations of a step a_t = W·x_t + b + U·h_{t−1}:

    SimpleRNN  h_t = g(a_t)
    LSTM       i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)       (the four blocks, in this order)
               c_t = f⊙c_{t−1} + i⊙g,  h_t = o⊙tanh(c_t),  c_0 = 0
    GRU        r = σ(W_r x + b_r + U_r h + bh_r),  z = σ(W_z x + b_z + U_z h + bh_z)
               n = tanh(W_n x + b_n + r⊙(U_n h + bh_n)),  h_t = (1 − z)⊙n + z⊙h_{t−1}

The input part W·x_t + b of every step is one GEMM over all m·T rows before the loop; the
loop over time does the U·h_{t−1} part. Backward is backpropagation through time over the
whole sequence: the loop runs back from T to 1 giving each step's pre-activation gradients
dA_t (T, m, G·units), and then dW = Σ_t dA_tᵀ·x_t, db = Σ dA_t, dU = Σ_t dHA_tᵀ·h_{t−1} and
dx_t = dA_t·W are one GEMM each (dHA is dA except for the GRU's new-gate block, r⊙dA_n).
Arrays are time-major inside, (T, m, ·), so each step's slice is contiguous.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .activations import ACTIVATIONS, get_activation
from .initializers import INITIALIZERS, initialize
from .layers import Layer, ParamSpec, SpecError

Array = Any

RNN_ACTIVATIONS = tuple(a for a in ACTIVATIONS if a != "softmax")


def _sigmoid(z: Array, xp: Any) -> Array:
    """σ(z) in place, as (1 + tanh(z/2)) / 2 (never overflows, keeps the dtype)."""
    xp.multiply(z, 0.5, out=z)
    xp.tanh(z, out=z)
    xp.add(z, 1.0, out=z)
    return xp.multiply(z, 0.5, out=z)


def _units(units: object) -> int:
    if not isinstance(units, int) or isinstance(units, bool) or units < 1:
        raise SpecError(f"units must be a whole number ≥ 1, got {units!r}")
    return units


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"return_sequences must be true or false, got {value!r}")
    return value


class Recurrent(Layer):
    """What SimpleRNN, LSTM and GRU share: shapes, parameters, the input GEMM, the loop over
    time and the GEMMs after backpropagation through time. A subclass sets ``gates`` and
    writes one step forward (:meth:`_step`) and back (:meth:`_step_back`)."""

    gates: ClassVar[int] = 1
    title: ClassVar[str] = ""
    weight_name = "W"
    weight_axes = ("gate unit", "input")
    takes_sequences = True
    recurrent_bias: ClassVar[bool] = False  # the GRU's separate bh

    def __init__(self, units: int, return_sequences: bool = False, initializer: str = "glorot_uniform"):
        super().__init__()
        self.units, self.return_sequences = _units(units), _flag(return_sequences)
        if initializer not in INITIALIZERS:
            raise SpecError(f"unknown initializer {initializer!r}; choose one of {', '.join(INITIALIZERS)}")
        self.initializer = initializer
        self._cache: dict[str, Array] = {}  # the last training pass: "x" (T, m, F) time-major, "h" h_0 … h_T (T + 1, m, units), the gates
        self.record_step_norms = False  # while True, every backward sets step_norms
        self.step_norms: np.ndarray | None = None  # host float64 (T,): ‖∂L/∂h_{t+1}‖ of the last recorded backward

    @property
    def steps(self) -> int:
        return self.input_shape[0]

    @property
    def features(self) -> int:
        return self.input_shape[1]

    @property
    def width(self) -> int:
        """G·units: the rows of W, U and b."""
        return self.gates * self.units

    @property
    def scratch_per_sample(self) -> int:
        """Numbers per sample a training pass keeps besides its output: the time-major input,
        the hidden states, the gates' values and their gradients (see core.network.activation_bytes)."""
        return self.steps * (self.features + 2 * self.units + 3 * self.width)

    def infer_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise SpecError(f"{self.title} needs sequences (steps, features) per sample, got shape {input_shape}"
                            + ("; an Embedding layer first turns token ids (steps,) into them" if len(input_shape) == 1 else ""))
        return (input_shape[0], self.units) if self.return_sequences else (self.units,)

    def param_specs(self):
        w = self.width
        specs = [ParamSpec("W", (w, self.features), True), ParamSpec("U", (w, self.units), True), ParamSpec("b", (w,), False)]
        return specs + ([ParamSpec("bh", (w,), False)] if self.recurrent_bias else [])

    def initial_values(self, rng):
        """W and U drawn by the initializer (fan-in the inputs or units, fan-out G·units); biases 0."""
        w = self.width
        values = {"W": initialize(self.initializer, (w, self.features), self.features, w, rng),
                  "U": initialize(self.initializer, (w, self.units), self.units, w, rng), "b": np.zeros(w)}
        if self.recurrent_bias:
            values["bh"] = np.zeros(w)
        return values

    # ----- passes -----------------------------------------------------------------------
    def forward(self, x, training):
        """x (m, T, F) → h_T (m, units), or (m, T, units) with return_sequences."""
        cache = self._run(x)
        if training:  # a prediction pass between a training pass and its backward leaves its cache alone
            self._cache = cache
        h = cache["h"]
        return self.backend.xp.ascontiguousarray(h[1:].transpose(1, 0, 2)) if self.return_sequences else h[self.steps]

    def trace(self, x: Array) -> dict[str, np.ndarray]:
        """A prediction pass over x (m, T, F) that keeps what each step computed: host arrays
        (m, T, units) by name, "h" (h_1 … h_T) and the gates (:meth:`_traced`). The training
        pass's cache and the gradients stay as they were."""
        cache = self._run(x)
        named = {"h": cache["h"][1:], **self._traced(cache)}
        return {name: np.ascontiguousarray(self.backend.to_host(a).transpose(1, 0, 2)) for name, a in named.items()}

    def _traced(self, cache: dict[str, Array]) -> dict[str, Array]:
        """The gates of a pass's ``cache`` by name, each time-major (T, m, units)."""
        return {}

    def _run(self, x: Array) -> dict[str, Array]:
        """The loop over time for x (m, T, F): the pass's cache (see ``_cache``)."""
        xp, dtype = self.backend.xp, self.backend.dtype
        m, steps = x.shape[0], self.steps
        x_tm = xp.ascontiguousarray(x.transpose(1, 0, 2))
        inputs = (x_tm.reshape(steps * m, self.features) @ self.params["W"].T).reshape(steps, m, self.width)
        inputs += self.params["b"]
        h = xp.zeros((steps + 1, m, self.units), dtype)
        cache = {"x": x_tm, "h": h, **self._start(m, steps)}
        ut = self.params["U"].T
        for t in range(steps):
            h[t + 1] = self._step(t, inputs[t], h[t], ut, cache)
        return cache

    def backward(self, grad, need_input_grad, grad_is_dz=False):
        """dL/d(output) (m, units) or (m, T, units) → the parameters' gradients and dL/dx (m, T, F);
        with ``record_step_norms``, also ``step_norms``."""
        xp = self.backend.xp
        steps, m = self.steps, grad.shape[0]
        d_out = grad.transpose(1, 0, 2) if self.return_sequences else None
        d_inputs = xp.empty((steps, m, self.width), self.backend.dtype)
        d_recurrent = d_inputs if not self.recurrent_bias else xp.empty_like(d_inputs)
        dh = xp.zeros((m, self.units), self.backend.dtype)
        u, cache = self.params["U"], self._cache
        norms = xp.empty(steps, self.backend.dtype) if self.record_step_norms else None
        for t in range(steps - 1, -1, -1):
            if self.return_sequences:
                dh += d_out[t]
            elif t == steps - 1:
                dh += grad
            if norms is not None:
                norms[t] = xp.linalg.norm(dh)
            dh_direct = self._step_back(t, dh, d_inputs[t], d_recurrent[t], cache)
            dh = d_recurrent[t] @ u
            if dh_direct is not None:
                dh += dh_direct
        if norms is not None:
            self.step_norms = self.backend.to_host(norms).astype(np.float64)
        rows = steps * m
        flat_inputs, flat_recurrent = d_inputs.reshape(rows, self.width), d_recurrent.reshape(rows, self.width)
        xp.dot(flat_inputs.T, cache["x"].reshape(rows, self.features), out=self.grads["W"])
        xp.dot(flat_recurrent.T, cache["h"][:steps].reshape(rows, self.units), out=self.grads["U"])
        xp.add.reduce(flat_inputs, axis=0, out=self.grads["b"])
        if self.recurrent_bias:
            xp.add.reduce(flat_recurrent, axis=0, out=self.grads["bh"])
        if not need_input_grad:
            return None
        dx = (flat_inputs @ self.params["W"]).reshape(steps, m, self.features)
        return xp.ascontiguousarray(dx.transpose(1, 0, 2))

    def _start(self, m: int, steps: int) -> dict[str, Array]:
        """The arrays, by name, that the steps of a pass of ``m`` sequences fill in (the pass's cache)."""
        return {}

    def _step(self, t: int, inputs: Array, h_prev: Array, ut: Array, cache: dict[str, Array]) -> Array:
        """h_t (m, units) from W·x_t + b (m, G·units), h_{t−1} (m, units) and Uᵀ (units, G·units);
        what backward needs goes into ``cache``."""
        raise NotImplementedError

    def _step_back(self, t: int, dh: Array, d_inputs: Array, d_recurrent: Array, cache: dict[str, Array]) -> Array | None:
        """From dL/dh_t (m, units) and the training pass's ``cache``, write the step's pre-activation gradients into ``d_inputs``
        (of W·x_t + b) and ``d_recurrent`` (of U·h_{t−1}; the same array except in the GRU);
        return the part of dL/dh_{t−1} that does not pass through U (None when there is none)."""
        raise NotImplementedError

    def describe(self):
        return f"{self.title}({self.units}{', sequences' if self.return_sequences else ''})"

    def to_spec(self):
        return {"type": self.kind, "units": self.units, "return_sequences": self.return_sequences}


class SimpleRNN(Recurrent):
    """h_t = g(W·x_t + U·h_{t−1} + b), g tanh by default (any activation but softmax)."""

    kind = "rnn"
    title = "SimpleRNN"

    def __init__(self, units: int, activation: str = "tanh", return_sequences: bool = False,
                 initializer: str = "glorot_uniform"):
        super().__init__(units, return_sequences, initializer)
        if activation not in RNN_ACTIVATIONS:
            raise SpecError(f"unknown activation {activation!r} for a recurrent layer; choose one of {', '.join(RNN_ACTIVATIONS)}")
        self.activation_key = activation  # not activation_name: no loss fuses with a recurrent layer
        self.activation = get_activation(activation)

    def _step(self, t, inputs, h_prev, ut, cache):
        z = inputs + h_prev @ ut
        return self.activation.forward(z, self.backend.xp)

    def _step_back(self, t, dh, d_inputs, d_recurrent, cache):
        dz = self.activation.backward(cache["h"][t + 1], dh, d_inputs, self.backend.xp)
        if dz is not d_inputs:  # linear: dZ is dh itself
            d_inputs[...] = dz

    def describe(self):
        return f"SimpleRNN({self.units}, {self.activation_key}{', sequences' if self.return_sequences else ''})"

    def to_spec(self):
        return {"type": "rnn", "units": self.units, "activation": self.activation_key,
                "return_sequences": self.return_sequences, "initializer": self.initializer}


class LSTM(Recurrent):
    """Long short-term memory: gates i, f, g, o (PyTorch's order), a cell state c beside h."""

    kind = "lstm"
    title = "LSTM"
    gates = 4

    def __init__(self, units: int, return_sequences: bool = False):
        super().__init__(units, return_sequences)

    def _start(self, m, steps):
        """gates: i, f, g, o after their activations (T, m, 4·units); c: c_0 … c_T (T + 1, m, units);
        tanh_c: tanh(c_t) (T, m, units)."""
        xp, dtype = self.backend.xp, self.backend.dtype
        return {"gates": xp.empty((steps, m, self.width), dtype), "c": xp.zeros((steps + 1, m, self.units), dtype),
                "tanh_c": xp.empty((steps, m, self.units), dtype)}

    def _traced(self, cache):
        u, a = self.units, cache["gates"]
        return {"i": a[..., :u], "f": a[..., u: 2 * u], "g": a[..., 2 * u: 3 * u], "o": a[..., 3 * u:], "c": cache["c"][1:]}

    def _step(self, t, inputs, h_prev, ut, cache):
        xp, u = self.backend.xp, self.units
        a, cells, tanh_c = cache["gates"][t], cache["c"], cache["tanh_c"][t]
        xp.add(inputs, h_prev @ ut, out=a)
        _sigmoid(a[:, : 2 * u], xp)
        xp.tanh(a[:, 2 * u: 3 * u], out=a[:, 2 * u: 3 * u])
        _sigmoid(a[:, 3 * u:], xp)
        i, f, g, o = a[:, :u], a[:, u: 2 * u], a[:, 2 * u: 3 * u], a[:, 3 * u:]
        c = cells[t + 1]
        xp.multiply(f, cells[t], out=c)
        c += i * g
        xp.tanh(c, out=tanh_c)
        return o * tanh_c

    def _step_back(self, t, dh, d_inputs, d_recurrent, cache):
        """Carries dL/dc_t from step to step in ``cache["dc"]`` (m, units)."""
        if t == self.steps - 1:
            cache["dc"] = self.backend.xp.zeros_like(dh)
        u, a, tanh_c = self.units, cache["gates"][t], cache["tanh_c"][t]
        i, f, g, o = a[:, :u], a[:, u: 2 * u], a[:, 2 * u: 3 * u], a[:, 3 * u:]
        dc = cache["dc"] + dh * o * (1.0 - tanh_c * tanh_c)
        d_inputs[:, :u] = dc * g * i * (1.0 - i)
        d_inputs[:, u: 2 * u] = dc * cache["c"][t] * f * (1.0 - f)
        d_inputs[:, 2 * u: 3 * u] = dc * i * (1.0 - g * g)
        d_inputs[:, 3 * u:] = dh * tanh_c * o * (1.0 - o)
        cache["dc"] = dc * f


class GRU(Recurrent):
    """Gated recurrent unit in PyTorch's formulation: gates r, z, n, a separate recurrent bias bh."""

    kind = "gru"
    title = "GRU"
    gates = 3
    recurrent_bias = True

    def __init__(self, units: int, return_sequences: bool = False):
        super().__init__(units, return_sequences)

    def _start(self, m, steps):
        """gates: r, z, n after their activations (T, m, 3·units); hn: U_n·h_{t−1} + bh_n (T, m, units)."""
        xp, dtype = self.backend.xp, self.backend.dtype
        return {"gates": xp.empty((steps, m, self.width), dtype), "hn": xp.empty((steps, m, self.units), dtype)}

    def _traced(self, cache):
        u, a = self.units, cache["gates"]
        return {"r": a[..., :u], "z": a[..., u: 2 * u], "n": a[..., 2 * u:]}

    def _step(self, t, inputs, h_prev, ut, cache):
        xp, u = self.backend.xp, self.units
        recurrent = h_prev @ ut
        recurrent += self.params["bh"]
        a, hn = cache["gates"][t], cache["hn"][t]
        xp.add(inputs[:, : 2 * u], recurrent[:, : 2 * u], out=a[:, : 2 * u])
        _sigmoid(a[:, : 2 * u], xp)
        r, z, n = a[:, :u], a[:, u: 2 * u], a[:, 2 * u:]
        hn[...] = recurrent[:, 2 * u:]
        xp.multiply(r, hn, out=n)
        n += inputs[:, 2 * u:]
        xp.tanh(n, out=n)
        return n + z * (h_prev - n)

    def _step_back(self, t, dh, d_inputs, d_recurrent, cache):
        u, a, h_prev = self.units, cache["gates"][t], cache["h"][t]
        r, z, n = a[:, :u], a[:, u: 2 * u], a[:, 2 * u:]
        dn = dh * (1.0 - z) * (1.0 - n * n)
        d_inputs[:, :u] = dn * cache["hn"][t] * r * (1.0 - r)
        d_inputs[:, u: 2 * u] = dh * (h_prev - n) * z * (1.0 - z)
        d_inputs[:, 2 * u:] = dn
        d_recurrent[:, : 2 * u] = d_inputs[:, : 2 * u]
        d_recurrent[:, 2 * u:] = dn * r
        return dh * z

