"""Start the Qt application and show the main window.

Options (after ``python main.py``)::

    EXPERIMENT.json            open this experiment instead of the default one
    --auto-train-epochs N      set the epochs target to N and press Play once the window shows
    --quit-after               quit when training stops by itself (target reached, diverged or
                               failed), printing the last epoch on stdout; exit status 0 when
                               the target was reached, 1 otherwise (for scripts and smoke tests)

Qt's own options (``-platform offscreen``, ``-style``, …) are accepted too.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python main.py", description="Epoch Lab: the lab window.")
    parser.add_argument("experiment", nargs="?", help="experiment JSON file to open")
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


def run_gui(argv: Sequence[str]) -> int:
    """Open the window (``argv``: the options above) and run the event loop; return the exit status."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow
    from .style import apply_style

    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0], *argv])
        argv = app.arguments()[1:]  # without the options Qt took
    args = build_parser().parse_args(list(argv))
    app.setApplicationName("Epoch Lab")
    app.setOrganizationName("Epoch Lab")
    apply_style(app)
    window = MainWindow()
    freeze_startup_objects()
    if args.experiment and not window.open_experiment(args.experiment):
        print(f"error: {window.banner.text.text()}", file=sys.stderr)
    status = {"code": 0}
    if args.auto_train_epochs is not None:
        window.training_settings.epochs.setValue(max(1, args.auto_train_epochs))
        QTimer.singleShot(0, window.run_controls.play_action.trigger)
    if args.quit_after:

        def finish(reason: str) -> None:
            last = window.history.last
            if last is not None:
                print(f"epoch {last.epoch}: training loss {last.train_loss:.4f} {last.metric_name} {last.train_metric:.4f}", flush=True)
            status["code"] = 0 if reason == "target" else 1
            window.close()

        window.runStopped.connect(finish)
    window.show()
    code = app.exec()
    window.close()
    return status["code"] or code
