"""Image layers: Conv2D, MaxPool2D, AvgPool2D and Flatten, on channels-last batches.

A batch of images is (m, H, W, C): samples first, channels last (as Keras and TensorFlow
store them). Semantics match the other tools, so weights and results carry over:

- Conv2D is a cross-correlation (PyTorch, Keras): output pixel (r, c) of filter f is
  b_f + Σ_{i, j, k} W[f, i, j, k] · X_pad[r·s_h + i, c·s_w + j, k], with W of shape
  (filters, kernel_h, kernel_w, in_channels).
- ``padding="same"`` pads as TensorFlow: the output has ⌈in / s⌉ pixels per axis; the total
  padding max((⌈in / s⌉ − 1)·s + k − in, 0) is split with the smaller half before.
  ``"valid"`` pads nothing: ⌊(in − k) / s⌋ + 1 pixels.
- Pooling takes valid windows only: ⌊(in − size) / stride⌋ + 1 pixels per axis.
  Max-pool backward routes each gradient to the first maximum of its window (PyTorch).
- Flatten is NumPy's row-major reshape: pixel by pixel, channels innermost (Keras).

Everything is vectorised: the only Python loops run over the kernel_h·kernel_w offsets
of a kernel or pooling window (9 for a 3×3 kernel), never over pixels or samples. A
training pass builds the im2col matrix (m·H'·W', kernel_h·kernel_w·C) of its batch with one
strided copy (one copy per kernel offset for a single input channel), then Z and dW are one
GEMM each (the bias and its gradient inside them) and dX one GEMM per kernel offset;
buffers are kept per batch size.
Only calls NumPy and CuPy both have are used, in the backend's dtype.
"""

from __future__ import annotations

import importlib
import math
from functools import cache
from typing import Any

import numpy as np

from .activations import ACTIVATIONS, get_activation
from .initializers import INITIALIZERS, initialize
from .layers import ONE_UNIT_SOFTMAX, Layer, ParamSpec, SpecError

Array = Any
PADDINGS = ("same", "valid")
KEPT_BATCH_SIZES = 4  # buffers kept for this many batch sizes (the batch size, the last partial batch, …)


# ----- settings and shapes ----------------------------------------------------------------------
def pair(value: object, name: str) -> tuple[int, int]:
    """``3`` → (3, 3), ``[3, 2]`` → (3, 2): a whole number ≥ 1 or a list of two; SpecError otherwise."""
    values = list(value) if isinstance(value, (list, tuple)) else [value, value]
    if len(values) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values):
        raise SpecError(f"{name} must be a whole number ≥ 1 or a list of two (height, width), got {value!r}")
    return values[0], values[1]


def pair_spec(values: tuple[int, int]) -> int | list[int]:
    """(3, 3) → 3, (3, 2) → [3, 2]: how a spec writes a size."""
    return values[0] if values[0] == values[1] else list(values)


def size_text(values: tuple[int, int]) -> str:
    return f"{values[0]}×{values[1]}"


def image_input(layer: str, input_shape: tuple[int, ...]) -> tuple[int, int, int]:
    """``input_shape`` as (H, W, C); SpecError for a sample that is not an image."""
    if len(input_shape) != 3:
        raise SpecError(f"{layer} needs image input (height, width, channels), got shape {input_shape}; "
                        "image layers go before Flatten and Dense layers, on image data")
    return input_shape  # type: ignore[return-value]


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same" padding of one axis: (before, after), the smaller half before."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


@cache
def _as_strided(module: str) -> Any:
    """``numpy.lib.stride_tricks.as_strided`` or CuPy's, for the array module called ``module``."""
    return importlib.import_module(f"{module}.lib.stride_tricks").as_strided


def windows(x: Array, out_hw: tuple[int, int], window: tuple[int, int], stride: tuple[int, int], xp: Any) -> Array:
    """A strided view (m, H', W', KH, KW, C) of ``x`` (m, H, W, C): window (r, c) of every sample."""
    m, _, _, c = x.shape
    s0, s1, s2, s3 = x.strides
    return _as_strided(xp.__name__)(x, (m, *out_hw, *window, c), (s0, s1 * stride[0], s2 * stride[1], s1, s2, s3))


def offset_slices(out_hw: tuple[int, int], window: tuple[int, int], stride: tuple[int, int]):
    """For each window offset (i, j), row-major: the (rows, columns) slices of the input
    pixels that offset reads for all H'×W' outputs."""
    for i in range(window[0]):
        for j in range(window[1]):
            yield i, j, (slice(i, i + stride[0] * (out_hw[0] - 1) + 1, stride[0]),
                         slice(j, j + stride[1] * (out_hw[1] - 1) + 1, stride[1]))


class _Buffers:
    """Arrays kept per batch size m, made by ``make(m)`` on first use."""

    def __init__(self) -> None:
        self._by_size: dict[int, Any] = {}

    def get(self, m: int, make) -> Any:
        bufs = self._by_size.get(m)
        if bufs is None:
            if len(self._by_size) >= KEPT_BATCH_SIZES:
                self._by_size.clear()
            bufs = self._by_size[m] = make(m)
        return bufs

    def clear(self) -> None:
        self._by_size.clear()


# ----- Conv2D -------------------------------------------------------------------------------------
class Conv2D(Layer):
    """A 2-D convolution (cross-correlation) of (m, H, W, C) into (m, H', W', filters), then
    the activation.

    With the im2col matrix X_col (m·H'·W', KH·KW·C) of the padded input (each row one window,
    row-major (i, j, channel)) and W_mat = W.reshape(filters, KH·KW·C):
    Z = X_col·W_matᵀ + b; backward dW_mat = dZᵀ·X_col, db = Σ dZ, and dX adds, for each kernel
    offset (i, j), dZ·W[:, i, j, :] (a GEMM into one reused contiguous buffer, which stays in
    cache) at the pixels that offset read.
    X_col is kept with a last column of ones, so that Z = [X_col | 1]·[W_mat | b]ᵀ and
    [dW_mat | db] = dZᵀ·[X_col | 1] are one GEMM each (a broadcast bias add over m·H'·W' rows of
    F values costs about as much as the GEMM on a first layer). ReLU's backward writes its
    mask into a kept buffer.

    Args:
        filters: output channels F.
        kernel: KH = KW, or [KH, KW].
        stride: one for both axes, or [SH, SW].
        padding: "same" (TensorFlow's) or "valid".
        activation: one of core.activations.ACTIVATIONS (softmax: over the filters of each pixel).
        initializer: one of core.initializers.INITIALIZERS, with fan_in = KH·KW·C and
            fan_out = KH·KW·F (as Keras counts them); glorot_uniform by default, as Keras.
        slope: leaky_relu's slope.
    """

    kind = "conv2d"
    weight_name = "W"
    weight_axes = ("filter", "kernel value (row, column, channel)")
    takes_images = True

    def __init__(self, filters: int, kernel: int | list[int] = 3, *, stride: int | list[int] = 1, padding: str = "same",
                 activation: str = "linear", initializer: str = "glorot_uniform", slope: float = 0.01):
        super().__init__()
        if not isinstance(filters, int) or isinstance(filters, bool) or filters < 1:
            raise SpecError(f"filters must be a whole number ≥ 1, got {filters!r}")
        self.kernel, self.stride = pair(kernel, "kernel"), pair(stride, "stride")
        if padding not in PADDINGS:
            raise SpecError(f"unknown padding {padding!r}; choose one of {', '.join(PADDINGS)}")
        if activation not in ACTIVATIONS:
            raise SpecError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        if initializer not in INITIALIZERS:
            raise SpecError(f"unknown initializer {initializer!r}; choose one of {', '.join(INITIALIZERS)}")
        if activation == "softmax" and filters == 1:
            raise SpecError(ONE_UNIT_SOFTMAX.replace("unit", "filter"))
        try:
            self.activation = get_activation(activation, slope)
        except ValueError as exc:
            raise SpecError(str(exc)) from None
        self.filters, self.padding, self.activation_name = filters, padding, activation
        self.initializer, self.slope = initializer, float(slope)
        self.pads: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0))
        self._buffers = _Buffers()
        self._cols: Array = None
        self._a: Array = None
        self._w_mat = self._dw_mat = None  # views of W and dW as (F, KH·KW·C), set by bind
        self._w_ext = self._dw_ext_t = None  # [W_mat | b] (F, KH·KW·C + 1) and [dW_mat | db]ᵀ, set by bind

    def infer_output_shape(self, input_shape):
        h, w, _ = image_input("Conv2D", input_shape)
        if self.padding == "same":
            self.pads = (same_padding(h, self.kernel[0], self.stride[0]), same_padding(w, self.kernel[1], self.stride[1]))
            return (math.ceil(h / self.stride[0]), math.ceil(w / self.stride[1]), self.filters)
        if self.kernel[0] > h or self.kernel[1] > w:
            raise SpecError(f"the kernel {size_text(self.kernel)} is larger than its input {h}×{w} (padding valid); "
                            "use a smaller kernel or padding same")
        self.pads = ((0, 0), (0, 0))
        return ((h - self.kernel[0]) // self.stride[0] + 1, (w - self.kernel[1]) // self.stride[1] + 1, self.filters)

    @property
    def window_size(self) -> int:
        """KH·KW·C: the inputs of one output value."""
        return self.kernel[0] * self.kernel[1] * self.input_shape[2]

    @property
    def scratch_per_sample(self) -> int:
        """Numbers a training pass keeps per sample beyond its input, output and their deltas:
        the im2col matrix with its column of ones (H'·W'·(KH·KW·C + 1)), one kernel offset's
        part of dX (H'·W'·C), the padded input and dX, and for ReLU its mask (H'·W'·F bytes,
        counted as numbers)."""
        _, padded_h, padded_w, c = self._padded_shape(1)
        out_h, out_w, f = self.output_shape
        relu_mask = out_h * out_w * f if self.activation_name == "relu" else 0
        return out_h * out_w * (self.window_size + 1 + c) + 2 * padded_h * padded_w * c + relu_mask

    def param_specs(self):
        return [ParamSpec("W", (self.filters, *self.kernel, self.input_shape[2]), True), ParamSpec("b", (self.filters,), False)]

    def initial_values(self, rng):
        shape = (self.filters, *self.kernel, self.input_shape[2])
        fan_out = self.kernel[0] * self.kernel[1] * self.filters
        return {"W": initialize(self.initializer, shape, self.window_size, fan_out, rng), "b": np.zeros(self.filters)}

    def bind(self, params, grads, backend, seed, state=None):
        super().bind(params, grads, backend, seed, state)
        self._buffers.clear()
        self._w_mat = params["W"].reshape(self.filters, -1)  # views: (F, KH·KW·C)
        self._dw_mat = grads["W"].reshape(self.filters, -1)
        self._w_ext = backend.xp.empty((self.filters, self.window_size + 1), backend.dtype)
        self._dw_ext_t = backend.xp.empty((self.window_size + 1, self.filters), backend.dtype)

    def _padded_shape(self, m: int) -> tuple[int, int, int, int]:
        (top, bottom), (left, right) = self.pads
        h, w, c = self.input_shape
        return (m, h + top + bottom, w + left + right, c)

    def _make_buffers(self, m: int) -> dict[str, Array]:
        """Per batch size: the padded input (zero borders), the im2col matrix with a last column
        of ones (the bias's input) and the view its windows are written through, Z/A, dZ and
        ReLU's mask, one kernel offset's part of dX and dX itself (padded)."""
        xp, dtype = self.backend.xp, self.backend.dtype
        out_h, out_w, _ = self.output_shape
        pixels, k, c = m * out_h * out_w, self.window_size, self.input_shape[2]
        padded = self.pads != ((0, 0), (0, 0))
        if c > 1:  # (m·H'·W', K + 1): a window a row, written through a (m, H', W', KH, KW, C) view
            cols = xp.empty((pixels, k + 1), dtype)
            cols[:, k] = 1
            row, item = cols.strides
            kw_c = self.kernel[1] * c
            cols_windows = _as_strided(xp.__name__)(cols, (m, out_h, out_w, *self.kernel, c),
                                                    (out_h * out_w * row, out_w * row, row, kw_c * item, c * item, item))
        else:  # (K + 1, m·H'·W'): a kernel offset a row, written as (KH·KW, m, H', W'); its transpose is the matrix
            rows = xp.empty((k + 1, pixels), dtype)
            rows[k] = 1
            cols, cols_windows = rows.T, rows[:k].reshape(k, m, out_h, out_w)
        return {"x_pad": xp.zeros(self._padded_shape(m), dtype) if padded else None, "cols": cols, "cols_windows": cols_windows,
                "z": xp.empty((pixels, self.filters), dtype), "dz": xp.empty((pixels, self.filters), dtype),
                "relu_mask": xp.empty((pixels, self.filters), bool) if self.activation_name == "relu" else None,
                "d_offset": xp.empty((pixels, c), dtype),
                "dx_pad": xp.zeros(self._padded_shape(m), dtype)}

    def _pad(self, x: Array, x_pad: Array | None) -> Array:
        """``x`` (m, H, W, C) with its zero borders: written into ``x_pad`` (its borders stay zero)."""
        if x_pad is None:
            return x
        (top, _), (left, _) = self.pads
        h, w, _ = self.input_shape
        x_pad[:, top : top + h, left : left + w, :] = x
        return x_pad

    def forward(self, x, training):
        xp = self.backend.xp
        m = x.shape[0]
        out_h, out_w, f = self.output_shape
        if not training:
            return self._forward_by_offsets(x)
        bufs = self._buffers.get(m, self._make_buffers)
        self._im2col(self._pad(x, bufs["x_pad"]), bufs["cols_windows"])
        self._cols = bufs["cols"]
        k = self.window_size
        self._w_ext[:, :k] = self._w_mat
        self._w_ext[:, k] = self.params["b"]
        z = bufs["z"]
        xp.dot(self._cols, self._w_ext.T, out=z)  # X_col·Wᵀ + b in one GEMM: the column of ones meets b
        self._a = self.activation.forward(z, xp)
        return self._a.reshape(m, out_h, out_w, f)

    def _im2col(self, x_pad: Array, cols_windows: Array) -> None:
        """Write the windows of the padded batch into the im2col matrix through ``cols_windows``:
        with one strided copy of every window, or, for one input channel (where that copy moves
        one number at a time), one copy of each kernel offset's pixels."""
        if self.input_shape[2] > 1:
            cols_windows[...] = windows(x_pad, self.output_shape[:2], self.kernel, self.stride, self.backend.xp)
            return
        for k, (_, _, (rows, columns)) in enumerate(offset_slices(self.output_shape[:2], self.kernel, self.stride)):
            cols_windows[k] = x_pad[:, rows, columns, 0]

    def _forward_by_offsets(self, x: Array) -> Array:
        """Prediction: Z accumulated one kernel offset at a time (x_slice·W[:, i, j, :]ᵀ), which
        needs no im2col matrix (a large batch would need KH·KW copies of its input)."""
        xp = self.backend.xp
        m = x.shape[0]
        out_h, out_w, f = self.output_shape
        x_pad = self._pad(x, xp.zeros(self._padded_shape(m), x.dtype) if self.pads != ((0, 0), (0, 0)) else None)
        z = xp.empty((m, out_h, out_w, f), x.dtype)
        z[...] = self.params["b"]
        w = self.params["W"]
        for i, j, (rows, columns) in offset_slices((out_h, out_w), self.kernel, self.stride):
            z += x_pad[:, rows, columns, :] @ w[:, i, j, :].T
        return self.activation.forward(z.reshape(-1, f), xp).reshape(m, out_h, out_w, f)

    def _dz(self, grad: Array, bufs: dict[str, Array]) -> Array:
        """dL/dZ (m·H'·W', F) from dL/dA: for ReLU grad ⊙ (A > 0) through a kept mask buffer."""
        xp = self.backend.xp
        if bufs["relu_mask"] is None:
            return self.activation.backward(self._a, grad, bufs["dz"], xp)
        xp.greater(self._a, 0, out=bufs["relu_mask"])
        return xp.multiply(grad, bufs["relu_mask"], out=bufs["dz"])

    def backward(self, grad, need_input_grad, grad_is_dz=False):
        xp = self.backend.xp
        m = grad.shape[0]
        bufs = self._buffers.get(m, self._make_buffers)
        grad = grad.reshape(-1, self.filters)
        dz = grad if grad_is_dz else self._dz(grad, bufs)
        # [dW_mat | db]ᵀ = [X_col | 1]ᵀ·dZ (the column of ones sums dZ over the pixels); transposed because for one
        # input channel X_colᵀ is the C-ordered buffer, and OpenBLAS runs that product about a third faster
        xp.dot(self._cols.T, dz, out=self._dw_ext_t)
        size = self.window_size
        self._dw_mat[...] = self._dw_ext_t[:size].T
        self.grads["b"][...] = self._dw_ext_t[size]
        if not need_input_grad:
            return None
        out_h, out_w, _ = self.output_shape
        kh, kw = self.kernel
        w_offsets = xp.ascontiguousarray(self.params["W"].reshape(self.filters, kh * kw, -1).transpose(1, 0, 2))  # (KH·KW, F, C)
        d_offset = bufs["d_offset"]  # (m·H'·W', C): one offset's part of dX, contiguous, reused (it stays in cache)
        d_pixels = d_offset.reshape(m, out_h, out_w, self.input_shape[2])
        dx_pad = bufs["dx_pad"]
        dx_pad.fill(0)
        for k, (_, _, (rows, columns)) in enumerate(offset_slices((out_h, out_w), self.kernel, self.stride)):
            xp.dot(dz, w_offsets[k], out=d_offset)  # one GEMM an offset: faster than one broadcast matmul
            if k == 0:  # the first offset's pixels are still zero: a copy, cheaper than an add
                dx_pad[:, rows, columns, :] = d_pixels
            else:
                dx_pad[:, rows, columns, :] += d_pixels
        (top, _), (left, _) = self.pads
        h, w, _ = self.input_shape
        return dx_pad[:, top : top + h, left : left + w, :]

    def describe(self):
        extra = (f", stride {size_text(self.stride) if self.stride[0] != self.stride[1] else self.stride[0]}"
                 if self.stride != (1, 1) else "") + (", valid" if self.padding == "valid" else "")
        return f"Conv2D({self.filters}, {size_text(self.kernel)}, {self.activation_name}{extra})"

    def to_spec(self):
        spec = {"type": "conv2d", "filters": self.filters, "kernel": pair_spec(self.kernel), "stride": pair_spec(self.stride),
                "padding": self.padding, "activation": self.activation_name, "initializer": self.initializer}
        if self.activation_name == "leaky_relu":
            spec["slope"] = self.slope
        return spec


# ----- pooling ------------------------------------------------------------------------------------
class _Pool2D(Layer):
    """A pooling layer: every ``size`` window of each channel, ``stride`` apart (valid windows
    only), becomes one value; (m, H, W, C) → (m, ⌊(H − size)/stride⌋ + 1, …, C)."""

    takes_images = True
    label = ""

    def __init__(self, size: int | list[int] = 2, stride: int | list[int] | None = None):
        super().__init__()
        self.size = pair(size, "size")
        self.stride = self.size if stride is None else pair(stride, "stride")
        self._buffers = _Buffers()

    def infer_output_shape(self, input_shape):
        h, w, c = image_input(self.label, input_shape)
        if self.size[0] > h or self.size[1] > w:
            raise SpecError(f"pooling below one pixel: a {size_text(self.size)} window does not fit in its input {h}×{w}; "
                            "use a smaller size or fewer pooling layers before it")
        return ((h - self.size[0]) // self.stride[0] + 1, (w - self.size[1]) // self.stride[1] + 1, c)

    def _offsets(self):
        return offset_slices(self.output_shape[:2], self.size, self.stride)

    @property
    def tiles(self) -> bool:
        """Whether the windows cover the input exactly once (stride = size, no pixel left over)."""
        h, w, _ = self.input_shape
        out_h, out_w, _ = self.output_shape
        return self.stride == self.size and (out_h * self.size[0], out_w * self.size[1]) == (h, w)

    def bind(self, params, grads, backend, seed, state=None):
        super().bind(params, grads, backend, seed, state)
        self._buffers.clear()

    def _dx(self, m: int) -> Array:
        """A dX buffer (m, H, W, C) for batch size m: zeroed unless the windows tile the input
        (then every element is written)."""
        dx = self._buffers.get(m, lambda n: self.backend.xp.empty((n, *self.input_shape), self.backend.dtype))
        if not self.tiles:
            dx.fill(0)
        return dx

    def describe(self):
        size = str(self.size[0]) if self.size[0] == self.size[1] else size_text(self.size)
        if self.stride != self.size:
            size += f", stride {self.stride[0] if self.stride[0] == self.stride[1] else size_text(self.stride)}"
        return f"{self.label}({size})"

    def to_spec(self):
        return {"type": self.kind, "size": pair_spec(self.size), "stride": pair_spec(self.stride)}


class MaxPool2D(_Pool2D):
    """The largest value of each window. Backward routes each output's gradient to the input
    that was the window's maximum (the first one, row-major, on ties, as PyTorch).

    The common 2×2 windows that do not overlap take a faster path: in each window row the
    left value unless the right one is larger (``right``), then the top row unless the bottom
    row's maximum is larger (``down``): the first maximum in row-major order. The row maxima
    are kept as (m, H', 2, W', C), so that the top and bottom rows are contiguous pixel rows
    and only the left/right steps touch one window at a time. Other windows find the maximum
    offset by offset and, backward, route to the first offset equal to it.
    """

    kind = "maxpool2d"
    label = "MaxPool2D"

    def __init__(self, size: int | list[int] = 2, stride: int | list[int] | None = None):
        super().__init__(size, stride)
        self._x = self._out = None
        self._scratch = _Buffers()
        self._masks: dict[str, Array] | None = None  # the 2×2 path's buffers of the last training pass

    @property
    def _two_by_two(self) -> bool:
        return self.size == (2, 2) and min(self.stride) >= 2

    def bind(self, params, grads, backend, seed, state=None):
        super().bind(params, grads, backend, seed, state)
        self._scratch.clear()

    @property
    def scratch_per_sample(self) -> int:
        """Numbers the 2×2 path keeps per sample beyond its input, output and their deltas: the
        row maxima, later their gradients (2·H'·W'·C), the output buffer (H'·W'·C) and the
        masks (3·H'·W'·C bytes, counted as numbers); none for other windows."""
        return 6 * math.prod(self.output_shape) if self._two_by_two else 0

    def _make_scratch(self, m: int) -> dict[str, Array]:
        """The 2×2 path's buffers for batch size m: row maxima and ``right`` (m, H', 2, W', C),
        ``down`` and the output (m, H', W', C). Backward writes the rows' gradients into the
        row maxima's buffer (only forward reads those): one buffer less to keep in cache."""
        xp, dtype = self.backend.xp, self.backend.dtype
        out_h, out_w, c = self.output_shape
        rows = (m, out_h, 2, out_w, c)
        row_max = xp.empty(rows, dtype)
        return {"row_max": row_max, "right": xp.empty(rows, bool), "down": xp.empty((m, out_h, out_w, c), bool),
                "out": xp.empty((m, out_h, out_w, c), dtype), "d_rows": row_max}

    def forward(self, x, training):
        xp = self.backend.xp
        if self._two_by_two:
            return self._forward_two_by_two(x, training)
        out = None
        for _, _, (rows, columns) in self._offsets():
            part = x[:, rows, columns, :]
            out = part.copy() if out is None else xp.maximum(out, part, out=out)
        if training:
            self._x, self._out = x, out
        return out

    def _forward_two_by_two(self, x: Array, training: bool) -> Array:
        xp = self.backend.xp
        win = windows(x, self.output_shape[:2], self.size, self.stride, xp)  # (m, H', W', 2, 2, C)
        left, right = win[:, :, :, :, 0, :], win[:, :, :, :, 1, :]  # (m, H', W', 2, C)
        out_h, out_w, c = self.output_shape
        bufs = self._scratch.get(x.shape[0], self._make_scratch) if training else None
        row_max = bufs["row_max"] if training else xp.empty((x.shape[0], out_h, 2, out_w, c), x.dtype)  # (m, H', 2, W', C)
        xp.maximum(left, right, out=row_max.transpose(0, 1, 3, 2, 4))
        top, bottom = row_max[:, :, 0], row_max[:, :, 1]
        if not training:
            return xp.maximum(top, bottom)
        xp.greater(right, left, out=bufs["right"].transpose(0, 1, 3, 2, 4))
        xp.greater(bottom, top, out=bufs["down"])
        self._masks = bufs
        return xp.maximum(top, bottom, out=bufs["out"])

    def backward(self, grad, need_input_grad, grad_is_dz=False):
        if not need_input_grad:
            return None
        xp = self.backend.xp
        dx = self._dx(grad.shape[0])
        if self._two_by_two:
            bufs = self._masks
            d_rows = bufs["d_rows"]  # (m, H', 2, W', C): each window row's share
            xp.multiply(grad, bufs["down"], out=d_rows[:, :, 1])
            xp.subtract(grad, d_rows[:, :, 1], out=d_rows[:, :, 0])
            d_win = windows(dx, self.output_shape[:2], self.size, self.stride, xp)  # a view: the windows do not overlap
            d_rows, right = d_rows.transpose(0, 1, 3, 2, 4), bufs["right"].transpose(0, 1, 3, 2, 4)  # (m, H', W', 2, C)
            xp.multiply(d_rows, right, out=d_win[:, :, :, :, 1, :])
            xp.subtract(d_rows, d_win[:, :, :, :, 1, :], out=d_win[:, :, :, :, 0, :])
            return dx
        remaining = grad.copy()  # what no earlier offset of the window has taken
        for _, _, (rows, columns) in self._offsets():
            routed = remaining * (self._x[:, rows, columns, :] == self._out)
            remaining -= routed
            if self.tiles:
                dx[:, rows, columns, :] = routed
            else:
                dx[:, rows, columns, :] += routed
        return dx


class AvgPool2D(_Pool2D):
    """The mean of each window; backward spreads each gradient evenly over its window."""

    kind = "avgpool2d"
    label = "AvgPool2D"

    def forward(self, x, training):
        out = None
        for _, _, (rows, columns) in self._offsets():
            part = x[:, rows, columns, :]
            out = part.copy() if out is None else self.backend.xp.add(out, part, out=out)
        out *= 1.0 / (self.size[0] * self.size[1])
        return out

    def backward(self, grad, need_input_grad, grad_is_dz=False):
        if not need_input_grad:
            return None
        dx = self._dx(grad.shape[0])
        share = grad * (1.0 / (self.size[0] * self.size[1]))
        for _, _, (rows, columns) in self._offsets():
            if self.tiles:
                dx[:, rows, columns, :] = share
            else:
                dx[:, rows, columns, :] += share
        return dx


# ----- Flatten ------------------------------------------------------------------------------------
class Flatten(Layer):
    """(m, H, W, C) → (m, H·W·C), row-major: pixel by pixel, channels innermost (as Keras)."""

    kind = "flatten"
    takes_images = True

    def infer_output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def forward(self, x, training):
        return x.reshape(x.shape[0], -1)

    def backward(self, grad, need_input_grad, grad_is_dz=False):
        return grad.reshape(grad.shape[0], *self.input_shape) if need_input_grad else None

    def describe(self):
        return "Flatten"

    def to_spec(self):
        return {"type": "flatten"}
