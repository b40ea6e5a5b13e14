"""Every command of the window in one table: its menu, text, shortcut and tooltip.

:class:`Actions` makes one ``QAction`` per :class:`Command`; the menus, the run toolbar and
the Help → Keyboard shortcuts table are all built from it, so a shortcut is bound once
(a test checks that no two commands share one). The window connects each action to its slot.
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
    menu: str  # "File", "Training", "View" or "Help"
    text: str  # with an & before the mnemonic letter
    shortcut: str | StandardKey | None
    tip: str
    checkable: bool = False
    separator_before: bool = False


COMMANDS = (
    Command("new", "File", "&New experiment", StandardKey.New, "Start again from the default experiment"),
    Command("open", "File", "&Open experiment…", StandardKey.Open, "Open an experiment file (data, network and settings)"),
    Command("save", "File", "&Save experiment…", StandardKey.Save, "Save the data choice, the network and the settings to a file"),
    Command("saveModel", "File", "Save &model…", "Ctrl+Shift+S", "Save the trained network's weights (.npz)"),
    Command("loadData", "File", "&Load data file…", "Ctrl+L", "Load a CSV/TSV table, an .npz file, MNIST IDX files or a folder of images",
            separator_before=True),
    Command("quit", "File", "&Quit", "Ctrl+Q", "Close Epoch Lab", separator_before=True),
    Command("play", "Training", "Play", "Space", "Start or pause training (Space)"),
    Command("stepEpoch", "Training", "Step epoch", "Right", "Train exactly one more epoch (→)"),
    Command("stepBatch", "Training", "Step batch", "Shift+Right", "Train on one more mini-batch (Shift+→)"),
    Command("reset", "Training", "Reset", "Ctrl+R", "Start again from the initial weights of this seed (Ctrl+R)", separator_before=True),
    Command("logLoss", "View", "&Log-scale loss", "Ctrl+Shift+L", "Show the loss on a logarithmic axis", checkable=True),
    Command("focusPlots", "View", "&Focus the plots", "Escape", "Leave the field being edited: Space and → train again"),
    Command("resetLayout", "View", "&Reset layout", None, "Put every view back where it was when Epoch Lab was installed"),
    Command("shortcuts", "Help", "&Keyboard shortcuts", StandardKey.HelpContents, "List the keyboard shortcuts"),
    Command("about", "Help", "&About Epoch Lab", None, "Versions and what Epoch Lab is"),
)
MENUS = ("File", "Training", "View", "Help")


class Actions:
    """The window's QActions, one per entry of ``COMMANDS``; ``actions["play"]`` is one."""

    def __init__(self, parent: QWidget):
        self.commands = {command.name: command for command in COMMANDS}
        self._actions: dict[str, QAction] = {}
        for command in COMMANDS:
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
            menu.addAction(self._actions[command.name])
        return menus

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(keys as the user's platform writes them, what they do) for every command with a shortcut."""
        return [(self._actions[c.name].shortcut().toString(QKeySequence.SequenceFormat.NativeText), c.text.replace("&", "").rstrip("…"))
                for c in COMMANDS if c.shortcut is not None]
