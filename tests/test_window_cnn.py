"""A convolutional network built the way a user builds one: choose the digits in the Data tab,
add Conv2D, MaxPool2D and Flatten layers in the Network tab's builder, press Play; the
trainer then runs that network on 8×8×1 images and the kernel and feature-map views show
its numbers."""

from __future__ import annotations

import numpy as np
from gui_helpers import WAIT_MS, child, choose, click, pause, play_until, step_epochs
from PySide6.QtWidgets import QComboBox, QSpinBox

from core.backend import get_backend
from core.network import Network


def build_cnn_in_the_builder(qtbot, builder) -> None:
    """Replace the hidden layers by conv 6 3×3 relu → maxpool 2 → flatten, with the widgets."""
    while builder.table.rowCount():
        builder.table.selectRow(0)
        with qtbot.waitSignal(builder.architectureChanged):
            click(qtbot, builder.remove_button)
    for kind in ("conv2d", "maxpool2d", "flatten"):
        with qtbot.waitSignal(builder.architectureChanged):
            click(qtbot, builder.add_button)
        with qtbot.waitSignal(builder.architectureChanged):
            choose(builder.settings.kind_combo, kind)
        if kind == "conv2d":
            with qtbot.waitSignal(builder.architectureChanged):
                builder.settings.findChild(QSpinBox, "layerFiltersSpin").setValue(6)
            choose(builder.settings.editor("activation"), "relu")


def test_a_cnn_built_in_the_window_trains_and_its_views_show_it(qtbot, window):
    choose(child(window, QComboBox, "datasetCombo"), "digits")
    qtbot.waitUntil(lambda: window.dataset is not None and window.dataset.name == "digits", timeout=WAIT_MS)
    builder = window.layer_builder
    build_cnn_in_the_builder(qtbot, builder)
    assert builder.spec()["input_shape"] == [8, 8, 1]
    assert [builder.table.item(r, 3).text() for r in range(3)] == ["8×8×6", "4×4×6", "96"]
    window.registry.show_view("kernels")
    play_until(qtbot, window, 3)
    pause(qtbot, window)  # between two mini-batches, maybe inside an epoch
    step_epochs(qtbot, window, 1)  # to the end of an epoch: what the views show now is what the trainer holds
    network = window.network
    assert [layer.describe() for layer in network.layers] == ["Conv2D(6, 3×3, relu)", "MaxPool2D(2)", "Flatten",
                                                              "Dense(10, softmax)"]
    assert window.history.count >= 3 and window.history.column("val_metric")[-1] > 0.8  # digits after 3 epochs of a small CNN
    trained = Network(network.spec(), get_backend("numpy", "float32"), seed=network.seed)
    trained.params[...] = window.trainer_state().params
    kernels = window.registry.kernels
    qtbot.waitUntil(lambda: kernels.data is not None and kernels.data.epoch == window.history.count, timeout=WAIT_MS)
    np.testing.assert_array_equal(kernels.data.kernels, trained.parameters_by_layer()[0]["W"])
    assert len(kernels.canvas.item.images) == 6

    window.registry.show_view("featureMaps")
    maps = window.registry.feature_maps
    qtbot.waitUntil(lambda: maps.data is not None and maps.data.epoch == window.history.count, timeout=WAIT_MS)
    assert [layer.maps.shape for layer in maps.data.layers] == [(8, 8, 6), (4, 4, 6)]
    assert any(np.abs(layer.maps).max() > 0 for layer in maps.data.layers)
