"""The command line handed what cannot be right, and interrupted: ``python main.py …`` in a
subprocess each time, as a user runs it. Every refusal is one line on stderr and exit status
2; Ctrl-C and SIGTERM end with status 130, no traceback, and the outputs of the last complete
epoch written; no temporary file is ever left behind."""

from __future__ import annotations

import csv
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from app.main import CLI_COMMANDS, mistyped_command
from core.cli import build_parser
from core.experiment import default_experiment, network_spec, parse_layers
from core.files import load_model, save_data_npz, save_model
from core.network import Network
from core.synthetic import synthetic
from core.trainer import Trainer, TrainingConfig

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--dataset", "xor", "--samples", "40", "--layers", "3:tanh"]
CHILD_TIMEOUT_S = 120


def main_py(env: dict[str, str], *argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=CHILD_TIMEOUT_S, check=False)


def assert_refused(done: subprocess.CompletedProcess, *words: str) -> None:
    """Exit status 2, nothing on stdout, one ``error:`` line on stderr holding ``words``."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stdout == ""
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    for word in words:
        assert word in done.stderr, (word, done.stderr)


def leftovers(folder: Path) -> list[str]:
    """Temporary files a write left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def model(tmp_path) -> Path:
    """A model file for 2-input data (the spiral and xor)."""
    path = tmp_path / "model.npz"
    net = Network(network_spec(synthetic("xor", samples=20), parse_layers("3:tanh")), seed=0)
    save_model(path, net)
    return path


# ----- empty paths ------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [
    ["train", "--data", ""], ["train", "--save", ""], ["train", "--history", ""], ["train", "--config", ""],
    ["train", "--init", ""], ["data", ""], ["predict", "", "--data", "x.npz"],
], ids=lambda argv: " ".join(a or "''" for a in argv))
def test_an_empty_path_is_refused_and_nothing_is_trained(tmp_path, child_env, argv):
    done = main_py(child_env, *argv, *(["--epochs", "1"] if argv[0] == "train" else []), cwd=tmp_path)
    assert_refused(done, "empty path")
    assert list(tmp_path.iterdir()) == [tmp_path / "child-user"]  # nothing written


def test_predict_with_an_empty_data_path_is_refused(child_env, model):
    assert_refused(main_py(child_env, "predict", str(model), "--data", ""), "--data", "empty path")


# ----- model files that cannot be right ------------------------------------------------------------
def model_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def json_array(value: object) -> np.ndarray:
    return np.array(json.dumps(value))


def rewrite(path: Path, name: str, **changes: np.ndarray) -> Path:
    out = path.with_name(name)
    np.savez(out, allow_pickle=False, **{**model_arrays(path), **changes})
    return out


@pytest.mark.parametrize(("name", "change", "words"), [
    ("nan.npz", {"layer0.W": np.full((3, 2), np.nan, np.float32)}, ["layer0.W", "NaN or infinite"]),
    ("inf.npz", {"layer1.b": np.array([np.inf])}, ["layer1.b", "NaN or infinite"]),
    ("huge.npz", {"layer1.b": np.array([1e300])}, ["layer1.b", "float32"]),
    ("complex.npz", {"layer0.b": np.array([1j, 0, 0])}, ["layer0.b", "complex"]),
    ("short_mean.npz", {"preprocess": json_array({"mean": [0.0], "std": [1.0, 1.0]})}, ["preprocess.mean", "2 inputs"]),
    ("long_std.npz", {"preprocess": json_array({"mean": [0.0, 0.0], "std": [1.0, 1.0, 1.0]})}, ["preprocess.std", "2 inputs"]),
    ("zero_std.npz", {"preprocess": json_array({"mean": [0.0, 0.0], "std": [1.0, 0.0]})}, ["preprocess.std", "above 0"]),
    ("schema.npz", {"spec": json_array({"input_shape": [2], "colour": "red", "layers": [
        {"type": "dense", "units": 3, "activation": "tanh"}, {"type": "dense", "units": 1, "activation": "sigmoid"}]})},
     ["spec.colour", "unknown"]),
], ids=lambda v: v if isinstance(v, str) else None)
@pytest.mark.parametrize("use", ["predict", "init"])
def test_a_model_that_cannot_be_right_is_refused(tmp_path, child_env, model, name, change, words, use):
    bad = rewrite(model, name, **change)
    points = tmp_path / "points.npz"
    save_data_npz(points, np.zeros((3, 2)), np.array([0, 1, 0]))
    if use == "predict":
        done = main_py(child_env, "predict", str(bad), "--data", str(points))
    else:
        done = main_py(child_env, "train", *TINY, "--init", str(bad), "--epochs", "1", "--save", str(tmp_path / "out.npz"))
        assert not (tmp_path / "out.npz").exists()
    assert_refused(done, str(bad), *words)


@pytest.mark.parametrize(("name", "X", "words"), [
    ("complex.npz", np.array([[1 + 2j, 0], [0, 1]]), ["complex"]),
    ("nan.npz", np.array([[0.0, 1.0], [np.inf, 0.0]]), ["NaN or infinite", "sample 1"]),
    ("objects.npz", np.array([[{"a": 1}, None]], dtype=object), ["Python objects", "never unpickled"]),
], ids=lambda v: v if isinstance(v, str) else None)
def test_predict_refuses_inputs_that_are_not_real_numbers(tmp_path, child_env, model, name, X, words):
    data = tmp_path / name
    np.savez(data, X=X)
    done = main_py(child_env, "predict", str(model), "--data", str(data))
    assert_refused(done, str(data), *words)
    assert "allow_pickle" not in done.stderr and "unsafely" not in done.stderr


def test_predict_never_suggests_unpickling_a_pickle(tmp_path, child_env, model):
    data = tmp_path / "points.npz"
    data.write_bytes(pickle.dumps({"X": [[0.0, 1.0]]}))
    done = main_py(child_env, "predict", str(model), "--data", str(data))
    assert_refused(done, str(data), "pickled Python objects", "never unpickled")
    assert "allow_pickle" not in done.stderr and "unsafely" not in done.stderr


# ----- the command or the window ---------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["fly"], ["trian", "--epochs", "3"], ["-platform", "offscreen", "fly"], ["results"]])
def test_a_mistyped_command_is_an_error_and_no_window_opens(tmp_path, child_env, argv):
    (tmp_path / "results").mkdir()  # a folder is no experiment either
    done = main_py(child_env, *argv, cwd=tmp_path)
    assert_refused(done, f"'{argv[-1] if argv[0] == '-platform' else argv[0]}' is not a command", "train, predict, data")


def test_a_close_miss_names_the_command(tmp_path, child_env):
    assert_refused(main_py(child_env, "trian"), "did you mean 'train'?")


@pytest.mark.parametrize(("argv", "window"), [
    ([], True), (["lesson.json"], True), (["missing.JSON"], True), (["notes.txt"], True),
    (["-platform", "offscreen"], True), (["--platform", "offscreen", "lesson.json"], True),
    (["-style=fusion", "lesson.json"], True),
    (["--auto-train-epochs", "5", "--quit-after"], True), (["-platform", "offscreen", "-style", "fusion", "--quit-after"], True),
    (["fly"], False), (["-platform", "offscreen", "fly"], False), (["lesson.json", "fly"], False), (["results"], False),
    (["--quit-after", "Train"], False),
])
def test_which_arguments_open_the_window(tmp_path, monkeypatch, argv, window):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("an existing file: the window says what is wrong with it")
    (tmp_path / "results").mkdir()
    assert (mistyped_command(argv) is None) == window


def test_the_dispatcher_knows_every_command_of_the_cli():
    commands = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(commands.choices) == set(CLI_COMMANDS)


def test_an_experiment_file_still_opens_the_window(tmp_path, child_env):
    lesson = tmp_path / "lesson.json"
    experiment = default_experiment()
    experiment.dataset = {**experiment.dataset, "samples": 60}
    experiment.save(lesson)
    done = main_py(child_env, str(lesson), "-platform", "offscreen", "--auto-train-epochs", "2", "--quit-after")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("epoch 2: training loss ")


# ----- outputs -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("option", "target", "words"), [
    ("--save", "/dev/null", ["/dev/null", "is a device", "only regular files"]),
    ("--history", "/dev/null", ["/dev/null", "is a device"]),
    ("--save", "{tmp}", ["is a folder"]),
    ("--save", "{tmp}/no-such-folder/m.npz", ["no-such-folder", "does not exist"]),
    ("--history", "{tmp}/a-file/h.csv", ["a-file", "is not a folder"]),
    ("--save", "{tmp}/pipe", ["is a named pipe"]),
], ids=lambda v: v if isinstance(v, str) and v.startswith("-") else None)
def test_an_output_that_cannot_be_written_is_refused_before_training(tmp_path, child_env, option, target, words):
    (tmp_path / "a-file").write_text("a file, not a folder")
    os.mkfifo(tmp_path / "pipe")
    before = sorted(tmp_path.iterdir())
    done = main_py(child_env, "train", *TINY, "--epochs", "1000000", "--json", option, target.format(tmp=tmp_path))
    assert_refused(done, option, *words)  # at once: a million epochs were never started
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any folder")
def test_a_folder_without_write_permission_is_refused_before_training(tmp_path, child_env):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    done = main_py(child_env, "train", *TINY, "--epochs", "1000000", "--save", str(locked / "m.npz"))
    assert_refused(done, "--save", "cannot write in the folder")
    assert list(locked.iterdir()) == []


def test_save_and_history_on_one_file_is_refused(tmp_path, child_env):
    out, same = tmp_path / "out", tmp_path / "." / "out"
    done = main_py(child_env, "train", *TINY, "--epochs", "1", "--save", str(out), "--history", str(same))
    assert_refused(done, "--save and --history name the same file")
    assert not out.exists()


def test_outputs_are_written_through_a_symlink(tmp_path, child_env):
    models = tmp_path / "models"
    models.mkdir()
    real = models / "real.npz"
    real.write_bytes(b"old contents")
    link = tmp_path / "latest.npz"
    link.symlink_to(real)
    dangling = tmp_path / "history.csv"
    dangling.symlink_to(models / "history-target.csv")
    done = main_py(child_env, "train", *TINY, "--epochs", "2", "--save", str(link), "--history", str(dangling))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and dangling.is_symlink()
    assert load_model(real).input_shape == (2,)
    assert (models / "history-target.csv").read_text().startswith("epoch,")
    assert leftovers(tmp_path) == leftovers(models) == []


# ----- interrupts ------------------------------------------------------------------------------------------
CTRL_C = "raise KeyboardInterrupt\n"
SIGTERM_TO_SELF = "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n"


def shadowing(tmp_path: Path, module: str, env: dict[str, str], body: str = CTRL_C) -> dict[str, str]:
    """``env`` in which importing ``module`` runs ``body``: interrupted as by Ctrl-C (or SIGTERM) at that moment."""
    folder = tmp_path / "interrupting" / module
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(body)
    return {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(folder.parent), env.get("PYTHONPATH")]))}


@pytest.mark.parametrize(("module", "argv", "body"), [
    ("numpy", ["train", *TINY, "--epochs", "1"], CTRL_C),  # while the command line imports the engine
    ("numpy", ["train", *TINY, "--epochs", "1"], SIGTERM_TO_SELF),
    ("difflib", ["train", "--epochs", "1"], CTRL_C),  # while main.py imports the dispatcher
    ("difflib", ["train", "--epochs", "1"], SIGTERM_TO_SELF),
    ("PySide6", ["-platform", "offscreen", "--quit-after"], CTRL_C),  # while the window imports Qt (a SIGTERM then
])                                                                  # waits for the window: test_window_exits)
def test_an_interrupt_during_start_up_prints_one_line_and_exits_130(tmp_path, child_env, module, argv, body):
    done = main_py(shadowing(tmp_path, module, child_env, body), *argv)
    assert done.returncode == 130, done.stderr
    assert done.stderr == "interrupted\n" and done.stdout == ""


def test_a_burst_of_ctrl_c_still_ends_with_one_status_and_no_traceback(tmp_path, child_env):
    model = tmp_path / "m.npz"
    child = subprocess.Popen([sys.executable, "main.py", "train", *TINY, "--epochs", "100000", "--json", "--save", str(model)],
                             cwd=ROOT, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        child.stdout.readline()
        for _ in range(50):  # spread out: some arrive while it writes, exits and shuts down
            if child.poll() is not None:
                break
            child.send_signal(signal.SIGINT)
            time.sleep(0.005)
        _, stderr = child.communicate(timeout=CHILD_TIMEOUT_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 130 and "Traceback" not in stderr, (child.returncode, stderr)
    assert load_model(model) and leftovers(tmp_path) == []


def test_an_interrupt_before_the_first_epoch_finished_writes_nothing(tmp_path, capsys, monkeypatch):
    import core.cli

    def interrupted_at_once(trainer, interrupts, on_report):
        interrupts.signalled = True

    monkeypatch.setattr(core.cli, "_train", interrupted_at_once)
    status = core.cli.main(["train", *TINY, "--epochs", "5", "--save", str(tmp_path / "m.npz"), "--history", str(tmp_path / "h.csv")])
    assert status == 130 and "nothing written" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("signals", [[signal.SIGINT], [signal.SIGTERM], [signal.SIGINT, signal.SIGTERM, signal.SIGINT]],
                         ids=["SIGINT", "SIGTERM", "three signals"])
def test_an_interrupt_during_training_writes_the_last_complete_epoch(tmp_path, child_env, signals):
    model, history = tmp_path / "m.npz", tmp_path / "h.csv"
    stderr = tmp_path / "stderr.txt"
    with open(stderr, "w", encoding="utf-8") as errors:
        child = subprocess.Popen(
            [sys.executable, "main.py", "train", *TINY, "--seed", "3", "--epochs", "100000", "--json",
             "--save", str(model), "--history", str(history)],
            cwd=ROOT, env=child_env, stdout=subprocess.PIPE, stderr=errors, text=True)
    try:
        printed = [json.loads(child.stdout.readline()) for _ in range(3)]
        for number in signals:
            child.send_signal(number)
        printed += [json.loads(line) for line in child.stdout]  # to the end: the child has exited
        child.wait(timeout=CHILD_TIMEOUT_S)
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
        child.wait()
    err = stderr.read_text(encoding="utf-8")
    assert child.returncode == 130, err
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("interrupted after epoch ")
    with open(history, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    epochs = len(rows)
    assert epochs >= len(printed) and [int(r["epoch"]) for r in rows] == list(range(1, epochs + 1))
    assert f"interrupted after epoch {epochs}; wrote {history} and {model}" in err
    assert [r["epoch"] for r in printed] == list(range(1, epochs + 1))  # every complete epoch, and only those
    # the saved weights are those of exactly `epochs` epochs of the same run
    data = synthetic("xor", samples=40, seed=3)
    reference = Network(network_spec(data, parse_layers("3:tanh")), seed=3)
    Trainer(reference, data, TrainingConfig(seed=3)).run(epochs)
    assert np.array_equal(load_model(model).params, reference.params)
    assert leftovers(tmp_path) == []


def test_the_signal_handlers_come_back_after_training(tmp_path):
    from core.cli import main

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    assert main(["train", *TINY, "--epochs", "1", "--save", str(tmp_path / "m.npz")]) == 0
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_a_signal_while_the_outputs_are_written_cuts_nothing_short(tmp_path, monkeypatch, capsys):
    """In process, so the signal lands exactly while the history is being written."""
    import core.cli

    def write_while_signalled(path, records):
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        core.files.write_history_csv(path, records)

    monkeypatch.setattr(core.cli, "write_history_csv", write_while_signalled)
    model, history = tmp_path / "m.npz", tmp_path / "h.csv"
    status = core.cli.main(["train", *TINY, "--epochs", "4", "--save", str(model), "--history", str(history)])
    assert status == 130 and capsys.readouterr().err == f"interrupted after epoch 4; wrote {history} and {model}\n"
    assert len(history.read_text().splitlines()) == 5 and load_model(model).input_shape == (2,)
    assert leftovers(tmp_path) == []


def test_a_signal_before_training_ends_the_run_at_once(tmp_path, monkeypatch, capsys):
    import core.cli

    def interrupted_load(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("the signal should have ended the run")

    monkeypatch.setattr(core.cli, "load_dataset", interrupted_load)
    status = core.cli.main(["train", *TINY, "--epochs", "4", "--save", str(tmp_path / "m.npz")])
    assert status == 130 and capsys.readouterr().err == "interrupted\n"
    assert list(tmp_path.iterdir()) == []
