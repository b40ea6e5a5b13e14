"""The lesson side panel (app.lesson_panel): shows a lesson, its step links emit showView with
the view's name, it reads at a side-dock width with large fonts, every control is described,
the lesson list and menu open a lesson by key, and the window opens every lesson and has
every view the lessons point at."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QMenu

from app.accessibility import undescribed_controls
from app.lesson_panel import EMPTY_TEXT, VIEW_TITLES, LessonList, LessonPanel, fill_lesson_menu
from core.lessons import VIEW_NAMES, lesson_by_key, lesson_menu_entries, lessons
from core.run import Session
from tests.gui_helpers import open_window, shown

LESSON = lesson_by_key("09-vanishing-gradients")


@pytest.fixture
def panel(qtbot) -> LessonPanel:
    widget = shown(qtbot, LessonPanel())
    widget.resize(330, 700)
    widget.show_lesson(LESSON)
    qtbot.waitExposed(widget)
    return widget


def texts(panel: LessonPanel) -> list[str]:
    return [label.text() for label in panel.body.findChildren(QLabel) if label.isVisibleTo(panel)]


def test_every_view_a_lesson_may_name_has_a_title():
    assert set(VIEW_TITLES) == set(VIEW_NAMES)


def test_the_panel_shows_the_lesson(panel):
    shown_texts = texts(panel)
    assert panel.title.text() == LESSON.title and panel.goal.text() == LESSON.goal
    assert "Train about 100 epochs." in shown_texts
    for text in (*(step.text for step in LESSON.steps), *LESSON.questions, *LESSON.try_next):
        assert text in shown_texts
    assert [f"{n}." for n in range(1, len(LESSON.steps) + 1)] == [t for t in shown_texts if t.endswith(".") and t[:-1].isdigit()][
        : len(LESSON.steps)]
    assert [link.objectName() for link in panel.links] == [f"lessonLink_{step.view}" for step in LESSON.steps if step.view]


def test_clicking_a_step_link_emits_show_view(panel, qtbot):
    link = panel.findChild(QLabel, "lessonLink_weightHistory")
    panel.scroll.ensureWidgetVisible(link)
    assert "Show the weights and gradients" in link.text()
    with qtbot.waitSignal(panel.showView, timeout=2000) as shown_view:
        qtbot.mouseClick(link, Qt.MouseButton.LeftButton, pos=QPoint(20, link.height() // 2))
    assert shown_view.args == ["weightHistory"]


def test_a_focused_link_opens_with_enter(panel, qtbot):
    link = panel.findChild(QLabel, "lessonLink_loss")
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)
    link.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(link.hasFocus)
    with qtbot.waitSignal(panel.showView, timeout=2000) as shown_view:
        qtbot.keyClick(link, Qt.Key.Key_Return)
    assert shown_view.args == ["loss"]


def test_start_again_asks_for_the_lesson_by_key(panel, qtbot):
    with qtbot.waitSignal(panel.restartRequested, timeout=2000) as restart:
        qtbot.mouseClick(panel.restart, Qt.MouseButton.LeftButton)
    assert restart.args == [LESSON.key]


def test_every_control_is_described(panel):
    assert undescribed_controls(panel) == []
    for link in panel.links:
        assert link.accessibleName().startswith("Show ") and link.toolTip()


def clipped(panel: LessonPanel) -> list[str]:
    """The shown labels that are cut off: shorter than their wrapped text, or wider than the panel."""
    return [label.text() for label in panel.body.findChildren(QLabel) if label.isVisibleTo(panel)
            and (label.height() < label.heightForWidth(label.width()) or label.geometry().right() > panel.body.width())]


@pytest.mark.parametrize("points", [10.5, 18.0])
def test_it_reads_at_a_side_dock_width_with_large_fonts(panel, qtbot, points):
    font = QFont(panel.font())
    font.setPointSizeF(points)
    panel.setFont(font)
    assert panel.title.font().pointSizeF() > points and panel.title.font().bold()
    for label in panel.body.findChildren(QLabel):
        assert label.font().pointSizeF() >= points, label.text()
        assert label.wordWrap() or len(label.text()) <= 3, label.text()  # all but the step numbers and bullets

    def reads_whole() -> None:
        assert panel.body.width() <= panel.scroll.viewport().width()  # no sideways scrolling
        assert clipped(panel) == []

    qtbot.waitUntil(reads_whole)


def test_opening_another_lesson_replaces_the_text_and_none_shows_how_to_open_one(panel, qtbot):
    panel.show_lesson(lesson_by_key("05-xor-needs-a-hidden-layer"))
    assert panel.title.text() == "XOR needs a hidden layer"
    qtbot.waitUntil(lambda: LESSON.steps[0].text not in texts(panel))
    panel.show_lesson(None)
    assert panel.goal.text() == EMPTY_TEXT and panel.links == []
    assert panel.restart is None
    panel.show_lesson(LESSON)
    assert panel.restart.isVisibleTo(panel) and len(panel.links) == len(LESSON.views) + 1  # weightHistory twice


def test_the_lesson_list_and_menu_open_a_lesson_by_key(qtbot):
    entries = lesson_menu_entries()
    listing = shown(qtbot, LessonList(entries))
    assert listing.count() == len(entries) and listing.item(2).text() == "3. The worked example by hand"
    assert listing.item(2).toolTip() == entries[2][2] and undescribed_controls(listing) == []
    with qtbot.waitSignal(listing.chosen, timeout=2000) as chosen:
        listing.itemActivated.emit(listing.item(2))
    assert chosen.args == ["03-worked-example-by-hand"]

    opened: list[str] = []
    menu = QMenu()
    fill_lesson_menu(menu, entries, opened.append)
    actions = menu.actions()
    assert [a.text() for a in actions][:2] == ["1. Linear regression: house prices", "2. Logistic regression: breast cancer"]
    assert actions[0].toolTip() == entries[0][2]
    actions[3].trigger()
    assert opened == [entries[3][0]]


def test_the_window_opens_every_lesson_and_has_every_view_it_points_at(qtbot):
    win = open_window(qtbot)
    assert set(VIEW_NAMES) <= set(win.registry.docks)
    for lesson in lessons():
        win.apply_experiment(lesson.experiment, lesson.path.parent, Session())
        for view in lesson.views:
            win.registry.show_view(view)
            assert win.registry.docks[view].isVisible(), (lesson.key, view)
