"""The views of a session's runs: other runs faded on the loss and metric plots with a legend
of what differs, the epoch cursor over the checkpoints, the runs table, and plot export."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.history import RunHistory
from app.plot_export import export_plot
from app.plots import RAW_POINTS, EpochPlot
from app.views.runs_table import COLUMNS, NAME, SHOW, RunsTable
from core.files import FileFormatError
from core.trainer import Report

EXPERIMENT = {"training": {"optimizer": "sgd", "learning_rate": 0.01, "batch_size": 32, "l1": 0.0, "l2": 0.0}}
CHECKPOINT_EVERY = 20


@dataclass(frozen=True)
class State:
    """What Checkpoints needs of a trainer state (the views never look inside one)."""

    epoch: int
    cursor: int = 0
    nbytes: int = 8


def train(run, first: int, last: int, rate: float, seconds: float = 0.5) -> None:
    """Record epochs ``first``..``last`` of a falling loss into ``run``, with a checkpoint
    every CHECKPOINT_EVERY epochs and at the last one."""
    for epoch in range(first, last + 1):
        loss = float(np.exp(-rate * epoch) + 0.05)
        run.record.append_report(Report(epoch, 4, 4, loss, loss + 0.05, 1 - loss / 2, 1 - loss / 2 - 0.03, "accuracy",
                                        0.01, seconds, 1000.0, ()))
        if epoch % CHECKPOINT_EVERY == 0 or epoch == last:
            run.checkpoints.add(State(epoch))


def branched_history() -> tuple[RunHistory, object, object]:
    """Run "first" (140 epochs, α 0.01) and its branch from epoch 60 with α 0.1 (current, to epoch 120)."""
    history = RunHistory()
    history.clear("accuracy", EXPERIMENT)
    first = history.current
    first.checkpoints.add(State(0))
    train(first, 1, 140, 0.02)
    branch = history.start_run({"training": {**EXPERIMENT["training"], "learning_rate": 0.1}}, "accuracy",
                               parent=first, branch_epoch=60)
    branch.checkpoints.add(State(60))
    train(branch, 61, 120, 0.04)
    history.session.changed()
    return history, first, branch


@pytest.fixture
def plot(qtbot):
    history, _, _ = branched_history()
    plot = EpochPlot("lossPlot", "loss", history)
    qtbot.addWidget(plot)
    plot.resize(800, 450)
    plot.show()
    plot.refresh()
    return plot


def legend_texts(plot: EpochPlot) -> list[str]:
    return [label.text for _, label in plot.faded.legend.items]


# ----- faded runs -------------------------------------------------------------------------------
def test_a_branch_and_its_parent_are_both_drawn_with_a_legend_of_the_difference(plot):
    history = plot._history
    first, branch = history.session.runs
    assert plot.faded.run_ids == [first.id]
    faded = plot.faded.items(first.id)
    x, y = faded.train.getOriginalDataset()
    np.testing.assert_array_equal(x, first.record.column("epoch"))
    np.testing.assert_array_equal(y, first.record.column("train_loss"))
    np.testing.assert_array_equal(faded.val.getOriginalDataset()[1], first.record.column("val_loss"))
    assert faded.val.opts["pen"].style() == Qt.PenStyle.DashLine
    assert faded.train.opts["pen"].color().alpha() < 255 and faded.train.zValue() < plot.train_curve.zValue()
    np.testing.assert_array_equal(plot.train_curve.getOriginalDataset()[0], branch.record.column("epoch"))
    assert legend_texts(plot) == [f"{branch.name} (current)", f"{first.name}: α = 0.01"]
    assert faded.name.toPlainText() == first.name
    (_, x1), _ = plot.canvas.getPlotItem().getViewBox().viewRange()
    assert x1 >= 140  # the longer parent fits


def test_hiding_a_run_removes_its_curves_and_showing_it_brings_them_back(plot):
    first = plot._history.session.runs[0]
    item = plot.canvas.getPlotItem()
    before = len(item.listDataItems())
    plot._history.session.set_visible(first.id, False)
    assert plot.stale()
    plot.refresh()
    assert plot.faded.run_ids == [] and len(item.listDataItems()) == before - 2
    assert not plot.faded.legend.isVisible()
    plot._history.session.set_visible(first.id, True)
    plot.refresh()
    assert plot.faded.run_ids == [first.id] and len(item.listDataItems()) == before


def test_the_legend_gives_way_on_a_plot_too_small_for_it(plot, qtbot):
    assert plot.faded.legend.isVisible()
    plot.resize(420, 190)  # a metric plot in the bottom row at 1280×720
    qtbot.waitUntil(lambda: not plot.faded.legend.isVisible())
    assert plot.faded.items(plot._history.session.runs[0].id).name.isVisible()  # the run is still named at its curve's end
    plot.resize(800, 450)
    qtbot.waitUntil(plot.faded.legend.isVisible)


def test_an_unchanged_faded_run_is_not_drawn_again(plot):
    first, branch = plot._history.session.runs
    faded = plot.faded.items(first.id)
    calls = []
    faded.train.setData = lambda *args, **kwargs: calls.append(args)
    train(branch, 121, 125, 0.04)
    plot._history.session.changed()
    plot.refresh()
    assert calls == [] and plot.curve_points() == len(branch.record)
    plot._history.session.rename(first.id, "slow")
    plot.refresh()
    assert len(calls) == 1 and legend_texts(plot)[1] == "slow: α = 0.01"


def test_a_long_faded_run_is_drawn_from_a_bounded_envelope(qtbot):
    history = RunHistory()
    history.clear("accuracy", EXPERIMENT)
    old = history.current
    epochs = 5 * RAW_POINTS + 7
    loss = np.linspace(2.0, 0.1, epochs)
    for epoch in range(1, epochs + 1):
        old.record.append((epoch, loss[epoch - 1], np.nan, 0.5, np.nan, 0.01, 0.001))
    history.clear("accuracy", EXPERIMENT)
    plot = EpochPlot("lossPlot", "loss", history)
    qtbot.addWidget(plot)
    plot.refresh()
    x, y = plot.faded.items(old.id).train.getOriginalDataset()
    assert len(x) <= RAW_POINTS + 2 and x[0] == 1 and x[-1] > epochs - epochs / RAW_POINTS * 4
    assert (y.min(), y.max()) == (loss.min(), loss.max())
    assert not plot.faded.items(old.id).val.isVisible()  # no validation part

    # zoomed in, the epochs in view are drawn one by one
    plot.canvas.getPlotItem().getViewBox().setXRange(1000, 1000 + RAW_POINTS // 2, padding=0)
    plot._on_manual_range()
    x, y = plot.faded.items(old.id).train.getOriginalDataset()
    assert x[0] <= 1000 and x[-1] >= 1000 + RAW_POINTS // 2 and len(x) <= RAW_POINTS // 2 + 3
    np.testing.assert_array_equal(y, loss[int(x[0]) - 1 : int(x[-1])])


def test_on_a_log_axis_a_faded_run_is_named_where_its_curve_ends(plot):
    first = plot._history.session.runs[0]
    name = plot.faded.items(first.id).name
    last = first.record.column("train_loss")[-1]
    assert (name.pos().x(), name.pos().y()) == (140, pytest.approx(last))
    plot.set_log_scale(True)
    assert name.pos().y() == pytest.approx(np.log10(last))
    (_, _), (y0, y1) = plot.canvas.getPlotItem().getViewBox().viewRange()
    assert y0 <= np.log10(first.record.column("train_loss").min()) and y1 >= np.log10(first.record.column("val_loss").max())


def test_the_metric_plot_skips_runs_of_another_metric(qtbot):
    history, first, branch = branched_history()
    regression = history.start_run(EXPERIMENT, "r2")
    train(regression, 1, 10, 0.1)
    history.session.changed()
    plot = EpochPlot("metricPlot", "metric", history)
    qtbot.addWidget(plot)
    plot.set_quantity("r2")
    plot.refresh()
    assert plot.faded.run_ids == []
    plot.set_quantity("accuracy")
    history.session.current = branch  # the accuracy branch is current again
    history.session.changed()
    plot.refresh()
    assert plot.faded.run_ids == [first.id]


# ----- the epoch cursor ------------------------------------------------------------------------
def test_the_cursor_snaps_to_checkpoints_and_says_which_epoch_it_shows(plot, qtbot):
    assert not plot.epoch_cursor.isVisible()
    moved = []
    plot.cursorMoved.connect(moved.append)
    plot.set_cursor_enabled(True)
    assert plot.epoch_cursor.isVisible() and plot.epoch_cursor.value() == 120 and moved == []
    assert plot.cursor_epochs() == [60, 80, 100]
    plot.move_cursor(97.3)
    assert plot.cursor_epoch() == 80 and plot.epoch_cursor.value() == 80 and moved == [80]
    assert plot.epoch_cursor.label.format == "showing epoch 80"
    assert "Showing epoch 80" in plot.readout.text()
    plot.move_cursor(85)  # the same checkpoint: no signal
    assert moved == [80]
    plot.move_cursor(10)  # before the branch's first checkpoint: that one
    assert plot.cursor_epoch() == 60 and "where" in plot.readout.text()
    plot.move_cursor(500)
    assert plot.cursor_epoch() is None and moved == [80, 60, -1]


def test_the_cursor_moves_by_keys_when_the_plot_has_focus(plot, qtbot):
    moved = []
    plot.cursorMoved.connect(moved.append)
    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(plot.canvas, Qt.Key.Key_Left, ctrl)  # not enabled: nothing
    assert moved == []
    plot.set_cursor_enabled(True)
    qtbot.keyClick(plot.canvas, Qt.Key.Key_Left, ctrl)
    qtbot.keyClick(plot.canvas, Qt.Key.Key_Left, ctrl)
    qtbot.keyClick(plot.canvas, Qt.Key.Key_Right, ctrl)
    qtbot.keyClick(plot.canvas, Qt.Key.Key_Home)
    qtbot.keyClick(plot.canvas, Qt.Key.Key_End)
    assert moved == [100, 80, 100, 60, -1]


def test_dragging_the_cursor_snaps_and_disabling_it_goes_back_to_the_latest(plot):
    moved = []
    plot.cursorMoved.connect(moved.append)
    plot.set_cursor_enabled(True)
    plot.epoch_cursor.setValue(113.0)  # what a drag does
    assert plot.epoch_cursor.value() == 100 and moved == [100]
    plot.set_cursor_enabled(False)
    assert not plot.epoch_cursor.isVisible() and plot.cursor_epoch() is None and moved == [100, -1]


def test_a_new_run_puts_the_cursor_back_at_the_latest_epoch(plot):
    moved = []
    plot.cursorMoved.connect(moved.append)
    plot.set_cursor_enabled(True)
    plot.move_cursor(60)
    history = plot._history
    history.start_run(EXPERIMENT, "accuracy", parent=history.current, branch_epoch=60)
    plot.refresh()
    assert moved == [60, -1] and plot.cursor_epoch() is None


# ----- the runs table -----------------------------------------------------------------------------
@pytest.fixture
def table(qtbot):
    history, _, _ = branched_history()
    table = RunsTable(history)
    qtbot.addWidget(table)
    table.resize(1100, 240)
    table.show()
    table.refresh()
    return table


def cell(table: RunsTable, row: int, header: str, role=Qt.ItemDataRole.DisplayRole):
    column = [c[0] for c in COLUMNS].index(header)
    return table.model.data(table.model.index(row, column), role)


def test_the_runs_table_lists_every_run_with_its_numbers(table):
    first, branch = table.model.session.runs
    assert table.model.rowCount() == 2 and not table.stale()
    assert [cell(table, row, "Run") for row in (0, 1)] == [first.name, branch.name]
    assert [cell(table, row, "Epochs") for row in (0, 1)] == ["140", "120"]
    assert [cell(table, row, "α") for row in (0, 1)] == ["0.01", "0.1"]
    assert cell(table, 0, "Optimizer") == "sgd" and cell(table, 0, "Batch") == "32"
    val = first.record.column("val_loss")
    assert cell(table, 0, "Loss") == f"{val[-1]:.4g}"
    assert cell(table, 0, "Best loss") == f"{val.min():.4g} (140)"
    assert cell(table, 0, "Metric") == f"{first.record.column('val_metric')[-1]:.1%}"
    assert cell(table, 0, "Time") == "1 min 10 s" and cell(table, 1, "Time") == "30.0 s"
    assert cell(table, 1, "Run", Qt.ItemDataRole.FontRole).bold()  # the current run
    assert cell(table, 0, "Run", Qt.ItemDataRole.FontRole) is None
    assert "branched from" in cell(table, 1, "Run", Qt.ItemDataRole.ToolTipRole)
    assert cell(table, 0, "Show", Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked


def test_the_runs_table_renames_hides_and_deletes_through_the_session(table, qtbot, monkeypatch):
    model, session = table.model, table.model.session
    first, branch = session.runs
    with qtbot.waitSignal(table.runRenamed) as renamed, qtbot.waitSignal(table.edited):
        assert model.setData(model.index(0, NAME), "  slow one ")
    assert renamed.args == [first.id, "slow one"] and first.name == "slow one"
    assert not model.setData(model.index(0, NAME), "   ")  # refused, said in one line
    assert first.name == "slow one" and "cannot be empty" in table.readout.text()
    with qtbot.waitSignal(table.runShown) as shown:
        assert model.setData(model.index(0, SHOW), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert shown.args == [first.id, False] and not first.visible

    table.select_run(branch.id)  # the current run cannot be deleted
    assert not table.delete_action.isEnabled()
    table.select_run(first.id)
    assert table.delete_action.isEnabled()
    monkeypatch.setattr(QMessageBox, "question", lambda *args: QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(table.runDeleted) as deleted:
        table.delete_action.trigger()
    assert deleted.args == [first.id] and session.runs == [branch] and model.rowCount() == 1
    assert branch.parent is None


def test_the_runs_table_refuses_to_delete_the_current_run_in_one_line(table, qtbot):
    current = table.model.session.current
    with qtbot.assertNotEmitted(table.runDeleted):
        table.delete_run(current.id)
    assert current in table.model.session.runs and "cannot be deleted" in table.readout.text()


def test_the_runs_table_follows_the_session(table):
    history = table.model._history
    new = history.start_run(EXPERIMENT, "accuracy")
    assert table.stale()
    table.refresh()
    assert table.model.rowCount() == 3 and cell(table, 2, "Epochs") == "0" and cell(table, 2, "Loss") == "—"
    train(new, 1, 3, 0.1)
    history.session.changed()
    table.refresh()
    assert cell(table, 2, "Epochs") == "3"


# ----- export -------------------------------------------------------------------------------------
def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_export_plot_writes_a_png_and_an_svg_of_every_run(plot, tmp_path):
    item = plot.canvas.getPlotItem()
    width, height = png_size(export_plot(item, tmp_path / "loss.png"))
    assert width >= 400 and height > 100
    svg = ET.parse(export_plot(plot, tmp_path / "loss.SVG")).getroot()
    assert svg.tag.endswith("svg")
    texts = " ".join(t.text or "" for t in svg.iter() if t.tag.endswith("text"))
    assert "α = 0.01" in texts  # the legend is in the drawing
    assert len([e for e in svg.iter() if e.tag.endswith("path") or e.tag.endswith("polyline")]) >= 4


@pytest.mark.parametrize(("name", "message"), [("loss.jpg", "as .png or .svg"), ("missing/loss.png", "does not exist"),
                                               ("loss", "without a suffix")])
def test_export_plot_refuses_clearly(plot, tmp_path, name, message):
    with pytest.raises(FileFormatError, match=message):
        export_plot(plot, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_keeps_the_old_file(plot, tmp_path, monkeypatch):
    target = tmp_path / "loss.png"
    target.write_bytes(b"old")
    monkeypatch.setattr("app.plot_export._png_bytes", lambda item: (_ for _ in ()).throw(FileFormatError("cannot draw")))
    with pytest.raises(FileFormatError):
        export_plot(plot, target)
    assert target.read_bytes() == b"old" and list(tmp_path.iterdir()) == [target]


def test_a_training_frame_redraws_the_current_row_only(table, qtbot):
    branch = table.model.session.current
    with qtbot.waitSignal(table.model.dataChanged) as changed:
        train(branch, 121, 122, 0.04)
        table.model.session.changed()
        table.refresh()
    top, bottom = changed.args[:2]
    assert (top.row(), bottom.row()) == (1, 1) and cell(table, 1, "Epochs") == "122"
    with qtbot.assertNotEmitted(table.model.dataChanged):
        table.model.session.changed()
        table.refresh()


# ----- the window's views ---------------------------------------------------------------------
def test_the_window_has_a_runs_view_and_exports_every_plot(qtbot, tmp_path):
    from gui_helpers import open_window

    window = open_window(qtbot, (1400, 900))
    try:
        registry = window.registry
        assert registry.docks["runs"].windowTitle() == "Runs" and registry.runs in registry.scheduler.views
        assert registry.docks["runs"] in window.views.tabifiedDockWidgets(registry.docks["metric"])
        plots = registry.exportable_plots()
        assert {"loss", "metric", "boundary", "weights", "weightHistory"} <= plots.keys()
        assert "layers" not in plots and "runs" not in plots
        for name, plot in plots.items():
            assert registry.docks[name].windowTitle()
            assert png_size(export_plot(plot, tmp_path / f"{name}.png"))[0] >= 400
            assert ET.parse(export_plot(plot, tmp_path / f"{name}.svg")).getroot().tag.endswith("svg")
    finally:
        window.close()
