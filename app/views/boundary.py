"""Decision boundary of a 2-D classifier: the network's output over the input plane, in the
data's raw units, with the training and validation samples on top.

Colour: each grid point takes the colour of its predicted class; the intensity is the
network's confidence (white where it hesitates: p = 0.5 for one sigmoid output, all
classes equally likely for softmax). "Regions" drops the intensity and shows only
the predicted regions. The grid is computed in the trainer's thread by a probe
(:func:`core.insight.boundary_data`); this view only colours and draws it.

A click on (or within a few pixels of) a sample emits ``samplePicked`` with its dataset index;
:meth:`BoundaryView.set_picked` rings the sample the inspector shows.

:meth:`BoundaryView.show_unit` ((layer, unit), the unit hovered in the network graph) makes the
view draw that unit's output a[l]ᵢ over the plane instead, from the probe's ``unit_map`` (the
probe computes it once told the unit: ``configure_probe("boundary", unit=...)``), on a scale
that suits its activation (:func:`unit_scale`): blue below, white at, red above its middle;
None goes back to the decision boundary.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QGraphicsItem, QWidget

from core.insight import BoundaryData, UnitMap

from ..style import CLASS_COLORS
from .common import ViewPanel, plot_item
from .picking import SamplePicker

SHADE = 0.5  # the strongest a region is tinted, so the samples on top stay visible
UNIT_SHADE = 0.65  # the strongest a unit's map is tinted: more than the regions, still leaving the samples visible
UNIT_LUT = pg.colormap.get("CET-D1").getLookupTable(nPts=256, mode="float")[:, :3]  # blue, white, red: the hues of the graph's thumbnails, brighter ends
FIXED_RANGES = {"sigmoid": (0.0, 1.0), "softmax": (0.0, 1.0), "tanh": (-1.0, 1.0)}  # the activations bounded on both sides


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


def unit_scale(activation: str, values: np.ndarray) -> tuple[float, float, float]:
    """The colour scale (low, middle, high) of a unit's outputs ``values`` (any shape): its
    activation's range for sigmoid and softmax (0–1, middle 0.5) and tanh (−1–1); 0 to the
    largest output for relu (middle: half of it); otherwise (linear, leaky ReLU) ±the largest |a|."""
    if activation in FIXED_RANGES:
        low, high = FIXED_RANGES[activation]
    elif activation == "relu":
        low, high = 0.0, max(float(values.max(initial=0.0)), 1e-6)
    else:
        top = max(float(np.abs(values).max(initial=0.0)), 1e-6)
        low, high = -top, top
    return low, (low + high) / 2, high


def scale_text(scale: tuple[float, float, float]) -> str:
    """The colour key of a unit's map: "blue −1 · white 0 · red 1"."""
    return " · ".join(f"{color} {value:.3g}".replace("-", "−") for color, value in zip(("blue", "white", "red"), scale, strict=True))


def unit_colors(values: np.ndarray, scale: tuple[float, float, float]) -> np.ndarray:
    """(r, r, 3) uint8 colours of unit outputs ``values`` (r, r) on ``scale`` (low, middle, high):
    blue at low, white at the middle, red at high, tinted at most UNIT_SHADE."""
    low, _, high = scale
    index = np.clip((values - low) / (high - low) * 255, 0, 255).astype(np.uint8)
    rgb = 1.0 - UNIT_SHADE * (1.0 - UNIT_LUT[index])
    return (rgb * 255).astype(np.uint8)


def unit_text(unit_map: UnitMap) -> str:
    """The header readout while a unit is shown (1-based numbers, as the graph's labels)."""
    return (f"showing unit {unit_map.unit + 1} of layer {unit_map.layer + 1} ({unit_map.activation}) — "
            "move off the graph to see the decision boundary")


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
        self.unit_key = pg.TextItem("", color="#1f2328", fill=pg.mkBrush(255, 255, 255, 220), anchor=(0, 0))
        self.unit_key.setParentItem(self.plot.vb)  # in the plot's corner, in pixels: it stays put when the plot is panned
        self.unit_key.setPos(6, 6)
        self.unit_key.setZValue(20)
        self.unit_key.hide()
        self.picker = SamplePicker(self.plot)
        self.picker.picked.connect(self.samplePicked)
        self.train_check.toggled.connect(self.train_points.setVisible)
        self.val_check.toggled.connect(self.val_points.setVisible)
        self.discrete_check.toggled.connect(lambda _: self._draw())
        self.canvas.setToolTip("The input plane coloured by the class the network predicts there (paler = less sure), "
                               "with the training (dots) and validation (triangles) samples; click a sample to inspect it. "
                               "Hover a unit in the network graph to see its output here instead")
        self.canvas.setAccessibleName("Decision boundary over the input plane")
        self._data: BoundaryData | None = None
        self._points: tuple[np.ndarray, ...] | None = None  # the samples drawn
        self.classes: np.ndarray | None = None  # the predicted class at each grid point (r, r), also while a unit is shown
        self.unit: tuple[int, int] | None = None  # the unit asked for by show_unit: (layer in network.layers, unit)
        self.unit_shown: UnitMap | None = None  # the unit map drawn, None while the decision boundary is
        self.clear()

    def clear(self) -> None:
        """Forget the picture, the samples and the readout."""
        self._data = None
        self._points = None
        self.classes = None
        self.unit_shown = None
        self.unit_key.hide()
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

    def show_unit(self, unit: tuple[int, int] | None) -> None:
        """Draw the output of ``unit`` = (layer in network.layers, unit), 0-based, over the plane
        as soon as a probe result carries its map; None: the decision boundary again, at once."""
        self.unit = None if unit is None else (int(unit[0]), int(unit[1]))
        self._draw()

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
        unit_map = data.unit_map
        self.unit_shown = unit_map if unit_map is not None and (unit_map.layer, unit_map.unit) == self.unit else None
        self.unit_key.setVisible(self.unit_shown is not None)
        if self.unit_shown is None:
            self.readout.setText("paler = less sure")
            self.readout.setToolTip("Colour: the class the network predicts there; the paler, the less sure it is. "
                                    "Dots: training samples; triangles: validation samples. Click a sample to inspect it.")
        else:
            scale = unit_scale(unit_map.activation, unit_map.values)
            rgb = unit_colors(unit_map.values, scale)
            self.readout.setText(unit_text(unit_map))
            self.unit_key.setText(f"unit {unit_map.unit + 1}, layer {unit_map.layer + 1} ({unit_map.activation}): {scale_text(scale)}")
            self.readout.setToolTip(f"{unit_text(unit_map)}. Colour: this unit's output a over the plane: {scale_text(scale)}. "
                                    "Dots: training samples; triangles: validation samples.")
        self.image.setImage(rgb, autoLevels=False, levels=(0, 255))
        grid = data.grid
        (x0, x1), (y0, y1), r = grid.x_range, grid.y_range, grid.resolution
        dx, dy = (x1 - x0) / (r - 1), (y1 - y0) / (r - 1)
        self.image.setRect(QRectF(x0 - dx / 2, y0 - dy / 2, (x1 - x0) + dx, (y1 - y0) + dy))

    def class_at(self, index: int) -> int:
        """The class shown at grid point ``index`` (row-major, as in ``PlaneGrid.points``)."""
        return int(self.classes.ravel()[index])
