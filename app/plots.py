"""Live plots: loss and metric per epoch, and the weight matrix of a layer as a heatmap.

Every live view offers the same small interface (:class:`LiveView`): ``stale()`` says it
has something new to draw, ``refresh()`` brings it up to date, ``canvas`` is the widget
that then repaints. The window's redraw timer (≤ 30 Hz) refreshes one stale view per
tick, in turn, so a tick's work (and the event loop's pause) is one view's, however many
views there are. Plots are drawn in the GUI thread only. Items are created once and
updated with ``setData`` / ``setImage``; long histories are drawn downsampled (peak) and
clipped to the view.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from .history import Marker, RunHistory
from .style import DIVERGED_COLOR, MARKER_COLOR, TRAIN_COLOR, VAL_COLOR, WEIGHT_COLORMAP, style_plot_item

TICK_LIMIT = 24  # label every row/column of a heatmap up to this many
THICK_EPOCHS = 600  # curves are drawn 2 px wide up to this many epochs, 1 px beyond
X_LADDER = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)  # epoch-axis ends: 10, 15, 20, 25, 30, 40, …
Y_MARGIN = 0.08  # space above and below the curves, as a share of their span
Y_SNUG = 0.6  # refit the value axis when the curves fill less than this share of it


def x_extent(epochs: int) -> float:
    """The end of the epoch axis for ``epochs`` epochs: the next ladder value ≥ it (≥ 10)."""
    epochs = max(epochs, 10)
    decade = 10.0 ** math.floor(math.log10(epochs))
    return next(m * decade for m in X_LADDER if m * decade >= epochs)


class _GuardedPaint:
    """Mixin for pyqtgraph widgets: paint inside ``paint_guard()`` when one is set.

    pyqtgraph paints from Python, so a paint takes the GIL at each of its many calls; the
    window sets the trainer controller's ``drawing`` guard, and the trainer waits between
    epochs while a view paints instead of taking the GIL back at every call.
    """

    paint_guard: Callable[[], AbstractContextManager] | None = None

    def paintEvent(self, event) -> None:
        if self.paint_guard is None:
            super().paintEvent(event)
            return
        with self.paint_guard():
            super().paintEvent(event)


class PlotCanvas(_GuardedPaint, pg.PlotWidget):
    """A ``pg.PlotWidget`` that paints inside its paint guard."""


class LayoutCanvas(_GuardedPaint, pg.GraphicsLayoutWidget):
    """A ``pg.GraphicsLayoutWidget`` that paints inside its paint guard."""


class LiveView(Protocol):
    """A view the window redraws from its timer."""

    canvas: QWidget

    def stale(self) -> bool:
        """Whether there is something new to draw."""
        ...

    def refresh(self) -> None:
        """Bring the view up to date (the canvas repaints afterwards)."""
        ...


def _curve_style(color: str, thick: bool) -> dict:
    """How a live curve is drawn: 2 px (as line segments, no antialiasing) while it has few
    points, legible on a projector; 1 px antialiased once it is dense. Measured here, for two
    noisy curves of 3000 points: 2 px antialiased 26 ms a paint, 2 px plain 4.8 ms, 1 px
    antialiased 0.8 ms, time the GUI holds the GIL the trainer needs."""
    return {"pen": pg.mkPen(color, width=2 if thick else 1), "antialias": not thick}


def _curve(item: pg.PlotItem, name: str, color: str) -> pg.PlotDataItem:
    """A live curve, drawn peak-downsampled to ~2 points per pixel and clipped to the view."""
    curve = item.plot(name=name, connect="finite", autoDownsampleFactor=1.0, **_curve_style(color, thick=True))
    curve.setDownsampling(auto=True, method="peak")
    curve.setClipToView(True)
    return curve


def _readout_label(name: str) -> QLabel:
    """A one-line label whose changing text never resizes its view (it is clipped instead):
    a label that grows with its text would re-lay out the whole window on every frame."""
    label = QLabel()
    label.setObjectName(name)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    label.setMinimumWidth(0)
    return label


def _swatch(color: str, text: str) -> str:
    return f'<span style="color:{color}; font-weight:600">━ {text}</span>'


class EpochPlot(QWidget):
    """Training and validation values of one quantity per epoch, read from ``history``.

    A header line shows the values under the mouse (or the latest epoch); vertical marks
    show setting changes and divergence. ``kind`` is "loss" or "metric".

    The plot follows the run itself instead of auto-ranging every frame: the epoch axis
    grows in steps (10, 15, 20, 25, 30, 40, …) and the value axis is refitted only when the
    curves leave it or shrink to a small part of it, so the axes (the costly part of a
    frame) are redrawn rarely. Zooming or panning stops the following; the plot's "A"
    button resumes it.
    """

    def __init__(self, object_name: str, kind: str, history: RunHistory, parent: QWidget | None = None):
        super().__init__(parent)
        self.kind = kind
        self._columns = ("train_loss", "val_loss") if kind == "loss" else ("train_metric", "val_metric")
        self._metric_name = "accuracy"
        self._history = history
        self._version = self._run = -1
        self._hover: float | None = None
        self._marks: list[pg.InfiniteLine] = []
        self._follow = True
        self._thick = True

        self.readout = _readout_label(f"{object_name}Readout")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        header = QHBoxLayout()
        header.setContentsMargins(6, 2, 6, 0)
        header.addWidget(self.readout, 1)
        self.log_check: QCheckBox | None = None
        if kind == "loss":
            self.log_check = QCheckBox("Log scale")
            self.log_check.setObjectName("lossLogCheck")
            self.log_check.setToolTip("Show the loss on a logarithmic axis: slow late progress becomes visible")
            self.log_check.toggled.connect(self.set_log_scale)
            header.addWidget(self.log_check)

        self.canvas = PlotCanvas()
        self.canvas.setObjectName(object_name)
        item = self.canvas.getPlotItem()
        # the loss falls and the metric rises: keep each legend where its curves are not
        item.addLegend(offset=(-10, 10) if kind == "loss" else (-10, -10), labelTextSize="10pt", brush=pg.mkBrush(255, 255, 255, 220))
        self.train_curve = _curve(item, "training", TRAIN_COLOR)
        self.val_curve = _curve(item, "validation", VAL_COLOR)
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen("#8a929e", width=1, style=Qt.PenStyle.DotLine))
        self.cursor.hide()
        item.addItem(self.cursor, ignoreBounds=True)
        item.disableAutoRange()
        item.sigRangeChangedManually.connect(self._on_manual_range)
        self.canvas.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.canvas.viewport().installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.canvas, 1)
        self.set_quantity("loss" if kind == "loss" else "accuracy")

    def set_quantity(self, name: str) -> None:
        """What the curves show: a loss name for a loss plot, "accuracy" or "r2" for a metric plot."""
        item = self.canvas.getPlotItem()
        if self.kind == "loss":
            style_plot_item(item, "epoch", f"loss ({name.replace('_', ' ')})" if name != "loss" else "loss")
            return
        self._metric_name = name
        if name == "r2":
            style_plot_item(item, "epoch", "R² (drawn from −1)")
            item.setYRange(-1.0, 1.0, padding=0.02)
        else:
            style_plot_item(item, "epoch", "accuracy")
            item.setYRange(0.0, 1.0, padding=0.02)

    def set_log_scale(self, on: bool) -> None:
        self.canvas.getPlotItem().setLogMode(x=False, y=on)
        if self.log_check is not None and self.log_check.isChecked() != on:
            self.log_check.setChecked(on)
        self._follow = True
        self._version = -1
        self.refresh()

    def _on_manual_range(self) -> None:
        """Follow the run again only when the user asked for auto-range (the "A" button)."""
        self._follow = any(self.canvas.getPlotItem().getViewBox().autoRangeEnabled())
        if self._follow:
            self._version = -1
            self.refresh()

    def curve_points(self) -> int:
        """Epochs drawn by the training curve (the full history, before downsampling)."""
        x, _ = self.train_curve.getOriginalDataset()
        return 0 if x is None else len(x)

    def stale(self) -> bool:
        return self._history.version != self._version

    def refresh(self) -> None:
        history = self._history
        self._version = history.version
        x = history.column("epoch")
        train, val = (history.column(c) for c in self._columns)
        if self.kind == "metric" and self._metric_name == "r2":
            train, val = np.maximum(train, -1.0), np.maximum(val, -1.0)
        thick = history.count <= THICK_EPOCHS
        restyle = thick != self._thick
        self._thick = thick
        self.train_curve.setData(x, train, **(_curve_style(TRAIN_COLOR, thick) if restyle else {}))
        self.val_curve.setData(x, val, **(_curve_style(VAL_COLOR, thick) if restyle else {}))
        if self._follow:
            self._follow_run(history.count, np.concatenate([train, val]))
        self.val_curve.setVisible(bool(np.isfinite(val).any()) or history.count == 0)
        if history.run != self._run:
            for line in self._marks:
                self.canvas.getPlotItem().removeItem(line)
            self._marks, self._run = [], history.run
        for marker in history.markers[len(self._marks):]:
            self._add_mark(marker)
        self._show_readout()

    def _follow_run(self, epochs: int, values: np.ndarray) -> None:
        """Fit the axes to ``epochs`` epochs of ``values`` (any shape), changing them only when needed."""
        view = self.canvas.getPlotItem().getViewBox()
        (x0, x1), (y0, y1) = view.viewRange()
        ranges = {}
        end = x_extent(epochs)
        if (x0, x1) != (0.0, end):
            ranges["xRange"] = (0.0, end)
        if self.kind == "loss":
            values = values[np.isfinite(values)]
            if self.canvas.getPlotItem().ctrl.logYCheck.isChecked():
                values = np.log10(values[values > 0])
            if values.size:
                low, high = float(values.min()), float(values.max())
                span = high - low if high > low else max(abs(high), 1.0) * 0.1
                fits = y0 <= low and high <= y1 and span >= Y_SNUG * (y1 - y0)
                if not fits:
                    ranges["yRange"] = (low - Y_MARGIN * span, high + Y_MARGIN * span)
            elif epochs == 0:
                ranges["yRange"] = (0.0, 1.0)
        if ranges:
            view.setRange(**ranges, padding=0)

    def _add_mark(self, marker: Marker) -> None:
        color = DIVERGED_COLOR if marker.kind == "diverged" else MARKER_COLOR
        line = pg.InfiniteLine(
            pos=marker.position, angle=90, pen=pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine), label=marker.text,
            # the text ends at the line (the latest marks are near the right edge), at mid-height, clear of the legends
            labelOpts={"position": 0.6 - 0.08 * (len(self._marks) % 4), "color": color, "fill": pg.mkBrush(255, 255, 255, 220),
                       "anchors": [(1, 0.5), (1, 0.5)]},
        )
        line.setToolTip(f"{marker.text} after {marker.position:g} epochs")
        self.canvas.getPlotItem().addItem(line, ignoreBounds=True)
        self._marks.append(line)

    def _on_mouse_moved(self, scene_pos) -> None:
        view = self.canvas.getPlotItem().getViewBox()
        if not view.sceneBoundingRect().contains(scene_pos):
            return
        self._hover = view.mapSceneToView(scene_pos).x()
        self._show_readout()

    def eventFilter(self, watched, event) -> bool:
        if event.type() == event.Type.Leave:
            self._hover = None
            self._show_readout()
        return False

    def _show_readout(self) -> None:
        history = self._history
        if history.count == 0:
            self.cursor.hide()
            self.readout.setText("No epochs yet: press <b>Play</b> (Space) or <b>Step epoch</b> (→)")
            return
        epochs = history.column("epoch")
        if self._hover is None:
            index, prefix = history.count - 1, "Epoch"
            self.cursor.hide()
        else:
            index = int(np.clip(np.searchsorted(epochs, self._hover - 0.5), 0, history.count - 1))
            prefix = "At epoch"
            self.cursor.setValue(epochs[index])
            self.cursor.show()
        row = history.row(index)
        train, val = (row[c] for c in self._columns)
        parts = [f"<b>{prefix} {int(row['epoch'])}</b>", f"{_swatch(TRAIN_COLOR, 'training')} {self._format(train)}"]
        if math.isfinite(val):
            parts.append(f"{_swatch(VAL_COLOR, 'validation')} {self._format(val)}")
        if self.kind == "loss":
            parts.append(f"α {row['learning_rate']:g}")
        self.readout.setText("&nbsp;&nbsp;&nbsp;".join(parts))

    def _format(self, value: float) -> str:
        if not math.isfinite(value):
            return "—"
        if self.kind == "loss":
            return f"{value:.4g}"
        return f"{value:.3f}" if self._metric_name == "r2" else f"{value:.1%}"


def _nice_limit(value: float) -> float:
    """The smallest of 1, 2, 5 × 10ᵏ that is ≥ ``value`` (≥ 1e-3)."""
    value = max(value, 1e-3)
    decade = 10.0 ** math.floor(math.log10(value))
    return next(m * decade for m in (1.0, 2.0, 5.0, 10.0) if m * decade >= value * (1 - 1e-12))


class WeightHeatmap(QWidget):
    """The weight matrix W[l] of a chosen layer: rows = units n[l], columns = inputs n[l−1].

    Diverging colours centred on 0 with symmetric levels ±L; L only grows during a run
    (to the next 1, 2, 5 × 10ᵏ above the largest |w|), so a colour keeps its meaning
    between frames. ``show_weights`` stores the latest matrices; ``refresh`` draws them.
    """

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._matrices: list[np.ndarray | None] = []
        self._dirty = False
        self._limit = 0.0
        self._shape: tuple[int, int] | None = None

        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("weightLayerCombo")
        self.readout = _readout_label("weightReadout")
        header = QHBoxLayout()
        header.setContentsMargins(6, 2, 6, 0)
        header.addWidget(QLabel("Layer"))
        header.addWidget(self.layer_combo)
        header.addWidget(self.readout, 1)

        self.canvas = LayoutCanvas()
        self.canvas.setObjectName("weightPlot")
        self.plot_item = self.canvas.addPlot()
        self.plot_item.invertY(True)
        self.plot_item.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot_item.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=pg.colormap.get(WEIGHT_COLORMAP), interactive=False,
                                        label="weight w", colorMapMenu=False, width=18)
        self.colorbar.setImageItem(self.image, insert_in=self.plot_item)
        self.plot_item.scene().sigMouseMoved.connect(self._on_mouse_moved)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(self.canvas, 1)
        self.layer_combo.currentIndexChanged.connect(self._on_layer)

    def set_layers(self, layers: list[tuple[int, str, tuple[int, int]]]) -> None:
        """The layers that have weights: (0-based layer index, label, W shape (units, inputs))."""
        previous = self.layer_combo.currentData()
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for index, label, (rows, columns) in layers:
            self.layer_combo.addItem(f"{index + 1}. {label}: W[{index + 1}] {rows}×{columns}", index)
        found = self.layer_combo.findData(previous)
        self.layer_combo.setCurrentIndex(found if found >= 0 else 0)
        self.layer_combo.blockSignals(False)
        self._matrices = []
        self._on_layer()

    def show_weights(self, matrices: list[np.ndarray | None]) -> None:
        """The latest weights of every layer (None for layers without W); drawn on refresh."""
        self._matrices = matrices
        self._dirty = True

    def current_matrix(self) -> np.ndarray | None:
        """The (units, inputs) weight matrix of the chosen layer, as last received."""
        index = self.layer_combo.currentData()
        if index is None or index >= len(self._matrices):
            return None
        return self._matrices[index]

    def stale(self) -> bool:
        return self._dirty

    def refresh(self) -> None:
        self._dirty = False
        weights = self.current_matrix()
        if weights is None:
            self.image.clear()
            return
        peak = float(np.abs(weights).max()) if weights.size else 0.0
        if not math.isfinite(peak):
            peak = self._limit
        if peak > self._limit:
            self._limit = _nice_limit(peak)
            self.colorbar.setLevels((-self._limit, self._limit))
        self.image.setImage(weights.astype(np.float32), autoLevels=False, levels=(-self._limit, self._limit))
        if weights.shape != self._shape:
            self._set_shape(weights.shape)

    def _set_shape(self, shape: tuple[int, int]) -> None:
        """Cells centred on whole numbers 1..n, labelled one by one when few."""
        self._shape = shape
        rows, columns = shape
        self.image.setRect(QRectF(0.5, 0.5, columns, rows))
        style_plot_item(self.plot_item, f"input j  (n[l−1] = {columns})", f"unit i  (n[l] = {rows})")
        for axis, count in (("left", rows), ("bottom", columns)):
            ticks = [[(i, str(i)) for i in range(1, count + 1)]] if count <= TICK_LIMIT else None
            self.plot_item.getAxis(axis).setTicks(ticks)
        self.plot_item.setRange(xRange=(0.5, columns + 0.5), yRange=(0.5, rows + 0.5), padding=0)

    def _on_layer(self) -> None:
        self._limit = 0.0
        self._shape = None
        self._dirty = True
        self.readout.setText("")
        self.refresh()

    def _on_mouse_moved(self, scene_pos) -> None:
        weights = self.current_matrix()
        view = self.plot_item.getViewBox()
        if weights is None or not view.sceneBoundingRect().contains(scene_pos):
            return
        point = view.mapSceneToView(scene_pos)
        i, j = round(point.y()), round(point.x())
        if 1 <= i <= weights.shape[0] and 1 <= j <= weights.shape[1]:
            layer = self.layer_combo.currentData() + 1
            self.readout.setText(f"W[{layer}] row {i}, column {j}: w = {weights[i - 1, j - 1]:.4g}  (unit {i} ← input {j})")
