"""The window's views in one registry: what each is called, how its dock is placed, which
probe feeds it, and the layout.

Every view is a :class:`~app.views.common.LiveView` in a dock of the window's
:class:`~app.view_area.ViewArea`, drawn by the redraw scheduler. A view that needs the
network names a :class:`~app.worker.Probe` under its own name: the probe runs in the
trainer's process at a bounded rate only while the view's dock is visible, and its results
(:class:`~app.worker.ProbeResult`, which carry the epoch they were computed at) come back
to that view alone. The loss and metric plots read the run's history instead; the
weights-and-gradients view also takes every epoch report.

The default layout (also "Reset layout"), in two rows::

    Loss                                        | Decision boundary · Regression fit · Forecast ·
                                                |   Loss surface · Gradient descent (1-D)
    Accuracy · Confusion matrix · Misclassified | Weights · Inspector · Network graph · Activations ·
      images · Layers · Runs                    |   Activation functions · Weights and gradients ·
                                                |   Kernels · Feature maps · Hidden state ·
                                                |   Gradient through time · Sampled text

Every plot can be exported (:meth:`ViewRegistry.exportable_plots`, :mod:`app.plot_export`).

The arrangement the user makes is saved with QSettings (:meth:`ViewRegistry.save_layout`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Slot
from PySide6.QtWidgets import QDockWidget, QGraphicsItem, QWidget

from core import insight
from core.conv_insight import FeatureMapProbe, KernelProbe
from core.data import Dataset
from core.inspection import InspectorProbe
from core.loss_surface import LossSurfaceProbe
from core.misclassified import MisclassifiedProbe
from core.sequence_insight import ForecastProbe, HiddenStateProbe, SampledTextProbe, StepGradientProbe, forecast_setup
from core.z_distribution import ZDistributionProbe

from ..history import RunHistory
from ..layer_stats import LayerStatsView
from ..plots import EpochPlot
from ..redraw import RedrawScheduler
from ..view_area import ViewArea
from ..worker import Probe, ProbeResult, TrainerController, weight_matrices
from .activation_functions import ActivationFunctionsView
from .activations import ActivationsView
from .boundary import BoundaryView
from .common import is_shown
from .confusion import ConfusionView
from .descent_1d import DescentView
from .feature_maps import FeatureMapsView
from .forecast import ForecastView
from .hidden_state import HiddenStateView
from .inspector import InspectorView
from .kernels import KernelsView
from .loss_surface import LossSurfaceView
from .misclassified import MisclassifiedView
from .network_graph import NetworkGraphView
from .regression_fit import RegressionFitView
from .runs_table import RunsTable
from .sampled_text import SampledTextView
from .step_gradients import StepGradientsView
from .weight_history import WeightHistoryView
from .weights import WeightHeatmap

PROBE_SECONDS = 0.1  # every probe at the same rate, so the views it feeds show the same epoch ...
TEXT_PROBE_SECONDS = 1.0  # ... but sampled text's, whose ~0.2 s of generation would otherwise take most of the trainer's time
LAYOUT_VERSION = 7  # 3: the Runs view; 4: the inspector, loss surface, 1-D descent, activation functions; 5: misclassified;
# 6: kernels, feature maps; 7: hidden state, gradient through time, forecast, sampled text
LAYOUT_KEY = "views/layout"
TOP_ROW_SHARE = 0.6  # of the view area's height
LOSS_SHARE = 0.55  # of the top row's width
PLOTS_SHARE = 0.45  # of the bottom row's width, for the accuracy group (the weights group has more tabs)


@dataclass
class ViewEntry:
    """One view of the window: ``name`` is its dock's name (objectName ``{name}Dock``) and
    its probe's name when ``probe`` is set."""

    name: str
    title: str
    view: QWidget
    probe: Probe | None = None
    dock: QDockWidget | None = None


class ViewRegistry(QObject):
    """Builds, places and feeds every view of the window.

    Attributes (the views, for the window and tests): ``loss_plot``, ``metric_plot``,
    ``weights``, ``layer_stats``, ``boundary``, ``confusion``, ``fit``, ``graph``,
    ``activations``, ``weight_history``, ``runs`` (the runs table), ``kernels``,
    ``feature_maps``, ``hidden_state``, ``step_gradients``, ``forecast``, ``sampled_text``; ``entries`` by
    name and ``docks`` by name.
    """

    def __init__(self, area: ViewArea, controller: TrainerController, scheduler: RedrawScheduler, history: RunHistory) -> None:
        super().__init__(area)
        self.area, self.controller, self.scheduler = area, controller, scheduler
        self.top_share = TOP_ROW_SHARE  # of the view area's height for the top row (presentation mode gives it more)
        self.loss_plot = EpochPlot("lossPlot", "loss", history)
        self.metric_plot = EpochPlot("metricPlot", "metric", history)
        self.weights = WeightHeatmap()
        self.layer_stats = LayerStatsView()
        self.boundary = BoundaryView()
        self.confusion = ConfusionView()
        self.fit = RegressionFitView()
        self.graph = NetworkGraphView()
        self.activations = ActivationsView()
        self.weight_history = WeightHistoryView()
        self.runs = RunsTable(history)
        self.loss_surface = LossSurfaceView()
        self.inspector = InspectorView()
        self.activation_functions = ActivationFunctionsView()
        self.misclassified = MisclassifiedView()
        self.descent = DescentView()
        self.kernels = KernelsView()
        self.feature_maps = FeatureMapsView()
        self.hidden_state = HiddenStateView()
        self.step_gradients = StepGradientsView()
        self.forecast = ForecastView()
        self.sampled_text = SampledTextView()
        self._activation_probe = insight.ActivationProbe()
        entries = [
            ViewEntry("loss", "Loss", self.loss_plot),
            ViewEntry("boundary", "Decision boundary", self.boundary, Probe("boundary", insight.BoundaryProbe(), PROBE_SECONDS)),
            ViewEntry("regressionFit", "Regression fit", self.fit, Probe("regressionFit", insight.fit_data, PROBE_SECONDS)),
            ViewEntry("forecast", "Forecast", self.forecast, Probe("forecast", ForecastProbe(), PROBE_SECONDS)),
            ViewEntry("metric", "Accuracy", self.metric_plot),
            ViewEntry("confusion", "Confusion matrix", self.confusion, Probe("confusion", insight.confusion_data, PROBE_SECONDS)),
            ViewEntry("misclassified", "Misclassified images", self.misclassified,
                      Probe("misclassified", MisclassifiedProbe(), PROBE_SECONDS)),
            ViewEntry("layers", "Layers", self.layer_stats),
            ViewEntry("runs", "Runs", self.runs),
            ViewEntry("weights", "Weights", self.weights, Probe("weights", weight_matrices, PROBE_SECONDS)),
            ViewEntry("networkGraph", "Network graph", self.graph, Probe("networkGraph", insight.graph_data, PROBE_SECONDS)),
            ViewEntry("activations", "Activations", self.activations, Probe("activations", self._activation_probe, PROBE_SECONDS)),
            ViewEntry("activationFunctions", "Activation functions", self.activation_functions,
                      Probe("activationFunctions", ZDistributionProbe(), PROBE_SECONDS)),
            ViewEntry("weightHistory", "Weights and gradients", self.weight_history,
                      Probe("weightHistory", insight.WeightHistogramRing(), PROBE_SECONDS)),
            ViewEntry("inspector", "Inspector", self.inspector, Probe("inspector", InspectorProbe(), PROBE_SECONDS)),
            ViewEntry("kernels", "Kernels", self.kernels, Probe("kernels", KernelProbe(), PROBE_SECONDS)),
            ViewEntry("featureMaps", "Feature maps", self.feature_maps, Probe("featureMaps", FeatureMapProbe(), PROBE_SECONDS)),
            ViewEntry("hiddenState", "Hidden state", self.hidden_state, Probe("hiddenState", HiddenStateProbe(), PROBE_SECONDS)),
            ViewEntry("stepGradients", "Gradient through time", self.step_gradients,
                      Probe("stepGradients", StepGradientProbe(), PROBE_SECONDS)),
            ViewEntry("sampledText", "Sampled text", self.sampled_text, Probe("sampledText", SampledTextProbe(), TEXT_PROBE_SECONDS)),
            ViewEntry("lossSurface", "Loss surface", self.loss_surface, Probe("lossSurface", LossSurfaceProbe(), PROBE_SECONDS)),
            ViewEntry("descent1d", "Gradient descent (1-D)", self.descent),
        ]
        self.entries = {entry.name: entry for entry in entries}
        for entry in entries:
            entry.dock = area.add_view(entry.name, entry.title, entry.view)
            if entry.probe is not None:
                controller.add_probe(entry.probe)
                entry.dock.visibilityChanged.connect(partial(controller.set_probe_enabled, entry.name))
            entry.dock.visibilityChanged.connect(scheduler.schedule)
            if entry.name != "layers":  # the layer table is drawn by the window's frame callback
                scheduler.add(entry.view)
        self.docks = {name: entry.dock for name, entry in self.entries.items()}
        self.docks["stepGradients"].visibilityChanged.connect(self._on_step_gradients_shown)  # after its probe's switch
        self._place_default()
        self._default_state = area.saveState(LAYOUT_VERSION)
        self.sample = 0  # the dataset's sample the inspector, the activations and the other sample views show, picked in any of them
        for signal in (*(view.sampleChanged for view in self._sample_views()), self.inspector.sampleChanged,
                       self.boundary.samplePicked, self.fit.samplePicked):
            signal.connect(self.pick_sample)
        self.kernels.layerChosen.connect(lambda layer: controller.configure_probe("kernels", layer=layer))
        self.hidden_state.layerChosen.connect(lambda layer: controller.configure_probe("hiddenState", layer=layer))
        self.sampled_text.temperatureChanged.connect(lambda value: controller.configure_probe("sampledText", temperature=value))
        self.runs.edited.connect(scheduler.schedule)  # the plots draw the runs shown, by their names
        self.loss_surface.configureProbe.connect(lambda attributes: controller.configure_probe("lossSurface", **attributes))
        self.graph.unitHovered.connect(lambda unit: controller.configure_probe("boundary", unit=unit))
        self.graph.unitHovered.connect(self.boundary.show_unit)  # a unit's output over the plane while it is hovered
        controller.probed.connect(self.receive)
        controller.epochsReady.connect(self._on_epochs)

    # ----- layout ---------------------------------------------------------------------------------
    def reset_layout(self) -> None:
        """Every view back where the default layout has it (see the module docstring), docked and shown."""
        for dock in self.docks.values():
            dock.setFloating(False)
            dock.show()
        self.area.restoreState(self._default_state, LAYOUT_VERSION)
        self.fit_sizes()

    def show_view(self, name: str) -> None:
        """Bring the view ``name`` to the front of its tab group (its dock shown if closed)."""
        dock = self.docks[name]
        dock.show()
        dock.raise_()

    def _place_default(self) -> None:
        area, docks = self.area, self.docks
        area.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, docks["loss"])
        area.splitDockWidget(docks["loss"], docks["metric"], Qt.Orientation.Vertical)
        area.splitDockWidget(docks["loss"], docks["boundary"], Qt.Orientation.Horizontal)
        area.splitDockWidget(docks["metric"], docks["weights"], Qt.Orientation.Horizontal)
        for front, behind in (("boundary", ("regressionFit", "forecast", "lossSurface", "descent1d")),
                              ("metric", ("confusion", "misclassified", "layers", "runs")),
                              ("weights", ("inspector", "networkGraph", "activations", "activationFunctions", "weightHistory",
                                           "kernels", "featureMaps", "hiddenState", "stepGradients", "sampledText"))):
            for name in behind:  # always onto the group's first dock: Qt leaves a stray tab bar otherwise
                area.tabifyDockWidget(docks[front], docks[name])
        for name in ("boundary", "metric", "weights"):
            docks[name].raise_()
        self.fit_sizes()

    def fit_sizes(self) -> None:
        """Share the view area between the rows and columns of the default layout."""
        area, docks = self.area, self.docks
        width, height = max(area.width(), 600), max(area.height(), 400)
        top = round(height * self.top_share)
        area.resizeDocks([docks["loss"], docks["metric"]], [top, height - top], Qt.Orientation.Vertical)
        loss = round(width * LOSS_SHARE)
        area.resizeDocks([docks["loss"], docks["boundary"]], [loss, width - loss], Qt.Orientation.Horizontal)
        plots = round(width * PLOTS_SHARE)
        area.resizeDocks([docks["metric"], docks["weights"]], [plots, width - plots], Qt.Orientation.Horizontal)
        QTimer.singleShot(0, area.tidy_tab_bars)  # once the new sizes are laid out

    def save_layout(self, settings: QSettings) -> None:
        settings.setValue(LAYOUT_KEY, self.area.saveState(LAYOUT_VERSION))

    def restore_layout(self, settings: QSettings) -> bool:
        state = settings.value(LAYOUT_KEY)
        restored = bool(state) and self.area.restoreState(state, LAYOUT_VERSION)
        if restored:
            QTimer.singleShot(0, self.area.tidy_tab_bars)
        return restored

    # ----- export ---------------------------------------------------------------------------------
    def exportable_plots(self) -> dict[str, QGraphicsItem | QWidget]:
        """Every plot the window can export (File ▸ Export plot), by view name (its menu text:
        ``docks[name].windowTitle()``): what :func:`app.plot_export.export_plot` takes. The loss
        and metric plots give their plot item (with the legend, without the readout line), the
        other views their whole canvas (a view of several plots exports them together). The
        layer and runs tables are not plots."""
        plots: dict[str, QGraphicsItem | QWidget] = {"loss": self.loss_plot.canvas.getPlotItem(),
                                                     "metric": self.metric_plot.canvas.getPlotItem()}
        for name, entry in self.entries.items():
            if name not in plots and name != "inspector" and hasattr(entry.view, "canvas"):  # the inspector shows numbers
                plots[name] = entry.view.canvas
        return plots

    # ----- feeding --------------------------------------------------------------------------------
    def new_run(self, dataset: Dataset | None) -> None:
        """A new run starts (reset, new data or network): every view forgets what it showed at once."""
        for entry in self.entries.values():
            if entry.name != "layers":
                entry.view.new_run()
        for view in self._sample_views():
            view.set_sample_count(dataset.n_samples if dataset is not None else 0)
        self.inspector.set_dataset(dataset)
        if dataset is not None:
            self._bring_forward_the_task_view(dataset)
            self.pick_sample(min(self.sample, dataset.n_samples - 1))
        self.scheduler.schedule()

    def _sample_views(self) -> tuple:
        """The views with a sample box of their own besides the inspector's, which all show the registry's sample."""
        return self.activations, self.feature_maps, self.hidden_state, self.forecast, self.sampled_text

    def _bring_forward_the_task_view(self, dataset: Dataset) -> None:
        """The decision boundary in front for classification, the regression fit for regression, the
        forecast for forecasting data, when another of the three is the one in front of their tab group."""
        if forecast_setup(dataset) is not None:
            wanted = "forecast"
        else:
            wanted = "regressionFit" if dataset.task == "regression" else "boundary"
        for other in {"boundary", "regressionFit", "forecast"} - {wanted}:
            if self.docks[wanted] in self.area.tabifiedDockWidgets(self.docks[other]) and is_shown(self.entries[other].view):
                self.docks[wanted].raise_()

    @Slot(object)
    def receive(self, result: ProbeResult) -> None:
        """A probe result from the trainer: to the view of the same name, drawn in the next frame."""
        entry = self.entries.get(result.name)
        if entry is not None:
            entry.view.receive(result)
            self.scheduler.schedule()

    @Slot(bool)
    def _on_step_gradients_shown(self, visible: bool) -> None:
        """Hidden, the gradient view's probe (disabled by then) stops the layers recording their step
        norms, which cost every backward; shown again, its probe, run at once, starts them again."""
        if not visible:
            self.controller.configure_probe("stepGradients", recording=False)

    @Slot(object)
    def _on_epochs(self, reports) -> None:
        self.weight_history.add_reports(reports)

    @Slot(int)
    def pick_sample(self, index: int) -> None:
        """Sample ``index`` of the dataset, picked in a plot, a table or a box, is the one the
        inspector, the activations, the feature maps, the hidden state, the forecast and the sampled
        text show (their probes, in the trainer's process, take it) and the one the decision
        boundary and the regression fit ring."""
        self.sample = index
        for probe in ("activations", "inspector", "featureMaps", "hiddenState", "forecast", "sampledText"):
            self.controller.configure_probe(probe, index=index)
        for view in (*self._sample_views(), self.inspector):
            view.set_sample(index)
        self.boundary.set_picked(index)
        self.fit.set_picked(index)


def layout_settings() -> QSettings:
    """Where the window keeps its view layout: an INI file in the user's config folder."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "EpochLab", "EpochLab")
