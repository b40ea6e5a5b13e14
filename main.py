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
        for number in (signal.SIGINT, signal.SIGTERM):  # what is left is printing one line and exiting
            signal.signal(number, signal.SIG_IGN)
        print("interrupted", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(run())
