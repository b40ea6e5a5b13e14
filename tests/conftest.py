"""Test set-up: Qt runs offscreen; no test reads or writes the user's settings, in this
process or in a child it starts (use the ``child_env`` fixture for every subprocess);
property tests run the same examples every time (the "ci" hypothesis profile, or the one
HYPOTHESIS_PROFILE names, e.g. "default" for hypothesis' own random search); and no test
may leave a QThread or Python thread running. NumPy's BLAS runs one thread (as the window's
trainer process does): on a small machine several threads make the small matrix products of
the recurrent layers ten times slower, not faster."""

import os
import sys
import threading
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
for _blas_threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # before NumPy is imported
    os.environ.setdefault(_blas_threads, "1")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, max_examples=100, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

USER_FOLDERS = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")  # where Qt and others keep a user's settings


def user_folders(root: Path) -> dict[str, str]:
    """Fresh, empty XDG folders under ``root``, as environment variables."""
    folders = {}
    for name in USER_FOLDERS:
        folder = root / name.removeprefix("XDG_").removesuffix("_HOME").lower()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folders[name] = str(folder)
    return folders


@pytest.fixture(autouse=True, scope="session")
def isolated_user_folders(tmp_path_factory):
    """Point this process's XDG folders (inherited by any child) away from the user's."""
    with pytest.MonkeyPatch.context() as patch:
        for name, folder in user_folders(tmp_path_factory.mktemp("user")).items():
            patch.setenv(name, folder)
        yield


@pytest.fixture
def child_env(tmp_path) -> dict[str, str]:
    """The environment for a subprocess a test starts: its own empty settings folders, Qt offscreen."""
    return {**os.environ, **user_folders(tmp_path / "child-user"), "QT_QPA_PLATFORM": "offscreen"}


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


@pytest.fixture
def window(qtbot):
    """The default lab window, shown and ready to train (see gui_helpers.open_window)."""
    from gui_helpers import open_window

    win = open_window(qtbot)
    yield win
    win.close()


@pytest.fixture
def load_dialog(qtbot):
    """A Load data dialog; closing it at the end cancels and joins a preview or load still running."""
    from app.data_loader import LoadDataDialog

    widget = LoadDataDialog()
    qtbot.addWidget(widget)
    yield widget
    widget.reject()
