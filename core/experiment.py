"""Experiments: which data, which network, which training settings, as one JSON object.

Format (the CLI's ``--config`` and the window's Save/Open use the same)::

    {"dataset":  {"name": "spiral", "samples": 500, "noise": 0.1, "seed": 0}
                 or {"path": "data.npz", ...FILE_OPTIONS},
     "network":  {"input_shape": [2], "layers": [...]},     # see core.network; {}: from the data
     "training": {"optimizer": "adam", "learning_rate": 0.01, ...}}  # see TrainingConfig

Its declared schema is core.schema: every experiment, and every dataset object handed to
:func:`load_dataset`, is checked there (types, known keys, ranges) before anything is
loaded or built. A file is read only when it is a regular file of at most
MAX_EXPERIMENT_BYTES of UTF-8 JSON.

The short layer syntax of the CLI, ``"8:tanh,8:relu:he_normal,dropout:0.2"``, becomes
hidden layer specs; the output layer always follows from the data (:func:`network_spec`).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .data import DataError, Dataset, suggested_head
from .files import FileFormatError, atomic_write
from .layers import SpecError
from .limits import ResourceError, format_bytes, require_regular_file
from .loaders import LoadOptions, ProgressCallback, ReadImage, load_file, parse_image_size
from .realdata import load_real
from .schema import quote, validate_dataset, validate_experiment
from .synthetic import SYNTHETIC, synthetic
from .trainer import ConfigError, TrainingConfig

FILE_OPTIONS = ("target", "roles", "types", "task", "missing", "scale", "header", "delimiter", "decimal", "encoding",
                "labels", "image_size", "grey")
MAX_EXPERIMENT_BYTES = 16 << 20  # an experiment is a few KiB of JSON
MAX_INT_DIGITS = 4300  # Python's own limit for reading a whole number from text


def parse_layers(text: str) -> list[dict]:
    """Hidden layer specs from ``"UNITS:ACTIVATION[:INITIALIZER]"`` or ``"dropout:RATE"``
    items separated by commas; ``""`` or ``"none"`` means no hidden layer."""
    text = text.strip()
    if text.lower() in ("", "none"):
        return []
    layers = []
    for item in text.split(","):
        parts = [p.strip() for p in item.split(":")]
        if parts[0].lower() == "dropout":
            try:
                layers.append({"type": "dropout", "rate": float(parts[1])})
            except (IndexError, ValueError):
                raise SpecError(f"bad layer {item!r}: write dropout:RATE, e.g. dropout:0.2") from None
            continue
        if not parts[0].isdigit() or len(parts) > 3:
            raise SpecError(f"bad layer {item!r}: write UNITS:ACTIVATION[:INITIALIZER], e.g. 8:tanh")
        layer = {"type": "dense", "units": int(parts[0]), "activation": parts[1] if len(parts) > 1 else "relu"}
        if len(parts) == 3:
            layer["initializer"] = parts[2]
        layers.append(layer)
    return layers


def network_spec(dataset: Dataset, hidden: list[dict], output_activation: str | None = None) -> dict:
    """The full network spec: the data's inputs, ``hidden`` layers, and the output layer the
    task suggests (its activation replaced by ``output_activation`` when given)."""
    head, _ = suggested_head(dataset.task, dataset.n_outputs)
    if output_activation:
        head = {**head, "activation": output_activation}
    return {"input_shape": [dataset.n_features], "layers": [*hidden, head]}


def dataset_options(choice: object, base: str | os.PathLike = ".") -> LoadOptions:
    """The loader options a file ``choice`` sets, once the schema has checked it: any of
    FILE_OPTIONS (see LoadOptions); ``task`` "classes" means classification; ``labels`` is
    relative to ``base``; ``image_size`` is [height, width] or "HxW"."""
    return _load_options(validate_dataset(choice), base)


def _load_options(choice: dict, base: str | os.PathLike) -> LoadOptions:
    given = {key: choice[key] for key in FILE_OPTIONS if choice.get(key) is not None}
    if given.get("task") == "classes":
        given["task"] = "classification"
    if "labels" in given:
        given["labels"] = Path(base) / given["labels"]
    if isinstance(given.get("image_size"), str):
        given["image_size"] = parse_image_size(given["image_size"])
    elif "image_size" in given:
        given["image_size"] = tuple(given["image_size"])
    return LoadOptions(**given)


def load_dataset(choice: object, base: str | os.PathLike = ".", *, read_image: ReadImage | None = None,
                 progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> Dataset:
    """The dataset an experiment's ``dataset`` object names, once the schema has checked it:
    a synthetic or real built-in (see core.synthetic, core.realdata), or a data file or
    image folder of any format core.loaders reads (``path`` relative to ``base``).
    ``read_image`` decodes images of an image folder; ``progress`` and ``cancel`` are
    passed to the loader."""
    choice = validate_dataset(choice)
    if "path" in choice:
        return load_file(Path(base) / choice["path"], _load_options(choice, base), read_image=read_image,
                         progress=progress, cancel=cancel)
    name = choice["name"]
    if name in SYNTHETIC:
        try:
            return synthetic(name, choice.get("samples"), choice.get("noise"), choice.get("seed", 0))
        except ValueError as exc:  # what the generator refuses (e.g. more samples than memory holds)
            raise ConfigError(f"dataset {name}: {exc}") from None
    try:
        return load_real(name, missing=choice.get("missing", "drop"), scale=choice.get("scale", "none"),
                         progress=progress, cancel=cancel)
    except DataError as exc:
        raise ConfigError(f"dataset {name}: {exc}") from None


@dataclass
class Experiment:
    """One experiment: the dataset object, the network spec and the training settings."""

    dataset: dict
    network: dict
    training: TrainingConfig = field(default_factory=TrainingConfig)

    def to_json(self) -> dict:
        return {"dataset": self.dataset, "network": self.network, "training": self.training.to_json()}

    @classmethod
    def from_json(cls, data: object) -> Experiment:
        """The experiment parsed JSON ``data`` describes; SchemaError (a ConfigError) naming
        the key path when it does not fit the schema."""
        valid = validate_experiment(data)
        return cls(valid["dataset"], valid["network"], TrainingConfig(**valid.get("training", {})))

    def save(self, path: str | os.PathLike) -> None:
        """Write the experiment as indented JSON, atomically."""
        text = json.dumps(self.to_json(), indent=2)
        atomic_write(path, lambda f: f.write(text), mode="w")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Experiment:
        """Read the experiment file ``path``; FileFormatError naming the file (and the key
        path) for anything wrong with it."""
        data = _read_json(path)
        try:
            return cls.from_json(data)
        except ConfigError as exc:
            raise FileFormatError(f"{path}: {exc}") from None


def _read_json(path: str | os.PathLike) -> object:
    """The JSON value in the file ``path``: a regular file (never a pipe or a device) of at
    most MAX_EXPERIMENT_BYTES of UTF-8 text; FileFormatError naming the file otherwise."""
    try:
        with require_regular_file(path).open("rb") as f:
            raw = f.read(MAX_EXPERIMENT_BYTES + 1)
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileFormatError(f"{path}: is a folder, not an experiment file") from None
    except ResourceError as exc:
        raise FileFormatError(str(exc)) from None
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_EXPERIMENT_BYTES:
        raise FileFormatError(f"{path}: larger than {format_bytes(MAX_EXPERIMENT_BYTES)}; an experiment file is a few KiB of JSON")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                              "an experiment file is UTF-8 JSON") from None
    try:
        return json.loads(text, object_pairs_hook=_object_without_repeats, parse_int=_whole_number)
    except json.JSONDecodeError as exc:
        raise FileFormatError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise FileFormatError(f"{path}: JSON nested too deeply to read; an experiment nests 4 levels") from None
    except ValueError as exc:  # from the two hooks
        raise FileFormatError(f"{path}: not valid JSON ({exc})") from None


def _object_without_repeats(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object as a dict; ValueError for a key given twice (which one would count?)."""
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise ValueError(f"the key {quote(key)} appears twice in one object")
        seen.add(key)
    return dict(pairs)


def _whole_number(text: str) -> int:
    """A JSON integer; ValueError past MAX_INT_DIGITS digits (Python's own message talks of sys)."""
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"a whole number of {len(text.lstrip('-'))} digits")
    return int(text)


def default_experiment() -> Experiment:
    """The experiment the window opens with: two-class spiral, two tanh layers of 8."""
    dataset = {"name": "spiral", "samples": 500, "noise": 0.1, "seed": 0}
    data = load_dataset(dataset)
    hidden = [{"type": "dense", "units": 8, "activation": "tanh", "initializer": "glorot_uniform"} for _ in range(2)]
    return Experiment(dataset, network_spec(data, hidden), TrainingConfig(learning_rate=0.03, batch_size=16, epochs=300))
