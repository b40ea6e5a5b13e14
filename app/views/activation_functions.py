"""Activation functions with each layer's live distribution of z: the curves of g(z) and g'(z)
of a chosen function (sigmoid, tanh, ReLU, leaky ReLU with its slope, linear) over the z range,
and behind them the histogram of the chosen layer's pre-activations z over up to 2,000 training
samples, from a probe (:class:`core.z_distribution.ZDistributionProbe`).

Where g' is (almost) 0 is shaded: |z| beyond the saturation edge for sigmoid and tanh
(g' < 0.02), z ≤ 0 for ReLU. A line above the plot counts what the histogram shows: the share
of z in saturation, the units dead (z ≤ 0 for every sample). The function defaults to the
layer's own activation; choosing another asks "what if this layer had that g".

The z axis spans ±h, the smallest 1, 2, 3 or 5 × 10ⁿ that holds 99.5 % of the layer's z (at least
±5, so the shape of g shows; the legend says how much lies beyond); like the probe's bins it
stays put while z moves inside it. The value axis spans what g and g' take there, at most
±h/2 (ReLU and linear leave the top, g' stays legible). The histogram has its own axis on the
right (share of all z of the layer per bin, in %), scaled into the value range."""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QWidget

from core.z_distribution import (
    SATURATION_SLOPE,
    LayerZ,
    ZDistribution,
    function_curves,
    histogram_range,
    saturation_edge,
)

from ..accessibility import describe
from ..layer_builder import DEFAULT_SLOPE, SLOPE_RANGE
from ..style import TRAIN_COLOR, VAL_COLOR, plot_font
from .common import ViewPanel, plot_item

FUNCTIONS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "leaky ReLU", "linear": "linear"}
FORMULAS = {"sigmoid": "1/(1 + e⁻ᶻ)", "tanh": "tanh z", "relu": "max(0, z)", "leaky_relu": "max({slope:g}·z, z)", "linear": "z"}
SHOWN_SHARE = 0.995  # the z axis covers at least this share of the layer's z (the legend says how much lies beyond)
LEAST_HALF_WIDTH = 5.0  # the z axis spans at least ±5, so the shape of g shows
CURVE_POINTS = 801  # an odd count: z = 0 (ReLU's kink) is a point
HISTOGRAM_COLOR = (120, 130, 145, 110)
SHADE_COLOR = (213, 94, 0, 28)  # VAL_COLOR, faint: where g' ≈ 0
HINT_COLOR = "#5b6472"
HISTOGRAM_MARK = "#a3aab5"  # the histogram's colour on white, for the legend
SHADE_MARK = "#f6d9c8"  # the shading's


def percent(fraction: float) -> str:
    """"41 %", "2.5 %", "< 0.1 %", "> 99 %": nothing is said as 0 % or 100 % unless it is."""
    value = 100.0 * fraction
    if 0 < value < 0.1:
        return "< 0.1 %"
    if 99 < value < 100:
        return "> 99 %"
    return f"{value:.1f} %" if 0 < value < 9.95 else f"{value:.0f} %"


def counts_text(layer: LayerZ, function: str, slope: float) -> str:
    """One line on what the layer's z mean for g = ``function``: the share of z where g' < 0.02
    for sigmoid and tanh, the dead units (z ≤ 0 for every sample) for ReLU and leaky ReLU."""
    units = f"{layer.units} unit{'s' if layer.units != 1 else ''}"
    if function in layer.saturated:
        saturated = layer.saturated[function]
        text = f"{percent(float(saturated.mean()))} of z where g′ < {SATURATION_SLOPE:g} (|z| > {saturation_edge(function):.2f})"
        always = int((saturated >= 1.0).sum())
        return text + (f" · {always} of {units} saturated for every sample" if always else "")
    inactive = percent(float(layer.inactive.mean()))
    if function == "relu":
        return f"{layer.dead} of {units} dead: z ≤ 0 for every sample · {inactive} of z ≤ 0, where g′ = 0"
    if function == "leaky_relu":
        return f"{layer.dead} of {units} with z ≤ 0 for every sample: g′ = {slope:g} there, not dead · {inactive} of z ≤ 0"
    return "g′ = 1 for every z: no saturation, no dead units"


def axis_half_width(needed: float, current: float | None) -> float:
    """The half-width of the z axis for z that need ±``needed``: ``current`` while it holds them
    and is not 3× too wide, else the smallest 1, 2, 3 or 5 × 10ⁿ ≥ ``needed``, at least LEAST_HALF_WIDTH."""
    if current is not None and needed <= current and (needed >= current / 3 or current <= LEAST_HALF_WIDTH):
        return current
    if needed <= LEAST_HALF_WIDTH:
        return LEAST_HALF_WIDTH
    decade = 10.0 ** math.floor(math.log10(needed))
    return next(m * decade for m in (1, 2, 3, 5, 10) if m * decade >= needed * (1 - 1e-9))


def shown_half_width(layer: LayerZ, current: float | None) -> tuple[float, float]:
    """The half-width h of the z axis (−h, h) that holds at least SHOWN_SHARE of the layer's z
    (by how far out each bin reaches; :func:`axis_half_width`), and the share of z beyond it."""
    edges, counts = layer.edges, layer.counts
    total = max(int(counts.sum()), 1)
    reach = np.abs(edges[:-1] + edges[1:]) / 2 + (edges[1] - edges[0]) / 2  # how far out each bin goes
    order = np.argsort(reach, kind="stable")
    covered = np.cumsum(counts[order]) / total
    needed = float(reach[order][np.searchsorted(covered, SHOWN_SHARE * (1 - 1e-12))]) if counts.any() else 0.0
    half = axis_half_width(min(needed, float(edges[-1])), current)
    beyond = float(counts[reach > half * (1 + 1e-9)].sum()) / total
    return half, beyond


class ActivationFunctionsView(ViewPanel):
    """g(z), g'(z) and the chosen layer's histogram of z; see the module docstring."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("activationFunctions", parent)
        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("activationFunctionsLayerCombo")
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        describe(self.layer_combo, "Layer whose z is shown",
                 "The dense layer whose pre-activations z = W·a + b are drawn as a histogram (units and activation)")
        self.function_combo = QComboBox()
        self.function_combo.setObjectName("activationFunctionsFunctionCombo")
        for name, title in FUNCTIONS.items():
            self.function_combo.addItem(title, name)
        describe(self.function_combo, "Activation function g shown",
                 "The function g drawn with its derivative g′: the layer's own, or another to see what it would make of these z")
        self.slope_spin = QDoubleSpinBox()
        self.slope_spin.setObjectName("activationFunctionsSlopeSpin")
        self.slope_spin.setRange(*SLOPE_RANGE)  # the layer builder's: a layer's own slope shows as it is
        self.slope_spin.setDecimals(3)
        self.slope_spin.setSingleStep(0.01)
        self.slope_spin.setValue(DEFAULT_SLOPE)
        describe(self.slope_spin, "Leaky ReLU slope", "Leaky ReLU's slope for z < 0: g(z) = max(slope·z, z), g′(z) = slope there")
        self.slope_spin.hide()
        for widget in (self.layer_combo, self.function_combo, self.slope_spin):
            self.header.addWidget(widget)
        self.finish_header()

        # two lines of text above the plot (the legend too: inside the plot it hid the curves), each as high
        # empty as with text, so that a new text re-lays out nothing
        self.counts_label = self.canvas.addLabel("3 of 8", row=0, col=0, size="10pt", color="#1f2328", justify="left")
        self.legend = self.canvas.addLabel("━ g(z)", row=1, col=0, size="10pt", justify="left")
        for row, label in enumerate((self.counts_label, self.legend)):
            self.canvas.ci.layout.setRowFixedHeight(row, label.itemRect().height())
            label.setText("")
        self._legend_parts = ["", "", "", ""]
        self.plot = plot_item(self.canvas, "z", "g(z), g′(z)", row=2, col=0)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.showAxis("right")
        right = self.plot.getAxis("right")
        right.setTickFont(plot_font())
        right.setLabel("share of z per bin", **{"font-size": "10pt", "color": HINT_COLOR})
        self.histogram = pg.PlotDataItem(stepMode="center", fillLevel=0.0, brush=pg.mkBrush(*HISTOGRAM_COLOR), pen=None)
        self.histogram.setZValue(-10)
        self.shades = [pg.LinearRegionItem((0, 0), movable=False, brush=pg.mkBrush(*SHADE_COLOR), pen=pg.mkPen(None))
                       for _ in range(2)]
        for shade in self.shades:
            shade.setZValue(-20)
            self.plot.addItem(shade, ignoreBounds=True)
        self.g_curve = pg.PlotCurveItem(pen=pg.mkPen(TRAIN_COLOR, width=3))
        self.dg_curve = pg.PlotCurveItem(pen=pg.mkPen(VAL_COLOR, width=3, style=Qt.PenStyle.DashLine))
        for item in (self.histogram, self.g_curve, self.dg_curve):
            self.plot.addItem(item)
        self.canvas.setToolTip("The activation g(z) (solid) and its derivative g′(z) (dashed) over z, and behind them the "
                               "histogram of the chosen layer's z = W·a + b over training samples (right axis: share of z per "
                               "bin). Shaded: where g′ is (almost) 0, so the layer learns (almost) nothing from those z.")
        self.canvas.setAccessibleName("Activation function, its derivative and the layer's distribution of z")
        self.data: ZDistribution | None = None
        self._labels: list[str] = []  # the layers in the combo (LayerZ.label)
        self._choices: dict[str, tuple[str, float]] = {}  # layer label → the function and slope chosen for it
        self._halves: dict[str, float] = {}  # layer label → the half-width of the z axis shown for it
        self._drawn: tuple | None = None  # (function, slope, half width) the curves show
        self._y_range = (0.0, 1.0)
        self._share_top: float | None = None  # the share (%) the right axis ends at

        self.layer_combo.currentIndexChanged.connect(self._on_layer)
        self.function_combo.currentIndexChanged.connect(self._on_function)
        self.slope_spin.valueChanged.connect(self._on_function)
        self.clear()

    # ----- state ----------------------------------------------------------------------------------
    def clear(self) -> None:
        """Forget the layers, the choices and the pictures."""
        self.data = None
        self._labels, self._choices, self._halves = [], {}, {}
        self._drawn, self._share_top = None, None
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.blockSignals(False)
        for item in (self.histogram, self.g_curve, self.dg_curve):
            item.setData([], [])
        self.counts_label.setText("")
        self._legend_parts = ["", "", "", ""]
        self.legend.setText("")
        self.show_note("Press Play or step an epoch to see each layer's z against its activation function.")

    def layer(self) -> LayerZ | None:
        """The layer chosen (None before any data)."""
        index = self.layer_combo.currentIndex()
        return self.data.layers[index] if self.data is not None and 0 <= index < len(self.data.layers) else None

    def function(self) -> tuple[str, float]:
        """The function drawn and leaky ReLU's slope."""
        return self.function_combo.currentData(), self.slope_spin.value()

    def show_data(self, data: ZDistribution) -> None:
        if not self.keep_or_explain(data):
            return
        labels = [layer.label for layer in data.layers]
        if labels != self._labels:
            current = self._labels[self.layer_combo.currentIndex()] if 0 <= self.layer_combo.currentIndex() < len(self._labels) else None
            self._labels = labels
            self.layer_combo.blockSignals(True)
            self.layer_combo.clear()
            for layer in data.layers:
                self.layer_combo.addItem(f"layer {layer.index + 1}: {layer.units} {layer.activation}")
            # the first dense layer: the first hidden one when there is one
            self.layer_combo.setCurrentIndex(labels.index(current) if current in labels else 0)
            self.layer_combo.blockSignals(False)
            self._choose_function_of(self.layer())
        self._draw()

    def _choose_function_of(self, layer: LayerZ | None) -> None:
        """Show the function chosen for ``layer`` before, else its own activation (sigmoid for
        softmax, which is not one g per unit) with its slope."""
        if layer is None:
            return
        own = layer.activation if layer.activation in FUNCTIONS else "sigmoid"
        function, slope = self._choices.get(layer.label, (own, layer.slope if layer.activation == "leaky_relu" else DEFAULT_SLOPE))
        for widget in (self.function_combo, self.slope_spin):
            widget.blockSignals(True)
        self.function_combo.setCurrentIndex(self.function_combo.findData(function))
        self.slope_spin.setValue(slope)
        for widget in (self.function_combo, self.slope_spin):
            widget.blockSignals(False)
        self.slope_spin.setVisible(function == "leaky_relu")

    def _on_layer(self) -> None:
        self._choose_function_of(self.layer())
        self._draw()

    def _on_function(self) -> None:
        function, slope = self.function()
        self.slope_spin.setVisible(function == "leaky_relu")
        layer = self.layer()
        if layer is not None:
            self._choices[layer.label] = (function, slope)
        self._draw()

    # ----- drawing ----------------------------------------------------------------------------------
    def _draw(self) -> None:
        layer = self.layer()
        if layer is None:
            return
        function, slope = self.function()
        half, beyond = shown_half_width(layer, self._halves.get(layer.label))
        self._halves[layer.label] = half
        if self._drawn != (function, slope, half):
            self._drawn = (function, slope, half)
            self._draw_function(function, slope, half)
        self._draw_histogram(layer)
        where = f", {percent(beyond)} beyond ±{half:g}" if beyond else ""
        left_out = f", {layer.nonfinite:,} non-finite left out" if layer.nonfinite else ""
        self._set_legend(2, f"z: {self.data.samples:,} samples{where}{left_out}")
        counts = html.escape(counts_text(layer, function, slope))
        if counts != self.counts_label.text:
            self.counts_label.setText(counts)
            self.counts_label.setMinimumWidth(0)  # a long line is cut rather than widen the view

    def _set_legend(self, part: int, text: str) -> None:
        """Part ``part`` of the legend line (0: g, 1: g', 2: the histogram, 3: the shading) says ``text``."""
        if self._legend_parts[part] != text:
            self._legend_parts[part] = text
            marks = (("━━", TRAIN_COLOR), ("╍╍", VAL_COLOR), ("▇", HISTOGRAM_MARK), ("▇", SHADE_MARK))
            parts = [f'<span style="color:{color}">{mark}</span> {html.escape(words)}'
                     for (mark, color), words in zip(marks, self._legend_parts, strict=True) if words]
            self.legend.setText(" &nbsp; ".join(parts))
            self.legend.setMinimumWidth(0)  # a long line is cut rather than widen the view

    def _draw_function(self, function: str, slope: float, half: float) -> None:
        """The curves over (−half, half), the value range they need, and the shading where g' ≈ 0.
        Unbounded functions (ReLU, linear) get a value range of ±half/2: g leaves the plot, g′ stays legible."""
        z = np.linspace(-half, half, CURVE_POINTS)
        g, dg = function_curves(function, slope, z)
        self.g_curve.setData(z, g)
        self.dg_curve.setData(z, dg)
        limit = max(1.0, half / 2)
        low = max(min(float(g.min()), float(dg.min()), 0.0), -limit)
        high = min(max(float(g.max()), float(dg.max()), 1.0), limit)
        pad = 0.06 * (high - low)
        self._y_range = (low - pad, high + pad)
        self.plot.setRange(xRange=(-half, half), yRange=self._y_range, padding=0)
        edge = saturation_edge(function)
        regions = [(-half, -edge), (edge, half)] if edge is not None else [(-half, 0.0)] if function == "relu" else []
        self._set_legend(3, f"g′ < {SATURATION_SLOPE:g}" if edge is not None else "g′ = 0" if function == "relu" else "")
        for shade, region in zip(self.shades, regions + [None] * (len(self.shades) - len(regions)), strict=True):
            shade.setVisible(region is not None)
            if region is not None:
                shade.setRegion(region)
        self._set_legend(0, f"g(z) = {FORMULAS[function].format(slope=slope)}")
        self._set_legend(1, "g′(z)")
        self._share_top = None  # the histogram is scaled into the new value range

    def _draw_histogram(self, layer: LayerZ) -> None:
        """Bars of the share of z per bin (%), scaled so that the right axis's top share reaches the plot's top."""
        total = max(int(layer.counts.sum()), 1)
        shares = 100.0 * layer.counts / total
        top = histogram_range(float(shares.max()), self._share_top)
        low, high = self._y_range
        self.histogram.setData(layer.edges, low + shares / top * (high - low))
        self.histogram.setFillLevel(low)
        if top != self._share_top:
            self._share_top = top
            self.plot.getAxis("right").setTicks([[(low, "0"), (high, f"{top:g} %")], [((low + high) / 2, f"{top / 2:g} %")]])
