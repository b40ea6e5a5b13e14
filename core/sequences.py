"""Seeded sequence tasks for recurrent networks: each sample is T steps of F features,
stored flattened step by step in ``X`` (m, T·F) with ``sample_shape`` (T, F).

- :func:`sine_forecast`: a window of a noisy sine wave (T, 1); the target is the next value.
- :func:`adding_problem`: T (value, mark) pairs (T, 2) with two marks; the target is the sum
  of the two marked values (always guessing 1 scores an MSE of about 0.17).
- :func:`parity`: T bits (T, 1); the class is whether an odd number of them are 1.
"""

from __future__ import annotations

import numpy as np

from .data import Dataset, make_dataset


def _steps(steps: int, features: int) -> tuple[str, ...]:
    """Feature names of a flattened (steps, features) sample: "t1", "t2", … or "t1_f1", …."""
    if features == 1:
        return tuple(f"t{t + 1}" for t in range(steps))
    return tuple(f"t{t + 1}_f{f + 1}" for t in range(steps) for f in range(features))


def sine_forecast(samples: int = 500, steps: int = 20, noise: float = 0.02, seed: int = 0) -> Dataset:
    """Windows of ``steps`` values of sin(t) + noise from random starts, each (steps, 1); the
    target (samples, 1) is the value one step after the window (noise-free)."""
    rng = np.random.default_rng(seed)
    step = 2 * np.pi / 25  # 25 steps a period
    start = rng.uniform(0, 2 * np.pi, samples)[:, None]
    times = start + step * np.arange(steps + 1)
    series = np.sin(times)
    X = series[:, :steps] + noise * rng.standard_normal((samples, steps))
    return make_dataset(X, series[:, steps:], name="sine_forecast", feature_names=_steps(steps, 1), target_names=("next",),
                        sample_shape=(steps, 1))


def adding_problem(samples: int = 1000, steps: int = 30, seed: int = 0) -> Dataset:
    """``steps`` (value in [0, 1), mark) pairs a sample with exactly two marks; the target is
    the sum of the two marked values."""
    rng = np.random.default_rng(seed)
    values = rng.random((samples, steps))
    marked = np.argsort(rng.random((samples, steps)), axis=1)[:, :2]  # two distinct steps a sample
    marks = np.zeros((samples, steps))
    np.put_along_axis(marks, marked, 1.0, axis=1)
    X = np.stack([values, marks], axis=2).reshape(samples, -1)
    return make_dataset(X, (values * marks).sum(axis=1), name="adding", feature_names=_steps(steps, 2),
                        target_names=("sum",), sample_shape=(steps, 2))


def parity(samples: int = 1000, bits: int = 8, seed: int = 0) -> Dataset:
    """``bits`` random bits a sample (bits, 1); class "odd" when an odd number of them are 1."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, (samples, bits)).astype(np.float64)
    labels = X.sum(axis=1).astype(np.int64) % 2
    return make_dataset(X, labels, name="parity", feature_names=_steps(bits, 1), class_names=("even", "odd"),
                        sample_shape=(bits, 1))
