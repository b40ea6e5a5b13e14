"""Autosave and recovery: unsaved work is written off the GUI thread to the autosave folder,
a save or a clean exit removes it, and after a kill the next start recovers the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from gui_helpers import WAIT_MS, step_epochs

import app.autosave
from app.main_window import RECOVER_VARIABLE, MainWindow
from core.epochlab import load_session
from core.files import FileFormatError

ROOT = Path(__file__).resolve().parents[1]
CHILD_WAIT_SECONDS = 60


@pytest.fixture
def soon(monkeypatch):
    """Autosaves a fifth of a second after the first change, and as often after."""
    monkeypatch.setattr(app.autosave, "FIRST_SECONDS", 0.2)
    monkeypatch.setattr(app.autosave, "EVERY_SECONDS", 0.2)


def _window(qtbot, folder: Path) -> MainWindow:
    win = MainWindow(autosave_folder=folder)
    qtbot.addWidget(win)
    win.confirm_discard = lambda change: True
    return win


def _epochs_in(path: Path) -> int:
    try:
        return len(load_session(path).session.current.record)
    except FileFormatError:  # not there yet
        return 0


def test_unsaved_work_is_autosaved_and_a_save_removes_it(qtbot, tmp_path, soon):
    folder = tmp_path / "autosave"
    win = _window(qtbot, folder)
    step_epochs(qtbot, win, 3)
    qtbot.waitUntil(lambda: _epochs_in(win.autosave.path) == 3, timeout=WAIT_MS)
    assert win.autosave.path.parent == folder and app.autosave.orphans(folder) == []  # its own, not an orphan
    assert win.save_session(tmp_path / "kept.epochlab")
    assert not win.autosave.path.exists()
    step_epochs(qtbot, win, 1)
    qtbot.waitUntil(win.autosave.path.exists, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not win.autosave.pending, timeout=WAIT_MS)
    win.setWindowModified(False)  # as after Discard: a clean exit
    win.close()
    assert not win.autosave.path.exists()


def test_a_close_without_the_question_leaves_the_autosave_for_recovery(qtbot, tmp_path, soon):
    win = _window(qtbot, tmp_path)
    step_epochs(qtbot, win, 2)
    qtbot.waitUntil(lambda: _epochs_in(win.autosave.path) == 2, timeout=WAIT_MS)
    win.close()  # as on SIGTERM: unsaved work, nobody asked
    assert win.autosave.path.exists()


def _autosave_of(data_home: Path) -> Path | None:
    found = sorted(data_home.rglob("autosave-*.epochlab"))
    return found[0] if found else None


def test_after_a_kill_the_next_start_recovers_the_run(qtbot, tmp_path, child_env, monkeypatch):
    """The app trains in a child process, autosaves, and is killed (SIGKILL) mid-training; the
    next start (same user folders) finds the autosave and recovers the run it holds."""
    data_home = Path(child_env["XDG_DATA_HOME"])
    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as err:
        process = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--auto-train-epochs", "100000"], cwd=ROOT,
                                   env=child_env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        qtbot.waitUntil(lambda: (path := _autosave_of(data_home)) is not None and _epochs_in(path) > 0,
                        timeout=CHILD_WAIT_SECONDS * 1000)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=CHILD_WAIT_SECONDS)
    assert process.returncode == -signal.SIGKILL and "Traceback" not in errors.read_text()
    path = _autosave_of(data_home)
    saved = load_session(path)
    assert path.parent.name == "autosave" and "Epoch Lab" in path.parts
    assert app.autosave.orphans(path.parent) == [path]
    monkeypatch.setenv(RECOVER_VARIABLE, "recover")
    win = _window(qtbot, path.parent)
    win._offer_recovery()
    expected = [r for r in saved.session.current.record.records()]
    assert len(expected) > 0 and win.history.count == len(expected)
    assert [r["train_loss"] for r in win.history.records()] == [r["train_loss"] for r in expected]
    assert win.isWindowModified() and not path.exists()
    state = win.trainer_state()
    assert (state.epoch, state.cursor) == (saved.state.epoch, saved.state.cursor)
    step_epochs(qtbot, win, 1)
    assert win.history.count == len(expected) + 1
    win.close()


def test_discard_removes_the_autosave_and_later_keeps_it(qtbot, tmp_path, monkeypatch):
    folder = tmp_path / "autosave"
    folder.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    orphan = folder / f"autosave-{int(dead.stdout)}.epochlab"
    orphan.write_bytes(b"PK")  # never opened: only the answer matters here
    win = _window(qtbot, folder)
    monkeypatch.setenv(RECOVER_VARIABLE, "later")
    win._offer_recovery()
    assert orphan.exists() and win.history.count == 0
    monkeypatch.setenv(RECOVER_VARIABLE, "discard")
    win._offer_recovery()
    assert not orphan.exists()
    assert os.listdir(folder) == []
    win.close()
