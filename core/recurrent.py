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

How a pass runs (the stored parameters never change layout; only the pass's copies do):

* Arrays are unit-major inside: a step's values are (rows, m), samples along the fast axis,
  so each gate block of a step, (units, m), is one contiguous piece of memory (elementwise
  calls on contiguous arrays cost a third of those on column slices).
* Each step is one GEMM, the stacked matrix [W | b | U] (C, K = F + 1 + units) times the
  step's column [x_t; 1; h_{t−1}] (K, m), into that step's slice of a time-major array. The
  columns of every step live in one array ``xh`` (T + 1, K, m): a step writes its h_t straight
  into the next step's column. The C rows are the gate blocks in the kind's own order
  (``columns``), chosen so that the elementwise work of a step is a few calls on adjacent
  blocks: the LSTM's o, i, f, g (the three sigmoids adjacent); the GRU's W_n·x + b_n, z, r,
  U_n·h + bh_n (n needs its two parts apart).
* σ(a) = ½·tanh(½a) + ½: the step GEMM runs on a copy of the stacked matrix with the
  sigmoid rows halved (made once per pass), so one tanh covers all the gates of a step.
* Backward is backpropagation through time over the whole sequence (or truncated, with
  ``bptt_steps`` k > 0: see :meth:`Recurrent.cut_steps`): the factors of each
  step's derivatives that do not depend on the gradient (σ′, tanh′ and the values they
  multiply) are computed for all steps at once before the loop; the loop back from T to 1
  writes each step's pre-activation gradients dA_t; then d[W | b | U] = dA·xhᵀ and
  dx = Wᵀ·dA are one GEMM each over all T·m columns.
* A training pass's arrays are kept between batches, per batch size (the batch size and the
  last partial batch); a prediction pass (``training=False``, :meth:`Recurrent.trace`) works in
  arrays of its own, so it may run between a training pass and its backward.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from .activations import ACTIVATIONS, get_activation
from .initializers import INITIALIZERS, initialize
from .layers import Layer, ParamSpec, SpecError

Array = Any
Shapes = dict[str, tuple[int, ...]]

RNN_ACTIVATIONS = tuple(a for a in ACTIVATIONS if a != "softmax")


def _units(units: object) -> int:
    if not isinstance(units, int) or isinstance(units, bool) or units < 1:
        raise SpecError(f"units must be a whole number ≥ 1, got {units!r}")
    return units


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"return_sequences must be true or false, got {value!r}")
    return value


class Recurrent(Layer):
    """What SimpleRNN, LSTM and GRU share: shapes, parameters, the stacked step GEMM, the loop
    over time and the GEMMs after backpropagation through time. A subclass sets ``gates``,
    ``columns``, ``sigmoid_blocks`` and where its arrays keep the step GEMM's rows, and writes
    its loops over the steps, forward (:meth:`_loop`) and back (:meth:`_loop_back`), on views of
    each step made once a pass (:meth:`_views`): in R1 the loops are the step, and a method call
    or a slice a step costs a few per cent of it."""

    gates: ClassVar[int] = 1
    # The step GEMM's row blocks in order: (gate block of the stored layout, parts), parts "x"
    # (W and b), "h" (U, and bh where the kind has it) or both.
    columns: ClassVar[tuple[tuple[int, str], ...]] = ((0, "xh"),)
    sigmoid_blocks: ClassVar[tuple[int, ...]] = ()  # the row blocks that are sigmoids (halved)
    gate_rows: ClassVar[int] = 1  # blocks of units rows per step in "a" (the GEMM's C rows first)
    grad_rows: ClassVar[int] = 1  # blocks of units rows per step in "da" ...
    grad_offset: ClassVar[int] = 0  # ... the GEMM's C rows from this block on
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
        self._passes: dict[int, dict[str, Array]] = {}  # training passes' arrays by batch size, kept between batches
        self._pass: dict[str, Array] | None = None  # the last training pass, which backward differentiates
        self._scale: Array = None  # (C, 1): ½ on the sigmoid rows, 1 elsewhere
        self.record_step_norms = False  # while True, every backward sets step_norms
        self.step_norms: np.ndarray | None = None  # host float64 (T,): ‖∂L/∂h_{t+1}‖ of the last recorded backward
        self.bptt_steps = 0  # truncated BPTT: cut the gradient through the state every k steps back from T; 0: full BPTT

    @property
    def steps(self) -> int:
        return self.input_shape[0]

    @property
    def features(self) -> int:
        return self.input_shape[1]

    def cut_steps(self) -> frozenset[int]:
        """The steps t (0-based, step t reads h_t and writes h_{t+1}) at whose start backward cuts
        the gradient through the recurrent state (h_t, and an LSTM's c_t, taken as constants there):
        with ``bptt_steps`` k > 0, t = T − k, T − 2k, … > 0, so that the chunks back from the last
        step are [T − k, T), [T − 2k, T − k), …; the output's own gradient at a step (with
        return_sequences) still reaches its chunk. Empty for k = 0 (full BPTT) or k ≥ T."""
        k = self.bptt_steps
        return frozenset(range(self.steps - k, 0, -k)) if k else frozenset()

    @property
    def width(self) -> int:
        """G·units: the rows of W, U and b."""
        return self.gates * self.units

    @property
    def stacked_columns(self) -> int:
        """K = F + 1 + units: a step's GEMM column [x_t; 1; h_{t−1}]."""
        return self.features + 1 + self.units

    @property
    def scratch_per_sample(self) -> int:
        """Numbers per sample a training pass keeps besides its output (see core.network.activation_bytes)."""
        return sum(math.prod(s) for s in self._shapes(2, True).values()) - sum(math.prod(s) for s in self._shapes(1, True).values())

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

    def bind(self, params, grads, backend, seed, state=None):
        super().bind(params, grads, backend, seed, state)
        self._passes.clear()
        self._pass = self._scale = None

    # ----- a pass's arrays ------------------------------------------------------------------------
    def _shapes(self, m: int, training: bool) -> Shapes:
        """The arrays of a pass of ``m`` sequences by name: "xh" the steps' GEMM columns [x_t; 1; h_t]
        (T + 1, K, m); "a" the gates (T, gate_rows·units, m); "stacked" [W | b | U] (C, K) and "scaled",
        its copy with the sigmoid rows halved; for training also "da" the pre-activation gradients
        (T, grad_rows·units, m), "da_flat" and "xh_flat" (C and K, T, m) their copies for the GEMMs
        over all steps, "d_stacked" (C, K), "ut" the recurrent columns of "stacked" transposed (units, C),
        "dh" (units, m), "norms" (T,); and the kind's own (:meth:`_own_shapes`)."""
        steps, u, k, c = self.steps, self.units, self.stacked_columns, len(self.columns) * self.units
        shapes = {"xh": (steps + 1, k, m), "a": (steps, self.gate_rows * u, m), "stacked": (c, k)}
        if self.sigmoid_blocks:
            shapes["scaled"] = (c, k)
        if training:
            shapes |= {"da": (steps, self.grad_rows * u, m), "da_flat": (c, steps, m), "xh_flat": (k, steps, m),
                       "d_stacked": (c, k), "ut": (u, c), "dh": (u, m), "norms": (steps,)}
        return shapes | self._own_shapes(m, training)

    def _own_shapes(self, m: int, training: bool) -> Shapes:
        return {}

    def _new_pass(self, m: int, training: bool) -> dict[str, Array]:
        xp, dtype = self.backend.xp, self.backend.dtype
        run = {name: xp.zeros(shape, dtype) for name, shape in self._shapes(m, training).items()}
        run["xh"][:, self.features] = 1.0  # the bias's input
        return run | self._views(run, training)

    def _views(self, run: dict[str, Array], training: bool) -> dict[str, list[tuple[Array | None, ...]]]:
        """Lists of each step's views of the pass's arrays, for a kind whose loops take them ready-made."""
        return {}

    def _training_pass(self, m: int) -> dict[str, Array]:
        run = self._passes.get(m)
        if run is None:
            if len(self._passes) >= 2:  # the batch size and the last partial batch; drop stale sizes
                self._passes.clear()
            run = self._passes[m] = self._new_pass(m, True)
        return run

    def _row_scale(self) -> Array:
        if self._scale is None:
            blocks = np.repeat([0.5 if j in self.sigmoid_blocks else 1.0 for j in range(len(self.columns))], self.units)
            self._scale = self.backend.asarray(blocks[:, None])
        return self._scale

    def _blocks(self):
        """(rows of the stacked matrix, rows of the stored parameters, parts) for each block of ``columns``."""
        u = self.units
        return [(slice(j * u, (j + 1) * u), slice(block * u, (block + 1) * u), parts)
                for j, (block, parts) in enumerate(self.columns)]

    def _stack(self, stacked: Array) -> None:
        """Write [W | b | U] (C, K), its row blocks as ``columns`` says, into ``stacked`` (a part a
        block does not take stays 0)."""
        p, f = self.params, self.features
        for rows, source, parts in self._blocks():
            if "x" in parts:
                stacked[rows, :f] = p["W"][source]
            stacked[rows, f] = p["b"][source] if "x" in parts else 0.0
            if "h" in parts:
                stacked[rows, f + 1:] = p["U"][source]
                if self.recurrent_bias:
                    stacked[rows, f] += p["bh"][source]

    def _unstack(self, d_stacked: Array) -> None:
        """The parameters' gradients from d[W | b | U] (C, K)."""
        g, f = self.grads, self.features
        for rows, source, parts in self._blocks():
            if "x" in parts:
                g["W"][source] = d_stacked[rows, :f]
                g["b"][source] = d_stacked[rows, f]
            if "h" in parts:
                g["U"][source] = d_stacked[rows, f + 1:]
                if self.recurrent_bias:
                    g["bh"][source] = d_stacked[rows, f]

    # ----- passes -----------------------------------------------------------------------
    def forward(self, x, training):
        """x (m, T, F) → h_T (m, units), or (m, T, units) with return_sequences."""
        run = self._training_pass(x.shape[0]) if training else self._new_pass(x.shape[0], False)
        self._run(x, run)
        if training:
            self._pass = run
        h = run["xh"][1:, self.features + 1:]  # (T, units, m)
        return self.backend.xp.ascontiguousarray(h.transpose(2, 0, 1) if self.return_sequences else h[-1].T)

    def trace(self, x: Array) -> dict[str, np.ndarray]:
        """A prediction pass over x (m, T, F) that keeps what each step computed: host arrays
        (m, T, units) by name, "h" (h_1 … h_T) and the gates (:meth:`_traced`). The training
        pass's arrays and the gradients stay as they were."""
        run = self._new_pass(x.shape[0], False)
        self._run(x, run)
        named = {"h": run["xh"][1:, self.features + 1:], **self._traced(run)}
        return {name: np.array(self.backend.to_host(a).transpose(2, 0, 1), order="C") for name, a in named.items()}

    def _traced(self, run: dict[str, Array]) -> dict[str, Array]:
        """The gates of a pass ``run`` by name, each (T, units, m)."""
        return {}

    def _run(self, x: Array, run: dict[str, Array]) -> None:
        """The loop over time for x (m, T, F), into the pass's arrays ``run``."""
        xp = self.backend.xp
        run["xh"][: self.steps, : self.features] = x.transpose(1, 2, 0)
        self._stack(run["stacked"])
        scaled = run["stacked"]
        if self.sigmoid_blocks:
            scaled = xp.multiply(scaled, self._row_scale(), out=run["scaled"])
        self._loop(run, scaled)

    def _loop(self, run: dict[str, Array], scaled: Array) -> None:
        """The steps forward: each the GEMM of ``scaled`` (C, K, the sigmoid rows halved) and the
        step's column [x_t; 1; h_{t−1}] (K, m), then the step's gates (in place) and h_t, written
        into the next step's column."""
        raise NotImplementedError

    def backward(self, grad, need_input_grad, grad_is_dz=False):
        """dL/d(output) (m, units) or (m, T, units) → the parameters' gradients and dL/dx (m, T, F);
        with ``record_step_norms``, also ``step_norms``."""
        xp, run = self.backend.xp, self._pass
        steps, f, m, u = self.steps, self.features, grad.shape[0], self.units
        da, dh, c = run["da"], run["dh"], len(self.columns) * u
        rows = slice(self.grad_offset * u, self.grad_offset * u + c)
        run["ut"][...] = run["stacked"][:, f + 1:].T
        d_out = xp.ascontiguousarray(grad.transpose(1, 2, 0)) if self.return_sequences else None  # (T, units, m)
        norms = run["norms"] if self.record_step_norms else None
        self._start_back(run)
        dh[...] = d_out[steps - 1] if self.return_sequences else grad.T
        self._loop_back(run, d_out, norms, self.cut_steps())
        if norms is not None:
            self.step_norms = self.backend.to_host(norms).astype(np.float64)
        da_flat, xh_flat = run["da_flat"], run["xh_flat"]
        da_flat[...] = da[:, rows].transpose(1, 0, 2)
        xh_flat[...] = run["xh"][:steps].transpose(1, 0, 2)
        da_flat, xh_flat = da_flat.reshape(c, steps * m), xh_flat.reshape(self.stacked_columns, steps * m)
        xp.dot(da_flat, xh_flat.T, out=run["d_stacked"])
        self._unstack(run["d_stacked"])
        if not need_input_grad:
            return None
        dx = xp.dot(run["stacked"][:, :f].T, da_flat).reshape(f, steps, m)
        return xp.ascontiguousarray(dx.transpose(2, 1, 0))

    def _loop_back(self, run: dict[str, Array], d_out: Array | None, norms: Array | None, cuts: frozenset[int]) -> None:
        """The steps back from T to 1, from dL/dh_T in ``run["dh"]`` (units, m): each step's
        pre-activation gradients into the GEMM's rows of ``run["da"][t]``, then dL/dh_{t−1} = Uᵀ·dA_t
        (with ``run["ut"]``), plus the part past U and d_out[t − 1] (dL/d(output) (T, units, m) with
        return_sequences); at a step of ``cuts`` (:meth:`cut_steps`) dL/dh_{t−1} is d_out[t − 1] alone
        (:meth:`_restart`); ``norms[t]`` (T,) = ‖dL/dh_{t+1}‖ when given."""
        raise NotImplementedError

    @staticmethod
    def _restart(dh: Array, d_out: Array | None, t: int) -> None:
        """At a cut before step t: dL/dh_t (units, m) into ``dh`` from the output alone, d_out[t − 1]
        (0 without return_sequences)."""
        if d_out is None:
            dh.fill(0.0)
        else:
            dh[...] = d_out[t - 1]

    def _h(self, t: int, run: dict[str, Array]) -> Array:
        """h_t (units, m) (h_0 = 0), in the GEMM column that step t + 1 reads."""
        return run["xh"][t, self.features + 1:]

    def _start_back(self, run: dict[str, Array]) -> None:
        """Before the loop back: the factors of every step's derivatives that do not depend on dL/dh."""

    def describe(self):
        return f"{self.title}({self.units}{', sequences' if self.return_sequences else ''})"

    def to_spec(self):
        return {"type": self.kind, "units": self.units, "return_sequences": self.return_sequences}


def set_bptt_steps(layers: Iterable[Layer], steps: int) -> None:
    """Truncate backpropagation through time to ``steps`` (0: full BPTT) in every recurrent layer of
    ``layers`` (see :meth:`Recurrent.cut_steps`); other layers have nothing to truncate."""
    for layer in layers:
        if isinstance(layer, Recurrent):
            layer.bptt_steps = steps


class SimpleRNN(Recurrent):
    """h_t = g(W·x_t + U·h_{t−1} + b), g tanh by default (any activation but softmax). The step's
    GEMM writes straight into h_t's place; "a" is unused (0 rows). Backward takes g′ of every
    step at once ("fac", (T, units, m): g's derivative applied to "ones")."""

    kind = "rnn"
    title = "SimpleRNN"
    gate_rows = 0

    def __init__(self, units: int, activation: str = "tanh", return_sequences: bool = False,
                 initializer: str = "glorot_uniform"):
        super().__init__(units, return_sequences, initializer)
        if activation not in RNN_ACTIVATIONS:
            raise SpecError(f"unknown activation {activation!r} for a recurrent layer; choose one of {', '.join(RNN_ACTIVATIONS)}")
        self.activation_key = activation  # not activation_name: no loss fuses with a recurrent layer
        self.activation = get_activation(activation)

    def _own_shapes(self, m, training):
        return {"fac": (self.steps, self.units, m), "ones": (self.steps, self.units, m)} if training else {}

    def _new_pass(self, m, training):
        run = super()._new_pass(m, training)
        if training:
            run["ones"].fill(1.0)
        return run

    def _views(self, run, training):
        """"steps": per step (its GEMM column, h_t's place, where the GEMM writes)."""
        return {"steps": [(run["xh"][t], self._h(t + 1, run)) for t in range(self.steps)]}

    def _loop(self, run, scaled):
        xp, activation = self.backend.xp, self.activation.forward
        for column, h in run["steps"]:
            xp.dot(scaled, column, h)
            activation(h, xp)

    def _start_back(self, run):
        h = run["xh"][1:, self.features + 1:]
        run["g_prime"] = self.activation.backward(h, run["ones"], run["fac"], self.backend.xp)  # "ones" itself when linear

    def _loop_back(self, run, d_out, norms, cuts):
        xp, dh, ut, da, g_prime = self.backend.xp, run["dh"], run["ut"], run["da"], run["g_prime"]
        for t in range(self.steps - 1, -1, -1):
            if norms is not None:
                norms[t] = xp.linalg.norm(dh)
            xp.multiply(dh, g_prime[t], da[t])
            if t in cuts:
                self._restart(dh, d_out, t)
            elif t:
                xp.dot(ut, da[t], dh)
                if d_out is not None:
                    xp.add(dh, d_out[t - 1], dh)

    def describe(self):
        return f"SimpleRNN({self.units}, {self.activation_key}{', sequences' if self.return_sequences else ''})"

    def to_spec(self):
        return {"type": "rnn", "units": self.units, "activation": self.activation_key,
                "return_sequences": self.return_sequences, "initializer": self.initializer}


class LSTM(Recurrent):
    """Long short-term memory: gates i, f, g, o (PyTorch's order), a cell state c beside h.

    Row blocks of a step: "a" o, i, f, g, c_{t−1} (the GEMM's four, then the cell), so that
    [i·g, f·c_{t−1}] is one product; "da" dc, o, i, f, g, carry (carry = f⊙dL/dc_t, read by
    step t − 1), so that a step back is three products: dh times [o·tanh′(c), tanh(c)·σ′(a_o)]
    into [dc, d_o], dc += carry, dc times [g·σ′(a_i), c_{t−1}·σ′(a_f), i·tanh′(a_g), f] into
    [d_i, d_f, d_g, carry]. The factors are "fac" (T, 6·units, m), in that order."""

    kind = "lstm"
    title = "LSTM"
    gates = 4
    columns = ((3, "xh"), (0, "xh"), (1, "xh"), (2, "xh"))
    sigmoid_blocks = (0, 1, 2)
    gate_rows, grad_rows, grad_offset = 5, 6, 1

    def __init__(self, units: int, return_sequences: bool = False):
        super().__init__(units, return_sequences)

    def _own_shapes(self, m, training):
        """"a" with T + 1 steps (c_T in the last one's cell block); "tanh_c" tanh(c_t) (T, units, m);
        "ig" [i·g, f·c_{t−1}] (2·units, m) scratch; for training "fac" (above)."""
        steps, u = self.steps, self.units
        shapes = {"a": (steps + 1, 5 * u, m), "tanh_c": (steps, u, m), "ig": (2 * u, m)}
        if training:
            shapes["fac"] = (steps, 6 * u, m)
        return shapes

    def _traced(self, run):
        u, a = self.units, run["a"]
        return {"i": a[:-1, u: 2 * u], "f": a[:-1, 2 * u: 3 * u], "g": a[:-1, 3 * u: 4 * u], "o": a[:-1, :u], "c": a[1:, 4 * u:]}

    def _views(self, run, training):
        """"steps": per step (its GEMM column; in "a" the gates o, i, f, g, the sigmoids o, i, f,
        [i, f], [g, c_{t−1}], c_t, o; [i·g, f·c_{t−1}] in "ig"; tanh(c_t); h_t's place); "back": per step
        (the factors times dh and their product [dc, d_o]; dc; the carry of step t + 1 (None at T);
        the factors times dc and their product; the GEMM's rows of "da")."""
        steps, u, a, ig, tanh_c, m = self.steps, self.units, run["a"], run["ig"], run["tanh_c"], run["xh"].shape[2]
        views = {"steps": [(run["xh"][t], a[t, : 4 * u], a[t, : 3 * u], a[t, u: 3 * u], a[t, 3 * u:], a[t + 1, 4 * u:],
                            a[t, :u], ig, ig[:u], ig[u:], tanh_c[t], self._h(t + 1, run)) for t in range(steps)]}
        if training:
            da, fac = run["da"].reshape(steps, 6, u, m), run["fac"].reshape(steps, 6, u, m)
            views["back"] = [(fac[t, :2], da[t, :2], da[t, 0], da[t + 1, 5] if t + 1 < steps else None, fac[t, 2:], da[t, 2:],
                              run["da"][t, u: 5 * u]) for t in range(steps)]
        return views

    def _loop(self, run, scaled):
        xp = self.backend.xp
        dot, tanh, multiply, add = xp.dot, xp.tanh, xp.multiply, xp.add
        for column, gates, sig, i_f, g_c, c, o, ig, i_g, f_c, tanh_c, h in run["steps"]:
            dot(scaled, column, gates)
            tanh(gates, gates)
            multiply(sig, 0.5, sig)
            add(sig, 0.5, sig)
            multiply(i_f, g_c, ig)
            add(i_g, f_c, c)
            tanh(c, tanh_c)
            multiply(o, tanh_c, h)

    def _start_back(self, run):
        xp, u, steps = self.backend.xp, self.units, self.steps
        a, tanh_c, fac = run["a"][:steps], run["tanh_c"], run["fac"]
        o, i, f, g = (a[:, j * u: (j + 1) * u] for j in range(4))
        sig = fac[:, u: 4 * u]  # σ′ of o, i, f, then times tanh(c_t), g, c_{t−1}
        xp.subtract(1.0, a[:, : 3 * u], out=sig)
        xp.multiply(sig, a[:, : 3 * u], out=sig)
        xp.multiply(fac[:, u: 2 * u], tanh_c, out=fac[:, u: 2 * u])
        xp.multiply(fac[:, 2 * u: 4 * u], a[:, 3 * u:], out=fac[:, 2 * u: 4 * u])  # [g, c_{t−1}]
        for j, value, by in ((0, tanh_c, o), (4, g, i)):  # tanh′ times
            part = fac[:, j * u: (j + 1) * u]
            xp.multiply(value, value, out=part)
            xp.subtract(1.0, part, out=part)
            xp.multiply(part, by, out=part)
        fac[:, 5 * u:] = f

    def _loop_back(self, run, d_out, norms, cuts):
        xp, dh, ut, back = self.backend.xp, run["dh"], run["ut"], run["back"]
        dot, multiply, add, norm = xp.dot, xp.multiply, xp.add, xp.linalg.norm
        for t in range(self.steps - 1, -1, -1):
            fac_h, d_h, dc, carry, fac_c, d_c, gemm_rows = back[t]
            if norms is not None:
                norms[t] = norm(dh)
            multiply(dh, fac_h, d_h)
            if carry is not None:
                add(dc, carry, dc)
            multiply(dc, fac_c, d_c)
            if t in cuts:
                d_c[3].fill(0.0)  # the carry f⊙dL/dc_t that step t − 1 reads: c_t taken as a constant too
                self._restart(dh, d_out, t)
            elif t:
                dot(ut, gemm_rows, dh)
                if d_out is not None:
                    add(dh, d_out[t - 1], dh)


class GRU(Recurrent):
    """Gated recurrent unit in PyTorch's formulation: gates r, z, n, a separate recurrent bias bh.

    Row blocks of a step: "a" W_n·x + b_n (then n), z, r, U_n·h + bh_n; "da" direct (the part of
    dL/dh_{t−1} past U), dn, dz, dr, d(U_n·h + bh_n), so that a step back is two products: dh times
    [z, (1 − z)·tanh′(n), (h_{t−1} − n)·σ′(a_z)] into [direct, dn, dz], dn times [(U_n·h + bh_n)·σ′(a_r), r]
    into the last two. The factors are "fac" (T, 5·units, m), in that order."""

    kind = "gru"
    title = "GRU"
    gates = 3
    recurrent_bias = True
    columns = ((2, "x"), (1, "xh"), (0, "xh"), (2, "h"))
    sigmoid_blocks = (1, 2)
    gate_rows, grad_rows, grad_offset = 4, 5, 1

    def __init__(self, units: int, return_sequences: bool = False):
        super().__init__(units, return_sequences)

    def _own_shapes(self, m, training):
        """"tmp" (units, m) scratch; for training "fac" (above)."""
        shapes = {"tmp": (self.units, m)}
        if training:
            shapes["fac"] = (self.steps, 5 * self.units, m)
        return shapes

    def _traced(self, run):
        u, a = self.units, run["a"]
        return {"r": a[:, 2 * u: 3 * u], "z": a[:, u: 2 * u], "n": a[:, :u]}

    def _views(self, run, training):
        """"steps": per step (its GEMM column; in "a" all its rows, the sigmoids z, r, then n, z, r,
        U_n·h + bh_n; h_{t−1}; h_t's place); "back": per step (the factors times dh and their product
        [direct, dn, dz]; dn; the factors times dn and their product [dr, d(U_n·h + bh_n)]; direct;
        the GEMM's rows of "da")."""
        steps, u, a, m = self.steps, self.units, run["a"], run["xh"].shape[2]
        views = {"steps": [(run["xh"][t], a[t], a[t, u: 3 * u], *(a[t, j * u: (j + 1) * u] for j in range(4)), self._h(t, run),
                            self._h(t + 1, run)) for t in range(steps)]}
        if training:
            da, fac = run["da"].reshape(steps, 5, u, m), run["fac"].reshape(steps, 5, u, m)
            views["back"] = [(fac[t, :3], da[t, :3], da[t, 1], fac[t, 3:], da[t, 3:], da[t, 0], run["da"][t, u:])
                             for t in range(steps)]
        return views

    def _loop(self, run, scaled):
        xp, tmp = self.backend.xp, run["tmp"]
        dot, tanh, multiply, add, subtract = xp.dot, xp.tanh, xp.multiply, xp.add, xp.subtract
        for column, gates, sig, n, z, r, hn, h_prev, h in run["steps"]:
            dot(scaled, column, gates)
            tanh(sig, sig)
            multiply(sig, 0.5, sig)
            add(sig, 0.5, sig)
            multiply(r, hn, tmp)
            add(n, tmp, n)
            tanh(n, n)
            subtract(h_prev, n, tmp)
            multiply(tmp, z, tmp)
            add(n, tmp, h)

    def _start_back(self, run):
        xp, u, a, fac = self.backend.xp, self.units, run["a"], run["fac"]
        n, z, r, hn = (a[:, j * u: (j + 1) * u] for j in range(4))
        h_prev = run["xh"][: self.steps, self.features + 1:]
        z_copy, fn, fz, fr, r_copy = (fac[:, j * u: (j + 1) * u] for j in range(5))
        sig = fac[:, 2 * u: 4 * u]  # σ′ of z, r
        xp.subtract(1.0, a[:, u: 3 * u], out=sig)
        xp.multiply(sig, a[:, u: 3 * u], out=sig)
        xp.multiply(fr, hn, out=fr)
        xp.subtract(h_prev, n, out=fn)  # fn as scratch: h_{t−1} − n
        xp.multiply(fz, fn, out=fz)
        xp.subtract(1.0, z, out=z_copy)  # z_copy as scratch: 1 − z
        xp.multiply(n, n, out=fn)
        xp.subtract(1.0, fn, out=fn)
        xp.multiply(fn, z_copy, out=fn)
        z_copy[...] = z
        r_copy[...] = r

    def _loop_back(self, run, d_out, norms, cuts):
        xp, dh, ut, back = self.backend.xp, run["dh"], run["ut"], run["back"]
        dot, multiply, add, norm = xp.dot, xp.multiply, xp.add, xp.linalg.norm
        for t in range(self.steps - 1, -1, -1):
            fac_h, d_h, dn, fac_n, d_n, direct, gemm_rows = back[t]
            if norms is not None:
                norms[t] = norm(dh)
            multiply(dh, fac_h, d_h)
            multiply(dn, fac_n, d_n)
            if t in cuts:
                self._restart(dh, d_out, t)
            elif t:
                dot(ut, gemm_rows, dh)
                add(dh, direct, dh)
                if d_out is not None:
                    add(dh, d_out[t - 1], dh)
