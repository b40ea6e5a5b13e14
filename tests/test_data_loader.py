"""The Load data dialog: preview, choose the target, load off the GUI thread, bad files."""

import gzip

import numpy as np
from gui_helpers import show_preview


def write_table(path, rows=200):
    rng = np.random.default_rng(3)
    lines = ["age;height;city;label"]
    for _ in range(rows):
        height = f"{rng.normal(170, 10):.1f}".replace(".", ",")
        lines.append(f"{rng.integers(18, 80)};{height};{rng.choice(['north', 'south'])};{rng.choice(['yes', 'no'])}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def test_preview_then_pick_another_target_and_load(qtbot, load_dialog, tmp_path):
    path = write_table(tmp_path / "people.csv")
    show_preview(qtbot, load_dialog, path)
    assert "200 rows × 4 columns" in load_dialog.summary.text()
    assert load_dialog.rows_table.columnCount() == 4 and load_dialog.rows_table.item(0, 1).text().count(",") == 0
    assert load_dialog.current_source()["target"] == "label"  # a column named like a label is the default target
    load_dialog.set_role("city", "target")
    assert load_dialog.columns_table.cellWidget(3, 2).currentText() == "feature"  # one target at a time
    with qtbot.waitSignal(load_dialog.accepted, timeout=10_000):
        load_dialog.load_button.click()
    data = load_dialog.dataset
    assert data.task == "binary" and data.class_names == ("north", "south")
    assert data.n_samples == 200 and data.n_features == 3  # age, height, and the two-level label as one 0/1 column
    assert load_dialog.source["target"] == "city"
    assert abs(data.X[:, 1].mean() - 170) < 3  # decimal comma read as numbers


def test_a_gzip_table_shows_its_real_row_count(qtbot, load_dialog, tmp_path):
    pixels = np.random.default_rng(0).integers(0, 17, size=(1797, 65))
    text = ",".join(f"p{j}" for j in range(64)) + ",class\n" + "".join(",".join(map(str, row)) + "\n" for row in pixels)
    path = tmp_path / "digits.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    show_preview(qtbot, load_dialog, path)
    assert "1,797 rows × 65 columns" in load_dialog.summary.text()


def test_a_bad_file_is_explained_and_cannot_be_loaded(qtbot, load_dialog, tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 8)
    show_preview(qtbot, load_dialog, path)
    assert "garbage.csv" in load_dialog.message.text()
    assert not load_dialog.load_button.isEnabled()
    assert load_dialog.dataset is None


def test_a_load_error_keeps_the_dialog_open(qtbot, load_dialog, tmp_path):
    path = tmp_path / "one_class.csv"
    path.write_text("x,y\n" + "".join(f"{i},1\n" for i in range(20)))
    show_preview(qtbot, load_dialog, path)
    load_dialog.task_combo.setCurrentIndex(load_dialog.task_combo.findData("classification"))
    load_dialog.load_button.click()
    qtbot.waitUntil(lambda: load_dialog._thread is None and load_dialog.load_button.isEnabled(), timeout=10_000)
    assert "one_class.csv" in load_dialog.message.text() and "class" in load_dialog.message.text()
    assert load_dialog.dataset is None and load_dialog.result() == 0


def test_cancel_stops_a_large_load(qtbot, load_dialog, tmp_path):
    path = tmp_path / "big.csv"
    rng = np.random.default_rng(0)
    table = rng.normal(size=(120_000, 20))
    np.savetxt(path, table, delimiter=",", header=",".join(f"c{j}" for j in range(20)), comments="", fmt="%.5f")
    show_preview(qtbot, load_dialog, path)
    load_dialog.load_button.click()
    assert load_dialog.progress.isVisible() or load_dialog._thread is not None
    load_dialog.reject()  # first Cancel stops the load and keeps the dialog
    assert load_dialog._thread is None and load_dialog.dataset is None
    assert "cancelled" in load_dialog.message.text()


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
