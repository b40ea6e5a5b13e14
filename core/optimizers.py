"""Optimizers that update one flat parameter vector from one flat gradient vector.

The network keeps every parameter in a single contiguous vector ``w`` (and gradients in
``g``, same shape), so an update is a handful of whole-vector operations whatever the
number of layers. ``learning_rate`` (α) and the other settings are plain attributes that
may be changed between mini-batches; the change applies at the next :meth:`step`.

:meth:`Optimizer.state_dict` gives everything an optimizer carries from step to step (its
step count, settings and named (n,) slots: momentum's "velocity", RMSprop's "square_mean",
Adam's "m" and "v"); :meth:`Optimizer.load_state_dict` puts it back.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

Array = Any

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
LIVE_SETTINGS = ("learning_rate", "momentum", "beta1", "beta2", "rho")  # settings that may change between mini-batches


def check_setting(name: str, value: Any) -> float:
    """``value`` as a float when it fits setting ``name`` (the learning rate: a finite number > 0;
    momentum, β₁, β₂, ρ: a number in [0, 1)); ValueError saying what it takes otherwise."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if name == "learning_rate":
        if not (number and value > 0):
            raise ValueError(f"the learning rate must be a positive number, got {value!r}")
    elif not (number and 0.0 <= value < 1.0):
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return float(value)


class Optimizer:
    """Base class. Subclasses implement :meth:`_update` over flat (n,) vectors."""

    name = ""
    slot_names: tuple[str, ...] = ()  # the (n,) vectors carried from step to step, in ``_state`` order

    def __init__(self, learning_rate: float = 0.01):
        self.learning_rate = check_setting("learning_rate", learning_rate)
        self.steps = 0
        self._xp: Any = None
        self._state: list[Array] = []
        self._tmp: Array = None

    def bind(self, size: int, xp: Any, dtype: Any) -> None:
        """Allocate state for a parameter vector of ``size`` elements (all zero)."""
        self._xp = xp
        self._tmp = xp.empty(size, dtype)
        self._state = [xp.zeros(size, dtype) for _ in self.slot_names]
        self.steps = 0

    def step(self, w: Array, g: Array) -> None:
        """Update ``w`` (n,) in place from the gradient ``g`` (n,)."""
        self.steps += 1
        self._update(w, g, self._xp)

    def _update(self, w: Array, g: Array, xp: Any) -> None:
        raise NotImplementedError

    def state_dict(self, host: bool = True) -> dict:
        """A copy of what decides the next steps: ``{"name", "steps", "settings" (as :meth:`settings`
        without "optimizer"), "slots": {slot name: (n,) copy}}``. The slots are NumPy copies, or with
        ``host=False`` copies on the optimizer's device (cheap: for a rollback within a run)."""
        if host and self._xp is not np:
            slots = [self._xp.asnumpy(s) for s in self._state]
        else:
            slots = [s.copy() for s in self._state]
        settings = {k: v for k, v in self.settings().items() if k != "optimizer"}
        return {"name": self.name, "steps": self.steps, "settings": settings, "slots": dict(zip(self.slot_names, slots, strict=True))}

    def load_state_dict(self, state: dict) -> None:
        """Continue from ``state`` (what :meth:`state_dict` gave, host or device slots) after :meth:`bind`.

        Raises:
            ValueError: another optimizer's state, unknown settings, missing or extra slots, or
                slots of another length than the bound parameter vector.
        """
        if state.get("name") != self.name:
            raise ValueError(f"optimizer state of {state.get('name')!r} given to {self.name!r}")
        settings, slots = state["settings"], state["slots"]
        unknown = set(settings) - set(self.settings())
        if unknown:
            raise ValueError(f"{self.name} optimizer state has unknown settings: {', '.join(sorted(unknown))}")
        if set(slots) != set(self.slot_names):
            raise ValueError(f"{self.name} optimizer state has slots {sorted(slots)}, expected {list(self.slot_names)}")
        for name, mine in zip(self.slot_names, self._state, strict=True):
            if tuple(slots[name].shape) != tuple(mine.shape):
                raise ValueError(f"{self.name} optimizer slot {name!r} has shape {tuple(slots[name].shape)}, "
                                 f"expected {tuple(mine.shape)}")
        type(self)(**settings)  # refuses a bad value before anything changes
        for name, value in settings.items():
            setattr(self, name, value)
        for name, mine in zip(self.slot_names, self._state, strict=True):
            mine[...] = self._xp.asarray(slots[name])
        self.steps = int(state["steps"])

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
    slot_names = ("velocity",)

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.9, nesterov: bool = False):
        super().__init__(learning_rate)
        self.momentum, self.nesterov = check_setting("momentum", momentum), bool(nesterov)

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
    slot_names = ("square_mean",)

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, epsilon: float = 1e-7):
        super().__init__(learning_rate)
        self.rho, self.epsilon = check_setting("rho", rho), float(epsilon)

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
    slot_names = ("m", "v")

    def __init__(self, learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-7):
        super().__init__(learning_rate)
        self.beta1, self.beta2, self.epsilon = check_setting("beta1", beta1), check_setting("beta2", beta2), float(epsilon)

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
