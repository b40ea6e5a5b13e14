"""app.platform_check: a missing system library of Qt's xcb plugin is named with its package
before Qt can abort; the check applies only where Qt will load xcb."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app import main as app_main
from app import platform_check
from app.platform_check import install_hint, missing_libraries, platform_problem, uses_xcb

ROOT = Path(__file__).resolve().parents[1]
LDD_OUTPUT = """\
/venv/PySide6/Qt/plugins/platforms/libqxcb.so:
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f1)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f2)
/venv/PySide6/Qt/lib/libQt6XcbQpa.so.6:
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibfancy-x.so.3 => not found
"""
X11 = {"DISPLAY": ":0"}


@pytest.fixture
def fake_ldd(monkeypatch):
    """platform_check sees ``LDD_OUTPUT`` from ldd, and a plugin to ask about."""
    monkeypatch.setattr(platform_check, "plugin_files", lambda: [Path("libqxcb.so")])
    monkeypatch.setattr(platform_check, "run_ldd", lambda files: LDD_OUTPUT)
    monkeypatch.setattr(platform_check.sys, "platform", "linux")


def test_missing_libraries_are_read_from_ldd_once_each_in_order():
    assert missing_libraries(LDD_OUTPUT) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libfancy-x.so.3"]
    assert missing_libraries("\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") == []


def test_the_hint_names_debian_packages_and_unknown_libraries():
    line = install_hint(["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxkbcommon-x11.so.0", "libfancy-x.so.3"])
    assert "\n" not in line and line.startswith("error: ")
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0;" in line
    assert line.endswith("install the system package that provides libfancy-x.so.3")


@pytest.mark.parametrize(("argv", "environ", "expected"), [
    ([], X11, True),
    ([], {**X11, "QT_QPA_PLATFORM": "xcb"}, True),
    ([], {**X11, "QT_QPA_PLATFORM": "xcb:nograb;wayland"}, True),
    ([], {**X11, "QT_QPA_PLATFORM": "offscreen"}, False),
    ([], {**X11, "QT_QPA_PLATFORM": "wayland;xcb"}, False),
    ([], {**X11, "QT_QPA_PLATFORM": "minimal"}, False),
    (["-platform", "offscreen"], X11, False),
    (["-platform", "xcb"], {**X11, "QT_QPA_PLATFORM": "offscreen"}, True),
    ([], {}, False),  # no display: Qt's own message says so
    ([], {**X11, "XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, False),
])
def test_the_check_applies_only_where_qt_loads_xcb(monkeypatch, argv, environ, expected):
    monkeypatch.setattr(platform_check.sys, "platform", "linux")
    assert uses_xcb(argv, environ) is expected


def test_platform_problem_from_fake_ldd_output(fake_ldd):
    line = platform_problem([], X11)
    assert "(libxcb-icccm.so.4, libxcb-keysyms.so.1, libfancy-x.so.3)" in line
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1;" in line
    assert platform_problem([], {**X11, "QT_QPA_PLATFORM": "offscreen"}) is None


def test_no_ldd_or_no_plugin_skips_the_check(monkeypatch):
    monkeypatch.setattr(platform_check.shutil, "which", lambda name: None)
    assert platform_check.run_ldd([Path("libqxcb.so")]) is None
    monkeypatch.setattr(platform_check, "run_ldd", lambda files: None)
    assert platform_problem([], X11) is None


def test_the_plugin_is_found_without_importing_qt(child_env):
    code = ("import sys; from app.platform_check import plugin_files; files = plugin_files(); "
            "assert files and files[0].name == 'libqxcb.so', files; "
            "assert not [m for m in sys.modules if m.startswith('PySide6.')], 'Qt imported'")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr


def test_main_prints_one_line_and_exits_2_before_qt_starts(fake_ldd, monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setitem(sys.modules, "app.gui", None)  # importing the window would fail the test
    assert app_main.main([]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in err
