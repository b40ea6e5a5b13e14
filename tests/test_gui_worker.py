"""The trainer thread on its own: every epoch reported in order, target, speed, pause, stale runs."""

from __future__ import annotations

import numpy as np
import pytest

from app.widgets import LogSpinBox
from app.worker import Probe, TrainerController, weight_matrices
from core.experiment import default_experiment, load_dataset
from core.network import Network
from core.trainer import Trainer

WAIT_MS = 10_000


def make_trainer() -> Trainer:
    experiment = default_experiment()
    return Trainer(Network(experiment.network, seed=0), load_dataset(experiment.dataset), experiment.training)


@pytest.fixture
def controller(qtbot):
    ctrl = TrainerController()
    yield ctrl
    ctrl.shutdown()


def collect(controller) -> list:
    reports = []
    controller.epochsReady.connect(reports.extend)
    return reports


def test_play_to_target_reports_every_epoch_in_order(qtbot, controller):
    reports = collect(controller)
    controller.load(make_trainer(), 40)
    with qtbot.waitSignal(controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: reason == "target"):
        controller.play()
    assert [r.epoch for r in reports] == list(range(1, 41))
    assert not controller.playing


def test_play_at_the_target_says_so(qtbot, controller):
    controller.load(make_trainer(), 0)
    with qtbot.waitSignal(controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: reason) as blocker:
        controller.play()
    assert blocker.args == [False, "target"]


def test_pause_in_slow_motion_is_immediate(qtbot, controller):
    reports = collect(controller)
    controller.load(make_trainer(), 1000)
    controller.set_speed(0.5)  # one epoch every two seconds
    with qtbot.waitSignal(controller.epochsReady, timeout=WAIT_MS):
        controller.play()
    with qtbot.waitSignal(controller.playingChanged, timeout=500):
        controller.pause()
    with qtbot.assertNotEmitted(controller.epochsReady, wait=200):
        pass
    assert len(reports) == 1


def test_a_new_trainer_drops_what_the_old_one_still_sends(qtbot, controller):
    reports = collect(controller)
    controller.load(make_trainer(), 10_000)
    controller.play()
    qtbot.waitUntil(lambda: len(reports) >= 3, timeout=WAIT_MS)
    controller.load(make_trainer(), 10_000)
    reports.clear()
    with qtbot.waitSignal(controller.epochsReady, timeout=WAIT_MS):
        controller.step_epoch()
    assert [r.epoch for r in reports] == [1]


def test_weight_probe_only_while_enabled(qtbot, controller):
    seen = []
    controller.probed.connect(lambda name, data: seen.append(data))
    controller.add_probe(Probe("weights", weight_matrices, 1.0))
    controller.load(make_trainer(), 10)
    with qtbot.assertNotEmitted(controller.probed, wait=100):
        controller.step_epoch()
    with qtbot.waitSignal(controller.probed, timeout=WAIT_MS):
        controller.set_probe_enabled("weights", True)
    assert [None if w is None else w.shape for w in seen[-1]] == [(8, 2), (8, 8), (1, 8)]


def test_log_spin_box_steps_on_a_log_ladder(qtbot):
    spin = LogSpinBox(0.0, 10.0, 0.03, smallest_positive=1e-5)
    qtbot.addWidget(spin)
    values = []
    for _ in range(3):
        spin.stepBy(1)
        values.append(spin.value())
    assert values == pytest.approx([0.05, 0.1, 0.2])
    spin.setValue(2e-5)
    spin.stepBy(-2)
    assert spin.value() == 0.0
    spin.stepBy(1)
    assert spin.value() == pytest.approx(1e-5)
    assert spin.textFromValue(0.0003) == "0.0003" and np.isclose(spin.valueFromText("3e-4"), 3e-4)


def test_a_setting_changed_mid_epoch_applies_at_the_next_mini_batch(qtbot, controller):
    controller.load(make_trainer(), 10)
    with qtbot.waitSignal(controller.partialReport, timeout=WAIT_MS):
        controller.step_batch()
    with qtbot.waitSignal(controller.settingApplied, timeout=WAIT_MS) as blocker:
        controller.set_setting("beta1", 0.5)
    assert blocker.args == ["beta1", 0.5, pytest.approx(1 / 25)]
    with qtbot.waitSignal(controller.settingApplied, timeout=WAIT_MS) as blocker:
        controller.set_setting("learning_rate", 0.001)
    reports = collect(controller)
    with qtbot.waitSignal(controller.epochsReady, timeout=WAIT_MS):
        controller.step_epoch()
    assert reports[0].learning_rate == 0.001 and reports[0].epoch == 1
