"""Hover a neuron (issue 12): the network graph says which unit is under the mouse, the
boundary probe computes that unit's output over its grid (equal to a forward pass by hand),
and the decision-boundary view draws it, on its activation's scale, until the mouse leaves."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPointF
from PySide6.QtWidgets import QApplication
from test_view_fixes import make_trainer, shown

from app.views.boundary import BoundaryView, shade, unit_colors, unit_scale
from app.views.network_graph import NetworkGraphView
from core import insight
from core.network import Network

# network.layers: 0 dense tanh, 1 dropout, 2 dense relu, 3 dense sigmoid (the output)
LAYERS = [{"type": "dense", "units": 3, "activation": "tanh"}, {"type": "dropout", "rate": 0.1},
          {"type": "dense", "units": 4, "activation": "relu"}, {"type": "dense", "units": 1, "activation": "sigmoid"}]
ACTIVATIONS = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0), "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z))}


@pytest.fixture(scope="module")
def trainer():
    return make_trainer(layers=LAYERS, epochs=3)


def forward_by_hand(network: Network, x_raw: np.ndarray, upto: int) -> np.ndarray:
    """The output (m, units) of network.layers[upto] for raw inputs x (m, 2), in float64:
    standardized, then dense layer by dense layer (Dropout: the identity when predicting)."""
    pre = network.preprocess
    a = (x_raw - pre.mean) / pre.std
    for layer, params in list(zip(network.layers, network.parameters_by_layer(), strict=True))[: upto + 1]:
        if "W" in params:
            a = ACTIVATIONS[layer.activation_name](a @ params["W"].astype(np.float64).T + params["b"].astype(np.float64))
    return a


def move_to(qtbot, view: NetworkGraphView, x: float, y: float) -> None:
    """A real mouse move over the graph's view point (x, y), after the pause pyqtgraph's scene
    wants between two moves (it drops moves that come sooner: ``mouseRateLimit`` per second)."""
    qtbot.wait(int(2000 / pg.getConfigOption("mouseRateLimit")) + 1)
    qtbot.mouseMove(view.canvas.viewport(), view.canvas.mapFromScene(view.plot.vb.mapViewToScene(QPointF(x, y))))
    QApplication.processEvents()


def hovered(qtbot, view: NetworkGraphView, x: float, y: float):
    """What unitHovered says when the mouse moves to (x, y)."""
    with qtbot.waitSignal(view.unitHovered, timeout=2000) as blocker:
        move_to(qtbot, view, x, y)
    return blocker.args[0]


# ----- the graph ----------------------------------------------------------------------------------
def test_hovering_a_unit_says_its_layer_and_unit_and_leaving_says_none(qtbot, trainer):
    view = shown(qtbot, NetworkGraphView(), (700, 500))
    view.show_data(insight.graph_data(trainer))
    inputs, hidden, second = 2, 3, 4  # the drawn units, column by column: inputs, layer 0, layer 2, layer 3
    assert hovered(qtbot, view, *view.node_xy[inputs + 1]) == (0, 1)
    assert hovered(qtbot, view, *view.node_xy[inputs + hidden + 2]) == (2, 2)  # after the Dropout: network.layers[2]
    assert hovered(qtbot, view, *view.node_xy[0]) is None  # an input is no unit of a layer
    assert hovered(qtbot, view, *view.node_xy[inputs + hidden + second]) == (3, 0)  # the output unit
    with qtbot.assertNotEmitted(view.unitHovered, wait=50):
        move_to(qtbot, view, *(view.node_xy[inputs + hidden + second] + 1))  # still over the same unit: nothing new said
    with qtbot.waitSignal(view.unitHovered, timeout=2000) as blocker:
        QApplication.sendEvent(view.canvas.viewport(), QEvent(QEvent.Type.Leave))
    assert blocker.args == [None] and view.hovered_unit is None
    assert hovered(qtbot, view, *view.node_xy[inputs]) == (0, 0)
    with qtbot.waitSignal(view.unitHovered, timeout=2000) as blocker:
        view.clear()  # a new run: the unit hovered is gone
    assert blocker.args == [None]


# ----- the probe ----------------------------------------------------------------------------------
@pytest.mark.parametrize("unit", [(0, 2), (2, 3), (3, 0)])
def test_the_probe_gives_the_unit_map_of_a_forward_pass_by_hand(trainer, unit):
    probe = insight.BoundaryProbe()
    plain = probe(trainer)[0]
    assert plain.unit_map is None
    probe.unit = unit  # what configure_probe("boundary", unit=unit) sets in the trainer's process
    data = probe(trainer)[0]
    r = data.grid.resolution
    assert r == 80 and data.unit_map.values.shape == (r, r)
    assert (data.unit_map.layer, data.unit_map.unit) == unit
    assert data.unit_map.activation == trainer.network.layers[unit[0]].activation_name
    expected = forward_by_hand(trainer.network, data.grid.points, unit[0])[:, unit[1]].reshape(r, r)
    assert not np.allclose(expected, expected.mean())  # a map that varies over the plane
    np.testing.assert_allclose(data.unit_map.values, expected, atol=2e-5)
    np.testing.assert_allclose(data.outputs, plain.outputs, atol=1e-6)  # the boundary as without a unit
    np.testing.assert_array_equal(data.classes, plain.classes)


@pytest.mark.parametrize("unit", [(1, 0), (0, 3), (4, 0), (-1, 0)])
def test_a_unit_the_network_lacks_gives_no_map(trainer, unit):
    data = insight.boundary_data(trainer, unit=unit)  # the Dropout, a unit too many, a layer too many
    assert data.unit_map is None and data.outputs is not None


def test_grid_points_can_be_mapped_to_the_networks_inputs():
    network = Network({"input_shape": [3], "layers": [{"type": "dense", "units": 2, "activation": "softmax"}]}, seed=1)
    grid = insight.plane_grid(np.array([[0.0, -1.0], [2.0, 1.0]]), resolution=6)
    expand = lambda p: np.column_stack([p, p[:, 0] * p[:, 1]])  # noqa: E731
    image = insight.boundary_map(network, grid, expand)
    np.testing.assert_allclose(image.reshape(-1, 2), network.predict(expand(grid.points)), atol=1e-6)
    maps = insight.unit_maps(network, grid, expand)
    np.testing.assert_allclose(maps[0], image.transpose(2, 0, 1), atol=1e-6)


# ----- the boundary view --------------------------------------------------------------------------
def test_unit_scales_suit_the_activation():
    values = np.array([[-0.5, 0.25], [2.0, 0.0]])
    assert unit_scale("sigmoid", values) == (0.0, 0.5, 1.0)
    assert unit_scale("tanh", values) == (-1.0, 0.0, 1.0)
    assert unit_scale("relu", values) == (0.0, 1.0, 2.0)
    assert unit_scale("linear", values) == (-2.0, 0.0, 2.0)
    colors = unit_colors(np.array([[-1.0, 0.0, 1.0]]), (-1.0, 0.0, 1.0))[0].astype(int)
    assert colors[0, 2] > colors[0, 0] and colors[2, 0] > colors[2, 2]  # blue at the low end, red at the high end
    assert colors[1].min() > 220 and np.ptp(colors[1]) < 15  # near white in the middle


def test_the_boundary_view_shows_the_unit_and_goes_back(qtbot, trainer):
    view = shown(qtbot, BoundaryView())
    data = insight.boundary_data(trainer, unit=(2, 1))
    points, names = insight.raw_split(trainer), ("x1", "x2")
    view.show_data(insight.boundary_data(trainer), points, names)
    view.show_unit((2, 1))  # asked for before a probe result carries its map: the boundary stays
    assert view.unit_shown is None and view.readout.text() == "paler = less sure"
    view.show_data(data, points, names)
    assert view.unit_shown is data.unit_map
    assert view.readout.text() == "showing unit 2 of layer 3 (relu) — move off the graph to see the decision boundary"
    expected = unit_colors(data.unit_map.values, unit_scale("relu", data.unit_map.values))
    np.testing.assert_array_equal(view.image.image, expected)
    assert view.image.image.shape[:2] == (80, 80) and view.unit_key.isVisible()
    assert view.unit_key.textItem.toPlainText().startswith("unit 2, layer 3 (relu): blue 0 · white ")
    view.show_unit((0, 1))  # another unit: the boundary until its map comes
    assert view.unit_shown is None
    view.show_unit(None)
    assert view.unit_shown is None and view.readout.text() == "paler = less sure" and not view.unit_key.isVisible()
    np.testing.assert_array_equal(view.image.image, shade(data.outputs, False)[0])
    view.show_data(data, points, names)  # a result still carrying the map once the mouse has left
    assert view.unit_shown is None


def test_hovering_the_graph_shows_the_unit_in_the_boundary_view(qtbot, trainer):
    """The window's wiring (app/views/manager.py), with the probe run at once as configure_probe does."""
    graph = shown(qtbot, NetworkGraphView(), (700, 500))
    boundary = shown(qtbot, BoundaryView())
    probe = insight.BoundaryProbe()

    def configure_probe(unit):
        probe.unit = unit
        boundary.show_data(*probe(trainer))

    graph.unitHovered.connect(configure_probe)
    graph.unitHovered.connect(boundary.show_unit)
    graph.show_data(insight.graph_data(trainer))
    boundary.show_data(*probe(trainer))
    with qtbot.waitSignal(graph.unitHovered, timeout=2000):
        move_to(qtbot, graph, *graph.node_xy[2 + 2])
    assert (boundary.unit_shown.layer, boundary.unit_shown.unit) == (0, 2)
    assert boundary.readout.text().startswith("showing unit 3 of layer 1 (tanh)")
    with qtbot.waitSignal(graph.unitHovered, timeout=2000):
        QApplication.sendEvent(graph.canvas.viewport(), QEvent(QEvent.Type.Leave))
    assert boundary.unit_shown is None and boundary.readout.text() == "paler = less sure"


def test_configure_probe_sets_the_unit_in_the_trainers_process(qtbot):
    from app.worker import Probe, TrainerController

    controller = TrainerController()
    try:
        results = []
        controller.probed.connect(results.append)
        controller.add_probe(Probe("boundary", insight.BoundaryProbe(), 1.0, enabled=True))
        controller.load(make_trainer(layers=LAYERS, epochs=0), 10)
        qtbot.waitUntil(lambda: bool(results), timeout=10_000)
        assert results[-1].data[0].unit_map is None
        with qtbot.waitSignal(controller.probed, timeout=10_000):
            controller.configure_probe("boundary", unit=(2, 3))
        got = results[-1].data[0].unit_map
        expected = insight.boundary_data(make_trainer(layers=LAYERS, epochs=0), unit=(2, 3)).unit_map  # the same network here
        assert (got.layer, got.unit, got.activation) == (2, 3, "relu")
        np.testing.assert_array_equal(got.values, expected.values)
        with qtbot.waitSignal(controller.probed, timeout=10_000):
            controller.configure_probe("boundary", unit=None)
        assert results[-1].data[0].unit_map is None
    finally:
        controller.shutdown()
