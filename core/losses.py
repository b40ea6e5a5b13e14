"""Losses, their gradients, weight penalties and metrics.

``A`` is the network output and ``Y`` the target, both (m, k). Every loss is a mean over
the m samples of a per-sample loss summed over outputs, except ``mse``, which averages
over the k outputs too (for one output it is the course's (1/m)·Σ(ŷ − y)²).

When a loss meets the activation it pairs with (sigmoid + binary cross-entropy, softmax +
categorical cross-entropy, linear + mse), :meth:`Loss.output_delta` returns dL/dZ directly,
(A − Y)/m (times 2/k for mse), which is exact and never divides by a tiny probability.
"""

from __future__ import annotations

from typing import Any

Array = Any

LOSSES = ("mse", "binary_crossentropy", "categorical_crossentropy")


def clip_epsilon(dtype) -> float:
    """The smallest probability the log sees: keeps log finite in float32 and float64."""
    return 1e-7 if dtype.itemsize <= 4 else 1e-15


class Loss:
    """Base class; ``fused_activation`` names the output activation with a fused gradient."""

    name = ""
    fused_activation = ""

    def value(self, a: Array, y: Array, xp: Any) -> float:
        """Mean loss over the m samples of ``a`` and ``y`` (m, k)."""
        raise NotImplementedError

    def gradient(self, a: Array, y: Array, xp: Any) -> Array:
        """dL/dA (m, k)."""
        raise NotImplementedError

    def output_delta(self, a: Array, y: Array, activation: str, out: Array, xp: Any) -> tuple[Array, bool]:
        """The gradient the output layer's backward starts from, and whether it is dL/dZ.

        Fused with its activation: dL/dZ = (A − Y) · scale, written into ``out`` (m, k).
        Otherwise dL/dA, for the layer to multiply by g'(Z).
        """
        if activation == self.fused_activation:
            xp.subtract(a, y, out=out)
            xp.multiply(out, self.delta_scale(a), out=out)
            return out, True
        return self.gradient(a, y, xp), False

    def delta_scale(self, a: Array) -> float:
        return 1.0 / a.shape[0]


class MeanSquaredError(Loss):
    name = "mse"
    fused_activation = "linear"

    def value(self, a, y, xp):
        diff = a - y
        return float((diff * diff).mean())

    def gradient(self, a, y, xp):
        return (a - y) * self.delta_scale(a)

    def delta_scale(self, a):
        return 2.0 / a.size


class BinaryCrossEntropy(Loss):
    name = "binary_crossentropy"
    fused_activation = "sigmoid"

    def value(self, a, y, xp):
        eps = clip_epsilon(a.dtype)
        p = xp.clip(a, eps, 1.0 - eps)
        return float(-(y * xp.log(p) + (1.0 - y) * xp.log1p(-p)).sum() / a.shape[0])

    def gradient(self, a, y, xp):
        eps = clip_epsilon(a.dtype)
        p = xp.clip(a, eps, 1.0 - eps)
        return (p - y) / (p * (1.0 - p)) / a.shape[0]


class CategoricalCrossEntropy(Loss):
    name = "categorical_crossentropy"
    fused_activation = "softmax"

    def value(self, a, y, xp):
        p = xp.clip(a, clip_epsilon(a.dtype), 1.0)
        return float(-(y * xp.log(p)).sum() / a.shape[0])

    def gradient(self, a, y, xp):
        p = xp.clip(a, clip_epsilon(a.dtype), 1.0)
        return -(y / p) / a.shape[0]


def get_loss(name: str) -> Loss:
    table = {"mse": MeanSquaredError, "binary_crossentropy": BinaryCrossEntropy, "categorical_crossentropy": CategoricalCrossEntropy}
    if name not in table:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    return table[name]()


def penalty_value(weights: Array, l1: float, l2: float, xp: Any) -> float:
    """l1·Σ|w| + (l2/2)·Σw² over the penalised weights (a flat vector)."""
    total = 0.0
    if l1:
        total += l1 * float(xp.abs(weights).sum())
    if l2:
        total += 0.5 * l2 * float((weights * weights).sum())
    return total


def add_penalty_gradient(weights: Array, grads: Array, l1: float, l2: float, xp: Any) -> None:
    """grads += l1·sign(w) + l2·w, in place, over the penalised weights (flat vectors)."""
    if l1:
        grads += xp.sign(weights) * l1
    if l2:
        xp.add(grads, weights * l2, out=grads)


def accuracy(a: Array, y: Array, xp: Any) -> float:
    """Fraction of the m samples classified right: a > 0.5 for one output, else argmax."""
    if a.shape[1] == 1:
        hits = (a > 0.5) == (y > 0.5)
    else:
        hits = a.argmax(axis=1) == y.argmax(axis=1)
    return float(hits.mean())


def r_squared(a: Array, y: Array, xp: Any) -> float:
    """Coefficient of determination 1 − SS_res/SS_tot, averaged over the k targets."""
    ss_res = ((y - a) ** 2).sum(axis=0)
    ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    ss_tot = xp.where(ss_tot > 0, ss_tot, 1.0)
    return float((1.0 - ss_res / ss_tot).mean())
