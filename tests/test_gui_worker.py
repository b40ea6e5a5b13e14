"""The trainer behind its controller: the numerics in a child process reported through the
trainer thread, every epoch in order and bit for bit equal to an in-process run; target,
speed, pause mid-epoch, steps, probes and their epochs, errors, a dead process, stale runs,
shutdown."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from operator import methodcaller

import numpy as np
import pytest
from test_trainer_process import assert_same_reports, make_trainer, run_without_qt

from app.widgets import LogSpinBox
from app.worker import LOST_MESSAGE, Probe, ProbeResult, TrainerController, weight_matrices
from core import insight
from core.data import make_dataset
from core.network import Network
from core.trainer import Trainer, TrainingConfig

WAIT_MS = 10_000


def make_large_trainer() -> Trainer:
    """Epochs of about a second: 1,600 samples of 64 features, 64-512-512-10, mini-batches of 2."""
    rng = np.random.default_rng(0)
    data = make_dataset(rng.normal(size=(2000, 64)), rng.integers(0, 10, 2000), name="noise")
    spec = {"input_shape": [64], "layers": [{"type": "dense", "units": 512, "activation": "relu"},
                                            {"type": "dense", "units": 512, "activation": "relu"},
                                            {"type": "dense", "units": 10, "activation": "softmax"}]}
    return Trainer(Network(spec, seed=0), data, TrainingConfig(batch_size=2, epochs=100))


@pytest.fixture
def controller(qtbot):
    ctrl = TrainerController()
    yield ctrl
    ctrl.shutdown()


def collect(signal_) -> list:
    """Everything ``signal_`` (a controller signal carrying one list or one object) emits."""
    got = []
    signal_.connect(lambda value: got.extend(value) if isinstance(value, list) else got.append(value))
    return got


def test_play_to_target_reports_every_epoch_bit_for_bit(qtbot, controller):
    reports, results = collect(controller.epochsReady), collect(controller.probed)
    controller.add_probe(Probe("weights", weight_matrices, 1.0, enabled=True))
    controller.load(make_trainer(), 40)
    with qtbot.waitSignal(controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: reason == "target"):
        controller.play()
    assert not controller.playing
    reference = make_trainer()
    assert_same_reports(reports, [reference.run_epoch() for _ in range(40)])
    qtbot.waitUntil(lambda: bool(results) and results[-1].epoch == 40, timeout=WAIT_MS)  # forced when play stops
    assert all(np.array_equal(w, r) for w, r in zip(results[-1].data, weight_matrices(reference), strict=True))


def test_mini_batch_steps_equal_one_epoch(qtbot, controller):
    reports, partials, results = collect(controller.epochsReady), collect(controller.partialReport), collect(controller.probed)
    controller.add_probe(Probe("weights", weight_matrices, 1.0, enabled=True))
    controller.load(make_trainer(), 10)
    reference = make_trainer()
    for _ in range(reference.batches_per_epoch):
        controller.step_batch()
    qtbot.waitUntil(lambda: bool(reports), timeout=WAIT_MS)
    assert [r.batch for r in partials] == list(range(1, reference.batches_per_epoch))
    assert_same_reports(reports, [reference.run_epoch()])
    qtbot.waitUntil(lambda: bool(results) and results[-1].epoch == 1, timeout=WAIT_MS)
    assert all(np.array_equal(w, r) for w, r in zip(results[-1].data, weight_matrices(reference), strict=True))


def test_play_at_the_target_says_so(qtbot, controller):
    controller.load(make_trainer(), 0)
    with qtbot.waitSignal(controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: reason) as blocker:
        controller.play()
    assert blocker.args == [False, "target"]


def test_pause_in_slow_motion_is_immediate(qtbot, controller):
    reports = collect(controller.epochsReady)
    controller.load(make_trainer(), 1000)
    controller.set_speed(0.5)  # one epoch every two seconds
    with qtbot.waitSignal(controller.epochsReady, timeout=WAIT_MS):
        controller.play()
    with qtbot.waitSignal(controller.playingChanged, timeout=500):
        controller.pause()
    with qtbot.assertNotEmitted(controller.epochsReady, wait=200):
        pass
    assert len(reports) == 1


def test_pause_stops_a_long_epoch_between_mini_batches_and_the_epoch_stays_exact(qtbot, controller):
    partials, reports, results = collect(controller.partialReport), collect(controller.epochsReady), collect(controller.probed)
    controller.add_probe(Probe("weights", weight_matrices, 100.0))
    controller.load(make_large_trainer(), 100)
    with qtbot.waitSignal(controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: playing):
        controller.play()
    started = time.perf_counter()
    with qtbot.waitSignal(controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: not playing):
        controller.pause()
    assert time.perf_counter() - started < 0.5  # an epoch takes seconds
    assert not reports and len(partials) == 1
    assert partials[0].stopped and 0 < partials[0].batch < partials[0].batches
    with qtbot.waitSignal(controller.epochsReady, timeout=WAIT_MS):
        controller.step_epoch()  # the rest of the epoch
    controller.set_probe_enabled("weights", True)
    qtbot.waitUntil(lambda: bool(results), timeout=WAIT_MS)
    reference = make_large_trainer()
    assert_same_reports(reports, [reference.run_epoch()])
    assert all(np.array_equal(w, r) for w, r in zip(results[-1].data, weight_matrices(reference), strict=True))


def test_shutdown_while_training_is_quick_and_leaves_nothing_running(qtbot):
    controller = TrainerController()
    process, thread = controller._process, controller._thread
    controller.load(make_large_trainer(), 100)
    with qtbot.waitSignal(controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: playing):
        controller.play()
    started = time.perf_counter()
    controller.shutdown()
    assert time.perf_counter() - started < 1.0  # 0.5 s is the target, with room for a busy test machine
    assert not thread.isRunning() and multiprocessing.active_children() == []
    with pytest.raises(ValueError):  # closed: the process is gone
        process.is_alive()
    controller.shutdown()  # again: nothing happens


def test_a_new_trainer_drops_what_the_old_one_still_sends(qtbot, controller):
    reports = collect(controller.epochsReady)
    controller.load(make_trainer(), 10_000)
    controller.play()
    qtbot.waitUntil(lambda: len(reports) >= 3, timeout=WAIT_MS)
    controller.load(make_trainer(), 10_000)
    reports.clear()
    with qtbot.waitSignal(controller.epochsReady, timeout=WAIT_MS):
        controller.step_epoch()
    assert [r.epoch for r in reports] == [1]


def test_the_relay_drops_stale_generations_and_re_emits_the_rest(qtbot, controller):
    controller.load(None, 10)
    controller.load(None, 10)
    current = controller._generation
    with qtbot.assertNotEmitted(controller.settingApplied, wait=50):
        controller.worker.received.emit((current - 1, "settingApplied", ("beta1", 0.5, 1.0)))
    with qtbot.waitSignal(controller.settingApplied, timeout=WAIT_MS) as blocker:
        controller.worker.received.emit((current, "settingApplied", ("beta1", 0.5, 1.0)))
    assert blocker.args == ["beta1", 0.5, 1.0]
    with qtbot.waitSignal(controller.modelSaved, timeout=WAIT_MS):  # about no trainer: always relayed
        controller.worker.received.emit((None, "modelSaved", ("m.npz",)))


def test_a_probe_runs_only_while_enabled_and_says_when_it_was_computed(qtbot, controller):
    results = collect(controller.probed)
    controller.add_probe(Probe("weights", weight_matrices, 1.0))
    controller.load(make_trainer(), 10)
    with qtbot.assertNotEmitted(controller.probed, wait=100):
        controller.step_epoch()
    with qtbot.waitSignal(controller.probed, timeout=WAIT_MS):
        controller.set_probe_enabled("weights", True)
    assert controller.enabled_probes == {"weights"}
    assert isinstance(results[-1], ProbeResult) and (results[-1].name, results[-1].epoch, results[-1].batch) == ("weights", 1, 0)
    assert [None if w is None else w.shape for w in results[-1].data] == [(8, 2), (8, 8), (1, 8)]
    for _ in range(3):
        controller.step_batch()
    qtbot.waitUntil(lambda: (results[-1].epoch, results[-1].batch) == (1, 3), timeout=WAIT_MS)
    controller.set_probe_enabled("weights", False)
    with qtbot.assertNotEmitted(controller.probed, wait=100):
        controller.step_batch()


def test_configure_probe_reaches_the_probe_in_the_process(qtbot, controller):
    results = collect(controller.probed)
    controller.add_probe(Probe("activations", insight.ActivationProbe(), 1.0, enabled=True))
    controller.load(make_trainer(), 10)
    qtbot.waitUntil(lambda: bool(results), timeout=WAIT_MS)
    assert results[-1].data.index == 0
    with qtbot.waitSignal(controller.probed, timeout=WAIT_MS):
        controller.configure_probe("activations", index=7)
    assert results[-1].data.index == 7


def test_a_probe_that_cannot_run_in_the_process_is_refused(controller):
    with pytest.raises(TypeError, match="module-level"):
        controller.add_probe(Probe("local", lambda trainer: None, 1.0))


def test_an_error_in_an_epoch_in_the_process_stops_with_a_message(qtbot, controller):
    failures = collect(controller.failed)
    # a probe that breaks the trainer it is given (in the process): the next epoch raises
    controller.add_probe(Probe("sabotage", methodcaller("__setattr__", "x_train", None), 0.0, enabled=True))
    controller.load(make_trainer(), 100)
    with qtbot.waitSignal(controller.failed, timeout=WAIT_MS):
        controller.play()
    assert failures[-1].startswith("training stopped by an internal error: ")  # the exception's class depends on where it breaks
    assert not controller.playing
    controller.set_probe_enabled("sabotage", False)
    controller.load(make_trainer(), 3)  # the process goes on serving
    with qtbot.waitSignal(controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: reason == "target"):
        controller.play()


def test_a_dead_process_is_reported_and_reset_starts_another(qtbot, controller):
    results = collect(controller.probed)
    controller.add_probe(Probe("weights", weight_matrices, 1.0, enabled=True))
    controller.load(make_trainer(), 1000)
    with qtbot.waitSignal(controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: playing):
        controller.play()
    with qtbot.waitSignal(controller.failed, timeout=WAIT_MS, check_params_cb=lambda message: message == LOST_MESSAGE):
        os.kill(controller._process.pid, signal.SIGKILL)
    assert not controller.playing
    results.clear()
    old_worker = controller.worker
    controller.load(make_trainer(), 1000)  # a new process, told the probes again
    with qtbot.waitSignal(controller.epochsReady, timeout=WAIT_MS):
        controller.step_epoch()
    qtbot.waitUntil(lambda: bool(results) and results[-1].epoch == 1, timeout=WAIT_MS)
    with qtbot.assertNotEmitted(controller.failed, wait=50):  # late news from the dead process's worker
        old_worker.received.emit((None, "failed", (LOST_MESSAGE,)))


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
    reports = collect(controller.epochsReady)
    with qtbot.waitSignal(controller.epochsReady, timeout=WAIT_MS):
        controller.step_epoch()
    assert reports[0].learning_rate == 0.001 and reports[0].epoch == 1


def test_the_window_probes_run_in_a_process_without_qt(qtbot, child_env):
    from app.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    probes = list(window.controller._probes.values())
    window.close()
    assert len(probes) >= 7
    assert run_without_qt(probes, child_env) == []
