"""The live plots of the run: training and validation loss and metric per epoch.

They read the run's history (:class:`app.history.RunHistory`) and follow the
:class:`app.views.common.LiveView` contract, so the window's redraw scheduler draws them in
the same frames as every other view. Plots are drawn in the GUI thread only. Items are
created once and updated with ``setData``. Up to ``RAW_POINTS`` epochs a curve gets every
epoch (pyqtgraph downsamples it, peak, and clips it to the view); beyond, it gets a min/max
envelope (:class:`Envelope`, at most ``ENVELOPE_BUCKETS`` buckets, updated with the new
epochs only), or the visible part of the run when zoomed in, so a curve of a million epochs
costs a frame as much as one of a few thousand.

The session's other visible runs are drawn behind the current one as faded curves
(:class:`FadedRuns`: the same colours, thin and pale, validation dashed), each named at its
end, with a legend of what each does differently (``Run.differences``). They change only
when a run is added, hidden, renamed or deleted, so their points are computed once per
change, never per frame. The loss plot's epoch cursor (:meth:`EpochPlot.set_cursor_enabled`)
picks a checkpoint of the current run to look at while paused.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF
from PySide6.QtWidgets import QCheckBox, QGraphicsSimpleTextItem, QMessageBox, QToolButton, QVBoxLayout, QWidget

from core.files import FileFormatError
from core.run import Run, Session

from .history import Marker, RunHistory
from .layer_builder import LOSS_TITLES
from .plot_export import ask_export_plot
from .style import DIVERGED_COLOR, MARKER_COLOR, PLOT_FONT_POINTS, TRAIN_COLOR, VAL_COLOR, plot_font, style_plot_item
from .views.common import header_row, readout_label

THICK_EPOCHS = 600  # curves are drawn 2 px wide up to this many epochs, 1 px beyond
X_LADDER = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)  # epoch-axis ends: 10, 15, 20, 25, 30, 40, …
Y_MARGIN = 0.08  # space above and below the curves, as a share of their span
Y_SNUG = 0.6  # refit the value axis when the curves fill less than this share of it
ENVELOPE_BUCKETS = 4096  # a long curve is drawn as at most this many min/max pairs (≥ 2 a pixel)
RAW_POINTS = 2 * ENVELOPE_BUCKETS  # curves up to this many epochs (or visible epochs) are drawn point by point
FADED_ALPHA = 110  # of 255: another run's curves, behind the current run's
LEGEND_RUNS = 6  # other runs named in a plot's legend (the runs table lists them all)
LEGEND_SHARE = 0.5  # of a plot's height and width, at most, for its legend
LEGEND_DIFFERENCES = 3  # differences named per run in the legend, then "…"
CURSOR_COLOR = "#6a3d9a"
NOTE_COLOR = "#5b6472"
READOUT_GAP, READOUT_GAP_HTML = "   ", "&nbsp;&nbsp;&nbsp;"  # between the readout's parts
CURSOR_KEYS = {  # keys that move the epoch cursor (with the plot focused), as (key, Ctrl held)
    (Qt.Key.Key_Left, True): "previous", (Qt.Key.Key_Right, True): "next", (Qt.Key.Key_Home, False): "first",
    (Qt.Key.Key_End, False): "latest"}


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


def bounded_points(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``xs``, ``ys`` as they are up to ``RAW_POINTS`` rows, else as the min/max envelope of at
    most ``ENVELOPE_BUCKETS`` buckets: what a curve of any length is given to draw."""
    if len(xs) <= RAW_POINTS:
        return xs, ys
    size = -(-len(xs) // ENVELOPE_BUCKETS)
    return envelope_points(xs, *min_max_buckets(ys, size), size)


def finite_bounds(y: np.ndarray, log: bool) -> tuple[float, float] | None:
    """The smallest and largest finite value of ``y`` (with ``log``: log10 of those > 0), or None."""
    keep = np.isfinite(y) & (y > 0) if log else np.isfinite(y)
    if not keep.any():
        return None
    low, high = float(np.min(y, where=keep, initial=math.inf)), float(np.max(y, where=keep, initial=-math.inf))
    return (math.log10(low), math.log10(high)) if log else (low, high)


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


def _faded_pen(color: str, dashed: bool) -> pg.QtGui.QPen:
    faded = QColor(color)
    faded.setAlpha(FADED_ALPHA)
    return pg.mkPen(faded, width=1.5, style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)


def legend_text(run: Run, current: Run) -> str:
    """A legend line for ``run`` beside ``current``: "Run 2: from epoch 60, α = 0.1"."""
    differences = run.differences(current)
    if len(differences) > LEGEND_DIFFERENCES:
        differences = [*differences[:LEGEND_DIFFERENCES], "…"]
    return f"{run.name}: {', '.join(differences) or 'the same settings'}"


@dataclass
class _FadedItems:
    """The items that draw one other run: its two curves, its name at the end of its
    training curve, and what they were drawn from (so an unchanged run is not drawn again)."""

    train: pg.PlotDataItem
    val: pg.PlotDataItem
    name: pg.TextItem
    drawn: tuple = ()
    last_epoch: float = 0.0
    bounds: dict[bool, tuple[float, float] | None] | None = None  # by log axis


class FadedRuns:
    """The session's other visible runs on one plot: ``columns`` (training, validation) of
    each run's own record as thin pale curves behind the current run's (validation dashed),
    the run's name at the end of its training curve, and a legend (top right for the loss,
    bottom right for a metric, where the curves are not) of what each run does differently
    from the current one.

    :meth:`update` draws a run again only when its epochs, its name, the log axis or (on a
    zoomed long run) the epochs in view changed, so a frame of a training session costs a
    comparison per run. Runs whose quantity is another (an MSE beside a cross-entropy, accuracy
    beside R²) share no axis with the current run: they are not drawn, and a note in the
    plot's free corner (bottom left for the loss, top left for a metric) counts them."""

    def __init__(self, item: pg.PlotItem, columns: tuple[str, str], legend_offset: tuple[int, int], metric: bool):
        self.item, self.columns, self.metric = item, columns, metric
        self._items: dict[int, _FadedItems] = {}
        self.legend = pg.LegendItem(offset=legend_offset, brush=pg.mkBrush(255, 255, 255, 225), pen=pg.mkPen("#cfd4dc"),
                                    labelTextColor="#2b3340", labelTextSize="9pt")
        self.legend.setParentItem(item.getViewBox())
        self.legend.hide()
        self._legend_rows: tuple = ()
        self.note = QGraphicsSimpleTextItem()  # "2 runs with another loss not drawn"
        self.note.setParentItem(item.getViewBox())
        self.note.setBrush(QColor(NOTE_COLOR))
        self.note.hide()
        item.getViewBox().sigResized.connect(self._fit_legend)
        item.getViewBox().sigResized.connect(self._place_note)

    @property
    def run_ids(self) -> list[int]:
        """The runs drawn, in the session's order."""
        return list(self._items)

    def items(self, run_id: int) -> _FadedItems:
        return self._items[run_id]

    def update(self, session: Session, current_curve: pg.PlotDataItem, same: Callable[[Run], bool], log: bool,
               window: tuple[float, float] | None) -> None:
        """Draw the runs of ``session`` that are visible, not current and of the ``same``
        quantity as the current run (nothing else): each changed one again, its epochs in
        ``window`` (x0, x1) only when that is given and it is longer than ``RAW_POINTS``.
        ``current_curve`` is the current run's training curve, for the legend's first line."""
        current = session.current
        others = [run for run in session.runs if run.visible and run is not current]
        shown = [run for run in others if same(run)]
        self._show_note(sum(1 for run in others if len(run.record) and not same(run)))
        for run_id in set(self._items) - {run.id for run in shown}:
            self._remove(run_id)
        for run in shown:
            self._draw(run, log, window)
        self._items = {run.id: self._items[run.id] for run in shown}  # the session's order
        self._update_legend(shown, current, current_curve)

    def extent(self) -> float:
        """The last epoch of the longest run drawn (0 without one)."""
        return max((items.last_epoch for items in self._items.values()), default=0.0)

    def bounds(self, log: bool) -> list[tuple[float, float]]:
        """The value range of each run drawn (log10 of it with ``log``), where it has one."""
        return [b for items in self._items.values() if items.bounds and (b := items.bounds[log]) is not None]

    def _draw(self, run: Run, log: bool, window: tuple[float, float] | None) -> None:
        record = run.record
        count = len(record)
        rows = (0, count)
        if window is not None and count > RAW_POINTS:
            x = record.column("epoch")
            rows = (max(int(np.searchsorted(x, window[0])) - 1, 0), min(int(np.searchsorted(x, window[1])) + 1, count))
        drawn = (count, rows, run.name, log)
        items = self._items.get(run.id)
        if items is None:
            items = self._items[run.id] = self._new_items()
        elif items.drawn == drawn:
            return
        x = record.column("epoch")
        columns = [record.column(name) for name in self.columns]
        if items.drawn[:1] != (count,):  # new epochs: the ranges again (once per change of the run)
            items.last_epoch = float(x[-1]) if count else 0.0
            items.bounds = {on: _merged([finite_bounds(values, on) for values in columns]) for on in (False, True)}
        items.drawn = drawn
        for curve, values in zip((items.train, items.val), columns, strict=True):
            ys = np.maximum(values, -1.0) if self.metric and record.metric_name == "r2" else values
            curve.setData(*bounded_points(x[rows[0] : rows[1]], ys[rows[0] : rows[1]]))
        items.val.setVisible(bool(np.isfinite(columns[1]).any()))
        self._place_name(items, run, x, columns[0], log)

    def _place_name(self, items: _FadedItems, run: Run, x: np.ndarray, train: np.ndarray, log: bool) -> None:
        finite = np.flatnonzero(np.isfinite(train) & ((train > 0) if log else True))
        items.name.setText(run.name)
        items.name.setVisible(bool(finite.size))
        if finite.size:
            y = float(train[finite[-1]])
            items.name.setPos(float(x[finite[-1]]), math.log10(y) if log else y)

    def _new_items(self) -> _FadedItems:
        curves = []
        for color, dashed in ((TRAIN_COLOR, False), (VAL_COLOR, True)):
            curve = self.item.plot(connect="finite", pen=_faded_pen(color, dashed), antialias=True, autoDownsampleFactor=1.0)
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            curve.setZValue(-1)  # behind the current run
            curves.append(curve)
        name = pg.TextItem(color="#5b6472", anchor=(1, 1))  # ending where the run ends, above it: never past the axis end
        name.setZValue(-1)
        self.item.addItem(name, ignoreBounds=True)
        return _FadedItems(*curves, name)

    def _remove(self, run_id: int) -> None:
        items = self._items.pop(run_id)
        for graphic in (items.train, items.val, items.name):
            self.item.removeItem(graphic)

    def _update_legend(self, shown: list[Run], current: Run | None, current_curve: pg.PlotDataItem) -> None:
        rows = () if not shown or current is None else (
            (current.name, *(legend_text(run, current) for run in shown[:LEGEND_RUNS]), len(shown) - LEGEND_RUNS))
        if rows == self._legend_rows:
            return
        self._legend_rows = rows
        self.legend.clear()
        if rows:
            self.legend.addItem(current_curve, f"{current.name} (current)")
            for run, text in zip(shown, rows[1:-1], strict=False):
                self.legend.addItem(self._items[run.id].train, text)
            if rows[-1] > 0:
                self.legend.addItem(pg.PlotDataItem(), f"and {rows[-1]} more (see Runs)")
        self._fit_legend()

    def _show_note(self, left_out: int) -> None:
        quantity = "metric" if self.metric else "loss"
        text = f"{left_out} run{'s' if left_out != 1 else ''} with another {quantity} not drawn" if left_out else ""
        if text != self.note.text():
            self.note.setText(text)
            self.note.setToolTip(f"Other runs measured another {quantity}: their values share no axis with this run's"
                                 " (the Runs table lists them all)")
            self._place_note()
        self.note.setVisible(bool(text))

    def _place_note(self) -> None:
        box = self.item.getViewBox().boundingRect()
        y = 6 if self.metric else box.height() - self.note.boundingRect().height() - 6
        self.note.setPos(6, y)

    def _fit_legend(self) -> None:
        """The legend is shown when there are other runs and it leaves most of the plot free
        (at most LEGEND_SHARE of its height and width): on a small plot the runs' names at
        the ends of their curves say enough."""
        box = self.item.getViewBox().boundingRect()
        size = self.legend.boundingRect()
        fits = size.height() <= LEGEND_SHARE * box.height() and size.width() <= LEGEND_SHARE * box.width()
        self.legend.setVisible(bool(self._legend_rows) and fits)


def loss_of(run: Run) -> str | None:
    """The title of ``run``'s loss as its experiment tells: its own loss setting, else MSE for
    a regression (R²), else None (the suggested cross-entropy of a classification)."""
    loss = run.training.get("loss")
    if loss:
        return LOSS_TITLES.get(loss, loss)
    return LOSS_TITLES["mse"] if run.record.metric_name == "r2" else None


def _merged(bounds: list[tuple[float, float] | None]) -> tuple[float, float] | None:
    found = [b for b in bounds if b is not None]
    return (min(b[0] for b in found), max(b[1] for b in found)) if found else None


def _swatch(color: str, text: str) -> str:
    return f'<span style="color:{color}; font-weight:600">━{" " + text if text else ""}</span>'


ReadoutValue = tuple[str, str, str, str]  # colour, long name, short name, the value as shown


def readout_variants(epoch: str, values: list[ReadoutValue], rate: str | None) -> list[tuple[str, str]]:
    """The readout's texts, longest first, each as (HTML, plain text): "Epoch 3 ━ training
    0.05327 ━ validation 0.04687", then short names ("train", "val"), then without the α,
    without the epoch, the colours alone naming the values, and last the epoch alone (its
    values in the tooltip). A value is in a text whole or not at all."""
    def text(epoch_shown: bool, names: int | None, shown: list[ReadoutValue], with_rate: bool) -> tuple[str, str]:
        html, plain = ([f"<b>{epoch}</b>"], [epoch]) if epoch_shown else ([], [])
        for color, *name, value in shown:
            label = "" if names is None else name[names]
            html.append(f"{_swatch(color, label)} {value}")
            plain.append(f"━{' ' + label if label else ''} {value}")
        if with_rate and rate:
            html.append(rate)
            plain.append(rate)
        return READOUT_GAP_HTML.join(html), READOUT_GAP.join(plain)

    return [text(True, 0, values, True), text(True, 1, values, True), text(True, 1, values, False),
            text(False, 1, values, False), text(False, None, values, False), text(True, None, [], False)]


def readout_tooltip(epoch: str, values: list[ReadoutValue], rate: str | None, kind: str) -> str:
    """The whole readout in words: "Epoch 3: training loss 0.05327, validation loss 0.04687"."""
    quantity = " loss" if kind == "loss" else ""
    parts = [f"{name}{quantity} {value}" for _, name, _, value in values] + ([rate] if rate else [])
    return f"{epoch}: {', '.join(parts)}"


class EpochPlot(QWidget):
    """Training and validation values of one quantity per epoch, read from ``history`` (the
    current run of ``history.session``), with the session's other visible runs faded behind.

    A header line shows the values under the mouse (or the latest epoch); vertical marks
    show setting changes and divergence. ``kind`` is "loss" or "metric".

    The plot follows the run itself instead of auto-ranging every frame: the epoch axis
    grows in steps (10, 15, 20, 25, 30, 40, …) and the value axis is refitted only when the
    curves leave it or shrink to a small part of it, so the axes (the costly part of a
    frame) are redrawn rarely. Zooming or panning stops the following; the plot's "A"
    button resumes it. A run longer than ``RAW_POINTS`` epochs is drawn as its min/max
    envelope while following, and as the epochs in view (or their envelope) when zoomed.

    The epoch cursor (:attr:`epoch_cursor`, a vertical line shown while
    :meth:`set_cursor_enabled` is on, i.e. while paused) picks the checkpoint of the current
    run to look at: dragged, or with the plot focused Ctrl+← / Ctrl+→ (the previous / next
    checkpoint), Home (the first) and End (the latest epoch), it snaps to the latest
    checkpoint at or before where it is put, says "showing epoch 60", and emits
    :attr:`cursorMoved` with that epoch (−1 back at the latest epoch) whenever it changes.
    """

    cursorMoved = Signal(int)  # the checkpoint epoch the cursor shows; -1: the latest epoch (nothing to look back at)

    def __init__(self, object_name: str, kind: str, history: RunHistory, parent: QWidget | None = None):
        super().__init__(parent)
        self.kind = kind
        self._columns = ("train_loss", "val_loss") if kind == "loss" else ("train_metric", "val_metric")
        self._metric_name = "accuracy"
        self._history = history
        self._version = self._run = -1
        self._session: Session | None = None  # the session last drawn (File ▸ Open brings another)
        self._hover: float | None = None
        self._marks: list[pg.InfiniteLine] = []
        self._follow = True
        self._thick = True
        self._envelopes = (Envelope(), Envelope())  # of the training and validation columns
        self._drawn = 0  # epochs the curves were drawn from
        self._zoomed: tuple[int, int] | None = None  # the rows drawn when zoomed in on a long run
        self._cursor_enabled = False
        self._cursor_epoch: int | None = None  # the checkpoint the cursor shows; None: the latest epoch
        self._placing = False  # the cursor is being put somewhere by this plot, not dragged

        self.readout = readout_label(f"{object_name}Readout")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.installEventFilter(self)  # a new width: the readout's variant that fits it
        self._readout_parts: tuple[str, list[ReadoutValue], str | None] | None = None  # what it shows (None: a message)
        header_widget, header = header_row()
        header.addWidget(self.readout, 1)
        self.log_check: QCheckBox | None = None
        if kind == "loss":
            self.log_check = QCheckBox("Log scale")
            self.log_check.setObjectName("lossLogCheck")
            self.log_check.setToolTip("Show the loss on a logarithmic axis: slow late progress becomes visible")
            self.log_check.setAccessibleName("Log-scale loss")
            self.log_check.toggled.connect(self.set_log_scale)
            header.addWidget(self.log_check)
        self.export_button = QToolButton()
        self.export_button.setObjectName(f"{object_name}Export")
        self.export_button.setText("Export")
        self.export_button.setToolTip("Save this plot (every run drawn, and the legend) as a PNG image or an SVG drawing")
        self.export_button.setAccessibleName("Export this plot")
        self.export_button.clicked.connect(self.ask_export)
        header.addWidget(self.export_button)

        self.canvas = pg.PlotWidget()
        self.canvas.setObjectName(object_name)
        self.canvas.setAccessibleName(f"{'Loss' if kind == 'loss' else 'Metric'} per epoch: training and validation curves")
        item = self.canvas.getPlotItem()
        # no legend over the current run's curves: the readout above names the colours with the values
        self.train_curve = _curve(item, "training", TRAIN_COLOR)
        self.val_curve = _curve(item, "validation", VAL_COLOR)
        self.faded = FadedRuns(item, self._columns, (-10, 10) if kind == "loss" else (-10, -10), metric=kind == "metric")
        self.cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen("#8a929e", width=1, style=Qt.PenStyle.DotLine))
        self.cursor.hide()
        item.addItem(self.cursor, ignoreBounds=True)
        self.epoch_cursor = pg.InfiniteLine(
            angle=90, movable=True, pen=pg.mkPen(CURSOR_COLOR, width=2), hoverPen=pg.mkPen(CURSOR_COLOR, width=4), label="",
            labelOpts={"position": 0.3, "color": CURSOR_COLOR, "fill": pg.mkBrush(255, 255, 255, 230)})
        self.epoch_cursor.setToolTip("Drag to look at an earlier checkpoint (Ctrl+← / Ctrl+→, Home, End with the plot focused)")
        self.epoch_cursor.setZValue(10)
        self.epoch_cursor.hide()
        self.epoch_cursor.sigPositionChanged.connect(self._on_cursor_dragged)
        item.addItem(self.epoch_cursor, ignoreBounds=True)
        item.disableAutoRange()
        item.sigRangeChangedManually.connect(self._on_manual_range)
        item.getViewBox().sigXRangeChanged.connect(self._on_x_range)
        self.canvas.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.canvas.viewport().installEventFilter(self)
        self.canvas.installEventFilter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(header_widget)
        layout.addWidget(self.canvas, 1)
        self._loss = "loss"  # the current run's loss (its title: "mean squared error"), for a loss plot
        self._run_losses: dict[int, str] = {}  # the loss of each run this plot showed as current, by run id
        self._titles: tuple[str, ...] = ()  # the value axis's names, longest first
        self._title = ""  # the one shown
        item.getViewBox().sigResized.connect(self._fit_title)
        self.set_quantity("loss" if kind == "loss" else "accuracy")

    def set_quantity(self, name: str) -> None:
        """What the curves show: a loss name for a loss plot, "accuracy" or "r2" for a metric plot."""
        item = self.canvas.getPlotItem()
        if self.kind == "loss":
            self._loss, self._version = name, -1  # the other runs drawn depend on the loss
            self._titles = (f"loss ({name.replace('_', ' ')})", "loss") if name != "loss" else ("loss",)
            self._fit_title()
            return
        self._metric_name, self._zoomed = name, None
        self._version = -1  # the other runs drawn depend on the metric
        if name == "r2":
            self._titles = ("R² (drawn from −1)", "R² (from −1)", "R²")
            item.setYRange(-1.0, 1.0, padding=0.02)
        else:
            self._titles = ("accuracy",)
            item.setYRange(0.0, 1.0, padding=0.02)
        self._fit_title()

    def _fit_title(self) -> None:
        """Name the value axis with the longest of ``_titles`` that fits its height (a short
        plot had "R² (drawn fro"); the axis's tooltip has the longest."""
        axis = self.canvas.getPlotItem().getAxis("left")
        font = plot_font()
        font.setPointSizeF(PLOT_FONT_POINTS + 1)  # as style_plot_item writes the axis label
        metrics = QFontMetricsF(font)
        height = axis.geometry().height() or math.inf  # 0 before the first layout
        title = next((t for t in self._titles if metrics.horizontalAdvance(t) <= height), self._titles[-1])
        if title != self._title:
            self._title = title
            style_plot_item(self.canvas.getPlotItem(), "epoch", title)
            axis.setToolTip(self._titles[0])

    def set_log_scale(self, on: bool) -> None:
        self.canvas.getPlotItem().setLogMode(x=False, y=on)
        if self.log_check is not None and self.log_check.isChecked() != on:
            self.log_check.setChecked(on)
        self._follow = True
        self._version = -1
        self.refresh()

    def ask_export(self) -> None:
        """Ask for a file and export the plot there (PNG or SVG by its suffix); a problem is one message."""
        try:
            ask_export_plot(self, self.canvas.getPlotItem(), self.canvas.objectName())
        except FileFormatError as exc:
            QMessageBox.warning(self, "Export plot", str(exc))

    def _log(self) -> bool:
        return self.canvas.getPlotItem().ctrl.logYCheck.isChecked()

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
        if self._follow:
            return
        if self._history.count > RAW_POINTS:
            self._draw_curves()
        self._draw_faded()

    def curve_points(self) -> int:
        """Epochs of the history the curves were last drawn from (before any downsampling)."""
        return self._drawn

    def stale(self) -> bool:
        return self._history.version != self._version or self._history.session is not self._session

    def new_run(self) -> None:
        """Nothing to forget: the curves are the history, which a new run clears."""

    def refresh(self) -> None:
        history = self._history
        if history.session is not self._session:
            self._run_losses.clear()  # another session's runs (their ids start at 1 again)
        self._version, self._session = history.version, history.session
        if self.kind == "loss" and history.session.current is not None:
            self._run_losses[history.session.current.id] = self._loss  # (an empty run's id is used again)
        if history.run != self._run:
            for line in self._marks:
                self.canvas.getPlotItem().removeItem(line)
            self._marks, self._run, self._zoomed = [], history.run, None
            for envelope in self._envelopes:
                envelope.reset()
            self._cursor_epoch = self._show_cursor(None, self._cursor_epoch)
        columns = [history.column(c) for c in self._columns]
        for envelope, values in zip(self._envelopes, columns, strict=True):
            envelope.update(values)
        self._draw_curves()
        self._draw_faded()
        if self._follow:
            self._follow_run(history.column("epoch"))
        self.val_curve.setVisible(self._envelopes[1].bounds(columns[1], log=False) is not None or history.count == 0)
        for marker in history.markers[len(self._marks):]:
            self._add_mark(marker)
        if self._cursor_enabled:
            self._place_cursor()
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
                xs, ys = bounded_points(x[rows[0] : rows[1]], values[rows[0] : rows[1]])  # zoomed: maybe many in view
            if r2:
                ys = np.maximum(ys, -1.0)
            curve.setData(xs, ys, **(_curve_style(color, thick) if restyle else {}))

    def _draw_faded(self) -> None:
        """The session's other visible runs (each drawn again only when it changed)."""
        window = None if self._follow else tuple(self.canvas.getPlotItem().getViewBox().viewRange()[0])
        self.faded.update(self._history.session, self.train_curve, self._same_quantity, self._log(), window)

    def _same_quantity(self, run: Run) -> bool:
        """Whether ``run`` measured what the current run does (the same loss, the same metric):
        a run of unknown loss counts as the same."""
        if self.kind == "metric":
            return run.record.metric_name == self._metric_name
        loss = self._run_losses.get(run.id) or loss_of(run)
        return loss is None or loss == self._loss

    def _follow_run(self, epochs: np.ndarray) -> None:
        """Fit the axes to the run's ``epochs`` (the epoch column) and the other runs drawn,
        changing them only when needed."""
        view = self.canvas.getPlotItem().getViewBox()
        (x0, x1), (y0, y1) = view.viewRange()
        ranges = {}
        last = max(int(epochs[-1]) if len(epochs) else 0, math.ceil(self.faded.extent()))
        end = x_extent(last)
        if (x0, x1) != (0.0, end):
            ranges["xRange"] = (0.0, end)
        if self.kind == "loss":
            log = self._log()
            bounds = [b for envelope, name in zip(self._envelopes, self._columns, strict=True)
                      if (b := envelope.bounds(self._history.column(name), log)) is not None]
            bounds += self.faded.bounds(log)
            if bounds:
                low, high = min(b[0] for b in bounds), max(b[1] for b in bounds)
                span = high - low if high > low else max(abs(high), 1.0) * 0.1
                fits = y0 <= low and high <= y1 and span >= Y_SNUG * (y1 - y0)
                if not fits:
                    ranges["yRange"] = (low - Y_MARGIN * span, high + Y_MARGIN * span)
            elif last == 0:
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
        """Write each mark's text (and the cursor's) on the side of its line with room: to the
        left of a line in the right half of the plot (the latest marks), to the right of one in
        the left half, so no text runs off the plot (a divergence in the first epoch read "ed")."""
        (x0, x1), _ = self.canvas.getPlotItem().getViewBox().viewRange()
        middle = (x0 + x1) / 2
        for line in (*self._marks, self.epoch_cursor):
            side = 1 if line.value() > middle else 0
            anchors = [(side, 0.5), (side, 0.5)]
            if line.label.anchors != anchors:
                line.label.anchors = anchors
                line.label.updatePosition()

    # ----- the epoch cursor -----------------------------------------------------------------------
    def set_cursor_enabled(self, on: bool) -> None:
        """Show the epoch cursor (at the latest epoch) or hide it. Hiding it while it shows an
        earlier checkpoint puts it back at the latest epoch and emits ``cursorMoved(-1)``."""
        self._cursor_enabled = on
        if on:
            self._place_cursor()
        else:
            self.epoch_cursor.hide()
            self._cursor_epoch = self._show_cursor(None, self._cursor_epoch)
        self._show_readout()

    def cursor_epoch(self) -> int | None:
        """The checkpoint epoch the cursor shows; None at the latest epoch (or when hidden)."""
        return self._cursor_epoch

    def cursor_epochs(self) -> list[int]:
        """The epochs the cursor stops at: the current run's checkpoints before its latest epoch."""
        latest = self._latest_epoch()
        return [epoch for epoch in self._history.current.checkpoints.epochs if epoch < latest]

    def move_cursor(self, epoch: float | None) -> None:
        """Put the cursor at ``epoch`` (None: the latest epoch): it snaps to the latest
        checkpoint at or before it (the first one before them all)."""
        self._cursor_epoch = self._show_cursor(self._snap(epoch), self._cursor_epoch)
        self._place_cursor()
        self._show_readout()

    def step_cursor(self, where: str) -> None:
        """Move the cursor to the "previous" or "next" checkpoint, the "first" one or the "latest" epoch."""
        stops = self.cursor_epochs()
        shown = self._latest_epoch() if self._cursor_epoch is None else self._cursor_epoch
        target = {"first": stops[0] if stops else None, "latest": None,
                  "previous": stops[max(bisect.bisect_left(stops, shown) - 1, 0)] if stops else None,
                  "next": next((epoch for epoch in stops if epoch > shown), None)}[where]
        self.move_cursor(target)

    def _latest_epoch(self) -> int:
        return self._history.current.epochs

    def _snap(self, epoch: float | None) -> int | None:
        """The checkpoint the cursor shows when put at ``epoch``: ``checkpoints.nearest`` of it,
        the first checkpoint before them all; None at (or past) the latest epoch."""
        stops = self.cursor_epochs()
        if epoch is None or not stops or epoch >= self._latest_epoch():
            return None
        state = self._history.current.checkpoints.nearest(epoch)
        return stops[0] if state is None else state.epoch

    def _show_cursor(self, epoch: int | None, before: int | None) -> int | None:
        """Emit ``cursorMoved`` when the cursor's epoch changes from ``before`` to ``epoch``; returns ``epoch``."""
        if epoch != before:
            self.cursorMoved.emit(-1 if epoch is None else epoch)
        return epoch

    def _place_cursor(self) -> None:
        """Put the cursor line where its epoch is, with its text; hidden before any epoch."""
        latest = self._latest_epoch()
        if self._cursor_epoch is not None and self._cursor_epoch not in self.cursor_epochs():
            self._cursor_epoch = self._show_cursor(None, self._cursor_epoch)  # that checkpoint is gone
        self.epoch_cursor.setVisible(self._cursor_enabled and latest > 0)
        stops = self.cursor_epochs()
        self._placing = True
        try:
            self.epoch_cursor.setBounds((stops[0] if stops else latest, latest))
            self.epoch_cursor.setValue(latest if self._cursor_epoch is None else self._cursor_epoch)
        finally:
            self._placing = False
        if self._cursor_epoch is not None:
            text = f"showing epoch {self._cursor_epoch}"
        else:
            text = f"epoch {latest} (latest)" + (" · drag to look back" if stops else "")
        if self.epoch_cursor.label.format != text:
            self.epoch_cursor.label.setFormat(text)

    def _on_cursor_dragged(self) -> None:
        if not self._placing:
            self.move_cursor(self.epoch_cursor.value())

    def _cursor_key(self, event) -> bool:
        """Move the cursor for a key press on the focused plot; whether the key was one of its keys."""
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        where = CURSOR_KEYS.get((event.key(), ctrl))
        if where is None or not self._cursor_enabled:
            return False
        self.step_cursor(where)
        return True

    # ----- the readout ----------------------------------------------------------------------------
    def _on_mouse_moved(self, scene_pos) -> None:
        view = self.canvas.getPlotItem().getViewBox()
        if not view.sceneBoundingRect().contains(scene_pos):
            return
        self._hover = view.mapSceneToView(scene_pos).x()
        self._show_readout()

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.readout:
            self._fit_readout()
        elif event.type() == QEvent.Type.Leave:
            self._hover = None
            self._show_readout()
        elif event.type() == QEvent.Type.KeyPress and watched is self.canvas:
            return self._cursor_key(event)
        return False

    def _show_readout(self) -> None:
        history = self._history
        if history.count == 0:
            self.cursor.hide()
            self._readout_parts = None
            self.readout.setText("No epochs yet: press <b>Play</b> (Space) or <b>Step epoch</b> (→)")
            self.readout.setToolTip("")
            return
        epochs = history.column("epoch")
        shown = self._hover if self._hover is not None else self._cursor_epoch
        if shown is None:
            index, prefix = history.count - 1, "Epoch"
            self.cursor.hide()
        else:
            index = int(np.clip(np.searchsorted(epochs, shown - 0.5), 0, history.count - 1))
            prefix = "At epoch" if self._hover is not None else "Showing epoch"
            self.cursor.setValue(epochs[index])
            self.cursor.setVisible(self._hover is not None)
            if self._hover is None and epochs[index] != shown:  # a branch's first checkpoint: its parent's epoch
                self._readout_parts = None
                self.readout.setText(f"<b>{prefix} {shown}</b> (where {history.current.name} starts)")
                self.readout.setToolTip("")
                return
        row = history.row(index)
        train, val = (row[c] for c in self._columns)
        values = [(TRAIN_COLOR, "training", "train", self._format(train))]
        if math.isfinite(val):
            values.append((VAL_COLOR, "validation", "val", self._format(val)))
        rate = f"α {row['learning_rate']:g}" if self.kind == "loss" and shown is not None else None  # the latest α is in the toolbar
        self._readout_parts = (f"{prefix} {int(row['epoch'])}", values, rate)
        self._fit_readout()

    def _fit_readout(self) -> None:
        """Write the readout's longest variant that fits the label (:func:`readout_variants`),
        so a number is shown whole or not at all, never cut mid-digits; the tooltip says it all."""
        if self._readout_parts is None:
            return
        bold = QFont(self.readout.font())
        bold.setBold(True)  # every part measured bold: a little wider than drawn, never narrower
        metrics = QFontMetricsF(bold)
        width = self.readout.contentsRect().width()
        variants = readout_variants(*self._readout_parts)
        html = next((html for html, plain in variants if metrics.horizontalAdvance(plain) <= width), variants[-1][0])
        if html != self.readout.text():
            self.readout.setText(html)
        tip = readout_tooltip(*self._readout_parts, self.kind)
        if tip != self.readout.toolTip():
            self.readout.setToolTip(tip)

    def _format(self, value: float) -> str:
        if not math.isfinite(value):
            return "—"
        if self.kind == "loss":
            return f"{value:.4g}"
        return f"{value:.3f}" if self._metric_name == "r2" else f"{value:.1%}"
