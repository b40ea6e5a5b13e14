"""What the views show, computed without Qt: boundary grids, unit maps, histograms,
confusion matrices, learned-vs-true weights and per-layer activations.

Everything takes host NumPy arrays in the data's raw units and returns host arrays; a
network's input standardization is applied inside :meth:`Network.predict`-like passes.
These run in the trainer's thread between epochs, so they always see one set of weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Network


@dataclass(frozen=True)
class PlaneGrid:
    """A square grid over a 2-D input plane, in the data's raw units.

    Attributes:
        x_range, y_range: (low, high) of each axis.
        resolution: r points per axis.
        points: (r·r, 2) grid points, row-major: point[i·r + j] = (x_j, y_i).
    """

    x_range: tuple[float, float]
    y_range: tuple[float, float]
    resolution: int
    points: np.ndarray


def plane_grid(X: np.ndarray, resolution: int = 80, margin: float = 0.1) -> PlaneGrid:
    """A grid covering the 2-D samples X (m, 2) plus ``margin`` of their span on each side."""
    low, high = X.min(axis=0), X.max(axis=0)
    pad = np.maximum(high - low, 1e-9) * margin
    low, high = low - pad, high + pad
    xs = np.linspace(low[0], high[0], resolution)
    ys = np.linspace(low[1], high[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    points = np.column_stack([gx.ravel(), gy.ravel()])
    return PlaneGrid((float(low[0]), float(high[0])), (float(low[1]), float(high[1])), resolution, points)


def raw_forward_all(network: Network, X: np.ndarray) -> list[np.ndarray]:
    """Every layer's output (host, (m, units)) for raw inputs X (m, n), standardization applied."""
    x = np.asarray(X, dtype=np.float64)
    if network.preprocess is not None:
        x = network.preprocess.apply(x)
    return [network.backend.to_host(a) for a in network.forward_all(network.backend.asarray(x))]


def boundary_map(network: Network, grid: PlaneGrid) -> np.ndarray:
    """Network outputs over the grid as an image (r, r, k): row i is y_i, column j is x_j."""
    out = network.predict(grid.points)
    return out.reshape(grid.resolution, grid.resolution, -1)


def predicted_classes(outputs: np.ndarray) -> np.ndarray:
    """Class index per sample from outputs (m, k): output > 0.5 for one unit, else argmax."""
    if outputs.shape[1] == 1:
        return (outputs[:, 0] > 0.5).astype(np.int64)
    return outputs.argmax(axis=1)


def unit_maps(network: Network, grid: PlaneGrid) -> list[np.ndarray]:
    """Each layer's unit outputs over the grid: per layer an array (units, r, r)."""
    r = grid.resolution
    return [a.T.reshape(a.shape[1], r, r) for a in raw_forward_all(network, grid.points)]


def histogram_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of ``values`` (any shape) in the bins ``edges`` (b + 1,); values outside the
    edges go to the first or last bin, so a fixed set of edges never drops weights."""
    clipped = np.clip(np.ravel(values), edges[0], edges[-1])
    return np.histogram(clipped, bins=edges)[0]


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, classes: int) -> np.ndarray:
    """(k, k) counts: row = true class, column = predicted class, for labels (m,) in 0..k−1."""
    return np.bincount(y_true * classes + y_pred, minlength=classes * classes).reshape(classes, classes)


def precision_recall(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class precision (column-wise) and recall (row-wise) from a confusion matrix (k, k);
    NaN where a class was never predicted / never present."""
    diag = np.diag(matrix).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return diag / matrix.sum(axis=0), diag / matrix.sum(axis=1)


def raw_linear_weights(network: Network) -> tuple[np.ndarray, np.ndarray]:
    """For a network of one dense layer: its weights in the data's raw units.

    With standardization x' = (x − μ)/σ, Z = W·x' + b equals W_raw·x + b_raw where
    W_raw = W / σ (t, n) and b_raw = b − W_raw·μ (t,).
    """
    dense = [layer for layer in network.layers if "W" in layer.params]
    if len(dense) != 1:
        raise ValueError("raw weights exist only for a network with a single dense layer")
    params = network.parameters_by_layer()[network.layers.index(dense[0])]
    w, b = params["W"].astype(np.float64), params["b"].astype(np.float64)
    if network.preprocess is None:
        return w, b
    w_raw = w / network.preprocess.std
    return w_raw, b - w_raw @ network.preprocess.mean
