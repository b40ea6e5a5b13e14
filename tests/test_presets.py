"""The course's worked examples as presets (core.presets): each loads, builds a network and a
trainer as README's "Scripting the engine" does, and one mini-batch gives the course's
numbers exactly; the notes say where the slides round; a preset saved as an experiment
file trains the same from the command line.

Expected literals were computed independently with 40-digit ``decimal`` arithmetic.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.backend import get_backend
from core.data import encode_targets
from core.experiment import Experiment, apply_weights, check_split, load_dataset
from core.network import Network
from core.presets import PRESETS, preset
from core.trace import trace
from core.trainer import ConfigError, Trainer

ROOT = Path(__file__).resolve().parent.parent


def build(experiment: Experiment) -> Trainer:
    """The network and trainer of ``experiment``, built as a script would."""
    dataset = load_dataset(experiment.dataset)
    network = Network(experiment.network, get_backend("numpy", experiment.training.dtype), seed=experiment.training.seed)
    apply_weights(network, experiment.weights)
    check_split(dataset, experiment.training)
    return Trainer(network, dataset, experiment.training)


def test_the_presets_are_listed_with_keys_titles_and_notes():
    assert [(p.key, p.title) for p in PRESETS] == [("logistic_by_hand", "Logistic regression by hand"),
                                                   ("softmax_by_hand", "Softmax by hand")]
    for p in PRESETS:
        assert "\n" not in p.summary and len(p.summary) < 160
        assert "\n" not in p.note and "Shift+→" in p.note
        training = p.experiment.training
        assert (training.optimizer, training.dtype, training.batch_size, training.val_fraction) == ("sgd", "float64", 1, 0.0)
        assert not training.standardize and not training.shuffle


def test_preset_gives_a_copy_of_its_own_and_refuses_an_unknown_key():
    first = preset("logistic_by_hand")
    first.experiment.dataset["inline"]["X"][0][0] = 99.0
    first.experiment.weights[0]["b"][0] = 7.0
    again = preset("logistic_by_hand")
    assert again.experiment.dataset["inline"]["X"] == [[5.0, 3.0]] and again.experiment.weights[0]["b"] == [1.0]
    with pytest.raises(ConfigError, match=r"^unknown preset 'logistic'; choose one of logistic_by_hand, softmax_by_hand$"):
        preset("logistic")


def test_logistic_regression_by_hand_steps_to_the_courses_exact_values():
    trainer = build(preset("logistic_by_hand").experiment)
    network = trainer.network
    data = trainer.dataset
    assert data.n_samples == 1 and data.task == "binary" and (trainer.train_size, trainer.val_size) == (1, 0)
    assert network.preprocess is None  # the inputs as they are
    before = trace(network, data.X, encode_targets(data, 1), "binary_crossentropy").layers[0]
    assert before.z[0, 0] == 5.0
    assert before.a[0, 0] == pytest.approx(0.9933071491, abs=1e-10)
    assert before.da[0, 0] == pytest.approx(-1.0067379470, abs=1e-10)
    assert before.dz[0, 0] == pytest.approx(-0.0066928509, abs=1e-10) and before.db[0] == before.dz[0, 0]
    np.testing.assert_allclose(before.dW, [[-0.0334642546, -0.0200785528]], atol=1e-10)

    report = trainer.step_batch()
    assert report.complete and report.epoch == 1 and report.val_loss is None
    assert report.train_loss == pytest.approx(0.0067153485, abs=1e-10)
    params = network.parameters_by_layer()[0]
    (w1, w2), b = params["W"][0], params["b"][0]
    assert w1 == pytest.approx(0.5003346425, abs=1e-10)
    assert w2 == pytest.approx(0.5002007855, abs=1e-10)
    assert b == pytest.approx(1.0000669285, abs=1e-10)
    np.testing.assert_allclose(network.gradients_by_layer()[0]["W"], before.dW, rtol=1e-14)  # what the step used


def test_softmax_by_hand_gives_the_courses_probabilities_and_one_exact_step():
    trainer = build(preset("softmax_by_hand").experiment)
    network, data = trainer.network, trainer.dataset
    assert data.class_names == ("scene", "animals", "humans", "vehicles") and data.n_outputs == 4
    layer = trace(network, data.X, encode_targets(data, 4), "categorical_crossentropy").layers[0]
    np.testing.assert_array_equal(layer.z[:, 0], [5.0, 2.0, -1.0, 3.0])
    np.testing.assert_allclose(layer.a[:, 0], [0.842034, 0.041922, 0.002087, 0.113957], atol=1e-6)
    exps = np.exp([5.0, 2.0, -1.0, 3.0])
    assert exps.sum() == pytest.approx(176.2556315659, abs=1e-10)
    np.testing.assert_allclose(layer.a[:, 0], exps / exps.sum(), rtol=1e-14)

    report = trainer.step_batch()
    assert report.complete and report.train_loss == pytest.approx(0.1719353933, abs=1e-10)
    params = network.parameters_by_layer()[0]
    np.testing.assert_allclose(params["W"][:, 0], [5.0015796643, 1.9995807762, -1.0000208719, 2.9988604315], atol=1e-10)
    np.testing.assert_allclose(params["b"], [0.0015796643, -0.0004192238, -0.0000208719, -0.0011395685], atol=1e-10)


def test_the_notes_give_the_exact_values_and_where_the_slides_round():
    logistic, softmax = preset("logistic_by_hand").note, preset("softmax_by_hand").note
    for exact in ("0.9933071491", "−1.0067379470", "−0.0066928509", "−0.0334642546", "−0.0200785528", "0.5003346425",
                  "0.5002007855", "1.0000669285"):
        assert exact in logistic
    for slide in ("0.99307", "−0.00693", "0.503475"):
        assert f"{slide} " in logistic or f"{slide}," in logistic or f"{slide})" in logistic
    for value in ("(5, 2, −1, 3)", "(0.842034, 0.041922, 0.002087, 0.113957)", "176.2556316", "scene", "(0.842, 0.042, 0.002, 0.114)"):
        assert value in softmax
    assert f"{math.exp(5):.7f}" in softmax and f"{-math.log(0.8420335723):.6f}" in softmax


@pytest.mark.parametrize("key", [p.key for p in PRESETS])
def test_a_preset_saved_as_an_experiment_round_trips_and_trains_from_the_command_line(key, tmp_path, child_env):
    experiment = preset(key).experiment
    path = tmp_path / f"{key}.json"
    experiment.save(path)
    assert Experiment.load(path).to_json() == experiment.to_json()
    assert set(json.loads(path.read_text())) == {"dataset", "network", "training", "weights"}
    done = subprocess.run([sys.executable, "main.py", "train", "--config", str(path), "--epochs", "1", "--json",
                           "--save", str(tmp_path / "run.epochlab")],
                          cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    record = json.loads(line)
    expected = build(preset(key).experiment).step_batch()
    assert record["epoch"] == 1 and record["val_loss"] is None
    assert record["train_loss"] == pytest.approx(expected.train_loss, abs=1e-12)
    from core.epochlab import load_session

    saved = load_session(tmp_path / "run.epochlab")
    assert saved.experiment.dataset == experiment.dataset and saved.experiment.weights == experiment.weights
