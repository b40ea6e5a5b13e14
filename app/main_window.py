"""Epoch Lab's main window: set up an experiment on the left, run it from the toolbar,
watch it in the views.

Layout: a run toolbar on top; an "Experiment" dock on the left with the Data, Network
and Training tabs; the centre is a :class:`~app.view_area.ViewArea` whose views (loss,
decision boundary, metric, weights, …: :mod:`app.views.manager`) are dock widgets; a
message banner above them explains divergence and errors; a status bar below. Every
command is an action of :mod:`app.actions`; the views are drawn by :mod:`app.redraw`.

The window owns the *committed* experiment (dataset and its source, architecture,
training settings). A panel edit that needs fresh weights asks before discarding a
trained run (:meth:`MainWindow.confirm_discard`, which tests may replace), then builds a
new network and trainer here, in the GUI thread, so a bad setting is explained inline;
the trainer is then handed to the trainer thread and never touched here again.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from core.backend import BackendUnavailable, get_backend
from core.data import DataError, Dataset, suggested_head
from core.experiment import Experiment, default_experiment, load_dataset
from core.files import FileFormatError
from core.layers import SpecError
from core.network import Network
from core.trainer import ConfigError, Report, Trainer, TrainingConfig

from .actions import Actions
from .dataset_panel import DatasetPanel
from .history import Marker, RunHistory
from .keys import KeysForFocusedWidget
from .layer_builder import LOSS_TITLES, LayerBuilder
from .redraw import RedrawScheduler
from .run_controls import RunControls
from .training_controls import BACKENDS, TrainingSettings
from .view_area import ViewArea
from .views.manager import ViewRegistry, layout_settings
from .widgets import MessageBanner
from .worker import TrainerController

BUILD_ERRORS = (SpecError, ConfigError, DataError, BackendUnavailable, ValueError)
SETUP_SHARE = 0.27  # of the window's width for the Experiment panel (at least SETUP_MIN_WIDTH)
SETUP_MIN_WIDTH = 330
SETTING_SYMBOLS = {"learning_rate": "α", "momentum": "μ", "beta1": "β₁", "beta2": "β₂", "rho": "ρ"}
BACKEND_TITLES = dict(BACKENDS)
EXPERIMENT_FILTER = "Epoch Lab experiments (*.json);;All files (*)"
MODEL_FILTER = "Epoch Lab models (*.npz);;All files (*)"


def _scrolling(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)  # with large fonts nothing is out of reach
    widget.setContentsMargins(8, 8, 8, 8)
    return area


class MainWindow(QMainWindow):
    """The lab window. ``MainWindow()`` opens the default experiment (two-class spiral,
    two tanh layers of 8), ready to train with one press of Play.

    Attributes:
        history: the per-epoch record of the current run (GUI thread).
        controller: the handle on the trainer thread.
        actions: every command (:class:`app.actions.Actions`).
        registry: every view (:class:`app.views.manager.ViewRegistry`).
    """

    runStopped = Signal(str)  # training stopped by itself: "target", "diverged" or "error"

    def __init__(self, experiment: Experiment | None = None, base_dir: str | Path = "."):
        super().__init__()
        self.setObjectName("MainWindow")
        self.setWindowTitle("Epoch Lab")
        self.setDockOptions(QMainWindow.DockOption.AllowTabbedDocks)  # not animated: see ViewArea
        self.history = RunHistory()
        self._dataset: Dataset | None = None
        self._source: dict = {}
        self._architecture: tuple[list[dict], str | None, str | None] = ([], None, None)
        self._config = TrainingConfig()
        self._backend = "numpy"
        self._position = (0, 0, 1)  # epochs done, mini-batches done of the next, mini-batches per epoch
        self._throughput: float | None = None
        self._latest: Report | None = None
        self._experiment_path: Path | None = None

        self.controller = TrainerController(self)
        QCoreApplication.instance().aboutToQuit.connect(self.controller.shutdown)
        self.actions = Actions(self)
        self.scheduler = RedrawScheduler(self)
        self._keys = KeysForFocusedWidget(self)
        QCoreApplication.instance().installEventFilter(self._keys)

        self.run_controls = RunControls(self.actions, self)
        self.addToolBar(self.run_controls)
        self.dataset_panel = DatasetPanel()
        self.layer_builder = LayerBuilder()
        self.training_settings = TrainingSettings()
        self.setup_tabs = QTabWidget()
        self.setup_tabs.setObjectName("setupTabs")
        self.setup_tabs.setDocumentMode(True)
        for widget, title in ((self.dataset_panel, "Data"), (self.layer_builder, "Network"), (self.training_settings, "Training")):
            self.setup_tabs.addTab(_scrolling(widget), title)
        self.setup_dock = QDockWidget("Experiment", self)
        self.setup_dock.setObjectName("setupDock")
        self.setup_dock.setWidget(self.setup_tabs)
        self.setup_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable | QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.setup_dock)

        self.banner = MessageBanner()
        self.views = ViewArea()
        self.registry = ViewRegistry(self.views, self.controller, self.scheduler, self.history)
        registry = self.registry
        self.loss_plot, self.metric_plot, self.weights, self.layer_stats = (
            registry.loss_plot, registry.metric_plot, registry.weights, registry.layer_stats)
        self.scheduler.add_frame_callback(self._show_run_numbers)
        central = QWidget()
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(6, 6, 6, 0)
        central_layout.setSpacing(6)
        central_layout.addWidget(self.banner)
        central_layout.addWidget(self.views, 1)
        self.setCentralWidget(central)

        self._status_network = QLabel()
        self._status_network.setToolTip("The network's size and the array backend it trains on")
        for label in (self.run_controls.elapsed_label, self.run_controls.throughput_label, self._status_network):
            label.setContentsMargins(8, 0, 8, 0)
            self.statusBar().addPermanentWidget(label)

        self.actions.build_menus(self.menuBar(), {"View": [self.setup_dock.toggleViewAction(),
                                                           *(dock.toggleViewAction() for dock in registry.docks.values())]})
        self._connect()
        self._fit_to_screen()
        self.apply_experiment(experiment or default_experiment(), base_dir)
        self._fit_views_on_show = not registry.restore_layout(layout_settings())  # as the user arranged them last time

    # ----- construction ---------------------------------------------------------------------------
    def _fit_to_screen(self) -> None:
        """1600×1000, or 95 % of a smaller screen; the Experiment panel takes SETUP_SHARE of the width."""
        screen = QGuiApplication.primaryScreen()
        available = screen.availableGeometry() if screen else None
        width, height = 1600, 1000
        if available is not None and available.width() > 200:
            width, height = min(width, int(available.width() * 0.95)), min(height, int(available.height() * 0.95))
        self.resize(width, height)
        self._fit_setup_dock()

    def _fit_setup_dock(self) -> None:
        self.resizeDocks([self.setup_dock], [max(SETUP_MIN_WIDTH, round(self.width() * SETUP_SHARE))], Qt.Orientation.Horizontal)

    def _connect(self) -> None:
        self.actions.connect({
            "new": self._on_new, "open": self._on_open, "save": self._on_save_experiment, "saveModel": self._on_save_model,
            "loadData": self.dataset_panel.load_file.click, "quit": self.close,
            "play": self._on_play, "stepEpoch": self.controller.step_epoch, "stepBatch": self.controller.step_batch, "reset": self.reset,
            "logLoss": self.loss_plot.set_log_scale, "focusPlots": self.focus_plots, "resetLayout": self._on_reset_layout,
            "shortcuts": self._on_shortcuts, "about": self._on_about,
        })
        self.loss_plot.log_check.toggled.connect(self.actions["logLoss"].setChecked)
        run = self.run_controls
        run.editingDone.connect(self.focus_plots)
        run.speedChanged.connect(self.controller.set_speed)
        run.learningRateChanged.connect(lambda value: self._on_live_setting("learning_rate", value))
        self.dataset_panel.datasetChanged.connect(self._on_dataset_changed)
        self.dataset_panel.validationFractionChanged.connect(self._on_validation_changed)
        self.layer_builder.architectureChanged.connect(self._on_architecture_changed)
        self.training_settings.settingsChanged.connect(self._on_settings_changed)
        self.training_settings.liveSettingChanged.connect(self._on_live_setting)
        self.training_settings.targetChanged.connect(self._on_target_changed)

        controller = self.controller
        controller.epochsReady.connect(self._on_epochs)
        controller.partialReport.connect(self._on_partial)
        controller.diverged.connect(self._on_diverged)
        controller.playingChanged.connect(self._on_playing)
        controller.settingApplied.connect(self._on_setting_applied)
        controller.modelSaved.connect(self._on_model_saved)
        controller.failed.connect(self._on_failed)

    # ----- the experiment -------------------------------------------------------------------------
    def apply_experiment(self, experiment: Experiment, base_dir: str | Path = ".") -> None:
        """Show ``experiment`` in every panel and start a fresh run of it.

        Raises ConfigError / FileFormatError / DataError when its data cannot be loaded;
        then nothing has changed.
        """
        dataset = load_dataset(experiment.dataset, base_dir)
        layers = list(experiment.network.get("layers", []))
        head, _ = suggested_head(dataset.task, dataset.n_outputs)
        given_head = layers[-1] if layers else {}
        output_activation = given_head.get("activation")
        self._dataset, self._source = dataset, dict(experiment.dataset)
        self._architecture = (layers[:-1], output_activation if output_activation != head["activation"] else None, experiment.training.loss)
        self._config = experiment.training
        self.dataset_panel.set_dataset(dataset, self._source, Path(self._source["path"]).name if "path" in self._source else None)
        self.dataset_panel.set_validation_fraction(self._config.val_fraction)
        self.dataset_panel.set_split_seed(self._config.seed)
        self.layer_builder.set_dataset(dataset)
        self.layer_builder.set_architecture(*self._architecture)
        self.training_settings.set_config(self._config, self._backend)
        self.run_controls.set_learning_rate(self._config.learning_rate)
        self.controller.set_speed(self.run_controls.speed_value())
        self.banner.dismiss()
        self.reset()

    def experiment(self) -> Experiment:
        """The experiment as the panels show it now (data source, network spec, settings)."""
        return Experiment(dict(self._source), self.layer_builder.spec(), self._config)

    @Slot()
    def reset(self) -> None:
        """Start the run again from the initial weights of the seed (same seed, same weights)."""
        config = self._config
        try:
            network = Network(self.layer_builder.spec(), get_backend(self._backend), seed=config.seed)
            trainer = Trainer(network, self._dataset, config)
        except BUILD_ERRORS as exc:
            self.controller.load(None, config.epochs)
            self.layer_builder.show_problem(str(exc))
            self.layer_stats.set_layers([])
            self._start_run(None, "accuracy", 1)
            self._status_network.setText(f"Network: invalid · {BACKEND_TITLES[self._backend]}")
            return
        self.layer_builder.show_network(network)
        self.layer_stats.set_layers([layer.describe() for layer in network.layers])
        self.weights.set_layers([(i, layer.describe(), layer.params["W"].shape) for i, layer in enumerate(network.layers) if "W" in layer.params])
        self.loss_plot.set_quantity(LOSS_TITLES[trainer.loss.name])
        self.metric_plot.set_quantity(trainer.metric_name)
        self.views.views["metric"].setWindowTitle("R²" if trainer.metric_name == "r2" else "Accuracy")
        self.training_settings.set_training_size(trainer.train_size)
        self._status_network.setText(f"{len(network.layers)} layers, {network.parameter_count:,} parameters · {BACKEND_TITLES[self._backend]}")
        self.controller.load(trainer, config.epochs)
        self._start_run(trainer, trainer.metric_name, trainer.batches_per_epoch)

    def _start_run(self, trainer: Trainer | None, metric_name: str, batches: int) -> None:
        self.history.clear(metric_name)
        self._position = (0, 0, batches)
        self._throughput = None
        self._latest = None
        self.registry.new_run(self._dataset)
        self.statusBar().clearMessage()  # "Reached the epochs target" was about the run just discarded
        if self.banner.property("level") == "warning":
            self.banner.dismiss()
        self.run_controls.set_trainable(trainer is not None)
        self.run_controls.set_playing(False)
        self.scheduler.schedule()

    def confirm_discard(self, change: str) -> bool:
        """Ask before ``change`` (e.g. "Changing the network") throws away a trained run;
        True when nothing is trained yet. Tests may replace this method."""
        epochs, batches, _ = self._position
        if epochs == 0 and batches == 0:
            return True
        answer = QMessageBox.question(
            self, "Start a new run?",
            f"{change} starts a new run from fresh initial weights.\nThe {epochs} epoch{'s' if epochs != 1 else ''} trained so far will be lost.",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard

    @Slot()
    def _on_dataset_changed(self) -> None:
        if not self.confirm_discard("Changing the data"):
            self.dataset_panel.set_dataset(self._dataset, self._source)
            return
        self._dataset, self._source = self.dataset_panel.dataset, self.dataset_panel.source
        self.layer_builder.set_dataset(self._dataset)
        self._architecture = self.layer_builder.architecture()
        self._config = dataclasses.replace(self._config, loss=self._architecture[2])
        self.reset()

    @Slot(float)
    def _on_validation_changed(self, fraction: float) -> None:
        if not self.confirm_discard("Changing the validation share"):
            self.dataset_panel.set_validation_fraction(self._config.val_fraction)
            return
        self._config = dataclasses.replace(self._config, val_fraction=fraction)
        self.reset()

    @Slot()
    def _on_architecture_changed(self) -> None:
        if not self.confirm_discard("Changing the network"):
            self.layer_builder.set_architecture(*self._architecture)
            return
        self._architecture = self.layer_builder.architecture()
        self._config = dataclasses.replace(self._config, loss=self._architecture[2])
        self.reset()

    @Slot()
    def _on_settings_changed(self) -> None:
        if not self.confirm_discard("Changing this training setting"):
            self.training_settings.set_config(self._config, self._backend)
            return
        self._config = dataclasses.replace(self._config, **self.training_settings.values())
        self._backend = self.training_settings.backend_name()
        self.dataset_panel.set_split_seed(self._config.seed)
        self.reset()

    def _on_live_setting(self, name: str, value: float) -> None:
        """An optimizer setting that applies to the running training at its next mini-batch."""
        self._config = dataclasses.replace(self._config, **{name: value})
        self.controller.set_setting(name, value)

    @Slot(int)
    def _on_target_changed(self, epochs: int) -> None:
        self._config = dataclasses.replace(self._config, epochs=epochs)
        self.controller.set_target(epochs)
        self.scheduler.schedule()

    # ----- running --------------------------------------------------------------------------------
    @Slot()
    def _on_play(self) -> None:
        if self.controller.playing:
            self.controller.pause()
        else:
            if self.banner.property("level") == "warning":
                self.banner.dismiss()
            self.controller.play()

    @Slot(object)
    def _on_epochs(self, reports: list[Report]) -> None:
        self.history.extend(reports)
        last = reports[-1]
        seconds = sum(r.seconds for r in reports)
        if seconds > 0:
            self._throughput = sum(r.samples_per_second * r.seconds for r in reports) / seconds
        self._position = (last.epoch, 0, last.batches)
        self._latest = last
        self.scheduler.schedule()

    @Slot(object)
    def _on_partial(self, report: Report) -> None:
        self._position = (report.epoch - 1, report.batch, report.batches)
        self._latest = report
        self.scheduler.schedule()

    @Slot(object)
    def _on_diverged(self, report: Report) -> None:
        self._position = (report.epoch - 1, 0, report.batches)
        self.history.add_marker(Marker(report.epoch - 1 + report.batch / report.batches, "diverged", "diverged"))
        self.banner.show_message(
            f"<b>Training diverged and has paused.</b> {report.diverged[0].upper()}{report.diverged[1:]}.<br>"
            f"The weights are back where they were after epoch {report.epoch - 1}: change that, then press Play again.", "warning")
        self.scheduler.schedule()

    @Slot(bool, str)
    def _on_playing(self, playing: bool, reason: str) -> None:
        self.run_controls.set_playing(playing)
        if playing:
            return
        if reason == "target":
            self.statusBar().showMessage(f"Reached the epochs target ({self._config.epochs})", 8000)
        if reason:
            self.runStopped.emit(reason)

    @Slot(str, float, float)
    def _on_setting_applied(self, name: str, value: float, position: float) -> None:
        text = f"{SETTING_SYMBOLS.get(name, name)} = {value:g}"
        if position > 0:
            self.history.add_marker(Marker(position, text, "setting"))
            self.scheduler.schedule()
        self.statusBar().showMessage(f"{text} from the next mini-batch on", 4000)

    @Slot(str)
    def _on_model_saved(self, path: str) -> None:
        self.statusBar().showMessage(f"Saved the model to {path}", 6000)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.banner.show_message(message[0].upper() + message[1:], "error")

    def _show_run_numbers(self) -> None:
        """At the start of each frame: the toolbar's epoch counter and the layer table, from the
        same latest report the loss plot draws in this frame."""
        self.layer_stats.show_report(self._latest)
        epochs, batch, batches = self._position
        self.run_controls.show_progress(epochs, batch, batches, target=self._config.epochs, seconds=self.history.total("seconds"),
                                        samples_per_second=self._throughput)

    @Slot()
    def focus_plots(self) -> None:
        """Leave the field being edited (Escape, or Enter in the learning-rate box): focus the loss plot."""
        self.loss_plot.canvas.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _on_reset_layout(self) -> None:
        self.registry.reset_layout()
        self.setup_dock.setFloating(False)
        self.setup_dock.show()
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.setup_dock)
        self._fit_setup_dock()

    # ----- files ----------------------------------------------------------------------------------
    def open_experiment(self, path: str | Path) -> bool:
        """Open the experiment file ``path``; on failure explain why and keep the current one."""
        path = Path(path)
        try:
            self.apply_experiment(Experiment.load(path), path.parent)
        except (FileFormatError, ConfigError, DataError, OSError) as exc:
            self.banner.show_message(f"<b>Could not open the experiment.</b> {exc}", "error")
            return False
        self._experiment_path = path
        self.setWindowTitle(f"{path.name} — Epoch Lab")
        self.statusBar().showMessage(f"Opened {path}", 6000)
        return True

    def save_experiment(self, path: str | Path) -> bool:
        """Write the experiment (data source, network, settings) to ``path``."""
        path = Path(path)
        try:
            self.experiment().save(path)
        except (FileFormatError, OSError) as exc:
            self.banner.show_message(f"<b>Could not save the experiment.</b> {exc}", "error")
            return False
        self._experiment_path = path
        self.setWindowTitle(f"{path.name} — Epoch Lab")
        self.statusBar().showMessage(f"Saved the experiment to {path}", 6000)
        return True

    def _on_new(self) -> None:
        if self.confirm_discard("A new experiment"):
            self._experiment_path = None
            self.setWindowTitle("Epoch Lab")
            self.apply_experiment(default_experiment())

    def _on_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open experiment", str(self._experiment_dir()), EXPERIMENT_FILTER)
        if path and self.confirm_discard("Opening an experiment"):
            self.open_experiment(path)

    def _on_save_experiment(self) -> None:
        default = self._experiment_path or self._experiment_dir() / f"{self._dataset.name}.json"
        path, _ = QFileDialog.getSaveFileName(self, "Save experiment", str(default), EXPERIMENT_FILTER)
        if path:
            self.save_experiment(path)

    def _on_save_model(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save model", str(self._experiment_dir() / f"{self._dataset.name}-model.npz"), MODEL_FILTER)
        if path:
            self.controller.save_model(path)

    def _experiment_dir(self) -> Path:
        return self._experiment_path.parent if self._experiment_path else Path.cwd()

    # ----- help -----------------------------------------------------------------------------------
    def _on_shortcuts(self) -> None:
        table = "".join(f"<tr><td><b>{keys}</b></td><td>&nbsp;&nbsp;{what}</td></tr>" for keys, what in self.actions.shortcut_rows())
        QMessageBox.information(self, "Keyboard shortcuts", f"<table>{table}</table>")

    def _on_about(self) -> None:
        QMessageBox.about(
            self, "About Epoch Lab",
            "<h3>Epoch Lab</h3><p>An offline lab for learning deep learning: build a network, train it on data, "
            "and watch and step it learn, epoch by epoch.</p>"
            f"<p>PySide6 {pyside_version} · pyqtgraph {pg.__version__} · NumPy {np.__version__}</p>",
        )

    # ----- closing --------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        """The first time the window shows, share the view area out (sizes mean nothing before)."""
        super().showEvent(event)
        if self._fit_views_on_show:
            self._fit_views_on_show = False
            QTimer.singleShot(0, self.registry.fit_sizes)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop training and join the trainer thread before the window goes."""
        self.scheduler.stop()
        QCoreApplication.instance().removeEventFilter(self._keys)
        self.registry.save_layout(layout_settings())
        self.controller.shutdown()
        super().closeEvent(event)

