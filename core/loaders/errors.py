"""The loader's own exceptions."""

from __future__ import annotations

from ..files import FileFormatError


class LoaderError(FileFormatError):
    """A data file or folder the loader cannot use.

    The message names the file and, where it applies, the line and column, e.g.
    ``data.csv: line 7, column 3 ("age"): 'abc' is not a number``.
    """


class LoadCancelled(Exception):
    """The load was cancelled (cancel event set, or the progress callback returned False)."""
