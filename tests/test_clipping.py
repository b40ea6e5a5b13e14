"""Gradient clipping by global norm (TrainingConfig.clip_norm): off changes nothing, on scales
each mini-batch's whole gradient to a norm of at most clip_norm, in experiments, states, the
CLI, and refused by the exports."""

from __future__ import annotations

import numpy as np
import pytest

from core.backend import cupy_status, get_backend
from core.cli import main
from core.epochlab import load_session
from core.experiment import Experiment, network_spec
from core.network import Network
from core.sequences import adding_problem
from core.synthetic import synthetic
from core.trainer import ConfigError, Trainer, TrainingConfig, clip_by_global_norm

HIDDEN = [{"type": "dense", "units": 8, "activation": "tanh"}]


def make(clip_norm: float | None = None, optimizer: str = "sgd", **settings) -> Trainer:
    """A small dense trainer on moons; ``clip_norm`` None leaves the field out."""
    dataset = synthetic("moons", samples=80, seed=1)
    net = Network(network_spec(dataset, HIDDEN), seed=0)
    given = {"optimizer": optimizer, "learning_rate": 0.5, "batch_size": 16, "l2": 0.01, **settings}
    if clip_norm is not None:
        given["clip_norm"] = clip_norm
    return Trainer(net, dataset, TrainingConfig(**given))


def history(trainer: Trainer, epochs: int = 3) -> tuple[np.ndarray, list]:
    reports = trainer.run(epochs)
    return trainer.network.params.copy(), [(r.train_loss, r.val_loss, r.train_metric) for r in reports]


def same(a: tuple[np.ndarray, list], b: tuple[np.ndarray, list]) -> bool:
    return bool(np.array_equal(a[0], b[0])) and a[1] == b[1]


def test_clipping_off_is_bit_identical_to_a_run_without_the_field():
    absent, zero = history(make(None, "adam")), history(make(0.0, "adam"))
    assert same(absent, zero)
    assert TrainingConfig().clip_norm == 0.0


def test_a_threshold_above_every_norm_changes_nothing():
    off, high = history(make(0.0, "adam")), history(make(1e30, "adam"))
    assert same(off, high)


def test_one_sgd_step_is_the_unclipped_gradient_scaled_to_the_threshold():
    twin = make(0.0, shuffle=False)
    before = twin.network.params.copy()
    twin.step_batch()
    g = twin.network.grads.copy()  # the unclipped gradient of the first mini-batch, penalty included
    norm = float(np.linalg.norm(g))
    assert np.allclose(twin.network.params, before - np.float32(0.5) * g, rtol=1e-6, atol=1e-7)

    clip = norm / 4
    clipped = make(clip, shuffle=False)
    assert np.array_equal(clipped.network.params, before)
    clipped.step_batch()
    scale = np.float32(min(1.0, clip / norm))
    assert np.allclose(clipped.network.grads, g * scale, rtol=1e-6, atol=1e-8)
    assert np.linalg.norm(clipped.network.grads) == pytest.approx(clip, rel=1e-5)
    assert np.allclose(clipped.network.params, before - np.float32(0.5) * g * scale, rtol=1e-6, atol=1e-7)
    assert not np.allclose(clipped.network.params, twin.network.params)
    assert clipped.network.params.dtype == np.float32


def test_clip_by_global_norm_keeps_the_dtype_and_leaves_a_short_or_non_finite_gradient():
    g = np.array([3.0, 4.0], np.float32)
    clip_by_global_norm(g, 1.0, np)
    assert g.dtype == np.float32 and np.allclose(g, [0.6, 0.8])
    short = np.array([0.3, 0.4], np.float32)
    clip_by_global_norm(short, 1.0, np)
    assert np.array_equal(short, np.array([0.3, 0.4], np.float32))
    broken = np.array([np.inf, 1.0], np.float32)
    clip_by_global_norm(broken, 1.0, np)
    assert np.isinf(broken[0]) and broken[1] == 1.0  # left for the divergence check to report
    zero = np.zeros(3, np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        clip_by_global_norm(zero, 1.0, np)
    assert np.array_equal(zero, np.zeros(3, np.float32))


@pytest.mark.skipif(not cupy_status()[0], reason="CuPy with a CUDA device is not available here")
def test_clipping_on_cupy_follows_numpy():
    dataset = synthetic("moons", samples=80, seed=1)
    runs = []
    for backend in ("numpy", "cupy"):
        net = Network(network_spec(dataset, HIDDEN), get_backend(backend, "float64"), seed=0)
        trainer = Trainer(net, dataset, TrainingConfig(optimizer="sgd", learning_rate=0.5, batch_size=16, clip_norm=0.05))
        trainer.run(2)
        runs.append(net.backend.to_host(net.params))
    np.testing.assert_allclose(runs[1], runs[0], rtol=1e-9, atol=1e-12)


def test_a_recurrent_network_trains_with_clipping():
    dataset = adding_problem(samples=96, steps=6, seed=0)
    spec = {"input_shape": [6, 2], "layers": [{"type": "rnn", "units": 8}, {"type": "dense", "units": 1, "activation": "linear"}]}
    settings = {"optimizer": "adam", "learning_rate": 0.02, "batch_size": 16, "standardize": False}
    unclipped = Network(spec, seed=0)
    Trainer(unclipped, dataset, TrainingConfig(**settings)).step_batch()
    assert float(np.linalg.norm(unclipped.grads)) > 0.5  # so the threshold below clips
    net = Network(spec, seed=0)
    trainer = Trainer(net, dataset, TrainingConfig(**settings, clip_norm=0.5))
    reports = trainer.run(12)
    assert all(r.diverged is None for r in reports)
    assert reports[-1].train_loss < reports[0].train_loss
    assert float(np.linalg.norm(net.grads)) <= 0.5 * (1 + 1e-5)


@pytest.mark.parametrize("value", [-0.1, float("inf"), float("nan"), "1", True])
def test_bad_values_are_refused_in_one_line_naming_clip_norm(value):
    with pytest.raises(ConfigError, match=r"^clip_norm: expected a number ≥ 0") as caught:
        TrainingConfig(clip_norm=value)
    assert "\n" not in str(caught.value)


def test_an_experiment_with_clip_norm_round_trips(tmp_path):
    path = tmp_path / "e.json"
    Experiment({"name": "moons"}, {}, TrainingConfig(clip_norm=2.5)).save(path)
    assert Experiment.load(path).training.clip_norm == 2.5
    assert Experiment.from_json({"dataset": {"name": "moons"}, "network": {"input_shape": [2], "layers": [
        {"type": "dense", "units": 1, "activation": "sigmoid"}]}}).training.clip_norm == 0.0


def test_a_state_keeps_clip_norm_and_an_older_state_without_it_restores_bit_for_bit():
    trainer = make(1.0)
    trainer.run(1)
    trainer.step_batch()
    state = trainer.state()
    assert state.config["clip_norm"] == 1.0
    fresh = make(1.0)
    fresh.restore(state)
    assert same(history(fresh, 2), history(trainer, 2))

    off = make(0.0, "adam")
    off.run(1)
    off.set_learning_rate(0.1)  # a live change the optimizer state holds: a branch would drop it
    old = off.state()
    old_config = {k: v for k, v in old.config.items() if k != "clip_norm"}
    older = type(old)(**{**{f: getattr(old, f) for f in old.__dataclass_fields__}, "config": old_config})
    again = make(0.0, "adam")
    again.restore(older)
    assert again.learning_rate == pytest.approx(0.1)
    assert same(history(again, 2), history(off, 2))


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_the_cli_option_trains_saves_and_the_export_refuses_it(capsys, tmp_path):
    session = tmp_path / "run.epochlab"
    status, out, err = run_cli(capsys, "train", "--dataset", "xor", "--samples", "40", "--layers", "4:tanh", "--epochs", "2",
                               "--clip-norm", "0.5", "--save", str(session))
    assert status == 0 and "Traceback" not in out + err
    assert load_session(session).state.config["clip_norm"] == 0.5

    status, out, err = run_cli(capsys, "train", "--config", str(session), "--clip-norm", "1")
    assert status == 2 and "--clip-norm" in err and "Traceback" not in err

    status, out, err = run_cli(capsys, "export", str(session), "--script", str(tmp_path / "run.py"))
    assert status == 2 and err.count("\n") == 1 and "clip" in err and "Traceback" not in err
    assert not (tmp_path / "run.py").exists()


def test_the_cli_refuses_a_bad_clip_norm_in_one_line(capsys):
    status, out, err = run_cli(capsys, "train", "--dataset", "xor", "--samples", "20", "--epochs", "1", "--clip-norm", "-1")
    assert status == 2 and err.count("\n") == 1 and "clip_norm" in err and "Traceback" not in err


def test_the_training_tab_shows_and_sets_the_clipping_norm(qtbot):
    from app.training_controls import TrainingSettings

    settings = TrainingSettings()
    qtbot.addWidget(settings)
    with qtbot.assertNotEmitted(settings.settingsChanged):
        settings.set_config(TrainingConfig(clip_norm=5.0))
    assert settings.clip_norm.value() == 5.0 and settings.values()["clip_norm"] == 5.0
    with qtbot.waitSignal(settings.settingsChanged):
        settings.clip_norm.setValue(1.0)
    assert settings.values()["clip_norm"] == 1.0
