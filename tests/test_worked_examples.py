"""The course's worked examples, with the exact values (the slides round too early).

Expected numbers are computed here with ``math`` and, as literals, were computed
independently with 40-digit ``decimal`` arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.activations import get_activation
from core.backend import get_backend
from core.data import make_dataset
from core.network import Network
from core.trainer import Trainer, TrainingConfig

F64 = get_backend("numpy", "float64")


def test_softmax_of_the_course_example():
    z = [5.0, 2.0, -1.0, 3.0]
    total = sum(math.exp(v) for v in z)
    expected = [math.exp(v) / total for v in z]
    a = get_activation("softmax").forward(np.array([z]), np)[0]
    np.testing.assert_allclose(a, expected, rtol=1e-14)
    # the slides' (0.842, 0.042, 0.002, 0.114), to 6 significant digits
    np.testing.assert_allclose(a, [0.842034, 0.0419224, 0.00208719, 0.113957], rtol=5e-6)
    assert a.sum() == pytest.approx(1.0, abs=1e-15)
    assert int(a.argmax()) == 0  # "hard max" (1, 0, 0, 0)


def test_softmax_ignores_a_shift_of_all_inputs():
    z = np.array([[5.0, 2.0, -1.0, 3.0]])
    a = get_activation("softmax").forward(z.copy(), np)
    shifted = get_activation("softmax").forward(z + 700.0, np)
    np.testing.assert_allclose(shifted, a, rtol=1e-12)


def test_softmax_of_two_classes_is_logistic_regression():
    """With c = 2, softmax(z1, z2)_1 = σ(z1 − z2)."""
    z = np.array([[1.7, -0.4], [-3.0, 2.5]])
    a = get_activation("softmax").forward(z.copy(), np)
    sig = get_activation("sigmoid").forward((z[:, :1] - z[:, 1:]).copy(), np)
    np.testing.assert_allclose(a[:, :1], sig, rtol=1e-14)


def logistic_regression_trainer(x, y, w, b, lr):
    """A single Dense(1, sigmoid) unit with the given weights, plain SGD on one sample per step."""
    data = make_dataset(np.array(x, dtype=float), np.array(y))
    net = Network({"input_shape": [len(w)], "layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]}, F64)
    net.set_parameters([{"W": np.array([w], dtype=float), "b": np.array([b], dtype=float)}])
    config = TrainingConfig(loss="binary_crossentropy", optimizer="sgd", learning_rate=lr, batch_size=1,
                            val_fraction=0.0, standardize=False, shuffle=False)
    return net, Trainer(net, data, config)


def test_one_gradient_step_of_logistic_regression():
    # the example's sample (5, 3) with y = 1 first; a second sample (y = 0) makes two classes
    net, trainer = logistic_regression_trainer([[5.0, 3.0], [1.0, -2.0]], [1, 0], [0.5, 0.5], 1.0, 0.01)
    report = trainer.step_batch()

    z = 0.5 * 5 + 0.5 * 3 + 1
    a = 1 / (1 + math.exp(-z))
    dz = a - 1
    dw1, dw2, db = 5 * dz, 3 * dz, dz
    assert z == 5.0
    assert a == pytest.approx(0.9933071490757153, rel=1e-15)
    assert abs(a - 0.99307) > 1e-4  # the slide's σ(5) is a rounding slip

    grads = net.gradients_by_layer()[0]
    np.testing.assert_allclose(grads["W"], [[dw1, dw2]], rtol=1e-12)
    np.testing.assert_allclose(grads["b"], [db], rtol=1e-12)

    params = net.parameters_by_layer()[0]
    w1, w2 = params["W"][0]
    b = params["b"][0]
    assert w1 == pytest.approx(0.5 - 0.01 * dw1, rel=1e-14)
    assert w2 == pytest.approx(0.5 - 0.01 * dw2, rel=1e-14)
    assert b == pytest.approx(1.0 - 0.01 * db, rel=1e-14)
    # literal values (40-digit decimal arithmetic), to 6 significant digits and beyond
    assert w1 == pytest.approx(0.500334643, abs=5e-10)  # 0.5003346425462142…
    assert w2 == pytest.approx(0.500200786, abs=5e-10)  # 0.5002007855277285…
    assert b == pytest.approx(1.00006693, abs=5e-9)  # 1.0000669285092428…
    assert f"{w1:.6g}" == "0.500335" and f"{w2:.6g}" == "0.500201" and f"{b:.6g}" == "1.00007"

    # the report covers just that sample: L = −log σ(5)
    assert report.batch == 1 and report.batches == 2 and not report.complete
    assert report.train_loss == pytest.approx(-math.log(a), rel=1e-12)
    assert report.train_loss == pytest.approx(0.00671534849, rel=1e-9)
    assert report.learning_rate == 0.01


def test_logistic_regression_whole_batch_step_matches_the_vectorised_course_formulas():
    """Course notation, features × samples: Z = wᵀX + b, A = σ(Z), dZ = A − Y,
    dw = (1/m)·X·dZᵀ, db = (1/m)·Σ dZ, then w ← w − α·dw."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2, 6))  # n × m, as the course writes it
    Y = np.array([[1, 0, 1, 1, 0, 0]])
    w, b, alpha = np.array([[0.3], [-0.2]]), 0.1, 0.5
    net = Network({"input_shape": [2], "layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]}, F64)
    net.set_parameters([{"W": w.T.copy(), "b": np.array([b])}])
    trainer = Trainer(net, make_dataset(X.T, Y[0]), TrainingConfig(
        optimizer="sgd", learning_rate=alpha, batch_size=6, val_fraction=0.0, standardize=False, shuffle=False))
    trainer.run_epoch()

    Z = w.T @ X + b
    A = np.array([[1 / (1 + math.exp(-v)) for v in Z[0]]])
    dZ = A - Y
    dw = X @ dZ.T / 6
    db = dZ.sum() / 6
    params = net.parameters_by_layer()[0]
    np.testing.assert_allclose(params["W"], (w - alpha * dw).T, rtol=1e-13)
    np.testing.assert_allclose(params["b"], [b - alpha * db], rtol=1e-13)
    cost = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    assert trainer.history.last.train_loss == pytest.approx(cost, rel=1e-12)


def test_one_gradient_step_of_linear_regression():
    """ŷ = w·x + b, J = (ŷ − y)², one step: w ← w − α·2(ŷ − y)·x."""
    x, y, w, b, alpha = (2.0, -1.0), 3.0, (0.4, 0.1), 0.5, 0.05
    data = make_dataset(np.array([x, (0.0, 0.0)]), np.array([y, 0.0]))
    net = Network({"input_shape": [2], "layers": [{"type": "dense", "units": 1, "activation": "linear"}]}, F64)
    net.set_parameters([{"W": np.array([w]), "b": np.array([b])}])
    trainer = Trainer(net, data, TrainingConfig(optimizer="sgd", learning_rate=alpha, batch_size=1,
                                                val_fraction=0.0, standardize=False, shuffle=False))
    report = trainer.step_batch()
    y_hat = w[0] * x[0] + w[1] * x[1] + b  # 0.8 − 0.1 + 0.5 = 1.2
    err = y_hat - y
    params = net.parameters_by_layer()[0]
    np.testing.assert_allclose(params["W"][0], [w[0] - alpha * 2 * err * x[0], w[1] - alpha * 2 * err * x[1]], rtol=1e-14)
    assert params["b"][0] == pytest.approx(b - alpha * 2 * err, rel=1e-14)
    # literals: w = (0.4 + 0.36, 0.1 − 0.18), b = 0.5 + 0.18
    np.testing.assert_allclose(params["W"][0], [0.76, -0.08], rtol=1e-12)
    assert params["b"][0] == pytest.approx(0.68, rel=1e-12)
    assert report.train_loss == pytest.approx(1.8**2, rel=1e-12)
