"""Activation functions with each layer's live distribution of z: the probe's histograms and
counts equal an independent NumPy computation, and the view draws g, g' and the histogram."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from core.backend import get_backend
from core.data import make_dataset
from core.network import Network
from core.trainer import Trainer, TrainingConfig, split_indices
from core.z_distribution import (
    BINS,
    SATURATION_SLOPE,
    ZDistributionProbe,
    function_curves,
    histogram_range,
    saturation_edge,
)

F64 = get_backend("numpy", "float64")


def dense(units: int, activation: str, **extra) -> dict:
    return {"type": "dense", "units": units, "activation": activation, **extra}


def known_trainer(samples: int = 300, hidden: str = "relu", seed: int = 3) -> Trainer:
    """3 features → 4 ``hidden`` units (unit 2's bias −100: z < 0 for every sample) → dropout →
    3 tanh units → 1 sigmoid unit, float64, standardized, a fifth held out for validation."""
    rng = np.random.default_rng(seed)
    X = rng.normal(5.0, 2.0, size=(samples, 3))
    y = (X[:, 0] > 5.0).astype(np.int64)
    data = make_dataset(X, y, name="known", task="binary", class_names=["no", "yes"])
    spec = {"input_shape": [3], "layers": [dense(4, hidden, **({"slope": 0.2} if hidden == "leaky_relu" else {})),
                                            {"type": "dropout", "rate": 0.3}, dense(3, "tanh"), dense(1, "sigmoid")]}
    network = Network(spec, F64, seed=seed)
    params = network.parameters_by_layer()
    params[0]["W"] = rng.normal(0.0, 1.0, size=(4, 3))
    params[0]["b"] = np.array([0.5, -100.0, 0.0, -0.2])
    params[2]["W"] = rng.normal(0.0, 3.0, size=(3, 4))  # large weights: tanh saturates often
    network.set_parameters(params)
    return Trainer(network, data, TrainingConfig(dtype="float64", val_fraction=0.2, seed=seed, optimizer="sgd"))


def independent_z(trainer: Trainer) -> list[np.ndarray]:
    """Each dense layer's z (m, n[l]) over the whole training part, by hand in float64."""
    train, _ = split_indices(trainer.dataset.n_samples, trainer.config.val_fraction, trainer.config.seed)
    pre = trainer.network.preprocess
    a = (trainer.dataset.X[train] - pre.mean) / pre.std
    params = trainer.network.parameters_by_layer()
    zs = []
    for kind, p in zip([layer.kind for layer in trainer.network.layers], params, strict=True):
        if kind != "dense":
            continue
        z = a @ p["W"].T + p["b"]
        zs.append(z)
        a = np.maximum(z, 0.0) if len(zs) == 1 else np.tanh(z)
    return zs


def test_histograms_and_counts_equal_an_independent_computation():
    trainer = known_trainer()
    result = ZDistributionProbe()(trainer)
    zs = independent_z(trainer)
    assert result.samples == result.train_size == 240 and result.reason == ""
    assert [layer.label for layer in result.layers] == ["layer 1: Dense(4, relu)", "layer 3: Dense(3, tanh)", "layer 4: Dense(1, sigmoid)"]
    assert [layer.index for layer in result.layers] == [0, 2, 3]
    for layer, z in zip(result.layers, zs, strict=False):
        peak = np.abs(z).max()
        r = float(layer.edges[-1])
        assert peak <= r and (peak >= r / 4 or r == 1.0) and r in {m * 10.0 ** k for m in (1, 2, 5) for k in range(-1, 4)}
        np.testing.assert_array_equal(layer.edges, np.linspace(-r, r, BINS + 1))
        np.testing.assert_array_equal(layer.counts, np.histogram(z, bins=BINS, range=(-r, r))[0])
        assert layer.counts.sum() == z.size
        assert (layer.low, layer.high) == pytest.approx((z.min(), z.max()), rel=1e-12)
        np.testing.assert_array_equal(layer.inactive, (z <= 0).mean(axis=0))
        sigmoid = 1.0 / (1.0 + np.exp(-z))
        np.testing.assert_array_equal(layer.saturated["sigmoid"], (sigmoid * (1 - sigmoid) < SATURATION_SLOPE).mean(axis=0))
        np.testing.assert_array_equal(layer.saturated["tanh"], (1 - np.tanh(z) ** 2 < SATURATION_SLOPE).mean(axis=0))
    relu, tanh = result.layers[0], result.layers[1]
    assert relu.dead == 1 and relu.inactive[1] == 1.0 and relu.edges[-1] == 200.0  # the −100 bias: R covers it
    assert relu.activation == "relu" and tanh.activation == "tanh" and tanh.units == 3
    assert 0 < tanh.saturated["tanh"].mean() < 1  # large weights: some z saturate, not all


def test_a_large_training_part_is_subsampled_once_and_nothing_of_the_trainer_changes():
    trainer, mirror = known_trainer(samples=5000), known_trainer(samples=5000)
    probe = ZDistributionProbe()
    first = probe(trainer)
    assert first.samples == 2000 and first.train_size == 4000
    assert all(layer.counts.sum() == 2000 * layer.units for layer in first.layers)
    chosen = probe._x.copy()
    for t in (trainer, mirror):
        t.step_batch()
    again = probe(trainer)
    np.testing.assert_array_equal(probe._x, chosen)  # the same samples
    assert [layer.edges[-1] for layer in again.layers] == [layer.edges[-1] for layer in first.layers]  # z stayed inside
    np.testing.assert_array_equal(trainer.network.params, mirror.network.params)  # the probe changed no weight
    for t in (trainer, mirror):
        t.step_batch()
    np.testing.assert_array_equal(trainer.network.params, mirror.network.params)  # nor anything the next step uses
    assert again.layers[1].low != first.layers[1].low  # it follows the training
    assert probe(known_trainer()).samples == 240  # another trainer: its own samples


def test_leaky_relu_layer_carries_its_slope_and_the_probe_pickles():
    trainer = known_trainer(hidden="leaky_relu")
    probe = pickle.loads(pickle.dumps(ZDistributionProbe()))  # it travels to the trainer's process
    result = pickle.loads(pickle.dumps(probe(trainer)))
    assert result.layers[0].activation == "leaky_relu" and result.layers[0].slope == 0.2
    assert result.layers[0].dead == 1  # z ≤ 0 for every sample (leaky: g' = the slope there, not 0)


def test_the_histogram_range_holds_while_z_stays_inside():
    assert histogram_range(3.2, None) == 5.0
    assert histogram_range(4.9, 5.0) == 5.0 and histogram_range(1.3, 5.0) == 5.0  # inside and ≥ a quarter: kept
    assert histogram_range(5.1, 5.0) == 10.0  # leaves it: grows
    assert histogram_range(1.1, 5.0) == 2.0  # under a quarter: shrinks
    assert histogram_range(0.01, None) == 1.0 and histogram_range(0.0, 1.0) == 1.0  # never under 1
    assert histogram_range(0.1, 1.0) == 1.0


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_the_saturation_edge_is_where_the_derivative_falls_to_the_threshold(name):
    edge = saturation_edge(name)
    _, slope = function_curves(name, 0.01, np.array([edge, -edge, edge - 1e-6, edge + 1e-6]))
    assert slope[:2] == pytest.approx([SATURATION_SLOPE] * 2, rel=1e-9)
    assert slope[2] > SATURATION_SLOPE > slope[3]
    assert edge == pytest.approx({"sigmoid": 3.8708, "tanh": 2.6441}[name], abs=1e-4)
    assert saturation_edge("relu") is None


def test_function_curves_are_the_engines_activations():
    z = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    g, dg = function_curves("sigmoid", 0.01, z)
    np.testing.assert_allclose(g, 1 / (1 + np.exp(-z)), rtol=1e-12)
    np.testing.assert_allclose(dg, g * (1 - g), rtol=1e-12)
    g, dg = function_curves("tanh", 0.01, z)
    np.testing.assert_allclose(dg, 1 - np.tanh(z) ** 2, rtol=1e-12)
    g, dg = function_curves("relu", 0.01, z)
    np.testing.assert_array_equal(g, [0, 0, 0, 0.5, 2.0])
    np.testing.assert_array_equal(dg, [0, 0, 0, 1, 1])
    g, dg = function_curves("leaky_relu", 0.1, z)
    np.testing.assert_allclose(g, [-0.2, -0.05, 0, 0.5, 2.0])
    np.testing.assert_allclose(dg, [0.1, 0.1, 0.1, 1, 1])
    g, dg = function_curves("linear", 0.01, z)
    np.testing.assert_array_equal(g, z)
    np.testing.assert_array_equal(dg, np.ones(5))
    assert math.isclose(function_curves("sigmoid", 0.01, np.array([0.0]))[1][0], 0.25)


# ----- the view -------------------------------------------------------------------------------------

@pytest.fixture
def view(qtbot):
    from gui_helpers import shown

    from app.views.activation_functions import ActivationFunctionsView

    widget = shown(qtbot, ActivationFunctionsView())
    widget.resize(600, 400)
    return widget


def deliver(view, data, epoch: int = 1) -> None:
    from app.worker import ProbeResult

    view.receive(ProbeResult("activationFunctions", epoch, 0, data))
    assert view.stale()
    view.refresh()


def test_the_view_draws_the_first_layers_function_and_histogram_and_counts_dead_units(view):
    from app.accessibility import undescribed_controls

    assert view.objectName() == "activationFunctions" and view.showing_note()
    data = ZDistributionProbe()(known_trainer())
    deliver(view, data)
    assert not view.showing_note() and view.layer_combo.count() == 3
    assert view.layer_combo.currentText() == "layer 1: 4 relu" and view.function() == ("relu", 0.01)
    z, g = view.g_curve.getData()
    np.testing.assert_array_equal(g, np.maximum(z, 0.0))
    assert view.g_curve.getData()[0][0] == -200.0  # a quarter of z at −100: the axis covers it
    x, heights = view.histogram.getData()[0], view.histogram.yData
    np.testing.assert_array_equal(x, data.layers[0].edges)
    low, high = view.plot.getViewBox().viewRange()[1]
    shares = data.layers[0].counts / data.layers[0].counts.sum()
    assert np.argmax(heights) == np.argmax(shares) and heights.min() == pytest.approx(low)
    assert view.counts_label.text.startswith("1 of 4 units dead: z ≤ 0 for every sample")
    assert view.slope_spin.isHidden()
    assert undescribed_controls(view) == []


def test_switching_the_function_redraws_and_asks_what_if(view):
    data = ZDistributionProbe()(known_trainer())
    deliver(view, data)
    view.layer_combo.setCurrentIndex(1)  # layer 3: tanh
    assert view.function()[0] == "tanh" and "of z where g′ &lt; 0.02 (|z| &gt; 2.64)" in view.counts_label.text
    expected = percent_text(data.layers[1].saturated["tanh"].mean())
    assert view.counts_label.text.startswith(expected)
    z, g = view.g_curve.getData()
    np.testing.assert_allclose(g, np.tanh(z), rtol=1e-12)
    assert [shade.isVisible() for shade in view.shades] == [True, True]
    assert view.shades[1].getRegion()[0] == pytest.approx(saturation_edge("tanh"))
    view.function_combo.setCurrentIndex(view.function_combo.findData("sigmoid"))
    z, g = view.g_curve.getData()
    np.testing.assert_allclose(g, 1 / (1 + np.exp(-z)), rtol=1e-12, atol=1e-15)
    assert view.shades[1].getRegion()[0] == pytest.approx(saturation_edge("sigmoid"))
    assert view.counts_label.text.startswith(percent_text(data.layers[1].saturated["sigmoid"].mean()))
    view.function_combo.setCurrentIndex(view.function_combo.findData("leaky_relu"))
    assert view.slope_spin.isVisible() and view.slope_spin.value() == 0.01
    view.slope_spin.setValue(0.25)
    z, g = view.g_curve.getData()
    np.testing.assert_allclose(g, np.where(z > 0, z, 0.25 * z))
    np.testing.assert_allclose(view.dg_curve.getData()[1], np.where(z > 0, 1.0, 0.25))
    assert "g′ = 0.25 there, not dead" in view.counts_label.text
    view.layer_combo.setCurrentIndex(0)
    assert view.function()[0] == "relu" and view.slope_spin.isHidden()
    view.layer_combo.setCurrentIndex(1)  # the choice made for a layer is kept for it
    assert view.function() == ("leaky_relu", 0.25)
    deliver(view, ZDistributionProbe()(known_trainer()), epoch=2)  # a new result keeps the choices
    assert view.layer_combo.currentIndex() == 1 and view.function() == ("leaky_relu", 0.25)


def test_a_leaky_layer_starts_with_its_own_slope_and_a_new_run_forgets(view):
    deliver(view, ZDistributionProbe()(known_trainer(hidden="leaky_relu")))
    assert view.function() == ("leaky_relu", 0.2) and view.slope_spin.isVisible()
    view.new_run()
    assert view.showing_note() and view.layer_combo.count() == 0 and view.data is None
    from core.z_distribution import ZDistribution

    deliver(view, ZDistribution((), 0, 0, 0, "The z distributions need a network of dense and dropout layers."))
    assert view.showing_note() and "dense and dropout" in view.note.text()


def percent_text(fraction: float) -> str:
    from app.views.activation_functions import percent

    return percent(float(fraction))


def test_the_z_axis_holds_nearly_all_z_and_stays_put():
    from app.views.activation_functions import axis_half_width, percent

    assert axis_half_width(22.0, None) == 30.0 and axis_half_width(0.3, None) == 5.0 and axis_half_width(6.0, None) == 10.0
    assert axis_half_width(12.0, 30.0) == 30.0 and axis_half_width(9.0, 30.0) == 10.0  # kept down to a third
    assert axis_half_width(31.0, 30.0) == 50.0
    assert [percent(f) for f in (0, 0.0004, 0.025, 0.41, 0.995, 1.0)] == ["0 %", "< 0.1 %", "2.5 %", "41 %", "> 99 %", "100 %"]
