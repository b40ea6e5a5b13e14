"""The Epoch Lab side of bench_trainer.py: a core.network.Network (NumPy, float32) trained
by core.trainer.Trainer with SGD, one ``run_epoch()`` per epoch ("ours"), and for a dense
workload the plain NumPy MLP of bench_trainer_plain.py ("plain") in the same process.

Started by bench_trainer.py with the project's Python, the folder of the ``core`` to
measure first on PYTHONPATH (the repository root, or ``--engine DIR``) and the OpenBLAS
environment it chose; speaks the protocol of bench_trainer_common.py.
"""

from __future__ import annotations

import ctypes
import os
import platform
from collections.abc import Callable
from pathlib import Path

import numpy as np
from bench_trainer_common import LEARNING_RATE, Workload, make_data, serve
from bench_trainer_plain import plain_mlp

import core
from core.backend import get_backend
from core.data import make_dataset
from core.network import Network
from core.trainer import Trainer, TrainingConfig


def network_spec(workload: Workload) -> dict:
    """The workload's network as a core.network spec: per convolution a 3×3 "same" conv2d and a
    2×2 maxpool2d, a flatten after them (or the LSTM of a recurrent workload), then the dense layers."""
    recurrent = [{"type": "lstm", "units": workload.lstm_units}] if workload.recurrent else []
    convolutions = [layer for filters in workload.filters for layer in (
        {"type": "conv2d", "filters": filters, "kernel": 3, "padding": "same", "activation": workload.hidden_activation},
        {"type": "maxpool2d", "size": 2})]
    flatten = [{"type": "flatten"}] if workload.convolutional else []
    hidden = [{"type": "dense", "units": u, "activation": workload.hidden_activation} for u in workload.sizes[1:-1]]
    output = {"type": "dense", "units": workload.sizes[-1], "activation": workload.output_activation}
    return {"input_shape": list(workload.sample_shape), "layers": [*recurrent, *convolutions, *flatten, *hidden, output]}


def load(workload: Workload, seed: int) -> dict[str, Callable[[], None]]:
    """Build the workload's network, data and trainer (and plain MLP); per side, a function that trains one epoch."""
    x, labels = make_data(workload)
    dataset = make_dataset(x, labels, name=workload.name, sample_shape=workload.sample_shape)
    network = Network(network_spec(workload), get_backend("numpy", "float32"), seed)
    config = TrainingConfig(
        loss=workload.loss,
        optimizer="sgd",
        learning_rate=LEARNING_RATE,
        batch_size=workload.batch_size,
        seed=seed,
        val_fraction=0.0,
        shuffle=True,
        standardize=False,
    )
    trainer = Trainer(network, dataset, config)

    def run_epoch() -> None:
        report = trainer.run_epoch()
        if not report.complete:
            raise RuntimeError(f"epoch {report.epoch} did not complete: {report.diverged or 'stopped'}")

    if not workload.dense:
        return {"ours": run_epoch}
    return {"ours": run_epoch, "plain": plain_mlp(workload, x, labels, seed)}


def blas_info() -> dict:
    """NumPy's BLAS: library, version, kernel architecture and thread count.

    Uses threadpoolctl when it is installed (it is not a dependency); otherwise asks the
    OpenBLAS bundled with NumPy directly through its C API.
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return _openblas_info_ctypes()
    for pool in threadpool_info():
        if pool.get("user_api") == "blas":
            return {
                "library": pool.get("internal_api"),
                "version": pool.get("version"),
                "architecture": pool.get("architecture"),
                "threading": pool.get("threading_layer"),
                "threads": pool.get("num_threads"),
                "via": "threadpoolctl",
            }
    return {"library": "unknown", "threads": None, "via": "threadpoolctl"}


def _openblas_info_ctypes() -> dict:
    """The fallback of :func:`blas_info`: look up the OpenBLAS shipped in numpy.libs."""
    libs = sorted((Path(np.__file__).parent.parent / "numpy.libs").glob("*openblas*.so*"))
    for path in libs:
        lib = ctypes.CDLL(str(path))  # already loaded by NumPy: the same handle
        for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""), ("openblas_", "64_"), ("openblas_", "")):
            threads = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
            if threads is None:
                continue
            threads.restype = ctypes.c_int
            text = {}
            for name in ("corename", "config"):
                fn = getattr(lib, f"{prefix}get_{name}{suffix}")
                fn.restype = ctypes.c_char_p
                text[name] = fn().decode()
            return {
                "library": "openblas",
                "version": text["config"].removeprefix("OpenBLAS").split()[0],  # "OpenBLAS 0.3.x  USE64BITINT ..."
                "architecture": text["corename"],
                "threading": None,
                "threads": threads(),
                "via": "ctypes",
            }
    return {"library": "unknown", "threads": None, "via": "none"}


def main() -> None:
    info = {
        "side": "Epoch Lab",
        "python": platform.python_version(),
        "library": f"NumPy {np.__version__}",
        "engine": str(Path(core.__file__).parent),
        "blas": blas_info(),
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")},
    }
    info["threads"] = info["blas"]["threads"]
    serve(info, load)


if __name__ == "__main__":
    main()
