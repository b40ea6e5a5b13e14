"""Seeded sequence tasks for recurrent networks: each sample is T steps of F features,
stored flattened step by step in ``X`` (m, T·F) with ``sample_shape`` (T, F).

- :func:`sine_forecast`: a window of a noisy sine wave (T, 1); the target is the next value.
- :func:`adding_problem`: T (value, mark) pairs (T, 2) with two marks; the target is the sum
  of the two marked values (always guessing 1 scores an MSE of about 0.17).
- :func:`parity`: T bits (T, 1); the class is whether an odd number of them are 1.
- :func:`copy_sequence` and :func:`reverse_sequence`: K values then K blank steps, each step
  (value, marker) (T = 2K, 2); the K targets are the values, in order or reversed.

Each raises ValueError for a length the task cannot have (``steps`` < 1; adding needs two
steps, copy and reverse an even number).
"""

from __future__ import annotations

import numpy as np

from .data import Dataset, make_dataset


def step_names(steps: int, features: int | tuple[str, ...]) -> tuple[str, ...]:
    """Feature names of a flattened (steps, features) sample, step by step: "t1", "t2", … for
    one feature; "t1_f1", "t1_f2", … for ``features`` of them, or "t1_NAME", … when
    ``features`` names them."""
    if isinstance(features, int):
        if features == 1:
            return tuple(f"t{t + 1}" for t in range(steps))
        features = tuple(f"f{f + 1}" for f in range(features))
    return tuple(f"t{t + 1}_{name}" for t in range(steps) for name in features)


def _check_steps(task: str, steps: int, least: int = 1, even: bool = False) -> None:
    if steps < least or (even and steps % 2):
        kind = "an even number of steps ≥ 2 (K values, then K blank steps)" if even else f"at least {least} step(s)"
        raise ValueError(f"{task} needs {kind}, got steps = {steps}")


def sine_forecast(samples: int = 500, steps: int = 20, noise: float = 0.02, seed: int = 0) -> Dataset:
    """Windows of ``steps`` values of sin(t) + noise from random starts, each (steps, 1); the
    target (samples, 1) is the value one step after the window (noise-free).
    ``meta["forecast"]``: window ``steps``, horizon 1, feature 0, not consecutive (random starts)."""
    _check_steps("sine_forecast", steps)
    rng = np.random.default_rng(seed)
    step = 2 * np.pi / 25  # 25 steps a period
    start = rng.uniform(0, 2 * np.pi, samples)[:, None]
    times = start + step * np.arange(steps + 1)
    series = np.sin(times)
    X = series[:, :steps] + noise * rng.standard_normal((samples, steps))
    forecast = {"window": steps, "horizon": 1, "feature": 0, "consecutive": False}
    return make_dataset(X, series[:, steps:], name="sine_forecast", feature_names=step_names(steps, 1), target_names=("next",),
                        sample_shape=(steps, 1), meta={"forecast": forecast})


def adding_problem(samples: int = 1000, steps: int = 30, seed: int = 0) -> Dataset:
    """``steps`` (value in [0, 1), mark) pairs a sample with exactly two marks; the target is
    the sum of the two marked values."""
    _check_steps("adding", steps, least=2)
    rng = np.random.default_rng(seed)
    values = rng.random((samples, steps))
    marked = np.argsort(rng.random((samples, steps)), axis=1)[:, :2]  # two distinct steps a sample
    marks = np.zeros((samples, steps))
    np.put_along_axis(marks, marked, 1.0, axis=1)
    X = np.stack([values, marks], axis=2).reshape(samples, -1)
    return make_dataset(X, (values * marks).sum(axis=1), name="adding", feature_names=step_names(steps, 2),
                        target_names=("sum",), sample_shape=(steps, 2))


def parity(samples: int = 1000, bits: int = 8, seed: int = 0) -> Dataset:
    """``bits`` random bits a sample (bits, 1); class "odd" when an odd number of them are 1."""
    _check_steps("parity", bits)
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, (samples, bits)).astype(np.float64)
    labels = X.sum(axis=1).astype(np.int64) % 2
    return make_dataset(X, labels, name="parity", feature_names=step_names(bits, 1), class_names=("even", "odd"),
                        sample_shape=(bits, 1))


def _recall(name: str, samples: int, steps: int, seed: int, reverse: bool) -> Dataset:
    """K = steps / 2 values in [0, 1) with marker 0, then K steps of value 0 with marker 1
    (recall now): X (samples, steps·2) as (steps, 2) (value, marker); y (samples, K) the values,
    reversed when ``reverse``."""
    _check_steps(name, steps, even=True)
    rng = np.random.default_rng(seed)
    k = steps // 2
    values = rng.random((samples, k))
    sequence = np.zeros((samples, steps, 2))
    sequence[:, :k, 0] = values
    sequence[:, k:, 1] = 1.0
    targets = values[:, ::-1] if reverse else values
    return make_dataset(sequence.reshape(samples, -1), targets.copy(), name=name, task="regression",
                        feature_names=step_names(steps, ("value", "marker")),
                        target_names=tuple(f"out{j + 1}" for j in range(k)), sample_shape=(steps, 2))


def copy_sequence(samples: int = 1000, steps: int = 10, seed: int = 0) -> Dataset:
    """Remember and repeat: K = steps / 2 values, K blank steps; the targets (samples, K) are the values in order."""
    return _recall("copy", samples, steps, seed, reverse=False)


def reverse_sequence(samples: int = 1000, steps: int = 10, seed: int = 0) -> Dataset:
    """As :func:`copy_sequence`, but the targets are the values last first."""
    return _recall("reverse", samples, steps, seed, reverse=True)
