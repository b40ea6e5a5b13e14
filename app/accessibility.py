"""Names and tooltips for the controls a user drives.

Every interactive control gets an accessible name (what a screen reader announces, short)
and a tooltip (what it does). :func:`describe` sets both; :func:`undescribed_controls`
lists the controls under a widget that lack either (tests walk panels with it).
"""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QSlider, QTableView, QWidget

CONTROL_TYPES = (QAbstractButton, QComboBox, QAbstractSpinBox, QLineEdit, QTableView, QSlider)


def describe(widget: QWidget, name: str, tip: str) -> None:
    """Give ``widget`` its accessible ``name`` and its tooltip ``tip``."""
    widget.setAccessibleName(name)
    widget.setToolTip(tip)


QT_PARTS = ("ScrollLeftButton", "ScrollRightButton")  # a tab bar's scroll buttons (Qt's own, like the "qt_…" ones)


def _is_inner_part(widget: QWidget) -> bool:
    """Whether ``widget`` is a piece of another control that the control itself describes (a
    spin box's or a combo box's line edit, a table's corner button) or one of Qt's own parts
    (a dock's float and close buttons, a tab bar's scroll buttons, a toolbar's overflow)."""
    parent = widget.parentWidget()
    name = widget.objectName()
    return (isinstance(parent, (QAbstractSpinBox, QComboBox)) or (isinstance(parent, QTableView) and isinstance(widget, QAbstractButton))
            or name.startswith("qt_") or name in QT_PARTS)


def undescribed_controls(root: QWidget) -> list[str]:
    """The interactive controls under ``root`` (and ``root`` itself) without a tooltip or an
    accessible name, each as "Class 'objectName' (text)"."""
    widgets = [root, *root.findChildren(QWidget)]
    missing = []
    for widget in widgets:
        if not isinstance(widget, CONTROL_TYPES) or _is_inner_part(widget):
            continue
        if not widget.toolTip().strip() or not widget.accessibleName().strip():
            text = widget.text() if isinstance(widget, (QAbstractButton, QLineEdit)) else ""
            missing.append(f"{type(widget).__name__} {widget.objectName()!r} ({text})")
    return missing
