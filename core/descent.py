"""Gradient descent on one variable: the course's f(x) = x² + 2, its derivative f'(x) = 2x and
the numeric difference quotient that approximates it.

One step is x_{k+1} = x_k − α·f'(x_k) = (1 − 2α)·x_k, so from any x₀ ≠ 0 the iterates
converge to the minimum x = 0 for 0 < α < 1 (monotonically for α < ½, in one step for α = ½,
zig-zagging for ½ < α < 1), jump between +x₀ and −x₀ for ever at α = 1, and diverge,
zig-zagging ever further out, for α > 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

QUOTIENT_X = 2.0  # the course's point and step: (f(2.0001) − f(2)) / 0.0001 = 4.0001
QUOTIENT_H = 0.0001
CONVERGED_SLOPE = 1e-9  # |f'(x)| below this: converged
DIVERGED_FACTOR = 1e6  # |x| beyond this many times max(1, |x₀|): diverged


def f(x: float | np.ndarray) -> float | np.ndarray:
    """f(x) = x² + 2 (elementwise for an array)."""
    return x * x + 2.0


def f_prime(x: float | np.ndarray) -> float | np.ndarray:
    """f'(x) = 2x."""
    return 2.0 * x


@dataclass(frozen=True)
class DifferenceQuotient:
    """(f(x + h) − f(x)) / h with its parts: it tends to f'(x) as h → 0 (here f'(x) + h exactly)."""

    x: float
    h: float
    f_x: float
    f_x_h: float

    @property
    def value(self) -> float:
        return (self.f_x_h - self.f_x) / self.h


def difference_quotient(x: float = QUOTIENT_X, h: float = QUOTIENT_H) -> DifferenceQuotient:
    """The quotient at ``x`` with step ``h``: the course's 4.0001 by default (f(2.0001) = 6.00040001)."""
    return DifferenceQuotient(x, h, float(f(x)), float(f(x + h)))


def step(x: float, alpha: float) -> float:
    """One gradient-descent step: x − α·f'(x)."""
    return x - alpha * f_prime(x)


def iterates(x0: float, alpha: float, steps: int) -> np.ndarray:
    """x₀, x₁, …, x_steps (steps + 1,) of gradient descent with learning rate ``alpha``."""
    xs = [float(x0)]
    for _ in range(steps):
        xs.append(step(xs[-1], alpha))
    return np.array(xs)


def outcome(xs: np.ndarray) -> str | None:
    """What the iterates ``xs`` (k + 1,) show so far: "converged" (|f'(x_k)| < CONVERGED_SLOPE),
    "diverged" (|x_k| beyond DIVERGED_FACTOR·max(1, |x₀|), or not finite), "oscillates" (the
    last three alternate: x_k = x_{k−2} ≠ x_{k−1}), or None while none of these holds."""
    last = float(xs[-1])
    if not np.isfinite(last) or abs(last) > DIVERGED_FACTOR * max(1.0, abs(float(xs[0]))):
        return "diverged"
    if abs(f_prime(last)) < CONVERGED_SLOPE:
        return "converged"
    if len(xs) >= 3 and xs[-1] == xs[-3] and xs[-1] != xs[-2]:
        return "oscillates"
    return None


def behaviour(alpha: float) -> str:
    """What gradient descent on f does with learning rate ``alpha`` > 0, in one sentence."""
    factor = 1.0 - 2.0 * alpha
    if alpha < 0.5:
        return f"converges: each step multiplies x by 1 − 2α = {factor:g}, so x shrinks towards the minimum at 0 without crossing it"
    if alpha == 0.5:
        return "reaches the minimum x = 0 in one step: 1 − 2α = 0"
    if alpha < 1.0:
        return f"converges zig-zagging: each step multiplies x by 1 − 2α = {factor:g}, so x jumps across 0 and shrinks"
    if alpha == 1.0:
        return "oscillates for ever: each step multiplies x by 1 − 2α = −1, so x jumps between +x₀ and −x₀"
    return f"diverges: each step multiplies x by 1 − 2α = {factor:g}, |1 − 2α| > 1, so x zig-zags ever further out"
