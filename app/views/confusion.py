"""Confusion matrix of the network on the validation part, with per-class precision and
recall. Rows are the true class, columns the predicted class; a cell's colour is its share
of the row (the recall of that true class), its text the count. Computed in the trainer's
thread by a probe (:func:`core.insight.confusion_data`)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QWidget

from core.insight import ConfusionData

from .common import ViewPanel, plot_item

TEXT_LIMIT = 20  # write counts in the cells up to this many classes


class ConfusionView(ViewPanel):
    def __init__(self, parent: QWidget | None = None):
        super().__init__("confusionView", parent)
        self.finish_header()
        self.plot = plot_item(self.canvas, "predicted class", "true class")
        self.plot.invertY(True)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("CET-L12"))  # white → blue
        self.plot.addItem(self.image)
        self._texts: list[pg.TextItem] = []
        self._recall_texts: list[pg.TextItem] = []
        self._precision_texts: list[pg.TextItem] = []
        self._names: tuple[str, ...] = ()
        self.data: ConfusionData | None = None
        self.show_note("Press Play or step an epoch to see the confusion matrix.")

    def clear(self) -> None:
        self.data = None

    def show_data(self, data: ConfusionData) -> None:
        self.data = data
        if data.reason:
            self.show_note(data.reason)
            return
        self.show_canvas()
        matrix = data.matrix
        k = matrix.shape[0]
        if data.class_names != self._names:
            self._set_classes(data.class_names)
        rows = matrix.sum(axis=1, keepdims=True)
        share = np.divide(matrix, rows, out=np.zeros(matrix.shape), where=rows > 0).astype(np.float32)
        self.image.setImage(share, autoLevels=False, levels=(0.0, 1.0))
        self.image.setRect(QRectF(-0.5, -0.5, k, k))
        if k <= TEXT_LIMIT:
            for (i, j), text in zip(np.ndindex(k, k), self._texts, strict=False):
                text.setText(str(int(matrix[i, j])))
                text.setColor("#ffffff" if share[i, j] > 0.55 else "#1f2328")
        if k <= TEXT_LIMIT:
            for text, value in zip(self._recall_texts, data.recall, strict=False):
                text.setText(f"R {_pct(value)}")
            for text, value in zip(self._precision_texts, data.precision, strict=False):
                text.setText(f"P {_pct(value)}")
        total = int(matrix.sum())
        correct = int(np.trace(matrix))
        self.readout.setText(f"epoch {data.epoch} · validation: {correct} of {total} right ({100 * correct / max(total, 1):.1f} %)"
                             " · P = precision of a predicted class, R = recall of a true class")
        self.readout.setToolTip("Per class: P = precision (of the samples predicted as it, the share that are it), "
                                "R = recall (of the samples that are it, the share found)")

    def _set_classes(self, names: tuple[str, ...]) -> None:
        self._names = names
        k = len(names)
        for text in (*self._texts, *self._recall_texts, *self._precision_texts):
            self.plot.removeItem(text)
        self._texts, self._recall_texts, self._precision_texts = [], [], []
        if k <= TEXT_LIMIT:
            for i, j in np.ndindex(k, k):
                text = pg.TextItem("", anchor=(0.5, 0.5))
                text.setPos(j, i)
                self.plot.addItem(text)
                self._texts.append(text)
            for i in range(k):
                recall = pg.TextItem("", color="#30363d", anchor=(0.0, 0.5))
                recall.setPos(k - 0.45, i)
                precision = pg.TextItem("", color="#30363d", anchor=(0.5, 0.0))
                precision.setPos(i, k - 0.45)
                for text in (recall, precision):
                    self.plot.addItem(text)
                self._recall_texts.append(recall)
                self._precision_texts.append(precision)
        ticks = [[(i, name) for i, name in enumerate(names)]] if k <= TEXT_LIMIT else None
        for axis in ("bottom", "left"):
            self.plot.getAxis(axis).setTicks(ticks)
        self.plot.setRange(xRange=(-0.5, k + 0.25), yRange=(-0.5, k), padding=0.02)


def _pct(value: float) -> str:
    return "–" if not np.isfinite(value) else f"{100 * value:.0f}%"
