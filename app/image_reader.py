"""The image decoder core.loaders uses for image folders, built on Qt's QImageReader.

``read_image(path, size, grey)`` returns the image at ``path`` as a uint8 array, (h, w)
when ``grey`` else (h, w, 3) RGB, resized (smoothly, ignoring the aspect ratio) to
``size`` = (height, width) when given. EXIF orientation is applied. Qt is imported on the
first call, so importing this module is cheap and the headless CLI pulls in Qt only when
it really reads an image. QImage is reentrant, so this runs in a loader thread too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.loaders import LoaderError


def read_image(path: Path, size: tuple[int, int] | None, grey: bool) -> np.ndarray:
    """Decode ``path``; see the module docstring. Raises LoaderError when Qt cannot read it."""
    try:
        from PySide6.QtCore import QSize, Qt
        from PySide6.QtGui import QImage, QImageReader
    except ImportError:
        raise LoaderError(f"{path}: reading images needs PySide6 (Qt), which is not installed") from None
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    image = reader.read()
    if image.isNull():
        raise LoaderError(f"{path}: cannot read the image ({reader.errorString()})")
    if size is not None:
        height, width = size
        image = image.scaled(QSize(width, height), Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    image = image.convertToFormat(QImage.Format.Format_Grayscale8 if grey else QImage.Format.Format_RGB888)
    channels = 1 if grey else 3
    height, width, stride = image.height(), image.width(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), np.uint8, count=stride * height).reshape(height, stride)
    pixels = rows[:, : width * channels].reshape(height, width, channels).copy()
    return pixels[:, :, 0] if grey else pixels
