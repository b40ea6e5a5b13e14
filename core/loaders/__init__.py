"""Loading users' data: delimited text tables, NPZ, MNIST IDX files and image folders.

Qt-free; image decoding is injected (see :mod:`.images`). The public API:

- :func:`preview_file` — format, columns with inferred type and default role, first rows.
- :func:`load_file` — a :class:`core.data.Dataset`, with progress reports and cancellation.
- :class:`LoadOptions` — target, column roles and types, missing values, scaling, ….
- :class:`LoaderError` — every problem with a file (a FileFormatError naming the file,
  and the line and column where they apply); :class:`LoadCancelled`.
- :func:`describe_dataset` — what a loaded Dataset holds, as lines of text.
"""

from .columns import ColumnInfo
from .dialect import Dialect
from .errors import LoadCancelled, LoaderError
from .formats import FORMATS, Preview, detect_format, load_file, preview_file
from .images import ReadImage
from .missing import MissingReport
from .options import KINDS, MISSING_POLICIES, ROLES, SCALINGS, TASK_CHOICES, LoadOptions, parse_image_size
from .progress import Monitor, ProgressCallback
from .report import describe_dataset

__all__ = [
    "FORMATS", "KINDS", "MISSING_POLICIES", "ROLES", "SCALINGS", "TASK_CHOICES",
    "ColumnInfo", "Dialect", "LoadCancelled", "LoadOptions", "LoaderError", "MissingReport", "Monitor", "Preview",
    "ProgressCallback", "ReadImage", "describe_dataset", "detect_format", "load_file", "parse_image_size", "preview_file",
]
