"""A grid of small images, each with a caption under it: the Data tab's image preview and the
misclassified gallery draw their samples with it.

:class:`ImageGrid` is a pyqtgraph canvas (so a view's Export button and File ▸ Export plot
take it like any plot) whose one item, :class:`ImageGridItem`, fills it and paints every
tile itself. The grid chooses the number of columns that gives the largest images with all
captions readable; pixels are scaled nearest-neighbour, by a whole factor where that costs little of the size
(a digit's 8×8 pixels stay equal squares); images larger than their tile are scaled down smoothly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsSceneHoverEvent, QGraphicsWidget, QWidget

from .style import VAL_COLOR

PAD = 3.0  # pixels around an image inside its tile (room for the mark)
CAPTION_GAP = 10.0  # pixels at least between the captions of neighbouring tiles
CAPTION_SCALE = 0.9  # caption font size, as a share of the canvas's font
FRAME_COLOR = QColor("#cfd4dc")  # thin frame of every image
TEXT_COLOR = QColor("#1f2328")
MARK_WIDTH = 2.5  # the frame of a marked image, in VAL_COLOR
MIN_IMAGE_PX = 40  # pixels: an image drawn less high than this is too small to read (with drop_to_fit) ...
MIN_PIXEL_SCALE = 4  # ... unless each of its pixels is drawn this many screen pixels wide (an 8×8 digit at 32 px)
WHOLE_LOSS = 0.25  # images shrink by up to this share to keep a whole pixel scale


def to_qimage(image: np.ndarray) -> QImage:
    """A QImage (its own copy) of ``image``: (h, w) or (h, w, c) pixels in [0, 1], as a sample of
    ``Dataset.sample_shape`` (H, W, C) is: c = 1 grey, c = 3 RGB, c = 4 RGBA; any other c shows its
    first channel as grey."""
    pixels = np.clip(np.rint(np.asarray(image, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[2] not in (3, 4):
        pixels = pixels[:, :, 0]
    pixels = np.ascontiguousarray(pixels)
    h, w = pixels.shape[:2]
    if pixels.ndim == 2:
        return QImage(pixels.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    channels = pixels.shape[2]
    fmt = QImage.Format.Format_RGB888 if channels == 3 else QImage.Format.Format_RGBA8888
    return QImage(pixels.data, w, h, w * channels, fmt).copy()


@dataclass(frozen=True)
class GridLayout:
    """Where the tiles go: the first ``count`` tiles, ``columns`` × ``rows`` of ``tile`` (w, h)
    pixels, the first at ``origin`` (x, y); each image ``image`` (w, h) pixels; captions
    ``lines`` lines high, which ``fit`` their tiles (else they are cut short with "…")."""

    count: int
    columns: int
    rows: int
    tile: tuple[float, float]
    origin: tuple[float, float]
    image: tuple[float, float]
    lines: int
    fit: bool


def image_scale(fit: float) -> float:
    """The scale of an image that ``fit`` times its size would fill: the whole factor below it
    (nearest-neighbour pixels all the same size) unless that loses more than WHOLE_LOSS of the
    size, else ``fit`` itself (then some pixels are one screen pixel wider than others)."""
    whole = math.floor(fit)
    return float(whole) if whole >= 1 and whole >= (1 - WHOLE_LOSS) * fit else fit


class ImageGridItem(QGraphicsWidget):
    """The tiles, painted in one item that the canvas keeps the size of its view. With
    ``drop_to_fit`` it draws only as many of the first tiles as it can draw readably."""

    shownChanged = Signal(int)  # how many tiles are drawn, when that changes

    def __init__(self, drop_to_fit: bool = False) -> None:
        super().__init__()
        self.drop_to_fit = drop_to_fit
        self.setAcceptHoverEvents(True)
        self.images: list[QImage] = []
        self.captions: list[str] = []
        self.marked: list[bool] = []
        self.tooltips: list[str] = []
        self.caption_font = QFont()
        self.grid: GridLayout | None = None
        self._word_widths: set[tuple[float, ...]] = set()  # of each caption's words (they break at spaces), once per kind

    def set_tiles(self, images: list[QImage], captions: list[str], marked: list[bool], tooltips: list[str]) -> None:
        self.images, self.captions, self.marked, self.tooltips = images, captions, marked, tooltips
        self._measure_captions()

    def set_caption_font(self, font: QFont) -> None:
        self.caption_font = font
        self._measure_captions()

    def _measure_captions(self) -> None:
        metrics = QFontMetricsF(self.caption_font)
        self._word_widths = {tuple(metrics.horizontalAdvance(word) for word in text.split(" ")) for text in set(self.captions) if text}
        self._space = metrics.horizontalAdvance(" ")
        self.relayout()

    def setGeometry(self, rect: QRectF) -> None:
        super().setGeometry(rect)
        self.relayout()

    def relayout(self) -> None:
        before = self.shown()
        self.grid = self._best_layout() if self.images else None
        self.update()
        if self.shown() != before:
            self.shownChanged.emit(self.shown())

    def _best_layout(self) -> GridLayout:
        """The layout with the largest images: of all the tiles (preferring captions that fit),
        or, with ``drop_to_fit``, of as many of the first tiles as fit readably (captions that
        fit, images at least MIN_IMAGE_PX high or MIN_PIXEL_SCALE times their size), at least one. Tiles span the width; rows are
        as high as their content, centred in the height."""
        line = QFontMetricsF(self.caption_font).lineSpacing()
        widest_word = max((width for words in self._word_widths for width in words), default=0.0)
        h, w = self.images[0].height(), self.images[0].width()
        width, height = self.rect().width(), self.rect().height()
        n = len(self.images)
        columns_of = [(width / c, max((self._lines(words, width / c - CAPTION_GAP) for words in self._word_widths), default=0),
                       widest_word + CAPTION_GAP <= width / c) for c in range(1, n + 1)]  # (tile width, lines, fits) by columns

        def best_for(count: int) -> tuple[tuple[bool, float], GridLayout] | None:
            best = None
            for columns in range(1, count + 1):
                rows = math.ceil(count / columns)
                tile_w, lines, fits = columns_of[columns - 1]
                fit = min((tile_w - 2 * PAD) / w, (height / rows - 2 * PAD - lines * line) / h)
                if fit <= 0:
                    continue
                scale = image_scale(fit)
                readable = fits and (h * scale >= MIN_IMAGE_PX or scale >= MIN_PIXEL_SCALE)
                score = (readable if self.drop_to_fit else fits, scale)
                if best is None or score > best[0]:
                    tile_h = h * scale + 2 * PAD + lines * line
                    grid = GridLayout(count, columns, rows, (tile_w, tile_h), (0.0, (height - tile_h * rows) / 2), (w * scale, h * scale),
                                      lines, fits)
                    best = (score, grid)
            return best

        if self.drop_to_fit:
            for count in range(n, 1, -1):
                found = best_for(count)
                if found is not None and found[0][0]:
                    return found[1]
        found = best_for(1 if self.drop_to_fit else n)
        if found is None:  # no room at all: one tiny tile, clipped
            return GridLayout(1, 1, 1, (width, height), (0.0, 0.0), (1.0, 1.0), 0, False)
        return found[1]

    def _lines(self, words: tuple[float, ...], width: float) -> int:
        """How many lines a caption of words ``words`` wide takes, wrapped at spaces into ``width``
        (as Qt's word wrap does; a word wider than ``width`` keeps a line to itself)."""
        lines, used = 1, 0.0
        for word in words:
            if used and used + self._space + word > width - 1:  # a pixel to spare for rounding
                lines, used = lines + 1, word
            else:
                used += (self._space if used else 0.0) + word
        return lines

    def tile_rects(self) -> list[tuple[QRectF, QRectF]]:
        """Each shown tile's (image rectangle, caption rectangle) in item coordinates, in order."""
        grid = self.grid
        if grid is None:
            return []
        (tile_w, tile_h), (x0, y0), (image_w, image_h) = grid.tile, grid.origin, grid.image
        line = QFontMetricsF(self.caption_font).lineSpacing()
        rects = []
        for n in range(grid.count):
            row, column = divmod(n, grid.columns)
            left, top = x0 + column * tile_w, y0 + row * tile_h
            image = QRectF(left + (tile_w - image_w) / 2, top + PAD, image_w, image_h)
            rects.append((image, QRectF(left + CAPTION_GAP / 2, image.bottom() + PAD / 2, tile_w - CAPTION_GAP, grid.lines * line)))
        return rects

    def shown(self) -> int:
        """How many tiles are drawn (all, unless ``drop_to_fit`` left some out)."""
        return self.grid.count if self.grid is not None else 0

    def tile_at(self, x: float, y: float) -> int | None:
        """The index of the tile under the item point (x, y), or None."""
        grid = self.grid
        if grid is None:
            return None
        column = math.floor((x - grid.origin[0]) / grid.tile[0])
        row = math.floor((y - grid.origin[1]) / grid.tile[1])
        n = row * grid.columns + column
        return n if 0 <= column < grid.columns and 0 <= row and n < grid.count else None

    def paint(self, painter: QPainter, *args) -> None:
        if self.grid is None:
            return
        painter.save()
        painter.setFont(self.caption_font)
        metrics = QFontMetricsF(self.caption_font)
        smooth = self.grid.image[0] < self.images[0].width()
        for n, (image_rect, caption_rect) in enumerate(self.tile_rects()):
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
            painter.drawImage(image_rect, self.images[n])
            if self.marked[n]:
                painter.setPen(QPen(QColor(VAL_COLOR), MARK_WIDTH))
                painter.drawRect(image_rect.adjusted(-MARK_WIDTH / 2, -MARK_WIDTH / 2, MARK_WIDTH / 2, MARK_WIDTH / 2))
            else:
                painter.setPen(QPen(FRAME_COLOR, 1.0))
                painter.drawRect(image_rect.adjusted(-0.5, -0.5, 0.5, 0.5))
            painter.setPen(TEXT_COLOR)
            text = self.captions[n] if self.grid.fit else metrics.elidedText(self.captions[n], Qt.TextElideMode.ElideRight,
                                                                             caption_rect.width())
            painter.drawText(caption_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap, text)
        painter.restore()

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        n = self.tile_at(event.pos().x(), event.pos().y())
        self.setToolTip(self.tooltips[n] if n is not None and self.tooltips else "")


class ImageGrid(pg.GraphicsView):
    """A canvas of captioned images (see the module docstring); ``drop_to_fit`` as for
    :class:`ImageGridItem` (``item.shownChanged`` says how many are drawn)."""

    def __init__(self, name: str, drop_to_fit: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        self.setObjectName(name)
        self.item = ImageGridItem(drop_to_fit)
        self.setCentralItem(self.item)
        self._follow_font()

    def sizeHint(self) -> QSize:
        return QSize(320, 260)

    def minimumSizeHint(self) -> QSize:
        return QSize(120, 100)

    def set_images(self, images: np.ndarray | list[np.ndarray], captions: list[str], marked: list[bool] | None = None,
                   tooltips: list[str] | None = None) -> None:
        """Show ``images`` ((n, h, w) or (n, h, w, c) pixels in [0, 1], all one shape: e.g.
        ``dataset.images(rows)``, (n, H, W, C), grey for C = 1 and RGB for C = 3) with one
        caption each, in reading order; ``marked`` ones get a frame in the validation colour;
        ``tooltips`` (n texts) show on hover."""
        if len(captions) != len(images):
            raise ValueError(f"{len(images)} images but {len(captions)} captions")
        self.item.set_tiles([to_qimage(image) for image in images], list(captions),
                            list(marked) if marked is not None else [False] * len(images), list(tooltips or []))

    def clear(self) -> None:
        self.item.set_tiles([], [], [], [])

    @property
    def captions(self) -> list[str]:
        return self.item.captions

    def tile_rects(self) -> list[tuple[QRectF, QRectF]]:
        """Each tile's (image, caption) rectangle in this widget's pixels."""
        return self.item.tile_rects()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:
            self._follow_font()

    def _follow_font(self) -> None:
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * CAPTION_SCALE)
        self.item.set_caption_font(font)
