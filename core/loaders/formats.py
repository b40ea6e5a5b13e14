"""One entry point for every format: detect it, preview it, load it.

Formats: ``table`` (delimited text, optionally ``.gz``; read as a time series with a
``window``, see :mod:`.timeseries`), ``npz``, ``idx`` (MNIST-style
images + labels, optionally ``.gz``) and ``images`` (a folder with one subfolder per
class). The format is recognised by content first (zip, IDX and .npy magic numbers, also
inside gzip; a folder), then by name (.npz; .csv/.tsv/.txt/… tables; idx1/idx3/-ubyte);
anything else is read as a text table.

Only regular files (and folders, for images) are opened: a named pipe, a device such as
/dev/zero or a socket is refused before anything reads it. Every problem with the file is a
:class:`LoaderError` whose message names the file; a cancelled load raises
:class:`LoadCancelled`. Nothing else escapes for a bad file.
"""

from __future__ import annotations

import gzip
import os
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import DataError, Dataset
from ..limits import require_regular_file
from .columns import ColumnInfo, analyse_columns, format_number, preview_positions
from .dialect import Dialect, sniff
from .errors import LoaderError
from .idx import GZIP_MAGIC, GZIP_SIZE_BYTES, gzip_size_hint, load_idx, looks_like_idx, read_idx
from .images import ReadImage, load_image_folder, scan_folder
from .npz import inputs_of, load_npz, read_npz
from .options import LoadOptions
from .progress import Monitor, ProgressCallback
from .tables import open_binary, read_frame, read_names
from .tabular import table_dataset
from .timeseries import series_dataset

FORMATS = ("table", "npz", "idx", "images")
FORMAT_WORDS = {"table": "a table", "npz": "an .npz file", "idx": "an IDX file", "images": "an image folder"}
TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".dat", ".psv")
PREVIEW_SAMPLE_ROWS = 1000
PREVIEW_FIELDS = 2_000_000  # a wide table's preview analyses fewer rows: at most this many fields (never fewer rows than it shows)
COUNT_ROWS_BYTES = 4 * 2**20  # a preview reads tables with up to this much text (decompressed) whole, to count the rows


@dataclass(frozen=True)
class Preview:
    """What a file holds, before loading it (the loader panel's model).

    Attributes:
        path: the file or folder. format: one of FORMATS.
        columns: the columns with inferred type and default role (tables, NPZ); their
            missing, distinct and bad-cell counts cover the first 1000 rows (fewer for a
            table of more than 2,000 columns). A wide file shows only its first 100
            columns, the target and the columns the options name (see
            core.loaders.columns.preview_positions).
        rows: the first rows as text, one string per column shown (tables, NPZ).
        dialect: how a text table is written (tables only).
        summary: one line, e.g. "1,797 rows × 65 columns (…)", "≈ 200,000 rows × 51 columns
            (…); rows estimated from the first 1,000" or "3 classes, 150 images".
        approx_rows: rows: exact for NPZ, IDX, images and tables of up to COUNT_ROWS_BYTES of
            text; estimated from the first 1000 rows for larger tables (the summary says so).
        width: the columns in the file (tables, NPZ); more than ``len(columns)`` when only
            some are shown.
    """

    path: Path
    format: str
    columns: tuple[ColumnInfo, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    dialect: Dialect | None = None
    summary: str = ""
    approx_rows: int | None = None
    width: int = 0


def _head(path: Path, size: int = 8) -> bytes:
    """The first ``size`` bytes (decompressed, for gzip) of the regular file ``path``."""
    try:
        with open(require_regular_file(path, error=LoaderError), "rb") as f:
            head = f.read(size)
            if head[:2] == GZIP_MAGIC:
                f.seek(0)
                with gzip.GzipFile(fileobj=f) as g:
                    return g.read(size)
            return head
    except (OSError, EOFError, zlib.error) as exc:
        raise LoaderError(f"{path}: cannot be read ({exc})") from None


def detect_format(path: str | os.PathLike) -> str:
    """The format of ``path`` (one of FORMATS); LoaderError when it does not exist or is
    neither a folder nor a regular file (checked before opening it)."""
    path = Path(path)
    if path.is_dir():
        return "images"
    if not path.exists():
        raise LoaderError(f"{path}: no such file or folder")
    head = _head(path)
    if head.startswith(b"\x93NUMPY"):
        raise LoaderError(f"{path}: a single .npy array, not an .npz with arrays X and y (save with np.savez(path, X=X, y=y))")
    name = path.name.lower().removesuffix(".gz")
    if head[:2] == b"PK" or name.endswith(".npz"):
        return "npz"
    if looks_like_idx(head):
        return "idx"
    if Path(name).suffix in TABLE_SUFFIXES:
        return "table"
    return "idx" if any(tag in name for tag in ("idx1", "idx3", "-ubyte", ".idx")) else "table"


def load_file(path: str | os.PathLike, options: LoadOptions | None = None, *, read_image: ReadImage | None = None,
              progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> Dataset:
    """Load the data file or image folder ``path`` as a Dataset.

    Args:
        options: target, roles, types, missing values, scaling, … (see LoadOptions).
        read_image: the image decoder for image folders (see core.loaders.images).
        progress: ``progress(fraction, message)``, called from the loading thread;
            return False to cancel.
        cancel: set it (from any thread) to cancel; the load raises LoadCancelled.

    Raises:
        LoaderError: the file cannot be used; the message says why and where.
        LoadCancelled: cancelled through ``progress`` or ``cancel``.
    """
    path, options = Path(path), options or LoadOptions()
    monitor = Monitor(progress, cancel)
    monitor.update(0.0, "opening")
    kind = detect_format(path)
    if options.window is not None and kind != "table":
        raise LoaderError(f"{path}: a window (a time series) applies to tables (CSV, TSV, …); this is {FORMAT_WORDS[kind]}")
    try:
        if kind == "images":
            dataset = load_image_folder(path, options, read_image, monitor)
        elif kind == "npz":
            dataset = load_npz(path, options, monitor)
        elif kind == "idx":
            dataset = load_idx(path, options, monitor)
        else:
            table = read_frame(path, sniff(path, options), monitor)
            dataset = (series_dataset if options.window is not None else table_dataset)(table, options, _stem(path), monitor)
    except DataError as exc:
        raise LoaderError(f"{path}: {exc}") from None
    monitor.update(1.0, f"loaded {dataset.n_samples:,} samples")
    return dataset


def _stem(path: Path) -> str:
    return path.name.split(".")[0] or path.name


def preview_file(path: str | os.PathLike, options: LoadOptions | None = None, *, rows: int = 20,
                 cancel: threading.Event | None = None) -> Preview:
    """A quick look at ``path``: format, columns with inferred types and default roles,
    and the first ``rows`` rows, and how many rows there are (see :class:`Preview`).
    ``cancel``: set it (from any thread) to stop reading a table; raises LoadCancelled."""
    path, options = Path(path), options or LoadOptions()
    kind = detect_format(path)
    try:
        if kind == "table":
            return _preview_table(path, options, rows, Monitor(cancel=cancel))
        if kind == "npz":
            return _preview_npz(path, rows)
        if kind == "idx":
            images = read_idx(path)
            return Preview(path, kind, summary=f"{images.shape[0]:,} arrays of shape {images.shape[1:]} ({images.dtype})",
                           approx_rows=int(images.shape[0]))
        classes = scan_folder(path)
        counts = ", ".join(f"{name} ({len(files)})" for name, files in classes)
        total = sum(len(files) for _, files in classes)
        return Preview(path, kind, summary=f"{len(classes)} classes, {total:,} images: {counts}", approx_rows=total)
    except DataError as exc:
        raise LoaderError(f"{path}: {exc}") from None


def _preview_table(path: Path, options: LoadOptions, rows: int, monitor: Monitor) -> Preview:
    """A table's preview: the first rows of the columns shown analysed; the rows counted by
    reading the whole table when it is small (see COUNT_ROWS_BYTES), else estimated from
    the first rows."""
    dialect = sniff(path, options)
    names = read_names(path, dialect)
    shown = preview_positions(names, options)
    text_bytes = _text_bytes(path, dialect)
    counted = text_bytes <= COUNT_ROWS_BYTES
    sample_rows = max(rows, min(PREVIEW_SAMPLE_ROWS, PREVIEW_FIELDS // len(names)))
    table = read_frame(path, dialect, monitor, nrows=None if counted else sample_rows, columns=shown)
    sample, lines = table.frame.head(sample_rows), table.lines[:sample_rows]
    columns = tuple(analyse_columns(sample, options, lines, names=names, positions=shown))
    shape = f"{len(names):,} columns ({table.dialect.describe()})"
    if counted:
        count = len(table.frame)
        summary = f"{count:,} rows × {shape}"
    else:
        count = round(len(sample) * text_bytes / max(_sample_bytes(path, dialect, int(lines[-1])), 1))
        summary = f"≈ {count:,} rows × {shape}; rows estimated from the first {len(sample):,}"
    return Preview(path, "table", columns, _text_rows(sample, rows), table.dialect, summary, count, len(names))


def _text_rows(frame, rows: int) -> tuple[tuple[str, ...], ...]:
    """The first ``rows`` rows as text; missing cells as "", whole floats without ".0"."""

    def text(value) -> str:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return ""
        return format_number(value) if isinstance(value, (float, np.floating)) else str(value)

    return tuple(tuple(text(v) for v in row) for row in frame.head(rows).itertuples(index=False))


def _text_bytes(path: Path, dialect: Dialect) -> int:
    """Bytes of text in the file: its size, or for gzip the size its trailer records (that of
    the last member, modulo 2³²; never less than the compressed size)."""
    size = os.path.getsize(path)
    if not dialect.compressed or size < GZIP_SIZE_BYTES:
        return size
    with open(path, "rb") as f:
        return max(gzip_size_hint(f), size)


def _sample_bytes(path: Path, dialect: Dialect, lines: int) -> int:
    """Bytes of text (decompressed, for gzip) in the first ``lines`` lines of the file."""
    with open_binary(path, dialect.compressed) as (stream, _):
        for _ in range(lines):
            if not stream.readline():
                break
        return stream.tell()


def _preview_npz(path: Path, rows: int) -> Preview:
    arrays = read_npz(path)
    X, y = arrays["X"], arrays["y"]
    flat = X.reshape(len(X), -1) if X.ndim > 1 else X[:, None]
    names = [*(arrays["feature_names"] or [f"x{j + 1}" for j in range(flat.shape[1])]), "y"]
    shown = preview_positions(names, LoadOptions(target=len(names) - 1))  # the first features and y
    frame = pd.DataFrame(flat[:PREVIEW_SAMPLE_ROWS, shown[:-1]], columns=[names[j] for j in shown[:-1]])
    target = y[:PREVIEW_SAMPLE_ROWS]
    frame["y"] = target if target.ndim == 1 else target[:, 0]
    columns = tuple(analyse_columns(frame, LoadOptions(target=len(names) - 1), names=names, positions=shown))
    head = _text_rows(frame, rows)
    inputs = inputs_of(X, arrays["layout"], path)
    kind = "images" if inputs.is_image else "sequences" if len(inputs.sample_shape) == 2 else "token ids" if inputs.tokens else ""
    shape = f"{kind} {inputs.sample_shape}" if kind else f"{flat.shape[1]} features"
    return Preview(path, "npz", columns, head, None, f"{len(X):,} samples, {shape}, y {y.shape[1:] or 'labels'} {y.dtype}", len(X),
                   len(names))
