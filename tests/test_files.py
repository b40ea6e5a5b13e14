"""Model, data, history and experiment files; the CLI's short layer syntax."""

from __future__ import annotations

import csv
import json
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.backend import get_backend
from core.experiment import Experiment, default_experiment, load_dataset, network_spec, parse_layers
from core.files import (
    FileFormatError,
    atomic_write,
    check_writable,
    load_data_npz,
    load_model,
    save_data_npz,
    save_model,
    write_history_csv,
)
from core.layers import SpecError
from core.loaders.npz import load_npz_inputs
from core.network import Network, Preprocess
from core.synthetic import synthetic
from core.trainer import ConfigError, Trainer, TrainingConfig

SPEC = {"input_shape": [3], "layers": [
    {"type": "dense", "units": 5, "activation": "leaky_relu", "initializer": "he_normal", "slope": 0.2},
    {"type": "dropout", "rate": 0.3},
    {"type": "dense", "units": 4, "activation": "tanh", "initializer": "glorot_uniform"},
    {"type": "dense", "units": 2, "activation": "softmax", "initializer": "small_random"},
]}


def trained_network(backend=None) -> Network:
    net = Network(SPEC, backend, seed=3)
    net.preprocess = Preprocess(np.array([1.0, -2.0, 0.5]), np.array([2.0, 0.5, 3.0]))
    params = net.parameters_by_layer()
    rng = np.random.default_rng(0)
    for p in params:  # biases away from their zero start
        if "b" in p:
            p["b"] = rng.normal(size=p["b"].shape)
    net.set_parameters(params)
    return net


# ----- model files ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_model_round_trip_gives_identical_predictions(tmp_path, dtype):
    backend = get_backend("numpy", dtype)
    net = trained_network(backend)
    path = tmp_path / "model.npz"
    save_model(path, net)
    loaded = load_model(path, backend)
    x = np.random.default_rng(1).normal(size=(20, 3)) * 4
    assert np.array_equal(loaded.predict(x), net.predict(x))
    assert loaded.spec() == net.spec() == SPEC
    np.testing.assert_array_equal(loaded.preprocess.mean, net.preprocess.mean)
    np.testing.assert_array_equal(loaded.preprocess.std, net.preprocess.std)
    for a, b in zip(loaded.parameters_by_layer(), net.parameters_by_layer(), strict=True):
        assert a.keys() == b.keys()
        for k in a:
            assert np.array_equal(a[k], b[k])
    assert loaded.layers[0].activation.slope == 0.2
    assert not list(tmp_path.glob("*.tmp"))  # the temporary file was renamed away


def test_model_npz_layout(tmp_path):
    net = trained_network()
    path = tmp_path / "model.npz"
    save_model(path, net)
    with np.load(path, allow_pickle=False) as npz:
        assert set(npz.files) == {"spec", "preprocess", "layer0.W", "layer0.b", "layer2.W", "layer2.b", "layer3.W", "layer3.b"}
        assert json.loads(str(npz["spec"])) == net.spec()
        assert json.loads(str(npz["preprocess"])) == {"mean": [1.0, -2.0, 0.5], "std": [2.0, 0.5, 3.0]}
        assert npz["layer0.W"].shape == (5, 3) and npz["layer0.b"].shape == (5,)
        assert npz["layer2.W"].shape == (4, 5) and npz["layer3.W"].shape == (2, 4)
        np.testing.assert_array_equal(npz["layer3.W"], net.layers[3].params["W"])
    with zipfile.ZipFile(path) as zf:  # plain .npy members, nothing pickled
        assert all(name.endswith(".npy") for name in zf.namelist())


def test_model_without_preprocess(tmp_path):
    net = Network({"input_shape": [2], "layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]}, seed=1)
    save_model(tmp_path / "m.npz", net)
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        assert json.loads(str(npz["preprocess"])) is None
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.preprocess is None
    x = np.array([[0.3, -1.0], [2.0, 2.0]])
    assert np.array_equal(loaded.predict(x), net.predict(x))


def test_trained_model_round_trip(tmp_path):
    data = synthetic("gaussian", samples=60)
    net = Network(network_spec(data, [{"type": "dense", "units": 3, "activation": "tanh"}]), seed=2)
    Trainer(net, data, TrainingConfig(epochs=3)).run(3)
    save_model(tmp_path / "trained.npz", net)
    loaded = load_model(tmp_path / "trained.npz")
    assert np.array_equal(loaded.predict(data.X), net.predict(data.X))


def write_npz(path, **arrays):
    np.savez(path, allow_pickle=False, **arrays)
    return path


def bad_model_files(tmp_path):
    net = trained_network()
    good = tmp_path / "good.npz"
    save_model(good, net)
    with np.load(good) as npz:
        arrays = {k: npz[k] for k in npz.files}
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"\x00\x01 this is not a model \xff" * 10)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:200])
    npy = tmp_path / "array.npy"
    np.save(npy, np.zeros((3, 2)))
    wrong_shape = {**arrays, "layer0.W": np.zeros((5, 4))}
    return {
        "missing": tmp_path / "nothing-here.npz",
        "folder": tmp_path,
        "empty": write_bytes(tmp_path / "empty.npz", b""),
        "garbage": garbage,
        "truncated": truncated,
        "npy instead of npz": npy,
        "no spec": write_npz(tmp_path / "nospec.npz", **{k: v for k, v in arrays.items() if k != "spec"}),
        "spec not JSON": write_npz(tmp_path / "badjson.npz", **{**arrays, "spec": np.array("{not json")}),
        "spec not a network": write_npz(tmp_path / "badspec.npz", **{**arrays, "spec": np.array('{"layers": []}')}),
        "spec with bad layer": write_npz(tmp_path / "badlayer.npz", **{**arrays, "spec": np.array(
            json.dumps({"input_shape": [3], "layers": [{"type": "dense", "units": 2, "activation": "swish"}]}))}),
        "spec with a number as input shape": write_npz(tmp_path / "intshape.npz", **{**arrays, "spec": np.array(
            json.dumps({"input_shape": 3, "layers": SPEC["layers"]}))}),
        "spec with an object as layers": write_npz(tmp_path / "objlayers.npz", **{**arrays, "spec": np.array(
            json.dumps({"input_shape": [3], "layers": 7}))}),
        "missing parameter": write_npz(tmp_path / "noparam.npz", **{k: v for k, v in arrays.items() if k != "layer2.b"}),
        "wrong parameter shape": write_npz(tmp_path / "shape.npz", **wrong_shape),
        "bad preprocess": write_npz(tmp_path / "pre.npz", **{**arrays, "preprocess": np.array('{"mu": 1}')}),
    }


def write_bytes(path, data: bytes):
    path.write_bytes(data)
    return path


def test_bad_model_files_raise_file_format_error_naming_the_file(tmp_path):
    for what, path in bad_model_files(tmp_path).items():
        with pytest.raises(FileFormatError) as info:
            load_model(path)
        assert str(path) in str(info.value), what
        assert "\n" not in str(info.value), what


# ----- data files -----------------------------------------------------------------------------
def test_data_round_trip_and_task_inference(tmp_path):
    X = np.random.default_rng(0).normal(size=(12, 3))
    labels = np.array([0, 2, 1, 2, 0, 1, 1, 0, 2, 2, 1, 0])
    save_data_npz(tmp_path / "cls.npz", X, labels)
    data = load_data_npz(tmp_path / "cls.npz")
    np.testing.assert_array_equal(data.X, X)
    np.testing.assert_array_equal(data.y, labels)
    assert data.task == "multiclass" and data.class_names == ("0", "1", "2") and data.name == "cls"

    save_data_npz(tmp_path / "reg.npz", X, X @ [1.0, 2.0, 3.0])
    reg = load_data_npz(tmp_path / "reg.npz")
    assert reg.task == "regression" and reg.y.shape == (12, 1)
    floats_as_classes = load_data_npz(tmp_path / "cls.npz", task="classes")
    assert floats_as_classes.task == "multiclass"
    save_data_npz(tmp_path / "bin.npz", X, np.array([5, 7] * 6, dtype=float))
    assert load_data_npz(tmp_path / "bin.npz", task="classes").task == "binary"
    assert load_data_npz(tmp_path / "bin.npz").task == "regression"


def test_inputs_without_targets(tmp_path):
    write_npz(tmp_path / "x.npz", X=np.arange(6))
    X, shape = load_npz_inputs(tmp_path / "x.npz")
    assert X.shape == (6, 1) and X.dtype == np.float64 and shape == (1,)
    with pytest.raises(FileFormatError, match="y"):
        load_data_npz(tmp_path / "x.npz")


def test_bad_data_files_raise_file_format_error_naming_the_file(tmp_path):
    cases = {
        "missing": tmp_path / "absent.npz",
        "garbage": write_bytes(tmp_path / "garbage.npz", b"PK\x03\x04 not really a zip"),
        "text": write_bytes(tmp_path / "text.npz", b"x,y\n1,2\n"),
        "npy instead of npz": tmp_path / "X.npy",
        "no X": write_npz(tmp_path / "noX.npz", y=np.array([0, 1])),
        "no y": write_npz(tmp_path / "noy.npz", X=np.zeros((2, 2))),
        "one class": write_npz(tmp_path / "oneclass.npz", X=np.zeros((3, 2)), y=np.array([1, 1, 1])),
        "length mismatch": write_npz(tmp_path / "len.npz", X=np.zeros((3, 2)), y=np.array([0, 1])),
        "NaN": write_npz(tmp_path / "nan.npz", X=np.array([[np.nan, 1.0], [0.0, 1.0]]), y=np.array([0, 1])),
        "strings": write_npz(tmp_path / "str.npz", X=np.array([["a", "b"], ["c", "d"]]), y=np.array([0, 1])),
    }
    np.save(tmp_path / "X.npy", np.zeros((2, 2)))
    for what, path in cases.items():
        with pytest.raises(FileFormatError) as info:
            load_data_npz(path)
        assert str(path) in str(info.value), what
    for what in ("missing", "garbage", "npy instead of npz", "no X", "strings"):
        with pytest.raises(FileFormatError, match=str(cases[what].name)):
            load_npz_inputs(cases[what])


def test_pickled_arrays_are_never_loaded(tmp_path):
    np.savez(tmp_path / "obj.npz", X=np.array([{"a": 1}, None], dtype=object), y=np.array([0, 1]))
    with pytest.raises(FileFormatError, match="obj.npz"):
        load_data_npz(tmp_path / "obj.npz")


# ----- history and atomic writes --------------------------------------------------------------
def test_history_csv(tmp_path):
    records = [{"epoch": 1, "train_loss": 0.5, "val_loss": None, "lr": 0.1},
               {"epoch": 2, "train_loss": 0.25, "val_loss": 0.3, "lr": 0.05}]
    write_history_csv(tmp_path / "h.csv", records)
    with open(tmp_path / "h.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "train_loss", "val_loss", "lr"]
    assert rows == [{"epoch": "1", "train_loss": "0.5", "val_loss": "", "lr": "0.1"},
                    {"epoch": "2", "train_loss": "0.25", "val_loss": "0.3", "lr": "0.05"}]


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("old contents")

    def failing(f):
        f.write("half of the new")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic_write(target, failing, mode="w")
    assert target.read_text() == "old contents"
    assert list(tmp_path.iterdir()) == [target]
    with pytest.raises(FileFormatError, match="no-such-folder"):
        atomic_write(tmp_path / "no-such-folder" / "x.npz", lambda f: None)


@pytest.mark.parametrize("failure", [KeyboardInterrupt(), SystemExit(1), OSError(28, "No space left on device")],
                         ids=["interrupt", "exit", "disk full"])
def test_atomic_write_removes_its_temporary_file_on_any_failure(tmp_path, failure):
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")

    def failing(f):
        f.write(b"x" * 100_000)
        raise failure

    expected = FileFormatError if isinstance(failure, OSError) else type(failure)
    with pytest.raises(expected) as info:
        atomic_write(target, failing)
    if expected is FileFormatError:  # one line naming the file, not a bare errno
        assert str(target) in str(info.value) and "No space left on device" in str(info.value)
    assert list(tmp_path.iterdir()) == [target] and target.read_bytes() == b"old"


def test_a_symlink_is_written_through(tmp_path):
    real, link = tmp_path / "models" / "real.npz", tmp_path / "link.npz"
    real.parent.mkdir()
    real.write_bytes(b"old")
    real.chmod(0o640)
    link.symlink_to(os.path.relpath(real, tmp_path))
    save_model(link, trained_network())
    assert link.is_symlink() and os.readlink(link) == os.path.relpath(real, tmp_path)
    assert load_model(real).spec() == SPEC and stat.S_IMODE(os.stat(real).st_mode) == 0o640
    assert sorted(p.name for p in real.parent.iterdir()) == ["real.npz"]  # the temporary file was beside the target
    dangling = tmp_path / "new.csv"
    dangling.symlink_to(tmp_path / "models" / "made-now.csv")
    write_history_csv(dangling, [{"epoch": 1}])
    assert dangling.is_symlink() and (tmp_path / "models" / "made-now.csv").read_text().startswith("epoch")


@pytest.mark.parametrize("kind", ["device", "named pipe", "folder", "link to a device"])
def test_a_target_that_is_not_a_regular_file_is_never_written(tmp_path, kind):
    if kind == "named pipe":
        target = tmp_path / "pipe"
        os.mkfifo(target)
    elif kind == "link to a device":
        target = tmp_path / "null"
        target.symlink_to("/dev/null")
    else:
        target = Path("/dev/null") if kind == "device" else tmp_path
    before = sorted(tmp_path.iterdir())
    message = {"folder": "is a folder", "named pipe": "is a named pipe"}.get(kind, "is a device")
    for check in (check_writable, lambda path: save_model(path, trained_network())):
        with pytest.raises(FileFormatError, match=message):
            check(target)
    assert sorted(tmp_path.iterdir()) == before
    assert Path("/dev/null").is_char_device()


def test_check_writable_names_what_is_wrong(tmp_path):
    (tmp_path / "file").write_text("x")
    assert check_writable(tmp_path / "new.npz") == tmp_path / "new.npz"
    for path, words in [(tmp_path / "missing" / "m.npz", "does not exist"), (tmp_path / "file" / "m.npz", "is not a folder"),
                        ("", "empty path")]:
        with pytest.raises(FileFormatError, match=words):
            check_writable(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # the probe file is gone


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any folder")
def test_check_writable_refuses_a_read_only_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(FileFormatError, match="cannot write in the folder"):
        check_writable(locked / "m.npz")


@pytest.fixture
def umask():
    """Set the process umask for one test (``umask(0o027)``); the old one comes back after."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077], ids=oct)
def test_saved_files_get_the_permissions_open_would_give(tmp_path, umask, mask):
    umask(mask)
    save_model(tmp_path / "model.npz", trained_network())
    save_data_npz(tmp_path / "data.npz", np.zeros((2, 1)), np.array([0, 1]))
    write_history_csv(tmp_path / "history.csv", [{"epoch": 1}])
    default_experiment().save(tmp_path / "lesson.json")
    with open(tmp_path / "plain.txt", "w") as f:  # what a normal open() gives
        f.write("x")
    expected = stat.S_IMODE(os.stat(tmp_path / "plain.txt").st_mode)
    assert expected == 0o666 & ~mask
    for name in ("model.npz", "data.npz", "history.csv", "lesson.json"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == expected, name


def test_overwriting_keeps_the_permissions_of_the_existing_file(tmp_path, umask):
    target = tmp_path / "h.csv"
    target.write_text("old")
    target.chmod(0o640)
    write_history_csv(target, [{"epoch": 1}])
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640 and target.read_text().startswith("epoch")
    assert list(tmp_path.iterdir()) == [target]


# ----- experiments ----------------------------------------------------------------------------
def test_experiment_round_trip(tmp_path):
    experiment = Experiment(
        {"name": "moons", "samples": 80, "noise": 0.2, "seed": 3},
        {"input_shape": [2], "layers": [{"type": "dense", "units": 4, "activation": "relu"},
                                        {"type": "dense", "units": 1, "activation": "sigmoid"}]},
        TrainingConfig(optimizer="rmsprop", learning_rate=0.004, batch_size=8, epochs=12, l2=0.01, seed=3),
    )
    path = tmp_path / "lesson.json"
    experiment.save(path)
    loaded = Experiment.load(path)
    assert loaded == experiment
    assert json.loads(path.read_text(encoding="utf-8")) == experiment.to_json()
    data = load_dataset(loaded.dataset)
    assert data.n_samples == 80 and data.name == "moons"
    np.testing.assert_array_equal(data.X, synthetic("moons", 80, 0.2, 3).X)


def test_experiment_with_a_data_path_relative_to_its_folder(tmp_path):
    save_data_npz(tmp_path / "points.npz", np.arange(8.0).reshape(4, 2), np.array([0, 1, 0, 1]))
    data = load_dataset({"path": "points.npz"}, base=tmp_path)
    assert data.n_samples == 4 and data.task == "binary"
    with pytest.raises(FileFormatError, match="points.npz"):
        load_dataset({"path": "points.npz"}, base=tmp_path / "elsewhere")
    with pytest.raises(ConfigError, match="unknown dataset"):
        load_dataset({"name": "mnist-but-not-really"})
    with pytest.raises(ConfigError, match="samples"):
        load_dataset({"name": "xor", "samples": 2})


@pytest.mark.parametrize(("text", "message"), [
    (None, "no such file"), ("{broken", "not valid JSON"), ("[1, 2]", "needs 'dataset' and 'network'"),
    ('{"dataset": {"name": "xor"}}', "needs 'dataset' and 'network'"),
    ('{"dataset": [], "network": {}}', "expected a JSON object"),
    ('{"dataset": {"name": "xor"}, "network": {}, "training": {"lr": 0.1}}', "unknown training setting"),
    ('{"dataset": {"name": "xor"}, "network": {}, "training": {"batch_size": -3}}', "batch_size"),
    ('{"dataset": {"name": "xor"}, "network": {}, "training": {"val_fraction": "half"}}', "val_fraction"),
])
def test_bad_experiment_files(tmp_path, text, message):
    path = tmp_path / "lesson.json"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(FileFormatError, match=message) as info:
        Experiment.load(path)
    assert str(path) in str(info.value)


def test_default_experiment_builds_and_trains():
    experiment = default_experiment()
    data = load_dataset(experiment.dataset)
    net = Network(experiment.network, seed=experiment.training.seed)
    report = Trainer(net, data, experiment.training).run_epoch()
    assert report.complete and net.output_activation == "sigmoid" and data.name == "spiral"


# ----- layer syntax and specs -----------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("", []), ("none", []), ("  None ", []),
    ("8:tanh", [{"type": "dense", "units": 8, "activation": "tanh"}]),
    ("16", [{"type": "dense", "units": 16, "activation": "relu"}]),
    ("8:tanh, 8:relu:he_normal ,dropout:0.2", [
        {"type": "dense", "units": 8, "activation": "tanh"},
        {"type": "dense", "units": 8, "activation": "relu", "initializer": "he_normal"},
        {"type": "dropout", "rate": 0.2}]),
    ("32:relu,Dropout:0.5,4:sigmoid", [
        {"type": "dense", "units": 32, "activation": "relu"}, {"type": "dropout", "rate": 0.5},
        {"type": "dense", "units": 4, "activation": "sigmoid"}]),
])
def test_parse_layers(text, expected):
    assert parse_layers(text) == expected


@pytest.mark.parametrize("text", ["tanh", "8:tanh:he_normal:extra", "dropout", "dropout:lots", "-3:relu", "8:tanh,,4:relu", "1.5:relu"])
def test_parse_layers_rejects_bad_items(text):
    with pytest.raises(SpecError, match="bad layer"):
        parse_layers(text)


@pytest.mark.parametrize(("text", "message"), [
    ("8:swish", "unknown activation"), ("8:relu:ones", "unknown initializer"), ("0:relu", "units"), ("dropout:1.0", "rate"),
])
def test_parsed_layers_that_cannot_be_built(text, message):
    data = synthetic("xor", samples=20)
    with pytest.raises(SpecError, match=message) as info:
        Network(network_spec(data, parse_layers(text)))
    assert "layer 1" in str(info.value)


def test_network_spec_follows_the_task():
    assert network_spec(synthetic("xor", samples=20), [])["layers"][-1]["activation"] == "sigmoid"
    head = network_spec(synthetic("blobs", samples=20), [])["layers"][-1]
    assert (head["units"], head["activation"]) == (4, "softmax")
    assert network_spec(synthetic("housing", samples=20), [])["layers"][-1]["activation"] == "linear"
    assert network_spec(synthetic("housing", samples=20), [])["input_shape"] == [6]
    assert network_spec(synthetic("xor", samples=20), [], "softmax")["layers"][-1]["activation"] == "softmax"


@pytest.mark.parametrize("spec", [
    {}, {"input_shape": [2]}, {"input_shape": [], "layers": [{"type": "dense", "units": 1}]},
    {"input_shape": [0], "layers": [{"type": "dense", "units": 1}]}, {"input_shape": [2], "layers": []},
    {"input_shape": 2, "layers": [{"type": "dense", "units": 1}]}, {"input_shape": [2], "layers": 3},
    {"input_shape": "ab", "layers": [{"type": "dense", "units": 1}]},
    {"input_shape": [2], "layers": [{"type": "conv9d"}]}, {"input_shape": [2], "layers": [{"units": 3}]},
    {"input_shape": [2], "layers": [{"type": "dense", "units": 2, "colour": "red"}]},
    {"input_shape": [2], "layers": [{"type": "dense", "units": True}]}, [],
])
def test_bad_network_specs_raise_spec_error(spec):
    with pytest.raises(SpecError):
        Network(spec)


def test_network_summary():
    net = Network(SPEC)
    rows = net.summary()
    assert [(r.label, r.output_shape, r.parameters) for r in rows] == [
        ("Dense(5, leaky_relu)", (5,), 5 * 3 + 5), ("Dropout(0.3)", (5,), 0),
        ("Dense(4, tanh)", (4,), 4 * 5 + 4), ("Dense(2, softmax)", (2,), 2 * 4 + 2)]
    assert net.parameter_count == 20 + 24 + 10
    assert net.n_regularized == 15 + 20 + 8
    assert "Total parameters: 54" in net.summary_text()
