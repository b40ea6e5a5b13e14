"""A table read as a time series: exact windows on a small hand table, horizon, columns,
hostile input, the experiment schema and the CLI, and the Load data dialog's Time series group."""

from __future__ import annotations

import numpy as np
import pytest

import core.limits
from core.cli import main
from core.experiment import dataset_options, load_dataset
from core.loaders import LoaderError, LoadOptions, load_file
from core.schema import SchemaError
from core.trainer import ConfigError

TABLE = """date,temp,wind,label
2024-01-01,10,1,a
2024-01-02,11,2,b
2024-01-03,12,3,c
2024-01-04,13,4,d
2024-01-05,14,5,e
2024-01-06,15,6,f
2024-01-07,16,7,g
"""  # temp = 10 + row, wind = 1 + row; the date and label columns are text


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "weather.csv"
    path.write_text(TABLE, encoding="utf-8")
    return path


def test_windows_are_consecutive_rows_of_every_numeric_column_and_the_target_follows(table):
    data = load_file(table, LoadOptions(window=3))
    assert data.sample_shape == (3, 2) and data.n_samples == 7 - 3 - 1 + 1 and data.task == "regression"
    windows = data.X.reshape(-1, 3, 2)
    for i in range(data.n_samples):
        np.testing.assert_array_equal(windows[i], [[10 + i + t, 1 + i + t] for t in range(3)])
    np.testing.assert_array_equal(data.y[:, 0], [13, 14, 15, 16])  # temp (the first input) one row after each window
    assert data.feature_names[:3] == ("t1_temp", "t1_wind", "t2_temp") and data.target_names == ("temp",)
    assert data.meta["forecast"] == {"window": 3, "horizon": 1, "feature": 0, "consecutive": True}
    assert data.meta["series"] == {"columns": ["temp", "wind"], "target": "temp", "left_out": 0}


def test_the_horizon_the_columns_and_the_target(table):
    data = load_file(table, LoadOptions(window=2, horizon=3, columns=("wind",), target="temp"))
    assert data.sample_shape == (2, 1) and data.n_samples == 7 - 2 - 3 + 1
    np.testing.assert_array_equal(data.X, [[1, 2], [2, 3], [3, 4]])
    np.testing.assert_array_equal(data.y[:, 0], [10 + 1 + 3, 10 + 2 + 3, 10 + 3 + 3])  # row i + T − 1 + h
    assert data.meta["forecast"]["feature"] is None  # the target is not an input
    by_position = load_file(table, LoadOptions(window=2, columns=(2, "temp"), target=2))
    assert by_position.feature_names[:2] == ("t1_wind", "t1_temp") and by_position.meta["forecast"]["feature"] == 0
    np.testing.assert_array_equal(by_position.y[:, 0], [3, 4, 5, 6, 7])


def test_rows_with_missing_values_are_dropped_and_no_window_crosses_the_gap(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("temp,wind\n1,10\n2,\n3,30\n,40\n5,50\n6,60\n7,70\n", encoding="utf-8")
    data = load_file(path, LoadOptions(window=2))
    np.testing.assert_array_equal(data.X.reshape(-1, 2, 2)[:, :, 0], [[5, 6]])  # rows 5, 6 and the target 7: one unbroken run
    np.testing.assert_array_equal(data.y[:, 0], [7])
    assert data.meta["missing"]["rows_dropped"] == 2 and "2 rows dropped" in data.meta["missing_summary"]
    assert data.meta["series"]["left_out"] == 2 and data.meta["forecast"]["consecutive"] is False
    only_temp = load_file(path, LoadOptions(window=2, columns=("temp",)))
    assert only_temp.meta["missing"]["rows_dropped"] == 1  # the gap in wind does not count
    np.testing.assert_array_equal(only_temp.X, [[1, 2], [5, 6]])
    filled = load_file(path, LoadOptions(window=2, missing="mean"))
    assert filled.n_samples == 5 and filled.meta["forecast"]["consecutive"] is True and filled.meta["series"]["left_out"] == 0


def test_a_series_with_gaps_every_few_rows_keeps_only_unbroken_windows(tmp_path):
    """The red team's table: a missing temp every 7th row, wind every 11th (row 0 and 77 empty)."""
    path = tmp_path / "weather.csv"
    cells = [("" if i % 7 == 0 else str(100 + i), "" if i % 11 == 0 else str(i)) for i in range(100)]
    path.write_text("temp,wind\n" + "".join(f"{t},{w}\n" for t, w in cells), encoding="utf-8")
    data = load_file(path, LoadOptions(window=5))
    rows = data.X.reshape(-1, 5, 2)[:, :, 1]  # wind = the row number
    assert len(rows) and np.all(np.diff(rows, axis=1) == 1) and np.all(rows % 7 != 0) and np.all(rows % 11 != 0)
    np.testing.assert_array_equal(data.y[:, 0], 100 + rows[:, -1] + 1)  # the row after each window, never across a gap
    assert data.meta["forecast"]["consecutive"] is False
    assert data.meta["rows_read"] == 100 and data.meta["missing"]["empty_rows"] == 2  # rows 0 and 77: empty, still counted
    assert data.meta["missing"]["rows_dropped"] + 2 == sum(1 for t, w in cells if not (t and w))
    assert "2 empty rows dropped" in data.meta["missing_summary"]
    assert data.n_samples + data.meta["series"]["left_out"] == 100 - 2 - data.meta["missing"]["rows_dropped"] - 5


def test_empty_rows_are_counted_among_the_rows_read_of_a_plain_table(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("a,b,y\n1,2,0\n,,\n3,4,1\n5,6,0\n\n", encoding="utf-8")  # an empty row inside, a blank line at the end
    data = load_file(path, LoadOptions(target="y"))
    assert data.n_samples == 3 and data.meta["rows_read"] == 4 and data.meta["missing"]["empty_rows"] == 1
    assert data.meta["missing_summary"] == "no missing values; 1 empty row dropped"


@pytest.mark.parametrize(("options", "words"), [
    ({"window": 7}, r"a window of 7 rows and a horizon of 1 need 8 consecutive rows .*; the table has 7 rows: choose a shorter"),
    ({"window": 2, "columns": ("label",)}, r'line 2, column 4 \("label"\): \'a\' is not a number \(a text column\)'),
    ({"window": 2, "columns": ("temp", "temp")}, "column 'temp' is named twice"),
    ({"window": 2, "columns": ("rain",)}, "no column named 'rain'"),
    ({"window": 2, "target": "date"}, r"column 1 \(\"date\"\): '2024-01-01' is not a number"),
])
def test_hostile_series_are_refused_with_a_message(table, options, words):
    with pytest.raises(LoaderError, match=words) as info:
        load_file(table, LoadOptions(**options))
    assert str(info.value).startswith(str(table))


@pytest.mark.parametrize(("options", "words"), [
    ({"window": 2, "horizon": 0}, r"horizon must be a whole number ≥ 1 .*got 0"),
    ({"window": 0}, "window must be a whole number ≥ 1"),
    ({"horizon": 2}, "horizon and columns apply to a time series: give a window too"),
    ({"window": 2, "columns": ()}, "at least one input column"),
    ({"window": 2, "roles": {"temp": "ignore"}}, "roles do not apply to a time series"),
    ({"window": 2, "scale": "minmax"}, "scale do not apply"),
])
def test_settings_that_cannot_be_are_refused_before_reading(options, words):
    from core.data import DataError

    with pytest.raises(DataError, match=words):
        LoadOptions(**options)


def test_missing_rows_that_leave_too_few_and_a_table_without_numbers(tmp_path):
    one = tmp_path / "one.csv"
    one.write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(LoaderError, match=r"a window of 1 row and a horizon of 1 need 2 consecutive rows .*; the table has 1 row: "
                                          "a series needs more rows"):
        load_file(one, LoadOptions(window=1))
    broken = tmp_path / "broken.csv"
    broken.write_text("a\n1\n2\nNA\n3\n4\n", encoding="utf-8")  # 4 rows kept, but never 3 in a row
    with pytest.raises(LoaderError, match="the 1 row dropped for missing values leave no such stretch"):
        load_file(broken, LoadOptions(window=2))
    gaps = tmp_path / "short.csv"
    gaps.write_text("temp,wind\n1,1\n2,NA\n3,3\n4,4\n", encoding="utf-8")
    with pytest.raises(LoaderError, match="need 4 consecutive rows .*; the table has 3 rows after dropping 1 with missing values"):
        load_file(gaps, LoadOptions(window=3))
    words = tmp_path / "words.csv"
    words.write_text("a,b\nx,y\nz,w\n", encoding="utf-8")
    with pytest.raises(LoaderError, match="no numeric column to read as a series"):
        load_file(words, LoadOptions(window=1))


def test_a_single_column_is_a_series_and_ids_and_row_numbers_are_left_out(tmp_path):
    single = tmp_path / "one.csv"
    single.write_text("value\n" + "".join(f"{v}\n" for v in range(10)), encoding="utf-8")
    np.testing.assert_array_equal(load_file(single, LoadOptions(window=4)).y[:, 0], np.arange(4, 10))
    with pytest.raises(LoaderError, match="only one column"):
        load_file(single)  # as a plain table it still needs features and a target
    numbered = tmp_path / "numbered.csv"
    numbered.write_text("id,step,value\n" + "".join(f"{i + 7},{i},{i * i}\n" for i in range(25)), encoding="utf-8")
    assert load_file(numbered, LoadOptions(window=3)).meta["series"]["columns"] == ["value"]


def test_windows_beyond_memory_are_refused_before_they_are_made(tmp_path, monkeypatch):
    path = tmp_path / "long.csv"
    path.write_text("a,b\n" + "".join(f"{2 * i},{-i}\n" for i in range(200)), encoding="utf-8")
    monkeypatch.setattr(core.limits, "available_memory_bytes", lambda: 20_000)  # the table fits, its windows do not
    with pytest.raises(LoaderError, match=r"150 windows of 50 rows × 2 columns \(float64\) needs 175.8 KiB: too large"):
        load_file(path, LoadOptions(window=50))


def test_a_window_applies_to_tables_only(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((4, 2)), y=np.arange(4) % 2)
    with pytest.raises(LoaderError, match="a window .* applies to tables .*; this is an .npz file"):
        load_file(path, LoadOptions(window=2))


def test_the_experiment_schema_takes_window_horizon_columns_and_target(table):
    choice = {"path": str(table), "window": 2, "horizon": 2, "columns": ["temp", 2], "target": "wind"}
    assert dataset_options(choice) == LoadOptions(window=2, horizon=2, columns=("temp", 2), target="wind")
    assert load_dataset(choice).y[0, 0] == 1 + 1 + 2
    for bad, words in (({"path": "a.csv", "horizon": 2}, "dataset.horizon: applies only to a time series"),
                       ({"path": "a.csv", "columns": ["a"]}, "dataset.columns: applies only to a time series"),
                       ({"path": "a.csv", "window": 3, "horizon": 0}, "dataset.horizon: expected a whole number ≥ 1"),
                       ({"path": "a.csv", "window": 3, "columns": []}, "dataset.columns: expected a list of column names"),
                       ({"path": "a.csv", "window": 3, "roles": {"a": "ignore"}}, "dataset.roles: does not apply to a time series"),
                       ({"name": "spiral", "window": 3}, "dataset.window: unknown dataset setting")):
        with pytest.raises((SchemaError, ConfigError), match=words):
            load_dataset(bad)


def test_the_cli_trains_on_a_series_and_refuses_series_options_without_a_file(table, capsys):
    assert main(["train", "--data", str(table), "--window", "3", "--columns", "temp,wind", "--horizon", "1", "--epochs", "1",
                 "--loss", "mse", "--layers", "gru:4"]) == 2  # 4 windows: the last validates, the 3 before it overlap it
    assert "4 windows are too few: a validation part of the last 1 needs 3 windows left out" in capsys.readouterr().err
    assert main(["train", "--data", str(table), "--window", "3", "--columns", "temp,wind", "--horizon", "1", "--epochs", "1",
                 "--loss", "mse", "--layers", "gru:4", "--val-split", "0"]) == 0
    assert "epoch 1:" in capsys.readouterr().out
    assert main(["data", str(table), "--window", "3", "--target", "wind"]) == 0
    out = capsys.readouterr().out
    assert "windows: 4, of consecutive rows of the 7 read" in out and "sequences: 3 steps × 2 features a sample" in out
    assert main(["train", "--dataset", "xor", "--window", "3"]) == 2
    assert "--window, --horizon and --columns apply to --data files" in capsys.readouterr().err
    assert main(["train", "--data", str(table), "--window", "9", "--epochs", "1"]) == 2
    assert "need 10 consecutive rows" in capsys.readouterr().err
    assert main(["train", "--data", str(table), "--window", "2", "--columns", "temp,,wind"]) == 2
    assert "leaves a column name empty" in capsys.readouterr().err


# ----- the Load data dialog ----------------------------------------------------------------------


def test_the_dialog_reads_a_table_as_a_time_series_and_shows_the_shape(qtbot, load_dialog, table):
    from gui_helpers import show_preview

    show_preview(qtbot, load_dialog, table)
    box = load_dialog.series_box
    assert box.isEnabled() and not box.isChecked() and "window" not in load_dialog.current_source()
    box.setChecked(True)
    assert not load_dialog.columns_table.isEnabled() and not load_dialog.task_combo.isEnabled()
    load_dialog.window_spin.setValue(3)
    assert load_dialog.series_shape.text() == "4 windows of 3 × 2 (steps × features)"  # temp and wind, not date or label
    load_dialog.horizon_spin.setValue(2)
    load_dialog.series_columns.setText("wind")
    assert load_dialog.series_shape.text() == "3 windows of 3 × 1 (steps × features)"
    load_dialog.series_target.setCurrentIndex(load_dialog.series_target.findData("temp"))
    assert load_dialog.current_source() == {"path": str(table), "window": 3, "horizon": 2, "columns": ["wind"], "target": "temp",
                                            "missing": "drop"}
    with qtbot.waitSignal(load_dialog.accepted, timeout=10_000):
        load_dialog.load_button.click()
    data = load_dialog.dataset
    assert data.sample_shape == (3, 1) and data.n_samples == 3 and data.meta["forecast"]["horizon"] == 2
    np.testing.assert_array_equal(data.y[:, 0], [14, 15, 16])  # temp (10 + row) at row i + 3 − 1 + 2


def test_the_dialog_says_when_the_window_is_too_long_and_refuses_bad_columns(qtbot, load_dialog, table):
    from gui_helpers import show_preview

    show_preview(qtbot, load_dialog, table)
    load_dialog.series_box.setChecked(True)
    load_dialog.window_spin.setValue(7)
    assert load_dialog.series_shape.text().startswith("No windows: a window of 7 rows and a horizon of 1 need at least 8 rows")
    load_dialog.series_columns.setText("temp,,wind")
    assert "leaves a column name empty" in load_dialog.series_shape.text()
    load_dialog.load_button.click()
    assert "leaves a column name empty" in load_dialog.message.text() and load_dialog.dataset is None
    load_dialog.series_columns.setText("label")
    load_dialog.window_spin.setValue(2)
    load_dialog.load_button.click()
    qtbot.waitUntil(lambda: load_dialog._thread is None and load_dialog.load_button.isEnabled(), timeout=10_000)
    assert "'a' is not a number" in load_dialog.message.text() and load_dialog.dataset is None


def test_the_time_series_group_is_offered_for_tables_only(qtbot, load_dialog, tmp_path):
    from gui_helpers import show_preview

    path = tmp_path / "d.npz"
    np.savez(path, X=np.zeros((4, 2)), y=np.arange(4) % 2)
    show_preview(qtbot, load_dialog, path)
    assert not load_dialog.series_box.isEnabled() and "Only a table" in load_dialog.series_box.toolTip()
    assert "window" not in load_dialog.current_source()


def test_predict_reads_a_table_as_the_windows_the_model_was_trained_on(tmp_path, capsys):
    from core.files import load_model

    path = tmp_path / "wave.csv"
    path.write_text("a,b\n" + "".join(f"{np.sin(i / 4):.5f},{np.cos(i / 4):.5f}\n" for i in range(40)), encoding="utf-8")
    model = tmp_path / "m.npz"
    assert main(["train", "--data", str(path), "--window", "4", "--layers", "gru:3", "--epochs", "1", "--save", str(model)]) == 0
    capsys.readouterr()
    assert main(["predict", str(model), "--data", str(path), "--window", "4"]) == 0
    printed = np.array([float(line) for line in capsys.readouterr().out.split()])
    windows = load_file(path, LoadOptions(window=4))
    np.testing.assert_allclose(printed, load_model(model).predict(windows.X)[:, 0], rtol=1e-5)
    assert main(["predict", str(model), "--data", str(path)]) == 2
    assert "a table; to predict the windows of a time series give --window T" in capsys.readouterr().err
    assert main(["predict", str(model), "--data", str(path), "--window", "5"]) == 2
    assert ("its windows are sequences of 5 steps × 2 features but the model takes sequences of 4 steps × 2 features: "
            "give the --window and --columns") in capsys.readouterr().err
    assert main(["predict", str(model), "--data", str(path), "--horizon", "2"]) == 2
    assert "--horizon apply with --window" in capsys.readouterr().err


def test_predict_names_token_steps_for_a_model_that_takes_token_ids(tmp_path, capsys):
    model, data = tmp_path / "chars.npz", tmp_path / "x.npz"
    assert main(["train", "--dataset", "chars", "--layers", "embedding:58:4,gru:3", "--epochs", "1", "--save", str(model)]) == 0
    np.savez(data, X=np.zeros((2, 5)))
    capsys.readouterr()
    assert main(["predict", str(model), "--data", str(data)]) == 2
    assert "X holds 5 features per sample but the model takes 32 token steps (ids)" in capsys.readouterr().err
    np.savez(data, X=np.full((2, 32), 1e12))
    assert main(["predict", str(model), "--data", str(data)]) == 2
    assert "sample 1, step 1: 1000000000000 is beyond it" in capsys.readouterr().err  # exact, not float32's 999999995904


def test_a_target_that_is_not_an_input_is_forecast_from_the_other_columns(table, capsys):
    assert main(["data", str(table), "--window", "2", "--columns", "wind", "--target", "temp"]) == 0
    assert "after each window, a column not among the inputs" in capsys.readouterr().out
    assert main(["train", "--data", str(table), "--window", "2", "--columns", "wind", "--target", "temp", "--layers", "gru:2",
                 "--epochs", "1", "--val-split", "0"]) == 0
    assert "epoch 1:" in capsys.readouterr().out
