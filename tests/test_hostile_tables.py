"""Hostile tables: very wide files (preview bounded, load complete, refused when too large
for memory), numbers with thousands separators, encodings that change after the sniffed
sample, and the Load data dialog's worker threads (errors shown, preview off the GUI
thread and cancelled). Every file is generated here."""

from __future__ import annotations

import gzip
import threading
import time

import numpy as np
import pytest
from gui_helpers import show_preview

from core.limits import ResourceError
from core.loaders import LoadCancelled, LoaderError, LoadOptions, load_file, preview_file, tables
from core.loaders.columns import PREVIEW_COLUMNS
from core.loaders.dialect import SAMPLE_BYTES, sniff
from core.loaders.formats import Preview


def wide_csv(path, columns: int, rows: int, seed: int = 0) -> np.ndarray:
    """A CSV of ``columns - 1`` float features (3 decimals) and a 0/1 ``label``; returns them (rows, columns)."""
    rng = np.random.default_rng(seed)
    values = np.column_stack([rng.normal(size=(rows, columns - 1)).round(3), rng.integers(0, 2, rows)])
    with open(path, "w") as f:
        f.write(",".join(f"f{j}" for j in range(columns - 1)) + ",label\n")
        np.savetxt(f, values, delimiter=",", fmt=["%.3f"] * (columns - 1) + ["%d"])
    return values


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text
    return text


# ----- wide tables --------------------------------------------------------------------------------


def test_a_10000_column_csv_previews_a_bounded_number_of_columns(tmp_path):
    path = tmp_path / "wide.csv"
    wide_csv(path, 10_000, 60)
    preview = preview_file(path)
    assert preview.width == 10_000 and "10,000 columns" in preview.summary
    assert len(preview.columns) == PREVIEW_COLUMNS + 1  # the first columns and the target
    assert [c.index for c in preview.columns] == [*range(PREVIEW_COLUMNS), 9_999]
    assert preview.columns[-1].name == "label" and preview.columns[-1].role == "target"
    assert len(preview.rows) == 20 and {len(row) for row in preview.rows} == {PREVIEW_COLUMNS + 1}


def test_a_10000_column_csv_loads_every_column(tmp_path):
    path = tmp_path / "wide.csv"
    values = wide_csv(path, 10_000, 60)
    dataset = load_file(path)
    assert dataset.X.shape == (60, 9_999) and dataset.X.flags.c_contiguous
    assert np.array_equal(dataset.X, values[:, :-1]) and dataset.task == "binary"
    assert dataset.feature_names[:2] == ("f0", "f1")
    assert dataset.meta["columns"] == [{"name": "label", "kind": "numeric", "role": "target"}]  # no numeric feature listed


def test_a_wide_table_is_read_into_one_block_of_numbers(tmp_path):
    path = tmp_path / "wide.csv"
    wide_csv(path, 5_000, 30)
    frame = tables.read_frame(path, sniff(path)).frame
    assert frame.shape == (30, 5_000)
    first, last = frame.iloc[:, 0].to_numpy(), frame.iloc[:, -1].to_numpy()
    assert np.may_share_memory(first, last)  # one float64 block, not one pandas block (and its overhead) per column


def hostile_wide_table(rows: int = 30, columns: int = 1_500) -> str:
    """Text that exercises every rule of the wide reader: an ID, a row number, an empty
    column, text, true/false, missing cells, a quoted field with a comma, a bad number."""
    rng = np.random.default_rng(1)
    header = ["id", "row", "empty", "colour", "flag", "note", *[f"x{j}" for j in range(columns - 7)], "label"]
    lines = [",".join(header)]
    for i in range(rows):
        numbers = [f"{v:.2f}" for v in rng.normal(size=columns - 7)]
        if i % 7 == 3:
            numbers[i % len(numbers)] = "?"
        note = '"a, b"' if i % 5 == 0 else "plain"
        lines.append(",".join([f"id{i}", str(i), "", "rgb"[i % 3], ["true", "false"][i % 2], note, *numbers, str(i % 2)]))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("missing", ["drop", "mean"])
def test_the_wide_reader_loads_what_pandas_loads(tmp_path, monkeypatch, missing):
    path = tmp_path / "hostile.csv"
    path.write_text(hostile_wide_table())
    options = LoadOptions(missing=missing, roles={"note": "ignore"})
    wide = load_file(path, options)
    monkeypatch.setattr(tables, "WIDE_COLUMNS", 10_000)  # read the same file with pandas
    narrow = load_file(path, options)
    assert np.array_equal(wide.X, narrow.X, equal_nan=True) and np.array_equal(wide.y, narrow.y)
    assert wide.feature_names == narrow.feature_names and wide.meta["columns"] == narrow.meta["columns"]
    assert wide.meta["missing"] == narrow.meta["missing"]
    roles = {c["name"]: c["role"] for c in wide.meta["columns"]}
    assert roles["id"] == roles["row"] == roles["empty"] == "ignore" and "colour=g" in wide.feature_names


def test_the_wide_reader_names_a_bad_cell_and_a_ragged_line(tmp_path):
    text = hostile_wide_table().splitlines()
    bad = text[:5] + [text[5].replace(",0.", ",zero.", 1)] + text[6:]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(bad) + "\n")
    with pytest.raises(LoaderError, match=r'line 6, column \d+ \("x\d+"\): \'zero\.\d+\' is not a number'):
        load_file(path)
    path.write_text("\n".join(text[:8] + [text[8] + ",1,2"] + text[9:]) + "\n")
    with pytest.raises(LoaderError, match="line 9 has 1502 fields but the header has 1500"):
        load_file(path)


def test_a_wide_load_can_be_cancelled_while_reading(tmp_path):
    path = tmp_path / "wide.csv"
    wide_csv(path, 20_000, 80)
    cancel = threading.Event()

    def stop_when_reading(fraction: float, message: str) -> None:
        if message.startswith("reading"):
            cancel.set()

    with pytest.raises(LoadCancelled):
        load_file(path, progress=stop_when_reading, cancel=cancel)


@pytest.mark.parametrize("columns", [50, 3_000])
def test_a_table_too_large_for_memory_is_refused_in_one_line(tmp_path, monkeypatch, columns):
    path = tmp_path / "big.csv"
    wide_csv(path, columns, 400)
    monkeypatch.setattr("core.limits.memory_limit_bytes", lambda: 100_000)  # 100 kB: 400 × 50 × 8 bytes is 160 kB
    with pytest.raises(LoaderError) as info:
        load_file(path)
    message = one_line(info.value)
    assert message.startswith(f"{path}: ") and "too large" in message and f"× {columns:,} columns" in message


def test_features_too_many_to_train_on_are_refused_before_encoding(tmp_path, monkeypatch):
    path = tmp_path / "levels.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{'w' * (1 + i % 90)},{i % 2}\n" for i in range(400)))  # a: row numbers, ignored
    monkeypatch.setattr("core.limits.memory_limit_bytes", lambda: 200_000)  # the table fits, its one-hot encoding does not
    with pytest.raises(LoaderError, match=r"400 rows × 90 features \(float64\) to train on needs .*too large"):
        load_file(path)


# ----- numbers ------------------------------------------------------------------------------------------


def test_grouped_thousands_with_a_decimal_comma_are_numbers(tmp_path):
    path = tmp_path / "de.csv"
    path.write_text("preis;menge;label\n1.234,56;3;a\n12,5;4;b\n1 234,5;5;a\n1\u00a0000;6;b\n7;1.000;a\n-2.000.000,25;1;b\n",
                    encoding="utf-8")
    dataset = load_file(path)
    assert dataset.meta["dialect"].startswith("semicolon-separated") and "decimal ','" in dataset.meta["dialect"]
    assert dataset.X.tolist() == [[1234.56, 3.0], [12.5, 4.0], [1234.5, 5.0], [1000.0, 6.0], [7.0, 1000.0], [-2000000.25, 1.0]]


def test_numbers_that_only_group_thousands_decide_the_decimal_mark(tmp_path):
    path = tmp_path / "de.csv"
    path.write_text("preis;label\n" + "".join(f"{i}.{i * 7 % 1000:03d},{i % 100:02d};{i % 2}\n" for i in range(1, 31)))
    dataset = load_file(path)
    assert dataset.X[:3, 0].tolist() == [1007.01, 2014.02, 3021.03]


def test_a_typo_among_grouped_numbers_is_a_bad_cell_not_a_dropped_column(tmp_path):
    path = tmp_path / "de.csv"
    rows = "".join(f"{1 + i}.{i:03d},{i:02d};3;{'ab'[i % 2]}\n" for i in range(30))
    path.write_text("preis;menge;label\n" + rows + "12,5x;4;b\n")
    with pytest.raises(LoaderError, match=r'line 32, column 1 \("preis"\): \'12,5x\' is not a number'):
        load_file(path)


def test_a_dot_is_not_a_decimal_mark_in_a_decimal_comma_column(tmp_path):
    path = tmp_path / "de.csv"
    path.write_text("preis;label\n" + "".join(f"{i},5;{i % 2}\n" for i in range(30)) + "1.5;0\n")
    with pytest.raises(LoaderError, match=r"line 32, column 1 \(\"preis\"\): '1\.5' is not a number"):
        load_file(path)


# ----- encodings ------------------------------------------------------------------------------------------


def late_latin1(after: int = 70 * 1024) -> tuple[str, bytes]:
    """A table whose first non-ASCII byte (Latin-1 é) comes after ``after`` bytes."""
    lines, size, i = ["id,city,label"], 14, 0
    while size < after:
        lines.append(f"{i},Paris,{i % 2}")
        size += len(lines[-1]) + 1
        i += 1
    lines += [f"{i + k},{city},{k % 2}" for k, city in enumerate(["Orléans", "Besançon", "Zürich", "Orléans"])]
    text = "\n".join(lines) + "\n"
    return text, text.encode("latin-1")


@pytest.mark.parametrize("name", ["late.csv", "late.csv.gz"])
def test_a_latin1_file_whose_first_accent_is_after_70_kib_loads(tmp_path, name):
    text, content = late_latin1()
    assert content.find("é".encode("latin-1")) > max(70 * 1024, SAMPLE_BYTES)
    path = tmp_path / name
    path.write_bytes(gzip.compress(content) if name.endswith(".gz") else content)
    dataset = load_file(path)
    assert set(dataset.feature_names) == {"city=Besançon", "city=Orléans", "city=Paris", "city=Zürich"}
    assert "cp1252 text" in dataset.meta["dialect"]
    assert dataset.n_samples == text.count("\n") - 1


@pytest.mark.parametrize(("where", "message"), [
    ("in the sample", r"line 5\d\d\d \(byte 0xe9\) is not valid UTF-8 text"),
    ("after the sample", r"mixed text encodings: line 5\d\d\d is UTF-8 but line 5\d\d\d is not"),
])
def test_a_file_mixing_utf8_and_latin1_is_refused_not_mangled(tmp_path, where, message):
    _, late = late_latin1()
    utf8_line = "0,Genève,0\n".encode()
    mixed = utf8_line + late.split(b"\n", 1)[1] if where == "in the sample" else late.replace(b"Orl", utf8_line + b"Orl", 1)
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"id,city,label\n" + mixed if where == "in the sample" else mixed)
    with pytest.raises(LoaderError, match=message) as info:
        load_file(path)
    one_line(info.value)


def test_a_utf8_byte_order_mark_is_kept_and_holds_the_file_to_utf8(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "température,label\n1,oui\n2,non\n".encode())
    assert load_file(path).feature_names == ("température",)
    path.write_bytes(b"\xef\xbb\xbf" + "température,label\n1,oui\n".encode() + "2,été\n".encode("latin-1"))
    with pytest.raises(LoaderError, match="line 3 is not valid UTF-8 text, though the file starts with a UTF-8 byte-order mark"):
        load_file(path)


def test_bytes_no_encoding_reads_well_are_named_with_their_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a,b,label\n" + b"1,2,0\n" * 20_000 + b"3,\xff\xfe,1\n")
    with pytest.raises(LoaderError, match=r"line 20002, column 2 \(\"b\"\): 'ÿþ' is not a number"):
        load_file(path)


# ----- the Load data dialog ---------------------------------------------------------------------------------


def test_the_dialog_shows_a_wide_table_with_a_note(qtbot, load_dialog, tmp_path):
    path = tmp_path / "wide.csv"
    wide_csv(path, 10_000, 40)
    show_preview(qtbot, load_dialog, path)
    assert load_dialog.columns_table.rowCount() == load_dialog.rows_table.columnCount() == PREVIEW_COLUMNS + 1
    assert "Showing 101 of the 10,000 columns: the first 100 and label." in load_dialog.columns_note.text()
    assert load_dialog.current_source()["target"] == "label"
    with qtbot.waitSignal(load_dialog.accepted, timeout=20_000):
        load_dialog.load_button.click()
    assert load_dialog.dataset.X.shape == (40, 9_999)


@pytest.mark.parametrize(("error", "shown"), [
    (MemoryError(), "not enough memory"),
    (ResourceError("data.csv: a table of 10 rows × 9 columns needs 9.0 GiB: too large"), "needs 9.0 GiB: too large"),
    (RuntimeError("boom"), "cannot be read (RuntimeError: boom)"),
])
def test_whatever_a_load_raises_ends_as_the_message(qtbot, load_dialog, tmp_path, monkeypatch, error, shown):
    path = tmp_path / "fine.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(30)))
    show_preview(qtbot, load_dialog, path)

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr("app.data_loader.load_file", fail)
    load_dialog.load_button.click()
    qtbot.waitUntil(lambda: load_dialog._thread is None, timeout=10_000)
    assert shown in load_dialog.message.text() and load_dialog.message.text() != "Loading…"
    assert load_dialog.load_button.isEnabled() and not load_dialog.progress.isVisible() and load_dialog.dataset is None


@pytest.mark.parametrize("error", [MemoryError(), ResourceError("x.csv: is a named pipe; only regular files are read")])
def test_whatever_a_preview_raises_ends_as_the_message(qtbot, load_dialog, tmp_path, monkeypatch, error):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr("app.data_loader.preview_file", fail)
    show_preview(qtbot, load_dialog, tmp_path / "x.csv")
    assert load_dialog.message.text() and "Reading" not in load_dialog.summary.text() and not load_dialog.load_button.isEnabled()


class SlowPreview:
    """A stand-in for preview_file that takes until released (or cancelled), recording
    the thread it ran on and what was cancelled."""

    def __init__(self):
        self.release, self.threads, self.cancelled = threading.Event(), [], []

    def __call__(self, path, options=None, *, rows=20, cancel=None) -> Preview:
        self.threads.append(threading.get_ident())
        give_up = time.monotonic() + 10  # run on the GUI thread (the old way), it would block the test
        while not self.release.wait(0.01) and time.monotonic() < give_up:
            if cancel is not None and cancel.is_set():
                self.cancelled.append(path.name)
                raise LoadCancelled("cancelled")
        return Preview(path, "table", summary=f"{path.name} read")


def test_the_preview_reads_off_the_gui_thread_and_the_window_stays_responsive(qtbot, load_dialog, tmp_path, monkeypatch):
    from PySide6.QtCore import QTimer

    slow = SlowPreview()
    monkeypatch.setattr("app.data_loader.preview_file", slow)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(5)
    load_dialog.set_path(str(tmp_path / "slow.csv"))
    assert load_dialog.summary.text() == "Reading slow.csv…" and not load_dialog.load_button.isEnabled()
    qtbot.waitUntil(lambda: len(ticks) >= 10, timeout=10_000)  # the GUI thread runs its timers meanwhile
    assert load_dialog.summary.text() == "Reading slow.csv…"
    with qtbot.waitSignal(load_dialog.previewDone, timeout=10_000):
        slow.release.set()
    timer.stop()
    assert slow.threads and threading.get_ident() not in slow.threads
    assert load_dialog.summary.text() == "table: slow.csv read" and load_dialog.load_button.isEnabled()


def test_choosing_another_file_cancels_the_preview_being_read(qtbot, load_dialog, tmp_path, monkeypatch):
    slow = SlowPreview()
    monkeypatch.setattr("app.data_loader.preview_file", slow)
    load_dialog.set_path(str(tmp_path / "first.csv"))
    qtbot.waitUntil(lambda: len(slow.threads) == 1, timeout=10_000)
    load_dialog.set_path(str(tmp_path / "second.csv"))
    qtbot.waitUntil(lambda: slow.cancelled == ["first.csv"], timeout=10_000)
    with qtbot.waitSignal(load_dialog.previewDone, timeout=10_000):
        slow.release.set()
    assert load_dialog.summary.text() == "table: second.csv read"


def test_closing_the_dialog_cancels_the_preview(qtbot, load_dialog, tmp_path, monkeypatch):
    slow = SlowPreview()
    monkeypatch.setattr("app.data_loader.preview_file", slow)
    load_dialog.set_path(str(tmp_path / "slow.csv"))
    qtbot.waitUntil(lambda: len(slow.threads) == 1, timeout=10_000)
    load_dialog.reject()  # returns once the preview has stopped: no thread is left running
    assert slow.cancelled == ["slow.csv"] and load_dialog._reading is None and not load_dialog._dropped
