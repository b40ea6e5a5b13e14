"""Editing one weight or bias by hand (issue 11): Trainer.edit_parameter changes the next
forward pass exactly, is refused in one line when it names nothing, is kept by
state()/restore() and session files (and an old state without edits still reads), is
replayed by the exported NumPy program at its mini-batch; the trainer process's
set_parameter command answers parameterEdited and runs the probes again."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_export import EPOCHS, assert_same_history, run_script

from core.backend import get_backend
from core.epochlab import SessionFile, load_session, save_session
from core.experiment import Experiment, network_spec
from core.export import ExportSource, write_notebook, write_numpy_script, write_torch_script
from core.network import Network
from core.run import MARKER_KINDS, Marker, Session, edit_text, parameter_text
from core.synthetic import synthetic
from core.trainer import ConfigError, Trainer, TrainingConfig
from core.trainer_state import ParameterEdit, TrainerState

HIDDEN = [{"type": "dense", "units": 5, "activation": "tanh"}, {"type": "dropout", "rate": 0.2},
          {"type": "dense", "units": 4, "activation": "relu"}]
CONFIG = TrainingConfig(optimizer="adam", learning_rate=0.01, batch_size=16, seed=2)  # 96 training rows: 6 batches


def make(dtype: str = "float32", config: TrainingConfig = CONFIG) -> tuple[Network, Trainer]:
    dataset = synthetic("moons", samples=120, seed=1)
    network = Network(network_spec(dataset, HIDDEN), get_backend("numpy", dtype), seed=4)
    return network, Trainer(network, dataset, config)


def forward_by_hand(network: Network, x: np.ndarray) -> np.ndarray:
    """The network's prediction for standardized inputs x (m, n), layer by layer in float64 (Dropout: identity)."""
    a = x.astype(np.float64)
    for layer, params in zip(network.layers, network.parameters_by_layer(), strict=True):
        if "W" not in params:
            continue
        z = a @ params["W"].astype(np.float64).T + params["b"].astype(np.float64)
        a = {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0), "sigmoid": lambda v: 1 / (1 + np.exp(-v))}[
            layer.activation_name](z)
    return a


# ----- the engine ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_edit_changes_the_next_forward_pass_exactly(dtype):
    network, trainer = make(dtype)
    trainer.run(1)
    x = trainer.x_val[:8]
    before = network.forward(x).copy()
    stored = trainer.edit_parameter(0, "W", (2, 1), 0.4312)
    assert stored == float(np.dtype(dtype).type(0.4312))
    assert network.parameters_by_layer()[0]["W"][2, 1] == stored
    assert trainer.edit_parameter(2, "b", (3,), -1.25) == -1.25
    after = network.forward(x)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, forward_by_hand(network, x), rtol=1e-5 if dtype == "float32" else 1e-12)
    assert trainer.parameter_edits == (ParameterEdit(1, 0, 0, "W", (2, 1), stored), ParameterEdit(1, 0, 2, "b", (3,), -1.25))


@pytest.mark.parametrize(("args", "message"), [
    ((7, "W", (0, 0), 1.0), r"the network has layers 1…4, not layer 8"),
    ((1, "W", (0, 0), 1.0), r"layer 2 \(Dropout\(0.2\)\) has no parameters, not 'W'"),
    ((0, "gamma", (0,), 1.0), r"layer 1 \(Dense\(5, tanh\)\) has W and b, not 'gamma'"),
    ((0, "W", (5, 0), 1.0), r"W of layer 1 \(Dense\(5, tanh\)\) is 5×2: there is no index \(5, 0\)"),
    ((0, "b", (0, 0), 1.0), r"b of layer 1 \(Dense\(5, tanh\)\) is 5: there is no index \(0, 0\)"),
    ((0, "W", (0.5, 0), 1.0), r"there is no index \(0.5, 0\)"),
    ((0, "b", (0,), float("inf")), r"b\[0\] of layer 1 \(Dense\(5, tanh\)\): expected a finite number"),
    ((0, "b", (0,), 1e39), r"within float32's range"),
    ((0, "b", (0,), "x"), r"expected a number, got 'x'"),
])
def test_a_wrong_edit_is_refused_in_one_line(args, message):
    network, trainer = make()
    params = network.params.copy()
    with pytest.raises(ConfigError, match=message) as caught:
        trainer.edit_parameter(*args)
    assert "\n" not in str(caught.value)
    np.testing.assert_array_equal(network.params, params)
    assert trainer.parameter_edits == ()


def test_state_and_restore_keep_an_edit_inside_an_epoch_bit_for_bit():
    network, trainer = make()
    trainer.run(1)
    trainer.step_batch()
    trainer.edit_parameter(0, "W", (1, 0), 0.75)
    state = trainer.state()
    meta, arrays = state.to_parts()
    back = TrainerState.from_parts(json.loads(json.dumps(meta)), arrays)
    assert back.parameter_edits == ((1, 1, 0, "W", (1, 0), 0.75),)
    expected = [trainer.run_epoch() for _ in range(2)]
    _, other = make()
    other.restore(back)
    assert other.parameter_edits == back.parameter_edits
    got = [other.run_epoch() for _ in range(2)]
    assert [(r.train_loss, r.val_loss) for r in got] == [(r.train_loss, r.val_loss) for r in expected]
    np.testing.assert_array_equal(other.network.params, network.params)


def test_discarding_the_epoch_forgets_its_edits_but_not_those_before_it():
    network, trainer = make()
    trainer.run(1)
    trainer.edit_parameter(0, "b", (0,), 2.0)  # between epochs: part of the next epoch's start
    trainer.step_batch()
    trainer.edit_parameter(0, "b", (1,), 3.0)  # inside the epoch
    trainer.discard_partial_epoch()
    assert trainer.parameter_edits == ((1, 0, 0, "b", (0,), 2.0),)
    assert network.parameters_by_layer()[0]["b"][0] == 2.0 and network.parameters_by_layer()[0]["b"][1] != 3.0


def test_a_state_without_edits_reads_as_before_and_a_bad_edit_is_refused():
    _, trainer = make()
    trainer.run(1)
    meta, arrays = trainer.state().to_parts()
    assert "parameter_edits" not in meta  # files of runs without edits are as they were
    assert TrainerState.from_parts(meta, arrays).parameter_edits == ()
    edit = {"epoch": 0, "batch": 2, "layer": 0, "name": "W", "index": [0, 0], "value": 0.5}
    for bad, message in [({**edit, "name": "Z"}, "a parameter edit must be"), ({**edit, "index": [0]}, "a parameter edit must be"),
                         ({**edit, "epoch": 3}, "is out of order or after the state"), ({**edit, "value": True}, "must be")]:
        with pytest.raises(ValueError, match=message):
            TrainerState.from_parts({**meta, "parameter_edits": [bad]}, arrays)
    misfit = TrainerState.from_parts({**meta, "parameter_edits": [{**edit, "index": [9, 0]}]}, arrays)
    _, other = make()
    with pytest.raises(ConfigError, match="hand edit at epoch 0, mini-batch 2 does not fit this network"):
        other.restore(misfit)


def test_a_session_file_keeps_the_edit_and_continues_bit_for_bit(tmp_path):
    network, trainer = make()
    dataset = trainer.dataset
    experiment = Experiment({"name": "moons", "samples": 120, "seed": 1}, network.spec(), CONFIG)
    session = Session()
    run = session.start_run(experiment.to_json(), trainer.metric_name)
    run.checkpoints.add(trainer.state())
    run.record.append_report(trainer.run_epoch())
    trainer.step_batch()
    stored = trainer.edit_parameter(2, "W", (0, 3), -0.5)
    run.markers.append(Marker(1 + 1 / 6, edit_text(3, "W", (0, 3), stored), "edit"))
    run.record.append_report(trainer.run_epoch())
    run.checkpoints.add(trainer.state())
    save_session(tmp_path / "s.epochlab", SessionFile(experiment, session, trainer.state()), network)
    back = load_session(tmp_path / "s.epochlab")
    assert back.state.parameter_edits == trainer.parameter_edits == ((1, 1, 2, "W", (0, 3), stored),)
    assert back.session.current.checkpoints.get(2).parameter_edits == trainer.parameter_edits
    assert back.session.current.markers[-1] == Marker(1 + 1 / 6, "W[3]₁₄ := -0.5", "edit")
    exported = ExportSource.of_run(Network(network.spec(), seed=4), back.session.current, dataset, back.state)
    assert exported.parameter_edits == trainer.parameter_edits  # what `main.py export` of this file replays
    other = Trainer(Network(network.spec(), seed=4), dataset, CONFIG)
    other.restore(back.state)
    assert other.run_epoch().train_loss == trainer.run_epoch().train_loss
    np.testing.assert_array_equal(other.network.params, network.params)


def test_the_edit_marker_and_its_text():
    assert "edit" in MARKER_KINDS and Marker(0.5, "W[1]₁₂ := 0.5", "edit").kind == "edit"
    assert edit_text(1, "W", (0, 1), 0.5) == "W[1]₁₂ := 0.5"
    assert parameter_text(2, "W", (0, 2)) == "W[2]₁₃" and parameter_text(3, "b", (0,)) == "b[3]₁"
    assert parameter_text(1, "W", (11, 2)) == "W[1]₁₂,₃"


# ----- exports ------------------------------------------------------------------------------------
EDITS = {(0, 0): [(0, "W", (0, 1), 0.9)], (2, 3): [(0, "W", (4, 0), -0.4312), (3, "b", (0,), 0.25)],
         (5, 0): [(2, "W", (1, 2), 0.0)], (EPOCHS, 0): [(0, "b", (1,), 7.0)]}


def edited_run(dtype: str, config: TrainingConfig) -> tuple[list[dict], ExportSource, Network]:
    """A run of the engine with EDITS made before mini-batch b of the epoch after e epochs: its
    per-epoch JSON, its export and the trained network."""
    network, trainer = make(dtype, config)
    initial = network.params.copy()
    history = []
    for epoch in range(EPOCHS):
        for batch in range(trainer.batches_per_epoch):
            for edit in EDITS.get((epoch, batch), []):
                trainer.edit_parameter(*edit)
            report = trainer.step_batch()
        history.append({k: None if isinstance(v, float) and not np.isfinite(v) else v for k, v in report.to_json().items()})
    for edit in EDITS[(EPOCHS, 0)]:
        trainer.edit_parameter(*edit)
    source = ExportSource.of(network, initial, trainer.dataset, config, EPOCHS, parameter_edits=trainer.parameter_edits)
    return history, source, network


@pytest.mark.parametrize(("dtype", "config"), [("float32", CONFIG),
                                               ("float64", TrainingConfig(optimizer="momentum", batch_size=20, l2=1e-3))])
def test_the_numpy_script_replays_the_edits_at_their_mini_batch(dtype, config, tmp_path, child_env):
    expected, source, network = edited_run(dtype, config)
    script, _ = write_numpy_script(source, tmp_path / "edited.py")
    text = script.read_text(encoding="utf-8")
    assert "PARAMETER_EDITS = {(0, 0): [('W', 1, (0, 1), 0.9" in text and "('b', 3, (0, 0), 0.25)" in text
    assert_same_history(expected, run_script(script, child_env, cwd=tmp_path))
    namespace: dict = {"__file__": str(script)}
    exec(compile(text.replace("print(json.dumps(record), flush=True)", "pass"), str(script), "exec"), namespace)
    final = namespace["W"], namespace["b"]  # the weights at the end, the one set after the last epoch included
    dense = [p for p in network.parameters_by_layer() if "W" in p]
    for number, params in enumerate(dense, start=1):
        np.testing.assert_allclose(final[0][number], params["W"], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(final[1][number].ravel(), params["b"], rtol=1e-4, atol=1e-6)
    assert final[1][1][1, 0] == 7.0


def test_the_torch_script_replays_the_edits(tmp_path, child_env):
    import subprocess

    from test_export_torch import RELATIVE, torch_python

    python = torch_python()
    if python is None:
        pytest.skip("no Python with torch: set EPOCHLAB_TORCH_PYTHON")
    expected, source, _ = edited_run("float64", TrainingConfig(optimizer="momentum", batch_size=20, l2=1e-3))
    script, _ = write_torch_script(source, tmp_path / "edited_torch.py")
    done = subprocess.run([python, str(script)], check=False, capture_output=True, text=True, env=child_env, cwd=tmp_path,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    got = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["train_loss"] for r in got] == pytest.approx([r["train_loss"] for r in expected], rel=RELATIVE)
    assert [r["val_loss"] for r in got] == pytest.approx([r["val_loss"] for r in expected], rel=RELATIVE)


def test_the_notebook_and_the_torch_script_carry_the_edits(tmp_path):
    _, source, _ = edited_run("float32", CONFIG)
    notebook, _ = write_notebook(source, tmp_path / "edited.ipynb")
    assert "set_by_hand(epoch - 1, number)" in notebook.read_text(encoding="utf-8")
    torch_script, _ = write_torch_script(source, tmp_path / "edited_torch.py")
    text = torch_script.read_text(encoding="utf-8")
    compile(text, str(torch_script), "exec")
    assert "('b', 3, (0,), 0.25)" in text and "linear.weight if name == \"W\" else linear.bias" in text


# ----- the trainer process, through its controller --------------------------------------------------
WAIT_MS = 10_000


@pytest.fixture
def controller(qtbot):
    from app.worker import TrainerController

    ctrl = TrainerController()
    yield ctrl
    ctrl.shutdown()


def test_set_parameter_answers_with_the_stored_value_and_probes_again(qtbot, controller):
    from test_trainer_process import make_trainer

    from app.worker import Probe, weight_matrices

    results = []
    controller.probed.connect(results.append)
    controller.add_probe(Probe("weights", weight_matrices, 1.0, enabled=True))
    controller.load(make_trainer(), 10)
    with qtbot.waitSignal(controller.partialReport, timeout=WAIT_MS):
        controller.step_batch()
    qtbot.waitUntil(lambda: bool(results) and results[-1].batch == 1, timeout=WAIT_MS)
    seen = len(results)
    with qtbot.waitSignal(controller.parameterEdited, timeout=WAIT_MS) as blocker:
        controller.edit_parameter(1, "W", (2, 3), 0.4312)
    assert blocker.args == [1, "W", (2, 3), float(np.float32(0.4312)), pytest.approx(1 / make_trainer().batches_per_epoch)]
    qtbot.waitUntil(lambda: len(results) > seen, timeout=WAIT_MS)  # the probes ran again at once
    assert results[-1].data[1][2, 3] == np.float32(0.4312)
    with qtbot.waitSignal(controller.failed, timeout=WAIT_MS) as refused:
        controller.edit_parameter(1, "W", (99, 0), 1.0)
    assert refused.args[0].startswith("that number cannot be set: W of layer 2") and "\n" not in refused.args[0]
    with qtbot.waitSignal(controller.partialReport, timeout=WAIT_MS):  # the process goes on serving
        controller.step_batch()


def test_an_edit_while_playing_applies_between_mini_batches_and_the_run_goes_on_as_in_process(qtbot, controller):
    from test_trainer_process import assert_same_reports, make_trainer

    reports, states, stops = [], [], []
    controller.epochsReady.connect(reports.extend)
    controller.stateReady.connect(lambda tag, state: states.append(state))
    controller.playingChanged.connect(lambda playing, why: stops.append(why))
    controller.load(make_trainer(), 30)
    with qtbot.waitSignal(controller.playingChanged, timeout=WAIT_MS):
        controller.play()
    with qtbot.waitSignal(controller.parameterEdited, timeout=WAIT_MS) as blocker:
        controller.edit_parameter(0, "b", (4,), -2.5)
    qtbot.waitUntil(lambda: "target" in stops, timeout=WAIT_MS)
    controller.request_state("end")
    qtbot.waitUntil(lambda: bool(states), timeout=WAIT_MS)
    (edit,) = states[0].parameter_edits
    batches = make_trainer().batches_per_epoch
    assert blocker.args[4] == pytest.approx(edit.epoch + edit.batch / batches)
    reference = make_trainer()
    expected = reference.run(edit.epoch)
    for _ in range(edit.batch):
        reference.step_batch()
    reference.edit_parameter(0, "b", (4,), -2.5)
    expected += reference.run(30 - len(expected))
    assert_same_reports(reports, expected)


# ----- the views ----------------------------------------------------------------------------------
def graph_view(qtbot):
    from test_view_fixes import make_trainer, shown

    from app.views.network_graph import NetworkGraphView
    from core import insight

    trainer = make_trainer(layers=[{"type": "dense", "units": 3, "activation": "tanh"}, {"type": "dropout", "rate": 0.1},
                                   {"type": "dense", "units": 1, "activation": "sigmoid"}])
    view = shown(qtbot, NetworkGraphView(), (700, 500))
    view.show_data(insight.graph_data(trainer))
    return view, trainer


def click_view_point(qtbot, canvas, plot_vb, x: float, y: float) -> None:
    """A real left click on the view point (x, y) of ``plot_vb`` in ``canvas``."""
    from PySide6.QtCore import QPointF, Qt

    pixel = canvas.mapFromScene(plot_vb.mapViewToScene(QPointF(x, y)))
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=pixel)


def type_and_press(qtbot, editor, text: str, key) -> None:
    editor.field.selectAll()
    qtbot.keyClicks(editor.field, text)
    qtbot.keyClick(editor.field, key)


def test_clicking_a_connection_edits_its_weight_and_escape_cancels(qtbot):
    from PySide6.QtCore import Qt

    view, trainer = graph_view(qtbot)
    layer, i, j, w = view.edges[np.argmax(view.edges[:, 0] == 1)]  # a connection into the output layer
    x0, y0, x1, y1 = view._edge_xy[np.argmax(view.edges[:, 0] == 1)]
    click_view_point(qtbot, view.canvas, view.plot.vb, (x0 + x1) / 2, (y0 + y1) / 2)
    assert view.editor.isVisible()
    expected = trainer.network.parameters_by_layer()[2]["W"][int(i), int(j)]
    assert view.editor.label.text() == f"W[2]{chr(0x2080 + int(i) + 1)}{chr(0x2080 + int(j) + 1)} ="
    assert float(view.editor.field.text()) == expected  # the current value, to the last digit of its float32
    with qtbot.waitSignal(view.parameterEdited) as blocker:
        type_and_press(qtbot, view.editor, "-0.4312", Qt.Key.Key_Return)
    assert blocker.args == [2, "W", (int(i), int(j)), -0.4312]  # network.layers[2]: the output, after the Dropout
    assert not view.editor.isVisible()
    click_view_point(qtbot, view.canvas, view.plot.vb, (x0 + x1) / 2, (y0 + y1) / 2)
    with qtbot.assertNotEmitted(view.parameterEdited, wait=50):
        type_and_press(qtbot, view.editor, "2.5", Qt.Key.Key_Escape)
    assert not view.editor.isVisible()


def test_clicking_a_unit_edits_its_bias_and_letters_are_refused(qtbot):
    from PySide6.QtCore import Qt

    view, trainer = graph_view(qtbot)
    x, y = view.node_xy[2 + 1]  # the second unit of the hidden layer (after the two inputs)
    click_view_point(qtbot, view.canvas, view.plot.vb, x, y)
    assert view.editor.isVisible() and view.editor.label.text() == "b[1]₂ ="
    assert float(view.editor.field.text()) == trainer.network.parameters_by_layer()[0]["b"][1]
    shown_value = view.editor.field.text()
    view.editor.field.selectAll()
    qtbot.keyClicks(view.editor.field, "abc")
    assert view.editor.field.text() == shown_value  # the validator lets no letter in
    view.editor.field.clear()
    with qtbot.assertNotEmitted(view.parameterEdited, wait=50):
        qtbot.keyClick(view.editor.field, Qt.Key.Key_Return)  # nothing to set: nothing happens
    assert view.editor.isVisible()
    with qtbot.waitSignal(view.parameterEdited) as blocker:
        type_and_press(qtbot, view.editor, "1e-3", Qt.Key.Key_Enter)
    assert blocker.args == [0, "b", (1,), 0.001]
    assert "b = " in view.describe_at(x, y)  # the hover readout still works


def test_clicking_a_heatmap_cell_edits_that_weight(qtbot):
    from PySide6.QtCore import QPointF, Qt
    from test_view_fixes import shown

    from app.views.weights import WeightHeatmap
    from app.worker import ProbeResult
    from core.weight_layers import weight_layers, weight_matrices

    _, trainer = make()
    view = shown(qtbot, WeightHeatmap(), (600, 400))
    matrices = weight_matrices(trainer.network)
    view.set_layers(weight_layers(trainer.network))
    view.layer_combo.setCurrentIndex(1)  # layer 3 (index 2), the second with weights: W[2] (4, 5)
    view.receive(ProbeResult("weights", 0, 0, matrices))
    view.refresh()
    click_view_point(qtbot, view.canvas, view.plot_item.getViewBox(), 5, 2)  # column 5, row 2
    assert view.editor.isVisible() and view.editor.label.text() == "W[2]₂₅ ="
    assert view.editor.field.text() == str(matrices[2][1, 4])
    with qtbot.waitSignal(view.parameterEdited) as blocker:
        type_and_press(qtbot, view.editor, "0.5", Qt.Key.Key_Return)
    assert blocker.args == [2, "W", (1, 4), 0.5]
    click_view_point(qtbot, view.canvas, view.plot_item.getViewBox(), 1, 1)
    with qtbot.assertNotEmitted(view.parameterEdited, wait=50):
        type_and_press(qtbot, view.editor, "3", Qt.Key.Key_Escape)
    assert not view.editor.isVisible()
    view._on_mouse_moved(view.plot_item.getViewBox().mapViewToScene(QPointF(2, 3)))  # the hover readout still works
    assert view.readout.text().startswith(f"W[2] row 3, column 2: w = {matrices[2][2, 1]:.4g}")


def test_a_convolutions_heatmap_shows_its_filters_and_opens_no_editor(qtbot):
    from PySide6.QtCore import QPointF
    from test_view_fixes import shown

    from app.views.weights import WeightHeatmap
    from app.worker import ProbeResult
    from core.weight_layers import weight_layers, weight_matrices

    network = Network({"input_shape": [8, 8, 2], "layers": [{"type": "conv2d", "filters": 3, "kernel": 2}, {"type": "flatten"},
                                                             {"type": "dense", "units": 2, "activation": "softmax"}]}, seed=1)
    layers = weight_layers(network)
    assert [(layer.index, layer.number, layer.shape, layer.editable) for layer in layers] == [(0, 1, (3, 8), False),
                                                                                            (2, 2, (2, 192), True)]
    view = shown(qtbot, WeightHeatmap(), (600, 400))
    view.set_layers(layers)
    matrices = weight_matrices(network)
    view.receive(ProbeResult("weights", 0, 0, matrices))
    view.refresh()
    np.testing.assert_array_equal(view.current_matrix(), network.parameters_by_layer()[0]["W"].reshape(3, 8))
    click_view_point(qtbot, view.canvas, view.plot_item.getViewBox(), 2, 2)
    assert not view.editor.isVisible()
    view._on_mouse_moved(view.plot_item.getViewBox().mapViewToScene(QPointF(2, 3)))
    assert "(filter 3, kernel value" in view.readout.text()
