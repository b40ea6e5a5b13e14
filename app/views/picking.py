"""Picking a sample in a plot: a click near a drawn sample names its dataset index, and a
ring marks the picked sample. The decision boundary and the regression fit share it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, Qt, Signal

PICK_PIXELS = 8.0  # a click this close to a sample (in screen pixels) picks it
RING_SIZE = 20
RING_COLOR = "#1f2328"


class SamplePicker(QObject):
    """Clicks on ``plot`` → ``picked(index)``: the dataset index of the nearest sample drawn
    within :data:`PICK_PIXELS` (only samples of groups that are visible); and a ring around
    the sample :meth:`set_picked` names, when it is drawn.

    Groups are given by :meth:`set_points`: (item or None, xs (m,), ys (m,), dataset indices (m,));
    a group whose item is hidden (its checkbox off) is not picked from."""

    picked = Signal(int)

    def __init__(self, plot: pg.PlotItem) -> None:
        super().__init__(plot)
        self.plot = plot
        self.ring = pg.ScatterPlotItem(size=RING_SIZE, symbol="o", pen=pg.mkPen(RING_COLOR, width=2.5), brush=None)
        self.ring.setZValue(20)
        plot.addItem(self.ring)
        plot.scene().sigMouseClicked.connect(self._clicked)
        self._groups: list[tuple[pg.ScatterPlotItem | None, np.ndarray, np.ndarray, np.ndarray]] = []
        self.index: int | None = None  # the sample marked

    def set_points(self, groups: list[tuple[pg.ScatterPlotItem | None, np.ndarray, np.ndarray, np.ndarray]]) -> None:
        self._groups = [(item, np.asarray(xs, float), np.asarray(ys, float), np.asarray(indices, np.int64))
                        for item, xs, ys, indices in groups]
        self._place_ring()

    def clear(self) -> None:
        self._groups = []
        self._place_ring()

    def set_picked(self, index: int | None) -> None:
        """Mark dataset sample ``index`` with a ring (None: no mark; a sample not drawn: none)."""
        self.index = index
        self._place_ring()

    def position_of(self, index: int) -> tuple[float, float] | None:
        """Where dataset sample ``index`` is drawn (data coordinates), None when it is not."""
        for _, xs, ys, indices in self._groups:
            where = np.flatnonzero(indices == index)
            if len(where):
                return float(xs[where[0]]), float(ys[where[0]])
        return None

    def sample_at(self, scene_pos: QPointF) -> int | None:
        """The dataset index of the visible sample nearest to ``scene_pos`` within PICK_PIXELS, or None."""
        box = self.plot.getViewBox()
        if not box.sceneBoundingRect().contains(scene_pos):
            return None
        point = box.mapSceneToView(scene_pos)
        width, height = box.viewPixelSize()  # data units per screen pixel
        if not (width > 0 and height > 0):
            return None
        best, best_distance = None, PICK_PIXELS ** 2
        for item, xs, ys, indices in self._groups:
            if not len(xs) or (item is not None and not item.isVisible()):
                continue
            distances = ((xs - point.x()) / width) ** 2 + ((ys - point.y()) / height) ** 2
            nearest = int(np.argmin(distances))
            if distances[nearest] <= best_distance:
                best, best_distance = int(indices[nearest]), float(distances[nearest])
        return best

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        index = self.sample_at(event.scenePos())
        if index is not None:
            self.set_picked(index)
            self.picked.emit(index)

    def _place_ring(self) -> None:
        where = None if self.index is None else self.position_of(self.index)
        if where is None:
            self.ring.clear()
        else:
            self.ring.setData([where[0]], [where[1]])
