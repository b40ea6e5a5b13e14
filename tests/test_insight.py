"""The Qt-free computations behind the views agree with the model they describe."""

import numpy as np

from core.experiment import network_spec
from core.insight import (
    boundary_map,
    confusion_matrix,
    histogram_counts,
    plane_grid,
    precision_recall,
    predicted_classes,
    raw_linear_weights,
    unit_maps,
)
from core.network import Network
from core.synthetic import synthetic
from core.trainer import Trainer, TrainingConfig


def _trained(name, hidden, epochs=5, **settings):
    data = synthetic(name, seed=1)
    net = Network(network_spec(data, hidden), seed=1)
    Trainer(net, data, TrainingConfig(**settings)).run(epochs)
    return data, net


def test_boundary_map_pixel_equals_predict_at_that_point():
    data, net = _trained("spiral3", [{"type": "dense", "units": 6, "activation": "tanh"}])
    grid = plane_grid(data.X, resolution=17)
    image = boundary_map(net, grid)
    assert image.shape == (17, 17, 3)
    i, j = 4, 11
    point = np.array([[np.linspace(*grid.x_range, 17)[j], np.linspace(*grid.y_range, 17)[i]]])
    np.testing.assert_allclose(image[i, j], net.predict(point)[0], rtol=1e-5)
    assert predicted_classes(image.reshape(-1, 3))[i * 17 + j] == predicted_classes(net.predict(point))[0]


def test_grid_covers_the_data_with_a_margin():
    X = np.array([[0.0, -2.0], [10.0, 2.0]])
    grid = plane_grid(X, resolution=5, margin=0.1)
    assert grid.x_range == (-1.0, 11.0)
    assert grid.y_range == (-2.4, 2.4)
    assert grid.points.shape == (25, 2)
    np.testing.assert_array_equal(grid.points[1], [2.0, -2.4])  # row-major: x varies fastest


def test_a_grid_around_one_sample_shows_its_surroundings():
    grid = plane_grid(np.array([[5.0, 3.0]]), resolution=5)  # the worked example's one sample
    assert grid.x_range == (0.0, 10.0) and grid.y_range == (0.0, 6.0)
    grid = plane_grid(np.array([[0.0, -2.0], [0.0, 2.0]]), resolution=5)  # flat in x only
    assert grid.x_range == (-1.0, 1.0) and grid.y_range == (-2.4, 2.4)


def test_unit_maps_match_the_hidden_layer_outputs():
    data, net = _trained("xor", [{"type": "dense", "units": 3, "activation": "tanh"}])
    grid = plane_grid(data.X, resolution=9)
    maps = unit_maps(net, grid)
    assert [m.shape for m in maps] == [(3, 9, 9), (1, 9, 9)]
    x = net.preprocess.apply(grid.points[[20]])
    params = net.parameters_by_layer()[0]
    expected = np.tanh(x @ params["W"].T + params["b"])[0]
    np.testing.assert_allclose(maps[0][:, 20 // 9, 20 % 9], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(maps[1][0].ravel(), net.predict(grid.points)[:, 0], rtol=1e-5)


def test_confusion_matrix_precision_and_recall_by_hand():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 0, 0])
    matrix = confusion_matrix(y_true, y_pred, 3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [1, 2, 0], [1, 0, 0]])
    precision, recall = precision_recall(matrix)
    np.testing.assert_allclose(precision[:2], [1 / 3, 2 / 3])
    assert np.isnan(precision[2])  # class 2 never predicted
    np.testing.assert_allclose(recall, [1 / 2, 2 / 3, 0.0])


def test_histogram_keeps_values_outside_the_edges():
    counts = histogram_counts(np.array([-5.0, -0.5, 0.2, 0.4, 9.0]), np.array([-1.0, 0.0, 1.0]))
    np.testing.assert_array_equal(counts, [2, 3])


def test_raw_linear_weights_recover_the_housing_truth():
    data, net = _trained("housing", [], epochs=150, optimizer="sgd", learning_rate=0.05, val_fraction=0.0)
    w, b = raw_linear_weights(net)
    # learned weights in raw units reproduce the network's predictions exactly
    np.testing.assert_allclose(data.X[:5] @ w[0] + b[0], net.predict(data.X[:5])[:, 0], rtol=1e-4)
    np.testing.assert_allclose(w, data.true_weights, rtol=0.25, atol=0.5)
