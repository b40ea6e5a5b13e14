"""Entry point shared by ``python main.py`` and the ``epochlab`` command.

Which of the two programs runs is decided from the arguments alone, before anything heavy
is imported:

* The first argument is a command (``train``, ``predict``, ``data``, ``export``, ``inspect``) or
  ``-h``/``--help``: the headless command line runs (core.cli), without importing Qt;
  ``register-files`` / ``unregister-files`` install or remove the file manager's launcher and
  the .epochlab file type (app.file_types).
* Otherwise the arguments are the window's: options (anything starting with ``-``: ours,
  ``--auto-train-epochs N`` and ``--quit-after``, and Qt's, such as ``-platform offscreen``
  or ``-style=fusion``; the value after an option that takes one, listed in
  ``OPTIONS_WITH_VALUE``, is skipped) and at most one experiment to open. An experiment is
  any argument that ends in ``.epochlab`` or ``.json`` (a missing one opens the window with the message) or
  names an existing file. Any other word (``fly``, ``trian``, a folder) is taken for a
  mistyped command: one line on stderr lists the commands, the exit status is 2 and no
  window opens.
* The window opens, unless a system library that Qt's platform plugin needs is missing:
  then one line on stderr names the packages to install and the exit status is 2 (see
  app.platform_check).

Ctrl-C at any point before the window or the command has taken over (while Python imports
NumPy or Qt, say) prints ``interrupted`` and exits with status 130, without a traceback.
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Sequence

CLI_COMMANDS = ("train", "predict", "data", "export", "inspect")
FILE_TYPE_COMMANDS = ("register-files", "unregister-files")  # app.file_types: open .epochlab files from the file manager
EXPERIMENT_SUFFIXES = (".epochlab", ".json")  # what the window opens
HELP_OPTIONS = ("-h", "--help")
INTERRUPTED = 130
# Options of the window that take the next argument as their value: ours, then Qt's
# (QGuiApplication and QApplication; Qt also accepts them with two dashes).
OPTIONS_WITH_VALUE = frozenset({
    "--auto-train-epochs",
    "-platform", "-platformpluginpath", "-platformtheme", "-plugin", "-qwindowgeometry", "-qwindowicon", "-qwindowtitle",
    "-style", "-stylesheet", "-session", "-display", "-geometry", "-title", "-name", "-icon", "-visual",
})


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line or the window for ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return INTERRUPTED


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] in FILE_TYPE_COMMANDS:
        from app.file_types import run_command

        return run_command(argv)
    if argv and (argv[0] in CLI_COMMANDS or argv[0] in HELP_OPTIONS):
        from app.image_reader import read_image  # imports Qt only when an image is read
        from core.cli import main as cli_main

        return cli_main(argv, read_image=read_image)
    mistyped = mistyped_command(argv)
    if mistyped:
        print(mistyped, file=sys.stderr)
        return 2
    from app.platform_check import platform_problem

    problem = platform_problem(argv)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from app.gui import run_gui

    return run_gui(argv)


def window_words(argv: Sequence[str]) -> list[str]:
    """The arguments of the window's ``argv`` that are neither options nor option values."""
    words, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = "=" not in arg and (arg in OPTIONS_WITH_VALUE or arg[1:] in OPTIONS_WITH_VALUE)
        else:
            words.append(arg)
    return words


def mistyped_command(argv: Sequence[str]) -> str | None:
    """The error line for the first word of the window's ``argv`` that is no experiment
    (see the module docstring), or None when the window may open."""
    for word in window_words(argv):
        if word.lower().endswith(EXPERIMENT_SUFFIXES) or os.path.isfile(word):
            continue
        commands = CLI_COMMANDS + FILE_TYPE_COMMANDS
        close = difflib.get_close_matches(word, commands, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return (f"error: '{word}' is not a command; {hint}the commands are {', '.join(commands)} "
                f"(or give a session .epochlab or an experiment .json file to open in the window)")
    return None
