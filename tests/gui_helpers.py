"""Helpers shared by the GUI tests: find a named child, click, choose a combo item."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

WAIT_MS = 10_000


def child(win, kind, name):
    widget = win.findChild(kind, name)
    assert widget is not None, f"no {kind.__name__} named {name}"
    return widget


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def choose(combo: QComboBox, data) -> None:
    """Pick the item whose data is ``data`` as a user would (``activated`` included)."""
    index = combo.findData(data)
    assert index >= 0
    combo.setCurrentIndex(index)
    combo.activated.emit(index)
