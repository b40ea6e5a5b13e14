"""A small inline editor for one weight or bias, placed over a plot where it was clicked.

It shows the parameter in the course's notation and its value ("W[2]₁₃ = 0.4312"), takes
only numbers (a C-locale :class:`QDoubleValidator`, scientific notation allowed), applies
on Enter (``accepted(value)``) and closes without a change on Escape, on losing the focus,
or on Enter with the text unchanged. The network graph and the weight heatmap use it.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QLocale, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QWidget

EDITOR_MIN_CHARS = 14  # the value field shows at least this many characters


def value_text(value: float | np.floating) -> str:
    """The fewest digits that give ``value`` back: a float32 as float32 (0.4312, not
    0.43119999766…), which a float64 copy of a float32 number is recognised as."""
    if isinstance(value, np.float32) or (math.isfinite(value) and float(np.float32(value)) == float(value)):
        return str(np.float32(value))
    return repr(float(value))


class ParameterEditor(QFrame):
    """The editor, a child of the widget it floats over; :meth:`open_at` shows it."""

    accepted = Signal(float)  # the value typed, on Enter

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("parameterEditor")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.label = QLabel()
        self.label.setObjectName("parameterEditorLabel")
        self.field = QLineEdit()
        self.field.setObjectName("parameterEditorField")
        self.field.setAccessibleName("New value of the parameter")
        self.field.setToolTip("Type a number and press Enter to set it; Escape leaves it as it is")
        validator = QDoubleValidator(self.field)
        validator.setLocale(QLocale.c())
        validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
        self.field.setValidator(validator)
        self.field.setMinimumWidth(self.field.fontMetrics().horizontalAdvance("0" * EDITOR_MIN_CHARS))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(4)
        layout.addWidget(self.label)
        layout.addWidget(self.field)
        self.field.returnPressed.connect(self._apply)
        self.field.installEventFilter(self)
        self._shown_text = ""
        self.hide()

    def open_at(self, position: QPoint, name: str, value: float) -> None:
        """Show the editor for the parameter ``name`` (e.g. "W[2]₁₃") whose value is ``value``,
        its top left at ``position`` (in the parent's pixels) moved inside the parent."""
        self._shown_text = value_text(value)
        self.label.setText(f"{name} =")
        self.field.setText(self._shown_text)
        self.adjustSize()
        parent = self.parentWidget()
        x = min(max(position.x(), 0), max(parent.width() - self.width(), 0))
        y = min(max(position.y(), 0), max(parent.height() - self.height(), 0))
        self.move(x, y)
        self.show()
        self.raise_()
        self.field.setFocus(Qt.FocusReason.MouseFocusReason)
        self.field.selectAll()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.field and event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape:
            self.hide()
            return True
        if watched is self.field and event.type() == QEvent.Type.FocusOut and self.isVisible():
            self.hide()
        return super().eventFilter(watched, event)

    def _apply(self) -> None:
        """Enter with a number (the validator lets only numbers through): emit it, unless unchanged."""
        text = self.field.text().strip()
        self.hide()
        if text == self._shown_text:
            return
        value = float(text)
        if math.isfinite(value):
            self.accepted.emit(value)
