"""The keyboard: training shortcuts from anywhere but where the focused widget needs the key."""

from __future__ import annotations

from gui_helpers import WAIT_MS, child
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QCheckBox, QComboBox, QSpinBox

from app.actions import COMMANDS
from app.main_window import MainWindow
from app.widgets import LogSpinBox


def _window(qtbot) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    win.confirm_discard = lambda change: True
    child(win, QSpinBox, "epochsSpin").setValue(1_000_000)
    win.resize(1280, 720)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=WAIT_MS)
    return win


def test_no_two_commands_share_a_shortcut(qtbot):
    win = _window(qtbot)
    try:
        keys = [win.actions[c.name].shortcut().toString() for c in COMMANDS if c.shortcut is not None]
        assert len(keys) == len(set(keys)) and all(keys)
        assert win.actions["loadData"].shortcut() == QKeySequence("Ctrl+L")
        assert win.actions["logLoss"].shortcut() != QKeySequence("Ctrl+L")
        names = {a.objectName() for a in win.findChildren(type(win.actions["play"])) if a.shortcut() == QKeySequence("Ctrl+L")}
        assert names == {"loadDataAction"}
    finally:
        win.close()


def test_space_on_a_checkbox_toggles_it_and_does_not_train(qtbot):
    win = _window(qtbot)
    try:
        check = child(win, QCheckBox, "lossLogCheck")
        check.setFocus()
        qtbot.waitUntil(check.hasFocus, timeout=WAIT_MS)
        qtbot.keyClick(check, Qt.Key.Key_Space)
        qtbot.wait(300)
        assert check.isChecked() and not win.controller.playing and win.history.count == 0
    finally:
        win.close()


def test_space_on_a_combo_box_is_the_combo_box_s(qtbot):
    win = _window(qtbot)
    try:
        combo = child(win, QComboBox, "datasetCombo")
        combo.setFocus()
        qtbot.waitUntil(combo.hasFocus, timeout=WAIT_MS)
        qtbot.keyClick(combo, Qt.Key.Key_Space)
        qtbot.wait(300)
        assert combo.view().isVisible() and not win.controller.playing and win.history.count == 0
        combo.hidePopup()
    finally:
        win.close()


def test_after_typing_a_learning_rate_space_and_right_train_again(qtbot):
    win = _window(qtbot)
    try:
        rate = child(win, LogSpinBox, "learningRateSpin")
        rate.setFocus()
        qtbot.waitUntil(rate.hasFocus, timeout=WAIT_MS)
        rate.lineEdit().selectAll()
        qtbot.keyClicks(rate.lineEdit(), "0.05")
        qtbot.keyClick(rate.lineEdit(), Qt.Key.Key_Return)
        assert rate.value() == 0.05 and not rate.hasFocus()
        with qtbot.waitSignal(win.controller.epochsReady, timeout=WAIT_MS):
            qtbot.keyClick(win.focusWidget() or win, Qt.Key.Key_Right)
        with qtbot.waitSignal(win.controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: playing):
            qtbot.keyClick(win.focusWidget() or win, Qt.Key.Key_Space)
        with qtbot.waitSignal(win.controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: not playing):
            qtbot.keyClick(win.focusWidget() or win, Qt.Key.Key_Space)
    finally:
        win.close()


def test_space_plays_even_from_a_number_box_and_escape_leaves_it(qtbot):
    win = _window(qtbot)
    try:
        epochs = child(win, QSpinBox, "epochsSpin")
        epochs.setFocus()
        qtbot.waitUntil(epochs.hasFocus, timeout=WAIT_MS)
        with qtbot.assertNotEmitted(win.controller.epochsReady, wait=300):
            qtbot.keyClick(epochs, Qt.Key.Key_Right)  # the number box's cursor
        with qtbot.waitSignal(win.controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: playing):
            qtbot.keyClick(epochs, Qt.Key.Key_Space)
        with qtbot.waitSignal(win.controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: not playing):
            qtbot.keyClick(epochs, Qt.Key.Key_Space)
        qtbot.keyClick(epochs, Qt.Key.Key_Escape)
        assert win.loss_plot.canvas.hasFocus()
        with qtbot.waitSignal(win.controller.epochsReady, timeout=WAIT_MS):
            qtbot.keyClick(win.loss_plot.canvas, Qt.Key.Key_Right)
    finally:
        win.close()
