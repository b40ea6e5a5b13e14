"""Image data shown as images: the Data tab's preview of digits, MNIST and any image data is a
grid of sample images with their labels (app.dataset_panel.ImagePreview on app.image_grid);
other data keep the scatter."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import shown
from PySide6.QtCore import QPointF

from app.dataset_panel import DatasetPanel, preview_rows
from app.image_grid import ImageGrid, image_scale, to_qimage
from core.data import make_dataset
from core.realdata import load_real


@pytest.fixture
def panel(qtbot):
    widget = shown(qtbot, DatasetPanel())
    widget.resize(300, 700)
    return widget


def choose(panel: DatasetPanel, name: str) -> None:
    panel.combo.setCurrentIndex(panel.combo.findData(name))


def test_digits_show_sample_images_with_their_labels_not_the_scatter(panel):
    choose(panel, "digits")
    panel.set_validation_fraction(0.2)
    preview, data = panel.image_preview, panel.dataset
    assert panel.preview_stack.currentWidget() is preview and preview.isVisible() and not panel.preview.isVisible()
    rows = preview.rows
    assert len(rows) == 30 and np.bincount(data.y[rows]).tolist() == [3] * 10, "three of each digit"
    assert preview.grid.captions == [data.class_names[data.y[r]] for r in rows]
    assert [image.height() for image in preview.grid.item.images] == [8] * 30
    marked = preview.grid.item.marked
    assert 0 < sum(marked) < 30 and marked == panel_validation(panel)[rows].tolist()
    assert preview.caption.text() == "3 of each class, of 1,797 images of 8×8 pixels; orange frame: validation"


def test_hovering_an_image_names_its_sample(panel):
    choose(panel, "digits")
    preview = panel.image_preview
    image, _ = preview.grid.tile_rects()[7]
    item = preview.grid.item
    assert item.tile_at(image.center().x(), image.center().y()) == 7 and item.tile_at(-5, -5) is None
    row = int(preview.rows[7])
    assert item.tooltips[7] == f"sample {row:,}: {panel.dataset.class_names[panel.dataset.y[row]]} (training)"


def panel_validation(panel: DatasetPanel) -> np.ndarray:
    from core.trainer import split_indices

    mask = np.zeros(panel.dataset.n_samples, bool)
    mask[split_indices(panel.dataset.n_samples, panel.validation_fraction(), panel._split_seed)[1]] = True
    return mask


def test_spiral_keeps_the_scatter_and_digits_then_spiral_switch_back(panel):
    choose(panel, "digits")
    choose(panel, "spiral")
    assert panel.preview_stack.currentWidget() is panel.preview and panel.preview.isVisible()
    assert panel.preview.getPlotItem().listDataItems() and not panel.image_preview.isVisible()


def test_the_preview_draws_every_pixel_of_an_image_nearest_neighbour(panel):
    choose(panel, "digits")
    grid, data = panel.image_preview.grid, panel.dataset
    image = panel.image_preview.grab().toImage()
    offset = grid.mapTo(panel.image_preview, grid.rect().topLeft())
    rect, _ = grid.tile_rects()[4]
    pixels = data.X[panel.image_preview.rows[4]].reshape(8, 8)
    side = rect.width() / 8
    assert side >= 2 and side == int(side), "whole-pixel scaling of an 8 × 8 digit"
    for i in range(8):
        for j in range(8):
            point = QPointF(rect.left() + (j + 0.5) * side, rect.top() + (i + 0.5) * side).toPoint() + offset
            assert abs(image.pixelColor(point).red() - round(pixels[i, j] * 255)) <= 1


def test_mnist_previews_three_of_each_class_and_the_tiles_fit_the_panel(panel):
    choose(panel, "mnist_5k")
    grid = panel.image_preview.grid
    assert len(grid.captions) == 30 and set(grid.captions) == set(panel.dataset.class_names)
    assert_tiles_inside_apart(grid)


def assert_tiles_inside_apart(grid: ImageGrid) -> None:
    rects = grid.tile_rects()
    area = grid.rect().toRectF()
    assert rects and all(area.contains(image) for image, _ in rects)
    for n, (image, caption) in enumerate(rects):
        assert caption.top() >= image.bottom()
        for other, other_caption in rects[n + 1:]:
            assert not image.intersects(other) and not caption.intersects(other_caption)


@pytest.mark.parametrize("size", [(300, 300), (180, 500), (600, 200), (900, 700)])
def test_tiles_never_overlap_at_any_size(qtbot, size):
    grid = shown(qtbot, ImageGrid("grid"))
    grid.resize(*size)
    rng = np.random.default_rng(1)
    grid.set_images(rng.random((30, 28, 28)), [f"class {k}" for k in range(30)])
    assert_tiles_inside_apart(grid)


def test_rgb_image_folders_show_in_colour_and_regression_images_show_their_targets(panel):
    pixels = np.zeros((20, 4, 5, 3))
    pixels[:, :, :, 0] = 1.0  # pure red
    rgb = make_dataset(pixels.reshape(20, -1), np.arange(20) % 2, name="folder", class_names=["cat", "dog"],
                       sample_shape=(4, 5, 3))
    panel.set_dataset(rgb, {"path": "folder"})
    grid = panel.image_preview.grid
    assert panel.preview_stack.currentWidget() is panel.image_preview
    assert grid.captions == ["cat"] * 10 + ["dog"] * 10 and grid.item.images[0].pixelColor(2, 1).getRgb()[:3] == (255, 0, 0)
    targets = make_dataset(pixels[:, :, :, 0].reshape(20, 20)[:, :20], np.linspace(0, 1, 20), name="pixels",
                           sample_shape=(4, 5, 1))
    panel.set_dataset(targets, {"path": "pixels.npz"})
    assert len(grid.captions) == 20 and "0.5263" in grid.captions


def test_preview_rows_are_a_fixed_few_per_class_and_read_only_the_labels():
    labels = np.arange(70_000) % 10

    class LabelsOnly:  # a dataset whose pixels cannot be read
        task, class_names, n_samples, y = "multiclass", tuple("0123456789"), 70_000, labels

        @property
        def X(self):
            raise AssertionError("the sample choice read the pixels")

    rows = preview_rows(LabelsOnly())
    assert rows.tolist() == preview_rows(LabelsOnly()).tolist(), "the same images every time"
    assert np.bincount(labels[rows]).tolist() == [3] * 10 and len(set(rows.tolist())) == 30
    two = preview_rows(make_dataset(np.zeros((100, 4)), np.arange(100) % 2))
    assert len(two) == 24, "twelve of each of two classes"
    many = preview_rows(make_dataset(np.zeros((200, 4)), np.arange(200) % 50))
    assert len(many) == 36 and len(np.unique(many % 50)) == 36, "one of each of the first 36 of 50 classes"


def test_pixels_become_grey_rgb_or_rgba_images():
    grey = to_qimage(np.array([[0.0, 1.0], [0.5, 0.25]]))
    assert [grey.pixelColor(x, y).red() for y in range(2) for x in range(2)] == [0, 255, 128, 64]
    rgba = to_qimage(np.tile([0.0, 1.0, 0.0, 1.0], (2, 3, 1)))
    assert rgba.width() == 3 and rgba.pixelColor(2, 1).getRgb() == (0, 255, 0, 255)
    two_channels = to_qimage(np.ones((2, 2, 2)))  # any other channel count: its first as grey
    assert two_channels.pixelColor(0, 0).red() == 255


def test_an_image_keeps_a_whole_pixel_scale_unless_that_loses_too_much():
    assert image_scale(4.6) == 4 and image_scale(2.4) == 2 and image_scale(1.9) == pytest.approx(1.9)
    assert image_scale(0.5) == 0.5


def test_the_real_mnist_preview_images_are_its_rows(panel):
    choose(panel, "mnist_5k")
    data, preview = load_real("mnist_5k"), panel.image_preview
    first = preview.grid.item.images[0]
    row = data.X[preview.rows[0]].reshape(28, 28)
    assert first.width() == 28 and first.pixelColor(14, 10).red() == round(row[10, 14] * 255)
