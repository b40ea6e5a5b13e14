"""The hidden state of a recurrent layer over the time steps of one sample: a heatmap of h_t with
one row per unit and one column per step, and under it the layer's gates (LSTM: input i, forget
f, output o; GRU: reset r, update z), from the "hiddenState" probe
(:class:`core.sequence_insight.HiddenStateProbe`), which traces the layer in prediction mode in
the trainer's process.

h_t is drawn in the weights' diverging colours centred on 0 with fixed levels ±1, the range of
tanh (a SimpleRNN with another activation may leave it: those cells show the end colours); the
gates, each in [0, 1], in one sequential map (dark: closed, bright: open). The sample is the one
the inspector shows (picked in any view or in this view's box); the layer box lists every
recurrent layer when there are several. Hovering a cell names its step, unit and value.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QComboBox, QWidget

from core.sequence_insight import HiddenStateData, RecurrentLayer

from ..accessibility import describe
from ..style import TARGET_COLORMAP, WEIGHT_COLORMAP
from .common import SampleViewPanel, plot_item

GATE_NAMES = {"h": "hidden state h", "i": "input gate i", "f": "forget gate f", "o": "output gate o",
              "r": "reset gate r", "z": "update gate z"}
TICK_GAP = 8  # pixels at least between two step labels
STATE_STRETCH, GATE_STRETCH = 3, 2  # the heights of h_t's row and the gates' row
BAR_MARGIN = 8  # pixels above and below a colour bar
TITLE_POINTS = 10.0  # the heatmaps' titles
TITLE_SLACK = 30  # pixels of the canvas's margins and spacing beside h_t's title
CAPTION_TIP = "The sample, its target and the layer shown; hover a cell for its step, unit and value"
MIN_HEIGHT = 260  # pixels of the heatmaps at least: a shorter dock scrolls them


def tick_every(count: int, pixels: float, least: float) -> int:
    """Label every k-th of ``count`` cells spread over ``pixels``: the smallest k of 1, 2, 5, 10, 20, 50, …
    that puts labels at least ``least`` pixels apart (every cell before the first layout, ``pixels`` 0)."""
    if pixels <= 0 or count <= 1:
        return 1
    every, steps = 1, (2, 2.5, 2)  # 1 → 2 → 5 → 10 → 20 → 50 …
    n = 0
    while every * pixels / count < least and every < count:
        every = round(every * steps[n % 3])
        n += 1
    return min(every, count)


class Heatmap:
    """One plot of a (units, T) array: unit 1 at the top, step 1 at the left, cells centred on whole numbers.
    Its ``title`` can be cut short ("…") to a width (:meth:`fit_title`): a title's whole width is the plot's
    least, which in a narrow dock pushed the colour bar beside it out of the view, its labels cut off."""

    def __init__(self, plot: pg.PlotItem, title: str, short: str = ""):
        self.plot, self.title, self.short = plot, title, short  # short: shown instead of a title cut short
        self._font = QFont(plot.titleLabel.font())
        self._font.setPointSizeF(TITLE_POINTS)
        plot.setTitle(title, size=f"{TITLE_POINTS:g}pt")
        plot.invertY(True)
        plot.setMouseEnabled(x=False, y=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)
        self.values: np.ndarray | None = None  # (units, T), as drawn
        self._shape: tuple[int, int] | None = None
        self._ticks: dict[str, list[tuple[int, str]]] = {}  # the ticks set, by axis
        plot.vb.sigResized.connect(self._fit_ticks)

    def title_fits(self, width: float) -> bool:
        """Whether the whole ``title`` fits ``width`` pixels."""
        return QFontMetricsF(self._font).horizontalAdvance(self.title) <= width

    def fit_title(self, width: float, short: bool = False) -> bool:
        """Show ``title`` (``short`` when asked, or when the title is wider than ``width`` pixels and there is a
        short one), cut short to ``width``; whether the text shown changed."""
        title = self.short if self.short and (short or not self.title_fits(width)) else self.title
        shown = QFontMetricsF(self._font).elidedText(title, Qt.TextElideMode.ElideRight, max(width, 0.0))
        changed = shown != self.plot.titleLabel.text
        if changed:
            self.plot.setTitle(shown, size=f"{TITLE_POINTS:g}pt")
        return changed

    def set_values(self, values: np.ndarray, levels: tuple[float, float]) -> None:
        self.values = values
        self.image.setImage(values.astype(np.float32), autoLevels=False, levels=levels)
        if values.shape != self._shape:
            self._shape = units, steps = values.shape
            self.image.setRect(QRectF(0.5, 0.5, steps, units))
            self.plot.setRange(xRange=(0.5, steps + 0.5), yRange=(0.5, units + 0.5), padding=0)
            self._fit_ticks()

    def _fit_ticks(self) -> None:
        """Label the steps and units every :func:`tick_every` cells, as many as fit the plot's size without
        their labels overlapping (all of 1 … 10 in a wide plot, 2, 4, … or 5, 10, … in a narrow one)."""
        if self._shape is None:
            return
        units, steps = self._shape
        size = self.plot.vb.size()
        for name, count, pixels in (("left", units, size.height()), ("bottom", steps, size.width())):
            axis = self.plot.getAxis(name)
            metrics = QFontMetricsF(axis.style["tickFont"] or QFont())
            least = metrics.height() + 2 if name == "left" else metrics.horizontalAdvance(str(count)) + TICK_GAP
            every = tick_every(count, pixels, least)
            ticks = [(i, str(i)) for i in range(1, count + 1) if i % every == 0 or (i == 1 and every >= 5)]
            if ticks != self._ticks.get(name):
                self._ticks[name] = ticks
                axis.setTicks([ticks])

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """(step t, unit), from 1, of the cell under ``scene_pos``; None outside the picture."""
        if self.values is None or not self.plot.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.plot.vb.mapSceneToView(scene_pos)
        step, unit = round(point.x()), round(point.y())
        units, steps = self.values.shape
        return (step, unit) if 1 <= step <= steps and 1 <= unit <= units else None


class HiddenStateView(SampleViewPanel):
    """h_t and the gates of the chosen layer for the chosen sample (see the module docstring).
    ``sampleChanged(index)`` and ``layerChosen(index in network.layers)`` when the user picks one."""

    layerChosen = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__("hiddenState", parent)
        self.add_sample_box("whose hidden states are shown")
        self.layer_combo = QComboBox()
        self.layer_combo.setObjectName("hiddenStateLayerCombo")
        self.layer_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        describe(self.layer_combo, "Recurrent layer whose hidden state is shown",
                 "The recurrent layer whose hidden state h_t (and gates) are drawn for the sample")
        self.header.insertWidget(2, self.layer_combo)
        self.readout.setToolTip(CAPTION_TIP)
        self.finish_header()
        self.canvas.setToolTip("The layer's hidden state h_t for the sample: one row per unit, one column per time step "
                               "(blue negative, red positive, white about 0), and its gates from 0 (closed) to 1 (open). "
                               "Hover a cell for its step, unit and value.")
        self.canvas.setAccessibleName("Heatmaps of the hidden state and gates of a recurrent layer, units by time steps")
        self.scroll = self.scroll_canvas(MIN_HEIGHT, wheel_scrolls=True)  # the heatmaps have nothing to zoom
        self.state = Heatmap(plot_item(self.canvas, "step t", "unit", row=0, col=0), GATE_NAMES["h"])
        self.state_bar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=pg.colormap.get(WEIGHT_COLORMAP),
                                         interactive=False, label="h", colorMapMenu=False, width=14)
        self.state_bar.setImageItem(self.state.image)
        self.gate_bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get(TARGET_COLORMAP), interactive=False,
                                        label="gate", colorMapMenu=False, width=14)
        for bar in (self.state_bar, self.gate_bar):
            bar.setContentsMargins(0, BAR_MARGIN, 0, BAR_MARGIN)  # room for the end labels
        self.gates: list[Heatmap] = []
        self._gate_names: tuple[str, ...] = ()
        self._build_gates(())
        self.layer_combo.activated.connect(self._on_layer)
        self.canvas.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.canvas.sigDeviceRangeChanged.connect(self._fit_title)  # resized
        self.data: HiddenStateData | None = None
        self._layers: tuple[RecurrentLayer, ...] = ()
        self._caption: list[str] = []  # the readout's variants when no cell is hovered
        self.clear()

    def clear(self) -> None:
        self.data, self._layers, self._caption = None, (), []
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.blockSignals(False)
        self.layer_combo.hide()
        self.readout.setText("")
        self.show_note("Press Play or step an epoch to see the hidden state of a recurrent layer over a sample's time steps.")

    def show_data(self, data: HiddenStateData) -> None:
        if not self.keep_or_explain(data):
            return
        if data.layers != self._layers:
            self._layers = data.layers
            self.layer_combo.blockSignals(True)
            self.layer_combo.clear()
            for layer in data.layers:
                self.layer_combo.addItem(layer.label, layer.index)
            self.layer_combo.setCurrentIndex(self.layer_combo.findData(data.layer.index))
            self.layer_combo.blockSignals(False)
            self.layer_combo.setVisible(len(data.layers) > 1)
        gate_names = tuple(name for name in data.states if name != "h")
        if gate_names != self._gate_names:
            self._build_gates(gate_names)
        limit = data.limit
        self.state.set_values(data.states["h"].T, (-limit, limit))
        self.state_bar.setLevels((-limit, limit))
        bar_label = "h" if data.bounded else "h: ±largest |h|"
        named = self.state_bar.getAxis("left")  # the bar's title (its values are on the right)
        if named.labelText != bar_label:
            named.setLabel(bar_label)
        for heatmap, name in zip(self.gates, gate_names, strict=True):
            heatmap.set_values(data.states[name].T, (0.0, 1.0))
        steps, units = data.states["h"].shape
        self.state.title = f"{GATE_NAMES['h']} of {data.layer.label}"
        self._fit_title()
        levels = "" if data.bounded else f" · colours ±{limit:.3g}, the largest |h|"  # not tanh's ±1: a ReLU's h
        self._caption = [f"target {data.target} · {units} units × {steps} steps{levels}", f"target {data.target} · {units} × {steps}{levels}",
                         f"target {data.target}{levels}", f"target {data.target}"]
        self.readout.set_variants(self._caption, CAPTION_TIP)
        self.set_sample(data.sample)

    def shown_values(self, name: str = "h") -> np.ndarray | None:
        """The (units, T) array drawn for ``name`` ("h" or a gate's letter), None when not drawn."""
        for heatmap, key in zip([self.state, *self.gates], ("h", *self._gate_names), strict=True):
            if key == name:
                return heatmap.values
        return None

    def _build_gates(self, names: tuple[str, ...]) -> None:
        """One heatmap per gate in ``names``, side by side under h_t (which spans them), each row with its colour bar."""
        layout = self.canvas.ci
        for item in [heatmap.plot for heatmap in self.gates] + [self.state.plot, self.state_bar, self.gate_bar]:
            if item in layout.items:
                self.canvas.removeItem(item)
        columns = max(len(names), 1)
        self.canvas.addItem(self.state.plot, row=0, col=0, colspan=columns)
        self.canvas.addItem(self.state_bar, row=0, col=columns)
        self.gates = [Heatmap(plot_item(self.canvas, "step t", "unit" if c == 0 else "", row=1, col=c), GATE_NAMES[name],
                              short=f"gate {name}") for c, name in enumerate(names)]
        self._gate_names = names
        self.state.plot.getAxis("bottom").showLabel(not names)  # "step t": the gates' row under it says it
        if names:
            self.canvas.addItem(self.gate_bar, row=1, col=columns)
            self.gate_bar.setImageItem([heatmap.image for heatmap in self.gates])
        layout.layout.setRowStretchFactor(0, STATE_STRETCH)
        layout.layout.setRowStretchFactor(1, GATE_STRETCH if names else 0)

    def _fit_title(self) -> None:
        """h_t's title cut to the canvas's width less the colour bar's and the unit axis's (not to its plot's,
        which the title itself keeps from shrinking), each gate's to its share of that width."""
        room = self.canvas.viewport().width() - self.state_bar.width() - self.state.plot.getAxis("left").width()
        share = (room - TITLE_SLACK) / max(len(self.gates), 1)  # a gate's title: its share of the row ("gate f" when narrow)
        short = not all(gate.title_fits(share) for gate in self.gates)  # the gates' titles all short, or none
        changed = [self.state.fit_title(room - TITLE_SLACK), *(gate.fit_title(share, short) for gate in self.gates)]
        if any(changed):  # the canvas kept the old titles' least width: lay it out again
            self.canvas.ci.layout.invalidate()
            self.canvas.ci.setGeometry(self.canvas.range)

    def _on_layer(self) -> None:
        index = self.layer_combo.currentData()
        if index is not None:
            self.layerChosen.emit(int(index))

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        for heatmap, name in zip([self.state, *self.gates], ("h", *self._gate_names), strict=True):
            cell = heatmap.cell_at(scene_pos)
            if cell is not None:
                step, unit = cell
                value = heatmap.values[unit - 1, step - 1]
                shown = f"{value:.4g}".replace("-", "−")
                self.readout.set_variants([f"{GATE_NAMES[name]}: step t = {step}, unit {unit}: {shown}",
                                           f"{name} t{step} u{unit}: {shown}", shown], CAPTION_TIP)
                return
        self.readout.set_variants(self._caption, CAPTION_TIP)
