"""Activations of one chosen sample: each layer's outputs A[l] as bars (an image when a
layer has more than ``BAR_LIMIT`` units). Data come from a probe
(:class:`core.insight.ActivationProbe`) whose sample index this view sets.

Each bar plot keeps its value range while the activations stay inside it and fill at least
a quarter of it (ends at 1, 2 or 5 × a power of ten), so its axes are not re-laid out at
every frame, and labels its ends and its middle (zero, for mixed signs)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QSpinBox, QWidget

from core.insight import ActivationData

from ..style import TRAIN_COLOR, VAL_COLOR, style_plot_item
from .common import SampleViewPanel

BAR_LIMIT = 64
MOST_UNIT_LABELS = 10  # unit numbers written under a bar plot


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10ⁿ ≥ ``value`` (0 for value ≤ 0)."""
    if value <= 0:
        return 0.0
    decade = 10.0 ** math.floor(math.log10(value))
    return next(m * decade for m in (1, 2, 5, 10) if m * decade >= value * (1 - 1e-9))


def value_range(a: np.ndarray, current: tuple[float, float] | None) -> tuple[float, float]:
    """The y range for activations ``a`` (units,): ``current`` while it holds them and they
    fill a quarter of it, else (0, nice max) when none is negative, (−nice max, 0) when none
    is positive, ±nice max|a| otherwise (zero in the middle)."""
    finite = a[np.isfinite(a)]
    low, high = float(finite.min(initial=0.0)), float(finite.max(initial=0.0))
    top = nice_ceiling(max(-low, high)) or 1.0
    new = (0.0, top) if low >= 0 else (-top, 0.0) if high <= 0 else (-top, top)
    if current is not None and current[0] <= low and high <= current[1] and top >= 0.25 * max(-current[0], current[1]):
        return current
    return new


def unit_ticks(count: int) -> list[tuple[float, str]]:
    """Unit numbers (1-based) to write under ``count`` bars: 1 and multiples of a round step."""
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100) if count / s <= MOST_UNIT_LABELS)
    return [(v, str(v)) for v in sorted({1, *range(step, count + 1, step)})]


class _Bars:
    """One layer's bar plot: positive bars in one colour, negative in another (two items of
    one brush each paint as one ``drawRects`` call)."""

    def __init__(self, plot: pg.PlotItem, count: int):
        self.plot, self.range = plot, None
        x = np.arange(count) + 1.0
        self.positive = pg.BarGraphItem(x=x, height=np.zeros(count), width=0.7, brush=TRAIN_COLOR, pen=None)
        self.negative = pg.BarGraphItem(x=x, height=np.zeros(count), width=0.7, brush=VAL_COLOR, pen=None)
        for item in (self.positive, self.negative):
            plot.addItem(item)
        plot.getAxis("bottom").setTicks([unit_ticks(count)])
        plot.setXRange(0.4, count + 0.6, padding=0)

    def show(self, a: np.ndarray) -> None:
        """Bars of the activations ``a`` (units,)."""
        self.positive.setOpts(height=np.maximum(a, 0.0))
        self.negative.setOpts(height=np.minimum(a, 0.0))
        new = value_range(a, self.range)
        if new != self.range:
            self.range = low, high = new
            self.plot.setYRange(low, high, padding=0)
            # the ends always; the middle (0 for mixed signs) where there is room for it
            self.plot.getAxis("left").setTicks([[(v, f"{v:g}") for v in (low, high)], [((low + high) / 2, f"{(low + high) / 2:g}")]])


class ActivationsView(SampleViewPanel):
    sampleChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("activationsView", parent)
        label = QLabel("Sample")
        self.header.addWidget(label)
        self.sample_spin = QSpinBox()
        self.sample_spin.setObjectName("activationSampleSpin")
        self.sample_spin.setToolTip("The sample (row of the data set, from 0) whose activations are shown")
        self.sample_spin.setAccessibleName("Sample shown")
        label.setBuddy(self.sample_spin)
        self.sample_spin.setRange(0, 0)
        self.sample_spin.valueChanged.connect(self.sampleChanged)
        self.header.addWidget(self.sample_spin)
        self.finish_header()
        self.canvas.setToolTip("Each layer's outputs A[l] for the chosen sample, one bar per unit "
                               "(blue ≥ 0, orange < 0); a colour square per unit for wide layers")
        self.canvas.setAccessibleName("Activations of each layer for the chosen sample")
        self._key = None
        self._items: list[_Bars | pg.ImageItem] = []
        self.data: ActivationData | None = None
        self.clear()

    def clear(self) -> None:
        """Forget the layers drawn and the readout."""
        self.data = None
        self._key = None
        self._items = []
        self.canvas.clear()
        self.readout.setText("")
        self.show_note("Press Play or step an epoch to see the activations.")

    def show_data(self, data: ActivationData) -> None:
        self.data = data
        self.show_canvas()
        key = (data.labels, tuple(len(a) for a in data.activations))
        if key != self._key:
            self._key = key
            self._build(data)
        for item, a in zip(self._items, data.activations, strict=True):
            if isinstance(item, _Bars):
                item.show(a)
            else:
                side = math.ceil(math.sqrt(len(a)))
                image = np.full(side * side, np.nan, dtype=np.float32)
                image[: len(a)] = a
                limit = max(float(np.nanmax(np.abs(image))), 1e-6)
                item.setImage(image.reshape(side, side), autoLevels=False, levels=(-limit, limit))
        x = ", ".join(f"{v:.3g}" for v in data.x[:6]) + (" …" if len(data.x) > 6 else "")
        self.readout.setText(f"sample {data.index}: x = ({x}), target {data.target}")

    def _build(self, data: ActivationData) -> None:
        self.canvas.clear()
        self._items = []
        for row, (label, a) in enumerate(zip(data.labels, data.activations, strict=True)):
            plot = self.canvas.addPlot(row=row, col=0)
            plot.setTitle(label, size="9pt")
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            if len(a) <= BAR_LIMIT:
                style_plot_item(plot, "", "")
                plot.showLabel("left", False)
                plot.showLabel("bottom", False)
                self._items.append(_Bars(plot, len(a)))
            else:
                item = pg.ImageItem(axisOrder="row-major")
                item.setColorMap(pg.colormap.get("CET-D1A"))
                plot.hideAxis("bottom")
                plot.hideAxis("left")
                plot.setAspectLocked(True)
                plot.addItem(item)
                self._items.append(item)
