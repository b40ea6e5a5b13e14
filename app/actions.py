"""Every command of the window in one table: its menu, text, shortcut and tooltip.

:class:`Actions` makes one ``QAction`` per :class:`Command`; the menus, the run toolbar and
the Help → Keyboard shortcuts table are all built from it, so a shortcut is bound once
(a test checks that no two commands share one). The window connects each action to its slot.
A command with ``submenu`` set opens a submenu (``Actions.submenus[name]``): the commands
whose ``menu`` is its name go there (File ▸ Export ▸ …), or the window fills it (File ▸
Open Recent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QWidget

StandardKey = QKeySequence.StandardKey


@dataclass(frozen=True)
class Command:
    """One command: ``name`` is the action's key (and objectName ``{name}Action``)."""

    name: str
    menu: str  # "File", "Training", "View" or "Help", or the name of a submenu command ("export")
    text: str  # with an & before the mnemonic letter
    shortcut: str | StandardKey | None
    tip: str
    checkable: bool = False
    separator_before: bool = False
    submenu: bool = False


COMMANDS = (
    Command("new", "File", "&New experiment", StandardKey.New, "Start again from the default experiment"),
    Command("open", "File", "&Open…", StandardKey.Open,
            "Open an experiment file: a session (.epochlab) with its runs and weights, or an experiment (.json)"),
    Command("openRecent", "File", "Open &Recent", None, "Open one of the files opened or saved last", submenu=True),
    Command("examples", "File", "&Worked examples", None,
            "The course's worked examples, ready to step: the numbers you compute by hand, on a network in the window",
            submenu=True),
    Command("save", "File", "&Save", "Ctrl+S",
            "Save the session to its file: data, network, settings, every run and the training state (.epochlab)",
            separator_before=True),
    Command("saveAs", "File", "Save &As…", "Ctrl+Shift+S", "Save the session to another .epochlab file"),
    Command("revert", "File", "Re&vert", None, "Go back to the file as it was last saved"),
    Command("saveModel", "File", "Save &model…", "Ctrl+Alt+S", "Save the trained network's weights (.npz)"),
    Command("export", "File", "&Export", None, "Take the runs, plots, model or training elsewhere", submenu=True),
    Command("exportHistory", "export", "&History of every run (CSV)…", None, "Every epoch of every run of the session as a CSV table"),
    Command("exportPlot", "export", "&Plot (PNG or SVG)", None, "Any plot of the window as an image or a drawing", submenu=True),
    Command("exportModel", "export", "M&odel (.npz)…", None, "The trained network's weights, as Save model writes them"),
    Command("exportScript", "export", "&NumPy script…", None,
            "A standalone Python script that rebuilds the network and reproduces this run's training", separator_before=True),
    Command("exportNotebook", "export", "Jupyter no&tebook…", None, "The same training as a notebook that explains each step"),
    Command("exportTorch", "export", "&PyTorch script…", None, "The same network, weights and training in PyTorch"),
    Command("exportOnnx", "export", "ONNX mo&del…", None,
            "The trained network with its standardization, for inference wherever ONNX runs (needs the onnx extra)"),
    Command("loadData", "File", "&Load data file…", "Ctrl+L", "Load a CSV/TSV table, an .npz file, MNIST IDX files or a folder of images",
            separator_before=True),
    Command("quit", "File", "&Quit", "Ctrl+Q", "Close Epoch Lab", separator_before=True),
    Command("play", "Training", "Play", "Space", "Start or pause training (Space)"),
    Command("stepEpoch", "Training", "Step epoch", "Right", "Train exactly one more epoch (→)"),
    Command("stepBatch", "Training", "Step batch", "Shift+Right", "Train on one more mini-batch (Shift+→)"),
    Command("reset", "Training", "Reset", "Ctrl+R", "Start again from the initial weights: the experiment's own, or those of this seed (Ctrl+R)", separator_before=True),
    Command("continueHere", "Training", "&Continue from here…", "Ctrl+B",
            "Start a new run (a branch) from the checkpoint at the epoch cursor, optionally with other settings"),
    Command("markEpoch", "Training", "&Mark this epoch", "Ctrl+M",
            "Keep the trainer's state at this epoch for good (never thinned) and mark it on the plots"),
    Command("logLoss", "View", "&Log-scale loss", "Ctrl+Shift+L", "Show the loss on a logarithmic axis", checkable=True),
    Command("focusPlots", "View", "&Focus the plots", "Escape", "Leave the field being edited: Space and → train again"),
    Command("resetLayout", "View", "&Reset layout", None, "Put every view back where it was when Epoch Lab was installed"),
    Command("presentation", "View", "&Presentation mode", "F11",
            "For a projector: full screen, large text, thick lines, the Experiment panel hidden, slow motion (F11 again to leave)",
            checkable=True, separator_before=True),
    Command("conceptHelp", "Help", "&Help for this control", StandardKey.HelpContents,
            "What the focused control means: formula, plot, when to use it, pitfalls (elsewhere: the keyboard shortcuts)"),
    Command("concepts", "Help", "&Concepts", None,
            "Every activation, loss, optimizer, initializer, regulariser and training setting, explained", submenu=True),
    Command("shortcuts", "Help", "&Keyboard shortcuts", None, "List the keyboard shortcuts", separator_before=True),
    Command("about", "Help", "&About Epoch Lab", None, "Versions and what Epoch Lab is"),
)
MENUS = ("File", "Training", "View", "Lessons", "Help")  # Lessons: filled by the window from the lesson files


class Actions:
    """The window's QActions, one per entry of ``COMMANDS``; ``actions["play"]`` is one."""

    def __init__(self, parent: QWidget):
        self.commands = {command.name: command for command in COMMANDS}
        self._actions: dict[str, QAction] = {}
        self.submenus: dict[str, QMenu] = {}
        for command in COMMANDS:
            if command.submenu:
                continue  # a QMenu, made with the menus
            action = QAction(command.text, parent)
            action.setObjectName(f"{command.name}Action")
            action.setToolTip(command.tip)
            action.setStatusTip(command.tip)
            action.setCheckable(command.checkable)
            if command.shortcut is not None:
                action.setShortcut(QKeySequence(command.shortcut))
            parent.addAction(action)  # shortcuts work while the menus are closed
            self._actions[command.name] = action

    def __getitem__(self, name: str) -> QAction:
        return self._actions[name]

    def connect(self, slots: dict[str, Callable]) -> None:
        """Connect ``triggered`` (or ``toggled`` for checkable commands) of each named action."""
        for name, slot in slots.items():
            action = self._actions[name]
            (action.toggled if action.isCheckable() else action.triggered).connect(slot)

    def build_menus(self, bar: QMenuBar, extras: dict[str, list[QAction]] | None = None) -> dict[str, QMenu]:
        """The menu bar from ``COMMANDS`` in order; ``extras`` adds actions (e.g. dock toggles)
        at the top of a menu, then a separator."""
        menus = {title: bar.addMenu(f"&{title}") for title in MENUS}
        for title, actions in (extras or {}).items():
            menus[title].addActions(actions)
            menus[title].addSeparator()
        for command in COMMANDS:
            menu = menus[command.menu]
            if command.separator_before and not menu.isEmpty():
                menu.addSeparator()
            if command.submenu:
                submenu = menu.addMenu(command.text)
                submenu.setObjectName(f"{command.name}Menu")
                submenu.setToolTip(command.tip)
                self.submenus[command.name] = menus[command.name] = submenu
            else:
                menu.addAction(self._actions[command.name])
        return menus

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(keys as the user's platform writes them, what they do) for every command with a shortcut."""
        return [(self._actions[c.name].shortcut().toString(QKeySequence.SequenceFormat.NativeText), c.text.replace("&", "").rstrip("…"))
                for c in COMMANDS if c.shortcut is not None]
