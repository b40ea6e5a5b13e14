"""The image decoder core.loaders uses for image folders, built on Qt's QImageReader.

``read_image(path, size, grey)`` returns the image at ``path`` as a uint8 array, (h, w)
when ``grey`` else (h, w, 3) RGB, resized (smoothly, ignoring the aspect ratio) to
``size`` = (height, width) when given. EXIF orientation is applied. Qt is imported on the
first call, so importing this module is cheap and the headless CLI pulls in Qt only when
it really reads an image. QImage is reentrant, so this runs in a loader thread too.

The pixel size an image declares (and the size it is resized to) is checked before it is
decoded (core.loaders.images.check_image_size). Decoders' own messages never reach stderr:
a failed decode is one LoaderError naming the file, instead of Qt's image-plugin warnings
(``qt.gui.imageio…``, ``libpng warning: …``) and libpng's errors, which libpng writes
straight to file descriptor 2 (``libpng error: IDAT: CRC error``); see :func:`_quiet_decoders`.
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import BinaryIO

import numpy as np

from core.loaders import LoaderError
from core.loaders.images import check_image_size

DECODER_CATEGORY = "qt.gui.imageio"  # Qt's image plugins log under this category and its subcategories
DECODER_LINE_PREFIXES = (b"libpng error:", b"libpng warning:")
_quiet_lock = threading.Lock()  # one decode at a time owns file descriptor 2 and the message handler


@functools.cache
def _qt() -> tuple[ModuleType, ModuleType]:
    """PySide6's QtCore and QtGui, imported on the first call only (an import statement costs
    more than decoding a small image); ImportError when PySide6 is not installed."""
    from PySide6 import QtCore, QtGui

    return QtCore, QtGui


@functools.cache
def _stderr_stand_in() -> BinaryIO:
    """The temporary file that takes stderr's place during a decode (one, made on first use,
    emptied after each decode)."""
    return tempfile.TemporaryFile(buffering=0)


def _pass_on_captured(fd: int) -> None:
    """Write what reached ``fd`` (the stand-in for stderr) to the real stderr, less the
    decoders' lines, and empty it for the next decode."""
    written = os.lseek(fd, 0, os.SEEK_CUR)  # shared with the duplicate that was stderr: the bytes written
    if not written:
        return
    os.lseek(fd, 0, os.SEEK_SET)
    lines = os.read(fd, written).splitlines(keepends=True)
    os.lseek(fd, 0, os.SEEK_SET)
    os.ftruncate(fd, 0)
    kept = b"".join(line for line in lines if not line.startswith(DECODER_LINE_PREFIXES))
    if kept:
        os.write(2, kept)


@contextmanager
def _quiet_decoders() -> Iterator[None]:
    """Drop image decoders' messages while the block runs, and pass everything else on.

    Qt messages of DECODER_CATEGORY are swallowed by a message handler; others go to the
    handler that was installed before, or to stderr as Qt would print them. File descriptor
    2 points at a temporary file meanwhile (libpng prints its errors there itself); afterwards
    what was written there, less the decoders' lines, goes to the real stderr.
    """
    QtCore, _ = _qt()

    def handler(mode, context, message: str) -> None:
        if (context.category or "").startswith(DECODER_CATEGORY):
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            sys.stderr.write(QtCore.qFormatLogMessage(mode, context, message) + "\n")

    with _quiet_lock:
        stand_in = _stderr_stand_in().fileno()
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(stand_in, 2)
        previous = QtCore.qInstallMessageHandler(handler)
        try:
            yield
        finally:
            QtCore.qInstallMessageHandler(previous)
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            _pass_on_captured(stand_in)


def read_image(path: Path, size: tuple[int, int] | None, grey: bool) -> np.ndarray:
    """Decode ``path``; see the module docstring. Raises LoaderError when the image is too
    large or Qt cannot read it."""
    try:
        QtCore, QtGui = _qt()
    except ImportError:
        raise LoaderError(f"{path}: reading images needs PySide6 (Qt), which is not installed") from None
    with _quiet_decoders():
        reader = QtGui.QImageReader(str(path))
        reader.setAutoTransform(True)
        declared = reader.size()
        if declared.isValid():
            check_image_size(path, declared.width(), declared.height())
        if size is not None:
            check_image_size(path, size[1], size[0])
        image = reader.read()
    if image.isNull():
        raise LoaderError(f"{path}: cannot read the image ({reader.errorString()}); is it a damaged or unsupported file?")
    if size is not None:
        height, width = size
        image = image.scaled(QtCore.QSize(width, height), QtCore.Qt.AspectRatioMode.IgnoreAspectRatio,
                             QtCore.Qt.TransformationMode.SmoothTransformation)
    image = image.convertToFormat(QtGui.QImage.Format.Format_Grayscale8 if grey else QtGui.QImage.Format.Format_RGB888)
    channels = 1 if grey else 3
    height, width, stride = image.height(), image.width(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), np.uint8, count=stride * height).reshape(height, stride)
    pixels = rows[:, : width * channels].reshape(height, width, channels).copy()
    return pixels[:, :, 0] if grey else pixels
