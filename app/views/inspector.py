"""The inspector: the forward and backward pass of one chosen sample, number by number, in
the course's notation, and the update the last mini-batch made.

Data come from :class:`core.inspection.InspectorProbe` (float64, whatever the network's
dtype). Four tabs:

* Forward: a[0] = x, then per layer W[l], b[l], z[l] = W[l]·a[l−1] + b[l] and a[l] = g(z[l])
  (for softmax also e^z and Σ e^z);
* Backward: the loss L, then from the last layer back da[l], dz[l], dW[l], db[l];
* Last step: after one mini-batch (Shift+→), every parameter's old value, gradient, α and new
  value (plain SGD: new = old − α·gradient; another optimizer: its own update, new − old);
* Samples: the data as a table, to choose the sample.

Every number is a cell of a small table with 10 decimals (a layer with more than
:data:`FULL_CELLS` numbers in an array shows 3 significant digits in narrower cells instead;
the tooltip always has all ten), on a colour scale (blue < 0 < red, the strongest at the
array's largest |value|). Hovering a number says the formula and the indices that produced it.
A double-click on a W or b number edits it: ``parameterEdited(layer, "W" | "b", index, value)``
(layer 0-based in spec order, index 0-based: W (unit, input), b (unit,)); Escape cancels.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QRegularExpression, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QFontMetrics, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QStyle,
    QStyledItemDelegate,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.data import Dataset
from core.inspection import InspectorData, ParameterStep, StepData
from core.trace import FUSED_DZ, LayerTrace, Trace
from core.trainer import split_indices

from ..accessibility import describe
from .common import ViewPanel
from .sample_table import SampleTable

DECIMALS = 10  # digits after the point: enough to compare with a hand calculation
FULL_CELLS = 64  # an array with more numbers shows them short (3 significant digits)
SHORT_DIGITS = 3
MOST_ROWS, MOST_COLUMNS, MOST_SHORT_COLUMNS = 8, 4, 6  # cells of an array seen at once; more scroll
SIDE_BY_SIDE = 3  # W[l] with at most this many columns has b[l] beside it; a wider one gets a row of its own
MOST_TERMS = 6  # terms of a sum written out in a tooltip
SHADE = 0.4  # the strongest tint of a cell, so its number stays legible
NEGATIVE, POSITIVE = QColor("#2166ac"), QColor("#b2182b")
NUMBER_PATTERN = r"\s*[-+−]?(\d+(\.\d*)?|\.\d+)([eE][-+−]?\d+)?\s*"
TEXT_COLOR = QColor("#1f2328")  # dark on every tint
RIGHT_ALIGNED = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
CELL_LOOK = {Qt.ItemDataRole.ForegroundRole: TEXT_COLOR, Qt.ItemDataRole.TextAlignmentRole: RIGHT_ALIGNED}
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
ACTIVATION_FORMULAS = {"sigmoid": "σ(z) = 1/(1 + e^−z)", "tanh": "tanh(z)", "relu": "max(0, z)", "linear": "z",
                       "leaky_relu": "z if z > 0, else slope·z", "softmax": "e^zᵢ / Σₖ e^zₖ"}
APPLIED = {"sigmoid": "σ({z}) = 1/(1 + e^−{z})", "tanh": "tanh({z})", "relu": "max(0, {z})", "linear": "{z}",
           "leaky_relu": "leaky_relu({z}) ({z} if it is > 0, else slope·{z})"}  # an activation of one number
LOSS_DERIVATIVES = {"binary_crossentropy": "(a − y)/(a·(1 − a))/m", "categorical_crossentropy": "−(y/a)/m",
                    "mse": "2·(a − y)/(m·k)"}  # dL/da of one output, m samples, k outputs
LOSS_FORMULAS = {"binary_crossentropy": "L = −(1/m)·Σ (y·log a + (1 − y)·log(1 − a))",
                 "categorical_crossentropy": "L = −(1/m)·Σ Σₖ yₖ·log aₖ",
                 "mse": "L = (1/(m·k))·Σ (a − y)²"}


def number_text(value: float) -> str:
    """``value`` with :data:`DECIMALS` decimals (scientific notation below 1e−4 or from 1e6 on)."""
    value = float(value) + 0.0  # −0 reads 0
    if not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if value == 0 or 1e-4 <= abs(value) < 1e6:
        return f"{value:.{DECIMALS}f}"
    return f"{value:.{DECIMALS}e}"


def operand(value: float) -> str:
    """:func:`number_text`, in parentheses when negative: a second operand, as in 2·(−3)."""
    text = number_text(value)
    return f"({text})" if text.startswith("-") else text


def derivative_text(layer: LayerTrace, i: int) -> str:
    """g'(z[l]ᵢ) of the first sample, from z and a (leaky ReLU's slope below 0: dz/da)."""
    z, a, da, dz = layer.z[i, 0], layer.a[i, 0], layer.da[i, 0], layer.dz[i, 0]
    known = {"sigmoid": lambda: a * (1 - a), "tanh": lambda: 1 - a * a, "relu": lambda: float(z > 0), "linear": lambda: 1.0}
    if layer.activation in known:
        return operand(known[layer.activation]())
    if layer.activation == "leaky_relu" and z > 0:
        return operand(1.0)
    return operand(dz / da) if da else f"{layer.activation}'(z)"


def short_text(value: float) -> str:
    return f"{float(value):.{SHORT_DIGITS}g}"


def sub(*indices: int) -> str:
    """Course subscripts of 0-based ``indices``, 1-based: (1, 0) → "₂₁" ("₁₂,₃" once one has two digits)."""
    parts = [str(i + 1).translate(SUBSCRIPTS) for i in indices]
    return ("," if any(i >= 9 for i in indices) else "").join(parts)


def parse_number(text: str) -> float | None:
    """The finite number ``text`` says (the minus sign "−" too), or None."""
    try:
        value = float(text.strip().replace("−", "-"))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def number_font() -> QFont:
    """Digits of one width, so decimals line up (the application's size, for projectors too)."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(QFont().pointSizeF())
    return font


def tint(value: float, limit: float) -> QColor:
    """A cell's background: white at 0, towards blue (< 0) or red (> 0) as |value| nears ``limit``."""
    if not (math.isfinite(value) and limit > 0):
        return QColor("#ffffff") if math.isfinite(value) else QColor("#f4d03f")
    strength = min(abs(value) / limit, 1.0) * SHADE
    end = POSITIVE if value > 0 else NEGATIVE
    return QColor.fromRgbF(1 - strength * (1 - end.redF()), 1 - strength * (1 - end.greenF()), 1 - strength * (1 - end.blueF()))


# ----- one array as a table --------------------------------------------------------------------
class ArrayModel(QAbstractTableModel):
    """An array (rows, columns) of float64 numbers as table cells: the text (all decimals, or
    short for a big array), a tint on the array's colour scale and a tooltip from ``tip(row,
    column)``. With ``edit``, the cells are editable and a typed number goes to ``edit(row,
    column, value)`` (the cell keeps its value until the next probe result brings the new one)."""

    def __init__(self, values: np.ndarray, tip: Callable[[int, int], str], row_names: tuple[str, ...] = (),
                 edit: Callable[[int, int, float], None] | None = None, parent=None) -> None:
        super().__init__(parent)
        self.values = np.asarray(values, dtype=np.float64)
        self.tip, self.row_names, self.edit = tip, row_names, edit
        self.short = self.values.size > FULL_CELLS
        self._limit = self._largest()

    def _largest(self) -> float:
        finite = np.abs(self.values[np.isfinite(self.values)])
        return float(finite.max(initial=0.0))

    def set_values(self, values: np.ndarray, tip: Callable[[int, int], str]) -> None:
        """New numbers of the same shape (the table keeps its size and scroll position)."""
        self.values, self.tip = np.asarray(values, dtype=np.float64), tip
        self._limit = self._largest()
        if self.values.size:
            self.dataChanged.emit(self.index(0, 0), self.index(self.values.shape[0] - 1, self.values.shape[1] - 1))

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else self.values.shape[0]

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.values.shape[1]

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Vertical and section < len(self.row_names):
            return self.row_names[section]
        return str(section + 1)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return flags | Qt.ItemFlag.ItemIsEditable if self.edit is not None else flags

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tip(index.row(), index.column())
        value = float(self.values[index.row(), index.column()])
        if role == Qt.ItemDataRole.DisplayRole:
            return short_text(value) if self.short else number_text(value)
        if role == Qt.ItemDataRole.EditRole:
            return repr(value)  # every digit the number has
        if role == Qt.ItemDataRole.BackgroundRole:
            return tint(value, self._limit)
        return CELL_LOOK.get(role)

    def setData(self, index: QModelIndex | QPersistentModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        number = parse_number(str(value)) if role == Qt.ItemDataRole.EditRole and self.edit is not None else None
        if number is None or not index.isValid():
            return False
        self.edit(index.row(), index.column(), number)
        return True


class NumberDelegate(QStyledItemDelegate):
    """Edits a cell as a line of text that takes numbers only; the current value, with all its
    digits, is shown and selected; Enter commits, Escape (or leaving an unfinished number) cancels."""

    def createEditor(self, parent: QWidget, option, index) -> QWidget:
        editor = QLineEdit(parent)
        editor.setObjectName("inspectorNumberEditor")
        editor.setValidator(QRegularExpressionValidator(QRegularExpression(NUMBER_PATTERN), editor))
        editor.setToolTip("Type the new value and press Enter; Escape cancels")
        return editor

    def setEditorData(self, editor: QLineEdit, index) -> None:
        editor.setText(str(index.data(Qt.ItemDataRole.EditRole)))
        editor.selectAll()

    def setModelData(self, editor: QLineEdit, model, index) -> None:
        if editor.hasAcceptableInput():
            model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)


class ArrayTable(QTableView):
    """A table exactly as big as its array, up to MOST_ROWS × MOST_COLUMNS cells (more scroll)."""

    def __init__(self, model: ArrayModel, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setModel(model)
        self.setFont(number_font())
        self.setWordWrap(False)
        self.setCornerButtonEnabled(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
                             if model.edit is not None else QAbstractItemView.EditTrigger.NoEditTriggers)
        if model.edit is not None:
            self.setItemDelegate(NumberDelegate(self))
        self._column = 0
        self._row = QFontMetrics(self.font()).height() + 8
        horizontal, vertical = self.horizontalHeader(), self.verticalHeader()
        for header in (horizontal, vertical):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            header.setHighlightSections(False)
        vertical.setDefaultSectionSize(self._row)
        self.fit_columns()
        model.modelReset.connect(self.fit_columns)
        model.dataChanged.connect(self.fit_columns)
        horizontal.setVisible(model.values.shape[1] > 1)  # a column vector needs no column number
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)

    def fit_columns(self) -> None:
        """Columns as wide as the widest number (of a small array; a big one's short numbers fit a
        fixed width); they only ever widen, so a table does not jitter as its numbers change."""
        model: ArrayModel = self.model()
        metrics = QFontMetrics(self.font())
        if model.short:
            widest = "-1.23e-05"  # the longest a short number gets
        else:
            widest = max((number_text(v) for v in model.values.ravel()), key=len, default="")
            widest = max(widest, "-" + number_text(0.0), key=len)
        column = metrics.horizontalAdvance(widest) + 12
        if column > self._column:
            self._column = column
            self.horizontalHeader().setDefaultSectionSize(column)
            self.updateGeometry()

    def sizeHint(self) -> QSize:
        rows, columns = self.model().values.shape
        shown_rows, shown_columns = min(rows, MOST_ROWS), min(columns, MOST_SHORT_COLUMNS if self.model().short else MOST_COLUMNS)
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        frame = 2 * self.frameWidth()
        vertical = self.verticalHeader()
        head = max(vertical.sizeHint().width(), 18)
        top = 0 if self.horizontalHeader().isHidden() else self.horizontalHeader().sizeHint().height()
        width = head + shown_columns * self._column + frame + (bar if rows > shown_rows else 0)
        height = top + shown_rows * self._row + frame + (bar if columns > shown_columns else 0)
        return QSize(width, height)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()


def block(title: str, tip: str, model: ArrayModel, name: str) -> QWidget:
    """A titled array: the title (what the array is, its shape) over its table."""
    widget = QWidget()
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    rows, columns = model.values.shape
    label = QLabel(f"{title}  <span style='color:#5b6472'>{rows}×{columns}</span>")
    label.setObjectName(f"{name}Title")
    label.setToolTip(tip + (f"\nColour: blue < 0 < red, the strongest at |value| = {number_text(model._limit)}; "
                            "short numbers here, all ten decimals in each number's tooltip" if model.short else ""))
    table = ArrayTable(model, name)
    describe(table, f"{title}, {rows} by {columns}", tip + " Hover a number for its formula.")
    layout.addWidget(label)
    layout.addWidget(table, 0, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return widget


def row_of(*widgets: QWidget) -> QHBoxLayout:
    layout = QHBoxLayout()
    layout.setSpacing(16)
    for widget in widgets:
        layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignTop)
    layout.addStretch(1)
    return layout


def formula_label(text: str, tip: str, name: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setToolTip(tip)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


# ----- the formulas of each number (tooltips) ----------------------------------------------------
def sum_text(products: list[str], more: int) -> str:
    return " + ".join(products) + (f" + … ({more} more terms)" if more else "")


class Formulas:
    """The tooltip of every number of a trace: its formula with the indices and the numbers in it.
    Course numbering: layer n = position + 1, a[0] = the input; units and inputs from 1."""

    def __init__(self, data: InspectorData) -> None:
        self.data, self.trace = data, data.trace
        self.last = len(self.trace.layers)

    def _prev(self, n: int) -> np.ndarray:
        return self.trace.layers[n - 1].a_prev[:, 0]

    def input(self, i: int) -> str:
        name = self.data.feature_names[i] if i < len(self.data.feature_names) else f"x{i + 1}"
        raw = number_text(self.data.x[i])
        if self.data.standardized:
            return (f"a[0]{sub(i)} = (x{sub(i)} − μ{sub(i)})/σ{sub(i)}: input {name} = {raw}, standardized as the model does = "
                    f"{number_text(self.trace.x[i, 0])}")
        return f"a[0]{sub(i)} = x{sub(i)}: input {name} = {raw}"

    def weight(self, n: int, i: int, j: int) -> str:
        layer = self.trace.layers[n - 1]
        source = f"input {j + 1}" if n == 1 else f"unit {j + 1} of layer {n - 1}"
        return (f"W[{n}]{sub(i, j)}: the weight from {source} (a[{n - 1}]{sub(j)}) to unit {i + 1} of layer {n} = "
                f"{number_text(layer.W[i, j])}\nDouble-click to type another value")

    def bias(self, n: int, i: int) -> str:
        return f"b[{n}]{sub(i)}: the bias of unit {i + 1} of layer {n} = {number_text(self.trace.layers[n - 1].b[i])}\n" \
               "Double-click to type another value"

    def z(self, n: int, i: int) -> str:
        layer = self.trace.layers[n - 1]
        inputs = self._prev(n)
        terms = [f"{number_text(layer.W[i, j])}·{operand(inputs[j])}" for j in range(min(len(inputs), MOST_TERMS))]
        return (f"z[{n}]{sub(i)} = Σⱼ W[{n}]{sub(i)}ⱼ·a[{n - 1}]ⱼ + b[{n}]{sub(i)}\n= "
                f"{sum_text(terms, len(inputs) - len(terms))} + {number_text(layer.b[i])}\n= {number_text(layer.z[i, 0])}")

    def exp(self, n: int, i: int, shift: float) -> str:
        z = self.trace.layers[n - 1].z[i, 0]
        if shift:
            return f"e^(z[{n}]{sub(i)} − max z) = e^({number_text(z)} − {number_text(shift)}) = {number_text(math.exp(z - shift))}"
        return f"e^z[{n}]{sub(i)} = e^{number_text(z)} = {number_text(math.exp(z))}"

    def a(self, n: int, i: int, total: float | None = None, shift: float = 0.0) -> str:
        layer = self.trace.layers[n - 1]
        name = self._unit_name(n, i)
        if not layer.is_dense:
            return f"a[{n}]{sub(i)} = a[{n - 1}]{sub(i)} (dropout is the identity when inspecting) = {number_text(layer.a[i, 0])}{name}"
        z, a = layer.z[i, 0], layer.a[i, 0]
        if layer.activation == "softmax" and total is not None:
            return (f"a[{n}]{sub(i)} = e^z[{n}]{sub(i)} / Σₖ e^z[{n}]ₖ = {number_text(math.exp(z - shift))} / {number_text(total)}"
                    f"\n= {number_text(a)}{name}")
        applied = APPLIED.get(layer.activation, layer.activation + "({z})").format(z=number_text(z))
        return f"a[{n}]{sub(i)} = {layer.activation}(z[{n}]{sub(i)})\n= {applied}\n= {number_text(a)}{name}"

    def _unit_name(self, n: int, i: int) -> str:
        names = self.data.output_names
        return f"\n(output {names[i]})" if n == self.last and i < len(names) else ""

    def da(self, n: int, i: int) -> str:
        layer = self.trace.layers[n - 1]
        value = number_text(layer.da[i, 0])
        if n == self.last:
            how = LOSS_DERIVATIVES.get(self.trace.loss_name, "the loss's derivative")
            return (f"da[{n}]{sub(i)} = ∂L/∂a[{n}]{sub(i)} = {how} ({self.trace.loss_name}, m = 1)\n"
                    f"with a = {number_text(layer.a[i, 0])}, y = {number_text(self.trace.y[i, 0])}\n= {value}")
        following = self.trace.layers[n]
        if not following.is_dense:
            return f"da[{n}]{sub(i)} = da[{n + 1}]{sub(i)} (dropout is the identity when inspecting) = {value}"
        dz = following.dz[:, 0]
        terms = [f"{number_text(following.W[k, i])}·{operand(dz[k])}" for k in range(min(len(dz), MOST_TERMS))]
        return (f"da[{n}]{sub(i)} = Σₖ W[{n + 1}]ₖ{sub(i)}·dz[{n + 1}]ₖ  (da[{n}] = W[{n + 1}]ᵀ·dz[{n + 1}])\n= "
                f"{sum_text(terms, len(dz) - len(terms))}\n= {value}")

    def dz(self, n: int, i: int) -> str:
        layer = self.trace.layers[n - 1]
        value = number_text(layer.dz[i, 0])
        if n == self.last and self.trace.fused:
            how = FUSED_DZ[self.trace.loss_name].format(n=n).replace(f"a[{n}]", f"a[{n}]{sub(i)}").replace("y", f"y{sub(i)}")
            scale = {"mse": f"2/(m·k) = 2/{layer.a.shape[0]}"}.get(self.trace.loss_name, "1/m = 1")
            return (f"dz[{n}]{sub(i)} = ∂L/∂z[{n}]{sub(i)} = {how}, the loss and the output activation together ({scale})\n"
                    f"= ({number_text(layer.a[i, 0])} − {operand(self.trace.y[i, 0])})·{scale.split(' = ')[-1]}\n= {value}")
        if layer.activation == "softmax":
            return f"dz[{n}]{sub(i)} = a[{n}]{sub(i)}·(da[{n}]{sub(i)} − Σₖ da[{n}]ₖ·a[{n}]ₖ) = {value}"
        slope = derivative_text(layer, i)
        return (f"dz[{n}]{sub(i)} = da[{n}]{sub(i)}·g'(z[{n}]{sub(i)}), g = {layer.activation}\n"
                f"= {number_text(layer.da[i, 0])}·{slope}\n= {value}")

    def dW(self, n: int, i: int, j: int) -> str:
        layer = self.trace.layers[n - 1]
        return (f"dW[{n}]{sub(i, j)} = dz[{n}]{sub(i)}·a[{n - 1}]{sub(j)}  (dW[{n}] = dz[{n}]·a[{n - 1}]ᵀ)\n"
                f"= {number_text(layer.dz[i, 0])}·{operand(self._prev(n)[j])}\n= {number_text(layer.dW[i, j])}")

    def db(self, n: int, i: int) -> str:
        layer = self.trace.layers[n - 1]
        return f"db[{n}]{sub(i)} = dz[{n}]{sub(i)} (summed over the samples: one here) = {number_text(layer.db[i])}"


# ----- the step table ---------------------------------------------------------------------------
STEP_COLUMNS = ("name", "old", "gradient", "α", "new")
STEP_TIPS = ("The weight W[l]ᵢⱼ (unit i, input j) or bias b[l]ᵢ of layer l", "Its value before the mini-batch",
             "The mini-batch's gradient the optimizer used", "The learning rate", "Its value after the mini-batch")


class StepModel(QAbstractTableModel):
    """One row per parameter number of a :class:`StepData` (lazy: the rows are found by
    bisecting the parameters' counts), columns parameter, old, gradient, α, new and the check:
    old − α·gradient for plain SGD, else new − old."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.step: StepData | None = None
        self._starts = np.zeros(1, np.int64)
        self._layout: tuple = ()

    def set_step(self, step: StepData | None) -> None:
        """Show ``step``; the rows stay (with their scroll position and selection) when it has the same numbers as the last."""
        layout = () if step is None else tuple((p.layer, p.name, p.shape, None if p.positions is None else tuple(p.positions))
                                               for p in step.parameters)
        if step is not None and self.step is not None and layout == self._layout:
            self.step = step
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))
            return
        self.beginResetModel()
        self.step, self._layout = step, layout
        counts = [len(p.old) for p in step.parameters] if step is not None else []
        self._starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.endResetModel()

    def row_of(self, layer: int, name: str, index: tuple[int, ...]) -> int | None:
        """The row of parameter number (layer, name, index), None when the step does not have it."""
        for k, parameter in enumerate(self.step.parameters if self.step is not None else ()):
            if (parameter.layer, parameter.name) != (layer, name) or len(index) != len(parameter.shape):
                continue
            position = int(np.ravel_multi_index(index, parameter.shape))
            if parameter.positions is None:
                return int(self._starts[k]) + position
            found = np.flatnonzero(parameter.positions == position)
            return int(self._starts[k] + found[0]) if len(found) else None
        return None

    def _find(self, row: int) -> tuple[ParameterStep, int]:
        k = int(np.searchsorted(self._starts, row, side="right")) - 1
        return self.step.parameters[k], row - int(self._starts[k])

    def name(self, row: int) -> str:
        parameter, k = self._find(row)
        return f"{parameter.name}[{parameter.layer + 1}]{sub(*parameter.index(k))}"

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() or self.step is None else int(self._starts[-1])

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(STEP_COLUMNS) + 1

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        sgd = self.step is None or self.step.plain_sgd
        text = STEP_COLUMNS[section] if section < len(STEP_COLUMNS) else "old − α·grad" if sgd else "new − old"
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        return STEP_TIPS[section] if section < len(STEP_COLUMNS) else (
            "old − α·gradient computed here in float64: plain SGD's rule, to compare with new" if sgd
            else "How much the optimizer moved the number")

    def widest_name(self) -> str:
        """The longest parameter name of the step (the last number of some parameter array)."""
        ends = self._starts[1:] - 1
        return max((self.name(int(row)) for row in ends), key=len, default="W[1]₁₁")

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.step is None:
            return None
        row, column = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return number_text(self._values(row)[column - 1]) if column else self.name(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tip(row)
        if column:
            return RIGHT_ALIGNED if role == Qt.ItemDataRole.TextAlignmentRole else None
        return QFont() if role == Qt.ItemDataRole.FontRole else None  # the name in the text font: its subscripts stay legible

    def _values(self, row: int) -> tuple[float, ...]:
        parameter, k = self._find(row)
        old, gradient, new, rate = float(parameter.old[k]), float(parameter.gradient[k]), float(parameter.new[k]), self.step.learning_rate
        return old, gradient, rate, new, (old - rate * gradient) if self.step.plain_sgd else new - old

    def _tip(self, row: int) -> str:
        old, gradient, rate, new, check = (number_text(v) for v in self._values(row))
        name = self.name(row)
        if self.step.plain_sgd:
            return f"{name} := {name} − α·d{name} = {old} − {rate}·{gradient} = {check}\n(the network stored {new})"
        return (f"{name}: {old} → {new}; the {self.step.optimizer} optimizer made this update from its own state, "
                f"so it is not −α·gradient (α = {rate}, gradient = {gradient}); new − old = {check}")


def step_text(step: StepData, dtype: str) -> str:
    penalty = [f"l1 = {step.l1:g}" if step.l1 else "", f"l2 = {step.l2:g}" if step.l2 else ""]
    penalty_text = " and ".join(p for p in penalty if p)
    gradient = (f"the mini-batch's gradient (the mean over its {step.samples} samples" + (f", plus the {penalty_text} penalty on W" if penalty_text
                                                                           else "") + ")")
    if step.samples == 1:
        gradient = "the gradient of the mini-batch's one sample" + (f" plus the {penalty_text} penalty on W" if penalty_text else "")
    if step.plain_sgd:
        rule = f"Plain SGD: new = old − α·gradient, α = {step.learning_rate:g}, with {gradient}."
        if dtype != "float64":
            rule += f" The network keeps {dtype}: its new values are rounded to {dtype}."
    else:
        rule = (f"The {step.optimizer} optimizer made this update from its own state (α = {step.learning_rate:g}, {gradient}): "
                "the last column is new − old, not −α·gradient.")
    return f"{rule} {step.count:,} number{'s' if step.count != 1 else ''}."


# ----- the view ---------------------------------------------------------------------------------
class InspectorView(ViewPanel):
    """The inspector (see the module docstring). Feed it probe results (:meth:`receive` /
    :meth:`show_data`); tell it the data (:meth:`set_dataset`) and the sample the window shows
    (:meth:`set_sample`)."""

    parameterEdited = Signal(int, str, object, float)  # layer (0-based), "W" | "b", index tuple (0-based), value
    sampleChanged = Signal(int)  # the user chose another sample here (the spin box or the table)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("inspector", parent)
        label = QLabel("Sample")
        self.header.addWidget(label)
        self.sample_spin = QSpinBox()
        self.sample_spin.setObjectName("inspectorSampleSpin")
        self.sample_spin.setToolTip("The sample (row of the data set, from 0) whose forward and backward pass is shown; "
                                    "or click a sample in the decision boundary or the regression fit, or a row in Samples")
        self.sample_spin.setAccessibleName("Sample inspected")
        self.sample_spin.setRange(0, 0)
        label.setBuddy(self.sample_spin)
        self.sample_spin.valueChanged.connect(self.sampleChanged)
        self.header.addWidget(self.sample_spin)
        self.finish_header()
        self.export_button.hide()  # numbers, not a plot
        self.tabs = QTabWidget()
        self.tabs.setObjectName("inspectorTabs")
        self.tabs.setDocumentMode(True)
        self.forward_page, self.forward_layout = self._page("inspectorForward")
        self.backward_page, self.backward_layout = self._page("inspectorBackward")
        self.tabs.addTab(self.forward_page, "Forward")
        self.tabs.addTab(self.backward_page, "Backward")
        self.step_note = QLabel()
        self.step_note.setObjectName("inspectorStepNote")
        self.step_note.setWordWrap(True)
        self.step_model = StepModel(self)
        self.step_table = QTableView()
        self.step_table.setObjectName("inspectorStepTable")
        self.step_table.setModel(self.step_model)
        self.step_table.setFont(number_font())
        self.step_table.setWordWrap(False)
        describe(self.step_table, "The last mini-batch's update of each parameter",
                 "Each weight and bias: its value before the last mini-batch, the gradient, α and its value after. "
                 "Select a number in Forward to find its row here.")
        width = QFontMetrics(number_font()).horizontalAdvance("-" + number_text(0.0)) + 10
        self.step_table.horizontalHeader().setDefaultSectionSize(width)
        self.step_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.step_table.verticalHeader().hide()
        self.step_table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.step_table.verticalHeader().setDefaultSectionSize(QFontMetrics(number_font()).height() + 8)
        step_page = QWidget()
        step_layout = QVBoxLayout(step_page)
        step_layout.addWidget(self.step_note)
        step_layout.addWidget(self.step_table, 1)
        self.tabs.addTab(step_page, "Last step")
        self.sample_table = SampleTable()
        self.sample_table.samplePicked.connect(self._picked_in_table)
        self.tabs.addTab(self.sample_table, "Samples")
        self.stack.addWidget(self.tabs)
        for button in self.tabs.tabBar().findChildren(QToolButton):  # the tab bar's own scroll arrows (a narrow dock)
            side = "left" if "Left" in button.objectName() else "right"
            describe(button, f"Scroll the tabs {side}", f"Show the tabs further {side}")
        self.dataset: Dataset | None = None
        self._split: tuple | None = None  # (dataset, val_fraction, seed) of the split the table shows
        self._key: tuple | None = None
        self._models: dict[str, ArrayModel] = {}
        self._tables: dict[str, ArrayTable] = {}
        self._labels: dict[str, QLabel] = {}
        self.data: InspectorData | None = None
        self.chosen: tuple[int, str, tuple[int, ...]] | None = None  # the W or b number last selected in Forward
        self.clear()

    def _page(self, name: str) -> tuple[QScrollArea, QVBoxLayout]:
        area = QScrollArea()
        area.setObjectName(name)
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setSpacing(10)
        area.setWidget(inner)
        return area, layout

    # ----- the window's calls ---------------------------------------------------------------------
    def set_dataset(self, dataset: Dataset | None) -> None:
        """The data of the run (None: none): the sample count and the table of samples."""
        self.dataset = dataset
        self._split = None
        self.sample_spin.blockSignals(True)
        self.sample_spin.setMaximum(max(dataset.n_samples - 1, 0) if dataset is not None else 0)
        self.sample_spin.blockSignals(False)
        self.sample_table.set_dataset(dataset)

    def set_sample(self, index: int) -> None:
        """Show that sample ``index`` is the one inspected (picked elsewhere); emits nothing."""
        self._show_sample_number(index)
        self.sample_table.set_current(index)

    def _show_sample_number(self, index: int) -> None:
        self.sample_spin.blockSignals(True)
        self.sample_spin.setValue(index)
        self.sample_spin.blockSignals(False)

    def _picked_in_table(self, index: int) -> None:
        self._show_sample_number(index)
        self.sampleChanged.emit(index)

    # ----- ViewPanel ------------------------------------------------------------------------------
    def show_canvas(self) -> None:
        self.stack.setCurrentWidget(self.tabs)

    def clear(self) -> None:
        self.data = None
        self._key = None
        self._models, self._labels, self._tables = {}, {}, {}
        for layout in (self.forward_layout, self.backward_layout):
            _empty(layout)
        self.step_model.set_step(None)
        self.step_note.setText("Step one mini-batch (Shift+→) to see the update of every weight and bias: "
                               "old value, gradient, α, new value.")
        self.readout.setText("")
        self.show_note("Press Play or step an epoch to see the numbers of one sample's forward and backward pass.")

    def show_data(self, data: InspectorData) -> None:
        if data.reason or data.trace is None:
            self.show_reason(data.reason)
            return
        self.data = data
        formulas = Formulas(data)
        key = (tuple((layer.label, layer.a.shape, None if layer.W is None else layer.W.shape) for layer in data.trace.layers),
               data.trace.loss_name, data.feature_names, data.output_names)
        if key != self._key:
            self._key = key
            self._build(data, formulas)
        else:
            self._update(data, formulas)
        self._show_split(data)
        if self.sample_table.currentIndex().row() != data.index:
            self.sample_table.set_current(data.index)
        self.show_canvas()
        self.step_model.set_step(data.step)
        if data.step is not None:
            self.step_note.setText(step_text(data.step, data.dtype))
            header = self.step_table.horizontalHeader()
            header.resizeSection(0, max(QFontMetrics(self.font()).horizontalAdvance(self.step_model.widest_name()) + 16,
                                        header.sectionSizeFromContents(0).width()))
            self._show_chosen()
        loss = number_text(data.trace.loss)
        self.readout.setText(f"sample {data.index} ({data.part}) · target {data.target} · loss {loss} · {data.dtype}")
        self.readout.setToolTip(f"Sample {data.index} of the data set, in the {data.part} part; its target is {data.target}. "
                                f"The numbers are computed in float64 from the network's {data.dtype} parameters.")

    def _show_split(self, data: InspectorData) -> None:
        """Mark the table's training and validation samples with the run's split."""
        dataset = self.sample_table.sample_model.dataset
        if dataset is None:
            return
        split = (dataset, data.val_fraction, data.seed)  # the split depends on the data (a series validates on its end)
        if self._split is None or self._split[0] is not dataset or self._split[1:] != split[1:]:
            self._split = split
            validation = np.zeros(dataset.n_samples, bool)
            validation[split_indices(dataset, data.val_fraction, data.seed)[1]] = True
            self.sample_table.sample_model.set_validation(validation)

    # ----- building the pages ---------------------------------------------------------------------
    def _arrays(self, data: InspectorData, formulas: Formulas) -> dict[str, tuple[np.ndarray, Callable[[int, int], str]]]:
        """Every array shown, by its name: (values (rows, columns), tooltip of a cell)."""
        result = data.trace
        arrays = {"a0": (result.x, lambda i, _j: formulas.input(i))}
        for n, layer in enumerate(result.layers, start=1):
            if layer.is_dense:
                arrays[f"W{n}"] = (layer.W, lambda i, j, n=n: formulas.weight(n, i, j))
                arrays[f"b{n}"] = (layer.b[:, None], lambda i, _j, n=n: formulas.bias(n, i))
                arrays[f"z{n}"] = (layer.z, lambda i, _j, n=n: formulas.z(n, i))
                arrays[f"dz{n}"] = (layer.dz, lambda i, _j, n=n: formulas.dz(n, i))
                arrays[f"dW{n}"] = (layer.dW, lambda i, j, n=n: formulas.dW(n, i, j))
                arrays[f"db{n}"] = (layer.db[:, None], lambda i, _j, n=n: formulas.db(n, i))
            total, shift, exps = _exponentials(layer)
            if exps is not None:
                arrays[f"e{n}"] = (exps, lambda i, _j, n=n, shift=shift: formulas.exp(n, i, shift))
            arrays[f"a{n}"] = (layer.a, lambda i, _j, n=n, total=total, shift=shift: formulas.a(n, i, total, shift))
            arrays[f"da{n}"] = (layer.da, lambda i, _j, n=n: formulas.da(n, i))
        return arrays

    def _build(self, data: InspectorData, formulas: Formulas) -> None:
        for layout in (self.forward_layout, self.backward_layout):
            _empty(layout)
        self._models, self._labels, self._tables = {}, {}, {}
        arrays = self._arrays(data, formulas)
        result, last = data.trace, len(data.trace.layers)

        def table(key: str, title: str, tip: str, rows: tuple[str, ...] = (), edit=None) -> QWidget:
            values, cell_tip = arrays[key]
            self._models[key] = model = ArrayModel(values, cell_tip, rows, edit, self)
            widget = block(title, tip, model, f"inspector_{key}")
            self._tables[key] = widget.findChild(ArrayTable)
            return widget

        inputs = QGroupBox("Input")
        inputs.setObjectName("inspectorInput")
        grid = QVBoxLayout(inputs)
        standardized = " = (x − μ)/σ, standardized as the model does" if data.standardized else " = x"
        grid.addLayout(row_of(table("a0", f"a[0]{standardized}", "The sample's inputs as the first layer sees them",
                                    data.feature_names)))
        self.forward_layout.addWidget(inputs)
        for n, layer in enumerate(result.layers, start=1):
            box = QGroupBox(f"Layer {n}: {layer.label}")
            box.setObjectName(f"inspectorForward{n}")
            rows = QVBoxLayout(box)
            outputs = data.output_names if n == last else ()
            if not layer.is_dense:
                rows.addLayout(row_of(table(f"a{n}", f"a[{n}] = a[{n - 1}]", "Dropout is the identity when inspecting")))
                self.forward_layout.addWidget(box)
                continue
            index = n - 1
            weights = table(f"W{n}", f"W[{n}]", f"Layer {n}'s weights: row i = unit i, column j = input j (a[{n - 1}]ⱼ). "
                            "Double-click a number to type another value.",
                            edit=lambda i, j, value, index=index: self._edit(index, "W", (i, j), value))
            biases = table(f"b{n}", f"b[{n}]", f"Layer {n}'s biases, one per unit. Double-click a number to type another value.",
                           edit=lambda i, _j, value, index=index: self._edit(index, "b", (i,), value))
            second = [table(f"z{n}", f"z[{n}] = W[{n}]·a[{n - 1}] + b[{n}]", "Each unit's weighted sum of its inputs plus its bias")]
            if f"e{n}" in arrays:
                second.append(table(f"e{n}", f"e^z[{n}]", "The exponentials softmax divides by their sum"))
            formula = ACTIVATION_FORMULAS.get(layer.activation, layer.activation)
            second.append(table(f"a{n}", f"a[{n}] = {layer.activation}(z[{n}])", f"The layer's outputs: g(z) = {formula}", outputs))
            for key, name in ((f"W{n}", "W"), (f"b{n}", "b")):
                self._tables[key].selectionModel().currentChanged.connect(
                    lambda current, _previous, index=index, name=name: self._choose(index, name, current))
            if layer.W.shape[1] <= SIDE_BY_SIDE:
                rows.addLayout(row_of(weights, biases))
            else:
                rows.addLayout(row_of(weights))
                second.insert(0, biases)
            rows.addLayout(row_of(*second))
            total = _exponentials(layer)[0]
            if total is not None:
                self._labels[f"sum{n}"] = label = formula_label("", "The sum softmax divides each exponential by", f"inspectorSum{n}")
                rows.addWidget(label)
            self.forward_layout.addWidget(box)
        self.forward_layout.addStretch(1)

        loss_box = QGroupBox("Loss")
        loss_box.setObjectName("inspectorLoss")
        loss_rows = QVBoxLayout(loss_box)
        self._labels["loss"] = formula_label("", LOSS_FORMULAS.get(result.loss_name, result.loss_name), "inspectorLossValue")
        loss_rows.addWidget(self._labels["loss"])
        self.backward_layout.addWidget(loss_box)
        self._labels["backwardNote"] = note = formula_label(
            "The 1/m of the mean loss is taken in dz of the output layer, so dW and db need none of their own "
            "(m = 1: one sample). The L1/L2 penalties are not part of these numbers.", "", "inspectorBackwardNote")
        note.setProperty("hint", True)
        self.backward_layout.addWidget(note)
        for n in range(last, 0, -1):
            layer = result.layers[n - 1]
            box = QGroupBox(f"Layer {n}: {layer.label}")
            box.setObjectName(f"inspectorBackward{n}")
            rows = QVBoxLayout(box)
            outputs = data.output_names if n == last else ()
            source = "∂L/∂a" if n == last else f"W[{n + 1}]ᵀ·dz[{n + 1}]" if result.layers[n].is_dense else f"da[{n + 1}]"
            first = [table(f"da{n}", f"da[{n}] = {source}", "How the loss changes with each of the layer's outputs", outputs)]
            if layer.is_dense:
                first += [table(f"dz{n}", f"dz[{n}] = {self._dz_formula(result, layer, n)}",
                                "How the loss changes with each unit's weighted sum"),
                          table(f"db{n}", f"db[{n}] = Σ dz[{n}]", "The gradient of the loss for each bias")]
            rows.addLayout(row_of(*first))
            if layer.is_dense:
                rows.addLayout(row_of(table(f"dW{n}", f"dW[{n}] = dz[{n}]·a[{n - 1}]ᵀ", "The gradient of the loss for each weight")))
            self.backward_layout.addWidget(box)
        self.backward_layout.addStretch(1)
        self._update_labels(data)

    def _dz_formula(self, result: Trace, layer: LayerTrace, n: int) -> str:
        if n == len(result.layers) and result.fused:
            return FUSED_DZ[result.loss_name].format(n=n)
        if layer.activation == "softmax":
            return f"a[{n}] ⊙ (da[{n}] − Σ da[{n}]ₖ·a[{n}]ₖ)"
        return f"da[{n}] ⊙ {layer.activation}'(z[{n}])"

    def _update(self, data: InspectorData, formulas: Formulas) -> None:
        for key, (values, tip) in self._arrays(data, formulas).items():
            self._models[key].set_values(values, tip)
        self._update_labels(data)

    def _update_labels(self, data: InspectorData) -> None:
        result = data.trace
        last = len(result.layers)
        for n, layer in enumerate(result.layers, start=1):
            total, shift, _ = _exponentials(layer)
            if total is not None:
                shifted = f"e^(z[{n}]ₖ − {number_text(shift)})" if shift else f"e^z[{n}]ₖ"
                self._labels[f"sum{n}"].setText(f"Σₖ {shifted} = {number_text(total)}    a[{n}] = e^z[{n}] / Σₖ {shifted}")
        target = ", ".join(number_text(v) for v in result.y[:, 0])
        self._labels["loss"].setText(f"L = {result.loss_name}(a[{last}], y) = {number_text(result.loss)}    with y = ({target})"
                                     + (f", the target {data.target}" if data.target != target else ""))

    def _choose(self, layer: int, name: str, current: QModelIndex) -> None:
        """A W or b number selected in Forward: its row in the step table is the one selected there."""
        if current.isValid():
            self.chosen = (layer, name, (current.row(), current.column()) if name == "W" else (current.row(),))
            self._show_chosen()

    def _show_chosen(self) -> None:
        row = None if self.chosen is None else self.step_model.row_of(*self.chosen)
        if row is not None:
            self.step_table.selectRow(row)
            self.step_table.scrollTo(self.step_model.index(row, 0))

    def _edit(self, layer: int, name: str, index: tuple[int, ...], value: float) -> None:
        """A W or b number typed in a cell: say so (the trainer sets it; the next probe result shows it)."""
        self.parameterEdited.emit(layer, name, index, float(value))


def _exponentials(layer: LayerTrace) -> tuple[float | None, float, np.ndarray | None]:
    """For a softmax layer: Σ e^z, the shift (max z when e^z would overflow, else 0) and e^(z − shift) (units, 1)."""
    if not layer.is_dense or layer.activation != "softmax":
        return None, 0.0, None
    z = layer.z[:, 0]
    top = float(np.max(z))
    shift = top if top > 700 else 0.0
    exps = np.exp(z - shift)
    return float(exps.sum()), shift, exps[:, None]


def _empty(layout: QVBoxLayout | QGridLayout) -> None:
    """Remove and delete everything in ``layout``."""
    while layout.count():
        item = layout.takeAt(0)
        if item.widget() is not None:
            item.widget().hide()  # at once: the deletion waits for the event loop
            item.widget().deleteLater()
        elif item.layout() is not None:
            _empty(item.layout())
