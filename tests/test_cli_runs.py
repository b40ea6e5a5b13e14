"""Runs that last on the command line: ``train --save RUN.epochlab``, ``train --config
RUN.epochlab`` continuing bit for bit, ``--history`` of the whole run, and ``export``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.epochlab import SessionFile, load_network, load_session, load_session_dataset, save_session
from core.experiment import Experiment
from core.files import load_model, save_data_npz
from core.synthetic import synthetic
from core.trainer import Trainer

# shuffled mini-batches, a Dropout layer and Adam: every generator and the optimizer's moments count
RUN = ("--dataset", "spiral", "--samples", "150", "--layers", "8:tanh,dropout:0.2,6:relu", "--batch-size", "16", "--seed", "3")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def epochs_printed(out: str) -> list[dict]:
    """The --json lines without their seconds (which no two runs share)."""
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in out.splitlines()]


def history_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def weights(path: Path) -> list[np.ndarray]:
    return [value for layer in load_model(path).parameters_by_layer() for value in layer.values()]


@pytest.fixture
def uninterrupted(tmp_path_factory, capsys) -> tuple[list[dict], Path, Path]:
    """20 epochs in one go: what they printed, the model and the history."""
    folder = tmp_path_factory.mktemp("whole")
    model, history = folder / "m.npz", folder / "h.csv"
    status, out, _ = run(capsys, "train", *RUN, "--epochs", "20", "--json", "--save", model, "--history", history)
    assert status == 0
    return epochs_printed(out), model, history


def test_ten_then_ten_more_equal_twenty_bit_for_bit(tmp_path, capsys, uninterrupted):
    printed, model, history = uninterrupted
    session = tmp_path / "run.epochlab"
    status, first, _ = run(capsys, "train", *RUN, "--epochs", "10", "--json", "--save", session)
    assert status == 0 and load_session(session).state.epoch == 10
    status, rest, err = run(capsys, "train", "--config", session, "--epochs", "10", "--json", "--save", session,
                            "--history", tmp_path / "h.csv")
    assert status == 0 and err == ""
    assert epochs_printed(first) + epochs_printed(rest) == printed
    assert all(np.array_equal(a, b) for a, b in zip(weights(session), weights(model), strict=True))
    assert history_rows(tmp_path / "h.csv") == history_rows(history)  # every epoch of the run, the saved ones too
    back = load_session(session)
    run_ = back.session.current
    assert len(back.session.runs) == 1 and len(run_.record) == 20 and back.state.epoch == 20
    assert {0, 10, 20} <= set(run_.checkpoints.epochs)


def test_without_epochs_a_run_continues_to_its_experiments_target(tmp_path, capsys):
    session = tmp_path / "run.epochlab"
    assert run(capsys, "train", *RUN, "--epochs", "4", "--save", session)[0] == 0
    status, out, _ = run(capsys, "train", "--config", session, "--json")  # its target was 4: nothing more to do
    assert status == 0 and out == ""
    assert run(capsys, "train", "--config", session, "--epochs", "2", "--json")[2] == ""


def test_a_json_experiment_saved_as_a_session_keeps_its_data_path_relative(tmp_path, capsys):
    data = synthetic("moons", samples=80, seed=2)
    (tmp_path / "lesson").mkdir()
    save_data_npz(tmp_path / "lesson" / "moons.npz", data.X, data.y)
    config = tmp_path / "lesson" / "moons.json"
    config.write_text(json.dumps({"dataset": {"path": "moons.npz"}, "network": {},
                                  "training": {"epochs": 3, "batch_size": 8}}))
    (tmp_path / "runs").mkdir()
    session = tmp_path / "runs" / "moons.epochlab"
    assert run(capsys, "train", "--config", config, "--save", session)[0] == 0
    assert load_session(session).experiment.dataset["path"] == "../lesson/moons.npz"
    status, out, err = run(capsys, "train", "--config", session, "--epochs", "2", "--json")
    assert status == 0 and [r["epoch"] for r in map(json.loads, out.splitlines())] == [4, 5]

    (tmp_path / "lesson" / "moons.npz").rename(tmp_path / "moons.npz")
    for argv in (("train", "--config", session, "--epochs", "1"), ("export", session, "--script", tmp_path / "s.py")):
        status, _, err = run(capsys, *argv)
        assert status == 2 and err.count("\n") == 1
        assert err.startswith(f"error: {session}: the data file ../lesson/moons.npz is not there any more")


def test_a_saved_run_keeps_its_own_settings(tmp_path, capsys):
    session = tmp_path / "run.epochlab"
    assert run(capsys, "train", *RUN, "--epochs", "2", "--save", session)[0] == 0
    status, _, err = run(capsys, "train", "--config", session, "--lr", "0.5", "--layers", "3:tanh")
    assert status == 2 and "leave out --layers, --lr" in err
    status, _, err = run(capsys, "train", "--config", session, "--dtype", "float64")
    assert status == 2 and "its run trains in float32" in err


def test_save_npz_still_writes_a_plain_model(tmp_path, capsys):
    model = tmp_path / "m.npz"
    assert run(capsys, "train", *RUN, "--epochs", "1", "--save", model)[0] == 0
    with np.load(model, allow_pickle=False) as npz:
        assert "format_version" not in npz.files and "spec" in npz.files


def test_an_interrupted_continue_saves_the_last_complete_epoch(tmp_path, capsys, monkeypatch):
    import core.cli

    session = tmp_path / "run.epochlab"
    assert run(capsys, "train", *RUN, "--epochs", "3", "--save", session)[0] == 0
    original = core.cli._train

    def signalled_after_two(job, interrupts, on_report):
        def report_then_signal(report):
            on_report(report)
            if job.trainer.epoch == 5:
                interrupts.signalled = True  # as the handler does, between epochs here
        return original(job, interrupts, report_then_signal)

    monkeypatch.setattr(core.cli, "_train", signalled_after_two)
    status, _, err = run(capsys, "train", "--config", session, "--epochs", "10", "--save", session)
    assert status == 130 and f"interrupted after epoch 5; wrote {session}" in err
    back = load_session(session)
    assert back.state.epoch == 5 and len(back.session.current.record) == 5


def test_export_writes_the_history_and_the_model(tmp_path, capsys, uninterrupted):
    _, model, history = uninterrupted
    session = tmp_path / "run.epochlab"
    assert run(capsys, "train", *RUN, "--epochs", "20", "--save", session)[0] == 0
    status, _, err = run(capsys, "export", session, "--history", tmp_path / "e.csv", "--model", tmp_path / "e.npz")
    assert status == 0 and err.splitlines() == [f"wrote {tmp_path / 'e.csv'}", f"wrote {tmp_path / 'e.npz'}"]
    assert history_rows(tmp_path / "e.csv") == history_rows(history)
    assert all(np.array_equal(a, b) for a, b in zip(weights(tmp_path / "e.npz"), weights(model), strict=True))
    assert load_network(session).seed == 3  # the session file keeps the network's seed (its Dropout masks)


def test_export_script_starts_from_the_initial_weights(tmp_path, capsys):
    session = tmp_path / "run.epochlab"
    assert run(capsys, "train", *RUN, "--epochs", "2", "--save", session)[0] == 0
    status, _, err = run(capsys, "export", session, "--script", tmp_path / "s.py")
    assert status == 0 and (tmp_path / "s.py").exists() and (tmp_path / "s_data.npz").exists()
    initial = load_session(session).session.current.checkpoints.get(0).params
    with np.load(tmp_path / "s_data.npz", allow_pickle=False) as npz:
        assert np.array_equal(npz["W1"].ravel(), initial[: npz["W1"].size])


@pytest.mark.parametrize(("argv", "words"), [
    (("export", "{tmp}/m.npz", "--model", "{tmp}/x.npz"), "export reads an Epoch Lab session file (.epochlab)"),
    (("export", "{tmp}/run.epochlab"), "say what to export: --script, --notebook, --torch, --onnx, --history, --model"),
    (("export", "{tmp}/run.epochlab", "--model", "{tmp}/run.epochlab"), "--model would overwrite the session file"),
    (("export", "{tmp}/run.epochlab", "--history", "{tmp}/h.csv", "--model", "{tmp}/h.csv"), "name the same file"),
    (("export", "{tmp}/fake.epochlab", "--model", "{tmp}/x.npz"), "is not an Epoch Lab session file"),
])
def test_export_refusals_are_one_line(tmp_path, capsys, argv, words):
    assert run(capsys, "train", *RUN, "--epochs", "1", "--save", tmp_path / "run.epochlab")[0] == 0
    assert run(capsys, "train", *RUN, "--epochs", "1", "--save", tmp_path / "m.npz")[0] == 0
    (tmp_path / "fake.epochlab").write_bytes((tmp_path / "m.npz").read_bytes())
    status, out, err = run(capsys, *(a.format(tmp=tmp_path) for a in argv))
    assert status == 2 and out == "" and err.count("\n") == 1 and words in err


def test_a_run_saved_inside_an_epoch_continues_from_that_mini_batch(tmp_path, capsys, uninterrupted):
    """The window may save in the middle of an epoch: the CLI runs the rest of it, then on."""
    printed, _, _ = uninterrupted
    session = tmp_path / "run.epochlab"
    assert run(capsys, "train", *RUN, "--epochs", "2", "--save", session)[0] == 0
    saved, network = load_session(session), load_network(session)
    trainer = Trainer(network, load_session_dataset(session, saved), saved.experiment.training)
    trainer.restore(saved.state)
    for _ in range(3):
        trainer.step_batch()
    assert trainer.cursor == 3
    save_session(session, SessionFile(Experiment.from_json(saved.experiment.to_json()), saved.session, trainer.state()),
                 network)
    status, out, _ = run(capsys, "train", "--config", session, "--epochs", "2", "--json")
    assert status == 0 and epochs_printed(out) == printed[2:4]


def test_a_diverged_run_is_saved_with_its_marker_and_last_finite_state(tmp_path, capsys):
    session = tmp_path / "run.epochlab"
    args = ("--dataset", "plane", "--samples", "60", "--layers", "none", "--optimizer", "sgd", "--lr", "1e6", "--seed", "2")
    status, out, err = run(capsys, "train", *args, "--epochs", "5", "--json", "--save", session)
    assert status == 1 and err.startswith("training stopped:")
    back = load_session(session)
    current = back.session.current
    assert [m.kind for m in current.markers] == ["diverged"] and "learning rate" in current.markers[0].text
    assert current.markers[0].position == back.state.epoch == len(current.record) == len(out.splitlines()) - 1
    assert np.isfinite(back.state.params).all()


def test_export_writes_every_form_at_once(tmp_path, capsys):
    session = tmp_path / "run.epochlab"
    assert run(capsys, "train", *RUN, "--epochs", "2", "--save", session)[0] == 0
    outputs = {"--script": "s.py", "--notebook": "n.ipynb", "--torch": "t.py", "--history": "h.csv", "--model": "m.npz"}
    try:
        import onnx  # noqa: F401
        outputs["--onnx"] = "o.onnx"
    except ImportError:  # the optional extra: export --onnx says so in one line
        pass
    status, _, err = run(capsys, "export", session, *(x for option, name in outputs.items() for x in (option, tmp_path / name)))
    assert status == 0, err
    assert all((tmp_path / name).stat().st_size for name in outputs.values())
