"""The Network tab's builder: a head that cannot learn is explained where it is chosen, with a fix."""

from __future__ import annotations

import pytest
from gui_helpers import shown

from app.layer_builder import LayerBuilder
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
