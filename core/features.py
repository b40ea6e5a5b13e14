"""Engineered inputs for 2-D data, as TensorFlow Playground offers them.

A 2-feature dataset (x1, x2) can carry extra input columns computed from its two features:
``x1^2`` (x1²), ``x2^2`` (x2²), ``x1*x2`` (x1·x2), ``sin_x1`` (sin x1) and ``sin_x2``
(sin x2). With x1² and x2² a network without a hidden layer separates the ``circle`` set,
whose boundary x1² + x2² = r² is a line in those inputs.

The columns always follow x1, x2 in the canonical order of :data:`ENGINEERED`, whatever order
the names are given in. :func:`engineer` appends them to a Dataset and records
``meta["engineered"]`` (the names) and ``meta["raw_features"]`` = 2; views that draw over the
(x1, x2) plane take :func:`plane_samples` and turn their grid points into the network's inputs
with :func:`network_inputs` (:func:`expand` of the dataset's names).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import numpy as np

from .data import DataError, Dataset

RAW_FEATURES = 2  # x1, x2: what every engineered column is computed from

# name (as an experiment's dataset.engineered lists it) → (feature title, column (m,) from points (m, 2))
ENGINEERED: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "x1^2": ("x1²", lambda p: p[:, 0] ** 2),
    "x2^2": ("x2²", lambda p: p[:, 1] ** 2),
    "x1*x2": ("x1·x2", lambda p: p[:, 0] * p[:, 1]),
    "sin_x1": ("sin x1", lambda p: np.sin(p[:, 0])),
    "sin_x2": ("sin x2", lambda p: np.sin(p[:, 1])),
}


def canonical(names: Iterable[str]) -> list[str]:
    """``names`` in the order of :data:`ENGINEERED`; DataError for an unknown or repeated name."""
    names = list(names)
    for name in names:
        if name not in ENGINEERED:
            raise DataError(f"unknown engineered feature {name!r}; choose from {', '.join(ENGINEERED)}")
        if names.count(name) > 1:
            raise DataError(f"engineered feature {name!r} is given twice")
    return [name for name in ENGINEERED if name in names]


def expand(points: np.ndarray, names: Iterable[str]) -> np.ndarray:
    """Points (m, 2) of the (x1, x2) plane as network inputs (m, 2 + k): x1, x2, then the k
    engineered columns ``names`` in canonical order (float64)."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != RAW_FEATURES:
        raise DataError(f"engineered features are computed from points of shape (m, 2), got {points.shape}")
    columns = [ENGINEERED[name][1](points) for name in canonical(names)]
    return np.column_stack([points, *columns]) if columns else points.copy()


def engineered_names(dataset: Dataset) -> list[str]:
    """The engineered features ``dataset`` carries (canonical order; [] for none)."""
    return list(dataset.meta.get("engineered", []))


def plane_features(dataset: Dataset) -> int:
    """How many features the data had before engineering (its plane is 2-D when this is 2)."""
    return int(dataset.meta.get("raw_features", dataset.n_features))


def plane_samples(dataset: Dataset) -> np.ndarray:
    """The samples' raw features (m, n) before any engineered column: (x1, x2) for engineered data."""
    return dataset.X[:, : plane_features(dataset)]


def network_inputs(dataset: Dataset, points: np.ndarray) -> np.ndarray:
    """Points (m, 2) of ``dataset``'s (x1, x2) plane as its network's inputs (m, 2 + k)."""
    return expand(points, engineered_names(dataset))


def engineer(dataset: Dataset, names: Iterable[str]) -> Dataset:
    """``dataset`` with the engineered columns ``names`` appended after x1, x2: X (m, 2 + k),
    feature names extended by their titles ("x1²" …), ``meta["engineered"]`` the names in
    canonical order and ``meta["raw_features"]`` = 2. A dataset engineered before is
    engineered afresh from its x1, x2; no names give the plain 2-feature dataset back.
    A synthetic regression's true weights get 0 for every engineered column.

    Raises:
        DataError: data without exactly 2 features, or an unknown or repeated name.
    """
    names = canonical(names)
    if plane_features(dataset) != RAW_FEATURES:
        raise DataError(f"engineered features need data of exactly 2 features (x1, x2); this data has {plane_features(dataset)}")
    points = plane_samples(dataset)
    meta = {key: value for key, value in dataset.meta.items() if key not in ("engineered", "raw_features")}
    if names:
        meta |= {"engineered": names, "raw_features": RAW_FEATURES}
    true_weights = dataset.true_weights
    if true_weights is not None:
        true_weights = np.column_stack([true_weights[:, :RAW_FEATURES], np.zeros((true_weights.shape[0], len(names)))])
    return dataclasses.replace(dataset, X=expand(points, names),
                               feature_names=(*dataset.feature_names[:RAW_FEATURES], *(ENGINEERED[n][0] for n in names)),
                               true_weights=true_weights, meta=meta, sample_shape=())
