"""Which layers have weights, how the course numbers them, and how to show them.

The course writes W[l] for the l-th layer that has weights (a Dropout or pooling layer
has none, so it takes no number). A layer's weights are its ``weight_name`` parameter; it
shows them as a 2-D matrix (``Layer.weight_matrix``): a dense layer's W (n[l], n[l−1]), a
convolution's kernels one row per filter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .layers import Dense
from .network import Network


@dataclass(frozen=True)
class WeightLayer:
    """A layer with weights, as the weight views show it.

    Attributes:
        index: its position in ``network.layers`` (0-based).
        number: the course's l of W[l] (1-based, counting layers with weights only).
        label: e.g. "Dense(8, tanh)".
        shape: (rows, columns) of its weight matrix.
        axes: what the rows and columns are, e.g. ("unit", "input").
        editable: whether a cell (i, j) is the parameter W[l]ᵢⱼ itself (a dense layer),
            so editing it by hand means something in the course's notation.
    """

    index: int
    number: int
    label: str
    shape: tuple[int, int]
    axes: tuple[str, str]
    editable: bool


def weight_layers(network: Network) -> list[WeightLayer]:
    """Every layer of ``network`` that has weights, in order."""
    found = []
    for index, layer in enumerate(network.layers):
        if layer.weight_name is None:
            continue
        shape = layer.weight_matrix(np.empty(layer.params[layer.weight_name].shape, np.float32)).shape
        found.append(WeightLayer(index, len(found) + 1, layer.describe(), shape, layer.weight_axes, isinstance(layer, Dense)))
    return found


def weight_number(network: Network, index: int) -> int:
    """The course's l of W[l] for ``network.layers[index]`` (the layers with weights up to it)."""
    return sum(layer.weight_name is not None for layer in network.layers[: index + 1])


def weight_matrices(network: Network) -> list[np.ndarray | None]:
    """Host copies of each layer's weights as its 2-D matrix (``weight_matrix``); None for
    layers without weights."""
    return [layer.weight_matrix(network.backend.to_host(layer.params[layer.weight_name]).copy())
            if layer.weight_name is not None else None for layer in network.layers]
