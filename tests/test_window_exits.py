"""However the window's program ends, it ends cleanly: ``python main.py`` (and small scripts
that build the window) in a subprocess, ended by a bad experiment on the command line,
Ctrl-C, SIGTERM, ``QApplication.quit()`` or ``sys.exit`` in a slot. Each time: the status
it documents (app/gui.py), no traceback, no "QThread: Destroyed while thread is still
running" abort, and no trainer process left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.experiment import default_experiment

ROOT = Path(__file__).resolve().parent.parent
CHILD_TIMEOUT_S = 120
ABORT = "QThread: Destroyed while thread"
TRAINING_CPU_TICKS = 30  # CPU time (in clock ticks, 1/100 s) of a trainer process that is surely training
WAIT_S = 60  # the longest any wait here may take; each ends as soon as its condition holds

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")


def main_py(*argv: str) -> list[str]:
    return [sys.executable, str(ROOT / "main.py"), *argv]


def process_table() -> dict[int, tuple[int, str, int]]:
    """pid → (parent pid, state, user + system CPU ticks) of every process, from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        table[int(entry.name)] = (int(fields[1]), fields[0], int(fields[11]) + int(fields[12]))
    return table


def descendants(pid: int) -> dict[int, tuple[int, int]]:
    """pid → (generation: 1 for a child, 2 for a grandchild, …; CPU ticks) of every process below ``pid``."""
    table = process_table()
    found, frontier = {}, [(pid, 0)]
    while frontier:
        parent, generation = frontier.pop()
        for child, (ppid, _, ticks) in table.items():
            if ppid == parent and child not in found:
                found[child] = (generation + 1, ticks)
                frontier.append((child, generation + 1))
    return found


def trainer_is_training(window: subprocess.Popen) -> bool:
    """Whether the window's trainer process (a child of the fork server, so a grandchild) has
    been busy for TRAINING_CPU_TICKS."""
    return any(generation == 2 and ticks >= TRAINING_CPU_TICKS for generation, ticks in descendants(window.pid).values())


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie nobody reaped has ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    entry = process_table().get(pid)
    return entry is not None and entry[1] != "Z"


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, f"still waiting, after {WAIT_S} s, for {what}"
        time.sleep(0.05)


def start_training_window(env: dict[str, str], **popen) -> tuple[subprocess.Popen, list[int]]:
    """``python main.py`` training (an epochs target it never reaches) and the processes it started,
    once its trainer process has been busy for a while."""
    window = subprocess.Popen(main_py("--auto-train-epochs", "100000"), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, **popen)
    wait_for(lambda: window.poll() is not None or trainer_is_training(window), "the trainer process to train")
    assert window.poll() is None, window.communicate()
    return window, list(descendants(window.pid))


def assert_ended_cleanly(window: subprocess.Popen, started: list[int], status: int) -> None:
    out, err = window.communicate(timeout=CHILD_TIMEOUT_S)
    assert window.returncode == status, (window.returncode, err)
    assert "Traceback" not in err and ABORT not in err, err
    wait_for(lambda: not any(running(pid) for pid in started), f"the processes the window started ({started}) to end")


@pytest.mark.parametrize("experiment", [
    '{"dataset": {"name": "spiral"',
    json.dumps({**default_experiment().to_json(), "training": 5}),
    json.dumps({**default_experiment().to_json(), "dataset": {"name": "no_such_dataset"}}),
    json.dumps({**default_experiment().to_json(), "network": {"input_shape": [2], "layers": [
        {"type": "dense", "units": 10**9, "activation": "tanh"}, {"type": "dense", "units": 1, "activation": "sigmoid"}]}}),
], ids=["not JSON", "training is a number", "unknown dataset", "10⁹ units"])
def test_a_bad_experiment_on_the_command_line_opens_the_default_one(tmp_path, child_env, experiment):
    bad = tmp_path / "bad.json"
    bad.write_text(experiment)
    done = subprocess.run(main_py(str(bad), "--auto-train-epochs", "3", "--quit-after"), cwd=ROOT, env=child_env,
                          capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False)
    assert done.returncode == 0, done.stderr  # the default experiment reached its 3 epochs
    assert done.stdout.startswith("epoch 3: training loss ")
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith("error: Could not open the experiment. "), done.stderr
    assert str(bad) in errors[0] and "<b>" not in errors[0]
    assert "Traceback" not in done.stderr and ABORT not in done.stderr


@pytest.mark.parametrize(("number", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_closes_a_training_window_cleanly(child_env, number, status):
    window, started = start_training_window(child_env)
    window.send_signal(number)
    assert_ended_cleanly(window, started, status)


def test_ctrl_c_in_a_terminal_closes_a_training_window_cleanly(child_env):
    """Ctrl-C in a terminal signals every process of the foreground group: the window's trainer
    process too, which must leave the quitting to the window."""
    window, started = start_training_window(child_env, start_new_session=True)
    os.killpg(window.pid, signal.SIGINT)
    assert_ended_cleanly(window, started, 130)


ENDINGS = {
    "QApplication.quit()": "QApplication.quit()",
    "sys.exit in a slot": "sys.exit(3)",
}
SCRIPT = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.main_window import MainWindow

app = QApplication([])
window = MainWindow()
window.training_settings.epochs.setValue(100000)
window.show()
print(window.controller.process_id, flush=True)
window.controller.epochsReady.connect(lambda reports: QTimer.singleShot(0, lambda: {ending}) if reports[-1].epoch >= 20 else None)
window.run_controls.play_action.trigger()
print(app.exec(), window.controller.process_id, flush=True)
"""


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_the_trainer_stops_however_the_application_ends(child_env, ending):
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(ending=ENDINGS[ending])], cwd=ROOT, env=child_env,
                          capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, check=False)
    assert "Traceback" not in done.stderr and ABORT not in done.stderr, done.stderr
    lines = done.stdout.split()
    trainer = int(lines[0])
    if ending == "sys.exit in a slot":  # Python ends inside the event loop: the status is sys.exit's
        assert done.returncode == 3 and len(lines) == 1, (done.returncode, done.stdout)
    else:  # the event loop ends; the trainer had already stopped with it (aboutToQuit)
        assert done.returncode == 0 and lines[1:] == ["0", "None"], (done.returncode, done.stdout, done.stderr)
    wait_for(lambda: not running(trainer), f"the trainer process {trainer} to end")
