"""The layer builder edits each kind of layer with its own settings, offers the image layers
only for image data, shows every layer's output shape, and explains a layer that cannot be
built next to it without losing the edit."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import choose, click, kind_items, shown, visible_fields
from PySide6.QtWidgets import QComboBox, QSpinBox

from app.accessibility import undescribed_controls
from app.layer_builder import ACTIVATION, INITIALIZER, OUTPUT, SIZE, TYPE, LayerBuilder, architecture_of
from app.layer_kinds import KINDS, edited, layer_shapes, new_layer, offered_kinds
from core.data import Dataset
from core.layers import SpecError
from core.network import Network
from core.synthetic import synthetic
from core.trainer import ConfigError

IMAGE_KINDS = ("conv2d", "maxpool2d", "avgpool2d", "flatten")
CONV = {"type": "conv2d", "filters": 8, "kernel": 3, "stride": 1, "padding": "same", "activation": "relu", "initializer": "glorot_uniform"}
HEAD = {"type": "dense", "units": 10, "activation": "softmax", "initializer": "glorot_uniform"}


def digits_like(shape: tuple[int, int, int] = (8, 8, 1)) -> Dataset:
    """Ten classes of random images of ``shape``."""
    rng = np.random.default_rng(0)
    n = int(np.prod(shape))
    return Dataset("images", rng.random((40, n)), np.arange(40) % 10, "multiclass", tuple(f"pixel {i}" for i in range(n)),
                   class_names=tuple(map(str, range(10))), sample_shape=shape)


@pytest.fixture
def builder(qtbot):
    return shown(qtbot, LayerBuilder())


def spin(builder: LayerBuilder, name: str) -> QSpinBox:
    widget = builder.settings.findChild(QSpinBox, name)
    assert widget is not None, name
    return widget


def test_every_kind_has_one_schema_with_defaults_in_range():
    for kind in KINDS.values():
        layer = new_layer(kind.key)
        assert layer["type"] == kind.key
        for field in kind.fields:
            if field.editor in ("int", "float", "log") and field.default is not None:
                assert field.minimum <= field.default <= field.maximum, (kind.key, field.key)
            if field.editor == "choice":
                assert field.default in field.choices, (kind.key, field.key)
        if kind.size_field is not None:
            assert kind.field(kind.size_field) is not None
    assert new_layer("dense") == {"type": "dense", "units": 8, "activation": "tanh", "initializer": "glorot_uniform"}
    assert new_layer("maxpool2d") == {"type": "maxpool2d", "size": 2}  # the stride left out: the window's size
    assert new_layer("flatten") == {"type": "flatten"}


def test_an_edit_keeps_the_spec_minimal():
    conv = new_layer("conv2d")
    assert edited(conv, "kernel", (3, 5))["kernel"] == [3, 5] and edited(conv, "kernel", (5, 5))["kernel"] == 5
    assert edited(edited(conv, "activation", "leaky_relu"), "activation", "relu") == conv  # the slope comes and goes
    assert edited(conv, "activation", "leaky_relu")["slope"] == 0.01
    pool = edited(new_layer("maxpool2d"), "stride", 1)
    assert pool["stride"] == 1 and "stride" not in edited(pool, "stride", None)
    assert edited(conv, "type", "dropout") == {"type": "dropout", "rate": 0.2}


def test_tabular_data_offers_no_image_layers(builder):
    builder.set_dataset(synthetic("xor"))
    builder.set_architecture([{"type": "dense", "units": 4, "activation": "tanh"}], None, None)
    offered = kind_items(builder.settings.kind_combo)
    assert offered == offered_kinds((2,)) == ["dense", "dropout", "batchnorm"]
    assert not set(offered) & set(IMAGE_KINDS)
    table = builder.table
    table.setCurrentCell(0, TYPE)
    table.editItem(table.currentItem())  # the table's own list of kinds: the same
    editor = table.viewport().findChild(QComboBox)
    assert editor is not None and kind_items(editor) == offered


def test_the_fields_change_with_the_kind(qtbot, builder):
    builder.set_dataset(synthetic("xor"))
    builder.set_architecture([{"type": "dense", "units": 4, "activation": "tanh"}], None, None)
    assert visible_fields(builder) == {"units", "activation", "initializer"}
    with qtbot.waitSignal(builder.architectureChanged):
        choose(builder.settings.kind_combo, "dropout")
    assert builder.architecture()[0] == [{"type": "dropout", "rate": 0.2}]
    assert visible_fields(builder) == {"rate"} and builder.settings.title() == "Layer 1: Dropout"
    assert builder.table.item(0, SIZE).text() == "0.2" and builder.table.item(0, OUTPUT).text() == "2"
    with qtbot.waitSignal(builder.architectureChanged):
        builder.settings.editor("rate").setValue(0.5)
    assert builder.architecture()[0] == [{"type": "dropout", "rate": 0.5}]


def test_a_dense_network_on_images_sees_the_flattened_pixels(builder):
    data = digits_like()
    builder.set_dataset(data)
    builder.set_architecture([{"type": "dense", "units": 16, "activation": "relu"}], None, None)
    spec = builder.spec()
    assert spec["input_shape"] == [64] and Network(spec).layers[0].params["W"].shape == (16, 64)
    assert builder.table.item(0, OUTPUT).text() == "16" and builder.layer_problem.isHidden()
    assert "8×8" in builder.input_label.text() and "64" in builder.input_label.text()
    assert builder.input_label.text().endswith("flattened: a network of only dense layers")


def test_a_layer_that_cannot_be_built_is_explained_next_to_it_and_kept(qtbot, builder):
    builder.set_dataset(synthetic("xor"))
    builder.set_architecture([{"type": "dense", "units": 4, "activation": "tanh"}], None, None)
    with qtbot.waitSignal(builder.architectureChanged):
        spin(builder, "layerUnitsSpin").setValue(1)
    with qtbot.waitSignal(builder.architectureChanged):
        choose(builder.settings.editor("activation"), "softmax")
    assert builder.architecture()[0] == [{"type": "dense", "units": 1, "activation": "softmax"}]
    assert builder.layer_problem.isVisible() and builder.layer_problem.text().startswith("<b>Layer 1 (Dense):</b> softmax over one unit")
    assert "Traceback" not in builder.layer_problem.text() and "\n" not in builder.layer_problem.text()
    assert builder.table.item(0, OUTPUT).text() == "⚠" and "softmax" in builder.table.item(0, OUTPUT).toolTip()
    with pytest.raises(SpecError, match="layer 1 \\(dense\\): softmax over one unit"):
        Network(builder.spec())
    with qtbot.waitSignal(builder.architectureChanged):
        choose(builder.settings.editor("activation"), "relu")
    assert builder.layer_problem.isHidden() and builder.table.item(0, OUTPUT).text() == "1"


def test_the_shapes_stop_at_the_first_layer_that_cannot_be_built():
    shapes = layer_shapes((2,), [{"type": "dense", "units": 1, "activation": "softmax"}, {"type": "dense", "units": 3}])
    assert shapes[0].problem.startswith("layer 1 (dense): ") and shapes[1].output_shape is None and shapes[1].problem is None
    assert [s.output_shape for s in layer_shapes((2,), [{"type": "dense", "units": 3}, {"type": "dropout", "rate": 0.1}])] == [(3,), (3,)]


def test_image_data_with_an_input_shape_of_other_data_is_refused():
    data = digits_like()
    with pytest.raises(ConfigError, match=r"network.input_shape: the network takes \[2\] inputs but the data has 8×8×1 images"):
        architecture_of({"input_shape": [2], "layers": [HEAD]}, data, None)
    assert architecture_of({"input_shape": [64], "layers": [{"type": "dense", "units": 4}, HEAD]}, data, None)[0] == [
        {"type": "dense", "units": 4}]


def test_image_data_offers_the_image_layers(builder):
    builder.set_dataset(digits_like())
    builder.set_architecture([{"type": "dense", "units": 4, "activation": "tanh"}], None, None)
    assert kind_items(builder.settings.kind_combo) == ["dense", "dropout", *IMAGE_KINDS, "batchnorm"]


def test_a_cnn_built_with_the_widgets(qtbot, builder):
    builder.set_dataset(digits_like())
    builder.set_architecture([], None, None)
    for row, kind in enumerate(("conv2d", "maxpool2d", "flatten")):
        with qtbot.waitSignal(builder.architectureChanged):
            click(qtbot, builder.add_button)  # a dense layer after the selected one
        assert builder.table.currentRow() == row
        with qtbot.waitSignal(builder.architectureChanged):
            choose(builder.settings.kind_combo, kind)
        if kind == "conv2d":
            assert visible_fields(builder) == {"filters", "kernel", "stride", "padding", "activation", "initializer"}
            spin(builder, "layerFiltersSpin").setValue(4)
            spin(builder, "layerFiltersSpin").setValue(8)
            spin(builder, "layerKernelRowsSpin").setValue(3)
            choose(builder.settings.editor("activation"), "relu")
        elif kind == "maxpool2d":
            assert visible_fields(builder) == {"size", "stride"} and spin(builder, "layerStrideSpin").text() == "same as size"
            spin(builder, "layerSizeSpin").setValue(2)
        else:
            assert visible_fields(builder) == set()
    spec = builder.spec()
    assert spec == {"input_shape": [8, 8, 1], "layers": [CONV, {"type": "maxpool2d", "size": 2}, {"type": "flatten"}, HEAD]}
    assert [builder.table.item(r, OUTPUT).text() for r in range(3)] == ["8×8×8", "4×4×8", "128"]
    assert builder.input_label.text().endswith("8×8×1 = 64 values, as images")
    assert [builder.table.item(r, SIZE).text() for r in range(3)] == ["8 · 3×3", "2×2", "—"]
    assert builder.layer_problem.isHidden()
    network = Network(spec)
    builder.show_network(network)
    summary = [[builder.summary.item(r, c).text() for c in range(3)] for r in range(builder.summary.rowCount())]
    assert [row[1:] for row in summary] == [["(None, 8, 8, 1)", "0"], ["(None, 8, 8, 8)", "80"], ["(None, 4, 4, 8)", "0"],
                                            ["(None, 128)", "0"], ["(None, 10)", "1,290"]]
    builder.table.selectRow(0)
    assert undescribed_controls(builder) == []


def test_an_impossible_kernel_is_explained_and_the_spec_refused(qtbot, builder):
    builder.set_dataset(digits_like())
    builder.set_architecture([{**CONV, "padding": "valid"}, {"type": "flatten"}], None, None)
    assert builder.table.item(0, OUTPUT).text() == "6×6×8"
    builder.table.selectRow(0)
    with qtbot.waitSignal(builder.architectureChanged):
        spin(builder, "layerKernelRowsSpin").setValue(9)
    assert builder.architecture()[0][0]["kernel"] == [9, 3]  # the edit is kept
    message = builder.layer_problem.text()
    assert builder.layer_problem.isVisible() and message.startswith("<b>Layer 1 (Conv2D):</b> ") and "9" in message
    assert builder.table.item(0, OUTPUT).text() == "⚠" and builder.table.item(1, OUTPUT).text() == "?"
    with pytest.raises(SpecError, match=r"layer 1 \(conv2d\)"):
        Network(builder.spec())


def test_a_dense_layer_on_an_image_asks_for_a_flatten(builder):
    builder.set_dataset(digits_like())
    builder.set_architecture([CONV], None, None)  # the output layer right after the convolution
    assert builder.layer_problem.text().startswith("<b>Output layer (Dense):</b> ") and "Flatten" in builder.layer_problem.text()


def test_a_cnn_spec_loads_into_the_builder_and_back(builder):
    data = digits_like((8, 8, 3))
    spec = {"input_shape": [8, 8, 3], "layers": [{**CONV, "kernel": [3, 5], "stride": 2}, {"type": "avgpool2d", "size": 2, "stride": 1},
                                                 {"type": "flatten"}, HEAD]}
    builder.set_dataset(data)
    builder.set_architecture(*architecture_of(spec, data, None))
    assert builder.spec() == spec
    assert builder.table.item(0, SIZE).text() == "8 · 3×5 /2" and builder.table.item(1, SIZE).text() == "2×2 /1"
    builder.table.selectRow(0)
    assert (spin(builder, "layerKernelRowsSpin").value(), spin(builder, "layerKernelColumnsSpin").value()) == (3, 5)


def test_batchnorm_on_tabular_data_with_its_own_settings(qtbot, builder):
    builder.set_dataset(synthetic("xor"))
    builder.set_architecture([{"type": "dense", "units": 4, "activation": "tanh"}, {"type": "batchnorm"}], None, None)
    builder.table.selectRow(1)
    assert visible_fields(builder) == {"momentum", "epsilon"} and builder.settings.editor("momentum").value() == 0.1
    with qtbot.waitSignal(builder.architectureChanged):
        builder.settings.editor("epsilon").setValue(1e-3)
    assert builder.architecture()[0][1] == {"type": "batchnorm", "epsilon": 1e-3}
    assert builder.table.item(1, OUTPUT).text() == "4" and builder.layer_problem.isHidden()
    builder.show_network(Network(builder.spec()))
    assert "8 running statistics" in builder.totals.text()  # running mean and variance of 4 features


def test_a_setting_a_spec_leaves_out_shows_as_the_engine_builds_it(builder):
    builder.set_dataset(synthetic("xor"))
    builder.set_architecture([{"type": "dense", "units": 3}, {"type": "batchnorm"}], None, None)
    assert builder.table.item(0, ACTIVATION).text() == "linear"  # core.layers.Dense's default
    assert builder.settings.editor("activation").currentData() == "linear"
    builder.table.selectRow(1)
    assert builder.settings.editor("epsilon").value() == pytest.approx(1e-5)
    assert builder.architecture()[0] == [{"type": "dense", "units": 3}, {"type": "batchnorm"}]  # nothing added


def test_in_a_narrow_panel_the_table_hides_columns_rather_than_scroll(qtbot, builder):
    builder.set_dataset(digits_like())
    builder.set_architecture([CONV, {"type": "maxpool2d", "size": 2}, {"type": "flatten"}], None, None)
    builder.resize(300, 700)
    qtbot.waitUntil(lambda: builder.table.viewport().width() < 300)
    builder.table.fit_columns()
    table = builder.table
    assert table.isColumnHidden(INITIALIZER) and not table.isColumnHidden(OUTPUT)  # the initializer goes first
    shown_width = sum(table.columnWidth(c) for c in range(table.columnCount()) if not table.isColumnHidden(c))
    assert shown_width <= table.viewport().width()
    builder.table.selectRow(0)
    assert builder.settings.editor("activation").currentData() == "relu"  # still editable in the box
