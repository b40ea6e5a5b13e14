"""The network as a graph: a column of units per layer, a line per connection coloured by
the sign of its weight and thick by its magnitude, each unit ringed in the colour of its
bias; hovering a unit or a connection shows its value. For 2-D data each unit shows a small
thumbnail of its own output over the input plane. Clicking a connection opens a small editor
over it with its weight ("W[2]₁₃ = 0.4312"), clicking a unit one with its bias: Enter emits
``parameterEdited(layer, "W" | "b", index, value)`` (layer: 0-based in ``network.layers``;
index (unit, input) or (unit,), 0-based), Escape closes it (:mod:`.parameter_editor`).
While the mouse is over a hidden or output unit ``unitHovered`` carries (layer, unit) (0-based,
layer in ``network.layers``), and None once it is over anything else or off the graph: the
decision-boundary view then shows that unit's output over the plane.

Big networks are summarised: each layer shows at most ``MAX_UNITS`` units (those with the
largest incoming weights; for the inputs, those with the largest outgoing weights when the
network first appears, so that their names stay put) and the view draws at most
``MAX_EDGES`` connections, the strongest; the header says how many are hidden. Data come from a probe
(:func:`core.insight.graph_data`).

The graph is laid out in pixels (one view unit = one pixel, y down), again whenever the view
is resized, so that the column titles and input names always fit beside the units. A frame
only updates fixed items: eight line items (two signs × four widths, ``connect="pairs"``),
one scatter item for every unit, one image per layer holding its units' thumbnails.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QGraphicsItem, QToolTip, QWidget

from core.insight import GraphData
from core.run import parameter_text

from .common import ViewPanel
from .parameter_editor import ParameterEditor

MAX_UNITS = 16  # units drawn per layer
MAX_EDGES = 300  # connections drawn
WIDTH_STEPS = (0.6, 1.4, 2.6, 4.2)  # line widths (px) of the magnitude quartiles of the drawn weights
RING_LEVELS = 4  # bias rings come in this many strengths per sign (few pens: the scatter item caches each)
POSITIVE_COLOR = "#C0392B"  # red, as in the weight heatmap
NEGATIVE_COLOR = "#2166AC"  # blue
TEXT_COLOR = "#30363d"
MAX_ROW_PX = 44  # the most pixels between two units of a column
MAX_THUMB_PX = 40
HOVER_PX = 6  # how near (pixels) the mouse must be to a connection
MARGIN_PX = 4
EDITOR_OFFSET_PX = 10  # the editor opens this far below and right of the click, leaving what it edits in sight


def column_title(label: str) -> str:
    """A layer's column title on two lines: "layer 2: Dense(8, tanh)" → "Dense 8\\ntanh"."""
    text = label.split(": ", 1)[-1]
    match = re.fullmatch(r"(\w+)\((.*)\)", text)
    if not match:
        return text
    args = [a.strip() for a in match.group(2).split(",")]
    return f"{match.group(1)} {args[0]}" + (f"\n{', '.join(args[1:])}" if len(args) > 1 else "")


def network_layer(label: str) -> int:
    """The 0-based index in ``network.layers`` of a GraphData label "layer 3: Dense(8, tanh)" (→ 2)."""
    return int(re.match(r"layer (\d+):", label).group(1)) - 1


class NetworkGraphView(ViewPanel):
    parameterEdited = Signal(int, str, object, float)  # layer (0-based in network.layers), "W" | "b", index, value
    unitHovered = Signal(object)  # (layer (0-based in network.layers), unit (0-based)) under the mouse, or None

    def __init__(self, parent: QWidget | None = None):
        super().__init__("networkGraphView", parent)
        self.finish_header()
        self.legend = self.canvas.addLabel(
            f'<span style="color:{POSITIVE_COLOR}">━ w &gt; 0</span> &nbsp;'
            f'<span style="color:{NEGATIVE_COLOR}">━ w &lt; 0</span> &nbsp;thicker: larger |w| &nbsp;ring: bias b',
            row=0, col=0, size="9pt")
        self.legend.setMinimumWidth(0)  # a narrow view clips the legend rather than push the graph out of sight
        self.legend.item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.canvas.setToolTip("Hover a unit or a connection for its value (a unit also shows its output over the plane in the "
                               "decision boundary view); click it to set its bias or weight")
        self.canvas.setAccessibleName("Network graph: units by layer, connections coloured by the sign of their weight")
        self.plot = self.canvas.addPlot(row=1, col=0)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.edge_items: dict[tuple[int, int], pg.PlotCurveItem] = {}
        for sign, color in ((1, POSITIVE_COLOR), (-1, NEGATIVE_COLOR)):
            for step, width in enumerate(WIDTH_STEPS):
                item = pg.PlotCurveItem(pen=pg.mkPen(color, width=width), connect="pairs", antialias=False)  # no AA: 3-4× cheaper
                self.plot.addItem(item)
                self.edge_items[(sign, step)] = item
        self.nodes = pg.ScatterPlotItem(pxMode=True)
        self.nodes.setZValue(10)
        self.plot.addItem(self.nodes)
        self._input_pen, self._input_brush = pg.mkPen(TEXT_COLOR, width=1.5), pg.mkBrush("#eef1f5")
        self._unit_brush = pg.mkBrush("#ffffff")
        self._lut = pg.colormap.get("CET-D1A").getLookupTable(nPts=256, mode="byte", alpha=True)  # (256, 4) uint8
        self._ring_pens = {}
        for positive, color in ((True, POSITIVE_COLOR), (False, NEGATIVE_COLOR)):
            for level in range(RING_LEVELS):
                ring = pg.mkColor(color)
                ring.setAlphaF(0.25 + 0.75 * (level + 1) / RING_LEVELS)
                self._ring_pens[(positive, level)] = pg.mkPen(ring, width=3)
        self._thumbs: list[pg.ImageItem] = []
        self._labels: list[pg.TextItem] = []  # the column titles, then one per drawn input
        self._layout_key = None
        self._shown: list[np.ndarray] = []
        self._positions: list[np.ndarray] = []  # per column (units drawn, 2) pixel positions
        self._thumb = self._node_px = 0.0  # thumbnail and unit sizes (pixels)
        self._thumb_gap = 1  # image pixels between two thumbnails of a layer's strip
        self._thumb_rects: list[QRectF] = []
        self._rings: list | None = None  # the pens of the units' rings drawn
        self.data: GraphData | None = None
        self.edges = np.zeros((0, 4))  # drawn connections: layer (0-based dense), unit i, input j, weight
        self._edge_xy = np.zeros((0, 4))  # x0, y0, x1, y1 of each drawn connection
        self.node_xy = np.zeros((0, 2))  # every drawn unit, inputs first, column by column
        self.hidden_edges = 0
        self.hidden_units = 0
        self.editor = ParameterEditor(self.canvas)
        self.editor.accepted.connect(self._edited)
        self._editing: tuple[int, str, tuple[int, ...]] | None = None  # what the editor sets
        self.hovered_unit: tuple[int, int] | None = None  # what unitHovered said last
        self.canvas.viewport().installEventFilter(self)  # the mouse leaving the graph
        self.plot.vb.sigResized.connect(self._resized)
        self.canvas.scene().sigMouseMoved.connect(self._hover)
        self.canvas.scene().sigMouseClicked.connect(self._clicked)
        self.clear()

    def clear(self) -> None:
        """Forget the network: no units, connections, thumbnails, labels or readout."""
        self.data = None
        self._layout_key = None
        self._set_items([], 0, 0)
        self._shown, self._positions = [], []
        self.edges, self._edge_xy, self.node_xy = np.zeros((0, 4)), np.zeros((0, 4)), np.zeros((0, 2))
        for item in self.edge_items.values():
            item.setData([], [])
        self.nodes.clear()
        self.hidden_edges = self.hidden_units = 0
        self.readout.setText("")
        self.editor.hide()
        self._hover_unit(None)
        self.show_note("Press Play or step an epoch to see the network.")

    # ----- data -----------------------------------------------------------------------------------
    def show_data(self, data: GraphData) -> None:
        if data.reason:
            self.show_reason(data.reason)
            return
        if data is self.data:
            return
        self.data = data
        self.show_canvas()
        shown = self._shown_units(data)
        key = (data.inputs, data.labels, tuple(len(s) for s in shown), data.maps is not None)
        if key != self._layout_key:  # another network: new items, laid out again
            self._layout_key = key
            self._set_items(["inputs", *map(column_title, data.labels)], len(shown[0]),
                            len(data.labels) if data.maps is not None else 0)
            for text, j in zip(self._labels[len(shown):], shown[0], strict=True):
                text.setText(data.inputs[j])
            self._shown = shown
            self._place()
        self._shown = [self._shown[0], *shown[1:]]  # the inputs drawn stay put (and their names with them)
        self._draw()
        self.hidden_units = sum(len(b) for b in data.biases) + len(data.inputs) - sum(len(s) for s in shown)
        parts = [f"{len(self.edges)} connections drawn"]
        if self.hidden_edges:
            parts.append(f"{self.hidden_edges} weaker connections hidden")
        if self.hidden_units:
            parts.append(f"{self.hidden_units} units hidden (largest incoming weights shown)")
        self.readout.setText(" · ".join(parts))

    @staticmethod
    def _shown_units(data: GraphData) -> list[np.ndarray]:
        """Per column (inputs, then each dense layer) the indices of the units drawn."""
        shown = [np.arange(min(len(data.inputs), MAX_UNITS))]
        if len(data.inputs) > MAX_UNITS:
            strength = np.abs(data.weights[0]).sum(axis=0)
            shown[0] = np.sort(np.argsort(strength)[::-1][:MAX_UNITS])
        for w in data.weights:
            if len(w) <= MAX_UNITS:
                shown.append(np.arange(len(w)))
            else:
                shown.append(np.sort(np.argsort(np.abs(w).sum(axis=1))[::-1][:MAX_UNITS]))
        return shown

    def _set_items(self, titles: list[str], names: int, strips: int) -> None:
        """The column ``titles``, ``names`` input-name labels and ``strips`` thumbnail images
        (one per layer; made again only when the network's shape changes)."""
        for item in (*self._thumbs, *self._labels):
            self.plot.removeItem(item)
        self._labels = [pg.TextItem(t, color=TEXT_COLOR, anchor=(0.5, 0.0)) for t in titles]
        self._labels += [pg.TextItem("", color=TEXT_COLOR, anchor=(1.0, 0.5)) for _ in range(names)]
        for label in self._labels:  # drawn from a pixmap while its text stays: a third of a frame's paint otherwise
            label.textItem.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        for title in self._labels[:len(titles)]:  # the lines of a title centred on each other
            document = title.textItem.document()
            option = document.defaultTextOption()
            option.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            document.setDefaultTextOption(option)
            title.textItem.setTextWidth(document.idealWidth())
        self._thumbs = [pg.ImageItem(axisOrder="row-major") for _ in range(strips)]
        for image in self._thumbs:
            image.setZValue(11)
        for item in (*self._labels, *self._thumbs):
            self.plot.addItem(item)

    # ----- layout (pixels) ------------------------------------------------------------------------
    def _resized(self) -> None:
        if self._shown:
            self._place()
            self._draw()

    def _place(self) -> None:
        """Unit positions, thumbnails and labels for the view's size: titles on top, input names
        left of the inputs (every n-th when rows are too close for all), nothing cut."""
        vb = self.plot.vb
        width, height = max(vb.width(), 60.0), max(vb.height(), 60.0)
        vb.setRange(xRange=(0, width), yRange=(0, height), padding=0)
        columns = len(self._shown)
        titles, names = self._labels[:columns], self._labels[columns:]
        title_sizes = [t.boundingRect() for t in titles]
        name_width = max((n.boundingRect().width() for n in names), default=0.0)
        name_height = max((n.boundingRect().height() for n in names), default=1.0)
        top = max(r.height() for r in title_sizes) + 2 * MARGIN_PX
        left = max(name_width + 3 * MARGIN_PX, title_sizes[0].width() / 2) + MARGIN_PX + 7
        right = max(title_sizes[-1].width() / 2, MAX_THUMB_PX / 2) + MARGIN_PX
        xs = np.linspace(left, max(width - right, left + 1), columns)
        most = max(len(s) for s in self._shown)
        span = height - top - 2 * MARGIN_PX - 8
        row = min(span / max(most - 1, 1), MAX_ROW_PX)
        middle = top + span / 2 + 4
        self._node_px = float(np.clip(row * 0.7, 5, 14))
        # a layer's thumbnails are one image: r pixels each, a gap of whole pixels between them
        r = self.data.maps[0].shape[-1] if self.data.maps is not None else 1
        wanted = min(row * 0.92, 0.4 * (xs[1] - xs[0]), MAX_THUMB_PX)
        self._thumb_gap = max(1, round(r * (row - wanted) / wanted))
        self._thumb = row * r / (r + self._thumb_gap) if most > 1 else wanted
        self._positions = [np.column_stack([np.full(len(s), x), middle + (np.arange(len(s)) - (len(s) - 1) / 2) * row])
                           for x, s in zip(xs, self._shown, strict=True)]
        self.node_xy = np.concatenate(self._positions)
        for text, size, x in zip(titles, title_sizes, xs, strict=True):
            text.setPos(float(np.clip(x, size.width() / 2 + 1, width - size.width() / 2 - 1)), MARGIN_PX)
        every = math.ceil(name_height * 0.9 / max(row, 1e-9)) if len(names) > 1 else 1
        for n, (text, (x, y)) in enumerate(zip(names, self._positions[0], strict=True)):
            text.setPos(x - self._node_px / 2 - MARGIN_PX, y)
            text.setVisible(n % every == 0)
        half = self._thumb / 2
        self._thumb_rects = [QRectF(p[0, 0] - half, p[0, 1] - half, self._thumb, p[-1, 1] - p[0, 1] + self._thumb)
                             for p in self._positions[1:]]
        for image, rect in zip(self._thumbs, self._thumb_rects, strict=False):
            if image.image is not None:  # else set with its first image
                image.setRect(rect)
        inputs = len(self._shown[0])
        self.nodes.setData(pos=self.node_xy, size=self._node_px if not self._thumbs else min(8.0, self._node_px),
                           brush=[self._input_brush] * inputs + [self._unit_brush] * (len(self.node_xy) - inputs))
        self._rings = None

    # ----- drawing --------------------------------------------------------------------------------
    def _draw(self) -> None:
        self._draw_edges()
        self._draw_nodes()

    def _draw_edges(self) -> None:
        """The strongest ``MAX_EDGES`` connections among the drawn units, by sign and width step."""
        data, shown = self.data, self._shown
        blocks = []
        for layer, w in enumerate(data.weights):
            sub = w[np.ix_(shown[layer + 1], shown[layer])]
            out, into = np.divmod(np.arange(sub.size), sub.shape[1])
            blocks.append(np.column_stack([np.full(sub.size, layer), out, into, sub.ravel()]))
        every = np.concatenate(blocks)
        if len(every) > MAX_EDGES:
            every = every[np.argsort(np.abs(every[:, 3]))[::-1][:MAX_EDGES]]
        self.hidden_edges = sum(w.size for w in data.weights) - len(every)
        layer, out, into = (every[:, c].astype(int) for c in range(3))
        offsets = np.cumsum([0, *map(len, shown)])
        source, target = offsets[layer] + into, offsets[layer + 1] + out
        self._edge_xy = np.hstack([self.node_xy[source], self.node_xy[target]])
        units = np.concatenate(shown)
        self.edges = np.column_stack([layer, units[target], units[source], every[:, 3]])  # real unit indices
        magnitude = np.abs(every[:, 3])
        steps = np.searchsorted(np.quantile(magnitude, [0.25, 0.5, 0.75]), magnitude) if len(magnitude) else magnitude
        sign = np.where(every[:, 3] >= 0, 1, -1)
        for (s, step), item in self.edge_items.items():
            xy = self._edge_xy[(sign == s) & (steps == step)]
            x, y = xy[:, [0, 2]].ravel(), xy[:, [1, 3]].ravel()
            if not (np.array_equal(x, item.xData) and np.array_equal(y, item.yData)):  # most probes move few connections
                item.setData(x, y)

    def _draw_nodes(self) -> None:
        """Bias rings (sign colour, strength in ``RING_LEVELS`` steps of |b| / the layer's max |b|) and thumbnails."""
        data, shown = self.data, self._shown
        pens = [self._input_pen] * len(shown[0])
        for units, b in zip(shown[1:], data.biases, strict=True):
            scale = max(float(np.abs(b).max(initial=0.0)), 1e-9)
            levels = np.clip(np.ceil(np.abs(b[units]) / scale * RING_LEVELS) - 1, 0, RING_LEVELS - 1).astype(int)
            pens.extend(self._ring_pens[(bool(v >= 0), int(lv))] for v, lv in zip(b[units], levels, strict=True))
        if pens != self._rings:  # the rings change strength in steps: most frames keep them
            self._rings = pens
            self.nodes.setPen(pens)
        if data.maps is None:
            return
        for image, rect, units, maps in zip(self._thumbs, self._thumb_rects, shown[1:], data.maps, strict=True):
            pictures = self._colored(maps[units])
            n, r = pictures.shape[:2]
            strip = np.zeros((n, r + self._thumb_gap, r, 4), dtype=np.uint8)  # transparent between the thumbnails
            strip[:, :r] = pictures
            first = image.image is None
            image.setImage(strip.reshape(-1, r, 4)[: n * (r + self._thumb_gap) - self._thumb_gap], autoLevels=False)
            if first:  # an image's rect scales its pixels: it needs the image
                image.setRect(rect)

    def _colored(self, maps: np.ndarray) -> np.ndarray:
        """RGBA thumbnails (n, r, r, 4) uint8 of unit maps (n, r, r), each scaled to its own
        range (white at zero for signed outputs), rows flipped (the y axis points down here).
        Coloured here in one lookup: an ImageItem's own colour table costs 256 Python calls each."""
        low, high = maps.min(axis=(1, 2)), maps.max(axis=(1, 2))
        signed = low < 0
        top = np.maximum(np.maximum(-low, high), 1e-6)
        low = np.where(signed, -top, low)
        high = np.where(signed, top, np.maximum(high, low + 1e-6))
        index = np.clip((maps - low[:, None, None]) / (high - low)[:, None, None] * 255, 0, 255).astype(np.uint8)
        return self._lut[index[:, ::-1]]

    # ----- hover and click -------------------------------------------------------------------------
    def item_at(self, x: float, y: float, pixel: float = 1.0) -> tuple | None:
        """What is under the view point (x, y), with ``pixel`` view units per screen pixel:
        ("input", j), ("b", dense layer d, unit i), ("W", d, i, j) (0-based, real unit indices;
        d counts the dense layers), or None."""
        if self.data is None or not len(self.node_xy):
            return None
        near = np.flatnonzero(np.all(np.abs(self.node_xy - (x, y)) < max(self._thumb / 2, 8 * pixel), axis=1))
        if len(near):
            offsets = np.cumsum([0, *map(len, self._shown)])
            column = int(np.searchsorted(offsets, near[0], side="right") - 1)
            unit = int(self._shown[column][near[0] - offsets[column]])
            return ("input", unit) if column == 0 else ("b", column - 1, unit)
        if not len(self._edge_xy):
            return None
        a, b = self._edge_xy[:, :2], self._edge_xy[:, 2:]
        d = b - a
        t = np.clip(((x - a[:, 0]) * d[:, 0] + (y - a[:, 1]) * d[:, 1]) / np.maximum((d ** 2).sum(axis=1), 1e-12), 0, 1)
        dist = np.hypot(a[:, 0] + t * d[:, 0] - x, a[:, 1] + t * d[:, 1] - y)
        best = int(np.argmin(dist))
        if dist[best] > HOVER_PX * pixel:
            return None
        layer, i, j, _ = self.edges[best]
        return ("W", int(layer), int(i), int(j))

    def describe_at(self, x: float, y: float, pixel: float = 1.0) -> str:
        """What is under the view point (x, y), with ``pixel`` view units per screen pixel."""
        return self.describe_item(self.item_at(x, y, pixel))

    def describe_item(self, found: tuple | None) -> str:
        """The readout of an :meth:`item_at` answer ("" for None)."""
        data = self.data
        if found is None:
            return ""
        if found[0] == "input":
            return f"input {data.inputs[found[1]]}"
        if found[0] == "b":
            _, layer, unit = found
            return f"{data.labels[layer]}, unit {unit + 1}: b = {float(data.biases[layer][unit]):.4g}"
        _, layer, i, j = found
        w = float(data.weights[layer][i, j])
        source = data.inputs[j] if layer == 0 else f"unit {j + 1}"
        return f"W[{layer + 1}][{i + 1},{j + 1}] = {w:.4g}  ({source} → unit {i + 1} of {data.labels[layer]})"

    def edit_at(self, x: float, y: float, pixel: float = 1.0) -> bool:
        """Open the editor on the weight or bias under the view point (x, y); False when there is none."""
        found = self.item_at(x, y, pixel)
        if found is None or found[0] == "input":
            return False
        name, layer, *index = found
        value = self.data.weights[layer][tuple(index)] if name == "W" else self.data.biases[layer][index[0]]
        self._editing = (network_layer(self.data.labels[layer]), name, tuple(index))
        point = self.canvas.mapFromScene(self.plot.vb.mapViewToScene(QPointF(x, y)))
        QToolTip.hideText()
        self.editor.setToolTip(self.describe_at(x, y, pixel))  # which connection or unit it sets
        self.editor.open_at(point + QPoint(EDITOR_OFFSET_PX, EDITOR_OFFSET_PX), parameter_text(layer + 1, name, tuple(index)),
                            float(value))
        return True

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.data is None:
            return
        scene_pos = event.scenePos()
        if not self.plot.sceneBoundingRect().contains(scene_pos):
            return
        point = self.plot.vb.mapSceneToView(scene_pos)
        if self.edit_at(point.x(), point.y(), self.plot.vb.viewPixelSize()[0]):
            event.accept()

    def _edited(self, value: float) -> None:
        if self._editing is not None:
            layer, name, index = self._editing
            self.parameterEdited.emit(layer, name, index, value)

    def _hover_unit(self, unit: tuple[int, int] | None) -> None:
        """Say ``unit`` (layer in network.layers, unit) is under the mouse, or None, when that changes."""
        if unit != self.hovered_unit:
            self.hovered_unit = unit
            self.unitHovered.emit(unit)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.canvas.viewport() and event.type() == QEvent.Type.Leave:
            self._hover_unit(None)
        return super().eventFilter(watched, event)

    def _hover(self, scene_pos: QPointF) -> None:
        if self.data is None or self.editor.isVisible() or not self.plot.sceneBoundingRect().contains(scene_pos):
            self._hover_unit(None)
            return
        point = self.plot.vb.mapSceneToView(scene_pos)
        pixel = self.plot.vb.viewPixelSize()[0]
        found = self.item_at(point.x(), point.y(), pixel)
        self._hover_unit((network_layer(self.data.labels[found[1]]), found[2]) if found is not None and found[0] == "b" else None)
        text = self.describe_item(found)
        if text:
            QToolTip.showText(self.canvas.mapToGlobal(self.canvas.mapFromScene(scene_pos)), text, self.canvas)
        else:
            QToolTip.hideText()
