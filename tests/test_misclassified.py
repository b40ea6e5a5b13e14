"""The misclassified gallery: the probe's payload (core.misclassified) checked against an
independent prediction, and the view (app.views.misclassified) that draws it."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import shown

from core.data import make_dataset, suggested_head
from core.misclassified import MisclassifiedData, MisclassifiedProbe, predicted_confidence
from core.network import Network
from core.realdata import load_real
from core.synthetic import synthetic
from core.trainer import Trainer, TrainingConfig, split_indices

ROOT = Path(__file__).resolve().parents[1]
HIDDEN = [{"type": "dense", "units": 16, "activation": "relu"}]


def trained(dataset, epochs: int = 2, val_fraction: float = 0.2, head=None) -> Trainer:
    head = head or suggested_head(dataset.task, dataset.n_outputs)[0]
    network = Network({"input_shape": [dataset.n_features], "layers": [*HIDDEN, head]}, seed=0)
    trainer = Trainer(network, dataset, TrainingConfig(val_fraction=val_fraction, learning_rate=0.01, seed=3))
    for _ in range(epochs):
        trainer.run_epoch()
    return trainer


@pytest.fixture(scope="module")
def digits():
    return load_real("digits")


@pytest.fixture(scope="module")
def digits_trainer(digits):
    return trained(digits)


def independent_outputs(network: Network, X: np.ndarray) -> np.ndarray:
    """The network's outputs (m, k) for raw X (m, n) in float64 NumPy, from its parameters:
    standardize, relu hidden layer, softmax output."""
    x = network.preprocess.apply(X)
    (hidden, output) = [p for p in network.parameters_by_layer() if "W" in p]
    a = np.maximum(x @ hidden["W"].T.astype(np.float64) + hidden["b"], 0.0)
    z = a @ output["W"].T.astype(np.float64) + output["b"]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_the_probe_returns_exactly_the_wrong_validation_images_most_confident_first(digits, digits_trainer):
    data = MisclassifiedProbe()(digits_trainer)
    _, val_rows = split_indices(digits.n_samples, 0.2, 3)
    outputs = independent_outputs(digits_trainer.network, digits.X[val_rows])
    predicted = outputs.argmax(axis=1)
    wrong_rows = val_rows[predicted != digits.y[val_rows]]
    assert not data.reason and data.total == len(val_rows) == digits_trainer.val_size
    assert 0 < data.wrong == len(wrong_rows) <= 48, "a network trained 2 epochs should make some mistakes"
    assert sorted(data.rows.tolist()) == sorted(wrong_rows.tolist())
    expected = outputs[np.searchsorted(val_rows, data.rows), predicted[np.searchsorted(val_rows, data.rows)]]
    np.testing.assert_allclose(data.confidence, expected, atol=1e-4)
    assert np.all(np.diff(data.confidence) <= 0), "most confident mistakes first"
    assert data.images.dtype == np.float32 and data.images.shape == (data.wrong, 8, 8, 1)
    np.testing.assert_array_equal(data.images, digits.X[data.rows].reshape(-1, 8, 8, 1).astype(np.float32))
    assert list(data.true_names) == [digits.class_names[digits.y[r]] for r in data.rows]
    assert list(data.predicted_names) == [digits.class_names[predicted[np.searchsorted(val_rows, r)]] for r in data.rows]
    assert all(t != p for t, p in zip(data.true_names, data.predicted_names, strict=True))
    assert data.epoch == 2


def test_the_probe_keeps_the_most_confident_mistakes_up_to_its_limit(digits_trainer):
    everything = MisclassifiedProbe()(digits_trainer)
    five = MisclassifiedProbe(limit=5)(digits_trainer)
    assert five.wrong == everything.wrong and len(five.rows) == 5
    assert five.rows.tolist() == everything.rows[:5].tolist()
    assert five.confidence.min() >= everything.confidence[5:].max()


def test_the_probe_and_its_payload_cross_to_the_trainer_process_and_back(digits_trainer):
    probe = pickle.loads(pickle.dumps(MisclassifiedProbe(limit=7)))
    data = pickle.loads(pickle.dumps(probe(digits_trainer)))
    assert isinstance(data, MisclassifiedData) and len(data.rows) == 7


def test_the_probe_module_imports_no_qt(child_env):
    code = "import sys, core.misclassified; print(' '.join(m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, env=child_env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().split() == []


def test_the_confidence_of_one_sigmoid_unit_is_p_or_one_minus_p():
    outputs = np.array([[0.9], [0.2], [0.6]])
    np.testing.assert_allclose(predicted_confidence(outputs, np.array([1, 0, 0])), [0.9, 0.8, 0.4])
    soft = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2]])
    np.testing.assert_allclose(predicted_confidence(soft, np.array([1, 2])), [0.7, 0.2])


def test_binary_image_data_gives_a_gallery_too():
    rng = np.random.default_rng(0)
    X = rng.random((60, 12))
    data = make_dataset(X, (X[:, 0] > 0.5).astype(int), name="tiny", task="classes", sample_shape=(3, 4, 1))
    result = MisclassifiedProbe()(trained(data, epochs=1))
    assert not result.reason and result.total == 12 and result.images.shape[1:] == (3, 4, 1)
    assert np.all((result.confidence >= 0.5) & (result.confidence <= 1.0))


@pytest.mark.parametrize("case, words", [
    ("table", "needs image data"), ("regression", "needs classification data"), ("no validation", "no validation part")])
def test_data_without_a_gallery_give_a_reason(digits, case, words):
    if case == "table":
        trainer = trained(synthetic("spiral", 100, 0.1, 0))
    elif case == "regression":
        data = make_dataset(digits.X[:80], digits.y[:80].astype(float), name="pixels", sample_shape=(8, 8, 1))
        trainer = trained(data, epochs=1, head={"type": "dense", "units": 1, "activation": "linear"})
    else:
        trainer = trained(digits, epochs=1, val_fraction=0.0)
    data = MisclassifiedProbe()(trainer)
    assert words in data.reason and data.images is None and data.wrong == 0


# ----- the view --------------------------------------------------------------------------------


@pytest.fixture
def view(qtbot):
    from app.views.misclassified import MisclassifiedView

    widget = shown(qtbot, MisclassifiedView())
    widget.resize(600, 400)
    return widget


def show(view, data: MisclassifiedData) -> None:
    from app.worker import ProbeResult

    view.receive(ProbeResult("misclassified", data.epoch, 0, data))
    view.refresh()


def test_the_view_draws_the_gallery_with_captions_count_and_epoch(view, digits_trainer, tmp_path):
    data = MisclassifiedProbe()(digits_trainer)
    show(view, data)
    assert not view.showing_note() and view.epoch_label.text() == "epoch 2"
    captions = [text.replace("\u00a0", " ") for text in view.canvas.captions]
    first = f"true {data.true_names[0]} · predicted {data.predicted_names[0]} ({data.confidence[0]:.2f})"
    assert captions[0] == first and len(captions) == data.wrong
    assert view.readout.text().startswith(f"{data.wrong} of {data.total} validation images wrong")
    drawn = view.canvas.item.shown()
    assert 1 <= drawn <= data.wrong
    rects = [image for image, _ in view.canvas.tile_rects()]
    assert len(rects) == drawn and all(view.canvas.rect().toRectF().contains(r) for r in rects)
    assert all(r.height() >= 32 for r in rects), "each drawn image readable: 8 × 8 pixels at 4× at least"
    assert view.export(tmp_path / "gallery.png").stat().st_size > 0


def test_a_larger_view_draws_more_mistakes(view, digits_trainer, qtbot):
    view.resize(400, 300)
    show(view, MisclassifiedProbe()(digits_trainer))
    qtbot.waitUntil(lambda: 0 < view.canvas.item.shown() < view.data.wrong)
    small = view.canvas.item.shown()
    assert view.readout.text().endswith(f" · {small} shown")
    view.resize(1200, 900)
    qtbot.waitUntil(lambda: view.canvas.item.shown() == view.data.wrong)
    assert view.readout.text().endswith("validation images wrong (5.0 %)")


def test_the_view_gives_the_note_for_data_without_a_gallery_and_forgets_on_a_new_run(view, digits_trainer):
    show(view, MisclassifiedProbe()(trained(synthetic("spiral", 100, 0.1, 0))))
    assert view.showing_note() and "needs image data" in view.note.text()
    show(view, MisclassifiedProbe()(digits_trainer))
    assert not view.showing_note()
    view.new_run()
    assert view.showing_note() and view.canvas.captions == [] and view.readout.text() == "" and view.epoch_label.text() == ""


def test_no_mistakes_is_said_with_the_count(view, digits_trainer):
    data = MisclassifiedProbe()(digits_trainer)
    perfect = MisclassifiedData(data.images[:0], data.rows[:0], (), (), data.confidence[:0], 0, data.total, 9)
    show(view, perfect)
    assert view.showing_note() and "every validation image right" in view.note.text()
    assert view.readout.text().startswith(f"0 of {data.total} validation images wrong")
