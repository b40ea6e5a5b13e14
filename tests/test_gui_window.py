"""The lab window, driven as a user would: data, layers, Play/Pause, steps, reset, divergence, close."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pyqtgraph as pg
import pytest
from gui_helpers import WAIT_MS, child, choose, click, open_window, pause, play_until, step_epochs, window_style
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QPushButton, QScrollArea, QSpinBox, QTableWidget, QToolButton

from app.main_window import MainWindow
from app.widgets import LogSpinBox
from core.epochlab import load_session
from core.experiment import Experiment
from core.files import load_model


def epoch_shown(win) -> int:
    return int(re.search(r"\d+", child(win, QLabel, "epochLabel").text()).group())


def loss_points(win) -> int:
    return win.loss_plot.curve_points()


def wait_for_weights(qtbot, win) -> np.ndarray:
    qtbot.waitUntil(lambda: win.weights.current_matrix() is not None, timeout=WAIT_MS)
    return win.weights.current_matrix()


def test_default_window_is_ready_to_play(window):
    assert window.objectName() == "MainWindow" and "Epoch Lab" in window.windowTitle()
    for kind, name in [(QComboBox, "datasetCombo"), (QPushButton, "regenerateButton"), (QTableWidget, "layerTable"),
                       (QPushButton, "addLayerButton"), (QPushButton, "removeLayerButton"), (LogSpinBox, "learningRateSpin"),
                       (QSpinBox, "batchSizeSpin"), (QToolButton, "playButton"), (QToolButton, "stepEpochButton"),
                       (QToolButton, "stepBatchButton"), (QToolButton, "resetButton"), (QLabel, "epochLabel"),
                       (pg.PlotWidget, "lossPlot"), (pg.PlotWidget, "metricPlot"), (pg.GraphicsLayoutWidget, "weightPlot")]:
        child(window, kind, name)
    assert child(window, QComboBox, "datasetCombo").currentData() == "spiral"
    assert child(window, QTableWidget, "layerTable").rowCount() == 2
    assert child(window, QToolButton, "playButton").text() == "Play" and child(window, QToolButton, "playButton").isEnabled()
    assert epoch_shown(window) == 0
    assert "105" in child(window, QLabel, "summaryTotals").text()


def test_change_dataset_updates_summary_preview_and_head(qtbot, window):
    summary = child(window, QLabel, "datasetSummary")
    before = summary.text()
    choose(child(window, QComboBox, "datasetCombo"), "blobs")
    assert summary.text() != before and "4 classes" in summary.text()
    assert window.dataset_panel.preview.getPlotItem().listDataItems()
    assert "4 (from the data" in window.layer_builder.output_label.text()
    assert child(window, QComboBox, "outputActivationCombo").currentData() == "softmax"
    choose(child(window, QComboBox, "datasetCombo"), "sine")
    assert "regression" in summary.text()
    assert window.metric_plot._metric_name == "r2"
    assert child(window, QToolButton, "playButton").isEnabled()
    seed = child(window, QSpinBox, "dataSeedSpin").value()
    click(qtbot, child(window, QPushButton, "regenerateButton"))
    assert child(window, QSpinBox, "dataSeedSpin").value() == seed + 1
    assert window.dataset_panel.source["seed"] == seed + 1


def test_add_and_remove_layer_update_the_summary(qtbot, window):
    table = child(window, QTableWidget, "layerTable")
    summary = child(window, QTableWidget, "summaryTable")
    totals = child(window, QLabel, "summaryTotals")
    rows, text = summary.rowCount(), totals.text()
    click(qtbot, child(window, QPushButton, "addLayerButton"))
    assert table.rowCount() == 3 and summary.rowCount() == rows + 1 and totals.text() != text
    assert "177" in totals.text()  # 105 + a Dense(8) after a layer of 8: 8·8 + 8 = 72
    click(qtbot, child(window, QPushButton, "removeLayerButton"))
    assert table.rowCount() == 2 and summary.rowCount() == rows and totals.text() == text


def test_invalid_network_is_explained_and_play_disabled(window):
    choose(child(window, QComboBox, "outputActivationCombo"), "linear")
    problem = child(window, QLabel, "problemLabel")
    assert not problem.isHidden() and "sigmoid" in problem.text()
    assert not child(window, QToolButton, "playButton").isEnabled()
    choose(child(window, QComboBox, "outputActivationCombo"), "sigmoid")
    assert problem.isHidden() and child(window, QToolButton, "playButton").isEnabled()


def test_play_then_pause_stops_the_epochs(qtbot, window):
    with qtbot.waitSignals([window.controller.playingChanged, window.controller.epochsReady], timeout=WAIT_MS,
                           check_params_cbs=[lambda playing, reason: playing, None]):
        click(qtbot, child(window, QToolButton, "playButton"))
    assert child(window, QToolButton, "playButton").text() == "Pause"
    qtbot.waitUntil(lambda: window.history.count >= 5, timeout=WAIT_MS)
    pause(qtbot, window)
    assert child(window, QToolButton, "playButton").text() == "Play"
    count = window.history.count
    with qtbot.assertNotEmitted(window.controller.epochsReady, wait=300):
        pass
    assert window.history.count == count
    assert np.array_equal(window.history.column("epoch"), np.arange(1, count + 1))  # none dropped
    qtbot.waitUntil(lambda: epoch_shown(window) == count and loss_points(window) == count, timeout=WAIT_MS)


def test_step_epoch_adds_exactly_one_epoch_and_one_loss_point(qtbot, window):
    for expected in (1, 2):
        with qtbot.waitSignal(window.controller.epochsReady, timeout=WAIT_MS):
            click(qtbot, child(window, QToolButton, "stepEpochButton"))
        assert window.history.count == expected
        qtbot.waitUntil(lambda expected=expected: loss_points(window) == expected and epoch_shown(window) == expected, timeout=WAIT_MS)


def test_step_batch_moves_one_mini_batch(qtbot, window):
    with qtbot.waitSignal(window.controller.partialReport, timeout=WAIT_MS) as blocker:
        click(qtbot, child(window, QToolButton, "stepBatchButton"))
    report = blocker.args[0]
    assert (report.epoch, report.batch, report.batches) == (1, 1, 25)
    assert window.history.count == 0
    qtbot.waitUntil(lambda: "batch 1/25" in child(window, QLabel, "epochLabel").text(), timeout=WAIT_MS)
    assert epoch_shown(window) == 0
    with qtbot.waitSignal(window.controller.epochsReady, timeout=WAIT_MS):  # the rest of the epoch
        click(qtbot, child(window, QToolButton, "stepEpochButton"))
    assert window.history.count == 1


def test_reset_gives_the_same_initial_weights(qtbot, window):
    initial = wait_for_weights(qtbot, window).copy()
    with qtbot.waitSignal(window.controller.epochsReady, timeout=WAIT_MS):
        click(qtbot, child(window, QToolButton, "stepEpochButton"))
    qtbot.waitUntil(lambda: not np.array_equal(window.weights.current_matrix(), initial), timeout=WAIT_MS)
    with qtbot.waitSignal(window.controller.probed, timeout=WAIT_MS):
        click(qtbot, child(window, QToolButton, "resetButton"))
    assert np.array_equal(window.weights.current_matrix(), initial)
    assert window.history.count == 0
    qtbot.waitUntil(lambda: epoch_shown(window) == 0 and loss_points(window) == 0, timeout=WAIT_MS)


def test_learning_rate_change_while_running_applies_and_is_marked(qtbot, window):
    play_until(qtbot, window, 3)
    with qtbot.waitSignal(window.controller.settingApplied, timeout=WAIT_MS) as blocker:
        child(window, LogSpinBox, "learningRateSpin").setValue(0.001)
    name, value, position = blocker.args
    assert (name, value) == ("learning_rate", 0.001) and position >= 3
    qtbot.waitUntil(lambda: window.history.count > position + 1, timeout=WAIT_MS)
    pause(qtbot, window)
    rates = window.history.column("learning_rate")
    epochs = window.history.column("epoch")
    assert np.all(rates[epochs <= position] == np.float64(0.03)) and np.all(rates[epochs > position + 1] == 0.001)
    assert [m.text for m in window.history.markers] == ["α = 0.001"]
    qtbot.waitUntil(lambda: len(window.loss_plot._marks) == 1, timeout=WAIT_MS)
    assert window.loss_plot._marks[0].value() == pytest.approx(position)


def test_divergence_pauses_and_explains(qtbot, window):
    choose(child(window, QComboBox, "datasetCombo"), "plane")
    choose(child(window, QComboBox, "optimizerCombo"), "sgd")
    child(window, LogSpinBox, "learningRateSpin").setValue(50.0)
    with qtbot.waitSignal(window.controller.diverged, timeout=WAIT_MS):
        click(qtbot, child(window, QToolButton, "playButton"))
    qtbot.waitUntil(lambda: not window.controller.playing and child(window, QToolButton, "playButton").text() == "Play", timeout=WAIT_MS)
    banner = window.banner
    assert banner.isVisible() and "diverged" in banner.text.text() and "lower" in banner.text.text().lower()
    weights = wait_for_weights(qtbot, window)
    assert np.isfinite(weights).all()
    assert np.isfinite(window.history.column("train_loss")).all()
    assert window.history.markers[-1].kind == "diverged"


def test_changing_the_network_starts_a_new_run_and_keeps_the_trained_one(qtbot, window):
    with qtbot.waitSignal(window.controller.epochsReady, timeout=WAIT_MS):
        click(qtbot, child(window, QToolButton, "stepEpochButton"))
    asked = []
    window.confirm_discard = lambda change: asked.append(change) or False
    click(qtbot, child(window, QPushButton, "addLayerButton"))
    assert asked == []  # nothing is lost: the trained run stays in the session
    assert child(window, QTableWidget, "layerTable").rowCount() == 3 and window.history.count == 0
    runs = window.history.session.runs
    assert len(runs) == 2 and len(runs[0].record) == 1 and runs[1] is window.history.current
    assert window.isWindowModified()


def test_save_and_open_a_session_and_save_model(qtbot, window, tmp_path):
    child(window, QSpinBox, "batchSizeSpin").setValue(32)
    click(qtbot, child(window, QPushButton, "addLayerButton"))
    path = tmp_path / "lesson.epochlab"
    assert window.save_session(path)
    assert not window.isWindowModified() and "lesson.epochlab" in window.windowTitle()
    saved = load_session(path)
    assert saved.experiment.training.batch_size == 32 and len(saved.experiment.network["layers"]) == 4
    fresh = MainWindow()
    qtbot.addWidget(fresh)
    try:
        assert fresh.open_experiment(path)
        assert child(fresh, QTableWidget, "layerTable").rowCount() == 3
        assert child(fresh, QSpinBox, "batchSizeSpin").value() == 32
    finally:
        fresh.close()
    model = tmp_path / "model.npz"
    with qtbot.waitSignal(window.controller.modelSaved, timeout=WAIT_MS):
        window.controller.save_model(str(model))
    assert load_model(model).parameter_count == 177


def test_open_an_experiment_file(qtbot, window, tmp_path):
    path = tmp_path / "lesson.json"
    experiment = window.experiment()
    Experiment(experiment.dataset, experiment.network, dataclasses.replace(experiment.training, batch_size=16)).save(path)
    assert window.open_experiment(path)
    assert child(window, QSpinBox, "batchSizeSpin").value() == 16 and "lesson.json" in window.windowTitle()


def test_open_a_broken_experiment_keeps_the_current_one(window, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    assert not window.open_experiment(path)
    assert window.banner.isVisible() and "not valid JSON" in window.banner.text.text()
    assert child(window, QComboBox, "datasetCombo").currentData() == "spiral"


def test_close_while_training_stops_the_thread_quietly(qtbot, window, capfd):
    play_until(qtbot, window, 3)
    thread = window.controller._thread
    window.close()
    assert not thread.isRunning()
    err = capfd.readouterr().err  # the app's own failures; Qt's platform messages vary by machine and are not ours
    assert "QThread: Destroyed while thread" not in err and "Timers cannot" not in err and "Traceback" not in err


def test_keyboard_steps_and_plays(qtbot, window):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    window.layer_builder.setFocus()  # no text field focused: keys reach the window's shortcuts
    with qtbot.waitSignal(window.controller.epochsReady, timeout=WAIT_MS):
        qtbot.keyClick(window, Qt.Key.Key_Right)
    with qtbot.waitSignal(window.controller.partialReport, timeout=WAIT_MS):
        qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert window.history.count == 1
    with qtbot.waitSignal(window.controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: playing):
        qtbot.keyClick(window, Qt.Key.Key_Space)
    with qtbot.waitSignal(window.controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: not playing):
        qtbot.keyClick(window, Qt.Key.Key_Space)


def test_status_bar_counts_layers_in_the_singular_for_one(qtbot, window):
    status = window._status_network
    assert status.text().startswith("3 layers, ")
    for _ in range(2):
        click(qtbot, child(window, QPushButton, "removeLayerButton"))
    assert window.layer_builder.architecture()[0] == []
    assert status.text().startswith("1 layer, ")


def test_the_plots_name_the_setups_loss_and_metric_even_when_the_network_cannot_be_built(qtbot, window):
    choose(child(window, QComboBox, "datasetCombo"), "sine_forecast")
    window.layer_builder.set_architecture([{"type": "rnn", "units": 8}], None, None)
    window.layer_builder.architectureChanged.emit()
    step_epochs(qtbot, window)
    assert window.loss_plot.canvas.getPlotItem().getAxis("left").labelText == "loss (mean squared error)"
    choose(child(window, QComboBox, "datasetCombo"), "chars")  # a SimpleRNN on token ids: no network
    assert not child(window, QToolButton, "playButton").isEnabled()
    assert window.loss_plot.canvas.getPlotItem().getAxis("left").labelText == "loss (categorical cross-entropy)"
    assert window.metric_plot._metric_name == "accuracy" and window.views.views["metric"].windowTitle() == "Accuracy"
    window.loss_plot.refresh()
    assert window.loss_plot.faded.run_ids == [] and window.loss_plot.faded.note.text() == "1 run with another loss not drawn"


@pytest.mark.parametrize(("dataset", "hidden"), [
    ("adding", [{"type": "lstm", "units": 16, "return_sequences": True}, {"type": "lstm", "units": 16}]),
    ("chars", [{"type": "embedding", "vocabulary": 58, "dimension": 16}, {"type": "lstm", "units": 64}]),
    ("spiral", [{"type": "dense", "units": 8}, {"type": "dense", "units": 8, "activation": "leaky_relu"}])])
def test_the_network_tab_of_a_recurrent_stack_or_a_leaky_relu_fits_a_1280_by_720_window(qtbot, dataset, hidden):
    """With the window's own fonts (wider than the tests' default) the Network tab of a
    recurrent stack (or of a layer with the long "Leaky ReLU slope" row) shows every column,
    combo and button without scrolling sideways."""
    with window_style():
        win = open_window(qtbot, size=(1280, 720))
        try:
            choose(child(win, QComboBox, "datasetCombo"), dataset)
            win.layer_builder.set_architecture(hidden, None, None)
            win.layer_builder.architectureChanged.emit()
            tabs = win.setup_tabs
            tabs.setCurrentIndex(next(i for i in range(tabs.count()) if tabs.tabText(i) == "Network"))
            area = tabs.currentWidget()
            assert isinstance(area, QScrollArea)
            table = child(win, QTableWidget, "layerTable")
            table.selectRow(1)
            qtbot.waitUntil(lambda: area.widget().width() > 0)
            QApplication.processEvents()
            assert area.widget().minimumSizeHint().width() <= area.viewport().width()
            assert not area.horizontalScrollBar().isVisible() and not table.horizontalScrollBar().isVisible()
        finally:
            win.close()
