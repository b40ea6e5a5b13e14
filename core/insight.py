"""What the views show, computed without Qt: boundary grids, unit maps, histograms,
confusion matrices, learned-vs-true weights and per-layer activations.

Everything takes host NumPy arrays in the data's raw units and returns host arrays; a
network's input standardization is applied inside :meth:`Network.predict`-like passes.
These run in the trainer's thread between epochs, so they always see one set of weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from .features import network_inputs, plane_features, plane_samples
from .layers import Dense
from .network import Network
from .weight_layers import weight_matrices


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
    """A grid covering the 2-D samples X (m, 2) plus ``margin`` of their span on each side; on an
    axis where every sample has the same value c (one sample, say), c ± max(|c|, 1)."""
    low, high = X.min(axis=0), X.max(axis=0)
    center, span = (low + high) / 2, high - low
    flat = span <= 1e-12 * np.maximum(1.0, np.maximum(np.abs(low), np.abs(high)))
    half = np.where(flat, np.maximum(np.abs(center), 1.0), span * (0.5 + margin))
    low, high = center - half, center + half
    xs = np.linspace(low[0], high[0], resolution)
    ys = np.linspace(low[1], high[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    points = np.column_stack([gx.ravel(), gy.ravel()])
    return PlaneGrid((float(low[0]), float(high[0])), (float(low[1]), float(high[1])), resolution, points)


GridInputs = Callable[[np.ndarray], np.ndarray]  # grid points (m, 2) in raw units → the network's raw inputs (m, n)


def grid_inputs(grid: PlaneGrid, to_inputs: GridInputs | None = None) -> np.ndarray:
    """The network's raw inputs (m, n) at the grid's points: ``to_inputs(grid.points)``, or the
    points themselves (m, 2) when the network takes the plane's two coordinates as they are."""
    return grid.points if to_inputs is None else to_inputs(grid.points)


def raw_forward_all(network: Network, X: np.ndarray) -> list[np.ndarray]:
    """Every layer's output (host, (m, units)) for raw inputs X (m, n), standardization applied."""
    x = np.asarray(X, dtype=np.float64)
    if network.preprocess is not None:
        x = network.preprocess.apply(x)
    return [network.backend.to_host(a) for a in network.forward_all(network.backend.asarray(x))]


def boundary_map(network: Network, grid: PlaneGrid, to_inputs: GridInputs | None = None) -> np.ndarray:
    """Network outputs over the grid as an image (r, r, k): row i is y_i, column j is x_j."""
    out = network.predict(grid_inputs(grid, to_inputs))
    return out.reshape(grid.resolution, grid.resolution, -1)


def predicted_classes(outputs: np.ndarray) -> np.ndarray:
    """Class index per sample from outputs (m, k): output > 0.5 for one unit, else argmax."""
    if outputs.shape[1] == 1:
        return (outputs[:, 0] > 0.5).astype(np.int64)
    return outputs.argmax(axis=1)


def unit_maps(network: Network, grid: PlaneGrid, to_inputs: GridInputs | None = None) -> list[np.ndarray]:
    """Each layer's unit outputs over the grid: per layer an array (units, r, r)."""
    r = grid.resolution
    return [a.T.reshape(a.shape[1], r, r) for a in raw_forward_all(network, grid_inputs(grid, to_inputs))]


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
    dense = [layer for layer in network.layers if layer.weight_name is not None]
    if len(dense) != 1 or not isinstance(dense[0], Dense):
        raise ValueError("raw weights exist only for a network with a single dense layer")
    params = network.parameters_by_layer()[network.layers.index(dense[0])]
    w, b = params["W"].astype(np.float64), params["b"].astype(np.float64)
    if network.preprocess is None:
        return w, b
    w_raw = w / network.preprocess.std
    return w_raw, b - w_raw @ network.preprocess.mean


# ----- probe payloads (computed in the trainer's thread, consumed by the app's views) -----------

HISTOGRAM_BINS = 48  # bins per layer of a weight-distribution column
HISTOGRAM_COLUMNS = 200  # columns kept per layer (a ring): older ones are dropped


def split_of(trainer) -> tuple[np.ndarray, np.ndarray]:
    """The dataset indices (sorted) of the trainer's training and validation samples."""
    from .trainer import split_indices

    return split_indices(trainer.dataset, trainer.config.val_fraction, trainer.config.seed)


def raw_split(trainer) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The trainer's training and validation samples in raw units: (X_train, y_train, X_val, y_val)
    taken from its dataset with its split (host arrays; y as the dataset stores it)."""
    data = trainer.dataset
    train_idx, val_idx = split_of(trainer)
    return data.X[train_idx], data.y[train_idx], data.X[val_idx], data.y[val_idx]


def sample_target_text(dataset, index: int) -> str:
    """The target of sample ``index`` as a person reads it: its class name, or the regression values."""
    y = dataset.y[index]
    if dataset.task == "regression":
        return ", ".join(f"{v:.4g}" for v in np.ravel(y))
    return dataset.class_names[int(y)] if dataset.class_names else str(int(y))


@dataclass(frozen=True)
class UnitMap:
    """One unit's output a[l]ᵢ over a boundary grid: ``layer`` (0-based in ``network.layers``, a
    dense layer), ``unit`` (0-based), the layer's ``activation`` name and ``values`` (r, r):
    row i is y_i, column j is x_j, as in :func:`boundary_map`."""

    layer: int
    unit: int
    activation: str
    values: np.ndarray


@dataclass(frozen=True)
class BoundaryData:
    """A decision-boundary payload: ``outputs`` (r, r, k) over ``grid``; ``unit_map`` the output of
    the unit asked for over the same grid (None when none was asked or it does not exist);
    ``reason`` says why there is none (then the arrays are None)."""

    grid: PlaneGrid | None
    outputs: np.ndarray | None
    classes: np.ndarray | None
    epoch: int
    reason: str = ""
    unit_map: UnitMap | None = None


def dense_unit(network: Network, unit: tuple[int, int] | None) -> tuple[int, int] | None:
    """``unit`` = (layer, i) as ints when network.layers[layer] is a dense layer with a unit i,
    else None (a unit asked for before the network changed, say)."""
    if unit is None:
        return None
    layer, i = int(unit[0]), int(unit[1])
    if not 0 <= layer < len(network.layers) or not isinstance(network.layers[layer], Dense):
        return None
    return (layer, i) if 0 <= i < network.layers[layer].params["W"].shape[0] else None


def boundary_data(trainer, resolution: int = 80, unit: tuple[int, int] | None = None,
                  to_inputs: GridInputs | None = None) -> BoundaryData:
    """The network's outputs over a grid around all the samples of a 2-D classification set and,
    for ``unit`` = (layer in ``network.layers``, unit), that unit's output over the same grid
    (one forward pass gives both). ``to_inputs`` maps grid points to the network's inputs."""
    data, network = trainer.dataset, trainer.network
    if data.task == "regression" or plane_features(data) != 2:
        why = "regression data" if data.task == "regression" else f"{plane_features(data)} input features"
        return BoundaryData(None, None, None, trainer.epoch,
                            f"The decision boundary needs 2-D classification data; this dataset has {why}.")
    grid = plane_grid(plane_samples(data), resolution)
    to_inputs = to_inputs or partial(network_inputs, data)  # the plane's (x1, x2) with any engineered inputs
    unit = dense_unit(network, unit)
    unit_map = None
    if unit is None:
        outputs = boundary_map(network, grid, to_inputs)
    else:
        layers = raw_forward_all(network, grid_inputs(grid, to_inputs))
        outputs = layers[-1].reshape(resolution, resolution, -1)
        values = layers[unit[0]][:, unit[1]].reshape(resolution, resolution).astype(np.float32)
        unit_map = UnitMap(*unit, network.layers[unit[0]].activation_name, values)
    classes = predicted_classes(outputs.reshape(-1, outputs.shape[-1])).reshape(resolution, resolution)
    return BoundaryData(grid, outputs.astype(np.float32), classes, trainer.epoch, unit_map=unit_map)


@dataclass(frozen=True)
class ConfusionData:
    """Validation confusion matrix (k, k) with per-class precision/recall; ``reason`` when none."""

    matrix: np.ndarray | None
    precision: np.ndarray | None
    recall: np.ndarray | None
    class_names: tuple[str, ...]
    epoch: int
    reason: str = ""


def confusion_data(trainer) -> ConfusionData:
    """The confusion matrix of the network on the trainer's validation part (raw labels)."""
    data = trainer.dataset
    if data.task == "regression":
        return ConfusionData(None, None, None, (), trainer.epoch, "A confusion matrix needs classification data; this dataset is a regression.")
    _, _, x_val, y_val = raw_split(trainer)
    if len(y_val) == 0:
        return ConfusionData(None, None, None, (), trainer.epoch,
                             "There is no validation part: set a validation fraction above 0 on the Data tab.")
    k = max(len(data.class_names), 2)
    pred = predicted_classes(trainer.network.predict(x_val))
    matrix = confusion_matrix(np.asarray(y_val, dtype=np.int64), pred, k)
    precision, recall = precision_recall(matrix)
    names = tuple(data.class_names) or tuple(str(i) for i in range(k))
    return ConfusionData(matrix, precision, recall, names, trainer.epoch)


@dataclass(frozen=True)
class HistogramData:
    """Weight distributions over time, per dense layer: ``layers[i]`` = (label, edges (b+1,),
    epochs (c,), density (c, b) in [0, 1] per column: log(1 + count) / log(1 + the column's
    largest count), so that sparse tails stay visible next to a dense centre)."""

    layers: tuple[tuple[str, np.ndarray, np.ndarray, np.ndarray], ...]
    epoch: int


class WeightHistogramRing:
    """A bounded ring of weight-histogram columns per dense layer, with fixed bin edges.

    Call it with a trainer (in the trainer's thread): it adds one column per layer (or
    replaces the last when the epoch has not moved) and returns a :class:`HistogramData`.
    A different trainer (a reset) starts over. Edges are fixed from the first weights seen:
    ±max(2·|w|max, 0.5), so a column never shifts; values outside go to the end bins.
    """

    def __init__(self, bins: int = HISTOGRAM_BINS, columns: int = HISTOGRAM_COLUMNS):
        self.bins, self.columns = bins, columns
        self._trainer = None
        self._edges: list[np.ndarray] = []
        self._labels: list[str] = []
        self._epochs: list[list[int]] = []
        self._counts: list[list[np.ndarray]] = []

    def __call__(self, trainer) -> HistogramData:
        network = trainer.network
        layers = [(i, w) for i, w in enumerate(weight_matrices(network)) if w is not None]
        if trainer is not self._trainer or len(layers) != len(self._edges):
            self._trainer = trainer
            self._edges = [np.linspace(-lim, lim, self.bins + 1) for lim in
                           (max(2.0 * float(np.abs(w).max(initial=0.0)), 0.5) for _, w in layers)]
            self._labels = [f"layer {i + 1}: {network.layers[i].describe()}" for i, _ in layers]
            self._epochs = [[] for _ in layers]
            self._counts = [[] for _ in layers]
        for n, (_, w) in enumerate(layers):
            counts = np.log1p(histogram_counts(w, self._edges[n]).astype(np.float32))
            counts /= max(float(counts.max()), 1e-9)
            epochs, cols = self._epochs[n], self._counts[n]
            if epochs and epochs[-1] == trainer.epoch:
                cols[-1] = counts
            else:
                epochs.append(trainer.epoch)
                cols.append(counts)
                if len(epochs) > self.columns:
                    del epochs[0], cols[0]
        return HistogramData(tuple((self._labels[n], self._edges[n], np.array(self._epochs[n]), np.array(self._counts[n]))
                                   for n in range(len(layers))), trainer.epoch)


@dataclass(frozen=True)
class GraphData:
    """What the network-graph view draws: per dense layer its weights W (n[l], n[l-1]) and
    biases b (n[l],) with a label; ``inputs`` the input names; for 2-D data ``maps[l]`` the
    outputs (n[l], r, r) of each unit of dense layer l over the input plane (else None)."""

    inputs: tuple[str, ...]
    labels: tuple[str, ...]
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    maps: tuple[np.ndarray, ...] | None
    epoch: int
    reason: str = ""


def graph_data(trainer, thumbnail_resolution: int = 24, max_thumbnail_units: int = 64,
               to_inputs: GridInputs | None = None) -> GraphData:
    """The network's dense layers for the graph view; unit thumbnails when the data is 2-D
    and no layer is wider than ``max_thumbnail_units`` (``to_inputs``: as in :func:`boundary_data`)."""
    network, data = trainer.network, trainer.dataset
    params = network.parameters_by_layer()
    dense = [i for i, layer in enumerate(network.layers) if isinstance(layer, Dense)]
    if not dense or not network.is_dense:
        return GraphData((), (), (), (), None, trainer.epoch, "The network graph draws networks of dense layers only.")
    maps = None
    if plane_features(data) == 2 and max(params[i]["W"].shape[0] for i in dense) <= max_thumbnail_units:
        grid = plane_grid(plane_samples(data), thumbnail_resolution)
        outputs = raw_forward_all(network, grid_inputs(grid, to_inputs or partial(network_inputs, data)))
        # a dense layer's activation is applied in the layer itself, or by the layer that follows it
        owner = {}
        for i in range(len(network.layers)):
            last_dense = max((d for d in dense if d <= i), default=None)
            if last_dense is not None and outputs[i].shape[1] == params[last_dense]["W"].shape[0]:
                owner[last_dense] = i
        r = thumbnail_resolution
        maps = tuple(outputs[owner[i]].T.reshape(-1, r, r).astype(np.float32) for i in dense)
    names = tuple(data.feature_names) if data.feature_names else tuple(f"x{j + 1}" for j in range(data.n_features))
    return GraphData(names, tuple(f"layer {i + 1}: {network.layers[i].describe()}" for i in dense),
                     tuple(params[i]["W"].astype(np.float64) for i in dense),
                     tuple(params[i]["b"].astype(np.float64).ravel() for i in dense), maps, trainer.epoch)


@dataclass(frozen=True)
class FitData:
    """A regression payload. ``kind``: "curve" (1-D input: ``curve_x`` (c,), ``curve_y`` (c,) of
    the first target over the input's range) or "scatter" (predicted vs actual); always the
    validation (or, without one, training) targets ``actual`` (m,) and predictions
    ``predicted`` (m,) of the first target with their inputs ``x`` (m, n) and their dataset
    ``indices`` (m,), the data's R² over them, and, when the data come with true weights and the
    network is one dense layer, ``learned`` and ``true`` (n,) raw-unit weights of the first target."""

    kind: str
    x: np.ndarray | None
    actual: np.ndarray | None
    predicted: np.ndarray | None
    curve_x: np.ndarray | None
    curve_y: np.ndarray | None
    r2: float
    learned: np.ndarray | None
    true: np.ndarray | None
    feature_names: tuple[str, ...]
    target_name: str
    part: str
    epoch: int
    reason: str = ""
    indices: np.ndarray | None = None


def r2_score(actual: np.ndarray, predicted: np.ndarray) -> float:
    """1 − SS_res/SS_tot of one target (NaN when the targets do not vary)."""
    ss_tot = float(((actual - actual.mean()) ** 2).sum())
    return float("nan") if ss_tot <= 0 else 1.0 - float(((actual - predicted) ** 2).sum()) / ss_tot


def fit_data(trainer, curve_points: int = 200) -> FitData:
    data = trainer.dataset
    names = tuple(data.feature_names)
    if data.task != "regression":
        return FitData("", None, None, None, None, None, float("nan"), None, None, names, "", "", trainer.epoch,
                       "The regression fit needs regression data; this dataset is a classification.")
    train_idx, val_idx = split_of(trainer)
    indices, part = (val_idx, "validation") if len(val_idx) else (train_idx, "training")
    x, y = data.X[indices], data.y[indices]
    actual = np.asarray(y, dtype=np.float64).reshape(len(y), -1)[:, 0]
    predicted = trainer.network.predict(x)[:, 0].astype(np.float64)
    curve_x = curve_y = None
    kind = "scatter"
    if data.n_features == 1:
        kind = "curve"
        low, high = float(data.X[:, 0].min()), float(data.X[:, 0].max())
        pad = (high - low) * 0.05
        curve_x = np.linspace(low - pad, high + pad, curve_points)
        curve_y = trainer.network.predict(curve_x[:, None])[:, 0].astype(np.float64)
    learned = true = None
    if data.true_weights is not None:
        try:
            learned = raw_linear_weights(trainer.network)[0][0]
            true = np.asarray(data.true_weights, dtype=np.float64)[0]
        except ValueError:
            learned = true = None
    target = data.target_names[0] if data.target_names else "y"
    return FitData(kind, x, actual, predicted, curve_x, curve_y, r2_score(actual, predicted), learned, true, names, target, part,
                   trainer.epoch, indices=indices)


@dataclass(frozen=True)
class ActivationData:
    """Every layer's output A[l] (units,) for the dataset's sample ``index`` (raw ``x``)."""

    index: int
    x: np.ndarray
    target: str
    labels: tuple[str, ...]
    activations: tuple[np.ndarray, ...]
    epoch: int


class BoundaryProbe:
    """The decision-boundary probe: the grid (:func:`boundary_data`, with the map of ``unit`` =
    (layer in ``network.layers``, unit) or None, set from any thread: the unit hovered in the
    network graph), the raw samples (:func:`raw_split` followed by the dataset indices of the
    training and validation samples, computed once per trainer; each result reaches the window
    as new arrays, and the view compares them by value to redraw its points only after a reset)
    and the feature names."""

    def __init__(self) -> None:
        self.unit: tuple[int, int] | None = None
        self._trainer = None
        self._points = None

    def __call__(self, trainer) -> tuple[BoundaryData, tuple[np.ndarray, ...], tuple[str, ...]]:
        if trainer is not self._trainer:
            self._trainer = trainer
            self._points = (*raw_split(trainer), *split_of(trainer))
        return boundary_data(trainer, unit=self.unit), self._points, tuple(trainer.dataset.feature_names)


class ActivationProbe:
    """The activations of one chosen sample; set ``index`` from any thread (an int)."""

    def __init__(self) -> None:
        self.index = 0

    def __call__(self, trainer) -> ActivationData:
        data = trainer.dataset
        index = min(max(int(self.index), 0), data.n_samples - 1)
        x = data.X[index: index + 1]
        outputs = raw_forward_all(trainer.network, x)
        target = sample_target_text(data, index)
        labels = tuple(f"layer {i + 1}: {layer.describe()}" for i, layer in enumerate(trainer.network.layers))
        return ActivationData(index, x[0].copy(), target, labels, tuple(a.reshape(-1).astype(np.float32) for a in outputs), trainer.epoch)
