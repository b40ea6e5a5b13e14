"""Seeded synthetic datasets: 2-D classification, 1-D/2-D regression, ``housing``, and the
sequence tasks of core.sequences and core.text_data.

Every generator takes ``samples``, ``noise``, ``steps`` and ``seed`` and returns a
:class:`core.data.Dataset`; the same arguments always give the same arrays. ``samples``
is a whole number ≥ MIN_SAMPLES whose arrays must fit the memory limit (core.limits),
checked before anything is generated. ``steps`` is the sequence length T of a sequence
task (its :attr:`SyntheticInfo.steps` is its default; None for the others). A task
whose data has no noise (:attr:`SyntheticInfo.noise_free` says why) takes noise 0 only.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from .data import Dataset, make_dataset
from .limits import check_allocation
from .sequences import adding_problem, copy_sequence, parity, reverse_sequence, sine_forecast
from .text_data import chars

MIN_SAMPLES = 4
GENERATION_COPIES = 4  # peak memory while generating, as a multiple of the final X and y (measured: 1.4–3.7×)


Generate = Callable[[int, float, "int | None", int], Dataset]
"""``generate(samples, noise, steps, seed) -> Dataset``; ``steps`` is None for a task that is not a sequence."""


@dataclass(frozen=True)
class SyntheticInfo:
    """A generator and its defaults, for menus and the CLI.

    Attributes:
        generate: see :data:`Generate`.
        samples, noise: the defaults. description: one line, starting with the kind of task
            ("two classes: …", "regression: …"; a sequence task says "… over T steps").
        features: columns of X, or values per step of a sequence task.
        steps: a sequence task's default length T; None for the others.
        noise_free: why a task has no noise setting (its noise is 0); "" when it has one.
    """

    generate: Generate
    samples: int
    noise: float
    description: str
    features: int = 2
    steps: int | None = None
    noise_free: str = ""

    @property
    def is_sequence(self) -> bool:
        """Whether the task's samples are sequences of ``steps`` steps (token ids for chars)."""
        return self.steps is not None


def _table(make: Callable[[int, float, np.random.Generator], tuple[np.ndarray, np.ndarray]],
           feature_names: tuple[str, ...] = ("x1", "x2"), **extra) -> Generate:
    """A :data:`Generate` of ``make(samples, noise, rng) -> (X (m, n), y)``: a table with these
    feature names and ``extra`` Dataset fields (true weights, target names)."""
    def generate(samples: int, noise: float, steps: int | None, seed: int) -> Dataset:
        X, y = make(samples, noise, np.random.default_rng(seed))
        return make_dataset(X, y, feature_names=feature_names, **extra)

    return generate


def _split_counts(samples: int, k: int) -> list[int]:
    return [samples // k + (1 if i < samples % k else 0) for i in range(k)]


def _circle(samples, noise, rng):
    """Class 1 inside radius 2, class 0 on a ring from 3.5 to 5 (TensorFlow Playground style)."""
    n_in, n_out = _split_counts(samples, 2)
    r = np.concatenate([rng.uniform(0, 2.0, n_in), rng.uniform(3.5, 5.0, n_out)])
    angle = rng.uniform(0, 2 * np.pi, samples)
    X = np.column_stack([r * np.cos(angle), r * np.sin(angle)]) + rng.normal(0, noise, (samples, 2))
    return X, np.concatenate([np.ones(n_in, np.int64), np.zeros(n_out, np.int64)])


def _xor(samples, noise, rng):
    """Uniform on [−5, 5]² (kept away from the axes); class 1 where x1·x2 > 0."""
    X = rng.uniform(-5, 5, (samples, 2))
    X += np.where(X > 0, 0.3, -0.3)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X + rng.normal(0, noise, X.shape), y


def _gaussian(samples, noise, rng):
    """Two Gaussian clouds centred on (2, 2) and (−2, −2); noise widens them."""
    n1, n0 = _split_counts(samples, 2)
    spread = 1.0 + noise
    X = np.concatenate([rng.normal(2, spread, (n1, 2)), rng.normal(-2, spread, (n0, 2))])
    return X, np.concatenate([np.ones(n1, np.int64), np.zeros(n0, np.int64)])


def _spiral_arms(samples, noise, rng, arms):
    counts = _split_counts(samples, arms)
    parts, labels = [], []
    for arm, n in enumerate(counts):
        t = np.linspace(0, 1, n, endpoint=False) + 0.5 / max(n, 1)
        r = 5 * t
        angle = 1.75 * 2 * np.pi * t + arm * 2 * np.pi / arms
        parts.append(np.column_stack([r * np.sin(angle), r * np.cos(angle)]))
        labels.append(np.full(n, arm, np.int64))
    X = np.concatenate(parts)
    return X + rng.normal(0, noise, X.shape), np.concatenate(labels)


def _spiral(samples, noise, rng):
    """Two interleaved spiral arms, 1.75 turns each."""
    return _spiral_arms(samples, noise, rng, 2)


def _spiral3(samples, noise, rng):
    """Three interleaved spiral arms, one class each."""
    return _spiral_arms(samples, noise, rng, 3)


def _moons(samples, noise, rng):
    """Two interleaving half circles (scaled ×2.5 to the ±5 plane)."""
    n0, n1 = _split_counts(samples, 2)
    a0 = rng.uniform(0, np.pi, n0)
    a1 = rng.uniform(0, np.pi, n1)
    upper = np.column_stack([np.cos(a0), np.sin(a0)])
    lower = np.column_stack([1 - np.cos(a1), 0.5 - np.sin(a1)])
    X = (np.concatenate([upper, lower]) - [0.5, 0.25]) * 2.5
    return X + rng.normal(0, noise, X.shape), np.concatenate([np.zeros(n0, np.int64), np.ones(n1, np.int64)])


def _blobs(samples, noise, rng):
    """Four Gaussian blobs on a square of side 6, one class each."""
    centres = np.array([[-3.0, -3.0], [3.0, -3.0], [-3.0, 3.0], [3.0, 3.0]])
    counts = _split_counts(samples, len(centres))
    X = np.concatenate([rng.normal(c, 1.0 + noise, (n, 2)) for c, n in zip(centres, counts, strict=True)])
    return X, np.concatenate([np.full(n, k, np.int64) for k, n in enumerate(counts)])


PLANE_WEIGHTS = np.array([[2.0, -3.0]])
PLANE_BIAS = np.array([1.0])


def _plane(samples, noise, rng):
    """y = 2·x1 − 3·x2 + 1 + noise, x uniform on [−5, 5]²."""
    X = rng.uniform(-5, 5, (samples, 2))
    return X, X @ PLANE_WEIGHTS[0] + PLANE_BIAS[0] + rng.normal(0, noise, samples)


def _sine(samples, noise, rng):
    """y = sin(x) + noise, x uniform on [−2π, 2π]."""
    x = np.sort(rng.uniform(-2 * np.pi, 2 * np.pi, samples))
    return x[:, None], np.sin(x) + rng.normal(0, noise, samples)


HOUSING_FEATURES = ("area_m2", "rooms", "age_years", "distance_km", "pollution", "garden")
HOUSING_WEIGHTS = np.array([[1.5, 12.0, -0.8, -2.0, -2.5, 20.0]])  # thousands per unit
HOUSING_BIAS = np.array([90.0])


def _housing_features(samples, rng):
    area = rng.uniform(40, 220, samples)
    rooms = np.clip(np.round(area / 30 + rng.normal(0, 0.8, samples)), 1, 9)
    age = rng.uniform(0, 80, samples)
    distance = rng.gamma(2.0, 4.0, samples)
    pollution = rng.uniform(0, 10, samples)
    garden = (rng.random(samples) < 0.4).astype(float)
    return np.column_stack([area, rooms, age, distance, pollution, garden])


def _housing(samples, noise, rng):
    """Price in thousands = true weights · features + 90 + noise·20 (noise 1 → ±20k)."""
    X = _housing_features(samples, rng)
    return X, X @ HOUSING_WEIGHTS[0] + HOUSING_BIAS[0] + rng.normal(0, 20.0 * noise, samples)


EXACT = "its values are exact; noise does not apply"
SYNTHETIC: dict[str, SyntheticInfo] = {
    "circle": SyntheticInfo(_table(_circle), 400, 0.1, "two classes: a disc inside a ring"),
    "xor": SyntheticInfo(_table(_xor), 400, 0.1, "two classes: the four quadrants, like the XOR truth table"),
    "gaussian": SyntheticInfo(_table(_gaussian), 400, 0.2, "two classes: two Gaussian clouds"),
    "spiral": SyntheticInfo(_table(_spiral), 500, 0.1, "two classes: interleaved spiral arms"),
    "moons": SyntheticInfo(_table(_moons), 400, 0.1, "two classes: two interleaving half moons"),
    "blobs": SyntheticInfo(_table(_blobs), 400, 0.2, "four classes: Gaussian blobs"),
    "spiral3": SyntheticInfo(_table(_spiral3), 600, 0.1, "three classes: three spiral arms"),
    "plane": SyntheticInfo(_table(_plane, true_weights=PLANE_WEIGHTS, true_bias=PLANE_BIAS), 300, 0.5,
                           "regression: y = 2·x1 − 3·x2 + 1 + noise"),
    "sine": SyntheticInfo(_table(_sine, ("x",)), 300, 0.1, "regression: y = sin(x) + noise", features=1),
    "housing": SyntheticInfo(_table(_housing, HOUSING_FEATURES, target_names=("price_k",), true_weights=HOUSING_WEIGHTS,
                                    true_bias=HOUSING_BIAS), 500, 1.0,
                             "regression: house price from six features, known true weights", features=len(HOUSING_FEATURES)),
    "sine_forecast": SyntheticInfo(lambda m, noise, steps, seed: sine_forecast(m, steps, noise, seed), 500, 0.02,
                                   "regression over T steps: the next value of a noisy sine wave after a window of it",
                                   features=1, steps=20),
    "adding": SyntheticInfo(lambda m, noise, steps, seed: adding_problem(m, steps, seed), 1000, 0.0,
                            "regression over T steps: the sum of the two marked values among T (value, mark) pairs",
                            steps=30, noise_free=EXACT),
    "parity": SyntheticInfo(lambda m, noise, steps, seed: parity(m, steps, seed), 1000, 0.0,
                            "classification over T steps: whether T bits hold an odd number of ones (even/odd)",
                            features=1, steps=8, noise_free="its bits are exact; noise does not apply"),
    "copy": SyntheticInfo(lambda m, noise, steps, seed: copy_sequence(m, steps, seed), 1000, 0.0,
                          "regression over T steps: repeat T/2 values after T/2 blank steps (value, marker)",
                          steps=10, noise_free=EXACT),
    "reverse": SyntheticInfo(lambda m, noise, steps, seed: reverse_sequence(m, steps, seed), 1000, 0.0,
                             "regression over T steps: repeat T/2 values last first after T/2 blank steps (value, marker)",
                             steps=10, noise_free=EXACT),
    "chars": SyntheticInfo(lambda m, noise, steps, seed: chars(m, steps, seed), 3000, 0.0,
                           "classification over T steps: the next character of Shakespeare's Coriolanus after T characters "
                           "(token ids)", features=1, steps=32, noise_free="the text is the text; noise does not apply"),
}


def _whole_samples(samples: object) -> int:
    """``samples`` as an int: a whole number (500 or 500.0, not 2.5, True or "500") ≥ MIN_SAMPLES."""
    whole = isinstance(samples, numbers.Integral) or (isinstance(samples, float) and samples.is_integer())
    if isinstance(samples, bool) or not whole:
        raise ValueError(f"samples must be a whole number ≥ {MIN_SAMPLES}, got {samples!r}")
    if samples < MIN_SAMPLES:
        raise ValueError(f"a dataset needs at least {MIN_SAMPLES} samples, got {int(samples)}")
    return int(samples)


def _check_memory(name: str, samples: int, steps: int | None) -> None:
    """ResourceError when generating ``samples`` samples of ``name`` would not fit in memory:
    X (m, T·F) float64 and targets of at most T + 1 values a sample (T = 1 for a table),
    GENERATION_COPIES times over."""
    values = samples * (steps or 1) * (SYNTHETIC[name].features + 1)
    check_allocation(f"generating {samples:,} samples", values * 8 * GENERATION_COPIES)


def _whole_steps(name: str, steps: object) -> int:
    """``steps`` of the sequence task ``name`` as an int: a whole number ≥ 1."""
    if not SYNTHETIC[name].is_sequence:
        tasks = ", ".join(n for n, info in SYNTHETIC.items() if info.is_sequence)
        raise ValueError(f"{name} is not a sequence task: steps applies to {tasks}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps must be a whole number ≥ 1, got {steps!r}")
    return int(steps)


def synthetic(name: str, samples: int | None = None, noise: float | None = None, seed: int = 0, *,
              steps: int | None = None) -> Dataset:
    """Generate the synthetic dataset ``name`` (see SYNTHETIC) with m = ``samples`` samples
    (of ``steps`` steps, for a sequence task); None: the task's defaults. ``meta`` records
    samples, noise, seed (and steps), besides what the generator sets.

    Raises:
        ValueError: an unknown name, samples that are not a whole number ≥ MIN_SAMPLES,
            negative noise (or any for a task without noise), steps for a task that is not a
            sequence or that the task cannot have; ResourceError (a ValueError) when the
            arrays would not fit in memory.
    """
    if name not in SYNTHETIC:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(SYNTHETIC)}")
    info = SYNTHETIC[name]
    samples = info.samples if samples is None else _whole_samples(samples)
    noise = info.noise if noise is None else float(noise)
    if noise < 0:
        raise ValueError(f"noise must be ≥ 0, got {noise}")
    if noise and info.noise_free:
        raise ValueError(f"{name} has no noise setting ({info.noise_free}), got noise = {noise:g}")
    steps = info.steps if steps is None else _whole_steps(name, steps)
    _check_memory(name, samples, steps)
    dataset = info.generate(samples, noise, steps, seed)
    meta = {"samples": samples, "noise": noise, "seed": seed} | ({"steps": steps} if info.is_sequence else {})
    return replace(dataset, name=name, description=info.description, meta=meta | dataset.meta)
