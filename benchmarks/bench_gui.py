"""The window at full training speed: throughput against headless, redraws, stalls, latencies.

Usage::

    python benchmarks/bench_gui.py [--quick] [--seconds S] [--repeats R]
                                   [--experiments spiral,digits] [--views default,all]

For each experiment (``spiral``: the default experiment, two-class spiral with two tanh
layers of 8; ``digits``: the 8×8 digits, 64-128-64-10 relu, Adam, mini-batches of 32) and
each layout (``default``: the window as it opens; ``all``: every view in a split of its
own, so that every view is on screen and its probe runs), it alternates

1. headless: ``Trainer.run_epoch()`` in a plain loop in this process, no window;
2. in the window: Play at full speed until the epochs target, the trainer in its own
   process as the app runs it,

R times, each run about S seconds (the epochs target is sized from a first headless
measurement). Each window has its own empty settings folder, so no run inherits the
layout an earlier one saved. A short window run first warms up (first paints, font
caches) and is not counted.

It prints, per case: throughput (samples per second of wall time; best window run against
best headless run, targets ≥ 85 % with the default layout and ≥ 75 % with every view), the
loss plot's redraws per second (target ≥ 25) and every visible view's refreshes per second
(target ≥ 8), the probe results each view received (a view with none was not really
shown), the worst event-loop stall (a 5 ms timer in the GUI thread: the worst gap between
two ticks less 5 ms; target < 50 ms), the longest frame, each window run's stall and
redraws next to the CPUs other work kept busy meanwhile; then, while training, the
latency of Pause (Play pressed again each time) and, while paused, of Step epoch and Step
mini-batch: from the action to the signal that shows its effect (target < 50 ms); and how
long closing the window takes while training (target < 0.5 s). First of all it measures
how long a trainer process takes to start and answer.

Exit status 0 when every target is met. Runs offscreen unless QT_QPA_PLATFORM or a display
says otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if __name__ != "__mp_main__":  # not in a trainer process, which imports this script again (multiprocessing) but needs none of it
    from bench_trainer import BackgroundLoad
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from app.gui import freeze_startup_objects
    from app.main_window import MainWindow
    from app.style import apply_style
    from app.views.common import is_shown
    from app.worker import TrainerController
    from core.experiment import Experiment, default_experiment, load_dataset, network_spec
    from core.network import Network
    from core.trainer import Trainer, TrainingConfig

TARGETS = {"default": 0.85, "all": 0.75}  # window throughput / headless, by layout
REDRAW_TARGET = 25.0  # loss plot redraws per second
VIEW_TARGET = 8.0  # refreshes per second of every visible view
STALL_TARGET_MS = 50.0
LATENCY_TARGET_MS = 50.0
CLOSE_TARGET_S = 0.5
PROBE_MS = 5
WINDOW_SIZE = (1600, 1000)
ALL_VIEWS_COLUMNS = 4
LATENCY_TRIALS = 5
WAIT_S = 60.0


def experiment(name: str) -> Experiment:
    """The benchmark's experiments: "spiral" (the default) or "digits" (64-128-64-10 relu)."""
    if name == "spiral":
        return default_experiment()
    choice = {"name": "digits"}
    data = load_dataset(choice)
    hidden = [{"type": "dense", "units": units, "activation": "relu", "initializer": "he_normal"} for units in (128, 64)]
    return Experiment(choice, network_spec(data, hidden), TrainingConfig(learning_rate=0.001, batch_size=32))


def with_epochs(exp: Experiment, epochs: int) -> Experiment:
    return dataclasses.replace(exp, training=dataclasses.replace(exp.training, epochs=epochs))


@dataclass
class Run:
    """Samples per second of wall time, and the CPUs other processes kept busy meanwhile (noise)."""

    samples_per_second: float
    background_cpus: float | None


def headless(exp: Experiment, epochs: int) -> Run:
    """``epochs`` epochs of ``exp`` in a plain loop, no Qt involved."""
    trainer = Trainer(Network(exp.network, seed=exp.training.seed), load_dataset(exp.dataset), exp.training)
    background = BackgroundLoad([os.getpid()])
    start = time.perf_counter()
    for _ in range(epochs):
        trainer.run_epoch()
    return Run(epochs * trainer.train_size / (time.perf_counter() - start), background.cpus())


def sized(exp: Experiment, seconds: float, probe_epochs: int = 20) -> Experiment:
    """``exp`` with an epochs target that takes about ``seconds`` headless."""
    start = time.perf_counter()
    headless(exp, probe_epochs)
    per_epoch = (time.perf_counter() - start) / probe_epochs
    return with_epochs(exp, max(20, round(seconds / per_epoch)))


def wait_until(condition: Callable[[], bool], seconds: float = WAIT_S) -> None:
    """Run the event loop until ``condition()`` holds (checked every 10 ms); raise
    TimeoutError after ``seconds``."""
    deadline = time.perf_counter() + seconds
    loop, timer = QEventLoop(), QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: loop.quit() if condition() or time.perf_counter() > deadline else None)
    timer.start()
    if not condition():
        loop.exec()
    timer.stop()
    if not condition():
        raise TimeoutError("the window did not answer in time")


def settle(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


class StallProbe:
    """A 5 ms timer in the GUI thread that records the largest gap between its ticks."""

    def __init__(self) -> None:
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
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


class Counter:
    """Counts calls by key."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def add(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def clear(self) -> None:
        self.counts.clear()


def count_refreshes(window: MainWindow, counter: Counter) -> list[str]:
    """Count the ``refresh()`` calls (draws) the redraw scheduler makes of each view, under
    the view's name, and return those names; the other views are drawn in every frame."""
    names = []
    for name, entry in window.registry.entries.items():
        if not any(view is entry.view for view in window.scheduler.views):
            continue
        names.append(name)
        refresh = entry.view.refresh

        def counted(refresh=refresh, name=name):
            counter.add(name)
            refresh()

        entry.view.refresh = counted
    return names


def show_every_view(window: MainWindow) -> None:
    """Take every view out of its tab group into a split of its own (a grid of
    ALL_VIEWS_COLUMNS columns), so that each is on screen and its probe is enabled."""
    area, docks = window.views, list(window.registry.docks.values())
    for dock in docks:
        area.removeDockWidget(dock)
    columns = [docks[i::ALL_VIEWS_COLUMNS] for i in range(ALL_VIEWS_COLUMNS)]
    area.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, columns[0][0])
    for left, column in zip(columns, columns[1:], strict=False):
        area.splitDockWidget(left[0], column[0], Qt.Orientation.Horizontal)
    for column in columns:
        for above, dock in zip(column, column[1:], strict=False):
            area.splitDockWidget(above, dock, Qt.Orientation.Vertical)
    for dock in docks:
        dock.show()


@dataclass
class WindowRun(Run):
    """One Play-to-target run in the window."""

    seconds: float
    worst_stall_ms: float
    longest_frame_ms: float
    frames_per_second: float
    refreshes: dict[str, float]  # per second, by view the scheduler draws
    probe_results: dict[str, int]  # by probe name
    shown: list[str]  # the views on screen
    pause_ms: list[float] = dataclasses.field(default_factory=list)
    step_epoch_ms: list[float] = dataclasses.field(default_factory=list)
    step_batch_ms: list[float] = dataclasses.field(default_factory=list)
    close_s: float = float("nan")


def open_window(exp: Experiment, all_views: bool, settings_dir: str) -> MainWindow:
    """A window with its own settings folder, showing ``exp``, ready to train (its trainer
    process has built the trainer)."""
    os.environ["XDG_CONFIG_HOME"] = settings_dir
    os.environ["XDG_DATA_HOME"] = settings_dir  # its autosaves too
    os.environ["EPOCHLAB_RECOVER"] = "discard"  # never the modal recovery question
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir)
    window = MainWindow()
    window.confirm_discard = lambda change: True
    window.resize(*WINDOW_SIZE)  # the size the window opens at on a 1600×1000 screen, whatever the platform's screen
    window.show()
    answered = []
    window.controller.playingChanged.connect(lambda playing, reason: answered.append(reason))
    window.apply_experiment(exp)
    wait_until(lambda: bool(answered))
    if all_views:
        show_every_view(window)
    settle(0.5)  # the layout settles and the first frame draws
    freeze_startup_objects()  # as app.gui.run_gui does once its window is built
    return window


def in_window(exp: Experiment, all_views: bool, latencies: bool = False) -> WindowRun:
    """Play ``exp`` to its epochs target in a fresh window at full speed (every view
    visible with ``all_views``); with ``latencies``, then measure Pause, Step and closing."""
    with tempfile.TemporaryDirectory(prefix="bench-gui-settings-") as settings_dir:
        window = open_window(exp, all_views, settings_dir)
        controller = window.controller
        refreshes, results, frames = Counter(), Counter(), []
        scheduled = count_refreshes(window, refreshes)
        controller.probed.connect(lambda result: results.add(result.name))
        window.scheduler.frameDrawn.connect(frames.append)
        refreshes.clear()
        stopped = []
        window.runStopped.connect(stopped.append)
        probe = StallProbe()
        probe.start()
        background = BackgroundLoad([os.getpid(), controller._process.pid])  # this process and its trainer's
        start = time.perf_counter()
        window.run_controls.play_action.trigger()
        wait_until(lambda: bool(stopped), seconds=max(WAIT_S, 20 * exp.training.epochs))
        seconds = time.perf_counter() - start
        probe.stop()
        assert stopped == ["target"] and window.history.count == exp.training.epochs, (stopped, window.history.count)
        shown = [name for name, entry in window.registry.entries.items() if is_shown(entry.view)]
        run = WindowRun(window.history.total("samples") / seconds, background.cpus(), seconds, probe.worst_ms, 1000 * max(frames, default=0.0),
                        len(frames) / seconds, {name: refreshes.counts.get(name, 0) / seconds for name in scheduled}, dict(results.counts), shown)
        if latencies:
            measure_latencies(window, run)
        else:
            window.close()
        return run


def measure_latencies(window: MainWindow, run: WindowRun) -> None:
    """Pause while training, Step epoch and Step mini-batch while paused (each LATENCY_TRIALS
    times), then close the window while training."""
    controller, controls = window.controller, window.run_controls
    window.training_settings.epochs.setValue(10_000_000)

    def timed(trigger: Callable[[], None], signal, accept: Callable[..., bool]) -> float:
        seen = []
        slot = lambda *args: seen.append(time.perf_counter()) if accept(*args) else None  # noqa: E731
        signal.connect(slot)
        start = time.perf_counter()
        trigger()
        wait_until(lambda: bool(seen))
        signal.disconnect(slot)
        return 1000 * (seen[0] - start)

    for _ in range(LATENCY_TRIALS):
        timed(controls.play_action.trigger, controller.playingChanged, lambda playing, reason: playing)
        settle(0.3)
        run.pause_ms.append(timed(controls.play_action.trigger, controller.playingChanged,
                                  lambda playing, reason: not playing))
        settle(0.1)
        run.step_epoch_ms.append(timed(controls.step_epoch_action.trigger, controller.epochsReady, lambda reports: True))
        settle(0.1)
        run.step_batch_ms.append(timed(controls.step_batch_action.trigger, controller.partialReport, lambda report: True))
        settle(0.1)
    timed(controls.play_action.trigger, controller.playingChanged, lambda playing, reason: playing)
    settle(0.3)
    start = time.perf_counter()
    window.close()
    run.close_s = time.perf_counter() - start


def process_start_ms() -> float:
    """Milliseconds from creating a controller to its trainer process's first answer."""
    answered = []
    start = time.perf_counter()
    controller = TrainerController()
    controller.playingChanged.connect(lambda playing, reason: answered.append(time.perf_counter()))
    controller.load(None, 0)
    wait_until(lambda: bool(answered))
    controller.shutdown()
    return 1000 * (answered[0] - start)


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def cpus(run: Run) -> str:
    return "?" if run.background_cpus is None else f"{run.background_cpus:.2f}"


def report_case(title: str, layout: str, bare_runs: list[Run], runs: list[WindowRun]) -> bool:
    """Print one case's figures; True when its targets are met."""
    bare = max(run.samples_per_second for run in bare_runs)
    best = max(runs, key=lambda run: run.samples_per_second)
    ratio = best.samples_per_second / bare
    stall = max(run.worst_stall_ms for run in runs)
    loss_rate = min(run.refreshes.get("loss", 0.0) for run in runs)
    print(f"\n{title}, {layout} layout: {len(runs)} window runs of ~{best.seconds:.1f} s")
    print(f"  headless                 {bare:12,.0f} samples/s")
    print(f"  window                   {best.samples_per_second:12,.0f} samples/s = {ratio:.1%} of headless"
          f"  (target ≥ {TARGETS[layout]:.0%})  {verdict(ratio >= TARGETS[layout])}")
    print("  all runs, headless / window samples/s (CPUs busy with other work meanwhile): "
          + "; ".join(f"{h.samples_per_second:,.0f} ({cpus(h)}) / {r.samples_per_second:,.0f} ({cpus(r)})"
                      for h, r in zip(bare_runs, runs, strict=True)))
    print(f"  worst event-loop stall   {stall:8.1f} ms  (target < {STALL_TARGET_MS:.0f} ms)  {verdict(stall < STALL_TARGET_MS)};"
          f"  longest frame {max(run.longest_frame_ms for run in runs):.1f} ms")
    print(f"  loss plot redraws        {loss_rate:8.1f} /s  (target ≥ {REDRAW_TARGET:.0f})  {verdict(loss_rate >= REDRAW_TARGET)};"
          f"  frames {min(run.frames_per_second for run in runs):.1f} /s")
    print("  each window run, worst stall / loss redraws (CPUs busy with other work meanwhile): "
          + "; ".join(f"{run.worst_stall_ms:.0f} ms / {run.refreshes.get('loss', 0.0):.1f} /s ({cpus(run)})" for run in runs))
    ok = ratio >= TARGETS[layout] and stall < STALL_TARGET_MS and loss_rate >= REDRAW_TARGET
    shown = runs[0].shown
    for name in shown:
        drawn_by_frame = name not in runs[0].refreshes
        rate = min(run.frames_per_second if drawn_by_frame else run.refreshes.get(name, 0.0) for run in runs)
        probes = min(run.probe_results.get(name, 0) for run in runs) if name in runs[0].probe_results else None
        fed = " (in every frame)" if drawn_by_frame else "" if probes is None else f", {probes} probe results"
        print(f"    {name:22} {rate:6.1f} refreshes/s{fed}  {verdict(rate >= VIEW_TARGET)}")
        ok = ok and rate >= VIEW_TARGET
    hidden = [name for name in runs[0].refreshes if name not in shown] + [name for name in runs[0].probe_results if name not in shown]
    if hidden:
        print(f"  not on screen: {', '.join(sorted(set(hidden)))}")
    for run in runs:
        if run.pause_ms:
            worst = max(*run.pause_ms, *run.step_epoch_ms, *run.step_batch_ms)
            print(f"  latency (median / worst of {len(run.pause_ms)}): pause {statistics.median(run.pause_ms):.1f} / "
                  f"{max(run.pause_ms):.1f} ms, step epoch {statistics.median(run.step_epoch_ms):.1f} / {max(run.step_epoch_ms):.1f} ms,"
                  f" step mini-batch {statistics.median(run.step_batch_ms):.1f} / {max(run.step_batch_ms):.1f} ms"
                  f"  (target < {LATENCY_TARGET_MS:.0f} ms)  {verdict(worst < LATENCY_TARGET_MS)}")
            print(f"  closing the window while training: {run.close_s * 1000:.0f} ms  (target < {CLOSE_TARGET_S * 1000:.0f} ms)"
                  f"  {verdict(run.close_s < CLOSE_TARGET_S)}")
            ok = ok and worst < LATENCY_TARGET_MS and run.close_s < CLOSE_TARGET_S
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="See benchmarks/README.md.")
    parser.add_argument("--seconds", type=float, default=None, help="length of one run (default 10; 3 with --quick)")
    parser.add_argument("--repeats", type=int, default=None, help="window runs per case, each after a headless run (default 2; 1 with --quick)")
    parser.add_argument("--experiments", default="spiral,digits", help="comma-separated: spiral, digits (default both)")
    parser.add_argument("--views", default="default,all", help="comma-separated layouts: default, all (default both)")
    parser.add_argument("--quick", action="store_true", help="one short run per case: a smoke test, noisier numbers")
    args = parser.parse_args()
    seconds = args.seconds or (3.0 if args.quick else 10.0)
    repeats = args.repeats or (1 if args.quick else 2)
    names, layouts = args.experiments.split(","), args.views.split(",")
    if not set(names) <= {"spiral", "digits"} or not set(layouts) <= set(TARGETS):
        parser.error("unknown experiment or layout")
    app = QApplication([sys.argv[0]])
    apply_style(app)
    start_ms = [process_start_ms() for _ in range(4)]  # the first starts the fork server too
    print(f"platform {app.platformName()}, {os.cpu_count()} CPUs; trainer process start to first answer: "
          f"{start_ms[0]:.0f} ms (first, with the fork server), then {', '.join(f'{t:.0f}' for t in start_ms[1:])} ms")
    in_window(with_epochs(experiment("spiral"), 300), all_views=True)  # warm-up, not counted: first paints, caches
    ok = True
    for name in names:
        exp = sized(experiment(name), seconds)
        for layout in layouts:
            bare_runs, runs = [], []
            for repeat in range(repeats):
                bare_runs.append(headless(exp, exp.training.epochs))
                runs.append(in_window(exp, all_views=layout == "all", latencies=repeat == repeats - 1))
            ok = report_case(f"{name} ({exp.training.epochs} epochs)", layout, bare_runs, runs) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
