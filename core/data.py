"""Datasets as the engine sees them, and how targets become network outputs.

A :class:`Dataset` holds raw host arrays: ``X`` (m, n) float64 and ``y`` either (m,)
integer class labels 0..k−1 or (m, t) float targets. Images keep their shape as
``sample_shape`` (H, W, C), channels last, while ``X`` holds each image flattened row-major
(pixel by pixel, channels innermost: the order of a Flatten layer), so n = H·W·C. The task decides the output layer:
two classes → 1 sigmoid unit; k classes → k softmax units; regression → t linear units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

TASKS = ("binary", "multiclass", "regression")


class DataError(ValueError):
    """Data the engine cannot use; the message says what is wrong."""


@dataclass(frozen=True)
class Dataset:
    """Raw samples and what they mean.

    Attributes:
        name: short name, e.g. "spiral".
        X: (m, n) float64 features.
        y: (m,) int64 class labels, or (m, t) float64 regression targets.
        task: "binary", "multiclass" or "regression".
        feature_names: n names. class_names: k names (classification).
        target_names: t names (regression).
        true_weights: (t, n) weights that generated a synthetic regression, and
            true_bias (t,), in the raw units of X; None for real data.
        sample_shape: the shape of one sample, (n,) for tabular data (the default),
            (T, F) for sequences of T steps of F features, or (H, W, C) for images; its
            product is n (X holds each sample flattened row-major: step by step).
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    task: str
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...] = ()
    target_names: tuple[str, ...] = ()
    true_weights: np.ndarray | None = None
    true_bias: np.ndarray | None = None
    description: str = ""
    meta: dict = field(default_factory=dict)
    sample_shape: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        shape = tuple(int(s) for s in self.sample_shape) or (int(self.X.shape[1]),)
        if len(shape) > 3 or min(shape) < 1:
            raise DataError(f"a sample's shape must be (features,), (steps, features) or (height, width, channels), got {shape}")
        if math.prod(shape) != self.X.shape[1]:
            raise DataError(f"a sample of shape {shape} has {math.prod(shape)} values, but X has {self.X.shape[1]} features")
        object.__setattr__(self, "sample_shape", shape)

    @property
    def is_image(self) -> bool:
        """Whether a sample is an image (H, W, C) rather than a row of features."""
        return len(self.sample_shape) == 3

    @property
    def is_sequence(self) -> bool:
        """Whether a sample is a sequence of steps (T, F)."""
        return len(self.sample_shape) == 2

    def images(self, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """The samples ``rows`` of image data as images (len(rows), H, W, C): a view of X's rows
        (a copy where ``rows`` picks them by index). DataError for tabular data."""
        if not self.is_image:
            raise DataError(f"{self.name} is not image data: its samples are {counted(self.n_features, 'feature')}")
        return self.X[rows].reshape(-1, *self.sample_shape)

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_outputs(self) -> int:
        """Units of the suggested output layer."""
        if self.task == "binary":
            return 1
        if self.task == "multiclass":
            return len(self.class_names)
        return int(self.y.shape[1])

    def summary(self) -> str:
        """One line: samples, features, task, and classes or target range."""
        text = f"{counted(self.n_samples, 'sample')} × {counted(self.n_features, 'feature')}, {self.task}"
        if self.task == "regression":
            return text + f", target range {self.y.min():.3g} … {self.y.max():.3g}"
        return text + f", {len(self.class_names)} classes ({', '.join(self.class_names)})"


def image_size_text(shape: tuple[int, ...]) -> str:
    """An image shape (H, W, C) as a user reads it: ``8×8`` (grey), ``8×8 RGB``, ``8×8×5`` (other channel counts)."""
    height, width, channels = shape
    return f"{height}×{width}" + {1: "", 3: " RGB"}.get(channels, f"×{channels}")


def counted(n: int, noun: str) -> str:
    """``1 sample``, ``2 samples``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def a_or_an(phrase: str) -> str:
    """``phrase`` after the article its first sound takes: "a GRU(8)", "an LSTM(8)" (an
    acronym is read letter by letter), "an Embedding(58, 8)", "a Dense(4)"."""
    acronym = len(phrase) > 1 and phrase[:2].isupper()
    vowel = phrase[:1] in "AEFHILMNORSX" if acronym else phrase[:1].lower() in tuple("aeiou")
    return f"{'an' if vowel and phrase else 'a'} {phrase}"


def make_dataset(X, y, *, name: str = "data", task: str | None = None, feature_names=None, class_names=None, target_names=None,
                 classes=None, **extra) -> Dataset:
    """Check and normalise raw arrays into a :class:`Dataset`, inferring the task.

    Integer labels (m,) mean classes; float targets (m,) or (m, t) mean regression,
    unless ``task`` says otherwise ("regression", or "classes" to force labels). A
    classifier needs two classes among the labels. Declared ``classes`` (k ≥ 2 names,
    as an experiment's inline data gives them) are the one exception: y holds indices
    0 … k−1 into them, and the data is a classifier of exactly those k classes even when
    fewer occur (one sample, say). ``extra`` passes Dataset fields such as
    true_weights. Raises DataError on anything inconsistent.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise DataError(f"X must be a 2-D array (samples × features), got shape {X.shape}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(f"X is empty (shape {X.shape})")
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise DataError(f"X must hold real numbers, got dtype {X.dtype}")
    X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise DataError("X holds missing or infinite values")
    if y.shape[0] != X.shape[0]:
        raise DataError(f"X has {X.shape[0]} samples but y has {y.shape[0]}")
    if not np.issubdtype(y.dtype, np.number) and y.dtype != bool:
        raise DataError(f"y must hold numbers, got dtype {y.dtype}")
    features = tuple(feature_names or _default_features(X))
    if task is None:
        task = "regression" if np.issubdtype(y.dtype, np.floating) and classes is None else "classes"
    if task == "regression":
        y = y.astype(np.float64).reshape(len(y), -1)
        if not np.isfinite(y).all():
            raise DataError("y holds missing or infinite values")
        names = tuple(target_names or (["y"] if y.shape[1] == 1 else [f"y{j}" for j in range(y.shape[1])]))
        return Dataset(name, X, y, "regression", features, target_names=names, **extra)
    if y.ndim != 1:
        raise DataError(f"class labels must be one column, got shape {y.shape}")
    if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y) & (y == np.round(y))):
        raise DataError("class labels must be whole numbers")
    if classes is not None:
        labels, names = _declared_labels(y.astype(np.int64), tuple(classes))
    else:
        values, labels = np.unique(y.astype(np.int64), return_inverse=True)
        if len(values) < 2:
            raise DataError(f"the target has only one class ({values[0] if len(values) else 'none'}); a classifier needs at least two")
        names = tuple(class_names) if class_names else tuple(str(v) for v in values)
        if len(names) != len(values):
            raise DataError(f"{len(names)} class names for {len(values)} classes")
    kind = "binary" if len(names) == 2 else "multiclass"
    return Dataset(name, X, labels.astype(np.int64), kind, features, class_names=names, **extra)


def _declared_labels(y: np.ndarray, classes: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """(labels, class names) of labels ``y`` (m,) declared to index ``classes`` (k ≥ 2 names)."""
    if len(classes) < 2:
        raise DataError(f"only {len(classes)} class name declared; a classifier needs at least two")
    outside = (y < 0) | (y >= len(classes))
    if outside.any():
        raise DataError(f"class label {y[outside][0]} is not an index into the {len(classes)} classes declared (0 to {len(classes) - 1})")
    return y, classes


def _default_features(X: np.ndarray) -> list[str]:
    return [f"x{j + 1}" for j in range(X.shape[1])]


def encode_targets(dataset: Dataset, n_outputs: int) -> np.ndarray:
    """Targets as the network's output shape (m, k) float64.

    Binary with one output: the labels as a column. Classes with k outputs: one-hot.
    Regression: the targets themselves.
    """
    y = dataset.y
    if dataset.task == "regression":
        if y.shape[1] != n_outputs:
            raise DataError(f"the data has {y.shape[1]} targets but the output layer has {n_outputs} units")
        return y.astype(np.float64)
    k = len(dataset.class_names)
    if n_outputs == 1 and k == 2:
        return y.astype(np.float64)[:, None]
    if n_outputs != k:
        raise DataError(f"the data has {k} classes but the output layer has {n_outputs} units")
    return np.eye(k)[y]


def suggested_head(task: str, n_outputs: int) -> tuple[dict, str]:
    """The output layer spec and loss that suit ``task``.

    binary → Dense(1, sigmoid) + binary_crossentropy; multiclass → Dense(k, softmax) +
    categorical_crossentropy; regression → Dense(t, linear) + mse.
    """
    if task == "binary":
        return {"type": "dense", "units": 1, "activation": "sigmoid", "initializer": "glorot_uniform"}, "binary_crossentropy"
    if task == "multiclass":
        return {"type": "dense", "units": n_outputs, "activation": "softmax", "initializer": "glorot_uniform"}, "categorical_crossentropy"
    return {"type": "dense", "units": n_outputs, "activation": "linear", "initializer": "glorot_uniform"}, "mse"
