"""Hostile model files: ``load_model`` returns a sound Network or raises one of the project's
own errors with a one-line message naming the file — never anything else, never NaN
weights, never a standardization that does not fit the inputs."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.files import FileFormatError, load_model, save_model
from core.limits import ResourceError
from core.network import Network, Preprocess

SPEC = {"input_shape": [3], "layers": [
    {"type": "dense", "units": 4, "activation": "tanh", "initializer": "glorot_uniform"},
    {"type": "dropout", "rate": 0.25},
    {"type": "dense", "units": 2, "activation": "softmax"},
]}
PROJECT_ERRORS = (FileFormatError, ResourceError)  # LoaderError is a FileFormatError


def valid_arrays() -> dict[str, np.ndarray]:
    """The members of a valid model file for SPEC, standardization included, as save_model writes them."""
    net = Network(SPEC, seed=1)
    net.preprocess = Preprocess(np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, 0.5]))
    with tempfile.TemporaryDirectory() as folder:
        save_model(Path(folder) / "valid.npz", net)
        with np.load(Path(folder) / "valid.npz", allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}


VALID = valid_arrays()


def write(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    np.savez(path, allow_pickle=False, **arrays)
    return path


def assert_loads_or_refuses(path: Path) -> Network | None:
    """The property: a Network whose weights are finite and whose standardization fits its
    inputs, or a project error with one line naming the file."""
    try:
        network = load_model(path)
    except PROJECT_ERRORS as exc:
        message = str(exc)
        assert "\n" not in message and str(path) in message, message
        assert "allow_pickle" not in message and "Traceback" not in message, message
        return None
    assert np.isfinite(network.params).all()
    if network.preprocess is not None:
        assert network.preprocess.mean.shape == network.preprocess.std.shape == network.input_shape
        assert np.isfinite(network.preprocess.mean).all() and (network.preprocess.std > 0).all()
    return network


def test_the_valid_file_loads(tmp_path):
    network = assert_loads_or_refuses(write(tmp_path / "m.npz", VALID))
    assert network is not None and network.spec()["layers"][0]["units"] == 4


def test_the_file_written_by_save_model_loads(tmp_path):
    net = Network(SPEC, seed=2)
    save_model(tmp_path / "m.npz", net)
    assert np.array_equal(load_model(tmp_path / "m.npz").params, net.params)


BAD_MEMBERS = {
    "NaN weight": {"layer0.W": np.where(np.eye(4, 3) > 0, np.nan, 0.0)},
    "infinite bias": {"layer2.b": np.array([0.0, -np.inf])},
    "too large for float32": {"layer2.W": np.full((2, 4), 1e300)},
    "complex weights": {"layer0.b": np.zeros(4, np.complex64)},
    "boolean weights": {"layer0.b": np.ones(4, bool)},
    "text weights": {"layer0.b": np.array(["a", "b", "c", "d"])},
    "transposed weights": {"layer0.W": np.zeros((3, 4))},
    "a scalar bias": {"layer2.b": np.array(0.0)},
    "spec as a number": {"spec": np.array(3.0)},
    "spec as a list of strings": {"spec": np.array(["{", "}"])},
    "spec as bytes": {"spec": np.array(b"{}")},
    "spec not JSON": {"spec": np.array("{'input_shape': [3]}")},
    "spec nested too deeply": {"spec": np.array("[" * 100_000 + "]" * 100_000)},
    "spec with a 5000-digit number": {"spec": np.array('{"input_shape": [' + "9" * 5000 + "]}")},
    "spec with an unknown key": {"spec": np.array(json.dumps({**SPEC, "colour": "red"}))},
    "spec with NaN units": {"spec": np.array(json.dumps({**SPEC, "layers": [{**SPEC["layers"][0], "units": float("nan")},
                                                                          *SPEC["layers"][1:]]}))},
    "preprocess too short": {"preprocess": np.array(json.dumps({"mean": [0.0, 0.0], "std": [1.0, 1.0]}))},
    "preprocess too long": {"preprocess": np.array(json.dumps({"mean": [0.0] * 4, "std": [1.0] * 4}))},
    "preprocess of strings": {"preprocess": np.array(json.dumps({"mean": ["0", "0", "0"], "std": [1, 1, 1]}))},
    "preprocess of booleans": {"preprocess": np.array(json.dumps({"mean": [0, 0, 0], "std": [True, True, True]}))},
    "preprocess with a zero std": {"preprocess": np.array(json.dumps({"mean": [0, 0, 0], "std": [1, 0, 1]}))},
    "preprocess with a negative std": {"preprocess": np.array(json.dumps({"mean": [0, 0, 0], "std": [1, -2, 1]}))},
    "preprocess with NaN": {"preprocess": np.array('{"mean": [NaN, 0, 0], "std": [1, 1, 1]}')},
    "preprocess with Infinity": {"preprocess": np.array('{"mean": [0, 0, 0], "std": [1, Infinity, 1]}')},
    "preprocess as a list": {"preprocess": np.array("[1, 2, 3]")},
    "preprocess with more keys": {"preprocess": np.array(json.dumps({"mean": [0] * 3, "std": [1] * 3, "min": [0] * 3}))},
    "an array no layer uses": {"layer7.W": np.zeros((2, 2))},
    "parameters of the dropout layer": {"layer1.W": np.zeros((4, 4))},
}


@pytest.mark.parametrize("what", list(BAD_MEMBERS))
def test_a_model_that_cannot_be_right_is_refused(tmp_path, what):
    path = write(tmp_path / "model.npz", {**VALID, **BAD_MEMBERS[what]})
    with pytest.raises(PROJECT_ERRORS) as info:
        load_model(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_weight_beyond_float32_is_named_with_the_dtype(tmp_path):
    path = write(tmp_path / "model.npz", {**VALID, **BAD_MEMBERS["too large for float32"]})
    with pytest.raises(FileFormatError, match=r"layer2\.W.*1e\+300.*float32"):
        load_model(path)


def test_the_preprocess_must_fit_the_inputs(tmp_path):
    path = write(tmp_path / "model.npz", {**VALID, **BAD_MEMBERS["preprocess too short"]})
    with pytest.raises(FileFormatError, match=r"preprocess\.mean has 2 values but the network takes 3 inputs"):
        load_model(path)


def test_a_missing_preprocess_means_none(tmp_path):
    arrays = {k: v for k, v in VALID.items() if k != "preprocess"}
    assert load_model(write(tmp_path / "model.npz", arrays)).preprocess is None


# ----- the property -------------------------------------------------------------------------------
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 40) | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
SPEC_KEYS = ["input_shape", "layers", "type", "units", "activation", "initializer", "rate", "slope"]
DTYPES = ["float16", "float32", "float64", "int8", "int64", "uint8", "bool", "complex64", "complex128", "<U6", "|S3", "<M8[s]"]
MEMBER_NAMES = sorted(VALID) + ["layer1.W", "layer3.W", "layer0.c", "extra", "spec.npy"]


def _with_value_at(data: object, path: list[int], value: object) -> object:
    """``data`` with the node the indices ``path`` lead to (through dict values and list items) replaced by ``value``."""
    if not path or not isinstance(data, dict | list) or not data:
        return value
    keys = list(data) if isinstance(data, dict) else list(range(len(data)))
    key = keys[path[0] % len(keys)]
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[key] = _with_value_at(data[key], path[1:], value)
    return copy


@st.composite
def json_text_mutation(draw, key: str) -> tuple[str, np.ndarray]:
    """A changed ``spec`` or ``preprocess``: a node replaced, a key renamed or added, or the text cut."""
    data = json.loads(str(VALID[key]))
    kind = draw(st.sampled_from(["replace", "rename", "add", "cut"]))
    if kind == "replace":
        data = _with_value_at(data, draw(st.lists(st.integers(0, 10), max_size=4)), draw(JSON_VALUES))
    elif kind in ("rename", "add") and isinstance(data, dict):
        node = draw(st.sampled_from([data, *[layer for layer in data.get("layers", []) if isinstance(layer, dict)]]))
        name = draw(st.sampled_from(SPEC_KEYS + ["mean", "std", "colour"]))
        if kind == "rename" and node:
            node[name] = node.pop(draw(st.sampled_from(sorted(node))))
        else:
            node[name] = draw(JSON_VALUES)
    text = json.dumps(data)
    if kind == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    return key, np.array(text)


@st.composite
def array_mutation(draw) -> tuple[str, np.ndarray | None]:
    """A member with another dtype or shape, NaN/inf/complex values in it, dropped (None) or added."""
    name = draw(st.sampled_from(MEMBER_NAMES))
    base = VALID.get(name, np.zeros((2, 3)))
    kind = draw(st.sampled_from(["dtype", "shape", "values", "drop"]))
    if kind == "drop":
        return name, None
    if kind == "dtype":
        with np.errstate(all="ignore"):
            try:
                return name, base.astype(draw(st.sampled_from(DTYPES)))
            except (ValueError, TypeError):  # e.g. a JSON string as a number
                return name, np.zeros(base.shape, draw(st.sampled_from(DTYPES)))
    if kind == "shape":
        shape = tuple(draw(st.lists(st.integers(0, 5), max_size=3)))
        return name, np.resize(base, shape) if base.size else np.zeros(shape)
    value = draw(st.sampled_from([np.nan, np.inf, -np.inf, 1e39, 3e300, 1j]))
    dtype = "complex128" if isinstance(value, complex) else draw(st.sampled_from(["float32", "float64"]))
    values = np.array(base if base.dtype.kind in "biufc" else np.zeros((2, 3)), dtype=dtype)
    flat = values.reshape(-1)
    if flat.size:
        with np.errstate(over="ignore"):  # 3e300 in float32 is inf, as wanted
            flat[draw(st.integers(0, flat.size - 1))] = value
    return name, values


def flip_bytes(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    raw = bytearray(data)
    for position, value in flips:
        raw[position % len(raw)] ^= value or 1
    return bytes(raw)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    changes=st.lists(st.one_of(array_mutation(), json_text_mutation("spec"), json_text_mutation("preprocess")), max_size=3),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3),
)
def test_a_mutated_model_file_loads_or_raises_a_project_error(tmp_path, changes, flips):
    arrays = dict(VALID)
    for name, value in changes:
        if value is None:
            arrays.pop(name, None)
        else:
            arrays[name] = value
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    path = tmp_path / "mutated.npz"
    path.write_bytes(flip_bytes(buffer.getvalue(), flips))
    assert_loads_or_refuses(path)

