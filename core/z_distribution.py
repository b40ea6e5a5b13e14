"""Where each dense layer's pre-activations z fall, over a fixed sample of the training data,
so that saturation (sigmoid, tanh: |z| large, g'(z) ≈ 0) and dead ReLU units (z ≤ 0 for every
sample) can be seen and counted next to the curves of g and g'.

For every dense layer l, over m ≤ ``MOST_SAMPLES`` training samples (chosen once per trainer,
the network's input standardization applied):

    z[l] = W[l]·a[l−1] + b[l]      (samples-first here: Z (m, n[l]) = A_prev · Wᵀ + b)

computed in arrays of the probe's own, in the network's dtype on its backend: the layers'
training buffers, gradients and activation caches are never touched. A dropout layer is the
identity, as at prediction time.

Saturation is g'(z) < ``SATURATION_SLOPE`` (0.02): for sigmoid |z| > 3.871, for tanh
|z| > 2.644 (:func:`saturation_edge`). A unit is inactive where z ≤ 0 (ReLU's g'(z) = 0 there,
as the engine's relu' = [A > 0]); a ReLU unit inactive for every sample is dead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .activations import get_activation
from .concepts import activation_curve
from .layers import Dense, Dropout

MOST_SAMPLES = 2000  # training samples the distributions are computed over
BINS = 100  # histogram bins over (−R, R); even, so 0 is an edge
SATURATION_SLOPE = 0.02  # g'(z) below this counts as saturated
SATURATING = ("sigmoid", "tanh")  # the activations whose saturation is counted (for every layer: "what if")
CURVE_FUNCTIONS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu")  # elementwise g with a curve


def saturation_edge(activation: str, slope: float = SATURATION_SLOPE) -> float | None:
    """The |z| beyond which g'(z) < ``slope`` for sigmoid (σ' = (1 − tanh²(z/2))/4, so
    |z| > 2·atanh(√(1 − 4·slope)) = 3.871 for 0.02) and tanh (1 − tanh²(z): |z| > atanh(√(1 − slope))
    = 2.644); None for an activation that does not saturate."""
    if activation == "sigmoid":
        return 2.0 * math.atanh(math.sqrt(1.0 - 4.0 * slope))
    if activation == "tanh":
        return math.atanh(math.sqrt(1.0 - slope))
    return None


def function_curves(activation: str, slope: float, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """g(z) and g'(z) (each like ``z``, float64) of the engine's own activation ``activation``
    (one of CURVE_FUNCTIONS; ``slope`` is leaky_relu's), computed by core.activations."""
    return activation_curve(activation, slope)(np.asarray(z, dtype=np.float64).reshape(-1))


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10ⁿ ≥ ``value`` (``value`` > 0)."""
    decade = 10.0 ** math.floor(math.log10(value))
    return next(m * decade for m in (1, 2, 5, 10) if m * decade >= value * (1 - 1e-9))


def histogram_range(peak: float, current: float | None, least: float = 1.0) -> float:
    """The half-width R of the histogram (−R, R) for pre-activations whose largest |z| is
    ``peak``: ``current`` while it holds them and they reach a quarter of it, else the smallest
    1, 2 or 5 × 10ⁿ ≥ ``peak`` (at least ``least``), so the bins stay put while z moves inside."""
    if current is not None and peak <= current and (peak >= current / 4 or current <= least):
        return current
    return max(nice_ceiling(peak), least) if peak > 0 else least


@dataclass(frozen=True)
class LayerZ:
    """One dense layer's pre-activations over the probe's m samples.

    ``index``: the layer's position in network.layers; ``label`` "layer 1: Dense(8, tanh)";
    ``activation`` and ``slope`` (leaky_relu's; 0.01 otherwise); ``edges`` (BINS + 1,) over
    (−R, R) and ``counts`` (BINS,) of the m·n[l] values z (every z lies inside: R covers the
    largest |z|; non-finite z are left out and counted in ``nonfinite``); ``low``/``high`` the
    smallest and largest finite z; ``inactive`` (n[l],) each unit's fraction of samples with
    z ≤ 0; ``saturated[name]`` (n[l],) each unit's fraction with g'(z) < SATURATION_SLOPE, for
    each name in SATURATING (whatever the layer's own activation, so a view can ask "what if")."""

    index: int
    label: str
    activation: str
    slope: float
    edges: np.ndarray
    counts: np.ndarray
    low: float
    high: float
    inactive: np.ndarray
    saturated: dict[str, np.ndarray]
    nonfinite: int = 0

    @property
    def units(self) -> int:
        return len(self.inactive)

    @property
    def dead(self) -> int:
        """Units with z ≤ 0 for every sample (a ReLU outputs 0 and passes no gradient for all of them)."""
        return int((self.inactive >= 1.0).sum())


@dataclass(frozen=True)
class ZDistribution:
    """Every dense layer's :class:`LayerZ` over ``samples`` of the ``train_size`` training samples;
    ``reason`` says why there are none (then ``layers`` is empty)."""

    layers: tuple[LayerZ, ...]
    samples: int
    train_size: int
    epoch: int
    reason: str = ""


class ZDistributionProbe:
    """The pre-activation distributions of every dense layer (a probe: call it with a trainer,
    in the trainer's process). The samples are chosen once per trainer (a seeded subset of the
    training part), standardized and moved to the backend once; each layer's histogram range
    is kept while its z stay inside (:func:`histogram_range`)."""

    def __init__(self, most_samples: int = MOST_SAMPLES, bins: int = BINS):
        self.most_samples, self.bins = most_samples, bins
        self._key: tuple = ()  # the trainer, network, standardization and data the samples were chosen for
        self._x = None  # (m, n) preprocessed samples on the backend
        self._train_size = 0
        self._ranges: dict[int, float] = {}  # layer index → R
        self._activations: dict[tuple[str, float], object] = {}  # our own instances: no shared caches

    def __call__(self, trainer) -> ZDistribution:
        network = trainer.network
        if not network.is_dense:
            return ZDistribution((), 0, 0, trainer.epoch, "The z distributions need a network of dense and dropout layers.")
        self._prepare(trainer)
        xp = network.backend.xp
        a, layers = self._x, []
        for i, layer in enumerate(network.layers):
            if isinstance(layer, Dropout):
                continue
            z = a @ layer.params["W"].T
            z += layer.params["b"]
            layers.append(self._summary(i, layer, z, network.backend))
            a = self._activation(layer).forward(z, xp)  # z is not needed any more: in place
        return ZDistribution(tuple(layers), int(self._x.shape[0]), self._train_size, trainer.epoch)

    def _prepare(self, trainer) -> None:
        """Choose and standardize the samples when the trainer (or its standardization) is new."""
        from .trainer import split_indices

        network, data, config = trainer.network, trainer.dataset, trainer.config
        key = (trainer, network, network.preprocess, data)  # held, not ids: a new trainer may reuse a freed one's id
        if len(key) == len(self._key) and all(a is b for a, b in zip(key, self._key, strict=True)):
            return
        train, _ = split_indices(data, config.val_fraction, config.seed)
        rng = np.random.default_rng([config.seed, 11])
        chosen = np.sort(rng.choice(train, size=min(self.most_samples, len(train)), replace=False))
        x = np.asarray(data.X[chosen], dtype=np.float64).reshape(len(chosen), -1)
        if network.preprocess is not None:
            x = network.preprocess.apply(x)
        self._key, self._x, self._train_size = key, network.backend.asarray(x), len(train)
        self._ranges = {}

    def _activation(self, layer: Dense):
        key = (layer.activation_name, layer.slope)
        if key not in self._activations:
            self._activations[key] = get_activation(*key)
        return self._activations[key]

    def _summary(self, index: int, layer: Dense, z, backend) -> LayerZ:
        """The histogram and per-unit fractions of one layer's z (m, n[l]) on ``backend``."""
        xp, host = backend.xp, backend.to_host
        finite = xp.isfinite(z)
        nonfinite = int(z.size - int(finite.sum()))
        values = z[finite] if nonfinite else z.reshape(-1)
        low = float(values.min()) if values.size else 0.0
        high = float(values.max()) if values.size else 0.0
        r = self._ranges[index] = histogram_range(max(-low, high), self._ranges.get(index))
        edges = np.linspace(-r, r, self.bins + 1)
        counts = xp.histogram(values, bins=self.bins, range=(-r, r))[0]  # equal bins: ~10× faster than by edges
        m = z.shape[0]
        inactive = host(xp.count_nonzero(z <= 0, axis=0)) / m
        magnitude = xp.abs(z)
        saturated = {name: host(xp.count_nonzero(magnitude > saturation_edge(name), axis=0)) / m for name in SATURATING}
        return LayerZ(index, f"layer {index + 1}: {layer.describe()}", layer.activation_name, layer.slope, edges,
                      host(counts).astype(np.int64), low, high, inactive, saturated, nonfinite)

