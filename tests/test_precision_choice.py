"""The Training tab's precision choice (float32 or float64) and the Network tab's output-layer
initializer, chosen like the hidden layers' (issue 11)."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import choose, shown

from app.layer_builder import LayerBuilder, architecture_of, architecture_spec
from app.training_controls import TrainingSettings
from core.initializers import INITIALIZERS
from core.network import Network
from core.synthetic import synthetic
from core.trainer import TrainingConfig

HIDDEN = [{"type": "dense", "units": 3, "activation": "tanh", "initializer": "he_normal"}]


@pytest.fixture
def builder(qtbot):
    builder = shown(qtbot, LayerBuilder())
    builder.set_dataset(synthetic("xor"))
    builder.set_architecture(HIDDEN, None, None)
    return builder


def output_weights(spec: dict) -> np.ndarray:
    """The output layer's initial W (units, fan_in) of a network built from ``spec``."""
    return np.asarray(Network(spec, seed=3).layers[-1].params["W"])


def test_the_output_initializer_offers_the_hidden_layers_choices_and_suggests_the_specs_default(builder):
    combo = builder.output_initializer
    assert [combo.itemData(i) for i in range(combo.count())] == list(INITIALIZERS)
    assert combo.currentData() == "glorot_uniform" and combo.currentText() == "glorot_uniform (suggested)"
    assert builder.architecture()[3] is None
    assert builder.spec()["layers"][-1]["initializer"] == "glorot_uniform"


def test_choosing_zeros_gives_an_all_zero_output_layer_and_the_suggestion_drops_the_override(qtbot, builder):
    with qtbot.waitSignal(builder.architectureChanged):
        choose(builder.output_initializer, "zeros")
    assert builder.architecture()[3] == "zeros"
    spec = builder.spec()
    assert spec["layers"][-1] == {"type": "dense", "units": 1, "activation": "sigmoid", "initializer": "zeros"}
    assert spec["layers"][0] == HIDDEN[0]  # the hidden layer keeps its own initializer
    assert output_weights(spec).shape == (1, 3) and not output_weights(spec).any()
    with qtbot.waitSignal(builder.architectureChanged):
        choose(builder.output_initializer, "glorot_uniform")
    assert builder.architecture()[3] is None
    assert output_weights(builder.spec()).any()


def test_an_experiments_output_initializer_is_read_shown_and_written_back(builder):
    data = synthetic("xor")
    spec = {"input_shape": [2], "layers": [*HIDDEN, {"type": "dense", "units": 1, "activation": "sigmoid", "initializer": "small_random"}]}
    architecture = architecture_of(spec, data, None)
    assert architecture == (HIDDEN, None, None, "small_random")
    builder.set_architecture(*architecture)
    assert builder.output_initializer.currentData() == "small_random"
    assert builder.spec() == spec == architecture_spec(data, architecture)
    without_key = {"input_shape": [2], "layers": [*HIDDEN, {"type": "dense", "units": 1, "activation": "sigmoid"}]}
    assert architecture_of(without_key, data, None)[3] is None  # the Dense default is the task's suggestion


def test_new_data_of_another_task_keeps_the_output_initializer(qtbot, builder):
    choose(builder.output_initializer, "he_normal")
    choose(builder.output_activation, "tanh")
    blobs = synthetic("blobs")
    assert builder.architecture_for(blobs) == (HIDDEN, None, None, "he_normal")
    builder.set_dataset(blobs)
    assert builder.output_initializer.currentData() == "he_normal" and builder.output_activation.currentData() == "softmax"
    assert builder.spec()["layers"][-1]["initializer"] == "he_normal"


@pytest.fixture
def settings(qtbot):
    return shown(qtbot, TrainingSettings())


def test_the_precision_choice_is_float32_by_default_and_reports_float64_when_chosen(qtbot, settings):
    combo = settings.precision
    assert settings.dtype_name() == "float32" and combo.currentText() == "float32 (fast)"
    assert [combo.itemData(i) for i in range(combo.count())] == ["float32", "float64"]
    assert combo.accessibleName() == "Precision" and "float64" in combo.toolTip()
    with qtbot.waitSignal(settings.settingsChanged):
        choose(combo, "float64")
    assert settings.dtype_name() == "float64"


def test_set_config_shows_the_precision_without_emitting(qtbot, settings):
    with qtbot.assertNotEmitted(settings.settingsChanged):
        settings.set_config(TrainingConfig(), "numpy", "float64")
    assert settings.dtype_name() == "float64" and settings.precision.currentText().startswith("float64 (exact")
    settings.set_config(TrainingConfig())
    assert settings.dtype_name() == "float32"
