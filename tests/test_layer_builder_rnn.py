"""The layer builder builds recurrent networks: SimpleRNN, LSTM, GRU and Embedding with their
own settings, offered only for sequence and token data, their specs the ones the ``--layers``
syntax gives, and a layer the engine refuses (a Dense after a return-sequences LSTM, an
Embedding not first) explained next to it."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import choose, click, kind_items, shown, visible_fields
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QSpinBox, QStyleOptionViewItem

from app.accessibility import undescribed_controls
from app.layer_builder import ACTIVATION, INITIALIZER, OUTPUT, SIZE, TYPE, LayerBuilder, architecture_of
from app.layer_kinds import edited, new_layer, offered_kinds
from core.data import Dataset
from core.experiment import parse_layers
from core.network import Network
from core.recurrent import RNN_ACTIVATIONS
from core.sequences import adding_problem
from core.synthetic import synthetic
from core.trainer import ConfigError

RECURRENT = ["rnn", "lstm", "gru"]
SEQUENCE_KINDS = ["dense", "dropout", *RECURRENT]


def tokens(steps: int = 12, vocabulary: int = 65) -> Dataset:
    """Next-token classification on random ids (m, steps) of a ``vocabulary``, as the data helper's token data is."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, vocabulary, (60, steps)).astype(np.float64)
    return Dataset("tokens", X, rng.integers(0, vocabulary, 60), "multiclass", tuple(f"t{t + 1}" for t in range(steps)),
                   class_names=tuple(f"c{k}" for k in range(vocabulary)), meta={"tokens": vocabulary}, sample_shape=(steps,))


@pytest.fixture(scope="module")
def adding() -> Dataset:
    return adding_problem(samples=64, steps=30)


@pytest.fixture
def builder(qtbot):
    return shown(qtbot, LayerBuilder())


def add_layer(qtbot, builder: LayerBuilder, kind: str) -> None:
    """Add a layer after the selected one and make it a ``kind``, as a user does."""
    with qtbot.waitSignal(builder.architectureChanged):
        click(qtbot, builder.add_button)
    if kind != "dense":
        with qtbot.waitSignal(builder.architectureChanged):
            choose(builder.settings.kind_combo, kind)


def cell_editor(builder: LayerBuilder, row: int, col: int) -> QComboBox:
    """The editor the layer table opens on a cell (its delegate's)."""
    table = builder.table
    editor = table.itemDelegate().createEditor(table.viewport(), QStyleOptionViewItem(), table.model().index(row, col))
    assert isinstance(editor, QComboBox)
    editor.deleteLater()
    return editor


def column(builder: LayerBuilder, col: int) -> list[str]:
    return [builder.table.item(r, col).text() for r in range(builder.table.rowCount())]


def test_the_recurrent_kinds_start_from_sensible_defaults_and_keep_the_spec_minimal():
    assert new_layer("lstm") == {"type": "lstm", "units": 32} == parse_layers("lstm:32")[0]
    assert new_layer("gru") == {"type": "gru", "units": 32}
    assert new_layer("rnn") == {"type": "rnn", "units": 32, "activation": "tanh"} == parse_layers("rnn:32:tanh")[0]
    assert new_layer("embedding") == {"type": "embedding", "vocabulary": 50, "dimension": 16}
    assert new_layer("embedding", {"tokens": 65})["vocabulary"] == 65  # the data's vocabulary
    assert new_layer("embedding", {"tokens": "65"})["vocabulary"] == 50  # not a whole number: the default
    lstm = edited(new_layer("lstm"), "return_sequences", True)
    assert lstm == parse_layers("lstm:32:seq")[0] and edited(lstm, "return_sequences", False) == new_layer("lstm")
    rnn = edited(new_layer("rnn"), "initializer", "he_normal")
    assert rnn["initializer"] == "he_normal" and "initializer" not in edited(rnn, "initializer", "glorot_uniform")
    assert edited(new_layer("dense"), "type", "embedding", {"tokens": 7}) == {"type": "embedding", "vocabulary": 7, "dimension": 16}


def test_a_new_recurrent_kind_keeps_the_units_and_return_sequences():
    rnn = {"type": "rnn", "units": 16, "activation": "relu", "initializer": "he_normal", "return_sequences": True}
    assert edited(rnn, "type", "lstm") == {"type": "lstm", "units": 16, "return_sequences": True}
    assert edited(edited(rnn, "type", "gru"), "type", "rnn") == {"type": "rnn", "units": 16, "activation": "tanh",
                                                                  "return_sequences": True}
    assert edited({"type": "dense", "units": 8, "activation": "relu"}, "type", "lstm") == new_layer("lstm")  # not a dense's units
    dense = {"type": "dense", "units": 8, "activation": "leaky_relu", "slope": 0.05, "initializer": "he_normal"}
    assert edited(dense, "type", "conv2d") == {**new_layer("conv2d"), "initializer": "he_normal"}  # relu: no slope


def test_the_kinds_offered_follow_the_data():
    assert offered_kinds((30, 2)) == SEQUENCE_KINDS  # sequences: no images, no batchnorm, no embedding
    assert offered_kinds((12,), tokens=True) == ["dense", "dropout", "embedding", *RECURRENT]
    assert offered_kinds((2,)) == ["dense", "dropout", "batchnorm"]
    assert offered_kinds((8, 8, 1)) == ["dense", "dropout", "conv2d", "maxpool2d", "avgpool2d", "flatten", "batchnorm"]


def test_sequence_and_token_data_offer_their_kinds_in_the_box_and_the_table(builder, adding):
    for data, offered in ((adding, SEQUENCE_KINDS), (tokens(), ["dense", "dropout", "embedding", *RECURRENT]),
                          (synthetic("xor"), ["dense", "dropout", "batchnorm"])):
        builder.set_dataset(data)
        builder.set_architecture([{"type": "dense", "units": 4, "activation": "tanh"}], None, None)
        assert kind_items(builder.settings.kind_combo) == offered, data.name
        assert kind_items(cell_editor(builder, 0, TYPE)) == offered  # the table's own list of kinds


def test_an_lstm_stack_built_with_the_widgets_is_the_layers_syntax_spec(qtbot, builder, adding):
    builder.set_dataset(adding)
    builder.set_architecture([], None, None)
    assert builder.input_label.text() == "Input: sequences of 30 steps × 2 features, flattened: 60 values, no recurrent layer"
    add_layer(qtbot, builder, "lstm")
    assert visible_fields(builder) == {"units", "return_sequences"} and builder.settings.title() == "Layer 1: LSTM"
    check = builder.settings.findChild(QCheckBox, "layerReturn_sequencesCheck")
    assert check is not None and not check.isChecked() and "h_t" in check.toolTip() and "h_T" in check.toolTip()
    with qtbot.waitSignal(builder.architectureChanged):
        check.click()
    add_layer(qtbot, builder, "lstm")
    with qtbot.waitSignal(builder.architectureChanged):
        builder.settings.findChild(QSpinBox, "layerUnitsSpin").setValue(16)
    assert not check.isChecked()  # the second LSTM's own setting
    spec = builder.spec()
    assert spec["layers"][:-1] == parse_layers("lstm:32:seq,lstm:16")
    assert spec["input_shape"] == [30, 2] and builder.input_label.text().endswith("as sequences")
    assert column(builder, OUTPUT) == ["30×32", "16"] and column(builder, SIZE) == ["32", "16"]
    assert column(builder, ACTIVATION) == ["—", "—"] and column(builder, INITIALIZER) == ["—", "—"]
    assert "return sequences yes" in builder.table.item(0, TYPE).toolTip()
    assert builder.layer_problem.isHidden()
    builder.table.item(1, SIZE).setData(Qt.ItemDataRole.UserRole, 24)  # the table's Size cell edits the units
    assert builder.spec()["layers"][1] == {"type": "lstm", "units": 24}
    network = Network(builder.spec())
    builder.show_network(network)
    assert [builder.summary.item(r, 1).text() for r in range(builder.summary.rowCount())] == [
        "(None, 30, 2)", "(None, 30, 32)", "(None, 24)", "(None, 1)"]
    builder.table.selectRow(0)
    assert check.isChecked() and undescribed_controls(builder) == []


def test_a_simple_rnn_offers_every_activation_but_softmax(qtbot, builder, adding):
    builder.set_dataset(adding)
    builder.set_architecture([{"type": "dense", "units": 4, "activation": "tanh"}], None, None)
    builder.table.selectRow(0)
    with qtbot.waitSignal(builder.architectureChanged):
        choose(builder.settings.kind_combo, "rnn")
    activation = builder.settings.editor("activation")
    assert visible_fields(builder) == {"units", "return_sequences", "activation", "initializer"}
    assert kind_items(activation) == list(RNN_ACTIVATIONS) and "softmax" not in kind_items(activation)
    assert activation.currentData() == "tanh"
    with qtbot.waitSignal(builder.architectureChanged):
        choose(activation, "relu")
    with qtbot.waitSignal(builder.architectureChanged):
        builder.settings.findChild(QSpinBox, "layerUnitsSpin").setValue(8)
    assert builder.architecture()[0] == parse_layers("rnn:8:relu")
    assert column(builder, ACTIVATION) == ["relu"] and column(builder, OUTPUT) == ["8"]
    assert kind_items(cell_editor(builder, 0, ACTIVATION)) == list(RNN_ACTIVATIONS)  # the table's own list: the same
    with qtbot.waitSignal(builder.architectureChanged):
        choose(builder.settings.kind_combo, "lstm")
    assert builder.architecture()[0] == parse_layers("lstm:8")  # the units kept
    assert visible_fields(builder) == {"units", "return_sequences"}
    with qtbot.waitSignal(builder.architectureChanged):
        choose(builder.settings.kind_combo, "dense")
    assert "softmax" in kind_items(builder.settings.editor("activation"))  # a dense layer's list again


def test_an_embedding_takes_the_datas_vocabulary(qtbot, builder):
    builder.set_dataset(tokens(steps=12, vocabulary=65))
    builder.set_architecture([], None, None)
    assert builder.input_label.text() == "Input: 12 token ids per sample (vocabulary 65)"
    add_layer(qtbot, builder, "embedding")
    assert visible_fields(builder) == {"vocabulary", "dimension"}
    assert builder.settings.editor("vocabulary").value() == 65 and builder.settings.editor("dimension").value() == 16
    add_layer(qtbot, builder, "gru")
    spec = builder.spec()
    assert spec["input_shape"] == [12] and spec["layers"][:-1] == parse_layers("embedding:65:16,gru:32")
    assert column(builder, SIZE) == ["65 → 16", "32"] and column(builder, OUTPUT) == ["12×16", "32"]
    assert Network(spec).layers[0].params["W"].shape == (65, 16)


def test_a_dense_layer_after_a_return_sequences_lstm_is_marked_with_the_engines_message(qtbot, builder, adding):
    builder.set_dataset(adding)
    builder.set_architecture([{"type": "lstm", "units": 8}, {"type": "dense", "units": 4, "activation": "tanh"}], None, None)
    assert builder.layer_problem.isHidden()
    builder.table.selectRow(0)
    with qtbot.waitSignal(builder.architectureChanged):
        builder.settings.findChild(QCheckBox, "layerReturn_sequencesCheck").click()
    text = builder.layer_problem.text()
    assert text.startswith("<b>Layer 2 (Dense):</b> ") and "set return_sequences to false" in text
    assert column(builder, OUTPUT) == ["30×8", "⚠"] and "return_sequences" in builder.table.item(1, OUTPUT).toolTip()
    with pytest.raises(Exception, match=r"layer 2 \(dense\).*return_sequences"):
        Network(builder.spec())
    builder.set_architecture([{"type": "lstm", "units": 8, "return_sequences": True}], None, None)  # the head right after it
    assert builder.layer_problem.text().startswith("<b>Output layer (Dense):</b> ")


def test_an_embedding_that_is_not_first_is_marked(builder):
    builder.set_dataset(tokens())
    builder.set_architecture([{"type": "dense", "units": 12, "activation": "relu"},
                              {"type": "embedding", "vocabulary": 65, "dimension": 8}, {"type": "lstm", "units": 4}], None, None)
    assert builder.layer_problem.text().startswith("<b>Layer 2 (Embedding):</b> ") and "first layer" in builder.layer_problem.text()
    assert column(builder, OUTPUT) == ["12", "⚠", "?"]
    assert builder.table.item(1, TYPE).background().color().name() == "#fdecea"  # its row tinted
    builder.set_architecture([{"type": "embedding", "vocabulary": 65, "dimension": 8}, {"type": "lstm", "units": 4}], None, None)
    assert builder.layer_problem.isHidden() and column(builder, OUTPUT) == ["12×8", "4"]


def test_an_lstm_spec_loads_into_the_builder_and_back(builder, adding):
    spec = {"input_shape": [30, 2], "layers": [{"type": "rnn", "units": 6, "activation": "relu", "initializer": "he_normal",
                                                "return_sequences": True}, {"type": "gru", "units": 4},
                                               {"type": "dense", "units": 1, "activation": "linear", "initializer": "glorot_uniform"}]}
    builder.set_dataset(adding)
    builder.set_architecture(*architecture_of(spec, adding, None))
    assert builder.spec() == spec and column(builder, OUTPUT) == ["30×6", "4"] and column(builder, INITIALIZER)[0] == "he_normal"
    with pytest.raises(ConfigError, match=r"the network takes \[60\] inputs but the data has sequences of 30 steps × 2 features, "
                                          r"which these layers take as \[30, 2\]"):
        architecture_of({**spec, "input_shape": [60]}, adding, None)


def test_the_table_hides_its_initializer_column_for_good_in_a_narrow_panel(qtbot, builder):
    builder.set_dataset(tokens())
    builder.set_architecture([{"type": "embedding", "vocabulary": 65, "dimension": 16}, {"type": "lstm", "units": 64,
                              "return_sequences": True}, {"type": "gru", "units": 64}], None, None)
    table = builder.table
    widths = {c: max(table.sizeHintForColumn(c), table.horizontalHeader().sectionSizeHint(c)) for c in range(table.columnCount())}
    builder.resize(builder.width() - table.viewport().width() + sum(widths.values()) - widths[INITIALIZER] // 2, 700)
    qtbot.waitUntil(lambda: table.viewport().width() < sum(widths.values()))
    for _ in range(3):  # the same answer every time it is asked (a hidden column's size hint is not its width)
        table.fit_columns()
        assert table.isColumnHidden(INITIALIZER) and not table.isColumnHidden(ACTIVATION)
    assert table.horizontalHeader().length() <= table.viewport().width()

