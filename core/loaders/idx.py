"""MNIST-style IDX files (raw or gzip): an images file and its labels file.

IDX layout: two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
0x0D float32, 0x0E float64), the number of dimensions d, then d big-endian uint32 sizes
and the values, big-endian, row-major. An images file is (m, h, w) (or (m, h, w, c)), a
labels file (m,). The labels file is ``--labels`` / ``options.labels``, else found
beside the images file by its name (``train-images-idx3-ubyte[.gz]`` →
``train-labels-idx1-ubyte[.gz]``, also ``images`` → ``labels`` and ``idx3`` → ``idx1``).
Images become (m, h·w·c) features (uint8 divided by 255) with ``meta["image_shape"]``.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from ..data import Dataset, make_dataset
from .errors import LoaderError
from .images import pixel_names
from .options import LoadOptions
from .progress import Monitor
from .scaling import scale_features

IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
GZIP_MAGIC = b"\x1f\x8b"
MAX_BYTES = 4 << 30
READ_BLOCK = 1 << 20


def looks_like_idx(head: bytes) -> bool:
    """Whether the first 4 (decompressed) bytes are an IDX magic number."""
    return len(head) >= 4 and head[0] == 0 and head[1] == 0 and head[2] in IDX_TYPES and 1 <= head[3] <= 4


def _read_exactly(f, count: int, monitor: Monitor | None, share: float) -> bytes:
    """Up to ``count`` bytes, in blocks (reporting progress), fewer only at the end of the file."""
    parts, done = [], 0
    while done < count:
        block = f.read(min(READ_BLOCK, count - done))
        if not block:
            break
        parts.append(block)
        done += len(block)
        if monitor is not None:
            monitor.update(share * done / max(count, 1), f"reading {done >> 20} MiB")
    return b"".join(parts)


def read_idx(path: Path, monitor: Monitor | None = None, share: float = 1.0) -> np.ndarray:
    """The array in the IDX file ``path`` (native byte order). Raises LoaderError when the
    magic number is wrong, the data are truncated or longer than the header says."""
    try:
        with open(path, "rb") as raw:
            compressed = raw.read(2) == GZIP_MAGIC
            raw.seek(0)
            f = gzip.GzipFile(fileobj=raw) if compressed else raw
            magic = f.read(4)
            if not looks_like_idx(magic):
                found = magic.hex() if magic else "nothing"
                raise LoaderError(f"{path}: wrong magic number 0x{found}: an IDX file starts with 00 00, a type byte "
                                  "(08 uint8 … 0E float64) and the number of dimensions (1–4)")
            dtype, ndim = IDX_TYPES[magic[2]], magic[3]
            head = f.read(4 * ndim)
            if len(head) < 4 * ndim:
                raise LoaderError(f"{path}: truncated: the header promises {ndim} dimension sizes but the file ends first")
            shape = tuple(int(s) for s in np.frombuffer(head, ">u4"))
            expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if expected > MAX_BYTES:
                raise LoaderError(f"{path}: the header says shape {shape}, {expected} bytes: too large (at most {MAX_BYTES >> 30} GiB)")
            data = _read_exactly(f, expected + 1, monitor, share)
    except LoaderError:
        raise
    except (OSError, EOFError, zlib.error) as exc:
        raise LoaderError(f"{path}: cannot be read as an IDX file ({exc})") from None
    if len(data) < expected:
        raise LoaderError(f"{path}: truncated data: shape {' × '.join(map(str, shape))} needs {expected} bytes after the header, "
                          f"found {len(data)}")
    if len(data) > expected:
        raise LoaderError(f"{path}: more data than the header's shape {' × '.join(map(str, shape))} holds (is it an IDX file?)")
    return np.frombuffer(data, dtype).reshape(shape).astype(dtype.newbyteorder("="))


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
    image_shape = tuple(int(s) for s in images.shape[1:])
    meta = {"source": str(path), "labels_file": str(labels_path), "format": "idx", "image_shape": image_shape, "scaling": scaling}
    return make_dataset(X, labels.astype(np.int64), name=path.name.split(".")[0], task="classes",
                        feature_names=pixel_names(image_shape), meta=meta)
