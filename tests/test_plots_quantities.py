"""Runs of another loss or metric are not drawn on the current run's axis: the plot counts them
in a note instead."""

from __future__ import annotations

from app.history import RunHistory
from app.plots import EpochPlot
from core.trainer import Report

MSE, CROSS_ENTROPY = "mean squared error", "categorical cross-entropy"


def train(history: RunHistory, loss: float) -> None:
    history.extend([Report(epoch, 4, 4, loss, loss, 0.5, 0.5, history.metric_name, 0.03, 0.1, 1000.0, ())
                    for epoch in (1, 2, 3)])
    history.session.changed()


def new_run(plot: EpochPlot, history: RunHistory, loss: str, metric: str = "accuracy", training: dict | None = None) -> None:
    """As the window starts a run: the plot is told its loss, then the run starts and is drawn."""
    plot.set_quantity(loss)
    history.clear(metric, {"training": training or {}})
    plot.refresh()


def loss_plot(qtbot) -> tuple[EpochPlot, RunHistory]:
    history = RunHistory()
    plot = EpochPlot("lossPlot", "loss", history)
    qtbot.addWidget(plot)
    plot.resize(600, 300)
    plot.show()
    return plot, history


def test_runs_of_another_loss_are_left_out_with_a_note(qtbot):
    plot, history = loss_plot(qtbot)
    new_run(plot, history, MSE)
    train(history, 0.2)
    new_run(plot, history, CROSS_ENTROPY)
    train(history, 2.0)
    new_run(plot, history, CROSS_ENTROPY)
    first, second, _ = history.session.runs
    assert plot.faded.run_ids == [second.id]
    assert plot.faded.note.isVisible() and plot.faded.note.text() == "1 run with another loss not drawn"
    new_run(plot, history, MSE)  # the empty third run is dropped, its id used again
    assert len(history.session.runs) == 3 and plot.faded.run_ids == [first.id] and plot.faded.note.text() == "1 run with another loss not drawn"
    assert plot.canvas.getPlotItem().getAxis("left").labelText == f"loss ({MSE})"


def test_a_run_the_plot_never_showed_has_its_loss_from_its_experiment(qtbot):
    plot, history = loss_plot(qtbot)
    history.clear("r2", {"training": {}})  # a regression: MSE
    train(history, 0.2)
    history.clear("accuracy", {"training": {"loss": "mse"}})
    train(history, 0.3)
    history.clear("accuracy", {"training": {}})  # a classification's suggested loss: unknown, drawn
    train(history, 0.4)
    first, second, third = history.session.runs
    new_run(plot, history, CROSS_ENTROPY)
    assert plot.faded.run_ids == [third.id] and plot.faded.note.text() == "2 runs with another loss not drawn"
    new_run(plot, history, MSE)
    assert plot.faded.run_ids == [first.id, second.id, third.id] and not plot.faded.note.isVisible()


def test_runs_of_another_metric_are_counted_on_the_metric_plot(qtbot):
    history = RunHistory()
    plot = EpochPlot("metricPlot", "metric", history)
    qtbot.addWidget(plot)
    plot.show()
    history.clear("r2", {"training": {}})
    train(history, 0.2)
    plot.set_quantity("accuracy")
    history.clear("accuracy", {"training": {}})
    plot.refresh()
    assert plot.faded.run_ids == [] and plot.faded.note.text() == "1 run with another metric not drawn"
