"""The feature maps of one sample: its input image, then for every Conv2D and pooling layer a
grid of the layer's output channels, each an H'×W' image, under the layer's label
("layer 1: Conv2D(8, 3×3, relu) 8×8×8"). From the "featureMaps" probe
(:class:`core.conv_insight.FeatureMapProbe`), which runs the network's own prediction-mode
pass on the sample in the trainer's process.

The sample is the one the inspector and the activations show (picked in any of them, or in
this view's own box). A layer's maps share diverging colours centred on zero with symmetric
levels ±L, L the largest |value| of that layer for this sample, so its channels compare (after
a ReLU every value is ≥ 0: white to red). The input is drawn as the data hold it: grey for one
channel, colour for three (pixels outside [0, 1] are scaled to it). Hovering a map names its
channel and range. Sections too many for the view scroll.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

from core.conv_insight import FeatureMapData, shape_text

from ..image_grid import CAPTION_SCALE, ImageGridItem, to_qimage
from .common import SampleViewPanel
from .kernels import diverging_rgb, range_text

SECTION_HEIGHT = 110  # pixels at least of each section (its title and maps): more sections scroll
LEAST_WEIGHT = 1.5  # a section's share of the height grows as √(its tiles), at least this ...
STRETCH_SCALE = 10  # ... times this (Qt's stretch factors are whole numbers)
TITLE_COLOR = "#1f2328"


def input_pixels(image: np.ndarray) -> np.ndarray:
    """``image`` (H, W, C) as pixels in [0, 1]: as it is when it lies there, else scaled from its own range."""
    image = np.asarray(image, dtype=np.float64)
    low, high = float(image.min()), float(image.max())
    if low >= 0.0 and high <= 1.0:
        return image
    return (image - low) / (high - low) if high > low else np.zeros_like(image)


class FeatureMapsView(SampleViewPanel):
    """The input and each conv/pooling layer's maps for the chosen sample (see the module
    docstring); ``sampleChanged(index)`` when the user picks another sample in its box."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("featureMaps", parent)
        self.add_sample_box("whose feature maps are shown")
        self.readout.setToolTip("The sample shown and its target")
        self.finish_header()
        self.scroll = self.scroll_canvas(0)  # when the sections need more height than the view has (_build_sections)
        self.canvas.setToolTip("The sample's input, then each convolution and pooling layer's output, one map per channel: "
                               "blue is negative, red positive, white about 0. Hover a map for its channel and range.")
        self.canvas.setAccessibleName("Feature maps of the chosen sample at every convolution and pooling layer")
        self.data: FeatureMapData | None = None
        self.titles: list[pg.LabelItem] = []
        self.grids: list[ImageGridItem] = []  # the input's, then each layer's
        self._sections: tuple = ()  # (title, number of tiles) of each section drawn
        self.clear()

    # ----- state ----------------------------------------------------------------------------------
    def clear(self) -> None:
        self.data = None
        self._build_sections([])
        self.readout.setText("")
        self.show_note("Press Play or step an epoch to see what each convolution layer makes of a sample.")

    def show_data(self, data: FeatureMapData) -> None:
        if not self.keep_or_explain(data):
            return
        channels = data.image.shape[-1]
        sections = [(f"input {shape_text(data.image.shape)}", 1 if channels in (1, 3) else channels)]
        sections += [(layer.label, layer.maps.shape[-1]) for layer in data.layers]
        if tuple(sections) != self._sections:
            self._build_sections(sections)
        self._draw_input(data.image)
        for grid, layer in zip(self.grids[1:], data.layers, strict=True):
            limit = float(np.abs(layer.maps).max()) or 1.0
            maps = np.moveaxis(layer.maps, -1, 0)  # (C', H', W')
            tips = [f"{layer.label}, channel {c + 1}: {range_text(m)}" for c, m in enumerate(maps)]
            self._set_tiles(grid, diverging_rgb(maps, limit), [str(c + 1) for c in range(len(maps))], tips)
        self.readout.setText(f"sample {data.sample:,} · target {data.target}")
        self.set_sample(data.sample)  # the probe keeps to the data: the box says the sample drawn

    def _draw_input(self, image: np.ndarray) -> None:
        pixels = input_pixels(image)
        channels = pixels.shape[-1]
        if channels in (1, 3):
            tiles = [pixels[..., 0] if channels == 1 else pixels]
            captions = [f"sample {self.data.sample:,}"]
        else:
            tiles, captions = list(np.moveaxis(pixels, -1, 0)), [f"channel {c + 1}" for c in range(channels)]
        self._set_tiles(self.grids[0], np.stack(tiles), captions, [f"the input: {range_text(image)}"] * len(tiles))

    @staticmethod
    def _set_tiles(grid: ImageGridItem, images: np.ndarray, captions: list[str], tips: list[str]) -> None:
        grid.set_tiles([to_qimage(image) for image in images], captions, [False] * len(images), tips)

    def _build_sections(self, sections: list[tuple[str, int]]) -> None:
        """A title and an empty grid for each (title, number of tiles) in ``sections``, one under the other."""
        self.canvas.clear()
        self.titles, self.grids, self._sections = [], [], tuple(sections)
        font = QFont(self.canvas.font())
        font.setPointSizeF(font.pointSizeF() * CAPTION_SCALE)
        layout = self.canvas.ci.layout
        for row, (title, tiles) in enumerate(sections):
            label = self.canvas.addLabel(title, row=2 * row, col=0, size="10pt", color=TITLE_COLOR)
            layout.setRowFixedHeight(2 * row, label.itemRect().height())
            grid = ImageGridItem()
            grid.set_caption_font(font)
            self.canvas.ci.addItem(grid, row=2 * row + 1, col=0)
            layout.setRowStretchFactor(2 * row + 1, round(STRETCH_SCALE * max(LEAST_WEIGHT, math.sqrt(tiles))))  # more maps, more room
            self.titles.append(label)
            self.grids.append(grid)
        self.canvas.setMinimumHeight(SECTION_HEIGHT * len(sections))
