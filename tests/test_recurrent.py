"""The recurrent layers (SimpleRNN, LSTM, GRU) and Embedding: gradients against finite
differences, forward against the formulas written out step by step, a small learning task,
the --layers syntax and the schema."""

from __future__ import annotations

import re

import numpy as np
import pytest

from core.backend import get_backend
from core.experiment import layers_text, parse_layers
from core.layer_types import input_shape_for
from core.layers import SpecError
from core.network import Network
from core.optimizers import Adam
from core.schema import validate_experiment
from core.sequences import adding_problem, parity, sine_forecast
from core.trainer import Trainer, TrainingConfig

F64 = get_backend("numpy", "float64")
STEPS, FEATURES, UNITS, SAMPLES = 4, 3, 5, 2
KINDS = ("rnn", "lstm", "gru")


def network(layers: list[dict], input_shape=(STEPS, FEATURES), backend=F64, seed: int = 3) -> Network:
    return Network({"input_shape": list(input_shape), "layers": layers}, backend=backend, seed=seed)


def chain_forward(net: Network, x: np.ndarray, training: bool) -> np.ndarray:
    for layer in net.layers:
        x = layer.forward(x, training)
    return x


def analytic(net: Network, x: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """dL/dparams and dL/dx of L = Σ output ⊙ weights, every layer asked for its input gradient."""
    chain_forward(net, x, True)
    grad = weights
    for layer in reversed(net.layers):
        grad = layer.backward(grad, True)
    return net.grads.copy(), None if grad is None else grad.copy()


def numeric(net: Network, x: np.ndarray, weights: np.ndarray, vector: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of L = Σ output ⊙ weights over each element of ``vector`` (params or x)."""
    flat = vector.reshape(-1)
    out = np.empty(flat.size)
    for k in range(flat.size):
        keep = flat[k]
        flat[k] = keep + eps
        up = float((chain_forward(net, x, False) * weights).sum())
        flat[k] = keep - eps
        down = float((chain_forward(net, x, False) * weights).sum())
        flat[k] = keep
        out[k] = (up - down) / (2 * eps)
    return out.reshape(vector.shape)


def check_gradients(net: Network, x: np.ndarray, input_grad: bool = True) -> None:
    rng = np.random.default_rng(7)
    weights = rng.standard_normal((x.shape[0], *net.output_shape))
    net.params[:] += rng.standard_normal(net.params.size) * 0.3  # biases away from 0 too
    d_params, d_x = analytic(net, x, weights)
    np.testing.assert_allclose(d_params, numeric(net, x, weights, net.params), rtol=1e-6, atol=1e-8)
    if input_grad:
        np.testing.assert_allclose(d_x, numeric(net, x, weights, x), rtol=1e-6, atol=1e-8)


def sequences(rng_seed: int = 0) -> np.ndarray:
    return np.random.default_rng(rng_seed).standard_normal((SAMPLES, STEPS, FEATURES))


# ----- gradients ------------------------------------------------------------------------------
@pytest.mark.parametrize("sequences_out", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_recurrent_gradients_match_finite_differences(kind, sequences_out):
    net = network([{"type": kind, "units": UNITS, "return_sequences": sequences_out}])
    assert net.output_shape == ((STEPS, UNITS) if sequences_out else (UNITS,))
    check_gradients(net, sequences())


@pytest.mark.parametrize("activation", ["relu", "linear", "sigmoid"])
def test_simple_rnn_gradients_with_other_activations(activation):
    check_gradients(network([{"type": "rnn", "units": UNITS, "activation": activation, "return_sequences": True}]),
                    sequences(1))


def test_a_stack_lstm_sequences_lstm_dense_has_exact_gradients():
    net = network([{"type": "lstm", "units": UNITS, "return_sequences": True}, {"type": "lstm", "units": 4},
                   {"type": "dense", "units": 2, "activation": "tanh"}])
    check_gradients(net, sequences(2))


def test_embedding_gradients_and_lookup():
    net = network([{"type": "embedding", "vocabulary": 6, "dimension": 3}, {"type": "gru", "units": 4}], input_shape=(STEPS,))
    ids = np.array([[0.0, 5.0, 5.0, 2.0], [1.0, 2.0, 2.0, 2.0]])
    rng = np.random.default_rng(5)
    weights = rng.standard_normal((2, 4))
    d_params, d_x = analytic(net, ids, weights)
    assert d_x is None  # ids have no gradient
    np.testing.assert_allclose(d_params, numeric(net, ids, weights, net.params), rtol=1e-6, atol=1e-8)
    embedding = net.layers[0]
    assert embedding.grads["W"][[3, 4]].tolist() == [[0.0] * 3] * 2  # tokens not in the batch learn nothing
    np.testing.assert_array_equal(embedding.forward(ids, False), embedding.params["W"][ids.astype(int)])


def test_an_embedding_refuses_ids_outside_its_vocabulary():
    net = network([{"type": "embedding", "vocabulary": 6, "dimension": 3}, {"type": "lstm", "units": 2}], input_shape=(STEPS,))
    with pytest.raises(SpecError, match="token id 6 is outside the embedding's vocabulary: ids must be 0 to 5"):
        net.forward(np.array([[0.0, 1.0, 6.0, 2.0]]))
    with pytest.raises(SpecError, match="token id -1"):
        net.forward(np.array([[0.0, -1.0, 3.0, 2.0]]))


# ----- forward: the formulas step by step --------------------------------------------------------
def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def reference(kind: str, p: dict[str, np.ndarray], x: np.ndarray, nudge: tuple[int, np.ndarray] | None = None,
              gates: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Every h_t (m, T, units) by the issue's formulas, one sample at a time, float64.
    ``nudge`` (t, δ (m, units)) adds δ to h_{t+1} before the later steps read it; ``gates``, when
    given, receives each step's gate values by name, (m, T, units) (LSTM also the cell c)."""
    u = p["U"].shape[1]
    out = np.zeros((x.shape[0], x.shape[1], u))
    names = {"rnn": (), "lstm": ("i", "f", "g", "o", "c"), "gru": ("r", "z", "n")}[kind]
    for name in names if gates is not None else ():
        gates[name] = np.zeros_like(out)
    for s, sample in enumerate(x):
        h, c = np.zeros(u), np.zeros(u)
        for t, xt in enumerate(sample):
            if kind == "rnn":
                h, values = np.tanh(p["W"] @ xt + p["U"] @ h + p["b"]), ()
            elif kind == "lstm":
                a = p["W"] @ xt + p["U"] @ h + p["b"]
                i, f, g, o = sigmoid(a[:u]), sigmoid(a[u:2 * u]), np.tanh(a[2 * u:3 * u]), sigmoid(a[3 * u:])
                c = f * c + i * g
                h, values = o * np.tanh(c), (i, f, g, o, c)
            else:
                gx, gh = p["W"] @ xt + p["b"], p["U"] @ h + p["bh"]
                r, z = sigmoid(gx[:u] + gh[:u]), sigmoid(gx[u:2 * u] + gh[u:2 * u])
                n = np.tanh(gx[2 * u:] + r * gh[2 * u:])
                h, values = (1 - z) * n + z * h, (r, z, n)
            if nudge is not None and nudge[0] == t:
                h = h + nudge[1][s]
            out[s, t] = h
            for name, value in zip(names, values, strict=True) if gates is not None else ():
                gates[name][s, t] = value
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_forward_is_the_formulas_of_pytorch(kind):
    x = sequences(3)
    every = network([{"type": kind, "units": UNITS, "return_sequences": True}])
    every.params[:] += np.random.default_rng(4).standard_normal(every.params.size) * 0.3
    last = network([{"type": kind, "units": UNITS}])
    last.params[:] = every.params
    expected = reference(kind, every.parameters_by_layer()[0], x)
    np.testing.assert_allclose(every.forward(x), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(last.forward(x), expected[:, -1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(last.forward(x, training=True), expected[:, -1], rtol=1e-12, atol=1e-12)


def test_the_layout_and_parameter_counts_are_pytorchs():
    net = network([{"type": "rnn", "units": 5, "return_sequences": True}, {"type": "lstm", "units": 4, "return_sequences": True},
                   {"type": "gru", "units": 2}])
    shapes = [{k: v.shape for k, v in layer.items()} for layer in net.parameters_by_layer()]
    assert shapes == [{"W": (5, 3), "U": (5, 5), "b": (5,)}, {"W": (16, 5), "U": (16, 4), "b": (16,)},
                      {"W": (6, 4), "U": (6, 2), "b": (6,), "bh": (6,)}]
    assert [layer.parameter_count for layer in net.layers] == [5 * 9, 16 * 10, 6 * 8]
    assert [layer.describe() for layer in net.layers] == ["SimpleRNN(5, tanh, sequences)", "LSTM(4, sequences)", "GRU(2)"]
    assert net.layers[0].weight_axes == ("gate unit", "input")
    assert net.layers[1].weight_matrix(net.parameters_by_layer()[1]["W"]).shape == (16, 5)


def test_float32_stays_float32():
    net = network([{"type": "embedding", "vocabulary": 4, "dimension": 3}, {"type": "lstm", "units": 3, "return_sequences": True},
                   {"type": "gru", "units": 3, "return_sequences": True}, {"type": "rnn", "units": 2}],
                  input_shape=(STEPS,), backend=get_backend("numpy", "float32"))
    x = np.array([[0, 1, 2, 3]], dtype=np.float32)
    out = net.forward(x, training=True)
    assert out.dtype == np.float32
    net.backward(np.ones_like(out), grad_is_dz=False)
    assert net.grads.dtype == np.float32 and np.isfinite(net.grads).all() and np.abs(net.grads).sum() > 0


# ----- shapes and specs ---------------------------------------------------------------------------
def test_shape_problems_are_one_clear_line():
    with pytest.raises(SpecError, match=r"layer 1 \(lstm\): LSTM needs sequences \(steps, features\) per sample, got shape \(6,\); "
                                        "an Embedding layer first"):
        network([{"type": "lstm", "units": 2}], input_shape=(6,))
    with pytest.raises(SpecError, match=r"layer 1 \(embedding\): Embedding needs token ids \(steps,\) per sample"):
        network([{"type": "embedding", "vocabulary": 3, "dimension": 2}])
    with pytest.raises(SpecError, match="layer 2 .dense.: Dense needs a flat input"):
        network([{"type": "gru", "units": 2, "return_sequences": True}, {"type": "dense", "units": 1}])
    with pytest.raises(SpecError, match="units must be a whole number ≥ 1, got 0"):
        network([{"type": "gru", "units": 0}])
    with pytest.raises(SpecError, match="return_sequences must be true or false"):
        network([{"type": "lstm", "units": 2, "return_sequences": "yes"}])
    with pytest.raises(SpecError, match="unknown activation 'softmax' for a recurrent layer"):
        network([{"type": "rnn", "units": 2, "activation": "softmax"}])
    with pytest.raises(SpecError, match="bad settings for a lstm layer"):
        network([{"type": "lstm", "units": 2, "activation": "tanh"}])
    flat = network([{"type": "rnn", "units": 2, "return_sequences": True}, {"type": "flatten"}, {"type": "dense", "units": 1}])
    assert flat.output_shape == (1,)


def test_specs_round_trip_through_the_layers():
    specs = [{"type": "embedding", "vocabulary": 9, "dimension": 4},
             {"type": "rnn", "units": 3, "activation": "relu", "return_sequences": True, "initializer": "he_normal"},
             {"type": "lstm", "units": 3, "return_sequences": True}, {"type": "gru", "units": 2, "return_sequences": False}]
    net = network(specs, input_shape=(STEPS,))
    assert net.spec()["layers"] == specs


def test_the_layers_syntax_parses_and_round_trips():
    text = "embedding:50:8,rnn:16:relu:seq,lstm:32:seq,gru:8,1:linear"
    layers = parse_layers(text)
    assert layers == [{"type": "embedding", "vocabulary": 50, "dimension": 8},
                      {"type": "rnn", "units": 16, "activation": "relu", "return_sequences": True},
                      {"type": "lstm", "units": 32, "return_sequences": True}, {"type": "gru", "units": 8},
                      {"type": "dense", "units": 1, "activation": "linear"}]
    assert layers_text(layers) == text
    assert parse_layers("rnn:4:tanh") == [{"type": "rnn", "units": 4, "activation": "tanh"}]
    assert layers_text([{"type": "rnn", "units": 4, "activation": "tanh", "return_sequences": False}]) == "rnn:4"


@pytest.mark.parametrize(("text", "syntax"), [("lstm", "lstm:UNITS[:seq]"), ("lstm:4:tanh", "lstm:UNITS[:seq]"),
                                              ("gru:x", "gru:UNITS[:seq]"), ("embedding:5", "embedding:VOCAB:DIM"),
                                              ("rnn:4:tanh:seq:2", "rnn:UNITS[:ACTIVATION][:seq]")])
def test_bad_layers_syntax_says_how_to_write_it(text, syntax):
    with pytest.raises(SpecError, match=re.escape(f"bad layer '{text}': write {syntax}")):
        parse_layers(text)


def experiment(layers: list[dict]) -> dict:
    return {"dataset": {"name": "xor"}, "network": {"input_shape": [STEPS, FEATURES], "layers": layers}}


def test_the_schema_accepts_the_new_layers_and_names_a_bad_key():
    validate_experiment(experiment([{"type": "rnn", "units": 4, "activation": "relu", "return_sequences": True},
                                    {"type": "lstm", "units": 4, "return_sequences": True}, {"type": "gru", "units": 3},
                                    {"type": "dense", "units": 1}]))
    validate_experiment(experiment([{"type": "embedding", "vocabulary": 5, "dimension": 2}, {"type": "dense", "units": 1}]))
    for layer, where in (({"type": "lstm", "units": 4, "activation": "tanh"}, "activation"),
                         ({"type": "gru", "units": 0}, "units"), ({"type": "rnn", "units": 2, "return_sequences": 1},
                                                                  "return_sequences"),
                         ({"type": "embedding", "vocabulary": 5}, "dimension")):
        with pytest.raises(Exception) as info:
            validate_experiment(experiment([layer, {"type": "dense", "units": 1}]))
        message = str(info.value)
        assert "\n" not in message and where in message, message


# ----- learning --------------------------------------------------------------------------------------
def test_a_simple_rnn_learns_to_sum_a_sequence():
    """rnn → dense on y = Σ x_t of 5 steps; a plain loop of forward, backward and Adam (the Trainer
    takes (n,) or image samples only so far). The MSE falls more than tenfold."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (256, 5, 1)).astype(np.float32)
    y = x.sum(axis=1)
    net = network([{"type": "rnn", "units": 8}, {"type": "dense", "units": 1}], input_shape=(5, 1),
                  backend=get_backend("numpy", "float32"), seed=1)
    adam = Adam(0.01)
    adam.bind(net.params.size, np, np.float32)

    def mse() -> float:
        return float(((net.forward(x) - y) ** 2).mean())

    first = mse()
    for _ in range(300):
        out = net.forward(x, training=True)
        net.backward((out - y) * np.float32(2 / len(x)), grad_is_dz=False)
        adam.step(net.params, net.grads)
    assert mse() < first / 10, (first, mse())


@pytest.mark.parametrize("kind", KINDS)
def test_a_prediction_between_a_training_pass_and_its_backward_changes_no_gradient(kind):
    net = network([{"type": kind, "units": UNITS, "return_sequences": True}])
    layer, x, weights = net.layers[0], sequences(4), np.random.default_rng(2).standard_normal((SAMPLES, STEPS, UNITS))
    layer.forward(x, True)
    expected = layer.backward(weights, True).copy(), net.grads.copy()
    layer.forward(x, True)
    layer.forward(sequences(5)[:1], False)  # another batch, another size
    np.testing.assert_array_equal(layer.backward(weights, True), expected[0])
    np.testing.assert_array_equal(net.grads, expected[1])


# ----- trace and step norms (the views' API) ----------------------------------------------------------
def nudged_network(kind: str, sequences_out: bool = True) -> Network:
    net = network([{"type": kind, "units": UNITS, "return_sequences": sequences_out}])
    net.params[:] += np.random.default_rng(6).standard_normal(net.params.size) * 0.3
    return net


@pytest.mark.parametrize("kind", KINDS)
def test_trace_gives_every_steps_hidden_state_and_gates_by_the_formulas(kind):
    x, net = sequences(3), nudged_network(kind, sequences_out=False)
    layer, gates = net.layers[0], {}
    expected = reference(kind, net.parameters_by_layer()[0], x, gates=gates)
    traced = layer.trace(x)
    assert set(traced) == {"h", *gates}
    for name, values in traced.items():
        assert type(values) is np.ndarray and values.shape == (SAMPLES, STEPS, UNITS), name
        np.testing.assert_allclose(values, expected if name == "h" else gates[name], rtol=1e-12, atol=1e-12, err_msg=name)
    np.testing.assert_array_equal(traced["h"][:, -1], layer.forward(x, False))


@pytest.mark.parametrize("kind", KINDS)
def test_trace_between_a_training_pass_and_its_backward_changes_no_gradient(kind):
    net = nudged_network(kind)
    layer, x, weights = net.layers[0], sequences(4), np.random.default_rng(2).standard_normal((SAMPLES, STEPS, UNITS))
    layer.record_step_norms = True
    layer.forward(x, True)
    expected = layer.backward(weights, True).copy(), net.grads.copy(), layer.step_norms.copy()
    layer.forward(x, True)
    layer.trace(sequences(5)[:1])  # another batch, another size
    np.testing.assert_array_equal(layer.backward(weights, True), expected[0])
    np.testing.assert_array_equal(net.grads, expected[1])
    np.testing.assert_array_equal(layer.step_norms, expected[2])


@pytest.mark.parametrize("sequences_out", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_step_norms_are_the_norms_of_dl_dh_by_finite_differences(kind, sequences_out):
    """L = Σ output ⊙ weights; ∂L/∂h_{t+1} by nudging h_{t+1} in the float64 reference (its effect
    on L directly and through every later step), central differences."""
    net, x = nudged_network(kind, sequences_out), sequences(6)
    layer, p = net.layers[0], net.parameters_by_layer()[0]
    weights = np.random.default_rng(8).standard_normal((SAMPLES, *net.output_shape))
    assert layer.step_norms is None
    layer.forward(x, True)
    layer.backward(weights, True)
    assert layer.step_norms is None  # nothing recorded while the flag is off

    def loss(nudge: tuple[int, np.ndarray]) -> float:
        h = reference(kind, p, x, nudge)
        return float(((h if sequences_out else h[:, -1]) * weights).sum())

    expected = np.empty(STEPS)
    for t in range(STEPS):
        grad = np.empty((SAMPLES, UNITS))
        for k in np.ndindex(grad.shape):
            bump = np.zeros_like(grad)
            bump[k] = 1e-6
            grad[k] = (loss((t, bump)) - loss((t, -bump))) / 2e-6
        expected[t] = np.linalg.norm(grad)
    layer.record_step_norms = True
    layer.forward(x, True)
    layer.backward(weights, True)
    assert layer.step_norms.dtype == np.float64 and layer.step_norms.shape == (STEPS,)
    np.testing.assert_allclose(layer.step_norms, expected, rtol=1e-6)
    if not sequences_out:
        assert layer.step_norms[-1] == pytest.approx(np.linalg.norm(weights))  # only the output reaches h_T


def test_a_simple_rnns_step_norms_vanish_back_through_time_where_an_lstms_with_its_forget_gate_open_do_not():
    """50 steps. The LSTM's forget-gate biases are set to 3 (f ≈ 0.95): at PyTorch's initial
    biases of 0, f ≈ 0.5 and an untrained LSTM's gradient halves, or less, every step back."""
    x, fractions = np.random.default_rng(0).standard_normal((8, 50, 2)), {}
    for kind in ("rnn", "lstm"):
        net = network([{"type": kind, "units": 8}], input_shape=(50, 2))
        layer = net.layers[0]
        if kind == "lstm":
            layer.params["b"][8:16] = 3.0
        layer.record_step_norms = True
        out = layer.forward(x, True)
        layer.backward(np.random.default_rng(1).standard_normal(out.shape), False)
        norms = layer.step_norms
        fractions[kind] = norms[0] / norms[-1]
        if kind == "rnn":
            assert (np.diff(norms.reshape(5, 10).mean(axis=1)) > 0).all()  # decays step after step going back
    assert fractions["rnn"] < 1e-3 and fractions["lstm"] > 100 * fractions["rnn"], fractions


# ----- sequence data through the trainer -----------------------------------------------------------
def test_the_trainer_trains_an_lstm_on_sequence_data_and_beats_a_simple_rnn():
    data = adding_problem(1000, 10, seed=0)
    losses = {}
    for kind in ("lstm", "rnn"):
        layers = [{"type": kind, "units": 16}, {"type": "dense", "units": 1, "activation": "linear"}]
        assert input_shape_for(data.sample_shape, layers) == (10, 2)
        network = Network({"input_shape": [10, 2], "layers": layers}, seed=0)
        trainer = Trainer(network, data, TrainingConfig(seed=0, optimizer="adam", learning_rate=0.01, batch_size=32,
                                                        standardize=False))
        losses[kind] = trainer.run(25)[-1].val_loss
    assert losses["lstm"] < 0.01 < losses["rnn"]  # always guessing 1 scores about 0.17


def test_a_dense_network_sees_a_sequence_flattened_and_a_dense_layer_on_steps_says_what_to_do():
    assert input_shape_for((10, 2), [{"type": "dense", "units": 4}]) == (20,)
    with pytest.raises(SpecError, match=r"a sequence of 10 steps; set return_sequences to false on the last recurrent layer"):
        Network({"input_shape": [10, 2], "layers": [{"type": "lstm", "units": 4, "return_sequences": True},
                                                   {"type": "dense", "units": 1}]})
    with pytest.raises(SpecError, match="layer 2 .*must be the first layer"):
        Network({"input_shape": [5], "layers": [{"type": "dense", "units": 5}, {"type": "embedding", "vocabulary": 9, "dimension": 2}]})


def test_the_sequence_tasks_are_seeded_and_shaped_as_steps():
    adding = adding_problem(50, 7, seed=3)
    assert adding.sample_shape == (7, 2) and adding.X.shape == (50, 14) and adding.task == "regression"
    steps = adding.X.reshape(50, 7, 2)
    assert (steps[:, :, 1].sum(axis=1) == 2).all()
    np.testing.assert_allclose(adding.y[:, 0], (steps[:, :, 0] * steps[:, :, 1]).sum(axis=1))
    np.testing.assert_array_equal(adding.X, adding_problem(50, 7, seed=3).X)
    bits = parity(40, 8, seed=1)
    assert bits.sample_shape == (8, 1) and bits.class_names == ("even", "odd")
    np.testing.assert_array_equal(bits.y, bits.X.sum(axis=1).astype(int) % 2)
    sine = sine_forecast(30, 20, noise=0.0, seed=2)
    assert sine.sample_shape == (20, 1) and sine.feature_names[:2] == ("t1", "t2")
    x = sine.X
    np.testing.assert_allclose(x[:, 1:] ** 2 + ((x[:, :-1] - x[:, 1:] * np.cos(2 * np.pi / 25)) / np.sin(2 * np.pi / 25)) ** 2,
                               1.0, atol=1e-9)  # consecutive points of a unit sine with 25 steps a period


def test_a_gru_learns_sine_forecasting():
    data = sine_forecast(400, 20, seed=0)
    network = Network({"input_shape": [20, 1], "layers": [{"type": "gru", "units": 8},
                                                          {"type": "dense", "units": 1, "activation": "linear"}]}, seed=0)
    trainer = Trainer(network, data, TrainingConfig(seed=0, optimizer="adam", learning_rate=0.01, batch_size=32, standardize=False))
    assert trainer.run(30)[-1].val_loss < 1e-3  # the target for sine forecasting
