"""Test set-up: Qt runs offscreen, and no test may leave a QThread or Python thread running."""

import os
import sys
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def no_leftover_threads():
    """Fail a test that leaves a Python thread running after it ends."""
    before = set(threading.enumerate())
    yield
    leftover = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
    assert not leftover, f"threads left running: {leftover}"


@pytest.fixture(autouse=True)
def no_leftover_qthreads(monkeypatch):
    """Fail a test that leaves a QThread running after it ends (when Qt is loaded at all)."""
    if "PySide6.QtCore" not in sys.modules:
        yield
        return
    from PySide6.QtCore import QThread

    started = []
    original_start = QThread.start

    def recording_start(thread, *args):
        started.append(thread)
        original_start(thread, *args)

    monkeypatch.setattr(QThread, "start", recording_start)
    yield
    running = []
    for thread in started:
        try:
            if thread.isRunning():
                running.append(thread.objectName() or repr(thread))
        except RuntimeError:  # the C++ thread object is gone, so it is not running
            pass
    assert not running, f"QThreads left running: {running}"


@pytest.fixture(autouse=True)
def isolated_qt_settings(tmp_path_factory):
    """Keep every test away from the user's stored settings (window layout): QSettings files
    go to a fresh folder per test, and QStandardPaths is in test mode."""
    try:
        from PySide6.QtCore import QSettings, QStandardPaths
    except ImportError:  # Qt not installed: nothing to isolate
        yield
        return
    QStandardPaths.setTestModeEnabled(True)
    folder = str(tmp_path_factory.mktemp("qsettings"))
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, folder)
        QSettings.setPath(QSettings.Format.NativeFormat, scope, folder)
    yield
