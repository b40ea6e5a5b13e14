"""Weight initializers. Each returns a host float64 array of the requested shape.

``fan_in`` and ``fan_out`` are the number of inputs and units of the layer; a dense
weight has shape (fan_out, fan_in) in the course's notation.
"""

from __future__ import annotations

import math

import numpy as np

INITIALIZERS = ("small_random", "glorot_uniform", "he_normal", "zeros")


def initialize(name: str, shape: tuple[int, ...], fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """Draw a weight array of ``shape`` with the initializer called ``name``.

    - small_random: N(0, 1) × 0.01, as in the course.
    - glorot_uniform: U(−r, r) with r = √(6 / (fan_in + fan_out)).
    - he_normal: N(0, 2 / fan_in), suited to ReLU layers.
    - zeros: all zero, to show why symmetric weights never learn distinct units.
    """
    if name == "small_random":
        return rng.standard_normal(shape) * 0.01
    if name == "glorot_uniform":
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, shape)
    if name == "he_normal":
        return rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)
    if name == "zeros":
        return np.zeros(shape)
    raise ValueError(f"unknown initializer {name!r}; choose one of {', '.join(INITIALIZERS)}")
