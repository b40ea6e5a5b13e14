"""Regression fit: for one input, the data and the network's curve over the input's range;
for more inputs, predicted against actual on the validation part with the diagonal (a
perfect fit) and R²; when the data were generated from known weights (``housing``) and the
network is a single dense layer, its learned weights against the true ones, in raw units.
Data come from a probe (:func:`core.insight.fit_data`)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from core.insight import FitData

from ..style import TRAIN_COLOR, VAL_COLOR
from .common import ViewPanel, plot_item


class RegressionFitView(ViewPanel):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("regressionFitView", parent)
        self.finish_header()
        self.plot = plot_item(self.canvas, "x", "y", row=0, col=0)
        self.points = pg.ScatterPlotItem(size=6, pen=pg.mkPen("#1f2328", width=0.5), brush=pg.mkBrush(TRAIN_COLOR))
        self.curve = pg.PlotCurveItem(pen=pg.mkPen(VAL_COLOR, width=2.5))
        self.diagonal = pg.PlotCurveItem(pen=pg.mkPen("#555555", width=1.5, style=pg.QtCore.Qt.PenStyle.DashLine))
        for item in (self.diagonal, self.points, self.curve):
            self.plot.addItem(item)
        self.weights_plot = plot_item(self.canvas, "weight (raw units)", "", row=0, col=1)  # horizontal bars: names read left
        self.weights_plot.invertY(True)
        self.learned_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.38, brush=TRAIN_COLOR)
        self.true_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.38, brush="#999999")
        legend = self.weights_plot.addLegend(offset=(-10, -10), labelTextSize="9pt")  # bottom right, clear of the first bars
        self.weights_plot.addItem(self.true_bars)
        self.weights_plot.addItem(self.learned_bars)
        legend.addItem(self.learned_bars, "learned W")
        legend.addItem(self.true_bars, "true W")
        self.weights_plot.hide()
        self._kind = ""
        self.data: FitData | None = None
        self.show_note("Press Play or step an epoch to see the fit.")

    def clear(self) -> None:
        self.data = None
        self._kind = ""

    def show_data(self, data: FitData) -> None:
        self.data = data
        if data.reason:
            self.show_note(data.reason)
            return
        self.show_canvas()
        if data.kind == "curve":
            self.points.setData(data.x[:, 0], data.actual)
            self.curve.setData(data.curve_x, data.curve_y)
            self.diagonal.setData([], [])
            if self._kind != data.kind:
                self.plot.setLabel("bottom", data.feature_names[0] if data.feature_names else "x")
                self.plot.setLabel("left", data.target_name)
        else:
            self.points.setData(data.actual, data.predicted)
            self.curve.setData([], [])
            low = float(min(data.actual.min(), data.predicted.min()))
            high = float(max(data.actual.max(), data.predicted.max()))
            self.diagonal.setData([low, high], [low, high])
            if self._kind != data.kind:
                self.plot.setLabel("bottom", f"actual {data.target_name}")
                self.plot.setLabel("left", f"predicted {data.target_name}")
        self._kind = data.kind
        if data.learned is not None:
            self.weights_plot.show()
            idx = np.arange(len(data.true))
            self.true_bars.setOpts(x0=np.zeros(len(idx)), y=idx - 0.2, width=data.true, height=0.38)
            self.learned_bars.setOpts(x0=np.zeros(len(idx)), y=idx + 0.2, width=data.learned, height=0.38)
            self.weights_plot.getAxis("left").setTicks([[(i, n) for i, n in enumerate(data.feature_names)]])
        else:
            self.weights_plot.hide()
        self.readout.setText(f"epoch {data.epoch} · {data.part} part: R² = {data.r2:.3f}"
                             + (" · dashed: predicted = actual" if data.kind == "scatter" else ""))
