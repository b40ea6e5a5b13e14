"""Hand-made experiments: data written into the experiment (``dataset.inline``), explicit
initial weights (``weights``), and one-sample data; each wrong part refused in one line
naming its key, and everything kept through save and load and the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.backend import get_backend
from core.cli import main
from core.data import DataError, make_dataset
from core.experiment import Experiment, apply_weights, check_split, load_dataset
from core.files import FileFormatError
from core.network import Network
from core.schema import MAX_INLINE_NUMBERS, SchemaError, validate_dataset, validate_experiment
from core.trainer import ConfigError, Trainer, TrainingConfig

TWO_INPUTS = {"input_shape": [2], "layers": [{"type": "dense", "units": 3, "activation": "tanh"}, {"type": "dropout", "rate": 0.1},
                                             {"type": "dense", "units": 1, "activation": "sigmoid"}]}
WEIGHTS = [{"W": [[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]], "b": [0.0, 0.1, -0.1]}, {}, {"W": [[1.0, -1.0, 0.5]], "b": [0.25]}]


def inline(**changes) -> dict:
    return {"inline": {"X": [[5, 3]], "y": [1], "classes": ["0", "1"], "features": ["x1", "x2"], "name": "by hand", **changes}}


def experiment_json(**changes) -> dict:
    return {"dataset": inline(), "network": TWO_INPUTS, "training": {"val_fraction": 0.0, "dtype": "float64"}, "weights": WEIGHTS,
            **changes}


def dataset_error(dataset: object) -> str:
    with pytest.raises(SchemaError) as caught:
        validate_dataset(dataset)
    message = str(caught.value)
    assert "\n" not in message
    return message


# ----- inline data -----------------------------------------------------------------------------------
def test_declared_classes_make_a_one_sample_classifier():
    data = load_dataset(inline())
    assert data.task == "binary" and data.class_names == ("0", "1") and data.feature_names == ("x1", "x2")
    np.testing.assert_array_equal(data.X, [[5.0, 3.0]])
    np.testing.assert_array_equal(data.y, [1])
    assert data.name == "by hand" and data.summary().startswith("1 sample × 2 features, binary, 2 classes")


def test_declared_classes_keep_every_class_even_when_few_occur():
    data = load_dataset({"inline": {"X": [[1], [2]], "y": [2, 2], "classes": ["a", "b", "c", "d"]}})
    assert data.task == "multiclass" and data.n_outputs == 4 and data.class_names == ("a", "b", "c", "d")
    np.testing.assert_array_equal(data.y, [2, 2])  # indices into the classes, not renumbered


def test_without_classes_the_data_reads_as_make_dataset_reads_arrays():
    regression = load_dataset({"inline": {"X": [[0], [1], [2]], "y": [0.5, 1.5, 2.5]}})
    assert regression.task == "regression" and regression.y.shape == (3, 1) and regression.feature_names == ("x1",)
    two_targets = load_dataset({"inline": {"X": [[0], [1]], "y": [[1, 2], [3, 4]]}})
    assert two_targets.task == "regression" and two_targets.y.shape == (2, 2)
    labels = load_dataset({"inline": {"X": [[0], [1], [2]], "y": [0, 1, 1]}})
    assert labels.task == "binary" and labels.class_names == ("0", "1")


def test_one_class_without_declared_classes_is_still_refused():
    with pytest.raises(ConfigError, match=r"^dataset.inline: the target has only one class \(1\); a classifier needs at least two$"):
        load_dataset({"inline": {"X": [[5, 3]], "y": [1]}})
    with pytest.raises(DataError, match="only one class"):
        make_dataset(np.array([[5.0, 3.0]]), np.array([1]))


def test_make_dataset_checks_declared_classes():
    with pytest.raises(DataError, match="not an index into the 2 classes"):
        make_dataset(np.ones((1, 2)), np.array([2]), classes=("a", "b"))
    with pytest.raises(DataError, match="at least two"):
        make_dataset(np.ones((1, 2)), np.array([0]), classes=("a",))
    assert make_dataset(np.ones((1, 2)), np.array([1.0]), classes=("a", "b")).task == "binary"  # whole floats are labels


INLINE_REFUSALS = {
    "ragged X": (inline(X=[[5, 3], [1]], y=[1, 0]), "dataset.inline.X[1]: expected 2 numbers like X[0], got 1"),
    "y of another length": (inline(y=[1, 0]), "dataset.inline.y: expected 1 target, one per row of X, got 2"),
    "a class index out of range": (inline(y=[2]), "dataset.inline.y[0]: expected a class index, a whole number from 0 to 1 "
                                                  "(classes has 2 names), got 2"),
    "a fractional class index": (inline(y=[1.0]), "dataset.inline.y[0]: expected a class index"),
    "a class named twice": (inline(classes=["a", "a"]), 'dataset.inline.classes[1]: the class "a" is named twice'),
    "one class": (inline(classes=["a"]), 'dataset.inline.classes: expected at least 2 item(s), got ["a"]'),
    "a number as text": (inline(X=[[5, "3"]]), 'dataset.inline.X[0][1]: expected a finite number, got "3"'),
    "a flag as a number": (inline(X=[[5, True]]), "dataset.inline.X[0][1]: expected a finite number, got true"),
    "not a number": (inline(X=[[5, float("nan")]]), "dataset.inline.X[0][1]: expected a finite number, got nan"),
    "features of another length": (inline(features=["x1"]), "dataset.inline.features: expected 2 names, one per column of X, got 1"),
    "an empty feature name": (inline(features=["x1", ""]), 'dataset.inline.features[1]: expected a name (non-empty text), got ""'),
    "mixed targets": ({"inline": {"X": [[1], [2]], "y": [1.5, [2.0]]}}, "dataset.inline.y[1]: expected a number like y[0], got [2.0]"),
    "no rows": ({"inline": {"X": [], "y": []}}, "dataset.inline.X: expected at least 1 item(s), got []"),
    "an unknown key": (inline(target=[1]), "dataset.inline.target: unknown inline data key; the known ones are X, y, classes, features, name"),
    "no y": ({"inline": {"X": [[1]]}}, "dataset.inline.y: missing; inline data needs 'X' and 'y'"),
    "beside a name": ({**inline(), "name": "spiral"}, "dataset.name: unknown dataset setting; the known ones are inline"),
    "not an object": ({"inline": [[5, 3]]}, "dataset.inline: expected a JSON object (inline data needs 'X' and 'y'), got [[5, 3]]"),
}


@pytest.mark.parametrize("dataset,message", INLINE_REFUSALS.values(), ids=INLINE_REFUSALS)
def test_wrong_inline_data_is_one_line_naming_the_key(dataset, message):
    assert dataset_error(dataset).startswith(message)


def test_inline_data_holds_at_most_ten_thousand_numbers():
    rows = MAX_INLINE_NUMBERS // 2
    assert load_dataset({"inline": {"X": [[float(i)] for i in range(rows)], "y": [i % 2 for i in range(rows)]}}).n_samples == rows
    too_many = {"inline": {"X": [[0.0]] * (rows + 1), "y": [0] * (rows + 1)}}
    assert dataset_error(too_many) == (f"dataset.inline: holds {2 * rows + 2:,} numbers; inline data holds at most "
                                       f'{MAX_INLINE_NUMBERS:,} (put more in a data file: {{"path": …}})')


# ----- weights ---------------------------------------------------------------------------------------
def network(spec: dict = TWO_INPUTS, dtype: str = "float64") -> Network:
    return Network(spec, get_backend("numpy", dtype), seed=3)


def test_apply_weights_sets_every_layer_in_spec_order():
    net = network()
    apply_weights(net, WEIGHTS)
    params = net.parameters_by_layer()
    np.testing.assert_array_equal(params[0]["W"], WEIGHTS[0]["W"])
    np.testing.assert_array_equal(params[2]["b"], WEIGHTS[2]["b"])
    assert params[1] == {}
    hidden = np.tanh(np.array(WEIGHTS[0]["W"]) @ [1.0, 2.0] + WEIGHTS[0]["b"])
    z = hidden @ WEIGHTS[2]["W"][0] + WEIGHTS[2]["b"][0]
    np.testing.assert_allclose(net.predict(np.array([[1.0, 2.0]])), [[1 / (1 + np.exp(-z))]], rtol=1e-14)


def with_weights(change) -> list[dict]:
    weights = json.loads(json.dumps(WEIGHTS))
    change(weights)
    return weights


WEIGHT_REFUSALS = {
    "a layer too few": (lambda w: w.pop(), r"^weights: expected one entry per layer of the network \(3, in spec order; \{\} for a "
                                           r"layer without parameters\), got 2$"),
    "W of the wrong shape": (lambda w: w[2].update(W=[[1.0, 2.0]]),
                             r"^weights\[2\]\.W: expected shape \(1, 3\) \(units × inputs of Dense\(1, sigmoid\)\), got \(1, 2\)$"),
    "b of the wrong shape": (lambda w: w[0].update(b=[0.0]), r"^weights\[0\]\.b: expected shape \(3,\) \(one per unit of Dense"),
    "ragged rows": (lambda w: w[0].update(W=[[1.0, 2.0], [3.0], [4.0, 5.0]]), r"^weights\[0\]\.W: expected numbers of shape \(3, 2\)"),
    "not finite": (lambda w: w[2]["W"][0].__setitem__(1, float("inf")), r"^weights\[2\]\.W: holds a number that is not finite \(inf\)"),
    "no b": (lambda w: w[0].pop("b"), r"^weights\[0\]: layer 1 \(Dense\(3, tanh\)\) has parameters W and b, got \['W'\]$"),
    "weights for a dropout layer": (lambda w: w[1].update(W=[[1.0]]),
                                    r"^weights\[1\]: layer 2 \(Dropout\(0.1\)\) has no parameters \(\{\}\), got \['W'\]$"),
}


@pytest.mark.parametrize("change,message", WEIGHT_REFUSALS.values(), ids=WEIGHT_REFUSALS)
def test_wrong_weights_are_one_line_naming_the_entry_and_change_nothing(change, message):
    net = network()
    before = net.params.copy()
    with pytest.raises(ConfigError, match=message):
        apply_weights(net, with_weights(change))
    np.testing.assert_array_equal(net.params, before)


def test_a_weight_beyond_float32_is_refused_in_float32_only():
    huge = with_weights(lambda w: w[2].update(b=[1e300]))
    with pytest.raises(ConfigError, match=r"^weights\[2\]\.b: holds a number that is not finite in float32 \(1e\+300\)"):
        apply_weights(network(dtype="float32"), huge)
    apply_weights(network(), huge)


def test_weights_in_the_schema_name_their_key():
    def error(weights: object) -> str:
        with pytest.raises(SchemaError) as caught:
            validate_experiment(experiment_json(weights=weights))
        return str(caught.value)

    assert error(None) == "weights: expected a list, got null"
    assert error([{"w": [[1.0]]}]) == "weights[0].w: unknown layer parameter; the known ones are W, b, gamma, beta"
    assert error([{"W": [1.0]}]) == ("weights[0].W: expected a matrix (units rows of inputs numbers) or conv kernels "
                                     "(filters × rows × columns × channels), got [1.0]")
    assert error([{"b": ["1"]}]) == 'weights[0].b[0]: expected a finite number, got "1"'


# ----- round trips -------------------------------------------------------------------------------------
def test_an_experiment_with_inline_data_and_weights_round_trips_through_save_and_load(tmp_path):
    experiment = Experiment.from_json(experiment_json())
    assert experiment.weights == WEIGHTS and experiment.dataset == {"inline": {**inline()["inline"], "X": [[5.0, 3.0]]}}
    experiment.save(tmp_path / "hand.json")
    loaded = Experiment.load(tmp_path / "hand.json")
    assert loaded.to_json() == experiment.to_json() and loaded.weights == WEIGHTS
    assert "weights" not in Experiment({"name": "xor"}, {}).to_json()  # absent: drawn from the seed
    assert Experiment.from_json({"dataset": {"name": "xor"}, "network": {}}).weights is None


def test_a_file_with_wrong_inline_data_names_the_file_and_the_key(tmp_path):
    path = tmp_path / "hand.json"
    path.write_text(json.dumps(experiment_json(dataset=inline(y=[7]))))
    with pytest.raises(FileFormatError, match=r"hand.json: dataset.inline.y\[0\]: expected a class index"):
        Experiment.load(path)


def train_cli(tmp_path, capsys, *options: str) -> tuple[int, str, str]:
    status = main(["train", *options])
    out, err = capsys.readouterr()
    return status, out, err


def test_the_cli_trains_from_the_experiments_weights_and_saves_them_in_the_session(tmp_path, capsys):
    path = tmp_path / "hand.json"
    Experiment.from_json(experiment_json()).save(path)
    status, out, err = train_cli(tmp_path, capsys, "--config", str(path), "--epochs", "0", "--save", str(tmp_path / "m.npz"))
    assert status == 0, err
    from core.files import load_model

    saved = load_model(tmp_path / "m.npz", get_backend("numpy", "float64")).parameters_by_layer()
    np.testing.assert_array_equal(saved[0]["W"], WEIGHTS[0]["W"])  # no epoch: the experiment's weights exactly
    np.testing.assert_array_equal(saved[2]["b"], WEIGHTS[2]["b"])


def test_init_overrides_the_experiments_weights(tmp_path, capsys):
    path = tmp_path / "hand.json"
    Experiment.from_json(experiment_json()).save(path)
    other = network()
    from core.files import load_model, save_model

    save_model(tmp_path / "init.npz", other)
    status, _, err = train_cli(tmp_path, capsys, "--config", str(path), "--init", str(tmp_path / "init.npz"), "--epochs", "0",
                               "--save", str(tmp_path / "m.npz"))
    assert status == 0, err
    saved = load_model(tmp_path / "m.npz", get_backend("numpy", "float64")).parameters_by_layer()
    np.testing.assert_array_equal(saved[0]["W"], other.parameters_by_layer()[0]["W"])


def test_weights_that_do_not_fit_the_layers_asked_for_are_one_line(tmp_path, capsys):
    path = tmp_path / "hand.json"
    Experiment.from_json(experiment_json()).save(path)
    status, _, err = train_cli(tmp_path, capsys, "--config", str(path), "--layers", "none")
    assert status == 2
    assert err == f"error: {path}: weights: expected one entry per layer of the network (1, in spec order; {{}} for a layer " \
                  "without parameters), got 3\n"


def test_file_options_do_not_apply_to_inline_data(tmp_path, capsys):
    path = tmp_path / "hand.json"
    Experiment.from_json(experiment_json()).save(path)
    for option in (["--target", "y"], ["--missing", "mean"], ["--samples", "40"]):
        status, _, err = train_cli(tmp_path, capsys, "--config", str(path), *option)
        assert status == 2 and err.startswith(f"error: {path}: its data is written into it; --target") and err.count("\n") == 1


# ----- one sample ------------------------------------------------------------------------------------
def test_one_sample_trains_without_a_validation_part():
    data = load_dataset(inline())
    config = TrainingConfig(optimizer="sgd", batch_size=1, val_fraction=0.0, standardize=False, dtype="float64")
    check_split(data, config)
    net = network({"input_shape": [2], "layers": [{"type": "dense", "units": 1, "activation": "sigmoid"}]})
    trainer = Trainer(net, data, config)
    assert (trainer.train_size, trainer.val_size, trainer.batches_per_epoch) == (1, 0, 1)
    report = trainer.run_epoch()
    assert report.complete and report.val_loss is None and np.isfinite(report.train_loss) and report.train_metric in (0.0, 1.0)
    one_regression = load_dataset({"inline": {"X": [[1.0]], "y": [2.0]}})
    regression = Trainer(network({"input_shape": [1], "layers": [{"type": "dense", "units": 1}]}), one_regression,
                         TrainingConfig(val_fraction=0.0, standardize=False))
    assert regression.run_epoch().complete


def test_one_sample_with_a_validation_share_is_one_clear_refusal(tmp_path, capsys):
    data = load_dataset(inline())
    with pytest.raises(ConfigError, match=r"^training.val_fraction: 0.2 asks for a validation part, but the data has one sample"):
        check_split(data, TrainingConfig(val_fraction=0.2))
    check_split(load_dataset({"inline": {"X": [[1], [2]], "y": [0, 1]}}), TrainingConfig(val_fraction=0.2))  # two: one each
    path = tmp_path / "hand.json"
    Experiment.from_json(experiment_json(training={"val_fraction": 0.0})).save(path)
    status, _, err = train_cli(tmp_path, capsys, "--config", str(path), "--val-split", "0.5")
    assert status == 2 and err.startswith("error: training.val_fraction: 0.5 asks for a validation part") and err.count("\n") == 1
