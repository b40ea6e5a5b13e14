"""Training throughput with the window open against headless, and the worst event-loop stall.

Usage::

    python benchmarks/bench_gui.py [--epochs N] [--repeats R]

Trains the default experiment (two-class spiral, two tanh layers of 8) for N epochs:

1. headless: ``Trainer.run_epoch()`` in a plain loop;
2. in the window: Play at full speed with the default layout live (loss, weights, layer
   statistics and the decision boundary; the views tabbed behind others are hidden and
   cost nothing), timed from Play until the worker says the target is reached;
3. in the window with ALL views visible at once (``--views all``, the default runs both):
   the inspection views (decision boundary, confusion matrix, network graph, weights and
   gradients) are floated so that none is hidden, so every probe runs.

Throughput is training samples per second of wall time, best of R runs each, the two
kinds interleaved so that both see the same machine load; the target is ≥ 85 % of
headless inside the window. During the window runs a 5 ms timer
probes the GUI event loop; the worst gap between two probes, less the 5 ms, is the
stall (target < 50 ms). A short window run first warms up (first paints, font caches) and
is not counted. Runs offscreen unless QT_QPA_PLATFORM or a display says otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.gui import freeze_startup_objects  # noqa: E402
from app.main_window import FRAME_MS, MainWindow  # noqa: E402
from app.style import apply_style  # noqa: E402
from core.experiment import default_experiment, load_dataset  # noqa: E402
from core.network import Network  # noqa: E402
from core.trainer import Trainer  # noqa: E402

THROUGHPUT_TARGET = 0.85
STALL_TARGET_MS = 50.0
PROBE_MS = 5
WINDOW_SIZE = (1600, 1000)


def headless(epochs: int) -> float:
    """Samples per second of ``epochs`` epochs of the default experiment, no Qt involved."""
    experiment = default_experiment()
    trainer = Trainer(Network(experiment.network, seed=experiment.training.seed), load_dataset(experiment.dataset), experiment.training)
    start = time.perf_counter()
    for _ in range(epochs):
        trainer.run_epoch()
    return epochs * trainer.train_size / (time.perf_counter() - start)


class StallProbe:
    """A 5 ms timer in the GUI thread that records the largest gap between its ticks."""

    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self._tick)
        self.worst_ms = 0.0
        self._last = 0

    def start(self) -> None:
        self.clock.start()
        self._last = self.clock.nsecsElapsed()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed()
        self.worst_ms = max(self.worst_ms, (now - self._last) / 1e6 - PROBE_MS)
        self._last = now


@dataclass(frozen=True)
class WindowRun:
    """One run in the window: throughput, worst stall, and frames drawn per second."""

    samples_per_second: float
    worst_stall_ms: float
    frames_per_second: float


def in_window(epochs: int, all_views: bool = False) -> WindowRun:
    """Play ``epochs`` epochs of the default experiment in the window at full speed
    (every view visible with ``all_views``)."""
    window = MainWindow()
    if not hasattr(window, "insight") and not os.environ.get("BENCH_NO_INSIGHT"):
        from app.views.manager import InsightViews
        window.insight = InsightViews(window)
    window.training_settings.epochs.setValue(epochs)
    window.show()
    if all_views:
        for n, dock in enumerate(window.views.views.values()):
            if dock.visibleRegion().isEmpty():  # a tab behind another: float it beside the window
                dock.setFloating(True)
                dock.setGeometry(40 + 30 * n, 40 + 30 * n, 700, 450)
                dock.show()
    window.resize(*WINDOW_SIZE)  # the size the window opens at on a 1600×1000 screen, whatever the platform's screen
    loop = QEventLoop()
    QTimer.singleShot(300, loop.quit)  # let the window settle and the first frame draw
    loop.exec()
    frames = []
    window._redraw_timer.timeout.connect(lambda: frames.append(1))
    probe = StallProbe()
    done = QEventLoop()
    window.runStopped.connect(lambda reason: done.quit())
    probe.start()
    start = time.perf_counter()
    window.run_controls.play_action.trigger()
    done.exec()
    seconds = time.perf_counter() - start
    probe.stop()
    assert window.history.count == epochs, f"{window.history.count} epochs recorded of {epochs}"
    window.close()
    return WindowRun(window.history.total("samples") / seconds, probe.worst_ms, len(frames) / seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--views", choices=("default", "all", "both"), default="both",
                        help="the default layout, every view visible, or both (default)")
    args = parser.parse_args()
    app = QApplication([sys.argv[0]])
    apply_style(app)
    in_window(min(args.epochs, 300))  # warm-up, not counted: first paints, font and glyph caches
    freeze_startup_objects()  # as app.gui.run_gui does once its window is built
    modes = {"default": [False], "all": [True], "both": [False, True]}[args.views]
    bare_runs, runs = [], {mode: [] for mode in modes}
    for _ in range(args.repeats):
        bare_runs.append(headless(args.epochs))
        for mode in modes:
            runs[mode].append(in_window(args.epochs, all_views=mode))
    bare = max(bare_runs)
    print(f"default experiment, {args.epochs} epochs, best of {args.repeats} (platform: {app.platformName()})")
    print(f"headless training            {bare:12,.0f} samples/s")
    ok = True
    for mode, mode_runs in runs.items():
        best = max(mode_runs, key=lambda run: run.samples_per_second)
        gui, stall = best.samples_per_second, max(run.worst_stall_ms for run in mode_runs)
        ratio = gui / bare
        title = "window, ALL views visible" if mode else "window, default layout"
        print(f"{title:28} {gui:12,.0f} samples/s  = {ratio:.1%} of headless  (target ≥ {THROUGHPUT_TARGET:.0%})"
              f"  {'OK' if ratio >= THROUGHPUT_TARGET else 'MISSED'}")
        print(f"  worst event-loop stall     {stall:12.1f} ms  over these runs  (target < {STALL_TARGET_MS:.0f} ms)"
              f"  {'OK' if stall < STALL_TARGET_MS else 'MISSED'}")
        print(f"  redraws per second in the best run: {best.frames_per_second:.0f} (at most {1000 / FRAME_MS:.0f})")
        print("  all runs (headless, window samples/s, window stall ms): "
              + "; ".join(f"{h:,.0f} / {r.samples_per_second:,.0f} / {r.worst_stall_ms:.0f}" for h, r in zip(bare_runs, mode_runs, strict=True)))
        ok = ok and ratio >= THROUGHPUT_TARGET and stall < STALL_TARGET_MS
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
