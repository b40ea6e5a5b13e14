"""The inspection views in the real window: each shows data once training starts, follows a
step, agrees with the model, explains itself when it does not apply, and exports.

The trainer runs in a child process; a test compares the views with a mirror trainer built
here from the same spec, data and seed and stepped as often (runs are bit-identical)."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import WAIT_MS, child, choose, click, step_epochs
from PySide6.QtWidgets import QComboBox, QPushButton, QSpinBox, QTableWidget, QToolButton

from app.main_window import MainWindow
from core import insight
from core.network import Network
from core.trainer import Trainer


def trainer(win, epochs=0):
    """A mirror of the window's trainer after ``epochs`` epochs (same spec, data, settings and seed)."""
    mirror = Trainer(Network(win.layer_builder.spec(), seed=win.config.seed), win.dataset, win.config)
    for _ in range(epochs):
        mirror.run_epoch()
    return mirror


def show(qtbot, win, name):
    win.registry.docks[name].raise_()
    qtbot.waitUntil(lambda: name in win.controller.enabled_probes, timeout=WAIT_MS)


def test_boundary_matches_predict_and_follows_steps(qtbot, window):
    view = window.registry.boundary
    for epoch in (1, 2):
        step_epochs(qtbot, window)
        qtbot.waitUntil(lambda epoch=epoch: view._data is not None and view._data.epoch == epoch, timeout=WAIT_MS)
        assert not view.showing_note()
        grid = view._data.grid
        t = trainer(window, epoch)
        expected = insight.predicted_classes(t.network.predict(grid.points))
        assert np.array_equal(view.classes.ravel(), expected)
        for index in (0, grid.resolution * 40 + 17, len(grid.points) - 1):
            assert view.class_at(index) == expected[index]
    # the axes are in the data's raw units and the samples are drawn on top
    x = t.dataset.X
    assert grid.x_range[0] < x[:, 0].min() and grid.x_range[1] > x[:, 0].max()
    assert len(view.train_points.data) == t.train_size and len(view.val_points.data) == t.val_size
    child(window, type(view.train_check), "boundaryTrainCheck").setChecked(False)
    assert not view.train_points.isVisible() and view.val_points.isVisible()
    shaded = view.image.image.copy()
    view.discrete_check.setChecked(True)
    assert not np.array_equal(view.image.image, shaded)
    assert np.array_equal(view.classes.ravel(), expected)


def test_boundary_and_confusion_explain_regression(qtbot, window):
    choose(child(window, QComboBox, "datasetCombo"), "sine")
    show(qtbot, window, "boundary")  # the window brings the regression fit forward for regression data
    qtbot.waitUntil(lambda: "2-D classification" in window.registry.boundary.note.text(), timeout=WAIT_MS)
    assert window.registry.boundary.showing_note()
    show(qtbot, window, "confusion")
    qtbot.waitUntil(lambda: "regression" in window.registry.confusion.note.text(), timeout=WAIT_MS)
    assert window.registry.confusion.showing_note()


def test_confusion_matrix_counts_the_validation_part(qtbot, window):
    choose(child(window, QComboBox, "datasetCombo"), "blobs")
    show(qtbot, window, "confusion")
    view = window.registry.confusion
    step_epochs(qtbot, window, 2)
    qtbot.waitUntil(lambda: view.data is not None and view.data.epoch == 2, timeout=WAIT_MS)
    t = trainer(window, 2)
    matrix = view.data.matrix
    assert matrix.shape == (4, 4) and matrix.sum() == t.val_size
    _, _, x_val, y_val = insight.raw_split(t)
    predicted = insight.predicted_classes(t.network.predict(x_val))
    assert np.trace(matrix) == np.sum(predicted == y_val)
    precision, recall = insight.precision_recall(matrix)
    np.testing.assert_array_equal(view.data.recall, recall)
    assert "P " in view.readout.text() and "R " in view.readout.text()
    assert view.image.image.shape[:2] == (5, 5)  # the matrix, a precision row and a recall column
    assert len(view.cells.texts) == 4 * 4 + 2 * 4


def test_weight_history_columns_match_the_weights_and_reports(qtbot, window):
    choose(child(window, QComboBox, "datasetCombo"), "blobs")
    show(qtbot, window, "weightHistory")
    view = window.registry.weight_history
    step_epochs(qtbot, window, 3)
    qtbot.waitUntil(lambda: view.histograms is not None and view.histograms.epoch == 3 and view.grad.count == 3, timeout=WAIT_MS)
    label, edges, epochs, counts = view.histograms.layers[0]
    assert epochs[-1] == 3 and list(epochs) == sorted(set(epochs))
    t = trainer(window, 3)
    w = t.network.parameters_by_layer()[0]["W"]
    now = insight.histogram_counts(w, edges)
    np.testing.assert_allclose(counts[-1], np.log1p(now) / np.log1p(now.max()), rtol=1e-6)
    reports = t.history.recent
    np.testing.assert_allclose(view.grad.values[:3, 0], [r.layers[0].grad_norm for r in reports])
    qtbot.waitUntil(lambda: not view.stale(), timeout=WAIT_MS)
    assert view.density.image.shape[0] == len(edges) - 1
    assert view.grad_plot.ctrl.logYCheck.isChecked()
    # hidden behind another tab: its probe is off
    window.registry.docks["weights"].raise_()
    qtbot.waitUntil(lambda: "weightHistory" not in window.controller.enabled_probes, timeout=WAIT_MS)


def test_views_export_png_and_svg(qtbot, window, tmp_path):
    step_epochs(qtbot, window)
    view = window.registry.boundary
    qtbot.waitUntil(lambda: view._data is not None, timeout=WAIT_MS)
    for suffix in ("png", "svg"):
        path = tmp_path / f"boundary.{suffix}"
        view.export(path)
        assert path.stat().st_size > 1000
    assert (tmp_path / "boundary.svg").read_text().lstrip().startswith("<?xml")


def test_layout_is_remembered(qtbot, window, tmp_path):
    from PySide6.QtCore import QSettings

    settings = QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat)
    window.registry.docks["confusion"].setFloating(True)
    window.registry.save_layout(settings)
    other = MainWindow()
    qtbot.addWidget(other)
    try:
        assert not other.registry.docks["confusion"].isFloating()
        assert other.registry.restore_layout(settings)
        assert other.registry.docks["confusion"].isFloating()
    finally:
        other.close()


def test_network_graph_edges_are_the_weights(qtbot, window):
    show(qtbot, window, "networkGraph")
    view = window.registry.graph
    step_epochs(qtbot, window)
    qtbot.waitUntil(lambda: view.data is not None and view.data.epoch == 1, timeout=WAIT_MS)
    params = trainer(window, 1).network.parameters_by_layer()
    weights = [p["W"] for p in params if "W" in p]
    biases = [p["b"] for p in params if "W" in p]
    assert len(view.edges) == sum(w.size for w in weights) == 8 * 2 + 8 * 8 + 8 and view.hidden_edges == 0
    for layer, i, j, value in view.edges:
        assert value == pytest.approx(float(weights[int(layer)][int(i), int(j)]), abs=1e-6)
    # hovering the middle of a connection names its weight; hovering a unit names its bias
    layer, i, j, value = view.edges[5]
    x0, y0, x1, y1 = view._edge_xy[5]
    text = view.describe_at((x0 + x1) / 2, (y0 + y1) / 2, pixel=1e-3)
    assert f"{value:.4g}" in text and text.startswith("W[")
    assert len(view._thumbs) == 3 and view._thumbs[0].image.shape[1:] == (24, 4)  # a strip of RGBA thumbnails per layer
    x, y = view.node_xy[2]  # the first unit of layer 1
    assert f"b = {float(biases[0][0]):.4g}" in view.describe_at(x, y, pixel=1e-3)
    before = view.edges.copy()
    step_epochs(qtbot, window)
    qtbot.waitUntil(lambda: view.data.epoch == 2, timeout=WAIT_MS)
    assert not np.array_equal(before[:, 3], view.edges[:, 3])


def test_network_graph_summarises_a_wide_network(qtbot, window):
    show(qtbot, window, "networkGraph")
    view = window.registry.graph
    data = insight.graph_data(type("T", (), {"network": Network({"input_shape": [2], "layers": [
        {"type": "dense", "units": 64, "activation": "relu"}, {"type": "dense", "units": 64, "activation": "relu"},
        {"type": "dense", "units": 1, "activation": "sigmoid"}]}, seed=0), "dataset": window.dataset, "epoch": 0})())
    view.show_data(data)
    assert len(view.edges) == 300 and view.hidden_edges == 2 * 64 + 64 * 64 + 64 - 300
    assert view.hidden_units == 2 * (64 - 16)
    assert "hidden" in view.readout.text()


def test_regression_fit_curve_and_learned_weights(qtbot, window):
    show(qtbot, window, "regressionFit")
    view = window.registry.fit
    qtbot.waitUntil(lambda: view.showing_note() and "classification" in view.note.text(), timeout=WAIT_MS)
    choose(child(window, QComboBox, "datasetCombo"), "sine")
    step_epochs(qtbot, window)
    qtbot.waitUntil(lambda: view.data is not None and view.data.epoch == 1, timeout=WAIT_MS)
    t = trainer(window, 1)
    assert view.data.kind == "curve" and not view.showing_note()
    np.testing.assert_allclose(view.curve.yData, t.network.predict(view.data.curve_x[:, None])[:, 0], rtol=1e-6)
    assert len(view.points.data) == t.val_size and "R² =" in view.readout.text()
    # housing with one dense layer: predicted vs actual, and learned vs true weights
    choose(child(window, QComboBox, "datasetCombo"), "housing")
    table = child(window, QTableWidget, "layerTable")
    while table.rowCount() > 0:  # a single dense layer: linear regression
        rows = table.rowCount()
        click(qtbot, child(window, QPushButton, "removeLayerButton"))
        assert table.rowCount() == rows - 1
    step_epochs(qtbot, window, 2)
    qtbot.waitUntil(lambda: view.data is not None and view.data.epoch == 2 and view.data.kind == "scatter", timeout=WAIT_MS)
    assert view.data.learned is not None and len(view.data.true) == 6
    np.testing.assert_allclose(view.data.learned, insight.raw_linear_weights(trainer(window, 2).network)[0][0])
    assert view.weights_plot.isVisible()
    assert view.data.r2 == pytest.approx(insight.r2_score(view.data.actual, view.data.predicted))


def test_activations_of_a_chosen_sample(qtbot, window):
    show(qtbot, window, "activations")
    view = window.registry.activations
    step_epochs(qtbot, window)
    qtbot.waitUntil(lambda: view.data is not None and view.data.epoch == 1, timeout=WAIT_MS)
    child(window, QSpinBox, "activationSampleSpin").setValue(7)
    qtbot.waitUntil(lambda: view.data.index == 7, timeout=WAIT_MS)
    t = trainer(window, 1)
    expected = insight.raw_forward_all(t.network, t.dataset.X[7:8])
    assert len(view.data.activations) == len(expected) == 3
    for shown, want in zip(view.data.activations, expected, strict=True):
        np.testing.assert_allclose(shown, want[0], rtol=1e-5)
    bars = view._items[0]
    np.testing.assert_allclose(bars.positive.opts["height"] + bars.negative.opts["height"], expected[0][0], rtol=1e-5)
    assert "sample 7" in view.readout.text()


def test_reset_shows_the_initial_weights_again(qtbot, window):
    view = window.registry.boundary
    qtbot.waitUntil(lambda: view._data is not None and view._data.epoch == 0, timeout=WAIT_MS)
    initial = view.classes.copy()
    step_epochs(qtbot, window, 3)
    qtbot.waitUntil(lambda: view._data.epoch == 3, timeout=WAIT_MS)
    click(qtbot, child(window, QToolButton, "resetButton"))
    qtbot.waitUntil(lambda: view._data is not None and view._data.epoch == 0, timeout=WAIT_MS)
    assert np.array_equal(view.classes, initial)


def test_window_remembers_the_layout_between_runs(qtbot):
    first = MainWindow()
    qtbot.addWidget(first)
    first.registry.docks["networkGraph"].setFloating(True)
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    try:
        assert second.registry.docks["networkGraph"].isFloating()
    finally:
        second.close()
