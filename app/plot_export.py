"""Any plot of the window as a PNG image or an SVG drawing: :func:`export_plot` for a
plot the window names (File ▸ Export plot, a view's Export button), :func:`ask_export_plot`
for the file dialog in front of it.

What can be exported: a ``pg.PlotItem`` (one plot, its legend included), a pyqtgraph
canvas (``pg.GraphicsView``: every plot of a view), or a widget with such a ``canvas``
attribute (the loss and metric plots, every view panel). The file is written beside its
target and renamed over it (:func:`core.files.atomic_write`), so a failed export leaves
any old file whole; every problem is one :class:`core.files.FileFormatError` line naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter, SVGExporter
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QFileDialog, QGraphicsItem, QGraphicsScene, QWidget

from core.files import FileFormatError, atomic_write, check_writable

EXPORT_SUFFIXES = (".png", ".svg")
EXPORT_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"
MIN_PNG_WIDTH = 400  # pixels: a plot exported from a small dock is still legible


def exportable(plot: object) -> QGraphicsItem | QGraphicsScene:
    """What a pyqtgraph exporter takes for ``plot``: a graphics item as it is, the scene of a
    canvas (or of a widget's ``canvas``). TypeError for anything else (a programming error)."""
    if isinstance(plot, QGraphicsItem | QGraphicsScene):
        return plot
    canvas = getattr(plot, "canvas", plot)
    if isinstance(canvas, pg.GraphicsView):
        return canvas.scene()
    raise TypeError(f"cannot export {type(plot).__name__}: not a plot, a pyqtgraph canvas or a view with one")


def export_plot(plot: object, path: str | os.PathLike) -> Path:
    """Write ``plot`` to ``path``: a PNG image for ``.png``, an SVG drawing for ``.svg`` (any
    case). Returns the path written. FileFormatError for another suffix or a path that cannot
    be written (missing folder, no permission, a folder or device in the way)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise FileFormatError(f"{path}: a plot is exported as .png or .svg, not {suffix or 'a file without a suffix'}")
    check_writable(path)
    item = exportable(plot)
    data = _svg_bytes(item) if suffix == ".svg" else _png_bytes(item)
    atomic_write(path, lambda f: f.write(data))
    return path


def _png_bytes(item: QGraphicsItem | QGraphicsScene) -> bytes:
    exporter = ImageExporter(item)
    width = exporter.parameters()["width"]
    if width < MIN_PNG_WIDTH:
        exporter.parameters()["width"] = MIN_PNG_WIDTH  # the height follows the plot's aspect
    image = exporter.export(toBytes=True)
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if image.isNull() or not image.save(buffer, "PNG"):
        raise FileFormatError("the plot could not be drawn as an image (it has no size yet: show it first)")
    return bytes(buffer.data())


def _svg_bytes(item: QGraphicsItem | QGraphicsScene) -> bytes:
    try:
        return SVGExporter(item).export(toBytes=True)
    except ValueError:  # pyqtgraph cannot parse some paths Qt 6 writes: let Qt render the drawing itself
        return _rendered_svg(item)


def _rendered_svg(item: QGraphicsItem | QGraphicsScene) -> bytes:
    """The SVG Qt's own generator writes for ``item`` (the part of the scene it covers)."""
    scene = item if isinstance(item, QGraphicsScene) else item.scene()
    source = scene.sceneRect() if isinstance(item, QGraphicsScene) else item.sceneBoundingRect()
    target = QRectF(0, 0, source.width(), source.height())
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(int(source.width()), int(source.height())))
    generator.setViewBox(target)
    painter = QPainter(generator)
    try:
        scene.render(painter, target, source)
    finally:
        painter.end()
    return bytes(data)


def ask_export_plot(parent: QWidget, plot: object, name: str) -> Path | None:
    """Ask where to export ``plot`` (suggesting ``{name}.png``) and write it; None when the user
    cancels. A path without a suffix gets the one of the chosen filter. FileFormatError as
    :func:`export_plot` raises it: the caller shows it as its one-line message."""
    path, chosen = QFileDialog.getSaveFileName(parent, "Export plot", f"{name}.png", EXPORT_FILTER)
    if not path:
        return None
    if not Path(path).suffix:
        path += ".svg" if "svg" in chosen.lower() else ".png"
    return export_plot(plot, path)
