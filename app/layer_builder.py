"""The Network tab: hidden layers in an editable table, the output head, and a live summary.

The input layer comes from the data and the output layer from its task
(``core.data.suggested_head``); the user edits the hidden layers in between and may
override the output activation, the output initializer and the loss. Each kind of layer has
its own settings (app.layer_kinds: dense units, a convolution's filters and kernel, a pooling
window, a recurrent layer's units and return sequences, …): the table shows a layer's kind,
size, activation, initializer and output shape, and the box under it every setting of the
selected layer. The kinds offered depend on the data: images (H, W, C) get Conv2D, pooling,
Flatten and BatchNorm besides Dense and Dropout; sequences (T, F) get SimpleRNN, LSTM and GRU
besides Dense and Dropout, and token ids (data whose meta has "tokens", the vocabulary size)
an Embedding too, whose vocabulary starts as the data's; a row of features gets Dense,
Dropout and BatchNorm. Every layer's output shape is inferred
as the engine builds it (core.layer_types.input_shape_for for the input), and the first
layer that cannot be built says why in one line under the table. The builder only edits and shows: it emits
``architectureChanged``, the window builds the network, and the builder then shows the
network's summary (:meth:`LayerBuilder.show_network`) or why it cannot be built
(:meth:`LayerBuilder.show_problem`).

The builder's state is an :data:`Architecture`: (hidden layer specs, output activation
override or None, loss override or None, output initializer override or None);
:func:`architecture_of` reads one from an experiment's network spec, refusing a spec that
does not fit the data, and :func:`architecture_spec` makes the full network spec of one.
"""

from __future__ import annotations

import copy
import html
import re

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.activations import ACTIVATIONS
from core.data import Dataset, image_size_text, suggested_head
from core.experiment import network_spec
from core.initializers import INITIALIZERS
from core.layer_types import input_shape_for
from core.losses import LOSSES
from core.network import Network
from core.trainer import ConfigError

from .accessibility import describe
from .layer_editors import LayerSettings, editor_value, field_editor, set_editor_value
from .layer_kinds import (
    DEFAULT_SLOPE,
    SLOPE_RANGE,
    Field,
    LayerShape,
    applies,
    edited,
    kind_of,
    layer_shapes,
    named_layer,
    new_layer,
    offered_kinds,
    settings_text,
    shape_text,
    size_text,
    with_defaults,
)
from .widgets import hint_label

__all__ = ["ACTIVATION", "DEFAULT_SLOPE", "INITIALIZER", "LOSS_TITLES", "OUTPUT", "SIZE", "SLOPE_RANGE", "TYPE", "Architecture",
           "LayerBuilder", "architecture_of", "architecture_spec"]  # what other modules take from here

TYPE, SIZE, ACTIVATION, OUTPUT, INITIALIZER = range(5)  # the initializer last: in a narrow panel it is the one cut short
HEADERS = ("Type", "Size", "Activation", "Output", "Initializer")
COLUMN_KEYS = {ACTIVATION: "activation", INITIALIZER: "initializer"}  # the field a column edits (SIZE: the kind's size_field)
TYPE_TIP = ("What the layer does: Dense, Dropout; for images Conv2D, MaxPool2D, AvgPool2D, Flatten; BatchNorm for images and "
            "rows; for sequences SimpleRNN, LSTM, GRU, and Embedding for token ids")
OUTPUT_TIP = ("The shape of the layer's output for one sample: height×width×channels for an image, steps×units for a sequence, "
              "units for a row")
LOSS_TITLES = {"mse": "mean squared error", "binary_crossentropy": "binary cross-entropy", "categorical_crossentropy": "categorical cross-entropy"}
NEW_DENSE = new_layer("dense")
LAYER_PREFIX = re.compile(r"^layer \d+ \([^)]*\): ")  # how a network's SpecError names its layer (app.layer_kinds.named_layer)
BUTTON_PADDING = 24  # px beside a button's text when the panel is too narrow for the style's minimum button width
PROBLEM_COLOR = "#b3261e"
# hidden layer specs, output activation override, loss override, output initializer override (None: the task's suggestion)
Architecture = tuple[list[dict], str | None, str | None, str | None]
HEAD_HINTS = {  # why the task's own output activation fits, by activation
    "sigmoid": "For two classes use one sigmoid unit: it gives the probability of the second class.",
    "linear": "A regression output is linear: it can give any number.",
}


def _outputs(dataset: Dataset) -> tuple[str, int]:
    """What decides the output layer: the task and the number of outputs."""
    return dataset.task, dataset.n_outputs


def architecture_spec(dataset: Dataset, architecture: Architecture) -> dict:
    """The full network spec of ``architecture`` for ``dataset``: the data's inputs, the hidden
    layers, and the output layer the task suggests with the architecture's overrides."""
    hidden, output_activation, _, output_initializer = architecture
    spec = network_spec(dataset, copy.deepcopy(hidden), output_activation)
    if output_initializer:
        spec["layers"][-1]["initializer"] = output_initializer
    return spec


def architecture_of(spec: dict, dataset: Dataset, loss: str | None) -> Architecture:
    """The builder's view of an experiment's network ``spec`` for ``dataset``: every layer but
    the last is hidden; the last is the output layer, whose activation and initializer are
    overrides when they are not the task's own; ``loss`` is the experiment's loss. The input and output sizes come
    from the data, so a spec that says otherwise is refused (ConfigError naming the key):
    an ``input_shape`` other than the data's for these layers (core.layer_types.input_shape_for:
    [features], [H, W, C], or [H·W·C] for a network of only dense layers on images), or an output layer that is not a dense layer
    of as many units as the data has outputs."""
    layers = list(spec.get("layers", []))
    head, _ = suggested_head(dataset.task, dataset.n_outputs)
    declared = spec.get("input_shape")
    expected = list(input_shape_for(dataset.sample_shape, layers))
    if declared is not None and declared != expected:
        data = (f"{'×'.join(map(str, dataset.sample_shape))} images, which these layers take as {expected}" if dataset.is_image
                else f"sequences of {dataset.sample_shape[0]} steps × {dataset.sample_shape[1]} features, which these layers "
                f"take as {expected}" if dataset.is_sequence
                else f"{dataset.n_features} feature{'s' if dataset.n_features != 1 else ''}")
        raise ConfigError(f"network.input_shape: the network takes {declared} inputs but the data has {data}")
    output = layers[-1] if layers else head
    if output.get("type") != "dense" or output.get("units", head["units"]) != head["units"]:
        raise ConfigError(f"network.layers[{len(layers) - 1}]: the output layer must be a dense layer of {head['units']} "
                          f"unit{'s' if head['units'] != 1 else ''} for this data ({dataset.task}), not {output}")
    activation, initializer = output.get("activation"), output.get("initializer", head["initializer"])
    return (layers[:-1], activation if activation != head["activation"] else None, loss,
            initializer if initializer != head["initializer"] else None)


def column_field(layer: dict, column: int) -> Field | None:
    """The field of ``layer`` that table ``column`` shows and edits (None: the layer has none there)."""
    kind = kind_of(layer)
    field = kind.field(kind.size_field if column == SIZE else COLUMN_KEYS.get(column, ""))
    return field if field is not None and applies(field, layer) else None


class LayerDelegate(QStyledItemDelegate):
    """Editors for the layer table: a list of the offered kinds for the type, and for the
    other cells the control of the field the row's kind has there (app.layer_editors)."""

    def __init__(self, builder: LayerBuilder):
        super().__init__(builder.table)
        self._builder = builder

    def _field(self, index: QModelIndex) -> Field | None:
        return column_field(self._builder.layer(index.row()), index.column())

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex) -> QWidget:
        if index.column() == TYPE:
            editor = QComboBox(parent)
            for key in self._builder.kinds_for(index.row()):
                editor.addItem(kind_of({"type": key}).title, key)
            describe(editor, HEADERS[TYPE], TYPE_TIP)
        else:
            editor = field_editor(self._field(index), parent)
        if isinstance(editor, QComboBox):
            editor.activated.connect(lambda _index, combo=editor: self._commit(combo))
        return editor

    def _commit(self, editor: QWidget) -> None:
        self.commitData.emit(editor)
        self.closeEditor.emit(editor)

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:
        value = index.data(Qt.ItemDataRole.UserRole)
        if index.column() == TYPE:
            editor.setCurrentIndex(max(0, editor.findData(value)))
        else:
            set_editor_value(editor, self._field(index), value)

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: QModelIndex) -> None:
        value = editor.currentData() if index.column() == TYPE else editor_value(editor, self._field(index))
        model.setData(index, value, Qt.ItemDataRole.UserRole)


def input_text(dataset: Dataset, input_shape: tuple[int, ...]) -> str:
    """What the network's input is: "Input: 8×8 images, 8×8×1 = 64 values, as images" (or
    "flattened" for a network of dense layers only), "Input: sequences of 30 steps × 2
    features, as sequences" (or flattened), "Input: 40 token ids per sample (vocabulary 65)",
    or the features of tabular data."""
    if dataset.is_image:
        taken = "as images" if len(input_shape) > 1 else "flattened: a network of only dense layers"
        return (f"Input: {image_size_text(dataset.sample_shape)} images, {'×'.join(map(str, dataset.sample_shape))} = "
                f"{dataset.n_features} values, {taken}")
    if dataset.is_sequence:
        steps, features = dataset.sample_shape
        taken = "as sequences" if len(input_shape) > 1 else f"flattened: {dataset.n_features} values, no recurrent layer"
        return f"Input: sequences of {steps} step{'s' if steps != 1 else ''} × {features} feature{'s' if features != 1 else ''}, {taken}"
    if "tokens" in dataset.meta:
        return f"Input: {dataset.n_features} token ids per sample (vocabulary {dataset.meta['tokens']})"
    features = ", ".join(dataset.feature_names[:6]) + (", …" if dataset.n_features > 6 else "")
    return f"Input: {dataset.n_features} feature{'s' if dataset.n_features != 1 else ''} ({features})"


class LayerTable(QTableWidget):
    """The hidden layers' table. Where the panel is too narrow for every column, the
    initializer's is hidden, then the activation's: the settings box under the table shows
    them for the selected layer."""

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    def fit_columns(self) -> None:
        """Show the initializer column only when all five columns fit the table's width, and
        the activation column only when the other four do. The widths are measured with every
        column shown (a hidden column's size hint is not its width), so calling it again changes nothing."""
        header = self.horizontalHeader()
        for column in (INITIALIZER, ACTIVATION):
            self.setColumnHidden(column, False)
        widths = {c: max(self.sizeHintForColumn(c), header.sectionSizeHint(c)) for c in range(self.columnCount())}
        room = self.viewport().width()
        self.setColumnHidden(INITIALIZER, sum(widths.values()) > room)
        self.setColumnHidden(ACTIVATION, sum(widths.values()) - widths[INITIALIZER] > room)


class LayerBuilder(QWidget):
    """Hidden layers (add, remove, duplicate, reorder, edit), output head, loss, summary."""

    architectureChanged = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._hidden: list[dict] = []
        self._dataset: Dataset | None = None
        self._output_activation: str | None = None  # None: the task's suggestion
        self._loss: str | None = None  # None: the task's suggestion
        self._output_initializer: str | None = None  # None: the task's suggestion
        self._shapes: list[LayerShape] = []  # every layer's (the output layer's last), as the engine infers them

        self.input_label = QLabel()
        self.input_label.setObjectName("inputLabel")
        self.input_label.setWordWrap(True)
        self.table = LayerTable(0, len(HEADERS))
        self.table.setObjectName("layerTable")
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.horizontalHeaderItem(TYPE).setToolTip(TYPE_TIP)
        self.table.horizontalHeaderItem(OUTPUT).setToolTip(OUTPUT_TIP)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.SelectedClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.setItemDelegate(LayerDelegate(self))
        self.table.setMinimumHeight(150)
        self.table.verticalHeader().setDefaultSectionSize(28)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(INITIALIZER, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(True)  # the output column takes the room while the initializer's is hidden
        describe(self.table, "Hidden layers", "Double-click a cell to change it, or change the selected layer in the box below. "
                 "Layers run top to bottom, from the input to the output; Output is each layer's output shape.")
        self.layer_problem = hint_label()
        self.layer_problem.setObjectName("layerProblemLabel")
        self.layer_problem.setStyleSheet(f"color: {PROBLEM_COLOR};")
        self.layer_problem.hide()

        self.settings = LayerSettings()
        self.slope_spin, self.slope_label = self.settings.editor("slope"), self.settings.label("slope")

        self.add_button = QPushButton("Add")
        self.add_button.setObjectName("addLayerButton")
        describe(self.add_button, "Add layer", "Add a dense layer after the selected one")
        self.duplicate_button = QPushButton("Copy")
        self.duplicate_button.setObjectName("duplicateLayerButton")
        describe(self.duplicate_button, "Duplicate layer", "Add a copy of the selected layer after it")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("removeLayerButton")
        describe(self.remove_button, "Remove layer", "Remove the selected layer (the last one when none is selected)")
        self.up_button = QToolButton()
        self.up_button.setObjectName("moveLayerUpButton")
        self.up_button.setArrowType(Qt.ArrowType.UpArrow)
        describe(self.up_button, "Move layer up", "Move the selected layer up")
        self.down_button = QToolButton()
        self.down_button.setObjectName("moveLayerDownButton")
        self.down_button.setArrowType(Qt.ArrowType.DownArrow)
        describe(self.down_button, "Move layer down", "Move the selected layer down")
        buttons = QHBoxLayout()
        for button in (self.add_button, self.duplicate_button, self.remove_button):
            button.setMinimumWidth(button.fontMetrics().horizontalAdvance(button.text()) + BUTTON_PADDING)  # narrower than the style's
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.up_button)
        buttons.addWidget(self.down_button)

        hidden_box = QGroupBox("Hidden layers")
        hidden_layout = QVBoxLayout(hidden_box)
        hidden_layout.addWidget(self.input_label)
        hidden_layout.addWidget(self.table, 1)
        hidden_layout.addWidget(self.layer_problem)
        hidden_layout.addLayout(buttons)
        hidden_layout.addWidget(self.settings)

        self.output_label = QLabel()
        self.output_label.setObjectName("outputLabel")
        self.output_label.setWordWrap(True)  # "10 (from the data: 10 classes → one probability each)" fits the panel
        self.output_activation = QComboBox()
        self.output_activation.setObjectName("outputActivationCombo")
        describe(self.output_activation, "Output activation", "The output layer's activation g: the data's task suggests one")
        self.output_initializer = QComboBox()
        self.output_initializer.setObjectName("outputInitializerCombo")
        describe(self.output_initializer, "Output initializer",
                 "How the output layer's initial weights W are drawn (its biases b start at zero); zeros starts every output unit alike")
        self.head_note = hint_label()
        self.head_note.setObjectName("headNote")
        self.head_note.setStyleSheet(f"color: {PROBLEM_COLOR};")
        self.head_fix = QPushButton()
        self.head_fix.setObjectName("headFixButton")
        describe(self.head_fix, "Use the suggested output activation", "Set the output activation to the one this task suggests")
        self.head_note.hide()
        self.head_fix.hide()
        self.loss_combo = QComboBox()
        self.loss_combo.setObjectName("lossCombo")
        describe(self.loss_combo, "Loss", "The loss the training minimises: the data's task suggests one")
        self.metric_label = QLabel()
        output_box = QGroupBox("Output layer and loss")
        output_form = QFormLayout(output_box)
        output_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # in a narrow panel a long list box goes under its label
        output_form.addRow("Units", self.output_label)
        output_form.addRow("Activation", self.output_activation)
        note_row = QHBoxLayout()
        note_row.addWidget(self.head_note, 1)
        note_row.addWidget(self.head_fix, 0, Qt.AlignmentFlag.AlignTop)
        output_form.addRow(note_row)
        output_form.addRow("Initializer", self.output_initializer)
        output_form.addRow("Loss", self.loss_combo)
        output_form.addRow("Metric", self.metric_label)

        self.summary = QTableWidget(0, 3)
        self.summary.setObjectName("summaryTable")
        self.summary.setHorizontalHeaderLabels(("Layer", "Output shape", "Parameters"))
        self.summary.verticalHeader().hide()
        self.summary.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.summary.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.summary.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.summary.verticalHeader().setDefaultSectionSize(26)
        self.summary.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # a long label wraps
        summary_header = self.summary.horizontalHeader()
        summary_header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        summary_header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.summary.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.summary.setMinimumHeight(140)
        describe(self.summary, "Network summary", "Each layer's output shape and parameter count; hover a row for its W and b shapes")
        self.totals = QLabel()
        self.totals.setObjectName("summaryTotals")
        self.totals.setWordWrap(True)
        self.problem = hint_label()
        self.problem.setObjectName("problemLabel")
        self.problem.hide()
        summary_box = QGroupBox("Summary")
        summary_layout = QVBoxLayout(summary_box)
        summary_layout.addWidget(self.summary, 1)
        summary_layout.addWidget(self.totals)
        summary_layout.addWidget(self.problem)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(hidden_box, 3)
        layout.addWidget(output_box)
        layout.addWidget(summary_box, 2)

        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemSelectionChanged.connect(self._show_settings)
        self.settings.edited.connect(self._on_setting_edited)
        self.add_button.clicked.connect(self._add)
        self.duplicate_button.clicked.connect(self._duplicate)
        self.remove_button.clicked.connect(self._remove)
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(1))
        self.head_fix.clicked.connect(self._use_suggested_activation)
        self.output_activation.activated.connect(self._on_head_changed)
        self.output_initializer.activated.connect(self._on_head_changed)
        self.loss_combo.activated.connect(self._on_head_changed)

    # ----- state ----------------------------------------------------------------------------------
    def set_dataset(self, dataset: Dataset) -> None:
        """The data the network is for; a new task drops the output activation and loss overrides. Does not emit."""
        _, self._output_activation, self._loss, self._output_initializer = self.architecture_for(dataset)
        self._dataset = dataset
        self._fill_table(max(self._selected(), 0))
        self._fill_head()

    def offered_kinds(self) -> list[str]:
        """The layer kinds the data takes (app.layer_kinds.offered_kinds: by its sample shape, and whether it holds token ids)."""
        if self._dataset is None:
            return offered_kinds((1,))
        return offered_kinds(self._dataset.sample_shape, "tokens" in self._dataset.meta)

    def kinds_for(self, row: int) -> list[str]:
        """The kinds hidden layer ``row`` may become: those offered, and its own."""
        offered, own = self.offered_kinds(), self._hidden[row]["type"]
        return offered if own in offered else [*offered, own]

    def layer(self, row: int) -> dict:
        """Hidden layer ``row``'s spec (the builder's own: do not change it)."""
        return self._hidden[row]

    def layer_shapes(self) -> list[LayerShape]:
        """Every layer's output shape and parameter count, the output layer's last, or where the first problem is."""
        return list(self._shapes)

    def architecture(self) -> Architecture:
        """(hidden layer specs, output activation, loss and output initializer overrides, each None for the task's suggestion)."""
        return copy.deepcopy(self._hidden), self._output_activation, self._loss, self._output_initializer

    def architecture_for(self, dataset: Dataset) -> Architecture:
        """What :meth:`set_dataset` would make of the architecture for ``dataset`` (changing
        nothing): the same hidden layers and output initializer; the output activation and
        loss overrides dropped when ``dataset`` has another task or number of outputs."""
        if self._dataset is not None and _outputs(self._dataset) != _outputs(dataset):
            return copy.deepcopy(self._hidden), None, None, self._output_initializer
        return self.architecture()

    def set_architecture(self, hidden: list[dict], output_activation: str | None, loss: str | None,
                         output_initializer: str | None = None) -> None:
        """Show these hidden layers and overrides (see :meth:`architecture`). Does not emit."""
        self._hidden = copy.deepcopy(hidden)
        self._output_activation, self._loss, self._output_initializer = output_activation, loss, output_initializer
        self._fill_table(max(self._selected(), 0))
        self._fill_head()

    def spec(self) -> dict:
        """The full network spec: the data's input, the hidden layers, the output head."""
        assert self._dataset is not None
        return architecture_spec(self._dataset, self.architecture())

    def loss(self) -> str | None:
        """The loss override, or None for the task's suggestion."""
        return self._loss

    def show_network(self, network: Network) -> None:
        """Fill the summary from a built network and clear any problem."""
        rows = [("Input", f"(None, {', '.join(map(str, network.input_shape))})", "0", "")]
        for layer, row in zip(network.layers, network.summary(), strict=True):
            shapes = " + ".join(f"{name} {'×'.join(map(str, value.shape))}" for name, value in layer.params.items())
            rows.append((f"{row.index}. {row.label}", f"(None, {', '.join(map(str, row.output_shape))})", f"{row.parameters:,}",
                         f"{shapes} = {row.parameters:,} parameters" if shapes else "no parameters"))
        self.summary.setRowCount(len(rows))
        input_tip = {3: "The input layer: an image per sample (height, width, channels)",
                     2: "The input layer: a sequence per sample (steps, features)"}.get(
            len(network.input_shape), "The input layer: one value per feature") + "; None stands for any number of samples m"
        for r, (label, shape, count, tip) in enumerate(rows):
            for c, text in enumerate((label, shape, count)):
                item = QTableWidgetItem(text)
                item.setToolTip(tip or input_tip)
                if c == 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.summary.setItem(r, c, item)
        state = (f"all trainable; and {network.state_count:,} running statistics, not trained" if network.state_count
                 else "all trainable")
        self.totals.setText(f"<b>Total parameters: {network.parameter_count:,}</b> ({state})")
        self.problem.hide()
        self._mark_row(None)

    def show_problem(self, message: str) -> None:
        """Explain why the network cannot be built or trained; highlight the layer named."""
        self.summary.setRowCount(0)
        self.totals.setText("")
        self.problem.setText(f"<b>This network cannot be trained:</b> {message}")
        self.problem.show()
        self._mark_row(named_layer(message))

    # ----- editing ----------------------------------------------------------------------------------
    def _fill_table(self, select: int) -> None:
        """Show the hidden layers, each layer's output shape (or the first problem, in the line
        under the table), and select row ``select``."""
        spec = self.spec() if self._dataset is not None else None
        self._shapes = layer_shapes(tuple(spec["input_shape"]), spec["layers"]) if spec is not None else []
        if spec is not None:
            self.input_label.setText(input_text(self._dataset, tuple(spec["input_shape"])))
        self.table.blockSignals(True)
        self.table.setRowCount(len(self._hidden))
        for row, layer in enumerate(self._hidden):
            for column in range(len(HEADERS)):
                self.table.setItem(row, column, self._cell(row, layer, column))
        self.table.blockSignals(False)
        self.table.fit_columns()
        if 0 <= select < len(self._hidden):
            self.table.selectRow(select)
        problem = next((i for i, shape in enumerate(self._shapes) if shape.problem), None)
        self.layer_problem.setVisible(problem is not None)
        if problem is not None:
            self.layer_problem.setText(self._problem_line(problem, spec["layers"][problem]))
        self._mark_row(problem)
        self._update_buttons()
        self._show_settings()

    def _problem_line(self, index: int, layer: dict) -> str:
        """Why layer ``index`` (the output layer after the hidden ones) cannot be built, in one line that names it."""
        name = "Output layer" if index == len(self._hidden) else f"Layer {index + 1}"
        reason = LAYER_PREFIX.sub("", self._shapes[index].problem)
        return f"<b>{name} ({html.escape(kind_of(layer).title)}):</b> {html.escape(reason)}"

    def _cell(self, row: int, layer: dict, column: int) -> QTableWidgetItem:
        """Hidden layer ``layer``'s item in ``column``: its kind, the value of the field the
        column edits (greyed "—" where its kind has none), or its output shape."""
        item = QTableWidgetItem()
        field = column_field(layer, column)
        shape = self._shapes[row] if row < len(self._shapes) else LayerShape(None, None)
        if column == TYPE:
            item.setData(Qt.ItemDataRole.UserRole, layer["type"])
            item.setText(kind_of(layer).title)
            item.setToolTip(settings_text(layer))
        elif column == OUTPUT:
            item.setText(shape_text(shape.output_shape) if shape.output_shape else "⚠" if shape.problem else "?")
            item.setToolTip(shape.problem or (f"Output {shape_text(shape.output_shape)}, {shape.parameters:,} parameters"
                                              if shape.output_shape else "A layer before this one cannot be built"))
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            if shape.problem:
                item.setForeground(QBrush(QColor(PROBLEM_COLOR)))
        elif field is not None:
            value = with_defaults(layer).get(field.key, field.default)
            item.setData(Qt.ItemDataRole.UserRole, value)
            item.setText(size_text(layer) if column == SIZE else str(value))
            item.setToolTip(f"Leaky ReLU with slope {layer.get('slope', DEFAULT_SLOPE):g} for z < 0 (select the layer to change it)"
                            if value == "leaky_relu" else f"{settings_text(layer)}. Double-click to change the {field.label.lower()}")
        else:
            item.setText("—")
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            item.setForeground(QBrush(QColor("#9aa1ab")))
            item.setToolTip(f"{settings_text(layer)}: a {kind_of(layer).title} layer has no {HEADERS[column].lower()}")
        return item

    def _fill_head(self) -> None:
        if self._dataset is None:
            return
        head, suggested_loss = suggested_head(self._dataset.task, self._dataset.n_outputs)
        activation = self._output_activation or head["activation"]
        self.output_label.setText(f"{head['units']} (from the data: {self._describe_outputs()})")
        self._fill_choices(self.output_activation, ACTIVATIONS, head["activation"], activation, str)
        self._fill_choices(self.output_initializer, INITIALIZERS, head["initializer"],
                           self._output_initializer or head["initializer"], str)
        self._fill_choices(self.loss_combo, LOSSES, suggested_loss, self._loss or suggested_loss, LOSS_TITLES.get)
        self._explain_head(head, activation)
        self.metric_label.setText("R² (coefficient of determination)" if self._dataset.task == "regression" else "accuracy")

    def _describe_outputs(self) -> str:
        data = self._dataset
        if data.task == "binary":
            return "two classes → one probability"
        if data.task == "multiclass":
            return f"{len(data.class_names)} classes → one probability each"
        return f"{data.n_outputs} target{'s' if data.n_outputs > 1 else ''}"

    @staticmethod
    def _fill_choices(combo: QComboBox, values: tuple[str, ...], suggested: str, current: str, title) -> None:
        combo.blockSignals(True)
        combo.clear()
        for value in values:
            combo.addItem(title(value) + (" (suggested)" if value == suggested else ""), value)
        combo.setCurrentIndex(combo.findData(current))
        combo.blockSignals(False)

    def _on_head_changed(self) -> None:
        head, suggested_loss = suggested_head(self._dataset.task, self._dataset.n_outputs)
        activation, loss = self.output_activation.currentData(), self.loss_combo.currentData()
        initializer = self.output_initializer.currentData()
        self._output_activation = None if activation == head["activation"] else activation
        self._output_initializer = None if initializer == head["initializer"] else initializer
        self._loss = None if loss == suggested_loss else loss
        self._explain_head(head, activation)
        self.architectureChanged.emit()

    def _explain_head(self, head: dict, activation: str) -> None:
        """Beside the activation box: why a softmax over one output unit cannot learn (it
        always gives 1), with a button for the task's own activation."""
        stuck = activation == "softmax" and head["units"] == 1
        self.head_note.setVisible(stuck)
        self.head_fix.setVisible(stuck)
        if stuck:
            suggested = head["activation"]
            self.head_note.setText(f"Softmax over one unit is always 1 (e^z / e^z), so this network cannot learn: "
                                   f"the loss stays where it starts. {HEAD_HINTS.get(suggested, '')}")
            self.head_fix.setText(f"Use {suggested}")
            describe(self.head_fix, f"Use {suggested}", f"Set the output activation to {suggested}, the one this task suggests")

    def _use_suggested_activation(self) -> None:
        """The one-click fix: the task's suggested output activation."""
        self._output_activation = None
        self._fill_head()
        self.architectureChanged.emit()

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        row, column = item.row(), item.column()
        field = column_field(self._hidden[row], column)
        if column == TYPE or field is not None:
            self._change(row, "type" if column == TYPE else field.key, item.data(Qt.ItemDataRole.UserRole))

    def _on_setting_edited(self, key: str, value: object) -> None:
        row = self._selected()
        if 0 <= row < len(self._hidden):
            self._change(row, key, value)

    def _change(self, row: int, key: str, value: object) -> None:
        """Set ``key`` of hidden layer ``row`` (a new kind starts from its defaults) and say so when it changed."""
        layer = edited(self._hidden[row], key, value, self._dataset.meta if self._dataset is not None else None)
        if layer == self._hidden[row]:
            return
        self._hidden[row] = layer
        self._fill_table(row)
        self.architectureChanged.emit()

    def _selected(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def _insert(self, index: int, layer: dict) -> None:
        self._hidden.insert(index, layer)
        self._fill_table(index)
        self.architectureChanged.emit()

    def _add(self) -> None:
        row = self._selected()
        dense = [layer for layer in self._hidden if layer["type"] == "dense"]
        layer = copy.deepcopy(NEW_DENSE)
        if dense:  # the activation of the last dense layer, and its slope
            layer.update({key: dense[-1][key] for key in ("activation", "slope") if key in dense[-1]})
        self._insert(row + 1 if row >= 0 else len(self._hidden), layer)

    def _duplicate(self) -> None:
        row = self._selected()
        if row >= 0:
            self._insert(row + 1, copy.deepcopy(self._hidden[row]))

    def _remove(self) -> None:
        row = self._selected()
        if row < 0 and self._hidden:
            row = len(self._hidden) - 1
        if row >= 0:
            del self._hidden[row]
            self._fill_table(min(row, len(self._hidden) - 1))
            self.architectureChanged.emit()

    def _move(self, offset: int) -> None:
        row = self._selected()
        target = row + offset
        if row >= 0 and 0 <= target < len(self._hidden):
            self._hidden[row], self._hidden[target] = self._hidden[target], self._hidden[row]
            self._fill_table(target)
            self.architectureChanged.emit()

    def _show_settings(self) -> None:
        """The settings box, for the selected layer (hidden while none is selected)."""
        row = self._selected()
        self.settings.setVisible(0 <= row < len(self._hidden))
        if 0 <= row < len(self._hidden):
            self.settings.show_layer(row, self._hidden[row], self.kinds_for(row))

    def _update_buttons(self) -> None:
        row = self._selected()
        self.duplicate_button.setEnabled(row >= 0)
        self.remove_button.setEnabled(bool(self._hidden))
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < len(self._hidden) - 1)

    def _mark_row(self, row: int | None) -> None:
        """Tint the table row of the layer a problem names (None: clear)."""
        self.table.blockSignals(True)
        for r in range(self.table.rowCount()):
            for c in range(self.table.columnCount()):
                item = self.table.item(r, c)
                if item is not None:
                    item.setBackground(QBrush(QColor("#fdecea")) if r == row else QBrush())
        self.table.blockSignals(False)
