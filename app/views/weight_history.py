"""Weight and gradient history: the distribution of a layer's weights over the epochs (an
epoch × value density image, as TensorBoard's histograms), the norm of each layer's
gradient ‖dW‖ per epoch on a log axis (vanishing and exploding gradients show as curves
falling or rising by decades), and the fraction of dead ReLU units per layer.

The density columns come from a probe (:class:`core.insight.WeightHistogramRing`, a
bounded ring with fixed bin edges per layer); the norms and dead fractions come free with
every epoch report (``Report.layers``) and are kept in bounded tables
(:class:`core.run_record.SampledRows`: every epoch up to a few thousand, then every
2nd, 4th, … epoch), so the whole run is shown however long it is.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QComboBox, QWidget

from core.insight import HistogramData
from core.run_record import SampledRows
from core.trainer import Report

from ..plots import x_extent
from ..style import CLASS_COLORS, style_plot_item
from .common import ViewPanel, plot_item

DENSITY_COLORMAP = "inferno"
LABEL_PX = 22  # at most one value label per this many pixels of a log axis
LEFT_AXIS_PX = 58
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


class EpochAxis(pg.AxisItem):
    """An epoch axis: ticks and labels at whole epochs only."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        return [(s, o) for s, o in super().tickSpacing(minVal, maxVal, size) if s >= 1] or [(1.0, 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [str(round(v)) for v in values]


class DecadeAxis(pg.AxisItem):
    """A log axis (values are log10 of the data) labelled at whole decades (10⁻³, 10⁻², …),
    every few decades when they are many, and also at 2 and 5 × a decade when the view spans
    less than two; unlabelled ticks at 2…9 × each decade."""

    def __init__(self, orientation: str):
        super().__init__(orientation)
        self.setStyle(maxTextLevel=0)

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float | None, list[float]]]:
        if not self.logMode:
            return super().tickValues(minVal, maxVal, size)
        low, high = sorted((minVal, maxVal))
        decades = range(math.floor(low), math.ceil(high) + 1)
        for mantissas in ((1,), (1, 2, 5), range(1, 10)):
            labelled = [v for d in decades for m in mantissas if low - 1e-9 <= (v := d + math.log10(m)) <= high + 1e-9]
            if len(labelled) >= 2:
                break
        labelled = labelled[:: math.ceil(len(labelled) / max(2, int(size // LABEL_PX)))]
        minor = [v for d in decades for m in range(2, 10) if low <= (v := d + math.log10(m)) <= high and v not in labelled]
        return [(None, labelled), (None, minor if len(minor) < size / 4 else [])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if not self.logMode:
            return super().tickStrings(values, scale, spacing)
        strings = []
        for v in values:
            decade = math.floor(v + 1e-9)
            power = f"10{str(decade).translate(SUPERSCRIPT)}"
            mantissa = round(10 ** (v - decade))
            strings.append(power if mantissa == 1 else f"{mantissa}·{power}")
        return strings


def epoch_plot(canvas: pg.GraphicsLayoutWidget, left: str, row: int, left_axis: pg.AxisItem | None = None) -> pg.PlotItem:
    """A plot in ``row`` of ``canvas`` over an :class:`EpochAxis` (and ``left_axis`` when given),
    its value axis ``LEFT_AXIS_PX`` wide so that the plots of the view line up."""
    plot = plot_item(canvas, "epoch", left, row=row)
    plot.setAxisItems({"bottom": EpochAxis("bottom"), **({"left": left_axis} if left_axis else {})})
    style_plot_item(plot, "epoch", left)
    plot.getAxis("left").setWidth(LEFT_AXIS_PX)
    return plot


class WeightHistoryView(ViewPanel):
    """Weight distributions (probe data, :meth:`show_data`) and gradient norms / dead ReLU
    fractions (epoch reports, :meth:`add_reports`); :meth:`refresh` draws.

    The view is drawn when a probe result comes (every ``PROBE_SECONDS`` while training,
    and at once when training stops or steps), with the reports received until then: these
    are trends over many epochs, and drawing them at the loss plot's rate cost a fifth of
    the window's drawing with every view on screen. The three plots share the loss plot's
    epoch axis (0 to the next ladder step), so it changes only at a step; the distribution
    image covers the epochs its probe has seen. The ‖dW‖ axis spans whole decades. Only what
    changed since the last refresh is redrawn: the curves when reports came, the density
    image when a probe came or another layer was chosen."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("weightHistoryView", parent)
        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("weightHistoryLayerCombo")
        self.layer_combo.setToolTip("The layer whose weight distribution is shown in the top plot")
        self.layer_combo.setAccessibleName("Layer of the weight distribution")
        self.header.addWidget(self.layer_combo)
        self.finish_header()
        self.canvas.setToolTip("Top: the chosen layer's weights over the epochs (brighter = more weights at that value). "
                               "Middle: each layer's gradient norm ‖dW‖ per epoch, log axis. "
                               "Bottom: the share of dead ReLU units per layer.")
        self.canvas.setAccessibleName("Weight distribution, gradient norms and dead ReLU units over the epochs")
        self.density_plot = epoch_plot(self.canvas, "w", 0)
        self.density = pg.ImageItem(axisOrder="row-major")
        self._lut = pg.colormap.get(DENSITY_COLORMAP).getLookupTable(nPts=256, mode="byte", alpha=True)  # (256, 4) uint8
        self.density_plot.addItem(self.density)
        self.legend = self.canvas.addLabel("━ layer 1", row=1, col=0, size="9pt")
        line = self.legend.itemRect().height()
        self.legend.setText("")
        # as high empty as with text: a legend that changed height at the first report of a run re-laid out the view (~20 ms)
        self.canvas.ci.layout.setRowFixedHeight(1, max(line, self.legend.itemRect().height()))
        self.grad_plot = epoch_plot(self.canvas, "‖dW‖", 2, DecadeAxis("left"))
        self.grad_plot.setLogMode(y=True)
        self.dead_plot = epoch_plot(self.canvas, "dead", 3)  # short: the plots are short in a small view
        self.dead_plot.setXLink(self.grad_plot)
        self.density_plot.setXLink(self.grad_plot)  # one epoch axis for the three plots, stepped as the loss plot's
        self.grad_plot.getAxis("bottom").setStyle(showValues=False)  # the dead-ReLU plot below numbers the same epochs
        self.grad_plot.showLabel("bottom", False)
        self.dead_plot.setYRange(0, 1)
        self.dead_plot.getAxis("left").setTicks([[(0.0, "0"), (1.0, "1")], [(0.5, "0.5")]])  # 0.5 only where it fits
        self.grad_plot.disableAutoRange()
        self.dead_plot.disableAutoRange()
        self.dead_note = pg.TextItem("no ReLU layers", color="#5b6472", anchor=(0.5, 0.5))
        self.dead_plot.addItem(self.dead_note, ignoreBounds=True)
        self.dead_note.setVisible(False)
        self.canvas.ci.layout.setRowStretchFactor(0, 3)
        self.canvas.ci.layout.setRowStretchFactor(2, 3)
        self.canvas.ci.layout.setRowStretchFactor(3, 2)
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.grad = SampledRows()  # (epochs, dense layers) ‖dW‖, NaN where 0
        self.dead = SampledRows()  # (epochs, ReLU layers) dead fractions
        self._grad_pool: list[pg.PlotDataItem] = []  # curves made so far, kept for the runs after (a few ms each to make)
        self._dead_pool: list[pg.PlotDataItem] = []
        self._grad_curves: list[pg.PlotDataItem] = []  # those in use: one per dense layer, one per ReLU layer
        self._dead_curves: list[pg.PlotDataItem] = []
        self._labels: list[str] = []
        self._relu: list[int] = []
        self.histograms: HistogramData | None = None
        self._latest_epoch, self._latest_norms = 0, []  # the latest epoch reported, its ‖dW‖ per dense layer
        self._drawn_counts = (0, 0)  # the (gradient, dead) table rows offered when drawn
        self._drawn_density: tuple[HistogramData | None, int] = (None, -1)  # the histograms and layer drawn
        self._stale = False
        self.layer_combo.currentIndexChanged.connect(self._changed)
        self._reset_axes()

    # ----- feeding (GUI thread) ---------------------------------------------------------------------
    def clear(self) -> None:
        """Forget every epoch and distribution: empty plots, no layers, no readout."""
        self.grad.clear()
        self.dead.clear()
        self._latest_epoch, self._latest_norms = 0, []
        self.histograms = None
        self._set_layers([], [])
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.blockSignals(False)
        self.density.clear()
        self.readout.setText("")
        self.readout.setToolTip("")
        self._drawn_counts, self._drawn_density = (0, 0), (None, -1)
        self._reset_axes()
        self._stale = True

    def add_reports(self, reports: list[Report]) -> None:
        first = reports[0].layers
        dense = [s for s in first if s.grad_norm is not None]
        labels = [f"layer {s.index}: {s.label}" for s in dense]  # LayerStats.index is 1-based
        if labels != self._labels:
            self._set_layers(labels, [n for n, s in enumerate(dense) if s.dead_fraction is not None])
        epochs = [r.epoch for r in reports]
        norms = [[s.grad_norm if s.grad_norm > 0 else np.nan for s in r.layers if s.grad_norm is not None] for r in reports]
        self.grad.extend(epochs, norms)
        self._latest_epoch, self._latest_norms = epochs[-1], norms[-1]
        if self._relu:
            self.dead.extend(epochs, [[s.dead_fraction for s in r.layers if s.grad_norm is not None and s.dead_fraction is not None]
                                      for r in reports])

    def show_data(self, data: HistogramData) -> None:
        """Keep a probe's weight distributions (drawn by :meth:`refresh`, which calls this for a received result)."""
        self.histograms = data
        names = [label for label, *_ in data.layers]
        if [self.layer_combo.itemText(i) for i in range(self.layer_combo.count())] != names:
            keep = self.layer_combo.currentIndex()
            self.layer_combo.blockSignals(True)
            self.layer_combo.clear()
            self.layer_combo.addItems(names)
            self.layer_combo.setCurrentIndex(keep if 0 <= keep < len(names) else 0)
            self.layer_combo.blockSignals(False)
        self._stale = True

    def stale(self) -> bool:
        return self._stale or super().stale()

    def _changed(self) -> None:
        self._stale = True
        self.refresh()

    def _set_layers(self, labels: list[str], relu: list[int]) -> None:
        self._labels, self._relu = labels, relu
        self._grad_curves = self._curves(self.grad_plot, self._grad_pool, labels, range(len(labels)))
        self._dead_curves = self._curves(self.dead_plot, self._dead_pool, labels, relu)
        self.legend.setText(" &nbsp; ".join(f'<span style="color:{CLASS_COLORS[n % len(CLASS_COLORS)]}">━ {label.split(":")[0]}</span>'
                                            for n, label in enumerate(labels)))
        self.legend.setMinimumWidth(0)  # many layers: the legend is clipped rather than widen the view
        self.dead_note.setVisible(bool(labels) and not relu)

    @staticmethod
    def _curves(plot: pg.PlotItem, pool: list[pg.PlotDataItem], labels: list[str], layers) -> list[pg.PlotDataItem]:
        """The curves of dense layers ``layers`` (indices into ``labels``), taken from ``pool``
        and made when it has too few; the rest of the pool is emptied and hidden. A curve is 1 px
        without antialiasing (noisy curves of thousands of points paint 5-10× faster than 2 px
        antialiased), peak-downsampled and clipped to the view."""
        layers = list(layers)
        while len(pool) < len(layers):
            curve = plot.plot(connect="finite", antialias=False, autoDownsampleFactor=1.0)
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            pool.append(curve)
        for curve, n in zip(pool, layers, strict=False):
            curve.opts["name"] = labels[n]
            curve.setPen(pg.mkPen(CLASS_COLORS[n % len(CLASS_COLORS)], width=1))
            curve.show()
        for curve in pool[len(layers):]:
            curve.clear()
            curve.hide()
        return pool[: len(layers)]

    def _reset_axes(self) -> None:
        self.grad_plot.setRange(xRange=(0.0, x_extent(0)), yRange=(-3.0, 0.0), padding=0)
        self.dead_note.setPos(x_extent(0) / 2, 0.5)

    # ----- drawing ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        super().refresh()  # a received probe result: its distributions and epoch
        self._stale = False
        g, d = self.grad, self.dead
        if self._drawn_counts != (g.offered, d.offered):
            self._draw_series()
        data, index = self.histograms, self.layer_combo.currentIndex()
        if self._drawn_density[0] is not data or self._drawn_density[1] != index:
            self._draw_density(data, index)
        self._drawn_counts, self._drawn_density = (g.offered, d.offered), (data, index)
        if data is None or not (0 <= index < len(data.layers)):
            self.readout.setText("")
            return
        norms = " · ".join(f"{v:.2g}" for v in self._latest_norms if np.isfinite(v))
        since = " · collecting: the distribution history starts when this view is shown" if len(data.layers[index][2]) == 1 else ""
        self.readout.setText("brighter = more weights" + (f" · ‖dW‖ now: {norms}" if norms else "") + since)
        self.readout.setToolTip(f"Top: how the weights of {data.layers[index][0]} are spread over values, epoch by epoch (brighter "
                                "= more weights at that value). Middle: the norm of each layer's gradient, last mini-batch of "
                                "each epoch, on a log axis. Bottom: the share of ReLU units that output 0 for every probe sample.")

    def _draw_series(self) -> None:
        """Curves from the tables; the epoch axis to the next ladder step, ‖dW‖ to whole decades."""
        g, d = self.grad, self.dead
        for n, curve in enumerate(self._grad_curves):
            curve.setData(g.epochs, g.values[:, n] if g.width > n else None)
        for n, curve in enumerate(self._dead_curves):
            if d.width > n:
                curve.setData(d.epochs, d.values[:, n])
        end = x_extent(self._latest_epoch)
        ranges = {"xRange": (0.0, end)} if self.grad_plot.vb.viewRange()[0] != [0.0, end] else {}
        self.dead_note.setPos(end / 2, 0.5)
        values = g.values[np.isfinite(g.values)]
        if values.size:
            low, high = math.floor(math.log10(values.min())), math.ceil(math.log10(values.max()))
            decades = [float(low), float(max(high, low + 1))]
            if self.grad_plot.vb.viewRange()[1] != decades:
                ranges["yRange"] = decades
        if ranges:
            self.grad_plot.setRange(**ranges, padding=0)

    def _draw_density(self, data: HistogramData | None, index: int) -> None:
        if data is None or not (0 <= index < len(data.layers)):
            self.density.clear()
            return
        _, edges, epochs, counts = data.layers[index]
        index = (np.clip(self.density_image(epochs, counts), 0.0, 1.0) * 255).astype(np.uint8)
        self.density.setImage(self._lut[index], autoLevels=False)  # coloured here: an ImageItem's colour table costs 256 Python calls
        e0, e1 = float(epochs[0]), float(epochs[-1])
        if e1 - e0 < 1.0:  # one column: one epoch wide, centred on its epoch
            e0, e1 = e0 - 0.5, e0 + 0.5
        self.density.setRect(QRectF(e0, float(edges[0]), e1 - e0, float(edges[-1] - edges[0])))
        values = [float(edges[0]), float(edges[-1])]
        if self.density_plot.vb.viewRange()[1] != values:  # the edges are fixed for a run: the axis stays
            self.density_plot.setYRange(*values, padding=0)

    @staticmethod
    def density_image(epochs: np.ndarray, counts: np.ndarray, width: int = 200) -> np.ndarray:
        """(bins, columns) image over a uniform epoch axis from columns taken at ``epochs``
        (irregular: the probe runs at a bounded rate); each pixel takes the latest column at or
        before its epoch."""
        if len(epochs) == 1:
            return counts.T.copy()
        axis = np.linspace(epochs[0], epochs[-1], min(width, int(epochs[-1] - epochs[0]) + 1))
        index = np.clip(np.searchsorted(epochs, axis, side="right") - 1, 0, len(epochs) - 1)
        return counts[index].T.copy()
