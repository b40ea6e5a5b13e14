"""Engineered inputs for 2-D data (core.features): the columns, the schema's refusals, experiments
that carry them, and a linear model that separates the circle with x1² and x2²."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.data import DataError, make_dataset
from core.experiment import Experiment, load_dataset, network_spec
from core.features import ENGINEERED, canonical, engineer, expand, network_inputs, plane_features, plane_samples
from core.files import FileFormatError
from core.insight import plane_grid
from core.network import Network
from core.schema import SchemaError, validate_dataset
from core.synthetic import synthetic
from core.trainer import ConfigError, Trainer, TrainingConfig

ROOT = Path(__file__).resolve().parents[1]
ALL = list(ENGINEERED)


def points_data():
    return make_dataset(np.array([[1.0, 2.0], [-3.0, 0.5], [0.0, -1.5]]), np.array([0, 1, 1]), name="three")


def test_the_names_and_titles_are_playgrounds():
    assert ALL == ["x1^2", "x2^2", "x1*x2", "sin_x1", "sin_x2"]
    assert [title for title, _ in ENGINEERED.values()] == ["x1²", "x2²", "x1·x2", "sin x1", "sin x2"]


def test_engineer_appends_every_column_exactly():
    data = engineer(points_data(), ALL)
    x1, x2 = np.array([1.0, -3.0, 0.0]), np.array([2.0, 0.5, -1.5])
    expected = np.column_stack([x1, x2, x1 * x1, x2 * x2, x1 * x2, np.sin(x1), np.sin(x2)])
    np.testing.assert_array_equal(data.X, expected)
    assert data.X[1].tolist()[:5] == [-3.0, 0.5, 9.0, 0.25, -1.5]
    assert data.feature_names == ("x1", "x2", "x1²", "x2²", "x1·x2", "sin x1", "sin x2")
    assert data.meta == {"engineered": ALL, "raw_features": 2}
    np.testing.assert_array_equal(data.y, [0, 1, 1])


def test_the_columns_follow_the_canonical_order_whatever_order_is_given():
    data = engineer(points_data(), ["sin_x2", "x1^2"])
    assert data.meta["engineered"] == ["x1^2", "sin_x2"]
    assert data.feature_names == ("x1", "x2", "x1²", "sin x2")
    np.testing.assert_array_equal(data.X[:, 2:], np.column_stack([[1.0, 9.0, 0.0], np.sin([2.0, 0.5, -1.5])]))


def test_engineering_again_starts_from_x1_x2_and_none_gives_the_plain_data_back():
    once = engineer(points_data(), ["x1^2", "x2^2"])
    again = engineer(once, ["x1*x2"])
    assert again.feature_names == ("x1", "x2", "x1·x2")
    np.testing.assert_array_equal(again.X, engineer(points_data(), ["x1*x2"]).X)
    plain = engineer(once, [])
    np.testing.assert_array_equal(plain.X, points_data().X)
    assert plain.feature_names == ("x1", "x2") and plain.meta == {}
    assert plane_features(once) == 2 and plane_features(points_data()) == 2
    np.testing.assert_array_equal(plane_samples(once), points_data().X)


def test_a_regressions_true_weights_get_zero_for_the_engineered_columns():
    plane = synthetic("plane", 50, 0.0, 0)
    data = engineer(plane, ["x1*x2", "sin_x1"])
    np.testing.assert_array_equal(data.true_weights, np.column_stack([plane.true_weights, np.zeros((1, 2))]))
    np.testing.assert_array_equal(data.true_bias, plane.true_bias)


@pytest.mark.parametrize(("names", "message"), [
    (["x1^3"], "unknown engineered feature 'x1^3'; choose from x1^2, x2^2, x1*x2, sin_x1, sin_x2"),
    (["x1^2", "x1^2"], "engineered feature 'x1^2' is given twice"),
])
def test_engineer_refuses_an_unknown_or_repeated_name(names, message):
    with pytest.raises(DataError, match=f"^{message.replace('^', '\\^').replace('*', '\\*')}$"):
        engineer(points_data(), names)
    with pytest.raises(DataError):
        canonical(names)


def test_engineer_refuses_data_without_two_features():
    with pytest.raises(DataError, match=r"^engineered features need data of exactly 2 features \(x1, x2\); this data has 1$"):
        engineer(synthetic("sine", 20, 0.1, 0), ["x1^2"])


def test_expand_of_a_grid_equals_engineer_of_the_same_points():
    data = engineer(synthetic("circle", 100, 0.1, 0), ALL)
    grid = plane_grid(plane_samples(data), resolution=9)
    as_data = engineer(make_dataset(grid.points, np.arange(len(grid.points)) % 2), ALL)
    np.testing.assert_array_equal(expand(grid.points, ALL), as_data.X)
    np.testing.assert_array_equal(network_inputs(data, grid.points), as_data.X)
    np.testing.assert_array_equal(network_inputs(synthetic("circle", 100, 0.1, 0), grid.points), grid.points)
    with pytest.raises(DataError, match=r"shape \(m, 2\), got \(81, 3\)"):
        expand(np.zeros((81, 3)), ALL)


# ----- the dataset object ----------------------------------------------------------------------
def test_every_kind_of_dataset_object_may_carry_engineered_features(tmp_path):
    np.savez(tmp_path / "two.npz", X=points_data().X, y=points_data().y)
    inline = {"X": [[1, 2], [-3, 0.5], [0, -1.5]], "y": [0, 1, 1], "classes": ["a", "b"]}
    for source in ({"name": "xor", "samples": 40, "engineered": ["x1*x2"]},
                   {"path": "two.npz", "engineered": ["x1*x2"]},
                   {"inline": inline, "engineered": ["x1*x2"]}):
        data = load_dataset(source, tmp_path)
        assert data.n_features == 3 and data.feature_names[2] == "x1·x2", source
        np.testing.assert_array_equal(data.X[:, 2], data.X[:, 0] * data.X[:, 1])


def test_the_schema_keeps_the_names_in_canonical_order():
    assert validate_dataset({"name": "circle", "engineered": ["sin_x2", "x1*x2"]}) == {"name": "circle", "engineered": ["x1*x2", "sin_x2"]}
    assert validate_dataset({"name": "circle", "engineered": []}) == {"name": "circle", "engineered": []}
    assert load_dataset({"name": "circle", "samples": 40, "engineered": []}).n_features == 2
    assert "engineered" not in validate_dataset({"name": "circle"})


@pytest.mark.parametrize(("source", "message"), [
    ({"name": "circle", "engineered": ["x1^3"]}, "dataset.engineered[0]: unknown engineered feature 'x1^3'; did you mean 'x1^2'?"),
    ({"name": "circle", "engineered": ["x1^2", "x2^2", "x1^2"]}, "dataset.engineered: engineered feature 'x1^2' is given twice"),
    ({"name": "circle", "engineered": "x1^2"}, 'dataset.engineered: expected a list, got "x1^2"'),
    ({"path": "a.csv", "engineered": [1]}, "dataset.engineered[0]: expected one of x1^2, x2^2, x1*x2, sin_x1, sin_x2, got 1"),
    ({"name": "circle", "engineerd": ["x1^2"]}, "dataset.engineerd: unknown dataset setting; did you mean 'engineered'?"),
])
def test_the_schema_refuses_a_wrong_engineered_key_in_one_line(source, message):
    with pytest.raises(SchemaError) as caught:
        load_dataset(source)
    assert str(caught.value) == message


@pytest.mark.parametrize(("name", "features"), [("iris", 4), ("sine", 1), ("housing", 6)])
def test_data_without_two_features_is_refused_naming_the_key(name, features):
    source = {"name": name, "engineered": ["x1^2"]}
    with pytest.raises(ConfigError) as caught:
        load_dataset(source)
    assert str(caught.value) == (f"dataset.engineered: engineered features need data of exactly 2 features (x1, x2); "
                                 f"this data has {features}")


def test_an_experiment_with_engineered_features_loads_and_round_trips(tmp_path):
    dataset = {"name": "circle", "samples": 60, "noise": 0.1, "seed": 0, "engineered": ["x2^2", "x1^2"]}
    path = tmp_path / "circle.json"
    path.write_text(json.dumps({"dataset": dataset, "network": {}}))
    experiment = Experiment.load(path)
    assert experiment.dataset["engineered"] == ["x1^2", "x2^2"]
    data = load_dataset(experiment.dataset)
    experiment.network = network_spec(data, [])
    assert experiment.network["input_shape"] == [4]
    experiment.save(tmp_path / "again.json")
    again = Experiment.load(tmp_path / "again.json")
    assert again.to_json() == experiment.to_json()
    np.testing.assert_array_equal(load_dataset(again.dataset).X, data.X)
    path.write_text(json.dumps({"dataset": {**dataset, "engineered": ["x1^2", "cos_x1"]}, "network": {}}))
    with pytest.raises(FileFormatError, match=r"circle\.json: dataset\.engineered\[1\]: unknown engineered feature 'cos_x1'"):
        Experiment.load(path)


def train_from_the_cli(config: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "train", "--config", str(config), "--epochs", "2", *extra],
                          check=False, capture_output=True, text=True, env=env, timeout=120)


def test_the_cli_trains_an_experiment_with_engineered_features(tmp_path, child_env):
    config = tmp_path / "circle.json"
    config.write_text(json.dumps({"dataset": {"name": "circle", "samples": 100, "engineered": ["x1^2", "x2^2"]}, "network": {},
                                  "training": {"learning_rate": 0.05}}))
    done = train_from_the_cli(config, child_env, "--layers", "none")
    assert done.returncode == 0, done.stderr
    config.write_text(json.dumps({"dataset": {"name": "iris", "engineered": ["x1^2"]}, "network": {}}))
    refused = train_from_the_cli(config, child_env)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "error: dataset.engineered: engineered features need data of exactly 2 features (x1, x2); this data has 4"]


# ----- the evidence ----------------------------------------------------------------------------
def trained_linear_model(engineered: list[str]) -> tuple[Trainer, float]:
    """Dense(1, sigmoid) after 200 epochs of adam at 0.05 on circle (400 samples, 20 % validation),
    and its validation accuracy."""
    data = load_dataset({"name": "circle", "samples": 400, "noise": 0.1, "seed": 0, "engineered": engineered})
    network = Network(network_spec(data, []), seed=0)
    assert len(network.layers) == 1
    trainer = Trainer(network, data, TrainingConfig(optimizer="adam", learning_rate=0.05, epochs=200))
    return trainer, trainer.run(200)[-1].val_metric


def test_with_x1_squared_and_x2_squared_a_linear_model_separates_the_circle():
    trainer, accuracy = trained_linear_model(["x1^2", "x2^2"])
    assert accuracy >= 0.95
    # its boundary over the (x1, x2) plane is a closed curve between the disc (r < 2) and the ring (r > 3.5)
    data = trainer.dataset
    grid = plane_grid(plane_samples(data), resolution=41)
    inside = trainer.network.predict(network_inputs(data, grid.points))[:, 0] > 0.5
    radius = np.hypot(grid.points[:, 0], grid.points[:, 1])
    assert inside[radius < 1.5].all() and not inside[radius > 4.5].any()


def test_without_them_a_linear_model_stays_near_chance_on_the_circle():
    assert trained_linear_model([])[1] <= 0.7


def test_the_boundary_and_the_graph_of_engineered_inputs_are_drawn_over_the_x1_x2_plane():
    from core import insight

    data = engineer(synthetic("circle", 200, 0.05, 0), ["x1^2", "x2^2"])
    network = Network(network_spec(data, []), seed=0)
    trainer = Trainer(network, data, TrainingConfig(val_fraction=0.2))
    result = insight.boundary_data(trainer, resolution=12)
    assert result.reason == "" and result.outputs.shape == (12, 12, 1)
    grid = plane_grid(plane_samples(data), 12)
    assert (result.grid.x_range, result.grid.y_range) == (grid.x_range, grid.y_range)
    np.testing.assert_allclose(result.outputs.reshape(-1, 1), network.predict(expand(grid.points, ["x1^2", "x2^2"])), rtol=1e-5)
    graph = insight.graph_data(trainer, thumbnail_resolution=6)
    assert graph.maps is not None and graph.maps[0].shape == (1, 6, 6)
    assert graph.inputs == ("x1", "x2", "x1²", "x2²")
