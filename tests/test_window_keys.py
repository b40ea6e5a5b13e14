"""The keyboard: training shortcuts from anywhere but where the focused widget needs the key."""

from __future__ import annotations

import pytest
from gui_helpers import WAIT_MS, child, open_window
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QCheckBox, QComboBox, QSpinBox

from app.actions import COMMANDS
from app.widgets import LogSpinBox


@pytest.fixture
def window(qtbot):
    """The window at 1280×720 (the toolbar's number box in sight), active, so keys reach it."""
    win = open_window(qtbot, (1280, 720))
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=WAIT_MS)
    yield win
    win.close()


def test_no_two_commands_share_a_shortcut(qtbot, window):
    keys = [window.actions[c.name].shortcut().toString() for c in COMMANDS if c.shortcut is not None]
    assert len(keys) == len(set(keys)) and all(keys)
    assert window.actions["loadData"].shortcut() == QKeySequence("Ctrl+L")
    assert window.actions["logLoss"].shortcut() != QKeySequence("Ctrl+L")
    names = {a.objectName() for a in window.findChildren(type(window.actions["play"])) if a.shortcut() == QKeySequence("Ctrl+L")}
    assert names == {"loadDataAction"}


def test_space_on_a_checkbox_toggles_it_and_does_not_train(qtbot, window):
    check = child(window, QCheckBox, "lossLogCheck")
    check.setFocus()
    qtbot.waitUntil(check.hasFocus, timeout=WAIT_MS)
    qtbot.keyClick(check, Qt.Key.Key_Space)
    qtbot.wait(300)
    assert check.isChecked() and not window.controller.playing and window.history.count == 0


def test_space_on_a_combo_box_is_the_combo_box_s(qtbot, window):
    combo = child(window, QComboBox, "datasetCombo")
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus, timeout=WAIT_MS)
    qtbot.keyClick(combo, Qt.Key.Key_Space)
    qtbot.wait(300)
    assert combo.view().isVisible() and not window.controller.playing and window.history.count == 0
    combo.hidePopup()


def test_after_typing_a_learning_rate_space_and_right_train_again(qtbot, window):
    rate = child(window, LogSpinBox, "learningRateSpin")
    rate.setFocus()
    qtbot.waitUntil(rate.hasFocus, timeout=WAIT_MS)
    rate.lineEdit().selectAll()
    qtbot.keyClicks(rate.lineEdit(), "0.05")
    qtbot.keyClick(rate.lineEdit(), Qt.Key.Key_Return)
    assert rate.value() == 0.05 and not rate.hasFocus()
    with qtbot.waitSignal(window.controller.epochsReady, timeout=WAIT_MS):
        qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_Right)
    with qtbot.waitSignal(window.controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: playing):
        qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_Space)
    with qtbot.waitSignal(window.controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: not playing):
        qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_Space)


def test_space_plays_even_from_a_number_box_and_escape_leaves_it(qtbot, window):
    epochs = child(window, QSpinBox, "epochsSpin")
    epochs.setFocus()
    qtbot.waitUntil(epochs.hasFocus, timeout=WAIT_MS)
    with qtbot.assertNotEmitted(window.controller.epochsReady, wait=300):
        qtbot.keyClick(epochs, Qt.Key.Key_Right)  # the number box's cursor
    with qtbot.waitSignal(window.controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: playing):
        qtbot.keyClick(epochs, Qt.Key.Key_Space)
    with qtbot.waitSignal(window.controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: not playing):
        qtbot.keyClick(epochs, Qt.Key.Key_Space)
    qtbot.keyClick(epochs, Qt.Key.Key_Escape)
    assert window.loss_plot.canvas.hasFocus()
    with qtbot.waitSignal(window.controller.epochsReady, timeout=WAIT_MS):
        qtbot.keyClick(window.loss_plot.canvas, Qt.Key.Key_Right)
