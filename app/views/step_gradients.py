"""Gradient through time: ‖∂L/∂h_t‖ against the time step t for every recurrent layer, on a log
axis, from the "stepGradients" probe (:func:`core.sequence_insight.step_gradient_data`): the
norms of the last mini-batch trained, which backpropagation through time carries from the
output back to step 1.

A curve that falls steeply to the left is a vanishing gradient: the first steps barely change
the weights (a SimpleRNN on the adding problem); an LSTM's stays flatter. Each layer's curve of
the first result with norms in this run (the first the probe found after the recording began:
epoch 1 when stepping, a later one at full speed) stays behind, faint and dashed, to compare
with; the legend names its epoch. The readout gives ‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ of each layer in a
word ("0.32 shrinks"), short enough for a narrow dock; its tooltip says it in full, a line a layer.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from core.sequence_insight import StepGradientData, vanishing_short, vanishing_text

from ..style import CLASS_COLORS
from .common import ViewPanel, plot_item

FIRST_ALPHA = 90  # of 255: the first result's curves, faint
READOUT_TIP = "How much of the gradient at the last step still reaches the first one"


def positive(values: np.ndarray) -> np.ndarray:
    """``values`` with zeros and non-finite numbers as NaN (a gap on a log axis)."""
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


class StepGradientsView(ViewPanel):
    """‖∂L/∂h_t‖ over t, one curve per recurrent layer (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("stepGradients", parent)
        self.readout.setToolTip(READOUT_TIP)
        self.finish_header()
        self.plot = plot_item(self.canvas, "step t", "‖∂L/∂h_t‖")
        self.plot.setLogMode(y=True)
        self.legend = pg.LegendItem(colCount=2, labelTextSize="9pt")  # under the plot, where it hides no curve
        self.canvas.addItem(self.legend, row=1, col=0)
        self.canvas.setToolTip("The size of the loss gradient reaching each step's hidden state h_t in the last mini-batch, "
                               "on a log scale: backpropagation through time carries it from the last step back to the "
                               "first. A curve falling to the left is a vanishing gradient. Faint dashed: the first "
                               "norms measured in this run, at the epoch the legend gives.")
        self.canvas.setAccessibleName("Gradient norm per time step of each recurrent layer, log scale")
        self.curves: list[pg.PlotDataItem] = []  # the current norms, one per layer
        self.first_curves: list[pg.PlotDataItem] = []  # the first norms shown in this run
        self.first: StepGradientData | None = None
        self.data: StepGradientData | None = None
        self.clear()

    def clear(self) -> None:
        for item in self.curves + self.first_curves:
            self.plot.removeItem(item)
        self.legend.clear()
        self.curves, self.first_curves, self.first, self.data = [], [], None, None
        self.readout.setText("")
        self.readout.setToolTip(READOUT_TIP)
        self.show_note("Press Play or step an epoch to see how the gradient travels back through the time steps.")

    def show_data(self, data: StepGradientData) -> None:
        if data.reason:
            self.first = None
        if not self.keep_or_explain(data):
            return
        if all(norms is None for norms in data.norms):
            self.show_note("Step an epoch: the gradients are measured in the mini-batches trained from now on.")
            return
        if self.first is None or [layer.label for layer in self.first.layers] != [layer.label for layer in data.layers]:
            self._build(data)
        for curve, norms in zip(self.curves, data.norms, strict=True):
            self._set(curve, norms)
        measured = [(layer, norms) for layer, norms in zip(data.layers, data.norms, strict=True) if norms is not None]
        ratio = "‖∂L/∂h₁‖ / ‖∂L/∂h_T‖: " if len(measured) == 1 else "‖∂L/∂h₁‖/‖∂L/∂h_T‖: "  # several: in the legend's order
        words = " · ".join(vanishing_short(norms) for _, norms in measured)
        self.readout.set_variants([ratio + words, words],  # the ratios' words whole or not at all
                                  "\n".join([f"{layer.label}: {vanishing_text(norms)}" for layer, norms in measured] + [READOUT_TIP]))

    def _build(self, data: StepGradientData) -> None:
        """A curve per layer, and the faint curves of ``data``, the first result of these layers."""
        for item in self.curves + self.first_curves:
            self.plot.removeItem(item)
        self.legend.clear()
        self.first = data
        self.curves, self.first_curves = [], []
        for n, norms in enumerate(data.norms):
            colour = pg.mkColor(CLASS_COLORS[n % len(CLASS_COLORS)])
            faint = pg.mkColor(colour)
            faint.setAlpha(FIRST_ALPHA)
            first = pg.PlotDataItem(pen=pg.mkPen(faint, width=1.5, style=pg.QtCore.Qt.PenStyle.DashLine), connect="finite")
            curve = pg.PlotDataItem(pen=pg.mkPen(colour, width=2.5), symbol="o", symbolSize=5, symbolBrush=colour,
                                    symbolPen=None, connect="finite")
            self.plot.addItem(first)
            self.plot.addItem(curve)
            if norms is not None:
                self._set(first, norms)
            self.curves.append(curve)
            self.first_curves.append(first)
        self._fill_legend(data)

    def _fill_legend(self, data: StepGradientData) -> None:
        """One row, under the plot: a layer's full name and its first curve's epoch; for several layers,
        each layer's short name ("layer 2: GRU") and one entry for the dashed first curves (a two-row
        legend squeezed the plot of a short dock)."""
        first = f"epoch {data.epoch} (first measured)"
        if len(data.layers) == 1:
            entries = [(self.curves[0], data.layers[0].label), (self.first_curves[0], first)]
        else:
            entries = [(curve, layer.label.split("(")[0]) for curve, layer in zip(self.curves, data.layers, strict=True)]
            entries.append((self.first_curves[0], f"dashed: {first}"))
        for item, name in entries:
            self.legend.addItem(item, name)
        self._fit_legend()

    def _fit_legend(self) -> None:
        """The legend's entries in one row when they fit the canvas's width, else one under another
        (a row wider than the dock would widen the plot past the dock's edge)."""
        entries = len(self.legend.items)
        if not entries:
            return
        widths = [label.boundingRect().width() + sample.boundingRect().width() + 10 for sample, label in self.legend.items]
        self.legend.setColumnCount(entries if sum(widths) < self.canvas.width() - 20 else 1)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_legend()

    @staticmethod
    def _set(curve: pg.PlotDataItem, norms: np.ndarray | None) -> None:
        if norms is None:
            curve.setData([], [])
        else:
            curve.setData(np.arange(1, len(norms) + 1), positive(norms))
