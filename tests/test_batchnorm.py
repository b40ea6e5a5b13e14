"""BatchNorm: gradients, train vs eval, the running statistics, and its state: never
optimised nor penalised, saved and loaded with the model."""

from __future__ import annotations

import numpy as np
import pytest
from test_conv_layers import F64, check_gradients, single_layer

from core.data import make_dataset
from core.files import FileFormatError, load_model, model_arrays, save_model
from core.layers import SpecError
from core.network import Network
from core.trainer import Trainer, TrainingConfig


@pytest.mark.parametrize("shape", [(5,), (3, 4, 2)])
def test_gradients_in_training(shape):
    net = single_layer({"type": "batchnorm"}, shape)
    net.params[:] = np.random.default_rng(1).normal(size=net.params.size)  # γ and β away from 1 and 0
    check_gradients(net, np.random.default_rng(2).normal(size=(4, *shape)) * 3 + 1, tol=1e-5)


def test_training_normalises_with_the_batch_and_updates_the_running_statistics():
    net = single_layer({"type": "batchnorm", "momentum": 0.25, "epsilon": 1e-3}, (3,))
    layer = net.layers[0]
    layer.params["gamma"][...] = [1.0, 2.0, 0.5]
    layer.params["beta"][...] = [0.0, -1.0, 3.0]
    x = np.random.default_rng(3).normal(size=(6, 3)) * [1.0, 5.0, 0.1] + [2.0, -3.0, 7.0]
    out = net.forward(x, True)
    mean, var = x.mean(axis=0), x.var(axis=0)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3) * [1.0, 2.0, 0.5] + [0.0, -1.0, 3.0], rtol=1e-12)
    np.testing.assert_allclose(layer.state["running_mean"], 0.75 * 0 + 0.25 * mean, rtol=1e-12)
    np.testing.assert_allclose(layer.state["running_var"], 0.75 * 1 + 0.25 * x.var(axis=0, ddof=1), rtol=1e-12)  # unbiased
    net.forward(x, True)
    np.testing.assert_allclose(layer.state["running_mean"], 0.75 * 0.25 * mean + 0.25 * mean, rtol=1e-12)


def test_prediction_uses_the_running_statistics():
    net = single_layer({"type": "batchnorm"}, (2,))
    net.set_state([{"running_mean": np.array([1.0, -2.0]), "running_var": np.array([4.0, 0.25])}])
    net.set_parameters([{"gamma": np.array([2.0, 1.0]), "beta": np.array([0.5, 0.0])}])
    x = np.array([[3.0, -2.0], [1.0, -1.5]])
    expected = 2.0 * (x - [1.0, -2.0]) / np.sqrt(np.array([4.0, 0.25]) + 1e-5) * [1.0, 0.5] + [0.5, 0.0]
    np.testing.assert_allclose(net.forward(x, False), expected, rtol=1e-12)
    assert not np.allclose(net.forward(x, True), expected)  # training: the batch's own statistics
    before = net.state.copy()
    net.forward(x, False)
    np.testing.assert_array_equal(net.state, before)  # prediction never changes the state


def test_images_are_normalised_per_channel():
    net = single_layer({"type": "batchnorm"}, (4, 5, 3))
    x = np.random.default_rng(4).normal(size=(2, 4, 5, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, -5.0]
    out = net.forward(x, True)
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0.0, atol=1e-12)
    var = x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(out.var(axis=(0, 1, 2)), var / (var + 1e-5), rtol=1e-10)
    assert net.layers[0].state["running_mean"].shape == (3,)


def test_parameters_and_state_are_declared_apart():
    net = Network({"input_shape": [4], "layers": [{"type": "batchnorm"}, {"type": "dense", "units": 2}]}, F64)
    assert net.parameter_count == 4 + 4 + 2 * 4 + 2 and net.state_count == 8
    assert net.n_regularized == 2 * 4  # only the dense W: γ and β are never penalised
    assert "Non-trainable parameters: 8" in net.summary_text()


@pytest.mark.parametrize(("spec", "message"), [
    ({"momentum": 0}, "momentum must be a number in (0, 1]"), ({"momentum": 1.5}, "momentum"),
    ({"epsilon": 0}, "epsilon must be a number in (0, 1)"), ({"epsilon": "small"}, "epsilon"),
])
def test_bad_settings(spec, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)").replace("]", r"\]")):
        single_layer({"type": "batchnorm", **spec}, (3,))


def blobs(seed: int = 0):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(size=(60, 3)) + 2, rng.normal(size=(60, 3)) - 2]) * [1.0, 3.0, 0.5]
    return make_dataset(X, np.repeat([0, 1], 60), name="blobs")


def test_training_with_l2_leaves_the_state_to_the_layer():
    """The optimizer and the L2 penalty never touch the running statistics (nor γ, β via the penalty):
    after training they equal what the running update alone gives from the batches."""
    net = Network({"input_shape": [3], "layers": [{"type": "batchnorm", "momentum": 0.5},
                                                  {"type": "dense", "units": 1, "activation": "sigmoid"}]}, F64)
    config = TrainingConfig(epochs=3, batch_size=120, val_fraction=0.0, l2=10.0, learning_rate=0.05, standardize=False,
                            shuffle=False)
    trainer = Trainer(net, blobs(), config)
    for _ in range(3):
        trainer.run_epoch()
    x = blobs().X
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(3):  # one full batch per epoch: the same statistics each time
        mean, var = 0.5 * mean + 0.5 * x.mean(axis=0), 0.5 * var + 0.5 * x.var(axis=0, ddof=1)
    state = net.state_by_layer()[0]
    np.testing.assert_allclose(state["running_mean"], mean, rtol=1e-10)
    np.testing.assert_allclose(state["running_var"], var, rtol=1e-10)
    assert net.weights.size == 3  # the penalty's vector is the dense W alone


def test_state_is_saved_and_loaded(tmp_path):
    net = Network({"input_shape": [3], "layers": [{"type": "batchnorm"}, {"type": "dense", "units": 2}]})
    net.set_state([{"running_mean": np.array([1.0, 2.0, 3.0]), "running_var": np.array([0.5, 1.5, 2.5])}, {}])
    assert "layer0.running_mean" in model_arrays(net) and "layer0.running_var" in model_arrays(net)
    save_model(tmp_path / "m.npz", net)
    loaded = load_model(tmp_path / "m.npz")
    np.testing.assert_array_equal(loaded.state, net.state)
    x = np.random.default_rng(5).normal(size=(4, 3))
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))


def test_a_file_without_state_loads_with_the_initial_state(tmp_path):
    net = Network({"input_shape": [3], "layers": [{"type": "batchnorm"}, {"type": "dense", "units": 2}]})
    arrays = {k: v for k, v in model_arrays(net).items() if "running" not in k}
    np.savez(tmp_path / "old.npz", allow_pickle=False, **arrays)
    loaded = load_model(tmp_path / "old.npz")
    np.testing.assert_array_equal(loaded.state_by_layer()[0]["running_var"], np.ones(3))


@pytest.mark.parametrize(("drop", "change", "message"), [
    ("layer0.running_var", None, "has layer0.running_mean but no layer0.running_var"),
    (None, ("layer0.running_var", -np.ones(3)), "negative variance"),
    (None, ("layer0.running_mean", np.ones(4)), "array 'layer0.running_mean' has shape (4,), but the spec needs (3,)"),
])
def test_damaged_state_is_one_clear_error(tmp_path, drop, change, message):
    arrays = model_arrays(Network({"input_shape": [3], "layers": [{"type": "batchnorm"}, {"type": "dense", "units": 2}]}))
    arrays.pop(drop, None)
    if change:
        arrays[change[0]] = change[1]
    np.savez(tmp_path / "bad.npz", allow_pickle=False, **arrays)
    with pytest.raises(FileFormatError) as info:
        load_model(tmp_path / "bad.npz")
    assert message in str(info.value)
