"""What a recurrent network does with a sequence, for the hidden-state, gradient-through-time,
forecast and sampled-text views: probes that run in the trainer's process
(``app.trainer_process.Probe``) and return host copies only.

* :class:`HiddenStateProbe`: for one chosen sample and one chosen recurrent layer, h_t of every
  step and unit, and the layer's gates (LSTM i, f, o; GRU r, z), from ``Recurrent.trace`` on the
  layer's input in prediction mode. Cost: one forward pass of one sample.
* :class:`StepGradientProbe`: ‖∂L/∂h_t‖ of every step of every recurrent layer, from the last
  mini-batch trained (it turns on ``Recurrent.record_step_norms``, and off again when the window
  sets its ``recording`` to False as the view is hidden). Cost: a copy of T numbers a layer, and
  while recording a norm a step in every backward.
* :class:`ForecastProbe`: on forecasting data (``meta["forecast"]``), the chosen sample's window
  with its true and predicted value h steps on; for consecutive windows also the whole series
  with the windows' predictions. Cost: one prediction pass over the data, or over
  :data:`FORECAST_WINDOWS` windows evenly spread over it when it has more (100k windows of 50
  steps took an LSTM(16) 0.97 s a pass here, 20k 0.2 s).
* :class:`SampledTextProbe`: for a character model, text generated from the chosen sample's
  window one character at a time at a temperature. Cost: one forward pass of one window per
  character, about 0.2 s at most (:data:`TEXT_WORK_BUDGET`).

A probe that has nothing to show says why in its payload's ``reason`` (:data:`NO_RECURRENT`,
:data:`NO_FORECAST`, :data:`NO_CHARACTERS`) and carries no arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .insight import sample_target_text, split_of
from .recurrent import Recurrent

NO_RECURRENT = "This network has no recurrent layer; add an LSTM, GRU or SimpleRNN in the Network tab"
NO_FORECAST = ("The forecast needs forecasting data: a time series cut into windows, such as sine_forecast "
               "or a CSV time series")
NO_CHARACTERS = ("Sampled text needs a character model: character data (such as chars) and a network that takes "
                 "their token ids (an Embedding first) and ends in a softmax over the characters")
GATES = {"lstm": ("i", "f", "o"), "gru": ("r", "z"), "rnn": ()}  # the gates the hidden-state view draws, by layer kind
TEXT_CHARACTERS = 300  # characters sampled text generates, unless that is more work than TEXT_WORK_BUDGET
TEXT_WORK_BUDGET = 18_000  # step costs (see pass_work): ~0.2 s of passes of one window here
STEP_MACS = 60_000  # the multiply-adds that cost as much as the rest of a recurrent step of one sample (measured here)
FORECAST_WINDOWS = 20_000  # the forecast predicts at most this many windows (and the chosen one), evenly spread
GREEDY_TEMPERATURE = 0.1  # at or below it, sampled text takes the likeliest character (no sampling)


@dataclass(frozen=True)
class RecurrentLayer:
    """A recurrent layer a view can show: ``index`` in network.layers, ``label``
    ("layer 2: LSTM(32)"), ``kind`` ("rnn", "lstm", "gru")."""

    index: int
    label: str
    kind: str


def recurrent_layers(network) -> tuple[RecurrentLayer, ...]:
    """The network's SimpleRNN, LSTM and GRU layers, in order."""
    return tuple(RecurrentLayer(i, f"layer {i + 1}: {layer.describe()}", layer.kind)
                 for i, layer in enumerate(network.layers) if isinstance(layer, Recurrent))


def layer_input(network, x: np.ndarray, index: int):
    """What layer ``index`` of ``network`` reads for the raw host samples x (m, n) in prediction
    mode (standardization applied): a backend array (m, *that layer's input shape)."""
    pre = network.preprocess.apply(np.asarray(x, dtype=np.float64)) if network.preprocess is not None else x
    a = network.backend.asarray(np.asarray(pre).reshape(len(pre), *network.input_shape))
    for layer in network.layers[:index]:
        a = layer.forward(a, False)
    return a


# ----- hidden state ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class HiddenStateData:
    """The hidden states of sample ``sample`` in ``layer`` (one of ``layers``, every recurrent layer
    of the network): ``states`` by name, each (T, units) host float64, "h" first, then the layer's
    gates (:data:`GATES`); ``target`` the sample's target as text; h's colour levels are ±``limit``:
    1 when ``bounded`` (an LSTM's, a GRU's, a tanh/sigmoid SimpleRNN's h lies within ±1), else the
    sample's largest |h| (:func:`state_limit`). ``reason`` says why there is nothing to show (then
    ``layer`` is None and ``states`` empty)."""

    sample: int
    layers: tuple[RecurrentLayer, ...]
    layer: RecurrentLayer | None
    states: dict[str, np.ndarray]
    target: str
    epoch: int
    reason: str = ""
    limit: float = 1.0
    bounded: bool = True


BOUNDED_ACTIVATIONS = ("tanh", "sigmoid", "softsign")  # a SimpleRNN's h within ±1 with these


def state_limit(layer, h: np.ndarray) -> tuple[float, bool]:
    """(L, bounded): h's colour levels ±L for recurrent ``layer``'s states h (T, units): 1 when its
    h is bounded by ±1 (LSTM, GRU, a SimpleRNN of a bounded activation), else the largest |h|
    (1 when h is all zero or not finite)."""
    if layer.kind in ("lstm", "gru") or getattr(layer, "activation_key", "") in BOUNDED_ACTIVATIONS:
        return 1.0, True
    finite = np.abs(h[np.isfinite(h)])
    largest = float(finite.max()) if finite.size else 0.0
    return (largest if largest > 0 else 1.0), False


class HiddenStateProbe:
    """h_t and the gates of sample ``index`` in recurrent layer ``layer`` (its index in
    network.layers; None, or one that is no recurrent layer, means the first). Set both from
    the window with ``configure_probe("hiddenState", index=…, layer=…)``; the index is clamped to the data."""

    def __init__(self) -> None:
        self.index = 0
        self.layer: int | None = None

    def __call__(self, trainer) -> HiddenStateData:
        network, data = trainer.network, trainer.dataset
        index = min(max(int(self.index), 0), data.n_samples - 1)
        layers = recurrent_layers(network)
        if not layers:
            return HiddenStateData(index, (), None, {}, "", trainer.epoch, NO_RECURRENT)
        chosen = next((layer for layer in layers if layer.index == self.layer), layers[0])
        traced = network.layers[chosen.index].trace(layer_input(network, data.X[index: index + 1], chosen.index))
        states = {name: np.asarray(traced[name][0], dtype=np.float64) for name in ("h", *GATES[chosen.kind])}
        limit, bounded = state_limit(network.layers[chosen.index], states["h"])
        return HiddenStateData(index, layers, chosen, states, sample_target_text(data, index), trainer.epoch,
                               limit=limit, bounded=bounded)


# ----- gradient through time -------------------------------------------------------------------------
@dataclass(frozen=True)
class StepGradientData:
    """‖∂L/∂h_t‖ of every recurrent layer (``layers``): ``norms`` one (T,) float64 array a layer,
    entry t for step t + 1, from the last mini-batch trained; None for a layer no mini-batch has
    gone back through since the probe began recording. ``reason``: nothing to show."""

    layers: tuple[RecurrentLayer, ...]
    norms: tuple[np.ndarray | None, ...]
    epoch: int
    reason: str = ""

    @property
    def again(self) -> bool:
        """Recording has begun but no mini-batch has been measured yet: the probe runs again after
        the next epoch (see app.trainer_process.Probe) so the first curve is of the first epoch."""
        return bool(self.layers) and all(n is None for n in self.norms)


def step_gradient_data(trainer) -> StepGradientData:
    """The step norms of the last mini-batch; also makes every recurrent layer record them from now on."""
    network = trainer.network
    layers = recurrent_layers(network)
    if not layers:
        return StepGradientData((), (), trainer.epoch, NO_RECURRENT)
    norms = []
    for layer in layers:
        live = network.layers[layer.index]
        live.record_step_norms = True
        norms.append(None if live.step_norms is None else np.array(live.step_norms, dtype=np.float64))
    return StepGradientData(layers, tuple(norms), trainer.epoch)


class StepGradientProbe:
    """:func:`step_gradient_data`, with a way to stop the recording it starts: set ``recording`` to
    False (the window does, with ``configure_probe``, when the view is hidden) and the layers it made
    record stop, their last norms forgotten (shown again later, they would be old); the next call
    records again. ``recording``: whether layers record for this probe now (in the trainer's process)."""

    def __init__(self) -> None:
        self._recording: list[Recurrent] = []  # the live layers this probe made record

    def __call__(self, trainer) -> StepGradientData:
        data = step_gradient_data(trainer)
        self._recording = [trainer.network.layers[layer.index] for layer in data.layers]
        return data

    @property
    def recording(self) -> bool:
        return bool(self._recording)

    @recording.setter
    def recording(self, on: bool) -> None:
        if not on:
            for layer in self._recording:
                layer.record_step_norms, layer.step_norms = False, None
            self._recording = []


GRADIENT_WORDS = ((1e-2, "vanishes"), (0.5, "shrinks"), (2.0, "keeps its size"), (1e2, "grows"),
                  (math.inf, "explodes"))  # what ‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ up to each bound says the gradient does going back


def gradient_ratio(norms: np.ndarray) -> tuple[float, str]:
    """(‖∂L/∂h₁‖ / ‖∂L/∂h_T‖, what the gradient does going back from step T to step 1: "vanishes",
    "shrinks", "keeps its size", "grows" or "explodes", by :data:`GRADIENT_WORDS`) from norms (T,);
    (NaN, "not finite") or (NaN, "none reaches h_T") where there is no ratio."""
    first, last = float(norms[0]), float(norms[-1])
    if not (math.isfinite(first) and math.isfinite(last)):
        return math.nan, "not finite"
    if last == 0.0:
        return math.nan, "none reaches h_T"
    ratio = first / last
    return ratio, next(word for bound, word in GRADIENT_WORDS if ratio <= bound)


def vanishing_short(norms: np.ndarray) -> str:
    """"3.2e-05 vanishes": :func:`gradient_ratio` in a few characters, from norms (T,)."""
    ratio, word = gradient_ratio(norms)
    return word if math.isnan(ratio) else f"{ratio:.2g} {word}"


def vanishing_text(norms: np.ndarray) -> str:
    """"‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ = 3.2e-05: the gradient vanishes going back in time", from norms (T,)."""
    ratio, word = gradient_ratio(norms)
    if word == "not finite":
        return "the gradient is not finite"
    if word == "none reaches h_T":
        return "no gradient reaches h_T"
    return f"‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ = {ratio:.2g}: the gradient {word} going back in time"


# ----- forecast --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeriesData:
    """Consecutive windows drawn as one series: ``values`` (P,) the series at positions 0 … P − 1
    (window i covers positions i … i + T − 1 and forecasts position i + T − 1 + h; a target not
    among the inputs is known only where windows forecast it, NaN before), and for each
    window predicted (k of them, see :class:`ForecastData`) its forecast position ``positions``
    (k,), its prediction ``predicted`` (k,) and whether it is a validation sample, ``validation``
    (k,) bool; ``val_stretch`` (first, last) forecast positions of the validation windows when they
    are one stretch of the series (of all windows, predicted or not), else None."""

    values: np.ndarray
    positions: np.ndarray
    predicted: np.ndarray
    validation: np.ndarray
    val_stretch: tuple[float, float] | None


@dataclass(frozen=True)
class ForecastData:
    """The forecast of sample ``sample``: its ``window`` (T,) (the series feature over its steps
    1 … T, raw units; when the target is not among the inputs, the first input, named
    ``input_name``, which is "" otherwise), the ``horizon`` h, the ``actual`` value at step T + h and the network's
    ``predicted`` one (of the first target, ``target_name``); ``val_mse`` the mean squared
    error of the first target over the validation windows predicted (NaN without one);
    ``predicted_windows`` of the ``windows`` m were predicted (all, or :data:`FORECAST_WINDOWS`
    evenly spread and the chosen one); ``series`` when the windows are consecutive. ``reason``:
    nothing to show (then ``window`` is None)."""

    sample: int
    window: np.ndarray | None
    horizon: int
    actual: float
    predicted: float
    val_mse: float
    predicted_windows: int
    windows: int
    target_name: str
    series: SeriesData | None
    epoch: int
    reason: str = ""
    input_name: str = ""


def forecast_setup(dataset) -> dict | None:
    """The dataset's ``meta["forecast"]`` when it describes its sequences, else None. Its "feature"
    is the input that is the target series, or None when the target is not among the inputs (a
    CSV series forecasting one column from others)."""
    setup = dataset.meta.get("forecast")
    if not isinstance(setup, dict) or not dataset.is_sequence or dataset.task != "regression":
        return None
    steps, features = dataset.sample_shape
    feature = setup.get("feature")
    if setup.get("window") != steps or not (feature is None or 0 <= int(feature) < features) or int(setup.get("horizon", 0)) < 1:
        return None
    return setup


def spread_windows(m: int, index: int, most: int = FORECAST_WINDOWS) -> np.ndarray:
    """The windows to predict of m, (k,) sorted int64 ids: all (k = m) when m ≤ ``most``, else ``most``
    evenly spread from the first to the last, and window ``index`` among them (k = most or most + 1)."""
    if m <= most:
        return np.arange(m)
    return np.union1d(np.linspace(0, m - 1, most).round().astype(np.int64), [index])


def one_stretch(positions: np.ndarray) -> tuple[float, float] | None:
    """(first, last) of ``positions`` (k,) when they are consecutive whole numbers, else None."""
    if len(positions) == 0:
        return None
    ordered = np.sort(positions)
    return (float(ordered[0]), float(ordered[-1])) if ordered[-1] - ordered[0] == len(ordered) - 1 else None


class ForecastProbe:
    """The forecast of sample ``index`` (clamped to the data; set it like the activations' probe)."""

    def __init__(self) -> None:
        self.index = 0

    def __call__(self, trainer) -> ForecastData:
        data = trainer.dataset
        m = data.n_samples
        index = min(max(int(self.index), 0), m - 1)
        setup = forecast_setup(data)
        if setup is None:
            return ForecastData(index, None, 0, math.nan, math.nan, math.nan, 0, m, "", None, trainer.epoch, NO_FORECAST)
        steps, features = data.sample_shape
        feature = setup["feature"]
        own = feature is not None  # the windows are of the target series itself
        series = data.X.reshape(-1, steps, features)[:, :, int(feature) if own else 0]  # (m, T)
        horizon = int(setup["horizon"])
        actual = np.asarray(data.y, dtype=np.float64)[:, 0]
        shown = spread_windows(m, index)  # (k,)
        predicted = trainer.network.predict(data.X[shown])[:, 0].astype(np.float64)
        _, val_idx = split_of(trainer)
        validation = np.zeros(m, dtype=bool)
        validation[val_idx] = True
        in_val = validation[shown]
        val_mse = float(np.mean((predicted[in_val] - actual[shown][in_val]) ** 2)) if in_val.any() else math.nan
        whole = None
        if setup.get("consecutive"):
            reach = steps - 1 + horizon  # from a window's first position to the one it forecasts
            values = consecutive_series(series, actual, horizon) if own else np.concatenate([np.full(reach, np.nan), actual])
            whole = SeriesData(values, shown + reach, predicted, in_val,
                               one_stretch(np.asarray(val_idx) + reach))
        target = data.target_names[0] if data.target_names else "y"
        chosen = int(np.searchsorted(shown, index))
        return ForecastData(index, series[index].copy(), horizon, float(actual[index]), float(predicted[chosen]), val_mse,
                            len(shown), m, target, whole, trainer.epoch,
                            input_name="" if own else first_input_name(data.feature_names))


def first_input_name(feature_names: tuple[str, ...]) -> str:
    """The name of a sequence's first input feature from its step names ("t1_wind" → "wind"), or "input 1"."""
    first = feature_names[0] if feature_names else ""
    return first[3:] if first.startswith("t1_") and len(first) > 3 else "input 1"


def consecutive_series(windows: np.ndarray, targets: np.ndarray, horizon: int) -> np.ndarray:
    """The series (m + T − 1 + h,) that consecutive windows (m, T) and their targets (m,) h steps
    on were cut from: the windows give positions 0 … m + T − 2, the last h targets the rest."""
    m, steps = windows.shape
    return np.concatenate([windows[0], windows[1:, -1], targets[m - horizon:]]).astype(np.float64)


# ----- sampled text ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SampledTextData:
    """Text generated from sample ``sample``'s window: ``seed`` (its T characters) then ``text``
    (the characters generated, one at a time, each from the softmax over the last T characters
    at ``temperature``); ``limited``: fewer than :data:`TEXT_CHARACTERS` for the work budget.
    ``reason``: nothing to show."""

    sample: int
    seed: str
    text: str
    temperature: float
    limited: bool
    epoch: int
    reason: str = ""


def character_model(network, dataset) -> str | None:
    """The vocabulary (a str of V characters, in id order) when ``network`` is a character model of
    ``dataset``: token data with a vocabulary, an Embedding first, a softmax over the V characters last."""
    vocabulary = dataset.meta.get("vocabulary")
    if not isinstance(vocabulary, str) or len(vocabulary) < 2 or dataset.meta.get("tokens") != len(vocabulary):
        return None
    fits = (network.layers[0].kind == "embedding" and network.output_shape == (len(vocabulary),)
            and network.output_activation == "softmax")
    return vocabulary if fits else None


def next_character(probabilities: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """The id of a character drawn from ``probabilities`` (V,) sharpened or flattened by
    ``temperature``: p_k^(1/τ), normalised; the likeliest at τ ≤ :data:`GREEDY_TEMPERATURE`."""
    p = np.asarray(probabilities, dtype=np.float64)
    if temperature <= GREEDY_TEMPERATURE:
        return int(np.argmax(p))
    logits = np.log(np.maximum(p, 1e-300)) / temperature
    weights = np.exp(logits - logits.max())
    cumulative = np.cumsum(weights)
    return int(min(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"), len(p) - 1))


def pass_work(network) -> float:
    """The cost of a prediction pass of one sample through ``network``'s recurrent layers, in step
    costs: each step of each layer costs 1 (its calls) plus its multiply-adds G·units·(F + units)
    over :data:`STEP_MACS`; the other layers' cost is left out (at least 1)."""
    work = sum(layer.steps * (1.0 + layer.width * (layer.features + layer.units) / STEP_MACS)
               for layer in network.layers if isinstance(layer, Recurrent))
    return max(work, 1.0)


def text_length(network) -> int:
    """How many characters to generate: :data:`TEXT_CHARACTERS`, fewer when that many passes of
    :func:`pass_work` each would take more than :data:`TEXT_WORK_BUDGET`."""
    return max(1, min(TEXT_CHARACTERS, int(TEXT_WORK_BUDGET // pass_work(network))))


class SampledTextProbe:
    """Text generated from the window of sample ``index`` at ``temperature`` (set both from the
    window). The draws are seeded by the moment of the run and the sample, so a probe run again
    at the same epoch gives the same text."""

    def __init__(self) -> None:
        self.index = 0
        self.temperature = 0.8

    def __call__(self, trainer) -> SampledTextData:
        network, data = trainer.network, trainer.dataset
        index = min(max(int(self.index), 0), data.n_samples - 1)
        temperature = float(self.temperature)
        vocabulary = character_model(network, data)
        if vocabulary is None:
            return SampledTextData(index, "", "", temperature, False, trainer.epoch, NO_CHARACTERS)
        window = np.rint(data.X[index]).astype(np.int64)  # (T,) token ids
        count = text_length(network)
        rng = np.random.default_rng([trainer.epoch, trainer.cursor, index])
        generated = []
        for _ in range(count):
            probabilities = network.predict(window[None, :].astype(np.float64))[0]
            token = next_character(probabilities, temperature, rng)
            generated.append(token)
            window = np.concatenate([window[1:], [token]])
        seed = "".join(vocabulary[t] for t in np.rint(data.X[index]).astype(np.int64))
        return SampledTextData(index, seed, "".join(vocabulary[t] for t in generated), temperature,
                               count < TEXT_CHARACTERS, trainer.epoch)
