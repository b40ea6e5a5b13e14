"""The headless command line: ``core.cli.main(argv)`` in process, and ``python main.py``
once in a subprocess."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from core.backend import cupy_status
from core.cli import main
from core.experiment import network_spec, parse_layers
from core.files import load_model, save_data_npz
from core.network import Network
from core.synthetic import synthetic
from core.trainer import Trainer, TrainingConfig

ROOT = Path(__file__).resolve().parent.parent
CLASS_KEYS = {"epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr", "seconds"}
REGRESSION_KEYS = {"epoch", "train_loss", "val_loss", "train_r2", "val_r2", "lr", "seconds"}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_json_prints_one_object_per_epoch_with_the_documented_keys(capsys):
    status, out, err = run(capsys, "train", "--dataset", "xor", "--samples", "60", "--layers", "4:tanh",
                           "--epochs", "3", "--lr", "0.05", "--json")
    assert status == 0 and err == ""
    records = json_lines(out)
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert all(set(r) == CLASS_KEYS for r in records)
    assert all(r["lr"] == 0.05 and 0 <= r["train_accuracy"] <= 1 and r["val_loss"] > 0 for r in records)
    # the numbers are those of the same run done through the engine (defaults: adam, seed 0)
    data = synthetic("xor", samples=60, seed=0)
    net = Network(network_spec(data, parse_layers("4:tanh")), seed=0)
    reports = Trainer(net, data, TrainingConfig(learning_rate=0.05)).run(3)
    assert [r["train_loss"] for r in records] == [r.train_loss for r in reports]
    assert [r["val_accuracy"] for r in records] == [r.val_metric for r in reports]


def test_regression_json_uses_r2(capsys):
    status, out, _ = run(capsys, "train", "--dataset", "plane", "--samples", "50", "--layers", "none", "--epochs", "2", "--json")
    assert status == 0
    assert all(set(r) == REGRESSION_KEYS for r in json_lines(out))


def test_save_then_predict_prints_probabilities(tmp_path, capsys):
    model, points = tmp_path / "model.npz", tmp_path / "points.npz"
    status, out, _ = run(capsys, "train", "--dataset", "moons", "--samples", "80", "--layers", "6:tanh",
                         "--epochs", "5", "--save", str(model))
    assert status == 0 and model.exists()
    assert out.startswith("epoch 5: training loss")
    X = np.array([[0.0, 0.0], [2.0, -1.0], [-3.0, 1.5]])
    save_data_npz(points, X, np.array([0, 1, 0]))
    expected = load_model(model).predict(X)[:, 0]

    status, out, err = run(capsys, "predict", str(model), "--data", str(points))
    assert status == 0 and err == ""
    printed = [float(line) for line in out.splitlines()]
    np.testing.assert_allclose(printed, expected, rtol=1e-5)
    assert all(0.0 < p < 1.0 for p in printed)

    status, out, _ = run(capsys, "predict", str(model), "--data", str(points), "--json")
    assert status == 0
    assert [json.loads(line) for line in out.splitlines()] == [[float(p)] for p in expected]


def test_predict_softmax_rows_sum_to_one(tmp_path, capsys):
    model, points = tmp_path / "blobs.npz", tmp_path / "x.npz"
    assert run(capsys, "train", "--dataset", "blobs", "--samples", "80", "--epochs", "3", "--save", str(model))[0] == 0
    np.savez(points, X=np.array([[3.0, 3.0], [-3.0, 3.0]]))  # inputs only, no y
    status, out, _ = run(capsys, "predict", str(model), "--data", str(points), "--json")
    assert status == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 2 and all(len(r) == 4 for r in rows)
    np.testing.assert_allclose([sum(r) for r in rows], 1.0, rtol=1e-5)


def test_zero_epochs_saves_the_initial_weights(tmp_path, capsys):
    model = tmp_path / "init.npz"
    status, out, _ = run(capsys, "train", "--dataset", "spiral", "--samples", "50", "--layers", "5:relu,dropout:0.1,3:tanh",
                         "--epochs", "0", "--seed", "7", "--save", str(model))
    assert status == 0 and out == ""
    saved = load_model(model)
    data = synthetic("spiral", samples=50, seed=7)
    fresh = Network(network_spec(data, parse_layers("5:relu,dropout:0.1,3:tanh")), seed=7)
    assert saved.spec() == fresh.spec()
    for a, b in zip(saved.parameters_by_layer(), fresh.parameters_by_layer(), strict=True):
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert saved.preprocess is not None  # fitted on the training part even without training


@pytest.mark.parametrize(("dataset", "layers", "activation"), [("gaussian", "", "sigmoid"), ("plane", "none", "linear"),
                                                              ("blobs", "", "softmax")])
def test_no_hidden_layers_is_plain_regression(tmp_path, capsys, dataset, layers, activation):
    model = tmp_path / "flat.npz"
    status, _, _ = run(capsys, "train", "--dataset", dataset, "--samples", "40", "--layers", layers, "--epochs", "1", "--save", str(model))
    assert status == 0
    net = load_model(model)
    assert len(net.layers) == 1 and net.output_activation == activation
    assert net.layers[0].params["W"].shape[1] == 2


def test_history_csv_has_one_row_per_epoch(tmp_path, capsys):
    history = tmp_path / "run.csv"
    status, out, _ = run(capsys, "train", "--dataset", "xor", "--samples", "40", "--epochs", "4", "--json", "--history", str(history))
    assert status == 0
    with open(history, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and set(rows[0]) == CLASS_KEYS
    assert [float(r["train_loss"]) for r in rows] == [r["train_loss"] for r in json_lines(out)]


def test_validation_split_zero_gives_null_validation(tmp_path, capsys):
    history = tmp_path / "h.csv"
    status, out, _ = run(capsys, "train", "--dataset", "xor", "--samples", "40", "--epochs", "2", "--val-split", "0",
                         "--json", "--history", str(history))
    assert status == 0
    assert all(r["val_loss"] is None and r["val_accuracy"] is None for r in json_lines(out))
    assert '"val_loss": null' in out
    with open(history, newline="", encoding="utf-8") as f:
        assert all(r["val_loss"] == "" for r in csv.DictReader(f))


def test_init_continues_from_a_model(tmp_path, capsys):
    first, same, second = tmp_path / "a.npz", tmp_path / "same.npz", tmp_path / "b.npz"
    common = ["--dataset", "circle", "--samples", "60", "--layers", "4:tanh"]
    assert run(capsys, "train", *common, "--epochs", "3", "--save", str(first))[0] == 0
    # zero more epochs: the model comes back unchanged, standardization included
    assert run(capsys, "train", *common, "--init", str(first), "--epochs", "0", "--save", str(same))[0] == 0
    a, unchanged = load_model(first), load_model(same)
    for p, q in zip(a.parameters_by_layer(), unchanged.parameters_by_layer(), strict=True):
        assert all(np.array_equal(p[k], q[k]) for k in p)
    np.testing.assert_array_equal(a.preprocess.mean, unchanged.preprocess.mean)

    status, out, _ = run(capsys, "train", *common, "--init", str(first), "--epochs", "2", "--json", "--save", str(second))
    assert status == 0
    continued = json_lines(out)
    data = synthetic("circle", samples=60, seed=0)
    reference = Trainer(a, data, TrainingConfig()).run(2)
    assert [r["train_loss"] for r in continued] == [r.train_loss for r in reference]
    b = load_model(second)
    assert np.array_equal(b.params, a.params)


def test_divergence_exits_1_and_saves_the_last_finite_weights(tmp_path, capsys):
    model = tmp_path / "diverged.npz"
    args = ["--dataset", "plane", "--samples", "60", "--layers", "none", "--optimizer", "sgd", "--lr", "1e6", "--seed", "2"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning noise either
        status, out, err = run(capsys, "train", *args, "--epochs", "5", "--json", "--save", str(model))
    assert status == 1
    assert err.count("\n") == 1 and err.startswith("training stopped:") and "learning rate" in err
    records = json_lines(out)
    assert records[-1]["train_loss"] is None  # the diverged epoch, reported as null
    assert all(r["train_loss"] is not None for r in records[:-1])
    saved = load_model(model)
    assert np.isfinite(saved.params).all()
    # the same run through the engine ends on the same (rolled back) weights
    data = synthetic("plane", samples=60, seed=2)
    net = Network(network_spec(data, []), seed=2)
    trainer = Trainer(net, data, TrainingConfig(optimizer="sgd", learning_rate=1e6, seed=2))
    reports = trainer.run(5)
    assert reports[-1].diverged and len(reports) == len(records)
    assert np.array_equal(saved.params, net.params)


def error_cases(tmp_path: Path) -> dict[str, list[str]]:
    data = tmp_path / "data.npz"
    save_data_npz(data, np.random.default_rng(0).normal(size=(10, 3)), np.array([0, 1] * 5))
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not an npz file at all\n" * 3)
    npy = tmp_path / "X.npy"
    np.save(npy, np.zeros((4, 2)))
    model = tmp_path / "model.npz"
    assert main(["train", "--dataset", "xor", "--samples", "20", "--epochs", "0", "--save", str(model)]) == 0
    bad_config = tmp_path / "bad.json"
    bad_config.write_text('{"dataset": {"name": "xor"}, "network": {"input_shape": 2, "layers": []}, "training": {}}')
    bad_training = tmp_path / "bad_training.json"
    bad_training.write_text('{"dataset": {"name": "xor"}, "network": {}, "training": {"val_fraction": "most"}}')
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    missing = str(tmp_path / "missing.npz")
    cases = {
        "no command": [],
        "unknown command": ["fly"],
        "bad lr": ["train", "--lr", "-1"],
        "lr not a number": ["train", "--lr", "fast"],
        "zero lr": ["train", "--lr", "0"],
        "bad batch size": ["train", "--batch-size", "0"],
        "bad val split": ["train", "--val-split", "1"],
        "bad seed": ["train", "--seed", "-4"],
        "unknown activation": ["train", "--layers", "8:swish"],
        "bad layer syntax": ["train", "--layers", "8:tanh:he_normal:x"],
        "unknown dataset": ["train", "--dataset", "mnist"],
        "missing data file": ["train", "--data", missing],
        "data and dataset": ["train", "--data", str(data), "--dataset", "xor"],
        "garbage data file": ["train", "--data", str(garbage)],
        "npy data file": ["train", "--data", str(npy)],
        "missing config": ["train", "--config", missing],
        "broken config": ["train", "--config", str(broken)],
        "config with bad network": ["train", "--config", str(bad_config)],
        "config with bad training": ["train", "--config", str(bad_training)],
        "init from garbage": ["train", "--dataset", "xor", "--init", str(garbage)],
        "init that does not fit the data": ["train", "--data", str(data), "--init", str(model)],
        "loss that does not fit": ["train", "--dataset", "blobs", "--output-activation", "linear", "--loss", "categorical_crossentropy"],
        "predict missing model": ["predict", missing, "--data", str(data)],
        "predict garbage model": ["predict", str(garbage), "--data", str(data)],
        "predict garbage data": ["predict", str(model), "--data", str(garbage)],
        "predict wrong features": ["predict", str(model), "--data", str(data)],
        "predict without data": ["predict", str(model)],
    }
    if not cupy_status()[0]:
        cases["cupy unavailable"] = ["train", "--backend", "cupy", "--epochs", "1"]
    return cases


def test_user_errors_exit_2_with_one_line_on_stderr(tmp_path, capsys):
    cases = error_cases(tmp_path)
    capsys.readouterr()
    for what, argv in cases.items():
        status, out, err = run(capsys, *argv)
        assert status == 2, (what, err)
        assert err.endswith("\n") and err.count("\n") == 1, (what, err)
        assert err.startswith("error: ") and "Traceback" not in err, (what, err)
        assert out == "", what


def test_main_py_train_in_a_subprocess(tmp_path, child_env):
    history = tmp_path / "h.csv"
    done = subprocess.run(
        [sys.executable, "main.py", "train", "--dataset", "xor", "--samples", "40", "--layers", "3:tanh",
         "--epochs", "2", "--json", "--history", str(history)],
        cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    records = json_lines(done.stdout)
    assert [r["epoch"] for r in records] == [1, 2] and all(set(r) == CLASS_KEYS for r in records)
    assert history.exists()

    failed = subprocess.run([sys.executable, "main.py", "train", "--lr", "-1"], cwd=ROOT, env=child_env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert failed.returncode == 2
    assert failed.stderr.count("\n") == 1 and "learning_rate" in failed.stderr and "Traceback" not in failed.stderr


# ----- what a red-team run against the CLI found ------------------------------------------------------
def refused(capsys, *argv: str) -> str:
    """The one ``error:`` line of a command that must exit 2 (and print nothing else)."""
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == "" and err.startswith("error: ") and err.count("\n") == 1, (status, out, err)
    assert "allow_pickle" not in err and "unsafely" not in err
    return err


def npy_member(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_a_pickle_named_npz_is_refused_as_pickled_by_every_command(tmp_path, capsys):
    import pickle

    path = tmp_path / "data.npz"
    path.write_bytes(pickle.dumps({"X": [[1, 2]], "y": [0]}))
    for argv in (["data", str(path)], ["train", "--data", str(path), "--epochs", "1"]):
        assert "never unpickled" in refused(capsys, *argv)


def test_a_npy_header_too_large_is_one_line_without_numpys_advice(tmp_path, capsys):
    import struct
    import zipfile

    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': " + b"(" * 6000 + b")" * 6000 + b"}"
    header += b" " * ((64 - (len(header) + 11) % 64) % 64) + b"\n"
    path = tmp_path / "deep.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("X.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header)
        z.writestr("y.npy", npy_member(np.zeros(4)))
    assert "array 'X' cannot be read" in refused(capsys, "data", str(path))


@pytest.mark.skipif(np.dtype(np.longdouble).itemsize <= 8, reason="long double is float64 on this platform")
def test_long_double_data_is_refused_not_cast_with_a_warning(tmp_path, capsys):
    path = tmp_path / "long.npz"
    np.savez(path, X=np.ones((10, 2), np.longdouble) * np.longdouble("1e1000"), y=np.arange(10) % 2)
    assert "save float64 or float32" in refused(capsys, "data", str(path))


def test_a_single_npy_array_as_a_model_is_refused_unread(tmp_path, capsys):
    path = tmp_path / "model.npz"
    path.write_bytes(b"\x93NUMPY\x01\x00v\x00{'descr': '|O', 'fortran_order': False, 'shape': (1,), }" + b" " * 50 + b"\n\x00\x00")
    points = tmp_path / "points.npz"
    save_data_npz(points, np.zeros((3, 2)), np.array([0, 1, 0]))
    assert "a single array (a .npy file)" in refused(capsys, "predict", str(path), "--data", str(points))


@pytest.fixture
def xor_model(tmp_path, capsys) -> Path:
    path = tmp_path / "xor.npz"
    assert run(capsys, "train", "--dataset", "xor", "--samples", "40", "--layers", "3:tanh", "--epochs", "1", "--save", str(path))[0] == 0
    return path


@pytest.mark.parametrize(("X", "words"), [
    (np.full((2, 2), 1e40), "beyond what float32 holds"),
    (np.zeros((0, 2)), "at least one sample"),
], ids=["beyond float32", "no samples"])
def test_predict_refuses_inputs_the_network_cannot_take(tmp_path, capsys, xor_model, X, words):
    path = tmp_path / "points.npz"
    np.savez(path, X=X)
    assert words in refused(capsys, "predict", str(xor_model), "--data", str(path))


def test_predict_runs_a_cnn_on_images_or_their_flattened_pixels(tmp_path, capsys):
    model = tmp_path / "cnn.npz"
    assert run(capsys, "train", "--dataset", "digits", "--layers", "conv:2:3:relu,maxpool:2,flatten", "--epochs", "1",
               "--save", str(model))[0] == 0
    images = np.random.default_rng(0).random((3, 8, 8))
    outputs = []
    for name, X in (("images", images), ("channels", images[..., None]), ("flat", images.reshape(3, 64))):
        np.savez(tmp_path / f"{name}.npz", X=X, **({"layout": "image"} if X.ndim == 3 else {}))  # float (m, H, W): sequences
        code, out, _ = run(capsys, "predict", str(model), "--data", str(tmp_path / f"{name}.npz"), "--json")
        assert code == 0
        outputs.append(np.array([json.loads(line) for line in out.splitlines()]))
    assert outputs[0].shape == (3, 10) and np.allclose(outputs[0].sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(outputs[0], outputs[1]) and np.array_equal(outputs[0], outputs[2])
    np.savez(tmp_path / "steps.npz", X=images)  # float (m, T, F) without a layout: sequences
    assert "X holds sequences of 8 steps × 8 features per sample but the model takes 8×8×1 images" in refused(
        capsys, "predict", str(model), "--data", str(tmp_path / "steps.npz"))
    np.savez(tmp_path / "rgb.npz", X=np.zeros((2, 8, 8, 3)))
    assert "X holds 8×8×3 images per sample but the model takes 8×8×1 images" in refused(
        capsys, "predict", str(model), "--data", str(tmp_path / "rgb.npz"))


def test_init_refuses_layers_that_are_not_the_models(capsys, xor_model):
    common = ["train", "--dataset", "xor", "--samples", "40", "--epochs", "1", "--init", str(xor_model)]
    assert run(capsys, *common, "--layers", "3:tanh")[0] == 0  # the model's own layers: fine
    assert "leave them out with --init" in refused(capsys, *common, "--layers", "8:relu")
    assert "leave them out with --init" in refused(capsys, *common, "--output-activation", "tanh")


@pytest.mark.parametrize("loss", ["binary_crossentropy", "categorical_crossentropy"])
def test_a_cross_entropy_on_a_continuous_target_is_refused(tmp_path, capsys, loss):
    path = tmp_path / "continuous.csv"
    path.write_text("a,b,y\n" + "".join(f"{i},{i / 2},{0.37 * i:.4f}\n" for i in range(50)))
    assert "it is continuous; use --loss mse" in refused(capsys, "train", "--data", str(path), "--loss", loss, "--epochs", "1")


def test_binary_cross_entropy_on_a_softmax_is_refused(capsys):
    err = refused(capsys, "train", "--dataset", "spiral3", "--samples", "90", "--loss", "binary_crossentropy", "--epochs", "1")
    assert "use categorical cross-entropy" in err


def test_an_output_path_ending_in_a_slash_is_a_folder(tmp_path, capsys):
    assert "names a folder" in refused(capsys, "train", "--dataset", "xor", "--epochs", "1", "--save", f"{tmp_path}/missing/")
    assert not (tmp_path / "missing").exists()


def test_a_long_file_name_is_written_and_leaves_no_temporary_file(tmp_path, capsys):
    path = tmp_path / ("n" * 250 + ".npz")
    assert run(capsys, "train", "--dataset", "xor", "--samples", "40", "--epochs", "1", "--save", str(path))[0] == 0
    assert load_model(path) and [p.name for p in tmp_path.iterdir()] == [path.name]


def test_running_out_of_memory_anyway_is_one_line(capsys, monkeypatch):
    import core.cli

    def exhausted(*_args):
        raise MemoryError("Unable to allocate 3.00 GiB for an array with shape (402653184,) and data type int64")

    monkeypatch.setattr(core.cli, "cmd_data", exhausted)
    assert "not enough memory (Unable to allocate 3.00 GiB" in refused(capsys, "data", "xor")


def test_the_memory_limit_follows_an_address_space_limit(child_env):
    script = ("import resource; resource.setrlimit(resource.RLIMIT_AS, (3 << 30, resource.RLIM_INFINITY)); "
              "from core.limits import available_memory_bytes; print(available_memory_bytes())")
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parent.parent, env=child_env,
                          capture_output=True, text=True, timeout=60, check=True)
    assert 0 < int(done.stdout) < 3 << 30


@pytest.mark.parametrize("option", ["--config", "--data"])
def test_an_output_never_overwrites_an_input(tmp_path, capsys, option):
    source = tmp_path / ("lesson.json" if option == "--config" else "points.npz")
    if option == "--config":
        source.write_text(json.dumps({"dataset": {"name": "xor"}, "network": {}, "training": {"epochs": 1}}))
    else:
        save_data_npz(source, np.random.default_rng(0).normal(size=(20, 2)), np.arange(20) % 2)
    before = source.read_bytes()
    for output in ("--save", "--history"):
        assert "would overwrite the" in refused(capsys, "train", option, str(source), "--epochs", "1", output, str(source))
    assert source.read_bytes() == before


def test_an_idx_file_of_zero_images_with_huge_sides_is_one_line_naming_it(tmp_path, capsys):
    import struct

    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">III", 0, 2**32 - 1, 2**32 - 1))
    assert f"{path}: the header's shape 0 × 4294967295 × 4294967295 holds no values" in refused(capsys, "data", str(path))


@pytest.mark.parametrize(("given", "option", "dtype"), [("float64", [], np.float64), ("float64", ["--dtype", "float32"], np.float32),
                                                         (None, [], np.float32)])
def test_the_experiment_s_dtype_trains_unless_the_option_says_otherwise(tmp_path, given, option, dtype):
    experiment = {"dataset": {"name": "xor", "samples": 80}, "network": {},
                  "training": {"epochs": 1, **({"dtype": given} if given else {})}}
    config = tmp_path / "run.json"
    config.write_text(json.dumps(experiment))
    assert main(["train", "--config", str(config), "--save", str(tmp_path / "m.npz"), *option]) == 0
    with np.load(tmp_path / "m.npz", allow_pickle=False) as model:
        assert model["layer0.W"].dtype == dtype
