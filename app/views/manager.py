"""Puts the inspection views into the main window and feeds them.

Each view that needs the network registers a :class:`~app.worker.Probe` (computed in the
trainer's thread at a bounded rate, forced after steps, resets and pauses) that is enabled
only while the view's dock is visible, so a hidden view costs nothing. Epoch reports (for
the gradient-norm and dead-ReLU curves) come from the controller's ``epochsReady``.
The arrangement of the docks is saved with QSettings (:meth:`save_layout`).
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, QSettings, Qt, Slot

from core import insight

from ..worker import Probe
from .activations import ActivationsView
from .boundary import BoundaryView
from .confusion import ConfusionView
from .network_graph import NetworkGraphView
from .regression_fit import RegressionFitView
from .weight_history import WeightHistoryView

BOUNDARY_PROBE_SECONDS = 0.2
CONFUSION_PROBE_SECONDS = 0.25
HISTOGRAM_PROBE_SECONDS = 0.2
GRAPH_PROBE_SECONDS = 0.25
FIT_PROBE_SECONDS = 0.25
ACTIVATION_PROBE_SECONDS = 0.25
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
        self.fit = RegressionFitView()
        self.activations = ActivationsView()
        self.docks = {}
        for name, title, view, tab_with in (("boundary", "Decision boundary", self.boundary, "metric"),
                                            ("confusion", "Confusion matrix", self.confusion, "metric"),
                                            ("regressionFit", "Regression fit", self.fit, "metric"),
                                            ("networkGraph", "Network graph", self.graph, "weights"),
                                            ("activations", "Activations", self.activations, "weights"),
                                            ("weightHistory", "Weights and gradients", self.weight_history, "layers")):
            dock = self.docks[name] = area.add_view(name, title, view)
            area.tabifyDockWidget(area.views[tab_with], dock)
        # the decision boundary in front of the accuracy plot; the weights heatmap and the layer table stay in front of theirs
        for name in ("weights", "layers"):
            area.views[name].raise_()
        self.docks["boundary"].raise_()
        # tabbing wide views beside the accuracy plot must not squeeze the loss plot
        area.resizeDocks([area.views["loss"], area.views["metric"]], [1, 1], Qt.Orientation.Horizontal)
        self._activation_probe = insight.ActivationProbe()
        probes = {
            "boundary": Probe("boundary", _BoundaryProbe(), BOUNDARY_PROBE_SECONDS),
            "confusion": Probe("confusion", insight.confusion_data, CONFUSION_PROBE_SECONDS),
            "weightHistory": Probe("weightHistory", insight.WeightHistogramRing(), HISTOGRAM_PROBE_SECONDS),
            "networkGraph": Probe("networkGraph", insight.graph_data, GRAPH_PROBE_SECONDS),
            "regressionFit": Probe("regressionFit", insight.fit_data, FIT_PROBE_SECONDS),
            "activations": Probe("activations", self._activation_probe, ACTIVATION_PROBE_SECONDS),
        }
        for name, probe in probes.items():
            controller.add_probe(probe)
            self.docks[name].visibilityChanged.connect(partial(self._visibility, name))
        for view in (self.boundary, self.weight_history, self.confusion, self.graph, self.fit, self.activations):
            view.canvas.paint_guard = controller.drawing
        self._run = -1
        # drawn by the window's redraw timer, one stale view per frame, like the loss and weight views
        window._live_views.extend([("boundary", self.boundary), ("confusion", self.confusion),
                                   ("networkGraph", self.graph), ("weightHistory", self.weight_history),
                                   ("regressionFit", self.fit), ("activations", self.activations)])
        self.activations.sampleChanged.connect(self._on_sample)
        controller.probed.connect(self._on_probed)
        controller.epochsReady.connect(self._on_epochs)

    # ----- feeding --------------------------------------------------------------------------------
    def _visibility(self, name: str, visible: bool) -> None:
        self.window.controller.set_probe_enabled(name, visible)
        if visible:
            self.window._schedule_redraw()

    def _on_sample(self, index: int) -> None:
        """Show another sample's activations: the probe reads the index (an int) in the worker."""
        self._activation_probe.index = index
        if not self.activations.visibleRegion().isEmpty():
            self.window.controller.set_probe_enabled("activations", True)  # runs the probe now

    def _check_run(self) -> None:
        """A reset started a new run: forget what the views gathered."""
        run = self.window.history.run
        if run != self._run:
            self._run = run
            self.weight_history.clear()
            self.boundary.clear()
            self.confusion.clear()
            self.graph.clear()
            self.fit.clear()
            self.activations.clear()
            dataset = self.window._dataset
            self.activations.set_sample_count(dataset.n_samples if dataset is not None else 0)

    @Slot(str, object)
    def _on_probed(self, name: str, data: object) -> None:
        self._check_run()
        if name == "boundary":
            self.boundary.set_pending(*data)
        elif name == "confusion":
            self.confusion.set_pending(data)
        elif name == "networkGraph":
            self.graph.set_pending(data)
        elif name == "regressionFit":
            self.fit.set_pending(data)
        elif name == "activations":
            self.activations.set_pending(data)
        elif name == "weightHistory":
            self.weight_history.show_histograms(data)
        else:
            return
        self.window._schedule_redraw()

    @Slot(object)
    def _on_epochs(self, reports) -> None:
        self._check_run()
        self.weight_history.add_reports(reports)

    # ----- layout ---------------------------------------------------------------------------------
    def save_layout(self, settings: QSettings) -> None:
        settings.setValue(LAYOUT_KEY, self.window.views.saveState(LAYOUT_VERSION))

    def restore_layout(self, settings: QSettings) -> bool:
        state = settings.value(LAYOUT_KEY)
        return bool(state) and self.window.views.restoreState(state, LAYOUT_VERSION)


def layout_settings() -> QSettings:
    """Where the window keeps its view layout: an INI file in the user's config folder."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "EpochLab", "EpochLab")
