"""MNIST-style IDX files (raw or gzip): an images file and its labels file.

IDX layout: two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
0x0D float32, 0x0E float64), the number of dimensions d, then d big-endian uint32 sizes
and the values, big-endian, row-major. An images file is (m, h, w) (or (m, h, w, c)), a
labels file (m,). The labels file is ``--labels`` / ``options.labels``, else found
beside the images file by its name (``train-images-idx3-ubyte[.gz]`` →
``train-labels-idx1-ubyte[.gz]``, also ``images`` → ``labels`` and ``idx3`` → ``idx1``).
Images become (m, h·w·c) features flattened row-major (uint8 divided by 255) with the
Dataset's ``sample_shape`` = (h, w, 1) (MNIST: (28, 28, 1)) or (h, w, c).
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from ..data import Dataset, make_dataset
from ..limits import check_allocation, require_regular_file
from .errors import LoaderError
from .images import image_sample_shape, pixel_names
from .options import LoadOptions
from .progress import Monitor
from .scaling import scale_features

IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
GZIP_MAGIC = b"\x1f\x8b"
GZIP_SIZE_BYTES = 4  # a gzip file ends with the size of its data, modulo 2³², in this many bytes
CONVERTED_ITEMSIZE = 8  # the loader converts the values to float64 (images) or int64 (labels)
READ_BLOCK = 1 << 20


def looks_like_idx(head: bytes) -> bool:
    """Whether the first 4 (decompressed) bytes are an IDX magic number."""
    return len(head) >= 4 and head[0] == 0 and head[1] == 0 and head[2] in IDX_TYPES and 1 <= head[3] <= 4


def gzip_size_hint(f) -> int:
    """The size of the data a gzip file holds, as its trailer records it: that of its last
    member, modulo 2³² (a hint: exact for one member under 4 GiB). ``f`` is the open binary
    file; its position is kept."""
    position = f.tell()
    try:
        f.seek(-GZIP_SIZE_BYTES, os.SEEK_END)
        return int.from_bytes(f.read(GZIP_SIZE_BYTES), "little")
    finally:
        f.seek(position)


def _read_header(f, path: Path) -> tuple[np.dtype, tuple[int, ...]]:
    magic = f.read(4)
    if not looks_like_idx(magic):
        found = magic.hex() if magic else "nothing"
        raise LoaderError(f"{path}: wrong magic number 0x{found}: an IDX file starts with 00 00, a type byte "
                          "(08 uint8 … 0E float64) and the number of dimensions (1–4)")
    dtype, ndim = IDX_TYPES[magic[2]], magic[3]
    head = f.read(4 * ndim)
    if len(head) < 4 * ndim:
        raise LoaderError(f"{path}: truncated: the header promises {ndim} dimension sizes but the file ends first")
    return dtype, tuple(int(s) for s in np.frombuffer(head, ">u4"))


def _count_bytes(f, limit: int, monitor: Monitor | None, share: float) -> int:
    """How many bytes are left in ``f``, reading (and dropping) at most ``limit``."""
    done = 0
    while done < limit:
        block = f.read(min(READ_BLOCK, limit - done))
        if not block:
            break
        done += len(block)
        if monitor is not None:
            monitor.update(share * done / limit, f"checking {done >> 20} MiB")
    return done


def _read_values(f, values: np.ndarray, monitor: Monitor | None, share: float) -> int:
    """Fill ``values`` from ``f`` in blocks (reporting progress); the bytes found, counting
    at most one byte beyond ``values``."""
    view, done = memoryview(values.reshape(-1).view(np.uint8)), 0
    while done < len(view):
        got = f.readinto(view[done : done + READ_BLOCK])
        if not got:
            return done
        done += got
        if monitor is not None:
            monitor.update(share * done / len(view), f"reading {done >> 20} MiB")
    return done + len(f.read(1))


def _check_length(path: Path, shape: tuple[int, ...], expected: int, found: int) -> None:
    shape_text = " × ".join(map(str, shape))
    if found < expected:
        raise LoaderError(f"{path}: truncated data: shape {shape_text} needs {expected} bytes after the header, found {found}")
    if found > expected:
        raise LoaderError(f"{path}: more data than the header's shape {shape_text} holds (is it an IDX file?)")


def read_idx(path: Path, monitor: Monitor | None = None, share: float = 1.0) -> np.ndarray:
    """The array in the IDX file ``path`` (native byte order). Raises LoaderError when it is
    not a regular file, the magic number is wrong, the data are truncated or longer than the
    header says, or the declared shape (with the float64 copy the loader makes) needs more
    memory than is available. The declared length is checked against the file's before
    anything is allocated: the file's size, or for gzip the size its trailer records (else
    the data counted, never reading more than the header promises and one byte)."""
    try:
        with open(require_regular_file(path, error=LoaderError), "rb") as raw:
            compressed = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            size_hint = gzip_size_hint(raw) if compressed else os.fstat(raw.fileno()).st_size
            f = gzip.GzipFile(fileobj=raw) if compressed else raw
            dtype, shape = _read_header(f, path)
            if 0 in shape:
                raise LoaderError(f"{path}: the header's shape {' × '.join(map(str, shape))} holds no values")
            header_bytes, count = 4 + 4 * len(shape), math.prod(shape)
            expected = count * dtype.itemsize
            check_allocation(f"{path}: the header's shape {' × '.join(map(str, shape))} of {dtype.name} (and its 8-byte copy)",
                             expected + count * CONVERTED_ITEMSIZE, error=LoaderError)
            if not compressed:
                _check_length(path, shape, expected, size_hint - header_bytes)
            elif (header_bytes + expected) % 2**32 != size_hint:
                _check_length(path, shape, expected, _count_bytes(f, expected + 1, monitor, share))
                raw.seek(0)  # the trailer only spoke for the last member: read again from the start
                f = gzip.GzipFile(fileobj=raw)
                f.read(header_bytes)
            values = np.empty(shape, dtype)
            _check_length(path, shape, expected, _read_values(f, values, monitor, share))
    except LoaderError:
        raise
    except (OSError, EOFError, zlib.error) as exc:
        raise LoaderError(f"{path}: cannot be read as an IDX file ({exc})") from None
    if not dtype.isnative:
        values = values.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return values


def labels_candidates(images: Path) -> list[Path]:
    """Where the labels of ``images`` may be, by MNIST's naming."""
    name = images.name
    stems = {name.replace("images", "labels").replace("idx3", "idx1").replace("Images", "Labels")}
    out = []
    for stem in stems:
        base = stem.removesuffix(".gz")
        for candidate in (base, base + ".gz"):
            path = images.with_name(candidate)
            if candidate != name and path not in out:
                out.append(path)
    return out


def find_labels(images: Path) -> Path | None:
    return next((p for p in labels_candidates(images) if p.is_file()), None)


def load_idx(path: Path, options: LoadOptions | None = None, monitor: Monitor | None = None) -> Dataset:
    """The Dataset of the IDX images file ``path`` and its labels file."""
    options, monitor = options or LoadOptions(), monitor or Monitor()
    images = read_idx(path, monitor, 0.8)
    if images.ndim == 1:
        raise LoaderError(f"{path}: is a labels file (1-D); give the images file as the data and this one as the labels")
    if images.ndim == 2 or images.shape[0] == 0:
        raise LoaderError(f"{path}: an images file must be (count, height, width[, channels]), got shape {images.shape}")
    labels_path = Path(options.labels) if options.labels is not None else find_labels(path)
    if labels_path is None:
        looked = ", ".join(p.name for p in labels_candidates(path)) or "nothing to guess from the name"
        raise LoaderError(f"{path}: no labels file found beside it (looked for {looked}); give one with --labels FILE")
    labels = read_idx(labels_path)
    if labels.ndim != 1:
        raise LoaderError(f"{labels_path}: a labels file must be 1-D (count,), got shape {labels.shape}")
    if len(labels) != len(images):
        raise LoaderError(f"{labels_path}: has {len(labels)} labels but {path.name} has {len(images)} images")
    if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
        raise LoaderError(f"{labels_path}: labels must be whole numbers")
    monitor.update(0.9, "converting pixels")
    X = images.reshape(len(images), -1).astype(np.float64)
    if images.dtype == np.uint8:
        X /= 255.0
    X, scaling = scale_features(X, options.scale)
    sample_shape = image_sample_shape(images.shape[1:])
    meta = {"source": str(path), "labels_file": str(labels_path), "format": "idx", "scaling": scaling,
            "pixels_scaled": images.dtype == np.uint8}
    return make_dataset(X, labels.astype(np.int64), name=path.name.split(".")[0], task="classes",
                        feature_names=pixel_names(sample_shape), meta=meta, sample_shape=sample_shape)
