"""Weight and gradient history: the distribution of a layer's weights over the epochs (an
epoch × value density image, as TensorBoard's histograms), the norm of each layer's
gradient ‖dW‖ per epoch on a log axis (vanishing and exploding gradients show as curves
falling or rising by decades), and the fraction of dead ReLU units per layer.

The density columns come from a probe (:class:`core.insight.WeightHistogramRing`, a
bounded ring with fixed bin edges per layer); the norms and dead fractions come free with
every epoch report (``Report.layers``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QComboBox, QWidget

from core.insight import HistogramData
from core.trainer import Report

from ..style import CLASS_COLORS
from .common import ViewPanel, plot_item

DENSITY_COLORMAP = "inferno"


class _Series:
    """Growing (epochs, layers) float64 table; NaN where a value is missing."""

    def __init__(self) -> None:
        self.epochs = np.zeros(0)
        self.values = np.zeros((0, 0))
        self.count = 0

    def clear(self) -> None:
        self.count = 0

    def extend(self, epochs: list[int], rows: list[list[float]]) -> None:
        if not rows:
            return
        width = len(rows[0])
        need = self.count + len(rows)
        if self.values.shape[1] != width or need > len(self.epochs):
            capacity = max(need, 2 * len(self.epochs), 256)
            epochs_new, values_new = np.zeros(capacity), np.full((capacity, width), np.nan)
            if self.values.shape[1] == width:
                epochs_new[: self.count], values_new[: self.count] = self.epochs[: self.count], self.values[: self.count]
            else:
                self.count = 0
                need = len(rows)
            self.epochs, self.values = epochs_new, values_new
        self.epochs[self.count: need] = epochs
        self.values[self.count: need] = rows
        self.count = need


class WeightHistoryView(ViewPanel):
    """Weight distributions (probe data, :meth:`show_histograms`) and gradient norms / dead
    ReLU fractions (epoch reports, :meth:`add_reports`); :meth:`refresh` draws."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("weightHistoryView", parent)
        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("weightHistoryLayerCombo")
        self.layer_combo.setToolTip("The layer whose weight distribution is shown")
        self.header.addWidget(self.layer_combo)
        self.finish_header()
        self.density_plot = plot_item(self.canvas, "epoch", "weight w", row=0)
        self.density = pg.ImageItem(axisOrder="row-major")
        self.density.setColorMap(pg.colormap.get(DENSITY_COLORMAP))
        self.density_plot.addItem(self.density)
        self.legend = self.canvas.addLabel("", row=1, col=0, size="9pt")
        self.grad_plot = plot_item(self.canvas, "epoch", "‖dW‖", row=2)
        self.grad_plot.setLogMode(y=True)
        self.dead_plot = plot_item(self.canvas, "epoch", "dead ReLU", row=3)
        self.dead_plot.setYRange(0, 1)
        self.dead_note = pg.TextItem("no ReLU layers", color="#5b6472", anchor=(0.5, 0.5))
        self.dead_plot.addItem(self.dead_note, ignoreBounds=True)
        self.dead_note.setPos(0.5, 0.5)
        self.canvas.ci.layout.setRowStretchFactor(0, 3)
        self.canvas.ci.layout.setRowStretchFactor(2, 2)
        self.canvas.ci.layout.setRowStretchFactor(3, 2)
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.grad = _Series()
        self.dead = _Series()
        self._grad_curves: list[pg.PlotDataItem] = []
        self._dead_curves: list[pg.PlotDataItem] = []
        self._labels: list[str] = []
        self._relu: list[int] = []
        self.histograms: HistogramData | None = None
        self._stale = False
        self.layer_combo.currentIndexChanged.connect(self._changed)

    # ----- feeding (GUI thread) ---------------------------------------------------------------------
    def clear(self) -> None:
        self.grad.clear()
        self.dead.clear()
        self.histograms = None
        self._labels = []
        self._stale = True

    def add_reports(self, reports: list[Report]) -> None:
        first = reports[0].layers
        dense = [s for s in first if s.grad_norm is not None]
        labels = [f"layer {s.index}: {s.label}" for s in dense]  # LayerStats.index is 1-based
        if labels != self._labels:
            self._set_layers(labels, [n for n, s in enumerate(dense) if s.dead_fraction is not None])
        epochs = [r.epoch for r in reports]
        self.grad.extend(epochs, [[s.grad_norm if s.grad_norm and s.grad_norm > 0 else np.nan for s in r.layers if s.grad_norm is not None]
                                  for r in reports])
        if self._relu:
            self.dead.extend(epochs, [[s.dead_fraction for s in r.layers if s.grad_norm is not None and s.dead_fraction is not None]
                                      for r in reports])
        self._stale = True

    def show_histograms(self, data: HistogramData) -> None:
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
        return self._stale and not self.visibleRegion().isEmpty()

    def _changed(self) -> None:
        self._stale = True
        self.refresh()

    def _set_layers(self, labels: list[str], relu: list[int]) -> None:
        self._labels, self._relu = labels, relu
        for plot, curves in ((self.grad_plot, self._grad_curves), (self.dead_plot, self._dead_curves)):
            for curve in curves:
                plot.removeItem(curve)
            curves.clear()
        self.legend.setText(" &nbsp; ".join(f'<span style="color:{CLASS_COLORS[n % len(CLASS_COLORS)]}">━ {label.split(":")[0]}</span>'
                                             for n, label in enumerate(labels)))
        for n, label in enumerate(labels):
            # 1 px without antialiasing: noisy curves of thousands of points paint 5-10× faster than 2 px antialiased
            curve = self.grad_plot.plot(name=label, pen=pg.mkPen(CLASS_COLORS[n % len(CLASS_COLORS)], width=1), connect="finite",
                                        antialias=False, autoDownsampleFactor=1.0)
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            self._grad_curves.append(curve)
        for n in relu:
            curve = self.dead_plot.plot(name=labels[n], pen=pg.mkPen(CLASS_COLORS[n % len(CLASS_COLORS)], width=1), antialias=False,
                                        autoDownsampleFactor=1.0)
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            self._dead_curves.append(curve)
        self.dead_note.setVisible(not relu)

    # ----- drawing ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._stale = False
        g, d = self.grad, self.dead
        for n, curve in enumerate(self._grad_curves):
            curve.setData(g.epochs[: g.count], g.values[: g.count, n] if g.values.shape[1] > n else None)
        for n, curve in enumerate(self._dead_curves):
            if d.values.shape[1] > n:
                curve.setData(d.epochs[: d.count], d.values[: d.count, n])
        data = self.histograms
        index = self.layer_combo.currentIndex()
        if data is None or not (0 <= index < len(data.layers)):
            self.density.clear()
            self.readout.setText("")
            return
        label, edges, epochs, counts = data.layers[index]
        image = self.density_image(epochs, counts)
        self.density.setImage(image, autoLevels=False, levels=(0.0, 1.0))
        e0, e1 = float(epochs[0]), float(epochs[-1])
        width = max(e1 - e0, 1.0)
        self.density.setRect(QRectF(e0, float(edges[0]), width, float(edges[-1] - edges[0])))
        self.density_plot.setXRange(e0, e0 + width, padding=0)
        self.density_plot.setYRange(float(edges[0]), float(edges[-1]), padding=0)
        last = self.grad.values[self.grad.count - 1] if self.grad.count else []
        norms = " · ".join(f"{v:.2g}" for v in last if np.isfinite(v))
        since = " · collecting: the distribution history starts when this view is shown" if len(epochs) == 1 else ""
        self.readout.setText(f"epoch {data.epoch} · brighter = more weights" + (f" · ‖dW‖ now: {norms}" if norms else "") + since)
        self.readout.setToolTip(f"Top: how the weights of {label} are spread over values, epoch by epoch (brighter = more "
                                "weights at that value). Middle: the norm of each layer's gradient, last mini-batch of each "
                                "epoch, on a log axis. Bottom: the share of ReLU units that output 0 for every probe sample.")

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
