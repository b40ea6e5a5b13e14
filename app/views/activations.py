"""Activations of one chosen sample: each layer's outputs A[l] as bars (an image when a
layer has more than ``BAR_LIMIT`` units). Data come from a probe
(:class:`core.insight.ActivationProbe`) whose sample index this view sets."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QSpinBox, QWidget

from core.insight import ActivationData

from ..style import TRAIN_COLOR, VAL_COLOR
from .common import ViewPanel

BAR_LIMIT = 64


class ActivationsView(ViewPanel):
    sampleChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("activationsView", parent)
        self.header.addWidget(QLabel("Sample"))
        self.sample_spin = QSpinBox()
        self.sample_spin.setObjectName("activationSampleSpin")
        self.sample_spin.setToolTip("The sample (row of the data set) whose activations are shown")
        self.sample_spin.setRange(0, 0)
        self.sample_spin.valueChanged.connect(self.sampleChanged)
        self.header.addWidget(self.sample_spin)
        self.finish_header()
        self._key = None
        self._items: list[pg.GraphicsObject] = []
        self.data: ActivationData | None = None
        self.show_note("Press Play or step an epoch to see the activations.")

    def clear(self) -> None:
        self.data = None

    def set_sample_count(self, count: int) -> None:
        self.sample_spin.setMaximum(max(count - 1, 0))

    def show_data(self, data: ActivationData) -> None:
        self.data = data
        self.show_canvas()
        key = (data.labels, tuple(len(a) for a in data.activations))
        if key != self._key:
            self._key = key
            self._build(data)
        for item, a in zip(self._items, data.activations, strict=True):
            if isinstance(item, pg.BarGraphItem):
                item.setOpts(height=a, brushes=[pg.mkBrush(TRAIN_COLOR if v >= 0 else VAL_COLOR) for v in a])
            else:
                side = math.ceil(math.sqrt(len(a)))
                image = np.full(side * side, np.nan, dtype=np.float32)
                image[: len(a)] = a
                limit = max(float(np.nanmax(np.abs(image))), 1e-6)
                item.setImage(image.reshape(side, side), autoLevels=False, levels=(-limit, limit))
        x = ", ".join(f"{v:.3g}" for v in data.x[:6]) + (" …" if len(data.x) > 6 else "")
        self.readout.setText(f"epoch {data.epoch} · sample {data.index}: x = ({x}), target {data.target}")

    def _build(self, data: ActivationData) -> None:
        self.canvas.clear()
        self._items = []
        for row, (label, a) in enumerate(zip(data.labels, data.activations, strict=True)):
            plot = self.canvas.addPlot(row=row, col=0)
            plot.setTitle(label, size="9pt")
            plot.setMenuEnabled(False)
            if len(a) <= BAR_LIMIT:
                item = pg.BarGraphItem(x=np.arange(len(a)) + 1, height=np.zeros(len(a)), width=0.7)
                plot.getAxis("bottom").setTicks([[(i + 1, str(i + 1)) for i in range(len(a))]] if len(a) <= 20 else None)
                plot.showGrid(y=True, alpha=0.2)
            else:
                item = pg.ImageItem(axisOrder="row-major")
                item.setColorMap(pg.colormap.get("CET-D1A"))
                plot.hideAxis("bottom")
                plot.hideAxis("left")
                plot.setAspectLocked(True)
            plot.addItem(item)
            self._items.append(item)
