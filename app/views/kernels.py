"""The learned kernels of a chosen Conv2D layer as a grid of small images, one per filter, live
during training (the "kernels" probe, :class:`core.conv_insight.KernelProbe`).

A layer's W has shape (filters F, KH, KW, C_in). The view shows one input channel at a time (the
channel box): filter f's KH×KW weights for that channel, in diverging colours centred on zero
(blue < 0 < red, the weights heatmap's map) with symmetric levels ±L for the whole layer, so the
filters and channels compare. L only grows during a run (the smallest 1, 2 or 5 × 10ⁿ above the
largest |w|), so a colour keeps its meaning from frame to frame. For a layer that reads the
network's own 3-channel image, "RGB" shows each kernel in colour: 0.5 + w / 2L per channel, so
grey is 0 and a kernel looks like the colour pattern it responds to most. Hovering a tile names
its filter and channel and the range of its weights.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from core.conv_insight import ConvLayer, KernelData
from core.z_distribution import nice_ceiling

from ..accessibility import describe
from ..image_grid import ImageGrid
from ..style import WEIGHT_COLORMAP
from .common import ViewPanel

RGB = -1  # the channel box's data for "all three channels as colours"


def diverging_rgb(values: np.ndarray, limit: float) -> np.ndarray:
    """Colours (..., 3) in [0, 1] of ``values`` (any shape) on the diverging map centred on 0
    with levels ±``limit`` (> 0): −limit is dark blue, 0 the map's centre (near white), +limit dark red."""
    position = np.clip(0.5 + np.asarray(values, dtype=np.float64) / (2.0 * limit), 0.0, 1.0)
    colours = pg.colormap.get(WEIGHT_COLORMAP).map(position.reshape(-1), mode="float")[:, :3]
    return colours.reshape(*position.shape, 3)


def grown_limit(peak: float, current: float) -> float:
    """The colour levels' half-width: ``current`` while it holds ``peak`` (the largest |value|),
    else the smallest 1, 2 or 5 × 10ⁿ above it (1 when everything is 0)."""
    if peak <= current:
        return current
    return nice_ceiling(peak) if peak > 0 else max(current, 1.0)


def range_text(values: np.ndarray) -> str:
    """"−0.42 … 0.57": the smallest and largest of ``values``."""
    return f"{float(values.min()):.3g} … {float(values.max()):.3g}".replace("-", "−")


class KernelsView(ViewPanel):
    """The kernels of the chosen conv layer (see the module docstring). ``layerChosen(index)``
    asks for another layer's kernels (its index in network.layers)."""

    layerChosen = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("kernels", parent)
        self.stack.removeWidget(self.canvas)  # the grid is the canvas (Export takes it)
        self.canvas.deleteLater()
        self.canvas = ImageGrid("kernelsCanvas")
        self.canvas.setToolTip("Each learned kernel of the chosen layer, one tile per filter: blue weights are negative, "
                               "red positive, white about 0 (RGB: grey is 0). Hover a tile for its filter, channel and range.")
        self.canvas.setAccessibleName("Grid of the learned convolution kernels, one per filter")
        self.stack.insertWidget(0, self.canvas)
        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("kernelsLayerCombo")
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        describe(self.layer_combo, "Convolution layer whose kernels are shown",
                 "The Conv2D layer whose kernels W (filters, kernel rows, kernel columns, input channels) are drawn")
        self.channel_combo = QComboBox()
        self.channel_combo.setObjectName("kernelsChannelCombo")
        self.channel_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        describe(self.channel_combo, "Input channel of the kernels shown",
                 "Which input channel of each kernel is drawn; RGB draws a first layer's three colour channels together")
        self.header.insertWidget(0, self.layer_combo)
        self.header.insertWidget(1, self.channel_combo)
        self.readout.setToolTip("The shape of W (filters × kernel rows × kernel columns × input channels) and the range of its weights; "
                                "the colours span ±L, which only grows during a run")
        self.finish_header()
        self.data: KernelData | None = None
        self._limits: dict[int, float] = {}  # layer index → L of its colour levels
        self._layers: tuple[ConvLayer, ...] = ()  # in the layer box
        self.layer_combo.activated.connect(self._on_layer)
        self.channel_combo.currentIndexChanged.connect(self._draw)
        self.clear()

    def clear(self) -> None:
        """Forget the kernels, the layers and the colour levels."""
        self.data, self._limits, self._layers = None, {}, ()
        for combo in (self.layer_combo, self.channel_combo):
            combo.blockSignals(True)
            combo.clear()
            combo.blockSignals(False)
        self.canvas.clear()
        self.readout.setText("")
        self.show_note("Press Play or step an epoch to see the kernels of a convolution layer.")

    def show_data(self, data: KernelData) -> None:
        if data.reason:
            self.data = None
            self.show_reason(data.reason)
            return
        self.show_canvas()
        if data.layers != self._layers:
            self._layers = data.layers
            self._fill_combo(self.layer_combo, [(layer.label, layer.index) for layer in data.layers], data.layer.index)
        if self.layer_combo.currentData() != data.layer.index:  # asked for before another layer was chosen: its result comes
            return
        self.data = data
        channels = [(f"channel {c + 1}", c) for c in range(data.layer.channels)]
        self._fill_combo(self.channel_combo, ([("RGB", RGB)] if data.layer.rgb else []) + channels, None)
        self.channel_combo.setVisible(self.channel_combo.count() > 1)  # one channel: nothing to choose
        self._draw()

    @staticmethod
    def _fill_combo(combo: QComboBox, items: list[tuple[str, int]], wanted: int | None) -> None:
        """``items`` (text, data) in ``combo`` when they changed, keeping the choice (else ``wanted``, else the first)."""
        if [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())] == items:
            return
        previous = combo.currentData() if wanted is None else wanted
        combo.blockSignals(True)
        combo.clear()
        for text, value in items:
            combo.addItem(text, value)
        found = combo.findData(previous)
        combo.setCurrentIndex(found if found >= 0 else 0)
        combo.blockSignals(False)

    def _on_layer(self) -> None:
        index = self.layer_combo.currentData()
        if index is not None:
            self.layerChosen.emit(int(index))

    def shown_values(self) -> np.ndarray | None:
        """The weights drawn: (F, KH, KW) of the chosen channel, or (F, KH, KW, 3) for RGB."""
        data, channel = self.data, self.channel_combo.currentData()
        if data is None or channel is None:
            return None
        return data.kernels if channel == RGB else data.kernels[..., channel]

    def limit(self) -> float:
        """The half-width L of the colour levels of the layer shown."""
        return self._limits.get(self.data.layer.index, 0.0) if self.data is not None else 0.0

    def _draw(self) -> None:
        values = self.shown_values()
        if values is None:
            return
        data, channel = self.data, self.channel_combo.currentData()
        limit = self._limits[data.layer.index] = grown_limit(float(np.abs(data.kernels).max()), self.limit())
        filters, kh, kw, channels = data.kernels.shape
        if channel == RGB:
            images = np.clip(0.5 + values / (2.0 * limit), 0.0, 1.0)
            where = "RGB"
        else:
            images = diverging_rgb(values, limit)
            where = f"channel {channel + 1}"
        tips = [f"filter {f + 1}, {where}: {range_text(values[f])}" for f in range(filters)]
        self.canvas.set_images(images, [f"filter {f + 1}" for f in range(filters)], tooltips=tips)
        self.readout.setText(f"W {filters}×{kh}×{kw}×{channels}: {range_text(data.kernels)} · colours ±{limit:g}")

