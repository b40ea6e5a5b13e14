"""Entry point shared by ``python main.py`` and the ``epochlab`` command.

A first argument naming a command (``train``, ``predict``, ``data``) runs the headless command
line without importing Qt; anything else opens the window, unless a system library that Qt's
platform plugin needs is missing: then one line on stderr names the packages to install and
the exit status is 2 (see app.platform_check).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

CLI_COMMANDS = ("train", "predict", "data")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and (argv[0] in CLI_COMMANDS or argv[0] in ("-h", "--help")):
        from app.image_reader import read_image  # imports Qt only when an image is read
        from core.cli import main as cli_main

        return cli_main(argv, read_image=read_image)
    from app.platform_check import platform_problem

    problem = platform_problem(argv)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    from app.gui import run_gui

    return run_gui(argv)
