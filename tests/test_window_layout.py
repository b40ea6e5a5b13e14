"""The default layout: the loss plot and the decision boundary get the room, nothing is cut
off at 1280×720, and Reset layout brings it back."""

from __future__ import annotations

import pytest
from gui_helpers import WAIT_MS, child, open_window, window_style
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTabBar, QToolBar


def sized_window(qtbot, width: int, height: int):
    win = open_window(qtbot, (width, height))
    qtbot.wait(100)  # the first frame shares the view area out
    return win


def shown_tab_bars(win) -> list[QTabBar]:
    return [bar for bar in win.views.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly) if bar.isVisible()]


@pytest.mark.parametrize("size", [(1600, 1000), (1280, 720)])
def test_the_loss_plot_and_the_boundary_get_the_room(qtbot, size):
    win = sized_window(qtbot, *size)
    try:
        area = win.views.width()
        assert win.loss_plot.canvas.width() >= 0.4 * area
        assert win.registry.boundary.width() >= 0.3 * area and win.registry.boundary.height() >= 0.4 * win.views.height()
        assert "press" in win.loss_plot.readout.text()
    finally:
        win.close()


def test_the_window_keeps_the_size_of_a_1280_by_720_screen(qtbot):
    win = sized_window(qtbot, 1280, 720)
    try:  # not taller: the view area once kept the minimum its docks had while they were being placed
        assert (win.width(), win.height()) == (1280, 720) and win.minimumSizeHint().height() <= 600
    finally:
        win.close()


def test_nothing_hides_in_the_toolbar_overflow_at_1280_by_720(qtbot):
    win = sized_window(qtbot, 1280, 720)
    try:
        toolbar = child(win, QToolBar, "runToolBar")
        for action in toolbar.actions():
            widget = toolbar.widgetForAction(action)
            if widget is not None and not action.isSeparator():
                assert widget.isVisible() and toolbar.rect().contains(widget.geometry()), action.text() or widget.objectName()
        label = child(win, QLabel, "epochLabel")
        assert label.isVisible() and label.width() >= label.fontMetrics().horizontalAdvance("Epoch 88888 / 88888 · batch 888/888")
    finally:
        win.close()


def test_tab_bars_are_where_their_views_are_and_titles_are_whole(qtbot):
    """No tab bar is drawn across another view (Qt once left "Weights | Network graph" over the accuracy plot)."""
    win = sized_window(qtbot, 1280, 720)
    try:
        bars = shown_tab_bars(win)
        assert len(bars) == 3  # the boundary, accuracy and weights groups
        for bar in bars:
            assert bar.elideMode() == Qt.TextElideMode.ElideNone
            dock = win.registry.docks[next(n for n, e in win.registry.entries.items() if e.title == bar.tabText(bar.currentIndex()))]
            assert abs(dock.x() - bar.x()) <= 2 and abs(dock.width() - bar.width()) <= 2
    finally:
        win.close()


def test_reset_layout_brings_every_view_back(qtbot):
    win = sized_window(qtbot, 1600, 1000)
    try:
        docks = win.registry.docks
        docks["confusion"].setFloating(True)
        docks["weights"].close()
        win.setup_dock.close()
        win.actions["resetLayout"].trigger()
        qtbot.waitUntil(win.setup_dock.isVisible, timeout=WAIT_MS)
        assert not any(dock.isFloating() for dock in docks.values())
        assert all(not dock.isHidden() for dock in docks.values())
        groups = {name: {d.objectName() for d in win.views.tabifiedDockWidgets(docks[name])} for name in ("boundary", "metric", "weights")}
        assert groups == {"boundary": {"regressionFitDock", "forecastDock", "lossSurfaceDock", "descent1dDock"},
                          "metric": {"confusionDock", "misclassifiedDock", "layersDock", "runsDock"},
                          "weights": {"inspectorDock", "networkGraphDock", "activationsDock", "activationFunctionsDock",
                                      "weightHistoryDock", "kernelsDock", "featureMapsDock", "hiddenStateDock",
                                      "stepGradientsDock", "sampledTextDock"}}
        qtbot.wait(100)
        assert len(shown_tab_bars(win)) == 3
    finally:
        win.close()


def test_the_experiment_panel_never_scrolls_sideways_at_1280_by_720(qtbot):
    """Every tab of the Experiment panel fits its width, with a CNN in the Network tab too
    (its widest content): nothing of it is behind a horizontal scroll bar."""
    from PySide6.QtWidgets import QScrollArea

    from core.experiment import Experiment
    from core.lessons import lessons

    with window_style():
        win = sized_window(qtbot, 1280, 720)
        try:
            cnn = next(lesson for lesson in lessons() if lesson.key == "16-convolutions-on-digits").experiment
            tabs = win.setup_tabs
            for experiment in (None, Experiment.from_json(cnn.to_json())):  # the default spiral, then a CNN on digits
                if experiment is not None:
                    win.apply_experiment(experiment)
                for index in range(tabs.count()):
                    tabs.setCurrentIndex(index)
                    area = tabs.widget(index)
                    assert isinstance(area, QScrollArea)
                    qtbot.waitUntil(lambda area=area: area.widget().width() > 0)
                    assert area.widget().minimumSizeHint().width() <= area.viewport().width(), tabs.tabText(index)
        finally:
            win.close()
