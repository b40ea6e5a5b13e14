"""Register Epoch Lab's file types with the desktop, so a shared experiment opens by double click.

On a freedesktop system (Linux, the BSDs) :func:`register_file_types` installs, for this user only,
under ``$XDG_DATA_HOME`` (default ``~/.local/share``):

* ``applications/epochlab.desktop``: the launcher, running ``<python> <project>/main.py FILE`` (as
  ``python main.py FILE`` opens the window on FILE), offered for sessions and for JSON;
* ``mime/packages/epochlab.xml``: the type ``application/x-epochlab-session`` for ``*.epochlab``;
* the icon, as ``epochlab`` (the launcher's) and ``application-x-epochlab-session`` (the files').

A lesson or experiment ``.json`` gets no type of its own: it cannot be told from other JSON by its
name, so it stays ``application/json`` and Epoch Lab is listed under "Open with" for it.
``update-mime-database`` and ``update-desktop-database`` then refresh the desktop's caches when they
are installed; without them the change shows after the next log-in. Every file is written atomically,
and :func:`unregister_file_types` removes them again. macOS and Windows get one line saying what to do
instead: nothing is written to their registries.

The templates and the icon live in ``resources/desktop/``; ``python main.py register-files`` and
``unregister-files`` run :func:`run_command`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from string import Template

from core.files import FileFormatError, atomic_write

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESOURCES = PROJECT_ROOT / "resources" / "desktop"
DESKTOP_TEMPLATE = RESOURCES / "epochlab.desktop.in"
MIME_PACKAGE = RESOURCES / "epochlab.xml"
ICON = RESOURCES / "epochlab.svg"
SESSION_TYPE = "application/x-epochlab-session"
FREEDESKTOP_PLATFORMS = ("linux", "freebsd", "openbsd", "netbsd", "dragonfly")  # prefixes of sys.platform
# Where each file goes under the data folder, and what it is made from (None: the desktop entry, filled in).
INSTALLED = {
    Path("applications/epochlab.desktop"): None,
    Path("mime/packages/epochlab.xml"): MIME_PACKAGE,
    Path("icons/hicolor/scalable/apps/epochlab.svg"): ICON,
    Path("icons/hicolor/scalable/mimetypes/application-x-epochlab-session.svg"): ICON,
}
# The programs that rebuild a desktop cache, the folder under the data folder each reads, and its Debian package.
UPDATE_TOOLS = (("update-mime-database", "mime", "shared-mime-info"),
                ("update-desktop-database", "applications", "desktop-file-utils"))
UPDATE_TIMEOUT_S = 120
COMMAND_HELP = {"register-files": "open .epochlab sessions, and lesson / experiment .json files, from the file manager",
                "unregister-files": "remove what register-files installed"}
EXEC_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")  # characters that make an Exec argument need quotes
EXEC_ESCAPED_IN_QUOTES = re.compile(r'(["`$\\])')


@dataclass(frozen=True)
class Outcome:
    """What a registration did: the files written or removed, and one line for each step, to print."""

    paths: list[Path]
    lines: list[str]


def register_file_types(data_home: Path | None = None, python: str = sys.executable, project: Path = PROJECT_ROOT,
                        platform: str | None = None) -> list[Path]:
    """Install the launcher, the session type and the icon under ``data_home`` (default: the user's
    ``$XDG_DATA_HOME``) and refresh the caches; return the files written ([] off freedesktop).
    Running it again rewrites the same files. Raises FileFormatError when a file cannot be written."""
    return _register(data_home, python, project, platform).paths


def unregister_file_types(data_home: Path | None = None, platform: str | None = None) -> list[Path]:
    """Remove what :func:`register_file_types` installed under ``data_home`` and refresh the caches;
    return the files removed (none when nothing was registered)."""
    return _unregister(data_home, platform).paths


def describe_registration(register: bool = True, data_home: Path | None = None, python: str = sys.executable,
                          project: Path = PROJECT_ROOT, platform: str | None = None) -> list[str]:
    """Register (or with ``register=False`` unregister) the file types, and return one line per step
    for the command line to print: the files written or removed and the caches refreshed or skipped,
    or off freedesktop the single line that says what to do instead."""
    outcome = _register(data_home, python, project, platform) if register else _unregister(data_home, platform)
    return outcome.lines


def run_command(argv: list[str]) -> int:
    """``python main.py register-files`` / ``unregister-files`` (``argv[0]``, no other argument): print
    what was done, one line per step; return 0, or 2 after one ``error:`` line on stderr."""
    command, rest = argv[0], argv[1:]
    if rest in (["-h"], ["--help"]):
        print(f"usage: main.py {command}  ({COMMAND_HELP[command]}; the folder is $XDG_DATA_HOME, default ~/.local/share)")
        return 0
    try:
        if rest:
            raise FileFormatError(f"{command} takes no arguments (got {' '.join(rest)})")
        lines = describe_registration(register=command == "register-files")
    except FileFormatError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


def default_data_home() -> Path:
    """The user's data folder: ``$XDG_DATA_HOME`` when set to an absolute path, else ``~/.local/share``
    (the XDG Base Directory Specification ignores a relative value)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def other_platform_message(platform: str, python: str, project: Path) -> str | None:
    """The one line for a system without freedesktop file types, or None on a freedesktop one."""
    command = f'"{python}" "{project / "main.py"}"'
    if platform.startswith(FREEDESKTOP_PLATFORMS):
        return None
    if platform == "darwin":
        return (f"macOS: Epoch Lab registers no file types there (a double click needs an app bundle, which it does not have); "
                f"open a session or experiment with {command} FILE")
    if platform in ("win32", "cygwin"):
        return ("Windows: nothing is written to the registry; to open .epochlab files by double click, run in an "
                f"administrator Command Prompt: assoc .epochlab=EpochLab.Session && ftype EpochLab.Session={command} \"%1\"")
    return f"{platform}: Epoch Lab knows no way to register file types here; open a session or experiment with {command} FILE"


def exec_argument(argument: str) -> str:
    """``argument`` as one argument of a desktop entry's Exec key (Desktop Entry Specification, "The Exec
    key"): in double quotes, with ``"`` `` ` `` ``$`` ``\\`` escaped, when it holds a reserved character;
    every ``%`` doubled. The key's string escapes (:func:`desktop_string`) are applied after this."""
    if any(ch in EXEC_RESERVED for ch in argument):
        argument = '"' + EXEC_ESCAPED_IN_QUOTES.sub(r"\\\1", argument) + '"'
    return argument.replace("%", "%%")


def desktop_string(value: str) -> str:
    """``value`` as a desktop entry's string value: each backslash doubled. A control character (a
    newline in a path) cannot be written there, so it is refused with one line."""
    if any(ord(ch) < 32 for ch in value):
        raise FileFormatError(f"{value!r}: a path with a control character cannot go into a desktop entry")
    return value.replace("\\", "\\\\")


def desktop_entry(python: str, project: Path) -> str:
    """The text of ``epochlab.desktop``: the template with TryExec (the Python) and Exec (``<python>
    <project>/main.py %f``) filled in."""
    main_py = str(project / "main.py")
    command = f"{exec_argument(python)} {exec_argument(main_py)} %f"
    return Template(DESKTOP_TEMPLATE.read_text(encoding="utf-8")).substitute(
        try_exec=desktop_string(python), exec=desktop_string(command))


def _register(data_home: Path | None, python: str, project: Path, platform: str | None) -> Outcome:
    python = os.path.abspath(python) if python else ""  # not resolved: a virtual environment's python is a link
    project = Path(os.path.abspath(project))
    message = other_platform_message(platform or sys.platform, python or "python", project)
    if message:
        return Outcome([], [message])
    if not python:
        raise FileFormatError("cannot tell which Python runs Epoch Lab (sys.executable is empty); give it with python=")
    if not (project / "main.py").is_file():
        raise FileFormatError(f"{project}: there is no main.py there, so it is not an Epoch Lab folder")
    home = data_home or default_data_home()
    entry = desktop_entry(python, project)
    written = []
    for relative, source in INSTALLED.items():
        content = entry.encode("utf-8") if source is None else source.read_bytes()
        target = home / relative
        _make_folder(target.parent)
        atomic_write(target, lambda f, data=content: f.write(data))
        written.append(target)
    lines = [f"wrote {path}" for path in written]
    lines += _refresh_caches(home)
    lines.append("then a .epochlab session opens in Epoch Lab by double click; for a lesson or experiment .json "
                 "choose Epoch Lab under Open with")
    return Outcome(written, lines)


def _unregister(data_home: Path | None, platform: str | None) -> Outcome:
    message = other_platform_message(platform or sys.platform, "python", PROJECT_ROOT)
    if message:
        return Outcome([], [message])
    home = data_home or default_data_home()
    removed = []
    for relative in INSTALLED:
        target = home / relative
        try:
            target.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise FileFormatError(f"{target}: cannot be removed ({exc.strerror})") from None
        removed.append(target)
    if not removed:
        return Outcome([], [f"nothing to remove: Epoch Lab's file types are not registered in {home}"])
    return Outcome(removed, [f"removed {path}" for path in removed] + _refresh_caches(home))


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FileFormatError(f"{folder}: cannot create the folder ({exc.strerror})") from None


def _refresh_caches(home: Path) -> list[str]:
    """Run each cache tool that is installed on its folder under ``home``; one line per tool saying
    what was done. A tool that is missing or fails is reported, never raised: the files are in place."""
    lines = []
    for tool, folder, package in UPDATE_TOOLS:
        program = shutil.which(tool)
        target = home / folder
        if program is None:
            lines.append(f"{tool} not found (Debian package {package}): skipped; the desktop sees the change after the next log-in")
            continue
        try:
            done = subprocess.run([program, str(target)], capture_output=True, text=True, timeout=UPDATE_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            lines.append(f"{tool} {target}: could not run ({exc})")
            continue
        if done.returncode:
            detail = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
            lines.append(f"{tool} {target} failed: {detail}")
        else:
            lines.append(f"ran {tool} {target}")
    return lines
