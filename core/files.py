"""The files users script against: model ``.npz``, data ``.npz``, history ``.csv``.

Model file (written with ``allow_pickle=False``, read without unpickling):
    ``spec``        the network spec as a JSON string
    ``preprocess``  JSON string {"mean": [...], "std": [...]} or "null"
    ``layer{i}.W``, ``layer{i}.b``, …  each layer i's parameters (0-based, spec order)
Data file: ``X`` (m, n) numbers and ``y`` (m,) integer labels or (m,)/(m, t) float targets.

Every write goes to a temporary file first and is renamed into place, so a crash never
leaves a half-written file. Problems raise :class:`FileFormatError` naming the file.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import secrets
import stat
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .backend import Backend
from .data import DataError, Dataset, make_dataset
from .layers import SpecError
from .network import Network, Preprocess

TEMPORARY_NAME_TRIES = 100


class FileFormatError(ValueError):
    """A file that cannot be read or written as asked; the message names the file."""


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None], mode: str = "wb") -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path``.

    The file gets the permissions a plain ``open(path, "w")`` would give it: those of the
    file it replaces, or for a new file 0o666 less the umask (applied by the system).
    """
    path = Path(path)
    try:
        fd, tmp = _create_beside(path)
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as f:
            write(f)
        _keep_permissions(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _create_beside(path: Path) -> tuple[int, Path]:
    """Create a new, empty temporary file in ``path``'s folder, as ``open()`` would create a
    file (mode 0o666 less the umask, unlike ``tempfile.mkstemp``'s private 0o600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(TEMPORARY_NAME_TRIES):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(path.parent))


def _keep_permissions(path: Path, tmp: Path) -> None:
    """Give ``tmp`` the permission bits of the existing file ``path`` (if there is one)."""
    try:
        os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
    except FileNotFoundError:
        pass


def save_model(path: str | os.PathLike, network: Network) -> None:
    """Write ``network`` (spec, preprocess, parameters) to the model file ``path``."""
    arrays: dict[str, np.ndarray] = {
        "spec": np.array(json.dumps(network.spec())),
        "preprocess": np.array(json.dumps(network.preprocess.to_json() if network.preprocess else None)),
    }
    for i, params in enumerate(network.parameters_by_layer()):
        for name, value in params.items():
            arrays[f"layer{i}.{name}"] = value
    atomic_write(path, lambda f: np.savez(f, allow_pickle=False, **arrays))


def _open_npz(path: str | os.PathLike) -> Any:
    try:
        npz = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileFormatError(f"{path}: is a folder, not a .npz file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise FileFormatError(f"{path}: not a readable .npz file ({exc})") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):  # a plain .npy array, not a set of named arrays
        raise FileFormatError(f"{path}: holds a single array (a .npy file), not named arrays in a .npz file")
    return npz


def _read_array(npz: Any, key: str, path: Any) -> np.ndarray:
    try:
        return npz[key]
    except KeyError:
        raise FileFormatError(f"{path}: has no array '{key}' (it has: {', '.join(npz.files) or 'nothing'})") from None
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise FileFormatError(f"{path}: array '{key}' cannot be read ({exc})") from None


def load_model(path: str | os.PathLike, backend: Backend | None = None) -> Network:
    """Read a model file written by :func:`save_model` into a new Network on ``backend``."""
    with _open_npz(path) as npz:
        try:
            spec = json.loads(str(_read_array(npz, "spec", path)))
            pre = json.loads(str(_read_array(npz, "preprocess", path))) if "preprocess" in npz.files else None
        except json.JSONDecodeError as exc:
            raise FileFormatError(f"{path}: the model spec is not valid JSON ({exc})") from None
        try:
            network = Network(spec, backend)
        except SpecError as exc:
            raise FileFormatError(f"{path}: the model spec is invalid: {exc}") from None
        values = []
        for i, layer in enumerate(network.layers):
            values.append({name: _read_array(npz, f"layer{i}.{name}", path) for name in layer.params})
    try:
        network.set_parameters(values)
        network.preprocess = Preprocess.from_json(pre) if pre else None
    except (ValueError, KeyError, TypeError) as exc:
        raise FileFormatError(f"{path}: {exc}") from None
    return network


def load_data_npz(path: str | os.PathLike, task: str | None = None) -> Dataset:
    """Read a data file with arrays ``X`` and ``y`` (never unpickled) as a Dataset."""
    with _open_npz(path) as npz:
        X, y = _read_array(npz, "X", path), _read_array(npz, "y", path)
    try:
        return make_dataset(X, y, name=Path(path).stem, task=task)
    except DataError as exc:
        raise FileFormatError(f"{path}: {exc}") from None


def load_inputs_npz(path: str | os.PathLike) -> np.ndarray:
    """Read just the inputs ``X`` of a data file as float64 (m, n) (``y`` may be absent)."""
    with _open_npz(path) as npz:
        X = _read_array(npz, "X", path)
    if X.ndim == 1:
        X = X[:, None]
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise FileFormatError(f"{path}: X must hold real numbers, got dtype {X.dtype}")
    return X.astype(np.float64)


def save_data_npz(path: str | os.PathLike, X: np.ndarray, y: np.ndarray) -> None:
    """Write ``X`` (m, n) and ``y`` (m,) or (m, t) as a data file."""
    atomic_write(path, lambda f: np.savez(f, allow_pickle=False, X=X, y=y))


def write_history_csv(path: str | os.PathLike, records: Iterable[dict]) -> None:
    """Write per-epoch records (dicts with the same keys) as CSV with a header row."""
    records = list(records)

    def write(f: Any) -> None:
        if not records:
            return
        writer = csv.DictWriter(f, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows({k: ("" if v is None else v) for k, v in r.items()} for r in records)

    atomic_write(path, write, mode="w")
