"""Trainer: determinism, stepping, stopping, live learning rate, divergence, reports,
settings, and every optimizer against an independent reference implementation."""

from __future__ import annotations

import dataclasses
import math
import threading
import warnings

import numpy as np
import pytest

from core.backend import cupy_status, get_backend
from core.data import make_dataset
from core.experiment import network_spec
from core.losses import get_loss
from core.network import Network
from core.optimizers import OPTIMIZERS, make_optimizer
from core.synthetic import synthetic
from core.trainer import PROBE_SAMPLES, ConfigError, Report, Trainer, TrainingConfig, split_indices

F64 = get_backend("numpy", "float64")

HIDDEN = [
    {"type": "dense", "units": 8, "activation": "relu", "initializer": "he_normal"},
    {"type": "dropout", "rate": 0.2},
    {"type": "dense", "units": 6, "activation": "tanh"},
]


def make(dataset=None, hidden=HIDDEN, backend=None, net_seed=0, **config):
    dataset = dataset if dataset is not None else synthetic("moons", samples=120, seed=1)
    net = Network(network_spec(dataset, hidden), backend, seed=net_seed)
    settings = {"optimizer": "adam", "learning_rate": 0.02, "batch_size": 16, "l2": 0.001, **config}
    return net, Trainer(net, dataset, TrainingConfig(**settings))


def numbers(report: Report) -> Report:
    """The report without its timings (the only fields a rerun may change)."""
    return dataclasses.replace(report, seconds=0.0, samples_per_second=0.0)


# ----- determinism and stepping ---------------------------------------------------------------
def test_same_seed_gives_bit_identical_history_and_weights():
    runs = []
    for _ in range(2):
        net, trainer = make(seed=5)
        trainer.run(6)
        runs.append((net.params.copy(), [numbers(r) for r in trainer.history.recent]))
    (w1, h1), (w2, h2) = runs
    assert np.array_equal(w1, w2)
    assert h1 == h2  # every loss, metric, learning rate and layer statistic
    assert len(h1) == 6 and all(r.complete for r in h1)
    # a different seed (split, shuffles) or initialisation changes the run
    net3, trainer3 = make(seed=6)
    trainer3.run(6)
    assert not np.array_equal(net3.params, w1)
    net4, trainer4 = make(seed=5, net_seed=1)
    trainer4.run(6)
    assert not np.array_equal(net4.params, w1)


def test_single_epochs_equal_one_run():
    net_a, trainer_a = make(seed=2)
    for _ in range(5):
        trainer_a.run_epoch()
    net_b, trainer_b = make(seed=2)
    reports = trainer_b.run(5)
    assert np.array_equal(net_a.params, net_b.params)
    assert [numbers(r) for r in trainer_a.history.recent] == [numbers(r) for r in reports]
    assert [r.epoch for r in reports] == [1, 2, 3, 4, 5]
    assert trainer_a.epoch == trainer_b.epoch == 5


def test_stepping_every_batch_equals_running_the_epoch():
    net_a, trainer_a = make(seed=3, batch_size=20)
    net_b, trainer_b = make(seed=3, batch_size=20)
    batches = trainer_a.batches_per_epoch
    assert batches == math.ceil(trainer_a.train_size / 20) == 5 and trainer_a.train_size % 20  # a partial last batch
    for epoch in (1, 2):
        for b in range(1, batches + 1):
            report = trainer_a.step_batch()
            assert (report.epoch, report.batch, report.batches) == (epoch, b, batches)
            assert report.complete == (b == batches)
            assert trainer_a.epoch == (epoch if b == batches else epoch - 1)
        epoch_report = trainer_b.run_epoch()
        assert np.array_equal(net_a.params, net_b.params)
        assert numbers(report) == numbers(epoch_report)
    assert len(trainer_a.history) == len(trainer_b.history) == 2


@pytest.mark.parametrize("shuffle", [True, False])
def test_the_batches_are_the_epochs_permutation_in_order(shuffle, monkeypatch):
    """Each mini-batch gathers its rows when it comes: the same rows, in the same order, as
    slicing the whole shuffled epoch (rows = a permutation from the generator [seed, 1])."""
    net, trainer = make(seed=7, batch_size=20, shuffle=shuffle)
    seen = []
    forward = net.forward
    monkeypatch.setattr(net, "forward", lambda x, training=False: (seen.append(x.copy()) if training else None,
                                                                      forward(x, training))[1])
    trainer.run(2)
    rng = np.random.default_rng([7, 1])
    expected = []
    for _ in range(2):
        order = rng.permutation(trainer.train_size) if shuffle else np.arange(trainer.train_size)
        expected += [trainer.x_train[order][s : s + 20] for s in range(0, trainer.train_size, 20)]
    assert len(seen) == len(expected) == 2 * trainer.batches_per_epoch
    assert all(np.array_equal(a, b) for a, b in zip(seen, expected, strict=True))


def test_run_epoch_finishes_a_partly_stepped_epoch():
    net_a, trainer_a = make(seed=4)
    net_b, trainer_b = make(seed=4)
    trainer_a.step_batch()
    trainer_a.step_batch()
    report = trainer_a.run_epoch()
    assert report.complete and report.epoch == 1
    trainer_b.run_epoch()
    assert np.array_equal(net_a.params, net_b.params)
    assert numbers(report).train_loss == trainer_b.history.last.train_loss


def test_request_stop_from_another_thread_stops_between_batches_and_resumes():
    data = synthetic("moons", samples=60, seed=0)
    net_ref, trainer_ref = make(data, batch_size=4, seed=1)
    trainer_ref.run(2)

    net, trainer = make(data, batch_size=4, seed=1)
    reached, resume = threading.Event(), threading.Event()
    step = trainer.optimizer.step

    def pausing_step(w, g):  # holds the training thread inside batch 5 until the stop is asked
        step(w, g)
        if trainer.optimizer.steps == 5:
            reached.set()
            assert resume.wait(10)

    def stopper():
        if reached.wait(10):
            trainer.request_stop()
        resume.set()

    trainer.optimizer.step = pausing_step
    thread = threading.Thread(target=stopper)
    thread.start()
    reports = trainer.run(2)  # run() also ends at a stopped epoch
    thread.join(10)
    assert not thread.is_alive()
    assert len(reports) == 1
    stopped = reports[0]
    assert stopped.stopped and not stopped.complete
    assert (stopped.epoch, stopped.batch) == (1, 5) and trainer.epoch == 0 and len(trainer.history) == 0

    rest = trainer.run_epoch()  # carries on from batch 6
    assert rest.complete and not rest.stopped and rest.epoch == 1
    trainer.run_epoch()
    assert np.array_equal(net.params, net_ref.params)
    assert [numbers(r) for r in trainer.history.recent] == [numbers(r) for r in trainer_ref.history.recent]


@pytest.mark.parametrize("complete", [0, 2])
def test_discard_partial_epoch_goes_back_to_the_last_complete_epoch(complete):
    """After k complete epochs and part of the next, the weights and the optimizer are those
    of a fresh run of k epochs, and training on from there is that run's next epoch."""
    net, trainer = make(seed=7, batch_size=20)  # with Dropout: its generator goes back too
    net_ref, trainer_ref = make(seed=7, batch_size=20)
    trainer.run(complete)
    trainer_ref.run(complete)
    for _ in range(3):
        trainer.step_batch()
    assert not np.array_equal(net.params, net_ref.params)
    trainer.discard_partial_epoch()
    assert np.array_equal(net.params, net_ref.params)
    mine, theirs = trainer.optimizer.state_dict(), trainer_ref.optimizer.state_dict()
    assert (mine["steps"], mine["settings"]) == (theirs["steps"], theirs["settings"])
    for name in ("m", "v"):
        assert np.array_equal(mine["slots"][name], theirs["slots"][name])
    assert (trainer.epoch, trainer.cursor, len(trainer.history)) == (complete, 0, complete)
    assert numbers(trainer.run_epoch()) == numbers(trainer_ref.run_epoch())  # the same shuffle order, the same steps
    assert np.array_equal(net.params, net_ref.params)


def test_discard_partial_epoch_between_epochs_changes_nothing():
    net, trainer = make(seed=8)
    trainer.run(2)
    params, steps = net.params.copy(), trainer.optimizer.steps
    trainer.discard_partial_epoch()
    assert np.array_equal(net.params, params) and trainer.optimizer.steps == steps
    assert (trainer.epoch, trainer.cursor, len(trainer.history)) == (2, 0, 2)
    _, fresh = make(seed=8)
    fresh.discard_partial_epoch()  # before any epoch: nothing to do either
    assert fresh.cursor == 0


def test_learning_rate_change_between_batches_is_used():
    data = synthetic("plane", samples=40, seed=0)
    net, trainer = make(data, hidden=[], backend=F64, optimizer="sgd", learning_rate=0.01,
                        batch_size=8, l2=0.0, shuffle=False, val_fraction=0.0)
    assert trainer.step_batch().learning_rate == 0.01
    trainer.set_learning_rate(0.5)
    assert trainer.learning_rate == 0.5
    before = net.params.copy()
    report = trainer.step_batch()
    np.testing.assert_allclose(net.params, before - 0.5 * net.grads, rtol=1e-15, atol=0)
    assert report.learning_rate == 0.5
    assert trainer.optimizer.settings()["learning_rate"] == 0.5
    for bad in (0.0, -1.0, math.nan, math.inf, "0.1"):
        with pytest.raises(ConfigError):
            trainer.set_learning_rate(bad)
    assert trainer.learning_rate == 0.5


# ----- divergence -----------------------------------------------------------------------------
def test_huge_learning_rate_diverges_into_a_report_and_keeps_the_last_finite_weights():
    data = synthetic("plane", samples=100, seed=0)
    config = {"hidden": [], "optimizer": "momentum", "learning_rate": 0.01, "batch_size": 10,
              "l2": 0.0, "shuffle": False, "val_fraction": 0.2}
    net, trainer = make(data, **config)
    net_ref, trainer_ref = make(data, **config)
    trainer.run(2)
    trainer_ref.run(3)
    finite = net.params.copy()

    trainer.set_learning_rate(1e6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither an exception nor a stream of RuntimeWarnings
        report = trainer.run_epoch()
    assert report.diverged and "learning rate" in report.diverged
    assert not report.complete and not math.isfinite(report.train_loss)
    assert np.array_equal(net.params, finite)
    assert trainer.epoch == 2 and len(trainer.history) == 2

    # the optimizer state was rolled back too: back at the old rate the run continues as if
    # the diverged epoch had never happened
    trainer.set_learning_rate(0.01)
    assert trainer.run_epoch().complete
    assert np.array_equal(net.params, net_ref.params)


def test_run_stops_at_the_first_diverged_epoch():
    data = synthetic("housing", samples=100, seed=0)
    net, trainer = make(data, hidden=[], optimizer="sgd", learning_rate=1e6, batch_size=8, l2=0.0)
    initial = net.params.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reports = trainer.run(5)
    assert len(reports) == 1 and reports[0].diverged
    assert np.array_equal(net.params, initial)
    assert len(trainer.history) == 0


def test_divergence_names_unstandardized_inputs_instead_of_the_learning_rate():
    data = synthetic("housing", samples=100, seed=0)  # area_m2 up to ~220
    _, trainer = make(data, hidden=[], optimizer="sgd", learning_rate=0.01, batch_size=8, l2=0.0, standardize=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = trainer.run(20)[-1]
    assert report.diverged
    assert "not standardized" in report.diverged and "area_m2" in report.diverged and "too high for this network" not in report.diverged
    _, standardized = make(data, hidden=[], optimizer="sgd", learning_rate=1e6, batch_size=8, l2=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = standardized.run(5)[-1].diverged
    assert "learning rate α = 1e+06 is too high" in found and "not standardized" not in found


# ----- reports --------------------------------------------------------------------------------
def test_validation_fraction_zero_gives_no_validation_numbers():
    _, trainer = make(val_fraction=0.0)
    report = trainer.run_epoch()
    assert trainer.val_size == 0 and trainer.train_size == 120
    assert report.val_loss is None and report.val_metric is None
    assert report.to_json()["val_loss"] is None and report.to_json()["val_accuracy"] is None


def test_report_losses_are_what_the_network_did():
    data = synthetic("moons", samples=50, seed=2)
    net, trainer = make(data, backend=F64, hidden=[{"type": "dense", "units": 5, "activation": "tanh"}],
                        batch_size=8, val_fraction=0.3, shuffle=False, l2=0.0)
    train_idx, val_idx = split_indices(50, 0.3, 0)
    assert (trainer.train_size, trainer.val_size) == (len(train_idx), len(val_idx)) == (35, 15)
    np.testing.assert_allclose(net.preprocess.mean, data.X[train_idx].mean(axis=0), rtol=1e-14)  # fitted on training rows only
    bce = get_loss("binary_crossentropy")

    first_rows = data.X[train_idx[:8]]
    before = net.predict(first_rows)
    report = trainer.step_batch()
    assert report.train_loss == pytest.approx(bce.value(before, data.y[train_idx[:8], None].astype(float), np), rel=1e-12)
    hits = ((before[:, 0] > 0.5) == data.y[train_idx[:8]]).mean()
    assert report.train_metric == pytest.approx(hits)

    after = net.predict(data.X[val_idx])
    y_val = data.y[val_idx].astype(float)
    expected = -np.mean(y_val * np.log(after[:, 0]) + (1 - y_val) * np.log(1 - after[:, 0]))
    assert report.val_loss == pytest.approx(expected, rel=1e-12)
    assert report.val_metric == pytest.approx(((after[:, 0] > 0.5) == data.y[val_idx]).mean())
    assert report.samples_per_second > 0 and report.seconds >= 0


def test_report_json_keys():
    _, trainer = make()
    assert set(trainer.run_epoch().to_json()) == {"epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr", "seconds"}
    _, reg = make(synthetic("plane", samples=40), hidden=[])
    assert set(reg.run_epoch().to_json()) == {"epoch", "train_loss", "val_loss", "train_r2", "val_r2", "lr", "seconds"}


def test_layer_stats_and_dead_relu_units():
    data = synthetic("circle", samples=80, seed=0)
    hidden = [{"type": "dense", "units": 6, "activation": "relu"}, {"type": "dropout", "rate": 0.1},
              {"type": "dense", "units": 5, "activation": "leaky_relu", "slope": 0.1},
              {"type": "dense", "units": 4, "activation": "tanh"}]
    net = Network(network_spec(data, hidden), F64, seed=0)
    params = net.parameters_by_layer()
    params[0]["W"][:2] = 0.0  # two units that output relu(−3) = 0 for every input
    params[0]["b"][:2] = -3.0
    net.set_parameters(params)
    trainer = Trainer(net, data, TrainingConfig(optimizer="adam", learning_rate=0.01, batch_size=16))
    report = trainer.run_epoch()
    stats = report.layers
    assert [s.index for s in stats] == [1, 2, 3, 4, 5]
    assert [s.label for s in stats] == ["Dense(6, relu)", "Dropout(0.1)", "Dense(5, leaky_relu)", "Dense(4, tanh)", "Dense(1, sigmoid)"]

    # dead fraction recomputed here from the parameters: units ≤ 0 on every probe sample
    x = trainer.x_train[:PROBE_SAMPLES]
    p = net.parameters_by_layer()
    h1 = np.maximum(x @ p[0]["W"].T + p[0]["b"], 0)
    z3 = h1 @ p[2]["W"].T + p[2]["b"]
    assert stats[0].dead_fraction == pytest.approx((h1 <= 0).all(axis=0).mean())
    assert stats[0].dead_fraction >= 2 / 6
    assert stats[2].dead_fraction == pytest.approx((z3 <= 0).all(axis=0).mean())
    assert stats[1].dead_fraction is None and stats[3].dead_fraction is None and stats[4].dead_fraction is None
    assert stats[1].weight_norm is None and stats[1].grad_norm is None
    for s, layer_params, layer_grads in zip(stats, p, net.gradients_by_layer(), strict=True):
        if "W" in layer_params:
            assert s.weight_norm == pytest.approx(np.linalg.norm(layer_params["W"]), rel=1e-12)
            assert s.grad_norm == pytest.approx(np.linalg.norm(layer_grads["W"]), rel=1e-12)
    # a dead unit gets no gradient, so it stays dead
    np.testing.assert_array_equal(p[0]["W"][:2], 0.0)


def test_reports_hold_host_values_only():
    _, trainer = make()
    report = trainer.run_epoch()
    for f in dataclasses.fields(report):
        value = getattr(report, f.name)
        assert value is None or isinstance(value, (int, float, str, bool, tuple)), f.name
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.epoch = 3  # type: ignore[misc]


def test_float32_stays_float32():
    net, trainer = make(optimizer="adam", l1=0.001)
    trainer.run(2)
    assert net.params.dtype == np.float32 and net.grads.dtype == np.float32
    assert trainer.optimizer._state[0].dtype == np.float32
    assert net.predict(np.zeros((3, 2))).dtype == np.float32


@pytest.mark.skipif(not cupy_status()[0], reason="CuPy with a CUDA device is not available here")
def test_cupy_backend_follows_numpy():
    """Same seed on either backend: same initial weights and shuffles, so the runs agree
    (to rounding: GPU reductions differ from the CPU's)."""
    hidden = [{"type": "dense", "units": 8, "activation": "tanh"}]
    net_cpu, trainer_cpu = make(hidden=hidden, backend=F64, seed=1)
    net_gpu, trainer_gpu = make(hidden=hidden, backend=get_backend("cupy", "float64"), seed=1)
    np.testing.assert_array_equal(net_gpu.backend.to_host(net_gpu.params), net_cpu.params)
    trainer_cpu.run(3)
    trainer_gpu.run(3)
    np.testing.assert_allclose(net_gpu.backend.to_host(net_gpu.params), net_cpu.params, rtol=1e-9, atol=1e-12)
    assert trainer_gpu.history.last.train_loss == pytest.approx(trainer_cpu.history.last.train_loss, rel=1e-9)


# ----- settings -------------------------------------------------------------------------------
BAD_SETTINGS = [
    {"loss": "hinge"}, {"optimizer": "lbfgs"}, {"learning_rate": 0}, {"learning_rate": -0.1},
    {"learning_rate": math.nan}, {"learning_rate": math.inf}, {"learning_rate": "0.1"}, {"learning_rate": True},
    {"batch_size": 0}, {"batch_size": 2.5}, {"batch_size": "32"}, {"epochs": -1}, {"epochs": 1.5},
    {"l1": -0.1}, {"l2": math.nan}, {"l2": "big"}, {"val_fraction": 1.0}, {"val_fraction": -0.1},
    {"val_fraction": math.nan}, {"val_fraction": "0.2"}, {"val_fraction": None}, {"momentum": 1.0},
    {"momentum": "high"}, {"beta1": 1.0}, {"beta2": -0.1}, {"rho": 1.5}, {"rho": None}, {"epsilon": 0},
    {"epsilon": -1e-8}, {"seed": -1}, {"seed": "abc"}, {"seed": 1.5},
]


@pytest.mark.parametrize("bad", BAD_SETTINGS, ids=[repr(b) for b in BAD_SETTINGS])
def test_training_config_rejects_bad_values(bad):
    with pytest.raises(ConfigError):
        TrainingConfig(**bad)
    with pytest.raises(ConfigError):
        TrainingConfig.from_json(bad)


def test_training_config_json_round_trip_and_unknown_keys():
    config = TrainingConfig(loss="mse", optimizer="momentum", learning_rate=0.3, nesterov=True, val_fraction=0.0, seed=9)
    assert TrainingConfig.from_json(config.to_json()) == config
    assert TrainingConfig.from_json({}) == TrainingConfig()
    with pytest.raises(ConfigError, match="unknown training setting"):
        TrainingConfig.from_json({"learning_rat": 0.1})


def test_trainer_rejects_a_network_that_does_not_fit_the_data():
    data = synthetic("spiral3", samples=30)
    with pytest.raises(ConfigError, match="inputs"):
        Trainer(Network({"input_shape": [3], "layers": [{"type": "dense", "units": 3, "activation": "softmax"}]}), data, TrainingConfig())
    with pytest.raises(ConfigError, match="classes"):
        Trainer(Network({"input_shape": [2], "layers": [{"type": "dense", "units": 4, "activation": "softmax"}]}), data, TrainingConfig())
    with pytest.raises(ConfigError, match="softmax"):
        Trainer(Network({"input_shape": [2], "layers": [{"type": "dense", "units": 3, "activation": "linear"}]}), data, TrainingConfig())
    binary = synthetic("xor", samples=30)
    with pytest.raises(ConfigError, match="sigmoid"):
        Trainer(Network({"input_shape": [2], "layers": [{"type": "dense", "units": 1, "activation": "tanh"}]}), binary,
                TrainingConfig(loss="binary_crossentropy"))


def test_split_indices():
    train, val = split_indices(50, 0.2, 3)
    assert len(val) == 10 and len(train) == 40
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(50))
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)
    again = split_indices(50, 0.2, 3)
    assert np.array_equal(again[0], train) and np.array_equal(again[1], val)
    assert not np.array_equal(split_indices(50, 0.2, 4)[1], val)
    assert len(split_indices(5, 0.01, 0)[1]) == 1  # at least one validation row
    assert len(split_indices(5, 0.99, 0)[0]) == 1  # at least one training row
    assert len(split_indices(5, 0.0, 0)[1]) == 0


# ----- optimizers against reference implementations --------------------------------------------
def reference_updates(name: str, settings: dict, grads_of, w: np.ndarray, steps: int) -> np.ndarray:
    """Textbook update rules, written independently of core.optimizers."""
    lr = settings["learning_rate"]
    v = np.zeros_like(w)
    s = np.zeros_like(w)
    for t in range(1, steps + 1):
        g = grads_of(w, t)
        if name == "sgd":
            w = w - lr * g
        elif name == "momentum":
            mu = settings["momentum"]
            v = mu * v - lr * g
            w = w + mu * v - lr * g if settings["nesterov"] else w + v
        elif name == "rmsprop":
            rho, eps = settings["rho"], settings["epsilon"]
            s = rho * s + (1 - rho) * g**2
            w = w - lr * g / (np.sqrt(s) + eps)
        elif name == "adam":
            b1, b2, eps = settings["beta1"], settings["beta2"], settings["epsilon"]
            v = b1 * v + (1 - b1) * g  # first moment
            s = b2 * s + (1 - b2) * g**2  # second moment
            m_hat = v / (1 - b1**t)
            s_hat = s / (1 - b2**t)
            w = w - lr * m_hat / (np.sqrt(s_hat) + eps)
    return w


OPTIMIZER_CASES = [
    ("sgd", {}),
    ("momentum", {"momentum": 0.8, "nesterov": False}),
    ("momentum", {"momentum": 0.7, "nesterov": True}),
    ("rmsprop", {"rho": 0.8, "epsilon": 0.05}),
    ("adam", {"beta1": 0.8, "beta2": 0.95, "epsilon": 0.05}),
]


@pytest.mark.parametrize(("name", "extra"), OPTIMIZER_CASES, ids=["sgd", "momentum", "nesterov", "rmsprop", "adam"])
def test_optimizer_matches_reference_over_three_steps(name, extra):
    """Linear regression with 2 outputs on 4 samples, 2 per mini-batch, with L2: three
    steps cross an epoch boundary. The reference computes each gradient in closed form."""
    X = np.array([[1.0, -2.0], [0.5, 3.0], [-1.5, 0.2], [2.0, 1.0]])
    Y = np.array([[1.0, 0.0], [-2.0, 1.0], [0.5, 0.5], [3.0, -1.0]])
    l2, lr = 0.1, 0.05
    data = make_dataset(X, Y)
    net = Network({"input_shape": [2], "layers": [{"type": "dense", "units": 2, "activation": "linear"}]}, F64, seed=7)
    W0, b0 = net.layers[0].params["W"].copy(), np.array([0.3, -0.2])
    net.layers[0].params["b"][...] = b0
    config = TrainingConfig(optimizer=name, learning_rate=lr, batch_size=2, l2=l2, shuffle=False,
                            standardize=False, val_fraction=0.0, **extra)
    trainer = Trainer(net, data, config)
    for _ in range(3):
        trainer.step_batch()

    def grads_of(theta, t):  # theta = (W row-major, b); batch t uses rows 2(t−1) mod 4 …
        W, b = theta[:4].reshape(2, 2), theta[4:]
        rows = slice(2 * ((t - 1) % 2), 2 * ((t - 1) % 2) + 2)
        x, y = X[rows], Y[rows]
        dA = 2 * (x @ W.T + b - y) / y.size
        return np.concatenate([(dA.T @ x + l2 * W).ravel(), dA.sum(axis=0)])

    settings = {**TrainingConfig().to_json(), **extra, "learning_rate": lr}
    expected = reference_updates(name, settings, grads_of, np.concatenate([W0.ravel(), b0]), 3)
    got = net.parameters_by_layer()[0]
    np.testing.assert_allclose(np.concatenate([got["W"].ravel(), got["b"]]), expected, rtol=1e-12, atol=1e-15)
    assert trainer.optimizer.steps == 3
    assert trainer.optimizer.settings()["optimizer"] == name


def test_make_optimizer_takes_its_own_settings_and_rejects_bad_ones():
    opt = make_optimizer("momentum", {"learning_rate": 0.2, "momentum": 0.5, "nesterov": True, "beta1": 0.1})
    assert opt.settings() == {"optimizer": "momentum", "learning_rate": 0.2, "momentum": 0.5, "nesterov": True}
    assert make_optimizer("adam", {"learning_rate": 0.1}).settings()["beta2"] == 0.999
    assert set(OPTIMIZERS) == {"sgd", "momentum", "rmsprop", "adam"}
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("lbfgs", {})
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="learning rate"):
            make_optimizer("sgd", {"learning_rate": bad})
    with pytest.raises(ValueError, match="momentum"):
        make_optimizer("momentum", {"momentum": 1.0})


def test_optimizer_state_dict_and_load_state_dict():
    opt = make_optimizer("adam", {"learning_rate": 0.1})
    opt.bind(3, np, np.float64)
    w = np.zeros(3)
    opt.step(w, np.array([1.0, -2.0, 3.0]))
    snap = opt.state_dict()
    w_saved = w.copy()
    opt.step(w, np.array([0.5, 0.5, 0.5]))
    w_next = w.copy()
    opt.step(w, np.array([9.0, 9.0, 9.0]))
    opt.learning_rate = 5.0
    opt.load_state_dict(snap)
    assert (opt.steps, opt.learning_rate) == (1, 0.1)
    w[...] = w_saved
    opt.step(w, np.array([0.5, 0.5, 0.5]))
    np.testing.assert_array_equal(w, w_next)


@pytest.mark.parametrize(("value", "words"), [
    (2.5, r"sample 3, step 2: 2.5 is not one \(these inputs look like measurements"),
    (-1.0, "sample 3, step 2: -1 is negative"),
    (1e12, "sample 3, step 2: 1000000000000 is beyond it: set the vocabulary to at least 1,000,000,000,001"),
    (3.0, "sample 3, step 2: 3 is beyond it: set the vocabulary to at least 4"),
])
def test_an_embedding_first_layer_refuses_inputs_that_are_not_its_token_ids(value, words):
    X = np.tile([0.0, 1.0, 2.0], (6, 1))
    X[2, 1] = value
    data = make_dataset(X, np.arange(6) % 2, task="binary")
    spec = network_spec(data, [{"type": "embedding", "vocabulary": 3, "dimension": 2}, {"type": "gru", "units": 2}])
    with pytest.raises(ConfigError, match=words):
        Trainer(Network(spec, get_backend("numpy", "float32")), data, TrainingConfig())
    X[2, 1] = 2.0  # whole numbers inside the vocabulary train
    Trainer(Network(spec, get_backend("numpy", "float32")), make_dataset(X, np.arange(6) % 2, task="binary"), TrainingConfig())
