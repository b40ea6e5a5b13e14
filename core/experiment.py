"""Experiments: which data, which network, which training settings, as one JSON object.

Schema (the CLI's ``--config`` and the window's Save/Open use the same)::

    {"dataset":  {"name": "spiral", "samples": 500, "noise": 0.1, "seed": 0}
                 or {"path": "data.npz"},
     "network":  {"input_shape": [2], "layers": [...]},     # see core.network
     "training": {"optimizer": "adam", "learning_rate": 0.01, ...}}  # see TrainingConfig

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
from .loaders import LoadOptions, ProgressCallback, ReadImage, load_file, parse_image_size
from .realdata import REAL_DATASETS, load_real
from .synthetic import SYNTHETIC, synthetic
from .trainer import ConfigError, TrainingConfig

FILE_OPTIONS = ("target", "roles", "types", "task", "missing", "scale", "header", "delimiter", "decimal", "encoding",
                "labels", "image_size", "grey")


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


def dataset_options(choice: dict, base: str | os.PathLike = ".") -> LoadOptions:
    """The loader options a file ``choice`` sets: any of FILE_OPTIONS (see LoadOptions);
    ``task`` "classes" means classification; ``labels`` is relative to ``base``;
    ``image_size`` is [height, width] or "HxW"."""
    given = {key: choice[key] for key in FILE_OPTIONS if choice.get(key) is not None}
    if given.get("task") == "classes":
        given["task"] = "classification"
    if "labels" in given:
        given["labels"] = Path(base) / given["labels"]
    if isinstance(given.get("image_size"), str):
        given["image_size"] = parse_image_size(given["image_size"])
    elif "image_size" in given:
        given["image_size"] = tuple(given["image_size"])
    try:
        return LoadOptions(**given)
    except TypeError as exc:
        raise ConfigError(f"dataset options: {exc}") from None


def load_dataset(choice: dict, base: str | os.PathLike = ".", *, read_image: ReadImage | None = None,
                 progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> Dataset:
    """The dataset an experiment's ``dataset`` object names: a synthetic or real built-in
    (see core.synthetic, core.realdata), or a data file or image folder of any format
    core.loaders reads (``path`` relative to ``base``). ``read_image`` decodes images of
    an image folder; ``progress`` and ``cancel`` are passed to the loader."""
    if "path" in choice:
        return load_file(Path(base) / choice["path"], dataset_options(choice, base), read_image=read_image,
                         progress=progress, cancel=cancel)
    name = choice.get("name")
    if name in SYNTHETIC:
        try:
            return synthetic(name, choice.get("samples"), choice.get("noise"), int(choice.get("seed", 0)))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"dataset {name}: {exc}") from None
    if name in REAL_DATASETS:
        if choice.get("samples") is not None or choice.get("noise") is not None:
            raise ConfigError(f"{name} is a real dataset: samples and noise apply only to synthetic ones")
        try:
            return load_real(name, missing=choice.get("missing", "drop"), scale=choice.get("scale", "none"),
                             progress=progress, cancel=cancel)
        except DataError as exc:
            raise ConfigError(f"dataset {name}: {exc}") from None
    names = sorted(set(SYNTHETIC) | set(REAL_DATASETS))
    raise ConfigError(f"unknown dataset {name!r}; choose one of {', '.join(names)}")


@dataclass
class Experiment:
    """One experiment: the dataset object, the network spec and the training settings."""

    dataset: dict
    network: dict
    training: TrainingConfig = field(default_factory=TrainingConfig)

    def to_json(self) -> dict:
        return {"dataset": self.dataset, "network": self.network, "training": self.training.to_json()}

    @classmethod
    def from_json(cls, data: dict) -> Experiment:
        if not isinstance(data, dict) or not {"dataset", "network"} <= set(data):
            raise ConfigError("an experiment needs 'dataset' and 'network' objects (and optionally 'training')")
        if not isinstance(data["dataset"], dict) or not isinstance(data["network"], dict):
            raise ConfigError("'dataset' and 'network' must be JSON objects")
        return cls(data["dataset"], data["network"], TrainingConfig.from_json(data.get("training", {})))

    def save(self, path: str | os.PathLike) -> None:
        """Write the experiment as indented JSON, atomically."""
        text = json.dumps(self.to_json(), indent=2)
        atomic_write(path, lambda f: f.write(text), mode="w")

    @classmethod
    def load(cls, path: str | os.PathLike) -> Experiment:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise FileFormatError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise FileFormatError(f"{path}: cannot be read ({exc})") from None
        except json.JSONDecodeError as exc:
            raise FileFormatError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
        try:
            return cls.from_json(data)
        except ConfigError as exc:
            raise FileFormatError(f"{path}: {exc}") from None


def default_experiment() -> Experiment:
    """The experiment the window opens with: two-class spiral, two tanh layers of 8."""
    dataset = {"name": "spiral", "samples": 500, "noise": 0.1, "seed": 0}
    data = load_dataset(dataset)
    hidden = [{"type": "dense", "units": 8, "activation": "tanh", "initializer": "glorot_uniform"} for _ in range(2)]
    return Experiment(dataset, network_spec(data, hidden), TrainingConfig(learning_rate=0.03, batch_size=16, epochs=300))
