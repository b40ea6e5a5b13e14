"""What every inspection view shares: a header (readout, export button), a pyqtgraph
canvas, and a note that replaces the canvas when the view does not apply to the data."""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter, SVGExporter
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QMenu, QStackedWidget, QToolButton, QVBoxLayout, QWidget

from ..plots import LayoutCanvas, _readout_label

EXPORT_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"


class ViewPanel(QWidget):
    """Base of the views: ``self.canvas`` (a GraphicsLayoutWidget) under a header row that
    holds ``self.readout``, any extra controls (``self.header``) and an Export button."""

    def __init__(self, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.name = name
        self.canvas = LayoutCanvas()
        self.canvas.setObjectName(f"{name}Canvas")
        self.note = QLabel()
        self.note.setObjectName(f"{name}Note")
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setProperty("hint", True)
        self.note.setContentsMargins(24, 24, 24, 24)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.canvas)
        self.stack.addWidget(self.note)
        self.readout = _readout_label(f"{name}Readout")
        self.export_button = QToolButton()
        self.export_button.setObjectName(f"{name}Export")
        self.export_button.setText("Export")
        self.export_button.setToolTip("Save this view as a PNG image or an SVG drawing")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("As PNG image…", lambda: self._ask_export("png"))
        menu.addAction("As SVG drawing…", lambda: self._ask_export("svg"))
        self.export_button.setMenu(menu)
        self.header = QHBoxLayout()
        self.header.setContentsMargins(6, 2, 6, 0)
        self.header.addWidget(self.readout, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(self.header)
        layout.addWidget(self.stack, 1)

    # ----- LiveView: the window's redraw timer draws the newest data, one view per frame ----------------
    def set_pending(self, *data) -> None:
        """Keep the newest probe data; it is drawn at the next :meth:`refresh`."""
        self._pending = data

    def stale(self) -> bool:
        return getattr(self, "_pending", None) is not None and not self.visibleRegion().isEmpty()

    def refresh(self) -> None:
        data, self._pending = getattr(self, "_pending", None), None
        if data is not None:
            self.show_data(*data)

    def show_data(self, *data) -> None:
        raise NotImplementedError

    def finish_header(self) -> None:
        """Call after adding controls to ``self.header``: puts the Export button last."""
        self.header.addWidget(self.export_button)

    def show_note(self, text: str) -> None:
        """Replace the plot by ``text`` (the view does not apply to this data)."""
        self.note.setText(text)
        self.stack.setCurrentWidget(self.note)

    def show_canvas(self) -> None:
        self.stack.setCurrentWidget(self.canvas)

    def showing_note(self) -> bool:
        return self.stack.currentWidget() is self.note

    def export(self, path: str | Path) -> None:
        """Write the view to ``path``: SVG when it ends in .svg, otherwise a PNG image."""
        path = str(path)
        if path.lower().endswith(".svg"):
            try:
                SVGExporter(self.canvas.scene()).export(path)
            except ValueError:  # pyqtgraph cannot parse some paths Qt 6 writes: render the scene directly
                self._render_svg(path)
            return
        exporter = ImageExporter(self.canvas.scene())
        exporter.parameters()["width"] = max(self.canvas.width(), 400)
        exporter.export(path)

    def _render_svg(self, path: str) -> None:
        scene = self.canvas.scene()
        rect = scene.sceneRect()
        generator = QSvgGenerator()
        generator.setFileName(path)
        generator.setSize(QSize(int(rect.width()), int(rect.height())))
        generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
        generator.setTitle(self.name)
        painter = QPainter(generator)
        try:
            scene.render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
        finally:
            painter.end()

    def _ask_export(self, kind: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export view", f"{self.name}.{kind}", EXPORT_FILTER)
        if path:
            if not Path(path).suffix:
                path += f".{kind}"
            self.export(path)


def plot_item(canvas: pg.GraphicsLayoutWidget, bottom: str, left: str, row: int = 0, col: int = 0) -> pg.PlotItem:
    from ..style import style_plot_item

    item = canvas.addPlot(row=row, col=col)
    style_plot_item(item, bottom, left)
    item.setMenuEnabled(True)
    return item
