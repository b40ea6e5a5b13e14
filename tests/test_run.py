"""The run model: checkpoints thinned within a budget, runs that stay, branches and their lineage."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.run import Checkpoints, Marker, Session
from core.trainer import Report


@dataclass(frozen=True)
class FakeState:
    """What Checkpoints reads of a TrainerState."""

    epoch: int
    cursor: int = 0
    nbytes: int = 100


def report(epoch: int, val_loss: float | None = 0.5, train_loss: float = 1.0) -> Report:
    return Report(epoch=epoch, batch=1, batches=1, train_loss=train_loss, val_loss=val_loss, train_metric=0.5,
                  val_metric=None if val_loss is None else 1.0 / (1.0 + val_loss), metric_name="accuracy",
                  learning_rate=0.1, seconds=0.5, samples_per_second=100.0, layers=())


def test_every_epoch_is_kept_while_the_budget_allows():
    checkpoints = Checkpoints(budget=10_000)
    for epoch in range(21):
        checkpoints.add(FakeState(epoch))
    assert checkpoints.epochs == list(range(21)) and checkpoints.interval == 1


def test_over_budget_the_interval_doubles_and_keeps_the_initial_latest_and_pinned_states():
    checkpoints = Checkpoints(budget=1000)  # ten states of 100 bytes
    for epoch in range(101):
        if checkpoints.due(epoch) or epoch == 100:
            checkpoints.add(FakeState(epoch))
        if epoch == 37:
            checkpoints.add(FakeState(37), pinned=True)
    assert checkpoints.nbytes <= 1000 + 300  # the budget, and at most the three kept for good beyond it
    assert {0, 37, 100} <= set(checkpoints.epochs)
    spread = [epoch for epoch in checkpoints.epochs if epoch not in (37, 100)]
    assert spread == list(range(0, 100, checkpoints.interval)) and checkpoints.interval == 16
    assert checkpoints.nearest(50).epoch == 48 and checkpoints.nearest(37.5).epoch == 37 and checkpoints.nearest(-1) is None


def test_a_latest_state_off_the_interval_is_replaced_by_the_next():
    checkpoints = Checkpoints(budget=10_000)
    checkpoints.add(FakeState(0))
    checkpoints.interval = 10
    checkpoints.add(FakeState(3))  # a pause at epoch 3
    checkpoints.add(FakeState(7))  # and at 7: 3 was only the latest
    assert checkpoints.epochs == [0, 7] and checkpoints.latest().epoch == 7


def test_a_checkpoint_is_between_epochs():
    with pytest.raises(ValueError, match="between epochs"):
        Checkpoints().add(FakeState(3, cursor=2))


def test_runs_stay_and_a_fresh_empty_run_is_replaced():
    session = Session()
    first = session.start_run({"training": {"learning_rate": 0.01}}, "accuracy")
    first.record.extend([report(1), report(2)])
    second = session.start_run({"training": {"learning_rate": 0.1}}, "accuracy")
    third = session.start_run({"training": {"learning_rate": 0.3}}, "accuracy")  # second had no epoch: replaced
    assert [run.id for run in session.runs] == [first.id, third.id] and second not in session.runs and session.current is third
    assert (first.name, third.name) == ("Run 1", "Run 2")  # the empty run's number is used again
    assert third.differences(first) == ["α = 0.3"]
    with pytest.raises(ValueError, match="training"):
        session.remove(third.id)
    session.remove(first.id)
    assert session.runs == [third]


def test_a_branch_counts_its_parents_epochs_up_to_the_branch():
    session = Session()
    parent = session.start_run({"training": {"learning_rate": 0.01}}, "accuracy")
    parent.record.extend([report(epoch) for epoch in range(1, 6)])
    branch = session.start_run({"training": {"learning_rate": 0.05}}, "accuracy", parent=parent, branch_epoch=3)
    assert branch.epochs == 3 and branch.markers == [Marker(3.0, f"from {parent.name}", "branch")]
    branch.record.extend([report(4, val_loss=0.1), report(5, val_loss=0.2)])
    assert [record["epoch"] for record in session.records(branch)] == [1, 2, 3, 4, 5]
    assert [record["val_loss"] for record in session.records(branch)][-2:] == [0.1, 0.2]
    assert branch.differences(parent) == ["from epoch 3", "α = 0.05"]
    summary = branch.summary()
    assert summary["epochs"] == 5 and summary["best_loss"] == 0.1 and summary["best_epoch"] == 4 and summary["part"] == "val"
    session.remove(parent.id)
    assert branch.parent is None and [record["epoch"] for record in session.records(branch)] == [4, 5]


def test_without_a_validation_part_the_summary_is_of_the_training_part():
    session = Session()
    run = session.start_run({}, "accuracy")
    run.record.extend([report(1, val_loss=None, train_loss=0.9), report(2, val_loss=None, train_loss=0.7)])
    summary = run.summary()
    assert summary["part"] == "train" and summary["final_loss"] == 0.7 and summary["best_epoch"] == 2


def test_states_are_thinned_to_a_count_however_small_they_are():
    checkpoints = Checkpoints(budget=1 << 40, count=16)
    for epoch in range(1000):
        if checkpoints.due(epoch):
            checkpoints.add(FakeState(epoch, nbytes=1))
    assert 8 <= len(checkpoints) <= 16 + 2 and checkpoints.interval == 64
    assert checkpoints.epochs[:3] == [0, 64, 128]
