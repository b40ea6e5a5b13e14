"""The declared schema of experiments and network specs (core.schema): hostile JSON gets one
line of the project's own error naming the key path, never a traceback or pydantic's text;
every experiment the app writes still loads; the JSON Schema export documents the format."""

from __future__ import annotations

import copy
import itertools
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from core.cli import main
from core.data import DataError
from core.experiment import FILE_OPTIONS, MAX_EXPERIMENT_BYTES, Experiment, default_experiment, load_dataset, network_spec
from core.files import FileFormatError, save_data_npz
from core.layer_types import LAYER_TYPES
from core.layers import SpecError
from core.limits import ResourceError
from core.network import Network
from core.schema import MAX_DEPTH, SchemaError, experiment_json_schema, validate_experiment, validate_network_spec
from core.trainer import ConfigError, TrainingConfig

PROJECT_ERRORS = (ConfigError, SpecError, DataError, FileFormatError, ResourceError)


def default_json() -> dict:
    return default_experiment().to_json()


def file_experiment() -> dict:
    """A data-file experiment with every file option set, as the window's loader writes them."""
    return {"dataset": {"path": "table.csv", "target": "price", "roles": {"id": "ignore"}, "types": {"rooms": "categorical"},
                        "task": "regression", "missing": "mean", "scale": "standardize", "header": True, "delimiter": ";",
                        "decimal": ",", "encoding": "latin-1", "labels": "labels.idx", "image_size": [28, 28], "grey": False},
            "network": {}, "training": {"loss": "mse", "optimizer": "sgd", "shuffle": False}}


def real_experiment() -> dict:
    return {"dataset": {"name": "iris", "missing": "drop", "scale": "minmax"},
            "network": {"input_shape": [4], "layers": [{"type": "dense", "units": 6, "activation": "leaky_relu", "slope": 0.1},
                                                       {"type": "dropout", "rate": 0.25},
                                                       {"type": "dense", "units": 3, "activation": "softmax"}]},
            "training": {"learning_rate": 1, "epochs": 0}}


VALID_EXPERIMENTS = {"default": default_json, "data file": file_experiment, "real dataset": real_experiment}


def assert_one_line(message: str) -> None:
    assert message and "\n" not in message and "\r" not in message, message
    assert "pydantic" not in message and "Traceback" not in message and "For further information" not in message, message
    message.encode("utf-8")  # printable on any terminal that prints UTF-8


def schema_error(data: object) -> str:
    """The one-line message validate_experiment gives for ``data``."""
    with pytest.raises(SchemaError) as info:
        validate_experiment(data)
    assert_one_line(str(info.value))
    return str(info.value)


def with_change(change, base: dict | None = None) -> dict:
    data = copy.deepcopy(base or default_json())
    change(data)
    return data


# ----- the issue's cases: wrong types ---------------------------------------------------------------
WRONG_TYPES = {
    "training is a number": (lambda d: d.update(training=5), "training: expected a JSON object (the training settings), got 5"),
    "roles is text": (lambda d: d.update(dataset={"path": "t.csv", "roles": "x"}), 'dataset.roles: expected a JSON object, got "x"'),
    "dataset name is a list": (lambda d: d["dataset"].update(name=["spiral"]), 'dataset.name: expected one of adding, blobs, '),
    "shuffle is text": (lambda d: d["training"].update(shuffle="no"), 'training.shuffle: expected true or false, got "no"'),
    "rate is text": (lambda d: d["network"]["layers"].insert(2, {"type": "dropout", "rate": "x"}),
                     'network.layers[2].rate: expected a number in [0, 1), got "x"'),
    "units as text": (lambda d: d["network"]["layers"][0].update(units="8"), 'network.layers[0].units: expected a whole number ≥ 1, got "8"'),
    "epochs as a float": (lambda d: d["training"].update(epochs=300.0), "training.epochs: expected a whole number ≥ 0, got 300.0"),
    "a flag as a number": (lambda d: d["training"].update(standardize=0), "training.standardize: expected true or false, got 0"),
    "a number as a flag": (lambda d: d["training"].update(learning_rate=True), "training.learning_rate: expected a number > 0, got true"),
    "input shape a number": (lambda d: d["network"].update(input_shape=2), "network.input_shape: expected a list of whole numbers ≥ 1"),
    "layers an object": (lambda d: d["network"].update(layers={"type": "dense"}), 'network.layers: expected a list, got {"type": "dense"}'),
    "a layer a number": (lambda d: d["network"]["layers"].append(5), "network.layers[3]: expected a JSON object, got 5"),
    "a layer type a number": (lambda d: d["network"]["layers"][1].update(type=3), "network.layers[1].type: expected a layer type, got 3"),
    "network a list": (lambda d: d.update(network=[]), "network: expected a JSON object: a network spec"),
    "dataset a list": (lambda d: d.update(dataset=[]), "dataset: expected a JSON object with a 'name'"),
    "target a list": (lambda d: d.update(dataset={"path": "t.csv", "target": [1]}), "dataset.target: expected a column name or 0-based position"),
    "a role a number": (lambda d: d.update(dataset={"path": "t.csv", "roles": {"a": 1}}), "dataset.roles.a: expected one of feature, target"),
    "loss null is fine, optimizer null is not": (lambda d: d["training"].update(loss=None, optimizer=None),
                                                 "training.optimizer: expected one of sgd, momentum, rmsprop, adam, got null"),
}


@pytest.mark.parametrize("change,message", WRONG_TYPES.values(), ids=WRONG_TYPES)
def test_wrong_types_name_the_key_path(change, message):
    assert schema_error(with_change(change)).startswith(message)


def test_the_issues_example_reads_exactly_as_promised():
    data = with_change(lambda d: d["network"]["layers"].insert(2, {"type": "dropout", "rate": "x"}))
    assert schema_error(data) == 'network.layers[2].rate: expected a number in [0, 1), got "x"'


def test_the_top_level_must_be_an_experiment_object():
    assert schema_error([1, 2]) == "the top level: expected a JSON object (an experiment needs 'dataset' and 'network'), got [1, 2]"
    assert schema_error({"dataset": {"name": "xor"}}) == "network: missing; an experiment needs 'dataset' and 'network'"


# ----- unknown and misspelt keys, at every level ---------------------------------------------------
UNKNOWN_KEYS = {
    "top level": (lambda d: d.update(netwrk={}), "netwrk: unknown experiment key; did you mean 'network'?"),
    "built-in dataset": (lambda d: d["dataset"].update(sample=5), "dataset.sample: unknown dataset setting; did you mean 'samples'?"),
    "data file": (lambda d: d.update(dataset={"path": "t.csv", "traget": "y"}), "dataset.traget: unknown dataset setting; did you mean 'target'?"),
    "network": (lambda d: d["network"].update(input=[2]), "network.input: unknown network setting; did you mean 'input_shape'?"),
    "dense layer": (lambda d: d["network"]["layers"][1].update(activaton="relu"),
                    "network.layers[1].activaton: unknown dense layer setting; did you mean 'activation'?"),
    "dropout layer": (lambda d: d["network"]["layers"].insert(1, {"type": "dropout", "rate": 0.1, "p": 0.1}),
                      "network.layers[1].p: unknown dropout layer setting; the known ones are type, rate"),
    "training": (lambda d: d["training"].update(lr=0.1), "training.lr: unknown training setting; the known ones are loss, optimizer,"),
    "training, misspelt": (lambda d: d["training"].update(learning_rat=0.1),
                           "training.learning_rat: unknown training setting; did you mean 'learning_rate'?"),
    "a key with a line break": (lambda d: d["training"].update({"a\nb": 1}), 'training["a\\nb"]: unknown training setting'),
    "an empty network given a key": (lambda d: d.update(network={"layers": []}), "network.input_shape: missing; a network spec needs"),
}


@pytest.mark.parametrize("change,message", UNKNOWN_KEYS.values(), ids=UNKNOWN_KEYS)
def test_unknown_keys_are_refused_with_the_nearest_known_one(change, message):
    assert schema_error(with_change(change)).startswith(message)


# ----- values out of their range -------------------------------------------------------------------
OUT_OF_RANGE = {
    "dropout rate 1": (lambda d: d["network"]["layers"].insert(1, {"type": "dropout", "rate": 1.0}),
                       "network.layers[1].rate: expected a number in [0, 1), got 1.0"),
    "no units": (lambda d: d["network"]["layers"][0].update(units=0), "network.layers[0].units: expected a whole number ≥ 1, got 0"),
    "leaky slope 1": (lambda d: d["network"]["layers"][0].update(activation="leaky_relu", slope=1),
                      "network.layers[0].slope: expected a number in [0, 1), got 1"),
    "empty input shape": (lambda d: d["network"].update(input_shape=[]), "network.input_shape: expected a list of whole numbers ≥ 1"),
    "no layers": (lambda d: d["network"].update(layers=[]), "network.layers: expected at least 1 item(s), got []"),
    "zero learning rate": (lambda d: d["training"].update(learning_rate=0), "training.learning_rate: expected a number > 0, got 0"),
    "NaN learning rate": (lambda d: d["training"].update(learning_rate=float("nan")), "training.learning_rate: expected a number > 0, got nan"),
    "infinite l2": (lambda d: d["training"].update(l2=float("inf")), "training.l2: expected a number ≥ 0, got inf"),
    "validation fraction 1": (lambda d: d["training"].update(val_fraction=1), "training.val_fraction: expected a number in [0, 1), got 1"),
    "negative seed": (lambda d: d["training"].update(seed=-1), "training.seed: expected a whole number ≥ 0, got -1"),
    "three samples": (lambda d: d["dataset"].update(samples=3), "dataset.samples: expected a whole number ≥ 4, or null, got 3"),
    "negative noise": (lambda d: d["dataset"].update(noise=-0.1), "dataset.noise: expected a number ≥ 0, or null, got -0.1"),
    "a huge number": (lambda d: d["dataset"].update(noise=-(10 ** 300)), "dataset.noise: expected a number ≥ 0, or null, got a whole number of"),
    "image side 0": (lambda d: d.update(dataset={"path": "imgs", "image_size": [0, 5]}), "dataset.image_size: expected [height, width]"),
    "image side text too large": (lambda d: d.update(dataset={"path": "imgs", "image_size": "5000x5"}), "dataset.image_size: expected"),
    "empty path": (lambda d: d.update(dataset={"path": ""}), 'dataset.path: expected a file path (non-empty text), got ""'),
    "two-character delimiter": (lambda d: d.update(dataset={"path": "t.csv", "delimiter": ";;"}), "dataset.delimiter: expected one character"),
    "unknown encoding": (lambda d: d.update(dataset={"path": "t.csv", "encoding": "utf-9"}), "dataset.encoding: expected the name of a text encoding"),
    "an encoding that is not for text": (lambda d: d.update(dataset={"path": "t.csv", "encoding": "rot13"}),
                                        "dataset.encoding: expected the name of a text encoding"),
    "unknown dataset": (lambda d: d["dataset"].update(name="nope"), "dataset.name: unknown dataset 'nope'; choose one of adding, blobs,"),
    "unknown activation": (lambda d: d["network"]["layers"][0].update(activation="swish"), "network.layers[0].activation: unknown activation 'swish'"),
    "unknown layer type": (lambda d: d["network"]["layers"][0].update(type="conv"),
                           "network.layers[0].type: unknown layer type 'conv'; choose one of dense, dropout"),
    "unknown optimizer": (lambda d: d["training"].update(optimizer="lbfgs"), "training.optimizer: unknown optimizer 'lbfgs'; choose one of sgd"),
    "samples of a real dataset": (lambda d: d["dataset"].update(name="iris"), "dataset: iris is a real dataset: samples and noise apply only"),
}


@pytest.mark.parametrize("change,message", OUT_OF_RANGE.values(), ids=OUT_OF_RANGE)
def test_out_of_range_values_name_the_key_and_the_range(change, message):
    assert schema_error(with_change(change)).startswith(message)


def test_nesting_is_capped_without_recursion():
    deep: object = 1
    for _ in range(100_000):
        deep = [deep]
    message = schema_error(with_change(lambda d: d["training"].update(epochs=deep)))
    assert message.startswith("training.epochs[0][0]") and f"nested more than {MAX_DEPTH} levels deep" in message


def test_text_that_is_not_unicode_is_refused():
    assert schema_error(with_change(lambda d: d["dataset"].update(name="\ud800"))).startswith("dataset.name: holds text that is not valid")


def test_a_network_spec_in_a_model_file_is_checked_with_its_own_prefix():
    spec = {"input_shape": [3], "layers": [{"type": "dense", "units": -1}]}
    with pytest.raises(SchemaError, match=r"^spec\.layers\[0\]\.units: expected a whole number ≥ 1, got -1$"):
        validate_network_spec(spec, where="spec")
    with pytest.raises(SchemaError, match=r"^network: expected a JSON object"):
        validate_network_spec("8:relu")
    assert validate_network_spec(default_json()["network"]) == default_json()["network"]


def test_schema_errors_are_caught_as_config_and_spec_errors():
    with pytest.raises(ConfigError):
        validate_experiment({})
    with pytest.raises(SpecError):
        validate_network_spec({})


# ----- TrainingConfig: one source for its ranges -------------------------------------------------------
@pytest.mark.parametrize(("given", "message"), [
    ({"learning_rate": -1}, "learning_rate: expected a number > 0, got -1"),
    ({"batch_size": np.int64(8)}, "batch_size: expected a whole number ≥ 1, got"),
    ({"val_fraction": None}, "val_fraction: expected a number in [0, 1), got null"),
    ({"loss": "hinge"}, "loss: unknown loss 'hinge'; choose one of mse, binary_crossentropy, categorical_crossentropy"),
])
def test_a_training_config_built_in_code_is_checked_by_the_same_schema(given, message):
    with pytest.raises(ConfigError) as info:
        TrainingConfig(**given)
    assert str(info.value).startswith(message)


def test_the_training_schema_is_derived_from_training_config():
    properties = experiment_json_schema()["$defs"]["TrainingSettings"]["properties"]
    assert list(properties) == list(TrainingConfig.__dataclass_fields__)
    assert properties["val_fraction"] == {"default": 0.2, "description": "a number in [0, 1)", "exclusiveMaximum": 1, "minimum": 0,
                                          "title": "Val Fraction", "type": "number"}
    assert properties["learning_rate"]["exclusiveMinimum"] == 0 and properties["batch_size"]["minimum"] == 1
    assert TrainingConfig.from_json({"learning_rate": 1}) == TrainingConfig(learning_rate=1.0)


# ----- the JSON Schema export ---------------------------------------------------------------------------
def test_the_json_schema_is_json_and_documents_every_layer_and_option():
    schema = experiment_json_schema()
    text = json.dumps(schema)
    assert json.loads(text) == schema and schema["title"] == "Epoch Lab experiment"
    definitions = schema["$defs"]
    layer_types = {d["properties"]["type"].get("const") for d in definitions.values() if "type" in d.get("properties", {})}
    assert set(LAYER_TYPES) <= layer_types
    assert set(FILE_OPTIONS) <= set(definitions["DataFile"]["properties"])
    assert all(d.get("additionalProperties") is False for d in definitions.values() if d.get("type") == "object")
    assert set(schema["required"]) == {"dataset", "network"}


# ----- every experiment the app writes or ships still loads ---------------------------------------------
def test_every_experiment_the_app_writes_still_loads(tmp_path):
    digits = load_dataset({"name": "digits"})
    written = {
        "default": default_experiment(),
        "digits, as the window benchmark builds it": Experiment(
            {"name": "digits"}, network_spec(digits, [{"type": "dense", "units": 16, "activation": "relu", "initializer": "he_normal"}]),
            TrainingConfig(learning_rate=0.001, batch_size=32)),
        "the CLI's derived network": Experiment({"name": "spiral", "seed": 3, "missing": "drop"}, {}),
        **{name: Experiment.from_json(make()) for name, make in VALID_EXPERIMENTS.items()},
    }
    for i, (name, experiment) in enumerate(written.items()):
        path = tmp_path / f"experiment{i}.json"
        experiment.save(path)
        assert Experiment.load(path) == experiment, name
    assert validate_experiment(file_experiment()) == file_experiment()


def test_a_cli_image_size_tuple_is_a_valid_dataset_option(tmp_path):
    save_data_npz(tmp_path / "points.npz", np.arange(8.0).reshape(4, 2), np.array([0, 1, 0, 1]))
    assert load_dataset({"path": "points.npz", "image_size": (28, 28)}, tmp_path).n_samples == 4


# ----- the file itself: only regular files, bounded, UTF-8, parseable -------------------------------------
def load_error(path: Path | str) -> str:
    with pytest.raises(FileFormatError) as info:
        Experiment.load(path)
    message = str(info.value)
    assert_one_line(message)
    assert message.startswith(f"{path}: "), message
    return message


def test_a_named_pipe_as_config_is_refused_without_blocking(tmp_path):
    pipe = tmp_path / "config.json"
    os.mkfifo(pipe)
    assert load_error(pipe).endswith("is a named pipe; only regular files are read")


def test_a_device_is_never_read():
    assert load_error("/dev/zero").endswith("is a device; only regular files are read")


def test_a_folder_and_a_missing_file(tmp_path):
    assert load_error(tmp_path).endswith("is a folder, not an experiment file")
    assert load_error(tmp_path / "missing.json").endswith("no such file")


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:
        f.truncate(MAX_EXPERIMENT_BYTES + 1)  # sparse: no disk used
    assert "larger than 16.0 MiB" in load_error(path)


@pytest.mark.parametrize(("content", "message"), [
    (b'{"dataset": {"name": "sp\xffiral"}}', "not UTF-8 text (byte 0xff at offset 24)"),
    (b"[" * 100_000 + b"]" * 100_000, "JSON nested too deeply to read"),
    (b"[" * 100, "not valid JSON (line 1, column 101"),
    (b'{"dataset": {"name": "xor"}, "network": {}, "network": {"input_shape": [2]}}', 'the key "network" appears twice in one object'),
    (b'{"dataset": {"name": "xor", "seed": ' + b"9" * 5000 + b'}, "network": {}}', "a whole number of 5000 digits"),
    (b'{"dataset": {"name": "xor"}, "network": {}, "training": {"l1": NaN}}', "training.l1: expected a number ≥ 0, got nan"),
    (b'{"dataset": {"name": "xor"}, "network": {}, "training": {"\\ud800": 1}}', "training: holds text that is not valid Unicode"),
    ('\ufeff{"dataset": {"name": "xor"}, "network": {}, "trainin": {}}'.encode(), "trainin: unknown experiment key; did you mean 'training'?"),
])
def test_hostile_experiment_files_get_one_line_naming_the_file(tmp_path, content, message):
    path = tmp_path / "lesson.json"
    path.write_bytes(content)
    assert message in load_error(path)


def test_the_cli_refuses_a_pipe_as_config_with_one_line(tmp_path, capsys):
    pipe = tmp_path / "fifo.json"
    os.mkfifo(pipe)
    assert main(["train", "--config", str(pipe)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {pipe}: is a named pipe; only regular files are read\n"


# ----- property: any mutation of a valid experiment loads or gets one clear error ---------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10 ** 20), 10 ** 20) | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
KEYS = st.sampled_from(["name", "path", "samples", "type", "units", "rate", "layers", "input_shape", "training", "seed", "roles"]) \
    | st.text(max_size=12)


def places(data: object, here: tuple = ()) -> list[tuple]:
    """The path of every value inside ``data`` (the root first)."""
    found = [here]
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        found += places(value, (*here, key))
    return found


def at(data: object, path: tuple) -> object:
    for key in path:
        data = data[key]
    return data


@st.composite
def mutated_experiments(draw) -> object:
    """A valid experiment with one to four keys deleted, inserted, replaced by random JSON
    (of any type) or nested deeper."""
    data: object = VALID_EXPERIMENTS[draw(st.sampled_from(sorted(VALID_EXPERIMENTS)))]()
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(places(data)))
        operation = draw(st.sampled_from(["delete", "insert", "replace", "deepen"]))
        if not path:  # the root itself
            data = draw(json_values) if operation == "replace" else [data] if operation == "deepen" else data
            continue
        parent, key = at(data, path[:-1]), path[-1]
        if operation == "delete":
            del parent[key]
        elif operation == "insert" and isinstance(parent, dict):
            parent[draw(KEYS)] = draw(json_values)
        elif operation == "insert":
            parent.insert(key, draw(json_values))
        elif operation == "replace":
            parent[key] = draw(json_values)
        else:
            for _ in range(draw(st.integers(1, 3 * MAX_DEPTH))):
                parent[key] = [parent[key]] if draw(st.booleans()) else {draw(KEYS): parent[key]}
    return data


def builds_or_refuses(experiment: Experiment) -> None:
    """What the schema let through works downstream: the network builds (a small one) and a
    synthetic dataset generates, or either says why in the project's own error."""
    spec = experiment.network
    sizes = [math.prod(spec["input_shape"]), *(layer["units"] for layer in spec["layers"] if "units" in layer)] if spec else []
    if spec and sum(a * b for a, b in itertools.pairwise(sizes)) <= 10 ** 6:
        try:
            Network(spec)
        except SpecError as exc:
            assert_one_line(str(exc))
    if experiment.dataset.get("name") not in (None, "iris") and (experiment.dataset.get("samples") or 0) <= 5000:
        load_dataset(experiment.dataset)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=mutated_experiments())
def test_mutated_experiments_load_or_fail_with_one_line_of_our_own(tmp_path, data):
    try:
        experiment = Experiment.from_json(data)
    except ValidationError as exc:  # a ValueError too: name it first so that it can never pass as ours
        pytest.fail(f"pydantic's error leaked: {exc}")
    except ConfigError as exc:
        assert_one_line(str(exc))
    else:
        assert isinstance(experiment.training, TrainingConfig)
        builds_or_refuses(experiment)
    path = tmp_path / "mutated.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    try:
        Experiment.load(path)
    except ValidationError as exc:
        pytest.fail(f"pydantic's error leaked: {exc}")
    except FileFormatError as exc:
        assert_one_line(str(exc))

