"""Every control of the setup panels, the Load data dialog and the Layers table has a tooltip
and an accessible name."""

from __future__ import annotations

import pytest

from app.accessibility import undescribed_controls


def test_the_walk_finds_a_control_without_a_name(qtbot):
    from PySide6.QtWidgets import QPushButton, QSpinBox, QVBoxLayout, QWidget

    root = QWidget()
    qtbot.addWidget(root)
    layout = QVBoxLayout(root)
    layout.addWidget(QPushButton("Go"))
    described = QSpinBox()
    described.setToolTip("How many")
    described.setAccessibleName("Count")
    layout.addWidget(described)  # its inner line edit is part of it
    assert undescribed_controls(root) == ["QPushButton '' (Go)"]


def dataset_panel():
    from app.dataset_panel import DatasetPanel

    return DatasetPanel()


def layer_builder():
    from app.layer_builder import LayerBuilder
    from core.synthetic import synthetic

    builder = LayerBuilder()
    builder.set_dataset(synthetic("xor"))
    builder.set_architecture([{"type": "dense", "units": 4, "activation": "tanh"}], "softmax", None)  # the note's fix button shows
    return builder


def training_settings():
    from app.training_controls import TrainingSettings

    return TrainingSettings()


def load_dialog(tmp_path, qtbot):
    from app.data_loader import LoadDataDialog

    dialog = LoadDataDialog()
    path = tmp_path / "t.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(30)))
    with qtbot.waitSignal(dialog.previewDone, timeout=10_000):
        dialog.set_path(str(path))  # the columns table gets its type and role boxes
    return dialog


def layer_stats():
    from app.layer_stats import LayerStatsView

    view = LayerStatsView()
    view.set_layers(["Dense(4, tanh)", "Dense(1, sigmoid)"])
    return view


@pytest.mark.parametrize("make", [dataset_panel, layer_builder, training_settings, load_dialog, layer_stats])
def test_every_control_has_a_tooltip_and_an_accessible_name(qtbot, tmp_path, make):
    widget = make(tmp_path, qtbot) if make is load_dialog else make()
    qtbot.addWidget(widget)
    assert undescribed_controls(widget) == []


def test_every_control_of_the_whole_window_has_a_tooltip_and_an_accessible_name(qtbot, window):
    """The views' own controls, the Lesson and Help docks and the toolbar, each shown once."""
    window.guide.open_lesson(window.guide.entries[0][0])
    window.guide.show_help("adam")
    for name in window.registry.docks:
        window.registry.show_view(name)
        qtbot.wait(1)
    assert undescribed_controls(window) == []
