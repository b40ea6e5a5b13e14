"""Coloured digits: the built-in 8×8 digits tinted into 8×8×3 RGB images (the course's 192-input example).

Each pixel mixes a background and a foreground colour by the digit's ink g in [0, 1]:
pixel = (1 − g)·background + g·foreground, per channel, so the values stay in [0, 1]. The
foreground is one of FOREGROUNDS, the background one of BACKGROUNDS (dark or light): the
colour pairs are dealt in turn to each digit's samples, in a seeded shuffle of them, so
every pair occurs with every digit equally often (to one sample): the colour says nothing
about the label. The same seed always gives the same images.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools

import numpy as np

from .data import Dataset
from .loaders.images import pixel_names

TINT_SEED = 0
FOREGROUNDS = {  # RGB in [0, 1]
    "red": (0.9, 0.15, 0.15), "green": (0.15, 0.7, 0.25), "blue": (0.2, 0.35, 0.95),
    "orange": (1.0, 0.6, 0.1), "purple": (0.6, 0.25, 0.85), "teal": (0.05, 0.65, 0.7),
}
BACKGROUNDS = {"dark": (0.08, 0.08, 0.1), "light": (0.95, 0.95, 0.9)}
PAIRS = tuple(itertools.product(FOREGROUNDS, BACKGROUNDS))  # (foreground, background) names, 12 pairs


def colour_pairs(labels: np.ndarray, seed: int = TINT_SEED) -> np.ndarray:
    """(m,) int64 index into PAIRS of each sample of ``labels`` (m,): each class's samples, in
    a shuffle seeded by ``seed``, take the pairs in turn."""
    rng = np.random.default_rng(seed)
    pairs = np.empty(len(labels), np.int64)
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        pairs[rows[rng.permutation(len(rows))]] = np.arange(len(rows)) % len(PAIRS)
    return pairs


def tint_digits(digits: Dataset, seed: int = TINT_SEED) -> Dataset:
    """``digits`` (X (m, 64) ink in [0, 1], sample_shape (8, 8, 1)) as colour images: X (m, 192)
    in [0, 1], sample_shape (8, 8, 3), pixel names with a channel suffix (``pixel_ROW_COL_0``
    red, ``_1`` green, ``_2`` blue); labels, classes and meta kept."""
    height, width, _ = digits.sample_shape
    pairs = np.array([(FOREGROUNDS[fore], BACKGROUNDS[back]) for fore, back in PAIRS])[colour_pairs(digits.y, seed)]  # (m, 2, 3)
    ink = digits.X[:, :, None]  # (m, 64, 1)
    X = ((1.0 - ink) * pairs[:, None, 1] + ink * pairs[:, None, 0]).reshape(digits.n_samples, -1)  # (m, 64·3), channels innermost
    shape = (height, width, 3)
    return dataclasses.replace(digits, X=X, sample_shape=shape, feature_names=tuple(pixel_names(shape)))


def coloured_metadata(digits_metadata: dict) -> dict:
    """The metadata of the coloured digits, from the digits' own (same creators, source and
    license; the tinting added to the changes)."""
    meta = copy.deepcopy(digits_metadata)
    for stored_only in ("image_shape", "pixel_max"):  # the digits' file layout; this set has no file
        meta.pop(stored_only, None)
    colours = ", ".join(FOREGROUNDS)
    meta |= {
        "name": "digits_rgb",
        "title": f"{digits_metadata['title']}, tinted to 8×8×3 colour",
        "derived_from": digits_metadata["name"],
        "changes": [*digits_metadata["changes"],
                    f"tinted into 8×8×3 RGB images by Epoch Lab (core/coloured_digits.py, seed {TINT_SEED}): each pixel mixes a "
                    f"background (dark or light) and a foreground colour ({colours}) by its ink; every colour pair occurs "
                    "equally often with every digit; generated when loaded, nothing stored"],
        "citation": f"{digits_metadata['citation']} (tinted to 8×8×3 colour images by Epoch Lab)",
        "description": "1797 handwritten digits 0–9 as 8×8 colour images (192 inputs): the digits set, each digit drawn in one "
                       "of six colours on a dark or light background; the colour says nothing about the digit.",
    }
    return meta
