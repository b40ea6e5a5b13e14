"""The files users script against: model ``.npz``, data ``.npz``, history ``.csv``.

Model file (written with ``allow_pickle=False``, read without unpickling):
    ``spec``        the network spec as a JSON string
    ``preprocess``  JSON string {"mean": [...], "std": [...]} (each of length n_inputs) or "null"
    ``layer{i}.W``, ``layer{i}.b``, …  each layer i's parameters (0-based, spec order): a dense
                    layer's W (units, inputs) and b, a conv2d layer's W (filters, kernel_h, kernel_w,
                    in_channels) and b, a batchnorm layer's gamma and beta
    ``layer{i}.running_mean``, ``layer{i}.running_var``  a layer's state (BatchNorm's running
                    statistics); a file without them (written before layers kept state) loads with
                    the initial state
    ``seed``        optional: 0-d integer, the network's seed (its Dropout generators); 0 when absent
An Epoch Lab session file (``.epochlab``, core.epochlab) holds these keys too, beside its own
(it has a ``format_version``): :func:`load_model` reads its network and ignores the rest.
Data file: ``X`` (m, n) numbers and ``y`` (m,) integer labels or (m,)/(m, t) float targets.

A model file is checked whole before a Network is returned: the spec against the schema
(core.schema), every parameter array for a real-number dtype, the spec's shape and finite
values (also after the cast to the backend's dtype), no array the spec has no place for,
and the preprocess for one finite mean and one positive std per input.

Every write goes to a temporary file beside the target first and is renamed into place, so
a crash never leaves a half-written file; the temporary file is removed on any failure or
interrupt. A symlink is written through (its target file is replaced, the link stays); a
folder, device, named pipe or socket is never written. Problems raise
:class:`FileFormatError` naming the file.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import secrets
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .backend import Backend
from .data import DataError, Dataset, make_dataset
from .layers import SpecError
from .limits import ResourceError, require_regular_file, special_file_kind
from .network import Network, Preprocess
from .npz_members import READ_ERRORS, read_member, reason
from .schema import validate_network_spec

TEMPORARY_NAME_TRIES = 100
TEMPORARY_STEM_BYTES = 200  # of the target's name kept in its temporary file's name
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive's first entry, or an empty archive
NPY_SIGNATURE = b"\x93NUMPY"
PICKLE_SIGNATURE = b"\x80"  # the PROTO opcode that starts every pickle of protocol 2 or later
MODEL_JSON_KEYS = ("spec", "preprocess")
SEED_KEY = "seed"
SESSION_KEY = "format_version"  # the member that makes an .npz an Epoch Lab session file (core.epochlab)


class FileFormatError(ValueError):
    """A file that cannot be read or written as asked; the message names the file."""


# ----- writing --------------------------------------------------------------------------------
def output_target(path: str | os.PathLike) -> Path:
    """The file a write to ``path`` replaces: ``path``, or for a symlink the file it finally
    points to (which may not exist yet), so that the link stays a link.

    Raises FileFormatError for an empty path, and when the target is a folder, a device
    (``/dev/null`` too), a named pipe or a socket: renaming a new file over it would replace
    the device itself, and writing into it would lose what was written.
    """
    text = os.fspath(path)
    if not text:
        raise FileFormatError("an empty path was given where a file name is needed")
    if text.endswith(("/", os.sep)):
        raise FileFormatError(f"{text}: names a folder (it ends with '/'); give a file name")
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):  # a new file (check_writable names a missing folder)
        return target
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot write there ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise FileFormatError(f"{path}: is a folder; give a file name")
    if not stat.S_ISREG(mode):
        raise FileFormatError(f"{path}: is {special_file_kind(mode)}, not a regular file; only regular files are written "
                              "(replacing it would remove the device, writing into it would lose the file)")
    return target


def check_writable(path: str | os.PathLike) -> Path:
    """Before any work is done: the file a write to ``path`` would replace (see
    :func:`output_target`), once its folder is known to exist and to take a new file (a
    temporary file is created there and removed). FileFormatError naming ``path`` otherwise."""
    target = output_target(path)
    folder = target.parent
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise FileFormatError(f"{path}: the folder {folder} {problem}")
    try:
        fd, probe = _create_beside(target)
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot write in the folder {folder} ({exc.strerror})") from None
    os.close(fd)
    probe.unlink()
    return target


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None], mode: str = "wb") -> None:
    """Call ``write(file)`` on a temporary file beside the target of ``path`` (see
    :func:`output_target`), then rename it over the target; on any failure or interrupt the
    temporary file is removed and the old file, if any, stays as it was.

    The file gets the permissions a plain ``open(path, "w")`` would give it: those of the
    file it replaces, or for a new file 0o666 less the umask (applied by the system).
    """
    target = output_target(path)
    try:
        fd, tmp = _create_beside(target)
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot write there ({exc.strerror})") from None
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as f:
            write(f)
        _keep_permissions(target, tmp)
        os.replace(tmp, target)
    except OSError as exc:  # a full disk, a quota, the folder gone
        tmp.unlink(missing_ok=True)
        raise FileFormatError(f"{path}: could not be written ({exc.strerror or exc})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _create_beside(path: Path) -> tuple[int, Path]:
    """Create a new, empty temporary file in ``path``'s folder, as ``open()`` would create a
    file (mode 0o666 less the umask, unlike ``tempfile.mkstemp``'s private 0o600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    stem = path.name.encode()[:TEMPORARY_STEM_BYTES].decode(errors="ignore")  # room for the suffix in a 255-byte name
    for _ in range(TEMPORARY_NAME_TRIES):
        tmp = path.with_name(f".{stem}.{secrets.token_hex(4)}.tmp")
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


def model_arrays(network: Network) -> dict[str, np.ndarray]:
    """The members of a model file for ``network``: ``spec``, ``preprocess`` (0-d JSON strings)
    and every layer's host parameters and state ``layer{i}.{name}``."""
    arrays: dict[str, np.ndarray] = {
        "spec": np.array(json.dumps(network.spec())),
        "preprocess": np.array(json.dumps(network.preprocess.to_json() if network.preprocess else None)),
    }
    for i, (params, state) in enumerate(zip(network.parameters_by_layer(), network.state_by_layer(), strict=True)):
        for name, value in (params | state).items():
            arrays[f"layer{i}.{name}"] = value
    return arrays


def save_model(path: str | os.PathLike, network: Network) -> None:
    """Write ``network`` (spec, preprocess, parameters) to the model file ``path``."""
    arrays = model_arrays(network)
    atomic_write(path, lambda f: np.savez(f, allow_pickle=False, **arrays))


# ----- reading --------------------------------------------------------------------------------
def _require_npz(path: str | os.PathLike) -> None:
    """Refuse, before NumPy opens it, a file that is not a zip archive (.npz), saying what it
    is: NumPy's own message for a pickle invites loading it "unsafely", and it reads a .npy whole."""
    try:
        with open(require_regular_file(path), "rb") as f:
            start = f.read(len(NPY_SIGNATURE))
    except (FileNotFoundError, IsADirectoryError):
        return  # _open_npz names these
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot be read ({exc.strerror})") from None
    if start.startswith(ZIP_SIGNATURES):
        return
    if start.startswith(NPY_SIGNATURE):  # never handed to np.load, which would read it whole
        raise FileFormatError(f"{path}: holds a single array (a .npy file), not named arrays in a .npz file "
                              "(save with np.savez(path, X=X, y=y))")
    if not start:
        raise FileFormatError(f"{path}: is empty, not a .npz file")
    if start.startswith(PICKLE_SIGNATURE):
        raise FileFormatError(f"{path}: holds pickled Python objects, which are never unpickled; a .npz file of arrays is needed")
    raise FileFormatError(f"{path}: is not a .npz file (a zip archive of .npy arrays)")


def _open_npz(path: str | os.PathLike) -> Any:
    _require_npz(path)
    try:
        npz = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileFormatError(f"{path}: is a folder, not a .npz file") from None
    except READ_ERRORS as exc:
        raise FileFormatError(f"{path}: not a readable .npz file ({reason(exc)})") from None
    return npz


def _read_array(npz: Any, key: str, path: Any, float64_copy: bool = False) -> np.ndarray:
    """Array ``key`` of ``npz``, read only after its header and size are checked (see
    core.npz_members.read_member; ``float64_copy``: the caller makes a float64 copy)."""
    return read_member(npz, key, path, float64_copy=float64_copy)


def read_json_member(npz: Any, key: str, path: Any, owner: str = "the model's") -> Any:
    """The JSON value held, as one 0-d string, by the array ``key`` (``owner`` starts the
    messages: "the model's spec is not valid JSON")."""
    text = _read_array(npz, key, path)
    if text.shape != () or text.dtype.kind != "U":
        raise FileFormatError(f"{path}: array '{key}' must be one JSON string, got {text.dtype} of shape {text.shape}")
    try:
        return json.loads(str(text))
    except RecursionError:
        raise FileFormatError(f"{path}: {owner} {key} is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{path}: {owner} {key} is not valid JSON ({exc})") from None
    except ValueError:  # Python refuses to convert integers of more than 4300 digits
        raise FileFormatError(f"{path}: {owner} {key} holds a number too long to read") from None


def _read_seed(npz: Any, path: Any) -> int:
    """The network seed a model file may hold (``seed``: a 0-d whole number ≥ 0); 0 without one."""
    if SEED_KEY not in npz.files:
        return 0
    seed = _read_array(npz, SEED_KEY, path)
    if seed.shape != () or seed.dtype.kind not in "iu" or int(seed) < 0:
        raise FileFormatError(f"{path}: array '{SEED_KEY}' must be one whole number ≥ 0, got {seed.dtype} of shape {seed.shape}")
    return int(seed)


def _read_parameter(npz: Any, key: str, path: Any, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """The array ``key`` if it holds ``shape`` real numbers, all finite in ``dtype`` too."""
    values = _read_array(npz, key, path)
    if values.dtype.kind not in "iuf":
        raise FileFormatError(f"{path}: array '{key}' must hold real numbers, got {values.dtype}")
    if values.shape != shape:
        raise FileFormatError(f"{path}: array '{key}' has shape {values.shape}, but the spec needs {shape}")
    if not np.isfinite(values).all():
        bad = int(values.size - np.isfinite(values).sum())
        raise FileFormatError(f"{path}: array '{key}' holds {bad} NaN or infinite value(s); weights must be finite numbers")
    with np.errstate(over="ignore"):
        if not np.isfinite(values.astype(dtype)).all():
            raise FileFormatError(f"{path}: array '{key}' holds values up to {float(np.abs(values).max()):.3g}, "
                                  f"beyond the range of {np.dtype(dtype).name}")
    return values


def _preprocess(data: Any, n_inputs: int, path: Any) -> Preprocess | None:
    """The standardization a model file's ``preprocess`` JSON describes (None for null):
    ``mean`` and ``std`` must each list ``n_inputs`` finite numbers, every std above 0."""
    if data is None:
        return None
    if not isinstance(data, dict) or set(data) != {"mean", "std"}:
        shown = json.dumps(data)[:80]
        raise FileFormatError(f'{path}: preprocess must be null or {{"mean": [...], "std": [...]}}, got {shown}')
    columns = {}
    for key, values in data.items():
        if not isinstance(values, list) or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            raise FileFormatError(f"{path}: preprocess.{key} must be a list of numbers")
        if len(values) != n_inputs:
            raise FileFormatError(f"{path}: preprocess.{key} has {len(values)} values but the network takes {n_inputs} inputs")
        columns[key] = np.array(values, dtype=np.float64)
        if not np.isfinite(columns[key]).all():
            raise FileFormatError(f"{path}: preprocess.{key} holds NaN or infinite values")
    if (columns["std"] <= 0).any():
        raise FileFormatError(f"{path}: preprocess.std must be above 0, got {float(columns['std'].min()):g}")
    return Preprocess(columns["mean"], columns["std"])


def load_model(path: str | os.PathLike, backend: Backend | None = None) -> Network:
    """Read a model file written by :func:`save_model` (or the current network of an Epoch Lab
    session file) into a new Network on ``backend``, with the file's seed when it has one."""
    with _open_npz(path) as npz:
        spec = read_json_member(npz, "spec", path)
        if SESSION_KEY in npz.files:  # a session file always holds them: one without is damaged
            missing = [key for key in (*MODEL_JSON_KEYS, SEED_KEY) if key not in npz.files]
            if missing:
                raise FileFormatError(f"{path}: is incomplete: it has no {', '.join(missing)} part")
        pre = read_json_member(npz, "preprocess", path) if "preprocess" in npz.files else None
        seed = _read_seed(npz, path)
        try:
            validate_network_spec(spec, where="spec")
        except SpecError as exc:  # core.schema.SchemaError: the message starts with the key path, "spec.…"
            raise FileFormatError(f"{path}: {exc}") from None
        try:
            network = Network(spec, backend, seed=seed)
        except SpecError as exc:
            raise FileFormatError(f"{path}: the model spec is invalid: {exc}") from None
        except ResourceError as exc:
            raise ResourceError(f"{path}: {exc}") from None
        names = [(i, name, f"layer{i}.{name}") for i, layer in enumerate(network.layers) for name in layer.params]
        state_names = [(i, name, f"layer{i}.{name}") for i, layer in enumerate(network.layers) for name in layer.state]
        unused = sorted(set(npz.files) - {key for *_, key in names + state_names} - {*MODEL_JSON_KEYS, SEED_KEY})
        if unused and SESSION_KEY not in npz.files:  # a session file's other members are its own
            raise FileFormatError(f"{path}: holds arrays the spec has no place for: {', '.join(unused)}")
        values: list[dict[str, np.ndarray]] = [{} for _ in network.layers]
        for i, name, key in names:
            shape = network.layers[i].params[name].shape
            values[i][name] = _read_parameter(npz, key, path, shape, network.backend.dtype)
        state = _read_state(npz, path, network, state_names)
    n_inputs = int(np.prod(network.input_shape))
    network.preprocess = _preprocess(pre, n_inputs, path)
    network.set_parameters(values)
    network.set_state(state)
    return network


def _read_state(npz: Any, path: str | os.PathLike, network: Network, names: list[tuple[int, str, str]]) -> list[dict[str, np.ndarray]]:
    """Every layer's state (BatchNorm's running statistics) from ``layer{i}.{name}``: all of it,
    or none (a file written before the layers kept state: the initial state)."""
    present = [key for *_, key in names if key in npz.files]
    values = network.state_by_layer()
    if not present:
        return values
    if len(present) < len(names):
        missing = [key for *_, key in names if key not in npz.files]
        raise FileFormatError(f"{path}: is incomplete: it has {', '.join(present)} but no {', '.join(missing)}")
    for i, name, key in names:
        values[i][name] = _read_parameter(npz, key, path, network.layers[i].state[name].shape, network.backend.dtype)
    for i, (layer, given) in enumerate(zip(network.layers, values, strict=True)):
        problem = layer.state_problem(given) if given else None
        if problem:
            raise FileFormatError(f"{path}: layer {i + 1} ({layer.describe()}): {problem}")
    return values


def load_data_npz(path: str | os.PathLike, task: str | None = None) -> Dataset:
    """Read a data file with arrays ``X`` and ``y`` (never unpickled) as a Dataset."""
    with _open_npz(path) as npz:
        X, y = _read_array(npz, "X", path, float64_copy=True), _read_array(npz, "y", path, float64_copy=True)
    try:
        return make_dataset(X, y, name=Path(path).stem, task=task)
    except DataError as exc:
        raise FileFormatError(f"{path}: {exc}") from None


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
