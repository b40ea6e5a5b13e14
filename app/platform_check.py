"""Before Qt starts: can its X11 (xcb) platform plugin load?

Qt aborts when a system library its xcb plugin links to is missing, and its message names
only ``libxcb-cursor0``. :func:`platform_problem` runs first: when Qt is going to use xcb
(no ``-platform`` option or ``QT_QPA_PLATFORM``, or ``xcb``, a ``DISPLAY`` set, Linux), it
asks ``ldd`` which libraries of PySide6's ``libqxcb.so`` and ``libQt6XcbQpa.so`` are
"not found" and returns one line naming the Debian/Ubuntu packages to install. It skips
the check (returns None) where ``ldd`` or the plugin is absent. Imports no Qt module.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

XCB = "xcb"
PLUGIN_FILES = ("plugins/platforms/libqxcb.so", "lib/libQt6XcbQpa.so.6")  # under PySide6/Qt
LDD_TIMEOUT_S = 10
NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)
DEBIAN_PACKAGES = {  # soname → the Debian/Ubuntu package that ships it
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libglx0",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}


def platform_name(argv: Sequence[str], environ: Mapping[str, str]) -> str | None:
    """The platform plugin Qt tries first: ``-platform NAME`` in ``argv``, else the first of
    ``QT_QPA_PLATFORM`` (``"xcb"`` of ``"xcb:option;wayland"``), else None (Qt's default)."""
    for option, value in zip(argv, argv[1:], strict=False):
        if option in ("-platform", "--platform"):
            return value.split(":")[0]
    first = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    return first or None


def uses_xcb(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Whether Qt is going to load its xcb plugin: Linux, a DISPLAY, and xcb asked for or
    Qt's default outside a Wayland session."""
    if not sys.platform.startswith("linux") or not environ.get("DISPLAY"):
        return False
    name = platform_name(argv, environ)
    if name is None:
        return environ.get("XDG_SESSION_TYPE") != "wayland" or not environ.get("WAYLAND_DISPLAY")
    return name == XCB


def plugin_files() -> list[Path]:
    """PySide6's xcb plugin and its Qt library, where they exist (found without importing Qt)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or spec.origin is None:
        return []
    qt = Path(spec.origin).parent / "Qt"
    return [qt / name for name in PLUGIN_FILES if (qt / name).exists()]


def run_ldd(files: Sequence[Path]) -> str | None:
    """``ldd``'s report on ``files``, or None when ldd is absent or fails to run."""
    ldd = shutil.which("ldd")
    if ldd is None or not files:
        return None
    try:
        done = subprocess.run([ldd, *map(str, files)], capture_output=True, text=True, timeout=LDD_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout


def missing_libraries(ldd_output: str) -> list[str]:
    """The sonames ldd reports as "not found", each once, in order."""
    return list(dict.fromkeys(NOT_FOUND.findall(ldd_output)))


def install_hint(libraries: Sequence[str]) -> str:
    """One line: which libraries are missing and the packages that provide them."""
    packages = [DEBIAN_PACKAGES[name] for name in libraries if name in DEBIAN_PACKAGES]
    unknown = [name for name in libraries if name not in DEBIAN_PACKAGES]
    steps = []
    if packages:
        steps.append(f"on Debian/Ubuntu: sudo apt-get install {' '.join(packages)}")
    if unknown:
        steps.append(f"install the system package{'s' if len(unknown) > 1 else ''} that provide{'' if len(unknown) > 1 else 's'} "
                     f"{', '.join(unknown)}")
    return (f"error: the window cannot open: Qt's X11 (xcb) platform plugin needs system libraries that are missing "
            f"({', '.join(libraries)}); {'; '.join(steps)}")


def platform_problem(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> str | None:
    """The line to print instead of letting Qt abort, or None when nothing is missing (or
    the check does not apply, or cannot run). ``environ``: default ``os.environ``."""
    if not uses_xcb(argv, os.environ if environ is None else environ):
        return None
    report = run_ldd(plugin_files())
    missing = missing_libraries(report) if report else []
    return install_hint(missing) if missing else None
