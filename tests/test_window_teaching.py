"""The window's teaching tools put together: the worked examples (File ▸ Worked examples),
weights edited by hand from the views, and the loss surface's gradient-descent path."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import WAIT_MS, child, click, step_epochs
from PySide6.QtCore import QObject, QPoint, QPointF, Qt
from PySide6.QtWidgets import QMessageBox, QToolButton

from core.experiment import Experiment
from core.presets import PRESETS


def cell(window, name: str, row: int = 0, column: int = 0) -> str:
    """The text of one number of the inspector's array ``name`` ("z1", "W1", "dW1", …)."""
    from app.views.inspector import ArrayTable

    table = window.registry.inspector.findChild(ArrayTable, f"inspector_{name}")
    assert table is not None, name
    return table.model().index(row, column).data()


def click_at(qtbot, view, x: float, y: float) -> None:
    """A click on the point (x, y) of ``view``'s plot, in data coordinates."""
    scene = view.plot.getViewBox().mapViewToScene(QPointF(x, y))
    where = view.canvas.mapFromScene(scene)
    qtbot.mouseClick(view.canvas.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(where.x(), where.y()))


def step_batch(qtbot, window) -> None:
    with qtbot.waitSignal(window.controller.probed, timeout=WAIT_MS):
        click(qtbot, child(window, QToolButton, "stepBatchButton"))


def edit(qtbot, window, view, layer: int, name: str, index: tuple, value: float) -> None:
    """Set one number from ``view`` as a click and Enter in its editor would, and wait for the trainer's answer."""
    with qtbot.waitSignal(window.controller.parameterEdited, timeout=WAIT_MS):
        view.parameterEdited.emit(layer, name, index, value)


def test_the_worked_examples_menu_lists_every_preset(window):
    menu = window.actions.submenus["examples"]
    assert [action.text() for action in menu.actions()] == [example.title for example in PRESETS]
    assert all(action.toolTip() for action in menu.actions())


def test_logistic_regression_by_hand_stepped_once_gives_the_courses_numbers(qtbot, window):
    menu = window.actions.submenus["examples"]
    menu.actions()[0].trigger()  # the menu's own entry, as a click on it does
    assert "Logistic regression by hand" in window.banner.text.text() and window.banner.isVisible()
    window.banner.text.linkActivated.emit("example")  # the link to the whole note
    box = qtbot.waitUntil(lambda: window.findChild(QMessageBox) is not None) or window.findChild(QMessageBox)
    assert "0.503475" in box.text()  # where the slides round
    box.close()
    assert window.dataset.n_samples == 1 and window.config.dtype == "float64"
    np.testing.assert_array_equal(window.trainer_state().params, [0.5, 0.5, 1.0])
    inspector = window.registry.inspector
    assert window.registry.docks["inspector"].isVisible() and not inspector.visibleRegion().isEmpty()  # in front
    qtbot.waitUntil(lambda: bool(inspector.findChildren(QObject, "inspector_z1")) and cell(window, "z1") == "5.0000000000",
                    timeout=WAIT_MS)
    assert (cell(window, "a1"), cell(window, "dz1"), cell(window, "dW1", 0, 1)) == ("0.9933071491", "-0.0066928509", "-0.0200785528")
    step_batch(qtbot, window)
    np.testing.assert_allclose(window.trainer_state().params, [0.5003346425, 0.5002007855, 1.0000669285], atol=5e-11)
    qtbot.waitUntil(lambda: inspector.step_model.rowCount() == 3, timeout=WAIT_MS)
    model = inspector.step_model
    assert [model.index(row, 4).data() for row in range(3)] == ["0.5003346425", "0.5002007855", "1.0000669285"]  # new
    assert cell(window, "W1", 0, 0) == "0.5003346425"


def test_a_boundary_point_clicked_is_the_sample_the_inspector_shows(qtbot, window):
    window.registry.show_view("inspector")
    boundary = window.registry.boundary
    qtbot.waitUntil(lambda: boundary.picker.position_of(7) is not None, timeout=WAIT_MS)
    with qtbot.waitSignal(window.controller.probed, timeout=WAIT_MS,
                          check_params_cb=lambda result: result.name == "inspector" and result.data.index == 7):
        click_at(qtbot, boundary, *boundary.picker.position_of(7))
    assert window.registry.sample == 7 and window.registry.activations.sample_spin.value() == 7
    assert boundary.picker.ring.data["x"][0] == window.dataset.X[7, 0]
    qtbot.waitUntil(lambda: "sample 7" in window.registry.inspector.readout.text(), timeout=WAIT_MS)


def test_a_weight_typed_in_the_inspector_is_set_in_the_network(qtbot, window):
    assert window.open_example("softmax_by_hand")
    edit(qtbot, window, window.registry.inspector, 0, "W", (2, 0), 4.0)  # the logit of "humans"
    qtbot.waitUntil(lambda: cell(window, "z1", 2) == "4.0000000000", timeout=WAIT_MS)
    np.testing.assert_array_equal(window.trainer_state().params[:4], [5, 2, 4, 3])


def test_a_weight_edited_before_training_is_the_runs_initial_weight(qtbot, window):
    assert window.open_example("logistic_by_hand")
    edit(qtbot, window, window.registry.graph, 0, "W", (0, 1), 0.25)
    qtbot.waitUntil(lambda: window.experiment().weights[0]["W"] == [[0.5, 0.25]], timeout=WAIT_MS)
    assert window.history.current.checkpoints.get(0).params.tolist() == [0.5, 0.25, 1.0]
    assert window.isWindowModified() and not window.history.current.markers
    window.reset()  # a reset starts from the edited weights
    np.testing.assert_array_equal(window.trainer_state().params, [0.5, 0.25, 1.0])
    assert Experiment.from_json(window.experiment().to_json()).weights == [{"W": [[0.5, 0.25]], "b": [1.0]}]


def test_a_weight_edited_after_training_is_marked_on_the_run_and_trains_on(qtbot, window):
    step_epochs(qtbot, window, 2)
    before = window.experiment().weights
    edit(qtbot, window, window.weights, 0, "W", (3, 1), 0.5)
    marker = window.history.current.markers[-1]
    assert (marker.position, marker.kind, marker.text) == (2, "edit", "W[1]₄₂ := 0.5")
    assert window.trainer_state().params[3 * 2 + 1] == np.float32(0.5)  # W[1] is 8×2, row-major at the front
    assert window.experiment().weights == before  # the initial weights stay the seed's
    step_epochs(qtbot, window, 1)
    assert window.history.count == 3


def test_an_edit_the_trainer_refuses_is_explained_and_changes_nothing(qtbot, window):
    params = window.trainer_state().params
    with qtbot.waitSignal(window.controller.failed, timeout=WAIT_MS):
        window.weights.parameterEdited.emit(0, "W", (99, 0), 1.0)
    assert "no index" in window.banner.text.text()
    np.testing.assert_array_equal(window.trainer_state().params, params)


@pytest.fixture
def line_fit(window, tmp_path):
    """A 1-feature linear regression (two parameters, w and b) on 40 samples of y = 3x − 1 + noise."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 40)
    y = 3 * x - 1 + 0.1 * rng.normal(size=40)
    experiment = Experiment.from_json({
        "dataset": {"inline": {"X": x[:, None].tolist(), "y": [[v] for v in y], "name": "line"}},
        "network": {"input_shape": [1], "layers": [{"type": "dense", "units": 1, "activation": "linear"}]},
        "training": {"optimizer": "sgd", "learning_rate": 0.1, "batch_size": 40, "epochs": 100, "val_fraction": 0.0}})
    window.apply_experiment(experiment)
    return window


def test_the_loss_surface_draws_the_runs_path_through_w_and_b(qtbot, line_fit):
    window = line_fit
    window.registry.show_view("lossSurface")
    step_epochs(qtbot, window, 3)
    checkpoints = window.history.current.checkpoints
    qtbot.waitUntil(lambda: checkpoints.epochs == [0, 1, 2, 3], timeout=WAIT_MS)  # they follow the epochs they are of
    np.testing.assert_array_equal(window.registry.loss_surface._path, [state.params for _, state in checkpoints.items()])


def test_extra_inputs_ticked_in_the_data_tab_feed_the_network_and_the_boundary_stays_on_the_plane(qtbot, window):
    panel = window.dataset_panel
    with qtbot.waitSignal(window.controller.probed, timeout=WAIT_MS,
                          check_params_cb=lambda result: result.name == "boundary" and result.data[0].grid is not None):
        panel.engineered.set_selected(["x1^2", "x2^2"])
        panel.engineered.changed.emit(["x1^2", "x2^2"])  # the user's ticks
    assert window.network.input_shape == (4,) and window.experiment().dataset["engineered"] == ["x1^2", "x2^2"]
    step_epochs(qtbot, window, 1)
    assert window.history.count == 1
