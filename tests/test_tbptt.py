"""Truncated backpropagation through time (``Recurrent.bptt_steps``): k ≥ T is full BPTT bit for
bit; k < T cuts the gradient through the state (h, and the LSTM's c) at the steps T − k, T − 2k,
…, checked against finite differences of a float64 reference whose state is a constant there."""

from __future__ import annotations

import numpy as np
import pytest

from core.backend import get_backend
from core.network import Network
from core.recurrent import set_bptt_steps

F64 = get_backend("numpy", "float64")
STEPS, FEATURES, UNITS, SAMPLES = 7, 2, 3, 2
KINDS = ("rnn", "lstm", "gru")


def layer_net(kind: str, sequences_out: bool, seed: int = 5) -> Network:
    """One recurrent layer over (STEPS, FEATURES), its parameters (biases too) away from 0."""
    net = Network({"input_shape": [STEPS, FEATURES], "layers": [{"type": kind, "units": UNITS, "return_sequences": sequences_out}]},
                  backend=F64, seed=seed)
    net.params[:] += np.random.default_rng(seed).standard_normal(net.params.size) * 0.5
    return net


def inputs() -> np.ndarray:
    """(SAMPLES, STEPS, FEATURES) float64 sequences."""
    return np.random.default_rng(1).standard_normal((SAMPLES, STEPS, FEATURES))


def output_weights(net: Network) -> np.ndarray:
    """The loss L = Σ output ⊙ weights, weights shaped like the output (m, units) or (m, T, units)."""
    return np.random.default_rng(2).standard_normal((SAMPLES, *net.output_shape))


def analytic(net: Network, x: np.ndarray, weights: np.ndarray, bptt_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(dL/dparams (P,), dL/dx (m, T, F)) of the network's layers, each with ``bptt_steps``."""
    set_bptt_steps(net.layers, bptt_steps)
    out = x
    for layer in net.layers:
        out = layer.forward(out, True)
    grad = weights
    for layer in reversed(net.layers):
        grad = layer.backward(grad, True)
    return net.grads.copy(), grad.copy()


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def states(kind: str, p: dict[str, np.ndarray], x: np.ndarray, frozen: dict[int, tuple] | None = None) -> tuple[np.ndarray, dict]:
    """Every h_t (m, T, units) by the layers' formulas, float64, and the state (h_t, c_t) (each (m, units))
    each step t (0-based) starts from; with ``frozen`` {t: (h, c)}, step t starts from that state instead,
    a constant (the truncation's cut before step t)."""
    u, m = p["U"].shape[1], x.shape[0]
    h, c = np.zeros((m, u)), np.zeros((m, u))
    out, started = np.empty((m, x.shape[1], u)), {}
    for t in range(x.shape[1]):
        if frozen and t in frozen:
            h, c = frozen[t]
        started[t] = (h, c)
        xt = x[:, t]
        if kind == "rnn":
            h = np.tanh(xt @ p["W"].T + h @ p["U"].T + p["b"])
        elif kind == "lstm":
            a = xt @ p["W"].T + h @ p["U"].T + p["b"]
            i, f, g, o = sigmoid(a[:, :u]), sigmoid(a[:, u:2 * u]), np.tanh(a[:, 2 * u:3 * u]), sigmoid(a[:, 3 * u:])
            c = f * c + i * g
            h = o * np.tanh(c)
        else:
            gx, gh = xt @ p["W"].T + p["b"], h @ p["U"].T + p["bh"]
            r, z = sigmoid(gx[:, :u] + gh[:, :u]), sigmoid(gx[:, u:2 * u] + gh[:, u:2 * u])
            n = np.tanh(gx[:, 2 * u:] + r * gh[:, 2 * u:])
            h = (1 - z) * n + z * h
        out[:, t] = h
    return out, started


def truncated_reference(net: Network, x: np.ndarray, weights: np.ndarray, k: int, eps: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """(dL/dparams, dL/dx) by central differences of L = Σ output ⊙ weights through the network's
    recurrent layers, the state each step T − k, T − 2k, … > 0 of each layer starts from held at its
    value for the unperturbed parameters and inputs."""
    cuts = list(range(STEPS - k, 0, -k))
    frozen: list[dict[int, tuple]] = [{} for _ in net.layers]

    def loss(hold: bool) -> float:
        out = x
        for layer, held in zip(net.layers, frozen, strict=True):
            h, started = states(layer.kind, layer.params, out, held if hold else None)  # params: views of net.params
            if not hold:
                held.update({t: started[t] for t in cuts})
            out = h if layer.return_sequences else h[:, -1]
        return float((out * weights).sum())

    loss(False)
    grads = []
    for vector in (net.params, x):
        flat, grad = vector.reshape(-1), np.empty(vector.size)
        for i in range(flat.size):
            keep = flat[i]
            flat[i] = keep + eps
            up = loss(True)
            flat[i] = keep - eps
            down = loss(True)
            flat[i] = keep
            grad[i] = (up - down) / (2 * eps)
        grads.append(grad.reshape(vector.shape))
    return grads[0], grads[1]


@pytest.mark.parametrize("sequences_out", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_truncation_at_or_beyond_the_sequence_is_full_bptt_bit_for_bit(kind, sequences_out):
    net, x = layer_net(kind, sequences_out), inputs()
    weights = output_weights(net)
    full = analytic(net, x, weights, 0)
    for k in (STEPS, STEPS + 3):
        truncated = analytic(net, x, weights, k)
        np.testing.assert_array_equal(truncated[0], full[0])
        np.testing.assert_array_equal(truncated[1], full[1])


@pytest.mark.parametrize("sequences_out", [False, True])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("k", [1, 3])
def test_truncated_gradients_are_those_of_a_state_held_constant_at_each_chunks_start(kind, sequences_out, k):
    """T = 7: k = 3 cuts before steps 4 and 1 (chunks [4, 7), [1, 4), [0, 1)); k = 1 before every step."""
    net, x = layer_net(kind, sequences_out), inputs()
    weights = output_weights(net)
    d_params, d_x = analytic(net, x, weights, k)
    ref_params, ref_x = truncated_reference(net, x, weights, k)
    np.testing.assert_allclose(d_params, ref_params, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(d_x, ref_x, rtol=1e-6, atol=1e-9)
    full_params, _ = analytic(net, x, weights, 0)
    assert not np.allclose(d_params, full_params)  # the cut changes the gradient


def test_in_a_stack_each_recurrent_layer_cuts_its_own_state():
    """LSTM (sequences) → GRU, k = 3: the GRU's gradient reaches the LSTM at every step of its chunk."""
    net = Network({"input_shape": [STEPS, FEATURES], "layers": [{"type": "lstm", "units": UNITS, "return_sequences": True},
                                                                {"type": "gru", "units": UNITS}]}, backend=F64, seed=4)
    net.params[:] += np.random.default_rng(4).standard_normal(net.params.size) * 0.5
    x = inputs()
    weights = output_weights(net)
    d_params, d_x = analytic(net, x, weights, 3)
    ref_params, ref_x = truncated_reference(net, x, weights, 3)
    np.testing.assert_allclose(d_params, ref_params, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(d_x, ref_x, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_with_only_the_last_output_the_steps_before_the_last_chunk_get_no_gradient(kind):
    net, x = layer_net(kind, False), inputs()
    d_x = analytic(net, x, output_weights(net), 3)[1]
    assert not d_x[:, : STEPS - 3].any() and d_x[:, STEPS - 3:].all()


def test_the_cut_steps_count_back_from_the_last_step():
    layer = layer_net("lstm", True).layers[0]
    expected = {0: set(), 1: {1, 2, 3, 4, 5, 6}, 2: {5, 3, 1}, 3: {4, 1}, 6: {1}, 7: set(), 50: set()}
    for k, cuts in expected.items():
        layer.bptt_steps = k
        assert layer.cut_steps() == cuts, k


@pytest.mark.parametrize("kind", KINDS)
def test_a_layer_starts_with_full_bptt_and_the_forward_pass_does_not_depend_on_truncation(kind):
    net, x = layer_net(kind, True), inputs()
    layer = net.layers[0]
    assert layer.bptt_steps == 0
    full = layer.forward(x, True).copy()
    layer.bptt_steps = 2
    np.testing.assert_array_equal(layer.forward(x, True), full)


@pytest.mark.parametrize("kind", KINDS)
def test_recorded_step_norms_are_of_the_truncated_gradient(kind):
    """Without return_sequences and k = 3 only the last three states get a gradient."""
    net, x = layer_net(kind, False), inputs()
    layer = net.layers[0]
    layer.record_step_norms = True
    analytic(net, x, output_weights(net), 3)
    assert not layer.step_norms[: STEPS - 3].any() and layer.step_norms[STEPS - 3:].all()


def test_set_bptt_steps_sets_every_recurrent_layer_of_a_network_and_back_to_full():
    net = Network({"input_shape": [STEPS, FEATURES], "layers": [
        {"type": "lstm", "units": UNITS, "return_sequences": True}, {"type": "gru", "units": UNITS},
        {"type": "dense", "units": 1, "activation": "linear"}]}, backend=F64, seed=0)
    set_bptt_steps(net.layers, 4)
    assert [getattr(layer, "bptt_steps", None) for layer in net.layers] == [4, 4, None]
    set_bptt_steps(net.layers, 0)
    assert [layer.cut_steps() for layer in net.layers[:2]] == [frozenset(), frozenset()]
