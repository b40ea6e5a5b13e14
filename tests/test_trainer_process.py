"""The trainer's process side, without Qt: a recipe rebuilds a trainer bit for bit in another
process, and the probes run in a process that never imports Qt."""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.trainer_process import Probe, TrainerRecipe, TrainerServer, weight_matrices
from core import insight
from core.backend import cupy_status
from core.experiment import default_experiment, load_dataset, network_spec, parse_layers
from core.network import Network
from core.sequence_insight import StepGradientProbe
from core.sequences import sine_forecast
from core.trainer import Report, Trainer, TrainingConfig

ROOT = Path(__file__).resolve().parents[1]
TIMING = ("seconds", "samples_per_second")


def make_trainer(hidden: list[dict] | None = None) -> Trainer:
    """The default experiment (spiral, two tanh layers of 8), or with other ``hidden`` layers."""
    experiment = default_experiment()
    spec = experiment.network
    if hidden is not None:
        spec = {**spec, "layers": [*hidden, spec["layers"][-1]]}
    return Trainer(Network(spec, seed=experiment.training.seed), load_dataset(experiment.dataset), experiment.training)


def numbers(report: Report) -> dict:
    """A report's fields without its timings (which differ from run to run)."""
    return {key: value for key, value in dataclasses.asdict(report).items() if key not in TIMING}


def assert_same_reports(got: list[Report], expected: list[Report]) -> None:
    assert [numbers(r) for r in got] == [numbers(r) for r in expected]


@pytest.mark.parametrize("hidden", [None, [{"type": "dense", "units": 16, "activation": "relu"}, {"type": "dropout", "rate": 0.3},
                                           {"type": "dense", "units": 8, "activation": "tanh"}]], ids=["default", "dropout"])
def test_a_recipe_rebuilds_the_trainer_bit_for_bit(hidden):
    original = make_trainer(hidden)
    recipe = pickle.loads(pickle.dumps(TrainerRecipe.of(original)))
    copy = recipe.build(pickle.loads(pickle.dumps(original.dataset)))
    assert_same_reports([copy.run_epoch() for _ in range(5)], [original.run_epoch() for _ in range(5)])
    assert np.array_equal(copy.network.params, original.network.params)
    assert copy.network.params.dtype == original.network.params.dtype


def test_a_trainer_that_has_trained_is_refused():
    trainer = make_trainer()
    trainer.step_batch()
    with pytest.raises(ValueError, match="not trained yet"):
        TrainerRecipe.of(trainer)


def run_without_qt(probes: list[Probe], child_env: dict[str, str]) -> list[str]:
    """Unpickle ``probes`` in a fresh interpreter, run each on the default trainer there, and
    return the modules of Qt it imported (none is right)."""
    code = (
        "import pickle, sys\n"
        "from tests.test_trainer_process import make_trainer\n"
        "trainer = make_trainer()\n"
        "for probe in pickle.loads(sys.stdin.buffer.read()):\n"
        "    pickle.dumps(probe.compute(trainer))\n"
        "print(' '.join(name for name in sys.modules if name.startswith(('PySide6', 'pyqtgraph'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(probes), capture_output=True, cwd=ROOT,
                          env=child_env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode().split()


def test_the_engine_probes_run_in_a_process_without_qt(child_env):
    probes = [Probe(name, compute, 0.1) for name, compute in (
        ("weights", weight_matrices), ("boundary", insight.boundary_data), ("confusion", insight.confusion_data),
        ("networkGraph", insight.graph_data), ("regressionFit", insight.fit_data),
        ("weightHistory", insight.WeightHistogramRing()), ("activations", insight.ActivationProbe()))]
    assert run_without_qt(probes, child_env) == []


@pytest.mark.skipif(cupy_status()[0], reason="CuPy works here")
def test_a_backend_the_process_cannot_use_is_reported():
    messages, server_end = multiprocessing.Pipe(duplex=False)
    server = TrainerServer(server_end)
    trainer = make_trainer()
    server.set_dataset(trainer.dataset)
    server.load(1, dataclasses.replace(TrainerRecipe.of(trainer), backend="cupy"), 10)
    assert messages.recv() == (1, "playingChanged", (False, ""))
    generation, signal, (message,) = messages.recv()
    assert (generation, signal) == (1, "failed") and "BackendUnavailable: CuPy" in message
    server.step_epoch()  # no trainer: nothing happens
    assert not messages.poll()


def test_a_probe_with_nothing_measured_yet_runs_again_after_the_next_epoch():
    """Gradient through time starts recording at its first call, before any mini-batch: its probe
    does not wait its interval for the second call, so the first curve drawn is epoch 1's."""

    class Outbox:
        def __init__(self) -> None:
            self.sent: list = []

        def send(self, message) -> None:
            self.sent.append(message)

    data = sine_forecast(40, 6)
    spec = network_spec(data, parse_layers("rnn:4"))
    outbox = Outbox()
    server = TrainerServer(outbox)
    server._trainer = Trainer(Network(spec, seed=0), data, TrainingConfig(epochs=3))
    probe = Probe("stepGradients", StepGradientProbe(), 60.0, enabled=True)
    server._probes[probe.name] = probe
    server._run_probes(force=True)
    assert probe.last == -math.inf  # nothing measured yet: due again at once
    server._trainer.run_epoch()
    server._run_probes(force=False)
    assert probe.last > 0  # measured: back to its interval
    results = [args[0] for _, signal, args in outbox.sent if signal == "probed"]
    assert [r.epoch for r in results] == [0, 1] and results[1].data.norms[0].shape == (6,)
