"""The weight matrix W[l] of a chosen layer as a heatmap, in the course's shape: rows are
the units n[l], columns the inputs n[l−1] (a convolution: one row per filter, its kernel
values along the row). Fed by the "weights" probe (:func:`core.weight_layers.weight_matrices`).
Clicking a cell of a dense layer opens a small editor over it with its weight: Enter emits
``parameterEdited(layer, "W", (row, column), value)`` (0-based), Escape closes it
(:mod:`.parameter_editor`)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from core.run import parameter_text
from core.weight_layers import WeightLayer

from ..style import WEIGHT_COLORMAP, style_plot_item
from .common import epoch_label, epoch_text, header_row, readout_label
from .parameter_editor import ParameterEditor

TICK_LIMIT = 24  # label every row/column up to this many


def _nice_limit(value: float) -> float:
    """The smallest of 1, 2, 5 × 10ᵏ that is ≥ ``value`` (≥ 1e-3)."""
    value = max(value, 1e-3)
    decade = 10.0 ** math.floor(math.log10(value))
    return next(m * decade for m in (1.0, 2.0, 5.0, 10.0) if m * decade >= value * (1 - 1e-12))


class WeightHeatmap(QWidget):
    """The weight matrix W[l] of a chosen layer: rows = units n[l], columns = inputs n[l−1].

    Diverging colours centred on 0 with symmetric levels ±L; L only grows during a run
    (to the next 1, 2, 5 × 10ᵏ above the largest |w|), so a colour keeps its meaning
    between frames. :meth:`receive` keeps the latest matrices (a probe result whose data
    is a list of (units, inputs) arrays, None for layers without W); ``refresh`` draws them.
    """

    parameterEdited = Signal(int, str, object, float)  # layer (0-based in network.layers), "W", (row, column), value

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._matrices: list[np.ndarray | None] = []
        self._dirty = False
        self._epoch = ""
        self._limit = 0.0
        self._shape: tuple[int, int] | None = None
        self._layers: dict[int, WeightLayer] = {}

        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("weightLayerCombo")
        self.layer_combo.setToolTip("The layer l whose weight matrix W[l] is drawn")
        self.layer_combo.setAccessibleName("Layer of the weight heatmap")
        self.readout = readout_label("weightReadout")
        self.epoch_label = epoch_label("weightEpoch")
        header_widget, header = header_row()
        header.addWidget(QLabel("Layer"))
        header.addWidget(self.layer_combo)
        header.addWidget(self.readout, 1)
        header.addWidget(self.epoch_label)

        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setObjectName("weightPlot")
        self.canvas.setAccessibleName("Weight heatmap: one row per unit, one column per input; blue negative, red positive")
        self.plot_item = self.canvas.addPlot()
        self.plot_item.invertY(True)
        self.plot_item.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot_item.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=pg.colormap.get(WEIGHT_COLORMAP), interactive=False,
                                        label="weight w", colorMapMenu=False, width=18)
        self.colorbar.setImageItem(self.image, insert_in=self.plot_item)
        self.plot_item.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plot_item.scene().sigMouseClicked.connect(self._on_clicked)
        self.canvas.setToolTip("Click a cell to set that weight")
        self.editor = ParameterEditor(self.canvas)
        self.editor.accepted.connect(self._edited)
        self._editing: tuple[int, tuple[int, int]] | None = None  # (layer, (row, column)) the editor sets
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(header_widget)
        layout.addWidget(self.canvas, 1)
        self.layer_combo.currentIndexChanged.connect(self._on_layer)

    def set_layers(self, layers: list[WeightLayer]) -> None:
        """The layers that have weights (:func:`core.weight_layers.weight_layers`)."""
        previous = self.layer_combo.currentData()
        self._layers = {layer.index: layer for layer in layers}
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        for layer in layers:
            rows, columns = layer.shape
            self.layer_combo.addItem(f"{layer.index + 1}. {layer.label}: W[{layer.number}] {rows}×{columns}", layer.index)
        found = self.layer_combo.findData(previous)
        self.layer_combo.setCurrentIndex(found if found >= 0 else 0)
        self.layer_combo.blockSignals(False)
        self._matrices = []
        self._on_layer()

    def receive(self, result) -> None:
        """The latest weights of every layer (a probe result); drawn on refresh."""
        self._matrices = result.data
        self._epoch = epoch_text(result.epoch, result.batch)
        self._dirty = True

    def new_run(self) -> None:
        self._matrices = []
        self._epoch = ""
        self._on_layer()

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
        self.epoch_label.setText(self._epoch)
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

    def current_layer(self) -> WeightLayer | None:
        """The chosen layer, or None before any network."""
        return self._layers.get(self.layer_combo.currentData())

    def _set_shape(self, shape: tuple[int, int]) -> None:
        """Cells centred on whole numbers 1..n, labelled one by one when few."""
        self._shape = shape
        rows, columns = shape
        self.image.setRect(QRectF(0.5, 0.5, columns, rows))
        layer = self.current_layer()
        if layer is None or layer.editable:
            style_plot_item(self.plot_item, f"input j  (n[l−1] = {columns})", f"unit i  (n[l] = {rows})")
        else:
            style_plot_item(self.plot_item, f"{layer.axes[1]}  ({columns})", f"{layer.axes[0]}  ({rows})")
        for axis, count in (("left", rows), ("bottom", columns)):
            ticks = [[(i, str(i)) for i in range(1, count + 1)]] if count <= TICK_LIMIT else None
            self.plot_item.getAxis(axis).setTicks(ticks)
        self.plot_item.setRange(xRange=(0.5, columns + 0.5), yRange=(0.5, rows + 0.5), padding=0)

    def _on_layer(self) -> None:
        self.editor.hide()
        self._limit = 0.0
        self._shape = None
        self._dirty = True
        self.readout.setText("")
        self.refresh()

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The (row, column) (1-based) of the cell of the drawn matrix at the scene point, or None."""
        weights = self.current_matrix()
        view = self.plot_item.getViewBox()
        if weights is None or not view.sceneBoundingRect().contains(scene_pos):
            return None
        point = view.mapSceneToView(scene_pos)
        i, j = round(point.y()), round(point.x())
        return (i, j) if 1 <= i <= weights.shape[0] and 1 <= j <= weights.shape[1] else None

    def edit_cell(self, row: int, column: int) -> None:
        """Open the editor on the weight at ``row``, ``column`` (1-based) of the drawn matrix, over its cell."""
        layer = self.current_layer()
        self._editing = (layer.index, (row - 1, column - 1))
        corner = self.plot_item.getViewBox().mapViewToScene(QPointF(column - 0.5, row - 0.5))
        self.editor.open_at(self.canvas.mapFromScene(corner), parameter_text(layer.number, "W", (row - 1, column - 1)),
                            self.current_matrix()[row - 1, column - 1])

    def _on_clicked(self, event) -> None:
        layer = self.current_layer()
        editable = layer is not None and layer.editable and event.button() == Qt.MouseButton.LeftButton
        cell = self.cell_at(event.scenePos()) if editable else None
        if cell is not None:
            event.accept()
            self.edit_cell(*cell)

    def _edited(self, value: float) -> None:
        if self._editing is not None:
            layer, index = self._editing
            self.parameterEdited.emit(layer, "W", index, value)

    def _on_mouse_moved(self, scene_pos) -> None:
        cell = self.cell_at(scene_pos)
        if cell is not None:
            i, j = cell
            layer = self.current_layer()
            where = f"unit {i} ← input {j}" if layer.editable else f"{layer.axes[0]} {i}, {layer.axes[1]} {j}"
            self.readout.setText(f"W[{layer.number}] row {i}, column {j}: w = {self.current_matrix()[i - 1, j - 1]:.4g}  ({where})")
