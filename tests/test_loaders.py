"""core.loaders: text tables, NPZ, IDX and image folders; options; bad input; progress and
cancellation; random and mutated files (hypothesis); the CLI's --data and ``data``."""

from __future__ import annotations

import gzip
import io
import struct
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.cli import main
from core.data import TASKS, DataError, Dataset
from core.experiment import load_dataset
from core.files import FileFormatError
from core.loaders import (
    LoadCancelled,
    LoaderError,
    LoadOptions,
    describe_dataset,
    detect_format,
    load_file,
    parse_image_size,
    preview_file,
)

# ----- helpers ------------------------------------------------------------------------------


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def check_consistent(dataset: Dataset) -> None:
    """What every loaded Dataset must satisfy."""
    m, n = dataset.X.shape
    assert m >= 1 and n >= 1 and dataset.X.dtype == np.float64 and np.isfinite(dataset.X).all()
    assert dataset.y.shape[0] == m and dataset.task in TASKS
    assert len(dataset.feature_names) == n
    if dataset.task == "regression":
        assert dataset.y.ndim == 2 and np.isfinite(dataset.y).all()
    else:
        assert dataset.y.dtype == np.int64 and dataset.y.min() >= 0 and dataset.y.max() < len(dataset.class_names)
        assert len(dataset.class_names) >= 2


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (uint8 or int32) as an IDX file."""
    code = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C}[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_mnist_pair(folder: Path, m: int = 12, compressed: bool = False, seed: int = 0) -> tuple[Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (m, 5, 4), dtype=np.uint8)
    labels = (np.arange(m) % 3).astype(np.uint8)
    suffix = ".gz" if compressed else ""
    pack = gzip.compress if compressed else (lambda b: b)
    path = write(folder, f"train-images-idx3-ubyte{suffix}", pack(idx_bytes(images)))
    write(folder, f"train-labels-idx1-ubyte{suffix}", pack(idx_bytes(labels)))
    return path, images, labels


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def fake_png(height: int, width: int, value: int) -> bytes:
    """A stand-in image file for fake_reader: two size bytes, then the pixels."""
    return bytes([height, width]) + bytes([value]) * (height * width)


def fake_reader(path: Path, size, grey: bool) -> np.ndarray:
    """An injected decoder that reads fake_png files (resizing by repetition/cropping)."""
    data = path.read_bytes()
    if len(data) < 2 or len(data) != 2 + data[0] * data[1]:
        raise OSError("not a fake image")
    image = np.frombuffer(data[2:], np.uint8).reshape(data[0], data[1])
    if size is not None:
        image = np.resize(image, size)
    return image if grey else np.repeat(image[:, :, None], 3, axis=2)


def image_folder(root: Path, sizes: dict[str, list[tuple[int, int]]]) -> Path:
    for label, (name, shapes) in enumerate(sizes.items()):
        (root / name).mkdir(parents=True)
        for i, (h, w) in enumerate(shapes):
            write(root / name, f"{i}.png", fake_png(h, w, 40 * label + i))
    return root


IRIS_LIKE = "sepal,petal,species\n" + "".join(f"{1 + i % 7}.{i % 10},{i % 5}.5,{['setosa', 'versicolor', 'virginica'][i % 3]}\n" for i in range(30))


# ----- text tables ----------------------------------------------------------------------------


def test_csv_with_header_text_target_keeps_class_names(tmp_path):
    dataset = load_file(write(tmp_path, "iris.csv", IRIS_LIKE))
    check_consistent(dataset)
    assert dataset.X.shape == (30, 2) and dataset.feature_names == ("sepal", "petal")
    assert dataset.task == "multiclass" and dataset.class_names == ("setosa", "versicolor", "virginica")
    assert list(dataset.y[:3]) == [0, 1, 2]
    assert dataset.meta["target"] == "species" and dataset.meta["format"] == "table"


@pytest.mark.parametrize(("delimiter", "name"), [(",", "d.csv"), (";", "d.csv"), ("\t", "d.tsv"), ("|", "d.txt"), ("   ", "d.dat")])
def test_delimiters_are_detected(tmp_path, delimiter, name):
    rows = ["a", "b", "label"], *[[f"{i}.25", f"{-i}", str(i % 2)] for i in range(12)]
    dataset = load_file(write(tmp_path, name, "\n".join(delimiter.join(r) for r in rows) + "\n"))
    assert dataset.X.shape == (12, 2) and dataset.task == "binary"
    assert dataset.X[3].tolist() == [3.25, -3.0]


def test_decimal_comma_with_semicolons(tmp_path):
    text = "x;y;label\n1,5;2,25;0\n3,5;4,75;1\n-0,5;1e3;0\n7;8,0;1\n"
    preview = preview_file(write(tmp_path, "de.csv", text))
    assert preview.dialect.delimiter == ";" and preview.dialect.decimal == ","
    dataset = load_file(tmp_path / "de.csv")
    assert dataset.X.tolist() == [[1.5, 2.25], [3.5, 4.75], [-0.5, 1000.0], [7.0, 8.0]]


def test_quoted_fields_hold_delimiters_quotes_and_newlines(tmp_path):
    text = 'name,size,label\n"Smith, John",1.5,a\n"say ""hi""",2.5,b\n"two\nlines",3.5,a\nplain,4.5,b\n'
    dataset = load_file(write(tmp_path, "q.csv", text), LoadOptions(roles={"name": "ignore"}))
    assert dataset.X[:, 0].tolist() == [1.5, 2.5, 3.5, 4.5] and dataset.class_names == ("a", "b")
    preview = preview_file(tmp_path / "q.csv")
    assert preview.rows[0][0] == "Smith, John" and preview.rows[1][0] == 'say "hi"'


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1"])
def test_utf8_with_or_without_bom_and_latin1(tmp_path, encoding):
    text = "température,café,étiquette\n1,2,oui\n3,4,non\n5,6,oui\n"
    dataset = load_file(write(tmp_path, "fr.csv", text.encode(encoding)))
    assert dataset.feature_names == ("température", "café") and dataset.class_names == ("non", "oui")


def test_gzip_csv(tmp_path):
    dataset = load_file(write(tmp_path, "iris.csv.gz", gzip.compress(IRIS_LIKE.encode())))
    assert dataset.X.shape == (30, 2) and dataset.meta["dialect"].endswith("gzip")


def test_no_header_is_detected_and_columns_get_names(tmp_path):
    text = "".join(f"{i}.5,{i * 2}.0,{i % 2}\n" for i in range(10))
    dataset = load_file(write(tmp_path, "raw.csv", text))
    assert dataset.n_samples == 10 and dataset.feature_names == ("column_1", "column_2")
    assert preview_file(tmp_path / "raw.csv").dialect.header is False
    forced = load_file(tmp_path / "raw.csv", LoadOptions(header=True))
    assert forced.n_samples == 9


def test_text_header_over_text_columns(tmp_path):
    text = "colour,size,label\n" + "".join(f"{c},{s},{t}\n" for c, s, t in zip("rgbrgbrgb", "SMLLMSSML", "xyxyxyxyx", strict=True))
    dataset = load_file(write(tmp_path, "cat.csv", text))
    assert dataset.n_samples == 9 and dataset.class_names == ("x", "y")


def test_target_by_name_by_position_and_default_names(tmp_path):
    path = write(tmp_path, "t.csv", "a,label,b\n" + "".join(f"{i},{i % 2},{i * 1.5}\n" for i in range(8)))
    assert load_file(path).meta["target"] == "label"
    assert load_file(path, LoadOptions(target="b")).task == "regression"
    assert load_file(path, LoadOptions(target=0)).meta["target"] == "a"
    assert load_file(path, LoadOptions(target="2")).meta["target"] == "b"
    assert load_file(path, LoadOptions(target=-1)).meta["target"] == "b"
    assert load_file(path, LoadOptions(roles={"a": "target"})).meta["target"] == "a"
    with pytest.raises(LoaderError, match="no column named 'nope'.*a, label, b"):
        load_file(path, LoadOptions(target="nope"))
    with pytest.raises(LoaderError, match="no column 7"):
        load_file(path, LoadOptions(target=7))
    with pytest.raises(LoaderError, match="more than one target"):
        load_file(path, LoadOptions(target="a", roles={"b": "target"}))


def test_last_column_is_the_default_target(tmp_path):
    dataset = load_file(write(tmp_path, "t.csv", "p,q,r\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(9))))
    assert dataset.meta["target"] == "r" and dataset.feature_names == ("p", "q")


def test_categorical_features_are_one_hot_encoded(tmp_path):
    text = "colour,smoker,age,label\n" + "".join(
        f"{['red', 'green', 'blue'][i % 3]},{['no', 'yes'][i % 2]},{20 + i},{i % 2}\n" for i in range(12))
    dataset = load_file(write(tmp_path, "c.csv", text))
    assert dataset.feature_names == ("colour=blue", "colour=green", "colour=red", "smoker=yes", "age")
    assert dataset.X[0].tolist() == [0, 0, 1, 0, 20] and dataset.X[1].tolist() == [0, 1, 0, 1, 21]


def test_target_kinds_and_task_override(tmp_path):
    rows = "".join(f"{i},{i % 4},{i * 0.37:.2f}\n" for i in range(40))
    path = write(tmp_path, "k.csv", "x,cls,value\n" + rows)
    classes = load_file(path, LoadOptions(target="cls"))
    assert classes.task == "multiclass" and classes.class_names == ("0", "1", "2", "3")
    regression = load_file(path, LoadOptions(target="value"))
    assert regression.task == "regression" and regression.target_names == ("value",)
    assert load_file(path, LoadOptions(target="cls", task="regression")).task == "regression"
    many = load_file(path, LoadOptions(target="x"))
    assert many.task == "regression"  # 40 different whole numbers
    assert load_file(path, LoadOptions(target="x", task="classification")).n_outputs == 40
    with pytest.raises(LoaderError, match="holds text; regression needs numbers"):
        load_file(write(tmp_path, "t.csv", IRIS_LIKE), LoadOptions(task="regression"))


def test_type_override_and_roles(tmp_path):
    text = "id,code,typo,label\n" + "".join(f"{i},{i % 3},{'x' if i == 5 else i},{i % 2}\n" for i in range(30))
    path = write(tmp_path, "r.csv", text)
    preview = preview_file(path)
    kinds = {c.name: (c.kind, c.role) for c in preview.columns}
    assert kinds == {"id": ("numeric", "ignore"), "code": ("numeric", "feature"), "typo": ("numeric", "feature"),
                     "label": ("numeric", "target")}
    typo = preview.columns[2]
    assert typo.bad_cells == 1 and typo.first_bad == (7, "x")
    with pytest.raises(LoaderError, match=r'line 7, column 3 \("typo"\)'):
        load_file(path)
    dataset = load_file(path, LoadOptions(types={"code": "categorical", "typo": "categorical"}, roles={"id": "feature"}))
    assert "id" in dataset.feature_names and "code=2" in dataset.feature_names
    assert sum(name.startswith("typo=") for name in dataset.feature_names) == 30
    assert load_file(path, LoadOptions(roles={"typo": "ignore"})).feature_names == ("code",)


def test_row_number_and_unique_text_columns_are_ignored_by_default(tmp_path):
    text = ",name,v,label\n" + "".join(f"{i},person{i},{i % 5},{i % 2}\n" for i in range(25))
    preview = preview_file(write(tmp_path, "n.csv", text))
    assert [(c.name, c.role) for c in preview.columns] == [("column_1", "ignore"), ("name", "ignore"), ("v", "feature"),
                                                         ("label", "target")]
    assert load_file(tmp_path / "n.csv").feature_names == ("v",)


MISSING = "a,b,c,label\n1,2,x,0\n,4,y,1\n5,NA,y,0\n7,8,?,1\n9,10,x,\n11,12,x,1\n"


def test_missing_values_are_reported_and_rows_dropped_by_default(tmp_path):
    path = write(tmp_path, "m.csv", MISSING)
    dataset = load_file(path)
    report = dataset.meta["missing"]
    assert report["by_column"] == {"a": 1, "b": 1, "c": 1} and report["cells"] == 3
    assert report["where"] == [3, 4, 5] and report["target_missing"] == 1 and report["rows_dropped"] == 4
    assert dataset.X.tolist() == [[1, 2, 0], [11, 12, 0]]
    assert "lines 3, 4, 5" in dataset.meta["missing_summary"]
    columns = {c.name: c.missing for c in preview_file(path).columns}
    assert columns == {"a": 1, "b": 1, "c": 1, "label": 1}


def test_missing_values_filled_with_mean_or_most_frequent(tmp_path):
    path = write(tmp_path, "m.csv", MISSING)
    mean = load_file(path, LoadOptions(missing="mean"))
    assert mean.n_samples == 5 and mean.meta["missing"]["rows_dropped"] == 1
    assert mean.X[1, 0] == pytest.approx((1 + 5 + 7 + 11) / 4)  # the mean of the rows with a target
    assert mean.X[3, 2] == 0  # categorical "c": most frequent level x (code 0) → c=y is 0
    frequent = load_file(path, LoadOptions(missing="most_frequent"))
    assert frequent.X[1, 0] == 1 and frequent.X[2, 1] == 2


def test_scaling_options(tmp_path):
    path = write(tmp_path, "s.csv", "a,b,label\n" + "".join(f"{i},{10 * i + 3},{i % 2}\n" for i in range(10)))
    standard = load_file(path, LoadOptions(scale="standardize")).X
    np.testing.assert_allclose(standard.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(standard.std(axis=0), 1)
    minmax = load_file(path, LoadOptions(scale="minmax")).X
    assert minmax.min() == 0 and minmax.max() == 1


def test_preview_shows_first_rows_types_and_counts_rows(tmp_path):
    text = "x,colour,label\n" + "".join(f"{i / 2},{'ab'[i % 2]},{i % 3}\n" for i in range(3000))
    preview = preview_file(write(tmp_path, "p.csv", text), rows=5)
    assert preview.format == "table" and len(preview.rows) == 5 and preview.rows[2] == ("1", "a", "2")
    assert [(c.kind, c.role) for c in preview.columns] == [("numeric", "feature"), ("categorical", "feature"), ("numeric", "target")]
    assert preview.columns[1].levels == ("a", "b") and preview.columns[2].distinct == 3
    assert preview.approx_rows == 3000 and preview.summary.startswith("3,000 rows × 3 columns")


def digits_like_csv(rows: int) -> str:
    """A table shaped like the digits data: 64 pixel columns of 0…16 and a class column."""
    pixels = np.random.default_rng(0).integers(0, 17, size=(rows, 64))
    header = ",".join([f"pixel_{j}" for j in range(64)] + ["class"])
    return header + "\n" + "".join(",".join(map(str, row)) + f",{i % 10}\n" for i, row in enumerate(pixels))


@pytest.mark.parametrize("name", ["digits.csv.gz", "digits.csv"])
def test_preview_counts_every_row_of_a_small_table(tmp_path, name):
    text = digits_like_csv(1797).encode()
    preview = preview_file(write(tmp_path, name, gzip.compress(text) if name.endswith(".gz") else text))
    assert preview.approx_rows == 1797
    assert preview.summary.startswith("1,797 rows × 65 columns")
    assert len(preview.rows) == 20 and all(c.missing == 0 for c in preview.columns)


def test_preview_of_a_large_gzip_table_says_it_estimates(tmp_path, monkeypatch):
    monkeypatch.setattr("core.loaders.formats.COUNT_ROWS_BYTES", 10_000)  # count no file: estimate every one
    preview = preview_file(write(tmp_path, "big.csv.gz", gzip.compress(digits_like_csv(5000).encode())))
    assert 4500 < preview.approx_rows < 5500
    assert preview.summary.startswith("≈ ") and preview.summary.endswith("; rows estimated from the first 1,000")


def test_options_are_checked():
    with pytest.raises(DataError, match="missing must be one of"):
        LoadOptions(missing="zero")
    with pytest.raises(DataError, match="role"):
        LoadOptions(roles={"a": "label"})
    with pytest.raises(DataError, match="image_size"):
        LoadOptions(image_size=(0, 5))
    assert parse_image_size("28x32") == (28, 32) and parse_image_size("16") == (16, 16)
    with pytest.raises(DataError, match="HEIGHTxWIDTH"):
        parse_image_size("big")


# ----- bad tables -------------------------------------------------------------------------------

BAD_TABLES = {
    "empty": (b"", r"bad\.csv: the file is empty"),
    "blank lines": (b"\n  \n\n", "empty"),
    "header only": (b"a,b,label\n", "only a header line"),
    "binary garbage": (bytes(range(256)) * 4, "binary data"),
    "control characters": (b"a,b\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f,c\n" * 3, "binary data"),
    "too many fields": (b"a,b,label\n1,2,0\n3,4,5,1\n5,6,0\n", "line 3 has 4 fields but the header has 3"),
    "too few fields": (b"a,b,label\n1,2,0\n3,1\n5,6,0\n", "line 3 has 2 fields but the header has 3"),
    "text in numeric column": (("a,b,label\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(20)) + "7,seven,1\n").encode(),
                               r'line 22, column 2 \("b"\): \'seven\' is not a number'),
    "one class": (b"a,b,label\n1,2,yes\n3,4,yes\n", r"target column 'label' has only one class \('yes'\)"),
    "one class after dropping": (b"a,b,label\n1,2,yes\n,4,no\n5,6,yes\n", "only one class"),
    "single column": (b"value\n1\n2\n3\n", "only one column"),
    "no features": (b"id,label\n1,0\n2,1\n", "no feature columns"),
    "all rows missing": (b"a,b,label\n,2,0\n1,,1\n", "no rows left"),
    "bad utf-8 later on": (b"\xef\xbb\xbfa,b,label\n" + b"1,2,0\n" * 20000 + b"3,\xff\xfe,1\n", r"line 20002 \(byte 0xff\) is not valid UTF-8 text"),
}


@pytest.mark.parametrize("case", BAD_TABLES)
def test_bad_tables_name_the_file_and_place(tmp_path, case):
    content, message = BAD_TABLES[case]
    path = write(tmp_path, "bad.csv", content)
    with pytest.raises(LoaderError, match=message) as info:
        load_file(path)
    assert str(info.value).startswith(str(path)) and isinstance(info.value, FileFormatError)


def test_missing_file_and_npy_file(tmp_path):
    with pytest.raises(LoaderError, match="no such file or folder"):
        load_file(tmp_path / "nothing.csv")
    np.save(tmp_path / "x.npy", np.zeros((3, 2)))
    with pytest.raises(LoaderError, match="single .npy array"):
        load_file(tmp_path / "x.npy")


# ----- NPZ -------------------------------------------------------------------------------------


def test_npz_integer_labels_are_classes_float_targets_regression(tmp_path):
    X = np.arange(12.0).reshape(6, 2)
    classes = load_file(write(tmp_path, "c.npz", npz_bytes(X=X, y=np.array([0, 1, 2] * 2))))
    assert classes.task == "multiclass" and classes.meta["format"] == "npz" and classes.name == "c"
    regression = load_file(write(tmp_path, "r.npz", npz_bytes(X=X, y=np.linspace(0, 1, 6))))
    assert regression.task == "regression"
    assert load_file(write(tmp_path, "f.npz", npz_bytes(X=X, y=np.array([0.0, 1.0] * 3))), LoadOptions(task="classification")).task == "binary"


def test_npz_names_images_and_missing_values(tmp_path):
    X = np.arange(24, dtype=np.uint8).reshape(4, 3, 2) * 10
    names = load_file(write(tmp_path, "img.npz", npz_bytes(X=X, y=np.array([0, 1, 0, 1]), class_names=np.array(["cat", "dog"]))))
    assert names.sample_shape == (3, 2, 1) and names.X.shape == (4, 6) and names.X.max() == pytest.approx(230 / 255)
    assert names.class_names == ("cat", "dog")
    Xn = np.array([[1.0, 2.0], [np.nan, 3.0], [4.0, 5.0], [6.0, 7.0]])
    dataset = load_file(write(tmp_path, "n.npz", npz_bytes(X=Xn, y=np.array([0, 1, 1, 0]), feature_names=np.array(["a", "b"]))))
    assert dataset.n_samples == 3 and dataset.feature_names == ("a", "b")
    assert dataset.meta["missing"]["where"] == [2]
    assert load_file(tmp_path / "n.npz", LoadOptions(missing="mean")).X[1, 0] == pytest.approx(11 / 3)


def _cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


BAD_NPZ = {
    "no X": (lambda: npz_bytes(y=np.arange(3)), r"has no array 'X' \(it has: y\)"),
    "no y": (lambda: npz_bytes(X=np.zeros((3, 2))), "has no array 'y'"),
    "garbage": (lambda: b"PK\x03\x04 this is not a zip file", "not a readable .npz"),
    "truncated": (lambda: _cut(npz_bytes(X=np.zeros((50, 4)), y=np.arange(50))), "npz"),
    "text X": (lambda: npz_bytes(X=np.array([["a", "b"], ["c", "d"]]), y=np.arange(2)), "X must hold real numbers"),
    "y of other length": (lambda: npz_bytes(X=np.zeros((4, 2)), y=np.arange(3)), r"y must be numbers of shape \(4,\)"),
    "one class": (lambda: npz_bytes(X=np.zeros((4, 2)), y=np.zeros(4, int)), "only one class"),
    "empty X": (lambda: npz_bytes(X=np.zeros((0, 2)), y=np.zeros(0, int)), "X must be"),
}


@pytest.mark.parametrize("case", BAD_NPZ)
def test_bad_npz_files(tmp_path, case):
    make, message = BAD_NPZ[case]
    path = write(tmp_path, "bad.npz", make())
    with pytest.raises(LoaderError, match=message) as info:
        load_file(path)
    assert str(path) in str(info.value)


def test_npz_with_pickled_objects_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, X=np.array([object(), object()], dtype=object), y=np.arange(2))
    with pytest.raises(LoaderError, match="Python objects"):
        load_file(path)


def test_npz_member_header_claiming_more_data_than_stored(tmp_path):
    data = npz_bytes(X=np.zeros((4, 2)), y=np.arange(4) % 2)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        members = {name: z.read(name) for name in z.namelist()}
    members["X.npy"] = members["X.npy"].replace(b"(4, 2)", b"(9, 2)")  # same header length, more data promised
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, content in members.items():
            z.writestr(name, content)
    with pytest.raises(LoaderError, match="truncated or damaged"):
        load_file(write(tmp_path, "lying.npz", buffer.getvalue()))


# ----- IDX -------------------------------------------------------------------------------------


@pytest.mark.parametrize("compressed", [False, True])
def test_idx_images_and_labels_found_beside_them(tmp_path, compressed):
    path, images, labels = write_mnist_pair(tmp_path, compressed=compressed)
    assert detect_format(path) == "idx"
    dataset = load_file(path)
    check_consistent(dataset)
    assert dataset.X.shape == (12, 20) and dataset.sample_shape == (5, 4, 1)
    np.testing.assert_allclose(dataset.X[3], images[3].reshape(-1) / 255)
    assert dataset.y.tolist() == labels.tolist() and dataset.class_names == ("0", "1", "2")
    assert preview_file(path).approx_rows == 12


def test_idx_labels_given_explicitly(tmp_path):
    path, _, labels = write_mnist_pair(tmp_path)
    other = write(tmp_path, "my-labels.idx", idx_bytes(labels[::-1].copy()))
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(LoaderError, match="no labels file found beside it.*--labels"):
        load_file(path)
    assert load_file(path, LoadOptions(labels=other)).y.tolist() == labels[::-1].tolist()


def test_bad_idx_files(tmp_path):
    path, images, labels = write_mnist_pair(tmp_path)
    good = path.read_bytes()
    cases = {
        "wrong magic": (b"\x00\x00\x09\x07" + good[4:], "wrong magic number 0x00000907"),
        "not idx at all": (b"hello world, I am text", "wrong magic number"),
        "truncated data": (good[:-7], "truncated data: shape 12 × 5 × 4 needs 240 bytes after the header, found 233"),
        "truncated header": (good[:9], "truncated: the header promises 3 dimension sizes"),
        "too much data": (good + b"\x00", "more data than the header"),
        "huge shape": (bytes([0, 0, 8, 3]) + struct.pack(">3I", 2**31, 2**31, 4), "too large"),
    }
    write(tmp_path, "bad-labels-idx1-ubyte", idx_bytes(labels))
    for what, (content, message) in cases.items():
        bad = write(tmp_path, "bad-images-idx3-ubyte", content)
        with pytest.raises(LoaderError, match=message) as info:
            load_file(bad)
        assert str(bad) in str(info.value), what
    write(tmp_path, "short-images-idx3-ubyte", good)
    write(tmp_path, "short-labels-idx1-ubyte", idx_bytes(labels[:5].copy()))
    with pytest.raises(LoaderError, match="has 5 labels but short-images-idx3-ubyte has 12 images"):
        load_file(tmp_path / "short-images-idx3-ubyte")
    with pytest.raises(LoaderError, match="is a labels file"):
        load_file(tmp_path / "train-labels-idx1-ubyte")
    write(tmp_path, "g-images-idx3-ubyte.gz", gzip.compress(good)[:-20])
    with pytest.raises(LoaderError, match="g-images"):
        load_file(tmp_path / "g-images-idx3-ubyte.gz")


# ----- image folders ---------------------------------------------------------------------------


def test_image_folder_with_an_injected_reader(tmp_path):
    root = image_folder(tmp_path / "shapes", {"circle": [(3, 4)] * 3, "square": [(3, 4)] * 2, "empty": []})
    (root / "circle" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    assert detect_format(root) == "images"
    dataset = load_file(root, read_image=fake_reader)
    check_consistent(dataset)
    assert dataset.class_names == ("circle", "square") and dataset.y.tolist() == [0, 0, 0, 1, 1]
    assert dataset.sample_shape == (3, 4, 1) and dataset.X.shape == (5, 12)
    assert dataset.X[3, 0] == pytest.approx(40 / 255) and dataset.X.max() <= 1
    rgb = load_file(root, LoadOptions(grey=False, image_size=(2, 2)), read_image=fake_reader)
    assert rgb.sample_shape == (2, 2, 3) and rgb.X.shape == (5, 12)
    assert preview_file(root).summary.startswith("2 classes, 5 images")


def test_bad_image_folders(tmp_path):
    mixed = image_folder(tmp_path / "mixed", {"a": [(3, 4), (3, 4)], "b": [(5, 4)]})
    with pytest.raises(LoaderError, match=r"b/0.png: is 4×5 but .*a/0.png is 4×3; images of mixed sizes"):
        load_file(mixed, read_image=fake_reader)
    assert load_file(mixed, LoadOptions(image_size=(3, 3)), read_image=fake_reader).X.shape == (3, 9)
    with pytest.raises(LoaderError, match="needs an image decoder"):
        load_file(mixed)
    single = image_folder(tmp_path / "single", {"only": [(2, 2)]})
    with pytest.raises(LoaderError, match="at least two subfolders"):
        load_file(single, read_image=fake_reader)
    broken = image_folder(tmp_path / "broken", {"a": [(2, 2)], "b": [(2, 2)]})
    write(broken / "b", "1.png", b"\x89PNG garbage")
    with pytest.raises(LoaderError, match=r"1.png: cannot read the image \(not a fake image\)"):
        load_file(broken, read_image=fake_reader)
    with pytest.raises(LoaderError, match="expected uint8"):
        load_file(broken, read_image=lambda path, size, grey: np.zeros((2, 2), np.float32))


def test_qt_image_reader_reads_png_and_jpeg(tmp_path):
    pytest.importorskip("PySide6.QtGui")
    from PySide6.QtGui import QColor, QImage

    from app.image_reader import read_image

    root = tmp_path / "photos"
    for label, (name, colour) in enumerate({"blue": QColor(0, 0, 255), "red": QColor(255, 0, 0)}.items()):
        (root / name).mkdir(parents=True)
        for i, suffix in enumerate(["png", "jpg"]):
            image = QImage(12 + label * 4, 9, QImage.Format.Format_RGB888)
            image.fill(colour)
            assert image.save(str(root / name / f"{i}.{suffix}"))
    with pytest.raises(LoaderError, match="images of mixed sizes"):
        load_file(root, read_image=read_image)
    dataset = load_file(root, LoadOptions(image_size=(6, 8), grey=False), read_image=read_image)
    assert dataset.sample_shape == (6, 8, 3) and dataset.class_names == ("blue", "red")
    pixels = dataset.X.reshape(4, 6, 8, 3)
    assert pixels[0, :, :, 2].min() > 0.9 and pixels[0, :, :, 0].max() < 0.1  # blue
    assert pixels[3, :, :, 0].min() > 0.9  # red (JPEG)
    grey = read_image(root / "red" / "0.png", None, True)
    assert grey.shape == (9, 16) and grey.dtype == np.uint8
    write(root / "red", "2.png", b"not a png")
    with pytest.raises(LoaderError, match="2.png: cannot read the image"):
        read_image(root / "red" / "2.png", None, True)


# ----- progress and cancellation ---------------------------------------------------------------


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.csv"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150_000, 3)).round(3)
    y = (X[:, 0] > 0).astype(int)
    with open(path, "w") as f:
        f.write("a,b,c,label\n")
        np.savetxt(f, np.column_stack([X, y]), delimiter=",", fmt=["%.3f"] * 3 + ["%d"])
    return path


def test_progress_is_reported_in_order_up_to_one(big_csv):
    reports = []
    dataset = load_file(big_csv, progress=lambda fraction, message: reports.append((fraction, message)))
    fractions = [f for f, _ in reports]
    assert dataset.n_samples == 150_000 and len(reports) >= 4
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert any("rows" in message for _, message in reports)


def test_cancel_with_an_event_or_by_returning_false(big_csv):
    cancel = threading.Event()

    def set_cancel(fraction: float, message: str) -> None:
        if "reading" in message:
            cancel.set()

    with pytest.raises(LoadCancelled):
        load_file(big_csv, progress=set_cancel, cancel=cancel)
    with pytest.raises(LoadCancelled):
        load_file(big_csv, progress=lambda fraction, message: fraction < 0.1)
    already = threading.Event()
    already.set()
    with pytest.raises(LoadCancelled):
        load_file(big_csv, cancel=already)


def test_load_in_a_thread_can_be_cancelled_from_another(big_csv):
    cancel, started, outcome = threading.Event(), threading.Event(), []

    def work() -> None:
        try:
            load_file(big_csv, progress=lambda fraction, message: started.set(), cancel=cancel)
            outcome.append("loaded")
        except LoadCancelled:
            outcome.append("cancelled")

    thread = threading.Thread(target=work)
    thread.start()
    started.wait(10)
    cancel.set()
    thread.join(30)
    assert outcome in (["cancelled"], ["loaded"]) and not thread.is_alive()


# ----- random and mutated files (hypothesis) -------------------------------------------------

SUFFIXES = ["data.csv", "data.tsv", "data.npz", "data.gz", "t10k-images-idx3-ubyte", "data"]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """One folder for all examples of the property tests (hypothesis reruns a test body)."""
    return tmp_path_factory.mktemp("fuzz")


def load_or_loader_error(folder: Path, content: bytes, name: str) -> None:
    """Preview and load ``content`` saved as ``name``: a consistent Dataset or a LoaderError, nothing else."""
    folder = folder / "one"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    path = write(folder, name, content)
    try:
        preview_file(path)
    except LoaderError as exc:
        assert str(path) in str(exc)
    try:
        dataset = load_file(path)
    except LoaderError as exc:
        assert str(path) in str(exc)
        return
    check_consistent(dataset)


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


@FUZZ
@given(st.binary(max_size=600), st.sampled_from(SUFFIXES))
def test_random_bytes_load_or_raise_loader_error(scratch, content, name):
    load_or_loader_error(scratch, content, name)


@FUZZ
@given(st.text(alphabet='0123456789.,;\t|" \n-eEaxyNA?\r', max_size=300))
def test_random_table_text_loads_or_raises_loader_error(scratch, text):
    load_or_loader_error(scratch, text.encode(), "table.csv")


VALID_CSV = ("a,b,colour,label\n" + "".join(f"{i * 0.5},{i % 4},{'rgb'[i % 3]},{i % 2}\n" for i in range(12))).encode()
VALID_NPZ = npz_bytes(X=np.arange(24.0).reshape(8, 3), y=np.arange(8) % 2)
VALID_IDX = idx_bytes(np.arange(2 * 3 * 2, dtype=np.uint8).reshape(2, 3, 2))


@st.composite
def mutated(draw, valid: bytes) -> bytes:
    """``valid`` cut short, with bytes changed, inserted or removed."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["cut", "flip", "insert", "delete"]))
        if action == "cut":
            del data[position:]
        elif action == "flip":
            data[position] = draw(st.integers(0, 255))
        elif action == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[position : position + draw(st.integers(1, 8))]
    return bytes(data)


@FUZZ
@given(mutated(VALID_CSV), st.sampled_from(["m.csv", "m.csv.gz"]))
def test_mutated_csv_loads_or_raises_loader_error(scratch, content, name):
    load_or_loader_error(scratch, gzip.compress(content) if name.endswith(".gz") else content, name)


@FUZZ
@given(mutated(VALID_NPZ))
def test_mutated_npz_loads_or_raises_loader_error(scratch, content):
    load_or_loader_error(scratch, content, "m.npz")


@FUZZ
@given(mutated(VALID_IDX), st.booleans())
def test_mutated_idx_loads_or_raises_loader_error(scratch, content, compressed):
    folder = scratch / "idx"
    folder.mkdir(exist_ok=True)
    write(folder, "m-labels-idx1-ubyte", idx_bytes(np.array([0, 1], np.uint8)))
    path = write(folder, "m-images-idx3-ubyte", gzip.compress(content) if compressed else content)
    try:
        check_consistent(load_file(path))
    except LoaderError as exc:
        assert str(path) in str(exc)


@FUZZ
@given(mutated(gzip.compress(VALID_CSV)))
def test_mutated_gzip_loads_or_raises_loader_error(scratch, content):
    load_or_loader_error(scratch, content, "m.csv.gz")


# ----- experiments and the command line ----------------------------------------------------


def test_load_dataset_reads_every_format(tmp_path):
    write(tmp_path, "t.csv", IRIS_LIKE)
    assert load_dataset({"path": "t.csv", "target": "species"}, tmp_path).n_features == 2
    path, _, _ = write_mnist_pair(tmp_path)
    assert load_dataset({"path": path.name, "labels": "train-labels-idx1-ubyte"}, tmp_path).sample_shape == (5, 4, 1)
    folder = image_folder(tmp_path / "imgs", {"a": [(2, 2)], "b": [(2, 2)]})
    assert load_dataset({"path": "imgs", "image_size": "3x3"}, tmp_path, read_image=fake_reader).n_features == 9
    assert folder.exists()
    assert load_dataset({"path": "t.csv", "task": "classes", "missing": "mean"}, tmp_path).task == "multiclass"


def test_cli_data_subcommand_prints_what_would_be_loaded(tmp_path, capsys):
    path = write(tmp_path, "m.csv", MISSING)
    assert main(["data", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "rows: 2 used of 6 read" in out and "features: 3 (a, b, c=y)" in out
    assert "task: binary classification, target column 'label'" in out and "classes: 0=0 (1), 1=1 (1)" in out
    assert "missing values: 3 missing values in a (1), b (1), c (1) at lines 3, 4, 5" in out
    assert main(["data", str(path), "--target", "a", "--missing", "mean"]) == 0
    assert "task: 5-class classification, target column 'a'" in capsys.readouterr().out


def test_cli_data_subcommand_for_idx_and_image_folders(tmp_path, capsys):
    path, _, _ = write_mnist_pair(tmp_path, compressed=True)
    assert main(["data", str(path)]) == 0
    assert "images: 5 × 4 pixels" in capsys.readouterr().out
    folder = image_folder(tmp_path / "imgs", {"a": [(2, 2)], "b": [(2, 3)]})
    assert main(["data", str(folder), "--image-size", "4x4", "--rgb"], read_image=fake_reader) == 0
    assert "images: 4 × 4 × 3 pixels" in capsys.readouterr().out


def test_cli_train_on_a_csv_with_a_target_column(tmp_path, capsys):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 2))
    text = "label,u,v\n" + "".join(f"{'yes' if a + b > 0 else 'no'},{a:.4f},{b:.4f}\n" for a, b in X)
    path = write(tmp_path, "d.csv", text)
    status = main(["train", "--data", str(path), "--target", "label", "--layers", "none", "--epochs", "40", "--lr", "0.05"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert float(out.split("validation loss")[1].split("accuracy")[1]) >= 0.9
    status = main(["train", "--data", str(path), "--target", "0", "--layers", "none", "--epochs", "1", "--json"])
    assert status == 0 and capsys.readouterr().out.count("\n") == 1


@pytest.mark.parametrize("argv", [
    ["data", "{bad}"], ["train", "--data", "{bad}"], ["data", "{csv}", "--target", "nope"],
    ["train", "--dataset", "xor", "--target", "a"], ["data", "{csv}", "--image-size", "huge"],
    ["data", "iris", "--target", "class"], ["data", "{folder}"],
])
def test_cli_bad_data_is_one_line_on_stderr_and_exit_2(tmp_path, capsys, argv):
    bad = write(tmp_path, "bad.csv", b"a,b,c\n1,2\n")
    csv_file = write(tmp_path, "ok.csv", IRIS_LIKE)
    folder = image_folder(tmp_path / "imgs", {"a": [(2, 2)], "b": [(2, 2)]})
    argv = [a.format(bad=bad, csv=csv_file, folder=folder) for a in argv]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err


def test_describe_dataset_lines(tmp_path):
    dataset = load_file(write(tmp_path, "iris.csv", IRIS_LIKE))
    lines = describe_dataset(dataset)
    assert lines[1] == "rows: 30" and lines[-1] == "missing values: no missing values"


def test_core_and_the_cli_entry_import_no_qt(child_env):
    code = ("import sys, core.cli, core.loaders, core.realdata, app.main, app.image_reader; "
            "assert not [m for m in sys.modules if m.startswith('PySide6')], 'Qt imported'")
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent, env=child_env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
