"""The engine learns what the course says a network can learn."""

from __future__ import annotations

import numpy as np
import pytest

from core.backend import get_backend
from core.experiment import network_spec
from core.network import Network
from core.synthetic import SYNTHETIC, synthetic
from core.trainer import Trainer, TrainingConfig


def dense(units: int, activation: str) -> dict:
    return {"type": "dense", "units": units, "activation": activation}


def train(dataset, hidden, epochs, seed=0, backend=None, **config):
    net = Network(network_spec(dataset, hidden), backend, seed=seed)
    trainer = Trainer(net, dataset, TrainingConfig(seed=seed, **config))
    reports = trainer.run(epochs)
    assert len(reports) == epochs and not any(r.diverged for r in reports)
    return net, trainer, reports


def class_accuracy(net: Network, dataset) -> float:
    out = net.predict(dataset.X)
    predicted = (out[:, 0] > 0.5).astype(int) if out.shape[1] == 1 else out.argmax(axis=1)
    return float((predicted == dataset.y).mean())


def test_xor_needs_and_gets_a_hidden_layer():
    data = synthetic("xor", samples=200, seed=0)
    net, _, reports = train(data, [dense(4, "tanh")], 60, optimizer="adam", learning_rate=0.05, val_fraction=0.0)
    assert class_accuracy(net, data) == 1.0
    assert reports[-1].val_loss is None
    assert reports[-1].train_loss < reports[0].train_loss / 4
    # without a hidden layer (logistic regression) XOR stays out of reach
    flat, _, _ = train(data, [], 60, optimizer="adam", learning_rate=0.05, val_fraction=0.0)
    assert class_accuracy(flat, data) < 0.8


@pytest.mark.parametrize("seed", [0, 1])
def test_spiral_with_two_hidden_layers(seed):
    data = synthetic("spiral", seed=seed)
    _, _, reports = train(data, [dense(32, "relu"), dense(32, "relu")], 300, seed=seed,
                          optimizer="adam", learning_rate=0.01, batch_size=16, val_fraction=0.2)
    assert reports[-1].metric_name == "accuracy"
    assert reports[-1].val_metric >= 0.95


def test_housing_linear_regression_recovers_the_true_weights():
    data = synthetic("housing", noise=0.05, seed=0)
    net, _, reports = train(data, [], 60, optimizer="sgd", learning_rate=0.05, batch_size=32, val_fraction=0.2)
    assert len(net.layers) == 1 and net.output_activation == "linear"
    params, pre = net.parameters_by_layer()[0], net.preprocess
    assert pre is not None
    # the network saw x' = (x − mean)/std: ŷ = W·x' + b = (W/std)·x + (b − Σ W·mean/std)
    w_raw = params["W"] / pre.std
    b_raw = params["b"] - (params["W"] * pre.mean / pre.std).sum(axis=1)
    np.testing.assert_allclose(w_raw, data.true_weights, rtol=0.03, atol=0.02)
    np.testing.assert_allclose(b_raw, data.true_bias, atol=1.0)
    # and it is close to the least-squares solution of the same data
    design = np.column_stack([data.X, np.ones(data.n_samples)])
    exact = np.linalg.lstsq(design, data.y[:, 0], rcond=None)[0]
    np.testing.assert_allclose(w_raw[0], exact[:-1], rtol=0.03, atol=0.02)
    assert reports[-1].metric_name == "r2" and reports[-1].val_metric > 0.999


def test_full_batch_gradient_descent_decreases_the_loss_every_epoch():
    data = synthetic("plane", samples=200, seed=3)
    _, _, reports = train(data, [], 40, backend=get_backend("numpy", "float64"), optimizer="sgd",
                          learning_rate=0.1, batch_size=1000, val_fraction=0.0, shuffle=False)
    losses = [r.train_loss for r in reports]
    assert all(b < a for a, b in zip(losses, losses[1:], strict=False))
    assert losses[-1] < 0.3  # noise 0.5 → the best possible mse is about 0.25


def test_blobs_multiclass_softmax():
    data = synthetic("blobs", seed=0)
    net, _, reports = train(data, [], 30, optimizer="adam", learning_rate=0.05, batch_size=32)
    assert net.output_shape == (4,) and net.output_activation == "softmax"
    assert reports[-1].val_metric >= 0.95
    probs = net.predict(data.X)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_spiral3_multiclass_softmax():
    data = synthetic("spiral3", seed=0)
    net, _, reports = train(data, [dense(32, "relu"), dense(32, "relu")], 200,
                            optimizer="adam", learning_rate=0.01, batch_size=16)
    assert net.output_shape == (3,)
    assert reports[-1].val_metric >= 0.92
    assert class_accuracy(net, data) >= 0.95


@pytest.mark.parametrize("name", ["circle", "gaussian", "moons"])
def test_other_two_class_sets_are_learnable(name):
    data = synthetic(name, seed=0)
    net, _, _ = train(data, [dense(8, "tanh")], 60, optimizer="adam", learning_rate=0.03, batch_size=16)
    assert class_accuracy(net, data) >= 0.95


def test_sine_regression_with_a_hidden_layer():
    data = synthetic("sine", seed=0)
    _, _, reports = train(data, [dense(16, "tanh"), dense(16, "tanh")], 150,
                          optimizer="adam", learning_rate=0.01, batch_size=16)
    assert reports[-1].val_metric > 0.95


def test_synthetic_sets_are_seeded_and_shaped():
    for name, info in SYNTHETIC.items():
        a, b = synthetic(name, seed=4), synthetic(name, seed=4)
        np.testing.assert_array_equal(a.X, b.X)
        np.testing.assert_array_equal(a.y, b.y)
        assert a.n_samples == info.samples
        assert not np.array_equal(a.X, synthetic(name, seed=5).X)
    assert synthetic("spiral3").n_outputs == 3 and synthetic("blobs").n_outputs == 4
    with pytest.raises(ValueError, match="unknown dataset"):
        synthetic("nope")
    with pytest.raises(ValueError, match="at least 4"):
        synthetic("xor", samples=2)
