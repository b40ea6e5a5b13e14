"""The Data tab: generator settings only for generated data, and titles that read well."""

from __future__ import annotations

import pytest
from gui_helpers import shown
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox

from app.dataset_panel import DatasetPanel, dataset_title
from core.data import make_dataset
from core.realdata import REAL_DATASETS
from core.synthetic import SYNTHETIC


@pytest.fixture
def panel(qtbot):
    return shown(qtbot, DatasetPanel())


def choose(panel: DatasetPanel, name: str) -> None:
    panel.combo.setCurrentIndex(panel.combo.findData(name))


def generator_rows_shown(panel: DatasetPanel) -> bool:
    return panel.noise.isVisible() and panel.seed.isVisible() and panel.regenerate.isVisible()


@pytest.mark.parametrize("name", ["iris", "mnist_5k"])
def test_a_real_dataset_shows_its_own_sample_count_and_no_generator_settings(panel, name):
    choose(panel, "spiral")
    assert panel.samples.value() == 500 and panel.samples.isEnabled() and generator_rows_shown(panel)
    choose(panel, name)
    assert panel.samples.value() == panel.dataset.n_samples and not panel.samples.isEnabled()
    assert not panel.noise.isVisible() and not panel.seed.isVisible() and not panel.regenerate.isVisible()
    choose(panel, "moons")  # back to generated data: its settings again
    assert panel.samples.value() == SYNTHETIC["moons"].samples and panel.samples.isEnabled() and generator_rows_shown(panel)
    assert panel.dataset.n_samples == SYNTHETIC["moons"].samples


def test_loaded_data_shows_its_sample_count_even_past_the_generator_range(panel):
    import numpy as np

    data = make_dataset(np.zeros((300_000, 2)), np.arange(300_000) % 2, name="big")
    panel.set_dataset(data, {"path": "big.npz"})
    assert panel.samples.value() == 300_000 and not panel.samples.isEnabled() and not generator_rows_shown(panel)
    small = make_dataset(np.zeros((12, 2)), np.arange(12) % 2, name="small")
    panel.set_dataset(small, {"path": "small.npz"})
    assert panel.samples.value() == 12


@pytest.mark.parametrize("name", sorted(set(SYNTHETIC) | set(REAL_DATASETS)))
def test_every_built_in_dataset_has_a_title_that_reads_well(name):
    title = dataset_title(name)
    assert title != name and title[0].isupper() and "_" not in title


def test_the_mnist_title_and_a_file_name():
    assert dataset_title("mnist_5k") == "MNIST (5,000 images)"
    assert dataset_title("my_measurements") == "my_measurements"  # a loaded file keeps its name


def test_the_combo_and_the_summary_use_the_titles(panel):
    choose(panel, "mnist_5k")
    assert panel.combo.currentText() == "MNIST (5,000 images)"
    assert "<b>MNIST (5,000 images)</b>" in panel.summary.text()


def test_the_preview_folds_away_and_the_summary_stays(panel):
    box = panel.findChild(QGroupBox, "previewBox")
    assert panel.preview.isVisible()
    box.setChecked(False)
    assert not panel.preview.isVisible() and panel.summary.isVisible() and panel.summary.isEnabled()
    box.setChecked(True)
    assert panel.preview.isVisible()


def test_an_experiments_own_data_is_shown_and_kept_as_the_choice(panel, qtbot):
    from core.experiment import load_dataset
    from core.presets import preset

    source = preset("logistic_by_hand").experiment.dataset
    panel.set_dataset(load_dataset(source), source)
    panel.set_validation_fraction(0.0)
    assert panel.combo.currentText() == "Logistic regression by hand (own data)"
    assert panel.source == source and panel.source is not source  # the inline data itself, a copy of its own
    assert "(the experiment's own data): 1 sample × 2 features, binary, 2 classes (0, 1)" in panel.summary.text()
    assert "Training 1 sample, validation 0." in panel.summary.text()
    assert panel.samples.value() == 1 and not panel.samples.isEnabled() and not generator_rows_shown(panel)

    choose(panel, "spiral")
    assert panel.source["name"] == "spiral"
    with qtbot.waitSignal(panel.datasetChanged):  # picking the entry again brings the data back
        panel.combo.setCurrentIndex(0)
    assert panel.source == source and panel.dataset.n_samples == 1 and "own data" in panel.combo.currentText()


def test_a_class_absent_from_the_data_keeps_its_legend_marker(panel):
    from core.experiment import load_dataset

    source = {"inline": {"X": [[1.0]], "y": [0], "classes": ["scene", "animals", "humans", "vehicles"]}}
    panel.set_dataset(load_dataset(source), source)
    markers = [sample.item.opts["brush"] for sample, _ in panel.preview.legend.items[:4]]
    assert all(brush.style() != Qt.BrushStyle.NoBrush for brush in markers)


def test_extra_inputs_add_engineered_columns_and_stay_for_other_2d_data(panel, qtbot):
    choose(panel, "moons")
    with qtbot.waitSignal(panel.datasetChanged):
        panel.engineered.set_selected(["x1^2", "x2^2"])
        panel.engineered.changed.emit(["x1^2", "x2^2"])  # the user's ticks
    assert panel.dataset.feature_names == ("x1", "x2", "x1²", "x2²") and panel.source["engineered"] == ["x1^2", "x2^2"]
    choose(panel, "xor")  # another 2-D set keeps them
    assert panel.dataset.n_features == 4 and panel.source["engineered"] == ["x1^2", "x2^2"]
    choose(panel, "iris")  # 4 features: not for it
    assert panel.dataset.n_features == 4 and "engineered" not in panel.source
    assert not any(box.isEnabled() for box in panel.engineered.boxes.values())
