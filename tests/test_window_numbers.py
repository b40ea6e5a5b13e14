"""Numbers the window shows must be right: axes, curves, status texts, epochs."""

from __future__ import annotations

from gui_helpers import WAIT_MS, child, choose, click
from PySide6.QtWidgets import QComboBox, QLabel, QSpinBox, QToolButton

from app.main_window import MainWindow
from app.views.common import is_shown
from app.widgets import LogSpinBox


def _window(qtbot) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    win.confirm_discard = lambda change: True
    child(win, QSpinBox, "epochsSpin").setValue(1_000_000)
    win.show()
    qtbot.waitExposed(win)
    return win


def shown_ticks(plot_item, axis_name: str) -> list[float]:
    """The tick labels an axis draws now, as numbers (the scale pyqtgraph draws them with)."""
    axis = plot_item.getAxis(axis_name)
    low, high = plot_item.getViewBox().viewRange()[1 if axis_name == "left" else 0]
    values = axis.tickValues(low, high, 300)
    strings = [s for spacing, ticks in values for s in axis.tickStrings(ticks, axis.autoSIPrefixScale * axis.scale, spacing)]
    return [float(s.replace("−", "-")) for s in strings]


def step_epochs(qtbot, win, count: int) -> None:
    for _ in range(count):
        with qtbot.waitSignal(win.controller.epochsReady, timeout=WAIT_MS):
            click(qtbot, child(win, QToolButton, "stepEpochButton"))


def test_loss_axis_shows_the_loss_itself_after_resets(qtbot):
    """A cross-entropy of 0.68 reads 0.68 on the axis, not 680, however often the run is reset."""
    win = _window(qtbot)
    try:
        for _ in range(3):
            step_epochs(qtbot, win, 2)
            qtbot.waitUntil(lambda: win.loss_plot.curve_points() == 2, timeout=WAIT_MS)
            item = win.loss_plot.canvas.getPlotItem()
            low, high = item.getViewBox().viewRange()[1]
            ticks = shown_ticks(item, "left")
            assert ticks and all(low - 1e-9 <= t <= high + 1e-9 for t in ticks), (ticks, low, high)
            click(qtbot, child(win, QToolButton, "resetButton"))
            qtbot.waitUntil(lambda: win.history.count == 0, timeout=WAIT_MS)
    finally:
        win.close()


def play_until(qtbot, win, epochs: int) -> None:
    click(qtbot, child(win, QToolButton, "playButton"))
    qtbot.waitUntil(lambda: win.history.count >= epochs, timeout=WAIT_MS)


def pause(qtbot, win) -> None:
    with qtbot.waitSignal(win.controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: not playing):
        click(qtbot, child(win, QToolButton, "playButton"))


def test_a_curve_behind_its_tab_is_drawn_in_full_when_it_comes_forward(qtbot):
    """A view tabbed behind another is not drawn (once it was, at a wrong size, and showed a
    sawtooth of a fraction of the points); when it comes forward it shows every epoch."""
    win = _window(qtbot)
    try:
        docks = win.registry.docks
        docks["confusion"].raise_()
        qtbot.waitUntil(lambda: not is_shown(win.metric_plot), timeout=WAIT_MS)
        play_until(qtbot, win, 1500)
        pause(qtbot, win)
        assert win.metric_plot.curve_points() < win.history.count  # not drawn while hidden
        docks["metric"].raise_()
        qtbot.waitUntil(lambda: win.metric_plot.curve_points() == win.history.count, timeout=WAIT_MS)
        x, _ = win.metric_plot.train_curve.getData()
        width = win.metric_plot.canvas.getPlotItem().getViewBox().width()
        assert len(x) >= min(win.history.count, width)  # downsampled for its real width: ≥ 1 point a pixel
    finally:
        win.close()


def test_reset_forgets_the_epochs_target_message(qtbot):
    win = _window(qtbot)
    try:
        child(win, QSpinBox, "epochsSpin").setValue(3)
        with qtbot.waitSignal(win.runStopped, timeout=WAIT_MS):
            click(qtbot, child(win, QToolButton, "playButton"))
        assert "Reached the epochs target" in win.statusBar().currentMessage()
        click(qtbot, child(win, QToolButton, "resetButton"))
        assert win.statusBar().currentMessage() == ""
    finally:
        win.close()


def test_a_divergence_mark_in_the_first_epoch_is_readable(qtbot):
    """The marker's text lies inside the plot (once it read "ed", the rest cut off at the left)."""
    win = _window(qtbot)
    try:
        choose(child(win, QComboBox, "datasetCombo"), "plane")
        choose(child(win, QComboBox, "optimizerCombo"), "sgd")
        child(win, LogSpinBox, "learningRateSpin").setValue(50.0)
        with qtbot.waitSignal(win.controller.diverged, timeout=WAIT_MS):
            click(qtbot, child(win, QToolButton, "playButton"))
        qtbot.waitUntil(lambda: len(win.loss_plot._marks) == 1, timeout=WAIT_MS)
        line = win.loss_plot._marks[0]
        assert line.value() <= 2  # in the first epochs, at the left edge
        view = win.loss_plot.canvas.getPlotItem().getViewBox()
        label = line.label.mapRectToScene(line.label.boundingRect())
        assert view.sceneBoundingRect().contains(label), (label, view.sceneBoundingRect())
        assert "Training diverged" in win.banner.text.text()
    finally:
        win.close()


def test_new_data_clears_every_view_at_once(qtbot):
    """No view keeps a picture or a number of the earlier data until its next probe result."""
    win = _window(qtbot)
    try:
        choose(child(win, QComboBox, "datasetCombo"), "housing")
        win.registry.docks["regressionFit"].raise_()
        step_epochs(qtbot, win, 1)
        qtbot.waitUntil(lambda: "R²" in win.registry.fit.readout.text(), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: win.registry.fit.epoch_label.text() == "epoch 1", timeout=WAIT_MS)
        win.controller.set_probe_enabled("regressionFit", False)  # no new result may arrive to hide what stays
        choose(child(win, QComboBox, "datasetCombo"), "iris")
        assert "R²" not in win.registry.fit.readout.text()
        assert win.registry.fit.epoch_label.text() == ""
    finally:
        win.close()


def test_every_shown_view_states_the_epoch_it_shows(qtbot):
    win = _window(qtbot)
    try:
        play_until(qtbot, win, 20)
        pause(qtbot, win)
        epochs = win.history.count
        labels = [win.weights.epoch_label, win.registry.boundary.epoch_label]
        qtbot.waitUntil(lambda: all(label.text() == f"epoch {epochs}" for label in labels), timeout=WAIT_MS)
        assert f"Epoch {epochs}" in win.loss_plot.readout.text()
        assert child(win, QLabel, "epochLabel").text().startswith(f"Epoch {epochs} /")
    finally:
        win.close()
