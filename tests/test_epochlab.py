"""Session files (.epochlab): save → load gives the same runs, records, markers, checkpoints,
state, window and weights; damaged, truncated, newer or incomplete files are refused in one
line; a save cut short (an error, a kill) leaves the old file whole."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.epochlab import FORMAT_VERSION, SessionFile, load_network, load_session, load_session_dataset, save_session
from core.experiment import Experiment, network_spec, parse_layers
from core.files import FileFormatError, load_model, save_data_npz
from core.network import Network
from core.run import Marker, Session
from core.synthetic import synthetic
from core.trainer import Trainer, TrainingConfig

ROOT = Path(__file__).resolve().parent.parent
CHILD_TIMEOUT_S = 120


def trained_session(epochs: int = 6, dataset: dict | None = None, data=None) -> tuple[SessionFile, Network]:
    """A session of two runs (the second a branch of the first after 3 epochs), with markers,
    a pinned checkpoint, a mid-epoch current state and a window part; and the current network."""
    dataset = dataset or {"name": "spiral", "samples": 120, "noise": 0.1, "seed": 0}
    data = data if data is not None else synthetic("spiral", samples=120, seed=0)
    config = TrainingConfig(batch_size=16, epochs=epochs, learning_rate=0.02)
    spec = network_spec(data, parse_layers("6:tanh,dropout:0.2"))
    experiment = Experiment(dataset, spec, config)
    session = Session()
    network = Network(spec, seed=4)
    trainer = Trainer(network, data, config)
    first = session.start_run(experiment.to_json(), trainer.metric_name)
    first.checkpoints.add(trainer.state())
    for _ in range(epochs):
        first.record.append_report(trainer.run_epoch())
        first.checkpoints.add(trainer.state(), pinned=trainer.epoch == 2)
    first.markers.append(Marker(2.5, "α 0.02 → 0.05", "setting"))
    branch_config = TrainingConfig(batch_size=16, epochs=epochs, learning_rate=0.05)
    branch = session.start_run(Experiment(dataset, spec, branch_config).to_json(), trainer.metric_name,
                               parent=first, branch_epoch=3)
    trainer = Trainer(network, data, branch_config)
    trainer.restore(first.checkpoints.get(3))
    for _ in range(2):
        branch.record.append_report(trainer.run_epoch())
        branch.checkpoints.add(trainer.state())
    trainer.step_batch()  # the current state is inside an epoch
    session.rename(first.id, "the first")
    session.set_visible(first.id, False)
    return SessionFile(Experiment(dataset, spec, branch_config), session, trainer.state(),
                       {"views": ["weights", "boundary"], "cursor": 4.5}), network


def same_state(a, b) -> bool:
    (meta_a, arrays_a), (meta_b, arrays_b) = a.to_parts(), b.to_parts()
    return meta_a == meta_b and arrays_a.keys() == arrays_b.keys() and all(
        np.array_equal(arrays_a[k], arrays_b[k]) and arrays_a[k].dtype == arrays_b[k].dtype for k in arrays_a)


def assert_same_session(saved: SessionFile, back: SessionFile) -> None:
    assert back.experiment.to_json() == saved.experiment.to_json() and back.window == saved.window
    assert same_state(back.state, saved.state) and back.state.cursor > 0
    assert [run.id for run in back.session.runs] == [run.id for run in saved.session.runs]
    assert back.session.current.id == saved.session.current.id
    for run, old in zip(back.session.runs, saved.session.runs, strict=True):
        assert (run.name, run.experiment, run.markers, run.parent, run.branch_epoch, run.visible, run.created) == (
            old.name, old.experiment, old.markers, old.parent, old.branch_epoch, old.visible, old.created)
        assert list(run.record.records()) == list(old.record.records()) and run.record.metric_name == old.record.metric_name
        assert np.array_equal(run.record.rows(), old.record.rows())
        assert [run.record.total(name) for name in ("seconds", "samples")] == [old.record.total(n) for n in ("seconds", "samples")]
        assert (run.checkpoints.epochs, run.checkpoints.pinned, run.checkpoints.interval, run.checkpoints.budget) == (
            old.checkpoints.epochs, old.checkpoints.pinned, old.checkpoints.interval, old.checkpoints.budget)
        assert all(same_state(run.checkpoints.get(e), old.checkpoints.get(e)) for e in old.checkpoints.epochs)


@pytest.fixture
def saved(tmp_path) -> tuple[Path, SessionFile, Network]:
    path = tmp_path / "run.epochlab"
    session_file, network = trained_session()
    save_session(path, session_file, network)
    return path, session_file, network


def test_save_then_load_gives_the_same_session_and_weights(saved):
    path, session_file, network = saved
    back = load_session(path)
    assert_same_session(session_file, back)
    assert list(back.session.records(back.session.current))[-1]["epoch"] == 5  # 3 of the parent, 2 of the branch
    loaded = load_network(path)
    assert np.array_equal(loaded.params, network.params) and loaded.seed == network.seed == 4
    assert np.array_equal(loaded.preprocess.mean, network.preprocess.mean)


def test_numpy_reads_it_without_pickles_and_it_holds_the_model_keys(saved):
    path, _, network = saved
    with np.load(path, allow_pickle=False) as npz:
        members = {name: npz[name] for name in npz.files}
    assert json.loads(str(members["format_version"])) == FORMAT_VERSION
    assert json.loads(str(members["spec"])) == network.spec()
    assert np.array_equal(members["layer0.W"], network.parameters_by_layer()[0]["W"])
    assert json.loads(str(members["window"]))["cursor"] == 4.5


def test_the_same_session_is_saved_as_the_same_bytes(saved, tmp_path):
    path, session_file, network = saved
    save_session(tmp_path / "again.epochlab", session_file, network)
    assert (tmp_path / "again.epochlab").read_bytes() == path.read_bytes()


def test_predict_and_init_read_a_session_file_as_a_model(saved, tmp_path, capsys):
    path, _, network = saved
    points = tmp_path / "points.npz"
    X = np.array([[0.1, 0.2], [-1.0, 0.5]])
    save_data_npz(points, X, np.array([0, 1]))
    assert main(["predict", str(path), "--data", str(points), "--json"]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    np.testing.assert_allclose(printed, network.predict(X), rtol=1e-6)
    assert np.array_equal(load_model(path).params, network.params)
    status = main(["train", "--dataset", "spiral", "--samples", "120", "--init", str(path), "--epochs", "1", "--json"])
    assert status == 0 and capsys.readouterr().err == ""


def test_relative_data_paths_start_at_the_files_folder(tmp_path):
    data = synthetic("moons", samples=60, seed=1)
    (tmp_path / "data").mkdir()
    save_data_npz(tmp_path / "data" / "moons.npz", data.X, data.y)
    session_file, network = trained_session(dataset={"path": "data/moons.npz"}, data=data)
    (tmp_path / "elsewhere").mkdir()
    path = tmp_path / "elsewhere" / "run.epochlab"
    save_session(path, session_file, network, data_folder=tmp_path)
    back = load_session(path)
    assert back.experiment.dataset["path"] == "../data/moons.npz"
    assert all(run.experiment["dataset"]["path"] == "../data/moons.npz" for run in back.session.runs)
    assert np.array_equal(load_session_dataset(path, back).X, data.X)
    (tmp_path / "data" / "moons.npz").rename(tmp_path / "moved.npz")
    with pytest.raises(FileFormatError, match=r"run\.epochlab: the data file \.\./data/moons\.npz is not there any more"):
        load_session_dataset(path, back)


def refusal(path: Path) -> str:
    with pytest.raises(FileFormatError) as caught:
        load_session(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    return message


def member_data_offsets(path: Path) -> dict[str, int]:
    """The offset of the middle of each member's stored bytes in the archive."""
    offsets = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as f:
        for info in archive.infolist():
            f.seek(info.header_offset + 26)
            name_length, extra_length = np.frombuffer(f.read(4), dtype="<u2")
            offsets[info.filename] = info.header_offset + 30 + int(name_length) + int(extra_length) + info.compress_size // 2
    return offsets


def test_a_byte_flipped_in_any_member_is_refused(saved, tmp_path):
    path = saved[0]
    original = path.read_bytes()
    for member, offset in member_data_offsets(path).items():
        damaged = bytearray(original)
        damaged[offset] ^= 0x55
        bad = tmp_path / "damaged.epochlab"
        bad.write_bytes(bytes(damaged))
        message = refusal(bad)
        assert "damaged" in message or "cannot be read" in message, (member, message)


@pytest.mark.parametrize("keep", [0, 10, 0.5, -1], ids=["empty", "10 bytes", "half", "all but the last byte"])
def test_a_truncated_file_is_refused(saved, tmp_path, keep):
    data = saved[0].read_bytes()
    size = int(len(data) * keep) if isinstance(keep, float) else (len(data) + keep if keep < 0 else keep)
    bad = tmp_path / "cut.epochlab"
    bad.write_bytes(data[:size])
    assert refusal(bad)


def rewritten(path: Path, target: Path, replace: dict | None = None, drop: tuple[str, ...] = ()) -> Path:
    """A copy of the session file ``path`` at ``target`` with members replaced or dropped."""
    with np.load(path, allow_pickle=False) as npz:
        members = {name: npz[name] for name in npz.files if name not in drop}
    members.update(replace or {})
    with open(target, "wb") as f:  # a file object: np.savez would add .npz to the name
        np.savez(f, allow_pickle=False, **members)
    return target


def test_a_newer_format_version_is_refused_by_name(saved, tmp_path):
    newer = rewritten(saved[0], tmp_path / "newer.epochlab", {"format_version": np.array("2")})
    assert refusal(newer) == f"{newer}: written by a newer Epoch Lab (file format 2; this one reads 1)"
    status = main(["train", "--config", str(newer), "--epochs", "1"])
    assert status == 2


@pytest.mark.parametrize(("part", "words"), [
    *((part, f"has no {part} part") for part in ("session", "experiment", "state", "window", "spec")),
    ("run1.record", "has no array 'run1.record'"), ("state.params", "(arrays state.*): trainer state: missing array 'params'"),
    ("run2.checkpoints.optimizer.m", "(arrays run2.checkpoints.*, row 0): trainer state: missing array 'optimizer.m'"),
])
def test_a_missing_part_is_refused(saved, tmp_path, part, words):
    assert words in refusal(rewritten(saved[0], tmp_path / "part.epochlab", drop=(part,)))


@pytest.mark.parametrize(("member", "value", "words"), [
    ("run1.record", np.zeros((3, 7)), "run1.record' must be float64 of shape (6, 7)"),
    ("run2.checkpoints.params", np.zeros((2, 5), np.float32), "arrays run2.checkpoints.*, row 0"),
    ("session", np.array('{"current": 1, "runs": [{"id": "one"}]}'), "session.runs[0].id: expected a whole number"),
    ("window", np.array("[1, 2]"), "window part must be a JSON object"),
    ("experiment", np.array('{"dataset": {"name": "nowhere"}, "network": {}}'), "experiment.dataset"),
    ("state", np.array("{not json"), "state is not valid JSON"),
    ("session", np.zeros(3), "array 'session' must be one JSON string"),
])
def test_a_part_of_the_wrong_kind_is_refused(saved, tmp_path, member, value, words):
    message = refusal(rewritten(saved[0], tmp_path / "wrong.epochlab", {member: value}))
    assert words in message


def test_a_model_file_is_not_a_session_file(tmp_path):
    from core.files import save_model

    model = tmp_path / "model.epochlab"
    save_model(model, Network({"input_shape": [2], "layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]}))
    assert "is not an Epoch Lab session file" in refusal(model)


def test_a_save_that_fails_midway_leaves_the_old_file_whole(saved, monkeypatch):
    import core.epochlab

    path, session_file, network = saved
    before = path.read_bytes()

    def half_then_fail(f, arrays):
        f.write(b"PK\x03\x04" + b"x" * 1000)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(core.epochlab, "_write_npz", half_then_fail)
    with pytest.raises(FileFormatError, match="could not be written"):
        save_session(path, session_file, network)
    assert path.read_bytes() == before and sorted(p.name for p in path.parent.iterdir()) == ["run.epochlab"]
    assert_same_session(session_file, load_session(path))


SAVER = """
import sys
sys.path.insert(0, {root!r})
from core.epochlab import SessionFile, save_session
from core.experiment import Experiment
from core.network import Network
from core.run import Session
spec = {{"input_shape": [400], "layers": [{{"type": "dense", "units": 2000, "activation": "tanh"}},
                                          {{"type": "dense", "units": 1, "activation": "sigmoid"}}]}}
network = Network(spec)
experiment = Experiment({{"name": "spiral"}}, spec)
save_session(sys.argv[1], SessionFile(experiment, Session(), None, {{"n": 0}}), network)
print("saved", flush=True)
n = 1
while True:
    network.params[:] += 1
    save_session(sys.argv[1], SessionFile(experiment, Session(), None, {{"n": n}}), network)
    n += 1
"""


def half_written(folder: Path) -> bool:
    """Whether a save's temporary file in ``folder`` has some bytes in it (a save is under way)."""
    for temporary in folder.glob(".*.tmp"):
        try:
            if temporary.stat().st_size:
                return True
        except FileNotFoundError:  # renamed into place meanwhile
            pass
    return False


def test_a_kill_during_save_leaves_a_whole_file(tmp_path, child_env):
    path = tmp_path / "big.epochlab"
    child = subprocess.Popen([sys.executable, "-c", SAVER.format(root=str(ROOT)), str(path)], env=child_env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "saved\n"
        while child.poll() is None and not half_written(tmp_path):
            pass
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=CHILD_TIMEOUT_S)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()
    back = load_session(path)
    assert back.window["n"] >= 0
    assert float(load_network(path).params[-1]) == back.window["n"]  # the output bias, 0 + 1 a save: the same save


def test_members_taken_now_are_written_as_they_were(tmp_path):
    from core.epochlab import session_members, write_members

    session_file, network = trained_session()
    path = tmp_path / "snapshot.epochlab"
    members = session_members(path, session_file, network)
    before = network.params.copy()
    session_file.session.current.record.append_report(session_file.session.current.record.recent[-1])
    session_file.session.current.markers.append(Marker(9.0, "later", "mark"))
    session_file.window["cursor"] = 99
    network.params[...] += 1
    write_members(path, members)  # as an autosave thread would, while training went on
    back = load_session(path)
    assert len(back.session.current.record) == 2 and back.session.current.markers[-1].kind == "branch"
    assert back.window["cursor"] == 4.5 and np.array_equal(load_network(path).params, before)


def test_a_file_of_more_checkpoints_than_a_run_keeps_now_loads_thinned():
    """Files written before runs kept at most CHECKPOINT_COUNT states hold more, at interval 1."""
    import dataclasses

    from core.run import CHECKPOINT_COUNT, Checkpoints
    from core.run_files import session_from_parts, session_parts
    from core.run_record import RECORD_COLUMNS, RunRecord

    session_file, _ = trained_session(epochs=3)
    state = session_file.session.runs[0].checkpoints.get(0)
    session = Session()
    run = session.start_run(session_file.experiment.to_json(), "accuracy")
    epochs = CHECKPOINT_COUNT + 100
    run.checkpoints = Checkpoints(count=10 * epochs)  # as an older Epoch Lab kept them: every epoch
    for epoch in range(epochs + 1):
        run.checkpoints.add(dataclasses.replace(state, epoch=epoch))
    rows = np.zeros((epochs, len(RECORD_COLUMNS)))
    rows[:, 0] = np.arange(1, epochs + 1)
    run.record = RunRecord.restore("accuracy", rows, {"seconds": 1.0, "samples": 10.0}, True)
    meta, arrays = session_parts(session)
    back = session_from_parts(meta, arrays.__getitem__, arrays).current
    assert {0, epochs} <= set(back.checkpoints.epochs) and len(back.checkpoints) <= CHECKPOINT_COUNT + 2
    assert set(back.checkpoints.epochs) <= set(range(epochs + 1)) and back.checkpoints.interval > 1
