"""The engineered-inputs check boxes of the Data tab (app.feature_toggles)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.accessibility import undescribed_controls
from app.feature_toggles import UNAVAILABLE_TIP, FeatureToggles


def toggles(qtbot) -> FeatureToggles:
    widget = FeatureToggles()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_a_box_per_engineered_input_with_its_title_tooltip_and_name(qtbot):
    widget = toggles(qtbot)
    assert [box.text() for box in widget.boxes.values()] == ["x1²", "x2²", "x1·x2", "sin x1", "sin x2"]
    assert undescribed_controls(widget) == []
    box = widget.boxes["x1*x2"]
    assert box.accessibleName() == "Engineered input x1·x2"
    assert box.toolTip().startswith("Add x1·x2 as an input: ")
    assert len({box.objectName() for box in widget.boxes.values()}) == 5
    assert widget.selected() == []


def test_ticking_emits_the_names_ticked_in_canonical_order(qtbot):
    widget = toggles(qtbot)
    emitted = []
    widget.changed.connect(emitted.append)
    qtbot.mouseClick(widget.boxes["x2^2"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(widget.boxes["x1^2"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(widget.boxes["sin_x2"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(widget.boxes["x2^2"], Qt.MouseButton.LeftButton)
    assert emitted == [["x2^2"], ["x1^2", "x2^2"], ["x1^2", "x2^2", "sin_x2"], ["x1^2", "sin_x2"]]
    assert widget.selected() == ["x1^2", "sin_x2"]


def test_set_selected_ticks_exactly_those_without_emitting(qtbot):
    widget = toggles(qtbot)
    emitted = []
    widget.changed.connect(emitted.append)
    widget.set_selected(["sin_x1", "x1*x2"])
    assert widget.selected() == ["x1*x2", "sin_x1"]
    widget.set_selected([])
    assert widget.selected() == [] and emitted == []


def test_unavailable_for_data_that_is_not_2d_with_a_tooltip_that_says_why(qtbot):
    widget = toggles(qtbot)
    widget.set_available(False)
    assert not any(box.isEnabled() for box in widget.boxes.values())
    assert all(box.toolTip() == UNAVAILABLE_TIP for box in widget.boxes.values())
    widget.set_available(False, "Iris has 4 features; engineered inputs need exactly two (x1, x2)")
    assert widget.boxes["x1^2"].toolTip() == "Iris has 4 features; engineered inputs need exactly two (x1, x2)"
    widget.set_available(True)
    assert all(box.isEnabled() for box in widget.boxes.values())
    assert widget.boxes["x1^2"].toolTip().startswith("Add x1² as an input: ")
    assert undescribed_controls(widget) == []
