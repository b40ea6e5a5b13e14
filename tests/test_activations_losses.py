"""Activations, losses, penalties and metrics against independent formulas and central
differences, in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.activations import ACTIVATIONS, LeakyReLU, get_activation
from core.losses import (
    LOSSES,
    accuracy,
    add_penalty_gradient,
    get_loss,
    penalty_value,
    r_squared,
)

EPS = 1e-6


def reference_activation(name: str, z: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """g(z) written straight from the textbook definitions (not from core)."""
    if name == "linear":
        return z.copy()
    if name == "sigmoid":
        return np.vectorize(lambda v: 1.0 / (1.0 + math.exp(-v)))(z)
    if name == "tanh":
        return np.vectorize(math.tanh)(z)
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, slope * z)
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise AssertionError(name)


def pre_activations(rng: np.random.Generator, shape=(5, 4)) -> np.ndarray:
    """Random z with |z| in [0.2, 3]: far from the ReLU kink at 0."""
    return rng.uniform(0.2, 3.0, shape) * rng.choice([-1.0, 1.0], shape)


def apply(act, z: np.ndarray) -> np.ndarray:
    """g(z) on a copy (activations work in place)."""
    return act.forward(z.copy(), np)


ACTIVATION_CASES = [("linear", 0.01), ("sigmoid", 0.01), ("tanh", 0.01), ("relu", 0.01),
                    ("leaky_relu", 0.01), ("leaky_relu", 0.2), ("softmax", 0.01)]


# ----- activations ----------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "slope"), ACTIVATION_CASES)
def test_activation_forward_matches_definition(name, slope):
    z = pre_activations(np.random.default_rng(1))
    act = get_activation(name, slope)
    np.testing.assert_allclose(apply(act, z), reference_activation(name, z, slope), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(("name", "slope"), ACTIVATION_CASES)
def test_activation_backward_matches_central_differences(name, slope):
    """dZ = backward(A, dA) must equal ∂/∂Z of Σ dA ⊙ g(Z), checked element by element."""
    rng = np.random.default_rng(2)
    z = pre_activations(rng)
    da = rng.normal(size=z.shape)
    act = get_activation(name, slope)
    a = apply(act, z)
    out = np.empty_like(z)
    analytic = np.array(act.backward(a, da.copy(), out, np), copy=True)

    numeric = np.empty_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += EPS
        zm[idx] -= EPS
        numeric[idx] = ((apply(act, zp) * da).sum() - (apply(act, zm) * da).sum()) / (2 * EPS)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_leaky_relu_uses_its_slope():
    act = get_activation("leaky_relu", 0.25)
    z = np.array([[-2.0, 3.0]])
    np.testing.assert_array_equal(apply(act, z), [[-0.5, 3.0]])
    dz = act.backward(apply(act, z), np.ones((1, 2)), np.empty((1, 2)), np)
    np.testing.assert_array_equal(dz, [[0.25, 1.0]])


@pytest.mark.parametrize("slope", [-0.1, 1.0, 2.0])
def test_leaky_relu_rejects_bad_slope(slope):
    with pytest.raises(ValueError, match="slope"):
        LeakyReLU(slope)


def test_unknown_activation_is_rejected():
    with pytest.raises(ValueError, match="unknown activation"):
        get_activation("swishy")
    assert set(ACTIVATIONS) == {"linear", "sigmoid", "tanh", "relu", "leaky_relu", "softmax"}


def test_sigmoid_and_softmax_are_stable_for_huge_inputs():
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # overflow or NaN fails the test
        a = apply(get_activation("sigmoid"), np.array([[-1000.0, 0.0, 1000.0]]))
        s = apply(get_activation("softmax"), np.array([[1000.0, 1001.0, -1000.0]]))
    np.testing.assert_allclose(a, [[0.0, 0.5, 1.0]], atol=1e-300)
    e = math.exp(-1.0)
    np.testing.assert_allclose(s, [[e / (1 + e), 1 / (1 + e), 0.0]], rtol=1e-14, atol=1e-300)


def test_activations_work_in_float32_without_upcasting():
    z = pre_activations(np.random.default_rng(3)).astype(np.float32)
    for name in ACTIVATIONS:
        act = get_activation(name)
        a = apply(act, z)
        assert a.dtype == np.float32, name
        dz = act.backward(a, np.ones_like(a), np.empty_like(a), np)
        assert dz.dtype == np.float32, name


# ----- losses ---------------------------------------------------------------------------------
def targets_for(loss: str, rng: np.random.Generator, shape) -> np.ndarray:
    if loss == "mse":
        return rng.normal(size=shape)
    if loss == "binary_crossentropy":
        return rng.integers(0, 2, shape).astype(np.float64)
    return np.eye(shape[1])[rng.integers(0, shape[1], shape[0])]


def reference_loss(loss: str, a: np.ndarray, y: np.ndarray) -> float:
    m = a.shape[0]
    if loss == "mse":
        return float(sum((ai - yi) ** 2 for ai, yi in zip(a.ravel(), y.ravel(), strict=True)) / a.size)
    if loss == "binary_crossentropy":
        return -sum(yi * math.log(ai) + (1 - yi) * math.log(1 - ai) for ai, yi in zip(a.ravel(), y.ravel(), strict=True)) / m
    return -sum(yi * math.log(ai) for ai, yi in zip(a.ravel(), y.ravel(), strict=True)) / m


@pytest.mark.parametrize("loss", LOSSES)
def test_loss_value_matches_definition(loss):
    rng = np.random.default_rng(4)
    a = rng.uniform(0.05, 0.95, (6, 3))
    y = targets_for(loss, rng, a.shape)
    assert get_loss(loss).value(a, y, np) == pytest.approx(reference_loss(loss, a, y), rel=1e-13)


def test_mse_of_one_output_is_the_course_formula():
    a = np.array([[1.0], [2.0], [4.0]])
    y = np.array([[0.0], [2.0], [1.0]])
    assert get_loss("mse").value(a, y, np) == pytest.approx((1 + 0 + 9) / 3, rel=1e-15)


@pytest.mark.parametrize("loss", LOSSES)
def test_loss_gradient_matches_central_differences(loss):
    rng = np.random.default_rng(5)
    a = rng.uniform(0.1, 0.9, (4, 3))
    y = targets_for(loss, rng, a.shape)
    fn = get_loss(loss)
    analytic = fn.gradient(a, y, np)
    numeric = np.empty_like(a)
    for idx in np.ndindex(a.shape):
        ap, am = a.copy(), a.copy()
        ap[idx] += EPS
        am[idx] -= EPS
        numeric[idx] = (fn.value(ap, y, np) - fn.value(am, y, np)) / (2 * EPS)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-10)


# (output activation, loss): the fused pairs and several un-fused ones.
HEAD_CASES = [
    ("sigmoid", "binary_crossentropy"), ("softmax", "categorical_crossentropy"), ("linear", "mse"),
    ("softmax", "mse"), ("sigmoid", "mse"), ("tanh", "mse"), ("relu", "mse"), ("leaky_relu", "mse"),
    ("sigmoid", "categorical_crossentropy"), ("softmax", "binary_crossentropy"),
]


@pytest.mark.parametrize(("activation", "loss"), HEAD_CASES)
def test_output_delta_is_dloss_dz(activation, loss):
    """output_delta, followed by the activation's backward when not fused, equals the
    numerical dL/dZ of L(g(Z), Y)."""
    rng = np.random.default_rng(6)
    z = pre_activations(rng, (5, 3))
    y = targets_for(loss, rng, z.shape)
    act, fn = get_activation(activation), get_loss(loss)
    a = apply(act, z)
    delta, is_dz = fn.output_delta(a, y, activation, np.empty_like(a), np)
    assert is_dz == (activation == fn.fused_activation)
    dz = np.array(delta) if is_dz else act.backward(a, np.array(delta), np.empty_like(a), np)

    numeric = np.empty_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += EPS
        zm[idx] -= EPS
        numeric[idx] = (fn.value(apply(act, zp), y, np) - fn.value(apply(act, zm), y, np)) / (2 * EPS)
    np.testing.assert_allclose(dz, numeric, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize(("activation", "loss"), HEAD_CASES[:3])
def test_fused_delta_equals_unfused_chain(activation, loss):
    rng = np.random.default_rng(7)
    z = pre_activations(rng, (4, 3))
    y = targets_for(loss, rng, z.shape)
    act, fn = get_activation(activation), get_loss(loss)
    a = apply(act, z)
    fused, is_dz = fn.output_delta(a, y, activation, np.empty_like(a), np)
    assert is_dz
    chained = act.backward(a, fn.gradient(a, y, np), np.empty_like(a), np)
    np.testing.assert_allclose(fused, chained, rtol=1e-9, atol=1e-14)
    m, k = a.shape
    scale = 2.0 / (m * k) if loss == "mse" else 1.0 / m
    np.testing.assert_allclose(fused, (a - y) * scale, rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_is_finite_at_saturated_outputs(dtype):
    a = np.array([[0.0], [1.0], [1.0]], dtype)
    y = np.array([[1.0], [0.0], [1.0]], dtype)
    bce = get_loss("binary_crossentropy")
    assert math.isfinite(bce.value(a, y, np)) and bce.value(a, y, np) > 10
    assert np.isfinite(bce.gradient(a, y, np)).all()
    cce = get_loss("categorical_crossentropy")
    a2 = np.array([[0.0, 1.0]], dtype)
    y2 = np.array([[1.0, 0.0]], dtype)
    assert math.isfinite(cce.value(a2, y2, np)) and cce.value(a2, y2, np) > 10
    assert np.isfinite(cce.gradient(a2, y2, np)).all()


def test_unknown_loss_is_rejected():
    with pytest.raises(ValueError, match="unknown loss"):
        get_loss("hinge")


# ----- penalties ------------------------------------------------------------------------------
@pytest.mark.parametrize(("l1", "l2"), [(0.0, 0.0), (0.3, 0.0), (0.0, 0.7), (0.05, 0.2)])
def test_penalty_value_and_gradient(l1, l2):
    rng = np.random.default_rng(8)
    w = rng.uniform(0.1, 2.0, 9) * rng.choice([-1.0, 1.0], 9)
    expected = l1 * sum(abs(v) for v in w) + 0.5 * l2 * sum(v * v for v in w)
    assert penalty_value(w, l1, l2, np) == pytest.approx(expected, rel=1e-14, abs=0)

    g0 = rng.normal(size=9)
    g = g0.copy()
    add_penalty_gradient(w, g, l1, l2, np)
    numeric = np.array([
        (penalty_value(w + EPS * e, l1, l2, np) - penalty_value(w - EPS * e, l1, l2, np)) / (2 * EPS)
        for e in np.eye(9)
    ])
    np.testing.assert_allclose(g - g0, numeric, rtol=1e-6, atol=1e-10)


def test_penalty_gradient_is_written_in_place_on_a_view():
    """The trainer passes a slice of the flat gradient vector: the update must land there."""
    grads = np.zeros(5)
    weights = np.array([1.0, -2.0, 3.0])
    add_penalty_gradient(weights, grads[:3], 0.5, 0.1, np)
    np.testing.assert_allclose(grads, [0.5 + 0.1, -0.5 - 0.2, 0.5 + 0.3, 0.0, 0.0], rtol=1e-15)


# ----- metrics --------------------------------------------------------------------------------
def test_accuracy_binary_and_multiclass():
    a = np.array([[0.9], [0.2], [0.6], [0.4]])
    y = np.array([[1.0], [0.0], [0.0], [0.0]])
    assert accuracy(a, y, np) == 0.75
    a3 = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
    y3 = np.eye(3)[[1, 2, 2]]
    assert accuracy(a3, y3, np) == pytest.approx(2 / 3)


def test_r_squared():
    rng = np.random.default_rng(9)
    y = rng.normal(size=(20, 2))
    a = y + rng.normal(scale=0.3, size=y.shape)
    expected = np.mean([1 - ((y[:, j] - a[:, j]) ** 2).sum() / ((y[:, j] - y[:, j].mean()) ** 2).sum() for j in range(2)])
    assert r_squared(a, y, np) == pytest.approx(expected, rel=1e-13)
    assert r_squared(y, y, np) == 1.0
    mean_pred = np.broadcast_to(y.mean(axis=0), y.shape)
    assert r_squared(mean_pred, y, np) == pytest.approx(0.0, abs=1e-14)
