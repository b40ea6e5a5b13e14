"""The Network tab's builder: a head that cannot learn is explained where it is chosen, with a fix."""

from __future__ import annotations

import pytest
from gui_helpers import shown
from PySide6.QtCore import Qt

from app.layer_builder import ACTIVATION, LayerBuilder, architecture_of
from core.layers import SpecError
from core.network import Network
from core.synthetic import synthetic


def dense(units: int, activation: str) -> dict:
    return {"type": "dense", "units": units, "activation": activation}


def test_a_one_unit_softmax_is_refused_with_the_reason():
    with pytest.raises(SpecError, match=r"layer 2 \(dense\): softmax over one unit always outputs 1.*sigmoid"):
        Network({"input_shape": [2], "layers": [dense(4, "tanh"), dense(1, "softmax")]})
    Network({"input_shape": [2], "layers": [dense(4, "tanh"), dense(2, "softmax")]})  # two units are fine


def choose(builder: LayerBuilder, activation: str) -> None:
    """Pick ``activation`` for the output layer as a user would."""
    combo = builder.output_activation
    combo.setCurrentIndex(combo.findData(activation))
    combo.activated.emit(combo.currentIndex())


@pytest.fixture
def builder(qtbot):
    return shown(qtbot, LayerBuilder())


def test_one_softmax_unit_on_two_classes_is_explained_and_fixed_in_one_click(qtbot, builder):
    builder.set_dataset(synthetic("xor"))
    assert not builder.head_note.isVisible()
    with qtbot.waitSignal(builder.architectureChanged):
        choose(builder, "softmax")
    assert builder.head_note.isVisible()
    assert "always 1" in builder.head_note.text() and "sigmoid" in builder.head_note.text()
    assert builder.head_fix.isVisible() and builder.head_fix.text() == "Use sigmoid"
    with qtbot.waitSignal(builder.architectureChanged):
        builder.head_fix.click()
    assert builder.spec()["layers"][-1]["activation"] == "sigmoid" and builder.architecture()[1] is None
    assert builder.output_activation.currentData() == "sigmoid"
    assert not builder.head_note.isVisible() and not builder.head_fix.isVisible()


def test_softmax_over_several_classes_needs_no_note(builder):
    builder.set_dataset(synthetic("blobs"))
    assert builder.output_activation.currentData() == "softmax" and not builder.head_note.isVisible()


def test_one_softmax_unit_on_a_regression_suggests_its_own_head(builder):
    builder.set_dataset(synthetic("sine"))
    choose(builder, "softmax")
    assert builder.head_note.isVisible() and builder.head_fix.text() == "Use linear"


def set_cell(builder: LayerBuilder, row: int, column: int, value) -> None:
    """Commit ``value`` to a cell of the layer table, as its editor does."""
    builder.table.item(row, column).setData(Qt.ItemDataRole.UserRole, value)


def test_choosing_leaky_relu_shows_its_slope_whose_change_reaches_the_spec(qtbot, builder):
    builder.set_dataset(synthetic("xor"))
    builder.set_architecture([dense(8, "tanh"), {"type": "dropout", "rate": 0.2}], None, None)
    assert builder.slope_spin.isHidden()
    with qtbot.waitSignal(builder.architectureChanged):
        set_cell(builder, 0, ACTIVATION, "leaky_relu")
    assert builder.slope_spin.isVisible() and builder.slope_spin.value() == 0.01
    assert builder.settings.title() == "Layer 1: Dense" and builder.slope_label.text() == "Leaky ReLU slope"
    assert builder.spec()["layers"][0] == {**dense(8, "leaky_relu"), "slope": 0.01}
    low, high = builder.slope_spin.minimum(), builder.slope_spin.maximum()
    assert 0 < low <= 0.01 and 0.99 <= high < 1 and builder.slope_spin.singleStep() == 0.01
    with qtbot.waitSignal(builder.architectureChanged):
        builder.slope_spin.setValue(0.2)
    assert builder.spec()["layers"][0]["slope"] == 0.2
    assert "0.2" in builder.table.item(0, ACTIVATION).toolTip()
    assert Network(builder.spec()).layers[0].slope == 0.2  # the network built from it has that slope
    builder.table.selectRow(1)  # a dropout layer: no slope
    assert builder.slope_spin.isHidden()
    builder.table.selectRow(0)
    assert builder.slope_spin.isVisible() and builder.slope_spin.value() == 0.2
    with qtbot.waitSignal(builder.architectureChanged):
        set_cell(builder, 0, ACTIVATION, "relu")
    assert "slope" not in builder.spec()["layers"][0] and builder.slope_spin.isHidden()


def test_a_spec_with_a_slope_loads_into_the_builder_and_back(builder):
    data = synthetic("xor")
    spec = {"input_shape": [2], "layers": [{**dense(6, "leaky_relu"), "slope": 0.05, "initializer": "he_normal"},
                                           {**dense(1, "sigmoid"), "initializer": "glorot_uniform"}]}
    builder.set_dataset(data)
    builder.set_architecture(*architecture_of(spec, data, None))
    assert builder.spec() == spec
    builder.table.selectRow(0)
    assert builder.slope_spin.isVisible() and builder.slope_spin.value() == 0.05
    builder._add()  # a new layer after it takes its activation and slope
    assert builder.spec()["layers"][1]["activation"] == "leaky_relu" and builder.spec()["layers"][1]["slope"] == 0.05
