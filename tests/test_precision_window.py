"""In the window: the precision choice reaches the network, and the output initializer the
output layer's weights (issue 11). Needs main_window's wiring of both (Setup.spec and _build)."""

from __future__ import annotations

import numpy as np
from gui_helpers import WAIT_MS, child, choose, step_epochs
from PySide6.QtWidgets import QComboBox


def test_float64_trains_in_float64_and_is_saved_with_the_experiment(qtbot, window, tmp_path):
    choose(child(window, QComboBox, "precisionCombo"), "float64")
    assert window.experiment().training.dtype == "float64"
    step_epochs(qtbot, window)
    model = tmp_path / "model.npz"
    with qtbot.waitSignal(window.controller.modelSaved, timeout=WAIT_MS):
        window.controller.save_model(str(model))
    with np.load(model, allow_pickle=False) as npz:
        floats = [npz[name].dtype for name in npz.files if np.issubdtype(npz[name].dtype, np.floating)]
    assert floats and set(floats) == {np.dtype(np.float64)}
    assert window.experiment().to_json()["training"]["dtype"] == "float64"
    choose(child(window, QComboBox, "precisionCombo"), "float32")
    assert window.experiment().training.dtype == "float32"


def test_zeros_for_the_output_layer_gives_an_all_zero_output_w_after_reset(qtbot, window):
    choose(child(window, QComboBox, "outputInitializerCombo"), "zeros")
    layers = child(window, QComboBox, "weightLayerCombo")
    layers.setCurrentIndex(layers.count() - 1)
    qtbot.waitUntil(lambda: window.weights.current_matrix() is not None, timeout=WAIT_MS)
    assert window.experiment().network["layers"][-1]["initializer"] == "zeros"
    assert not window.weights.current_matrix().any()


def test_a_float64_session_opens_in_float64_even_when_its_experiment_names_no_dtype(qtbot, window, tmp_path, capsys):
    from core.cli import main
    from core.epochlab import load_session

    session = tmp_path / "cli.epochlab"
    assert main(["train", "--dataset", "xor", "--samples", "60", "--epochs", "2", "--dtype", "float64", "--save", str(session)]) == 0
    capsys.readouterr()
    saved = load_session(session)
    assert saved.state.params.dtype == np.float64
    assert window.open_experiment(session)
    assert child(window, QComboBox, "precisionCombo").currentData() == "float64"
    assert window.experiment().training.dtype == "float64"
