"""Epoch Lab: ``python main.py`` opens the window; ``python main.py train|predict ...``
runs the headless command line (see README.md and app/main.py for which runs when)."""

import signal
import sys

INTERRUPTED = 130


def _terminate(signum, frame):
    """SIGTERM during start-up ends the program as Ctrl-C does (the CLI and the window install their own handlers)."""
    raise KeyboardInterrupt


def run() -> int:
    """Dispatch to app.main; an interrupt that reaches this far (during imports, or a burst of
    Ctrl-C while an earlier one is being handled) ends with status 130 and one line, never a traceback."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        from app.main import main

        return main()
    except KeyboardInterrupt:
        _ignore_interrupts()  # what is left is printing one line and exiting
        print("interrupted", file=sys.stderr)
        return INTERRUPTED


def _ignore_interrupts() -> None:
    """From now on the program only exits: a late Ctrl-C (the second of two) would otherwise
    end it by the signal during shutdown, with a traceback and status -2 instead of its own."""
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_IGN)


if __name__ == "__main__":
    status = run()
    _ignore_interrupts()
    sys.exit(status)
