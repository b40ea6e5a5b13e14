"""The inspector: its probe (core.inspection) against an independent float64 computation and
against the trainer's own step; the view's numbers on the course's worked examples, its
tooltips and in-place editing of W and b; picking a sample in the decision boundary, the
regression fit and the table of samples."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QPoint, QPointF, Qt
from PySide6.QtWidgets import QLineEdit

from core import insight
from core.backend import get_backend
from core.data import make_dataset
from core.inspection import InspectorProbe
from core.network import Network
from core.trainer import Trainer, TrainingConfig, split_indices

F64 = get_backend("numpy", "float64")


def worked_example(optimizer: str = "sgd") -> Trainer:
    """The course's logistic regression by hand: x = (5, 3), y = 1, w = (0.5, 0.5), b = 1, α = 0.01,
    float64, one sample per step, no standardization (a second sample, y = 0, makes two classes)."""
    data = make_dataset(np.array([[5.0, 3.0], [1.0, -2.0]]), np.array([1, 0]))
    network = Network({"input_shape": [2], "layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]}, F64)
    network.set_parameters([{"W": np.array([[0.5, 0.5]]), "b": np.array([1.0])}])
    config = TrainingConfig(loss="binary_crossentropy", optimizer=optimizer, learning_rate=0.01, batch_size=1, val_fraction=0.0,
                            standardize=False, shuffle=False, dtype="float64")
    return Trainer(network, data, config)


def softmax_example() -> Trainer:
    """One input x1 = 1 and a softmax of 4 units with W = (5, 2, −1, 3)ᵀ, b = 0: the logits (5, 2, −1, 3)."""
    data = make_dataset(np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([0, 1, 2, 3]),
                        class_names=["scene", "animals", "humans", "vehicles"])
    network = Network({"input_shape": [1], "layers": [{"type": "dense", "units": 4, "activation": "softmax"}]}, F64)
    network.set_parameters([{"W": np.array([[5.0], [2.0], [-1.0], [3.0]]), "b": np.zeros(4)}])
    config = TrainingConfig(optimizer="sgd", learning_rate=0.01, batch_size=1, val_fraction=0.0, standardize=False, shuffle=False)
    return Trainer(network, data, config)


def deep_trainer(optimizer: str = "sgd", l2: float = 0.0, batch_size: int = 8) -> Trainer:
    rng = np.random.default_rng(3)
    data = make_dataset(rng.normal(2.0, 3.0, size=(60, 3)), rng.integers(0, 3, 60))
    spec = {"input_shape": [3], "layers": [{"type": "dense", "units": 5, "activation": "tanh"},
                                           {"type": "dense", "units": 4, "activation": "relu"},
                                           {"type": "dense", "units": 3, "activation": "softmax"}]}
    config = TrainingConfig(optimizer=optimizer, learning_rate=0.05, batch_size=batch_size, l2=l2, val_fraction=0.25, seed=2)
    return Trainer(Network(spec, F64, seed=4), data, config)


# ----- the probe ----------------------------------------------------------------------------------
def test_the_probe_equals_an_independent_float64_computation():
    trainer = deep_trainer()
    trainer.run_epoch()  # weights that are not the initial ones
    probe = InspectorProbe()
    probe.index = 7
    data = probe(trainer)

    network, dataset = trainer.network, trainer.dataset
    (W1, b1), (W2, b2), (W3, b3) = ((p["W"], p["b"][:, None]) for p in network.parameters_by_layer())
    a0 = ((dataset.X[7] - network.preprocess.mean) / network.preprocess.std)[:, None]  # course layout: a column
    y = np.eye(3)[dataset.y[7]][:, None]
    z1 = W1 @ a0 + b1
    a1 = np.tanh(z1)
    z2 = W2 @ a1 + b2
    a2 = np.maximum(z2, 0.0)
    z3 = W3 @ a2 + b3
    a3 = np.exp(z3) / np.exp(z3).sum()
    loss = -float((y * np.log(a3)).sum())
    dz3 = a3 - y
    dz2 = (W3.T @ dz3) * (z2 > 0)
    dz1 = (W2.T @ dz2) * (1 - a1 ** 2)
    expected = [(z1, a1, dz1, dz1 @ a0.T), (z2, a2, dz2, dz2 @ a1.T), (z3, a3, dz3, dz3 @ a2.T)]

    assert data.index == 7 and data.target == str(dataset.class_names[dataset.y[7]])
    assert data.part == ("validation" if 7 in split_indices(60, 0.25, 2)[1] else "training")
    np.testing.assert_array_equal(data.x, dataset.X[7])
    assert data.standardized and data.dtype == "float64" and data.optimizer == "sgd" and data.learning_rate == 0.05
    np.testing.assert_allclose(data.trace.x, a0, rtol=1e-13)
    assert data.trace.loss == pytest.approx(loss, rel=1e-12)
    for layer, (z, a, dz, dW) in zip(data.trace.layers, expected, strict=True):
        np.testing.assert_allclose(layer.z, z, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer.a, a, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(layer.dz, dz, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(layer.dW, dW, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(layer.db, dz[:, 0], rtol=1e-10, atol=1e-14)


def test_after_one_sgd_mini_batch_the_step_is_old_minus_alpha_times_the_gradient():
    trainer = deep_trainer(l2=0.01)
    probe = InspectorProbe()
    assert probe(trainer).step is None  # nothing trained yet
    before = trainer.network.parameters_by_layer()
    trainer.step_batch()
    step = probe(trainer).step
    assert step is not None and step.plain_sgd and step.learning_rate == 0.05 and step.l2 == 0.01 and step.samples == 8
    after, gradients = trainer.network.parameters_by_layer(), trainer.network.gradients_by_layer()
    assert [(p.layer, p.name) for p in step.parameters] == [(i, name) for i in range(3) for name in ("W", "b")]
    for parameter in step.parameters:
        np.testing.assert_array_equal(parameter.old, before[parameter.layer][parameter.name].ravel())
        np.testing.assert_array_equal(parameter.new, after[parameter.layer][parameter.name].ravel())  # the trainer's parameters
        np.testing.assert_array_equal(parameter.gradient, gradients[parameter.layer][parameter.name].ravel())
        np.testing.assert_allclose(parameter.new, parameter.old - 0.05 * parameter.gradient, rtol=0, atol=1e-15)
    assert step.count == trainer.network.parameter_count
    # the penalty is in the gradient: l2·w on W, none on b
    W = step.parameters[0]
    data_gradient = W.gradient - 0.01 * W.old
    assert not np.allclose(data_gradient, W.gradient)

    probe.index = 3  # another sample, no training: the same step is still shown
    assert probe(trainer).step is step
    trainer.step_batch()
    trainer.step_batch()  # two mini-batches since the probe's last call: no single step to show
    assert probe(trainer).step is None


def test_an_edit_between_batches_is_the_old_value_of_the_next_step():
    trainer = worked_example()
    probe = InspectorProbe()
    trainer.step_batch()
    assert probe(trainer).step is None  # the probe had not seen the weights before that batch
    params = trainer.network.parameters_by_layer()
    params[0]["W"][0, 0] = 2.0
    trainer.network.set_parameters(params)
    assert probe(trainer).step is None  # the parameters changed without a step: the last step no longer holds
    trainer.step_batch()
    W = probe(trainer).step.parameters[0]
    assert W.old[0] == 2.0 and W.new[0] == pytest.approx(2.0 - 0.01 * W.gradient[0], abs=1e-16)


def test_a_selection_keeps_only_the_chosen_numbers():
    trainer = deep_trainer()
    probe = InspectorProbe()
    probe.selected = ((0, "W", (4, 2)), (2, "b", (1,)), (0, "W", (9, 9)), (7, "W", (0, 0)), (1, "b", (0, 0)))  # 3 address nothing
    probe(trainer)
    trainer.step_batch()
    step = probe(trainer).step
    assert [(p.layer, p.name, p.index(0), len(p.old)) for p in step.parameters] == [(0, "W", (4, 2), 1), (2, "b", (1,), 1)]
    W = trainer.network.parameters_by_layer()[0]["W"]
    assert step.parameters[0].new[0] == W[4, 2]


def test_another_optimizer_is_not_called_plain_sgd():
    trainer = deep_trainer("adam")
    probe = InspectorProbe()
    probe(trainer)
    trainer.step_batch()
    step = probe(trainer).step
    assert step.optimizer == "adam" and not step.plain_sgd
    for _ in range(trainer.batches_per_epoch - 1):  # to the epoch's last mini-batch: 45 training samples, 8 a batch
        trainer.step_batch()
        step = probe(trainer).step
    assert trainer.epoch == 1 and step.samples == 45 - 5 * 8


def test_the_probe_is_picklable_and_clamps_its_index():
    import pickle

    probe = pickle.loads(pickle.dumps(InspectorProbe()))
    probe.index = 10_000
    data = probe(worked_example())
    assert data.index == 1 and data.target == "0"
    pickle.dumps(data)


# ----- the view --------------------------------------------------------------------------------------
def inspector(qtbot, trainer: Trainer, probe: InspectorProbe | None = None):
    from app.views.inspector import InspectorView

    view = InspectorView()
    qtbot.addWidget(view)
    view.resize(700, 450)
    view.set_dataset(trainer.dataset)
    view.show()
    qtbot.waitExposed(view)
    probe = probe or InspectorProbe()
    view.show_data(probe(trainer))
    return view, probe


def cell(view, name: str, row: int = 0, column: int = 0, role=Qt.ItemDataRole.DisplayRole):
    from app.views.inspector import ArrayTable

    table = view.findChild(ArrayTable, f"inspector_{name}")
    assert table is not None, name
    return table.model().index(row, column).data(role)


def test_the_view_shows_the_worked_example_exactly(qtbot):
    trainer = worked_example()
    view, probe = inspector(qtbot, trainer)
    assert cell(view, "a0", 0) == "5.0000000000" and cell(view, "a0", 1) == "3.0000000000"
    assert cell(view, "W1", 0, 0) == "0.5000000000" and cell(view, "b1") == "1.0000000000"
    assert cell(view, "z1") == "5.0000000000"
    assert cell(view, "a1") == "0.9933071491"  # the slide's 0.99307 is a rounding slip
    assert cell(view, "da1") == "-1.0067379470"
    assert cell(view, "dz1") == "-0.0066928509" and cell(view, "db1") == "-0.0066928509"
    assert cell(view, "dW1", 0, 0) == "-0.0334642546" and cell(view, "dW1", 0, 1) == "-0.0200785528"
    tip = cell(view, "z1", role=Qt.ItemDataRole.ToolTipRole)
    assert "z[1]₁ = Σⱼ W[1]₁ⱼ·a[0]ⱼ + b[1]₁" in tip and "0.5000000000·5.0000000000 + 0.5000000000·3.0000000000 + 1.0000000000" in tip
    assert "dz[1]₁·a[0]₂" in cell(view, "dW1", 0, 1, Qt.ItemDataRole.ToolTipRole)
    assert "W[1]₁₂" in cell(view, "W1", 0, 1, Qt.ItemDataRole.ToolTipRole)
    assert "sample 0" in view.readout.text() and "0.0067153485" in view.readout.text()
    assert view.step_model.rowCount() == 0

    trainer.step_batch()  # Shift+→
    view.show_data(probe(trainer))
    model = view.step_model
    rows = {model.index(r, 0).data(): [model.index(r, c).data() for c in range(1, 6)] for r in range(model.rowCount())}
    assert rows == {"W[1]₁₁": ["0.5000000000", "-0.0334642546", "0.0100000000", "0.5003346425", "0.5003346425"],
                    "W[1]₁₂": ["0.5000000000", "-0.0200785528", "0.0100000000", "0.5002007855", "0.5002007855"],
                    "b[1]₁": ["1.0000000000", "-0.0066928509", "0.0100000000", "1.0000669285", "1.0000669285"]}
    assert model.headerData(5, Qt.Orientation.Horizontal) == "old − α·grad"
    assert "Plain SGD" in view.step_note.text() and "one sample" in view.step_note.text()
    assert cell(view, "W1", 0, 0) == "0.5003346425"  # the forward pass now uses the new weights


def test_the_view_shows_softmax_with_its_exponentials_and_their_sum(qtbot):
    from PySide6.QtWidgets import QLabel

    view, _ = inspector(qtbot, softmax_example())
    assert [cell(view, "z1", i) for i in range(4)] == ["5.0000000000", "2.0000000000", "-1.0000000000", "3.0000000000"]
    assert [cell(view, "e1", i) for i in range(4)] == ["148.4131591026", "7.3890560989", "0.3678794412", "20.0855369232"]
    assert [cell(view, "a1", i) for i in range(4)] == ["0.8420335724", "0.0419223830", "0.0020871926", "0.1139568520"]
    assert "Σₖ e^z[1]ₖ = 176.2556315659" in view.findChild(QLabel, "inspectorSum1").text()
    assert "148.4131591026 / 176.2556315659" in cell(view, "a1", 0, role=Qt.ItemDataRole.ToolTipRole)
    assert "scene" in cell(view, "a1", 0, role=Qt.ItemDataRole.ToolTipRole)


def test_a_big_layer_shows_short_numbers_and_all_decimals_in_its_tooltips(qtbot):
    rng = np.random.default_rng(0)
    data = make_dataset(rng.normal(size=(40, 30)), rng.integers(0, 2, 40))
    network = Network({"input_shape": [30], "layers": [{"type": "dense", "units": 12, "activation": "relu"},
                                                       {"type": "dense", "units": 1, "activation": "sigmoid"}]}, F64)
    view, _ = inspector(qtbot, Trainer(network, data, TrainingConfig(optimizer="sgd")))
    W = network.parameters_by_layer()[0]["W"]
    assert cell(view, "W1", 2, 3) == f"{W[2, 3]:.3g}"
    assert f"{W[2, 3]:.10f}" in cell(view, "W1", 2, 3, Qt.ItemDataRole.ToolTipRole)
    assert "… (24 more terms)" in cell(view, "z1", 0, role=Qt.ItemDataRole.ToolTipRole)


def edit_cell(qtbot, view, name: str, row: int, column: int) -> QLineEdit:
    from app.views.inspector import ArrayTable

    table = view.findChild(ArrayTable, f"inspector_{name}")
    where = table.visualRect(table.model().index(row, column)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=where)  # a double-click's first press (QTest sends only the second)
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=where)
    editors = [e for e in table.findChildren(QLineEdit, "inspectorNumberEditor") if e.isVisible()]  # not one closed before
    assert len(editors) == 1
    return editors[0]


def test_a_weight_typed_in_its_cell_is_emitted_and_escape_cancels(qtbot):
    view, _ = inspector(qtbot, worked_example())
    edits = []
    view.parameterEdited.connect(lambda *args: edits.append(args))

    editor = edit_cell(qtbot, view, "W1", 0, 1)
    assert editor.text() == "0.5"  # the current value
    editor.selectAll()
    qtbot.keyClicks(editor, "0.75")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(edits) == 1)  # Qt commits an item editor's data from the event loop
    assert edits == [(0, "W", (0, 1), 0.75)]
    assert cell(view, "W1", 0, 1) == "0.5000000000"  # until the trainer's result comes back

    editor = edit_cell(qtbot, view, "b1", 0, 0)
    editor.selectAll()
    qtbot.keyClicks(editor, "-2e-3")
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    QCoreApplication.processEvents()
    assert len(edits) == 1 and not editor.isVisible()  # cancelled

    editor = edit_cell(qtbot, view, "b1", 0, 0)
    editor.selectAll()
    qtbot.keyClicks(editor, "abc")  # refused by the editor: the value stays
    assert editor.text() == "1.0"
    editor.selectAll()
    qtbot.keyClicks(editor, "-2e-3")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(edits) == 2)
    assert edits[-1] == (0, "b", (0,), -0.002)


def test_only_weights_and_biases_are_editable(qtbot):
    view, _ = inspector(qtbot, worked_example())
    from app.views.inspector import ArrayTable

    for name in ("a0", "z1", "a1", "dz1", "dW1", "db1"):
        table = view.findChild(ArrayTable, f"inspector_{name}")
        assert not table.model().flags(table.model().index(0, 0)) & Qt.ItemFlag.ItemIsEditable, name


def test_choosing_a_sample_in_the_inspector(qtbot):
    view, _ = inspector(qtbot, deep_trainer())
    chosen = []
    view.sampleChanged.connect(chosen.append)
    view.set_sample(5)  # from elsewhere: says nothing
    assert view.sample_spin.value() == 5 and chosen == []
    view.sample_spin.setValue(9)
    assert chosen == [9]
    view.tabs.setCurrentWidget(view.sample_table)
    table = view.sample_table
    table.scrollTo(table.model().index(12, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(table.model().index(12, 1)).center())
    assert chosen == [9, 12] and view.sample_spin.value() == 12
    validation = set(split_indices(60, 0.25, 2)[1].tolist())
    assert [table.model().index(i, 0).data() for i in range(4)] == ["validation" if i in validation else "training" for i in range(4)]


def test_the_table_of_samples_is_lazy(qtbot, monkeypatch):
    """70,000 × 784 (MNIST's size): only the cells on screen are ever formatted."""
    from app.views.sample_table import SampleModel, SampleTable

    calls = []
    original = SampleModel.data
    monkeypatch.setattr(SampleModel, "data", lambda self, index, role=Qt.ItemDataRole.DisplayRole: calls.append(1) or original(self, index, role))
    X = np.zeros((70_000, 784))  # untouched pages: no memory is really used
    y = np.arange(70_000) % 10
    data = make_dataset(X, y)
    table = SampleTable()
    qtbot.addWidget(table)
    table.resize(700, 400)
    table.set_dataset(data)
    table.show()
    qtbot.waitExposed(table)
    assert table.model().rowCount() == 70_000 and table.model().columnCount() == 786
    assert len(calls) < 20_000  # a screenful of cells, a few roles each; the whole table is 55 million
    table.set_current(69_999)
    assert table.model().index(69_999, 1).data() == "9"


# ----- picking a sample in the plots -----------------------------------------------------------------
def click_at(qtbot, view, x: float, y: float) -> None:
    box = view.plot.getViewBox()
    scene = box.mapViewToScene(QPointF(x, y))
    where = view.canvas.mapFromScene(scene)
    qtbot.mouseClick(view.canvas.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(where.x(), where.y()))


def shown_view(qtbot, view):
    qtbot.addWidget(view)
    view.resize(600, 500)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_a_click_on_a_boundary_point_picks_that_sample(qtbot):
    from app.views.boundary import BoundaryView

    gx, gy = np.meshgrid(np.arange(5.0), np.arange(4.0))
    X = np.column_stack([gx.ravel(), gy.ravel()])  # a grid: no two samples near each other
    data = make_dataset(X, np.arange(20) % 2)
    trainer = Trainer(Network({"input_shape": [2], "layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]}),
                      data, TrainingConfig(val_fraction=0.25, seed=1))
    view = shown_view(qtbot, BoundaryView())
    view.show_data(*insight.BoundaryProbe()(trainer))
    qtbot.wait(1)
    picked = []
    view.samplePicked.connect(picked.append)
    validation = int(split_indices(20, 0.25, 1)[1][0])
    training = int(split_indices(20, 0.25, 1)[0][0])
    click_at(qtbot, view, *X[validation])
    click_at(qtbot, view, *(X[training] + 0.02))  # within a few pixels
    click_at(qtbot, view, 1.5, 1.5)  # between samples: nothing
    assert picked == [validation, training]
    assert view.picker.ring.data["x"].tolist() == [X[training][0]]
    view.train_check.setChecked(False)  # hidden samples are not picked
    click_at(qtbot, view, *X[training])
    assert picked == [validation, training]
    view.set_picked(validation)
    assert (view.picker.ring.data["x"][0], view.picker.ring.data["y"][0]) == tuple(X[validation])


def test_a_click_on_a_regression_point_picks_that_sample(qtbot):
    from app.views.regression_fit import RegressionFitView

    X = np.linspace(0.0, 10.0, 21)[:, None]
    data = make_dataset(X, (2.0 * X[:, 0] + 1.0) % 7.0)
    trainer = Trainer(Network({"input_shape": [1], "layers": [{"type": "dense", "units": 1, "activation": "linear"}]}),
                      data, TrainingConfig(val_fraction=0.4, seed=0))
    view = shown_view(qtbot, RegressionFitView())
    fit = insight.fit_data(trainer)
    np.testing.assert_array_equal(fit.indices, split_indices(21, 0.4, 0)[1])
    view.show_data(fit)
    qtbot.wait(1)
    picked = []
    view.samplePicked.connect(picked.append)
    sample = int(fit.indices[2])
    click_at(qtbot, view, X[sample, 0], data.y[sample, 0])
    assert picked == [sample]
    view.set_picked(int(fit.indices[0]))
    assert view.picker.ring.data["x"].tolist() == [X[fit.indices[0], 0]]


def test_a_weight_selected_in_forward_is_the_row_selected_in_the_step_table(qtbot):
    from app.views.inspector import ArrayTable

    trainer = deep_trainer()
    view, probe = inspector(qtbot, trainer)
    table = view.findChild(ArrayTable, "inspector_W2")
    table.setCurrentIndex(table.model().index(3, 1))
    assert view.chosen == (1, "W", (3, 1))
    trainer.step_batch()
    view.show_data(probe(trainer))
    row = view.step_table.currentIndex().row()
    assert view.step_model.index(row, 0).data() == "W[2]₄₂"
    W = trainer.network.parameters_by_layer()[1]["W"]
    assert view.step_model.index(row, 4).data() == f"{W[3, 1]:.10f}"
    trainer.step_batch()
    view.show_data(probe(trainer))  # the same numbers again: the table keeps its rows and selection
    assert view.step_table.currentIndex().row() == row


def test_every_control_of_the_inspector_is_described(qtbot):
    from app.accessibility import undescribed_controls

    trainer = deep_trainer()
    view, probe = inspector(qtbot, trainer)
    trainer.step_batch()
    view.show_data(probe(trainer))
    assert undescribed_controls(view) == []


def test_a_sample_clicked_in_the_boundary_is_the_one_the_inspector_shows(qtbot):
    """The chain the window wires: samplePicked → the probe's index → the inspector (and the ring)."""
    from app.views.boundary import BoundaryView

    gx, gy = np.meshgrid(np.arange(4.0), np.arange(3.0))
    X = np.column_stack([gx.ravel(), gy.ravel()])
    trainer = Trainer(Network({"input_shape": [2], "layers": [{"type": "dense", "units": 3, "activation": "tanh"},
                                                              {"type": "dense", "units": 1, "activation": "sigmoid"}]}, F64),
                      make_dataset(X, np.arange(12) % 2), TrainingConfig(val_fraction=0.25))
    boundary = shown_view(qtbot, BoundaryView())
    boundary.show_data(*insight.BoundaryProbe()(trainer))
    view, probe = inspector(qtbot, trainer)

    def pick(index: int) -> None:
        probe.index = index  # controller.configure_probe("inspector", index=index)
        view.set_sample(index)
        boundary.set_picked(index)
        view.show_data(probe(trainer))

    boundary.samplePicked.connect(pick)
    click_at(qtbot, boundary, *X[10])
    assert view.data.index == 10 and view.sample_spin.value() == 10
    assert cell(view, "a0", 0) == f"{(X[10, 0] - trainer.network.preprocess.mean[0]) / trainer.network.preprocess.std[0]:.10f}"
    assert "sample 10" in view.readout.text()
