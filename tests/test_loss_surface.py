"""core.loss_surface: the (w, b) plane equals the trainer's own loss, the line and plane through
the weights, filter-normalised directions, and the probe's caching (no Qt)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from core import loss_surface as ls
from core.backend import get_backend
from core.data import make_dataset
from core.experiment import network_spec
from core.losses import get_loss
from core.network import Network
from core.synthetic import synthetic
from core.trainer import Trainer, TrainingConfig


def regression_data(samples: int = 200, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, samples)
    return make_dataset(x[:, None], 1.5 * x + 4 + rng.normal(0, 0.5, samples), name="line")


def classification_data(samples: int = 200, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 2, samples)
    return make_dataset(x[:, None], (x + rng.normal(0, 1, samples) > 0.5).astype(np.int64), name="one feature")


def two_parameter_trainer(data, **settings) -> Trainer:
    config = TrainingConfig(**{"optimizer": "sgd", "learning_rate": 0.1, "batch_size": 16, "dtype": "float64", **settings})
    return Trainer(Network(network_spec(data, []), get_backend("numpy", "float64"), seed=3), data, config)


def own_training_loss(trainer: Trainer) -> float:
    """The trainer's loss function on its own training part at the current weights."""
    return trainer.loss.value(trainer.network.forward(trainer.x_train), trainer.y_train, np)


@pytest.mark.parametrize("data", [regression_data(), classification_data()], ids=["linear+mse", "sigmoid+bce"])
def test_the_wb_plane_equals_the_trainers_loss_at_the_current_weights(data):
    trainer = two_parameter_trainer(data)
    for _ in range(3):
        trainer.run_epoch()
        result = ls.LossSurfaceProbe()(trainer)
        assert result.kind == "plane2" and result.two_parameters and result.parameters == 2
        assert result.point == ls.wb_point(trainer.network)
        assert result.point_loss == pytest.approx(own_training_loss(trainer), abs=1e-9)
        w, b = result.point
        assert ls.wb_losses(trainer, np.array([w]), np.array([b]))[0] == pytest.approx(own_training_loss(trainer), abs=1e-9)


def test_the_wb_plane_equals_the_loss_the_trainer_reports():
    """With one mini-batch an epoch, an epoch's reported training loss is the loss at the weights it started from."""
    data = regression_data()
    trainer = two_parameter_trainer(data, batch_size=1000, shuffle=False)
    for _ in range(4):
        w, b = ls.wb_point(trainer.network)
        before = ls.wb_losses(trainer, np.array([w]), np.array([b]))[0]
        assert trainer.run_epoch().train_loss == pytest.approx(before, abs=1e-9)


def test_every_grid_value_is_the_loss_at_its_own_point():
    trainer = two_parameter_trainer(classification_data())
    grid = ls.LossSurfaceProbe()(trainer).grid
    network = trainer.network
    for i, j in ((0, 0), (7, 30), (60, 60)):
        network.set_parameters([{"W": np.array([[grid.s[j]]]), "b": np.array([grid.t[i]])}])
        assert grid.losses[i, j] == pytest.approx(own_training_loss(trainer), abs=1e-12)


def test_point_losses_follow_core_losses():
    rng = np.random.default_rng(1)
    y_binary = (rng.random((30, 2)) > 0.5).astype(float)
    y_onehot = np.eye(3)[rng.integers(0, 3, 30)]
    for name, y in (("mse", rng.normal(size=(30, 2))), ("binary_crossentropy", y_binary), ("categorical_crossentropy", y_onehot)):
        a = rng.random((4, 30, y.shape[1]))
        if name == "categorical_crossentropy":
            a /= a.sum(axis=2, keepdims=True)
        expected = [get_loss(name).value(point, y, np) for point in a]
        np.testing.assert_allclose(ls.point_losses(name, a, y, 1e-15), expected, rtol=1e-13)


def test_the_grid_follows_the_points_it_saw_and_the_requested_extent():
    trainer = two_parameter_trainer(regression_data())
    probe = ls.LossSurfaceProbe()
    first = probe(trainer).grid
    w_star, b_star = probe._minimum
    assert first.extent[0] < w_star < first.extent[1] and first.extent[2] < b_star < first.extent[3]  # the minimum is in view
    trainer.run_epoch()
    assert probe(trainer).grid.key == first.key  # the point moved inside the grid: nothing computed again
    probe.extent = (-40.0, 2.0, 0.0, 1.0)
    wider = probe(trainer).grid
    assert wider.key != first.key and wider.extent[0] <= -40.0
    trainer.network.set_parameters([{"W": np.array([[90.0]]), "b": np.array([-70.0])}])
    grown = probe(trainer).grid
    assert grown.extent[1] >= 90.0 and grown.extent[2] <= -70.0
    assert probe(two_parameter_trainer(regression_data())).grid.extent[1] < 90.0  # a new trainer starts afresh


def test_a_large_training_part_grid_uses_a_subsample_but_the_point_stays_exact(monkeypatch):
    monkeypatch.setattr(ls, "WORK_LIMIT", ls.PLANE2_RESOLUTION ** 2 * 50)
    trainer = two_parameter_trainer(regression_data(400))
    result = ls.LossSurfaceProbe()(trainer)
    assert result.grid.samples == 50 and result.grid.train_size == trainer.train_size
    assert result.point_loss == pytest.approx(own_training_loss(trainer), abs=1e-9)


DROPOUT = {"type": "dropout", "rate": 0.1}


def moons_trainer(dtype: str = "float64", dropout: bool = True) -> Trainer:
    data = synthetic("moons", samples=300)
    hidden = [{"type": "dense", "units": 6, "activation": "tanh"}, *([DROPOUT] if dropout else [])]
    network = Network(network_spec(data, hidden), get_backend("numpy", dtype), seed=0)
    trainer = Trainer(network, data, TrainingConfig(dtype=dtype, learning_rate=0.05))
    trainer.run(5)
    return trainer


@pytest.mark.parametrize("directions", ls.DIRECTIONS)
def test_the_line_through_the_weights_at_zero_is_the_current_loss(directions):
    trainer = moons_trainer()
    probe = ls.LossSurfaceProbe()
    assert probe(trainer).kind == "none"  # 25 parameters: no (w, b) plane
    probe.mode, probe.directions = "line", directions
    result = probe(trainer)
    grid = result.grid
    assert result.kind == "line" and grid.t is None and len(grid.s) == ls.LINE_POINTS
    middle = ls.LINE_POINTS // 2
    assert grid.s[middle] == 0.0
    assert grid.losses[middle] == pytest.approx(own_training_loss(trainer), abs=1e-9)  # 240 samples ≤ SAMPLE_LIMIT: all of them
    assert grid.centre_loss == pytest.approx(own_training_loss(trainer), abs=1e-9)
    if directions == "gradient":  # a small step along −∇L lowers the loss
        assert grid.losses[middle + 1] < grid.losses[middle]


def test_the_plane_through_the_weights_and_its_caching():
    trainer = moons_trainer()
    probe = ls.LossSurfaceProbe()
    probe.mode, probe.resolution = "plane", 9
    grid = probe(trainer).grid
    assert grid.losses.shape == (9, 9)
    assert grid.losses[4, 4] == pytest.approx(own_training_loss(trainer), abs=1e-9)
    trainer.run_epoch()
    assert probe(trainer).grid.key == grid.key  # the weights moved: still the plane computed on demand
    probe.request += 1
    again = probe(trainer).grid
    assert again.key != grid.key and again.epoch == trainer.epoch and not np.array_equal(again.losses, grid.losses)
    pickle.loads(pickle.dumps(probe))
    assert pickle.loads(pickle.dumps(probe))._grid is None  # the caches stay in the trainer's process


def test_random_directions_are_filter_normalised():
    params = [{"W": np.arange(12.0).reshape(3, 4) - 5, "b": np.ones(3)}, {}, {"W": np.array([[0.0, 0.0], [3.0, 4.0]]), "b": np.ones(2)}]
    direction = ls.random_direction(params, np.random.default_rng(0))
    assert direction[1] == {}
    for p, d in ((params[0], direction[0]), (params[2], direction[2])):
        np.testing.assert_allclose(np.linalg.norm(d["W"], axis=1), np.linalg.norm(p["W"], axis=1), rtol=1e-12)
        assert not d["b"].any()
    assert not np.allclose(direction[0]["W"] / np.linalg.norm(direction[0]["W"], axis=1, keepdims=True),
                           params[0]["W"] / np.linalg.norm(params[0]["W"], axis=1, keepdims=True))  # a direction of its own


def test_the_gradient_direction_is_minus_the_gradient_scaled_to_the_weights():
    trainer = moons_trainer(dropout=False)
    x, y = ls.training_rows(trainer)
    direction = ls.gradient_direction(trainer.network, x, y, trainer.loss.name)
    network = trainer.network  # the engine's own backward pass on the whole training part
    out = network.forward(trainer.x_train, True)
    network.backward(*trainer.loss.output_delta(out, trainer.y_train, network.output_activation, np.empty_like(out), np))
    gradient = network.gradients_by_layer()
    flat = np.concatenate([v.ravel() for p in direction for v in p.values()])
    expected = -np.concatenate([v.ravel() for p in gradient for v in p.values()])
    np.testing.assert_allclose(flat / np.linalg.norm(flat), expected / np.linalg.norm(expected), atol=1e-10)
    assert np.linalg.norm(flat) == pytest.approx(ls.weights_norm(trainer.network.parameters_by_layer()))


def test_a_float32_model_is_read_in_its_own_numbers():
    trainer = moons_trainer("float32")
    probe = ls.LossSurfaceProbe()
    probe.mode = "line"
    grid = probe(trainer).grid
    assert grid.centre_loss == pytest.approx(own_training_loss(trainer), rel=1e-5)


def test_big_networks_use_fewer_samples():
    network = Network({"input_shape": [50], "layers": [{"type": "dense", "units": 400, "activation": "relu"},
                                                       {"type": "dense", "units": 300, "activation": "relu"},
                                                       {"type": "dense", "units": 1}]})
    origin = network.parameters_by_layer()
    assert ls.sample_budget(network, origin, 2, 41 * 41) < ls.SAMPLE_LIMIT
    assert ls.sample_budget(network, origin, 2, 41 * 41) >= ls.MIN_SAMPLES
    assert ls.sample_budget(Network(network_spec(regression_data(), [])), [{"W": np.ones((1, 1)), "b": np.ones(1)}], 1, 81) \
        == ls.SAMPLE_LIMIT


# ----- the view (pytest-qt) ---------------------------------------------------------------------
def probe_result(trainer: Trainer, probe: ls.LossSurfaceProbe):
    from app.trainer_process import ProbeResult

    return ProbeResult("lossSurface", trainer.epoch, trainer.cursor, probe(trainer))


def surface_view(qtbot):
    from app.views.loss_surface import LossSurfaceView

    view = LossSurfaceView()
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.show()
    asked: list[dict] = []
    view.configureProbe.connect(asked.append)
    return view, asked


def test_the_view_draws_the_wb_plane_the_path_and_asks_for_an_extent_that_holds_it(qtbot):
    view, asked = surface_view(qtbot)
    assert view.name == "lossSurface" and view.showing_note()
    trainer = two_parameter_trainer(regression_data(), batch_size=1000, learning_rate=1.05)  # too high: it diverges, zig-zagging
    probe = ls.LossSurfaceProbe()
    view.receive(probe_result(trainer, probe))  # the probe sees the start only
    view.refresh()
    states = [trainer.state()]
    for _ in range(30):
        trainer.run_epoch()
        states.append(trainer.state())
    path = ls.checkpoint_path(states)  # what the window gives the view from the run's checkpoints
    assert path.shape == (31, 2) and tuple(path[-1]) == ls.wb_point(trainer.network)
    assert ls.checkpoint_path([moons_trainer().state()]).shape == (0, 2)
    view.receive(probe_result(trainer, probe))
    view.refresh()
    assert not view.showing_note() and view.image.image.shape == (ls.PLANE2_RESOLUTION,) * 2
    assert "loss" in view.readout.text() and "all 160 training samples" in view.caption.text()
    view.set_path(np.array(path[:-1]))
    drawn_w, drawn_b = view.path.getData()
    assert len(drawn_w) == 31 and drawn_w[-1] == path[-1][0] and drawn_b[-1] == path[-1][1]  # the current point appended
    steps = np.sign(np.diff(drawn_w))
    assert np.all(steps[1:] == -steps[:-1])  # the zig-zag
    box = (float(min(p[0] for p in path)), float(max(p[0] for p in path)), float(min(p[1] for p in path)),
           float(max(p[1] for p in path)))
    assert asked == [{"extent": box}]  # the probe saw two of the points: the path leaves its grid
    probe.extent = box
    view.receive(probe_result(trainer, probe))
    view.refresh()
    grid_extent = probe(trainer).grid.extent
    assert ls.contains(grid_extent, box) and len(asked) == 1
    view.new_run()
    assert view.showing_note() and not len(view.path.getData()[0] or [])


def test_the_view_refuses_the_wb_plane_for_a_bigger_model_and_computes_a_line_on_demand(qtbot):
    view, asked = surface_view(qtbot)
    trainer = moons_trainer()
    probe = ls.LossSurfaceProbe()
    view.receive(probe_result(trainer, probe))
    view.refresh()
    assert view.showing_note() and "This model has 25:" in view.note.text()
    assert not view.compute_button.isEnabled()
    view.mode_combo.setCurrentIndex(view.mode_combo.findData("line"))
    view.mode_combo.activated.emit(view.mode_combo.currentIndex())
    assert asked[-1] == {"mode": "line", "directions": "random"} and view.compute_button.isEnabled()
    view.directions_combo.setCurrentIndex(view.directions_combo.findData("gradient"))
    view.compute_button.click()
    assert asked[-1] == {"mode": "line", "directions": "gradient", "request": 1}
    for key, value in asked[-1].items():
        setattr(probe, key, value)
    view.receive(probe_result(trainer, probe))
    view.refresh()
    assert not view.showing_note() and view.line.isVisible() and not view.image.isVisible()
    t, losses = view.line.getData()
    assert len(t) == ls.LINE_POINTS and losses[ls.LINE_POINTS // 2] == pytest.approx(own_training_loss(trainer), abs=1e-9)
    assert "−∇L" in view.caption.text() and "epoch 5" in view.readout.text()


def test_the_probe_runs_in_a_process_without_qt(child_env):
    from app.trainer_process import Probe
    from tests.test_trainer_process import run_without_qt

    line = ls.LossSurfaceProbe()
    line.mode = "line"
    assert run_without_qt([Probe("lossSurface", ls.LossSurfaceProbe(), 0.1), Probe("lossSurface", line, 0.1)], child_env) == []
