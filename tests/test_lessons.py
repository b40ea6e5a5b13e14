"""Lessons (core.lessons): every shipped lesson file loads, points at views that exist, and
trains to what its text says; the CLI runs a lesson file; the lesson object is checked by the
schema with one line naming the key path."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.backend import get_backend
from core.experiment import Experiment, apply_weights, check_split, load_dataset
from core.files import FileFormatError
from core.lessons import (
    LESSONS_FOLDER,
    VIEW_NAMES,
    lesson_by_key,
    lesson_in_file,
    lesson_menu_entries,
    lessons,
    load_lesson,
)
from core.network import Network
from core.presets import LOGISTIC, SOFTMAX
from core.schema import SchemaError, validate_experiment, validate_lesson
from core.sequence_insight import layer_input
from core.trainer import Trainer

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = lessons()
BY_KEY = {lesson.key: lesson for lesson in SHIPPED}


def build_trainer(experiment: Experiment) -> Trainer:
    """The trainer `train --config` builds for ``experiment`` (README "Scripting the engine")."""
    data = load_dataset(experiment.dataset)
    network = Network(experiment.network, get_backend("numpy", experiment.training.dtype), seed=experiment.training.seed)
    if experiment.weights is not None:
        apply_weights(network, experiment.weights)
    check_split(data, experiment.training)
    return Trainer(network, data, experiment.training)


# ----- the shipped lessons -------------------------------------------------------------------
def test_at_least_twelve_lessons_in_numbered_order():
    assert len(SHIPPED) >= 12
    numbers = [int(lesson.key.split("-")[0]) for lesson in SHIPPED]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


@pytest.mark.parametrize("lesson", SHIPPED, ids=lambda lesson: lesson.key)
def test_lesson_file_is_complete(lesson):
    assert lesson.title.strip() and lesson.goal.strip()
    assert 2 <= len(lesson.questions) <= 3 and lesson.try_next and lesson.steps
    assert set(lesson.views) <= set(VIEW_NAMES)
    assert lesson.views, "a lesson points at least one view"
    assert lesson.experiment.network, "a lesson gives its whole network"
    assert "lesson" not in lesson.experiment.to_json()


def test_the_lessons_follow_the_course():
    datasets = {lesson.experiment.dataset.get("name", "inline") for lesson in SHIPPED}
    assert {"housing", "breast_cancer", "inline", "xor", "circle", "spiral", "moons", "iris", "digits"} <= datasets
    layers = [layer for lesson in SHIPPED for layer in lesson.experiment.network["layers"]]
    assert any(layer.get("initializer") == "zeros" for layer in layers[:-1])
    assert {"regressionFit", "weightHistory", "lossSurface", "inspector"} <= {v for lesson in SHIPPED for v in lesson.views}


def test_the_worked_examples_are_the_presets():
    assert BY_KEY["03-worked-example-by-hand"].experiment.to_json() == LOGISTIC.experiment.to_json()
    assert BY_KEY["14-softmax-by-hand"].experiment.to_json() == SOFTMAX.experiment.to_json()


def test_the_lessons_readme_lists_every_lesson():
    readme = (LESSONS_FOLDER / "README.md").read_text(encoding="utf-8")
    for lesson in SHIPPED:
        assert f"{lesson.key}.json" in readme and lesson.title in readme


def _final(reports):
    return reports[-1]


def _recorded_run(experiment: Experiment, epochs: int) -> tuple[Trainer, list, np.ndarray]:
    """Train ``experiment``, whose first layer is recurrent, one epoch at a time: the trainer, the
    reports, and ‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ of each epoch's last mini-batch (epochs,), as Gradient through time reads it."""
    trainer = build_trainer(experiment)
    layer = trainer.network.layers[0]
    layer.record_step_norms = True
    reports, ratios = [], []
    for _ in range(epochs):
        reports += trainer.run(1)
        ratios.append(layer.step_norms[0] / layer.step_norms[-1])
    return trainer, reports, np.array(ratios)


def _forget_gate(trainer: Trainer) -> np.ndarray:
    """The first layer's (an LSTM's) forget gate f on the first 100 samples, (100, T, units)."""
    network = trainer.network
    return network.layers[0].trace(layer_input(network, trainer.dataset.X[:100], 0))["f"]


def _gradient_through_time(trainer: Trainer, reports: list) -> bool:
    """Lesson 17: the SimpleRNN stays near MSE 0.17 with a gradient that vanishes: ‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ below
    0.01 in at least 3 epochs of 4, below 10⁻⁶ in some; an LSTM of the same units starts with f ≈ 0.5 and a vanishing gradient, sits on the
    plateau, then ends below 0.01 with the gradient reaching step 1 (ratio > 0.01) and a unit whose f is
    close to 1 (mean over samples and steps > 0.9)."""
    epochs = len(reports)
    experiment = BY_KEY["17-vanishing-gradients-through-time"].experiment
    _, _, rnn_ratios = _recorded_run(experiment, epochs)
    lstm_layers = [{"type": "lstm", "units": experiment.network["layers"][0]["units"]}, *experiment.network["layers"][1:]]
    lstm_experiment = dataclasses.replace(experiment, network={**experiment.network, "layers": lstm_layers})
    start = _forget_gate(build_trainer(lstm_experiment))
    lstm, lstm_reports, lstm_ratios = _recorded_run(lstm_experiment, epochs)
    return (min(r.val_loss for r in reports) > 0.12 and np.mean(rnn_ratios < 1e-2) >= 0.75 and rnn_ratios.min() < 1e-6
            and abs(start.mean() - 0.5) < 0.05 and lstm_ratios[0] < 1e-2 and lstm_reports[4].val_loss > 0.12
            and _final(lstm_reports).val_loss < 0.01 and lstm_ratios[-1] > 1e-2
            and _forget_gate(lstm).mean(axis=(0, 1)).max() > 0.9)


# what each lesson's text says the run shows, checked on the lesson's own epochs
CLAIMS = {
    "01-linear-regression-housing": lambda t, r: 300 < _final(r).train_loss < 500,  # the noise: 20² = 400
    "02-logistic-regression-breast-cancer": lambda t, r: _final(r).val_metric > 0.95,
    "03-worked-example-by-hand": lambda t, r: np.allclose(t.network.layers[0].params["W"], [[0.5003346425, 0.5002007855]]),
    "04-learning-rate": lambda t, r: _final(r).diverged is not None,
    "05-xor-needs-a-hidden-layer": lambda t, r: _final(r).val_metric < 0.7 and _final(r).train_loss > 0.65,
    "06-linear-vs-nonlinear-activations": lambda t, r: _final(r).val_metric < 0.7,
    "07-spiral-needs-depth": lambda t, r: _final(r).val_metric > 0.9,
    "08-zero-initialisation": lambda t, r: np.ptp(np.asarray(t.network.layers[0].params["W"]), axis=0).max() == 0,
    "09-vanishing-gradients": lambda t, r: _final(r).layers[0].grad_norm < _final(r).layers[-1].grad_norm / 1000,
    "10-momentum-and-adam": lambda t, r: _final(r).train_loss > 0.2,
    "11-mini-batch-size": lambda t, r: _final(r).val_metric > 0.9,
    "12-overfitting-l2-dropout": lambda t, r: _final(r).train_loss < 0.01 and _final(r).val_loss > 1.3 * min(x.val_loss for x in r),
    "13-softmax-iris": lambda t, r: _final(r).val_metric > 0.85,
    "14-softmax-by-hand": lambda t, r: np.allclose(t.network.layers[0].params["W"][:, 0], [5.0015797, 1.9995808, -1.0000209, 2.9988604]),
    "15-digits-8x8": lambda t, r: _final(r).val_metric > 0.95,
    "16-convolutions-on-digits": lambda t, r: _final(r).val_metric > 0.97 and t.network.parameter_count == 1370,
    "17-vanishing-gradients-through-time": _gradient_through_time,
}


@pytest.mark.parametrize("lesson", SHIPPED, ids=lambda lesson: lesson.key)
def test_lesson_trains_to_what_its_text_says(lesson):
    trainer = build_trainer(lesson.experiment)
    reports = trainer.run(lesson.epochs_hint or lesson.experiment.training.epochs)
    if lesson.key != "04-learning-rate":  # the one lesson about divergence
        assert all(report.diverged is None for report in reports)
        assert np.isfinite(reports[-1].train_loss)
    assert CLAIMS[lesson.key](trainer, reports)


def test_every_shipped_lesson_has_its_claim_checked():
    assert set(CLAIMS) == set(BY_KEY)


def test_the_cli_trains_a_lesson_file(child_env):
    path = LESSONS_FOLDER / "05-xor-needs-a-hidden-layer.json"
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", "--config", str(path), "--epochs", "2", "--json"],
                          check=False, capture_output=True, text=True, env=child_env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    epochs = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["epoch"] for e in epochs] == [1, 2] and all(np.isfinite(e["train_loss"]) for e in epochs)


# ----- reading lesson files ------------------------------------------------------------------
def lesson_json(**changes) -> dict:
    data = json.loads((LESSONS_FOLDER / "05-xor-needs-a-hidden-layer.json").read_text(encoding="utf-8"))
    data["lesson"].update(changes)
    return data


def write(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_load_lesson_keeps_the_text_and_the_experiment(tmp_path):
    lesson = load_lesson(write(tmp_path, "07-mine.json", lesson_json(epochs_hint=12)))
    assert lesson.key == "07-mine" and lesson.path == tmp_path / "07-mine.json"
    assert lesson.title == "XOR needs a hidden layer" and lesson.epochs_hint == 12
    assert lesson.steps[0].view == "networkGraph" and lesson.steps[0].text.startswith("The network is logistic regression")
    assert lesson.experiment.dataset["name"] == "xor"


def test_an_experiment_reads_a_lesson_file_without_its_text(tmp_path):
    experiment = Experiment.load(write(tmp_path, "lesson.json", lesson_json()))
    assert experiment.dataset["name"] == "xor" and "lesson" not in experiment.to_json()


def test_a_plain_experiment_is_not_a_lesson(tmp_path):
    data = lesson_json()
    del data["lesson"]
    path = write(tmp_path, "plain.json", data)
    assert lesson_in_file(path) is None
    with pytest.raises(FileFormatError, match=r"plain\.json: not a lesson: it is an experiment without a 'lesson' object"):
        load_lesson(path)


def _with_step_view(data: dict) -> None:
    data["lesson"]["steps"][1]["view"] = "wieghts"


REFUSALS = {
    "misspelt view": (_with_step_view, "lesson.steps[1].view: unknown view 'wieghts'; did you mean 'weights'?"),
    "unknown view": (lambda d: d["lesson"]["steps"][0].update(view="table"), "lesson.steps[0].view: unknown view 'table'; "
                     "choose one of loss, metric,"),
    "unknown lesson key": (lambda d: d["lesson"].update(gaol="x"), "lesson.gaol: unknown lesson key; did you mean 'goal'?"),
    "unknown step key": (lambda d: d["lesson"]["steps"][0].update(veiw="loss"), "lesson.steps[0].veiw: unknown lesson step key; "
                         "did you mean 'view'?"),
    "missing title": (lambda d: d["lesson"].pop("title"), "lesson.title: missing; a lesson needs 'title', 'goal', 'steps', "),
    "one question": (lambda d: d["lesson"].update(questions=["Why?"]), 'lesson.questions: expected at least 2 item(s), got ["Why?"]'),
    "four questions": (lambda d: d["lesson"].update(questions=["a", "b", "c", "d"]), "lesson.questions: expected at most 3 item(s)"),
    "blank text": (lambda d: d["lesson"]["try_next"].append("  "), 'lesson.try_next[2]: expected text (not empty), got "  "'),
    "no steps": (lambda d: d["lesson"].update(steps=[]), "lesson.steps: expected at least 1 item(s), got []"),
    "step as text": (lambda d: d["lesson"]["steps"].append("Look"), "lesson.steps[5]: expected a JSON object (a lesson step needs"),
    "epochs hint 0": (lambda d: d["lesson"].update(epochs_hint=0), "lesson.epochs_hint: expected a whole number ≥ 1, got 0"),
    "epochs hint text": (lambda d: d["lesson"].update(epochs_hint="5"), 'lesson.epochs_hint: expected a whole number ≥ 1, got "5"'),
    "lesson not an object": (lambda d: d.update(lesson=["XOR"]), "lesson: expected a JSON object (a lesson needs 'title'"),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_a_bad_lesson_is_one_line_naming_the_key(name, tmp_path):
    change, message = REFUSALS[name]
    data = lesson_json()
    change(data)
    with pytest.raises(SchemaError) as refused:
        validate_experiment(copy.deepcopy(data))
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value)
    path = write(tmp_path, "bad.json", data)
    with pytest.raises(FileFormatError) as in_file:
        load_lesson(path)
    assert str(in_file.value) == f"{path}: {refused.value}"


def test_validate_lesson_checks_the_lesson_object_alone():
    text = lesson_json()["lesson"]
    assert validate_lesson(text)["title"] == "XOR needs a hidden layer"
    with pytest.raises(SchemaError, match=r"^lesson\.steps\[0\]\.view: unknown view 'los'; did you mean 'loss'\?$"):
        validate_lesson({**text, "steps": [{"text": "Look", "view": "los"}]})


def test_lessons_are_listed_by_their_number(tmp_path):
    for name in ("10-ten.json", "2-two.json", "extra.json", "01-one.json"):
        write(tmp_path, name, lesson_json(title=name))
    (tmp_path / "notes.txt").write_text("not a lesson", encoding="utf-8")
    assert [lesson.key for lesson in lessons(tmp_path)] == ["01-one", "2-two", "10-ten", "extra"]
    assert lesson_menu_entries(tmp_path)[0] == ("01-one", "01-one.json", lesson_json()["lesson"]["goal"])
    assert lessons(tmp_path / "missing") == []


def test_a_bad_file_in_the_folder_is_named_or_left_out(tmp_path):
    write(tmp_path, "01-good.json", lesson_json())
    (tmp_path / "02-broken.json").write_text("{\"dataset\": ", encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"02-broken\.json: not valid JSON \(line 1"):
        lessons(tmp_path)
    problems: list[str] = []
    assert [lesson.key for lesson in lessons(tmp_path, problems)] == ["01-good"]
    assert len(problems) == 1 and "02-broken.json: not valid JSON" in problems[0]


def test_lesson_by_key(tmp_path):
    write(tmp_path, "01-one.json", lesson_json())
    assert lesson_by_key("01-one", tmp_path).title == "XOR needs a hidden layer"
    with pytest.raises(FileFormatError, match=r"02-two\.json: no such lesson; the lessons are 01-one$"):
        lesson_by_key("02-two", tmp_path)
