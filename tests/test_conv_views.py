"""The kernel and feature-map views: their probes return exactly the network's own kernels and
prediction-mode layer outputs, the views draw those numbers, and in the window they follow
the run, the chosen layer and the chosen sample; a network without a convolution gets one line."""

from __future__ import annotations

import pickle
from types import SimpleNamespace

import numpy as np
import pytest
from gui_helpers import WAIT_MS, shown, step_epochs

from core.backend import get_backend
from core.conv_insight import NO_CONV, FeatureMapProbe, KernelData, KernelProbe
from core.data import make_dataset
from core.experiment import Experiment
from core.network import Network
from core.realdata import load_real
from core.trainer import Trainer, TrainingConfig

F32 = get_backend("numpy", "float32")
CONV = {"type": "conv2d", "filters": 4, "kernel": 3, "activation": "relu"}
POOL = {"type": "maxpool2d", "size": 2}
FLATTEN = {"type": "flatten"}
SOFTMAX = {"type": "dense", "units": 10, "activation": "softmax"}
SMALL_CNN = [CONV, POOL, FLATTEN, SOFTMAX]  # digits 8×8: conv 4 3×3 relu → maxpool 2 → flatten → dense 10 softmax


@pytest.fixture(scope="module")
def digits():
    """The built-in digits as 8×8×1 images."""
    data = load_real("digits")
    return make_dataset(data.X, data.y, name="digits", class_names=data.class_names, sample_shape=(8, 8, 1))


def cnn_trainer(data, layers, epochs: int = 1) -> Trainer:
    network = Network({"input_shape": list(data.sample_shape), "layers": layers}, F32, seed=2)
    trainer = Trainer(network, data, TrainingConfig(seed=2, batch_size=32, optimizer="adam", learning_rate=0.01))
    for _ in range(epochs):
        trainer.run_epoch()
    return trainer


def reference_outputs(network: Network, x: np.ndarray) -> list[np.ndarray]:
    """Every layer's output (1, *shape) for raw inputs x (1, n), by the network itself."""
    pre = network.preprocess.apply(x) if network.preprocess is not None else x
    return [np.asarray(a) for a in network.forward_all(network.backend.asarray(pre))]


# ----- the probes ---------------------------------------------------------------------------------
def test_the_kernel_probe_returns_exactly_the_chosen_layers_W(digits):
    layers = [CONV, {**CONV, "filters": 6, "kernel": 5}, POOL, FLATTEN, SOFTMAX]
    trainer = cnn_trainer(digits, layers)
    probe = KernelProbe()
    first = probe(trainer)
    params = trainer.network.parameters_by_layer()
    assert not first.reason and [layer.index for layer in first.layers] == [0, 1]
    assert first.layer.index == 0 and first.layer.label.startswith("layer 1: ") and first.layer.channels == 1 and not first.layer.rgb
    assert first.kernels.shape == (4, 3, 3, 1) and first.kernels.dtype == np.float32
    np.testing.assert_array_equal(first.kernels, params[0]["W"])
    probe.layer = 1
    second = probe(trainer)
    assert second.layer.index == 1 and second.layer.channels == 4 and second.kernels.shape == (6, 5, 5, 4)
    np.testing.assert_array_equal(second.kernels, params[1]["W"])
    probe.layer = 3  # the flatten layer (a choice kept from another network): the first conv layer
    np.testing.assert_array_equal(probe(trainer).kernels, params[0]["W"])
    assert probe(trainer).kernels is not trainer.network.layers[0].params["W"]  # a copy, never the live array


def test_the_feature_map_probe_returns_the_networks_own_outputs_of_the_sample(digits):
    trainer = cnn_trainer(digits, SMALL_CNN)
    network = trainer.network
    probe = FeatureMapProbe()
    probe.index = 7
    data = probe(trainer)
    expected = reference_outputs(network, digits.X[7:8])
    assert not data.reason and data.sample == 7 and data.target == digits.class_names[digits.y[7]]
    np.testing.assert_array_equal(data.image, digits.X[7].reshape(8, 8, 1))
    assert [layer.index for layer in data.layers] == [0, 1]  # conv and pool; not flatten or dense
    assert [layer.maps.shape for layer in data.layers] == [(8, 8, 4), (4, 4, 4)]
    assert data.layers[0].label.startswith("layer 1: ") and data.layers[0].label.endswith(" 8×8×4")
    assert data.layers[1].label.startswith("layer 2: ") and data.layers[1].label.endswith(" 4×4×4")
    for layer in data.layers:
        np.testing.assert_array_equal(layer.maps, expected[layer.index][0])
    probe.index = 10_000  # beyond the data: the last sample
    assert probe(trainer).sample == digits.n_samples - 1


def test_an_rgb_first_layer_says_so_and_a_later_one_does_not():
    rng = np.random.default_rng(0)
    data = make_dataset(rng.uniform(0, 1, (20, 48)), np.arange(20) % 2, name="colour", sample_shape=(4, 4, 3))
    network = Network({"input_shape": [4, 4, 3], "layers": [{**CONV, "filters": 3}, CONV, FLATTEN, SOFTMAX]}, F32, seed=1)
    trainer = SimpleNamespace(network=network, dataset=data, epoch=0)
    layers = KernelProbe()(trainer).layers
    assert [(layer.channels, layer.rgb) for layer in layers] == [(3, True), (3, False)]


def test_a_network_without_a_convolution_gets_one_line_and_the_probes_travel(digits):
    flat = make_dataset(digits.X, digits.y, name="digits", class_names=digits.class_names)
    trainer = cnn_trainer(flat, [{"type": "dense", "units": 8, "activation": "relu"}, SOFTMAX], epochs=0)
    for probe in (KernelProbe(), FeatureMapProbe()):
        result = pickle.loads(pickle.dumps(pickle.loads(pickle.dumps(probe))(trainer)))  # to the trainer's process and back
        assert result.reason == NO_CONV
    conv = cnn_trainer(digits, SMALL_CNN, epochs=0)
    assert pickle.loads(pickle.dumps(FeatureMapProbe()(conv))).layers[0].maps.shape == (8, 8, 4)


# ----- the views ----------------------------------------------------------------------------------
def tile_pixels(grid_item, n: int) -> np.ndarray:
    """Tile ``n`` of an ImageGridItem as RGB bytes (h, w, 3)."""
    from PySide6.QtGui import QImage

    image = grid_item.images[n].convertToFormat(QImage.Format.Format_RGB888)
    h, w = image.height(), image.width()
    return np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()


def expected_pixels(colours: np.ndarray) -> np.ndarray:
    """What app.image_grid.to_qimage makes of colours in [0, 1]."""
    return np.clip(np.rint(colours * 255.0), 0, 255).astype(np.uint8)


def deliver(view, data, epoch: int = 1) -> None:
    from app.worker import ProbeResult

    view.receive(ProbeResult(view.name, epoch, 0, data))
    view.refresh()


def test_the_kernel_view_draws_each_filters_weights_in_colours_centred_on_zero(qtbot, digits):
    from app.views.kernels import KernelsView, diverging_rgb

    view = shown(qtbot, KernelsView())
    assert view.showing_note()
    trainer = cnn_trainer(digits, [CONV, {**CONV, "filters": 2}, POOL, FLATTEN, SOFTMAX])
    deliver(view, KernelProbe()(trainer))
    W = trainer.network.parameters_by_layer()[0]["W"]
    assert not view.showing_note() and view.layer_combo.count() == 2 and view.channel_combo.isHidden()
    limit = view.limit()
    assert limit >= np.abs(W).max() and np.abs(W).max() > limit / 10
    assert view.canvas.captions == [f"filter {f + 1}" for f in range(4)]
    for f in range(4):
        np.testing.assert_array_equal(tile_pixels(view.canvas.item, f), expected_pixels(diverging_rgb(W[f, :, :, 0], limit)))
    assert view.canvas.item.tooltips[2].startswith("filter 3, channel 1: ")
    negative, zero, positive = diverging_rgb(np.array([-limit / 2, 0.0, limit / 2]), limit)
    assert zero.min() > 0.85 and negative[2] > negative[0] + 0.2 and positive[0] > positive[2] + 0.2  # blue < 0 (near white) < red
    # the second layer: four input channels to choose from
    probe = KernelProbe()
    probe.layer = 1
    deliver(view, probe(trainer))
    assert view.layer_combo.currentData() == 0  # a result for a layer not chosen (yet) changes nothing
    view.layer_combo.setCurrentIndex(1)
    with qtbot.waitSignal(view.layerChosen) as chosen:
        view.layer_combo.activated.emit(1)
    assert chosen.args == [1]
    deliver(view, probe(trainer))
    W2 = trainer.network.parameters_by_layer()[1]["W"]
    assert view.channel_combo.isVisibleTo(view) and view.channel_combo.count() == 4
    view.channel_combo.setCurrentIndex(3)
    np.testing.assert_array_equal(view.shown_values(), W2[..., 3])
    np.testing.assert_array_equal(tile_pixels(view.canvas.item, 1), expected_pixels(diverging_rgb(W2[1, :, :, 3], view.limit())))
    deliver(view, KernelData((), None, None, 0, NO_CONV))
    assert view.showing_note() and view.note.text() == NO_CONV


def test_the_kernel_view_draws_a_first_layer_on_colour_images_in_rgb(qtbot):
    from app.views.kernels import RGB, KernelsView

    rng = np.random.default_rng(0)
    data = make_dataset(rng.uniform(0, 1, (20, 48)), np.arange(20) % 2, name="colour", sample_shape=(4, 4, 3))
    network = Network({"input_shape": [4, 4, 3], "layers": [{**CONV, "filters": 3}, FLATTEN, SOFTMAX]}, F32, seed=1)
    view = shown(qtbot, KernelsView())
    deliver(view, KernelProbe()(SimpleNamespace(network=network, dataset=data, epoch=0)))
    W = network.parameters_by_layer()[0]["W"]
    assert view.channel_combo.currentData() == RGB and view.channel_combo.count() == 4
    np.testing.assert_array_equal(tile_pixels(view.canvas.item, 2), expected_pixels(np.clip(0.5 + W[2] / (2 * view.limit()), 0, 1)))


def test_the_feature_map_view_draws_the_input_and_every_layers_maps(qtbot, digits):
    from app.views.feature_maps import FeatureMapsView
    from app.views.kernels import diverging_rgb

    view = shown(qtbot, FeatureMapsView())
    view.resize(500, 600)
    trainer = cnn_trainer(digits, SMALL_CNN)
    probe = FeatureMapProbe()
    probe.index = 3
    data = probe(trainer)
    deliver(view, data)
    assert not view.showing_note() and view.readout.text() == f"sample 3 · target {digits.class_names[digits.y[3]]}"
    assert [title.text for title in view.titles] == ["input 8×8×1", data.layers[0].label, data.layers[1].label]
    assert [len(grid.images) for grid in view.grids] == [1, 4, 4]
    np.testing.assert_array_equal(tile_pixels(view.grids[0], 0)[..., 0], expected_pixels(digits.X[3].reshape(8, 8)))
    conv = data.layers[0].maps
    limit = float(np.abs(conv).max())
    np.testing.assert_array_equal(tile_pixels(view.grids[1], 2), expected_pixels(diverging_rgb(conv[..., 2], limit)))
    assert (view.grids[2].images[0].width(), view.grids[2].images[0].height()) == (4, 4)
    assert view.grids[1].tooltips[2].startswith(f"{data.layers[0].label}, channel 3: ")
    with qtbot.waitSignal(view.sampleChanged) as changed:
        view.sample_spin.setMaximum(100)
        view.sample_spin.setValue(9)
    assert changed.args == [9]


# ----- in the window ------------------------------------------------------------------------------
def open_cnn(window, layers=SMALL_CNN):
    experiment = Experiment({"name": "digits"}, {"input_shape": [8, 8, 1], "layers": layers},
                            TrainingConfig(seed=2, batch_size=32, optimizer="adam", learning_rate=0.01, epochs=1_000_000))
    window.apply_experiment(experiment)


def trained_copy(window) -> Network:
    """The window's network (spec, seed, standardization) with the parameters its trainer has now."""
    network = Network(window.network.spec(), F32, seed=window.network.seed)
    network.params[...] = window.trainer_state().params
    network.preprocess = window.network.preprocess
    return network


def test_in_the_window_the_views_follow_the_run_the_layer_and_the_sample(qtbot, window):
    open_cnn(window)
    registry = window.registry
    registry.show_view("kernels")
    step_epochs(qtbot, window, 2)
    kernels = registry.kernels
    qtbot.waitUntil(lambda: kernels.data is not None and kernels.data.epoch == 2, timeout=WAIT_MS)
    network = trained_copy(window)
    np.testing.assert_array_equal(kernels.data.kernels, network.parameters_by_layer()[0]["W"])
    np.testing.assert_array_equal(kernels.shown_values(), network.parameters_by_layer()[0]["W"][..., 0])
    assert len(kernels.canvas.item.images) == 4

    registry.show_view("featureMaps")
    maps = registry.feature_maps
    qtbot.waitUntil(lambda: maps.data is not None and maps.data.epoch == 2, timeout=WAIT_MS)
    assert maps.data.sample == registry.sample
    assert [layer.maps.shape for layer in maps.data.layers] == [(8, 8, 4), (4, 4, 4)]
    before = maps.data
    maps.sample_spin.setValue(before.sample + 5)
    qtbot.waitUntil(lambda: maps.data.sample == before.sample + 5, timeout=WAIT_MS)
    assert registry.sample == before.sample + 5 and registry.inspector.sample_spin.value() == before.sample + 5
    assert not np.array_equal(maps.data.layers[0].maps, before.layers[0].maps)
    np.testing.assert_array_equal(maps.data.image, window.dataset.X[before.sample + 5].reshape(8, 8, 1))
    expected = reference_outputs(trained_copy(window), window.dataset.X[before.sample + 5: before.sample + 6])
    for layer in maps.data.layers:
        np.testing.assert_array_equal(layer.maps, expected[layer.index][0])


def test_in_the_window_a_dense_network_gets_the_one_line(qtbot, window):
    registry = window.registry
    for name in ("kernels", "featureMaps"):
        registry.show_view(name)
        step_epochs(qtbot, window, 1)
        view = registry.entries[name].view
        qtbot.waitUntil(lambda view=view: view.showing_note() and view.note.text() == NO_CONV, timeout=WAIT_MS)


def test_in_the_window_choosing_another_layer_shows_its_kernels(qtbot, window):
    open_cnn(window, [CONV, {**CONV, "filters": 2}, POOL, FLATTEN, SOFTMAX])
    registry = window.registry
    registry.show_view("kernels")
    step_epochs(qtbot, window, 1)
    kernels = registry.kernels
    qtbot.waitUntil(lambda: kernels.data is not None and kernels.layer_combo.count() == 2, timeout=WAIT_MS)
    kernels.layer_combo.setCurrentIndex(1)
    kernels.layer_combo.activated.emit(1)
    qtbot.waitUntil(lambda: kernels.data.layer.index == 1, timeout=WAIT_MS)
    np.testing.assert_array_equal(kernels.data.kernels, trained_copy(window).parameters_by_layer()[1]["W"])
    assert kernels.channel_combo.count() == 4 and len(kernels.canvas.item.images) == 2
