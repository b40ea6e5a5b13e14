"""Epoch Lab's main window: set up an experiment on the left, run it from the toolbar,
watch it in the views.

Layout: a run toolbar on top; an "Experiment" dock on the left with the Data, Network
and Training tabs; the centre is a :class:`~app.view_area.ViewArea` whose views (loss,
decision boundary, metric, weights, …: :mod:`app.views.manager`) are dock widgets; a
message banner above them explains divergence and errors; a status bar below. Every
command is an action of :mod:`app.actions`; the views are drawn by :mod:`app.redraw`.

The window owns the *committed* experiment, a :class:`Setup` (dataset and its source,
architecture, training settings, backend). A panel edit that needs fresh weights builds a
new network and trainer here, in the GUI thread, so a bad setting is explained inline; the
trainer is then handed to the trainer thread and never touched here again.

A file (a session, an experiment, or data from the Load data dialog) is applied as one
transaction: its data, network and trainer (restored from the file's trainer state) are
built and checked here, handed to the trainer process, and only then do the panels and
views show it. Anything that fails before that (:data:`REFUSALS`) is explained in the
banner and changes nothing: the current experiment, its runs, its trainer and every panel
stay exactly as they were.

The runs are a :class:`core.run.Session` (``history.session``; ``history`` shows its current
run). Reset, a change of data, network or settings, and Continue from here start a new
run; the old ones stay for comparison. Checkpoints of the trainer state come from the
trainer process after the epochs their run's :class:`~core.run.Checkpoints` wants.

File ▸ Save writes the whole session (``.epochlab``, core.epochlab): the experiment, every
run, the trainer's full state (asked of the trainer process: ``stateReady``), so that
opening it again goes on exactly where it stopped. The title shows the file and a mark
(``[*]``) while there are unsaved changes; New, Open, Revert and closing ask first
(:meth:`MainWindow.confirm_discard`; tests replace it or :meth:`MainWindow.ask_unsaved`),
and :mod:`app.autosave` keeps a copy meanwhile.
"""

from __future__ import annotations

import atexit
import dataclasses
import html
import itertools
import math
import os
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QTimer, Signal, Slot
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
from core.epochlab import SUFFIX, SessionFile, dataset_fingerprint, is_session_path, load_session, load_session_dataset
from core.experiment import Experiment, apply_weights, check_split, default_experiment, load_dataset
from core.files import FileFormatError
from core.layers import SpecError
from core.lessons import lesson_in_file
from core.limits import ResourceError
from core.loss_surface import checkpoint_path
from core.network import Network
from core.presets import PRESETS, Preset, preset
from core.run import Run, Session, edit_text
from core.trainer import ConfigError, Report, Trainer, TrainingConfig
from core.trainer_state import TrainerState
from core.weight_layers import weight_layers, weight_number

from . import autosave
from .actions import Actions
from .autosave import Autosave
from .branch_dialog import BranchDialog
from .dataset_panel import DatasetPanel
from .export_commands import ExportCommands
from .guide import Guide
from .history import Marker, RunHistory
from .keys import KeysForFocusedWidget
from .layer_builder import LOSS_TITLES, Architecture, LayerBuilder, architecture_of, architecture_spec
from .presentation import Presentation
from .recent_files import RecentFiles
from .redraw import RedrawScheduler
from .run_controls import RunControls
from .session_io import SessionSnapshot, network_with, snapshot_session
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
OPEN_FILTER = "Epoch Lab files (*.epochlab *.json);;Sessions (*.epochlab);;Experiments (*.json);;All files (*)"
SESSION_FILTER = "Epoch Lab sessions (*.epochlab);;All files (*)"
MODEL_FILTER = "Epoch Lab models (*.npz);;All files (*)"
CHECKPOINT_SECONDS = 0.01  # while playing, at least this long between two checkpoints: a fast run keeps every 2^k-th epoch
STATE_WAIT_MS = 10_000  # how long a save waits for the trainer process's state
RECOVER_VARIABLE = "EPOCHLAB_RECOVER"  # "recover", "discard" or "later": answers the recovery question at start (scripts, tests)
RECOVER_ANSWERS = ("recover", "discard", "later")


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
    weights: list[dict[str, list]] | None = None  # the experiment's own initial weights (None: the seed's)

    def spec(self) -> dict:
        """The full network spec: the data's inputs, the hidden layers, the output layer."""
        return architecture_spec(self.dataset, self.architecture)

    def changed(self, **changes: object) -> Setup:
        """This setup with ``changes``; its own initial weights go when the network they are
        for changes (then the seed draws them again)."""
        setup = dataclasses.replace(self, **changes)
        return setup if setup.weights is None or setup.spec() == self.spec() else dataclasses.replace(setup, weights=None)

    def label(self) -> str | None:
        """The name the Data tab shows for data from a file (None for a built-in set)."""
        return Path(self.source["path"]).name if "path" in self.source else None


def _power_of_two_above(value: float) -> int:
    """The smallest power of 2 at or above ``value`` (1 for anything up to 1)."""
    return 1 << max(0, math.ceil(math.log2(value))) if value > 1 else 1


def _age(path: Path) -> str:
    """When ``path`` was last written, as "at 14:05 on 2026-12-01"."""
    return time.strftime("at %H:%M on %Y-%m-%d", time.localtime(path.stat().st_mtime))


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
        history: the session's current run (GUI thread); ``history.session`` holds every run.
        controller: the handle on the trainer thread.
        autosave: the autosave of unsaved work (:mod:`app.autosave`).
        recent: File ▸ Open Recent (:mod:`app.recent_files`).
        actions: every command (:class:`app.actions.Actions`).
        registry: every view (:class:`app.views.manager.ViewRegistry`).
    """

    runStopped = Signal(str)  # training stopped by itself: "target", "diverged" or "error"
    fileProblem = Signal(str)  # a file was not opened, used or saved: the banner's message as plain text
    sessionSaved = Signal(str)  # the session file written (Save, Save As)

    def __init__(self, experiment: Experiment | None = None, base_dir: str | Path = ".", autosave_folder: Path | None = None):
        """``autosave_folder``: where unsaved work is autosaved (default: app.autosave.default_folder())."""
        super().__init__()
        self.setObjectName("MainWindow")
        _LIVE_WINDOWS.add(self)
        self.setDockOptions(QMainWindow.DockOption.AllowTabbedDocks)  # not animated: see ViewArea
        self.history = RunHistory()
        self._setup: Setup | None = None  # the committed experiment, set by apply_experiment below
        self._position = (0, 0, 1)  # epochs done, mini-batches done of the next, mini-batches per epoch
        self._throughput: float | None = None
        self._latest: Report | None = None
        self._file_path: Path | None = None  # the session or experiment file the work came from or went to
        self._data_folder = Path(base_dir)  # where the experiment's relative data paths start
        self._network: Network | None = None  # the current run's network as built (spec, seed, standardization)
        self._state_waiters: dict[str, Callable[[TrainerState | None], None]] = {}
        self._state_tags = itertools.count(1)
        self._fingerprint: tuple[Dataset | None, str] = (None, "")  # the committed dataset's, computed once per dataset
        self._checkpoint_interval = 0  # the interval the trainer process was told last
        self._checkpoint_floor = 1  # the smallest interval the speed of training now allows (a power of 2)
        self._epochs_arrived = time.monotonic()  # when the last epochs came
        self._close_confirmed = False
        self._example: Preset | None = None  # the worked example opened last, for its note

        self.controller = TrainerController(self)
        self.exports = ExportCommands(self)
        self.autosave = Autosave(self._capture_later, autosave_folder or autosave.default_folder(), self)
        self.recent = RecentFiles(layout_settings())
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

        self.guide = Guide(self)
        self.presentation = Presentation(self, layout_settings())
        menus = self.actions.build_menus(self.menuBar(), {"View": [self.setup_dock.toggleViewAction(), *self.guide.toggle_actions(),
                                                                   *(dock.toggleViewAction() for dock in registry.docks.values())]})
        self.guide.fill_menus(menus["Lessons"], self.actions.submenus["concepts"])
        recent_menu = self.actions.submenus["openRecent"]
        recent_menu.aboutToShow.connect(lambda: self.recent.fill(recent_menu, self._open_recent))
        for example in PRESETS:
            action = self.actions.submenus["examples"].addAction(example.title)
            action.setObjectName(f"{example.key}Action")
            action.setToolTip(example.summary)
            action.setStatusTip(example.summary)
            action.triggered.connect(partial(self._on_example, example.key))
        self._connect()
        self.controller.set_speed(self.run_controls.speed_value())
        self._fit_to_screen()
        try:
            self.apply_experiment(experiment or default_experiment(), base_dir)
        except BaseException:
            self.controller.shutdown()  # no window: its trainer thread must not outlive it
            raise
        self.mark_clean(None)
        self._offer_recovery_on_show = True
        self._fit_views_on_show = not registry.restore_layout(layout_settings())  # as the user arranged them last time
        # the view area's minimum size as its docks are laid out now: the one its layout took while they were being
        # placed (one above the other) made the window taller than a 720-pixel screen
        self.views.layout().activate()
        self.guide.report_problems()

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
            "new": self._on_new, "open": self._on_open, "save": self._on_save, "saveAs": self._on_save_as, "revert": self._on_revert,
            "saveModel": self._on_save_model, "exportModel": self._on_save_model,
            "loadData": self.dataset_panel.load_file.click, "quit": self._on_quit,
            "play": self._on_play, "stepEpoch": lambda: self._step(self.controller.step_epoch),
            "stepBatch": lambda: self._step(self.controller.step_batch), "reset": self.reset,
            "continueHere": self._on_continue_here, "markEpoch": self.mark_epoch, "exportHistory": self.exports.ask_history,
            **{f"export{kind.title()}": partial(self.exports.ask_program, kind) for kind in ("script", "notebook", "torch", "onnx")},
            "logLoss": self.loss_plot.set_log_scale, "presentation": self.presentation.set_enabled, "focusPlots": self.focus_plots, "resetLayout": self._on_reset_layout,
            "shortcuts": self.show_shortcuts, "conceptHelp": self.guide.help_for_focus, "about": self._on_about,
        })
        self.loss_plot.log_check.toggled.connect(self.actions["logLoss"].setChecked)
        self.loss_plot.cursorMoved.connect(self._on_cursor_moved)
        self.loss_plot.canvas.getPlotItem().getViewBox().menu.addAction(self.actions["continueHere"])  # the plot's context menu
        self.registry.runs.edited.connect(self._mark_changed)
        plot_menu = self.actions.submenus["exportPlot"]
        plot_menu.aboutToShow.connect(lambda: self.exports.fill_plot_menu(plot_menu))
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
        controller.parameterEdited.connect(self._on_parameter_edited)
        for view in (self.weights, self.registry.graph, self.registry.inspector):
            view.parameterEdited.connect(controller.edit_parameter)
        controller.stateReady.connect(self._on_state_ready)
        controller.checkpointsReady.connect(self._on_checkpoints)
        controller.modelSaved.connect(self._on_model_saved)
        controller.failed.connect(self._on_failed)
        self.banner.text.linkActivated.connect(self._on_banner_link)
        self.autosave.failed.connect(lambda message: self.statusBar().showMessage(message[0].upper() + message[1:], 8000))

    # ----- the experiment -------------------------------------------------------------------------
    refusals = REFUSALS  # for the window's command modules (app.export_commands)

    @property
    def network(self) -> Network | None:
        """The current run's network as built (spec, seed, standardization, initial weights), or
        None when the setup cannot train."""
        return self._network

    @property
    def dataset(self) -> Dataset:
        """The committed data."""
        return self._setup.dataset

    @property
    def config(self) -> TrainingConfig:
        """The committed training settings (live changes included)."""
        return self._setup.config

    def apply_experiment(self, experiment: Experiment, base_dir: str | Path = ".", session: Session | None = None) -> None:
        """Make ``experiment`` the window's, with a fresh run (in ``session`` when given, else in
        the window's session): all of it, or nothing.

        Raises one of REFUSALS (ConfigError, FileFormatError, DataError, ResourceError, …)
        when its data cannot be loaded or its network and trainer cannot be built; then
        nothing has changed (see the module docstring).
        """
        dataset = load_dataset(experiment.dataset, base_dir)
        architecture = architecture_of(experiment.network, dataset, experiment.training.loss)
        self._switch_to(Setup(dataset, dict(experiment.dataset), architecture, experiment.training,
                              self._setup.backend if self._setup else "numpy", experiment.weights), session=session)
        self._data_folder = Path(base_dir)
        self.banner.dismiss()

    def apply_session(self, session_file: SessionFile, dataset: Dataset, data_folder: Path) -> None:
        """Make a session file's work the window's, all of it or nothing: its experiment (on
        ``dataset``, read already), every run, the current run going on from the file's
        trainer state. Raises one of REFUSALS having changed nothing (a state of another
        network or data is refused here, before the trainer process hears of it)."""
        experiment = session_file.experiment
        architecture = architecture_of(experiment.network, dataset, experiment.training.loss)
        backend = session_file.window.get("backend", "numpy")
        state = session_file.state  # its run goes on in the dtype it trained in (a file from before training.dtype says none)
        training = experiment.training if state is None else dataclasses.replace(experiment.training, dtype=state.params.dtype.name)
        setup = Setup(dataset, dict(experiment.dataset), architecture, training, backend if backend in BACKEND_TITLES else "numpy",
                      experiment.weights)
        self._switch_to(setup, session_file.state, session_file.session)
        self._data_folder = data_folder
        self.actions["logLoss"].setChecked(bool(session_file.window.get("log_loss", False)))
        self.banner.dismiss()

    def experiment(self) -> Experiment:
        """The experiment as the panels show it now (data source, network spec, settings)."""
        return Experiment(dict(self._setup.source), self._setup.spec(), self._setup.config, self._setup.weights)

    def _build(self, setup: Setup) -> Trainer:
        """A new network and trainer for ``setup``, checked here in the GUI thread; changes
        nothing in the window; raises one of REFUSALS."""
        check_split(setup.dataset, setup.config)
        network = Network(setup.spec(), get_backend(setup.backend, setup.config.dtype), seed=setup.config.seed)
        if setup.weights is not None:
            apply_weights(network, setup.weights)
        return Trainer(network, setup.dataset, setup.config)

    def _switch_to(self, setup: Setup, state: TrainerState | None = None, session: Session | None = None,
                   branch: tuple[Run, int] | None = None) -> None:
        """Commit ``setup`` with a fresh run (or ``session``'s current run, going on from
        ``state``), or raise (one of REFUSALS) having changed nothing. Its trainer is built
        (and a copy restored from ``state``, to check that it fits), the boxes are checked to
        hold its settings, the panels show it and the trainer is handed to the trainer
        process; when showing or handing over fails, the panels show the committed setup again."""
        trainer = self._build(setup)
        if state is not None:
            self._build(setup).restore(state)  # ConfigError for a state of another network or data
        self.training_settings.check_config(setup.config)
        self.dataset_panel.check_source(setup.source, setup.config.val_fraction)
        self.run_controls.check_learning_rate(setup.config.learning_rate)
        try:
            self._show_setup(setup)
            self.controller.load(trainer, setup.config.epochs, state)
        except BaseException:
            if self._setup is not None:
                self._show_setup(self._setup)
            raise
        self._setup = setup
        self._show_run(trainer, state, session, branch)

    def _show_setup(self, setup: Setup) -> None:
        """Every panel shows ``setup`` (none emits)."""
        self.dataset_panel.set_dataset(setup.dataset, setup.source, setup.label())
        self.dataset_panel.set_validation_fraction(setup.config.val_fraction)
        self.dataset_panel.set_split_seed(setup.config.seed)
        self.layer_builder.set_dataset(setup.dataset)
        self.layer_builder.set_architecture(*setup.architecture)
        self.training_settings.set_config(setup.config, setup.backend, setup.config.dtype)
        self.run_controls.set_learning_rate(setup.config.learning_rate)

    def _show_dataset(self) -> None:
        """The Data tab shows the committed data again (after a change that was not made)."""
        self.dataset_panel.set_dataset(self._setup.dataset, self._setup.source, self._setup.label())

    def refuse(self, what: str, problem: object) -> None:
        """Say in the banner (and with ``fileProblem``) that ``what`` ("Could not open the
        experiment.") did not happen, and why; nothing else changes."""
        message = _message(problem)
        self.banner.show_message(f"<b>{html.escape(what)}</b> {html.escape(message)}", "error")
        self.fileProblem.emit(f"{what} {message}")

    def apply_or_refuse(self, what: str, change: Callable[[], None]) -> bool:
        """Run ``change()``, which applies a file as one transaction; True when it did. When
        it raises, the banner says ``what`` did not happen: one of REFUSALS with its own
        message, anything else (a bug) as an internal error with its traceback on stderr."""
        try:
            change()
        except REFUSALS as exc:
            self.refuse(what, exc)
            return False
        except Exception as exc:  # a bug: say so, and keep the experiment all the same
            traceback.print_exc()
            self.refuse(what, f"internal error: {exc.__class__.__name__}: {exc}")
            return False
        return True

    @Slot()
    def reset(self) -> None:
        """Start a new run from the initial weights (the experiment's own, else the seed's: same
        seed, same weights); the run so far stays in the session. A setup that cannot train is explained in the
        Network tab, and Play is disabled."""
        setup = self._setup
        if self.history.count:
            self._mark_changed()
        try:
            trainer = self._build(setup)
            self.controller.load(trainer, setup.config.epochs)
        except REFUSALS as exc:
            self.controller.load(None, setup.config.epochs)
            self.layer_builder.show_problem(str(exc))
            self.layer_stats.set_layers([])
            self._network = None
            metric = "r2" if setup.dataset.task == "regression" else "accuracy"  # as a trainer of the setup would say
            self._show_quantities(setup.config.loss or suggested_head(setup.dataset.task, setup.dataset.n_outputs)[1], metric)
            self._start_run(None, metric, 1)
            self._status_network.setText(f"Network: invalid · {BACKEND_TITLES[setup.backend]}")
            return
        self._show_run(trainer)

    def _show_run(self, trainer: Trainer, state: TrainerState | None = None, session: Session | None = None,
                  branch: tuple[Run, int] | None = None) -> None:
        """The panels and views show the run of ``trainer``, just loaded: a new run at epoch 0,
        ``session``'s current run at ``state``, or a branch (parent run, epoch) at ``state``."""
        network = trainer.network
        self.layer_builder.show_network(network)
        self.layer_stats.set_layers([layer.describe() for layer in network.layers])
        self.weights.set_layers(weight_layers(network))
        self._show_quantities(trainer.loss.name, trainer.metric_name)
        self.training_settings.set_training_size(trainer.train_size)
        count = len(network.layers)
        self._status_network.setText(f"{count} layer{'s' if count != 1 else ''}, {network.parameter_count:,} parameters · "
                                     f"{BACKEND_TITLES[self._setup.backend]}")
        self._network = network
        self._start_run(trainer, trainer.metric_name, trainer.batches_per_epoch, state=state, session=session, branch=branch)

    def _show_quantities(self, loss: str, metric: str) -> None:
        """The loss and metric plots (and the metric dock's title) name ``loss`` and ``metric``."""
        self.loss_plot.set_quantity(LOSS_TITLES[loss])
        self.metric_plot.set_quantity(metric)
        self.views.views["metric"].setWindowTitle("R²" if metric == "r2" else "Accuracy")

    def _start_run(self, trainer: Trainer | None, metric_name: str, batches: int, *, state: TrainerState | None = None,
                   session: Session | None = None, branch: tuple[Run, int] | None = None) -> None:
        """The history shows the run the trainer process now trains (see :meth:`_show_run`)."""
        if session is not None:
            self.history.show_session(session)
        if branch is not None:
            self.history.start_run(self.experiment().to_json(), metric_name, parent=branch[0], branch_epoch=branch[1])
        elif state is None:
            self.history.clear(metric_name, self.experiment().to_json() if trainer is not None else None)
        self._position = (state.epoch, state.cursor, batches) if state is not None else (0, 0, batches)
        self._throughput = None
        self._latest = self.history.last if state is not None else None
        self._checkpoint_floor = 1
        self._tell_checkpoint_interval()
        if trainer is not None and (state is None or state.cursor == 0) and self._position[0] not in self.history.current.checkpoints:
            self._request_state(self._keep_checkpoint)  # the run's first checkpoint: where it starts
        self.registry.new_run(self._setup.dataset)
        self._show_descent_path()
        self.statusBar().clearMessage()  # "Reached the epochs target" was about the run just discarded
        if self.banner.property("level") == "warning":
            self.banner.dismiss()
        self.run_controls.set_trainable(trainer is not None)
        self.run_controls.set_playing(False)
        self.scheduler.schedule()

    def confirm_discard(self, change: str) -> bool:
        """Before ``change`` (e.g. "Opening another file") replaces the session: True when there
        is nothing unsaved, or when the user saved it or chose to discard it
        (:meth:`ask_unsaved`). Tests may replace this method."""
        if not self.isWindowModified():
            return True
        answer = self.ask_unsaved(change)
        if answer == "save":
            return self._on_save()
        return answer == "discard"

    def ask_unsaved(self, change: str) -> str:
        """Ask what to do with the unsaved work before ``change``: "save", "discard" or "cancel".
        Tests may replace this method."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self, "Save the session?",
            f"{change} closes this session, which has unsaved changes (runs, settings).\nSave them first?",
            buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")

    def _edit(self, **changes: object) -> None:
        """A panel edit that needs a fresh run: commit ``changes`` to the setup, start a new run."""
        self._setup = self._setup.changed(**changes)
        self._mark_changed()
        self.reset()

    @Slot()
    def _on_dataset_changed(self) -> None:
        """New data in the Data tab. A built-in set is an edit like any other; data from a file
        (the Load data dialog) is applied as one transaction, or not at all. Either starts a
        new run; the old one stays in the session."""
        panel = self.dataset_panel
        architecture = self.layer_builder.architecture_for(panel.dataset)
        changes = {"dataset": panel.dataset, "source": panel.source, "architecture": architecture,
                   "config": dataclasses.replace(self._setup.config, loss=architecture[2])}
        if "path" not in panel.source:
            self.layer_builder.set_dataset(panel.dataset)
            self._edit(**changes)
            return
        setup = self._setup.changed(**changes)
        if self.apply_or_refuse("Could not use this data.", lambda: self._switch_to(setup)):
            self._mark_changed()
        else:
            self._show_dataset()

    @Slot(float)
    def _on_validation_changed(self, fraction: float) -> None:
        self._edit(config=dataclasses.replace(self._setup.config, val_fraction=fraction))

    @Slot()
    def _on_architecture_changed(self) -> None:
        architecture = self.layer_builder.architecture()
        self._edit(architecture=architecture, config=dataclasses.replace(self._setup.config, loss=architecture[2]))

    @Slot()
    def _on_settings_changed(self) -> None:
        config = dataclasses.replace(self._setup.config, **self.training_settings.values(), dtype=self.training_settings.dtype_name())
        self.dataset_panel.set_split_seed(config.seed)
        self._edit(config=config, backend=self.training_settings.backend_name())

    def _on_live_setting(self, name: str, value: float) -> None:
        """An optimizer setting that applies to the running training at its next mini-batch."""
        self._setup = dataclasses.replace(self._setup, config=dataclasses.replace(self._setup.config, **{name: value}))
        self.controller.set_setting(name, value)
        self._mark_changed()

    @Slot(int)
    def _on_target_changed(self, epochs: int) -> None:
        self._setup = dataclasses.replace(self._setup, config=dataclasses.replace(self._setup.config, epochs=epochs))
        self.controller.set_target(epochs)
        self._mark_changed()
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

    def _step(self, command: Callable[[], None]) -> None:
        """A step trains on from the present: the epoch cursor goes back there first."""
        self.loss_plot.move_cursor(None)
        command()

    # ----- looking back, and branching --------------------------------------------------------------
    @Slot(int)
    def _on_cursor_moved(self, epoch: int) -> None:
        """The epoch cursor shows checkpoint ``epoch`` (-1: the present): the views show it too."""
        if epoch < 0:
            self.controller.preview(None)
            self.statusBar().clearMessage()
            return
        state = self.history.current.checkpoints.get(epoch)
        if state is None:
            return
        self.controller.preview(state)
        self.statusBar().showMessage(f"Showing epoch {epoch} (a checkpoint): the views show the network as it was then. "
                                     "Training ▸ Continue from here starts a branch there; Play goes on from the present.")

    def _branch_epoch(self) -> int | None:
        """The checkpoint a branch starts from: the cursor's, else the latest of the current run."""
        epoch = self.loss_plot.cursor_epoch()
        if epoch is not None:
            return epoch
        latest = self.history.current.checkpoints.latest()
        return None if latest is None else latest.epoch

    @Slot()
    def _on_continue_here(self) -> None:
        epoch = self._branch_epoch()
        if epoch is None:
            self.statusBar().showMessage("No checkpoint to continue from yet: train an epoch first", 6000)
            return
        dialog = BranchDialog(self.history.current.name, epoch, self._setup.config, self)
        if dialog.exec() == BranchDialog.DialogCode.Accepted:
            self.continue_from(epoch, **dialog.changes())

    def continue_from(self, epoch: int, **changes: object) -> bool:
        """Start a branch: a new run from the current run's checkpoint at ``epoch``, trained with
        the settings ``changes`` (TrainingConfig fields: learning_rate, optimizer, l1, l2,
        batch_size, …); the run it comes from stays. False (the banner says why) when there is
        no checkpoint there or the settings cannot train."""
        parent = self.history.current
        state = parent.checkpoints.get(epoch)
        if state is None:
            self.refuse("Could not continue from here.", f"{parent.name} has no checkpoint at epoch {epoch}")
            return False

        def branch() -> None:
            setup = dataclasses.replace(self._setup, config=dataclasses.replace(self._setup.config, **changes))  # ConfigError
            self._switch_to(setup, state, branch=(parent, epoch))

        if not self.apply_or_refuse("Could not continue from here.", branch):
            return False
        self._mark_changed()
        self.statusBar().showMessage(f"{self.history.current.name}: a branch from epoch {epoch}; press Play", 8000)
        return True

    @Slot()
    def mark_epoch(self) -> None:
        """Keep the trainer's state at the end of the epoch it is at for good (a pinned checkpoint
        the budget never thins) and mark that epoch on the plots. In the middle of an epoch the
        status bar says to finish it first."""
        run = self.history.current
        epochs, batches, _ = self._position
        if batches:
            self.statusBar().showMessage(f"Epoch {epochs + 1} is not finished: step to its end (→), then mark it", 6000)
            return
        if run.checkpoints.pin(epochs):
            self._add_mark(run, epochs)
            return

        def keep(state: TrainerState | None) -> None:  # while playing, the epoch the trainer has reached by now
            if state is not None and state.cursor == 0 and run is self.history.current:
                run.checkpoints.add(state, pinned=True)
                self._add_mark(run, state.epoch)

        self._request_state(keep)

    def _add_mark(self, run: Run, epoch: int) -> None:
        run.markers.append(Marker(float(epoch), f"epoch {epoch} kept", "mark"))
        self.history.session.changed()
        self._mark_changed()
        self.scheduler.schedule()
        self.statusBar().showMessage(f"Kept the state after epoch {epoch}: the epoch cursor and Continue from here can go back to it", 6000)

    # ----- export ---------------------------------------------------------------------------------
    @Slot(object)
    def _on_epochs(self, reports: list[Report]) -> None:
        self.history.extend(reports)
        self._mark_changed()
        last = reports[-1]
        seconds = sum(r.seconds for r in reports)
        if seconds > 0:
            self._throughput = sum(r.samples_per_second * r.seconds for r in reports) / seconds
        self._position = (last.epoch, 0, last.batches)
        self._latest = last
        now = time.monotonic()
        elapsed, self._epochs_arrived = now - self._epochs_arrived, now
        if self.run_controls.playing:  # a step keeps its epoch, however fast it was
            self._checkpoint_floor = _power_of_two_above(CHECKPOINT_SECONDS * len(reports) / max(elapsed, 1e-3))
            self._tell_checkpoint_interval()
        self.scheduler.schedule()

    @Slot(object)
    def _on_partial(self, report: Report) -> None:
        self._mark_changed()
        self._position = (report.epoch - 1, report.batch, report.batches)
        self._latest = report
        self.scheduler.schedule()

    @Slot(object)
    def _on_diverged(self, report: Report) -> None:
        self._position = (report.epoch - 1, 0, report.batches)
        self.history.add_marker(Marker(report.epoch - 1 + report.batch / report.batches, "diverged", "diverged"))
        self._mark_changed()
        self.banner.show_message(
            f"<b>Training diverged and has paused.</b> {report.diverged[0].upper()}{report.diverged[1:]}.<br>"
            f"The weights are back where they were after epoch {report.epoch - 1}: change that, then press Play again.", "warning")
        self.scheduler.schedule()

    @Slot(bool, str)
    def _on_playing(self, playing: bool, reason: str) -> None:
        self.run_controls.set_playing(playing)
        self.loss_plot.set_cursor_enabled(not playing and self.run_controls.play_action.isEnabled())
        if playing:
            return
        self._checkpoint_floor = 1  # steps from here on keep every epoch
        self._tell_checkpoint_interval()
        if reason == "target":
            self.statusBar().showMessage(f"Reached the epochs target ({self._setup.config.epochs})", 8000)
        if reason:
            self.runStopped.emit(reason)

    @Slot(str, float, float)
    def _on_setting_applied(self, name: str, value: float, position: float) -> None:
        text = f"{SETTING_SYMBOLS.get(name, name)} = {value:g}"
        if position > 0:
            self.history.add_marker(Marker(position, text, "setting"))
            self._mark_changed()
            self.scheduler.schedule()
        self.statusBar().showMessage(f"{text} from the next mini-batch on", 4000)

    @Slot(int, str, object, float, float)
    def _on_parameter_edited(self, layer: int, name: str, index: tuple, value: float, position: float) -> None:
        """One weight or bias was set by hand (the trainer process says where, and the value it
        keeps). After some training it is a change of the run, marked on the plots; before any,
        it is the run's initial weights: its first checkpoint and the experiment's ``weights``."""
        text = edit_text(weight_number(self._network, layer), name, index, value)
        if position > 0:
            self.history.add_marker(Marker(position, text, "edit"))
        else:
            self._request_state(self._keep_initial_weights)
        self._mark_changed()
        self.scheduler.schedule()
        self.statusBar().showMessage(f"{text}: the views show the network with it", 4000)

    def _keep_initial_weights(self, state: TrainerState | None) -> None:
        """The state of a run edited before training: its epoch-0 checkpoint, and the weights a
        reset and the saved experiment start from."""
        if state is None or state.epoch or state.cursor or self._network is None:
            return
        self._keep_checkpoint(state)
        layers = network_with(self._network, state).parameters_by_layer()
        self._setup = dataclasses.replace(self._setup, weights=[{key: value.tolist() for key, value in layer.items()} for layer in layers])

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
        """Open ``path`` as one transaction: a session file (.epochlab: its runs, and training
        going on where it stopped) or an experiment file (.json: data, network, settings, and
        a new run). On failure explain why in the banner (and with ``fileProblem``) and keep
        the current experiment and its runs as they were."""
        path = Path(path)
        if not self.apply_or_refuse("Could not open the experiment.", lambda: self._open(path)):
            return False
        self.mark_clean(path)
        try:  # a lesson file is an experiment with the lesson's text
            self.guide.show_lesson(None if is_session_path(path) else lesson_in_file(path))
        except FileFormatError:
            self.guide.show_lesson(None)  # read a moment ago: it changed since
        self.statusBar().showMessage(f"Opened {path}", 6000)
        return True

    def _open(self, path: Path) -> dict:
        """Apply the file ``path`` (in a new session); every message names it. Returns what the
        file keeps of the window ({} for an experiment file)."""
        if not is_session_path(path):
            experiment = Experiment.load(path)  # its own messages name the file
            try:
                self.apply_experiment(experiment, path.parent, Session())
            except REFUSALS as exc:
                raise FileFormatError(f"{path}: {_message(exc)}") from exc
            return {}
        session_file = load_session(path)  # a damaged, truncated or newer file: FileFormatError naming it
        dataset = load_session_dataset(path, session_file)  # a data file moved away: FileFormatError naming both
        try:
            self.apply_session(session_file, dataset, path.parent)
        except REFUSALS as exc:
            raise FileFormatError(f"{path}: {_message(exc)}") from exc
        return session_file.window

    def save_session(self, path: str | Path) -> bool:
        """Write the whole session to the session file ``path`` (.epochlab): the experiment, every
        run, the trainer's full state (asked of the trainer process; training goes on) and the
        current weights. False (explained in the banner) when it could not be written."""
        path = Path(path)
        if self._network is None:
            self.refuse("Could not save the session.", "there is no network to save: fix the network settings first")
            return False
        snapshot = self._capture_now()
        if snapshot is None:
            self.refuse("Could not save the session.", "the trainer process did not send its state; try again")
            return False
        try:
            snapshot.write(path)
        except REFUSALS as exc:
            self.refuse("Could not save the session.", exc)
            return False
        self.mark_clean(path)
        self.statusBar().showMessage(f"Saved the session to {path}", 6000)
        self.sessionSaved.emit(str(path))
        return True

    def _window_state(self) -> dict:
        """What a session file keeps of the window besides the session: the backend, the loss
        plot's scale, the file the work belongs to (for a recovered autosave)."""
        return {"backend": self._setup.backend, "log_loss": self.actions["logLoss"].isChecked(),
                "file": str(self._file_path.absolute()) if self._file_path else None}

    def _snapshot(self, state: TrainerState | None) -> SessionSnapshot | None:
        """The session as it is now (GUI thread), with ``state``; None when there is no network to save."""
        if state is None or self._network is None:
            return None
        session_file = SessionFile(self.experiment(), snapshot_session(self.history.session), state, self._window_state(),
                                   data_fingerprint=self._data_fingerprint())
        return SessionSnapshot(session_file, network_with(self._network, state), self._data_folder)

    def _data_fingerprint(self) -> str:
        """The committed dataset's fingerprint (core.epochlab.dataset_fingerprint: 0.4 s for MNIST, so once)."""
        dataset = self._setup.dataset
        if self._fingerprint[0] is not dataset:
            self._fingerprint = (dataset, dataset_fingerprint(dataset))
        return self._fingerprint[1]

    def _capture_later(self, callback: Callable[[SessionSnapshot | None], None]) -> None:
        """Ask the trainer process for its state; ``callback(snapshot)`` once it is here (None
        when there is nothing to save, or no answer within STATE_WAIT_MS)."""
        done = []

        def answer(snapshot: SessionSnapshot | None) -> None:
            if not done:
                done.append(True)
                callback(snapshot)

        tag = self._request_state(lambda state: answer(self._snapshot(state)))
        QTimer.singleShot(STATE_WAIT_MS, self, lambda: self._state_waiters.pop(tag, None) and answer(None))

    def _capture_now(self) -> SessionSnapshot | None:
        """The session with the trainer's state, waiting for it here (events go on meanwhile)."""
        box: list[SessionSnapshot | None] = []
        loop = QEventLoop()
        self._capture_later(lambda snapshot: (box.append(snapshot), loop.quit()))
        if not box:
            loop.exec()
        return box[0]

    def trainer_state(self) -> TrainerState | None:
        """The trainer's full state now, waited for here (events go on meanwhile); None without
        a trainer or when the trainer process does not answer within STATE_WAIT_MS."""
        box: list[TrainerState | None] = []
        loop = QEventLoop()
        tag = self._request_state(lambda state: (box.append(state), loop.quit()))
        QTimer.singleShot(STATE_WAIT_MS, loop, loop.quit)
        if not box:
            loop.exec()
        self._state_waiters.pop(tag, None)
        return box[0] if box else None

    def _request_state(self, callback: Callable[[TrainerState | None], None]) -> str:
        """Ask the trainer process for its full state; ``callback(state)`` when it comes. Returns the request's tag."""
        tag = f"state{next(self._state_tags)}"
        self._state_waiters[tag] = callback
        self.controller.request_state(tag)
        return tag

    @Slot(str, object)
    def _on_state_ready(self, tag: str, state: TrainerState | None) -> None:
        waiter = self._state_waiters.pop(tag, None)
        if waiter is not None:
            waiter(state)

    def _keep_checkpoint(self, state: TrainerState | None) -> None:
        if state is not None and state.cursor == 0:
            self.history.current.checkpoints.add(state)
            self._show_descent_path()

    @Slot(object)
    def _on_checkpoints(self, states: list[TrainerState]) -> None:
        """Checkpoints of the current run, after the epochs they follow."""
        checkpoints = self.history.current.checkpoints
        for state in states:
            checkpoints.add(state)
        self._tell_checkpoint_interval()
        self._show_descent_path()

    def _show_descent_path(self) -> None:
        """The loss surface of a model with two parameters (w, b) draws the run's path through
        them: its checkpoints' weights, in order."""
        if self._network is not None and self._network.parameter_count == 2:
            self.registry.loss_surface.set_path(checkpoint_path(state for _, state in self.history.current.checkpoints.items()))

    def _tell_checkpoint_interval(self) -> None:
        """The trainer process sends the states the current run keeps: on its checkpoints'
        interval, and no more often than every CHECKPOINT_SECONDS of training (both powers of
        2, so every state sent is on the interval)."""
        interval = max(self.history.current.checkpoints.interval, self._checkpoint_floor)
        if interval != self._checkpoint_interval:
            self._checkpoint_interval = interval
            self.controller.set_checkpoint_interval(interval)

    # ----- unsaved changes ------------------------------------------------------------------------
    def _mark_changed(self) -> None:
        if not self.isWindowModified():
            self.setWindowModified(True)
        self.autosave.changed()

    def mark_clean(self, path: Path | None) -> None:
        """The work is what ``path`` holds (None: a new, unsaved experiment): no unsaved changes."""
        self._file_path = path
        self.setWindowTitle(f"{path.name if path else 'Untitled'}[*] — Epoch Lab")
        self.setWindowModified(False)
        self.autosave.clean()
        if path is not None:
            self.recent.add(path)

    def _on_new(self) -> None:
        if self.confirm_discard("A new experiment") and self.apply_or_refuse(
                "Could not start a new experiment.", lambda: self.apply_experiment(default_experiment(), session=Session())):
            self.mark_clean(None)
            self.guide.show_lesson(None)

    def open_example(self, key: str) -> bool:
        """Open the worked example ``key`` (core.presets) as a new, unsaved session, with its
        note in the banner and the inspector in front: its numbers are the course's."""
        example = preset(key)
        if not self.apply_or_refuse("Could not open the worked example.",
                                     lambda: self.apply_experiment(example.experiment, session=Session())):
            return False
        self.mark_clean(None)
        self.guide.show_lesson(None)
        self._example = example
        self.banner.show_message(f"<b>{html.escape(example.title)}.</b> {html.escape(example.summary)}. Step one mini-batch "
                                 "(Shift+→): the Inspector shows every number. <a href=\"example\">Read the whole example…</a>",
                                 "info")
        self.registry.show_view("inspector")
        return True

    def _on_banner_link(self, link: str) -> None:
        if link == "example" and self._example is not None:
            box = QMessageBox(QMessageBox.Icon.Information, self._example.title, self._example.note, parent=self)
            box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            box.open()

    def _on_example(self, key: str) -> None:
        if self.confirm_discard("Opening a worked example"):
            self.open_example(key)

    def _on_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open", str(self.experiment_dir()), OPEN_FILTER)
        if path and self.confirm_discard("Opening another file"):
            self.open_experiment(path)

    def _open_recent(self, path: Path) -> None:
        if not path.is_file():
            self.recent.remove(path)
            self.refuse("Could not open the recent file.", f"{path} is not there any more; it is off the list now")
            return
        if self.confirm_discard("Opening another file"):
            self.open_experiment(path)

    def _on_revert(self) -> None:
        if self._file_path is None:
            self.statusBar().showMessage("Nothing to revert to: this session has not been saved yet", 6000)
            return
        if self.confirm_discard(f"Reverting to {self._file_path.name}"):
            self.open_experiment(self._file_path)

    @Slot()
    def _on_save(self) -> bool:
        """Save to the session file the work came from; Save As when there is none (or it is a .json)."""
        if self._file_path is not None and is_session_path(self._file_path):
            return self.save_session(self._file_path)
        return self._on_save_as()

    @Slot()
    def _on_save_as(self) -> bool:
        stem = self._file_path.stem if self._file_path else self._setup.dataset.name
        path, _ = QFileDialog.getSaveFileName(self, "Save session", str(self.experiment_dir() / f"{stem}{SUFFIX}"), SESSION_FILTER)
        if not path:
            return False
        if not is_session_path(path):
            path += SUFFIX
        return self.save_session(path)

    def _on_save_model(self) -> None:
        default = self.experiment_dir() / f"{self._setup.dataset.name}-model.npz"
        path, _ = QFileDialog.getSaveFileName(self, "Save model", str(default), MODEL_FILTER)
        if path:
            self.controller.save_model(path)

    def experiment_dir(self) -> Path:
        return self._file_path.parent if self._file_path else Path.cwd()

    # ----- recovery -------------------------------------------------------------------------------
    def _offer_recovery(self) -> None:
        """At start: an autosave a crash or a kill left behind? Recover, discard or keep it for later."""
        found = autosave.orphans(self.autosave.folder)
        if not found:
            return
        path = found[0]
        answer = self.confirm_recover(path)
        if answer == "recover":
            self.recover(path)
        elif answer == "discard":
            path.unlink(missing_ok=True)

    def confirm_recover(self, path: Path) -> str:
        """"recover", "discard" or "later" for the autosave ``path``: the answer in the environment
        variable RECOVER_VARIABLE when it holds one, else the user's. Tests may replace this method."""
        preset = os.environ.get(RECOVER_VARIABLE, "").strip().lower()
        if preset in RECOVER_ANSWERS:
            return preset
        box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work?",
                          "Epoch Lab did not close properly last time. Its work was autosaved "
                          f"{_age(path)}.\nRecover it now, discard it, or decide later (at the next start)?", parent=self)
        recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(recover)
        box.exec()
        return {recover: "recover", discard: "discard"}.get(box.clickedButton(), "later")

    def recover(self, path: Path) -> bool:
        """Open the autosave ``path`` as unsaved work (of the file it came from, if any), then remove it."""
        window: list[dict] = []
        if not self.apply_or_refuse("Could not recover the autosaved session.", lambda: window.append(self._open(path))):
            return False
        original = window[0].get("file")
        self.mark_clean(Path(original) if isinstance(original, str) else None)
        path.unlink(missing_ok=True)
        self._mark_changed()
        self.statusBar().showMessage("Recovered the autosaved session: save it to keep it", 8000)
        return True

    # ----- help -----------------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
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
        """The first time the window shows, share the view area out (sizes mean nothing before)
        and offer to recover an autosave left by a crash."""
        super().showEvent(event)
        if self._fit_views_on_show:
            self._fit_views_on_show = False
            QTimer.singleShot(0, self.registry.fit_sizes)
        if self._offer_recovery_on_show:
            self._offer_recovery_on_show = False
            QTimer.singleShot(0, self._offer_recovery)
            if self.presentation.remembered():  # as it was left
                QTimer.singleShot(0, lambda: self.actions["presentation"].setChecked(True))

    @Slot()
    def _on_quit(self) -> None:
        """File ▸ Quit: ask about unsaved work, then close."""
        if self.confirm_discard("Quitting"):
            self._close_confirmed = True
            self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closed by the user (the title bar's button) with unsaved work: ask first. Then stop
        training and join the trainer thread before the window goes. The autosave goes too,
        unless the window closed with unsaved work it was not asked about (a signal, a script)."""
        if event.spontaneous() and not self._close_confirmed:
            if not self.confirm_discard("Closing the window"):
                event.ignore()
                return
            self._close_confirmed = True
        self.autosave.stop(remove=self._close_confirmed or not self.isWindowModified())
        self.scheduler.stop()
        QCoreApplication.instance().removeEventFilter(self._keys)
        self.registry.save_layout(layout_settings())
        self.controller.shutdown()
        super().closeEvent(event)

