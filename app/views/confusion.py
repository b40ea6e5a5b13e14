"""Confusion matrix of the network on the validation part, with per-class precision and
recall. Rows are the true class, columns the predicted class; a cell's colour is its share
of the row (the recall of that true class), its text the count. Below the matrix a row of
precisions (per predicted class), right of it a column of recalls (per true class), in %.
Computed in the trainer's thread by a probe (:func:`core.insight.confusion_data`)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QTransform
from PySide6.QtWidgets import QWidget

from core.insight import ConfusionData

from .common import ViewPanel, plot_item

TEXT_LIMIT = 20  # write counts in the cells up to this many classes
STRIP_RGBA = (236, 239, 243, 255)  # background of the precision row and the recall column
DARK, LIGHT = QColor("#1f2328"), QColor("#ffffff")
MAX_PX, MIN_PX = 14, 7  # cell text height in pixels: at most, and the least worth drawing


class CellTexts(pg.GraphicsObject):
    """Centred texts in the unit cells of a plot, in one item and one paint (a TextItem per
    cell costs ~0.1 ms each per frame): ``texts[n]`` in the cell centred at ``centers[n]``
    (n, 2) in data units, white where ``light[n]``, else dark. The font is the largest (up to
    ``MAX_PX``) at which the longest text fits a cell; below ``MIN_PX`` nothing is written."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.centers = np.zeros((0, 2))
        self.light = np.zeros(0, dtype=bool)
        self._bounds = QRectF()

    def set_texts(self, texts: list[str], centers: np.ndarray, light: np.ndarray) -> None:
        self.prepareGeometryChange()
        self.texts, self.centers, self.light = texts, centers, light
        if texts:
            (x0, y0), (x1, y1) = centers.min(axis=0) - 0.5, centers.max(axis=0) + 0.5
            self._bounds = QRectF(x0, y0, x1 - x0, y1 - y0)
        else:
            self._bounds = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def _placed(self, transform: QTransform) -> tuple[QFont, list[QRectF]]:
        """The font and each text's rectangle in the coordinates ``transform`` maps to."""
        cell = transform.mapRect(QRectF(0, 0, 1, 1))
        font = QFont()
        size = int(min(MAX_PX, cell.height() * 0.62))
        if not self.texts or size < MIN_PX:
            return font, []
        font.setPixelSize(size)
        width = QFontMetricsF(font).horizontalAdvance(max(self.texts, key=len))  # digits are all as wide
        if width > 0.86 * cell.width():
            size = int(size * 0.86 * cell.width() / width)
            if size < MIN_PX:
                return font, []
            font.setPixelSize(size)
        w, h = cell.width(), cell.height()
        xs = transform.m11() * self.centers[:, 0] + transform.dx() - w / 2  # a plot's transform: scale and shift
        ys = transform.m22() * self.centers[:, 1] + transform.dy() - h / 2
        return font, [QRectF(x, y, w, h) for x, y in zip(xs.tolist(), ys.tolist(), strict=True)]

    def text_rects(self) -> list[QRectF]:
        """Where each written text's glyphs lie, in scene coordinates (for tests and layout checks)."""
        font, rects = self._placed(self.sceneTransform())
        metrics = QFontMetricsF(font)
        return [metrics.boundingRect(rect, Qt.AlignmentFlag.AlignCenter, text) for rect, text in zip(rects, self.texts, strict=False)]

    def paint(self, painter: QPainter, *args) -> None:
        font, rects = self._placed(painter.transform())
        if not rects:
            return
        painter.save()
        painter.resetTransform()
        painter.setFont(font)
        for light, color in ((False, DARK), (True, LIGHT)):
            painter.setPen(color)
            for rect, text, is_light in zip(rects, self.texts, self.light, strict=True):
                if is_light == light:
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


class ConfusionView(ViewPanel):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("confusionView", parent)
        self.finish_header()
        self.canvas.setToolTip("Rows: the true class; columns: the class the network predicted, on the validation part. "
                               "Each cell counts samples; its colour is the share of its row. "
                               "P %: precision of each predicted class; R %: recall of each true class.")
        self.canvas.setAccessibleName("Confusion matrix of the validation part, with precision and recall per class")
        self.plot = plot_item(self.canvas, "predicted class", "true class")
        self.plot.invertY(True)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.cells = CellTexts()
        self.plot.addItem(self.cells)
        self._colormap = pg.colormap.get("CET-L12")  # white → blue
        self._names: tuple[str, ...] = ()
        self.data: ConfusionData | None = None
        self.clear()

    def clear(self) -> None:
        """Forget the matrix, the class names and the readout."""
        self.data = None
        self.image.clear()
        self.cells.set_texts([], np.zeros((0, 2)), np.zeros(0, dtype=bool))
        self._set_classes(())
        self.readout.setText("")
        self.readout.setToolTip("")
        self.show_note("Press Play or step an epoch to see the confusion matrix.")

    def show_data(self, data: ConfusionData) -> None:
        if data.reason:
            self.show_reason(data.reason)
            return
        self.data = data
        self.show_canvas()
        matrix = data.matrix
        k = matrix.shape[0]
        if data.class_names != self._names:
            self._set_classes(data.class_names)
        rows = matrix.sum(axis=1, keepdims=True)
        share = np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0)
        rgba = np.zeros((k + 1, k + 1, 4), dtype=np.uint8)  # the corner stays transparent
        rgba[:k, :k] = self._colormap.map(share.ravel(), mode="byte").reshape(k, k, 4)
        rgba[k, :k] = rgba[:k, k] = STRIP_RGBA
        self.image.setImage(rgba, autoLevels=False)
        self.image.setRect(QRectF(-0.5, -0.5, k + 1, k + 1))
        if k <= TEXT_LIMIT:
            i, j = np.divmod(np.arange(k * k), k)
            strip = np.arange(k)
            centers = np.concatenate([np.column_stack([j, i]), np.column_stack([strip, np.full(k, k)]),
                                      np.column_stack([np.full(k, k), strip])]).astype(float)
            texts = [str(int(v)) for v in matrix.ravel()] + [_pct(v) for v in data.precision] + [_pct(v) for v in data.recall]
            light = np.concatenate([share.ravel() > 0.55, np.zeros(2 * k, dtype=bool)])
            self.cells.set_texts(texts, centers, light)
        total, correct = int(matrix.sum()), int(np.trace(matrix))
        self.readout.setText(f"validation: {correct} of {total} right ({100 * correct / max(total, 1):.1f} %)"
                             " · P = precision of a predicted class, R = recall of a true class")
        self.readout.setToolTip("Per class: P = precision (of the samples predicted as it, the share that are it), "
                                "R = recall (of the samples that are it, the share found)")

    def _set_classes(self, names: tuple[str, ...]) -> None:
        """Tick labels for ``names`` and the P/R strips, and the plot's range (k + 1 cells a side)."""
        self._names = names
        k = len(names)
        labelled = bool(names) and k <= TEXT_LIMIT
        for axis, strip in (("bottom", "R %"), ("left", "P %")):
            self.plot.getAxis(axis).setTicks([[*enumerate(names), (k, strip)]] if labelled else None)
        self.plot.setRange(xRange=(-0.5, k + 0.5), yRange=(-0.5, k + 0.5), padding=0)


def _pct(value: float) -> str:
    """A share in whole percent ("–" when undefined)."""
    return "–" if not np.isfinite(value) else f"{100 * value:.0f}"
