"""What the trainer refuses up front (one line, ConfigError or ResourceError), and what a
divergence report says it found: a penalty too large, raw inputs, or the learning rate."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from core import limits
from core.backend import get_backend
from core.data import make_dataset
from core.experiment import network_spec
from core.limits import ResourceError
from core.network import Network
from core.synthetic import synthetic
from core.trainer import ConfigError, Trainer, TrainingConfig

TANH = [{"type": "dense", "units": 4, "activation": "tanh"}]
F64 = get_backend("numpy", "float64")


def build(dataset, hidden=(), output_activation=None, backend=None, **settings) -> Trainer:
    network = Network(network_spec(dataset, list(hidden), output_activation), backend)
    return Trainer(network, dataset, TrainingConfig(**settings))


def refused(error, match: str, make) -> str:
    """The one-line message of ``error`` that ``make()`` raises."""
    with pytest.raises(error, match=match) as caught:
        make()
    message = str(caught.value)
    assert "\n" not in message
    return message


# ----- a loss that does not fit ------------------------------------------------------------------------
@pytest.mark.parametrize("loss", ["binary_crossentropy", "categorical_crossentropy"])
@pytest.mark.parametrize("output", [None, "sigmoid"])
def test_cross_entropy_on_a_continuous_target_is_refused(loss, output):
    data = synthetic("housing", samples=60, seed=0)  # price_k, a float target
    message = refused(ConfigError, "continuous", lambda: build(data, output_activation=output, loss=loss))
    assert "price_k" in message and "mse" in message


def test_cross_entropy_on_float_labels_of_zero_and_one_is_accepted():
    xor = synthetic("xor", samples=60, seed=0)
    labels = make_dataset(xor.X, xor.y.astype(np.float64))  # float targets: regression, but 0/1
    assert labels.task == "regression"
    trainer = build(labels, TANH, output_activation="sigmoid", loss="binary_crossentropy")
    assert trainer.run_epoch().complete
    one_hot = make_dataset(xor.X, np.eye(2)[xor.y])
    assert build(one_hot, TANH, output_activation="softmax", loss="categorical_crossentropy").run_epoch().complete
    not_one_hot = make_dataset(xor.X, np.ones((60, 2)))
    refused(ConfigError, "categorical cross-entropy needs class labels",
            lambda: build(not_one_hot, TANH, output_activation="softmax", loss="categorical_crossentropy"))


def test_categorical_cross_entropy_on_one_sigmoid_unit_is_refused():
    xor = synthetic("xor", samples=40, seed=0)  # binary: one sigmoid unit
    message = refused(ConfigError, "one sigmoid unit", lambda: build(xor, TANH, loss="categorical_crossentropy"))
    assert "binary cross-entropy" in message


# ----- inputs that cannot train ------------------------------------------------------------------------
def huge_inputs(peak: float) -> object:
    """Gaussian blobs whose second feature ("size") has one training value of ``peak``."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    X[:, 1] = np.abs(X[:, 1])
    X[0, 1] = peak
    return make_dataset(X, (X[:, 0] > 0).astype(int), feature_names=["width", "size"])


@pytest.mark.parametrize("standardize", [True, False])
def test_inputs_beyond_float32_are_refused_naming_the_feature(standardize):
    data = huge_inputs(1e300)
    network = Network(network_spec(data, TANH))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from the casts either
        config = TrainingConfig(standardize=standardize, val_fraction=0.0)
        message = refused(ConfigError, "size", lambda: Trainer(network, data, config))
    assert "1e+300" in message
    assert network.preprocess is None  # nothing half-applied to the network


def test_inputs_too_large_to_standardize_are_refused_in_float64_too():
    data = huge_inputs(1e300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        refused(ConfigError, "size reaches .*too large to standardize", lambda: build(data, TANH, backend=F64, val_fraction=0.0))
    # unstandardized, float64 holds them: training starts (a divergence would name the raw inputs)
    assert build(data, TANH, backend=F64, val_fraction=0.0, standardize=False).x_train.dtype == np.float64


def test_non_finite_initial_weights_are_refused_naming_the_layer():
    xor = synthetic("xor", samples=40, seed=0)
    network = Network(network_spec(xor, TANH))
    params = network.parameters_by_layer()
    params[1]["W"][0, 0] = math.inf
    network.set_parameters(params)
    message = refused(ConfigError, "layer 2", lambda: Trainer(network, xor, TrainingConfig()))
    assert "NaN or infinite" in message


def test_data_copies_beyond_the_memory_limit_are_refused(monkeypatch):
    xor = synthetic("xor", samples=400, seed=0)
    monkeypatch.setattr(limits, "memory_limit_bytes", lambda: 1000)
    message = refused(ResourceError, "copies of the data", lambda: build(xor, TANH))
    assert "400 samples × 2 features" in message


# ----- what a divergence found -------------------------------------------------------------------------
def diverged(trainer: Trainer, epochs: int = 50) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = trainer.run(epochs)[-1]
    assert report.diverged, "the run did not diverge"
    return report.diverged


@pytest.mark.parametrize(("optimizer", "extra"), [("sgd", {}), ("momentum", {"nesterov": True})])
def test_a_large_l2_penalty_is_named_instead_of_the_learning_rate(optimizer, extra):
    xor = synthetic("xor", samples=40, seed=0)
    found = diverged(build(xor, TANH, optimizer=optimizer, learning_rate=0.1, l2=1e6, **extra))
    assert "the L2 penalty λ = 1e+06 is too large" in found and "learning rate" not in found


@pytest.mark.parametrize(("name", "setting"), [("L2", "l2"), ("L1", "l1")])
def test_a_penalty_whose_gradient_overflows_is_named(name, setting):
    xor = synthetic("xor", samples=40, seed=0)
    found = diverged(build(xor, TANH, optimizer="adam", learning_rate=0.01, **{setting: 1e39}), epochs=3)
    assert f"the {name} penalty λ = 1e+39 is too large" in found and "overflows float32" in found


def test_a_small_penalty_leaves_the_blame_on_the_learning_rate():
    xor = synthetic("xor", samples=40, seed=0)
    found = diverged(build(xor, TANH, optimizer="sgd", learning_rate=1e6, l2=1e-3))
    assert "learning rate α = 1e+06 is too high" in found and "penalty" not in found


# ----- the output layer and batch statistics -------------------------------------------------------------
@pytest.mark.parametrize(("last", "words"), [
    ({"type": "conv2d", "filters": 10, "kernel": 3, "activation": "softmax"}, "outputs 8×8×10 per sample: end the network with Flatten"),
    ({"type": "flatten"}, "ends with a Flatten layer: end it with a Dense output layer"),
    ({"type": "batchnorm"}, "ends with a BatchNorm layer"),
    ({"type": "dropout", "rate": 0.1}, "ends with a Dropout\\(0.1\\) layer"),
])
def test_a_network_must_end_with_a_dense_output_layer(last, words):
    from core.realdata import load_real

    digits = load_real("digits")
    layers = [{"type": "conv2d", "filters": 2, "kernel": 3}, {"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}]
    layers = [last] if last["type"] == "conv2d" else [*layers, last]
    refused(ConfigError, words, lambda: Trainer(Network({"input_shape": [8, 8, 1], "layers": layers}), digits, TrainingConfig()))


def test_batchnorm_refuses_a_batch_of_one_sample_and_a_last_batch_of_one_keeps_its_statistics():
    moons = synthetic("moons", samples=41, seed=0)  # 33 training samples: batches of 8 leave a last one of 1
    hidden = [{"type": "dense", "units": 4, "activation": "relu"}, {"type": "batchnorm"}]
    refused(ConfigError, "layer 2 \\(BatchNorm\\).*batch size of 2 or more", lambda: build(moons, hidden, batch_size=1))
    trainer = build(moons, hidden, batch_size=8, val_fraction=0.2)
    assert trainer.train_size % 8 == 1
    for _ in range(3):
        trainer.run_epoch()
    running_var = trainer.network.state_by_layer()[1]["running_var"]
    assert (running_var > 1e-3).all()  # the one-sample batch would have pulled it towards 0


def test_only_weights_and_biases_can_be_set_by_hand():
    moons = synthetic("moons", samples=40, seed=0)
    trainer = build(moons, [{"type": "dense", "units": 4, "activation": "relu"}, {"type": "batchnorm"}], batch_size=8)
    refused(ConfigError, r"only weights and biases \(W and b\) can be set by hand, not gamma of layer 2 \(BatchNorm\)",
            lambda: trainer.edit_parameter(1, "gamma", (0,), 2.0))
