"""NPZ data files: ``X`` and ``y`` arrays, read without unpickling (see core.files).

What ``X`` holds follows from its shape and dtype (:func:`inputs_of`), every kind flattened
row-major to (m, n):

- (m, n) numbers: a table. Of an integer dtype with every value ≥ 0 they are token ids
  (sample_shape (T,), ``meta["tokens"]`` = the largest id + 1, for an Embedding layer).
- (m, T, F) of a float dtype: sequences of T steps of F features, sample_shape (T, F).
- (m, h, w) of an integer dtype (uint8 above all) and any (m, h, w, c): images, sample_shape
  (h, w, 1) / (h, w, c), pixel feature names; uint8 images are divided by 255.

An optional string member ``layout`` ("sequence" or "image") overrides the guess: "image"
makes a 3-D X images and "sequence" makes it sequences; "sequence" also makes a 2-D X
sequences, token ids for integers (which must then all be ≥ 0) and (T, 1) steps for
floats. Any other value, "image" for a 2-D X and "sequence" for a 4-D one are refused.
``y`` is (m,) or (m, t). As in core.files, integer ``y`` means classes and float ``y`` regression unless
``task`` says otherwise. Optional string arrays ``feature_names`` and ``class_names`` name
the columns and classes. NaN in ``X`` are missing values (dropped or filled as
``options.missing`` says); rows with NaN in ``y`` are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import Dataset, make_dataset
from ..files import FileFormatError, _open_npz
from ..limits import ResourceError
from ..npz_members import READ_ERRORS, read_member, reason
from ..sequences import step_names
from .errors import LoaderError
from .images import image_sample_shape, pixel_names
from .missing import handle_missing
from .options import LoadOptions
from .progress import Monitor
from .scaling import scale_features

LAYOUTS = ("sequence", "image")


@dataclass(frozen=True)
class Inputs:
    """``X`` as the engine takes it: ``X`` (m, n) float64, ``sample_shape`` ((n,), (T,) token
    ids, (T, F) sequences or (H, W, C) images), ``tokens`` (V for token ids, else None),
    ``pixels_scaled`` (uint8 images divided by 255)."""

    X: np.ndarray
    sample_shape: tuple[int, ...]
    tokens: int | None = None
    pixels_scaled: bool = False

    @property
    def is_image(self) -> bool:
        return len(self.sample_shape) == 3

    def feature_names(self) -> list[str]:
        """Pixel names of images, ``t1``, ``t1_f1`` … of sequences (T, F), ``x1`` … of a table or token ids."""
        if self.is_image:
            return pixel_names(self.sample_shape)
        if len(self.sample_shape) == 2:
            return list(step_names(*self.sample_shape))
        return [f"x{j + 1}" for j in range(self.X.shape[1])]


def _read(npz, key: str, path: Path, float64_copy: bool = False) -> np.ndarray:
    """Array ``key``, checked by header and size first (see core.npz_members)."""
    try:
        return read_member(npz, key, path, float64_copy=float64_copy)
    except (FileFormatError, ResourceError) as exc:
        raise LoaderError(str(exc)) from None


def _optional_names(npz, key: str, path: Path, count: int) -> list[str] | None:
    if key not in npz.files:
        return None
    names = _read(npz, key, path)
    if names.dtype.kind not in "US" or names.shape != (count,):
        raise LoaderError(f"{path}: '{key}' must be {count} strings, got shape {names.shape} of {names.dtype}")
    return [str(n) for n in names]


def _opened(path: Path):
    """The open NPZ file at ``path``; LoaderError naming it when it is not one."""
    try:
        return _open_npz(path)
    except FileFormatError as exc:
        raise LoaderError(str(exc)) from None
    except READ_ERRORS as exc:
        raise LoaderError(f"{path}: not a readable .npz file ({reason(exc)})") from None


def load_npz_inputs(path: str | Path) -> tuple[np.ndarray, tuple[int, ...]]:
    """Just the inputs ``X`` of an NPZ data file (``y`` may be absent), read as :func:`load_npz`
    reads them (its ``layout`` too): (m, n) float64 features, and the sample shape ((n,),
    (T,), (T, F) or (H, W, C), see :func:`inputs_of`). NaN or infinite inputs are refused."""
    path = Path(path)
    with _opened(path) as npz:
        inputs = inputs_of(_read(npz, "X", path, float64_copy=True), _layout(npz, path), path)
    finite = np.isfinite(inputs.X).all(axis=1)
    if not finite.all():
        raise LoaderError(f"{path}: X holds NaN or infinite values (first in sample {int(np.argmin(finite))}, 0-based)")
    return inputs.X, inputs.sample_shape


def _layout(npz, path: Path) -> str | None:
    """The optional member ``layout``: "sequence", "image" or None (absent); LoaderError otherwise."""
    if "layout" not in npz.files:
        return None
    layout = _read(npz, "layout", path)
    value = str(layout.reshape(-1)[0]) if layout.dtype.kind in "US" and layout.size == 1 else None
    if value not in LAYOUTS:
        shown = repr(value) if value is not None else f"shape {layout.shape} of {layout.dtype}"
        raise LoaderError(f"{path}: 'layout' must be the text \"sequence\" or \"image\", got {shown}")
    return value


def read_npz(path: Path) -> dict[str, np.ndarray | list[str] | str | None]:
    """The arrays ``X``, ``y``, the optional names and the ``layout`` of the data file at ``path``."""
    with _opened(path) as npz:
        X = _read(npz, "X", path, float64_copy=True)
        y = _read(npz, "y", path, float64_copy=True)
        n_features = int(np.prod(X.shape[1:])) if X.ndim > 1 else 1
        return {"X": X, "y": y, "layout": _layout(npz, path), "feature_names": _optional_names(npz, "feature_names", path, n_features),
                "class_names": _optional_names(npz, "class_names", path, len(np.unique(y)) if y.ndim == 1 and y.size else -1)}


def inputs_of(X: np.ndarray, layout: str | None, path: Path) -> Inputs:
    """What ``X`` (m, …) holds, as the module docstring says, for the ``layout`` given (None: guessed)."""
    if X.dtype.kind not in "biuf":
        raise LoaderError(f"{path}: X must hold real numbers, got dtype {X.dtype}")
    if X.ndim == 0 or X.ndim > 4 or X.shape[0] == 0 or X.size == 0:
        raise LoaderError(f"{path}: X must be (samples, features), (samples, steps, features) or (samples, height, width[, "
                          f"channels]) with at least one sample, got shape {X.shape}")
    flat = X.reshape(X.shape[0], -1).astype(np.float64)
    integers = X.dtype.kind in "iu"
    if X.ndim == 1 or (X.ndim == 2 and layout is None):
        return Inputs(flat, (flat.shape[1],), _token_count(X, path, required=False) if integers and X.ndim == 2 else None)
    if X.ndim == 2:
        if layout == "image":
            raise LoaderError(f"{path}: layout \"image\" needs X of (samples, height, width[, channels]), got shape {X.shape}")
        return Inputs(flat, (X.shape[1],), _token_count(X, path, required=True)) if integers else Inputs(flat, (X.shape[1], 1))
    if layout == "sequence" and X.ndim == 4:
        raise LoaderError(f"{path}: layout \"sequence\" needs X of (samples, steps, features), got the 4-D shape {X.shape}")
    if layout == "sequence" or (layout is None and X.ndim == 3 and X.dtype.kind == "f"):
        return Inputs(flat, tuple(int(s) for s in X.shape[1:]))
    scaled = X.dtype == np.uint8
    if scaled:
        flat /= 255.0
    return Inputs(flat, image_sample_shape(X.shape[1:]), pixels_scaled=scaled)


def _token_count(X: np.ndarray, path: Path, required: bool) -> int | None:
    """V = the largest id + 1 of integer ``X`` (m, T) whose values are all ≥ 0 (token ids);
    otherwise None (a table of whole numbers), or LoaderError when ``required`` (layout "sequence")."""
    low = int(X.min())
    if low >= 0:
        return int(X.max()) + 1
    if not required:
        return None
    sample = int(np.argmax((X < 0).any(axis=1)))
    raise LoaderError(f"{path}: token ids must be whole numbers ≥ 0, but X holds {low} (first negative id in sample {sample}, "
                      "0-based)")


def load_npz(path: Path, options: LoadOptions | None = None, monitor: Monitor | None = None) -> Dataset:
    """The Dataset in the NPZ data file ``path`` (see the module docstring)."""
    options, monitor = options or LoadOptions(), monitor or Monitor()
    monitor.update(0.0, "reading arrays")
    arrays = read_npz(path)
    inputs = inputs_of(arrays["X"], arrays["layout"], path)
    X, y = inputs.X, arrays["y"]
    if y.dtype.kind not in "biuf" or y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise LoaderError(f"{path}: y must be numbers of shape ({X.shape[0]},) or ({X.shape[0]}, t), got {y.shape} of {y.dtype}")
    monitor.update(0.6, "checking values")
    names = arrays["feature_names"] or inputs.feature_names()
    if inputs.tokens is not None and options.scale != "none":
        raise LoaderError(f"{path}: X holds token ids (whole numbers 0 … {inputs.tokens - 1}); scaling them ({options.scale}) "
                          "would make them other numbers: load them with scale none")
    no_target = np.isnan(y).reshape(len(y), -1).any(axis=1) if y.dtype.kind == "f" else None
    X, keep, report = handle_missing(X, names, np.zeros(X.shape[1], bool), policy=options.missing,
                                     positions=np.arange(1, len(X) + 1), target_missing=no_target)
    y = y[keep]
    X, scaling = scale_features(X, options.scale)
    task = {"auto": None, "classification": "classes", "regression": "regression"}[options.task]
    meta = {"source": str(path), "format": "npz", "missing": report.to_json(), "missing_summary": report.summary("sample"),
            "scaling": scaling, "rows_read": int(len(keep)), "pixels_scaled": inputs.pixels_scaled}
    if inputs.tokens is not None:
        meta["tokens"] = inputs.tokens
    monitor.update(0.9, "checking values")
    return make_dataset(X, y, name=path.stem, task=task, feature_names=names, class_names=arrays["class_names"], meta=meta,
                        sample_shape=inputs.sample_shape)
