"""The built-in sequence tasks: generators correct by construction, seeded, registered in the
CLI, the schema and the Data tab; token data from NPZ files; no standardization of token ids."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gui_helpers import shown

from app.dataset_panel import DatasetPanel, generator_kind
from core.cli import main
from core.experiment import load_dataset
from core.schema import SchemaError, validate_dataset
from core.sequences import copy_sequence, reverse_sequence
from core.synthetic import SYNTHETIC, synthetic
from core.text_data import char_name, chars, decode, shipped_text, text_metadata, vocabulary

SEQUENCE_TASKS = ("sine_forecast", "adding", "parity", "copy", "reverse", "chars")


@pytest.mark.parametrize("name", SEQUENCE_TASKS)
def test_every_sequence_task_is_registered_seeded_and_shaped_by_its_steps(name):
    info = SYNTHETIC[name]
    assert info.is_sequence and info.description.split()[0] in ("regression", "classification")
    default = synthetic(name, samples=40, seed=3)
    assert default.sample_shape[0] == info.steps and default.meta["steps"] == info.steps
    np.testing.assert_array_equal(default.X, synthetic(name, samples=40, seed=3).X)
    np.testing.assert_array_equal(default.y, synthetic(name, samples=40, seed=3).y)
    assert not np.array_equal(default.X, synthetic(name, samples=40, seed=4).X)
    short = synthetic(name, samples=40, seed=3, steps=6)
    assert short.sample_shape[0] == 6 and short.X.shape == (40, int(np.prod(short.sample_shape)))
    assert short.description == info.description


def test_the_defaults_the_contract_fixes():
    assert synthetic("adding", 10).sample_shape == (30, 2)
    assert synthetic("parity", 10).sample_shape == (8, 1) and synthetic("parity", 10).class_names == ("even", "odd")
    assert synthetic("sine_forecast", 10).meta["forecast"] == {"window": 20, "horizon": 1, "feature": 0, "consecutive": False}
    assert synthetic("chars", 10).sample_shape == (32,)


@pytest.mark.parametrize(("make", "order"), [(copy_sequence, slice(None)), (reverse_sequence, slice(None, None, -1))])
def test_copy_and_reverse_targets_are_the_values_exactly(make, order):
    data = make(50, 8, seed=1)
    steps = data.X.reshape(50, 8, 2)
    values, markers = steps[:, :, 0], steps[:, :, 1]
    assert data.task == "regression" and data.y.shape == (50, 4) and data.sample_shape == (8, 2)
    np.testing.assert_array_equal(markers, np.repeat([[0, 0, 0, 0, 1, 1, 1, 1]], 50, axis=0))
    np.testing.assert_array_equal(values[:, 4:], 0.0)
    assert ((values[:, :4] >= 0) & (values[:, :4] < 1)).all()
    np.testing.assert_array_equal(data.y, values[:, :4][:, order])
    assert data.feature_names[:3] == ("t1_value", "t1_marker", "t2_value")


def test_adding_sums_the_marked_values_and_parity_counts_the_ones():
    adding = synthetic("adding", 60, seed=2, steps=12).X.reshape(60, 12, 2)
    np.testing.assert_allclose(synthetic("adding", 60, seed=2, steps=12).y[:, 0], (adding[:, :, 0] * adding[:, :, 1]).sum(axis=1))
    assert (adding[:, :, 1].sum(axis=1) == 2).all()
    bits = synthetic("parity", 80, seed=2, steps=5)
    assert set(np.unique(bits.X)) <= {0.0, 1.0}
    np.testing.assert_array_equal(bits.y, bits.X.sum(axis=1).astype(int) % 2)


def test_chars_windows_decode_back_to_the_text_and_the_next_character_is_the_label():
    text = shipped_text()
    data = chars(200, 16, seed=5)
    vocab = data.meta["vocabulary"]
    assert vocab == vocabulary(text) == "".join(sorted(set(text))) and data.meta["tokens"] == len(vocab) == data.n_outputs
    assert data.X.dtype == np.float64 and (data.X == np.round(data.X)).all() and data.X.min() >= 0 and data.X.max() < len(vocab)
    for i in range(0, 200, 17):
        window = decode(data.X[i], vocab)
        assert len(window) == 16 and window + vocab[data.y[i]] in text
    assert data.class_names == tuple(char_name(ch) for ch in vocab) and data.class_names[:2] == ("⏎", "␣")
    assert "public domain" in data.meta["attribution"] and data.sample_shape == (16,)


def test_a_tiny_text_keeps_every_character_as_a_class_and_refuses_windows_it_cannot_hold():
    data = chars(4, 2, seed=0, text="abcab")
    assert data.class_names == ("a", "b", "c") and data.meta["tokens"] == 3  # declared, even if not every one follows a window
    with pytest.raises(ValueError, match="windows of 1 to 4 characters"):
        chars(4, 5, text="abcab")


def test_the_shipped_text_is_public_domain_and_attributed():
    meta = text_metadata()
    assert meta["license"] == "public domain" and "Shakespeare" in meta["creators"][0] and meta["changes"]
    assert len(shipped_text()) == meta["characters"] and 30_000 < len(shipped_text()) < 60_000
    assert shipped_text().startswith("First Citizen:\nBefore we proceed any further, hear me speak.")


@pytest.mark.parametrize(("name", "steps", "words"), [("copy", 7, "an even number of steps"), ("adding", 1, "at least 2"),
                                                      ("chars", 10**5, "windows of 1 to")])
def test_lengths_a_task_cannot_have_are_refused(name, steps, words):
    with pytest.raises(ValueError, match=words):
        synthetic(name, 10, steps=steps)


def test_noise_only_where_it_means_something_and_steps_only_for_sequences():
    assert not np.array_equal(synthetic("sine_forecast", 20, 0.0).X, synthetic("sine_forecast", 20, 0.3).X)
    with pytest.raises(ValueError, match="parity has no noise setting"):
        synthetic("parity", 20, 0.1)
    assert synthetic("parity", 20, 0.0).n_samples == 20
    with pytest.raises(ValueError, match="xor is not a sequence task"):
        synthetic("xor", 20, steps=4)


def test_the_schema_accepts_steps_for_sequence_tasks_only():
    assert validate_dataset({"name": "parity", "steps": 12}) == {"name": "parity", "steps": 12}
    assert load_dataset({"name": "reverse", "steps": 4, "samples": 10}).y.shape == (10, 2)
    for bad, words in (({"name": "xor", "steps": 3}, "dataset.steps: xor is not a sequence task"),
                       ({"name": "iris", "steps": 3}, "iris is not a sequence task"),
                       ({"name": "parity", "steps": 0}, "dataset.steps: expected a whole number in"),
                       ({"name": "parity", "steps": "8"}, "dataset.steps: expected a whole number")):
        with pytest.raises(SchemaError, match=words):
            validate_dataset(bad)


def test_the_cli_trains_parity_for_one_epoch_and_refuses_what_does_not_fit(capsys):
    assert main(["train", "--dataset", "parity", "--samples", "64", "--steps", "6", "--epochs", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert report["epoch"] == 1 and 0 <= report["train_accuracy"] <= 1
    assert main(["train", "--dataset", "xor", "--steps", "3", "--epochs", "1"]) == 2
    assert "xor is not a sequence task" in capsys.readouterr().err
    assert main(["train", "--dataset", "parity", "--noise", "0.2", "--epochs", "1"]) == 2
    assert "parity has no noise setting" in capsys.readouterr().err
    assert main(["data", "chars"]) == 0
    assert "58-class classification" in capsys.readouterr().out


def test_the_data_tab_groups_the_sequence_tasks_and_shows_steps_for_them(qtbot):
    panel = shown(qtbot, DatasetPanel())
    names = [panel.combo.itemData(i) for i in range(panel.combo.count())]
    first = names.index("sine_forecast")
    assert names[first - 1] is None and all(generator_kind(n) == "sequence" for n in names[first:first + 6])
    tips = {name: panel.combo.itemData(names.index(name), 3) for name in SEQUENCE_TASKS}  # 3: the tooltip role
    assert all(tips[name] == SYNTHETIC[name].description for name in SEQUENCE_TASKS)
    panel.combo.setCurrentIndex(names.index("parity"))
    assert panel.steps.isVisible() and panel.steps.value() == 8 and not panel.noise.isEnabled()
    assert "noise does not apply" in panel.noise.toolTip()
    with qtbot.waitSignal(panel.datasetChanged):
        panel.steps.setValue(5)
    assert panel.source == {"name": "parity", "samples": 1000, "steps": 5, "seed": 0} and panel.dataset.sample_shape == (5, 1)
    panel.combo.setCurrentIndex(names.index("copy"))
    panel.steps.setValue(7)  # copy needs an even length: said, and the last data kept
    assert "even number of steps" in panel.description.text() and panel.source["steps"] == 10
    panel.combo.setCurrentIndex(names.index("sine_forecast"))
    assert panel.noise.isEnabled() and panel.source["noise"] == 0.02
    panel.combo.setCurrentIndex(names.index("spiral"))
    assert not panel.steps.isVisible() and "steps" not in panel.source


# ----- NPZ files: sequences, images and token ids ---------------------------------------------------


def npz(path, **arrays):
    np.savez(path, allow_pickle=False, **arrays)
    return path


RNG = np.random.default_rng(0)
LABELS = np.arange(6) % 2


@pytest.mark.parametrize(("X", "layout", "shape", "tokens"), [
    (RNG.random((6, 4, 3)), None, (4, 3), None),  # float (m, T, F): sequences
    (RNG.integers(0, 256, (6, 4, 3), dtype=np.uint8), None, (4, 3, 1), None),  # uint8 (m, H, W): images
    (RNG.random((6, 2, 2, 3)), None, (2, 2, 3), None),  # any 4-D: images
    (RNG.random((6, 4, 3)), "image", (4, 3, 1), None),
    (RNG.integers(0, 256, (6, 4, 3), dtype=np.uint8), "sequence", (4, 3), None),
    (RNG.random((6, 5)), "sequence", (5, 1), None),  # float (m, T) as T steps of one feature
    (np.array([[0, 3, 2], [1, 1, 4]] * 3), None, (3,), 5),  # integer (m, T) ≥ 0: token ids
    (np.array([[0, 3, 2], [1, 1, 4]] * 3, dtype=np.uint8), "sequence", (3,), 5),
    (np.array([[0, -3, 2], [1, 1, 4]] * 3), None, (3,), None),  # negative whole numbers: a table
    (RNG.random((6, 5)), None, (5,), None),
], ids=["float 3-D", "uint8 3-D", "4-D", "3-D as images", "uint8 as sequences", "2-D as sequences", "ids", "uint8 ids",
        "negative table", "float table"])
def test_the_npz_rule_decides_sequences_images_and_tokens(tmp_path, X, layout, shape, tokens):
    from core.loaders import load_file

    arrays = {"X": X, "y": LABELS} | ({"layout": layout} if layout else {})
    data = load_file(npz(tmp_path / "d.npz", **arrays))
    assert data.sample_shape == shape and data.meta.get("tokens") == tokens
    np.testing.assert_array_equal(data.X, X.reshape(6, -1) / (255.0 if data.meta["pixels_scaled"] else 1.0))
    assert data.meta["pixels_scaled"] == (len(shape) == 3 and X.dtype == np.uint8)
    if len(shape) == 2:
        assert data.feature_names[:2] == (("t1_f1", "t1_f2") if shape[1] > 1 else ("t1", "t2"))


@pytest.mark.parametrize(("arrays", "words"), [
    ({"X": np.array([[0, -3, 2], [1, 1, 4]] * 3), "layout": "sequence"}, r"token ids must be whole numbers ≥ 0, but X holds -3"),
    ({"X": RNG.random((6, 5)), "layout": "column"}, "'layout' must be the text \"sequence\" or \"image\", got 'column'"),
    ({"X": RNG.random((6, 5)), "layout": np.array([1, 2])}, "'layout' must be the text"),
    ({"X": RNG.random((6, 2, 2, 3)), "layout": "sequence"}, "layout \"sequence\" needs X of \\(samples, steps, features\\)"),
    ({"X": RNG.random((6, 5)), "layout": "image"}, "layout \"image\" needs X of"),
])
def test_npz_layouts_that_cannot_be_are_refused_clearly(tmp_path, arrays, words):
    from core.loaders import LoaderError, load_file

    with pytest.raises(LoaderError, match=words):
        load_file(npz(tmp_path / "d.npz", y=LABELS, **arrays))


def test_token_ids_are_not_scaled_and_the_cli_describes_them(tmp_path, capsys):
    from core.loaders import LoaderError, LoadOptions, load_file

    path = npz(tmp_path / "ids.npz", X=np.array([[0, 3, 2], [1, 1, 4]] * 3), y=LABELS)
    with pytest.raises(LoaderError, match="token ids"):
        load_file(path, LoadOptions(scale="standardize"))
    assert main(["data", str(path)]) == 0
    assert "token ids: 3 a sample, whole numbers 0 … 4 (5 tokens)" in capsys.readouterr().out


# ----- token ids are never standardized ----------------------------------------------------------


def test_an_embedding_first_layer_keeps_the_ids_raw_even_with_standardize_on():
    from core.network import Network
    from core.trainer import Trainer, TrainingConfig, fits_standardization

    data = chars(60, 8, seed=0)
    spec = {"input_shape": [8], "layers": [{"type": "embedding", "vocabulary": data.meta["tokens"], "dimension": 3},
                                           {"type": "gru", "units": 4},
                                           {"type": "dense", "units": data.n_outputs, "activation": "softmax"}]}
    config = TrainingConfig(standardize=True, epochs=1, val_fraction=0.25)
    network = Network(spec, seed=0)
    assert not fits_standardization(network, config)
    trainer = Trainer(network, data, config)
    assert network.preprocess is None
    train = trainer.backend.to_host(trainer.x_train)
    assert (train == np.round(train)).all() and train.max() >= 10  # the ids themselves
    assert trainer.run_epoch().complete
    dense = Network({"input_shape": [8], "layers": [{"type": "dense", "units": data.n_outputs, "activation": "softmax"}]}, seed=0)
    Trainer(dense, data, config)
    assert dense.preprocess is not None  # the same ids feeding a dense layer are standardized as before


def test_the_preview_draws_sequences_as_lines_over_their_steps(qtbot):
    panel = shown(qtbot, DatasetPanel())
    panel.set_validation_fraction(0.25)
    panel.combo.setCurrentIndex(panel.combo.findData("sine_forecast"))
    item = panel.preview.getPlotItem()
    lines = item.listDataItems()
    assert len(lines) == 12 and all(len(line.xData) == 20 for line in lines)
    np.testing.assert_array_equal(lines[0].xData, np.arange(1, 21))
    assert "12 samples over 20 steps, colour: next" in item.titleLabel.text
    panel.combo.setCurrentIndex(panel.combo.findData("chars"))
    assert len(item.listDataItems()) == 12 and not panel.preview.legend.items  # 58 classes: no legend
    assert item.getAxis("left").labelText == "token ids"
