"""Optional feature scaling at load time (the trainer can also standardize later).

"standardize": x' = (x − mean) / std per feature over all rows (std 0 → 1);
"minmax": x' = (x − min) / (max − min) per feature (range 0 → 1), so x' ∈ [0, 1].
"""

from __future__ import annotations

import numpy as np

from ..data import DataError
from .options import SCALINGS


def scale_features(X: np.ndarray, method: str) -> tuple[np.ndarray, dict]:
    """Scale (m, n) ``X`` by ``method``; return the new array and the parameters used
    ({"method", "shift": n floats, "scale": n floats}, x' = (x − shift) / scale)."""
    if method not in SCALINGS:
        raise DataError(f"scale must be one of {', '.join(SCALINGS)}, got {method!r}")
    if method == "none":
        return X, {"method": "none"}
    if method == "standardize":
        shift, scale = X.mean(axis=0), X.std(axis=0)
    else:
        shift = X.min(axis=0)
        scale = X.max(axis=0) - shift
    scale = np.where(scale > 0, scale, 1.0)
    return (X - shift) / scale, {"method": method, "shift": shift.tolist(), "scale": scale.tolist()}
