"""Training throughput of Epoch Lab's engine, of a plain NumPy MLP, and of the same networks in PyTorch CPU eager.

Measures samples per second (the median over epochs after warm-up) of
core.network.Network + core.trainer.Trainer (NumPy, float32, SGD, shuffled, no
validation part) on the workloads of bench_trainer_common.py (dense W1–W4, convolutional
C1–C2, recurrent R1), of a hand-written NumPy MLP on the dense ones (bench_trainer_plain.py, in the
engine's process) and, when a Python with torch is given, of the same networks in
PyTorch, then prints a table with the ratios ours/plain (target ≥ 1) and ours/PyTorch
against each workload's target, and the time per mini-batch step.

The engine and the plain MLP run in one measuring process (bench_trainer_ours.py with this
interpreter), PyTorch in another (bench_trainer_torch.py with --torch-python); this driver
only sends them work, in alternating rounds (ours, plain, torch, ours, …) so that noise
from other work on the machine hits every side alike. Both get the same thread count: PyTorch's is set to what
NumPy's BLAS uses. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which can send OpenBLAS to
slower kernels, are removed from the measuring processes' environment unless
--keep-openblas-env. See benchmarks/README.md.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_trainer.py --torch-python /work/torchenv/bin/python
    .venv/bin/python benchmarks/bench_trainer.py --workloads W1,W3 --quick
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench_trainer_common import LEARNING_RATE, WORKLOADS, Workload

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TORCH_PYTHON_ENV = "EPOCHLAB_TORCH_PYTHON"
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
SEED = 0
NOISY_CPUS = 0.2  # background load above which a row is flagged
PLAIN_TARGET = 1.0  # ours/plain NumPy MLP


class WorkerError(RuntimeError):
    """A measuring process could not start or failed a request; the message says why."""


class Worker:
    """A measuring process (bench_trainer_ours.py or bench_trainer_torch.py) and its
    JSON-line protocol.

    Args:
        label: "ours" or "torch", for messages.
        argv: the command that starts it.
        env: its environment.
    """

    def __init__(self, label: str, argv: list[str], env: dict[str, str]):
        self.label = label
        try:
            self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
        except OSError as exc:
            raise WorkerError(f"cannot start {argv[0]}: {exc}") from None
        self.info: dict = self._receive()["info"]

    def _receive(self) -> dict:
        line = self._proc.stdout.readline()
        if not line:
            raise WorkerError(f"the {self.label} worker exited (code {self._proc.wait()}); see its messages above")
        try:
            reply = json.loads(line)
        except ValueError:
            raise WorkerError(f"unexpected output from the {self.label} worker: {line.strip()!r}") from None
        if not reply.get("ok"):
            raise WorkerError(reply.get("error", "unknown error"))
        return reply

    def _request(self, **request) -> dict:
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        return self._receive()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def load(self, workload: Workload) -> list[Side]:
        """Build the workload's networks, data and optimizers in the worker; its sides."""
        return [Side(self, name) for name in self._request(op="load", workload=workload.to_json(), seed=SEED)["sides"]]

    def epochs(self, count: int, side: str) -> list[float]:
        """Train ``count`` epochs of ``side``; the wall time of each, in seconds."""
        return self._request(op="epochs", count=count, side=side)["seconds"]

    def close(self) -> None:
        """End the worker (end of input) and wait for it."""
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


@dataclass(frozen=True)
class Side:
    """One measured implementation of a loaded workload ("ours", "plain" or "torch") and its worker."""

    worker: Worker
    name: str

    def epochs(self, count: int) -> list[float]:
        return self.worker.epochs(count, self.name)


class BackgroundLoad:
    """How many CPUs other processes kept busy, on average, since :meth:`start`: the noise
    the measurements ran under. Read from /proc (Linux); None where it cannot be read.

    Args:
        pids: the benchmark's own processes (driver and workers), whose CPU time is not counted.
    """

    def __init__(self, pids: list[int]):
        self._pids = pids
        self._cpus = os.cpu_count() or 1
        self._start = self._sample()

    def _sample(self) -> tuple[int, int, int] | None:
        """(busy, total) clock ticks of all CPUs, and the ticks our processes used."""
        try:
            with open("/proc/stat") as f:
                ticks = [int(v) for v in f.readline().split()[1:9]]
            ours = 0
            for pid in self._pids:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                ours += int(fields[11]) + int(fields[12])  # utime + stime, all threads
        except (OSError, ValueError, IndexError):
            return None
        idle = ticks[3] + ticks[4]  # idle + iowait
        return sum(ticks) - idle, sum(ticks), ours

    def start(self) -> None:
        self._start = self._sample()

    def cpus(self) -> float | None:
        """CPUs busy with other work since :meth:`start` (0 = a quiet machine)."""
        end = self._sample()
        if self._start is None or end is None or end[1] == self._start[1]:
            return None
        busy, total, ours = (b - a for a, b in zip(self._start, end, strict=True))
        return max(0.0, (busy - ours) / total * self._cpus)


@dataclass
class Measurement:
    """One side's measured epochs of one workload, as samples/s, round by round."""

    samples: int
    batches: int
    rounds: list[list[float]] = field(default_factory=list)  # samples/s of each epoch, per round

    def add_round(self, seconds: list[float]) -> None:
        self.rounds.append([self.samples / s for s in seconds])

    @property
    def all(self) -> list[float]:
        return [x for r in self.rounds for x in r]

    @property
    def median(self) -> float:
        return statistics.median(self.all)

    @property
    def spread(self) -> float:
        """Half the interquartile range over the median: ±noise, as a fraction."""
        values = self.all
        if len(values) < 4:
            return (max(values) - min(values)) / 2 / self.median
        q1, _, q3 = statistics.quantiles(values, n=4)
        return (q3 - q1) / 2 / self.median

    @property
    def microseconds_per_step(self) -> float:
        """Median epoch time over its mini-batch steps (epoch overhead included)."""
        return self.samples / self.median / self.batches * 1e6

    def to_json(self) -> dict:
        return {
            "median_samples_per_second": self.median,
            "spread": self.spread,
            "microseconds_per_step": self.microseconds_per_step,
            "rounds": self.rounds,
        }


@dataclass
class Result:
    """Every side's measurements of one workload (``plain`` is None for a convolutional or recurrent
    workload, ``torch`` without PyTorch)."""

    workload: Workload
    epochs_per_round: int
    ours: Measurement
    plain: Measurement | None
    torch: Measurement | None
    background_cpus: float | None  # CPUs other processes kept busy meanwhile

    @property
    def ratio(self) -> float | None:
        """ours/PyTorch."""
        return self.ours.median / self.torch.median if self.torch else None

    @property
    def plain_ratio(self) -> float | None:
        """ours/plain NumPy MLP."""
        return self.ours.median / self.plain.median if self.plain else None

    @property
    def round_ratios(self) -> list[float]:
        """ours/torch of the two sides' medians in each round (each pair ran back to back)."""
        return _round_ratios(self.ours, self.torch)

    @property
    def plain_round_ratios(self) -> list[float]:
        return _round_ratios(self.ours, self.plain)

    @property
    def missed(self) -> bool:
        """Whether a compared ratio misses its target."""
        return ((self.ratio is not None and self.ratio < self.workload.target)
                or (self.plain_ratio is not None and self.plain_ratio < PLAIN_TARGET))

    def to_json(self) -> dict:
        return {
            "workload": self.workload.to_json(),
            "epochs_per_round": self.epochs_per_round,
            "ours": self.ours.to_json(),
            "plain": self.plain.to_json() if self.plain else None,
            "torch": self.torch.to_json() if self.torch else None,
            "ratio": self.ratio,
            "round_ratios": self.round_ratios,
            "plain_ratio": self.plain_ratio,
            "plain_round_ratios": self.plain_round_ratios,
            "background_cpus": self.background_cpus,
            "meets_target": None if self.ratio is None else self.ratio >= self.workload.target,
            "meets_plain_target": None if self.plain_ratio is None else self.plain_ratio >= PLAIN_TARGET,
        }


def _round_ratios(ours: Measurement, other: Measurement | None) -> list[float]:
    if not other:
        return []
    return [statistics.median(a) / statistics.median(b) for a, b in zip(ours.rounds, other.rounds, strict=True)]


def measure(
    workload: Workload, ours: Worker, torch: Worker | None, args: argparse.Namespace, background: BackgroundLoad
) -> Result:
    """Warm every side up, then run ``args.rounds`` alternating rounds of the same number of epochs.

    Before each side's turn the driver waits ``args.settle`` seconds, so that the other
    side's idle threads have stopped spinning (OpenBLAS's keep a core busy for about
    0.1 s after their last work, libgomp's for about 10 ms) and do not slow this one.
    Without ``args.epochs``, a round has as many epochs as make the slowest side's round
    last about ``args.round_seconds``, judged from the last warm-up epoch.
    """
    sides = [side for worker in (ours, torch) if worker for side in worker.load(workload)]
    last_warmup = []
    for side in sides:
        time.sleep(args.settle)
        last_warmup.append(warm_up(side, args.warmup, args.round_seconds))
    epochs = args.epochs or max(1, min(500, round(args.round_seconds / max(last_warmup))))
    measurements = {side.name: Measurement(workload.samples, workload.batches) for side in sides}
    background.start()
    for _ in range(args.rounds):
        for side in sides:
            time.sleep(args.settle)
            measurements[side.name].add_round(side.epochs(epochs))
    return Result(workload, epochs, measurements["ours"], measurements.get("plain"), measurements.get("torch"),
                  background.cpus())


def warm_up(worker: Side, epochs: int, seconds: float) -> float:
    """Run at least ``epochs`` unmeasured epochs taking at least ``seconds`` in all; the
    time of the last one."""
    times = worker.epochs(epochs)
    while sum(times) < seconds:
        times += worker.epochs(max(1, math.ceil((seconds - sum(times)) / times[-1])))
    return times[-1]


def measuring_env(args: argparse.Namespace) -> tuple[dict[str, str], list[str]]:
    """The measuring processes' environment, and notes on what was changed for them."""
    env = dict(os.environ)
    notes = []
    present = {k: env[k] for k in OPENBLAS_OVERRIDES if k in env}
    if not present:
        notes.append(f"{' and '.join(OPENBLAS_OVERRIDES)}: not set")
    elif args.keep_openblas_env:
        notes.append(f"kept as set (--keep-openblas-env): {_assignments(present)}")
    else:
        for k in present:
            del env[k]
        notes.append(
            f"were set ({_assignments(present)}); the measuring processes run with them UNSET "
            "(--keep-openblas-env to measure with them)"
        )
    if args.threads:
        env["OPENBLAS_NUM_THREADS"] = str(args.threads)
        notes.append(f"OPENBLAS_NUM_THREADS={args.threads} (--threads)")
    return env, notes


def _assignments(values: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def start_workers(args: argparse.Namespace, env: dict[str, str]) -> tuple[Worker, Worker | None, str | None]:
    """Start ours, then PyTorch's with ours' thread count; the reason when PyTorch is skipped."""
    ours_env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(args.engine), env.get("PYTHONPATH")]))}
    ours = Worker("ours", [sys.executable, str(HERE / "bench_trainer_ours.py")], ours_env)
    torch_python = args.torch_python or os.environ.get(TORCH_PYTHON_ENV)
    if not torch_python:
        return ours, None, f"no --torch-python given and {TORCH_PYTHON_ENV} not set"
    threads = args.threads or ours.info.get("threads") or os.cpu_count() or 1
    try:
        torch = Worker("torch", [torch_python, str(HERE / "bench_trainer_torch.py"), "--threads", str(threads)], env)
    except WorkerError as exc:
        return ours, None, f"{torch_python}: {exc}"
    return ours, torch, None


def describe_side(info: dict) -> str:
    """e.g. ``Python 3.12.1, NumPy 2.5.5, BLAS openblas 0.3.34 (SkylakeX, pthreads), 2 threads``."""
    blas = info.get("blas", {})
    details = ", ".join(str(blas[k]) for k in ("architecture", "threading") if blas.get(k))
    version = f" {blas['version']}" if blas.get("version") else ""
    return f"Python {info['python']}, {info['library']}, BLAS {blas.get('library', '?')}{version} ({details}), {info['threads']} threads"


def print_table(results: list[Result]) -> None:
    """One row per workload, then what the columns mean."""
    columns = [
        "work",
        "network",
        "batch",
        "epochs",
        "ours samples/s",
        "plain samples/s",
        "ours/plain",
        "per round",
        "torch samples/s",
        "ours/torch",
        "per round",
        "target",
        "",
        "ours µs/step",
        "torch µs/step",
        "background",
    ]
    rows = []
    for r in results:
        w, t, p = r.workload, r.torch, r.plain
        ratios, plain_ratios = r.round_ratios, r.plain_round_ratios
        rows.append(
            [
                w.name,
                w.describe(),
                str(w.batch_size),
                f"{len(r.ours.rounds)}×{r.epochs_per_round}",
                f"{r.ours.median:,.0f} ±{r.ours.spread:.0%}",
                f"{p.median:,.0f} ±{p.spread:.0%}" if p else "–",
                f"{r.plain_ratio:.2f}×{'' if r.plain_ratio >= PLAIN_TARGET else ' MISS'}" if p else "–",
                f"{min(plain_ratios):.2f}–{max(plain_ratios):.2f}×" if plain_ratios else "–",
                f"{t.median:,.0f} ±{t.spread:.0%}" if t else "skipped",
                f"{r.ratio:.2f}×" if t else "–",
                f"{min(ratios):.2f}–{max(ratios):.2f}×" if ratios else "–",
                f"≥{w.target:g}×",
                ("ok" if r.ratio >= w.target else "MISS") if t else "",
                f"{r.ours.microseconds_per_step:,.1f}",
                f"{t.microseconds_per_step:,.1f}" if t else "–",
                "?" if r.background_cpus is None else f"{r.background_cpus:.2f} CPU",
            ]
        )
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(columns)]
    left = {0, 1, 12}
    for row in [columns, *rows]:
        print("  ".join(cell.ljust(widths[i]) if i in left else cell.rjust(widths[i]) for i, cell in enumerate(row)).rstrip())
    print(
        "samples/s: median over all measured epochs (±: half the interquartile range); plain: a hand-written NumPy MLP\n"
        f"in the engine's process (dense workloads; target ours/plain ≥ {PLAIN_TARGET:g}×); per round: the range of the\n"
        "ratio of each back-to-back round pair; µs/step: median epoch time / mini-batch steps per epoch;\n"
        "background: CPUs that other processes kept busy, on average, during the measured rounds (noise)."
    )
    noisy = [r.workload.name for r in results if r.background_cpus is not None and r.background_cpus >= NOISY_CPUS]
    if noisy:
        print(
            f"WARNING: other processes kept ≥ {NOISY_CPUS:g} CPU busy while {', '.join(noisy)} ran; with as many BLAS/OpenMP "
            "threads as CPUs, both sides slow down erratically then: measure again on a quieter machine."
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated names (default: %(default)s)")
    parser.add_argument("--epochs", type=int, help="epochs per side per round (default: about --round-seconds' worth)")
    parser.add_argument("--rounds", type=int, help="alternating rounds per workload (default 7; 3 with --quick)")
    parser.add_argument(
        "--warmup", type=int, help="unmeasured epochs per side first, at least a round's time (default 2; 1 with --quick)"
    )
    parser.add_argument("--round-seconds", type=float, help="target length of one side's round (default 0.4; 0.1 with --quick)")
    parser.add_argument(
        "--settle", type=float, default=0.25, help="seconds to wait before each side's turn (default %(default)s)"
    )
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds: a smoke test, noisier numbers")
    parser.add_argument("--torch-python", help=f"a Python with torch for the comparison (default: ${TORCH_PYTHON_ENV})")
    parser.add_argument("--threads", type=int, help="threads for both sides (default: what NumPy's BLAS uses)")
    parser.add_argument(
        "--engine",
        type=Path,
        default=ROOT,
        metavar="DIR",
        help="the folder holding the core package to measure (default: this checkout)",
    )
    parser.add_argument("--keep-openblas-env", action="store_true", help=f"measure with {', '.join(OPENBLAS_OVERRIDES)} as set")
    parser.add_argument("--json", metavar="PATH", help="also write the results and environment as JSON")
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a compared workload misses its target")
    args = parser.parse_args(argv)
    quick = args.quick
    args.rounds = args.rounds or (3 if quick else 7)
    args.warmup = args.warmup if args.warmup is not None else (1 if quick else 2)
    args.round_seconds = args.round_seconds or (0.1 if quick else 0.4)
    names = [n.strip().upper() for n in args.workloads.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown or not names:
        parser.error(f"unknown workload(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(WORKLOADS)}")
    args.workloads = [WORKLOADS[n] for n in names]
    args.engine = args.engine.resolve()
    if not (args.engine / "core" / "__init__.py").is_file():
        parser.error(f"--engine {args.engine}: no core package there")
    if min(args.epochs or 1, args.rounds, args.warmup, args.threads or 1) < 1 or args.settle < 0:
        parser.error("--epochs, --rounds, --warmup and --threads must be ≥ 1, --settle ≥ 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env, env_notes = measuring_env(args)
    load_start = os.getloadavg()[0]
    try:
        ours, torch, skipped = start_workers(args, env)
    except WorkerError as exc:
        print(f"error: the Epoch Lab worker could not start: {exc}", file=sys.stderr)
        return 2
    print(
        f"Epoch Lab trainer throughput: float32, SGD lr {LEARNING_RATE:g}, shuffled every epoch, no validation part; "
        f"{args.rounds} alternating rounds per workload after ≥{args.warmup} warm-up epoch(s) per side"
    )
    print(f"  ours:    {describe_side(ours.info)}; engine {ours.info['engine']}")
    print(f"  PyTorch: {describe_side(torch.info)} (set to match)" if torch else f"  PyTorch: comparison skipped: {skipped}")
    print(f"  OpenBLAS environment: {'; '.join(env_notes)}", flush=True)
    background = BackgroundLoad([os.getpid(), *(w.pid for w in (ours, torch) if w)])
    results, not_run = [], []
    try:
        for workload in args.workloads:
            print(f"  measuring {workload.name} ({workload.describe()}, batch {workload.batch_size}) …", flush=True)
            try:
                results.append(measure(workload, ours, torch, args, background))
            except WorkerError as exc:
                if workload.dense:
                    raise
                reason = str(exc).strip().splitlines()[-1]
                not_run.append(workload.name)
                print(f"    {workload.name} not run: {reason}", flush=True)
    except WorkerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        for worker in (ours, torch):
            if worker:
                worker.close()
    print(f"  machine: {os.cpu_count()} CPUs; load average {load_start:.2f} at start, {os.getloadavg()[0]:.2f} at end\n")
    print_table(results)
    if args.json:
        data = {
            "environment": {
                "ours": ours.info,
                "torch": torch.info if torch else None,
                "torch_skipped": skipped,
                "openblas_env": env_notes,
                "cpus": os.cpu_count(),
            },
            "results": [r.to_json() for r in results],
        }
        Path(args.json).write_text(json.dumps(data, indent=2))
    missed = [r for r in results if r.missed]
    return 1 if args.check and (missed or not_run) else 0


if __name__ == "__main__":
    sys.exit(main())
