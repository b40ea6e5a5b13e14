"""The data loss over a plane or along a line of parameter space, computed in float64.

Three pictures, for :class:`LossSurfaceProbe` (it runs in the trainer's process):

* ``"plane2"``: a model with exactly two trainable numbers (one dense unit on one feature, no
  hidden layer: a 1-feature linear or logistic regression, z = w·x + b) gets its loss over the
  (w, b) plane, on the whole training part, evaluated exactly as the trainer evaluates it
  (the same inputs, preprocess applied, the same loss formula; float64).
* ``"line"``: the loss at θ + t·d for t in [−span, span], through the current weights θ of any
  network, on an evenly spread subsample of at most ``SAMPLE_LIMIT`` training samples.
* ``"plane"``: the loss at θ + α·d₁ + β·d₂ over an r × r grid (r ≤ ``MAX_RESOLUTION``), the same way.

Directions (Li et al. 2018, "Visualizing the loss landscape of neural nets"): "random" draws
each direction from a standard normal and filter-normalises it: every unit's row of each
weight matrix W (units, inputs) is scaled to the norm of that row of W, and the biases'
directions are zero, so the pictures of networks whose weights differ in scale compare.
"gradient" takes d = −∇L (the data loss's gradient on the same subsample, weights and biases,
through :func:`core.trace.trace`), scaled as a whole to the norm of the weights, so it stays the
steepest-descent direction; in the plane, d₂ is a random filter-normalised direction. The L1/L2
penalty is not part of these losses (the trainer's reported losses exclude it too).

Evaluation is vectorised over the points: the first dense layer's pre-activation is linear
in the coefficients, Z = (X·Wᵀ + b) + α·(X·D₁ᵀ + d₁b) + β·(X·D₂ᵀ + d₂b), so its products are
taken once; later layers multiply batched per point. Points go in chunks of bounded memory
(``CHUNK_FLOATS``). For the (w, b) plane the origin is 0 and the directions are the unit
vectors, so z = (0 + w·x) + b·1 equals the engine's x·w + b bit for bit.
"""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .activations import get_activation
from .backend import get_backend
from .layers import Dense, Dropout
from .losses import clip_epsilon
from .network import Network
from .trace import trace

Params = list[dict[str, np.ndarray]]  # per layer, like Network.parameters_by_layer(): {"W": (units, inputs), "b": (units,)} or {}

SAMPLE_LIMIT = 2000  # training samples the line and the plane are computed on
LINE_POINTS = 81
PLANE_RESOLUTION = 31  # default grid of the plane through the weights
MAX_RESOLUTION = 41
PLANE2_RESOLUTION = 81  # the (w, b) grid
MAX_PLANE2_RESOLUTION = 101
WORK_LIMIT = 10_000_000  # sample evaluations of one (w, b) grid; above it the grid uses an even subsample
THROUGH_WORK = 600_000_000  # multiply-adds of one line or plane through the weights; above it fewer samples
MIN_SAMPLES = 100  # the fewest samples a line or plane uses
CHUNK_FLOATS = 4_000_000  # float64 numbers of the arrays of one chunk of points (32 MB)
MIN_HALF_WIDTH = 1.0  # the (w, b) grid spans at least ±1 around what it must show
GROWTH = 0.25  # a new (w, b) extent leaves this fraction of its size free on each side
DEFAULT_SPAN = 1.0
MODES = ("plane2", "line", "plane")
DIRECTIONS = ("random", "gradient")
RANDOM_SEED = 20180101  # with the request number: the random directions (reproducible)


@dataclass(frozen=True)
class Grid:
    """A computed surface (host float64 arrays).

    ``kind`` "plane2": ``s`` the w values (r,), ``t`` the b values (r,), ``losses`` (r, r) with
    row i at b = t[i]; "line": ``s`` the t values (n,), ``t`` None, ``losses`` (n,); "plane":
    ``s``, ``t`` the coefficients along d₁ and d₂ (r,), ``losses`` (r, r), row i at β = t[i].
    ``key`` identifies it (a result that brings the same key brings the same grid);
    ``samples`` of the ``train_size`` training samples were used; ``centre_loss`` is the loss at
    the line's or plane's origin (the weights when computed; NaN for "plane2"); ``epoch``,
    ``batch`` say when it was computed and ``seconds`` how long it took.
    """

    key: int
    kind: str
    s: np.ndarray
    t: np.ndarray | None
    losses: np.ndarray
    samples: int
    train_size: int
    directions: str
    centre_loss: float
    epoch: int
    batch: int
    seconds: float

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(s₀, s₁, t₀, t₁): the range the grid covers (t₀ = t₁ = 0 for a line)."""
        t = self.t if self.t is not None else np.zeros(1)
        return float(self.s[0]), float(self.s[-1]), float(t[0]), float(t[-1])


@dataclass(frozen=True)
class SurfaceData:
    """What :class:`LossSurfaceProbe` sends: the ``kind`` shown ("plane2", "line", "plane", or
    "none" with a ``reason``), the model's ``parameters`` count, whether the (w, b) plane
    applies (``two_parameters``), the loss's name, for "plane2" the current ``point`` (w, b) and
    the loss there on the whole training part (``point_loss``), and the ``grid`` (None when
    nothing is computed yet)."""

    kind: str
    reason: str
    parameters: int
    two_parameters: bool
    loss_name: str
    point: tuple[float, float] | None = None
    point_loss: float | None = None
    grid: Grid | None = None


# ----- the model -------------------------------------------------------------------------------
def unsupported_reason(network: Network) -> str:
    """Why the surface cannot be computed for ``network`` ("" when it can: dense and dropout layers only)."""
    for i, layer in enumerate(network.layers):
        if not isinstance(layer, (Dense, Dropout)):
            return f"The loss surface has no rule for layer {i + 1} ({layer.describe()}): only dense and dropout layers."
    return ""


def is_two_parameter(network: Network) -> bool:
    """Whether the model's only trainable numbers are one weight w and one bias b: a dense layer
    of one unit on one input (dropout layers aside)."""
    dense = [layer for layer in network.layers if isinstance(layer, Dense)]
    return network.parameter_count == 2 and len(dense) == 1 and dense[0].params["W"].shape == (1, 1)


def weights_norm(params: Params) -> float:
    """‖W‖ over every weight matrix of ``params`` (biases aside)."""
    return math.sqrt(sum(float((p["W"] ** 2).sum()) for p in params if "W" in p))


def random_direction(params: Params, rng: np.random.Generator) -> Params:
    """A filter-normalised random direction shaped like ``params``: each row (unit) of each W is
    a standard normal draw scaled to the norm of that row of W; bias directions are zero."""
    direction: Params = []
    for p in params:
        if "W" not in p:
            direction.append({})
            continue
        d = rng.standard_normal(p["W"].shape)
        norms = np.linalg.norm(d, axis=1, keepdims=True)
        d *= np.divide(np.linalg.norm(p["W"], axis=1, keepdims=True), norms, out=np.zeros_like(norms), where=norms > 0)
        direction.append({"W": d, "b": np.zeros_like(p["b"])})
    return direction


def gradient_direction(network: Network, x: np.ndarray, y: np.ndarray, loss_name: str) -> Params | None:
    """−∇L at the network's weights for preprocessed inputs ``x`` (m, n) and targets ``y`` (m, k),
    weights and biases, scaled as a whole to the norm of the weights; None when the gradient is 0
    or not finite. Computed by :func:`core.trace.trace` on a float64 copy (the network is only read)."""
    copy = Network(network.spec(), get_backend("numpy", "float64"), seed=network.seed)
    copy.set_parameters(network.parameters_by_layer())
    layers = trace(copy, x, y, loss_name).layers
    gradient = [{"W": -layer.dW, "b": -layer.db} if layer.is_dense else {} for layer in layers]
    norm = math.sqrt(sum(float((v ** 2).sum()) for p in gradient for v in p.values()))
    if not (norm > 0 and math.isfinite(norm)):
        return None
    scale = (weights_norm(network.parameters_by_layer()) or 1.0) / norm
    return [{name: v * scale for name, v in p.items()} for p in gradient]


# ----- evaluation ------------------------------------------------------------------------------
def point_losses(loss_name: str, a: np.ndarray, y: np.ndarray, eps: float) -> np.ndarray:
    """(P,) the mean loss of each point's outputs ``a`` (P, m, k) against ``y`` (m, k), by the
    formulas of core.losses (mse averages over the k outputs too; ``eps`` clips probabilities)."""
    m = a.shape[1]
    if loss_name == "mse":
        diff = a - y
        return (diff * diff).mean(axis=(1, 2))
    if loss_name == "binary_crossentropy":
        p = np.clip(a, eps, 1.0 - eps)
        return -(y * np.log(p) + (1.0 - y) * np.log1p(-p)).sum(axis=(1, 2)) / m
    if loss_name == "categorical_crossentropy":
        p = np.clip(a, eps, 1.0)
        return -(y * np.log(p)).sum(axis=(1, 2)) / m
    raise ValueError(f"unknown loss {loss_name!r}")


def losses_at(network: Network, origin: Params, directions: list[Params], coefficients: np.ndarray, *,
              x: np.ndarray, y: np.ndarray, loss_name: str, eps: float) -> np.ndarray:
    """(P,) the loss at origin + Σⱼ coefficients[p, j]·directions[j] for each of the P points
    (``coefficients`` (P, len(directions))), for preprocessed inputs ``x`` (m, n) and targets
    ``y`` (m, k), through ``network``'s layers (dense and dropout; dropout is the identity, as
    at prediction time). Only the layers' kinds and activations are read from ``network``.
    Raises ValueError without a direction."""
    if not directions:
        raise ValueError("losses_at needs at least one direction")
    coefficients = np.asarray(coefficients, dtype=np.float64).reshape(-1, len(directions))
    layers = network.layers
    dense = [i for i, layer in enumerate(layers) if isinstance(layer, Dense)]
    first = dense[0]

    def products(p: dict[str, np.ndarray]) -> np.ndarray:
        return x @ p["W"].T + p["b"]

    terms = [products(origin[first])] + [products(d[first]) for d in directions]
    widest = max(layer.output_shape[0] for layer in layers)
    later = sum(origin[i]["W"].size + origin[i]["b"].size for i in dense[1:])
    chunk = max(1, CHUNK_FLOATS // (len(x) * widest + later))
    out = np.empty(len(coefficients))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for start in range(0, len(coefficients), chunk):
            c = coefficients[start : start + chunk]
            z = terms[0][None]
            for j, term in enumerate(terms[1:]):
                z = z + c[:, j, None, None] * term[None]
            a = _activate(layers[first], z)
            for i in dense[1:]:
                w = origin[i]["W"][None] + sum(c[:, j, None, None] * d[i]["W"][None] for j, d in enumerate(directions))
                b = origin[i]["b"][None] + sum(c[:, j, None] * d[i]["b"][None] for j, d in enumerate(directions))
                a = _activate(layers[i], np.matmul(a, w.transpose(0, 2, 1)) + b[:, None, :])
            out[start : start + len(c)] = point_losses(loss_name, a, y, eps)
    return out


def _activate(layer: Dense, z: np.ndarray) -> np.ndarray:
    """g(z) for z (P, m, units), a fresh array it overwrites, by the layer's own activation (a
    fresh instance: no shared caches)."""
    g = get_activation(layer.activation_name, layer.slope)
    return g.forward(z.reshape(-1, z.shape[-1]), np).reshape(z.shape)


def sample_budget(network: Network, origin: Params, directions: int, points: int) -> int:
    """How many training samples a line or plane of ``points`` points along ``directions``
    directions may use: ``SAMPLE_LIMIT``, fewer (not under ``MIN_SAMPLES``) when the
    multiply-adds per sample and point (the first dense layer's units per direction, every later
    layer's weights) times the points exceed ``THROUGH_WORK``."""
    dense = [i for i, layer in enumerate(network.layers) if isinstance(layer, Dense)]
    per_sample = origin[dense[0]]["b"].size * (directions + 1) + sum(origin[i]["W"].size for i in dense[1:])
    return int(min(SAMPLE_LIMIT, max(MIN_SAMPLES, THROUGH_WORK // (per_sample * points))))


def even_subsample(size: int, limit: int) -> np.ndarray:
    """At most ``limit`` indices spread evenly over range(size), in order."""
    if size <= limit:
        return np.arange(size)
    return np.unique(np.linspace(0, size - 1, limit).round().astype(np.int64))


def training_rows(trainer, indices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Float64 host copies of the trainer's own training inputs (preprocessed) and targets, rows
    ``indices`` (all when None): exactly the numbers it trains on."""
    backend = trainer.backend
    x, y = trainer.x_train, trainer.y_train
    if indices is not None and len(indices) < trainer.train_size:
        where = backend.xp.asarray(indices)
        x, y = x[where], y[where]
    return backend.to_host(x).astype(np.float64), backend.to_host(y).astype(np.float64)


def trainer_epsilon(trainer) -> float:
    """The probability clip of the trainer's own loss values (it depends on its dtype)."""
    return clip_epsilon(np.dtype(trainer.backend.dtype))


# ----- the (w, b) plane -------------------------------------------------------------------------
def _wb_frame(network: Network) -> tuple[Params, list[Params]]:
    """Origin 0 and the unit directions along w and b, shaped like the network's parameters."""
    params = network.parameters_by_layer()
    origin = [{name: np.zeros_like(v, dtype=np.float64) for name, v in p.items()} for p in params]
    directions = []
    for name in ("W", "b"):
        d = [{key: np.zeros_like(v, dtype=np.float64) for key, v in p.items()} for p in params]
        next(p for p in d if p)[name][...] = 1.0
        directions.append(d)
    return origin, directions


def wb_point(network: Network) -> tuple[float, float]:
    """The current (w, b) of a two-parameter model."""
    p = next(p for p in network.parameters_by_layer() if p)
    return float(p["W"][0, 0]), float(p["b"][0])


def wb_losses(trainer, w: np.ndarray, b: np.ndarray, indices: np.ndarray | None = None) -> np.ndarray:
    """(P,) the trainer's data loss at the points (w[p], b[p]) of a two-parameter model, on the
    training rows ``indices`` (all when None)."""
    origin, directions = _wb_frame(trainer.network)
    x, y = training_rows(trainer, indices)
    points = np.column_stack([np.ravel(w), np.ravel(b)])
    return losses_at(trainer.network, origin, directions, points, x=x, y=y, loss_name=trainer.loss.name,
                     eps=trainer_epsilon(trainer))


def checkpoint_path(states: Iterable) -> np.ndarray:
    """The (w, b) path (k, 2) of a two-parameter model's trainer states in order (e.g. a run's
    ``checkpoints.items()`` values): a state's flat ``params`` hold the weights first, so w =
    params[0] and b = params[1]. Empty (0, 2) for states of a bigger model."""
    points = [np.asarray(state.params, dtype=np.float64) for state in states]
    return np.array([p for p in points if p.size == 2]).reshape(-1, 2)


def least_squares_point(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """The (w, b) of least mse for inputs ``x`` (m, 1) and targets ``y`` (m, 1); None when not unique."""
    design = np.column_stack([x[:, 0], np.ones(len(x))])
    solution, _, rank, _ = np.linalg.lstsq(design, y[:, 0], rcond=None)
    return (float(solution[0]), float(solution[1])) if rank == 2 else None


def covering_extent(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """An extent holding ``box`` (w₀, w₁, b₀, b₁) with ``GROWTH`` of room on each side and at
    least ``MIN_HALF_WIDTH`` around its centre on each axis."""
    out = []
    for low, high in (box[:2], box[2:]):
        centre, half = (low + high) / 2, (high - low) / 2
        half = max(half * (1 + 2 * GROWTH), MIN_HALF_WIDTH)
        out += [centre - half, centre + half]
    return out[0], out[1], out[2], out[3]


def union(box: tuple[float, ...] | None, other: tuple[float, ...] | None) -> tuple[float, float, float, float] | None:
    """The smallest box (w₀, w₁, b₀, b₁) holding both (either may be None)."""
    if box is None or other is None:
        return box or other
    return min(box[0], other[0]), max(box[1], other[1]), min(box[2], other[2]), max(box[3], other[3])


def contains(outer: tuple[float, ...], inner: tuple[float, ...]) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1] and outer[2] <= inner[2] and inner[3] <= outer[3]


# ----- the probe -------------------------------------------------------------------------------
class LossSurfaceProbe:
    """Computes :class:`SurfaceData` in the trainer's process; set these attributes (through
    ``configure_probe``) from the window:

    ``mode`` ("plane2", "line", "plane"); ``directions`` ("random", "gradient"); ``request`` (an
    int: the line or plane is computed again when it changes); ``extent`` ((w₀, w₁, b₀, b₁) the
    (w, b) grid must hold, e.g. the run's whole path; None: what the probe saw); ``resolution``
    (points per side; None: the default of the mode); ``span`` (the line and plane reach ±span).

    It runs after every step and up to ten times a second while playing, so it is cheap unless
    asked: the (w, b) grid is computed again only when the extent it must show grows (the current
    point, every point it saw since the trainer was loaded, the requested ``extent``, and for
    linear + mse the least-squares minimum); otherwise it evaluates the current point alone. The
    line and the plane are computed only when one of the attributes changes, never because the
    weights moved; every result carries the last grid (the arrays are small).
    """

    def __init__(self) -> None:
        self.mode = "plane2"
        self.directions = "random"
        self.request = 0
        self.extent: tuple[float, float, float, float] | None = None
        self.resolution: int | None = None
        self.span = DEFAULT_SPAN
        self._keys = 0  # grids computed (their keys)
        self._forget()

    def _forget(self) -> None:
        self._trainer = None  # weak reference to the trainer the caches belong to
        self._grid: Grid | None = None
        self._signature: tuple | None = None  # the settings the grid was computed with
        self._seen: tuple[float, float, float, float] | None = None
        self._minimum: tuple[float, float] | None = None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.update(_trainer=None, _grid=None, _signature=None, _seen=None, _minimum=None)
        return state

    def __call__(self, trainer) -> SurfaceData:
        if self._trainer is None or self._trainer() is not trainer:
            self._forget()
            self._trainer = weakref.ref(trainer)
            self._minimum = self._least_squares(trainer)
        network = trainer.network
        two = is_two_parameter(network)
        base = {"parameters": network.parameter_count, "two_parameters": two, "loss_name": trainer.loss.name}
        reason = unsupported_reason(network)
        if reason:
            return SurfaceData("none", reason, **base)
        if self.mode == "plane2":
            if not two:
                return SurfaceData("none", plane2_refusal(network.parameter_count), **base)
            return self._plane2(trainer, base)
        if self.mode not in MODES or self.directions not in DIRECTIONS:
            return SurfaceData("none", f"unknown mode {self.mode!r} or directions {self.directions!r}", **base)
        signature = (self.mode, self.directions, self.request, self.resolution, float(self.span))
        if signature != self._signature:
            self._signature = signature
            self._grid, reason = self._through_weights(trainer)
            if reason:
                return SurfaceData("none", reason, **base)
        return SurfaceData(self.mode, "", grid=self._grid, **base)

    def _least_squares(self, trainer) -> tuple[float, float] | None:
        network = trainer.network
        if not is_two_parameter(network) or trainer.loss.name != "mse" or network.output_activation != "linear":
            return None
        return least_squares_point(*training_rows(trainer))

    def _next_key(self) -> int:
        self._keys += 1
        return self._keys

    def _plane2(self, trainer, base: dict) -> SurfaceData:
        w, b = wb_point(trainer.network)
        loss = float(wb_losses(trainer, np.array([w]), np.array([b]))[0])
        if math.isfinite(w) and math.isfinite(b):
            self._seen = union(self._seen, (w, w, b, b))
        needed = self._seen
        for extra in (self.extent, self._minimum and (self._minimum[0], self._minimum[0], self._minimum[1], self._minimum[1])):
            if extra is not None and all(math.isfinite(v) for v in extra):
                needed = union(needed, tuple(float(v) for v in extra))
        resolution = min(max(int(self.resolution or PLANE2_RESOLUTION), 5), MAX_PLANE2_RESOLUTION)
        grid = self._grid
        if needed is not None and (grid is None or grid.kind != "plane2" or len(grid.s) != resolution
                                   or not contains(grid.extent, needed)):
            self._grid = self._wb_grid(trainer, covering_extent(needed), resolution)
            self._signature = None
        return SurfaceData("plane2", "", point=(w, b), point_loss=loss, grid=self._grid, **base)

    def _wb_grid(self, trainer, extent: tuple[float, float, float, float], resolution: int) -> Grid:
        started = time.perf_counter()
        ws, bs = np.linspace(extent[0], extent[1], resolution), np.linspace(extent[2], extent[3], resolution)
        rows = even_subsample(trainer.train_size, max(1, WORK_LIMIT // resolution ** 2))
        w, b = np.meshgrid(ws, bs)  # (r, r): row i at b = bs[i]
        losses = wb_losses(trainer, w, b, rows).reshape(resolution, resolution)
        return Grid(self._next_key(), "plane2", ws, bs, losses, len(rows), trainer.train_size, "", math.nan,
                    trainer.epoch, trainer.cursor, time.perf_counter() - started)

    def _through_weights(self, trainer) -> tuple[Grid | None, str]:
        """The line or plane through the current weights, or a reason why there is none."""
        started = time.perf_counter()
        network = trainer.network
        origin = [{name: v.astype(np.float64) for name, v in p.items()} for p in network.parameters_by_layer()]
        count = 1 if self.mode == "line" else 2
        resolution = min(max(int(self.resolution or PLANE_RESOLUTION), 5), MAX_RESOLUTION)
        points = LINE_POINTS if self.mode == "line" else resolution ** 2
        rows = even_subsample(trainer.train_size, sample_budget(network, origin, count, points))
        x, y = training_rows(trainer, rows)
        rng = np.random.default_rng([RANDOM_SEED, int(self.request)])
        if self.directions == "gradient":
            first = gradient_direction(network, x, y, trainer.loss.name)
            if first is None:
                return None, "The gradient is zero (or not finite) at these weights: there is no gradient direction; use Random."
        else:
            first = random_direction(origin, rng)
        directions = [first, random_direction(origin, rng)][:count]
        span = abs(float(self.span)) or DEFAULT_SPAN
        if self.mode == "line":
            s, t = np.linspace(-span, span, LINE_POINTS), None
            coefficients = s[:, None]
        else:
            s = t = np.linspace(-span, span, resolution)
            a, b = np.meshgrid(s, t)
            coefficients = np.column_stack([a.ravel(), b.ravel()])
        data = {"x": x, "y": y, "loss_name": trainer.loss.name, "eps": trainer_epsilon(trainer)}
        losses = losses_at(network, origin, directions, coefficients, **data)
        centre = float(losses_at(network, origin, directions, np.zeros((1, len(directions))), **data)[0])
        if t is not None:
            losses = losses.reshape(len(t), len(s))
        return Grid(self._next_key(), self.mode, s, t, losses, len(rows), trainer.train_size, self.directions, centre,
                    trainer.epoch, trainer.cursor, time.perf_counter() - started), ""


def plane2_refusal(parameters: int) -> str:
    """The note for a model that is not a two-parameter one."""
    return (f"The (w, b) plane needs a model with exactly two trainable numbers: one feature, no hidden layer, one output "
            f"unit (1-feature linear or logistic regression). This model has {parameters:,}: choose Line or Plane above to see "
            "the loss through its current weights (Compute redoes it at the weights of the moment).")
