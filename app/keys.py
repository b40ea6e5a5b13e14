"""Training shortcuts that work from anywhere except where the focused widget needs the key.

Space (Play/Pause), → (step an epoch) and Shift+→ (step a mini-batch) are window-wide
shortcuts. Qt asks the focused widget first (a ``ShortcutOverride`` event); many widgets
do not claim these keys, so without this filter Space on a focused checkbox or combo box
would start training instead of toggling it. :class:`KeysForFocusedWidget` claims a key
for the focused widget exactly when that widget uses it: Space for buttons, check boxes,
combo boxes, text fields and tables; the arrows for text and number fields (the cursor),
tables, sliders and tab bars. A number box does not use Space, so Space plays even while
the learning rate is being edited. Escape (the window's "Focus the plots") leaves any field.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
)

TEXT_FIELDS = (QLineEdit, QTextEdit, QPlainTextEdit)
USES_SPACE = (QAbstractButton, QComboBox, QAbstractItemView, *TEXT_FIELDS)
USES_ARROWS = (QAbstractSpinBox, QAbstractItemView, QAbstractSlider, QTabBar, *TEXT_FIELDS)
TRAINING_KEYS = {Qt.Key.Key_Space: USES_SPACE, Qt.Key.Key_Right: USES_ARROWS}


def widget_uses_key(widget: QObject, event: QKeyEvent) -> bool:
    """Whether ``widget`` (the focused one) needs the training key of ``event`` itself."""
    kinds = TRAINING_KEYS[Qt.Key(event.key())]
    if isinstance(widget, QLineEdit) and isinstance(widget.parent(), QAbstractSpinBox):
        widget = widget.parent()  # a number box's own text field speaks for the box
    if isinstance(widget, QAbstractSpinBox) and event.key() == Qt.Key.Key_Space:
        return False
    return isinstance(widget, kinds)


def is_training_key(event: QKeyEvent) -> bool:
    modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return event.key() in TRAINING_KEYS and modifiers in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier)


class KeysForFocusedWidget(QObject):
    """An application event filter that decides, for Space and →, between the focused widget
    and the window's shortcut: the widget when it uses the key, the shortcut otherwise (a
    number box would otherwise claim Space as text)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.ShortcutOverride or not is_training_key(event):
            return False
        event.setAccepted(widget_uses_key(watched, event))  # accepted: the widget gets the key press
        return True
