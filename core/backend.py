"""The array module every numerical routine uses: NumPy, or CuPy on a CUDA GPU.

A :class:`Backend` is chosen once per network and passed down; nothing looks up a global.
Random numbers for initial weights and shuffles always come from a seeded NumPy
generator on the CPU and are then moved to the device, so a seed gives the same run on
either backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

DTYPES = {"float32": np.float32, "float64": np.float64}
BACKENDS = ("numpy", "cupy")


class BackendUnavailable(RuntimeError):
    """Raised when a backend was asked for that this machine cannot provide."""


def cupy_status() -> tuple[bool, str]:
    """Whether CuPy can run here, and a sentence saying why not when it cannot."""
    try:
        import cupy  # noqa: PLC0415 - optional dependency
    except Exception as exc:  # ImportError, or a broken CUDA install raising anything
        return False, f"CuPy is not installed ({exc.__class__.__name__}); install with: pip install 'epochlab[gpu]'"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return False, f"CuPy found no usable CUDA device ({exc})"
    if count < 1:
        return False, "CuPy found no CUDA device"
    return True, f"CuPy on {count} CUDA device(s)"


@dataclass(frozen=True)
class Backend:
    """An array module and a floating dtype.

    Attributes:
        name: "numpy" or "cupy".
        xp: the array module itself.
        dtype: np.float32 (default) or np.float64.
    """

    name: str
    xp: ModuleType
    dtype: type

    def asarray(self, a: Any) -> Any:
        """Move a host array (any shape) to this backend with this dtype."""
        return self.xp.asarray(np.asarray(a), dtype=self.dtype)

    def to_host(self, a: Any) -> np.ndarray:
        """A NumPy copy-or-view of ``a`` (any shape) on the CPU."""
        if self.name == "cupy":
            return self.xp.asnumpy(a)
        return np.asarray(a)


def get_backend(name: str = "numpy", dtype: str = "float32") -> Backend:
    """Return the backend called ``name`` ("numpy" or "cupy") with ``dtype``.

    Raises:
        BackendUnavailable: CuPy was asked for and cannot run here (the message says why).
        ValueError: an unknown backend or dtype name.
    """
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    if name == "numpy":
        return Backend("numpy", np, DTYPES[dtype])
    if name == "cupy":
        ok, why = cupy_status()
        if not ok:
            raise BackendUnavailable(why)
        import cupy  # noqa: PLC0415

        return Backend("cupy", cupy, DTYPES[dtype])
    raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
