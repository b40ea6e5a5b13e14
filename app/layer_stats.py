"""The Layers view: per-layer weight norm ‖W‖, gradient norm ‖dW‖ and dead ReLU units.

It shows the ``LayerStats`` of the latest report, so vanishing or exploding gradients and
dying ReLUs are visible while training runs.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from core.trainer import Report

HEADERS = ("Layer", "‖W‖", "‖dW‖", "Dead")
TIPS = ("", "Frobenius norm of the weight matrix W[l]", "Frobenius norm of the gradient dW[l] of the last mini-batch",
        "Share of ReLU units that output 0 for every probe sample: they no longer learn")


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


class LayerStatsView(QTableWidget):
    """One row per layer; :meth:`show_report` fills the numbers."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, len(HEADERS), parent)
        self.setObjectName("layerStatsTable")
        self.setHorizontalHeaderLabels(HEADERS)
        for column, tip in enumerate(TIPS):
            self.horizontalHeaderItem(column).setToolTip(tip)
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setMinimumSectionSize(70)
        self._shown: Report | None = None

    def set_layers(self, labels: list[str]) -> None:
        """A new network: one row per layer label, no numbers yet."""
        self._shown = None
        self.setRowCount(len(labels))
        for row, label in enumerate(labels):
            self._set(row, 0, f"{row + 1}. {label}")
            for column in range(1, len(HEADERS)):
                self._set(row, column, "—")

    def show_report(self, report: Report | None) -> None:
        """Show ``report``'s layer statistics (nothing to do if already shown)."""
        if report is None or report is self._shown:
            return
        self._shown = report
        for stats in report.layers:
            row = stats.index - 1
            dead = "—" if stats.dead_fraction is None else f"{stats.dead_fraction:.0%}"
            for column, text in ((1, _number(stats.weight_norm)), (2, _number(stats.grad_norm)), (3, dead)):
                self._set(row, column, text)

    def _set(self, row: int, column: int, text: str) -> None:
        item = self.item(row, column)
        if item is None:
            item = QTableWidgetItem()
            if column:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(row, column, item)
        item.setText(text)
