"""Numbers the window shows must be right: axes, curves, status texts, epochs."""

from __future__ import annotations

import re

from gui_helpers import WAIT_MS, child, choose, click, pause, play_until, step_epochs
from PySide6.QtWidgets import QComboBox, QLabel, QSpinBox, QToolButton

from app.views.common import epoch_text, is_shown
from app.widgets import LogSpinBox


def shown_ticks(plot_item, axis_name: str) -> list[float]:
    """The tick labels an axis draws now, as numbers (the scale pyqtgraph draws them with)."""
    axis = plot_item.getAxis(axis_name)
    low, high = plot_item.getViewBox().viewRange()[1 if axis_name == "left" else 0]
    values = axis.tickValues(low, high, 300)
    strings = [s for spacing, ticks in values for s in axis.tickStrings(ticks, axis.autoSIPrefixScale * axis.scale, spacing)]
    return [float(s.replace("−", "-")) for s in strings]


def test_loss_axis_shows_the_loss_itself_after_resets(qtbot, window):
    """A cross-entropy of 0.68 reads 0.68 on the axis, not 680, however often the run is reset."""
    for _ in range(3):
        step_epochs(qtbot, window, 2)
        qtbot.waitUntil(lambda: window.loss_plot.curve_points() == 2, timeout=WAIT_MS)
        item = window.loss_plot.canvas.getPlotItem()
        low, high = item.getViewBox().viewRange()[1]
        ticks = shown_ticks(item, "left")
        assert ticks and all(low - 1e-9 <= t <= high + 1e-9 for t in ticks), (ticks, low, high)
        click(qtbot, child(window, QToolButton, "resetButton"))
        qtbot.waitUntil(lambda: window.history.count == 0, timeout=WAIT_MS)


def test_a_curve_behind_its_tab_is_drawn_in_full_when_it_comes_forward(qtbot, window):
    """A view tabbed behind another is not drawn (once it was, at a wrong size, and showed a
    sawtooth of a fraction of the points); when it comes forward it shows every epoch."""
    docks = window.registry.docks
    docks["confusion"].raise_()
    qtbot.waitUntil(lambda: not is_shown(window.metric_plot), timeout=WAIT_MS)
    play_until(qtbot, window, 1500)
    pause(qtbot, window)
    assert window.metric_plot.curve_points() < window.history.count  # not drawn while hidden
    docks["metric"].raise_()
    qtbot.waitUntil(lambda: window.metric_plot.curve_points() == window.history.count, timeout=WAIT_MS)
    x, _ = window.metric_plot.train_curve.getData()
    width = window.metric_plot.canvas.getPlotItem().getViewBox().width()
    assert len(x) >= min(window.history.count, width)  # downsampled for its real width: ≥ 1 point a pixel


def test_reset_forgets_the_epochs_target_message(qtbot, window):
    child(window, QSpinBox, "epochsSpin").setValue(3)
    with qtbot.waitSignal(window.runStopped, timeout=WAIT_MS):
        click(qtbot, child(window, QToolButton, "playButton"))
    assert "Reached the epochs target" in window.statusBar().currentMessage()
    click(qtbot, child(window, QToolButton, "resetButton"))
    assert window.statusBar().currentMessage() == ""


def test_a_divergence_mark_in_the_first_epoch_is_readable(qtbot, window):
    """The marker's text lies inside the plot (once it read "ed", the rest cut off at the left)."""
    choose(child(window, QComboBox, "datasetCombo"), "plane")
    choose(child(window, QComboBox, "optimizerCombo"), "sgd")
    child(window, LogSpinBox, "learningRateSpin").setValue(50.0)
    with qtbot.waitSignal(window.controller.diverged, timeout=WAIT_MS):
        click(qtbot, child(window, QToolButton, "playButton"))
    qtbot.waitUntil(lambda: len(window.loss_plot._marks) == 1, timeout=WAIT_MS)
    line = window.loss_plot._marks[0]
    assert line.value() <= 2  # in the first epochs, at the left edge
    view = window.loss_plot.canvas.getPlotItem().getViewBox()
    label = line.label.mapRectToScene(line.label.boundingRect())
    assert view.sceneBoundingRect().contains(label), (label, view.sceneBoundingRect())
    assert "Training diverged" in window.banner.text.text()


def test_new_data_clears_every_view_at_once(qtbot, window):
    """No view keeps a picture or a number of the earlier data until its next probe result."""
    choose(child(window, QComboBox, "datasetCombo"), "housing")
    window.registry.docks["regressionFit"].raise_()
    step_epochs(qtbot, window, 1)
    qtbot.waitUntil(lambda: "R²" in window.registry.fit.readout.text(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.registry.fit.epoch_label.text() == "epoch 1", timeout=WAIT_MS)
    window.controller.set_probe_enabled("regressionFit", False)  # no new result may arrive to hide what stays
    choose(child(window, QComboBox, "datasetCombo"), "iris")
    assert "R²" not in window.registry.fit.readout.text()
    assert window.registry.fit.epoch_label.text() == ""


def test_every_shown_view_states_the_epoch_it_shows(qtbot, window):
    """Paused, the toolbar, the loss readout and every shown view tell the same moment of the
    run (a pause may land inside an epoch: then "epoch N + k batches")."""
    play_until(qtbot, window, 20)
    pause(qtbot, window)
    epochs = window.history.count

    def moment() -> str:
        found = re.fullmatch(r"Epoch (\d+) / \d+(?: · batch (\d+)/\d+)?", child(window, QLabel, "epochLabel").text())
        return epoch_text(int(found[1]), int(found[2] or 0)) if found else ""

    labels = [window.weights.epoch_label, window.registry.boundary.epoch_label]
    qtbot.waitUntil(lambda: moment().startswith(f"epoch {epochs}") and all(label.text() == moment() for label in labels),
                    timeout=WAIT_MS)
    assert f"Epoch {epochs}" in window.loss_plot.readout.text()
