"""Batch normalisation: each feature (or image channel) scaled to zero mean and unit
variance over the batch, then by its own learned γ and shifted by β.

For a batch x of N values per channel (every axis but the last: the samples of a dense
layer's (m, n) output, or the m·H·W pixels of an (m, H, W, C) image batch):

    training:    μ, σ² = the batch mean and (biased) variance per channel,
                 x̂ = (x − μ) / √(σ² + ε),   y = γ·x̂ + β,
                 running_mean ← (1 − momentum)·running_mean + momentum·μ
                 running_var  ← (1 − momentum)·running_var  + momentum·σ²·N/(N − 1)   (unbiased, as PyTorch)
    prediction:  y = γ·(x − running_mean) / √(running_var + ε) + β

γ (init 1) and β (init 0) are trained but never penalised; the running statistics are the
layer's state (``state_specs``): saved and restored with the model, never optimised.
Backward (training statistics): dβ = Σ dy, dγ = Σ dy·x̂,
dx = (γ / (N·√(σ² + ε))) · (N·dy − Σ dy − x̂·Σ dy·x̂).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .layers import Layer, ParamSpec, SpecError

Array = Any


def _number(value: object, name: str, low: float, high: float, high_open: bool) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and low < value and (
        value < high if high_open else value <= high)
    if not ok:
        raise SpecError(f"{name} must be a number in ({low:g}, {high:g}{')' if high_open else ']'}, got {value!r}")
    return float(value)


class BatchNorm(Layer):
    """Normalises over every axis but the last (per feature of (n,), per channel of (H, W, C)).

    Args:
        momentum: the weight of each batch in the running statistics, in (0, 1].
        epsilon: added to the variance before the square root, in (0, 1) (1e-5 by default, as PyTorch).
    """

    kind = "batchnorm"

    def __init__(self, momentum: float = 0.1, epsilon: float = 1e-5):
        super().__init__()
        self.momentum = _number(momentum, "momentum", 0.0, 1.0, high_open=False)
        self.epsilon = _number(epsilon, "epsilon", 0.0, 1.0, high_open=True)
        self._x_hat: Array = None
        self._inv_std: Array = None

    @property
    def channels(self) -> int:
        return self.input_shape[-1]

    def param_specs(self):
        return [ParamSpec("gamma", (self.channels,), False), ParamSpec("beta", (self.channels,), False)]

    def initial_values(self, rng):
        return {"gamma": np.ones(self.channels), "beta": np.zeros(self.channels)}

    def state_specs(self):
        return [ParamSpec("running_mean", (self.channels,), False), ParamSpec("running_var", (self.channels,), False)]

    def initial_state(self):
        return {"running_mean": np.zeros(self.channels), "running_var": np.ones(self.channels)}

    def state_problem(self, values):
        for name, array in values.items():
            if not np.isfinite(array).all():
                return f"{name} holds NaN or infinite values"
        if (values["running_var"] < 0).any():
            return f"running_var holds a negative variance ({float(values['running_var'].min()):g})"
        return None

    def forward(self, x, training):
        xp = self.backend.xp
        gamma, beta = self.params["gamma"], self.params["beta"]
        if not training:
            scale = gamma / xp.sqrt(self.state["running_var"] + self.epsilon)
            return (x - self.state["running_mean"]) * scale + beta
        flat = x.reshape(-1, self.channels)
        n = flat.shape[0]
        mean = flat.mean(axis=0)
        centred = flat - mean
        var = (centred * centred).mean(axis=0)
        self._inv_std = 1.0 / xp.sqrt(var + self.epsilon)
        self._x_hat = centred * self._inv_std
        if n > 1:  # one value per feature (a last mini-batch of one sample) says nothing of its variance
            self._update_running(mean, var * (n / (n - 1)))
        return (self._x_hat * gamma + beta).reshape(x.shape)

    def _update_running(self, mean: Array, unbiased_var: Array) -> None:
        keep = 1.0 - self.momentum
        for name, batch in (("running_mean", mean), ("running_var", unbiased_var)):
            running = self.state[name]
            running *= keep
            running += self.momentum * batch

    def backward(self, grad, need_input_grad, grad_is_dz=False):
        xp = self.backend.xp
        dy = grad.reshape(-1, self.channels)
        d_beta = self.grads["beta"]
        xp.add.reduce(dy, axis=0, out=d_beta)
        d_gamma = self.grads["gamma"]
        xp.add.reduce(dy * self._x_hat, axis=0, out=d_gamma)
        if not need_input_grad:
            return None
        n = dy.shape[0]
        dx = dy - (d_beta + self._x_hat * d_gamma) * (1.0 / n)
        dx *= self.params["gamma"] * self._inv_std
        return dx.reshape(grad.shape)

    def describe(self):
        return "BatchNorm"

    def to_spec(self):
        return {"type": "batchnorm", "momentum": self.momentum, "epsilon": self.epsilon}

