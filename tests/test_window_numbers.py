"""Numbers the window shows must be right: axes, curves, status texts, epochs."""

from __future__ import annotations

import numpy as np
from gui_helpers import WAIT_MS, child, click
from PySide6.QtWidgets import QSpinBox, QToolButton

from app.main_window import MainWindow


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
