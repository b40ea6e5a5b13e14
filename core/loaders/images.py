"""A folder of images with one subfolder per class (``digits/0/*.png``, ``digits/1/*.png``, …).

Core never imports Qt, so the decoder is passed in: ``read_image(path, size, grey)``
returns the image at ``path`` as uint8, (h, w) when ``grey`` else (h, w, 3), resized to
``size`` = (height, width) when given (the app passes ``app.image_reader.read_image``,
built on Qt's QImageReader). Without a size every image must have the size of the first.
Classes are the subfolder names in sorted order; subfolders without images are skipped;
hidden files and folders are ignored. Pixels are divided by 255, so features are in
[0, 1]; the Dataset's ``sample_shape`` is (h, w, 1) for grey images or (h, w, 3) for colour,
each row an image flattened row-major (channels innermost).

Sizes are checked before memory is taken: a decoder calls :func:`check_image_size` with the
pixel size an image declares before decoding it (at most MAX_IMAGE_BYTES decoded), and the
whole folder's pixels (count × h × w × c, as uint8 and then float64) are checked against the
memory limit (core.limits) before they are allocated.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..data import Dataset, make_dataset
from ..limits import check_allocation, format_bytes
from .errors import LoaderError
from .options import LoadOptions
from .progress import Monitor
from .scaling import scale_features

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
MAX_IMAGE_BYTES = 256 << 20  # one decoded image; Qt's own default allocation limit for a decoded image
DECODED_BYTES_PER_PIXEL = 4  # decoders hand over 32-bit pixels
FOLDER_BYTES_PER_VALUE = 1 + 8  # the folder's pixels as uint8, then their float64 copy
ReadImage = Callable[[Path, "tuple[int, int] | None", bool], np.ndarray]
"""``read_image(path, size, grey) -> uint8 array (h, w) or (h, w, 3)``; raises on unreadable files."""


def pixel_names(sample_shape: tuple[int, int, int]) -> list[str]:
    """Feature names of images (H, W, C) flattened row-major: ``pixel_ROW_COL`` for one channel,
    ``pixel_ROW_COL_CHANNEL`` (channel 0, 1, 2 = red, green, blue for colour) for more."""
    shape = sample_shape[:2] if sample_shape[2] == 1 else sample_shape
    return ["pixel_" + "_".join(map(str, index)) for index in np.ndindex(*shape)]


def image_sample_shape(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """The sample shape (H, W, C) of one image of array shape ``shape``: (h, w) → (h, w, 1), (h, w, c) as it is."""
    height, width, *channels = (int(s) for s in shape)
    return height, width, channels[0] if channels else 1


def scan_folder(root: Path) -> list[tuple[str, list[Path]]]:
    """(class name, sorted image files) for each subfolder of ``root`` that holds images."""
    if not root.is_dir():
        raise LoaderError(f"{root}: not a folder")
    classes = []
    try:
        for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            files = sorted(p for p in sub.iterdir()
                           if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES)
            if files:
                classes.append((sub.name, files))
    except OSError as exc:
        raise LoaderError(f"{root}: cannot be listed ({exc.strerror})") from None
    if len(classes) < 2:
        raise LoaderError(f"{root}: an image folder needs at least two subfolders (one per class) holding "
                          f"{'/'.join(s.lstrip('.').upper() for s in IMAGE_SUFFIXES)} images; found {len(classes)}")
    return classes


def check_image_size(path: Path, width: int, height: int) -> None:
    """LoaderError when an image of ``width`` × ``height`` pixels (as its header declares, or
    as it is to be resized to) would take more than MAX_IMAGE_BYTES once decoded; call it
    before decoding. (The folder's total is checked against the memory limit.)"""
    decoded = width * height * DECODED_BYTES_PER_PIXEL
    if decoded > MAX_IMAGE_BYTES:
        raise LoaderError(f"{path}: an image of {width:,}×{height:,} pixels needs {format_bytes(decoded)} decoded: too large, "
                          f"at most {format_bytes(MAX_IMAGE_BYTES)} per image")


def _describe_size(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}×{shape[0]}" + (" RGB" if len(shape) == 3 else "")


def _read_one(read_image: ReadImage, path: Path, options: LoadOptions) -> np.ndarray:
    try:
        image = read_image(path, options.image_size, options.grey)
    except LoaderError:
        raise
    except (OSError, ValueError, TypeError) as exc:
        raise LoaderError(f"{path}: cannot read the image ({exc})") from None
    image = np.asarray(image)
    expected_ndim = 2 if options.grey else 3
    if image.dtype != np.uint8 or image.ndim != expected_ndim or (not options.grey and image.shape[2] != 3) or image.size == 0:
        raise LoaderError(f"{path}: the image reader returned {image.dtype} {image.shape}, "
                          f"expected uint8 {'(h, w)' if options.grey else '(h, w, 3)'}")
    return image


def load_image_folder(root: Path, options: LoadOptions | None = None, read_image: ReadImage | None = None,
                      monitor: Monitor | None = None) -> Dataset:
    """The Dataset of the image folder ``root`` (see the module docstring)."""
    options, monitor = options or LoadOptions(), monitor or Monitor()
    classes = scan_folder(root)
    if read_image is None:
        raise LoaderError(f"{root}: reading images needs an image decoder; run Epoch Lab's main.py (it passes Qt's), "
                          "or pass read_image=app.image_reader.read_image")
    total = sum(len(files) for _, files in classes)
    X = labels = first = None
    i = 0
    for label, (_, files) in enumerate(classes):
        for path in files:
            image = _read_one(read_image, path, options)
            if X is None:
                first = (path, image.shape)
                check_allocation(f"{root}: {total:,} images of {_describe_size(image.shape)} (uint8, then float64)",
                                 total * image.size * FOLDER_BYTES_PER_VALUE, error=LoaderError)
                X = np.empty((total, image.size), np.uint8)
                labels = np.empty(total, np.int64)
            elif image.shape != first[1]:
                raise LoaderError(f"{path}: is {_describe_size(image.shape)} but {first[0]} is {_describe_size(first[1])}; "
                                  "images of mixed sizes need an image size to resize them to (e.g. --image-size 28x28)")
            X[i], labels[i] = image.reshape(-1), label
            i += 1
            monitor.update(0.95 * i / total, f"reading images: {i:,} of {total:,}")
    sample_shape = image_sample_shape(first[1])
    features = X.astype(np.float64)
    features /= 255.0
    features, scaling = scale_features(features, options.scale)
    meta = {"source": str(root), "format": "images", "scaling": scaling, "pixels_scaled": True, "files": {name: len(files) for name, files in classes}}
    return make_dataset(features, labels, name=root.name, task="classes", feature_names=pixel_names(sample_shape),
                        class_names=[name for name, _ in classes], meta=meta, sample_shape=sample_shape)
