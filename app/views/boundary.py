"""Decision boundary of a 2-D classifier: the network's output over the input plane, in the
data's raw units, with the training and validation samples on top.

Colour: each grid point takes the colour of its predicted class; the intensity is the
network's confidence (white where it hesitates: p = 0.5 for one sigmoid output, all
classes equally likely for softmax). "Regions" drops the intensity and shows only
the predicted regions. The grid is computed in the trainer's thread by a probe
(:func:`core.insight.boundary_data`); this view only colours and draws it.

A click on (or within a few pixels of) a sample emits ``samplePicked`` with its dataset index;
:meth:`BoundaryView.set_picked` rings the sample the inspector shows.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QGraphicsItem, QWidget

from core.insight import BoundaryData

from ..style import CLASS_COLORS
from .common import ViewPanel, plot_item
from .picking import SamplePicker

SHADE = 0.5  # the strongest a region is tinted, so the samples on top stay visible


def class_rgb(k: int) -> np.ndarray:
    """(k, 3) class colours in 0..1."""
    return np.array([QColor(CLASS_COLORS[i % len(CLASS_COLORS)]).getRgbF()[:3] for i in range(k)], dtype=np.float32)


def shade(outputs: np.ndarray, discrete: bool) -> tuple[np.ndarray, np.ndarray]:
    """(r, r, 3) uint8 colours and (r, r) predicted classes for outputs (r, r, k)."""
    k = outputs.shape[-1]
    if k == 1:
        p = outputs[..., 0]
        classes = (p > 0.5).astype(np.int64)
        confidence = np.abs(p - 0.5) * 2.0
        colors = class_rgb(2)
    else:
        classes = outputs.argmax(axis=-1)
        top = outputs.max(axis=-1)
        confidence = np.clip((top - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)
        colors = class_rgb(k)
    strength = (np.full_like(confidence, 0.55) if discrete else confidence) * SHADE
    rgb = 1.0 - strength[..., None] * (1.0 - colors[classes])
    return (rgb * 255).astype(np.uint8), classes


class BoundaryView(ViewPanel):
    """The decision-boundary view. Feed it with :meth:`show_data`."""

    samplePicked = Signal(int)  # the dataset index of the sample clicked

    def __init__(self, parent: QWidget | None = None):
        super().__init__("boundaryView", parent)
        self.train_check = QCheckBox("Training")  # short: the header shares its row with the readout
        self.val_check = QCheckBox("Validation")
        self.discrete_check = QCheckBox("Regions")
        for check, name, spoken, tip in (
                (self.train_check, "boundaryTrainCheck", "Training points", "Draw the training samples (dots) over the predicted regions"),
                (self.val_check, "boundaryValCheck", "Validation points", "Draw the validation samples (triangles) over the predicted regions"),
                (self.discrete_check, "boundaryDiscreteCheck", "Regions only",
                 "Show only the predicted class regions, without the confidence shading")):
            check.setObjectName(name)
            check.setToolTip(tip)
            check.setAccessibleName(spoken)
            self.header.addWidget(check)
        self.train_check.setChecked(True)
        self.val_check.setChecked(True)
        self.finish_header()
        self.plot = plot_item(self.canvas, "x₁", "x₂")
        self.plot.setAspectLocked(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.train_points = pg.ScatterPlotItem(size=7, pen=pg.mkPen("#1f2328", width=0.6), name="training")
        self.val_points = pg.ScatterPlotItem(size=8, symbol="t", pen=pg.mkPen("#1f2328", width=1.2), name="validation")
        for points in (self.train_points, self.val_points):  # the samples stay put during a run: drawn from a pixmap
            points.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            self.plot.addItem(points)
        self.picker = SamplePicker(self.plot)
        self.picker.picked.connect(self.samplePicked)
        self.train_check.toggled.connect(self.train_points.setVisible)
        self.val_check.toggled.connect(self.val_points.setVisible)
        self.discrete_check.toggled.connect(lambda _: self._draw())
        self.canvas.setToolTip("The input plane coloured by the class the network predicts there (paler = less sure), "
                               "with the training (dots) and validation (triangles) samples; click a sample to inspect it")
        self.canvas.setAccessibleName("Decision boundary over the input plane")
        self._data: BoundaryData | None = None
        self._points: tuple[np.ndarray, ...] | None = None  # the samples drawn
        self.classes: np.ndarray | None = None  # the predicted class shown at each grid point (r, r)
        self.clear()

    def clear(self) -> None:
        """Forget the picture, the samples and the readout."""
        self._data = None
        self._points = None
        self.classes = None
        self.image.clear()
        self.train_points.clear()
        self.val_points.clear()
        self.picker.clear()
        self.readout.setText("")
        self.show_note("Press Play or step an epoch to see the decision boundary.")

    def show_data(self, data: BoundaryData, points=None, names: tuple[str, ...] = ()) -> None:
        """Show a probe's grid; ``points`` = (X_train, y_train, X_val, y_val) raw, then the dataset
        indices (train_idx, val_idx) of those samples (core.insight.BoundaryProbe; without them no
        sample can be picked), set on the scatter items only when they differ from the samples shown."""
        if data.reason:
            self.show_reason(data.reason)
            return
        self._data = data
        self.show_canvas()
        if points is not None and not self._same_points(points):
            self._points = points
            self._set_points(points)
            self.plot.setLabel("bottom", names[0] if names else "x₁")
            self.plot.setLabel("left", names[1] if len(names) > 1 else "x₂")
            (x0, x1), (y0, y1) = data.grid.x_range, data.grid.y_range
            self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self._draw()

    def _same_points(self, points: tuple[np.ndarray, ...]) -> bool:
        """Whether ``points`` are the samples drawn: every probe result brings its own copy of
        them from the trainer's process, and setting them again costs a scatter item ~5 ms."""
        return (self._points is not None and len(points) == len(self._points)
                and all(np.array_equal(a, b) for a, b in zip(points, self._points, strict=True)))

    def set_picked(self, index: int | None) -> None:
        """Ring dataset sample ``index`` (the one the inspector shows); None: no ring."""
        self.picker.set_picked(index)

    def _set_points(self, points: tuple[np.ndarray, ...]) -> None:
        x_train, y_train, x_val, y_val = points[:4]
        train_idx, val_idx = points[4:] if len(points) == 6 else (None, None)
        k = max(int(np.max(y_train, initial=0)), int(np.max(y_val, initial=0))) + 1
        brushes = [pg.mkBrush(c) for c in CLASS_COLORS[:k]] if k <= len(CLASS_COLORS) else [pg.mkBrush(CLASS_COLORS[i % len(CLASS_COLORS)]) for i in range(k)]
        self.train_points.setData(x_train[:, 0], x_train[:, 1], brush=[brushes[int(c)] for c in y_train])
        self.val_points.setData(x_val[:, 0], x_val[:, 1], brush=[brushes[int(c)] for c in y_val])
        groups = [] if train_idx is None else [(self.train_points, x_train[:, 0], x_train[:, 1], train_idx),
                                               (self.val_points, x_val[:, 0], x_val[:, 1], val_idx)]
        self.picker.set_points(groups)

    def _draw(self) -> None:
        data = self._data
        if data is None or data.reason:
            return
        rgb, self.classes = shade(data.outputs, self.discrete_check.isChecked())
        self.image.setImage(rgb, autoLevels=False, levels=(0, 255))
        grid = data.grid
        (x0, x1), (y0, y1), r = grid.x_range, grid.y_range, grid.resolution
        dx, dy = (x1 - x0) / (r - 1), (y1 - y0) / (r - 1)
        self.image.setRect(QRectF(x0 - dx / 2, y0 - dy / 2, (x1 - x0) + dx, (y1 - y0) + dy))
        self.readout.setText("paler = less sure")
        self.readout.setToolTip("Colour: the class the network predicts there; the paler, the less sure it is. "
                                "Dots: training samples; triangles: validation samples. Click a sample to inspect it.")

    def class_at(self, index: int) -> int:
        """The class shown at grid point ``index`` (row-major, as in ``PlaneGrid.points``)."""
        return int(self.classes.ravel()[index])
