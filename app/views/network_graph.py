"""The network as a graph: a column of units per layer, a line per connection coloured by
the sign of its weight and thick by its magnitude, each unit ringed in the colour of its
bias; hovering a unit or a connection shows its value. For 2-D data each unit shows a small
thumbnail of its own output over the input plane.

Big networks are summarised: each layer shows at most ``MAX_UNITS`` units (those with the
largest incoming weights) and the view draws at most ``MAX_EDGES`` connections, the
strongest; the header says how many are hidden. Data come from a probe
(:func:`core.insight.graph_data`).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtWidgets import QToolTip, QWidget

from core.insight import GraphData

from .common import ViewPanel

MAX_UNITS = 16  # units drawn per layer
MAX_EDGES = 300  # connections drawn
WIDTH_STEPS = (0.6, 1.4, 2.6, 4.2)  # line widths (px) of the magnitude quartiles of the drawn weights
POSITIVE_COLOR = "#C0392B"  # red, as in the weight heatmap
NEGATIVE_COLOR = "#2166AC"  # blue
THUMB = 0.42  # thumbnail size in layout units (layers are 1 apart)
HOVER_PX = 6  # how near (pixels) the mouse must be to a connection


class NetworkGraphView(ViewPanel):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("networkGraphView", parent)
        self.finish_header()
        self.legend = self.canvas.addLabel(
            f'<span style="color:{POSITIVE_COLOR}">━ w &gt; 0</span> &nbsp; '
            f'<span style="color:{NEGATIVE_COLOR}">━ w &lt; 0</span> &nbsp; thicker = larger |w| &nbsp; '
            "ring = bias b (same colours)", row=0, col=0, size="9pt")
        self.legend.setToolTip("Hover a unit or a connection for its value")
        self.plot = self.canvas.addPlot(row=1, col=0)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self._edge_items: dict[tuple[int, int], pg.PlotCurveItem] = {}
        for sign, color in ((1, POSITIVE_COLOR), (-1, NEGATIVE_COLOR)):
            for step, width in enumerate(WIDTH_STEPS):
                item = pg.PlotCurveItem(pen=pg.mkPen(color, width=width), connect="pairs", antialias=width < 2)  # thick lines: no AA, 3× cheaper
                self.plot.addItem(item)
                self._edge_items[(sign, step)] = item
        self.nodes = pg.ScatterPlotItem(size=16, pxMode=True)
        self.nodes.setZValue(10)
        self.plot.addItem(self.nodes)
        self._thumbs: list[pg.ImageItem] = []
        self._labels: list[pg.TextItem] = []
        self._layout_key = None
        self.data: GraphData | None = None
        self.edges = np.zeros((0, 4))  # drawn connections: layer (0-based dense), unit i, input j, weight
        self._edge_xy = np.zeros((0, 4))  # x0, y0, x1, y1 of each drawn connection
        self._node_info: list[tuple[float, float, str]] = []
        self.hidden_edges = 0
        self.hidden_units = 0
        self.canvas.scene().sigMouseMoved.connect(self._hover)
        self.show_note("Press Play or step an epoch to see the network.")

    def clear(self) -> None:
        self.data = None

    # ----- data -----------------------------------------------------------------------------------
    def show_data(self, data: GraphData) -> None:
        self.data = data
        if data.reason:
            self.show_note(data.reason)
            return
        self.show_canvas()
        shown = self._shown_units(data)
        key = (data.inputs, data.labels, tuple(len(s) for s in shown), data.maps is not None)
        if key != self._layout_key:
            self._layout_key = key
            self._build(data, shown)
        spacing = max(1.0, 0.45 * max(len(s) for s in shown))  # columns far enough apart to read the connections
        self._positions = [self._column(len(s), x * spacing) for x, s in enumerate(shown)]
        self._draw_edges(data, shown)
        self._draw_nodes(data, shown)
        total_units = sum(len(b) for b in data.biases) + len(data.inputs)
        drawn_units = sum(len(s) for s in shown)
        self.hidden_units = total_units - drawn_units
        parts = [f"epoch {data.epoch}", f"{len(self.edges)} connections drawn"]
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

    @staticmethod
    def _column(count: int, x: float) -> np.ndarray:
        y = np.arange(count) - (count - 1) / 2.0
        return np.column_stack([np.full(count, float(x)), y * 0.5 if count > 1 else y])

    def _build(self, data: GraphData, shown: list[np.ndarray]) -> None:
        for item in (*self._thumbs, *self._labels):
            self.plot.removeItem(item)
        self._thumbs, self._labels = [], []
        if data.maps is not None:
            cmap = pg.colormap.get("CET-D1A")
            for units in shown[1:]:
                for _ in units:
                    image = pg.ImageItem(axisOrder="row-major")
                    image.setColorMap(cmap)
                    image.setZValue(11)
                    self.plot.addItem(image)
                    self._thumbs.append(image)
        titles = ["inputs", *(label.split(": ", 1)[-1] for label in data.labels)]
        half = max(len(s) for s in shown) * 0.25 + 0.35
        spacing = max(1.0, 0.45 * max(len(s) for s in shown))
        for x, title in enumerate(titles):
            text = pg.TextItem(title, color="#30363d", anchor=(0.5, 1.0))
            text.setPos(x * spacing, -half)
            self.plot.addItem(text)
            self._labels.append(text)
        for j in shown[0]:
            text = pg.TextItem(data.inputs[j], color="#30363d", anchor=(1.0, 0.5))
            self.plot.addItem(text)
            self._labels.append(text)
        self.plot.setRange(xRange=(-1.0, (len(shown) - 1) * spacing + 1.2), yRange=(-half - 0.35, half), padding=0.02)

    def _draw_edges(self, data: GraphData, shown: list[np.ndarray]) -> None:
        rows = []
        for layer, w in enumerate(data.weights):
            outs, ins = shown[layer + 1], shown[layer]
            sub = w[np.ix_(outs, ins)]
            oi, ii = np.meshgrid(np.arange(len(outs)), np.arange(len(ins)), indexing="ij")
            rows.append(np.column_stack([np.full(sub.size, layer), oi.ravel(), ii.ravel(), sub.ravel()]))
        every = np.concatenate(rows) if rows else np.zeros((0, 4))
        total = sum(w.size for w in data.weights)
        if len(every) > MAX_EDGES:
            every = every[np.argsort(np.abs(every[:, 3]))[::-1][:MAX_EDGES]]
        self.hidden_edges = total - len(every)
        layer, oi, ii = every[:, 0].astype(int), every[:, 1].astype(int), every[:, 2].astype(int)
        start = np.array([self._positions[lay][i] for lay, i in zip(layer, ii, strict=False)]).reshape(-1, 2)
        end = np.array([self._positions[lay + 1][o] for lay, o in zip(layer, oi, strict=False)]).reshape(-1, 2)
        self._edge_xy = np.hstack([start, end])
        # store the real unit indices, not the drawn positions
        self.edges = np.column_stack([layer, [shown[lay + 1][o] for lay, o in zip(layer, oi, strict=False)],
                                      [shown[lay][i] for lay, i in zip(layer, ii, strict=False)], every[:, 3]]) if len(every) else np.zeros((0, 4))
        magnitude = np.abs(every[:, 3])
        cuts = np.quantile(magnitude, [0.25, 0.5, 0.75]) if len(magnitude) else np.zeros(3)
        steps = np.searchsorted(cuts, magnitude)
        sign = np.where(every[:, 3] >= 0, 1, -1)
        for (s, step), item in self._edge_items.items():
            pick = (sign == s) & (steps == step)
            xy = self._edge_xy[pick]
            item.setData(xy[:, [0, 2]].ravel(), xy[:, [1, 3]].ravel())

    def _draw_nodes(self, data: GraphData, shown: list[np.ndarray]) -> None:
        pos, brushes, pens, info = [], [], [], []
        for j, p in zip(shown[0], self._positions[0], strict=False):
            pos.append(p)
            brushes.append(pg.mkBrush("#eef1f5"))
            pens.append(pg.mkPen("#30363d", width=1.5))
            info.append((p[0], p[1], f"input {data.inputs[j]}"))
        thumbs = iter(self._thumbs)
        for layer, (units, b) in enumerate(zip(shown[1:], data.biases, strict=False)):
            scale = max(float(np.abs(b).max(initial=0.0)), 1e-9)
            for u, p in zip(units, self._positions[layer + 1], strict=False):
                value = float(b[u])
                color = pg.mkColor(POSITIVE_COLOR if value >= 0 else NEGATIVE_COLOR)
                color.setAlphaF(0.25 + 0.75 * min(abs(value) / scale, 1.0))
                pos.append(p)
                brushes.append(pg.mkBrush("#ffffff"))
                pens.append(pg.mkPen(color, width=3))
                info.append((p[0], p[1], f"{data.labels[layer]}, unit {u + 1}: b = {value:.4g}"))
                if data.maps is not None:
                    image = next(thumbs)
                    unit_map = data.maps[layer][u]
                    low, high = float(unit_map.min()), float(unit_map.max())
                    if low < 0:  # signed (tanh, linear): white at zero
                        high = max(-low, high, 1e-6)
                        low = -high
                    elif high - low < 1e-6:
                        high = low + 1e-6
                    image.setImage(unit_map[::-1], autoLevels=False, levels=(low, high))  # the y axis points down here
                    image.setRect(QRectF(p[0] - THUMB / 2, p[1] - THUMB / 2, THUMB, THUMB))
        pos = np.array(pos)
        self.nodes.setData(pos=pos, brush=brushes, pen=pens, size=14 if data.maps is None else 8)
        for text, p in zip(self._labels[len(data.labels) + 1:], self._positions[0], strict=False):
            text.setPos(p[0] - 0.08, p[1])
        self._node_info = info

    # ----- hover ----------------------------------------------------------------------------------
    def describe_at(self, x: float, y: float, pixel: float) -> str:
        """What is under the layout point (x, y), with ``pixel`` layout units per screen pixel."""
        for nx, ny, text in self._node_info:
            if abs(nx - x) < max(THUMB / 2, 8 * pixel) and abs(ny - y) < max(THUMB / 2, 8 * pixel):
                return text
        if not len(self._edge_xy):
            return ""
        a, b = self._edge_xy[:, :2], self._edge_xy[:, 2:]
        d = b - a
        t = np.clip(((x - a[:, 0]) * d[:, 0] + (y - a[:, 1]) * d[:, 1]) / np.maximum((d ** 2).sum(axis=1), 1e-12), 0, 1)
        dist = np.hypot(a[:, 0] + t * d[:, 0] - x, a[:, 1] + t * d[:, 1] - y)
        best = int(np.argmin(dist))
        if dist[best] > HOVER_PX * pixel:
            return ""
        layer, i, j, w = self.edges[best]
        source = self.data.inputs[int(j)] if layer == 0 else f"unit {int(j) + 1}"
        return f"W[{int(layer) + 1}][{int(i) + 1},{int(j) + 1}] = {w:.4g}  ({source} → unit {int(i) + 1} of {self.data.labels[int(layer)]})"

    def _hover(self, scene_pos: QPointF) -> None:
        if self.data is None or self.data.reason or not self.plot.sceneBoundingRect().contains(scene_pos):
            return
        point = self.plot.vb.mapSceneToView(scene_pos)
        pixel = self.plot.vb.viewPixelSize()[0]
        text = self.describe_at(point.x(), point.y(), pixel)
        if text:
            QToolTip.showText(self.canvas.mapToGlobal(self.canvas.mapFromScene(scene_pos)), text, self.canvas)
        else:
            QToolTip.hideText()
