"""The recurrent views: their probes return exactly the layer's own trace, step norms, predictions
and sampled characters; the views draw those numbers, say why when a network or the data does
not fit, and follow the chosen sample and layer."""

from __future__ import annotations

import pickle
from types import SimpleNamespace

import numpy as np
import pytest
from gui_helpers import WAIT_MS, shown, step_epochs

from core.backend import get_backend
from core.data import make_dataset
from core.network import Network
from core.sequence_insight import (
    FORECAST_WINDOWS,
    NO_CHARACTERS,
    NO_FORECAST,
    NO_RECURRENT,
    TEXT_CHARACTERS,
    ForecastProbe,
    HiddenStateProbe,
    SampledTextProbe,
    StepGradientProbe,
    consecutive_series,
    gradient_ratio,
    next_character,
    one_stretch,
    spread_windows,
    step_gradient_data,
    text_length,
    vanishing_short,
    vanishing_text,
)
from core.sequences import adding_problem, step_names
from core.trainer import Trainer, TrainingConfig

F32 = get_backend("numpy", "float32")
DENSE_OUT = {"type": "dense", "units": 1, "activation": "linear"}
TEXT = "the cat sat on the mat and the rat ate the hat. " * 6
CHAR_STEPS = 8


def trainer_of(data, layers, epochs: int = 1, **settings) -> Trainer:
    network = Network({"input_shape": list(data.sample_shape), "layers": layers}, F32, seed=3)
    config = TrainingConfig(**{"seed": 3, "batch_size": 32, "learning_rate": 0.01, **settings})
    trainer = Trainer(network, data, config)
    step_gradient_data(trainer)  # the probe turns the recording on before training, as in the window
    for _ in range(epochs):
        trainer.run_epoch()
    return trainer


@pytest.fixture(scope="module")
def adding():
    return adding_problem(samples=96, steps=10, seed=1)


@pytest.fixture(scope="module")
def lstm_rnn(adding):
    """An LSTM (sequences) under a SimpleRNN on the adding problem, one epoch trained."""
    return trainer_of(adding, [{"type": "lstm", "units": 6, "return_sequences": True}, {"type": "rnn", "units": 4}, DENSE_OUT])


def sine_windows(samples: int = 60, steps: int = 12, horizon: int = 1, consecutive: bool = True):
    """Windows (steps, 1) of one sine series, each one step after the last (or from shuffled
    starts), the target the value ``horizon`` steps after the window; with meta["forecast"]."""
    series = np.sin(0.3 * np.arange(samples + steps - 1 + horizon))
    starts = np.arange(samples) if consecutive else np.random.default_rng(0).permutation(samples)
    X = np.stack([series[s: s + steps] for s in starts])
    y = np.array([series[s + steps - 1 + horizon] for s in starts])[:, None]
    meta = {"forecast": {"window": steps, "horizon": horizon, "feature": 0, "consecutive": consecutive}}
    return make_dataset(X, y, name="sine", sample_shape=(steps, 1), meta=meta), series


@pytest.fixture(scope="module")
def chars():
    """Next-character windows of a tiny text: token ids (m, T), the class the next character's id."""
    vocabulary = "".join(sorted(set(TEXT)))
    ids = np.array([vocabulary.index(c) for c in TEXT])
    X = np.stack([ids[i: i + CHAR_STEPS] for i in range(len(ids) - CHAR_STEPS)]).astype(np.float64)
    y = ids[CHAR_STEPS:]
    names = tuple(repr(c) for c in vocabulary)
    return make_dataset(X, y, name="chars", classes=names, sample_shape=(CHAR_STEPS,),
                        meta={"vocabulary": vocabulary, "tokens": len(vocabulary)})


def char_layers(vocabulary: int) -> list[dict]:
    return [{"type": "embedding", "vocabulary": vocabulary, "dimension": 6}, {"type": "gru", "units": 12},
            {"type": "dense", "units": vocabulary, "activation": "softmax"}]


@pytest.fixture(scope="module")
def char_model(chars):
    return trainer_of(chars, char_layers(len(chars.meta["vocabulary"])), epochs=2, standardize=False)


def layer_input(network, x, index):
    """What layer ``index`` reads for raw samples x, by the network's own prediction pass."""
    pre = network.preprocess.apply(x) if network.preprocess is not None else x
    outputs = network.forward_all(network.backend.asarray(pre))
    return network.backend.asarray(pre).reshape(len(x), *network.input_shape) if index == 0 else outputs[index - 1]


# ----- the probes ---------------------------------------------------------------------------------
def test_the_hidden_state_probe_returns_the_layers_own_trace_of_the_sample(lstm_rnn, adding):
    network = lstm_rnn.network
    probe = HiddenStateProbe()
    probe.index = 5
    data = probe(lstm_rnn)
    assert not data.reason and data.sample == 5 and data.target == f"{adding.y[5, 0]:.4g}"
    assert [(layer.index, layer.kind) for layer in data.layers] == [(0, "lstm"), (1, "rnn")]
    assert data.layer.index == 0 and data.layer.label == "layer 1: LSTM(6, sequences)"
    expected = network.layers[0].trace(layer_input(network, adding.X[5:6], 0))
    assert list(data.states) == ["h", "i", "f", "o"]
    for name in data.states:
        assert data.states[name].shape == (10, 6)
        np.testing.assert_array_equal(data.states[name], expected[name][0])
    probe.layer = 1  # the SimpleRNN, on the LSTM's sequences: h only
    second = probe(lstm_rnn)
    assert second.layer.index == 1 and list(second.states) == ["h"]
    np.testing.assert_array_equal(second.states["h"], network.layers[1].trace(layer_input(network, adding.X[5:6], 1))["h"][0])
    probe.layer, probe.index = 2, 10_000  # the dense layer (a choice from another network), beyond the data
    fallback = probe(lstm_rnn)
    assert fallback.layer.index == 0 and fallback.sample == adding.n_samples - 1


def test_a_grus_hidden_state_comes_with_its_reset_and_update_gates_also_after_an_embedding(char_model, chars):
    probe = HiddenStateProbe()
    probe.index = 3
    data = probe(char_model)
    assert list(data.states) == ["h", "r", "z"] and data.layer.index == 1 and data.target == chars.class_names[chars.y[3]]
    network = char_model.network
    expected = network.layers[1].trace(network.layers[0].forward(network.backend.asarray(chars.X[3:4]), False))
    for name in data.states:
        np.testing.assert_array_equal(data.states[name], expected[name][0])


def test_the_step_gradient_probe_returns_the_last_mini_batchs_norms(lstm_rnn):
    data = step_gradient_data(lstm_rnn)
    assert not data.reason and [layer.index for layer in data.layers] == [0, 1]
    for layer, norms in zip(data.layers, data.norms, strict=True):
        live = lstm_rnn.network.layers[layer.index]
        assert live.record_step_norms and norms.shape == (10,) and norms.dtype == np.float64
        np.testing.assert_array_equal(norms, live.step_norms)
        assert norms is not live.step_norms


def test_the_gradient_probe_stops_the_recording_when_told(adding):
    trainer = trainer_of(adding, [{"type": "lstm", "units": 3, "return_sequences": True}, {"type": "gru", "units": 3}, DENSE_OUT])
    layers = trainer.network.layers[:2]
    probe = pickle.loads(pickle.dumps(StepGradientProbe()))  # as the trainer's process gets it
    assert all(n is not None for n in probe(trainer).norms) and probe.recording
    probe.recording = False  # the view is hidden
    assert not probe.recording and not any(layer.record_step_norms for layer in layers)
    assert all(layer.step_norms is None for layer in layers)  # shown again, old norms would pass for new ones
    trainer.run_epoch()
    assert probe(trainer).norms == (None, None) and all(layer.record_step_norms for layer in layers)
    trainer.run_epoch()
    assert all(n is not None for n in probe(trainer).norms)


def test_before_any_recorded_backward_the_norms_are_none(adding):
    trainer = trainer_of(adding, [{"type": "lstm", "units": 3}, DENSE_OUT], epochs=0)
    assert step_gradient_data(trainer).norms == (None,)


def test_the_ratio_readout_names_what_the_gradient_does():
    assert vanishing_text(np.array([3.2e-5, 0.1, 1.0])) == "‖∂L/∂h₁‖ / ‖∂L/∂h_T‖ = 3.2e-05: the gradient vanishes going back in time"
    assert vanishing_text(np.array([0.9, 1.0])).endswith("keeps its size going back in time")
    assert vanishing_text(np.array([0.2, 1.0])).endswith("shrinks going back in time")
    assert vanishing_text(np.array([30.0, 1.0])).endswith("grows going back in time")
    assert vanishing_text(np.array([1e4, 1.0])).endswith("explodes going back in time")
    assert vanishing_text(np.array([1.0, 0.0])) == "no gradient reaches h_T"
    assert vanishing_short(np.array([3.2e-5, 0.1, 1.0])) == "3.2e-05 vanishes" and vanishing_short(np.array([1.0, 0.0])) == "none reaches h_T"
    assert gradient_ratio(np.array([0.9, 1.0])) == (pytest.approx(0.9), "keeps its size")
    assert gradient_ratio(np.array([np.nan, 1.0]))[1] == "not finite" and vanishing_short(np.array([np.inf, 1.0])) == "not finite"


def test_the_forecast_probe_marks_the_networks_own_prediction_and_rebuilds_the_series():
    data, series = sine_windows(horizon=2)
    trainer = trainer_of(data, [{"type": "lstm", "units": 4}, DENSE_OUT], loss="mse")
    probe = ForecastProbe()
    probe.index = 7
    result = probe(trainer)
    predicted = trainer.network.predict(data.X)[:, 0]
    assert not result.reason and result.sample == 7 and result.horizon == 2
    np.testing.assert_array_equal(result.window, data.X[7])
    assert result.actual == data.y[7, 0] == series[7 + 12 - 1 + 2] and result.predicted == predicted[7]
    from core.insight import split_of

    _, val = split_of(trainer)
    assert result.val_mse == pytest.approx(float(np.mean((predicted[val] - data.y[val, 0]) ** 2)))
    np.testing.assert_allclose(result.series.values, series)
    np.testing.assert_array_equal(result.series.positions, np.arange(60) + 13)
    np.testing.assert_array_equal(result.series.predicted, predicted)
    assert result.series.validation.sum() == len(val) and result.series.validation[val].all()
    np.testing.assert_array_equal(result.series.values[result.series.positions], data.y[:, 0])
    assert result.predicted_windows == result.windows == 60 and result.series.val_stretch == one_stretch(np.asarray(val) + 13)
    shuffled, _ = sine_windows(consecutive=False)
    assert ForecastProbe()(trainer_of(shuffled, [{"type": "rnn", "units": 3}, DENSE_OUT], epochs=0)).series is None


def wind_windows(samples: int = 40, steps: int = 6, consecutive: bool = True):
    """Windows (steps, 1) of a "wind" series forecasting the next "temp", a column not among the
    inputs (meta["forecast"]["feature"] None, as the CSV loader gives it)."""
    rows = np.arange(samples + steps)
    wind, temp = np.cos(0.2 * rows), np.sin(0.2 * rows)
    X = np.stack([wind[s: s + steps] for s in range(samples)])
    y = temp[steps: steps + samples, None]
    meta = {"forecast": {"window": steps, "horizon": 1, "feature": None, "consecutive": consecutive}}
    return make_dataset(X, y, name="csv", sample_shape=(steps, 1), feature_names=step_names(steps, ("wind",)),
                        target_names=["temp"], meta=meta)


def test_a_target_not_among_the_inputs_forecasts_from_the_first_input_and_draws_the_targets():
    data = wind_windows()
    trainer = trainer_of(data, [{"type": "lstm", "units": 3}, DENSE_OUT], loss="mse")
    probe = ForecastProbe()
    probe.index = 4
    result = probe(trainer)
    assert not result.reason and result.input_name == "wind" and result.target_name == "temp"
    np.testing.assert_array_equal(result.window, data.X[4])
    assert result.actual == data.y[4, 0]
    values = result.series.values  # the targets, known only where windows forecast them
    assert len(values) == 40 + 6 and np.isnan(values[:6]).all()
    np.testing.assert_array_equal(values[result.series.positions], data.y[:, 0])
    gaps = wind_windows(consecutive=False)
    assert ForecastProbe()(trainer_of(gaps, [{"type": "rnn", "units": 3}, DENSE_OUT], epochs=0)).series is None
    assert ForecastProbe()(trainer_of(data, [{"type": "rnn", "units": 3}, DENSE_OUT], epochs=0)).input_name == "wind"
    own, _ = sine_windows()
    assert ForecastProbe()(trainer_of(own, [{"type": "rnn", "units": 3}, DENSE_OUT], epochs=0)).input_name == ""


def test_a_long_series_predicts_an_even_spread_of_windows_and_the_chosen_one():
    m = FORECAST_WINDOWS + 5_000
    data, series = sine_windows(samples=m, steps=4)
    trainer = trainer_of(data, [{"type": "rnn", "units": 2}, DENSE_OUT], epochs=0, loss="mse")
    probe = ForecastProbe()
    probe.index = 7  # not among the evenly spread windows
    result = probe(trainer)
    shown = result.series.positions - 4  # the windows predicted
    assert result.windows == m and result.predicted_windows == len(shown) == FORECAST_WINDOWS + 1 and 7 in shown
    gaps = np.diff(np.setdiff1d(shown, [7]))
    assert shown[0] == 0 and shown[-1] == m - 1 and gaps.min() >= 1 and gaps.max() <= 2  # m / 20,000 = 1.25 apart
    predicted = trainer.network.predict(data.X[shown])[:, 0]
    np.testing.assert_array_equal(result.series.predicted, predicted)
    assert result.predicted == predicted[np.searchsorted(shown, 7)]
    from core.insight import split_of

    _, val = split_of(trainer)
    in_val = np.isin(shown, val)
    np.testing.assert_array_equal(result.series.validation, in_val)
    assert result.val_mse == pytest.approx(float(np.mean((predicted[in_val] - data.y[shown[in_val], 0]) ** 2)))
    assert len(result.series.values) == len(series)  # the whole series is still drawn
    np.testing.assert_array_equal(spread_windows(10, 3, most=4), [0, 3, 6, 9])
    np.testing.assert_array_equal(spread_windows(10, 4, most=4), [0, 3, 4, 6, 9])
    assert one_stretch(np.array([5, 3, 4])) == (3.0, 5.0) and one_stretch(np.array([1, 3])) is None


def test_consecutive_windows_give_back_their_series():
    series = np.arange(20.0)
    windows = np.stack([series[i: i + 5] for i in range(14)])  # 14 windows of 5, horizon 2: positions 0 … 19
    np.testing.assert_array_equal(consecutive_series(windows, series[np.arange(14) + 6], 2), series)


def test_sampled_text_uses_only_the_vocabulary_and_is_the_same_for_the_same_moment(char_model, chars):
    vocabulary = chars.meta["vocabulary"]
    probe = SampledTextProbe()
    probe.index = 4
    first = probe(char_model)
    assert not first.reason and first.seed == TEXT[4: 4 + CHAR_STEPS]
    assert len(first.text) == TEXT_CHARACTERS and not first.limited and set(first.text) <= set(vocabulary)
    assert probe(char_model).text == first.text  # seeded by the moment of the run and the sample
    probe.temperature = 2.0
    assert probe(char_model).text != first.text
    probe.temperature = 0.1  # greedy: each character the likeliest after the last window
    greedy = probe(char_model).text
    window = chars.X[4].copy()
    for character in greedy[:5]:
        probabilities = char_model.network.predict(window[None])[0]
        assert vocabulary[int(np.argmax(probabilities))] == character
        window = np.concatenate([window[1:], [vocabulary.index(character)]])


def test_a_temperature_sharpens_or_flattens_the_draws():
    p = np.array([0.6, 0.3, 0.1])
    counts = {}
    for temperature in (0.5, 1.0, 2.0):
        rng = np.random.default_rng(0)
        draws = np.array([next_character(p, temperature, rng) for _ in range(4000)])
        counts[temperature] = np.bincount(draws, minlength=3) / len(draws)
    np.testing.assert_allclose(counts[1.0], p, atol=0.03)
    sharp = p ** 2 / (p ** 2).sum()
    np.testing.assert_allclose(counts[0.5], sharp, atol=0.03)
    assert counts[2.0][2] > counts[1.0][2] > counts[0.5][2]
    assert next_character(p, 0.1, np.random.default_rng(0)) == 0


def test_long_windows_and_wide_layers_generate_fewer_characters():
    def length(steps: int, units: int) -> int:
        layers = [{"type": "embedding", "vocabulary": 5, "dimension": 4}, {"type": "lstm", "units": units},
                  {"type": "dense", "units": 5, "activation": "softmax"}]
        return text_length(Network({"input_shape": [steps], "layers": layers}, F32, seed=0))

    assert length(32, 16) == TEXT_CHARACTERS
    assert length(32, 256) < length(32, 64) <= TEXT_CHARACTERS and length(400, 16) < TEXT_CHARACTERS
    assert length(100_000, 16) == 1


def test_networks_and_data_that_do_not_fit_get_their_one_line(adding, chars):
    dense = Network({"input_shape": [20], "layers": [{"type": "dense", "units": 4, "activation": "tanh"}, DENSE_OUT]}, F32, seed=0)
    flat = make_dataset(adding.X, adding.y, name="flat")
    trainer = SimpleNamespace(network=dense, dataset=flat, epoch=0, cursor=0, config=TrainingConfig())
    for probe, reason in ((HiddenStateProbe(), NO_RECURRENT), (step_gradient_data, NO_RECURRENT), (ForecastProbe(), NO_FORECAST),
                          (SampledTextProbe(), NO_CHARACTERS)):
        result = pickle.loads(pickle.dumps(pickle.loads(pickle.dumps(probe))(trainer)))  # to the trainer's process and back
        assert result.reason == reason
    lstm = trainer_of(adding, [{"type": "lstm", "units": 3}, DENSE_OUT], epochs=0)
    assert ForecastProbe()(lstm).reason == NO_FORECAST  # sequences, but no forecast
    no_vocabulary = make_dataset(chars.X, chars.y, name="ids", classes=chars.class_names, sample_shape=(CHAR_STEPS,))
    V = len(chars.meta["vocabulary"])
    assert SampledTextProbe()(trainer_of(no_vocabulary, char_layers(V), epochs=0, standardize=False)).reason == NO_CHARACTERS


# ----- the views ----------------------------------------------------------------------------------
def deliver(view, data, epoch: int = 1) -> None:
    from app.worker import ProbeResult

    view.receive(ProbeResult(view.name, epoch, 0, data))
    view.refresh()


def test_the_hidden_state_view_draws_h_and_the_gates_units_by_steps(qtbot, lstm_rnn):
    from PySide6.QtCore import QPointF

    from app.views.hidden_state import HiddenStateView

    view = shown(qtbot, HiddenStateView())
    view.resize(700, 500)
    view.set_sample_count(96)
    assert view.showing_note()
    probe = HiddenStateProbe()
    probe.index = 2
    data = probe(lstm_rnn)
    deliver(view, data)
    assert not view.showing_note() and view.epoch_label.text() == "epoch 1"
    assert view.layer_combo.isVisibleTo(view) and view.layer_combo.count() == 2
    np.testing.assert_array_equal(view.shown_values("h"), data.states["h"].T)  # units × steps
    np.testing.assert_array_equal(view.state.image.image, data.states["h"].T.astype(np.float32))
    assert view.state.image.levels.tolist() == [-1.0, 1.0]
    assert [heatmap.title for heatmap in view.gates] == ["input gate i", "forget gate f", "output gate o"]
    for heatmap, name in zip(view.gates, "ifo", strict=True):
        np.testing.assert_array_equal(heatmap.values, data.states[name].T)
        assert heatmap.image.levels.tolist() == [0.0, 1.0]
    assert view.readout.text() == f"target {data.target} · 6 units × 10 steps" and view.sample_spin.value() == 2
    # hovering a cell names its step, unit and value
    plot = view.gates[1].plot
    qtbot.waitUntil(lambda: plot.vb.width() > 0)
    scene = plot.vb.mapViewToScene(QPointF(4, 3))
    view._on_mouse_moved(scene)
    assert view.readout.text() == f"forget gate f: step t = 4, unit 3: {data.states['f'][3, 2]:.4g}"
    # the SimpleRNN: no gates
    with qtbot.waitSignal(view.layerChosen) as chosen:
        view.layer_combo.setCurrentIndex(1)
        view.layer_combo.activated.emit(1)
    assert chosen.args == [1]
    probe.layer = 1
    deliver(view, probe(lstm_rnn))
    assert view.gates == [] and view.shown_values("h").shape == (4, 10)
    with qtbot.waitSignal(view.sampleChanged) as changed:
        view.sample_spin.setValue(9)
    assert changed.args == [9]


def test_in_a_narrow_dock_the_hidden_states_title_is_cut_short_and_its_colour_bar_stays_in_view(qtbot, adding):
    from app.views.hidden_state import HiddenStateView

    view = shown(qtbot, HiddenStateView())
    view.resize(900, 400)
    trainer = trainer_of(adding, [{"type": "rnn", "units": 4}, DENSE_OUT], epochs=0)
    deliver(view, HiddenStateProbe()(trainer))
    title = view.state.plot.titleLabel
    qtbot.waitUntil(lambda: title.text == view.state.title == "hidden state h of layer 1: SimpleRNN(4, tanh)")  # room for it
    for height in (400, 200):  # narrower than the title and its colour bar; then it scrolls, narrower still by the scroll bar
        view.resize(360, height)
        qtbot.waitUntil(lambda scrolls=height < 260: (view.scroll.verticalScrollBar().maximum() > 0) == scrolls and title.text.endswith("…"))
        qtbot.wait(50)
        assert view.state_bar.geometry().right() <= view.canvas.viewport().width()  # the bar with its labels in the view
    view.resize(900, 400)
    qtbot.waitUntil(lambda: title.text == view.state.title)


def test_in_a_narrow_dock_the_gates_titles_shorten_to_their_letters(qtbot, adding):
    from app.views.hidden_state import HiddenStateView

    view = shown(qtbot, HiddenStateView())
    view.resize(900, 500)
    trainer = trainer_of(adding, [{"type": "lstm", "units": 4}, DENSE_OUT], epochs=0)
    deliver(view, HiddenStateProbe()(trainer))
    titles = lambda: [heatmap.plot.titleLabel.text for heatmap in view.gates]  # noqa: E731
    qtbot.waitUntil(lambda: titles() == ["input gate i", "forget gate f", "output gate o"])
    view.resize(330, 500)  # three full titles side by side need more than this
    qtbot.waitUntil(lambda: titles() == ["gate i", "gate f", "gate o"])  # all short, not one of them
    view.resize(900, 500)
    qtbot.waitUntil(lambda: titles() == ["input gate i", "forget gate f", "output gate o"])


def test_the_step_gradient_view_draws_the_norms_and_keeps_the_first_faintly(qtbot, adding):
    from app.views.step_gradients import StepGradientsView

    view = shown(qtbot, StepGradientsView())
    trainer = trainer_of(adding, [{"type": "lstm", "units": 5, "return_sequences": True}, {"type": "rnn", "units": 4}, DENSE_OUT])
    first = step_gradient_data(trainer)
    deliver(view, first)
    trainer.run_epoch()
    second = step_gradient_data(trainer)
    deliver(view, second, epoch=2)
    assert len(view.curves) == 2 and view.plot.ctrl.logYCheck.isChecked()
    for curve, faint, before, now in zip(view.curves, view.first_curves, first.norms, second.norms, strict=True):
        np.testing.assert_array_equal(curve.xData, np.arange(1, 11))
        np.testing.assert_array_equal(curve.yData, now)
        np.testing.assert_array_equal(faint.yData, before)
        assert not np.array_equal(now, before)
    assert view.readout.text() == f"‖∂L/∂h₁‖/‖∂L/∂h_T‖: {vanishing_short(second.norms[0])} · {vanishing_short(second.norms[1])}"
    assert view.readout.toolTip().splitlines()[1:3] == [f"layer 1: LSTM(5, sequences): {vanishing_text(second.norms[0])}",
                                                       f"layer 2: SimpleRNN(4, tanh): {vanishing_text(second.norms[1])}"]
    assert legend_texts(view) == ["layer 1: LSTM", "layer 2: SimpleRNN", "dashed: epoch 1 (first measured)"]
    view.new_run()  # Reset: the faint curves of the old run go
    assert view.first is None and view.first_curves == [] and legend_texts(view) == []
    fresh = trainer_of(adding, [{"type": "rnn", "units": 4}, DENSE_OUT], epochs=3)
    deliver(view, step_gradient_data(fresh), epoch=3)
    norms = fresh.network.layers[0].step_norms
    assert len(view.curves) == 1 and view.readout.text() == f"‖∂L/∂h₁‖ / ‖∂L/∂h_T‖: {vanishing_short(norms)}"
    assert legend_texts(view) == ["layer 1: SimpleRNN(4, tanh)", "epoch 3 (first measured)"]
    np.testing.assert_array_equal(view.first_curves[0].yData, norms)


def legend_texts(view) -> list[str]:
    return [label.text for _, label in view.legend.items]


def test_the_gradient_readout_of_two_layers_fits_a_1280_wide_windows_dock(qtbot, adding):
    from app.views.step_gradients import StepGradientsView

    view = shown(qtbot, StepGradientsView())
    view.resize(510, 220)  # the dock of the weights' group at 1280 × 720
    trainer = trainer_of(adding, [{"type": "lstm", "units": 5, "return_sequences": True}, {"type": "lstm", "units": 4}, DENSE_OUT])
    deliver(view, step_gradient_data(trainer))
    qtbot.waitUntil(lambda: view.readout.width() > 0)
    text = view.readout.text()
    assert text.count(" · ") == 1 and view.readout.fontMetrics().horizontalAdvance(text) <= view.readout.width()
    view.resize(330, 220)  # narrower: the words alone, whole
    words = " · ".join(vanishing_short(norms) for norms in step_gradient_data(trainer).norms)
    qtbot.waitUntil(lambda: view.readout.text() in (words, ""))
    assert fits(view.readout)


def test_the_gradient_legend_of_two_layers_is_one_row_where_it_fits(qtbot, adding):
    from app.views.step_gradients import StepGradientsView

    view = shown(qtbot, StepGradientsView())
    view.resize(700, 300)
    trainer = trainer_of(adding, [{"type": "lstm", "units": 5, "return_sequences": True}, {"type": "gru", "units": 4}, DENSE_OUT])
    deliver(view, step_gradient_data(trainer), epoch=4)
    names = [label.text for _, label in view.legend.items]
    assert names == ["layer 1: LSTM", "layer 2: GRU", "dashed: epoch 1 (first measured)"]
    assert view.legend.columnCount == len(names) and view.legend.layout.rowCount() == 1
    view.resize(280, 300)  # a dock narrower than the row: one entry under another, the plot kept inside the dock
    qtbot.waitUntil(lambda: view.legend.columnCount == 1)
    assert view.legend.layout.rowCount() == len(names)
    view.new_run()
    one = trainer_of(adding, [{"type": "rnn", "units": 3}, DENSE_OUT])
    deliver(view, step_gradient_data(one))
    assert [label.text for _, label in view.legend.items] == ["layer 1: SimpleRNN(3, tanh)", "epoch 1 (first measured)"]


def test_the_forecast_view_marks_the_true_and_predicted_values(qtbot):
    from app.views.forecast import ForecastView

    data, _ = sine_windows()
    trainer = trainer_of(data, [{"type": "gru", "units": 4}, DENSE_OUT], loss="mse", val_fraction=0.25)
    view = shown(qtbot, ForecastView())
    probe = ForecastProbe()
    probe.index = 3
    result = probe(trainer)
    deliver(view, result)
    np.testing.assert_array_equal(view.window_curve.yData, data.X[3])
    assert view.actual_mark.data["x"].tolist() == [13] and view.actual_mark.data["y"].tolist() == [result.actual]
    assert view.predicted_mark.data["y"].tolist() == [pytest.approx(trainer.network.predict(data.X[3:4])[0, 0])]
    assert view.showing_series() and view.window_region.getRegion() == (2.5, 14.5)
    assert view.series_plot.getAxis("bottom").labelText == "position in the series"
    assert len(view.train_points.data) + len(view.val_points.data) == 60
    np.testing.assert_array_equal(view.val_points.data["y"], result.series.predicted[result.series.validation])
    assert view.readout.full_text.startswith(f"val MSE {result.val_mse:.3g} · y = ")  # every window predicted: no count
    from dataclasses import replace

    deliver(view, replace(result, predicted_windows=20_001, windows=25_000))
    assert view.readout.full_text.startswith(f"val MSE {result.val_mse:.3g} · y = ")
    assert view.readout.full_text.endswith(" · of 20,001 windows in 25,000")  # the first part a narrow dock leaves out
    assert view.series_plot.getAxis("bottom").labelText == "position (80 % of the windows predicted)"
    shuffled, _ = sine_windows(consecutive=False)
    deliver(view, ForecastProbe()(trainer_of(shuffled, [{"type": "gru", "units": 4}, DENSE_OUT], epochs=0)))
    assert not view.showing_series()


def test_the_forecast_view_of_a_target_not_among_the_inputs_names_the_input_and_draws_the_targets(qtbot):
    from app.views.forecast import ForecastView

    data = wind_windows()
    view = shown(qtbot, ForecastView())
    result = ForecastProbe()(trainer_of(data, [{"type": "gru", "units": 3}, DENSE_OUT], loss="mse"))
    deliver(view, result)
    np.testing.assert_array_equal(view.window_curve.yData, data.X[0])
    assert view.window_plot.getAxis("left").labelText == "wind"
    assert len(view.actual_mark.data) == len(view.predicted_mark.data) == 0  # not in the input's units
    assert [label.text for _, label in view.window_legend.items] == ["input wind"]
    assert [label.text for _, label in view.series_legend.items][0] == "target temp"
    assert view.showing_series() and "y = " in view.readout.full_text
    own, _ = sine_windows()
    deliver(view, ForecastProbe()(trainer_of(own, [{"type": "gru", "units": 3}, DENSE_OUT], epochs=0)))
    assert view.window_plot.getAxis("left").labelText == "value" and len(view.actual_mark.data) == 1
    assert [label.text for _, label in view.window_legend.items] == ["window", "true at T + h", "predicted"]


def fits(label) -> bool:
    return label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width()


@pytest.mark.parametrize("width", [260, 330, 420, 900])
def test_the_forecast_and_hidden_state_readouts_never_cut_a_number(qtbot, width, lstm_rnn):
    from app.views.forecast import ForecastView
    from app.views.hidden_state import HiddenStateView

    data, _ = sine_windows()
    forecast = ForecastProbe()(trainer_of(data, [{"type": "gru", "units": 3}, DENSE_OUT], loss="mse", val_fraction=0.25))
    for made, result in ((ForecastView(), forecast), (HiddenStateView(), HiddenStateProbe()(lstm_rnn))):
        view = shown(qtbot, made)
        view.resize(width, 400)
        deliver(view, result)
        qtbot.waitUntil(lambda view=view: fits(view.readout))  # once laid out at this width
        text = view.readout.text()
        assert view.readout.toolTip().startswith(view.readout.full_text)
        if text:  # a shorter variant keeps each number whole
            for number in ("0.", "target", "y ", "ŷ "):
                if number in view.readout.full_text and number in text:
                    assert not text.endswith(number.strip())
    assert HiddenStateView().readout.full_text == ""


def test_an_unbounded_hidden_state_is_coloured_to_its_largest_value(qtbot, adding, lstm_rnn):
    from app.views.hidden_state import HiddenStateView

    relu = trainer_of(adding, [{"type": "rnn", "units": 4, "activation": "relu"}, DENSE_OUT], epochs=0)
    data = HiddenStateProbe()(relu)
    largest = float(np.abs(data.states["h"]).max())
    assert not data.bounded and data.limit == largest
    bounded = HiddenStateProbe()(lstm_rnn)
    assert bounded.bounded and bounded.limit == 1.0
    view = shown(qtbot, HiddenStateView())
    deliver(view, data)
    assert view.state_bar.levels() == (-largest, largest) and view.state.image.levels.tolist() == [-largest, largest]
    assert "largest |h|" in view.readout.full_text and view.state_bar.getAxis("left").labelText == "h: ±largest |h|"
    assert view.state_bar.getAxis("right").labelText == ""
    deliver(view, bounded)
    assert view.state_bar.levels() == (-1.0, 1.0) and "largest" not in view.readout.full_text


def test_the_heatmaps_label_as_many_steps_and_units_as_fit(qtbot, lstm_rnn):
    from app.views.hidden_state import HiddenStateView, tick_every

    assert tick_every(10, 400, 16) == 1 and tick_every(10, 120, 16) == 2 and tick_every(100, 200, 20) == 10
    assert tick_every(8, 0, 16) == 1 and tick_every(3, 10, 100) == 3  # before a layout; never past the count
    view = shown(qtbot, HiddenStateView())
    view.resize(1200, 700)
    deliver(view, HiddenStateProbe()(lstm_rnn))  # 10 steps, 6 units
    labels = lambda heatmap, axis: [tick for tick, _ in heatmap.plot.getAxis(axis)._tickLevels[0]]  # noqa: E731
    qtbot.waitUntil(lambda: labels(view.state, "bottom") == list(range(1, 11)))
    view.resize(320, 400)  # three gates side by side: a few pixels a step
    qtbot.waitUntil(lambda: labels(view.gates[0], "bottom") == [1, 5, 10])
    assert labels(view.state, "bottom") == list(range(1, 11))  # h spans the three: room for every step


def test_the_wheel_over_the_heatmaps_scrolls_a_short_dock(qtbot, lstm_rnn):
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    from app.views.hidden_state import HiddenStateView

    view = shown(qtbot, HiddenStateView())
    view.resize(500, 160)  # shorter than the heatmaps' least height
    deliver(view, HiddenStateProbe()(lstm_rnn))
    bar = view.scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    viewport = view.canvas.viewport()
    state = view.state.plot.sceneBoundingRect().center()
    at = QPointF(view.canvas.mapFromScene(state))
    wheel = QWheelEvent(at, QPointF(viewport.mapToGlobal(at.toPoint())), QPoint(), QPoint(0, -120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, wheel)
    assert bar.value() > 0


def test_the_sampled_text_view_shows_the_seed_apart_from_the_text(qtbot, char_model):
    from PySide6.QtGui import QTextCursor

    from app.views.sampled_text import SEED_COLOR, TEXT_COLOR, SampledTextView

    view = shown(qtbot, SampledTextView())
    assert view.temperature_spin.value() == 0.8 and view.temperature_spin.minimum() == pytest.approx(0.1)
    data = SampledTextProbe()(char_model)
    deliver(view, data)
    assert view.text.toPlainText() == data.seed + data.text and view.text.isReadOnly()
    cursor = QTextCursor(view.text.document())

    def colour(position: int) -> str:  # of the character at ``position``
        cursor.setPosition(position + 1)
        return cursor.charFormat().foreground().color().name()

    assert {colour(p) for p in range(len(data.seed))} == {SEED_COLOR} and colour(len(data.seed)) == TEXT_COLOR
    assert view.readout.text() == f"grey: the seed ({CHAR_STEPS} characters) · {TEXT_CHARACTERS} written"
    with qtbot.waitSignal(view.temperatureChanged) as changed:
        view.temperature_spin.setValue(1.5)
    assert changed.args == [1.5]
    deliver(view, SampledTextProbe()(SimpleNamespace(network=char_model.network, dataset=make_dataset(
        np.zeros((4, 2)), np.array([0, 1, 0, 1]), name="flat"), epoch=0, cursor=0)))
    assert view.showing_note() and view.note.text() == NO_CHARACTERS


# ----- in the window ------------------------------------------------------------------------------
def open_sequences(window, monkeypatch, dataset, layers, **settings):
    """The window on ``dataset`` (given as the experiment's data) with ``layers``."""
    from core.experiment import Experiment

    monkeypatch.setattr("app.main_window.load_dataset", lambda choice, base_dir: dataset)
    config = TrainingConfig(**{"seed": 3, "batch_size": 32, "learning_rate": 0.01, "epochs": 1_000_000, **settings})
    window.apply_experiment(Experiment({"name": dataset.name}, {"input_shape": list(dataset.sample_shape), "layers": layers}, config))


def trained_copy(window) -> Network:
    """The window's network (spec, seed, standardization) with the parameters its trainer has now."""
    network = Network(window.network.spec(), F32, seed=window.network.seed)
    network.params[...] = window.trainer_state().params
    network.preprocess = window.network.preprocess
    return network


def test_in_the_window_the_hidden_state_and_the_gradients_follow_the_run_and_the_sample(qtbot, window, monkeypatch, adding):
    open_sequences(window, monkeypatch, adding, [{"type": "lstm", "units": 6}, DENSE_OUT], loss="mse")
    registry = window.registry
    registry.show_view("hiddenState")
    step_epochs(qtbot, window, 2)
    view = registry.hidden_state
    qtbot.waitUntil(lambda: view.data is not None and view.data.epoch == 2, timeout=WAIT_MS)
    network = trained_copy(window)
    sample = registry.sample
    np.testing.assert_allclose(view.shown_values("h"), network.layers[0].trace(layer_input(network, adding.X[sample: sample + 1], 0))["h"][0].T,
                               rtol=1e-6)
    view.sample_spin.setValue(sample + 4)
    qtbot.waitUntil(lambda: view.data.sample == sample + 4, timeout=WAIT_MS)
    assert registry.sample == sample + 4 and registry.inspector.sample_spin.value() == sample + 4
    np.testing.assert_allclose(view.shown_values("f"), network.layers[0].trace(layer_input(network, adding.X[sample + 4: sample + 5], 0))["f"][0].T,
                               rtol=1e-6)
    registry.show_view("stepGradients")
    gradients = registry.step_gradients
    step_epochs(qtbot, window, 1)
    qtbot.waitUntil(lambda: gradients.data is not None and gradients.data.epoch == 3 and bool(gradients.curves), timeout=WAIT_MS)
    norms = gradients.data.norms[0]
    assert norms.shape == (10,) and (norms > 0).all()
    np.testing.assert_array_equal(gradients.curves[0].yData, norms)


def test_in_the_window_hiding_the_gradient_view_stops_the_recording(qtbot, window, monkeypatch, adding):
    from app.views.common import is_shown

    open_sequences(window, monkeypatch, adding, [{"type": "lstm", "units": 4}, DENSE_OUT], loss="mse")
    registry = window.registry
    gradients = registry.step_gradients
    registry.show_view("stepGradients")
    step_epochs(qtbot, window, 1)
    qtbot.waitUntil(lambda: gradients.data is not None and gradients.data.epoch == 1 and gradients.data.norms[0] is not None,
                    timeout=WAIT_MS)
    registry.show_view("hiddenState")  # in front of it in their tab group: the gradient view's dock is hidden
    qtbot.waitUntil(lambda: not is_shown(gradients), timeout=WAIT_MS)
    step_epochs(qtbot, window, 1)  # trained while hidden: no norms recorded
    registry.show_view("stepGradients")
    qtbot.waitUntil(lambda: gradients.data.epoch == 2, timeout=WAIT_MS)
    assert gradients.data.norms == (None,) and gradients.showing_note()
    step_epochs(qtbot, window, 1)  # recording again
    qtbot.waitUntil(lambda: gradients.data.epoch == 3 and gradients.data.norms[0] is not None, timeout=WAIT_MS)


def test_in_the_window_forecasting_data_bring_the_forecast_forward(qtbot, window, monkeypatch):
    from app.views.common import is_shown

    data, _ = sine_windows()
    open_sequences(window, monkeypatch, data, [{"type": "gru", "units": 4}, DENSE_OUT], loss="mse")
    registry = window.registry
    qtbot.waitUntil(lambda: is_shown(registry.forecast), timeout=WAIT_MS)
    step_epochs(qtbot, window, 1)
    view = registry.forecast
    qtbot.waitUntil(lambda: view.data is not None and view.data.epoch == 1, timeout=WAIT_MS)
    sample = registry.sample
    predicted = trained_copy(window).predict(data.X[sample: sample + 1])[0, 0]
    assert view.predicted_mark.data["y"].tolist() == [pytest.approx(predicted, rel=1e-5)]
    assert view.showing_series()


def test_in_the_window_the_sampled_text_follows_the_temperature(qtbot, window, monkeypatch, chars):
    open_sequences(window, monkeypatch, chars, char_layers(len(chars.meta["vocabulary"])), standardize=False)
    registry = window.registry
    registry.show_view("sampledText")
    step_epochs(qtbot, window, 1)
    view = registry.sampled_text
    qtbot.waitUntil(lambda: view.data is not None and view.data.epoch == 1, timeout=WAIT_MS)
    assert view.text.toPlainText() == view.data.seed + view.data.text and len(view.data.text) == TEXT_CHARACTERS
    view.temperature_spin.setValue(0.1)
    qtbot.waitUntil(lambda: view.data.temperature == pytest.approx(0.1), timeout=WAIT_MS)
    assert view.readout.text().endswith("greedy")
