"""Helpers shared by the GUI tests: open the window, find a named child, click, choose a
combo item, play, pause and step."""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QSpinBox, QToolButton, QWidget

WAIT_MS = 10_000


@contextmanager
def window_style():
    """The app's own style and fonts (app.style.apply_style, wider than the tests' default) while
    the block runs; the test application's style, palette, font and style sheet back after it."""
    from app.style import apply_style

    app = QApplication.instance()
    saved = (app.style().name(), app.palette(), app.font(), app.styleSheet())
    apply_style(app)
    try:
        yield
    finally:
        app.setStyle(saved[0])
        app.setPalette(saved[1])
        app.setFont(saved[2])
        app.setStyleSheet(saved[3])


def child(win, kind, name):
    widget = win.findChild(kind, name)
    assert widget is not None, f"no {kind.__name__} named {name}"
    return widget


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def choose(combo: QComboBox, data) -> None:
    """Pick the item whose data is ``data`` as a user would (``activated`` included)."""
    index = combo.findData(data)
    assert index >= 0
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def kind_items(combo: QComboBox) -> list[str]:
    """The data (kind keys) of ``combo``'s items, in order."""
    return [combo.itemData(i) for i in range(combo.count())]


def visible_fields(builder) -> set[str]:
    """The setting keys of a LayerBuilder's box whose editors are shown."""
    return {key for (key, _), editor in builder.settings.editors.items() if not editor.isHidden()}


def shown(qtbot, widget: QWidget) -> QWidget:
    """``widget``, shown, closed by pytest-qt after the test."""
    qtbot.addWidget(widget)
    widget.show()
    return widget


def open_window(qtbot, size: tuple[int, int] | None = None):
    """The default window, shown (at ``size`` if given), with the discard-run question answered
    "yes" and an epochs target no test reaches (the default spiral trains ~1000 epochs a second)."""
    from app.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.confirm_discard = lambda change: True
    child(win, QSpinBox, "epochsSpin").setValue(1_000_000)
    if size is not None:
        win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    return win


def play_until(qtbot, win, epochs: int) -> None:
    click(qtbot, child(win, QToolButton, "playButton"))
    qtbot.waitUntil(lambda: win.history.count >= epochs, timeout=WAIT_MS)


def pause(qtbot, win) -> None:
    with qtbot.waitSignal(win.controller.playingChanged, timeout=WAIT_MS, check_params_cb=lambda playing, reason: not playing):
        click(qtbot, child(win, QToolButton, "playButton"))


def step_epochs(qtbot, win, count: int = 1) -> None:
    for _ in range(count):
        with qtbot.waitSignal(win.controller.epochsReady, timeout=WAIT_MS):
            click(qtbot, child(win, QToolButton, "stepEpochButton"))


def show_preview(qtbot, dialog, path) -> None:
    """Choose ``path`` in the Load data ``dialog`` and wait until its preview, read off the GUI thread, is shown."""
    with qtbot.waitSignal(dialog.previewDone, timeout=20_000):
        dialog.set_path(str(path))
