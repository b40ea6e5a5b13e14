"""Conv2D, MaxPool2D, AvgPool2D and Flatten: shapes, semantics and gradients.

Gradients are checked against central differences in float64 of J = Σ out ⊙ R (R fixed
random), for the inputs and every parameter, over padding × stride × odd/even sizes,
multi-channel, kernels 3 and 2 and non-square ones.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core.backend import get_backend
from core.conv_layers import Conv2D, Flatten, MaxPool2D, same_padding
from core.layer_types import input_shape_for, layer_from_spec
from core.layers import SpecError
from core.network import Network, activation_bytes
from core.schema import SchemaError, validate_network_spec

F64 = get_backend("numpy", "float64")
EPS = 1e-6


def single_layer(spec: dict, input_shape: tuple[int, ...], seed: int = 0) -> Network:
    return Network({"input_shape": list(input_shape), "layers": [spec]}, F64, seed=seed)


def check_gradients(net: Network, x: np.ndarray, tol: float = 1e-6) -> None:
    """The layer's input and parameter gradients of J = Σ out ⊙ R equal central differences."""
    layer = net.layers[0]
    r = np.random.default_rng(1).normal(size=(len(x), *layer.output_shape))

    def objective() -> float:
        return float((layer.forward(x, True) * r).sum())

    layer.forward(x, True)
    dx = layer.backward(r, True).copy()
    analytic = net.grads.copy()
    numeric_dx = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        keep = x[idx]
        x[idx] = keep + EPS
        up = objective()
        x[idx] = keep - EPS
        down = objective()
        x[idx] = keep
        numeric_dx[idx] = (up - down) / (2 * EPS)
    np.testing.assert_allclose(dx, numeric_dx, atol=tol, rtol=tol)
    numeric = np.empty_like(net.params)
    for i in range(net.params.size):
        keep = net.params[i]
        net.params[i] = keep + EPS
        up = objective()
        net.params[i] = keep - EPS
        down = objective()
        net.params[i] = keep
        numeric[i] = (up - down) / (2 * EPS)
    np.testing.assert_allclose(analytic, numeric, atol=tol, rtol=tol)


CONV_CASES = [  # (input (H, W, C), kernel, stride, padding)
    *itertools.product([(5, 5, 2), (4, 6, 1)], [3, 2, [3, 2]], [1, 2, [2, 1]], ["same", "valid"]),
]


@pytest.mark.parametrize(("shape", "kernel", "stride", "padding"), CONV_CASES)
def test_conv2d_gradients(shape, kernel, stride, padding):
    spec = {"type": "conv2d", "filters": 3, "kernel": kernel, "stride": stride, "padding": padding, "activation": "tanh"}
    net = single_layer(spec, shape, seed=2)
    net.params[:] = np.random.default_rng(3).normal(size=net.params.size) * 0.5  # non-zero biases too
    check_gradients(net, np.random.default_rng(4).normal(size=(2, *shape)))


@pytest.mark.parametrize(("kind", "size", "stride", "shape"), [
    ("maxpool2d", 2, None, (4, 4, 2)), ("maxpool2d", 2, None, (5, 5, 1)), ("maxpool2d", 3, 2, (5, 6, 2)),
    ("maxpool2d", [2, 3], [1, 2], (4, 5, 1)), ("maxpool2d", 2, 3, (7, 8, 2)), ("maxpool2d", 2, None, (6, 4, 3)),
    ("avgpool2d", 2, None, (4, 4, 2)), ("avgpool2d", 2, None, (5, 5, 1)),
    ("avgpool2d", 3, 2, (5, 6, 2)), ("avgpool2d", [2, 3], [1, 2], (4, 5, 1)),
])
def test_pooling_gradients(kind, size, stride, shape):
    spec = {"type": kind, "size": size} | ({} if stride is None else {"stride": stride})
    check_gradients(single_layer(spec, shape), np.random.default_rng(5).normal(size=(3, *shape)))


def test_flatten_gradients_and_order():
    net = single_layer({"type": "flatten"}, (2, 3, 4))
    x = np.arange(2 * 2 * 3 * 4, dtype=np.float64).reshape(2, 2, 3, 4)
    out = net.layers[0].forward(x, True)
    assert out.shape == (2, 24)
    assert out[1, 4 * (3 * 1 + 2) + 3] == x[1, 1, 2, 3]  # pixel (row 1, column 2), channel 3: row-major, channels innermost
    check_gradients(net, np.random.default_rng(6).normal(size=(2, 2, 3, 4)))


def test_conv2d_equals_a_dense_layer_on_a_one_pixel_image():
    """On a 1×1×C image a 1×1 (or "same"-padded 3×3) kernel reads only the centre: a dense layer of W[:, centre, :]."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(5, 1, 1, 4))
    for kernel in (1, 3):
        net = single_layer({"type": "conv2d", "filters": 6, "kernel": kernel, "activation": "sigmoid"}, (1, 1, 4))
        net.params[:] = rng.normal(size=net.params.size)
        w, b = net.layers[0].params["W"], net.layers[0].params["b"]
        centre = w[:, kernel // 2, kernel // 2, :]
        dense = 1 / (1 + np.exp(-(x.reshape(5, 4) @ centre.T + b)))
        for training in (True, False):
            np.testing.assert_allclose(net.forward(x, training).reshape(5, 6), dense, rtol=1e-12)


def test_conv2d_kernel_1_is_a_dense_layer_on_every_pixel():
    rng = np.random.default_rng(8)
    net = single_layer({"type": "conv2d", "filters": 3, "kernel": 1}, (4, 5, 2))
    net.params[:] = rng.normal(size=net.params.size)
    x = rng.normal(size=(2, 4, 5, 2))
    w, b = net.layers[0].params["W"][:, 0, 0, :], net.layers[0].params["b"]
    np.testing.assert_allclose(net.forward(x, True), x @ w.T + b, rtol=1e-12)


def reference_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pads: tuple[tuple[int, int], ...]) -> np.ndarray:
    """A plain loop over output pixels: the definition of a cross-correlation."""
    x = np.pad(x, ((0, 0), *pads, (0, 0)))
    f, kh, kw, _ = w.shape
    out_h, out_w = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.empty((len(x), out_h, out_w, f))
    for r in range(out_h):
        for c in range(out_w):
            window = x[:, r * stride : r * stride + kh, c * stride : c * stride + kw, :]
            out[:, r, c, :] = np.einsum("mijk,fijk->mf", window, w) + b
    return out


@pytest.mark.parametrize(("size", "pads", "out"), [(5, (1, 1), 3), (4, (0, 1), 2), (6, (0, 1), 3), (3, (1, 1), 2)])
def test_same_padding_with_stride_2_worked_examples(size, pads, out):
    """k = 3, s = 2: 5 → total (3−1)·2+3−5 = 2: 1 before, 1 after; 4 → total 1: 0 before, 1 after (TensorFlow)."""
    assert same_padding(size, 3, 2) == pads
    net = single_layer({"type": "conv2d", "filters": 2, "kernel": 3, "stride": 2}, (size, size, 1))
    assert net.output_shape == (out, out, 2)
    rng = np.random.default_rng(9)
    net.params[:] = rng.normal(size=net.params.size)
    x = rng.normal(size=(2, size, size, 1))
    layer = net.layers[0]
    expected = reference_conv(x, layer.params["W"], layer.params["b"], 2, (pads, pads))
    for training in (True, False):
        np.testing.assert_allclose(net.forward(x, training), expected, rtol=1e-12)


def test_same_padding_4x4_by_hand():
    """4×4 ones, a 3×3 kernel of ones, stride 2, same: pad 0 before, 1 after, so output
    (0, 0) sums rows/columns 0–2 (9 ones) and (1, 1) rows/columns 2–4, of which 4 is padding (4 ones)."""
    net = single_layer({"type": "conv2d", "filters": 1, "kernel": 3, "stride": 2}, (4, 4, 1))
    net.layers[0].params["W"][...] = 1.0
    out = net.forward(np.ones((1, 4, 4, 1)), True)[0, :, :, 0]
    np.testing.assert_array_equal(out, [[9.0, 6.0], [6.0, 4.0]])


@pytest.mark.parametrize(("window", "first"), [
    ([[1, 3], [3, 0]], (0, 1)), ([[1, 5], [5, 0]], (0, 1)), ([[5, 1], [0, 5]], (0, 0)), ([[0, 1], [2, 2]], (1, 0)),
    ([[0, 0], [0, 0]], (0, 0)), ([[1, 0, 4], [4, 4, 2], [0, 4, 1]], (0, 2)), ([[1, 0, 2], [2, 0, 2], [0, 0, 0]], (0, 2)),
])
def test_maxpool_routes_ties_to_the_first_maximum_row_major(window, first):
    """As PyTorch: the gradient goes to the first maximum in row-major order (2×2 windows take a path of their own)."""
    size = len(window)
    net = single_layer({"type": "maxpool2d", "size": size}, (size, size, 1))
    layer = net.layers[0]
    x = np.array(window, dtype=np.float64).reshape(1, size, size, 1)
    assert layer.forward(x, True)[0, 0, 0, 0] == np.max(window)
    dx = layer.backward(np.array([[[[5.0]]]]), True)
    expected = np.zeros((size, size))
    expected[first] = 5.0
    np.testing.assert_array_equal(dx[0, :, :, 0], expected)


def test_pooling_values_and_eval_mode():
    x = np.arange(16, dtype=np.float64).reshape(1, 4, 4, 1)
    for kind, expected in (("maxpool2d", [[5, 7], [13, 15]]), ("avgpool2d", [[2.5, 4.5], [10.5, 12.5]])):
        net = single_layer({"type": kind, "size": 2}, (4, 4, 1))
        for training in (True, False):
            np.testing.assert_array_equal(net.forward(x, training)[0, :, :, 0], expected)


def test_training_and_prediction_passes_agree():
    spec = {"input_shape": [9, 7, 3], "layers": [
        {"type": "conv2d", "filters": 4, "kernel": 3, "stride": 2, "activation": "relu"},
        {"type": "maxpool2d", "size": 2, "stride": 1}, {"type": "conv2d", "filters": 5, "kernel": [2, 3], "padding": "valid"},
        {"type": "avgpool2d", "size": 1}, {"type": "flatten"}, {"type": "dense", "units": 3, "activation": "softmax"}]}
    net = Network(spec, F64, seed=3)
    x = np.random.default_rng(10).normal(size=(6, 9 * 7 * 3))  # flattened, as a Dataset stores images
    np.testing.assert_allclose(net.forward(x, True), net.forward(x, False), rtol=1e-12)
    np.testing.assert_allclose(net.predict(x), net.forward(x, False), rtol=1e-12)


def test_float32_stays_float32():
    net = Network({"input_shape": [6, 6, 2], "layers": [
        {"type": "conv2d", "filters": 3, "kernel": 3, "activation": "relu"}, {"type": "maxpool2d", "size": 2},
        {"type": "avgpool2d", "size": 1}, {"type": "flatten"}, {"type": "batchnorm"}, {"type": "dense", "units": 2}]})
    x = np.random.default_rng(11).normal(size=(4, 72)).astype(np.float32)
    outputs = [net.forward(x, True), *net.forward_all(x)]
    assert all(out.dtype == np.float32 for out in outputs)
    net.backward(np.ones((4, 2), np.float32), False)
    assert net.grads.dtype == np.float32


def test_weights_are_filters_kernel_rows_columns_channels():
    net = single_layer({"type": "conv2d", "filters": 8, "kernel": [3, 2]}, (6, 6, 3))
    layer = net.layers[0]
    assert layer.params["W"].shape == (8, 3, 2, 3) and layer.params["b"].shape == (8,)
    assert layer.weight_name == "W" and layer.weight_matrix(np.zeros((8, 3, 2, 3))).shape == (8, 18)
    assert net.n_regularized == 8 * 3 * 2 * 3  # the kernels are penalised, the biases not


@pytest.mark.parametrize("spec", [
    {"type": "conv2d", "filters": 8, "kernel": [3, 2], "stride": 2, "padding": "valid", "activation": "leaky_relu", "slope": 0.2},
    {"type": "conv2d", "filters": 4}, {"type": "maxpool2d", "size": 2}, {"type": "avgpool2d", "size": 3, "stride": 1},
    {"type": "flatten"}, {"type": "batchnorm", "momentum": 0.2, "epsilon": 1e-3},
])
def test_to_spec_round_trips(spec):
    layer = layer_from_spec(spec)
    again = layer_from_spec(layer.to_spec())
    assert again.to_spec() == layer.to_spec()
    assert all(layer.to_spec()[key] == value or layer.to_spec()[key] == [value, value] for key, value in spec.items())


def test_labels():
    labels = [layer_from_spec(s).describe() for s in (
        {"type": "conv2d", "filters": 8, "kernel": 3, "activation": "relu"},
        {"type": "conv2d", "filters": 8, "kernel": [3, 2], "stride": 2, "padding": "valid"},
        {"type": "maxpool2d", "size": 2}, {"type": "maxpool2d", "size": 3, "stride": 2}, {"type": "avgpool2d", "size": 2},
        {"type": "flatten"}, {"type": "batchnorm"})]
    assert labels == ["Conv2D(8, 3×3, relu)", "Conv2D(8, 3×2, linear, stride 2, valid)", "MaxPool2D(2)",
                      "MaxPool2D(3, stride 2)", "AvgPool2D(2)", "Flatten", "BatchNorm"]


def test_summary_shows_shapes_and_counts():
    net = Network({"input_shape": [8, 8, 1], "layers": [
        {"type": "conv2d", "filters": 8, "kernel": 3, "activation": "relu"}, {"type": "maxpool2d", "size": 2},
        {"type": "batchnorm"}, {"type": "flatten"}, {"type": "dense", "units": 10, "activation": "softmax"}]})
    text = net.summary_text()
    assert "Conv2D(8, 3×3, relu)   (None, 8, 8, 8)" in text and "(None, 4, 4, 8)" in text and "(None, 128)" in text
    assert [r.parameters for r in net.summary()] == [8 * 9 + 8, 0, 16, 0, 1290]
    assert "Trainable parameters: 1,386" in text and "Non-trainable parameters: 16" in text


@pytest.mark.parametrize(("spec", "shape", "message"), [
    ({"type": "conv2d", "filters": 2, "kernel": 5, "padding": "valid"}, (4, 6, 1), "kernel 5×5 is larger than its input 4×6"),
    ({"type": "maxpool2d", "size": 3}, (2, 5, 1), "pooling below one pixel: a 3×3 window does not fit in its input 2×5"),
    ({"type": "avgpool2d", "size": [1, 6]}, (4, 5, 1), "pooling below one pixel"),
    ({"type": "conv2d", "filters": 0}, (4, 4, 1), "filters must be a whole number ≥ 1, got 0"),
    ({"type": "conv2d", "filters": 2, "kernel": 0}, (4, 4, 1), "kernel must be a whole number ≥ 1"),
    ({"type": "conv2d", "filters": 2, "kernel": [3, 3, 3]}, (4, 4, 1), "kernel must be a whole number ≥ 1 or a list of two"),
    ({"type": "conv2d", "filters": 2, "stride": -1}, (4, 4, 1), "stride must be a whole number ≥ 1"),
    ({"type": "maxpool2d", "size": 0}, (4, 4, 1), "size must be a whole number ≥ 1"),
    ({"type": "conv2d", "filters": 2, "padding": "full"}, (4, 4, 1), "unknown padding 'full'; choose one of same, valid"),
    ({"type": "conv2d", "filters": 2}, (16,), "Conv2D needs image input (height, width, channels), got shape (16,)"),
    ({"type": "dense", "units": 2}, (4, 4, 1), "add a Flatten layer first"),
])
def test_impossible_settings_are_one_clear_error(spec, shape, message):
    with pytest.raises(SpecError, match="^layer 1 \\(") as info:
        single_layer(spec, shape)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_input_shape_for_image_layers():
    conv = [{"type": "conv2d", "filters": 2}, {"type": "flatten"}, {"type": "dense", "units": 2}]
    assert input_shape_for((8, 8, 1), conv) == (8, 8, 1)
    assert input_shape_for((8, 8, 1), [{"type": "batchnorm"}, {"type": "dense", "units": 2}]) == (64,)


def test_a_dense_layer_after_conv_without_flatten_says_to_add_one():
    with pytest.raises(SpecError, match="layer 2 .*add a Flatten layer first"):
        Network({"input_shape": [8, 8, 1], "layers": [{"type": "conv2d", "filters": 2}, {"type": "dense", "units": 2}]})


def test_buffers_follow_the_batch_size():
    net = Network({"input_shape": [5, 5, 2], "layers": [{"type": "conv2d", "filters": 3, "activation": "relu"},
                                                         {"type": "maxpool2d", "size": 2}, {"type": "flatten"},
                                                         {"type": "dense", "units": 2}]}, F64)
    rng = np.random.default_rng(12)
    for m in (4, 3, 4, 1):
        x = rng.normal(size=(m, 50))
        np.testing.assert_allclose(net.forward(x, True), net.forward(x, False), rtol=1e-12)
        net.backward(np.ones((m, 2)), False)


def test_flatten_layer_is_registered():
    assert isinstance(layer_from_spec({"type": "flatten"}), Flatten)
    assert isinstance(layer_from_spec({"type": "conv2d", "filters": 1}), Conv2D)
    assert isinstance(layer_from_spec({"type": "maxpool2d"}), MaxPool2D)


def test_network_specs_of_image_layers_fit_the_schema():
    net = Network({"input_shape": [9, 7, 3], "layers": [
        {"type": "conv2d", "filters": 4, "kernel": [3, 2], "stride": 2, "padding": "valid", "activation": "leaky_relu", "slope": 0.1},
        {"type": "maxpool2d", "size": 2, "stride": 1}, {"type": "avgpool2d", "size": 1}, {"type": "batchnorm", "momentum": 0.3},
        {"type": "flatten"}, {"type": "dense", "units": 3, "activation": "softmax"}]})
    assert validate_network_spec(net.spec()) == net.spec()


@pytest.mark.parametrize(("layer", "message"), [
    ({"type": "conv2d", "filters": 0}, "network.layers[0].filters: expected a whole number ≥ 1, got 0"),
    ({"type": "conv2d", "filters": 2, "kernel": [3]}, "network.layers[0].kernel: expected a whole number from 1 to 4096, or a list"),
    ({"type": "conv2d", "filters": 2, "padding": "full"}, "network.layers[0].padding: unknown padding 'full'; choose one of same, valid"),
    ({"type": "conv2d", "filters": 2, "strides": 2}, "network.layers[0].strides: unknown conv2d layer setting; did you mean 'stride'?"),
    ({"type": "maxpool2d", "size": "2"}, "network.layers[0].size: expected a whole number"),
    ({"type": "flatten", "order": "C"}, "network.layers[0].order: unknown flatten layer setting"),
    ({"type": "batchnorm", "momentum": 0}, "network.layers[0].momentum: expected a number in (0, 1], got 0"),
])
def test_bad_image_layer_specs_name_their_key(layer, message):
    with pytest.raises(SchemaError) as info:
        validate_network_spec({"input_shape": [8, 8, 1], "layers": [layer, {"type": "flatten"}, {"type": "dense", "units": 2}]})
    assert str(info.value).startswith(message)


def test_memory_estimate_counts_the_im2col_scratch():
    spec = {"input_shape": [28, 28, 1], "layers": [{"type": "conv2d", "filters": 16}, {"type": "flatten"}, {"type": "dense", "units": 2}]}
    net = Network(spec)
    conv = net.layers[0]
    assert conv.scratch_per_sample == 28 * 28 * (9 + 1 + 1) + 2 * 30 * 30  # im2col and its column of ones, a dX part, pads
    assert activation_bytes(net, 64) > 64 * 4 * conv.scratch_per_sample


def test_relu_backward_equals_the_linear_convolution_masked_by_hand():
    """A ReLU convolution's fused backward (its kept mask) gives the gradients of a linear one
    whose incoming gradient is multiplied by (A > 0) by hand."""
    rng = np.random.default_rng(13)
    shape, spec = (6, 5, 3), {"type": "conv2d", "filters": 4, "kernel": 3}
    relu, linear = single_layer(spec | {"activation": "relu"}, shape), single_layer(spec, shape)
    relu.params[:] = linear.params[:] = rng.normal(size=relu.params.size)
    x, grad = rng.normal(size=(3, *shape)), rng.normal(size=(3, 6, 5, 4))
    a = relu.layers[0].forward(x, True)
    assert (a == 0).any() and (a > 0).any()
    dx = relu.layers[0].backward(grad, True).copy()
    linear.layers[0].forward(x, True)
    np.testing.assert_allclose(dx, linear.layers[0].backward(grad * (a > 0), True), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(relu.grads, linear.grads, rtol=1e-12, atol=1e-12)


def test_reused_buffers_give_a_fresh_networks_gradients():
    """Kept buffers (the im2col matrix and its column of ones, ReLU's mask, the pooling's row
    maxima and masks) across batch sizes: the gradients equal those of a network built fresh."""
    spec = {"input_shape": [6, 6, 2], "layers": [
        {"type": "conv2d", "filters": 3, "activation": "relu"}, {"type": "maxpool2d", "size": 2},
        {"type": "conv2d", "filters": 4, "activation": "relu"}, {"type": "maxpool2d", "size": 2},
        {"type": "flatten"}, {"type": "dense", "units": 2}]}
    net = Network(spec, F64, seed=4)
    rng = np.random.default_rng(14)
    for m in (5, 3, 5, 2):
        x, grad = rng.normal(size=(m, 72)), rng.normal(size=(m, 2))
        fresh = Network(spec, F64, seed=4)
        for each in (net, fresh):
            each.forward(x, True)
            each.backward(grad, False)
        np.testing.assert_allclose(net.grads, fresh.grads, rtol=1e-12, atol=1e-14)
