"""What the user chose about a file: target, column roles and types, missing values, scaling.

One :class:`LoadOptions` serves every format; settings that do not apply to a format
are ignored (e.g. ``delimiter`` for an NPZ file, ``image_size`` for a CSV file).
Columns are named by their header name or their 0-based position.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..data import DataError

ROLES = ("feature", "target", "ignore")
KINDS = ("numeric", "categorical")
TASK_CHOICES = ("auto", "classification", "regression")
MISSING_POLICIES = ("drop", "mean", "most_frequent")
SCALINGS = ("none", "standardize", "minmax")

ColumnKey = str | int


@dataclass(frozen=True)
class LoadOptions:
    """How to turn a file into a Dataset.

    Attributes:
        target: the target column (name or 0-based position); None: a column named
            target/label/class/y, else the last column.
        roles: column → "feature", "target" or "ignore" (overrides the defaults).
        types: column → "numeric" or "categorical" (overrides the inferred type).
        task: "auto" (categorical or few whole-number targets → classes, else
            regression), "classification" or "regression".
        missing: rows with a missing feature value are dropped ("drop"), or the value is
            filled with the column mean ("mean"; categorical columns take their most
            frequent value) or the most frequent value ("most_frequent"). Rows without
            a target are always dropped.
        scale: "none" (the trainer standardizes on its training part), "standardize"
            (zero mean, unit variance over all rows) or "minmax" (each feature to [0, 1]).
        header, delimiter, decimal, encoding: text-table settings; None: detected.
            A delimiter " " means runs of spaces or tabs.
        labels: the labels file of an IDX images file; None: looked for beside it.
        image_size: (height, width) every image of a folder is resized to; None: keep
            the size (then all images must have the same size).
        grey: read images as one grey channel (True) or as RGB (False).
        window: read a table as a time series (core.loaders.timeseries): a sample is
            ``window`` consecutive rows of the input ``columns`` (none crossing a row dropped
            for missing values); None: a plain table.
        horizon: how many rows after a window's last row its target lies (≥ 1; None: 1).
        columns: the input columns of a time series (names or 0-based positions); None:
            every numeric column (not an ID, a row number or an empty one). With a window,
            ``target`` is the column to forecast (None: the first input column) and
            ``roles``, ``types``, ``scale`` and a classification ``task`` do not apply.
    """

    target: ColumnKey | None = None
    roles: Mapping[ColumnKey, str] = field(default_factory=dict)
    types: Mapping[ColumnKey, str] = field(default_factory=dict)
    task: str = "auto"
    missing: str = "drop"
    scale: str = "none"
    header: bool | None = None
    delimiter: str | None = None
    decimal: str | None = None
    encoding: str | None = None
    labels: str | os.PathLike | None = None
    image_size: tuple[int, int] | None = None
    grey: bool = True
    window: int | None = None
    horizon: int | None = None
    columns: tuple[ColumnKey, ...] | None = None

    def __post_init__(self) -> None:
        _check_choice("task", self.task, TASK_CHOICES)
        _check_choice("missing", self.missing, MISSING_POLICIES)
        _check_choice("scale", self.scale, SCALINGS)
        for column, role in self.roles.items():
            _check_choice(f"the role of column {column!r}", role, ROLES)
        for column, kind in self.types.items():
            _check_choice(f"the type of column {column!r}", kind, KINDS)
        if self.decimal not in (None, ".", ","):
            raise DataError(f"decimal must be '.' or ',', got {self.decimal!r}")
        if self.delimiter is not None and (len(self.delimiter) != 1 or self.delimiter in '"\r\n'):
            raise DataError(f"the delimiter must be one character (not a quote or newline), got {self.delimiter!r}")
        if self.image_size is not None:
            size = tuple(self.image_size)
            if len(size) != 2 or not all(isinstance(s, int) and 1 <= s <= 4096 for s in size):
                raise DataError(f"image_size must be (height, width) in pixels, 1 to 4096 each, got {self.image_size!r}")
            object.__setattr__(self, "image_size", size)
        self._check_series()

    def _check_series(self) -> None:
        """DataError for time-series settings that cannot be (see the class docstring)."""
        for name, value, why in (("window", self.window, "the rows a sample spans"),
                                 ("horizon", self.horizon, "the target lies that many rows after a window's last row; 0 would "
                                                           "be that row itself, an input")):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise DataError(f"{name} must be a whole number ≥ 1 ({why}), got {value!r}")
        if self.columns is not None:
            object.__setattr__(self, "columns", tuple(self.columns))
            if not self.columns:
                raise DataError("columns must name at least one input column")
        if self.window is None:
            if self.horizon is not None or self.columns is not None:
                raise DataError("horizon and columns apply to a time series: give a window too")
            return
        refused = [name for name, given in (("roles", self.roles), ("types", self.types), ("scale", self.scale != "none"),
                                            ("task", self.task == "classification")) if given]
        if refused:
            raise DataError(f"{' and '.join(refused)} do not apply to a time series (a window of rows forecasting a number); "
                            "choose its input columns and target instead")


def _check_choice(what: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise DataError(f"{what} must be one of {', '.join(choices)}, got {value!r}")


def parse_image_size(text: str) -> tuple[int, int]:
    """``"28x28"``, ``"32X24"`` or ``"28"`` (square) → (height, width)."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        size = tuple(int(p) for p in parts)
    except ValueError:
        raise DataError(f"bad image size {text!r}: write HEIGHTxWIDTH, e.g. 28x28") from None
    if len(size) == 1:
        size = size * 2
    if len(size) != 2:
        raise DataError(f"bad image size {text!r}: write HEIGHTxWIDTH, e.g. 28x28")
    return size  # type: ignore[return-value]
