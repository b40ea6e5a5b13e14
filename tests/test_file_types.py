"""Registering Epoch Lab's file types (app.file_types): always in a temporary data folder, never the user's."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from app import file_types
from app.file_types import (
    INSTALLED,
    PROJECT_ROOT,
    SESSION_TYPE,
    describe_registration,
    exec_argument,
    register_file_types,
    unregister_file_types,
)
from core.files import FileFormatError

MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"
PYTHON = "/opt/lab env/bin/python"


@pytest.fixture
def no_tools(monkeypatch):
    """No cache tool is installed, and none may be run."""
    monkeypatch.setattr(file_types.shutil, "which", lambda name: None)
    monkeypatch.setattr(file_types.subprocess, "run", lambda *a, **k: pytest.fail("a missing tool was run"))


def desktop_keys(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def exec_arguments(value: str) -> list[str]:
    """Split a desktop entry's Exec value as the Desktop Entry Specification says a launcher does:
    string escapes, then quoting (where $ and ` must be escaped), then %%."""
    value = value.replace("\\\\", "\\")
    arguments, current, quoted, i = [], "", False, 0
    while i < len(value):
        ch = value[i]
        if quoted and ch == "\\":
            current, i = current + value[i + 1], i + 2
            continue
        assert not (quoted and ch in "$`"), f"unescaped {ch} in quotes: {value}"  # the specification says to escape them
        if ch == '"':
            quoted = not quoted
        elif ch == " " and not quoted:
            arguments.append(current)
            current = ""
        else:
            current += ch
        i += 1
    return [a.replace("%%", "%") for a in arguments + [current]]


def files_under(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_register_writes_the_launcher_the_type_and_the_icons(tmp_path, no_tools):
    written = register_file_types(tmp_path, python=PYTHON, platform="linux")
    assert written == [tmp_path / relative for relative in INSTALLED]
    keys = desktop_keys(tmp_path / "applications/epochlab.desktop")
    assert keys["Type"] == "Application" and keys["Name"] == "Epoch Lab" and keys["Icon"] == "epochlab"
    assert keys["Categories"] == "Education;Science;"
    assert keys["MimeType"].split(";") == [SESSION_TYPE, "application/json", ""]
    assert keys["TryExec"] == PYTHON
    assert exec_arguments(keys["Exec"]) == [PYTHON, str(PROJECT_ROOT / "main.py"), "%f"]

    mime_type = ET.parse(tmp_path / "mime/packages/epochlab.xml").getroot().find(f"{MIME_NS}mime-type")
    assert mime_type.get("type") == SESSION_TYPE
    assert [g.get("pattern") for g in mime_type.iter(f"{MIME_NS}glob")] == ["*.epochlab"]
    assert mime_type.find(f"{MIME_NS}sub-class-of").get("type") == "application/zip"
    icon = (PROJECT_ROOT / "resources/desktop/epochlab.svg").read_bytes()
    assert (tmp_path / "icons/hicolor/scalable/mimetypes/application-x-epochlab-session.svg").read_bytes() == icon
    assert ET.fromstring(icon).tag == "{http://www.w3.org/2000/svg}svg"


@pytest.mark.parametrize("path", ["/a b/python", '/we"ird/$HOME/`x`/back\\slash/100%/python', "/plain/python"])
def test_exec_quotes_any_path_so_the_launcher_gets_it_back(tmp_path, no_tools, path):
    register_file_types(tmp_path, python=path, project=PROJECT_ROOT, platform="linux")
    keys = desktop_keys(tmp_path / "applications/epochlab.desktop")
    assert exec_arguments(keys["Exec"]) == [path, str(PROJECT_ROOT / "main.py"), "%f"]
    assert keys["Exec"].replace("%%", "").count("%") == 1  # a literal % is doubled; only %f is a field code
    assert keys["TryExec"].replace("\\\\", "\\") == path


def test_a_plain_path_is_left_unquoted():
    assert exec_argument("/usr/bin/python3") == "/usr/bin/python3"
    assert exec_argument("/a b") == '"/a b"'


def test_registering_twice_gives_the_same_files(tmp_path, no_tools):
    register_file_types(tmp_path, python=PYTHON, platform="linux")
    first = files_under(tmp_path)
    register_file_types(tmp_path, python=PYTHON, platform="linux")
    assert files_under(tmp_path) == first


def test_unregister_removes_only_what_register_wrote(tmp_path, no_tools):
    other = tmp_path / "applications/other.desktop"
    other.parent.mkdir(parents=True)
    other.write_text("[Desktop Entry]\n")
    written = register_file_types(tmp_path, python=PYTHON, platform="linux")
    assert unregister_file_types(tmp_path, platform="linux") == written
    assert not any(path.exists() for path in written)
    assert other.exists()
    assert unregister_file_types(tmp_path, platform="linux") == []
    assert describe_registration(False, tmp_path, platform="linux") == [
        f"nothing to remove: Epoch Lab's file types are not registered in {tmp_path}"]


def test_missing_update_tools_are_reported_and_skipped(tmp_path, no_tools):
    lines = describe_registration(True, tmp_path, python=PYTHON, platform="linux")
    assert [line for line in lines if line.startswith("wrote ")] == [f"wrote {tmp_path / r}" for r in INSTALLED]
    assert any(line.startswith("update-mime-database not found") for line in lines)
    assert any(line.startswith("update-desktop-database not found") for line in lines)


def test_installed_tools_are_run_on_their_folders_and_a_failure_is_one_line(tmp_path, monkeypatch):
    calls = []

    def fake_run(command, **kwargs):
        calls.append(command)
        failed = command[0].endswith("update-desktop-database")
        return subprocess.CompletedProcess(command, int(failed), "", "warning\nbroken cache\n" if failed else "")

    monkeypatch.setattr(file_types.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(file_types.subprocess, "run", fake_run)
    lines = describe_registration(True, tmp_path, python=PYTHON, platform="linux")
    assert calls == [["/usr/bin/update-mime-database", str(tmp_path / "mime")],
                     ["/usr/bin/update-desktop-database", str(tmp_path / "applications")]]
    assert f"ran update-mime-database {tmp_path / 'mime'}" in lines
    assert f"update-desktop-database {tmp_path / 'applications'} failed: broken cache" in lines


@pytest.mark.skipif(shutil.which("update-mime-database") is None, reason="shared-mime-info is not installed")
def test_the_real_mime_database_learns_the_session_type(tmp_path):
    register_file_types(tmp_path, python=PYTHON, platform="linux")
    assert f"{SESSION_TYPE}:*.epochlab" in (tmp_path / "mime/globs2").read_text()
    unregister_file_types(tmp_path, platform="linux")
    assert "epochlab" not in (tmp_path / "mime/globs2").read_text()


@pytest.mark.parametrize(("platform", "start"), [("darwin", "macOS: "), ("win32", "Windows: "), ("sunos5", "sunos5: ")])
def test_other_systems_get_one_line_and_nothing_is_written(tmp_path, no_tools, platform, start):
    for register in (True, False):
        lines = describe_registration(register, tmp_path, python=PYTHON, platform=platform)
        assert len(lines) == 1 and lines[0].startswith(start) and "main.py" in lines[0]
    assert register_file_types(tmp_path, python=PYTHON, platform=platform) == []
    assert unregister_file_types(tmp_path, platform=platform) == []
    assert list(tmp_path.iterdir()) == []


def test_the_default_data_folder_is_xdg_data_home_or_local_share(tmp_path, monkeypatch, no_tools):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert register_file_types(python=PYTHON, platform="linux")[0] == tmp_path / "data/applications/epochlab.desktop"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")  # ignored, as the XDG specification says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert file_types.default_data_home() == tmp_path / "home/.local/share"


def test_problems_are_one_line_file_format_errors(tmp_path, no_tools):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(FileFormatError, match=r"^.*blocker/applications: cannot create the folder"):
        register_file_types(blocker, python=PYTHON, platform="linux")
    with pytest.raises(FileFormatError, match="no main.py there"):
        register_file_types(tmp_path, python=PYTHON, project=tmp_path, platform="linux")
    with pytest.raises(FileFormatError, match="control character"):
        register_file_types(tmp_path, python="/bin/py\nthon", platform="linux")


def test_the_commands_print_each_step_and_refuse_arguments(tmp_path, monkeypatch, no_tools, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert file_types.run_command(["register-files"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"wrote {tmp_path / 'applications/epochlab.desktop'}" and len(out) == len(INSTALLED) + 3
    assert file_types.run_command(["unregister-files", "--now"]) == 2
    assert capsys.readouterr().err == "error: unregister-files takes no arguments (got --now)\n"
    assert (tmp_path / "applications/epochlab.desktop").exists()
    assert file_types.run_command(["unregister-files"]) == 0
    assert not (tmp_path / "applications/epochlab.desktop").exists()
    assert capsys.readouterr().out.startswith("removed ")
    assert file_types.run_command(["register-files", "-h"]) == 0
    assert capsys.readouterr().out.startswith("usage: main.py register-files")


def test_qt_tells_a_session_file_by_its_registered_type(tmp_path, child_env):
    """What a file manager built on Qt sees (GTK's reads the same shared-mime-info files)."""
    data = tmp_path / "data"
    probe = ["-c", "from PySide6.QtCore import QMimeDatabase as D; "
             "print(D().mimeTypeForFile('shared.epochlab', D.MatchMode.MatchExtension).name())"]

    def seen() -> str:
        done = subprocess.run([sys.executable, *probe], env={**child_env, "XDG_DATA_HOME": str(data)},
                              capture_output=True, text=True, timeout=60, check=True)
        return done.stdout.strip()

    assert seen() != SESSION_TYPE
    register_file_types(data, python=PYTHON, platform="linux")
    assert seen() == SESSION_TYPE


def test_main_py_registers_and_unregisters_the_file_types(child_env):
    """The commands as a user types them, in a child whose data folder is its own."""
    data = Path(child_env["XDG_DATA_HOME"])
    main = Path(__file__).resolve().parent.parent / "main.py"

    def run(command: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(main), command], env=child_env, capture_output=True, text=True,
                              timeout=120, check=False)

    done = run("register-files")
    assert done.returncode == 0, done.stderr
    assert (data / "applications" / "epochlab.desktop").is_file() and (data / "mime" / "packages" / "epochlab.xml").is_file()
    assert run("unregister-files").returncode == 0 and not (data / "applications" / "epochlab.desktop").exists()
    done = run("register-file")
    assert done.returncode == 2 and "did you mean 'register-files'?" in done.stderr
