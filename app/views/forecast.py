"""Forecast: on forecasting data (a series cut into windows, ``meta["forecast"]``), the chosen
sample's window over its steps 1 … T with the true value at step T + h and the network's
prediction marked; when the windows are consecutive (they tile one series), also the whole
series with the windows' predictions, the training windows' and the validation windows' in
their colours, the validation part shaded where it is one stretch, and the chosen window
marked. When the target is not among the inputs (a CSV column forecast from others), the window
plot shows the first input, named, without the true and predicted values (not in its units: they
are in the readout), and the series plot the targets, known where windows forecast them. From the "forecast" probe (:class:`core.sequence_insight.ForecastProbe`), which predicts
at most 20,000 windows evenly spread over a longer series; the readout gives the validation MSE
(and, then, how many windows it and the series plot are of).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from core.sequence_insight import FORECAST_WINDOWS, ForecastData, SeriesData

from ..style import TRAIN_COLOR, VAL_COLOR
from .common import SampleViewPanel, plot_item

SERIES_COLOR = "#30363d"
WINDOW_BRUSH = (31, 111, 235, 40)  # the chosen window on the series
VAL_BRUSH = (213, 94, 0, 28)  # the validation stretch
SERIES_AXIS = "position in the series"
READOUT_TIP = ("The mean squared error of the predictions over the validation part, and the window's true value y h steps "
               "after its end with the network's prediction ŷ of it; of a long series, the windows predicted "
               f"({FORECAST_WINDOWS:,}, evenly spread), over which the MSE is taken")


def forecast_readouts(data: ForecastData) -> list[str]:
    """The readout's texts, longest first ("val MSE 0.00117 · y = 0.386, ŷ = 0.391 · of 20,001 windows in
    25,000", then without the count, with short names, the MSE alone), for :meth:`ReadoutLabel.set_variants`."""
    finite = np.isfinite(data.val_mse)
    mse = f"val MSE {data.val_mse:.3g}" if finite else "no validation part"
    values = f"y = {data.actual:.3g}, ŷ = {data.predicted:.3g}"
    count = f" · of {data.predicted_windows:,} windows in {data.windows:,}" if data.predicted_windows < data.windows else ""
    short = f"MSE {data.val_mse:.3g}" if finite else "no val"
    return [f"{mse} · {values}{count}", f"{mse} · {values}", f"{short} · y {data.actual:.3g} · ŷ {data.predicted:.3g}",
            short]


class ForecastView(SampleViewPanel):
    """The chosen window's forecast and, for consecutive windows, the whole series (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("forecast", parent)
        self.add_sample_box("whose window is shown")
        self.readout.setToolTip(READOUT_TIP)
        self.finish_header()
        self.window_plot = plot_item(self.canvas, "step t", "value", row=0, col=0)
        self.window_curve = pg.PlotDataItem(pen=pg.mkPen(SERIES_COLOR, width=2), symbol="o", symbolSize=5,
                                            symbolBrush=SERIES_COLOR, symbolPen=None)
        self.actual_mark = pg.ScatterPlotItem(size=13, pen=pg.mkPen(TRAIN_COLOR, width=2.5), brush=None, symbol="o")
        self.predicted_mark = pg.ScatterPlotItem(size=12, pen=None, brush=pg.mkBrush(VAL_COLOR), symbol="x")
        self.window_legend = self._add(self.window_plot, 1, [self.window_curve, self.actual_mark, self.predicted_mark])
        self._input_name: str | None = None  # the input drawn for a target not among the inputs ("": the target's own series)
        self.series_plot = plot_item(self.canvas, SERIES_AXIS, "value", row=2, col=0)
        self.val_region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(*VAL_BRUSH), pen=pg.mkPen(None))
        self.window_region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(*WINDOW_BRUSH), pen=pg.mkPen(None))
        self.series_curve = pg.PlotDataItem(pen=pg.mkPen(SERIES_COLOR, width=1.5), connect="finite")
        self.series_curve.setDownsampling(auto=True, method="peak")  # a long series: ~100k points
        self.series_curve.setClipToView(True)
        self.train_points = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(TRAIN_COLOR))
        self.val_points = pg.ScatterPlotItem(size=5, pen=None, brush=pg.mkBrush(VAL_COLOR))
        for item in (self.val_region, self.window_region):
            self.series_plot.addItem(item)
        self.series_legend = self._add(self.series_plot, 3, [self.series_curve, self.train_points, self.val_points])
        self._name_the_window("", "")
        self.canvas.setToolTip("Top: the chosen window of the series (steps 1 … T), the true value h steps after it (ring) "
                               "and the network's prediction (cross). Bottom, when the windows tile one series: the whole "
                               "series and every window's prediction, the chosen window shaded blue (and the validation "
                               "part orange when it is one stretch).")
        self.canvas.setAccessibleName("Forecast: a window of the series, its true next value and the network's prediction")
        self.data: ForecastData | None = None
        self.clear()

    def _add(self, plot: pg.PlotItem, row: int, items: list[pg.GraphicsObject]) -> pg.LegendItem:
        """``items`` into ``plot`` and a legend for them (filled by :meth:`_name_the_window`) in the canvas's
        row ``row``, under the plot, where it hides nothing."""
        legend = pg.LegendItem(labelTextSize="9pt")
        for item in items:
            plot.addItem(item)
        self.canvas.addItem(legend, row=row, col=0)
        return legend

    def _name_the_window(self, name: str, target: str) -> None:
        """The legends and the window plot's value axis for the target's own series, or for an input
        ``name`` when the target ``target`` is not among the inputs (one-row legends; set when that changes)."""
        if name == self._input_name:
            return
        self._input_name = name
        window = ([(self.window_curve, f"input {name}")] if name else
                  [(self.window_curve, "window"), (self.actual_mark, "true at T + h"), (self.predicted_mark, "predicted")])
        series = [(self.series_curve, f"target {target}" if name else "series"), (self.train_points, "training"),
                  (self.val_points, "validation predictions")]
        for legend, items in ((self.window_legend, window), (self.series_legend, series)):
            legend.clear()
            legend.setColumnCount(len(items))
            for item, text in items:
                legend.addItem(item, text)
        self.window_plot.setLabel("left", name or "value")  # short: a short plot cuts an axis title

    def clear(self) -> None:
        self.data = None
        for item in (self.window_curve, self.actual_mark, self.predicted_mark, self.series_curve, self.train_points, self.val_points):
            item.setData([], [])
        self._show_series(False)
        self.readout.setText("")
        self.show_note("Press Play or step an epoch to see the network forecast the series.")

    def show_data(self, data: ForecastData) -> None:
        if not self.keep_or_explain(data):
            return
        self._name_the_window(data.input_name, data.target_name)
        steps = len(data.window)
        self.window_curve.setData(np.arange(1, steps + 1), data.window)
        marked = not data.input_name  # an input's plot has not the target's units
        self.actual_mark.setData([steps + data.horizon] if marked else [], [data.actual] if marked else [])
        self.predicted_mark.setData([steps + data.horizon] if marked else [], [data.predicted] if marked else [])
        self.window_plot.setXRange(0.5, steps + (data.horizon if marked else 0) + 0.5, padding=0.02)  # room for the ring's size
        self._show_series(data.series is not None)
        if data.series is not None:
            self._draw_series(data.series, data.sample, steps)
            thinned = data.predicted_windows < data.windows
            share = f"position ({100 * data.predicted_windows / data.windows:.2g} % of the windows predicted)"
            self._set_series_axis(share if thinned else SERIES_AXIS)  # short: an axis label is not cut, it overflows
        self.readout.set_variants([text.replace("-", "−") for text in forecast_readouts(data)], READOUT_TIP)
        self.set_sample(data.sample)

    def _set_series_axis(self, text: str) -> None:
        """The series plot's bottom label (set when it changes: a new label lays the plot out again)."""
        axis = self.series_plot.getAxis("bottom")
        if axis.labelText != text:
            axis.setLabel(text)

    def _show_series(self, shown: bool) -> None:
        """The series plot and its legend in the canvas (rows 2 and 3) or out of it: a hidden item
        would keep its room in the layout."""
        placed = self.series_plot in self.canvas.ci.items
        if shown and not placed:
            self.canvas.addItem(self.series_plot, row=2, col=0)
            self.canvas.addItem(self.series_legend, row=3, col=0)
        elif placed and not shown:
            self.canvas.removeItem(self.series_plot)
            self.canvas.removeItem(self.series_legend)

    def showing_series(self) -> bool:
        """Whether the whole series is drawn (consecutive windows)."""
        return self.series_plot in self.canvas.ci.items

    def _draw_series(self, series: SeriesData, sample: int, steps: int) -> None:
        self.series_curve.setData(np.arange(len(series.values)), series.values)
        for points, chosen in ((self.train_points, ~series.validation), (self.val_points, series.validation)):
            points.setData(series.positions[chosen], series.predicted[chosen])
        stretch = series.val_stretch
        self.val_region.setVisible(stretch is not None)
        if stretch is not None:
            self.val_region.setRegion((stretch[0] - 0.5, stretch[1] + 0.5))
        self.window_region.setRegion((sample - 0.5, sample + steps - 0.5))
