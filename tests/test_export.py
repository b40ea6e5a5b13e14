"""Exports (core.export): the NumPy script and the notebook reproduce the engine's history
epoch by epoch, need nothing but NumPy and their data file, and the ONNX model predicts what
the network predicts."""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from core.backend import get_backend
from core.data import make_dataset, suggested_head
from core.export import ExportSource, write_notebook, write_numpy_script, write_onnx
from core.export.notebook import PLOT_TAG
from core.files import FileFormatError
from core.layers import SpecError
from core.network import Network, Preprocess
from core.synthetic import synthetic
from core.trainer import Trainer, TrainingConfig

EPOCHS = 10
TOLERANCE = 1e-5  # relative to the value, absolute below 1


def dense(units: int, activation: str, **extra) -> dict:
    return {"type": "dense", "units": units, "activation": activation, **extra}


def dropout(rate: float) -> dict:
    return {"type": "dropout", "rate": rate}


def trained_run(dataset, hidden: list[dict], config: TrainingConfig, *, dtype: str = "float32", seed: int = 3,
                output: dict | None = None, preprocess: Preprocess | None = None,
                changes: dict[tuple[int, int], dict[str, float]] | None = None) -> tuple[list[dict], ExportSource, Network]:
    """Train a network with the engine, changing settings live where ``changes`` says (before
    mini-batch b of the epoch after e epochs done: {(e, b): {setting: value}}); return its
    per-epoch JSON (as `train --json` prints it), the export of the run and the trained network."""
    head = output or suggested_head(dataset.task, dataset.n_outputs)[0]
    network = Network({"input_shape": [dataset.n_features], "layers": [*hidden, head]}, get_backend("numpy", dtype), seed=seed)
    network.preprocess = preprocess
    initial = network.params.copy()
    trainer = Trainer(network, dataset, config)
    history = []
    for epoch in range(EPOCHS):
        for batch in range(trainer.batches_per_epoch):
            for name, value in (changes or {}).get((epoch, batch), {}).items():
                trainer.set_setting(name, value)
            report = trainer.step_batch()
        history.append(_finite_or_none(report.to_json()))
    source = ExportSource.of(network, initial, dataset, config, EPOCHS, setting_changes=trainer.setting_changes)
    return history, source, network


def _finite_or_none(record: dict) -> dict:
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in record.items()}


def assert_same_history(expected: list[dict], got: list[dict]) -> float:
    """Every epoch has the same keys and values within TOLERANCE (seconds aside); the largest difference."""
    assert len(got) == len(expected) == EPOCHS
    worst = 0.0
    for want, have in zip(expected, got, strict=True):
        assert set(have) == set(want)
        for key, value in want.items():
            if key == "seconds":
                assert isinstance(have[key], float) and have[key] >= 0
            elif value is None or isinstance(value, int):
                assert have[key] == value, (key, want, have)
            else:
                difference = abs(have[key] - value) / max(1.0, abs(value))
                assert difference <= TOLERANCE, (key, want, have)
                worst = max(worst, difference)
    return worst


def run_script(path: Path, env: dict, cwd: Path) -> list[dict]:
    done = subprocess.run([sys.executable, str(path)], check=False, capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def two_labels() -> object:
    """Two yes/no targets per sample (multi-label): regression data whose values are 0 or 1."""
    X = np.random.default_rng(5).normal(size=(160, 3))
    return make_dataset(X, np.stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0], axis=1).astype(float), task="regression")


SETTINGS = {
    "binary adam, dropout, L2, shuffle": (
        lambda: synthetic("spiral", 240, 0.1, 0),
        [dense(12, "tanh"), dropout(0.2), dense(8, "relu")],
        TrainingConfig(optimizer="adam", learning_rate=0.01, l2=1e-3, batch_size=16, shuffle=True), {}),
    "regression nesterov, L1": (
        lambda: synthetic("plane", 200, 0.5, 1),
        [dense(8, "leaky_relu", slope=0.1), dense(6, "sigmoid")],
        TrainingConfig(optimizer="momentum", nesterov=True, momentum=0.8, learning_rate=0.01, l1=1e-3, batch_size=20), {}),
    "regression momentum, no shuffle, no validation": (
        lambda: synthetic("sine", 150, 0.1, 2),
        [dense(10, "tanh")],
        TrainingConfig(optimizer="momentum", learning_rate=0.05, shuffle=False, val_fraction=0.0, batch_size=32), {}),
    "softmax rmsprop, dropouts on inputs and twice": (
        lambda: synthetic("spiral3", 240, 0.1, 0),
        [dropout(0.1), dense(16, "relu"), dropout(0.3), dropout(0.2), dense(8, "sigmoid")],
        TrainingConfig(optimizer="rmsprop", learning_rate=0.005, l2=1e-2, batch_size=24), {}),
    "softmax sgd float64, raw inputs": (
        lambda: synthetic("blobs", 200, 0.2, 0),
        [dense(8, "tanh")],
        TrainingConfig(optimizer="sgd", learning_rate=0.1, standardize=False, batch_size=10), {"dtype": "float64"}),
    "mse on a sigmoid (unfused gradient)": (
        lambda: synthetic("moons", 200, 0.1, 0),
        [dense(8, "relu")],
        TrainingConfig(optimizer="adam", loss="mse", learning_rate=0.02), {}),
    "adam, α and β₁ changed live": (
        lambda: synthetic("circle", 200, 0.1, 0),
        [dense(8, "tanh"), dropout(0.1)],
        TrainingConfig(optimizer="adam", learning_rate=0.01, batch_size=16),
        {"changes": {(2, 3): {"learning_rate": 0.05}, (5, 0): {"learning_rate": 0.002, "beta1": 0.8}}}),
    "momentum, α and μ changed live": (
        lambda: synthetic("plane", 200, 0.5, 1),
        [dense(8, "relu")],
        TrainingConfig(optimizer="momentum", learning_rate=0.01, batch_size=20),
        {"changes": {(1, 4): {"momentum": 0.5}, (3, 7): {"learning_rate": 0.03}}}),
    "multi-label binary cross-entropy on two sigmoid units": (
        two_labels, [dense(6, "relu")],
        TrainingConfig(optimizer="adam", loss="binary_crossentropy", learning_rate=0.02, batch_size=16),
        {"output": dense(2, "sigmoid")}),
}


@pytest.mark.parametrize("name", SETTINGS)
def test_numpy_script_reproduces_the_engine(name, tmp_path, child_env):
    make_data, hidden, config, options = SETTINGS[name]
    expected, source, _ = trained_run(make_data(), hidden, config, **options)
    script, data = write_numpy_script(source, tmp_path / "run.py")
    assert data == tmp_path / "run_data.npz"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    got = run_script(script, child_env, cwd=elsewhere)  # finds its data file beside itself
    assert_same_history(expected, got)


def test_a_given_standardization_is_used_not_refitted(tmp_path, child_env):
    dataset = synthetic("circle", 160, 0.1, 0)
    given = Preprocess(np.array([0.5, -0.25]), np.array([2.0, 0.5]))
    expected, source, _ = trained_run(dataset, [dense(6, "tanh")], TrainingConfig(learning_rate=0.02), preprocess=given)
    script, data = write_numpy_script(source, tmp_path / "given.py")
    with np.load(data, allow_pickle=False) as arrays:
        np.testing.assert_array_equal(arrays["mean"], given.mean)
    assert_same_history(expected, run_script(script, child_env, cwd=tmp_path))


def test_a_network_exported_before_training_exports_the_same_run(tmp_path, child_env):
    dataset = synthetic("xor", 160, 0.1, 0)
    config = TrainingConfig(optimizer="adam", batch_size=8)
    network = Network({"input_shape": [2], "layers": [dense(6, "relu"), dense(1, "sigmoid")]}, seed=7)
    script, _ = write_numpy_script(ExportSource.of(network, network.params, dataset, config, EPOCHS), tmp_path / "first.py")
    expected = [_finite_or_none(report.to_json()) for report in Trainer(network, dataset, config).run(EPOCHS)]
    assert_same_history(expected, run_script(script, child_env, cwd=tmp_path))


def test_quotes_and_backslashes_in_names_stay_inside_their_strings(tmp_path, child_env):
    dataset = dataclasses.replace(synthetic("gaussian", 100, 0.2, 0), name='my """data\\N{x}')
    expected, source, _ = trained_run(dataset, [dense(4, "tanh")], TrainingConfig())
    script, data = write_numpy_script(source, tmp_path / 'it\'s "odd" \\N.py')
    assert data.name == 'it\'s "odd" \\N_data.npz'
    assert_same_history(expected, run_script(script, child_env, cwd=tmp_path))
    notebook, _ = write_notebook(source, tmp_path / 'it\'s "odd".ipynb')
    assert_same_history(expected, run_notebook_cells(notebook))


def test_the_script_needs_only_numpy_and_its_data_file(tmp_path):
    _, source, network = trained_run(synthetic("spiral", 120, 0.1, 0), [dense(8, "tanh"), dropout(0.1)],
                                     TrainingConfig(l1=1e-4))
    script, data = write_numpy_script(source, tmp_path / "learn.py")
    imported = set()
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported == {"json", "math", "sys", "time", "pathlib", "numpy"}
    with np.load(data, allow_pickle=False) as arrays:
        assert sorted(arrays.files) == ["W1", "W2", "X", "Y", "b1", "b2"]
        assert arrays["W1"].shape == (8, 2) and arrays["b2"].shape == (1,)
        np.testing.assert_array_equal(arrays["W1"], source.initial_layers()[0]["W"])
        assert not np.array_equal(arrays["W1"], network.parameters_by_layer()[0]["W"])  # epoch 0, not the trained weights
    text = script.read_text(encoding="utf-8")
    assert "Z = W[l] @ A[l - 1] + b[l]" in text and "dW[l] = dZ @ A[l - 1].T" in text
    assert "L1 * np.sign(W[l])" in text and "L2" not in text.replace("L2 penalty", "")  # only what the run uses


def run_notebook_cells(path: Path, plot: bool = False) -> list[dict]:
    """Execute the notebook's code cells in one fresh namespace in its folder (the plot cell only
    when ``plot``); the JSON lines they print."""
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    namespace: dict = {"__name__": "__main__"}
    printed = io.StringIO()
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        with contextlib.redirect_stdout(printed):
            for cell in notebook.cells:
                if cell.cell_type == "code" and (plot or PLOT_TAG not in cell.metadata.get("tags", [])):
                    exec(compile(cell.source, str(path), "exec"), namespace)  # noqa: S102 - the notebook under test
    finally:
        os.chdir(cwd)
    return [json.loads(line) for line in printed.getvalue().splitlines()]


def test_notebook_cells_reproduce_the_engine(tmp_path):
    make_data, hidden, config, options = SETTINGS["binary adam, dropout, L2, shuffle"]
    expected, source, _ = trained_run(make_data(), hidden, config, **options)
    notebook, data = write_notebook(source, tmp_path / "lesson.ipynb")
    assert data.name == "lesson_data.npz"
    assert_same_history(expected, run_notebook_cells(notebook))
    cells = nbformat.read(notebook, as_version=4).cells
    kinds = [cell.cell_type for cell in cells]
    assert kinds[0] == "markdown" and all(kinds[i - 1] == "markdown" for i, k in enumerate(kinds) if k == "code")
    plot = cells[-1]
    assert PLOT_TAG in plot.metadata["tags"] and "import matplotlib.pyplot" in plot.source


def test_the_notebook_plots_the_losses(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    _, source, _ = trained_run(synthetic("moons", 100, 0.1, 0), [dense(4, "tanh")], TrainingConfig())
    notebook, _ = write_notebook(source, tmp_path / "plot.ipynb")
    assert len(run_notebook_cells(notebook, plot=True)) == EPOCHS


def test_a_dropout_after_the_output_layer_is_refused(tmp_path):
    dataset = synthetic("spiral", 120, 0.1, 0)
    network = Network({"input_shape": [2], "layers": [dense(4, "tanh"), dense(1, "sigmoid"), dropout(0.5)]})
    source = ExportSource.of(network, network.params.copy(), dataset, TrainingConfig(), 3)
    with pytest.raises(SpecError, match="after the output layer"):
        write_numpy_script(source, tmp_path / "run.py")
    assert not (tmp_path / "run.py").exists()


# ----- ONNX -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "hidden", "dtype"), [
    ("spiral", [dense(12, "tanh"), dropout(0.2), dense(8, "relu")], "float32"),
    ("spiral3", [dense(8, "leaky_relu", slope=0.2), dense(6, "sigmoid")], "float64"),
    ("housing", [dense(8, "relu")], "float32"),
])
def test_onnx_outputs_equal_predict(name, hidden, dtype, tmp_path):
    pytest.importorskip("onnx")
    runtime = pytest.importorskip("onnxruntime")
    dataset = synthetic(name, 200, None, 0)
    _, _, network = trained_run(dataset, hidden, TrainingConfig(learning_rate=0.01), dtype=dtype)
    (path,) = write_onnx(network, tmp_path / "model.onnx")
    session = runtime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(["y"], {"x": dataset.X.astype(dtype)})[0]
    want = network.predict(dataset.X)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=TOLERANCE, atol=TOLERANCE)


def test_onnx_without_the_package_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    network = Network({"input_shape": [2], "layers": [dense(1, "sigmoid")]})
    with pytest.raises(FileFormatError, match=r"model\.onnx: .*pip install 'epochlab\[onnx\]'"):
        write_onnx(network, tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()
