"""The built-in real datasets: files, metadata and attribution, shapes and classes, and
that networks learn them (logistic regression on breast cancer, 64-32-10 on digits, iris)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import core
from core.cli import main
from core.data import DataError
from core.experiment import load_dataset, network_spec, parse_layers
from core.network import Network
from core.realdata import REAL_DATASETS, attribution, dataset_metadata, datasets_dir, load_real
from core.trainer import ConfigError, Trainer, TrainingConfig

EXPECTED = {  # name: (samples, features, classes or None for regression)
    "iris": (150, 4, ("setosa", "versicolor", "virginica")),
    "wine": (178, 13, ("cultivar_1", "cultivar_2", "cultivar_3")),
    "breast_cancer": (569, 30, ("benign", "malignant")),
    "breast_cancer_original": (683, 9, ("benign", "malignant")),
    "spambase": (4601, 57, ("nonspam", "spam")),
    "digits": (1797, 64, tuple(str(d) for d in range(10))),
    "digits_rgb": (1797, 192, tuple(str(d) for d in range(10))),
    "mnist_5k": (5000, 784, tuple(str(d) for d in range(10))),
    "housing": (500, 6, None),
}
REAL_FILES = [name for name in REAL_DATASETS if name not in ("housing", "digits_rgb")]  # those two are generated: no file


@pytest.fixture(scope="module")
def loaded() -> dict:
    return {name: load_real(name) for name in REAL_DATASETS}


def test_the_names_are_the_issue_s(loaded):
    assert set(REAL_DATASETS) == set(EXPECTED)


@pytest.mark.parametrize("name", REAL_DATASETS)
def test_shapes_classes_and_names(loaded, name):
    dataset = loaded[name]
    samples, features, classes = EXPECTED[name]
    assert dataset.X.shape == (samples, features) and dataset.name == name
    assert np.isfinite(dataset.X).all() and len(dataset.feature_names) == features
    if classes is None:
        assert dataset.task == "regression"
    else:
        assert dataset.class_names == classes
        assert dataset.task == ("binary" if len(classes) == 2 else "multiclass")
    assert dataset.description and dataset.meta["attribution"] and dataset.meta["title"]


def test_malignant_and_spam_are_the_positive_class(loaded):
    cancer = loaded["breast_cancer"]
    assert np.bincount(cancer.y).tolist() == [357, 212] and cancer.class_names[1] == "malignant"
    assert cancer.feature_names[0] == "mean_radius" and cancer.feature_names[-1] == "worst_fractal_dimension"
    spam = loaded["spambase"]
    assert np.bincount(spam.y).tolist() == [2788, 1813]


def test_breast_cancer_original_missing_values_dropped_or_filled(loaded):
    dropped = loaded["breast_cancer_original"]
    assert dropped.meta["missing"]["by_column"] == {"bare_nuclei": 16} and dropped.meta["missing"]["rows_dropped"] == 16
    assert np.bincount(dropped.y).tolist() == [444, 239]
    assert dropped.feature_names[:3] == ("clump_thickness", "uniformity_of_cell_size", "uniformity_of_cell_shape")
    filled = load_real("breast_cancer_original", missing="most_frequent")
    assert filled.n_samples == 699 and filled.X.min() == 1 and filled.X.max() == 10
    assert filled.meta["missing"]["filled"] == {"bare_nuclei": 1.0}
    assert load_dataset({"name": "breast_cancer_original", "missing": "mean"}).n_samples == 699


@pytest.mark.parametrize(("name", "shape"), [("digits", (8, 8, 1)), ("mnist_5k", (28, 28, 1))])
def test_images_are_flat_in_0_1_with_their_shape_recorded(loaded, name, shape):
    dataset = loaded[name]
    assert dataset.sample_shape == shape
    assert dataset.X.min() == 0 and dataset.X.max() == 1
    assert dataset.feature_names[1] == "pixel_0_1"
    image = dataset.X[0].reshape(shape)
    assert image[shape[0] // 2].max() > 0.5  # some ink across the middle row


def test_mnist_has_500_images_per_digit(loaded):
    assert np.bincount(loaded["mnist_5k"].y).tolist() == [500] * 10


@pytest.mark.parametrize("name", REAL_DATASETS)
def test_metadata_and_attribution(name):
    meta = dataset_metadata(name)
    for key in ("name", "title", "creators", "source", "license", "changes", "citation", "description"):
        assert key in meta, key
    text = attribution(name)
    if name == "housing":
        assert "Synthetic" in text
        return
    assert meta["license"] in text and meta["obtained_from"] and meta["package_license"]
    if name == "mnist_5k":
        assert meta["license"] == "CC BY-SA 3.0" and meta["doi"] is None
    else:
        assert meta["license"] == "CC BY 4.0" and f"https://doi.org/{meta['doi']}" in text and meta["doi"] in meta["citation"]


def test_metadata_is_a_copy():
    dataset_metadata("iris")["title"] = "changed"
    assert dataset_metadata("iris")["title"] == "Iris"


@pytest.mark.parametrize("name", REAL_FILES)
def test_files_are_small_and_never_pickles(name):
    folder = datasets_dir()
    assert folder == Path(core.__file__).resolve().parent.parent / "resources" / "datasets"
    meta = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    data = folder / (f"{name}.npz" if "image_shape" in meta else f"{name}.csv.gz")
    assert data.stat().st_size < 1_200_000
    if data.suffix == ".npz":
        with zipfile.ZipFile(data) as z:
            assert sorted(z.namelist()) == ["X.npy", "y.npy"]
        with np.load(data, allow_pickle=False) as npz:
            assert npz["X"].dtype == np.uint8 and npz["y"].dtype == np.uint8
    else:
        assert data.read_bytes()[:2] == b"\x1f\x8b"


def test_the_resources_total_is_small():
    total = sum(p.stat().st_size for p in datasets_dir().rglob("*") if p.is_file())
    assert total < 2_000_000


def test_unknown_names_and_real_sets_without_samples():
    with pytest.raises(DataError, match="unknown built-in dataset 'mnist'"):
        load_real("mnist")
    with pytest.raises(ConfigError, match="iris is a real dataset"):
        load_dataset({"name": "iris", "samples": 10})
    with pytest.raises(ConfigError, match="unknown dataset 'nope'.*breast_cancer.*xor"):
        load_dataset({"name": "nope"})
    assert load_dataset({"name": "housing", "samples": 40}).n_samples == 40  # still the synthetic generator


# ----- learning on real data ------------------------------------------------------------------


def validation_accuracy(dataset, layers: str, seed: int, **settings) -> float:
    config = TrainingConfig(seed=seed, **settings)
    network = Network(network_spec(dataset, parse_layers(layers)), seed=seed)
    reports = Trainer(network, dataset, config).run(config.epochs)
    assert not reports[-1].diverged
    return reports[-1].val_metric


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_logistic_regression_on_breast_cancer_reaches_95_percent(loaded, seed):
    dataset = loaded["breast_cancer"]
    assert validation_accuracy(dataset, "none", seed, learning_rate=0.01, batch_size=32, epochs=100, l2=1e-3) >= 0.95


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_64_32_10_network_on_digits_reaches_95_percent(loaded, seed):
    dataset = loaded["digits"]
    spec = network_spec(dataset, parse_layers("32:relu"))
    assert spec["input_shape"] == [64] and [layer["units"] for layer in spec["layers"]] == [32, 10]
    assert validation_accuracy(dataset, "32:relu", seed, learning_rate=0.003, batch_size=32, epochs=40) >= 0.95


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_softmax_regression_on_iris_reaches_93_percent(loaded, seed):
    dataset = loaded["iris"]
    assert validation_accuracy(dataset, "none", seed, learning_rate=0.05, batch_size=16, epochs=200) >= 0.93


# ----- command line ------------------------------------------------------------------------------


def test_cli_trains_on_a_real_dataset(capsys):
    status = main(["train", "--dataset", "wine", "--layers", "none", "--epochs", "60", "--lr", "0.05"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert float(out.split("validation loss")[1].split("accuracy")[1]) >= 0.9


def test_cli_data_shows_a_real_dataset_with_attribution(capsys):
    assert main(["data", "breast_cancer_original"]) == 0
    out = capsys.readouterr().out
    assert "rows: 683 used of 699 read" in out and "classes: 0=benign (444), 1=malignant (239)" in out
    assert "bare_nuclei (16)" in out and "attribution: Breast Cancer Wisconsin (Original)" in out and "CC BY 4.0" in out
    assert main(["data", "mnist_5k"]) == 0
    assert "images: 28 × 28 pixels" in capsys.readouterr().out
