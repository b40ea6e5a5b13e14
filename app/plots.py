"""The live plots of the run: training and validation loss and metric per epoch.

They read the run's history (:class:`app.history.RunHistory`) and follow the
:class:`app.views.common.LiveView` contract, so the window's redraw scheduler draws them in
the same frames as every other view. Plots are drawn in the GUI thread only. Items are
created once and updated with ``setData``. Up to ``RAW_POINTS`` epochs a curve gets every
epoch (pyqtgraph downsamples it, peak, and clips it to the view); beyond, it gets a min/max
envelope (:class:`Envelope`, at most ``ENVELOPE_BUCKETS`` buckets, updated with the new
epochs only), or the visible part of the run when zoomed in, so a curve of a million epochs
costs a frame as much as one of a few thousand.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QVBoxLayout, QWidget

from .history import Marker, RunHistory
from .style import DIVERGED_COLOR, MARKER_COLOR, TRAIN_COLOR, VAL_COLOR, style_plot_item
from .views.common import header_row, readout_label

THICK_EPOCHS = 600  # curves are drawn 2 px wide up to this many epochs, 1 px beyond
X_LADDER = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)  # epoch-axis ends: 10, 15, 20, 25, 30, 40, …
Y_MARGIN = 0.08  # space above and below the curves, as a share of their span
Y_SNUG = 0.6  # refit the value axis when the curves fill less than this share of it
ENVELOPE_BUCKETS = 4096  # a long curve is drawn as at most this many min/max pairs (≥ 2 a pixel)
RAW_POINTS = 2 * ENVELOPE_BUCKETS  # curves up to this many epochs (or visible epochs) are drawn point by point


def x_extent(epochs: int) -> float:
    """The end of the epoch axis for ``epochs`` epochs: the next ladder value ≥ it (≥ 10)."""
    epochs = max(epochs, 10)
    decade = 10.0 ** math.floor(math.log10(epochs))
    return next(m * decade for m in X_LADDER if m * decade >= epochs)


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


def min_max_buckets(y: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The minimum and maximum of each bucket of ``size`` consecutive values of ``y`` (the last
    bucket may hold fewer), over its finite values only: NaN for a bucket without one."""
    full = len(y) // size * size
    block = y[:full].reshape(-1, size)
    if not np.isfinite(block).all():
        block = np.where(np.isfinite(block), block, np.nan)
    low, high = np.fmin.reduce(block, axis=1), np.fmax.reduce(block, axis=1)
    if full == len(y):
        return low, high
    rest = y[full:]
    rest = rest[np.isfinite(rest)]
    last_low, last_high = (rest.min(), rest.max()) if rest.size else (np.nan, np.nan)
    return np.append(low, last_low), np.append(high, last_high)


def envelope_points(x: np.ndarray, low: np.ndarray, high: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Curve points drawing buckets of ``size`` rows of ``x`` as vertical min-to-max strokes,
    two points per bucket at its first ``x``, as pyqtgraph's peak downsampling draws them."""
    xs = np.repeat(x[::size][: len(low)], 2)
    ys = np.empty(2 * len(low))
    ys[0::2], ys[1::2] = low, high
    return xs, ys


class Envelope:
    """The min/max envelope of a growing column in buckets of ``size`` rows (a power of 2,
    doubled, pairs of buckets merged, when more than ``capacity`` would be needed): the full
    buckets are kept, the rows after them (fewer than ``size``) make one more when asked.
    :meth:`update` reads the new rows only, so keeping it costs O(1) a row."""

    def __init__(self, capacity: int = ENVELOPE_BUCKETS):
        self.capacity = capacity
        self._low, self._high = np.empty(capacity), np.empty(capacity)
        self.reset()

    def reset(self) -> None:
        """Forget every row."""
        self.size, self.count, self.done = 1, 0, 0  # rows a bucket, full buckets, rows in them
        self._positive = math.inf  # the smallest finite value > 0 of the full buckets (for a log axis)

    def update(self, y: np.ndarray) -> None:
        """Fold in the rows of ``y`` (the whole column so far) after those already folded in."""
        while self.count + (len(y) - self.done) // self.size > self.capacity:
            half = self.count // 2  # an odd last bucket goes back to the rows after the full ones
            self._low[:half] = np.fmin(self._low[0 : 2 * half : 2], self._low[1 : 2 * half : 2])
            self._high[:half] = np.fmax(self._high[0 : 2 * half : 2], self._high[1 : 2 * half : 2])
            self.size *= 2
            self.count, self.done = half, half * self.size
        new = y[self.done : self.done + (len(y) - self.done) // self.size * self.size]
        if len(new):
            low, high = min_max_buckets(new, self.size)
            self._low[self.count : self.count + len(low)], self._high[self.count : self.count + len(high)] = low, high
            self.count += len(low)
            self.done += len(new)
            self._positive = min(self._positive, float(np.min(new, where=np.isfinite(new) & (new > 0), initial=math.inf)))

    def points(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The envelope of ``y`` over ``x`` (the columns :meth:`update` read) as curve points."""
        low, high = self._low[: self.count], self._high[: self.count]
        if len(y) > self.done:
            tail_low, tail_high = min_max_buckets(y[self.done :], len(y) - self.done)
            low, high = np.append(low, tail_low), np.append(high, tail_high)
        return envelope_points(x, low, high, self.size)

    def bounds(self, y: np.ndarray, log: bool) -> tuple[float, float] | None:
        """The smallest and largest finite value of ``y`` (the column :meth:`update` read), or
        with ``log`` the log10 of the smallest and largest of those > 0; None when there is none."""
        tail = y[self.done :]
        finite = np.isfinite(tail)
        low = min(float(np.fmin.reduce(self._low[: self.count], initial=math.inf)),
                  float(np.min(tail, where=finite, initial=math.inf)))
        high = max(float(np.fmax.reduce(self._high[: self.count], initial=-math.inf)),
                   float(np.max(tail, where=finite, initial=-math.inf)))
        if not log:
            return (low, high) if high >= low else None
        positive = min(self._positive, float(np.min(tail, where=finite & (tail > 0), initial=math.inf)))
        return (math.log10(positive), math.log10(high)) if math.isfinite(positive) else None


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
    button resumes it. A run longer than ``RAW_POINTS`` epochs is drawn as its min/max
    envelope while following, and as the epochs in view (or their envelope) when zoomed.
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
        self._envelopes = (Envelope(), Envelope())  # of the training and validation columns
        self._drawn = 0  # epochs the curves were drawn from
        self._zoomed: tuple[int, int] | None = None  # the rows drawn when zoomed in on a long run

        self.readout = readout_label(f"{object_name}Readout")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        header_widget, header = header_row()
        header.addWidget(self.readout, 1)
        self.log_check: QCheckBox | None = None
        if kind == "loss":
            self.log_check = QCheckBox("Log scale")
            self.log_check.setObjectName("lossLogCheck")
            self.log_check.setToolTip("Show the loss on a logarithmic axis: slow late progress becomes visible")
            self.log_check.toggled.connect(self.set_log_scale)
            header.addWidget(self.log_check)

        self.canvas = pg.PlotWidget()
        self.canvas.setObjectName(object_name)
        self.canvas.setAccessibleName(f"{'Loss' if kind == 'loss' else 'Metric'} per epoch: training and validation curves")
        item = self.canvas.getPlotItem()
        # no legend over the curves: the readout above names the colours with the values
        self.train_curve = _curve(item, "training", TRAIN_COLOR)
        self.val_curve = _curve(item, "validation", VAL_COLOR)
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen("#8a929e", width=1, style=Qt.PenStyle.DotLine))
        self.cursor.hide()
        item.addItem(self.cursor, ignoreBounds=True)
        item.disableAutoRange()
        item.sigRangeChangedManually.connect(self._on_manual_range)
        item.getViewBox().sigXRangeChanged.connect(self._on_x_range)
        self.canvas.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.canvas.viewport().installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(header_widget)
        layout.addWidget(self.canvas, 1)
        self.set_quantity("loss" if kind == "loss" else "accuracy")

    def set_quantity(self, name: str) -> None:
        """What the curves show: a loss name for a loss plot, "accuracy" or "r2" for a metric plot."""
        item = self.canvas.getPlotItem()
        if self.kind == "loss":
            style_plot_item(item, "epoch", f"loss ({name.replace('_', ' ')})" if name != "loss" else "loss")
            return
        self._metric_name, self._zoomed = name, None
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
        else:
            self._on_x_range()

    def _on_x_range(self) -> None:
        """Zoomed in on (or panned along) a long run: draw the epochs now in view."""
        if not self._follow and self._history.count > RAW_POINTS:
            self._draw_curves()

    def curve_points(self) -> int:
        """Epochs of the history the curves were last drawn from (before any downsampling)."""
        return self._drawn

    def stale(self) -> bool:
        return self._history.version != self._version

    def new_run(self) -> None:
        """Nothing to forget: the curves are the history, which a new run clears."""

    def refresh(self) -> None:
        history = self._history
        self._version = history.version
        if history.run != self._run:
            for line in self._marks:
                self.canvas.getPlotItem().removeItem(line)
            self._marks, self._run, self._zoomed = [], history.run, None
            for envelope in self._envelopes:
                envelope.reset()
        columns = [history.column(c) for c in self._columns]
        for envelope, values in zip(self._envelopes, columns, strict=True):
            envelope.update(values)
        self._draw_curves()
        if self._follow:
            self._follow_run(history.count)
        self.val_curve.setVisible(self._envelopes[1].bounds(columns[1], log=False) is not None or history.count == 0)
        for marker in history.markers[len(self._marks):]:
            self._add_mark(marker)
        self._place_mark_labels()
        self._show_readout()

    def _draw_curves(self) -> None:
        """Give both curves the epochs to draw: all of them up to ``RAW_POINTS``, else the
        envelope of the run while following, or what is in view when zoomed in."""
        history = self._history
        x = history.column("epoch")
        count = len(x)
        thick = count <= THICK_EPOCHS
        restyle = thick != self._thick
        self._thick, self._drawn = thick, count
        rows = (0, count)
        if count > RAW_POINTS and not self._follow:
            (x0, x1), _ = self.canvas.getPlotItem().getViewBox().viewRange()
            rows = (max(int(np.searchsorted(x, x0)) - 1, 0), min(int(np.searchsorted(x, x1)) + 1, count))
            if rows == self._zoomed and not restyle:
                return  # rows already there never change: the same rows in view, the same curves
        self._zoomed = rows if count > RAW_POINTS and not self._follow else None
        r2 = self.kind == "metric" and self._metric_name == "r2"
        for curve, name, envelope, color in zip((self.train_curve, self.val_curve), self._columns, self._envelopes,
                                                (TRAIN_COLOR, VAL_COLOR), strict=True):
            values = history.column(name)
            if count > RAW_POINTS and self._follow:
                xs, ys = envelope.points(x, values)
            else:
                xs, ys = x[rows[0] : rows[1]], values[rows[0] : rows[1]]
                if len(xs) > RAW_POINTS:  # zoomed, yet many epochs in view
                    size = -(-len(xs) // ENVELOPE_BUCKETS)
                    xs, ys = envelope_points(xs, *min_max_buckets(ys, size), size)
            if r2:
                ys = np.maximum(ys, -1.0)
            curve.setData(xs, ys, **(_curve_style(color, thick) if restyle else {}))

    def _follow_run(self, epochs: int) -> None:
        """Fit the axes to the run's ``epochs`` epochs, changing them only when needed."""
        view = self.canvas.getPlotItem().getViewBox()
        (x0, x1), (y0, y1) = view.viewRange()
        ranges = {}
        end = x_extent(epochs)
        if (x0, x1) != (0.0, end):
            ranges["xRange"] = (0.0, end)
        if self.kind == "loss":
            log = self.canvas.getPlotItem().ctrl.logYCheck.isChecked()
            bounds = [b for envelope, name in zip(self._envelopes, self._columns, strict=True)
                      if (b := envelope.bounds(self._history.column(name), log)) is not None]
            if bounds:
                low, high = min(b[0] for b in bounds), max(b[1] for b in bounds)
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
            labelOpts={"position": 0.6 - 0.08 * (len(self._marks) % 4), "color": color, "fill": pg.mkBrush(255, 255, 255, 220)},
        )
        line.setToolTip(f"{marker.text} after {marker.position:g} epochs")
        self.canvas.getPlotItem().addItem(line, ignoreBounds=True)
        self._marks.append(line)

    def _place_mark_labels(self) -> None:
        """Write each mark's text on the side of its line with room: to the left of a line in
        the right half of the plot (the latest marks), to the right of one in the left half,
        so no text runs off the plot (a divergence in the first epoch read "ed")."""
        (x0, x1), _ = self.canvas.getPlotItem().getViewBox().viewRange()
        middle = (x0 + x1) / 2
        for line in self._marks:
            side = 1 if line.value() > middle else 0
            anchors = [(side, 0.5), (side, 0.5)]
            if line.label.anchors != anchors:
                line.label.anchors = anchors
                line.label.updatePosition()

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
        if self.kind == "loss" and self._hover is not None:  # the latest α is in the toolbar
            parts.append(f"α {row['learning_rate']:g}")
        self.readout.setText("&nbsp;&nbsp;&nbsp;".join(parts))

    def _format(self, value: float) -> str:
        if not math.isfinite(value):
            return "—"
        if self.kind == "loss":
            return f"{value:.4g}"
        return f"{value:.3f}" if self._metric_name == "r2" else f"{value:.1%}"
