"""Puts the inspection views into the main window and feeds them.

Each view that needs the network registers a :class:`~app.worker.Probe` (computed in the
trainer's thread at a bounded rate, forced after steps, resets and pauses) that is enabled
only while the view's dock is visible, so a hidden view costs nothing. Epoch reports (for
the gradient-norm and dead-ReLU curves) come from the controller's ``epochsReady``.
The arrangement of the docks is saved with QSettings (:meth:`save_layout`).
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, QSettings, QTimer, Slot

from core import insight

from ..worker import Probe
from .boundary import BoundaryView
from .confusion import ConfusionView
from .network_graph import NetworkGraphView
from .weight_history import WeightHistoryView

BOUNDARY_PROBE_SECONDS = 0.2
CONFUSION_PROBE_SECONDS = 0.25
HISTOGRAM_PROBE_SECONDS = 0.2
GRAPH_PROBE_SECONDS = 0.25
HISTORY_FRAME_MS = 150  # redraw the gradient curves at most this often
LAYOUT_VERSION = 1
LAYOUT_KEY = "views/layout"


class _BoundaryProbe:
    """The boundary grid plus the raw samples (the same arrays for one trainer, so the view
    redraws its points only after a reset)."""

    def __init__(self) -> None:
        self._trainer = None
        self._points = None

    def __call__(self, trainer):
        if trainer is not self._trainer:
            self._trainer = trainer
            self._points = insight.raw_split(trainer)
        data = insight.boundary_data(trainer)
        return data, self._points, tuple(trainer.dataset.feature_names)


class InsightViews(QObject):
    """The inspection views of ``window`` (a MainWindow): docks, probes, feeding, layout."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        controller = window.controller
        area = window.views
        self.boundary = BoundaryView()
        self.weight_history = WeightHistoryView()
        self.confusion = ConfusionView()
        self.graph = NetworkGraphView()
        self.docks = {}
        for name, title, view, tab_with in (("boundary", "Decision boundary", self.boundary, "metric"),
                                            ("confusion", "Confusion matrix", self.confusion, "metric"),
                                            ("networkGraph", "Network graph", self.graph, "weights"),
                                            ("weightHistory", "Weights and gradients", self.weight_history, "layers")):
            dock = self.docks[name] = area.add_view(name, title, view)
            area.tabifyDockWidget(area.views[tab_with], dock)
        self.docks["boundary"].raise_()
        probes = {
            "boundary": Probe("boundary", _BoundaryProbe(), BOUNDARY_PROBE_SECONDS),
            "confusion": Probe("confusion", insight.confusion_data, CONFUSION_PROBE_SECONDS),
            "weightHistory": Probe("weightHistory", insight.WeightHistogramRing(), HISTOGRAM_PROBE_SECONDS),
            "networkGraph": Probe("networkGraph", insight.graph_data, GRAPH_PROBE_SECONDS),
        }
        for name, probe in probes.items():
            controller.add_probe(probe)
            self.docks[name].visibilityChanged.connect(partial(self._visibility, name))
        for view in (self.boundary, self.weight_history, self.confusion, self.graph):
            view.canvas.paint_guard = controller.drawing
        self._run = -1
        self._history_timer = QTimer(self)
        self._history_timer.setSingleShot(True)
        self._history_timer.setInterval(HISTORY_FRAME_MS)
        self._history_timer.timeout.connect(self._redraw_history)
        controller.probed.connect(self._on_probed)
        controller.epochsReady.connect(self._on_epochs)

    # ----- feeding --------------------------------------------------------------------------------
    def _visibility(self, name: str, visible: bool) -> None:
        self.window.controller.set_probe_enabled(name, visible)
        if visible and name == "weightHistory":
            self._history_timer.start()

    def _check_run(self) -> None:
        """A reset started a new run: forget what the views gathered."""
        run = self.window.history.run
        if run != self._run:
            self._run = run
            self.weight_history.clear()
            self.boundary.clear()
            self.confusion.clear()
            self.graph.clear()

    @Slot(str, object)
    def _on_probed(self, name: str, data: object) -> None:
        self._check_run()
        with self.window.controller.drawing():
            if name == "boundary":
                grid, points, names = data
                self.boundary.show_data(grid, points, names)
            elif name == "confusion":
                self.confusion.show_data(data)
            elif name == "networkGraph":
                self.graph.show_data(data)
            elif name == "weightHistory":
                self.weight_history.show_histograms(data)
                self._schedule_history()

    @Slot(object)
    def _on_epochs(self, reports) -> None:
        self._check_run()
        self.weight_history.add_reports(reports)
        self._schedule_history()

    def _schedule_history(self) -> None:
        if not self._history_timer.isActive():
            self._history_timer.start()

    @Slot()
    def _redraw_history(self) -> None:
        if self.docks["weightHistory"].isVisible() and self.weight_history.stale():
            with self.window.controller.drawing():
                self.weight_history.refresh()

    # ----- layout ---------------------------------------------------------------------------------
    def save_layout(self, settings: QSettings) -> None:
        settings.setValue(LAYOUT_KEY, self.window.views.saveState(LAYOUT_VERSION))

    def restore_layout(self, settings: QSettings) -> bool:
        state = settings.value(LAYOUT_KEY)
        return bool(state) and self.window.views.restoreState(state, LAYOUT_VERSION)
