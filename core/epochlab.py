"""Epoch Lab session files (``.epochlab``): an experiment with every run of its session, the
current trainer state, the window's view state and the current weights, in one file.

The file is a zip archive that ``numpy.load(path, allow_pickle=False)`` reads (an ``.npz``):

    ``format_version``  0-d string, JSON: the whole number FORMAT_VERSION
    ``experiment``      0-d string, JSON: the experiment (core.experiment; relative data paths
                        start at the file's folder)
    ``session``         0-d string, JSON: the runs (core.run_files: names, experiments, markers,
                        parents, record totals, checkpoint epochs)
    ``state``           0-d string, JSON: the current TrainerState's JSON part, or null
    ``window``          0-d string, JSON object: what the window keeps of its views
    ``data_fingerprint``  0-d string, JSON: :func:`dataset_fingerprint` of the experiment's data
                        when it was saved, or null (optional: older files have none)
    ``state.{name}``    the current TrainerState's arrays (``params``, ``optimizer.m``, …)
    ``run{id}.record``, ``run{id}.checkpoint{epoch}.{name}``  each run's record and checkpoints
    ``spec``, ``preprocess``, ``layer{i}.W``, ``layer{i}.b``, …, ``seed``  the current network,
                        as a model file holds it (core.files): ``predict`` and ``train --init``
                        read an .epochlab as a model

Reading checks before it uses anything, and raises FileFormatError (one line naming the
file) for a file that is not a regular zip archive, a damaged or truncated one (every
member's CRC is checked, every size before it is read), a missing part, a part of the
wrong type or shape, or a newer format_version. Nothing is ever unpickled. Writing is atomic
(core.files.atomic_write): a crash or a kill while saving leaves the old file whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .backend import Backend
from .data import Dataset
from .experiment import Experiment, load_dataset
from .files import (
    MODEL_JSON_KEYS,
    SEED_KEY,
    SESSION_KEY,
    ZIP_SIGNATURES,
    FileFormatError,
    _open_npz,
    atomic_write,
    load_model,
    model_arrays,
    read_json_member,
)
from .limits import check_allocation
from .loaders import ReadImage
from .network import Network
from .npz_members import NPY_SUFFIX, READ_ERRORS, read_member, reason
from .run import Session
from .run_files import prefixed, session_from_parts, session_parts, state_from_parts
from .trainer_state import TrainerState

FORMAT_VERSION = 1
SUFFIX = ".epochlab"
JSON_PARTS = (SESSION_KEY, "experiment", "session", "state", "window")
FINGERPRINT_KEY = "data_fingerprint"
FINGERPRINT_DIGITS = 64  # SHA-256 in hex
STATE_PREFIX = "state."
PATH_KEYS = ("path", "labels")  # the keys of a dataset object that name files relative to the experiment's folder
OWNER = "the session file's"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # every member's date (zip's earliest): the same session gives the same bytes


@dataclass(eq=False)
class SessionFile:
    """What an .epochlab holds besides the current weights: the ``experiment`` now in the
    window, the ``session`` of runs, the current full trainer ``state`` (None before any
    training; it may be inside an epoch), the ``window``'s own JSON view state and the
    ``data_fingerprint`` (:func:`dataset_fingerprint`) of the experiment's data, or None."""

    experiment: Experiment
    session: Session
    state: TrainerState | None = None
    window: dict = field(default_factory=dict)
    data_fingerprint: str | None = None


def dataset_fingerprint(dataset: Dataset) -> str:
    """The SHA-256 (hex) of ``dataset``'s X (m, n) and y: their shapes, dtypes and bytes; what a
    session file keeps to tell, when it continues, whether its data file has changed."""
    digest = hashlib.sha256()
    for array in (np.ascontiguousarray(dataset.X), np.ascontiguousarray(dataset.y)):
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()


def is_session_path(path: str | os.PathLike) -> bool:
    """Whether ``path`` names an Epoch Lab session file (by its suffix)."""
    return Path(path).suffix.lower() == SUFFIX


# ----- writing --------------------------------------------------------------------------------
def save_session(path: str | os.PathLike, session_file: SessionFile, network: Network,
                 data_folder: str | os.PathLike | None = None) -> None:
    """Write ``session_file`` and ``network``'s current weights to ``path``, atomically.

    ``data_folder``: the folder the experiments' relative data paths start from now (None:
    the file's own folder); they are written relative to the file's folder.
    """
    write_members(path, session_members(path, session_file, network, data_folder))


def session_members(path: str | os.PathLike, session_file: SessionFile, network: Network,
                    data_folder: str | os.PathLike | None = None) -> dict[str, np.ndarray]:
    """The members of the session file ``path`` (see :func:`save_session`), taken at once: the
    trainer states' arrays are read-only copies, the records and weights copied here, so that
    :func:`write_members` can write them on another thread while training goes on."""
    target_folder = Path(os.path.abspath(path)).parent
    source_folder = target_folder if data_folder is None else Path(os.path.abspath(data_folder))
    session_meta, arrays = session_parts(session_file.session)
    for run in session_meta["runs"]:
        run["experiment"] = rebased_experiment(run["experiment"], source_folder, target_folder)
    state_meta = None
    if session_file.state is not None:
        state_meta, state_arrays = session_file.state.to_parts()
        arrays.update(prefixed(state_arrays, STATE_PREFIX))
    experiment = rebased_experiment(session_file.experiment.to_json(), source_folder, target_folder)
    parts = {SESSION_KEY: FORMAT_VERSION, "experiment": experiment, "session": session_meta, "state": state_meta,
             "window": session_file.window, FINGERPRINT_KEY: session_file.data_fingerprint}
    arrays.update({key: _json_array(value, key, path) for key, value in parts.items()})
    arrays.update(model_arrays(network))
    arrays[SEED_KEY] = np.array(network.seed, dtype=np.int64)
    return arrays


def write_members(path: str | os.PathLike, members: dict[str, np.ndarray]) -> None:
    """Write what :func:`session_members` gave to ``path``, atomically (any thread)."""
    atomic_write(path, lambda f: _write_npz(f, members))


def _write_npz(f: Any, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to the open binary file ``f`` as ``np.savez`` does, the text members
    (JSON, four bytes a character) deflated and the numbers stored as they are: compressing
    weights saves little and takes long."""
    with zipfile.ZipFile(f, "w", allowZip64=True) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(name + NPY_SUFFIX, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED if array.dtype.kind == "U" else zipfile.ZIP_STORED
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _json_array(value: Any, key: str, path: str | os.PathLike) -> np.ndarray:
    """``value`` as a 0-d string of strict JSON (no NaN or infinity)."""
    try:
        return np.array(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise FileFormatError(f"{path}: the session's {key} cannot be written as JSON ({exc})") from None


def rebased_experiment(experiment: dict, source: Path, target: Path) -> dict:
    """``experiment`` (JSON) with its dataset's relative file paths, which start at ``source``,
    rewritten to start at ``target`` with '/' between folders (a file that opens on any system;
    absolute paths, and paths on another drive, stay)."""
    dataset = experiment.get("dataset")
    if source == target or not isinstance(dataset, dict):
        return experiment
    moved = dict(dataset)
    for key in PATH_KEYS:
        value = dataset.get(key)
        if isinstance(value, str) and value and not os.path.isabs(value):
            try:
                moved[key] = Path(os.path.relpath(os.path.abspath(source / value), target)).as_posix()
            except ValueError:  # another drive (Windows): no relative path leads there
                moved[key] = os.path.abspath(source / value)
    return {**experiment, "dataset": moved}


# ----- reading --------------------------------------------------------------------------------
def load_session(path: str | os.PathLike) -> SessionFile:
    """Read the session file ``path`` (see the module docstring); FileFormatError naming the file."""
    with _open_session(path) as npz:
        _check_format(npz, path)
        _check_members(npz, path)
        names = set(npz.files)

        def read(name: str) -> np.ndarray:
            return read_member(npz, name, path)

        try:
            meta = {key: read_json_member(npz, key, path, OWNER) for key in JSON_PARTS[1:]}
            experiment = Experiment.from_json(meta["experiment"])
        except FileFormatError:
            raise
        except ValueError as exc:  # the schema names the key path
            raise FileFormatError(f"{path}: experiment.{exc}") from None
        try:
            session = session_from_parts(meta["session"], read, names)
            state = None
            if meta["state"] is not None:
                state = state_from_parts(meta["state"], read, names, STATE_PREFIX, "state")
        except FileFormatError:
            raise
        except ValueError as exc:
            raise FileFormatError(f"{path}: {exc}") from None
        except OverflowError as exc:  # a number too large for a float or a generator's integers
            raise FileFormatError(f"{path}: holds a number out of range ({exc})") from None
        _check_window(meta["window"], path)
        fingerprint = read_json_member(npz, FINGERPRINT_KEY, path, OWNER) if FINGERPRINT_KEY in names else None
        if not (fingerprint is None or (isinstance(fingerprint, str) and len(fingerprint) == FINGERPRINT_DIGITS)):
            raise FileFormatError(f"{path}: its {FINGERPRINT_KEY} must be {FINGERPRINT_DIGITS} hex digits or null")
        _check_current_state(session, state, path)
    return SessionFile(experiment, session, state, meta["window"], fingerprint)


def _check_window(window: object, path: str | os.PathLike) -> None:
    """The window part must be a JSON object that saving can write again (no NaN or infinity)."""
    if not isinstance(window, dict):
        raise FileFormatError(f"{path}: the window part must be a JSON object, got {type(window).__name__}")
    try:
        json.dumps(window, allow_nan=False)
    except ValueError:
        raise FileFormatError(f"{path}: the window part holds NaN or an infinite number") from None


def _check_current_state(session: Session, state: TrainerState | None, path: str | os.PathLike) -> None:
    """The trainer state must be where the current run's record ends (its epoch, or inside the next one)."""
    run = session.current
    if state is not None and run is not None and state.epoch != run.epochs:
        raise FileFormatError(f"{path}: its trainer state is at epoch {state.epoch}, but its current run "
                              f"({run.name}) has recorded {run.epochs}")


def _open_session(path: str | os.PathLike) -> Any:
    """The open NpzFile of ``path``; a zip archive that cannot be opened is called damaged or truncated."""
    try:
        return _open_npz(path)
    except FileFormatError as exc:
        try:
            with open(path, "rb") as f:
                zipped = f.read(len(ZIP_SIGNATURES[0])) in ZIP_SIGNATURES
        except OSError:
            zipped = False
        if zipped:
            raise FileFormatError(f"{path}: is damaged or truncated: it starts as a zip archive, but its table of "
                                  "contents cannot be read") from None
        raise exc


def _check_format(npz: Any, path: str | os.PathLike) -> None:
    """Refuse a file that is not a session file, or one of a newer format than this one reads."""
    if SESSION_KEY not in npz.files:
        raise FileFormatError(f"{path}: is not an Epoch Lab session file (it has no {SESSION_KEY}; a model or data file?)")
    version = read_json_member(npz, SESSION_KEY, path, OWNER)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise FileFormatError(f"{path}: its {SESSION_KEY} must be a whole number ≥ 1, got {version!r}")
    if version > FORMAT_VERSION:
        raise FileFormatError(f"{path}: written by a newer Epoch Lab (file format {version}; this one reads {FORMAT_VERSION})")


def _check_members(npz: Any, path: str | os.PathLike) -> None:
    """Refuse, before any part is used: a file that would decompress to more than memory
    allows, a member whose bytes do not match its CRC (damaged or truncated), a member named
    twice (which one counts would be a guess), a missing part (the model members too)."""
    infos = npz.zip.infolist()
    names = [info.filename for info in infos]
    twice = sorted({name for name in names if names.count(name) > 1}) if len(set(names)) != len(names) else []
    if twice:
        raise FileFormatError(f"{path}: is damaged: it holds the member {twice[0]} more than once")
    check_allocation(f"{path}: the session file (decompressed)", sum(info.file_size for info in infos))
    try:
        damaged = npz.zip.testzip()
    except READ_ERRORS as exc:
        raise FileFormatError(f"{path}: is damaged or truncated ({reason(exc)})") from None
    if damaged is not None:
        raise FileFormatError(f"{path}: is damaged: its member {damaged} does not match its checksum")
    missing = [key for key in (*JSON_PARTS, *MODEL_JSON_KEYS, SEED_KEY) if key not in npz.files]
    if missing:
        raise FileFormatError(f"{path}: is incomplete: it has no {', '.join(missing)} part")


def load_network(path: str | os.PathLike, backend: Backend | None = None) -> Network:
    """The current network of the session file ``path`` (its weights, standardization and seed) on ``backend``."""
    return load_model(path, backend)


def data_folder(path: str | os.PathLike) -> Path:
    """The folder the relative data paths of the session file ``path`` start from."""
    return Path(os.path.abspath(path)).parent


def load_session_dataset(path: str | os.PathLike, session_file: SessionFile, *, read_image: ReadImage | None = None) -> Dataset:
    """The dataset of ``session_file``'s experiment, read from the session file ``path``: its
    data file relative to the file's folder; FileFormatError when that file is gone or its data
    is not the data the session was saved with (its fingerprint)."""
    choice, base = session_file.experiment.dataset, data_folder(path)
    name = choice.get("path")
    if isinstance(name, str) and not (base / name).exists():
        raise FileFormatError(f"{path}: the data file {name} is not there any more (looked for {base / name}); "
                              "put it back there, or open the data again and save the session")
    dataset = load_dataset(choice, base, read_image=read_image)
    if session_file.data_fingerprint is not None and dataset_fingerprint(dataset) != session_file.data_fingerprint:
        raise FileFormatError(f"{path}: its data file {name or choice.get('name')} has changed since the session was saved; "
                              "put the data it was trained on back, or open the new data and start a new run")
    return dataset
