"""Truncated backpropagation through time (``Recurrent.bptt_steps``): k ≥ T is full BPTT bit for
bit; k < T cuts the gradient through the state (h, and the LSTM's c) at the steps T − k, T − 2k,
…, checked against finite differences of a float64 reference whose state is a constant there;
then the setting ``TrainingConfig.bptt_steps`` through the trainer, states, experiments, the CLI
and the Training tab."""

from __future__ import annotations

import numpy as np
import pytest

from core.backend import get_backend
from core.cli import main
from core.epochlab import load_session
from core.experiment import Experiment
from core.network import Network
from core.recurrent import set_bptt_steps
from core.sequences import adding_problem
from core.trainer import ConfigError, Trainer, TrainingConfig

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


# ----- the training setting --------------------------------------------------------------------
def make(bptt_steps: int | None = None, optimizer: str = "sgd") -> Trainer:
    """An LSTM trainer on a short adding problem (T = 6); ``bptt_steps`` None leaves the field out."""
    data = adding_problem(60, 6, seed=0)
    net = Network({"input_shape": [6, 2], "layers": [{"type": "lstm", "units": 4},
                                                     {"type": "dense", "units": 1, "activation": "linear"}]}, seed=0)
    given = {"optimizer": optimizer, "learning_rate": 0.1, "batch_size": 16, "standardize": False}
    if bptt_steps is not None:
        given["bptt_steps"] = bptt_steps
    return Trainer(net, data, TrainingConfig(**given))


def history(trainer: Trainer, epochs: int = 2) -> tuple[np.ndarray, list]:
    reports = trainer.run(epochs)
    return trainer.network.params.copy(), [(r.train_loss, r.val_loss) for r in reports]


def same(a: tuple[np.ndarray, list], b: tuple[np.ndarray, list]) -> bool:
    return bool(np.array_equal(a[0], b[0])) and a[1] == b[1]


def test_the_trainer_sets_its_layers_truncation_and_off_or_at_t_is_a_run_without_the_field():
    assert TrainingConfig().bptt_steps == 0
    trainer = make(2)
    assert trainer.network.layers[0].bptt_steps == 2
    with pytest.raises(ConfigError):  # a trainer refused (a cross-entropy on regression targets) changes nothing
        Trainer(trainer.network, trainer.dataset, TrainingConfig(loss="binary_crossentropy", bptt_steps=5))
    assert trainer.network.layers[0].bptt_steps == 2
    Trainer(trainer.network, trainer.dataset, TrainingConfig(standardize=False))  # a new trainer of the same network
    assert trainer.network.layers[0].bptt_steps == 0
    absent = history(make(None))
    assert same(history(make(0)), absent) and same(history(make(6)), absent)
    assert not same(history(make(2)), absent)


@pytest.mark.parametrize("value", [-1, 2.5, "3", True])
def test_bad_values_are_refused_in_one_line_naming_bptt_steps(value):
    with pytest.raises(ConfigError, match=r"^bptt_steps: ") as caught:
        TrainingConfig(bptt_steps=value)
    assert "\n" not in str(caught.value)


def test_an_experiment_with_bptt_steps_round_trips(tmp_path):
    path = tmp_path / "run.json"
    Experiment({"name": "moons"}, {}, TrainingConfig(bptt_steps=5)).save(path)
    assert Experiment.load(path).training.bptt_steps == 5


def test_a_state_keeps_bptt_steps_and_an_older_state_without_it_restores_as_full_bptt_bit_for_bit():
    trainer = make(2)
    trainer.run(1)
    trainer.step_batch()
    state = trainer.state()
    assert state.config["bptt_steps"] == 2
    fresh = make(2)
    fresh.restore(state)
    assert same(history(fresh), history(trainer))

    full = make(0, "adam")
    full.run(1)
    full.set_learning_rate(0.05)  # a live change the optimizer state holds: a branch would drop it
    old = full.state()
    older = type(old)(**{**{f: getattr(old, f) for f in old.__dataclass_fields__},
                         "config": {k: v for k, v in old.config.items() if k != "bptt_steps"}})
    again = make(0, "adam")
    again.restore(older)
    assert again.learning_rate == pytest.approx(0.05)
    assert same(history(again), history(full))


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_the_cli_option_trains_and_saves_it_and_a_bad_one_is_one_line(capsys, tmp_path):
    session = tmp_path / "run.epochlab"
    status, out, err = run_cli(capsys, "train", "--dataset", "adding", "--samples", "40", "--steps", "6", "--layers", "lstm:3",
                               "--epochs", "1", "--bptt-steps", "3", "--save", str(session))
    assert status == 0 and "Traceback" not in out + err
    assert load_session(session).state.config["bptt_steps"] == 3
    status, out, err = run_cli(capsys, "train", "--config", str(session), "--bptt-steps", "2")
    assert status == 2 and "--bptt-steps" in err and "Traceback" not in err
    status, out, err = run_cli(capsys, "train", "--dataset", "adding", "--samples", "20", "--steps", "6", "--layers", "lstm:3",
                               "--epochs", "1", "--bptt-steps", "-1")
    assert status == 2 and err.count("\n") == 1 and "bptt_steps" in err and "Traceback" not in err


def test_the_training_tab_shows_and_sets_the_bptt_steps(qtbot):
    from app.help_panel import concept_for_widget
    from app.training_controls import TrainingSettings

    settings = TrainingSettings()
    qtbot.addWidget(settings)
    assert settings.bptt_steps.objectName() == "bpttStepsSpin" and settings.bptt_steps.text() == "full"
    assert concept_for_widget(settings.bptt_steps) == "bptt_steps"
    with qtbot.assertNotEmitted(settings.settingsChanged):
        settings.set_config(TrainingConfig(bptt_steps=20))
    assert settings.bptt_steps.value() == 20 and settings.values()["bptt_steps"] == 20
    with qtbot.waitSignal(settings.settingsChanged):
        settings.bptt_steps.setValue(0)
    assert settings.values()["bptt_steps"] == 0 and settings.bptt_steps.text() == "full"
    with pytest.raises(ConfigError, match="^training.bptt_steps: "):
        settings.check_config(TrainingConfig(bptt_steps=10**6))
