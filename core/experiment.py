"""Experiments: which data, which network, which training settings, as one JSON object.

Format (the CLI's ``--config`` and the window's Save/Open use the same)::

    {"dataset":  {"name": "spiral", "samples": 500, "noise": 0.1, "seed": 0}   # sequence tasks also "steps": T
                 or {"path": "data.npz", ...FILE_OPTIONS}
                 or {"path": "series.csv", "window": T, "horizon": h, "columns": [...], "target": "…"}  # a time series
                 or {"inline": {"X": [[5, 3]], "y": [1], "classes": ["0", "1"], "features": ["x1", "x2"], "name": "…"}},
                 each may add "engineered": ["x1^2", "x2^2", "x1*x2", "sin_x1", "sin_x2"] (any of them; 2-feature data)
     "network":  {"input_shape": [2], "layers": [...]},     # see core.network; {}: from the data
     "training": {"optimizer": "adam", "learning_rate": 0.01, ...},  # see TrainingConfig
     "weights":  [{"W": [[0.5, 0.5]], "b": [1.0]}, ...]}    # optional: the initial weights, one entry per layer

Inline data (at most core.schema.MAX_INLINE_NUMBERS numbers) is the experiment's own: with
``classes`` its y holds indices into them and it is a classifier of exactly those classes
even when only one occurs (see core.data.make_dataset). ``weights`` gives every layer's
initial parameters in spec order (``{}`` for a layer without any); without it they are drawn
from the training seed (:func:`apply_weights`).

Its declared schema is core.schema: every experiment, and every dataset object handed to
:func:`load_dataset`, is checked there (types, known keys, ranges) before anything is
loaded or built. A file is read only when it is a regular file of at most
MAX_EXPERIMENT_BYTES of UTF-8 JSON.

The short layer syntax of the CLI, ``"8:tanh,8:relu:he_normal,dropout:0.2"`` or
``"conv:8:3:relu,maxpool:2,flatten,32:relu"`` (:func:`parse_layers`), becomes hidden layer
specs; the output layer always follows from the data (:func:`network_spec`).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data import DataError, Dataset, make_dataset, suggested_head
from .features import engineer
from .files import FileFormatError, atomic_write
from .layer_types import input_shape_for
from .layers import Layer, SpecError
from .limits import ResourceError, format_bytes, require_regular_file
from .loaders import LoadOptions, ProgressCallback, ReadImage, load_file, parse_image_size
from .network import Network
from .realdata import load_real
from .schema import quote, validate_dataset, validate_experiment
from .synthetic import SYNTHETIC, synthetic
from .trainer import ConfigError, TrainingConfig

FILE_OPTIONS = ("target", "roles", "types", "task", "missing", "scale", "header", "delimiter", "decimal", "encoding",
                "labels", "image_size", "grey", "window", "horizon", "columns")
MAX_EXPERIMENT_BYTES = 16 << 20  # an experiment is a few KiB of JSON
MAX_INT_DIGITS = 4300  # Python's own limit for reading a whole number from text
INLINE_NAME = "experiment data"  # the name of inline data that gives none


LAYER_SYNTAX = {  # the first word of a --layers item → how to write it
    "conv": "conv:FILTERS:KERNEL[:ACTIVATION][:stride=S][:padding=same|valid], e.g. conv:16:3:relu",
    "maxpool": "maxpool:SIZE[:stride=S], e.g. maxpool:2",
    "avgpool": "avgpool:SIZE[:stride=S], e.g. avgpool:2",
    "flatten": "flatten (nothing after it)",
    "batchnorm": "batchnorm[:momentum=M][:epsilon=E], e.g. batchnorm:momentum=0.1",
    "rnn": "rnn:UNITS[:ACTIVATION][:seq], e.g. rnn:16:tanh",
    "lstm": "lstm:UNITS[:seq], e.g. lstm:32:seq",
    "gru": "gru:UNITS[:seq], e.g. gru:8",
    "embedding": "embedding:VOCAB:DIM, e.g. embedding:50:8",
    "dropout": "dropout:RATE, e.g. dropout:0.2",
    "dense": "UNITS:ACTIVATION[:INITIALIZER], e.g. 8:tanh",
}
LAYER_OPTIONS = {"conv": {"stride": "a whole number", "padding": "same or valid"}, "maxpool": {"stride": "a whole number"},
                 "avgpool": {"stride": "a whole number"}, "flatten": {},
                 "batchnorm": {"momentum": "a number", "epsilon": "a number"}}
SPEC_TYPES = {"conv": "conv2d", "maxpool": "maxpool2d", "avgpool": "avgpool2d", "flatten": "flatten", "batchnorm": "batchnorm",
              "rnn": "rnn", "lstm": "lstm", "gru": "gru", "embedding": "embedding"}
RECURRENT_WORDS = ("rnn", "lstm", "gru")  # their last part may be "seq": return_sequences


def parse_layers(text: str) -> list[dict]:
    """Hidden layer specs from items separated by commas (``""`` or ``"none"``: no hidden layer)::

        UNITS:ACTIVATION[:INITIALIZER]     dense, e.g. 8:tanh (activation relu when left out)
        dropout:RATE
        conv:FILTERS:KERNEL[:ACTIVATION][:stride=S][:padding=same|valid]   (relu, stride 1, same)
        maxpool:SIZE[:stride=S]  avgpool:SIZE[:stride=S]                   (stride = size)
        flatten
        batchnorm[:momentum=M][:epsilon=E]                                 (0.1, 1e-5)
        rnn:UNITS[:ACTIVATION][:seq]  lstm:UNITS[:seq]  gru:UNITS[:seq]   (tanh; seq: return_sequences)
        embedding:VOCAB:DIM

    KERNEL, SIZE and S are a whole number or HxW (``3x2``). The values are checked when the
    network is built; the syntax here: SpecError ``bad layer '…': write …``."""
    text = text.strip()
    if text.lower() in ("", "none"):
        return []
    return [_parse_layer(item.strip()) for item in text.split(",")]


def _parse_layer(item: str) -> dict:
    parts = [p.strip() for p in item.split(":")]
    word = parts[0].lower()
    if word == "dropout":
        try:
            (rate,) = parts[1:]
            return {"type": "dropout", "rate": float(rate)}
        except ValueError:
            raise _bad_layer(item, "dropout") from None
    if word in RECURRENT_WORDS or word == "embedding":
        return _parse_sequence_layer(item, word, parts[1:])
    if word in SPEC_TYPES:
        return _parse_image_layer(item, word, parts[1:])
    if not parts[0].isdigit() or len(parts) > 3:
        raise _bad_layer(item, "dense", known=True)
    layer = {"type": "dense", "units": int(parts[0]), "activation": parts[1] if len(parts) > 1 else "relu"}
    if len(parts) == 3:
        layer["initializer"] = parts[2]
    return layer


def _parse_image_layer(item: str, word: str, parts: list[str]) -> dict:
    """A conv, maxpool, avgpool, flatten or batchnorm item: its positional parts, then NAME=VALUE options."""
    positional = [p for p in parts if "=" not in p]
    options = [p.split("=", 1) for p in parts if "=" in p]
    if parts[: len(positional)] != positional:
        raise SpecError(f"bad layer {item!r}: the NAME=VALUE options go last; write {LAYER_SYNTAX[word]}")
    wanted = {"conv": (2, 3), "maxpool": (1, 1), "avgpool": (1, 1)}.get(word, (0, 0))
    if not wanted[0] <= len(positional) <= wanted[1]:
        raise _bad_layer(item, word)
    layer: dict = {"type": SPEC_TYPES[word]}
    try:
        if word == "conv":
            layer |= {"filters": _whole(positional[0]), "kernel": _size(positional[1]),
                      "activation": positional[2] if len(positional) > 2 else "relu"}
        elif positional:
            layer["size"] = _size(positional[0])
    except ValueError:
        raise _bad_layer(item, word) from None
    for key, value in options:
        name = key.strip().lower()
        if name in layer:
            raise SpecError(f"bad layer {item!r}: {name} is given twice; write {LAYER_SYNTAX[word]}")
        if name not in LAYER_OPTIONS[word]:
            known = ", ".join(LAYER_OPTIONS[word]) or "none"
            raise SpecError(f"bad layer {item!r}: unknown option {name!r} (options of {word}: {known}); write {LAYER_SYNTAX[word]}")
        try:
            layer[name] = (_size(value) if name == "stride" else value.strip().lower() if name == "padding"
                           else float(value))
        except ValueError:
            raise SpecError(f"bad layer {item!r}: {name} must be {LAYER_OPTIONS[word][name]}, got {value.strip()!r}; "
                            f"write {LAYER_SYNTAX[word]}") from None
    return layer


def _parse_sequence_layer(item: str, word: str, parts: list[str]) -> dict:
    """An rnn, lstm, gru (UNITS, rnn's ACTIVATION, a last ``seq``) or embedding (VOCAB:DIM) item."""
    layer: dict = {"type": SPEC_TYPES[word]}
    sequences = word in RECURRENT_WORDS and bool(parts) and parts[-1].lower() == "seq"
    if sequences:
        parts = parts[:-1]
    names = {"rnn": ("units", "activation"), "lstm": ("units",), "gru": ("units",), "embedding": ("vocabulary", "dimension")}[word]
    required = 2 if word == "embedding" else 1
    if not required <= len(parts) <= len(names):
        raise _bad_layer(item, word)
    try:
        for name, part in zip(names, parts, strict=False):
            layer[name] = part.lower() if name == "activation" else _whole(part)
    except ValueError:
        raise _bad_layer(item, word) from None
    return layer | ({"return_sequences": True} if sequences else {})


def _whole(text: str) -> int:
    if not text.isdigit():
        raise ValueError(text)
    return int(text)


def _size(text: str) -> int | list[int]:
    """``"3"`` → 3, ``"3x2"`` → [3, 2]; ValueError otherwise."""
    sides = text.strip().lower().replace("×", "x").split("x")
    if len(sides) > 2:
        raise ValueError(text)
    values = [_whole(side.strip()) for side in sides]
    return values[0] if len(values) == 1 else values


def _bad_layer(item: str, word: str, known: bool = False) -> SpecError:
    text = f"bad layer {item!r}: write {LAYER_SYNTAX[word]}"
    if known:
        text += "; or one of " + ", ".join(LAYER_SYNTAX[w].split(",")[0] for w in SPEC_TYPES)
    return SpecError(text)


def layers_text(layers: Sequence[Mapping]) -> str:
    """The ``--layers`` text of layer specs (the inverse of :func:`parse_layers`; default settings left out):
    ``"conv:8:3:relu,maxpool:2,flatten,32:relu"``; ``"none"`` for no layers."""
    return ",".join(_layer_text(layer) for layer in layers) or "none"


def _size_text(value: object) -> str:
    return "x".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def _layer_text(layer: Mapping) -> str:
    kind = layer.get("type")
    if kind == "dense":
        initializer = layer.get("initializer", "glorot_uniform")
        return f"{layer['units']}:{layer.get('activation', 'linear')}" + ("" if initializer == "glorot_uniform" else f":{initializer}")
    if kind == "dropout":
        return f"dropout:{layer.get('rate', 0.5):g}"
    word = next((w for w, t in SPEC_TYPES.items() if t == kind), str(kind))
    parts = [word]
    if kind == "conv2d":
        parts += [str(layer["filters"]), _size_text(layer.get("kernel", 3)), layer.get("activation", "linear")]
        if _size_text(layer.get("stride", 1)) != "1":
            parts.append(f"stride={_size_text(layer['stride'])}")
        if layer.get("padding", "same") != "same":
            parts.append(f"padding={layer['padding']}")
    elif kind in ("maxpool2d", "avgpool2d"):
        size = _size_text(layer.get("size", 2))
        parts.append(size)
        if layer.get("stride") is not None and _size_text(layer["stride"]) != size:
            parts.append(f"stride={_size_text(layer['stride'])}")
    elif kind == "batchnorm":
        parts += [f"{name}={layer[name]:g}" for name, default in (("momentum", 0.1), ("epsilon", 1e-5))
                  if layer.get(name, default) != default]
    elif kind in RECURRENT_WORDS:
        parts.append(str(layer["units"]))
        if kind == "rnn" and layer.get("activation", "tanh") != "tanh":
            parts.append(layer["activation"])
        if layer.get("return_sequences", False):
            parts.append("seq")
    elif kind == "embedding":
        parts += [str(layer["vocabulary"]), str(layer["dimension"])]
    return ":".join(parts)


def network_spec(dataset: Dataset, hidden: list[dict], output_activation: str | None = None) -> dict:
    """The full network spec: the data's inputs, ``hidden`` layers, and the output layer the
    task suggests (its activation replaced by ``output_activation`` when given). The input is
    the data's image shape (H, W, C) when a hidden layer takes images, else its flat features
    (core.layer_types.input_shape_for)."""
    head, _ = suggested_head(dataset.task, dataset.n_outputs)
    if output_activation:
        head = {**head, "activation": output_activation}
    return {"input_shape": list(input_shape_for(dataset.sample_shape, hidden)), "layers": [*hidden, head]}


def dataset_options(choice: object, base: str | os.PathLike = ".") -> LoadOptions:
    """The loader options a file ``choice`` sets, once the schema has checked it: any of
    FILE_OPTIONS (see LoadOptions); ``task`` "classes" means classification; ``labels`` is
    relative to ``base``; ``image_size`` is [height, width] or "HxW"; ``window``, ``horizon``
    and ``columns`` read a table as a time series (core.loaders.timeseries)."""
    return _load_options(validate_dataset(choice), base)


def _load_options(choice: dict, base: str | os.PathLike) -> LoadOptions:
    given = {key: choice[key] for key in FILE_OPTIONS if choice.get(key) is not None}
    if given.get("task") == "classes":
        given["task"] = "classification"
    if "labels" in given:
        given["labels"] = Path(base) / given["labels"]
    if "columns" in given:
        given["columns"] = tuple(given["columns"])
    if isinstance(given.get("image_size"), str):
        given["image_size"] = parse_image_size(given["image_size"])
    elif "image_size" in given:
        given["image_size"] = tuple(given["image_size"])
    return LoadOptions(**given)


def load_dataset(choice: object, base: str | os.PathLike = ".", *, read_image: ReadImage | None = None,
                 progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> Dataset:
    """The dataset an experiment's ``dataset`` object names, once the schema has checked it:
    a synthetic or real built-in (see core.synthetic, core.realdata), a data file or
    image folder of any format core.loaders reads (``path`` relative to ``base``), or the
    experiment's inline data (:func:`inline_dataset`). ``read_image`` decodes images of an
    image folder; ``progress`` and ``cancel`` are passed to the loader. ``engineered`` names
    the extra input columns of 2-feature data (core.features.engineer); ConfigError naming
    ``dataset.engineered`` for data without exactly 2 features."""
    choice = validate_dataset(choice)
    dataset = _source_dataset(choice, base, read_image, progress, cancel)
    if not choice.get("engineered"):
        return dataset
    try:
        return engineer(dataset, choice["engineered"])
    except DataError as exc:
        raise ConfigError(f"dataset.engineered: {exc}") from None


def _source_dataset(choice: dict, base: str | os.PathLike, read_image: ReadImage | None, progress: ProgressCallback | None,
                    cancel: threading.Event | None) -> Dataset:
    """The dataset a checked ``dataset`` object names, before any engineered column (see :func:`load_dataset`)."""
    if "inline" in choice:
        return inline_dataset(choice["inline"])
    if "path" in choice:
        return load_file(Path(base) / choice["path"], _load_options(choice, base), read_image=read_image,
                         progress=progress, cancel=cancel)
    name = choice["name"]
    if name in SYNTHETIC:
        try:
            return synthetic(name, choice.get("samples"), choice.get("noise"), choice.get("seed", 0), steps=choice.get("steps"))
        except ValueError as exc:  # what the generator refuses (e.g. more samples than memory holds)
            raise ConfigError(f"dataset {name}: {exc}") from None
    try:
        return load_real(name, missing=choice.get("missing", "drop"), scale=choice.get("scale", "none"),
                         progress=progress, cancel=cancel)
    except DataError as exc:
        raise ConfigError(f"dataset {name}: {exc}") from None


def inline_dataset(inline: dict) -> Dataset:
    """The Dataset of an experiment's inline data (``dataset.inline``, checked by the schema):
    X (m, n); y of class indices into ``classes`` when it declares them, else numbers (whole
    numbers: class labels, as make_dataset reads them) or lists of t regression targets."""
    y = inline["y"]
    try:
        return make_dataset(np.array(inline["X"], dtype=np.float64), np.array(y), name=inline.get("name", INLINE_NAME),
                            task="regression" if isinstance(y[0], list) else None, feature_names=inline.get("features"),
                            classes=inline.get("classes"), description="the experiment's own data, written into it")
    except DataError as exc:
        raise ConfigError(f"dataset.inline: {exc}") from None


def apply_weights(network: Network, weights: Sequence[Mapping[str, object]]) -> None:
    """Set ``network``'s parameters to ``weights`` (an experiment's ``weights``): one entry per
    layer in spec order, ``{"W": units rows of inputs numbers, "b": units numbers}`` for a
    dense layer, ``{}`` for a layer without parameters; stored in the network's dtype.

    Raises:
        ConfigError: naming the entry (``weights[1].W``) for a wrong count of entries, a
            parameter the layer lacks or misses, a wrong shape or a number that is not
            finite (in the network's dtype); then the network is unchanged.
    """
    layers = network.layers
    if len(weights) != len(layers):
        raise ConfigError(f"weights: expected one entry per layer of the network ({len(layers)}, in spec order; {{}} for a "
                          f"layer without parameters), got {len(weights)}")
    dtype = np.dtype(network.backend.dtype)
    values = []
    for i, (layer, given) in enumerate(zip(layers, weights, strict=True)):
        names = sorted(layer.params)
        if not isinstance(given, Mapping) or set(given) != set(names):
            has = f"parameters {' and '.join(names)}" if names else "no parameters ({})"
            raise ConfigError(f"weights[{i}]: layer {i + 1} ({layer.describe()}) has {has}, "
                              f"got {sorted(given) if isinstance(given, Mapping) else given!r}")
        values.append({name: _parameter(given[name], view.shape, dtype, f"weights[{i}].{name}", layer)
                       for name, view in layer.params.items()})
    network.set_parameters(values)


def _parameter(value: object, shape: tuple[int, ...], dtype: np.dtype, where: str, layer: Layer) -> np.ndarray:
    """``value`` as an array of ``shape`` in ``dtype`` for ``layer``; ConfigError naming ``where`` otherwise."""
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: expected numbers of shape {shape} ({layer.describe()}), got rows of different lengths or "
                          "something that is not a number") from None
    if array.shape != shape:
        each = {"dense": "one per unit", "conv2d": "one per filter"}.get(layer.kind, "one per feature or channel")
        what = {2: "units × inputs", 4: "filters × kernel rows × kernel columns × channels"}.get(len(shape), each)
        raise ConfigError(f"{where}: expected shape {shape} ({what} of {layer.describe()}), got {array.shape}")
    with np.errstate(over="ignore"):
        stored = array.astype(dtype)
    if not np.isfinite(stored).all():
        beyond = f" in {dtype.name}" if np.isfinite(array).all() else ""
        raise ConfigError(f"{where}: holds a number that is not finite{beyond} ({array.flat[np.argmin(np.isfinite(stored))]:g}); "
                          "initial weights must be finite")
    return stored


def check_split(dataset: Dataset, config: TrainingConfig) -> None:
    """ConfigError when ``config`` asks for a validation part of data that has none to spare:
    a one-sample dataset (the presets' worked examples) trains on its sample with val_fraction 0."""
    if dataset.n_samples == 1 and config.val_fraction > 0:
        raise ConfigError(f"training.val_fraction: {config.val_fraction:g} asks for a validation part, but the data has one "
                          "sample and training needs it: set the validation share to 0")


@dataclass
class Experiment:
    """One experiment: the dataset object, the network spec, the training settings and,
    optionally, the initial weights (None: drawn from the training seed)."""

    dataset: dict
    network: dict
    training: TrainingConfig = field(default_factory=TrainingConfig)
    weights: list[dict[str, list]] | None = None

    def to_json(self) -> dict:
        data = {"dataset": self.dataset, "network": self.network, "training": self.training.to_json()}
        return data if self.weights is None else {**data, "weights": self.weights}

    @classmethod
    def from_json(cls, data: object) -> Experiment:
        """The experiment parsed JSON ``data`` describes; SchemaError (a ConfigError) naming
        the key path when it does not fit the schema."""
        valid = validate_experiment(data)
        return cls(valid["dataset"], valid["network"], TrainingConfig(**valid.get("training", {})), valid.get("weights"))

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
        raise FileFormatError(f"{path}: JSON nested too deeply to read; an experiment nests 5 levels") from None
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
