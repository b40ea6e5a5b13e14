"""A transparent forward and backward pass for a few samples, in the course's notation.

:func:`trace` recomputes, in float64 on the host and in arrays of its own, what one training
step of ``network`` computes for samples ``x`` (m, n) and targets ``y`` (m, k), laid out as the
course writes it (columns are samples):

    z[l] = W[l]·a[l−1] + b[l]            a[l−1] (n[l−1], m), W[l] (n[l], n[l−1]), z[l] (n[l], m)
    a[l] = g(z[l])                       a[l] (n[l], m)
    dz[l] = da[l] ⊙ g'(z[l])             (the output layer: the loss's own gradient, see below)
    dW[l] = dz[l]·a[l−1]ᵀ,  db[l] = Σ_samples dz[l],  da[l−1] = W[l]ᵀ·dz[l]

The output gradient is exactly the engine's (core.losses): fused with its activation (sigmoid +
binary cross-entropy, softmax + categorical cross-entropy, linear + mse) dz[L] = (a[L] − y)/m
(times 2/k for mse) — the 1/m of the mean loss is taken there, so dW and db carry no 1/m of their
own — and da[L] = dL/da[L] is reported as well, computed from the loss. The L1/L2 penalties are
not part of the trace (it shows the data loss's gradient). Dropout layers are the identity here,
as at prediction time: a[l] = a[l−1], da[l−1] = da[l].

The network is only read: its parameters are copied, its layers' training buffers, gradients
and activation caches are never touched, so the fast in-place path and every statistic the
trainer keeps stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import get_activation
from .data import a_or_an
from .layers import Dense, Dropout
from .losses import get_loss
from .network import Network

# the loss a model's output activation pairs with (core.data.suggested_head's choices)
LOSS_FOR_OUTPUT = {"sigmoid": "binary_crossentropy", "softmax": "categorical_crossentropy"}
DEFAULT_LOSS = "mse"


def default_loss(network: Network) -> str:
    """The loss that suits ``network``'s output activation: sigmoid → binary cross-entropy,
    softmax → categorical cross-entropy, anything else → mse."""
    return LOSS_FOR_OUTPUT.get(network.output_activation or "", DEFAULT_LOSS)


@dataclass(frozen=True)
class LayerTrace:
    """One layer of a :class:`Trace`, float64, course shapes for m samples.

    ``a_prev`` (n[l−1], m), ``a`` and ``da`` (n[l], m); for a dense layer also ``z`` and ``dz``
    (n[l], m), its parameters ``W`` (n[l], n[l−1]) and ``b`` (n[l],) and their gradients ``dW``
    and ``db`` of the same shapes. A dropout layer has none of those (None).
    """

    label: str
    activation: str | None
    a_prev: np.ndarray
    a: np.ndarray
    da: np.ndarray
    z: np.ndarray | None = None
    dz: np.ndarray | None = None
    W: np.ndarray | None = None
    b: np.ndarray | None = None
    dW: np.ndarray | None = None
    db: np.ndarray | None = None

    @property
    def is_dense(self) -> bool:
        return self.W is not None

    def step(self, learning_rate: float) -> tuple[np.ndarray, np.ndarray]:
        """W_new, b_new after one gradient-descent step: w := w − α·dw (dense layers only)."""
        return self.W - learning_rate * self.dW, self.b - learning_rate * self.db

    def to_json(self, learning_rate: float | None = None) -> dict:
        """Nested lists (None for what a dropout layer lacks); ``W_new``/``b_new`` with a learning rate."""
        record = {key: _listed(getattr(self, key)) for key in ("a_prev", "z", "a", "da", "dz", "dW", "db")}
        if learning_rate is not None:
            W_new, b_new = self.step(learning_rate) if self.is_dense else (None, None)
            record.update(W_new=_listed(W_new), b_new=_listed(b_new))
        return record


@dataclass(frozen=True)
class Trace:
    """A forward and backward pass: ``x`` (n[0], m) the preprocessed inputs, ``y`` (k, m) the
    targets, the mean ``loss`` (named ``loss_name``), whether the output gradient was ``fused``,
    and one :class:`LayerTrace` per layer of the network."""

    loss_name: str
    loss: float
    fused: bool
    x: np.ndarray
    y: np.ndarray
    layers: tuple[LayerTrace, ...]

    @property
    def finite(self) -> bool:
        """Whether the loss and every array of every layer are finite numbers."""
        arrays = [v for layer in self.layers for v in vars(layer).values() if isinstance(v, np.ndarray)]
        return bool(np.isfinite(self.loss)) and all(np.isfinite(v).all() for v in arrays)

    def to_json(self, learning_rate: float | None = None) -> dict:
        return {"loss": self.loss, "layers": [layer.to_json(learning_rate) for layer in self.layers]}


def trace(network: Network, x: np.ndarray, y: np.ndarray, loss_name: str | None = None) -> Trace:
    """The trace (see the module docstring) of ``network`` for raw inputs ``x`` (m, n) — the
    network's preprocess is applied first — and targets ``y`` (m, k) as the output layer sees
    them (core.data.encode_targets). ``loss_name``: one of core.losses.LOSSES; default
    :func:`default_loss`. Raises ValueError for inputs or targets of the wrong shape."""
    unsupported = next((layer for layer in network.layers if not isinstance(layer, (Dense, Dropout))), None)
    if unsupported is not None:
        raise ValueError(f"the trace has no rule for {a_or_an(unsupported.describe())} layer (dense and dropout layers only)")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or x.shape[1:] != network.input_shape or len(x) == 0:
        raise ValueError(f"the network takes inputs of shape (m, {', '.join(map(str, network.input_shape))}) "
                         f"with m ≥ 1, got {x.shape}")
    if y.shape != (len(x), *network.output_shape):
        raise ValueError(f"targets must be (m, {network.output_shape[0]}) for {len(x)} samples, got {y.shape}")
    if network.preprocess is not None:
        x = network.preprocess.apply(x)
    loss = get_loss(loss_name or default_loss(network))
    parameters = network.parameters_by_layer()  # host copies
    forward = _forward(network, x, parameters)
    output = forward[-1]["a"]
    value = loss.value(output, y, np)
    delta, fused = loss.output_delta(output, y, network.output_activation, np.empty_like(output), np)
    da_out = loss.gradient(output, y, np)
    layers = _backward(network, forward, delta, fused, da_out)
    return Trace(loss.name, float(value), fused, x.T.copy(), y.T.copy(), tuple(layers))


def _forward(network: Network, x: np.ndarray, parameters: list[dict[str, np.ndarray]]) -> list[dict]:
    """Per layer (samples-first, float64): its input, parameters, z and a."""
    steps = []
    for layer, params in zip(network.layers, parameters, strict=True):
        step = {"a_prev": x}
        if isinstance(layer, Dense):
            W, b = params["W"].astype(np.float64), params["b"].astype(np.float64)
            z = x @ W.T + b
            g = get_activation(layer.activation_name, layer.slope)  # an instance of our own: no shared caches
            step.update(W=W, b=b, z=z, a=g.forward(z.copy(), np), g=g)
        else:  # Dropout: the identity, as at prediction time
            step["a"] = x
        steps.append(step)
        x = step["a"]
    return steps


def _backward(network: Network, forward: list[dict], delta: np.ndarray, fused: bool, da_out: np.ndarray) -> list[LayerTrace]:
    """LayerTraces from the output back: ``da_out`` is dL/dA of the output; ``delta``, the engine's
    dL/dZ when ``fused``, is the output layer's dz then."""
    last = len(forward) - 1
    da = da_out
    traces: list[LayerTrace] = []
    for i in range(last, -1, -1):
        step, layer = forward[i], network.layers[i]
        if "W" not in step:
            traces.append(LayerTrace(layer.describe(), None, step["a_prev"].T.copy(), step["a"].T.copy(), da.T.copy()))
            continue  # da[l−1] = da[l]
        dz = delta if i == last and fused else step["g"].backward(step["a"], da, np.empty_like(da), np)
        dW, db = dz.T @ step["a_prev"], dz.sum(axis=0)
        traces.append(LayerTrace(layer.describe(), layer.activation_name, step["a_prev"].T.copy(), step["a"].T.copy(), da.T.copy(),
                                 z=step["z"].T.copy(), dz=dz.T.copy(), W=step["W"], b=step["b"], dW=dW, db=db))
        da = dz @ step["W"]
    return traces[::-1]


def _listed(values: np.ndarray | None) -> list | None:
    return None if values is None else values.tolist()


# ----- the trace as text ---------------------------------------------------------------------
FUSED_DZ = {"mse": "2·(a[{n}] − y)/(m·k)", "binary_crossentropy": "(a[{n}] − y)/m", "categorical_crossentropy": "(a[{n}] − y)/m"}
DIGITS = 12  # significant digits: enough to compare with a hand calculation to 10 decimals


def trace_lines(result: Trace, learning_rate: float | None = None, standardized: bool = False) -> list[str]:
    """``result`` in the course's notation, one formula per line with its numbers (layers
    numbered from 1, a[0] the input); with ``learning_rate`` α, each dense layer's W and b after
    w := w − α·dw. ``standardized``: a[0] is the input after the model's standardization."""
    lines = [f"a[0] = {'(x − mean)/std, the model’s standardization' if standardized else 'x'} = {numbers_text(result.x)}"]
    for n, layer in enumerate(result.layers, start=1):
        lines.append(f"layer {n}: {layer.label}")
        if layer.is_dense:
            lines += [f"  W[{n}] {layer.W.shape} = {numbers_text(layer.W)}", f"  b[{n}] {layer.b.shape} = {numbers_text(layer.b)}",
                      f"  z[{n}] = W[{n}]·a[{n - 1}] + b[{n}] = {numbers_text(layer.z)}",
                      f"  a[{n}] = {layer.activation}(z[{n}]) = {numbers_text(layer.a)}"]
        else:
            lines.append(f"  a[{n}] = a[{n - 1}] (dropout is the identity when inspecting) = {numbers_text(layer.a)}")
    last = len(result.layers)
    lines += [f"loss L = {result.loss_name}(a[{last}], y) = {result.loss:.{DIGITS}g}", f"  y = {numbers_text(result.y)}",
              "backward (the 1/m of the mean loss is taken in dz of the output layer, so dW and db need none of their own):"]
    for n in range(last, 0, -1):
        lines += _backward_lines(result, n, learning_rate)
    return lines


def _backward_lines(result: Trace, n: int, learning_rate: float | None) -> list[str]:
    """The backward formulas of layer ``n`` (1-based)."""
    layer, last = result.layers[n - 1], len(result.layers)
    following = result.layers[n] if n < last else None
    if following is None:
        source = f"dL/da[{n}]"
    elif following.is_dense:
        source = f"W[{n + 1}]ᵀ·dz[{n + 1}]"
    else:
        source = f"da[{n + 1}] (dropout is the identity when inspecting)"
    lines = [f"layer {n}: {layer.label}", f"  da[{n}] = {source} = {numbers_text(layer.da)}"]
    if not layer.is_dense:
        return lines
    if n == last and result.fused:
        how = FUSED_DZ[result.loss_name].format(n=n)
    elif layer.activation == "softmax":
        how = f"a[{n}] ⊙ (da[{n}] − Σ_j da[{n}]_j·a[{n}]_j)"
    else:
        how = f"da[{n}] ⊙ {layer.activation}'(z[{n}])"
    lines += [f"  dz[{n}] = {how} = {numbers_text(layer.dz)}", f"  dW[{n}] = dz[{n}]·a[{n - 1}]ᵀ = {numbers_text(layer.dW)}",
              f"  db[{n}] = Σ_samples dz[{n}] = {numbers_text(layer.db)}"]
    if learning_rate is not None:
        W_new, b_new = layer.step(learning_rate)
        lines += [f"  W[{n}] := W[{n}] − α·dW[{n}] (α = {learning_rate:g}) = {numbers_text(W_new)}",
                  f"  b[{n}] := b[{n}] − α·db[{n}] = {numbers_text(b_new)}"]
    return lines


def numbers_text(values: np.ndarray) -> str:
    """A vector, or a column (n, 1), as (v1, v2, …); a matrix row by row as [[…], […]]."""
    if values.ndim == 1 or values.shape[1:] == (1,):
        return "(" + ", ".join(f"{float(v):.{DIGITS}g}" for v in values.ravel()) + ")"
    return "[" + ", ".join("[" + ", ".join(f"{float(v):.{DIGITS}g}" for v in row) + "]" for row in values) + "]"
