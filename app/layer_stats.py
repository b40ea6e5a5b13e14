"""The Layers view: per-layer weight norm ‖W‖, gradient norm ‖dW‖ and dead ReLU units.

It shows the ``LayerStats`` of the latest report, so vanishing or exploding gradients and
dying ReLUs are visible while training runs.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QTableWidget, QTableWidgetItem, QWidget

from core.trainer import Report

HEADERS = ("Layer", "‖W‖", "‖dW‖", "Dead")
TIPS = ("The layer, from the input to the output", "Frobenius norm of the weight matrix W[l]",
        "Frobenius norm of the gradient dW[l] of the last mini-batch",
        "Share of ReLU units that output 0 for every probe sample: they no longer learn")
WIDEST = ("", "888.8e-308", "888.8e-308", "100%")  # the widest text each number column shows (norms are ≥ 0)
SIGNIFICANT = 4
PLAIN_RANGE = (1e-3, 1e4)  # magnitudes written without an exponent


def compact_number(value: float | None) -> str:
    """``value`` to 4 significant digits (≥ 0: at most 10 characters): plain between 0.001 and
    9999 ("0.001547", "12.35", "1234"), else in engineering notation, the exponent a
    multiple of 3 ("15.47e-6", "12.35e3"); None as "—"."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return f"{value:g}"
    digits, exponent = f"{value:.{SIGNIFICANT - 1}e}".split("e")  # "1.547", "-05"
    rounded = float(f"{digits}e{exponent}")
    if rounded == 0 or PLAIN_RANGE[0] <= abs(rounded) < PLAIN_RANGE[1]:
        return f"{rounded:.{SIGNIFICANT}g}"
    shift = int(exponent) % 3
    return f"{float(digits) * 10**shift:.{SIGNIFICANT}g}e{int(exponent) - shift}"


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
        self.setAccessibleName("Layer statistics")
        self.setToolTip("Per layer: the norms of its weights W and of their gradient dW, and its dead ReLU units")
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # the layer column fits its labels (set_layers)
        header.setStretchLastSection(True)
        self._fit_columns()
        self._shown: Report | None = None

    def changeEvent(self, event: QEvent) -> None:
        """A new font or style: the number columns keep fitting their widest text."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_columns()

    def _fit_columns(self) -> None:
        """Make each number column as wide as its widest possible text (or its header)."""
        metrics = self.fontMetrics()
        header_metrics = self.horizontalHeader().fontMetrics()
        margin = 2 * (self.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self) + 1)  # as Qt draws items
        padding = margin + metrics.averageCharWidth()
        widths = [max(metrics.horizontalAdvance(WIDEST[c]), header_metrics.horizontalAdvance(HEADERS[c])) + padding
                  for c in range(len(HEADERS))]
        self.horizontalHeader().setMinimumSectionSize(widths[-1])  # the last column stretches, never below its text
        for column in range(1, len(HEADERS)):
            self.setColumnWidth(column, widths[column])

    def set_layers(self, labels: list[str]) -> None:
        """A new network: one row per layer label, no numbers yet."""
        self._shown = None
        self.setRowCount(len(labels))
        for row, label in enumerate(labels):
            self._set(row, 0, f"{row + 1}. {label}")
            self.item(row, 0).setToolTip(f"Layer {row + 1}: {label}")
            for column in range(1, len(HEADERS)):
                self._set(row, column, "—")
        self.resizeColumnToContents(0)

    def show_report(self, report: Report | None) -> None:
        """Show ``report``'s layer statistics (nothing to do if already shown)."""
        if report is None or report is self._shown:
            return
        self._shown = report
        for stats in report.layers:
            row = stats.index - 1
            dead = "—" if stats.dead_fraction is None else f"{stats.dead_fraction:.0%}"
            for column, text in ((1, compact_number(stats.weight_norm)), (2, compact_number(stats.grad_norm)), (3, dead)):
                self._set(row, column, text)

    def _set(self, row: int, column: int, text: str) -> None:
        item = self.item(row, column)
        if item is None:
            item = QTableWidgetItem()
            if column:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(row, column, item)
        item.setText(text)
