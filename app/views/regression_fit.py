"""Regression fit: for one input, the data and the network's curve over the input's range;
for more inputs, predicted against actual on the validation part with the diagonal (a
perfect fit) and R²; when the data were generated from known weights (``housing``) and the
network is a single dense layer, its learned weights against the true ones, in raw units.
Data come from a probe (:func:`core.insight.fit_data`). A click on (or within a few pixels of) a
sample emits ``samplePicked`` with its dataset index; :meth:`RegressionFitView.set_picked`
rings the sample the inspector shows."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from core.insight import FitData

from ..style import TRAIN_COLOR, VAL_COLOR
from .common import ViewPanel, plot_item
from .picking import SamplePicker


class RegressionFitView(ViewPanel):
    samplePicked = Signal(int)  # the dataset index of the sample clicked

    def __init__(self, parent: QWidget | None = None):
        super().__init__("regressionFitView", parent)
        self.finish_header()
        self.plot = plot_item(self.canvas, "x", "y", row=0, col=0)
        self.points = pg.ScatterPlotItem(size=6, pen=pg.mkPen("#1f2328", width=0.5), brush=pg.mkBrush(TRAIN_COLOR))
        self.curve = pg.PlotCurveItem(pen=pg.mkPen(VAL_COLOR, width=2.5))
        self.diagonal = pg.PlotCurveItem(pen=pg.mkPen("#555555", width=1.5, style=pg.QtCore.Qt.PenStyle.DashLine))
        for item in (self.diagonal, self.points, self.curve):
            self.plot.addItem(item)
        self.picker = SamplePicker(self.plot)
        self.picker.picked.connect(self.samplePicked)
        self.weights_plot = plot_item(self.canvas, "weight (raw units)", "", row=0, col=1)  # horizontal bars: names read left
        self.weights_plot.invertY(True)
        self.learned_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.38, brush=TRAIN_COLOR)
        self.true_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.38, brush="#999999")
        legend = self.weights_plot.addLegend(offset=(-10, -10), labelTextSize="9pt")  # bottom right, clear of the first bars
        self.weights_plot.addItem(self.true_bars)
        self.weights_plot.addItem(self.learned_bars)
        legend.addItem(self.learned_bars, "learned W")
        legend.addItem(self.true_bars, "true W")
        self.canvas.setToolTip("One input: the data (dots) and the network's curve. More inputs: predicted against actual "
                               "target on the validation part; the dashed diagonal is a perfect fit. Bars, when the data "
                               "come from known weights: the learned weights against the true ones. "
                               "Click a sample to inspect it.")
        self.canvas.setAccessibleName("Regression fit: the network's predictions against the data")
        self._kind = ""
        self._names: tuple[str, ...] = ()
        self._ranges: dict[tuple[pg.PlotItem, str], tuple[float, float]] = {}  # the range each (plot, axis) shows
        self.data: FitData | None = None
        self.clear()

    def clear(self) -> None:
        """Forget the points, curves, weights, axis ranges and readout."""
        self.data = None
        self._kind = ""
        self._names = ()
        self._ranges = {}
        for item in (self.points, self.curve, self.diagonal):
            item.setData([], [])
        self.picker.clear()
        for bars in (self.learned_bars, self.true_bars):
            bars.setOpts(x0=[], y=[], width=[])
        self.weights_plot.getAxis("left").setTicks(None)
        self.weights_plot.hide()
        self.readout.setText("")
        self.show_note("Press Play or step an epoch to see the fit.")

    def show_data(self, data: FitData) -> None:
        if data.reason:
            self.show_reason(data.reason)
            return
        self.data = data
        self.show_canvas()
        if data.kind == "curve":
            self.points.setData(data.x[:, 0], data.actual)
            self.curve.setData(data.curve_x, data.curve_y)
            self.diagonal.setData([], [])
            if self._kind != data.kind:
                self.plot.setLabel("bottom", data.feature_names[0] if data.feature_names else "x")
                self.plot.setLabel("left", data.target_name)
            x_span = (float(data.curve_x[0]), float(data.curve_x[-1]))
            y_span = (float(min(data.actual.min(), data.curve_y.min())), float(max(data.actual.max(), data.curve_y.max())))
        else:
            self.points.setData(data.actual, data.predicted)
            self.curve.setData([], [])
            low = float(min(data.actual.min(), data.predicted.min()))
            high = float(max(data.actual.max(), data.predicted.max()))
            self.diagonal.setData([low, high], [low, high])
            if self._kind != data.kind:
                self.plot.setLabel("bottom", f"actual {data.target_name}")
                self.plot.setLabel("left", f"predicted {data.target_name}")
            x_span = y_span = (low, high)
        self._kind = data.kind
        if data.indices is not None:
            xs, ys = (data.x[:, 0], data.actual) if data.kind == "curve" else (data.actual, data.predicted)
            self.picker.set_points([(self.points, xs, ys, data.indices)])
        self._hold(self.plot, x=x_span, y=y_span)
        if data.learned is not None:
            self.weights_plot.show()
            idx = np.arange(len(data.true))
            self.true_bars.setOpts(x0=np.zeros(len(idx)), y=idx - 0.2, width=data.true, height=0.38)
            self.learned_bars.setOpts(x0=np.zeros(len(idx)), y=idx + 0.2, width=data.learned, height=0.38)
            if data.feature_names != self._names:
                self._names = data.feature_names
                self.weights_plot.getAxis("left").setTicks([list(enumerate(data.feature_names))])
            both = np.concatenate([data.true, data.learned, [0.0]])
            self._hold(self.weights_plot, x=(float(both.min()), float(both.max())), y=(-0.5, len(idx) - 0.5))
        else:
            self.weights_plot.hide()
        self.readout.setText(f"{data.part} part: R² = {data.r2:.3f}"
                             + (" · dashed: predicted = actual" if data.kind == "scatter" else ""))

    def set_picked(self, index: int | None) -> None:
        """Ring dataset sample ``index`` (the one the inspector shows); None: no ring."""
        self.picker.set_picked(index)

    def _hold(self, plot: pg.PlotItem, **spans: tuple[float, float]) -> None:
        """Set ``plot``'s x and y ranges to hold ``spans`` (low, high), keeping each range shown
        while it holds its span and the span fills half of it: a range that moved at every frame
        would re-lay out the axes at every frame."""
        ranges = {}
        for axis, (low, high) in spans.items():
            current = self._ranges.get((plot, axis))
            if current is None or low < current[0] or high > current[1] or high - low < 0.5 * (current[1] - current[0]):
                pad = 0.05 * max(high - low, 1e-9)
                ranges[f"{axis}Range"] = self._ranges[(plot, axis)] = (low - pad, high + pad)
        if ranges:
            plot.setRange(**ranges, padding=0)
