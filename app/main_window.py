"""Epoch Lab's main window: set up an experiment on the left, run it from the toolbar,
watch it in the views.

Layout: a run toolbar on top; an "Experiment" dock on the left with the Data, Network
and Training tabs; the centre is a :class:`~app.view_area.ViewArea` whose views (loss,
decision boundary, metric, weights, …: :mod:`app.views.manager`) are dock widgets; a
message banner above them explains divergence and errors; a status bar below. Every
command is an action of :mod:`app.actions`; the views are drawn by :mod:`app.redraw`.

The window owns the *committed* experiment, a :class:`Setup` (dataset and its source,
architecture, training settings, backend). A panel edit that needs fresh weights asks
before discarding a trained run (:meth:`MainWindow.confirm_discard`, which tests may
replace), then builds a new network and trainer here, in the GUI thread, so a bad setting
is explained inline; the trainer is then handed to the trainer thread and never touched
here again.

A file (an experiment, or data from the Load data dialog) is applied as one transaction:
its data, network and trainer are built and handed to the trainer process first, and only
then do the panels and views show it. Anything that fails before that (:data:`REFUSALS`)
is explained in the banner and changes nothing: the current experiment, its run, its
trainer and every panel stay exactly as they were.
"""

from __future__ import annotations

import atexit
import dataclasses
import html
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import shiboken6
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
from core.data import DataError, Dataset
from core.experiment import Experiment, default_experiment, load_dataset, network_spec
from core.files import FileFormatError
from core.layers import SpecError
from core.limits import ResourceError
from core.network import Network
from core.trainer import ConfigError, Report, Trainer, TrainingConfig

from .actions import Actions
from .dataset_panel import DatasetPanel
from .history import Marker, RunHistory
from .keys import KeysForFocusedWidget
from .layer_builder import LOSS_TITLES, Architecture, LayerBuilder, architecture_of
from .redraw import RedrawScheduler
from .run_controls import RunControls
from .training_controls import BACKENDS, TrainingSettings
from .view_area import ViewArea
from .views.manager import ViewRegistry, layout_settings
from .widgets import MessageBanner
from .worker import TrainerController

# What a file, a setting or the machine can make fail, explained in the window rather than raised: the project's
# own errors (all ValueErrors: ConfigError, SpecError, DataError, FileFormatError, ResourceError), NumPy's
# ValueErrors, an unusable backend, memory, and the file system.
REFUSALS = (ConfigError, SpecError, DataError, FileFormatError, ResourceError, ValueError, BackendUnavailable, MemoryError,
            OSError)
SETUP_SHARE = 0.27  # of the window's width for the Experiment panel (at least SETUP_MIN_WIDTH)
SETUP_MIN_WIDTH = 330
SETTING_SYMBOLS = {"learning_rate": "α", "momentum": "μ", "beta1": "β₁", "beta2": "β₂", "rho": "ρ"}
BACKEND_TITLES = dict(BACKENDS)
EXPERIMENT_FILTER = "Epoch Lab experiments (*.json);;All files (*)"
MODEL_FILTER = "Epoch Lab models (*.npz);;All files (*)"


# Every window not deleted yet; the exit hook below deletes them while Python still runs.
_LIVE_WINDOWS: weakref.WeakSet[MainWindow] = weakref.WeakSet()


@atexit.register
def _delete_windows_at_exit() -> None:
    """When Python ends with a window still alive (``sys.exit`` in a slot ends it from inside
    Qt's event loop), delete each window here: its trainer first, then its widgets, parents
    before children, as Qt destroys a window. Left to PySide's own exit hook (registered
    earlier, so run later), the wrappers go in no particular order, and a plot's axis could
    be resized after its label was gone: a traceback on the way out, one exit in ten here."""
    for window in list(_LIVE_WINDOWS):
        if shiboken6.isValid(window):
            window.controller.shutdown()
            shiboken6.delete(window)


@dataclass(frozen=True)
class Setup:
    """What a run is made of, committed as one: the data and the ``source`` object that
    reproduces it (see app.dataset_panel), the network as the Network tab holds it, the
    training settings and the array backend's name."""

    dataset: Dataset
    source: dict
    architecture: Architecture
    config: TrainingConfig
    backend: str = "numpy"

    def spec(self) -> dict:
        """The full network spec: the data's inputs, the hidden layers, the output layer."""
        hidden, output_activation, _ = self.architecture
        return network_spec(self.dataset, hidden, output_activation)

    def label(self) -> str | None:
        """The name the Data tab shows for data from a file (None for a built-in set)."""
        return Path(self.source["path"]).name if "path" in self.source else None


def _message(problem: object) -> str:
    """What to tell the user about ``problem``: its message (a bare MemoryError has none)."""
    if isinstance(problem, BaseException) and not str(problem):
        return "not enough memory" if isinstance(problem, MemoryError) else problem.__class__.__name__
    return str(problem)


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
    fileProblem = Signal(str)  # a file was not opened, used or saved: the banner's message as plain text

    def __init__(self, experiment: Experiment | None = None, base_dir: str | Path = "."):
        super().__init__()
        self.setObjectName("MainWindow")
        self.setWindowTitle("Epoch Lab")
        _LIVE_WINDOWS.add(self)
        self.setDockOptions(QMainWindow.DockOption.AllowTabbedDocks)  # not animated: see ViewArea
        self.history = RunHistory()
        self._setup: Setup | None = None  # the committed experiment, set by apply_experiment below
        self._position = (0, 0, 1)  # epochs done, mini-batches done of the next, mini-batches per epoch
        self._throughput: float | None = None
        self._latest: Report | None = None
        self._experiment_path: Path | None = None

        self.controller = TrainerController(self)
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
        self.controller.set_speed(self.run_controls.speed_value())
        self._fit_to_screen()
        try:
            self.apply_experiment(experiment or default_experiment(), base_dir)
        except BaseException:
            self.controller.shutdown()  # no window: its trainer thread must not outlive it
            raise
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
    @property
    def dataset(self) -> Dataset:
        """The committed data."""
        return self._setup.dataset

    @property
    def config(self) -> TrainingConfig:
        """The committed training settings (live changes included)."""
        return self._setup.config

    def apply_experiment(self, experiment: Experiment, base_dir: str | Path = ".") -> None:
        """Make ``experiment`` the window's, with a fresh run: all of it, or nothing.

        Raises one of REFUSALS (ConfigError, FileFormatError, DataError, ResourceError, …)
        when its data cannot be loaded or its network and trainer cannot be built; then
        nothing has changed (see the module docstring).
        """
        dataset = load_dataset(experiment.dataset, base_dir)
        architecture = architecture_of(experiment.network, dataset, experiment.training.loss)
        self._switch_to(Setup(dataset, dict(experiment.dataset), architecture, experiment.training,
                              self._setup.backend if self._setup else "numpy"))
        self.banner.dismiss()

    def experiment(self) -> Experiment:
        """The experiment as the panels show it now (data source, network spec, settings)."""
        return Experiment(dict(self._setup.source), self._setup.spec(), self._setup.config)

    def _build(self, setup: Setup) -> Trainer:
        """A new network and trainer for ``setup``, checked here in the GUI thread; changes
        nothing in the window; raises one of REFUSALS."""
        network = Network(setup.spec(), get_backend(setup.backend), seed=setup.config.seed)
        return Trainer(network, setup.dataset, setup.config)

    def _switch_to(self, setup: Setup) -> None:
        """Commit ``setup`` with a fresh run, or raise (one of REFUSALS) having changed nothing.
        Its trainer is built, the boxes are checked to hold its settings, the panels show it
        and the trainer is handed to the trainer process; when showing or handing over
        fails, the panels show the committed setup again."""
        trainer = self._build(setup)
        self.training_settings.check_config(setup.config)
        self.dataset_panel.check_source(setup.source, setup.config.val_fraction)
        self.run_controls.check_learning_rate(setup.config.learning_rate)
        try:
            self._show_setup(setup)
            self.controller.load(trainer, setup.config.epochs)
        except BaseException:
            if self._setup is not None:
                self._show_setup(self._setup)
            raise
        self._setup = setup
        self._show_run(trainer)

    def _show_setup(self, setup: Setup) -> None:
        """Every panel shows ``setup`` (none emits)."""
        self.dataset_panel.set_dataset(setup.dataset, setup.source, setup.label())
        self.dataset_panel.set_validation_fraction(setup.config.val_fraction)
        self.dataset_panel.set_split_seed(setup.config.seed)
        self.layer_builder.set_dataset(setup.dataset)
        self.layer_builder.set_architecture(*setup.architecture)
        self.training_settings.set_config(setup.config, setup.backend)
        self.run_controls.set_learning_rate(setup.config.learning_rate)

    def _show_dataset(self) -> None:
        """The Data tab shows the committed data again (after a change that was not made)."""
        self.dataset_panel.set_dataset(self._setup.dataset, self._setup.source, self._setup.label())

    def _refuse(self, what: str, problem: object) -> None:
        """Say in the banner (and with ``fileProblem``) that ``what`` ("Could not open the
        experiment.") did not happen, and why; nothing else changes."""
        message = _message(problem)
        self.banner.show_message(f"<b>{html.escape(what)}</b> {html.escape(message)}", "error")
        self.fileProblem.emit(f"{what} {message}")

    def _apply_or_refuse(self, what: str, change: Callable[[], None]) -> bool:
        """Run ``change()``, which applies a file as one transaction; True when it did. When
        it raises, the banner says ``what`` did not happen: one of REFUSALS with its own
        message, anything else (a bug) as an internal error with its traceback on stderr."""
        try:
            change()
        except REFUSALS as exc:
            self._refuse(what, exc)
            return False
        except Exception as exc:  # a bug: say so, and keep the experiment all the same
            traceback.print_exc()
            self._refuse(what, f"internal error: {exc.__class__.__name__}: {exc}")
            return False
        return True

    @Slot()
    def reset(self) -> None:
        """Start the run again from the initial weights of the seed (same seed, same weights).
        A setup that cannot train is explained in the Network tab, and Play is disabled."""
        setup = self._setup
        try:
            trainer = self._build(setup)
            self.controller.load(trainer, setup.config.epochs)
        except REFUSALS as exc:
            self.controller.load(None, setup.config.epochs)
            self.layer_builder.show_problem(str(exc))
            self.layer_stats.set_layers([])
            self._start_run(None, "accuracy", 1)
            self._status_network.setText(f"Network: invalid · {BACKEND_TITLES[setup.backend]}")
            return
        self._show_run(trainer)

    def _show_run(self, trainer: Trainer) -> None:
        """The panels and views show the new run of ``trainer``, just loaded, at epoch 0."""
        network = trainer.network
        self.layer_builder.show_network(network)
        self.layer_stats.set_layers([layer.describe() for layer in network.layers])
        self.weights.set_layers([(i, layer.describe(), layer.params["W"].shape) for i, layer in enumerate(network.layers) if "W" in layer.params])
        self.loss_plot.set_quantity(LOSS_TITLES[trainer.loss.name])
        self.metric_plot.set_quantity(trainer.metric_name)
        self.views.views["metric"].setWindowTitle("R²" if trainer.metric_name == "r2" else "Accuracy")
        self.training_settings.set_training_size(trainer.train_size)
        self._status_network.setText(f"{len(network.layers)} layers, {network.parameter_count:,} parameters · "
                                     f"{BACKEND_TITLES[self._setup.backend]}")
        self._start_run(trainer, trainer.metric_name, trainer.batches_per_epoch)

    def _start_run(self, trainer: Trainer | None, metric_name: str, batches: int) -> None:
        self.history.clear(metric_name)
        self._position = (0, 0, batches)
        self._throughput = None
        self._latest = None
        self.registry.new_run(self._setup.dataset)
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

    def _edit(self, **changes: object) -> None:
        """A panel edit that needs a fresh run: commit ``changes`` to the setup and reset."""
        self._setup = dataclasses.replace(self._setup, **changes)
        self.reset()

    @Slot()
    def _on_dataset_changed(self) -> None:
        """New data in the Data tab. A built-in set is an edit like any other; data from a file
        (the Load data dialog) is applied as one transaction, or not at all."""
        if not self.confirm_discard("Changing the data"):
            self._show_dataset()
            return
        panel = self.dataset_panel
        architecture = self.layer_builder.architecture_for(panel.dataset)
        changes = {"dataset": panel.dataset, "source": panel.source, "architecture": architecture,
                   "config": dataclasses.replace(self._setup.config, loss=architecture[2])}
        if "path" not in panel.source:
            self.layer_builder.set_dataset(panel.dataset)
            self._edit(**changes)
            return
        setup = dataclasses.replace(self._setup, **changes)
        if not self._apply_or_refuse("Could not use this data.", lambda: self._switch_to(setup)):
            self._show_dataset()

    @Slot(float)
    def _on_validation_changed(self, fraction: float) -> None:
        if not self.confirm_discard("Changing the validation share"):
            self.dataset_panel.set_validation_fraction(self._setup.config.val_fraction)
            return
        self._edit(config=dataclasses.replace(self._setup.config, val_fraction=fraction))

    @Slot()
    def _on_architecture_changed(self) -> None:
        if not self.confirm_discard("Changing the network"):
            self.layer_builder.set_architecture(*self._setup.architecture)
            return
        architecture = self.layer_builder.architecture()
        self._edit(architecture=architecture, config=dataclasses.replace(self._setup.config, loss=architecture[2]))

    @Slot()
    def _on_settings_changed(self) -> None:
        if not self.confirm_discard("Changing this training setting"):
            self.training_settings.set_config(self._setup.config, self._setup.backend)
            return
        config = dataclasses.replace(self._setup.config, **self.training_settings.values())
        self.dataset_panel.set_split_seed(config.seed)
        self._edit(config=config, backend=self.training_settings.backend_name())

    def _on_live_setting(self, name: str, value: float) -> None:
        """An optimizer setting that applies to the running training at its next mini-batch."""
        self._setup = dataclasses.replace(self._setup, config=dataclasses.replace(self._setup.config, **{name: value}))
        self.controller.set_setting(name, value)

    @Slot(int)
    def _on_target_changed(self, epochs: int) -> None:
        self._setup = dataclasses.replace(self._setup, config=dataclasses.replace(self._setup.config, epochs=epochs))
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
            self.statusBar().showMessage(f"Reached the epochs target ({self._setup.config.epochs})", 8000)
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
        self.run_controls.show_progress(epochs, batch, batches, target=self._setup.config.epochs,
                                        seconds=self.history.total("seconds"), samples_per_second=self._throughput)

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
        """Open the experiment file ``path`` as one transaction; on failure explain why in the
        banner (and with ``fileProblem``) and keep the current experiment and its run as they were."""
        path = Path(path)
        if not self._apply_or_refuse("Could not open the experiment.", lambda: self._open(path)):
            return False
        self._experiment_path = path
        self.setWindowTitle(f"{path.name} — Epoch Lab")
        self.statusBar().showMessage(f"Opened {path}", 6000)
        return True

    def _open(self, path: Path) -> None:
        """Apply the experiment file ``path``; every message names it."""
        experiment = Experiment.load(path)  # its own messages name the file
        try:
            self.apply_experiment(experiment, path.parent)
        except REFUSALS as exc:
            raise FileFormatError(f"{path}: {_message(exc)}") from exc

    def save_experiment(self, path: str | Path) -> bool:
        """Write the experiment (data source, network, settings) to ``path``."""
        path = Path(path)
        try:
            self.experiment().save(path)
        except (FileFormatError, OSError) as exc:
            self._refuse("Could not save the experiment.", exc)
            return False
        self._experiment_path = path
        self.setWindowTitle(f"{path.name} — Epoch Lab")
        self.statusBar().showMessage(f"Saved the experiment to {path}", 6000)
        return True

    def _on_new(self) -> None:
        if self.confirm_discard("A new experiment") and self._apply_or_refuse("Could not start a new experiment.",
                                                                          lambda: self.apply_experiment(default_experiment())):
            self._experiment_path = None
            self.setWindowTitle("Epoch Lab")

    def _on_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open experiment", str(self._experiment_dir()), EXPERIMENT_FILTER)
        if path and self.confirm_discard("Opening an experiment"):
            self.open_experiment(path)

    def _on_save_experiment(self) -> None:
        default = self._experiment_path or self._experiment_dir() / f"{self._setup.dataset.name}.json"
        path, _ = QFileDialog.getSaveFileName(self, "Save experiment", str(default), EXPERIMENT_FILTER)
        if path:
            self.save_experiment(path)

    def _on_save_model(self) -> None:
        default = self._experiment_dir() / f"{self._setup.dataset.name}-model.npz"
        path, _ = QFileDialog.getSaveFileName(self, "Save model", str(default), MODEL_FILTER)
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

