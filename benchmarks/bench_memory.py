"""Memory over a long run: resident memory (RSS) against epochs, for the engine and the window.

Usage::

    python benchmarks/bench_memory.py [--epochs N] [--every K] [--parts engine,window,replay] [--quick]

Runs the default experiment (two-class spiral, two tanh layers of 8, mini-batches of 16)
and prints the resident memory every K epochs (default a tenth of the run):

1. engine: N epochs of ``Trainer.run_epoch()`` in a plain loop (default N = 50,000);
2. window: the real MainWindow (offscreen unless a display is set), the default layout with
   its probes running, Play at full speed for N epochs: the RSS of the window's process, of
   its trainer process, and their sum;
3. replay: the window's side of a full million epochs (or N when given) in minutes: a real
   window, its first epoch trained, then copies of that epoch's report (numbered 2, 3, …)
   sent through the controller's ``epochsReady`` signal in lists of ``REPLAY_LIST`` as the
   trainer process sends them, the window drawing as they come; the window's RSS only.

It trains about 250 epochs a second headless and 140 in the window here (2 CPUs), so the
first two parts take about 9 minutes at the default N, the replay one more
(``--epochs 1000000``: one to two hours a part). For each
series it prints the growth per epoch (least squares over the samples after the first),
the RSS it extrapolates to 1,000,000 epochs, and for the window's process whether that
stays under the target (300 MiB). ``--quick``: 3,000 epochs for the first two parts and
100,000 for the replay, a smoke test (the slope of so short a run is mostly noise). Each
part runs in a fresh process, so none sees another's memory.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MIB = 1 << 20
TARGET_EPOCHS = 1_000_000
WINDOW_TARGET_MIB = 300
DEFAULT_EPOCHS = 50_000
QUICK_EPOCHS = 3_000
QUICK_REPLAY_EPOCHS = 100_000
REPLAY_LIST = 100  # reports a message of the trainer process carries at full speed (~30 messages a second)
POLL_MS = 50


def rss_bytes(pid: int | str = "self") -> int:
    """Resident memory of process ``pid`` (this one by default), from /proc."""
    with open(f"/proc/{pid}/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def slope(samples: list[tuple[int, int]]) -> float:
    """Bytes per epoch: the least-squares slope of (epochs, bytes) over the samples after the
    first (which still holds start-up allocations)."""
    points = samples[1:] if len(samples) > 2 else samples
    n = len(points)
    if n < 2:
        return float("nan")
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else float("nan")


def summary(name: str, samples: list[tuple[int, int]], target_mib: float | None = None) -> str:
    """One line: start and end RSS, growth per epoch, and the RSS extrapolated to a million epochs."""
    growth = slope(samples)
    (first_epochs, first), (last_epochs, last) = samples[0], samples[-1]
    projected = last + growth * (TARGET_EPOCHS - last_epochs)
    line = (f"  {name:22} {first / MIB:7.1f} MiB at {first_epochs:,} → {last / MIB:7.1f} MiB at {last_epochs:,} epochs; "
            f"{growth:8.1f} bytes/epoch → {projected / MIB:7.1f} MiB at {TARGET_EPOCHS:,}")
    if target_mib is not None:
        line += f"  (target < {target_mib} MiB: {'OK' if projected < target_mib * MIB else 'MISSED'})"
    return line


def marks(epochs: int, every: int) -> list[int]:
    return [*range(every, epochs, every), epochs]


# ----- the engine -----------------------------------------------------------------------------------
def engine_part(epochs: int, every: int) -> None:
    from core.experiment import default_experiment, load_dataset
    from core.network import Network
    from core.trainer import Trainer

    exp = default_experiment()
    trainer = Trainer(Network(exp.network, seed=exp.training.seed), load_dataset(exp.dataset), exp.training)
    trainer.run_epoch()
    samples = [(1, rss_bytes())]
    print(f"engine: {trainer.train_size} training samples, {trainer.batches_per_epoch} mini-batches an epoch", flush=True)
    print(f"  {'epochs':>10} {'RSS MiB':>9} {'history MiB':>12} {'s':>7}", flush=True)
    start = time.perf_counter()
    for mark in marks(epochs, every):
        while trainer.epoch < mark:
            trainer.run_epoch()
        samples.append((mark, rss_bytes()))
        seconds = time.perf_counter() - start
        print(f"  {mark:>10,} {samples[-1][1] / MIB:9.1f} {trainer.history.nbytes() / MIB:12.2f} {seconds:7.0f}", flush=True)
    print(summary("engine process", samples), flush=True)


# ----- the window -----------------------------------------------------------------------------------
def window_part(epochs: int, every: int) -> None:
    from bench_gui import experiment, open_window, wait_until, with_epochs
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.style import apply_style

    app = QApplication([sys.argv[0]])
    apply_style(app)
    with tempfile.TemporaryDirectory(prefix="bench-memory-settings-") as settings_dir:
        window = open_window(with_epochs(experiment("spiral"), epochs), all_views=False, settings_dir=settings_dir)
        child = window.controller._process.pid
        gui, trainer, both = [(0, rss_bytes())], [(0, rss_bytes(child))], []
        both.append((0, gui[0][1] + trainer[0][1]))
        print(f"window: platform {app.platformName()}, trainer process {child}; the default layout (its probes on)", flush=True)
        print(f"  {'epochs':>10} {'window MiB':>11} {'trainer MiB':>12} {'sum MiB':>8} {'history MiB':>12} {'s':>7}", flush=True)
        pending = marks(epochs, every)
        stopped: list[str] = []
        window.runStopped.connect(stopped.append)
        start = time.perf_counter()

        def sample() -> None:
            count = window.history.count
            while pending and count >= pending[0]:
                pending.pop(0)
                g, t = rss_bytes(), rss_bytes(child)
                gui.append((count, g))
                trainer.append((count, t))
                both.append((count, g + t))
                print(f"  {count:>10,} {g / MIB:11.1f} {t / MIB:12.1f} {(g + t) / MIB:8.1f} {window.history.nbytes() / MIB:12.2f}"
                      f" {time.perf_counter() - start:7.0f}", flush=True)

        timer = QTimer()
        timer.setInterval(POLL_MS)
        timer.timeout.connect(sample)
        timer.start()
        window.run_controls.play_action.trigger()
        wait_until(lambda: bool(stopped), seconds=max(600.0, 0.05 * epochs))
        sample()
        timer.stop()
        if stopped != ["target"]:
            print(f"  the run stopped early: {stopped}", flush=True)
        for series in (gui, trainer, both):
            del series[0]  # before the first epoch: nothing of the run yet
        print(summary("window process", gui, WINDOW_TARGET_MIB), flush=True)
        print(summary("trainer process", trainer), flush=True)
        print(summary("window + trainer", both), flush=True)
        window.close()


def replay_part(epochs: int, every: int) -> None:
    from bench_gui import experiment, open_window, wait_until, with_epochs
    from PySide6.QtWidgets import QApplication

    from app.style import apply_style

    app = QApplication([sys.argv[0]])
    apply_style(app)
    with tempfile.TemporaryDirectory(prefix="bench-memory-settings-") as settings_dir:
        window = open_window(with_epochs(experiment("spiral"), epochs), all_views=False, settings_dir=settings_dir)
        window.run_controls.step_epoch_action.trigger()
        wait_until(lambda: window.history.count == 1)
        report = window.history.last
        samples = [(1, rss_bytes())]
        print(f"replay: platform {app.platformName()}; one real epoch, then its report {epochs - 1:,} times; the default layout",
              flush=True)
        print(f"  {'epochs':>10} {'window MiB':>11} {'history MiB':>12} {'s':>7}", flush=True)
        pending = marks(epochs, every)
        start = time.perf_counter()
        done = 1
        while done < epochs:
            reports = [dataclasses.replace(report, epoch=e) for e in range(done + 1, min(done + REPLAY_LIST, epochs) + 1)]
            window.controller.epochsReady.emit(reports)  # the signal the worker relays the trainer's lists with
            done = reports[-1].epoch
            app.processEvents()  # the redraw scheduler's frames, as between two messages
            if pending and done >= pending[0]:
                pending.pop(0)
                settle_until = time.perf_counter() + 0.1
                while time.perf_counter() < settle_until:  # the frames for these epochs are drawn
                    app.processEvents()
                samples.append((done, rss_bytes()))
                mib, seconds = samples[-1][1] / MIB, time.perf_counter() - start
                print(f"  {done:>10,} {mib:11.1f} {window.history.nbytes() / MIB:12.2f} {seconds:7.0f}", flush=True)
        print(summary("window process", samples, WINDOW_TARGET_MIB), flush=True)
        window.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="See benchmarks/README.md.")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"epochs per part (default {DEFAULT_EPOCHS:,}, the replay {TARGET_EPOCHS:,}; with --quick "
                             f"{QUICK_EPOCHS:,} and {QUICK_REPLAY_EPOCHS:,})")
    parser.add_argument("--every", type=int, default=None, help="epochs between two samples (default: a tenth of the part)")
    parser.add_argument("--parts", default="engine,window,replay", help="comma-separated: engine, window, replay (default all)")
    parser.add_argument("--quick", action="store_true", help="short runs: a smoke test")
    parser.add_argument("--part", choices=PARTS, help=argparse.SUPPRESS)  # run one part, in this process
    args = parser.parse_args()
    if args.part:
        PARTS[args.part](args.epochs, args.every)
        return 0
    parts = args.parts.split(",")
    if not set(parts) <= set(PARTS):
        parser.error(f"unknown part; choose from {', '.join(PARTS)}")
    if (args.epochs is not None and args.epochs < 2) or (args.every is not None and args.every < 1):
        parser.error("--epochs must be ≥ 2 and --every ≥ 1")
    print(f"{os.cpu_count()} CPUs; the default experiment", flush=True)
    status = 0
    for part in parts:
        if part == "replay":
            default = QUICK_REPLAY_EPOCHS if args.quick else TARGET_EPOCHS
        else:
            default = QUICK_EPOCHS if args.quick else DEFAULT_EPOCHS
        epochs = args.epochs or default
        every = str(args.every or max(1, epochs // 10))
        done = subprocess.run([sys.executable, __file__, "--part", part, "--epochs", str(epochs), "--every", every], check=False)
        status = status or done.returncode
    return status


PARTS = {"engine": engine_part, "window": window_part, "replay": replay_part}

if __name__ == "__main__":
    sys.exit(main())
