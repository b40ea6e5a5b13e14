"""Runs that last, in the window: sessions saved and opened whole (training goes on exactly),
refused files that change nothing, Open Recent, the unsaved-changes mark and question,
new runs that keep the old ones."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from gui_helpers import WAIT_MS, child, click, open_window, pause, step_epochs
from PySide6.QtWidgets import QPushButton, QToolButton

from app.main_window import MainWindow
from app.session_io import network_with
from core.epochlab import dataset_fingerprint, load_session
from core.experiment import Experiment
from core.files import SESSION_KEY, save_data_npz


def _records(win) -> list[dict]:
    """Every epoch of the current run, without the seconds each took."""
    return [{k: v for k, v in r.items() if k != "seconds"} for r in win.history.records()]


def _play_for(qtbot, win, epochs: int) -> None:
    """Play until at least ``epochs`` epochs are done, then pause (most likely inside an epoch)."""
    click(qtbot, child(win, QToolButton, "playButton"))
    qtbot.waitUntil(lambda: win.history.count >= epochs, timeout=WAIT_MS)
    pause(qtbot, win)


@pytest.fixture
def second(qtbot):
    win = open_window(qtbot)
    yield win
    win.close()


def test_a_session_reopened_trains_on_as_if_it_never_stopped(qtbot, window, second, tmp_path):
    _play_for(qtbot, window, 20)
    saved = window.trainer_state()
    window.actions["logLoss"].setChecked(True)
    path = tmp_path / "lesson.epochlab"
    assert window.save_session(path)
    assert second.open_experiment(path)
    assert second.actions["logLoss"].isChecked() and second.loss_plot.log_check.isChecked()
    assert "lesson.epochlab" in second.windowTitle() and not second.isWindowModified()
    assert second.history.count == window.history.count and _records(second) == _records(window)
    opened = second.trainer_state()
    assert (opened.epoch, opened.cursor) == (saved.epoch, saved.cursor)
    assert np.array_equal(opened.params, saved.params)
    step_epochs(qtbot, window, 3)
    step_epochs(qtbot, second, 3)
    uninterrupted, continued = window.trainer_state(), second.trainer_state()
    assert continued.epoch == uninterrupted.epoch == saved.epoch + 3
    assert np.array_equal(continued.params, uninterrupted.params)  # bit for bit
    assert _records(second) == _records(window)
    assert second.isWindowModified()


def test_a_new_window_has_no_unsaved_changes(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    assert win.windowTitle() == "Untitled[*] — Epoch Lab" and not win.isWindowModified()
    win.close()


def test_saving_keeps_every_run_and_the_title_tells_unsaved_changes(qtbot, window, tmp_path):
    step_epochs(qtbot, window, 2)
    assert window.isWindowModified()
    click(qtbot, child(window, QPushButton, "addLayerButton"))  # a new run; the trained one stays
    step_epochs(qtbot, window, 1)
    path = tmp_path / "two runs.epochlab"
    assert window.save_session(path)
    assert not window.isWindowModified() and window.windowTitle().startswith("two runs.epochlab")
    saved = load_session(path)
    session = saved.session
    assert saved.data_fingerprint == dataset_fingerprint(window.dataset)  # a changed data file is told on continuing
    assert [len(run.record) for run in session.runs] == [2, 1]
    assert session.current.id == window.history.current.id
    assert window.recent.paths()[0] == path.absolute()


def _refused_keeps_the_window(qtbot, win, path, words: str) -> None:
    before = (win.history.count, _records(win), win.windowTitle(), len(win.history.session.runs), win.experiment().to_json())
    assert not win.open_experiment(path)
    assert win.banner.isVisible() and words in win.banner.text.text()
    assert (win.history.count, _records(win), win.windowTitle(), len(win.history.session.runs), win.experiment().to_json()) == before
    step_epochs(qtbot, win, 1)  # and it trains on from where it was
    assert win.history.count == before[0] + 1


def test_a_truncated_session_file_keeps_the_open_experiment(qtbot, window, tmp_path):
    step_epochs(qtbot, window, 3)
    path = tmp_path / "lesson.epochlab"
    assert window.save_session(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    step_epochs(qtbot, window, 1)
    _refused_keeps_the_window(qtbot, window, path, "lesson.epochlab")


def test_a_newer_session_file_is_refused_clearly(qtbot, window, tmp_path):
    step_epochs(qtbot, window, 2)
    path = tmp_path / "lesson.epochlab"
    assert window.save_session(path)
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays[SESSION_KEY] = np.array("99")
    newer = tmp_path / "newer.epochlab"
    np.savez(newer, **arrays)
    _refused_keeps_the_window(qtbot, window, newer, "newer")


def test_open_recent_greys_out_and_drops_a_file_that_is_gone(qtbot, window, tmp_path):
    kept, gone = tmp_path / "kept.epochlab", tmp_path / "gone.epochlab"
    assert window.save_session(gone) and window.save_session(kept)
    gone.unlink()
    menu = window.actions.submenus["openRecent"]
    window.recent.fill(menu, window._open_recent)
    actions = {a.text(): a for a in menu.actions() if a.text()}
    assert actions["&1 kept.epochlab"].isEnabled() and not actions["&2 gone.epochlab"].isEnabled()
    window._open_recent(gone)
    assert "not there any more" in window.banner.text.text() and window.recent.paths() == [kept.absolute()]
    step_epochs(qtbot, window, 1)
    window._open_recent(kept)
    assert window.history.count == 0 and window.windowTitle().startswith("kept.epochlab")


def test_quitting_with_unsaved_work_asks(qtbot, window, tmp_path):
    step_epochs(qtbot, window, 1)
    asked = []
    window.confirm_discard = type(window).confirm_discard.__get__(window)  # the real question, with its answers replaced
    window.ask_unsaved = lambda change: asked.append(change) or "cancel"
    window.actions["quit"].trigger()
    assert asked == ["Quitting"] and window.isVisible()
    path = tmp_path / "kept.epochlab"
    window._file_path = path  # Save writes there without a dialog
    window.ask_unsaved = lambda change: "save"
    window.actions["quit"].trigger()
    assert not window.isVisible() and len(load_session(path).session.current.record) == 1


def _without_seconds(records) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


def test_continue_from_here_branches_and_keeps_both_runs(qtbot, window):
    step_epochs(qtbot, window, 4)
    root = window.history.current
    qtbot.waitUntil(lambda: root.checkpoints.epochs == [0, 1, 2, 3, 4], timeout=WAIT_MS)  # checkpointsReady follows epochsReady
    assert window.continue_from(2)  # the same settings: the branch retraces its parent exactly
    same = window.history.current
    assert (same.parent, same.branch_epoch, same.epochs) == (root.id, 2, 2) and window.trainer_state().epoch == 2
    step_epochs(qtbot, window, 2)
    assert _without_seconds(same.record.records()) == _without_seconds(list(root.record.records())[2:])
    assert window.continue_from(3, learning_rate=0.3)  # another learning rate: another curve
    faster = window.history.current
    step_epochs(qtbot, window, 3)
    assert [int(e) for e in faster.record.column("epoch")] == [4, 5, 6]
    assert faster.record.column("train_loss")[0] != same.record.column("train_loss")[1]
    assert faster.training["learning_rate"] == 0.3 and "α = 0.3" in faster.differences(same)
    assert [run.id for run in window.history.session.runs] == [root.id, same.id, faster.id]
    table = window.registry.runs
    table.refresh()
    assert table.model.rowCount() == 3 and table.model.run_at(2) is faster
    window.loss_plot.refresh()
    assert set(window.loss_plot.faded.run_ids) == {root.id, same.id}  # the old runs, faded, beside the current one


def test_a_branch_with_settings_that_cannot_train_changes_nothing(qtbot, window):
    step_epochs(qtbot, window, 2)
    runs = list(window.history.session.runs)
    assert not window.continue_from(1, learning_rate=-1.0)
    assert window.history.session.runs == runs and "Could not continue from here." in window.banner.text.text()
    assert not window.continue_from(7)
    assert "no checkpoint at epoch 7" in window.banner.text.text()


def test_the_epoch_cursor_shows_a_checkpoint_in_the_views(qtbot, window):
    step_epochs(qtbot, window, 3)
    with qtbot.waitSignal(window.controller.probed, timeout=WAIT_MS, check_params_cb=lambda result: result.epoch == 1):
        window.loss_plot.move_cursor(1)
    assert "Showing epoch 1" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.controller.probed, timeout=WAIT_MS, check_params_cb=lambda result: result.epoch == 3):
        window.loss_plot.move_cursor(None)
    step_epochs(qtbot, window, 1)  # the trainer was left where it was
    assert window.trainer_state().epoch == 4 and window.history.count == 4


def test_export_the_history_of_every_run_and_the_run_as_a_script(qtbot, window, tmp_path):
    step_epochs(qtbot, window, 2)
    script = tmp_path / "run.py"
    assert window.exports.program("script", script)
    assert script.is_file() and "import numpy" in script.read_text() and len(list(tmp_path.glob("run*"))) == 2
    assert window.continue_from(1, learning_rate=0.1)
    step_epochs(qtbot, window, 2)
    path = tmp_path / "history.csv"
    assert window.exports.history(path)
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:4] == ["run", "run_name", "epoch", "train_loss"]
    first, branch = window.history.session.runs
    assert [(row["run"], row["epoch"]) for row in rows] == [(str(run.id), epoch) for run, epoch in
                                                           ((first, "1"), (first, "2"), (branch, "2"), (branch, "3"))]
    assert rows[2]["run_name"] == branch.name == f"{branch.name.split(' (')[0]} (from {first.name}, epoch 1)"
    # a branch's program would have to replay its parent up to the branch: refused, not exported wrongly
    assert not window.exports.program("script", tmp_path / "branch.py")
    assert "export the run it started from" in window.banner.text.text() and not (tmp_path / "branch.py").exists()


def test_export_the_trained_network_as_onnx_gives_the_windows_predictions(qtbot, window, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    step_epochs(qtbot, window, 2)
    path = tmp_path / "spiral.onnx"
    assert window.exports.program("onnx", path)
    trained = network_with(window.network, window.trainer_state())
    x = window.dataset.X[:20].astype(np.float32)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (outputs,) = session.run(None, {"x": x})
    np.testing.assert_allclose(outputs, trained.predict(x), rtol=1e-5, atol=1e-6)
    assert "Wrote" in window.statusBar().currentMessage()


def test_a_session_whose_data_file_moved_keeps_the_open_experiment(qtbot, window, second, tmp_path):
    rng = np.random.default_rng(0)
    save_data_npz(tmp_path / "points.npz", rng.normal(size=(40, 2)), (rng.random(40) > 0.5).astype(int))
    lesson = tmp_path / "lesson.json"
    Experiment({"path": "points.npz"}, window.experiment().network, window.config).save(lesson)
    assert second.open_experiment(lesson)
    step_epochs(qtbot, second, 2)
    path = tmp_path / "points.epochlab"
    assert second.save_session(path)
    (tmp_path / "points.npz").rename(tmp_path / "moved.npz")
    step_epochs(qtbot, window, 1)
    _refused_keeps_the_window(qtbot, window, path, "points.npz is not there any more")


def test_a_marked_epoch_is_kept_when_the_checkpoints_are_thinned(qtbot, window):
    step_epochs(qtbot, window, 3)
    run = window.history.current
    run.checkpoints.budget = 1  # every further state thins the rest: only the first, the latest and the pinned stay
    window.actions["markEpoch"].trigger()
    assert run.checkpoints.pinned == [3] and [m.text for m in run.markers if m.kind == "mark"] == ["epoch 3 kept"]
    with qtbot.waitSignal(window.controller.partialReport, timeout=WAIT_MS):
        click(qtbot, child(window, QToolButton, "stepBatchButton"))
    window.actions["markEpoch"].trigger()  # in the middle of epoch 4: nothing kept
    assert run.checkpoints.pinned == [3] and "step to its end" in window.statusBar().currentMessage()
    step_epochs(qtbot, window, 3)
    assert {0, 3} <= set(run.checkpoints.epochs) and len(run.checkpoints) <= 3 and run.checkpoints.interval > 1
    assert window.continue_from(3)  # the marked epoch can be gone back to
    assert window.history.current.branch_epoch == 3
