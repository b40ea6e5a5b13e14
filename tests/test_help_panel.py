"""The concept help panel: it shows a concept with the plot of its function and derivative,
redraws for another, and knows which concept each real control of the setup panels is about."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import shown
from PySide6.QtWidgets import QApplication, QComboBox, QWidget

from app.accessibility import undescribed_controls
from app.help_panel import HelpPanel, concept_for_widget, help_key_for_focus, keep_groups_together, menu_entries
from app.layer_builder import ACTIVATION, INITIALIZER, SIZE, TYPE, LayerBuilder
from app.training_controls import TrainingSettings
from core.concepts import CONCEPTS, concept
from core.synthetic import synthetic


@pytest.fixture
def panel(qtbot):
    widget = shown(qtbot, HelpPanel())
    widget.resize(380, 600)
    return widget


def curve_data(curve) -> tuple[np.ndarray, np.ndarray]:
    x, y = curve.getData()
    return np.asarray(x), np.asarray(y)


def assert_plots(panel: HelpPanel, key: str) -> None:
    x, value = curve_data(panel.value_curve)
    x_slope, slope = curve_data(panel.slope_curve)
    expected_value, expected_slope = concept(key).curve(x)
    np.testing.assert_array_equal(x, x_slope)
    np.testing.assert_array_equal(value, expected_value)
    np.testing.assert_array_equal(slope, expected_slope)
    assert x[0] == concept(key).plot.low and x[-1] == concept(key).plot.high


def test_the_panel_shows_sigmoid_with_its_function_and_derivative(panel):
    panel.show_concept("sigmoid")
    assert "Sigmoid" in panel.title.text()
    assert "σ(z)" in panel.formula.text() and "e<sup>−z</sup>" in panel.formula.text()
    assert "Saturation" in panel.pitfalls.text() and panel.when.text() == concept("sigmoid").when_to_use
    assert panel.canvas.isVisible()
    assert_plots(panel, "sigmoid")
    assert [label.text for _, label in panel.legend.items] == ["σ(z)", "σ′(z)"]
    assert panel.chooser.currentData() == "sigmoid"


def test_switching_concepts_redraws_or_hides_the_plot(panel):
    panel.show_concept("sigmoid")
    _, sigmoid_values = curve_data(panel.value_curve)
    panel.show_concept("relu")
    assert_plots(panel, "relu")
    assert not np.array_equal(curve_data(panel.value_curve)[1], sigmoid_values)
    assert len(panel.legend.items) == 2
    panel.show_concept("adam")
    assert not panel.canvas.isVisible()
    assert "β<sub>1</sub>" in panel.formula.text()
    panel.show_concept("binary_crossentropy")
    assert panel.canvas.isVisible()
    assert_plots(panel, "binary_crossentropy")
    assert panel.plot_item.getAxis("bottom").labelText == "prediction a = ŷ"


def test_the_list_offers_every_concept_and_choosing_one_shows_it(panel):
    offered = [panel.chooser.itemData(i) for i in range(panel.chooser.count()) if panel.chooser.itemData(i)]
    assert sorted(offered) == sorted(CONCEPTS)
    panel.chooser.setCurrentIndex(panel.chooser.findData("tanh"))
    assert panel.key == "tanh" and "Tanh" in panel.title.text()
    assert_plots(panel, "tanh")
    assert undescribed_controls(panel) == []
    assert sum(len(entries) for _, entries in menu_entries()) == len(CONCEPTS)


def test_the_title_and_formula_follow_a_larger_font(panel):
    base = panel.font().pointSizeF()
    big = panel.font()
    big.setPointSizeF(base * 2)
    panel.setFont(big)
    assert panel.formula.font().pointSizeF() == pytest.approx(base * 2 * 1.2)
    assert panel.title.font().pointSizeF() > panel.formula.font().pointSizeF()


def test_a_bracketed_term_does_not_break_across_lines():
    assert keep_groups_together("σ(z)(1 − σ(z)) = a(1 − a)") == "σ(z)(1\u00a0−\u00a0σ(z)) = a(1\u00a0−\u00a0a)"
    long = "−(y log ŷ + (1 − y) log(1 − ŷ))"
    assert keep_groups_together(long) == "−(y log ŷ + (1\u00a0−\u00a0y) log(1\u00a0−\u00a0ŷ))"  # the outer group may break


@pytest.fixture
def settings(qtbot):
    return shown(qtbot, TrainingSettings())


def test_each_training_setting_control_names_its_concept(settings):
    expected = {settings.batch_size: "batch_size", settings.epochs: "epochs", settings.l1: "l1", settings.l2: "l2", settings.clip_norm: "clip_norm",
                settings.bptt_steps: "bptt_steps",
                settings.seed: "seed", settings.standardize: "standardize", settings.shuffle: "shuffle",
                settings.precision: "dtype", settings.momentum: "momentum", settings.rho: "rmsprop", settings.beta1: "adam"}
    for widget, key in expected.items():
        assert concept_for_widget(widget) == key, widget.objectName()
    assert concept_for_widget(settings.batch_size.lineEdit()) == "batch_size"  # the box's own text field
    assert concept_for_widget(settings.backend) is None  # no concept: F1 falls back to the shortcuts
    assert concept_for_widget(None) is None


def test_the_optimizer_combo_names_the_chosen_optimizer(settings):
    for name in ("sgd", "momentum", "rmsprop", "adam"):
        settings.optimizer.setCurrentIndex(settings.optimizer.findData(name))
        assert concept_for_widget(settings.optimizer) == name


def test_the_learning_rate_and_validation_boxes_name_their_concepts(qtbot):
    from app.actions import Actions
    from app.dataset_panel import DatasetPanel
    from app.run_controls import RunControls

    host = shown(qtbot, QWidget())
    run = RunControls(Actions(host), host)
    assert concept_for_widget(run.learning_rate) == "learning_rate"
    data = shown(qtbot, DatasetPanel())
    assert concept_for_widget(data.validation) == "val_fraction"


@pytest.fixture
def builder(qtbot):
    widget = shown(qtbot, LayerBuilder())
    widget.set_dataset(synthetic("xor"))
    widget.set_architecture([{"type": "dense", "units": 8, "activation": "relu", "initializer": "he_normal"},
                             {"type": "dropout", "rate": 0.2},
                             {"type": "dense", "units": 4, "activation": "leaky_relu", "slope": 0.1}], None, None)
    return widget


def test_the_layer_table_names_the_current_cells_concept(builder):
    table = builder.table
    cells = {(0, ACTIVATION): "relu", (0, INITIALIZER): "he_normal", (0, TYPE): "dense", (0, SIZE): "dense",
             (1, TYPE): "dropout", (1, SIZE): "dropout", (1, ACTIVATION): None, (2, ACTIVATION): "leaky_relu",
             (2, INITIALIZER): "glorot_uniform"}
    for (row, column), key in cells.items():
        table.setCurrentCell(row, column)
        assert concept_for_widget(table) == key, (row, column)


def test_a_convolutional_layer_and_its_settings_name_their_concepts(qtbot):
    from core.realdata import load_real

    widget = shown(qtbot, LayerBuilder())
    widget.set_dataset(load_real("digits"))
    widget.set_architecture([{"type": "conv2d", "filters": 4, "kernel": 3, "activation": "relu"}, {"type": "maxpool2d", "size": 2},
                             {"type": "flatten"}, {"type": "batchnorm"}], None, None)
    for row, key in enumerate(("conv2d", "maxpool2d", "flatten", "batchnorm")):
        widget.table.setCurrentCell(row, TYPE)
        assert concept_for_widget(widget.table) == key
    widget.table.setCurrentCell(0, TYPE)
    assert concept_for_widget(widget.findChild(QWidget, "layerFiltersSpin")) == "conv2d"
    assert concept_for_widget(widget.findChild(QComboBox, "layerKindCombo")) == "conv2d"
    widget.table.setCurrentCell(3, TYPE)
    assert concept_for_widget(widget.findChild(QWidget, "layerMomentumSpin")) == "batchnorm"


def test_an_editor_open_in_a_layer_cell_counts_as_the_cell(builder):
    table = builder.table
    table.setCurrentCell(0, INITIALIZER)
    table.editItem(table.currentItem())
    editor = table.viewport().findChild(QComboBox)
    assert editor is not None
    assert concept_for_widget(editor) == "he_normal"


def test_the_output_head_combos_name_the_chosen_values(builder):
    assert concept_for_widget(builder.output_activation) == "sigmoid"  # xor: two classes
    assert concept_for_widget(builder.loss_combo) == "binary_crossentropy"
    assert concept_for_widget(builder.output_initializer) == builder.output_initializer.currentData()
    builder.output_activation.setCurrentIndex(builder.output_activation.findData("softmax"))
    assert concept_for_widget(builder.output_activation) == "softmax"
    builder.table.setCurrentCell(2, ACTIVATION)
    builder.slope_spin.setFocus()
    assert concept_for_widget(builder.slope_spin) == "leaky_relu"


def test_help_for_the_focused_control(qtbot, settings):
    settings.activateWindow()
    settings.batch_size.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    focused = QApplication.focusWidget()
    assert help_key_for_focus(QApplication.instance()) == concept_for_widget(focused) == "batch_size"
