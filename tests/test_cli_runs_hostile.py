"""Session files that lie, and outputs that would destroy what a run reads: each is refused in
one line naming the file (exit status 2) before anything is trained or written."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.epochlab import (
    FINGERPRINT_KEY,
    SessionFile,
    load_network,
    load_session,
    load_session_dataset,
    save_session,
    write_members,
)
from core.files import save_data_npz
from core.npz_members import NPY_SUFFIX
from core.synthetic import synthetic
from core.trainer import Trainer
from core.trainer_state import _config_of

# a Dropout layer and Adam over a data file: every generator, the optimizer's moments and the data count
RUN = ("--layers", "6:tanh,dropout:0.2", "--batch-size", "16", "--seed", "3", "--epochs", "3")


def run(capsys, *argv: object) -> tuple[int, str, str]:
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def refused(capsys, *argv: object) -> str:
    """The one error line of a command that must exit 2 and print nothing else."""
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == "" and err.count("\n") == 1 and err.startswith("error: "), (status, out, err)
    return err


@pytest.fixture
def saved(tmp_path, capsys) -> Path:
    """A session file of 3 epochs on the data file data.npz (80 moons) beside it."""
    data = synthetic("moons", samples=80, seed=2)
    save_data_npz(tmp_path / "data.npz", data.X, data.y)
    session = tmp_path / "run.epochlab"
    assert run(capsys, "train", "--data", tmp_path / "data.npz", *RUN, "--save", session)[0] == 0
    return session


def members(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def rewrite(path: Path, change: Callable[[dict[str, np.ndarray]], None]) -> None:
    """Let ``change`` edit the members of the session file ``path``; write it again with valid checksums."""
    arrays = members(path)
    change(arrays)
    write_members(path, arrays)


def edit_json(key: str, change: Callable[[dict], object]) -> Callable[[dict[str, np.ndarray]], None]:
    """A ``rewrite`` change that edits the JSON member ``key`` (``change`` edits it in place)."""
    def edit(arrays: dict[str, np.ndarray]) -> None:
        value = json.loads(str(arrays[key]))
        change(value)
        arrays[key] = np.array(json.dumps(value))
    return edit


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


# ----- 1: outputs that would overwrite the run's own files ------------------------------------------
def test_an_exported_programs_data_file_may_not_replace_the_sessions_data(tmp_path, capsys):
    data = synthetic("moons", samples=60, seed=1)
    save_data_npz(tmp_path / "t_data.npz", data.X, data.y)
    assert run(capsys, "train", "--data", tmp_path / "t_data.npz", *RUN, "--save", tmp_path / "t.epochlab")[0] == 0
    before = snapshot(tmp_path)
    for program in ("--script", "--notebook", "--torch"):
        suffix = "ipynb" if program == "--notebook" else "py"
        err = refused(capsys, "export", tmp_path / "t.epochlab", program, tmp_path / f"t.{suffix}")
        assert f"would overwrite the session's data file {tmp_path / 't_data.npz'}" in err
    assert snapshot(tmp_path) == before


def test_an_exported_programs_data_file_may_not_be_another_output(tmp_path, capsys, saved):
    before = snapshot(tmp_path)
    err = refused(capsys, "export", saved, "--script", tmp_path / "s.py", "--model", tmp_path / "s_data.npz")
    assert "name the same file" in err and "--script's data file" in err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", ["train", "export"])
def test_the_history_may_not_replace_the_sessions_data_file(tmp_path, capsys, command):
    table = tmp_path / "table.csv"
    table.write_text("a,b,target\n" + "".join(f"{i % 7},{i % 3},{i % 2}\n" for i in range(40)))
    session = tmp_path / "c.epochlab"
    assert run(capsys, "train", "--data", table, *RUN, "--save", session)[0] == 0
    before = snapshot(tmp_path)
    argv = ("train", "--config", session, "--epochs", "1") if command == "train" else ("export", session)
    err = refused(capsys, *argv, "--history", table)
    assert f"--history would overwrite the session's data file {table}" in err
    assert snapshot(tmp_path) == before


# ----- 2: options given as 0 when continuing ------------------------------------------------------
@pytest.mark.parametrize("option", ["--val-split", "--seed", "--l1", "--l2", "--lr", "--batch-size", "--samples", "--noise"])
def test_continuing_refuses_an_option_given_as_zero(capsys, saved, option):
    err = refused(capsys, "train", "--config", saved, option, "0", "--epochs", "1")
    assert f"leave out {option}" in err and str(saved) in err
    assert load_session(saved).state.epoch == 3


def test_continuing_refuses_negative_epochs(capsys, saved):
    assert "epochs: expected a whole number ≥ 0, got -3" in refused(capsys, "train", "--config", saved, "--epochs", "-3")


# ----- 3: a float64 run exports as float64 --------------------------------------------------------
def test_a_float64_run_exports_its_float64_weights(tmp_path, capsys):
    session = tmp_path / "run.epochlab"
    assert run(capsys, "train", "--dataset", "moons", "--samples", "60", *RUN, "--dtype", "float64", "--save", session)[0] == 0
    assert run(capsys, "export", session, "--model", tmp_path / "m.npz")[0] == 0
    exported, kept = members(tmp_path / "m.npz"), members(session)
    assert exported["layer0.W"].dtype == np.float64
    assert np.array_equal(exported["layer0.W"], kept["layer0.W"])


# ----- 4: a session without its standardization -----------------------------------------------------
@pytest.mark.parametrize("renamed", [None, "preprocesX"])
@pytest.mark.parametrize("command", ["predict", "export", "train"])
def test_a_session_without_its_preprocess_member_is_refused(tmp_path, capsys, saved, renamed, command):
    def drop(arrays: dict[str, np.ndarray]) -> None:
        value = arrays.pop("preprocess")
        if renamed:
            arrays[renamed] = value
    rewrite(saved, drop)
    argv = {"predict": ("predict", saved, "--data", tmp_path / "data.npz"), "export": ("export", saved, "--model", tmp_path / "m.npz"),
            "train": ("train", "--config", saved, "--epochs", "1")}[command]
    err = refused(capsys, *argv)
    assert f"{saved}: is incomplete: it has no preprocess part" in err


# ----- 5 and 7: values no run makes, under valid checksums ------------------------------------------
def _generator(value: int, key: str = "state") -> Callable[[dict], None]:
    def change(state: dict) -> None:
        state["generators"]["shuffle"]["state"][key] = value
    return change


def _setting(name: str, value: object) -> Callable[[dict], None]:
    def change(state: dict) -> None:
        state["optimizer"]["settings"][name] = value
    return change


HUGE = 10**400
STATE_CHANGES = {
    "shuffle state -1": _generator(-1),
    "shuffle state 2**200": _generator(2**200),
    "uinteger -5": lambda s: s["generators"]["shuffle"].__setitem__("uinteger", -5),
    "huge setting change": lambda s: s.__setitem__("setting_changes", [[0.5, "learning_rate", HUGE]]),
    "huge setting change position": lambda s: s.__setitem__("setting_changes", [[HUGE, "learning_rate", 0.1]]),
    "huge learning rate": _setting("learning_rate", HUGE),
    "huge steps": lambda s: s["optimizer"].__setitem__("steps", HUGE),
    "epsilon -1": _setting("epsilon", -1),
    "epoch not the run's": lambda s: s.__setitem__("epoch", 2),
}
SESSION_CHANGES = {
    "huge created": lambda m: m["runs"][0].__setitem__("created", HUGE),
    "huge total": lambda m: m["runs"][0]["record"]["totals"].__setitem__("seconds", HUGE),
    "huge marker": lambda m: m["runs"][0].__setitem__("markers", [{"position": HUGE, "text": "x", "kind": "mark"}]),
}


@pytest.mark.parametrize("case", list(STATE_CHANGES) + list(SESSION_CHANGES))
def test_a_session_with_a_value_out_of_range_is_refused_in_one_line(tmp_path, capsys, saved, case):
    change = STATE_CHANGES.get(case)
    rewrite(saved, edit_json("state", change) if change else edit_json("session", SESSION_CHANGES[case]))
    assert refused(capsys, "train", "--config", saved, "--epochs", "1").startswith(f"error: {saved}: ")
    assert refused(capsys, "export", saved, "--history", tmp_path / "h.csv").startswith(f"error: {saved}: ")


@pytest.mark.parametrize(("member", "value", "words"), [
    ("state.params", np.nan, "NaN or infinite"),
    ("state.optimizer.m", np.inf, "NaN or infinite"),
    ("state.optimizer.v", -1.0, "negative values"),
])
def test_a_state_with_impossible_numbers_is_refused(capsys, saved, member, value, words):
    def spoil(arrays: dict[str, np.ndarray]) -> None:
        arrays[member] = arrays[member].copy()
        arrays[member][0] = value
    rewrite(saved, spoil)
    err = refused(capsys, "train", "--config", saved, "--epochs", "1")
    assert err.startswith(f"error: {saved}: ") and words in err


def test_a_cursor_past_the_epochs_mini_batches_is_refused(capsys, saved):
    """A state inside an epoch whose cursor is past its last mini-batch (outputs as long as the training part)."""
    saved_file = load_session(saved)
    network = load_network(saved)
    trainer = Trainer(network, load_session_dataset(saved, saved_file), saved_file.experiment.training)
    trainer.restore(saved_file.state)
    trainer.step_batch()
    session_file = SessionFile(saved_file.experiment, saved_file.session, trainer.state(), {}, saved_file.data_fingerprint)
    save_session(saved, session_file, network)

    def past(arrays: dict[str, np.ndarray]) -> None:
        meta = json.loads(str(arrays["state"]))
        meta["cursor"] = trainer.batches_per_epoch + 1
        arrays["state"] = np.array(json.dumps(meta))
        arrays["state.outputs"] = np.zeros((trainer.train_size, arrays["state.outputs"].shape[1]), arrays["state.outputs"].dtype)
    rewrite(saved, past)
    err = refused(capsys, "train", "--config", saved, "--epochs", "1")
    assert err.startswith(f"error: {saved}: ") and "past the 4 mini-batches of an epoch" in err


def test_weights_other_than_the_states_params_are_refused(capsys, saved):
    rewrite(saved, lambda arrays: arrays.__setitem__("layer0.W", arrays["layer0.W"] + 1))
    err = refused(capsys, "train", "--config", saved, "--epochs", "1")
    assert f"{saved}: its current weights" in err


def test_a_record_of_nan_epochs_is_refused(capsys, saved):
    rewrite(saved, lambda arrays: arrays.__setitem__("run1.record", np.full_like(arrays["run1.record"], np.nan)))
    err = refused(capsys, "train", "--config", saved, "--epochs", "1")
    assert err.startswith(f"error: {saved}: ") and "epoch" in err


def test_a_member_named_twice_is_refused(tmp_path, capsys, saved):
    doubled = tmp_path / "doubled.epochlab"
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(doubled, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
        with pytest.warns(UserWarning, match="Duplicate name"):
            target.writestr("state.params" + NPY_SUFFIX, source.read("state.params" + NPY_SUFFIX))
    err = refused(capsys, "train", "--config", doubled, "--epochs", "1")
    assert f"{doubled}: is damaged: it holds the member state.params.npy more than once" in err


# ----- 6: a window part that saving could not write again ------------------------------------------
def test_a_window_part_with_nan_is_refused_before_training(tmp_path, capsys, saved):
    rewrite(saved, lambda arrays: arrays.__setitem__("window", np.array('{"zoom": NaN}')))
    before = saved.read_bytes()
    err = refused(capsys, "train", "--config", saved, "--epochs", "1", "--save", saved)
    assert f"{saved}: the window part holds NaN" in err and saved.read_bytes() == before


# ----- 8 and 11: the data changed since the session was saved ----------------------------------------
def _replace_data(folder: Path, samples: int, seed: int) -> None:
    data = synthetic("moons", samples=samples, seed=seed)
    save_data_npz(folder / "data.npz", data.X, data.y)


@pytest.mark.parametrize("command", ["train", "export"])
def test_changed_data_with_as_many_rows_is_refused(tmp_path, capsys, saved, command):
    _replace_data(tmp_path, 80, seed=9)
    argv = ("train", "--config", saved, "--epochs", "1") if command == "train" else ("export", saved, "--script", tmp_path / "s.py")
    err = refused(capsys, *argv)
    assert f"{saved}: its data file {tmp_path / 'data.npz'} has changed since the session was saved" in err


def _without_fingerprint(arrays: dict[str, np.ndarray]) -> None:
    del arrays[FINGERPRINT_KEY]  # as a file of an older Epoch Lab


def test_an_old_session_on_fewer_rows_names_the_file_and_the_data(tmp_path, capsys, saved):
    rewrite(saved, _without_fingerprint)
    _replace_data(tmp_path, 40, seed=2)
    err = refused(capsys, "train", "--config", saved, "--epochs", "1")
    assert f"{saved}: its data file {tmp_path / 'data.npz'} has changed since the session was saved" in err
    assert "trained on 64 training samples, this data and split give 32" in err


def test_an_old_session_on_data_of_other_features_names_the_file_and_the_data(tmp_path, capsys, saved):
    rewrite(saved, _without_fingerprint)
    data = synthetic("moons", samples=80, seed=2)
    save_data_npz(tmp_path / "data.npz", np.hstack([data.X, data.X]), data.y)
    err = refused(capsys, "train", "--config", saved, "--epochs", "1")
    assert f"{saved}: its data file {tmp_path / 'data.npz'} has changed since the session was saved" in err
    assert "the network takes 2 inputs but the data has 4 features" in err


def test_an_unchanged_data_file_continues(capsys, saved):
    assert load_session(saved).data_fingerprint is not None
    assert run(capsys, "train", "--config", saved, "--epochs", "1", "--save", saved)[0] == 0
    assert load_session(saved).state.epoch == 4


# ----- 10: a run's checkpoints share one config, checked once ---------------------------------------
def test_identical_checkpoint_configs_are_checked_once(capsys, saved, monkeypatch):
    from core import trainer_state

    assert run(capsys, "train", "--config", saved, "--epochs", "5", "--save", saved)[0] == 0
    checked = []
    original = trainer_state._config_of_value
    monkeypatch.setattr(trainer_state, "_config_of_value",
                        lambda meta, where="trainer state config": checked.append(where) or original(meta, where))
    _config_of.cache_clear()
    back = load_session(saved)
    assert len(back.session.current.checkpoints.epochs) >= 3
    assert checked.count("trainer state config") == 1
