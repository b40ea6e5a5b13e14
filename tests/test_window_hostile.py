"""The window handed files it cannot use keeps what it has: after a few epochs of the default
experiment, each bad experiment file (and bad data from the Load data dialog) is refused in
the banner, and the dataset, network, settings, run and trainer stay exactly as they were,
so that Play trains on from where it stopped. Every hostile file is generated here."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from gui_helpers import WAIT_MS, child, click, pause, step_epochs
from PySide6.QtWidgets import QLabel, QPushButton, QToolButton

import app.data_loader
import app.worker
from app.main_window import MainWindow
from core.data import make_dataset
from core.experiment import Experiment, default_experiment
from core.trainer import ConfigError

TRAINED_EPOCHS = 3


def valid_experiment() -> dict:
    return default_experiment().to_json()


def changed(**parts) -> dict:
    """The default experiment as JSON with ``parts`` (dataset, network, training) replaced."""
    data = copy.deepcopy(valid_experiment())
    data.update(parts)
    return data


def with_hidden_units(units: int) -> dict:
    network = copy.deepcopy(valid_experiment()["network"])
    network["layers"][0]["units"] = units
    return changed(network=network)


def regression_with_a_classification_loss() -> dict:
    """Sine (a continuous target) trained with categorical cross-entropy on one sigmoid unit."""
    network = {"input_shape": [1], "layers": [{"type": "dense", "units": 8, "activation": "tanh"},
                                              {"type": "dense", "units": 1, "activation": "sigmoid"}]}
    return changed(dataset={"name": "sine", "samples": 100, "noise": 0.1, "seed": 0}, network=network,
                   training={"loss": "categorical_crossentropy"})


def damaged_npz(folder) -> dict:
    (folder / "damaged.npz").write_bytes(b"PK\x03\x04" + bytes(range(256)) * 8)  # a zip's signature, then noise
    return changed(dataset={"path": "damaged.npz"})


def with_training(**settings) -> dict:
    return changed(training={**valid_experiment()["training"], **settings})


def wrong_output_units() -> dict:
    network = copy.deepcopy(valid_experiment()["network"])
    network["layers"][-1]["units"] = 3  # the spiral has two classes: one sigmoid unit
    return changed(network=network)


# name → the file's text (or bytes), made from the folder it is written in
CORPUS = {
    "not JSON": lambda folder: '{"dataset": {"name": "spiral"',
    "empty": lambda folder: "",
    "not UTF-8": lambda folder: b"\xff\xfe\x00\x81 not text at all \x9c",
    "JSON but not an object": lambda folder: "[1, 2, 3]",
    "training is a number": lambda folder: changed(training=5),
    "a misspelled key": lambda folder: changed(trainig={"epochs": 3}),
    "a list as the dataset name": lambda folder: changed(dataset={"name": ["spiral"]}),
    "unknown dataset": lambda folder: changed(dataset={"name": "no_such_dataset"}),
    "a data file that does not exist": lambda folder: changed(dataset={"path": "missing.csv"}),
    "a damaged data file": damaged_npz,
    "a network whose inputs do not match the data": lambda folder: changed(
        network={**valid_experiment()["network"], "input_shape": [5]}),
    "an output layer that does not fit the data": lambda folder: wrong_output_units(),
    "a layer of 10⁹ units": lambda folder: with_hidden_units(10**9),
    "a loss that does not fit the data": lambda folder: regression_with_a_classification_loss(),
    "a batch size beyond the window's box": lambda folder: with_training(batch_size=10**8),
    "a training seed beyond the window's box": lambda folder: with_training(seed=2**40),
    "a data seed beyond the window's box": lambda folder: changed(dataset={"name": "spiral", "samples": 500, "seed": 2**40}),
    "more samples than the window offers": lambda folder: changed(dataset={"name": "spiral", "samples": 300_000}),
    "a validation share beyond the window's box": lambda folder: with_training(val_fraction=0.95),
}


def write_case(name: str, folder) -> object:
    content = CORPUS[name](folder)
    path = folder / "lesson.json"
    if isinstance(content, dict):
        content = json.dumps(content)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def state(win) -> dict:
    """Everything a refused file must leave as it was: data, network, settings, run, trainer."""
    panel = win.dataset_panel
    return {
        "dataset": (win.dataset.name, win.dataset.X.shape, panel.combo.currentText(), panel.summary.text(), dict(panel.source)),
        "network": (win.layer_builder.spec(), win.layer_builder.architecture(), win.layer_builder.table.rowCount(),
                    child(win, QLabel, "summaryTotals").text()),
        "settings": (win.config, win.training_settings.values(), win.training_settings.backend_name(),
                     win.run_controls.learning_rate.value(), panel.validation.value()),
        "experiment": win.experiment().to_json(),
        "run": (win.history.count, win.history.column("train_loss").tolist(), win._position),
        "trainer": (win.controller.process_id, win.controller._generation),
        "title": win.windowTitle(),
        "play": child(win, QToolButton, "playButton").isEnabled(),
    }


def assert_trains_on(qtbot, win, epochs_before: int, losses_before: list[float]) -> None:
    """Play goes on from epoch ``epochs_before`` of the same run: the history keeps its start."""
    click(qtbot, child(win, QToolButton, "playButton"))
    qtbot.waitUntil(lambda: win.history.count >= epochs_before + 3, timeout=WAIT_MS)
    pause(qtbot, win)
    assert np.array_equal(win.history.column("epoch"), np.arange(1, win.history.count + 1))
    assert win.history.column("train_loss")[:epochs_before].tolist() == losses_before


@pytest.fixture
def trained(window, qtbot):
    """The default window after TRAINED_EPOCHS epochs, paused."""
    step_epochs(qtbot, window, TRAINED_EPOCHS)
    return window


@pytest.mark.parametrize("case", list(CORPUS))
def test_a_bad_experiment_file_changes_nothing(qtbot, trained, tmp_path, case):
    path = write_case(case, tmp_path)
    before = state(trained)
    problems = []
    trained.fileProblem.connect(problems.append)
    assert not trained.open_experiment(path)
    banner = trained.banner
    assert banner.isVisible() and banner.property("level") == "error"
    assert "Could not open the experiment." in banner.text.text() and "internal error" not in banner.text.text()
    assert len(problems) == 1 and problems[0].startswith("Could not open the experiment. ") and len(problems[0]) > 40
    assert state(trained) == before
    assert trained.history.count == TRAINED_EPOCHS
    assert_trains_on(qtbot, trained, TRAINED_EPOCHS, before["run"][1])


def test_a_good_file_after_a_refused_one_opens(qtbot, trained, tmp_path):
    assert not trained.open_experiment(write_case("unknown dataset", tmp_path))
    good = tmp_path / "good.json"
    Experiment.from_json(changed(dataset={"name": "xor", "samples": 200, "noise": 0.1, "seed": 0})).save(good)
    assert trained.open_experiment(good)
    assert not trained.banner.isVisible()
    assert trained.dataset.name == "xor" and trained.history.count == 0 and "good.json" in trained.windowTitle()
    step_epochs(qtbot, trained, 1)
    assert trained.history.count == 1


def test_when_the_trainer_cannot_take_the_new_run_the_old_one_goes_on(qtbot, trained, tmp_path, monkeypatch):
    """Handing the new trainer over is part of the transaction: when pickling its recipe runs
    out of memory, the trainer process never hears of it and trains the old run."""
    original = app.worker.ForkingPickler.dumps

    def no_memory_for_a_load(command, *args, **kwargs):
        if isinstance(command, tuple) and command[0] == "load":
            raise MemoryError
        return original(command, *args, **kwargs)

    good = tmp_path / "xor.json"
    Experiment.from_json(changed(dataset={"name": "xor", "samples": 200, "noise": 0.1, "seed": 0})).save(good)
    before = state(trained)
    monkeypatch.setattr(app.worker.ForkingPickler, "dumps", no_memory_for_a_load)
    assert not trained.open_experiment(good)
    monkeypatch.undo()
    assert "not enough memory" in trained.banner.text.text()
    assert state(trained) == before
    assert_trains_on(qtbot, trained, TRAINED_EPOCHS, before["run"][1])


def test_a_panel_that_cannot_show_the_file_is_put_back(qtbot, trained, tmp_path):
    """Whatever fails while the panels show the new experiment (here the Data tab's seed box,
    which holds 32-bit numbers), they show the current one again and its run goes on."""
    path = tmp_path / "lesson.json"
    path.write_text(json.dumps(changed(dataset={**valid_experiment()["dataset"], "seed": 2**40})))
    before = state(trained)
    assert not trained.open_experiment(path)
    assert trained.banner.isVisible()
    assert state(trained) == before
    assert not trained.dataset_panel.seed.signalsBlocked()
    assert_trains_on(qtbot, trained, TRAINED_EPOCHS, before["run"][1])


class FakeLoadDialog:
    """Stands in for the Load data dialog: "loads" ``DATA`` from ``SOURCE`` at once."""

    DATA = None
    SOURCE: dict = {}

    def __init__(self, parent=None):
        self.dataset, self.source = self.DATA, dict(self.SOURCE)

    def exec(self) -> bool:
        return True


def load_through_the_dialog(qtbot, win, monkeypatch, dataset, path) -> None:
    monkeypatch.setattr(FakeLoadDialog, "DATA", dataset)
    monkeypatch.setattr(FakeLoadDialog, "SOURCE", {"path": str(path)})
    monkeypatch.setattr(app.data_loader, "LoadDataDialog", FakeLoadDialog)
    click(qtbot, child(win, QPushButton, "loadDataButton"))


def test_data_from_the_load_dialog_that_cannot_train_changes_nothing(qtbot, trained, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    huge = make_dataset(rng.normal(size=(60, 2)) * 1e300, rng.integers(0, 2, 60), name="huge")  # finite, beyond float32
    before = state(trained)
    load_through_the_dialog(qtbot, trained, monkeypatch, huge, tmp_path / "huge.npz")
    assert trained.banner.isVisible() and "Could not use this data." in trained.banner.text.text()
    assert "too large" in trained.banner.text.text() or "rescale" in trained.banner.text.text()
    assert state(trained) == before
    assert trained.dataset_panel.combo.findText("huge.npz (loaded)") < 0
    assert_trains_on(qtbot, trained, TRAINED_EPOCHS, before["run"][1])


def test_data_from_the_load_dialog_that_fits_starts_a_new_run(qtbot, trained, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    data = make_dataset(rng.normal(size=(80, 3)), rng.integers(0, 2, 80), name="table")
    load_through_the_dialog(qtbot, trained, monkeypatch, data, tmp_path / "table.csv")
    assert not trained.banner.isVisible()
    assert trained.dataset is data and trained.history.count == 0
    assert trained.dataset_panel.combo.currentText() == "table.csv (loaded)"
    assert trained.layer_builder.spec()["input_shape"] == [3]
    step_epochs(qtbot, trained, 1)
    assert trained.history.count == 1


def test_a_window_that_cannot_open_its_first_experiment_leaves_no_thread(qtbot):
    with pytest.raises(ConfigError, match="no_such_dataset"):
        MainWindow(Experiment({"name": "no_such_dataset"}, valid_experiment()["network"]))
    # the no_leftover_qthreads fixture fails this test if the trainer thread of that window still runs
