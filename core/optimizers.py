"""Optimizers that update one flat parameter vector from one flat gradient vector.

The network keeps every parameter in a single contiguous vector ``w`` (and gradients in
``g``, same shape), so an update is a handful of whole-vector operations whatever the
number of layers. ``learning_rate`` (α) and the other settings are plain attributes that
may be changed between mini-batches; the change applies at the next :meth:`step`.
"""

from __future__ import annotations

import math
from typing import Any

Array = Any

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")


class Optimizer:
    """Base class. Subclasses implement :meth:`_update` over flat (n,) vectors."""

    name = ""

    def __init__(self, learning_rate: float = 0.01):
        if not (learning_rate > 0 and math.isfinite(learning_rate)):
            raise ValueError(f"the learning rate must be a positive number, got {learning_rate!r}")
        self.learning_rate = float(learning_rate)
        self.steps = 0
        self._xp: Any = None
        self._state: list[Array] = []
        self._tmp: Array = None

    def bind(self, size: int, xp: Any, dtype: Any) -> None:
        """Allocate state for a parameter vector of ``size`` elements (all zero)."""
        self._xp = xp
        self._tmp = xp.empty(size, dtype)
        self._state = [xp.zeros(size, dtype) for _ in range(self._state_count())]
        self.steps = 0

    def _state_count(self) -> int:
        return 0

    def step(self, w: Array, g: Array) -> None:
        """Update ``w`` (n,) in place from the gradient ``g`` (n,)."""
        self.steps += 1
        self._update(w, g, self._xp)

    def _update(self, w: Array, g: Array, xp: Any) -> None:
        raise NotImplementedError

    def snapshot(self) -> tuple[int, list[Array]]:
        """A copy of the optimizer's state, for :meth:`restore` after a diverged epoch."""
        return self.steps, [s.copy() for s in self._state]

    def restore(self, snapshot: tuple[int, list[Array]]) -> None:
        self.steps = snapshot[0]
        for mine, saved in zip(self._state, snapshot[1], strict=True):
            mine[...] = saved

    def settings(self) -> dict:
        """The JSON-serialisable settings this optimizer was made with (and now has)."""
        return {"optimizer": self.name, "learning_rate": self.learning_rate}


class SGD(Optimizer):
    """w ← w − α·g."""

    name = "sgd"

    def _update(self, w, g, xp):
        xp.multiply(g, self.learning_rate, out=self._tmp)
        xp.subtract(w, self._tmp, out=w)


class Momentum(Optimizer):
    """v ← μ·v − α·g; w ← w + v (Nesterov: w ← w + μ·v − α·g)."""

    name = "momentum"

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.9, nesterov: bool = False):
        super().__init__(learning_rate)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _state_count(self):
        return 1

    def _update(self, w, g, xp):
        (v,) = self._state
        tmp = self._tmp
        xp.multiply(v, self.momentum, out=v)
        xp.multiply(g, self.learning_rate, out=tmp)
        xp.subtract(v, tmp, out=v)
        if self.nesterov:
            xp.subtract(w, tmp, out=w)
            xp.multiply(v, self.momentum, out=tmp)
            xp.add(w, tmp, out=w)
        else:
            xp.add(w, v, out=w)

    def settings(self):
        return {**super().settings(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """s ← ρ·s + (1 − ρ)·g²; w ← w − α·g / (√s + ε)."""

    name = "rmsprop"

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, epsilon: float = 1e-7):
        super().__init__(learning_rate)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def _state_count(self):
        return 1

    def _update(self, w, g, xp):
        (s,) = self._state
        tmp = self._tmp
        xp.multiply(s, self.rho, out=s)
        xp.multiply(g, g, out=tmp)
        xp.multiply(tmp, 1.0 - self.rho, out=tmp)
        xp.add(s, tmp, out=s)
        xp.sqrt(s, out=tmp)
        xp.add(tmp, self.epsilon, out=tmp)
        xp.divide(g, tmp, out=tmp)
        xp.multiply(tmp, self.learning_rate, out=tmp)
        xp.subtract(w, tmp, out=w)

    def settings(self):
        return {**super().settings(), "rho": self.rho, "epsilon": self.epsilon}


class Adam(Optimizer):
    """m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; w ← w − α·m̂ / (√v̂ + ε),
    with the bias corrections m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ) folded into scalars."""

    name = "adam"

    def __init__(self, learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-7):
        super().__init__(learning_rate)
        self.beta1, self.beta2, self.epsilon = float(beta1), float(beta2), float(epsilon)

    def _state_count(self):
        return 2

    def _update(self, w, g, xp):
        m, v = self._state
        tmp = self._tmp
        t = self.steps
        xp.multiply(m, self.beta1, out=m)
        xp.multiply(g, 1.0 - self.beta1, out=tmp)
        xp.add(m, tmp, out=m)
        xp.multiply(v, self.beta2, out=v)
        xp.multiply(g, g, out=tmp)
        xp.multiply(tmp, 1.0 - self.beta2, out=tmp)
        xp.add(v, tmp, out=v)
        correction2 = math.sqrt(1.0 - self.beta2**t)
        step_size = self.learning_rate * correction2 / (1.0 - self.beta1**t)
        xp.sqrt(v, out=tmp)
        xp.add(tmp, self.epsilon * correction2, out=tmp)
        xp.divide(m, tmp, out=tmp)
        xp.multiply(tmp, step_size, out=tmp)
        xp.subtract(w, tmp, out=w)

    def settings(self):
        return {**super().settings(), "beta1": self.beta1, "beta2": self.beta2, "epsilon": self.epsilon}


def make_optimizer(name: str, settings: dict[str, Any]) -> Optimizer:
    """The optimizer called ``name`` (one of OPTIMIZERS) with ``learning_rate`` and its
    own settings taken from ``settings``; settings other optimizers use are ignored."""
    table: dict[str, type[Optimizer]] = {"sgd": SGD, "momentum": Momentum, "rmsprop": RMSprop, "adam": Adam}
    if name not in table:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    cls = table[name]
    accepted = cls.__init__.__code__.co_varnames[1 : cls.__init__.__code__.co_argcount]  # parameter names
    return cls(**{k: v for k, v in settings.items() if k in accepted})
