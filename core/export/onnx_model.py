"""The trained network as an ONNX model, for inference anywhere ONNX runs.

The graph takes ``x`` (N, n) raw inputs in the network's dtype and gives ``y`` (N, k), what
:meth:`~core.network.Network.predict` gives: the standardization as Sub and Div, each dense
layer as Gemm (Y = X·Wᵀ + b) and its activation; Dropout does nothing at prediction time and
is left out. Needs the optional ``onnx`` package (``pip install 'epochlab[onnx]'``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..files import FileFormatError, atomic_write
from ..network import Network
from .source import check_exportable

OPSET = 17
IR_VERSION = 8  # the oldest IR for opset 17: readable by older runtimes too
ACTIVATION_OPS = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu", "leaky_relu": "LeakyRelu", "softmax": "Softmax"}


def _onnx(path: str | os.PathLike) -> Any:
    try:
        import onnx
    except ImportError:
        raise FileFormatError(f"{path}: writing an ONNX model needs the onnx package: "
                              "pip install 'epochlab[onnx]'") from None
    return onnx


def onnx_model(network: Network, onnx: Any) -> Any:
    """The ONNX ModelProto of ``network``'s current weights and standardization."""
    check_exportable(network)
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    dtype = np.dtype(network.backend.dtype)
    element = helper.np_dtype_to_tensor_dtype(dtype)
    nodes, initializers = [], []
    current = "x"

    def constant(name: str, value: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(value, dtype=dtype), name))
        return name

    if network.preprocess is not None:
        nodes.append(helper.make_node("Sub", [current, constant("mean", network.preprocess.mean)], ["centered"]))
        nodes.append(helper.make_node("Div", ["centered", constant("std", network.preprocess.std)], ["standardized"]))
        current = "standardized"
    for index, (layer, params) in enumerate(zip(network.layers, network.parameters_by_layer(), strict=True), start=1):
        if layer.kind != "dense":  # Dropout: the identity at prediction time
            continue
        weights, bias = constant(f"layer{index}.W", params["W"]), constant(f"layer{index}.b", params["b"])
        nodes.append(helper.make_node("Gemm", [current, weights, bias], [f"z{index}"], transB=1))
        current = f"z{index}"
        op = ACTIVATION_OPS.get(layer.activation_name)
        if op is not None:
            attributes = {"alpha": layer.slope} if op == "LeakyRelu" else {"axis": 1} if op == "Softmax" else {}
            nodes.append(helper.make_node(op, [current], [f"a{index}"], **attributes))
            current = f"a{index}"
    nodes.append(helper.make_node("Identity", [current], ["y"]))
    graph = helper.make_graph(
        nodes, "epochlab",
        [helper.make_tensor_value_info("x", element, ["N", *network.input_shape])],
        [helper.make_tensor_value_info("y", element, ["N", *network.output_shape])],
        initializer=initializers)
    model = helper.make_model(graph, producer_name="epochlab", opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    model.doc_string = "Inputs: raw features x (N, n); outputs y (N, k) as Epoch Lab's predict gives them."
    onnx.checker.check_model(model)
    return model


def write_onnx(network: Network, path: str | os.PathLike) -> list[Path]:
    """Write the ONNX model of ``network`` to ``path`` (atomically); return the path.
    FileFormatError naming the extra when the ``onnx`` package is not installed."""
    model = onnx_model(network, _onnx(path))
    atomic_write(path, lambda f: f.write(model.SerializeToString()))
    return [Path(path)]
