"""The widgets that edit a hidden layer's settings, each made from its kind's fields
(app.layer_kinds): :func:`field_editor` makes the control of one field (the layer table's
cell editors use it too), and :class:`LayerSettings` is the box under the layer table that
shows every setting of the selected layer, its kind first.

The editors only show and report: :class:`LayerSettings` emits ``edited(key, value)`` (value
as the spec keeps it, None to leave an optional field out) and the builder changes its layers.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from .accessibility import describe
from .layer_kinds import KINDS, WEIGHTED, Field, applies, as_pair, kind_of, pair_value, with_defaults
from .widgets import LogSpinBox, shrinking

KIND_TIP = ("What the layer does; a new kind starts from its own defaults, keeping the settings it shares with the old "
            "kind (SimpleRNN, LSTM and GRU: units and return sequences)")


def _name(field: Field, part: str) -> str:
    """The object name of a field's control, e.g. layerSlopeSpin, layerKernelRowsSpin."""
    return f"layer{field.key[0].upper()}{field.key[1:]}{part}"


class PairEditor(QWidget):
    """Rows × columns (a kernel, a stride): two number boxes; ``valueChanged`` gives (rows, columns)."""

    valueChanged = Signal(object)

    def __init__(self, field: Field, parent: QWidget | None = None):
        super().__init__(parent)
        self.rows, self.columns = QSpinBox(), QSpinBox()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for spin, part, noun in ((self.rows, "Rows", "rows (height)"), (self.columns, "Columns", "columns (width)")):
            spin.setObjectName(_name(field, f"{part}Spin"))
            spin.setKeyboardTracking(False)
            describe(spin, f"{field.label} {noun}", f"{field.tip}: its {noun}")
            spin.valueChanged.connect(lambda _value: self.valueChanged.emit(self.value()))
        layout.addWidget(self.rows)
        layout.addWidget(QLabel("×"))
        layout.addWidget(self.columns)
        layout.addStretch(1)

    def setRange(self, minimum: int, maximum: int) -> None:
        for spin in (self.rows, self.columns):
            spin.setRange(minimum, maximum)

    def value(self) -> tuple[int, int]:
        return self.rows.value(), self.columns.value()

    def setValue(self, value: tuple[int, int]) -> None:
        self.blockSignals(True)
        self.rows.setValue(value[0])
        self.columns.setValue(value[1])
        self.blockSignals(False)


def field_editor(field: Field, parent: QWidget | None = None) -> QWidget:
    """The control for ``field``: a list of its choices, a number box in its range, a check
    box, or a rows × columns pair; named, described, and set to the field's range or choices (:func:`configure`)."""
    if field.editor == "choice":
        editor = QComboBox(parent)
        editor.setObjectName(_name(field, "Combo"))
        shrinking(editor)
    elif field.editor == "bool":
        editor = QCheckBox(parent)
        editor.setObjectName(_name(field, "Check"))
    elif field.editor == "pair":
        editor = PairEditor(field, parent)
        editor.setObjectName(_name(field, "Pair"))
    else:
        editor = (QSpinBox(parent) if field.editor == "int" else QDoubleSpinBox(parent) if field.editor == "float"
                  else LogSpinBox(field.minimum, field.maximum, float(field.default), parent=parent))
        editor.setKeyboardTracking(False)  # one change when the typing is done, not one per key
        editor.setObjectName(_name(field, "Spin"))
    if field.editor != "pair":
        describe(editor, field.label, field.tip)
    configure(editor, field)
    return editor


def configure(editor: QWidget, field: Field) -> None:
    """Give ``editor`` the range of ``field`` (an optional field's lowest value says what leaving it out means) or its
    choices, and its tooltip, without emitting."""
    editor.blockSignals(True)
    if field.editor != "pair":
        editor.setToolTip(field.tip)
    if isinstance(editor, QComboBox):
        if [editor.itemData(i) for i in range(editor.count())] != list(field.choices):
            editor.clear()
            for value in field.choices:
                editor.addItem(value, value)
    elif isinstance(editor, LogSpinBox):
        editor.setRange(field.minimum, field.maximum)
    elif isinstance(editor, QDoubleSpinBox):
        editor.setDecimals(field.decimals)
        editor.setSingleStep(field.step)
        editor.setRange(field.minimum, field.maximum)
    elif isinstance(editor, (QSpinBox, PairEditor)):
        editor.setRange(int(field.minimum) - (1 if field.optional else 0), int(field.maximum))
    if isinstance(editor, QSpinBox):
        editor.setSpecialValueText(field.optional)
    editor.blockSignals(False)


def set_editor_value(editor: QWidget, field: Field, value: object) -> None:
    """Show a spec's ``value`` of ``field`` without emitting (None: left out of the spec, which for a field that is
    not optional means its default)."""
    if value is None and not field.optional:
        value = field.default
    editor.blockSignals(True)
    if isinstance(editor, QComboBox):
        editor.setCurrentIndex(max(0, editor.findData(value)))
    elif isinstance(editor, QCheckBox):
        editor.setChecked(bool(value))
    elif isinstance(editor, PairEditor):
        editor.setValue(as_pair(value))
    elif value is None:
        editor.setValue(editor.minimum())
    else:
        editor.setValue(value)
    editor.blockSignals(False)


def editor_value(editor: QWidget, field: Field) -> object:
    """The value ``editor`` holds, as the spec keeps it (None: an optional field left out)."""
    if isinstance(editor, QComboBox):
        return editor.currentData()
    if isinstance(editor, QCheckBox):
        return editor.isChecked()
    if isinstance(editor, PairEditor):
        return pair_value(editor.value())
    if isinstance(editor, QSpinBox):
        return None if field.optional and editor.value() == editor.minimum() else int(editor.value())
    return float(editor.value())


class LayerSettings(QGroupBox):
    """Every setting of one hidden layer: its kind, then the fields of that kind (a slope
    only while the activation is leaky_relu). One control per field key and editor across
    the kinds, shown while the layer's kind has that field (a list of choices gets that kind's)."""

    edited = Signal(str, object)  # key, value (None: leave an optional field out); key "type" for a new kind

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("layerSettings")
        self._layer: dict = {}
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("layerKindCombo")
        shrinking(self.kind_combo)
        describe(self.kind_combo, "Layer kind", KIND_TIP)
        self.kind_combo.activated.connect(lambda _index: self.edited.emit("type", self.kind_combo.currentData()))
        self.form = QFormLayout(self)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a narrow panel: a field under its label, not cut
        self.form.addRow("Kind", self.kind_combo)
        self.editors: dict[tuple[str, str], QWidget] = {}
        self.labels: dict[tuple[str, str], QLabel] = {}
        fields = [field for kind in KINDS.values() for field in kind.fields]
        weighted = {f.key for f in WEIGHTED}
        for field in sorted(fields, key=lambda f: f.key in weighted):  # each kind's size settings first, then activation and initializer
            slot = (field.key, field.editor)
            if slot in self.editors:
                continue
            editor = field_editor(field)
            self.editors[slot] = editor
            self._connect(editor, slot)
            if isinstance(editor, QCheckBox):  # named by its own text, across the form: no label column as wide as "Return sequences"
                editor.setText(field.label)
                self.form.addRow(editor)
                continue
            label = QLabel(field.label)
            label.setObjectName(_name(field, "Label"))
            label.setBuddy(editor)
            self.labels[slot] = label
            self.form.addRow(label, editor)

    def _connect(self, editor: QWidget, slot: tuple[str, str]) -> None:
        def report(*_args) -> None:
            field = kind_of(self._layer).field(slot[0])
            if field is not None:
                self.edited.emit(field.key, editor_value(editor, field))

        signal = (editor.activated if isinstance(editor, QComboBox) else editor.toggled if isinstance(editor, QCheckBox)
                  else editor.valueChanged)
        signal.connect(report)

    def editor(self, key: str) -> QWidget:
        """The control of field ``key`` (the first one, for a key with controls of two kinds)."""
        return next(editor for (k, _), editor in self.editors.items() if k == key)

    def label(self, key: str) -> QLabel:
        return next(label for (k, _), label in self.labels.items() if k == key)

    def show_layer(self, index: int, layer: dict, offered: list[str]) -> None:
        """Show hidden layer ``index`` (from 0): ``offered`` kinds to choose from (its own kind
        too, even where the data does not take it), and the controls of its kind's fields."""
        self._layer = layer
        kind = kind_of(layer)
        values = with_defaults(layer)
        self.setTitle(f"Layer {index + 1}: {kind.title}")
        self.kind_combo.blockSignals(True)
        self.kind_combo.clear()
        for key in offered if kind.key in offered else [*offered, kind.key]:
            self.kind_combo.addItem(kind_of({"type": key}).title, key)
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind.key))
        self.kind_combo.setToolTip(f"{kind.tip}. {KIND_TIP}")
        self.kind_combo.blockSignals(False)
        for slot, editor in self.editors.items():
            field = kind.field(slot[0])
            shown = field is not None and field.editor == slot[1] and applies(field, layer)
            self.form.setRowVisible(editor, shown)
            if shown:
                configure(editor, field)
                set_editor_value(editor, field, values.get(field.key))
