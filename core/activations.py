"""Activation functions g with their derivatives, written in place on (m, n) arrays.

Each activation rewrites a pre-activation buffer ``Z`` (m samples × n units) into
``A = g(Z)`` in place, and computes ``dZ = dA * g'(Z)`` from the output ``A`` alone, so
layers never keep ``Z``. The derivatives use the course's identities:
sigmoid' = A(1 − A), tanh' = 1 − A², relu' = [A > 0].
"""

from __future__ import annotations

from typing import Any, Protocol

Array = Any


class Activation(Protocol):
    """What every activation offers (see the module docstring for shapes)."""

    name: str

    def forward(self, z: Array, xp: Any) -> Array:
        """Turn ``z`` (m, n) into g(z) in place and return it."""
        ...

    def backward(self, a: Array, da: Array, out: Array, xp: Any) -> Array:
        """Return dZ = dA * g'(Z) (m, n), given A = g(Z) (m, n), written into ``out``
        (or ``da`` itself where g' = 1)."""
        ...


class Linear:
    name = "linear"

    def forward(self, z, xp):
        return z

    def backward(self, a, da, out, xp):
        return da  # g'(z) = 1: dZ is dA itself, no copy needed


class Sigmoid:
    """σ(z) = 1 / (1 + e^−z), computed as (1 + tanh(z/2)) / 2, which never overflows."""

    name = "sigmoid"

    def forward(self, z, xp):
        xp.multiply(z, 0.5, out=z)
        xp.tanh(z, out=z)
        xp.add(z, 1.0, out=z)
        return xp.multiply(z, 0.5, out=z)

    def backward(self, a, da, out, xp):
        xp.subtract(1.0, a, out=out)
        xp.multiply(out, a, out=out)
        return xp.multiply(out, da, out=out)


class Tanh:
    name = "tanh"

    def forward(self, z, xp):
        return xp.tanh(z, out=z)

    def backward(self, a, da, out, xp):
        xp.multiply(a, a, out=out)
        xp.subtract(1.0, out, out=out)
        return xp.multiply(out, da, out=out)


class ReLU:
    """max(z, 0). Forward compares with a cached zero array of z's shape: NumPy's
    maximum against a scalar 0 takes a path about 4× slower than against an array."""

    name = "relu"

    def __init__(self) -> None:
        self._zeros: dict[tuple, Array] = {}

    def forward(self, z, xp):
        key = (z.shape, z.dtype)
        zeros = self._zeros.get(key)
        if zeros is None:
            if len(self._zeros) >= 4:  # batch size, last partial batch; drop stale shapes
                self._zeros.clear()
            zeros = self._zeros[key] = xp.zeros(z.shape, z.dtype)
        return xp.maximum(z, zeros, out=z)

    def backward(self, a, da, out, xp):
        return xp.multiply(da, a > 0, out=out)


class LeakyReLU:
    """max(z, slope·z) for 0 ≤ slope < 1 (the course's fix for dead ReLU units)."""

    name = "leaky_relu"

    def __init__(self, slope: float = 0.01):
        if not 0.0 <= slope < 1.0:
            raise ValueError(f"leaky_relu slope must be in [0, 1), got {slope}")
        self.slope = float(slope)

    def forward(self, z, xp):
        return xp.maximum(z, z * self.slope, out=z)

    def backward(self, a, da, out, xp):
        factor = xp.where(a > 0, 1.0, self.slope).astype(a.dtype, copy=False)
        return xp.multiply(da, factor, out=out)


class Softmax:
    """softmax(z)_j = e^(z_j − max z) / Σ_k e^(z_k − max z), along each sample's row."""

    name = "softmax"

    def forward(self, z, xp):
        xp.subtract(z, z.max(axis=1, keepdims=True), out=z)
        xp.exp(z, out=z)
        return xp.divide(z, z.sum(axis=1, keepdims=True), out=z)

    def backward(self, a, da, out, xp):
        # dZ = A ⊙ (dA − Σ_j dA_j A_j): the softmax Jacobian applied to dA, row by row.
        dot = (da * a).sum(axis=1, keepdims=True)
        xp.subtract(da, dot, out=out)
        return xp.multiply(out, a, out=out)


ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "softmax")


def get_activation(name: str, slope: float = 0.01) -> Activation:
    """The activation called ``name`` (one of ACTIVATIONS); ``slope`` is leaky_relu's."""
    table = {
        "linear": Linear,
        "sigmoid": Sigmoid,
        "tanh": Tanh,
        "relu": ReLU,
        "softmax": Softmax,
    }
    if name == "leaky_relu":
        return LeakyReLU(slope)
    if name not in table:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return table[name]()
