"""The declared schema of the JSON Epoch Lab reads: experiment files and network specs.

Every experiment (``--config``, the window's Open) and every network spec (the one inside
a model file too) is checked here, with pydantic, before anything is built. Types are
strict (``"5"`` is not 5, ``"no"`` is not false), every object refuses keys it does not
know, nesting is capped at :data:`MAX_DEPTH`, and numbers must lie in their declared
ranges. A problem raises :class:`SchemaError` with one line naming the key path::

    network.layers[2].rate: expected a number in [0, 1), got "x"
    training.learning_rat: unknown training setting; did you mean 'learning_rate'?

The training settings' types and ranges are declared once, on the fields of
:class:`core.trainer.TrainingConfig`; the model here is derived from them, and
TrainingConfig checks itself through :func:`check_training_config`. The dataset models are
built on first use: core.loaders (roles, types, tasks …) and core.realdata (the names of
the real datasets) import core.files, which imports this module.

:func:`experiment_json_schema` exports the format as JSON Schema (draft 2020-12).
"""

from __future__ import annotations

import codecs
import dataclasses
import difflib
import itertools
import json
import math
import re
import types
import typing
from collections.abc import Callable, Iterable
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Strict,
    Tag,
    TypeAdapter,
    ValidationError,
    WrapValidator,
    create_model,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from .activations import ACTIVATIONS
from .features import ENGINEERED, canonical
from .initializers import INITIALIZERS
from .layers import SpecError
from .recurrent import RNN_ACTIVATIONS
from .synthetic import SYNTHETIC
from .trainer import ConfigError, TrainingConfig

MAX_DEPTH = 16  # levels of JSON objects and arrays; a valid experiment needs 5 (inline data, weights)
MAX_INLINE_NUMBERS = 10_000  # numbers in an experiment's inline data (X and y together)
MAX_PIXELS = 4096  # the largest image side a folder's images are resized to
MAX_STEPS = 100_000  # the longest sequence (steps of a built-in task, window of a time series)
GOT_CHARS = 60  # of a wrong value shown in a message
SHOWN_ITEMS = 4  # of a wrong list or object shown in a message


class SchemaError(ConfigError, SpecError):
    """JSON that does not fit the schema; the message is one line naming the key path.

    A ConfigError (settings, experiments) and a SpecError (network specs), so callers of
    either keep catching what they caught before."""


# ----- leaf types that say what they expect ---------------------------------------------------
def _parts(annotation: Any) -> tuple[Any, list[Any]]:
    """``Annotated[T, Field(ge=0), m]`` → (T, [Ge(0), m]): the type and its constraints."""
    metadata: list[Any] = []
    while typing.get_origin(annotation) is Annotated:
        annotation, *extra = typing.get_args(annotation)
        metadata = [*extra, *metadata]
    return annotation, [m for item in metadata for m in (item.metadata if isinstance(item, FieldInfo) else [item])]


def _options(annotation: Any) -> tuple[Any, ...]:
    """The values a Literal (or an optional Literal) allows; () for other types."""
    base, _ = _parts(annotation)
    if typing.get_origin(base) in (Union, types.UnionType):
        return tuple(itertools.chain.from_iterable(_options(arg) for arg in typing.get_args(base)))
    return typing.get_args(base) if typing.get_origin(base) is Literal else ()


def _bounds_text(metadata: Iterable[Any]) -> str:
    """`` in [0, 1)``, `` ≥ 1``, `` > 0`` or "" from the bounds among ``metadata``
    (the Ge, Gt, Le, Lt objects pydantic's ``Field(ge=…)`` holds)."""
    low = high = None
    for m in metadata:
        if hasattr(m, "ge") or hasattr(m, "gt"):
            low = ("[", m.ge) if hasattr(m, "ge") else ("(", m.gt)
        elif hasattr(m, "le") or hasattr(m, "lt"):
            high = ("]", m.le) if hasattr(m, "le") else (")", m.lt)
    if low and high:
        return f" in {low[0]}{low[1]:g}, {high[1]:g}{high[0]}"
    if low:
        return f" {'≥' if low[0] == '[' else '>'} {low[1]:g}"
    if high:
        return f" {'≤' if high[0] == ']' else '<'} {high[1]:g}"
    return ""


BASE_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}


def describe(annotation: Any) -> str:
    """What a value of ``annotation`` must be, in words: ``a number in [0, 1)``,
    ``a whole number ≥ 1``, ``one of sgd, adam, or null``."""
    base, metadata = _parts(annotation)
    if typing.get_origin(base) in (Union, types.UnionType):
        args = typing.get_args(base)
        words = " or ".join(describe(arg) for arg in args if arg is not type(None))
        return f"{words}, or null" if type(None) in args else words
    if typing.get_origin(base) is Literal:
        return "one of " + ", ".join(map(str, typing.get_args(base)))
    return BASE_WORDS.get(base, getattr(base, "__name__", str(base))) + _bounds_text(metadata)


def expect(annotation: Any, what: str | None = None, noun: str = "value", suggest: bool = False) -> Any:
    """``annotation``, validated by pydantic, whose every failure reads ``expected <what>``
    (by default :func:`describe` of it) or, for a string that is not one of a Literal's
    values, ``unknown <noun> 'x'; choose one of …`` (with ``suggest``: ``did you mean 'y'?``
    when one of them is close)."""
    what = what or describe(annotation)
    options = _options(annotation)

    def check(value: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(value)
        except ValidationError:
            if options and isinstance(value, str):
                raise PydanticCustomError("unknown_choice", "unknown {noun}",
                                          {"noun": noun, "options": options, "suggest": suggest}) from None
            raise PydanticCustomError("expected", "expected {what}", {"what": what}) from None

    return Annotated[annotation, WrapValidator(check), Field(description=what)]


def choice(options: Iterable[str], noun: str = "value", suggest: bool = False) -> Any:
    """One of ``options`` (a string), refused as ``unknown <noun> 'x'; choose one of …``
    (with ``suggest``: the nearest one, ``did you mean 'y'?``, when one is close)."""
    return expect(Literal[tuple(options)], noun=noun, suggest=suggest)


def _known_encoding(name: str) -> str:
    """``name`` if it names a text encoding (bytes → str): not "rot13", "zlib" or "base64"."""
    try:
        codec = codecs.lookup(name)
    except LookupError:
        raise ValueError(f"unknown encoding {name!r}") from None
    if not codec._is_text_encoding:
        raise ValueError(f"{name!r} is not a text encoding (it turns bytes into bytes or text into text)")
    return name


def _image_size_text(text: str) -> str:
    """``"28x28"``, ``"32X24"``, ``"28×28"`` or ``"28"``, each side 1 to MAX_PIXELS (as core.loaders.parse_image_size reads it)."""
    sides = re.fullmatch(r"\s*(\d{1,4})(?:[xX×](\d{1,4}))?\s*", text)
    if not sides or not all(1 <= int(side) <= MAX_PIXELS for side in sides.groups() if side):
        raise ValueError("not HxW")
    return text


Whole = Annotated[int, Strict()]  # strict also inside a list that takes a tuple
Pixels = Annotated[Whole, Field(ge=1, le=MAX_PIXELS)]
PathText = expect(Annotated[str, Field(min_length=1, pattern=r"^[^\x00]*$")], "a file path (non-empty text)")
ImageSize = expect(Annotated[list[Pixels], Strict(False), Field(min_length=2, max_length=2)]  # a tuple from the CLI too
                   | Annotated[str, WrapValidator(lambda v, h: _image_size_text(h(v)))],
                   f'[height, width] in pixels (1 to {MAX_PIXELS} each) or text such as "28x28"')
Encoding = expect(Annotated[str, WrapValidator(lambda v, h: _known_encoding(h(v)))], 'the name of a text encoding, e.g. "utf-8"')
Delimiter = expect(Annotated[str, Field(pattern=r'^[^"\r\n]$')], "one character (not a quote or a line break)")
Number = expect(float, "a finite number")  # a whole number counts too; NaN and infinity do not (allow_inf_nan)
Row = Annotated[list[Number], Field(min_length=1)]
Matrix = Annotated[list[Row], Field(min_length=1)]
Name = expect(Annotated[str, Field(min_length=1)], "a name (non-empty text)")
# the default of a key that may be left out and has no value standing for it (it is not null)
OPTIONAL = Field(default=None, json_schema_extra=lambda schema: schema.pop("default", None))


# ----- objects that know their keys -----------------------------------------------------------
class Section(BaseModel):
    """A JSON object of the schema: strict types, known keys only (with a suggestion for a
    misspelt one), every required key present. ``what`` names it in messages ("a dense
    layer"), ``noun`` names one of its keys ("dense layer setting")."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True)
    what: ClassVar[str] = "an object"
    noun: ClassVar[str] = "key"

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, cls):
            return data
        required = [name for name, info in cls.model_fields.items() if info.is_required()]
        if not isinstance(data, dict):
            needs = f" needs {_quoted_list(required)}" if required else ""
            raise PydanticCustomError("expected", "expected {what}", {"what": f"a JSON object ({cls.what}{needs})"})
        for key in data:
            if key not in cls.model_fields:
                raise PydanticCustomError("unknown_key", "unknown {noun}", {"key": key, "noun": cls.noun, "known": tuple(cls.model_fields)})
        for key in required:
            if key not in data:
                raise PydanticCustomError("missing_key", "missing", {"key": key, "what": cls.what, "required": tuple(required)})
        return data


def at_key(keys: tuple[Any, ...], text: str) -> PydanticCustomError:
    """An error of a check across an object's keys, at ``keys`` below the object: one line
    ``key.path: text`` (see :data:`MESSAGES`)."""
    return PydanticCustomError("at_key", "{text}", {"keys": keys, "text": text})


def _quoted_list(names: Iterable[str]) -> str:
    """``'a'``, ``'a' and 'b'``, ``'a', 'b' and 'c'``."""
    quoted = [f"'{n}'" for n in names]
    return " and ".join(quoted) if len(quoted) < 3 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


UNION_TAGS: set[str] = set()  # tags pydantic puts in an error's location after a union; not keys


def tagged(kind: Callable[[Any], str | None], members: dict[str, type[Section]], what: str) -> Any:
    """A union of ``members`` picked by ``kind(value)`` (a tag of ``members``, or None for
    a value that fits none: then ``expected <what>``)."""
    def tag(value: Any) -> str | None:
        if isinstance(value, Section):
            return next(name for name, model in members.items() if isinstance(value, model))
        return kind(value)

    union = Union[tuple(Annotated[model, Tag(name)] for name, model in members.items())]  # noqa: UP007 - built at run time
    UNION_TAGS.update(members)
    return Annotated[union, Discriminator(tag, custom_error_type="expected", custom_error_message="expected {what}",
                                          custom_error_context={"what": what})]


# ----- network specs --------------------------------------------------------------------------
class DenseLayer(Section):
    """Z = X·Wᵀ + b, A = activation(Z) (see core.layers.Dense)."""

    what: ClassVar[str] = "a dense layer"
    noun: ClassVar[str] = "dense layer setting"
    type: Literal["dense"]
    units: expect(Annotated[Whole, Field(ge=1)])
    activation: choice(ACTIVATIONS, "activation") = "linear"
    initializer: choice(INITIALIZERS, "initializer") = "glorot_uniform"
    slope: expect(Annotated[float, Field(ge=0, lt=1)]) = 0.01


class DropoutLayer(Section):
    """Inverted dropout of each input with probability ``rate`` (see core.layers.Dropout)."""

    what: ClassVar[str] = "a dropout layer"
    noun: ClassVar[str] = "dropout layer setting"
    type: Literal["dropout"]
    rate: expect(Annotated[float, Field(ge=0, lt=1)]) = 0.5


Side = Annotated[Whole, Field(ge=1, le=MAX_PIXELS)]
WindowSize = expect(Side | Annotated[list[Side], Field(min_length=2, max_length=2)],
                    f"a whole number from 1 to {MAX_PIXELS}, or a list of two (height, width)")


class Conv2DLayer(Section):
    """A 2-D convolution of (H, W, C) images into ``filters`` channels (see core.conv_layers.Conv2D)."""

    what: ClassVar[str] = "a conv2d layer"
    noun: ClassVar[str] = "conv2d layer setting"
    type: Literal["conv2d"]
    filters: expect(Annotated[Whole, Field(ge=1)])
    kernel: WindowSize = 3
    stride: WindowSize = 1
    padding: choice(("same", "valid"), "padding") = "same"
    activation: choice(ACTIVATIONS, "activation") = "linear"
    initializer: choice(INITIALIZERS, "initializer") = "glorot_uniform"
    slope: expect(Annotated[float, Field(ge=0, lt=1)]) = 0.01


class MaxPool2DLayer(Section):
    """The largest value of each ``size`` window, ``stride`` apart (see core.conv_layers.MaxPool2D)."""

    what: ClassVar[str] = "a maxpool2d layer"
    noun: ClassVar[str] = "maxpool2d layer setting"
    type: Literal["maxpool2d"]
    size: WindowSize = 2
    stride: WindowSize = OPTIONAL  # absent: the size


class AvgPool2DLayer(MaxPool2DLayer):
    """The mean of each ``size`` window, ``stride`` apart (see core.conv_layers.AvgPool2D)."""

    what: ClassVar[str] = "an avgpool2d layer"
    noun: ClassVar[str] = "avgpool2d layer setting"
    type: Literal["avgpool2d"]


class FlattenLayer(Section):
    """(H, W, C) → (H·W·C,), row-major (see core.conv_layers.Flatten)."""

    what: ClassVar[str] = "a flatten layer"
    noun: ClassVar[str] = "flatten layer setting"
    type: Literal["flatten"]


class BatchNormLayer(Section):
    """Batch normalisation per feature or channel (see core.batchnorm.BatchNorm)."""

    what: ClassVar[str] = "a batchnorm layer"
    noun: ClassVar[str] = "batchnorm layer setting"
    type: Literal["batchnorm"]
    momentum: expect(Annotated[float, Field(gt=0, le=1)]) = 0.1
    epsilon: expect(Annotated[float, Field(gt=0, lt=1)]) = 1e-5


class LSTMLayer(Section):
    """A long short-term memory layer over sequences (steps, features) (see core.recurrent.LSTM)."""

    what: ClassVar[str] = "an lstm layer"
    noun: ClassVar[str] = "lstm layer setting"
    type: Literal["lstm"]
    units: expect(Annotated[Whole, Field(ge=1)])
    return_sequences: expect(bool) = False


class GRULayer(LSTMLayer):
    """A gated recurrent unit layer over sequences (see core.recurrent.GRU)."""

    what: ClassVar[str] = "a gru layer"
    noun: ClassVar[str] = "gru layer setting"
    type: Literal["gru"]


class RNNLayer(LSTMLayer):
    """h_t = activation(W·x_t + U·h_{t−1} + b) over sequences (see core.recurrent.SimpleRNN)."""

    what: ClassVar[str] = "an rnn layer"
    noun: ClassVar[str] = "rnn layer setting"
    type: Literal["rnn"]
    activation: choice(RNN_ACTIVATIONS, "activation") = "tanh"
    initializer: choice(INITIALIZERS, "initializer") = "glorot_uniform"


class EmbeddingLayer(Section):
    """Token ids (steps,) → learned vectors (steps, dimension) (see core.embedding.Embedding)."""

    what: ClassVar[str] = "an embedding layer"
    noun: ClassVar[str] = "embedding layer setting"
    type: Literal["embedding"]
    vocabulary: expect(Annotated[Whole, Field(ge=1)])
    dimension: expect(Annotated[Whole, Field(ge=1)])


LAYER_MODELS: dict[str, type[Section]] = {"dense": DenseLayer, "dropout": DropoutLayer, "conv2d": Conv2DLayer,
                                          "maxpool2d": MaxPool2DLayer, "avgpool2d": AvgPool2DLayer, "flatten": FlattenLayer,
                                          "batchnorm": BatchNormLayer, "rnn": RNNLayer, "lstm": LSTMLayer, "gru": GRULayer,
                                          "embedding": EmbeddingLayer}
LayerSpec = Annotated[Union[tuple(LAYER_MODELS.values())], Field(discriminator="type")]  # noqa: UP007 - built at run time
UNION_TAGS.update(LAYER_MODELS)


class NetworkSpec(Section):
    """A feed-forward network: the per-sample input shape and the layers, output layer last."""

    what: ClassVar[str] = "a network spec"
    noun: ClassVar[str] = "network setting"
    input_shape: expect(Annotated[list[Annotated[Whole, Field(ge=1)]], Field(min_length=1)],
                        "a list of whole numbers ≥ 1, e.g. [2]")
    layers: Annotated[list[LayerSpec], Field(min_length=1)]


class DerivedNetwork(Section):
    """``{}``: the network follows from the data and the command line (the CLI's default)."""

    what: ClassVar[str] = "an empty network"


NetworkChoice = tagged(lambda v: ("derived" if not v else "spec") if isinstance(v, dict) else None,
                       {"spec": NetworkSpec, "derived": DerivedNetwork},
                       "a JSON object: a network spec with 'input_shape' and 'layers', or {} to build one from the data")


class InlineData(Section):
    """Samples written into the experiment itself: ``X`` (m rows of n numbers), ``y`` (m
    targets: numbers, or lists of t numbers), the ``features`` (n names) and, for a
    classifier, the ``classes``: then y holds indices into them, and the data is a
    classifier of exactly those classes even when only one of them occurs."""

    what: ClassVar[str] = "inline data"
    noun: ClassVar[str] = "inline data key"
    X: Matrix
    y: Annotated[list[expect(Whole | float | Row, "a number, or a list of numbers (one per target)")], Field(min_length=1)]
    classes: Annotated[list[Name], Field(min_length=2)] = OPTIONAL
    features: list[Name] = OPTIONAL
    name: Name = OPTIONAL

    @model_validator(mode="before")
    @classmethod
    def _not_too_many(cls, data: Any) -> Any:
        """At most MAX_INLINE_NUMBERS numbers, counted before each is checked."""
        if isinstance(data, dict):
            count = sum(len(item) if isinstance(item, list) else 1 for key in ("X", "y")
                        if isinstance(data.get(key), list) for item in data[key])
            if count > MAX_INLINE_NUMBERS:
                raise at_key((), f"holds {count:,} numbers; inline data holds at most {MAX_INLINE_NUMBERS:,} "
                                 "(put more in a data file: {\"path\": …})")
        return data

    @model_validator(mode="after")
    def _consistent(self) -> InlineData:
        n, m = len(self.X[0]), len(self.X)
        for i, row in enumerate(self.X):
            if len(row) != n:
                raise at_key(("X", i), f"expected {n} numbers like X[0], got {len(row)}")
        if len(self.y) != m:
            raise at_key(("y",), f"expected {m} target{'s' if m > 1 else ''}, one per row of X, got {len(self.y)}")
        if self.features is not None and len(self.features) != n:
            raise at_key(("features",), f"expected {n} names, one per column of X, got {len(self.features)}")
        if self.classes is not None:
            self._check_classes()
        else:
            self._check_targets()
        return self

    def _check_targets(self) -> None:
        """Without classes: every target a number, or every one a list as long as y[0]."""
        width = len(self.y[0]) if isinstance(self.y[0], list) else None
        for i, target in enumerate(self.y):
            if (len(target) if isinstance(target, list) else None) != width:
                like = "a number" if width is None else f"a list of {width} numbers"
                raise at_key(("y", i), f"expected {like} like y[0], got {shown(target)}")

    def _check_classes(self) -> None:
        """Distinct class names; y their indices 0 … k−1."""
        k = len(self.classes)
        for j, name in enumerate(self.classes):
            if name in self.classes[:j]:
                raise at_key(("classes", j), f"the class {quote(name)} is named twice")
        for i, index in enumerate(self.y):
            if not (isinstance(index, int) and 0 <= index < k):
                raise at_key(("y", i), f"expected a class index, a whole number from 0 to {k - 1} (classes has {k} names), "
                                       f"got {shown(index)}")


Kernels = Annotated[list[Annotated[list[Matrix], Field(min_length=1)]], Field(min_length=1)]  # (filters, KH, KW, C)


class LayerWeights(Section):
    """One layer's initial parameters: a dense layer's ``W`` (units rows of inputs numbers)
    and ``b`` (units numbers), a conv2d layer's ``W`` (filters × kernel rows × kernel columns ×
    channels) and ``b``, a batchnorm layer's ``gamma`` and ``beta`` (one number per channel);
    ``{}`` for a layer without parameters."""

    what: ClassVar[str] = "a layer's weights"
    noun: ClassVar[str] = "layer parameter"
    W: expect(Matrix | Kernels, "a matrix (units rows of inputs numbers) or conv kernels (filters × rows × columns × channels)") = OPTIONAL
    b: Row = OPTIONAL
    gamma: Row = OPTIONAL
    beta: Row = OPTIONAL


# ----- lessons: an experiment's text for the student (see core.lessons) ------------------------
Prose = expect(Annotated[str, Field(pattern=r"\S")], "text (not empty)")


@cache
def _lesson_model() -> type[Section]:
    """The ``lesson`` object of a lesson file (built on first use: core.lessons, which names
    the views a step may point at, imports core.experiment, which imports this module)."""
    from .lessons import VIEW_NAMES

    class LessonStep(Section):
        """One thing to do or look at; ``view`` brings that view forward."""

        what: ClassVar[str] = "a lesson step"
        noun: ClassVar[str] = "lesson step key"
        text: Prose
        view: choice(VIEW_NAMES, "view", suggest=True) = OPTIONAL

    class Lesson(Section):
        """A lesson's text: its title, goal, steps, two or three questions and what to try next."""

        what: ClassVar[str] = "a lesson"
        noun: ClassVar[str] = "lesson key"
        title: Prose
        goal: Prose
        steps: Annotated[list[LessonStep], Field(min_length=1)]
        questions: Annotated[list[Prose], Field(min_length=2, max_length=3)]
        try_next: Annotated[list[Prose], Field(min_length=1)]
        epochs_hint: expect(Annotated[Whole, Field(ge=1)]) = OPTIONAL

    return Lesson


# ----- training settings, derived from TrainingConfig -----------------------------------------
class _Training(Section):
    what: ClassVar[str] = "the training settings"
    noun: ClassVar[str] = "training setting"


def _training_model() -> type[Section]:
    """A Section whose fields are TrainingConfig's: the same names, types, ranges and defaults."""
    hints = typing.get_type_hints(TrainingConfig, include_extras=True)
    fields = {f.name: (expect(hints[f.name], noun=f.name.replace("_", " ")), f.default) for f in dataclasses.fields(TrainingConfig)}
    return create_model("TrainingSettings", __base__=_Training, __doc__=TrainingConfig.__doc__, __module__=__name__, **fields)


TrainingSettings = _training_model()


# ----- datasets and experiments (built on first use, see the module docstring) -----------------
@cache
def _experiment_adapters() -> tuple[TypeAdapter, TypeAdapter]:
    """Validators of (an experiment, its dataset object)."""
    from .loaders.options import KINDS, MISSING_POLICIES, ROLES, SCALINGS, TASK_CHOICES
    from .realdata import REAL_DATASETS

    missing_policy = choice(MISSING_POLICIES, "missing-value policy")
    scaling = choice(SCALINGS, "scaling")
    engineered_names = Annotated[list[choice(ENGINEERED, "engineered feature", suggest=True)], WrapValidator(_engineered_order)]

    class BuiltinDataset(Section):
        """A synthetic generator (core.synthetic) or a shipped real dataset (core.realdata)."""

        what: ClassVar[str] = "a built-in dataset"
        noun: ClassVar[str] = "dataset setting"
        name: choice(sorted(set(SYNTHETIC) | set(REAL_DATASETS)), "dataset")
        samples: expect(Annotated[Whole, Field(ge=4)] | None) = None  # synthetic only; None: its default
        noise: expect(Annotated[float, Field(ge=0)] | None) = None  # synthetic only; None: its default
        steps: expect(Annotated[Whole, Field(ge=1, le=MAX_STEPS)] | None) = None  # sequence tasks only; None: its default
        seed: expect(Annotated[Whole, Field(ge=0)]) = 0
        missing: missing_policy = "drop"  # real tables only
        scale: scaling = "none"  # real tables only
        engineered: engineered_names = OPTIONAL  # 2-feature data only (checked when loaded)

        @model_validator(mode="after")
        def _synthetic_only(self) -> BuiltinDataset:
            if self.name not in SYNTHETIC and (self.samples is not None or self.noise is not None):
                raise PydanticCustomError("real_dataset", "{name} is a real dataset: samples and noise apply only to synthetic ones",
                                          {"name": self.name})
            if self.steps is not None and not (self.name in SYNTHETIC and SYNTHETIC[self.name].is_sequence):
                tasks = ", ".join(name for name, info in SYNTHETIC.items() if info.is_sequence)
                raise at_key(("steps",), f"{self.name} is not a sequence task: steps applies to {tasks}")
            return self

    class DataFile(Section):
        """A data file or image folder core.loaders reads (see core.loaders.LoadOptions)."""

        what: ClassVar[str] = "a data file"
        noun: ClassVar[str] = "dataset setting"
        path: PathText
        target: expect(str | int | None, "a column name or 0-based position") = None
        roles: dict[str, choice(ROLES, "column role")] = {}
        types: dict[str, choice(KINDS, "column type")] = {}
        task: choice((*TASK_CHOICES, "classes"), "task") = "auto"
        missing: missing_policy = "drop"
        scale: scaling = "none"
        header: expect(bool | None) = None
        delimiter: Delimiter | None = None
        decimal: expect(Literal[".", ","] | None, noun="decimal mark") = None
        encoding: Encoding | None = None
        labels: PathText | None = None
        image_size: ImageSize | None = None
        grey: expect(bool) = True
        window: expect(Annotated[Whole, Field(ge=1, le=MAX_STEPS)] | None) = None  # a table as a time series
        horizon: expect(Annotated[Whole, Field(ge=1)] | None) = None  # with a window; None: 1
        columns: expect(Annotated[list[Annotated[str, Field(min_length=1)] | Whole], Field(min_length=1)] | None,
                        "a list of column names or 0-based positions, or null") = None  # with a window; None: every numeric one
        engineered: engineered_names = OPTIONAL

        @model_validator(mode="after")
        def _series_settings(self) -> DataFile:
            if self.window is None:
                for key in ("horizon", "columns"):
                    if getattr(self, key) is not None:
                        raise at_key((key,), "applies only to a time series: give a window too")
                return self
            for key, given in (("roles", self.roles), ("types", self.types), ("scale", self.scale != "none"),
                               ("task", self.task in ("classification", "classes"))):
                if given:
                    raise at_key((key,), "does not apply to a time series (a window of rows forecasting a number); "
                                         "choose its input columns and target instead")
            return self

    class InlineDataset(Section):
        """Data written into the experiment (see InlineData)."""

        what: ClassVar[str] = "an experiment's own data"
        noun: ClassVar[str] = "dataset setting"
        inline: InlineData
        engineered: engineered_names = OPTIONAL

    def kind(value: Any) -> str | None:
        if not isinstance(value, dict):
            return None
        return next((tag for key, tag in (("inline", "inline"), ("path", "file"), ("name", "builtin")) if key in value), None)

    dataset_choice = tagged(kind, {"builtin": BuiltinDataset, "file": DataFile, "inline": InlineDataset},
                            "a JSON object with a 'name' (a built-in dataset), a 'path' (a data file) or 'inline' data")

    class Experiment(Section):
        """An experiment: which data, which network, which training settings."""

        what: ClassVar[str] = "an experiment"
        noun: ClassVar[str] = "experiment key"
        dataset: dataset_choice
        network: NetworkChoice
        training: TrainingSettings = TrainingSettings()
        weights: list[LayerWeights] = OPTIONAL  # absent: drawn from the seed
        lesson: _lesson_model() = OPTIONAL  # a lesson file's text (core.lessons); an experiment does not keep it

    return TypeAdapter(Experiment), TypeAdapter(dataset_choice)


def _engineered_order(value: Any, handler: Callable[[Any], Any]) -> list[str]:
    """A dataset's ``engineered`` names (core.features) in canonical order; a name given twice is refused."""
    names = handler(value)
    repeated = next((name for name in names if names.count(name) > 1), None)
    if repeated is not None:
        raise at_key((), f"engineered feature {repeated!r} is given twice")
    return canonical(names)


# ----- validating -----------------------------------------------------------------------------
NETWORK_SPEC = TypeAdapter(NetworkSpec)
TRAINING_SETTINGS = TypeAdapter(TrainingSettings)


def _validated(adapter: TypeAdapter, data: object, where: str) -> Any:
    """``data`` checked by ``adapter`` and dumped back to plain JSON values (only the keys
    it gave); SchemaError naming the key path (after ``where``) otherwise."""
    check_structure(data, where)
    try:
        value = adapter.validate_python(data)
    except ValidationError as exc:
        raise SchemaError(error_line(exc, where)) from None
    return adapter.dump_python(value, exclude_unset=True)


def validate_experiment(data: object) -> dict:
    """The experiment ``data`` (parsed JSON) with every key checked: ``{"dataset": …,
    "network": …}`` and ``"training"``, ``"weights"`` and ``"lesson"`` when given, values normalised (1 → 1.0
    for a number)."""
    return _validated(_experiment_adapters()[0], data, "")


def validate_lesson(data: object, where: str = "lesson") -> dict:
    """A lesson file's ``lesson`` object (title, goal, steps, questions, try_next, epochs_hint) with every key checked."""
    return _validated(_lesson_adapter(), data, where)


@cache
def _lesson_adapter() -> TypeAdapter:
    return TypeAdapter(_lesson_model())


def validate_network_spec(spec: object, where: str = "network") -> dict:
    """A network spec (``{"input_shape": [...], "layers": [...]}``) with every key checked;
    messages start with the key path after ``where``."""
    return _validated(NETWORK_SPEC, spec, where)


def validate_dataset(data: object, where: str = "dataset") -> dict:
    """An experiment's ``dataset`` object (a built-in name, a data file or inline data) with every key checked."""
    return _validated(_experiment_adapters()[1], data, where)


def validate_training(data: object, where: str = "training") -> dict:
    """Training settings (TrainingConfig's fields, any subset) with every key checked."""
    return _validated(TRAINING_SETTINGS, data, where)


def check_training_config(config: TrainingConfig) -> None:
    """SchemaError unless every field of ``config`` (built in code) fits its declared type and range."""
    validate_training({f.name: getattr(config, f.name) for f in dataclasses.fields(config)}, "")


def experiment_json_schema() -> dict:
    """The experiment format as JSON Schema, for documentation and editors."""
    schema = _experiment_adapters()[0].json_schema()
    schema["title"] = "Epoch Lab experiment"
    return schema


# ----- one line per problem -------------------------------------------------------------------
def check_structure(data: object, where: str = "") -> None:
    """SchemaError when ``data`` nests objects and arrays deeper than MAX_DEPTH, or holds
    text (a key or a value) that is not valid Unicode (a lone surrogate such as ``"\\ud800"``).
    Walked without recursion, so that any depth is refused cleanly."""
    stack: list[tuple[object, tuple[Any, ...]]] = [(data, ())]
    while stack:
        value, loc = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise SchemaError(f"{key_path(where, loc)}: holds text that is not valid Unicode (a lone surrogate)") from None
        elif isinstance(value, dict | list | tuple):
            if len(loc) >= MAX_DEPTH:
                raise SchemaError(f"{key_path(where, loc)}: nested more than {MAX_DEPTH} levels deep; an experiment needs 5")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                stack += [(item, (*loc, key))] if not isinstance(key, str) else [(item, (*loc, key)), (key, loc)]


def key_path(where: str, loc: Iterable[Any]) -> str:
    """``network`` + ("layers", 2, "rate") → ``network.layers[2].rate``."""
    path = where
    for key in loc:
        if isinstance(key, int):
            path += f"[{key}]"
        elif isinstance(key, str) and key.isidentifier():
            path += f".{key}" if path else key
        else:
            path += f"[{quote(key)}]"
    return path or "the top level"


def _location(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """An error's location without the union tags pydantic adds after a union's key."""
    kept: list[Any] = []
    for i, key in enumerate(loc):
        after_union = i == 0 or isinstance(loc[i - 1], int) or (i == 1 and loc[0] in ("dataset", "network"))
        if not (after_union and key in UNION_TAGS):
            kept.append(key)
    return tuple(kept)


def _unknown_key(ctx: dict, value: Any) -> tuple[tuple[Any, ...], str]:
    known = list(ctx["known"])
    close = difflib.get_close_matches(ctx["key"], known, n=1) if isinstance(ctx["key"], str) else []
    hint = f"did you mean '{close[0]}'?" if close else f"the known ones are {', '.join(known)}"
    return (ctx["key"],), f"unknown {ctx['noun']}; {hint}"


def _unknown_choice(ctx: dict, value: Any) -> tuple[tuple[Any, ...], str]:
    close = difflib.get_close_matches(value, ctx["options"], n=1) if ctx.get("suggest") else []
    hint = f"did you mean '{close[0]}'?" if close else f"choose one of {', '.join(ctx['options'])}"
    return (), f"unknown {ctx['noun']} {value!r}; {hint}"


def _layer_type(ctx: dict, value: Any) -> tuple[tuple[Any, ...], str]:
    given = value.get("type") if isinstance(value, dict) else None
    wrong = f"unknown layer type {given!r}" if isinstance(given, str) else f"expected a layer type, got {shown(given)}"
    return ("type",), f"{wrong}; choose one of {', '.join(LAYER_MODELS)}"


def _not_an_object(ctx: dict, value: Any) -> tuple[tuple[Any, ...], str]:
    return (), f"expected a JSON object, got {shown(value)}"


MESSAGES: dict[str, Callable[[dict, Any], tuple[tuple[Any, ...], str]]] = {
    # pydantic error type → (keys after the error's location, the message)
    "expected": lambda ctx, value: ((), f"expected {ctx['what']}, got {shown(value)}"),
    "unknown_choice": _unknown_choice,
    "unknown_key": _unknown_key,
    "missing_key": lambda ctx, value: ((ctx["key"],), f"missing; {ctx['what']} needs {_quoted_list(ctx['required'])}"),
    "union_tag_invalid": _layer_type,
    "union_tag_not_found": lambda ctx, value: (("type",), f"missing; a layer needs a 'type': one of {', '.join(LAYER_MODELS)}"),
    "model_attributes_type": _not_an_object,
    "model_type": _not_an_object,
    "dict_type": _not_an_object,
    "list_type": lambda ctx, value: ((), f"expected a list, got {shown(value)}"),
    "too_short": lambda ctx, value: ((), f"expected at least {ctx['min_length']} item(s), got {shown(value)}"),
    "too_long": lambda ctx, value: ((), f"expected at most {ctx['max_length']} item(s), got {shown(value)}"),
    "at_key": lambda ctx, value: (tuple(ctx["keys"]), ctx["text"]),
}


def error_line(exc: ValidationError, where: str = "") -> str:
    """The first of pydantic's errors as ``key.path: what is wrong, got <value>``."""
    error = exc.errors(include_url=False)[0]
    message = MESSAGES.get(error["type"])
    keys, text = message(error.get("ctx") or {}, error.get("input")) if message else ((), error["msg"])
    return f"{key_path(where, (*_location(error['loc']), *keys))}: {text}"


def quote(text: str) -> str:
    """``text`` in double quotes, quotes, backslashes and anything unprintable (line breaks,
    lone surrogates) escaped, so that a message stays one printable line."""
    def escaped(ch: str) -> str:
        if ch in '"\\':
            return "\\" + ch
        return ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace").decode("ascii")

    return '"' + "".join(map(escaped, text)) + '"'


def shown(value: object, depth: int = 2) -> str:
    """A short JSON-like rendering of a wrong value for a message (at most GOT_CHARS)."""
    text = _render(value, depth)
    return text if len(text) <= GOT_CHARS else text[: GOT_CHARS - 1] + "…"


def _render(value: object, depth: int) -> str:
    """JSON-like text of ``value``: containers cut to SHOWN_ITEMS items and ``depth`` levels."""
    if not isinstance(value, dict | list | tuple):
        return _scalar_text(value)
    opening, closing = "{}" if isinstance(value, dict) else "[]"
    if not value or depth == 0:
        return opening + ("…" if value else "") + closing
    pairs = value.items() if isinstance(value, dict) else ((None, item) for item in value)
    items = [("" if key is None else f"{quote(str(key))}: ") + _render(item, depth - 1)
             for key, item in itertools.islice(pairs, SHOWN_ITEMS)]
    return opening + ", ".join(items) + (", …" if len(value) > SHOWN_ITEMS else "") + closing


def _scalar_text(value: object) -> str:
    if value is None or isinstance(value, bool):
        text = json.dumps(value)
    elif isinstance(value, int) and value.bit_length() > 128:
        text = f"a whole number of about {math.ceil(value.bit_length() * math.log10(2))} digits"
    elif isinstance(value, int | float):
        text = repr(value)
    else:
        text = quote((value if isinstance(value, str) else repr(value))[:GOT_CHARS])
    return text
