"""Engineered inputs for 2-D data: one check box per extra input column (core.features).

:class:`FeatureToggles` shows a box for each of x1², x2², x1·x2, sin x1 and sin x2. Ticking
or unticking one emits :attr:`FeatureToggles.changed` with the names ticked (canonical order,
as an experiment's ``dataset.engineered`` lists them); the window turns that into a new
dataset source. For data that is not 2-D the boxes are disabled and say why.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QGridLayout, QWidget

from core.features import ENGINEERED, canonical

from .accessibility import describe

TIPS = {  # name → what the column adds, for the tooltip
    "x1^2": "x1 squared: with x2² a network without a hidden layer can draw a circle or an ellipse",
    "x2^2": "x2 squared: with x1² a network without a hidden layer can draw a circle or an ellipse",
    "x1*x2": "the product x1·x2: positive in two opposite quadrants, so one unit can separate XOR",
    "sin_x1": "the sine of x1: a wave along x1, for stripes and repeating patterns",
    "sin_x2": "the sine of x2: a wave along x2, for stripes and repeating patterns",
}
COLUMNS = 3  # boxes per row: the products x1², x2², x1·x2 above, the sines below (narrow enough for the Data tab)
UNAVAILABLE_TIP = "Engineered inputs are computed from x1 and x2: they need data of exactly two features"


class FeatureToggles(QWidget):
    """Check boxes, one per engineered input of core.features.ENGINEERED, COLUMNS to a row.

    Signals:
        changed(list): the names ticked (canonical order), after the user ticks or unticks one.
    """

    changed = Signal(list)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.boxes: dict[str, QCheckBox] = {}
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for i, (name, (title, _)) in enumerate(ENGINEERED.items()):
            box = QCheckBox(title)
            box.setObjectName(f"engineered_{name.replace('^2', '_squared').replace('*', '_times_')}")
            box.toggled.connect(self._on_toggled)
            layout.addWidget(box, i // COLUMNS, i % COLUMNS)
            self.boxes[name] = box
        layout.setColumnStretch(COLUMNS, 1)
        self.set_available(True)

    def set_available(self, available: bool, reason: str = UNAVAILABLE_TIP) -> None:
        """Enable the boxes (2-D data), or disable them with ``reason`` as their tooltip."""
        for name, box in self.boxes.items():
            box.setEnabled(available)
            title = ENGINEERED[name][0]
            describe(box, f"Engineered input {title}", f"Add {title} as an input: {TIPS[name]}" if available else reason)

    def set_selected(self, names: list[str]) -> None:
        """Tick exactly ``names`` (core.features names, any order) without emitting :attr:`changed`."""
        chosen = canonical(names)
        for name, box in self.boxes.items():
            box.blockSignals(True)
            box.setChecked(name in chosen)
            box.blockSignals(False)

    def selected(self) -> list[str]:
        """The names ticked, in canonical order."""
        return [name for name, box in self.boxes.items() if box.isChecked()]

    def _on_toggled(self) -> None:
        self.changed.emit(self.selected())
