"""The Load data dialog: preview, choose the target, load off the GUI thread, bad files."""

import gzip

import numpy as np
import pytest

from app.data_loader import LoadDataDialog


@pytest.fixture
def dialog(qtbot):
    widget = LoadDataDialog()
    qtbot.addWidget(widget)
    yield widget
    widget.reject()  # cancels and joins a load still running


def write_table(path, rows=200):
    rng = np.random.default_rng(3)
    lines = ["age;height;city;label"]
    for _ in range(rows):
        height = f"{rng.normal(170, 10):.1f}".replace(".", ",")
        lines.append(f"{rng.integers(18, 80)};{height};{rng.choice(['north', 'south'])};{rng.choice(['yes', 'no'])}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def test_preview_then_pick_another_target_and_load(qtbot, dialog, tmp_path):
    path = write_table(tmp_path / "people.csv")
    dialog.set_path(str(path))
    assert "200 rows × 4 columns" in dialog.summary.text()
    assert dialog.rows_table.columnCount() == 4 and dialog.rows_table.item(0, 1).text().count(",") == 0
    assert dialog.current_source()["target"] == "label"  # a column named like a label is the default target
    dialog.set_role("city", "target")
    assert dialog.columns_table.cellWidget(3, 2).currentText() == "feature"  # one target at a time
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        dialog.load_button.click()
    data = dialog.dataset
    assert data.task == "binary" and data.class_names == ("north", "south")
    assert data.n_samples == 200 and data.n_features == 3  # age, height, and the two-level label as one 0/1 column
    assert dialog.source["target"] == "city"
    assert abs(data.X[:, 1].mean() - 170) < 3  # decimal comma read as numbers


def test_a_gzip_table_shows_its_real_row_count(dialog, tmp_path):
    pixels = np.random.default_rng(0).integers(0, 17, size=(1797, 65))
    text = ",".join(f"p{j}" for j in range(64)) + ",class\n" + "".join(",".join(map(str, row)) + "\n" for row in pixels)
    path = tmp_path / "digits.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    dialog.set_path(str(path))
    assert "1,797 rows × 65 columns" in dialog.summary.text()


def test_a_bad_file_is_explained_and_cannot_be_loaded(dialog, tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 8)
    dialog.set_path(str(path))
    assert "garbage.csv" in dialog.message.text()
    assert not dialog.load_button.isEnabled()
    assert dialog.dataset is None


def test_a_load_error_keeps_the_dialog_open(qtbot, dialog, tmp_path):
    path = tmp_path / "one_class.csv"
    path.write_text("x,y\n" + "".join(f"{i},1\n" for i in range(20)))
    dialog.set_path(str(path))
    dialog.task_combo.setCurrentIndex(dialog.task_combo.findData("classification"))
    dialog.load_button.click()
    qtbot.waitUntil(lambda: dialog._thread is None and dialog.load_button.isEnabled(), timeout=10_000)
    assert "one_class.csv" in dialog.message.text() and "class" in dialog.message.text()
    assert dialog.dataset is None and dialog.result() == 0


def test_cancel_stops_a_large_load(qtbot, dialog, tmp_path):
    path = tmp_path / "big.csv"
    rng = np.random.default_rng(0)
    table = rng.normal(size=(120_000, 20))
    np.savetxt(path, table, delimiter=",", header=",".join(f"c{j}" for j in range(20)), comments="", fmt="%.5f")
    dialog.set_path(str(path))
    dialog.load_button.click()
    assert dialog.progress.isVisible() or dialog._thread is not None
    dialog.reject()  # first Cancel stops the load and keeps the dialog
    assert dialog._thread is None and dialog.dataset is None
    assert "cancelled" in dialog.message.text()


def test_real_dataset_from_the_panel_shows_its_attribution(qtbot):
    from PySide6.QtWidgets import QComboBox, QLabel

    from app.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    combo = window.findChild(QComboBox, "datasetCombo")
    combo.setCurrentIndex(combo.findData("iris"))
    summary = window.findChild(QLabel, "datasetSummary").text()
    assert "150 samples × 4 features" in summary and "CC BY 4.0" in summary
    assert window.dataset_panel.source == {"name": "iris"}
    window.close()
