"""Start the Qt application and show the main window.

Options (after ``python main.py``)::

    SESSION.epochlab or EXPERIMENT.json
                               open this session or experiment instead of the default one; one that
                               cannot be opened leaves the default, with the reason in the
                               window's banner and as ``error: …`` on stderr (as every file
                               the window cannot open, use or save later)
    --auto-train-epochs N      set the epochs target to N and press Play once the window shows
    --quit-after               quit when training stops by itself (target reached, diverged or
                               failed), printing the last epoch on stdout; exit status 0 when
                               the target was reached, 1 otherwise (for scripts and smoke tests)

Qt's own options (``-platform offscreen``, ``-style``, …) are accepted too.

Ctrl-C (SIGINT) and SIGTERM close the window as its Quit command does (training stops, the
trainer process ends, the layout is kept) and the exit status is 128 + the signal's
number: 130 for SIGINT, 143 for SIGTERM, as a shell reports a program a signal ended.
"""

from __future__ import annotations

import argparse
import gc
import signal
import socket
import sys
from collections.abc import Callable, Sequence

QUIT_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python main.py", description="Epoch Lab: the lab window.")
    parser.add_argument("experiment", nargs="?", help="session (.epochlab) or experiment (.json) file to open")
    parser.add_argument("--auto-train-epochs", type=int, metavar="N", help="set the epochs target to N and press Play on start")
    parser.add_argument("--quit-after", action="store_true", help="quit when training stops by itself, printing the last epoch")
    return parser


def freeze_startup_objects() -> None:
    """Take everything allocated so far (Qt wrappers, pyqtgraph, NumPy, the window) out of
    the cyclic garbage collector's full passes. Over that heap a full pass takes ~50 ms here,
    holding the GIL in whichever thread triggered it: a visible stall of the window during
    training. Call once the window is built."""
    gc.collect()
    gc.freeze()


def _noted(signum: int, frame: object) -> None:
    """The Python handler of QUIT_SIGNALS: nothing to do here, since Python has already written
    the signal's number to the wakeup socket, where the event loop reads it (QuitSignals)."""


class QuitSignals:
    """SIGINT and SIGTERM as requests to quit, answered from Qt's event loop.

    Python runs its signal handlers only in the main thread, between two bytecodes, and the
    main thread spends the window's life inside Qt's event loop (C++): a Ctrl-C would wait
    for the next Python slot, then raise KeyboardInterrupt inside whatever slot that is. Here
    the handlers do nothing; Python writes each signal's number to a socket
    (``signal.set_wakeup_fd``), and a QSocketNotifier on the other end wakes the event loop,
    which calls ``on_signal(exit status)`` (128 + the number) once per signal. Make one before
    Qt loads (a signal meanwhile waits on the socket); :meth:`answer` once the window exists;
    :meth:`uninstall` when the event loop has ended.
    """

    def __init__(self) -> None:
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous = {number: signal.signal(number, _noted) for number in QUIT_SIGNALS}
        self._notifier = None
        self._on_signal: Callable[[int], None] | None = None

    def answer(self, on_signal: Callable[[int], None]) -> None:
        """From now on (the QApplication exists), call ``on_signal(status)`` for each signal,
        those already received included."""
        from PySide6.QtCore import QSocketNotifier

        self._on_signal = on_signal
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._read)

    def _read(self) -> None:
        try:
            numbers = self._reader.recv(64)
        except BlockingIOError:
            return
        for number in numbers:
            if number in QUIT_SIGNALS:
                self._on_signal(128 + number)

    def uninstall(self) -> None:
        """Give the signals back their previous handlers; close the sockets."""
        if self._notifier is not None:
            self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._previous_fd)
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._reader.close()
        self._writer.close()


def run_gui(argv: Sequence[str]) -> int:
    """Open the window (``argv``: the options above) and run the event loop; return the exit status."""
    quit_signals = QuitSignals()  # first: a Ctrl-C while Qt loads waits for the event loop
    try:
        return _run_window(argv, quit_signals)
    finally:
        quit_signals.uninstall()


def _run_window(argv: Sequence[str], quit_signals: QuitSignals) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow
    from .style import apply_style
    from .views.manager import layout_settings

    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0], *argv])
        argv = app.arguments()[1:]  # without the options Qt took
    args = build_parser().parse_args(list(argv))
    app.setApplicationName("Epoch Lab")
    app.setOrganizationName("Epoch Lab")
    apply_style(app)
    window = MainWindow()
    status = {"code": 0}
    try:
        freeze_startup_objects()

        def quit_for_signal(code: int) -> None:
            status["code"] = code
            window.close()
            app.exit(code)

        quit_signals.answer(quit_for_signal)
        window.fileProblem.connect(lambda message: print(f"error: {message}", file=sys.stderr, flush=True))
        if args.experiment:
            window.open_experiment(args.experiment)
        elif not args.quit_after:
            window.guide.offer_lessons(layout_settings())  # the first start: the lessons on offer
        if args.auto_train_epochs is not None:
            window.training_settings.epochs.setValue(max(1, args.auto_train_epochs))
            QTimer.singleShot(0, window.run_controls.play_action.trigger)
        if args.quit_after:

            def finish(reason: str) -> None:
                last = window.history.last
                if last is not None:
                    print(f"epoch {last.epoch}: training loss {last.train_loss:.4f} {last.metric_name} {last.train_metric:.4f}",
                          flush=True)
                status["code"] = 0 if reason == "target" else 1
                window.close()

            window.runStopped.connect(finish)
        window.show()
        code = app.exec()
    finally:
        window.close()  # training stops and the trainer thread ends, however the loop ended
    return status["code"] or code
