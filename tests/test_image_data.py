"""Image data keep their sample shape (H, W, C), channels last, with X flattened row-major:
NPZ, MNIST IDX, image folders, the built-in digits and MNIST-5k, and the coloured digits
(digits tinted to 8×8×3, the course's 192-input example); tables stay (features,); the image
grid draws C = 1 as grey and C = 3 as RGB."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest

from core.cli import DATASET_NAMES, main
from core.coloured_digits import BACKGROUNDS, FOREGROUNDS, PAIRS, colour_pairs, tint_digits
from core.data import DataError, image_size_text, make_dataset
from core.experiment import load_dataset
from core.loaders import LoadOptions, describe_dataset, load_file
from core.realdata import REAL_DATASETS, attribution, dataset_metadata, load_real

RNG = np.random.default_rng(13)


def npz_file(path: Path, **arrays) -> Path:
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    path.write_bytes(buffer.getvalue())
    return path


def idx_file(path: Path, array: np.ndarray) -> Path:
    """``array`` (uint8) as an IDX file."""
    path.write_bytes(bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes())
    return path


def assert_row_major(dataset, images: np.ndarray, scale: float = 1.0) -> None:
    """Each row of X is its image (H, W[, C]) flattened row-major (channels innermost)."""
    for k in (0, len(images) // 2, len(images) - 1):
        np.testing.assert_allclose(dataset.X[k], images[k].reshape(-1) / scale)
    np.testing.assert_allclose(dataset.images(), images.reshape(len(images), *dataset.sample_shape) / scale)


# ----- NPZ ---------------------------------------------------------------------------------------


def test_npz_grey_images_get_one_channel(tmp_path):
    images = RNG.integers(0, 256, (6, 5, 4), dtype=np.uint8)
    dataset = load_file(npz_file(tmp_path / "grey.npz", X=images, y=np.arange(6) % 2))
    assert dataset.sample_shape == (5, 4, 1) and dataset.is_image and dataset.X.shape == (6, 20)
    assert_row_major(dataset, images, 255.0)
    assert dataset.feature_names[:2] == ("pixel_0_0", "pixel_0_1") and "image_shape" not in dataset.meta
    assert "images: 5 × 4 pixels, scaled to [0, 1] (uint8 / 255)" in describe_dataset(dataset)


def test_npz_colour_images_keep_their_channels(tmp_path):
    images = RNG.random((5, 3, 2, 3))
    dataset = load_file(npz_file(tmp_path / "rgb.npz", X=images, y=np.array([0, 1, 2, 0, 1])))
    assert dataset.sample_shape == (3, 2, 3) and dataset.X.shape == (5, 18)
    assert_row_major(dataset, images)
    assert dataset.feature_names[:4] == ("pixel_0_0_0", "pixel_0_0_1", "pixel_0_0_2", "pixel_0_1_0")
    assert "images: 3 × 2 × 3 pixels" in describe_dataset(dataset)  # floats: kept as they are, not scaled
    four = load_file(npz_file(tmp_path / "four.npz", X=RNG.random((4, 2, 2, 5)), y=np.array([0, 1, 0, 1])))
    assert four.sample_shape == (2, 2, 5)


def test_npz_tables_stay_flat_and_named_columns_stay_named(tmp_path):
    table = load_file(npz_file(tmp_path / "t.npz", X=RNG.random((6, 3)), y=np.arange(6) % 2))
    assert table.sample_shape == (3,) and not table.is_image and table.feature_names == ("x1", "x2", "x3")
    with pytest.raises(DataError, match="not image data"):
        table.images()
    names = np.array(["a", "b", "c", "d"])
    named = load_file(npz_file(tmp_path / "n.npz", X=RNG.random((4, 2, 2)), y=np.array([0, 1, 0, 1]), feature_names=names,
                               layout="image"))  # float (m, H, W) are sequences without the layout
    assert named.feature_names == ("a", "b", "c", "d") and named.sample_shape == (2, 2, 1)


def test_npz_images_with_a_missing_pixel_drop_the_sample_and_keep_the_shape(tmp_path):
    images = RNG.random((5, 2, 3))
    images[1, 1, 2] = np.nan
    dataset = load_file(npz_file(tmp_path / "gap.npz", X=images, y=np.array([0, 1, 0, 1, 0]), layout="image"))
    assert dataset.n_samples == 4 and dataset.sample_shape == (2, 3, 1)
    np.testing.assert_allclose(dataset.images(), images[[0, 2, 3, 4], :, :, None])
    scaled = load_file(tmp_path / "gap.npz", LoadOptions(scale="standardize", missing="mean"))
    assert scaled.sample_shape == (2, 3, 1) and scaled.n_samples == 5


# ----- IDX ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "sample_shape"), [((7, 28, 28), (28, 28, 1)), ((7, 5, 4), (5, 4, 1)), ((7, 3, 2, 3), (3, 2, 3))])
def test_idx_images_keep_their_shape(tmp_path, shape, sample_shape):
    images = RNG.integers(0, 256, shape, dtype=np.uint8)
    path = idx_file(tmp_path / "train-images-idx3-ubyte", images)
    idx_file(tmp_path / "train-labels-idx1-ubyte", (np.arange(7) % 3).astype(np.uint8))
    dataset = load_file(path)
    assert dataset.sample_shape == sample_shape and dataset.X.shape == (7, np.prod(sample_shape))
    assert_row_major(dataset, images, 255.0)
    assert len(dataset.feature_names) == dataset.n_features and "image_shape" not in dataset.meta


# ----- image folders -----------------------------------------------------------------------------


def write_images(root: Path, images: dict[str, list[np.ndarray]]) -> Path:
    """Stand-in image files (``.png`` holding an .npy array) for ``npy_reader``, one subfolder per class."""
    for name, arrays in images.items():
        (root / name).mkdir(parents=True)
        for i, array in enumerate(arrays):
            with open(root / name / f"{i}.png", "wb") as f:
                np.save(f, array, allow_pickle=False)
    return root


def npy_reader(path: Path, size, grey: bool) -> np.ndarray:
    """An injected decoder of write_images's files: RGB (h, w, 3), or its first channel when ``grey``."""
    image = np.load(path, allow_pickle=False)
    return image[:, :, 0].copy() if grey else image


@pytest.mark.parametrize(("grey", "channels"), [(True, 1), (False, 3)])
def test_image_folders_are_grey_or_colour(tmp_path, grey, channels):
    images = RNG.integers(0, 256, (5, 4, 3, 3), dtype=np.uint8)
    root = write_images(tmp_path / "pics", {"cat": list(images[:3]), "dog": list(images[3:])})
    dataset = load_file(root, LoadOptions(grey=grey), read_image=npy_reader)
    assert dataset.sample_shape == (4, 3, channels) and dataset.class_names == ("cat", "dog")
    assert_row_major(dataset, images if not grey else images[:, :, :, 0], 255.0)
    assert dataset.feature_names[-1] == ("pixel_3_2" if grey else "pixel_3_2_2")


def test_qt_decoder_keeps_rows_columns_and_rgb_order(tmp_path):
    pytest.importorskip("PySide6.QtGui")
    from PySide6.QtGui import QColor, QImage

    from app.image_reader import read_image

    pixels = RNG.integers(0, 256, (2, 2, 3, 3), dtype=np.uint8)  # two RGB images of 2 rows × 3 columns
    for label, name in enumerate(("a", "b")):
        (tmp_path / "png" / name).mkdir(parents=True)
        image = QImage(3, 2, QImage.Format.Format_RGB888)
        for row, column in np.ndindex(2, 3):
            image.setPixelColor(column, row, QColor(*map(int, pixels[label, row, column])))
        assert image.save(str(tmp_path / "png" / name / "0.png"))
    dataset = load_file(tmp_path / "png", LoadOptions(grey=False), read_image=read_image)
    assert dataset.sample_shape == (2, 3, 3)
    assert_row_major(dataset, pixels, 255.0)


# ----- tables ------------------------------------------------------------------------------------


def test_tables_and_synthetic_data_stay_flat(tmp_path):
    (tmp_path / "t.csv").write_text("a,b,class\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(10)), encoding="utf-8")
    assert load_file(tmp_path / "t.csv").sample_shape == (2,)
    assert load_real("iris").sample_shape == (4,) and not load_real("iris").is_image
    assert load_dataset({"name": "spiral"}).sample_shape == (2,)


def test_a_sample_shape_must_be_flat_steps_features_or_height_width_channels():
    X = np.zeros((3, 12))
    with pytest.raises(DataError, match=r"\(features,\), \(steps, features\) or \(height, width, channels\), got \(1, 3, 4, 1\)"):
        make_dataset(X, np.array([0, 1, 0]), sample_shape=(1, 3, 4, 1))
    sequences = make_dataset(X, np.array([0, 1, 0]), sample_shape=(3, 4))
    assert sequences.is_sequence and not sequences.is_image
    with pytest.raises(DataError, match=r"a sample of shape \(2, 2, 2\) has 8 values, but X has 12 features"):
        make_dataset(X, np.array([0, 1, 0]), sample_shape=(2, 2, 2))
    assert make_dataset(X, np.array([0, 1, 0]), sample_shape=(2, 2, 3)).images([0, 2]).shape == (2, 2, 2, 3)
    assert [image_size_text(s) for s in [(8, 8, 1), (8, 6, 3), (4, 4, 5)]] == ["8×8", "8×6 RGB", "4×4×5"]


# ----- built-in images ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    return load_real("digits")


@pytest.fixture(scope="module")
def coloured():
    return load_real("digits_rgb")


def test_builtin_digits_and_mnist_are_one_channel_images(digits):
    assert digits.sample_shape == (8, 8, 1) and digits.feature_names[:2] == ("pixel_0_0", "pixel_0_1")
    mnist = load_real("mnist_5k")
    assert mnist.sample_shape == (28, 28, 1) and mnist.images([0]).shape == (1, 28, 28, 1)
    assert "image_shape" not in digits.meta and "image_shape" not in mnist.meta


def test_coloured_digits_are_the_digits_in_colour(digits, coloured):
    assert coloured.sample_shape == (8, 8, 3) and coloured.X.shape == (1797, 192) and coloured.name == "digits_rgb"
    assert np.array_equal(coloured.y, digits.y) and coloured.class_names == digits.class_names
    assert coloured.feature_names[:4] == ("pixel_0_0_0", "pixel_0_0_1", "pixel_0_0_2", "pixel_0_1_0")
    assert coloured.X.min() >= 0 and coloured.X.max() <= 1
    pairs = colour_pairs(digits.y)
    k = 100
    fore, back = (np.array(colours[name]) for colours, name in zip((FOREGROUNDS, BACKGROUNDS), PAIRS[pairs[k]], strict=True))
    ink = digits.images([k])[0]  # (8, 8, 1)
    np.testing.assert_allclose(coloured.images([k])[0], (1 - ink) * back + ink * fore)


def test_coloured_digits_are_deterministic(digits, coloured):
    again = load_real("digits_rgb")
    assert np.array_equal(again.X, coloured.X)
    assert not np.array_equal(tint_digits(digits, seed=1).X, coloured.X)


def test_colour_says_nothing_about_the_digit(digits):
    pairs = colour_pairs(digits.y)
    table = np.zeros((10, len(PAIRS)), int)
    np.add.at(table, (digits.y, pairs), 1)
    assert table.min() >= 1, "every colour pair occurs with every digit"
    assert (table.max(axis=1) - table.min(axis=1)).max() <= 1, "and equally often, to one sample"
    foreground = np.array([list(FOREGROUNDS).index(PAIRS[p][0]) for p in pairs])
    for colour in range(len(FOREGROUNDS)):  # each colour's digits are spread like all the digits
        share = np.bincount(digits.y[foreground == colour], minlength=10) / np.sum(foreground == colour)
        np.testing.assert_allclose(share, np.bincount(digits.y) / len(digits.y), atol=0.01)


def test_coloured_digits_credit_the_digits():
    meta, base = dataset_metadata("digits_rgb"), dataset_metadata("digits")
    for key in ("creators", "year", "doi", "license", "license_url", "source", "obtained_from", "package_license"):
        assert meta[key] == base[key], key
    assert meta["changes"][: len(base["changes"])] == base["changes"] and "tinted" in meta["changes"][-1]
    assert meta["derived_from"] == "digits" and "image_shape" not in meta and meta["name"] == "digits_rgb"
    assert base["title"] in meta["title"] and "10.24432/C50P49" in attribution("digits_rgb") and "CC BY 4.0" in attribution("digits_rgb")
    assert base["citation"] in meta["citation"]


def test_coloured_digits_are_listed_wherever_built_ins_are(capsys, coloured):
    assert "digits_rgb" in REAL_DATASETS and "digits_rgb" in DATASET_NAMES
    assert load_dataset({"name": "digits_rgb"}).sample_shape == (8, 8, 3)  # the experiment schema takes the name
    assert main(["data", "digits_rgb"]) == 0
    out = capsys.readouterr().out
    assert "features: 192" in out and "CC BY 4.0" in out
    pytest.importorskip("PySide6.QtWidgets")
    from app.dataset_panel import REAL_ONLY

    assert "digits_rgb" in REAL_ONLY


# ----- the image grid ----------------------------------------------------------------------------


def test_image_grid_draws_one_channel_grey_and_three_rgb(qtbot, coloured, digits):
    from PySide6.QtGui import QImage

    from app.image_grid import ImageGrid, to_qimage

    grey = to_qimage(digits.images([5])[0])
    assert grey.format() == QImage.Format.Format_Grayscale8 and (grey.width(), grey.height()) == (8, 8)
    assert grey.pixelColor(3, 2).red() == round(digits.images([5])[0][2, 3, 0] * 255)
    image = coloured.images([5])[0]
    rgb = to_qimage(image)
    assert rgb.format() == QImage.Format.Format_RGB888
    colour = rgb.pixelColor(3, 2)
    assert [colour.red(), colour.green(), colour.blue()] == [round(v * 255) for v in image[2, 3]]
    grid = ImageGrid("colouredGrid")
    qtbot.addWidget(grid)
    grid.resize(400, 300)
    grid.set_images(coloured.images(np.arange(12)), [coloured.class_names[d] for d in coloured.y[:12]])
    assert len(grid.tile_rects()) == 12 and grid.item.images[0].format() == QImage.Format.Format_RGB888
