"""The loss surface (core.loss_surface): for a model with two trainable numbers, the training
loss over the (w, b) plane as a heatmap with contour lines and the gradient-descent path on
it; for any network, the loss along a line or over a plane through its current weights,
computed on demand (Compute) in the trainer's process.

Colour and contours follow log₁₀ of the loss, so the valley floor and a diverging path far
up its walls both show. The path is the run's (w, b) after each kept epoch (:meth:`set_path`,
from the run's checkpoints) with the probe's current point appended; when it leaves the grid
the view asks the probe (:attr:`configureProbe`) for an extent that holds it."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QToolButton, QWidget

from core.loss_surface import SAMPLE_LIMIT, Grid, SurfaceData

from ..style import DIVERGED_COLOR, TRAIN_COLOR, VAL_COLOR
from .common import ViewPanel, plot_item

CONTOURS = 12  # contour lines, evenly spaced in log₁₀(loss)
COLORMAP = "viridis"
MODE_TEXTS = (("plane2", "w, b plane"), ("line", "Line"), ("plane", "Plane"))
DIRECTION_TEXTS = (("random", "Random"), ("gradient", "Gradient"))


def log_losses(losses: np.ndarray) -> np.ndarray:
    """log₁₀ of the losses, finite everywhere: a loss of 0 (a perfect fit) takes the smallest
    positive one's log minus 1, one too large to be finite the largest finite log."""
    finite = losses[np.isfinite(losses)]
    positive = finite[finite > 0]
    floor = float(np.log10(positive.min())) - 1.0 if positive.size else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(losses)
    top = float(logs[np.isfinite(logs)].max(initial=floor))
    logs = np.where(np.isnan(logs) | (logs == np.inf), top, logs)
    return np.where(logs == -np.inf, floor, logs)


def path_box(points: np.ndarray) -> tuple[float, float, float, float] | None:
    """(w₀, w₁, b₀, b₁) of the finite points (k, 2); None without any."""
    points = points[np.isfinite(points).all(axis=1)]
    if not len(points):
        return None
    return float(points[:, 0].min()), float(points[:, 0].max()), float(points[:, 1].min()), float(points[:, 1].max())


class LossSurfaceView(ViewPanel):
    """The loss-surface view (ViewPanel "lossSurface"). ``configureProbe`` carries attributes for
    ``configure_probe("lossSurface", **attributes)``."""

    configureProbe = Signal(dict)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("lossSurface", parent)
        self.mode_combo = QComboBox()
        self.mode_combo.setObjectName("lossSurfaceMode")
        for key, text in MODE_TEXTS:
            self.mode_combo.addItem(text, key)
        self.mode_combo.setToolTip("w, b plane: the loss of a model with two trainable numbers over all their values. "
                                   "Line / Plane: the loss along a line or over a plane through the current weights of any network")
        self.mode_combo.setAccessibleName("Loss surface kind")
        self.directions_combo = QComboBox()
        self.directions_combo.setObjectName("lossSurfaceDirections")
        for key, text in DIRECTION_TEXTS:
            self.directions_combo.addItem(text, key)
        self.directions_combo.setToolTip("Random: filter-normalised random directions (each unit's weights scaled to that "
                                         "unit's own weight norm, biases fixed; Li et al. 2018). Gradient: along −∇L (scaled "
                                         "to the weights' norm); a plane's second direction is random")
        self.directions_combo.setAccessibleName("Directions")
        self.compute_button = QToolButton()
        self.compute_button.setObjectName("lossSurfaceCompute")
        self.compute_button.setText("Compute")
        self.compute_button.setAccessibleName("Compute the loss surface")
        self.compute_button.setToolTip(f"Compute the line or plane through the current weights (in the trainer's process, "
                                       f"on at most {SAMPLE_LIMIT:,} training samples)")
        for widget in (self.mode_combo, self.directions_combo, self.compute_button):
            self.header.addWidget(widget)
        self.finish_header()
        self.caption = QLabel()
        self.caption.setObjectName("lossSurfaceCaption")
        self.caption.setProperty("hint", True)
        self.caption.setWordWrap(True)
        self.caption.setContentsMargins(6, 0, 6, 0)
        self.layout().insertWidget(1, self.caption)
        self.mode_combo.activated.connect(self._mode_chosen)
        self.compute_button.clicked.connect(self.compute)

        self.plot = plot_item(self.canvas, "w", "b")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get(COLORMAP))
        self.plot.addItem(self.image)
        self.contours: list[pg.IsocurveItem] = []
        for _ in range(CONTOURS):
            contour = pg.IsocurveItem(pen=pg.mkPen(255, 255, 255, 150, width=1), axisOrder="row-major")
            contour.setParentItem(self.image)
            self.contours.append(contour)
        self.line = self.plot.plot(pen=pg.mkPen(TRAIN_COLOR, width=2))
        self.path = self.plot.plot(pen=pg.mkPen(VAL_COLOR, width=1.5), symbol="o", symbolSize=6, symbolBrush=VAL_COLOR,
                                   symbolPen=pg.mkPen("w", width=0.6))
        self.start = pg.ScatterPlotItem(size=11, symbol="s", brush=pg.mkBrush("w"), pen=pg.mkPen(VAL_COLOR, width=2))
        self.current = pg.ScatterPlotItem(size=15, symbol="star", brush=pg.mkBrush(DIVERGED_COLOR), pen=pg.mkPen("w", width=1))
        for item in (self.start, self.current):
            self.plot.addItem(item)
        self.canvas.setAccessibleName("Loss surface")
        self._request = 0
        self._requested_extent: tuple[float, float, float, float] | None = None
        self._path = np.zeros((0, 2))
        self.clear()

    # ----- what the lead calls ------------------------------------------------------------------------
    def set_path(self, points: np.ndarray) -> None:
        """The run's (w, b) in order (k, 2), e.g. after each kept epoch; drawn with the probe's current point appended."""
        self._path = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        self._draw_path()
        self._follow_path()

    def compute(self) -> None:
        """Ask the probe for the line or plane through the current weights (again)."""
        self._request += 1
        self.configureProbe.emit({"mode": self.mode, "directions": self.directions_combo.currentData(), "request": self._request})

    @property
    def mode(self) -> str:
        return self.mode_combo.currentData()

    # ----- ViewPanel ----------------------------------------------------------------------------------
    def new_run(self) -> None:
        """Forget the picture and the path (the lead gives the new run's with :meth:`set_path`)."""
        self._path = np.zeros((0, 2))
        self._requested_extent = None
        super().new_run()

    def clear(self) -> None:
        """Forget the picture (the path given stays: it is the run's)."""
        self._data: SurfaceData | None = None
        self._grid_key: int | None = None
        self.image.clear()
        for contour in self.contours:
            contour.setData(None)
        for item in (self.line, self.path):
            item.setData([], [])
        self.start.clear()
        self.current.clear()
        self.readout.setText("")
        self.caption.setText("")
        self._enable_controls()
        self.show_note("Press Play or step to see the loss surface. A model with two trainable numbers (one feature, no "
                       "hidden layer, one output unit) shows its (w, b) plane; any other shows a line or plane through its "
                       "weights on demand.")

    def show_data(self, data: SurfaceData) -> None:
        self._data = data
        if data.kind == "none":
            self.show_reason(data.reason)
            self._grid_key = None
            return
        self.show_canvas()
        grid = data.grid
        if grid is not None and grid.key != self._grid_key:
            self._grid_key = grid.key
            self._draw_grid(grid)
        self._draw_path()
        self._write_readout(data)
        if data.kind == "plane2":
            self._follow_path()

    # ----- drawing ------------------------------------------------------------------------------------
    def _enable_controls(self) -> None:
        through = self.mode != "plane2"
        self.directions_combo.setEnabled(through)
        self.compute_button.setEnabled(through)

    def _mode_chosen(self, _index: int) -> None:
        self._enable_controls()
        self._grid_key = None
        self.configureProbe.emit({"mode": self.mode, "directions": self.directions_combo.currentData()})

    def _draw_grid(self, grid: Grid) -> None:
        line = grid.kind == "line"
        self.image.setVisible(not line)
        self.line.setVisible(line)
        if line:
            self.image.clear()
            self.line.setData(grid.s, grid.losses)
            self.plot.setLabel("bottom", "t  (weights θ + t·d)")
            self.plot.setLabel("left", "loss")
            self.start.setData([0.0], [grid.centre_loss])
            self.plot.autoRange()
            return
        logs = log_losses(grid.losses)
        low, high = float(logs.min()), float(logs.max())
        if high <= low:
            high = low + 1.0
        self.image.setImage(logs, autoLevels=False, levels=(low, high))
        s, t = grid.s, grid.t
        ds, dt = (s[-1] - s[0]) / (len(s) - 1), (t[-1] - t[0]) / (len(t) - 1)
        self.image.setRect(QRectF(s[0] - ds / 2, t[0] - dt / 2, s[-1] - s[0] + ds, t[-1] - t[0] + dt))
        for level, contour in zip(np.linspace(low, high, CONTOURS + 2)[1:-1], self.contours, strict=True):
            contour.setData(logs, level)
        if grid.kind == "plane2":
            self.plot.setLabel("bottom", "w  (weight)")
            self.plot.setLabel("left", "b  (bias)")
            self.start.clear()
        else:
            self.plot.setLabel("bottom", "α  along d₁")
            self.plot.setLabel("left", "β  along d₂")
            self.start.setData([0.0], [0.0])
        self.plot.setRange(xRange=(s[0], s[-1]), yRange=(t[0], t[-1]), padding=0)

    def _shown_path(self) -> np.ndarray:
        """The path drawn: the lead's points and the probe's current point when it differs from the last."""
        data = self._data
        path = self._path
        if data is not None and data.point is not None and (not len(path) or not np.array_equal(path[-1], data.point)):
            path = np.vstack([path, np.array([data.point])])
        return path[np.isfinite(path).all(axis=1)]

    def _draw_path(self) -> None:
        data = self._data
        if data is None or data.kind != "plane2":
            self.path.setData([], [])
            self.current.clear()
            return
        path = self._shown_path()
        self.path.setData(path[:, 0], path[:, 1])
        if len(path):
            self.start.setData([path[0, 0]], [path[0, 1]])
            self.current.setData([path[-1, 0]], [path[-1, 1]])

    def _follow_path(self) -> None:
        """Ask for a grid that holds the whole path when it leaves the one shown (once per box)."""
        data = self._data
        if data is None or data.grid is None or data.kind != "plane2":
            return
        box = path_box(self._shown_path())
        w0, w1, b0, b1 = data.grid.extent
        if box is None or (w0 <= box[0] and box[1] <= w1 and b0 <= box[2] and box[3] <= b1) or box == self._requested_extent:
            return
        self._requested_extent = box
        self.configureProbe.emit({"extent": box})

    def _write_readout(self, data: SurfaceData) -> None:
        """The numbers now in the readout; what the picture is, and how it was computed, in the caption."""
        grid = data.grid
        if grid is None:
            self.readout.setText("")
            self.caption.setText("Press Compute.")
            return
        samples = (f"all {grid.train_size:,} training samples" if grid.samples == grid.train_size
                   else f"{grid.samples:,} of {grid.train_size:,} training samples (evenly spread)")
        timing = f"{grid.seconds * 1000:.0f} ms" if grid.seconds < 1 else f"{grid.seconds:.1f} s"
        if data.kind == "plane2":
            w, b = data.point
            self.readout.setText(f"loss {data.point_loss:.8g}   w = {w:.8g}   b = {b:.8g}")
            self.readout.setToolTip(f"{data.loss_name} = {data.point_loss!r} at w = {w!r}, b = {b!r}: on the whole training part "
                                    "at the current weights, exactly as the trainer computes it (no L1/L2 penalty)")
            self.caption.setText(f"The training loss ({data.loss_name}) over (w, b); colour and contours: log₁₀ loss (dark = low). "
                                 f"Square: where the run started; dots: the kept epochs; star: now. Grid {len(grid.s)}×{len(grid.t)} "
                                 f"on {samples}, {timing}.")
            return
        how = "random filter-normalised directions" if grid.directions == "random" else "−∇L (and a random second direction)"
        if data.kind == "line":
            how = "a random filter-normalised direction" if grid.directions == "random" else "−∇L"
        when = f"epoch {grid.epoch}" + (f" + {grid.batch} batches" if grid.batch else "")
        self.readout.setText(f"loss {grid.centre_loss:.8g} at the weights of {when}"
                             + ("" if math.isfinite(grid.centre_loss) else " (not finite)"))
        self.readout.setToolTip(f"{data.loss_name} at the weights the {grid.kind} was computed through (square), on the same samples")
        self.caption.setText(f"The {data.loss_name} loss through the weights of {when} (square), along {how}; on {samples}, "
                             f"{timing}. Computed once: Compute redoes it at the current weights. No L1/L2 penalty.")
