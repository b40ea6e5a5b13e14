"""Presentation mode: larger text and plot fonts, thicker lines, the Experiment panel hidden,
slow motion, full screen; all of it given back when it is turned off, and remembered."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication, QLabel

from app.presentation import LINE_SCALE, PRESENTATION_PLOT_POINTS, PRESENTATION_POINTS, SLOW_MOTION
from app.views.manager import layout_settings


def test_presentation_mode_enlarges_everything_and_gives_it_back(qtbot, window):
    action = window.actions["presentation"]
    label = window.findChild(QLabel, "epochLabel")
    curve, axis = window.loss_plot.train_curve, window.loss_plot.canvas.getPlotItem().getAxis("left")
    before = (label.font().pointSizeF(), curve.opts["pen"].widthF(), axis.style["tickFont"].pointSizeF(),
              window.run_controls.speed_value())
    assert window.setup_dock.isVisible() and before[0] < PRESENTATION_POINTS
    share = window.registry.docks["loss"].height() / window.views.height()
    action.trigger()
    qtbot.waitUntil(lambda: label.font().pointSizeF() == PRESENTATION_POINTS)
    assert window.presentation.enabled and not window.setup_dock.isVisible() and window.isFullScreen()
    assert curve.opts["pen"].widthF() == max(before[1], 1.0) * LINE_SCALE
    assert axis.style["tickFont"].pointSizeF() == PRESENTATION_PLOT_POINTS and "16pt" in axis.labelString()
    assert window.run_controls.speed_value() == SLOW_MOTION
    top = window.registry.docks["loss"]  # the loss plot and the boundary take more of the height
    qtbot.waitUntil(lambda: top.height() / window.views.height() >= share + 0.02)
    assert layout_settings().value("window/presentation", type=bool)  # kept for the next start
    action.trigger()
    qtbot.waitUntil(lambda: label.font().pointSizeF() == before[0])
    assert (label.font().pointSizeF(), curve.opts["pen"].widthF(), axis.style["tickFont"].pointSizeF(),
            window.run_controls.speed_value()) == before
    assert window.setup_dock.isVisible() and not window.isFullScreen() and QApplication.instance().font().pointSizeF() == before[0]
    assert not layout_settings().value("window/presentation", type=bool)


def test_a_plot_drawn_in_presentation_mode_is_thick_too(qtbot, window):
    window.actions["presentation"].trigger()
    try:
        assert window.open_example("softmax_by_hand")  # new views for a new network
        window.registry.show_view("activationFunctions")
        scene = window.registry.activation_functions.canvas.scene()
        qtbot.waitUntil(lambda: any(isinstance(item, pg.PlotDataItem) for item in scene.items()), timeout=5000)
        def thickened() -> bool:  # each curve: LINE_SCALE times its own pen, which the mode keeps to give back
            own = window.presentation._pens
            return all(item in own and pg.mkPen(item.opts["pen"]).widthF() == max(own[item].widthF(), 1.0) * LINE_SCALE
                       for item in scene.items() if isinstance(item, pg.PlotDataItem))
        qtbot.waitUntil(thickened, timeout=3000)
    finally:
        window.actions["presentation"].trigger()
