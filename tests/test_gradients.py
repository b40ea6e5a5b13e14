"""Network.backward against central differences of loss + penalty, in float64.

The objective is J(θ) = loss.value(net.forward(x, training=True), y) + penalty(weights),
differentiated numerically with respect to every element of the flat parameter vector and
compared with the gradient Network.backward (plus add_penalty_gradient) produces. Dropout
masks are held fixed by reseeding each dropout layer's generator before every pass.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.backend import get_backend
from core.layers import Dense, Dropout
from core.losses import add_penalty_gradient, get_loss, penalty_value
from core.network import Network

F64 = get_backend("numpy", "float64")
EPS = 1e-6
MASK_SEED = 12345
KINK_MARGIN = 1e-3


def targets(loss: str, rng: np.random.Generator, m: int, k: int) -> np.ndarray:
    if loss == "mse":
        return rng.normal(size=(m, k))
    if loss == "binary_crossentropy":
        return rng.integers(0, 2, (m, k)).astype(np.float64)
    return np.eye(k)[rng.integers(0, k, m)]


def reseed_dropout(net: Network) -> None:
    for i, layer in enumerate(net.layers):
        if isinstance(layer, Dropout):
            layer._rng = np.random.default_rng([MASK_SEED, i])


def objective(net: Network, loss, x, y, *, l1: float, l2: float) -> float:
    reseed_dropout(net)
    return loss.value(net.forward(x, True), y, np) + penalty_value(net.weights, l1, l2, np)


def analytic_gradient(net: Network, loss, x, y, *, l1: float = 0.0, l2: float = 0.0) -> np.ndarray:
    """What the trainer does for one mini-batch, up to the optimizer step."""
    reseed_dropout(net)
    out = net.forward(x, True)
    delta, is_dz = loss.output_delta(out, y, net.output_activation, np.empty_like(out), np)
    net.backward(delta, is_dz)
    add_penalty_gradient(net.weights, net.grads[: net.n_regularized], l1, l2, np)
    return net.grads.copy()


def numerical_gradient(net: Network, loss, x, y, *, l1: float, l2: float) -> np.ndarray:
    grad = np.empty_like(net.params)
    for i in range(net.params.size):
        keep = net.params[i]
        net.params[i] = keep + EPS
        up = objective(net, loss, x, y, l1=l1, l2=l2)
        net.params[i] = keep - EPS
        down = objective(net, loss, x, y, l1=l1, l2=l2)
        net.params[i] = keep
        grad[i] = (up - down) / (2 * EPS)
    return grad


def pre_activations(net: Network, x: np.ndarray) -> list[np.ndarray]:
    """Every dense layer's Z for a training pass with the fixed dropout masks, computed
    here from the parameters (not by the layers)."""
    reseed_dropout(net)
    net.forward(x, True)  # draws the masks the checks use
    zs, a = [], x
    for layer in net.layers:
        if isinstance(layer, Dense):
            z = a @ layer.params["W"].T + layer.params["b"]
            zs.append(z)
            a = layer.activation.forward(z.copy(), np)
        else:
            a = a if layer._mask is None else a * layer._mask
    return zs


def clear_of_kinks(net: Network, x: np.ndarray, l1: float) -> bool:
    for layer, z in zip([lay for lay in net.layers if isinstance(lay, Dense)], pre_activations(net, x), strict=True):
        if layer.activation_name in ("relu", "leaky_relu") and np.abs(z).min() < KINK_MARGIN:
            return False
    return not (l1 and np.abs(net.weights).min() < KINK_MARGIN)


def check_network(net: Network, loss_name: str, x, y, *, l1: float = 0.0, l2: float = 0.0) -> None:
    loss = get_loss(loss_name)
    assert clear_of_kinks(net, x, l1), "test set-up: a pre-activation or weight sits on a kink"
    analytic = analytic_gradient(net, loss, x, y, l1=l1, l2=l2)
    by_layer = net.gradients_by_layer()
    numeric = numerical_gradient(net, loss, x, y, l1=l1, l2=l2)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)
    # gradients_by_layer gives the same numbers, in the parameters' shapes
    assert len(by_layer) == len(net.layers)
    for layer, grads in zip(net.layers, by_layer, strict=True):
        assert set(grads) == set(layer.params)
        for name, g in grads.items():
            assert g.shape == layer.params[name].shape
            start = _offset(net, layer.params[name])
            np.testing.assert_allclose(g.ravel(), numeric[start:start + g.size], rtol=1e-5, atol=1e-8)


def _offset(net: Network, view: np.ndarray) -> int:
    return (view.__array_interface__["data"][0] - net.params.__array_interface__["data"][0]) // net.params.itemsize


def spec(n_in: int, layers: list[dict]) -> dict:
    return {"input_shape": [n_in], "layers": layers}


def dense(units: int, activation: str, **extra) -> dict:
    return {"type": "dense", "units": units, "activation": activation, **extra}


# ----- one dense layer: every activation, every loss, fused and un-fused -------------------------
SINGLE_LAYER_CASES = [
    ("linear", "mse", 3), ("sigmoid", "mse", 2), ("tanh", "mse", 2), ("relu", "mse", 3),
    ("leaky_relu", "mse", 3), ("softmax", "mse", 3),
    ("sigmoid", "binary_crossentropy", 1), ("sigmoid", "binary_crossentropy", 3), ("softmax", "binary_crossentropy", 3),
    ("softmax", "categorical_crossentropy", 4), ("sigmoid", "categorical_crossentropy", 3),
]


@pytest.mark.parametrize(("activation", "loss", "units"), SINGLE_LAYER_CASES)
def test_single_dense_layer_gradient(activation, loss, units):
    rng = np.random.default_rng(SINGLE_LAYER_CASES.index((activation, loss, units)))
    extra = {"slope": 0.3} if activation == "leaky_relu" else {}
    net = Network(spec(4, [dense(units, activation, initializer="glorot_uniform", **extra)]), F64, seed=3)
    x = rng.normal(size=(6, 4))
    y = targets(loss, rng, 6, units)
    net.layers[0].params["b"][...] = rng.normal(scale=0.5, size=units)
    if activation in ("relu", "leaky_relu"):  # move pre-activations off the kink
        z = x @ net.layers[0].params["W"].T + net.layers[0].params["b"]
        x = x[(np.abs(z) > 0.05).all(axis=1)]
        y = y[: len(x)]
        assert len(x) >= 2
    check_network(net, loss, x, y)


@pytest.mark.parametrize(("l1", "l2"), [(0.1, 0.0), (0.0, 0.3), (0.02, 0.05)])
def test_penalties_enter_the_gradient_on_weights_only(l1, l2):
    rng = np.random.default_rng(11)
    net = Network(spec(3, [dense(4, "tanh"), dense(2, "softmax")]), F64, seed=4)
    for layer in net.layers:
        layer.params["b"][...] = rng.normal(size=layer.params["b"].shape)
    x = rng.normal(size=(5, 3))
    y = targets("categorical_crossentropy", rng, 5, 2)
    check_network(net, "categorical_crossentropy", x, y, l1=l1, l2=l2)
    # the biases' gradient does not change with the penalty
    loss = get_loss("categorical_crossentropy")
    with_penalty = analytic_gradient(net, loss, x, y, l1=l1, l2=l2)
    without = analytic_gradient(net, loss, x, y)
    n = net.n_regularized
    np.testing.assert_array_equal(with_penalty[n:], without[n:])
    assert not np.allclose(with_penalty[:n], without[:n])
    assert n == 4 * 3 + 2 * 4


def test_leaky_relu_hidden_layer_with_non_default_slope():
    rng = np.random.default_rng(12)
    net = Network(spec(2, [dense(5, "leaky_relu", slope=0.2), dense(1, "sigmoid")]), F64, seed=5)
    x = rng.normal(size=(8, 2)) * 2
    y = targets("binary_crossentropy", rng, 8, 1)
    assert net.layers[0].activation.slope == 0.2
    check_network(net, "binary_crossentropy", x, y, l2=0.01)


# ----- dropout --------------------------------------------------------------------------------
def test_dropout_forward_mask_and_prediction_mode():
    net = Network(spec(50, [{"type": "dropout", "rate": 0.4}, dense(1, "linear")]), F64, seed=0)
    drop = net.layers[0]
    x = np.random.default_rng(0).normal(size=(400, 50))
    out = np.array(drop.forward(x, True))
    mask = drop._mask
    assert set(np.unique(mask)) == {0.0, 1 / 0.6}
    np.testing.assert_array_equal(out, x * mask)
    assert 0.37 < (mask == 0).mean() < 0.43
    again = np.array(drop.forward(x, True))
    assert not np.array_equal(again, out)  # a fresh mask every training pass
    assert drop.forward(x, False) is x and drop._mask is None


def test_dropout_backward_uses_the_stored_mask():
    rng = np.random.default_rng(13)
    drop = Dropout(0.3)
    drop.build((6,))
    drop.bind({}, {}, F64, seed=7)
    x = rng.normal(size=(5, 6))
    r = rng.normal(size=(5, 6))
    drop.forward(x, True)
    mask = drop._mask.copy()
    dx = drop.backward(r, True)
    np.testing.assert_array_equal(dx, r * mask)
    # numerical: d/dx Σ r ⊙ dropout(x) with the same mask (same seed → same draw)
    numeric = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        vals = []
        for sign in (1, -1):
            xs = x.copy()
            xs[idx] += sign * EPS
            drop.bind({}, {}, F64, seed=7)
            vals.append((drop.forward(xs, True) * r).sum())
            np.testing.assert_array_equal(drop._mask, mask)
        numeric[idx] = (vals[0] - vals[1]) / (2 * EPS)
    np.testing.assert_allclose(dx, numeric, rtol=1e-7, atol=1e-10)
    assert drop.backward(r, False) is None


def test_network_with_dropout_gradient():
    rng = np.random.default_rng(14)
    net = Network(spec(3, [dense(6, "tanh"), {"type": "dropout", "rate": 0.5}, dense(4, "sigmoid"),
                           {"type": "dropout", "rate": 0.25}, dense(2, "linear")]), F64, seed=6)
    x = rng.normal(size=(7, 3))
    y = targets("mse", rng, 7, 2)
    check_network(net, "mse", x, y, l2=0.1)
    # the masks really dropped something, so the check covered the masked path
    assert any((layer._mask == 0).any() for layer in net.layers if isinstance(layer, Dropout))


# ----- whole networks of random shapes -----------------------------------------------------------
HIDDEN_ACTIVATIONS = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "softmax"]
HEADS = [("sigmoid", "binary_crossentropy"), ("softmax", "categorical_crossentropy"), ("linear", "mse"),
         ("softmax", "mse"), ("sigmoid", "mse"), ("tanh", "mse"), ("sigmoid", "categorical_crossentropy")]


def random_network(rng: np.random.Generator):
    n_in = int(rng.integers(1, 5))
    layers = []
    for _ in range(int(rng.integers(0, 4))):
        act = str(rng.choice(HIDDEN_ACTIVATIONS))
        extra = {"slope": float(rng.uniform(0.05, 0.5))} if act == "leaky_relu" else {}
        units = int(rng.integers(2 if act == "softmax" else 1, 6))  # softmax over one unit is refused
        layers.append(dense(units, act, initializer=str(rng.choice(["glorot_uniform", "he_normal"])), **extra))
        if rng.random() < 0.3:
            layers.append({"type": "dropout", "rate": float(rng.uniform(0.1, 0.6))})
    head_act, loss = HEADS[int(rng.integers(len(HEADS)))]
    k = int(rng.integers(1, 4)) if head_act != "softmax" else int(rng.integers(2, 4))
    layers.append(dense(k, head_act))
    net = Network(spec(n_in, layers), F64, seed=int(rng.integers(1000)))
    for layer in net.layers:  # non-zero biases so every term of the gradient shows
        if "b" in layer.params:
            layer.params["b"][...] = rng.normal(scale=0.3, size=layer.params["b"].shape)
    m = int(rng.integers(1, 7))
    l1 = float(rng.choice([0.0, 0.01]))
    l2 = float(rng.choice([0.0, 0.1]))
    if l1:  # keep every weight away from |w|'s kink at 0
        w = net.weights
        w[...] = np.where(w < 0, np.minimum(w, -0.01), np.maximum(w, 0.01))
    return net, loss, n_in, k, m, l1, l2


@pytest.mark.parametrize("seed", range(16))
def test_random_network_gradient(seed):
    rng = np.random.default_rng(seed)
    net, loss, n_in, k, m, l1, l2 = random_network(rng)
    for _ in range(50):  # draw inputs until no ReLU pre-activation sits near its kink
        x = rng.normal(size=(m, n_in))
        if clear_of_kinks(net, x, l1):
            break
    y = targets(loss, rng, m, k)
    check_network(net, loss, x, y, l1=l1, l2=l2)


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    n_in=st.integers(1, 4),
    hidden=st.lists(st.tuples(st.integers(1, 5), st.sampled_from(HIDDEN_ACTIVATIONS)), max_size=3),
    head=st.sampled_from(HEADS),
    k=st.integers(2, 3),
    m=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_hypothesis_network_gradient(*, n_in, hidden, head, k, m, seed):
    rng = np.random.default_rng(seed)
    layers = [dense(max(u, 2) if a == "softmax" else u, a) for u, a in hidden] + [dense(k, head[0])]  # no one-unit softmax
    net = Network(spec(n_in, layers), F64, seed=seed)
    for layer in net.layers:
        layer.params["b"][...] = rng.normal(scale=0.3, size=layer.params["b"].shape)
    x = rng.normal(size=(m, n_in))
    assume(clear_of_kinks(net, x, 0.0))
    check_network(net, head[1], x, targets(head[1], rng, m, k), l2=0.05)


def test_backward_fills_course_shaped_gradients():
    """dW has the course's shape (units, inputs) and equals dZᵀ·X with dZ = (A − Y)/m."""
    rng = np.random.default_rng(15)
    net = Network(spec(3, [dense(2, "softmax")]), F64, seed=0)
    x = rng.normal(size=(5, 3))
    y = targets("categorical_crossentropy", rng, 5, 2)
    analytic_gradient(net, get_loss("categorical_crossentropy"), x, y)
    w, b = net.layers[0].params["W"], net.layers[0].params["b"]
    z = x @ w.T + b
    a = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    dz_course = (a - y).T  # (n[l], m) as the course writes it
    g = net.gradients_by_layer()[0]
    assert g["W"].shape == (2, 3)
    np.testing.assert_allclose(g["W"], dz_course @ x / 5, rtol=1e-12)  # dW = (1/m)·dZ·A[l−1]ᵀ
    np.testing.assert_allclose(g["b"], dz_course.sum(axis=1) / 5, rtol=1e-12, atol=1e-16)
