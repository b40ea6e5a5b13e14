"""What the layer builder edits: the settings of each kind of hidden layer, in one table.

A :class:`Field` is one setting of a layer spec (its key, what it means, its range and its
default); a :class:`Kind` lists a layer type's fields in the order the builder shows them
and names the one its table's Size column edits. :data:`KINDS` is the schema every editor
of the builder is made from. :func:`offered_kinds` says which kinds fit the data's sample
shape (images, sequences, token ids or a row of features), :func:`new_layer` makes a spec of a
kind from its defaults (some taken from the data: an embedding's vocabulary; :func:`with_defaults`
fills in what a spec leaves out, as the engine does), :func:`edited` changes one setting (a field
that only applies with another's value comes and goes with it; an ``implied`` field at its
default leaves the spec, as the ``--layers`` syntax writes it; a new kind keeps the settings
it shares with the old one, :func:`converted`), and :func:`layer_shapes` infers
every layer's output shape and parameter count with the engine's own layers
(core.layer_types), stopping at the first layer that cannot be built.

No Qt here: the widgets live in app/layer_editors.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from core.activations import ACTIVATIONS
from core.initializers import INITIALIZERS
from core.layer_types import LAYER_TYPES, layer_from_spec
from core.layers import SpecError
from core.limits import ResourceError
from core.network import Network
from core.recurrent import RNN_ACTIVATIONS

MAX_UNITS = 4096
MAX_VOCABULARY = 1_000_000
DEFAULT_SLOPE = 0.01  # a new leaky_relu layer's (core.layers.Dense's default)
SLOPE_RANGE = (0.001, 0.999)  # inside (0, 1): a slope of 0 is ReLU, 1 is linear


@dataclass(frozen=True)
class Field:
    """One setting of a layer spec.

    ``editor`` is "int", "float", "log" (a scale-free float such as ε), "choice" (one of
    ``choices``), "pair" (rows × columns: an int in the spec when both are equal, else
    [rows, columns]) or "bool" (a check box). An ``optional`` field may be left out of the spec
    (its value None); its number box shows ``optional`` (what leaving it out means) at
    ``minimum − 1``. An ``implied`` field is in the spec only while it is not its default (the
    engine's own), as the ``--layers`` syntax writes it. A field ``only_with`` (key, value)
    exists only while that key has that value. ``from_data`` names the data's meta entry
    that, when the data has it, is a new layer's value instead of ``default``.
    """

    key: str
    label: str
    tip: str
    default: object
    editor: str = "int"
    minimum: float = 1
    maximum: float = MAX_UNITS
    step: float = 1
    decimals: int = 0
    choices: tuple[str, ...] = ()
    optional: str = ""
    implied: bool = False
    only_with: tuple[str, str] | None = None
    from_data: str = ""


@dataclass(frozen=True)
class Kind:
    """A layer type as the builder shows it: its spec ``type`` (``key``), title, what it does,
    its fields, and the field its table row's Size cell edits (None: none)."""

    key: str
    title: str
    tip: str
    fields: tuple[Field, ...]
    size_field: str | None = None

    def field(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.key == key), None)


ACTIVATION = Field("activation", "Activation", "The activation g of the layer: A = g(Z)", "tanh", "choice", choices=ACTIVATIONS)
INITIALIZER = Field("initializer", "Initializer", "How the layer's initial weights are drawn", "glorot_uniform", "choice",
                    choices=INITIALIZERS)
SLOPE = Field("slope", "Leaky ReLU slope",
              "The leaky_relu layer's slope for z < 0: g(z) = max(slope·z, z), so a unit whose z < 0 still learns",
              DEFAULT_SLOPE, "float", *SLOPE_RANGE, step=0.01, decimals=3, only_with=("activation", "leaky_relu"))
WEIGHTED = (ACTIVATION, INITIALIZER, SLOPE)  # what a layer with weights and an activation has besides its size
RECURRENT_UNITS = Field("units", "Units", "How many units the hidden state h_t has", 32)
RETURN_SEQUENCES = Field("return_sequences", "Return sequences",
                         "Checked: the layer outputs every step's h_t (steps × units), for another recurrent layer on top; "
                         "unchecked: only the last step's h_T (units), for a dense layer", False, "bool", implied=True)

KINDS: dict[str, Kind] = {kind.key: kind for kind in (
    Kind("dense", "Dense", "A fully connected layer: every unit sees every input",
         (Field("units", "Units", "How many units n[l] the layer has", 8), *WEIGHTED), size_field="units"),
    Kind("dropout", "Dropout", "Drops a share of its inputs while training (none at prediction)",
         (Field("rate", "Rate", "The share of inputs dropped while training", 0.2, "float", 0.0, 0.95, step=0.05, decimals=2),),
         size_field="rate"),
    Kind("conv2d", "Conv2D", "A convolution: each filter slides over the image and gives one channel of the output",
         (Field("filters", "Filters", "How many filters the layer learns: the channels of its output", 8, maximum=1024),
          Field("kernel", "Kernel", "The height × width of each filter, in pixels", 3, "pair", maximum=31),
          Field("stride", "Stride", "How many pixels a filter moves per step (rows × columns); 2 halves the image", 1, "pair",
                maximum=8),
          Field("padding", "Padding", "same: zeros around the image so the output keeps its size (at stride 1); "
                "valid: no padding, the output shrinks by kernel − 1", "same", "choice", choices=("same", "valid")),
          dataclasses.replace(ACTIVATION, default="relu"), INITIALIZER, SLOPE), size_field="filters"),
    *(Kind(key, title, f"Keeps the {what} of each window of pixels, per channel",
           (Field("size", "Size", "The side of each square window, in pixels", 2, maximum=16),
            Field("stride", "Stride", "How many pixels the window moves per step", None, minimum=1, maximum=16,
                  optional="same as size")), size_field="size")
      for key, title, what in (("maxpool2d", "MaxPool2D", "largest value"), ("avgpool2d", "AvgPool2D", "mean"))),
    Kind("flatten", "Flatten", "Lays an image out as one row of values (pixel by pixel, channels innermost) for dense layers", ()),
    Kind("batchnorm", "BatchNorm", "Normalises each feature (or channel) over the batch, then scales and shifts it (γ, β)",
         (Field("momentum", "Momentum", "How fast the running mean and variance follow each batch's: "
                "running = (1 − momentum)·running + momentum·batch", 0.1, "float", 0.001, 1.0, step=0.05, decimals=3),
          Field("epsilon", "Epsilon ε", "Added to the variance before its square root, so a feature that does not vary "
                "does not divide by zero", 1e-5, "log", 1e-8, 0.1))),
    Kind("embedding", "Embedding", "Looks up each token id of a sequence as a learned vector: it must be the first layer",
         (Field("vocabulary", "Vocabulary", "How many token ids the layer knows (0 … vocabulary − 1): the data's own when it "
                "says", 50, maximum=MAX_VOCABULARY, from_data="tokens"),
          Field("dimension", "Dimension", "How many numbers each token's vector has", 16)), size_field="dimension"),
    Kind("rnn", "SimpleRNN", "A recurrent layer: h_t = g(W·x_t + U·h_{t−1} + b), one step at a time",
         (RECURRENT_UNITS, RETURN_SEQUENCES, dataclasses.replace(ACTIVATION, tip="The activation g of the layer: "
                                                                  "h_t = g(W·x_t + U·h_{t−1} + b)", choices=RNN_ACTIVATIONS),
          dataclasses.replace(INITIALIZER, implied=True)), size_field="units"),
    Kind("lstm", "LSTM", "Long short-term memory: a cell state c_t beside h_t, kept or forgotten by gates (i, f, g, o)",
         (RECURRENT_UNITS, RETURN_SEQUENCES), size_field="units"),
    Kind("gru", "GRU", "Gated recurrent unit: reset and update gates (r, z) mix the new state n_t with h_{t−1}",
         (RECURRENT_UNITS, RETURN_SEQUENCES), size_field="units"),
)}


@dataclass(frozen=True)
class LayerShape:
    """What building one layer gave: its output shape and parameter count, or why it cannot be built."""

    output_shape: tuple[int, ...] | None
    parameters: int | None
    problem: str | None = None


def kind_of(layer: dict) -> Kind:
    """The kind of a layer spec (an unknown type gets a kind without fields, titled by its type)."""
    kind = layer.get("type", "?")
    return KINDS.get(kind) or Kind(kind, str(kind), "A layer this builder does not know", ())


def offered_kinds(sample_shape: tuple[int, ...], tokens: bool = False) -> list[str]:
    """The kinds the engine has that fit samples of ``sample_shape``: for images (H, W, C)
    every one that does not take sequences; for sequences (T, F) the recurrent kinds besides
    dense and dropout, and for ``tokens`` (ids (T,): data whose meta has "tokens") an
    Embedding too; for a row of features those that take neither (dense, dropout, batchnorm)."""
    if len(sample_shape) == 2 or tokens:
        return [key for key in KINDS if key in ("dense", "dropout") or (LAYER_TYPES[key].takes_sequences
                                                                       and (tokens or key != "embedding"))]
    image = len(sample_shape) == 3
    return [key for key in KINDS if not LAYER_TYPES[key].takes_sequences and (image or not LAYER_TYPES[key].takes_images)]


def applies(field: Field, layer: dict) -> bool:
    """Whether ``field`` is a setting of ``layer`` now (a slope only while its activation is leaky_relu)."""
    return field.only_with is None or layer.get(field.only_with[0]) == field.only_with[1]


def with_defaults(layer: dict) -> dict:
    """``layer`` with the settings it leaves out filled in as the engine builds it (a dense layer
    without an activation is linear), to show; an optional field left out stays out."""
    try:
        built = layer_from_spec(layer).to_spec()
    except SpecError:
        built = {}
    kind = kind_of(layer)
    return {**{k: v for k, v in built.items() if not (kind.field(k) and kind.field(k).optional)}, **layer}


def data_default(field: Field, meta: Mapping | None) -> object:
    """A new layer's value of ``field``: the data's ``meta[field.from_data]`` when it has a
    whole number in the field's range there, else the field's default."""
    value = (meta or {}).get(field.from_data) if field.from_data else None
    fits = isinstance(value, int) and not isinstance(value, bool) and field.minimum <= value <= field.maximum
    return value if fits else field.default


def new_layer(kind: str, meta: Mapping | None = None) -> dict:
    """A layer spec of ``kind`` with its fields' defaults, those ``from_data`` from the data's
    ``meta`` when it has them (optional and implied fields left out)."""
    layer = {"type": kind}
    for field in KINDS[kind].fields:
        value = data_default(field, meta)
        if value is not None and not field.implied and applies(field, layer):
            layer[field.key] = value
    return layer


def edited(layer: dict, key: str, value: object, meta: Mapping | None = None) -> dict:
    """``layer`` with its ``key`` set to ``value`` (None leaves an optional field out, an
    implied field's default leaves it out too); a field that depends on another's value is
    added with its default or dropped. A new ``type`` gives a new layer of that kind
    (:func:`converted`)."""
    if key == "type":
        return layer if value == layer.get("type") else converted(layer, str(value), meta)
    field = kind_of(layer).field(key)
    changed = {k: v for k, v in layer.items() if k != key}
    if value is not None and not (field is not None and field.implied and value == field.default):
        changed[key] = pair_value(value) if field is not None and field.editor == "pair" else value
    for other in kind_of(layer).fields:
        if other.only_with is not None and other.only_with[0] == key:
            if applies(other, changed):
                changed.setdefault(other.key, other.default)
            else:
                changed.pop(other.key, None)
    return changed


def converted(layer: dict, kind: str, meta: Mapping | None = None) -> dict:
    """A new layer of ``kind`` from the defaults the data's ``meta`` gives (:func:`new_layer`),
    keeping the settings of ``layer`` whose field the two kinds share: the recurrent kinds'
    units and return sequences (a SimpleRNN of 16 units becomes an LSTM of 16), an initializer
    between a dense and a convolutional layer. A field the kinds only share by name (a dense
    layer's units and an LSTM's, whose defaults differ) starts from the new kind's default."""
    new = new_layer(kind, meta)
    shared = [field for field in KINDS[kind].fields if field in kind_of(layer).fields and field.key in layer]
    for field in shared:
        if applies(field, new):
            new = edited(new, field.key, layer[field.key])
    return new


def pair_value(value: object) -> int | list[int]:
    """A (rows, columns) setting as the spec keeps it: one int when both are equal."""
    rows, columns = as_pair(value)
    return rows if rows == columns else [rows, columns]


def as_pair(value: object) -> tuple[int, int]:
    """A spec's int-or-pair setting (3 or [3, 5]) as (rows, columns)."""
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[-1])
    return int(value), int(value)


def pair_text(value: object) -> str:
    rows, columns = as_pair(value)
    return f"{rows}×{columns}"


def shape_text(shape: tuple[int, ...]) -> str:
    """A per-sample shape as the builder shows it: ``8×8×8``, ``128``."""
    return "×".join(map(str, shape))


def size_text(layer: dict) -> str:
    """The layer's Size cell: ``8`` units, ``0.2`` dropped, ``8 · 3×3`` filters of a kernel,
    ``50 → 16`` token ids to vectors, ``2×2`` windows, each with `` /2`` for a stride other than the kind's own; ``—`` for a kind without a size."""
    kind = layer.get("type")
    if kind in ("dense", "rnn", "lstm", "gru"):
        return str(layer.get("units", "?"))
    if kind == "embedding":
        return f"{layer.get('vocabulary', '?')} → {layer.get('dimension', '?')}"
    if kind == "dropout":
        return f"{layer.get('rate', 0):g}"
    if kind == "conv2d":
        return f"{layer.get('filters', '?')} · {pair_text(layer.get('kernel', 3))}" + _stride_text(layer.get("stride", 1), 1)
    if kind in ("maxpool2d", "avgpool2d"):
        size = layer.get("size", 2)
        return f"{size}×{size}" + _stride_text(layer.get("stride", size), size)
    return "—"


def _stride_text(stride: object, usual: int) -> str:
    """`` /2`` (or `` /1×2``) for a stride other than ``usual`` in both directions; empty for that one."""
    rows, columns = as_pair(stride)
    if rows == columns == usual:
        return ""
    return f" /{rows}" if rows == columns else f" /{rows}×{columns}"


def settings_text(layer: dict) -> str:
    """Every setting of ``layer`` in words (its row's tooltip), e.g. "Conv2D: filters 8, kernel 3×3, …"."""
    kind = kind_of(layer)
    layer = with_defaults(layer)
    parts = []
    for field in kind.fields:
        if not applies(field, layer):
            continue
        value = layer.get(field.key)
        shown = (field.optional if value is None else pair_text(value) if field.editor == "pair"
                 else ("yes" if value else "no") if field.editor == "bool" else f"{value:g}" if isinstance(value, float)
                 else str(value))
        parts.append(f"{field.label.lower()} {shown}")
    return f"{kind.title}: {', '.join(parts)}" if parts else f"{kind.title}: no settings"


def layer_shapes(input_shape: tuple[int, ...], layers: list[dict]) -> list[LayerShape]:
    """Each layer's output shape (per sample) and parameter count on ``input_shape``, as
    core.network builds them; the first layer that cannot be built gets its SpecError
    message (worded as the network's: "layer 2 (conv2d): …") and the layers after it
    neither shape nor count. When every layer builds on its own, the engine's Network
    checks the whole (a rule about where a layer goes: an Embedding only first) and the layer
    it names gets its message the same way."""
    shape: tuple[int, ...] | None = tuple(input_shape)
    result = []
    for i, spec in enumerate(layers):
        if shape is None:
            result.append(LayerShape(None, None))
            continue
        try:
            layer = layer_from_spec(spec)
            shape = layer.build(shape)
            result.append(LayerShape(shape, layer.parameter_count))
        except SpecError as exc:
            result.append(LayerShape(None, None, f"layer {i + 1} ({spec.get('type', '?')}): {exc}"))
            shape = None
    if shape is not None and layers:
        result = _placed(input_shape, layers, result)
    return result


def _placed(input_shape: tuple[int, ...], layers: list[dict], shapes: list[LayerShape]) -> list[LayerShape]:
    """``shapes`` of layers that each build, with the engine's objection to the network as a whole
    (naming "layer N") moved onto layer N and the ones after it (too large a network: the window says so)."""
    try:
        Network({"input_shape": list(input_shape), "layers": layers})
    except ResourceError:
        return shapes
    except SpecError as exc:
        index = named_layer(str(exc))
        if index is not None and index < len(shapes):
            return [*shapes[:index], LayerShape(None, None, str(exc)), *(LayerShape(None, None) for _ in shapes[index + 1:])]
    return shapes


def named_layer(message: str) -> int | None:
    """The index (from 0) of the layer a network's SpecError names ("layer 3 (embedding): …"), None when it names none."""
    words = message.split(" ", 2)
    return int(words[1]) - 1 if len(words) > 2 and words[0] == "layer" and words[1].isdigit() else None
