"""Long runs stay small: the engine's and the window's per-epoch record is a few numbers an
epoch, the per-layer trends are bounded tables, and the plots draw a long run from a bounded
envelope that still covers every epoch."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from app.history import RunHistory
from app.plots import ENVELOPE_BUCKETS, RAW_POINTS, Envelope, EpochPlot, min_max_buckets
from app.views.weight_history import WeightHistoryView
from core.experiment import network_spec
from core.network import Network
from core.run_record import RECENT_REPORTS, RECORD_COLUMNS, SAMPLED_ROWS, Columns, RunRecord, SampledRows
from core.synthetic import synthetic
from core.trainer import Report, Trainer, TrainingConfig

TANH = [{"type": "dense", "units": 4, "activation": "tanh"}]


def trainer_of(name: str, **settings) -> Trainer:
    data = synthetic(name, samples=60, seed=0)
    return Trainer(Network(network_spec(data, TANH), seed=0), data, TrainingConfig(batch_size=16, **settings))


def relabelled(report: Report, epochs) -> list[Report]:
    return [dataclasses.replace(report, epoch=e) for e in epochs]


# ----- columns and the run record -----------------------------------------------------------------------
def test_columns_grow_by_doubling_and_give_views():
    columns = Columns(("a", "b"), capacity=2)
    for i in range(5):
        columns.append((i, -i))
    assert len(columns) == 5 and columns.nbytes() == 2 * 8 * 8  # 2 → 4 → 8 rows
    np.testing.assert_array_equal(columns.column("a"), [0, 1, 2, 3, 4])
    assert columns.column("b").base is not None  # a view, not a copy
    assert columns.row(-1) == {"a": 4.0, "b": -4.0} and columns.row(0) == {"a": 0.0, "b": 0.0}
    with pytest.raises(IndexError):
        columns.row(5)
    with pytest.raises(ValueError):
        columns.append((1.0,))  # a value per column
    columns.clear()
    assert len(columns) == 0 and columns.column("a").size == 0


@pytest.mark.parametrize(("dataset", "val_fraction"), [("moons", 0.2), ("plane", 0.0)])
def test_records_are_what_the_reports_said(dataset, val_fraction):
    """The CLI's --history rows: the records equal Report.to_json() of every epoch, key for key,
    None where there is no validation part."""
    trainer = trainer_of(dataset, val_fraction=val_fraction)
    reports = trainer.run(7)
    records = list(trainer.history.records())
    assert records == [r.to_json() for r in reports]
    for report, record in zip(reports, records, strict=True):  # the same types too: an int epoch, None, floats
        assert [type(v) for v in record.values()] == [type(v) for v in report.to_json().values()]
    assert len(trainer.history) == 7 and trainer.history.last is reports[-1]
    np.testing.assert_array_equal(trainer.history.column("train_loss"), [r.train_loss for r in reports])


def test_the_engine_keeps_numbers_not_reports():
    trainer = trainer_of("moons")
    report = trainer.run_epoch()
    record = RunRecord(capacity=16)
    record.extend(relabelled(report, range(1, RECENT_REPORTS + 101)))
    assert len(record) == RECENT_REPORTS + 100
    assert len(record.recent) == RECENT_REPORTS and record.recent[0].epoch == 101 and record.last.epoch == RECENT_REPORTS + 100
    assert record.nbytes() <= 2 * len(RECORD_COLUMNS) * 8 * len(record)  # 7 numbers an epoch, at most doubled
    assert record.total("samples") == pytest.approx(len(record) * trainer.train_size)
    record.clear("r2")
    assert len(record) == 0 and record.last is None and record.metric_name == "r2"


def test_the_window_history_is_a_view_of_the_session_s_current_run():
    history = RunHistory()
    report = trainer_of("moons").run_epoch()
    version = history.version
    history.extend(relabelled(report, range(1, 4)))
    assert history.count == 3 and history.version > version and isinstance(history.current.record, RunRecord)
    np.testing.assert_array_equal(history.column("epoch"), [1, 2, 3])
    first = history.current
    assert history.session.runs == [first] and np.shares_memory(history.column("epoch"), first.record.column("epoch"))
    history.clear("r2")
    assert history.count == 0 and history.current is not first and history.markers == [] and history.metric_name == "r2"
    assert history.session.runs == [first, history.current] and len(first.record) == 3  # the old run stays


# ----- bounded per-layer tables -------------------------------------------------------------------------
def test_sampled_rows_keep_the_whole_run_in_a_bounded_table():
    table = SampledRows(capacity=8)
    table.extend(range(1, 101), [[e, -e] for e in range(1, 101)])
    assert len(table) <= 8 and table.offered == 100
    stride = table.stride
    assert stride == 16
    np.testing.assert_array_equal(table.epochs, np.arange(1, 101, stride))  # the first epoch on, every stride-th
    np.testing.assert_array_equal(table.values[:, 1], -table.epochs)
    table.extend([101], [[1.0, 2.0, 3.0]])  # another width: a new table
    assert (len(table), table.width, table.stride) == (1, 3, 1)
    with pytest.raises(ValueError):
        SampledRows(capacity=7)


def test_weight_history_view_stays_bounded_over_a_long_run(qtbot):
    view = WeightHistoryView()
    qtbot.addWidget(view)
    report = trainer_of("moons").run_epoch()
    epochs = 3 * SAMPLED_ROWS
    for start in range(1, epochs + 1, 1000):
        view.add_reports(relabelled(report, range(start, min(start + 1000, epochs + 1))))
    assert view.grad.count <= SAMPLED_ROWS and view.grad.epochs[0] == 1 and view.grad.epochs[-1] > epochs - view.grad.stride
    view.refresh()
    x, _ = view._grad_curves[0].getOriginalDataset()
    assert len(x) == view.grad.count and x[-1] > epochs - view.grad.stride  # the whole run, sampled


# ----- the plots' envelope ------------------------------------------------------------------------------
def test_envelope_equals_min_and_max_of_every_bucket():
    rng = np.random.default_rng(0)
    y = rng.normal(size=50_000)
    y[rng.integers(0, y.size, 300)] = np.nan
    y[rng.integers(0, y.size, 30)] = np.inf
    y[:2000] = np.abs(y[:2000])
    envelope = Envelope(capacity=64)
    done = 0
    for chunk in rng.integers(1, 3000, 40):  # rows arrive in uneven lists
        done = min(done + int(chunk), y.size)
        envelope.update(y[:done])
        assert envelope.count <= 64
    envelope.update(y)
    x = np.arange(1.0, y.size + 1)
    xs, ys = envelope.points(x, y)
    low, high = min_max_buckets(y, envelope.size)
    assert len(xs) == 2 * len(low) <= 2 * 65
    np.testing.assert_array_equal(xs[0::2], x[:: envelope.size])
    np.testing.assert_array_equal(ys[0::2], low)
    np.testing.assert_array_equal(ys[1::2], high)
    finite = y[np.isfinite(y)]
    assert envelope.bounds(y, log=False) == (finite.min(), finite.max())
    assert envelope.bounds(y, log=True) == pytest.approx((np.log10(finite[finite > 0].min()), np.log10(finite.max())))
    assert Envelope().bounds(np.full(3, np.nan), log=False) is None


def long_history(epochs: int) -> RunHistory:
    history = RunHistory()
    loss = np.exp(-np.arange(epochs) / epochs * 3) + 0.05 * np.random.default_rng(1).random(epochs)
    for e in range(epochs):
        history.current.record.append((e + 1, loss[e], loss[e] + 0.1, 0.5, np.nan, 0.01, 0.001))
    history.session.changed()
    return history


def test_a_long_run_is_drawn_whole_from_a_bounded_envelope(qtbot):
    epochs = 40 * ENVELOPE_BUCKETS + 123
    history = long_history(epochs)
    plot = EpochPlot("lossPlot", "loss", history)
    qtbot.addWidget(plot)
    plot.resize(600, 300)
    plot.refresh()
    x, y = plot.train_curve.getOriginalDataset()
    assert plot.curve_points() == epochs
    assert len(x) <= 2 * (ENVELOPE_BUCKETS + 1)
    assert x[0] == 1 and x[-1] > epochs - 2 * epochs / ENVELOPE_BUCKETS  # the whole run
    loss = history.column("train_loss")
    assert (np.nanmin(y), np.nanmax(y)) == (loss.min(), loss.max())
    (_, x1), (y0, y1) = plot.canvas.getPlotItem().getViewBox().viewRange()
    assert x1 >= epochs and y0 <= loss.min() and y1 >= loss.max()
    assert not plot.val_curve.isVisible() or np.isfinite(history.column("val_loss")).any()

    # zoomed in, the epochs in view are drawn one by one
    view = plot.canvas.getPlotItem().getViewBox()
    view.setXRange(1000, 1000 + RAW_POINTS // 2, padding=0)
    plot._on_manual_range()
    x, y = plot.train_curve.getOriginalDataset()
    assert x[0] <= 1000 and x[-1] >= 1000 + RAW_POINTS // 2 and len(x) <= RAW_POINTS // 2 + 3
    np.testing.assert_array_equal(y, loss[int(x[0]) - 1 : int(x[-1])])
