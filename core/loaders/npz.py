"""NPZ data files: ``X`` and ``y`` arrays, read without unpickling (see core.files).

``X`` is (m, n) numbers, or (m, h, w) / (m, h, w, c) images that are flattened row-major
to (m, h·w·c) (channels innermost) with the Dataset's ``sample_shape`` = (h, w, 1) /
(h, w, c) and pixel feature names; uint8 images are divided by 255. ``y`` is (m,) or
(m, t). As in core.files, integer ``y`` means classes and float ``y`` regression unless
``task`` says otherwise. Optional string arrays ``feature_names`` and ``class_names`` name
the columns and classes. NaN in ``X`` are missing values (dropped or filled as
``options.missing`` says); rows with NaN in ``y`` are dropped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data import Dataset, make_dataset
from ..files import FileFormatError, _open_npz
from ..limits import ResourceError
from ..npz_members import READ_ERRORS, read_member, reason
from .errors import LoaderError
from .images import image_sample_shape, pixel_names
from .missing import handle_missing
from .options import LoadOptions
from .progress import Monitor
from .scaling import scale_features


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
    reads them: (m, n) float64 features, images flattened (uint8 divided by 255), and the
    sample shape ((n,), or (H, W, C) for images). NaN or infinite inputs are refused."""
    path = Path(path)
    with _opened(path) as npz:
        X, shape = _features(_read(npz, "X", path, float64_copy=True), path)
    finite = np.isfinite(X).all(axis=1)
    if not finite.all():
        raise LoaderError(f"{path}: X holds NaN or infinite values (first in sample {int(np.argmin(finite))}, 0-based)")
    return X, shape or (X.shape[1],)


def read_npz(path: Path) -> dict[str, np.ndarray | list[str] | None]:
    """The arrays ``X``, ``y`` and the optional names of the data file at ``path``."""
    with _opened(path) as npz:
        X = _read(npz, "X", path, float64_copy=True)
        y = _read(npz, "y", path, float64_copy=True)
        n_features = int(np.prod(X.shape[1:])) if X.ndim > 1 else 1
        return {"X": X, "y": y, "feature_names": _optional_names(npz, "feature_names", path, n_features),
                "class_names": _optional_names(npz, "class_names", path, len(np.unique(y)) if y.ndim == 1 and y.size else -1)}


def _features(X: np.ndarray, path: Path) -> tuple[np.ndarray, tuple[int, int, int] | None]:
    """(m, n) float64 features and the sample shape (H, W, C) of images (None for a table)."""
    if X.dtype.kind not in "biuf":
        raise LoaderError(f"{path}: X must hold real numbers, got dtype {X.dtype}")
    if X.ndim == 0 or X.ndim > 4 or X.shape[0] == 0 or X.size == 0:
        raise LoaderError(f"{path}: X must be (samples, features) or (samples, height, width[, channels]) with at least one "
                          f"sample, got shape {X.shape}")
    if X.ndim == 1:
        return X.astype(np.float64)[:, None], None
    if X.ndim == 2:
        return X.astype(np.float64), None
    flat = X.reshape(X.shape[0], -1).astype(np.float64)
    if X.dtype == np.uint8:
        flat /= 255.0
    return flat, image_sample_shape(X.shape[1:])


def load_npz(path: Path, options: LoadOptions | None = None, monitor: Monitor | None = None) -> Dataset:
    """The Dataset in the NPZ data file ``path`` (see the module docstring)."""
    options, monitor = options or LoadOptions(), monitor or Monitor()
    monitor.update(0.0, "reading arrays")
    arrays = read_npz(path)
    X, sample_shape = _features(arrays["X"], path)
    y = arrays["y"]
    if y.dtype.kind not in "biuf" or y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise LoaderError(f"{path}: y must be numbers of shape ({X.shape[0]},) or ({X.shape[0]}, t), got {y.shape} of {y.dtype}")
    monitor.update(0.6, "checking values")
    names = arrays["feature_names"] or (pixel_names(sample_shape) if sample_shape else [f"x{j + 1}" for j in range(X.shape[1])])
    no_target = np.isnan(y).reshape(len(y), -1).any(axis=1) if y.dtype.kind == "f" else None
    X, keep, report = handle_missing(X, names, np.zeros(X.shape[1], bool), policy=options.missing,
                                     positions=np.arange(1, len(X) + 1), target_missing=no_target)
    y = y[keep]
    X, scaling = scale_features(X, options.scale)
    task = {"auto": None, "classification": "classes", "regression": "regression"}[options.task]
    meta = {"source": str(path), "format": "npz", "missing": report.to_json(), "missing_summary": report.summary("sample"),
            "scaling": scaling, "rows_read": int(len(keep)), "pixels_scaled": sample_shape is not None and arrays["X"].dtype == np.uint8}
    monitor.update(0.9, "checking values")
    return make_dataset(X, y, name=path.stem, task=task, feature_names=names, class_names=arrays["class_names"], meta=meta,
                        sample_shape=sample_shape or ())
