"""Every kind of layer by its spec ``type``, building layers from specs, and the input
shape a network of given layers takes from its data."""

from __future__ import annotations

import math

from .batchnorm import BatchNorm
from .conv_layers import AvgPool2D, Conv2D, Flatten, MaxPool2D
from .embedding import Embedding
from .layers import Dense, Dropout, Layer, SpecError
from .recurrent import GRU, LSTM, SimpleRNN

LAYER_TYPES: dict[str, type[Layer]] = {"dense": Dense, "dropout": Dropout, "conv2d": Conv2D, "maxpool2d": MaxPool2D,
                                       "avgpool2d": AvgPool2D, "flatten": Flatten, "batchnorm": BatchNorm,
                                       "rnn": SimpleRNN, "lstm": LSTM, "gru": GRU, "embedding": Embedding}


def layer_from_spec(spec: dict) -> Layer:
    """Build an (unbuilt) layer from its spec dict; raise SpecError on anything wrong."""
    if not isinstance(spec, dict) or "type" not in spec:
        raise SpecError(f"a layer spec must be an object with a 'type', got {spec!r}")
    kind = spec["type"]
    if kind not in LAYER_TYPES:
        raise SpecError(f"unknown layer type {kind!r}; choose one of {', '.join(LAYER_TYPES)}")
    kwargs = {k: v for k, v in spec.items() if k != "type"}
    try:
        return LAYER_TYPES[kind](**kwargs)
    except TypeError as exc:
        raise SpecError(f"bad settings for a {kind} layer: {exc}") from None


def takes_images(layer_specs: list[dict]) -> bool:
    """Whether any of these layer specs works on image samples (Conv2D, pooling, Flatten)."""
    return _any_kind(layer_specs, "takes_images")


def takes_sequences(layer_specs: list[dict]) -> bool:
    """Whether any of these layer specs works on sequences (T, F) or token ids (SimpleRNN, LSTM, GRU, Embedding)."""
    return _any_kind(layer_specs, "takes_sequences")


def _any_kind(layer_specs: list[dict], flag: str) -> bool:
    return any(isinstance(s, dict) and s.get("type") in LAYER_TYPES and getattr(LAYER_TYPES[s["type"]], flag)
               for s in layer_specs)


def check_layers_fit(sample_shape: tuple[int, ...], layer_specs: list[dict]) -> None:
    """SpecError, in the data's words, for hidden layers that cannot take samples of
    ``sample_shape``: a convolution or pooling layer on sequences (T, F), which would get
    them flattened, and an Embedding followed by neither a recurrent nor a Flatten layer (its
    (T, dimension) vectors would reach a Dense layer)."""
    kinds = [s.get("type") if isinstance(s, dict) else None for s in layer_specs]
    if len(sample_shape) == 2:
        image = next((i for i, kind in enumerate(kinds) if kind in ("conv2d", "maxpool2d", "avgpool2d")), None)
        if image is not None:
            steps, features = sample_shape
            raise SpecError(f"layer {image + 1} ({kinds[image]}): a convolution or pooling layer needs images (H, W, C); this "
                            f"data is sequences of {steps} steps × {features} feature{'s' * (features != 1)}: use recurrent layers "
                            "(rnn, lstm, gru) for sequences")
    if "embedding" in kinds:
        after = kinds[kinds.index("embedding") + 1:]
        if not any(kind in ("rnn", "lstm", "gru", "flatten") for kind in after):
            raise SpecError(f"layer {kinds.index('embedding') + 1} (embedding): an Embedding gives a (steps, dimension) vector "
                            "sequence, one vector a token: put a recurrent layer (rnn, lstm, gru) after it to read them, "
                            "or a Flatten layer")


def input_shape_for(sample_shape: tuple[int, ...], layer_specs: list[dict]) -> tuple[int, ...]:
    """The input shape of a network of ``layer_specs`` on samples of ``sample_shape``: the
    image shape (H, W, C) when a layer takes images, the sequence shape (T, F) when one takes
    sequences, else the flat (n,) a dense network sees (row-major, channels innermost: what
    Flatten gives)."""
    if (len(sample_shape) == 3 and takes_images(layer_specs)) or (len(sample_shape) == 2 and takes_sequences(layer_specs)):
        return tuple(sample_shape)
    return (math.prod(sample_shape),)
