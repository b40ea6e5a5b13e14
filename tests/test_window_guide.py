"""The Lesson and Help docks in the window: the Lessons menu opens a lesson (its experiment,
its text, its first view in front), a step's link brings its view forward, a lesson file
opened with File ▸ Open shows its text, and F1 on a control opens its concept's help."""

from __future__ import annotations

from gui_helpers import WAIT_MS, child
from PySide6.QtWidgets import QMessageBox, QSpinBox

from app.guide import SIDE_WIDTH
from core.lessons import lessons


def test_the_lessons_menu_lists_every_lesson_file(window):
    titles = [action.text() for action in window.menuBar().actions()]
    assert titles.index("&Lessons") == titles.index("&Help") - 1
    lessons_menu = window.menuBar().actions()[titles.index("&Lessons")].menu()
    assert [action.text().split(". ", 1)[1] for action in lessons_menu.actions()] == [lesson.title for lesson in lessons()]
    assert len(lessons_menu.actions()) >= 12 and all(action.toolTip() for action in lessons_menu.actions())


def test_a_lesson_opens_with_its_text_and_a_step_brings_its_view_forward(qtbot, window):
    lesson = next(lesson for lesson in lessons() if "weightHistory" in lesson.views)
    guide = window.guide
    lessons_menu = next(action.menu() for action in window.menuBar().actions() if action.text() == "&Lessons")
    next(action for action in lessons_menu.actions() if action.objectName() == f"lessonAction_{lesson.key}").trigger()
    assert guide.lesson_dock.isVisible() and guide.lesson_panel.lesson.key == lesson.key
    assert window.registry.docks[lesson.views[0]].isVisible() and not window.isWindowModified()
    assert [(layer.get("units"), layer.get("activation")) for layer in window.experiment().network["layers"]] == \
        [(layer.get("units"), layer.get("activation")) for layer in lesson.experiment.network["layers"]]
    window.registry.show_view("loss")
    link = next(link for link in guide.lesson_panel.links if link.view == "weightHistory")
    link.linkActivated.emit(link.view)  # what a click on the step's link sends
    assert not window.registry.weight_history.visibleRegion().isEmpty()
    window._on_new()  # a new experiment has no lesson
    assert not guide.lesson_dock.isVisible()


def test_a_lesson_file_opened_from_disk_shows_its_text(qtbot, window, tmp_path):
    lesson = lessons()[0]
    path = tmp_path / "my-lesson.json"
    path.write_text(lesson.path.read_text())
    assert window.open_experiment(path)
    assert window.guide.lesson_dock.isVisible() and window.guide.lesson_panel.lesson.title == lesson.title


def test_f1_on_a_control_opens_its_help_and_elsewhere_the_shortcuts(qtbot, window, monkeypatch):
    window.resize(1280, 720)
    window.setup_tabs.setCurrentIndex(2)  # Training
    spin = child(window, QSpinBox, "batchSizeSpin")
    window.activateWindow()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=WAIT_MS)
    window.actions["conceptHelp"].trigger()
    assert window.guide.help_dock.isVisible() and window.guide.help_panel.key == "batch_size"
    qtbot.waitUntil(lambda: abs(window.guide.help_dock.width() - SIDE_WIDTH) <= 20)  # a column beside the views, not half the window
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda *args: shown.append(args[1]))
    window.loss_plot.canvas.setFocus()
    qtbot.waitUntil(window.loss_plot.canvas.hasFocus, timeout=WAIT_MS)
    window.actions["conceptHelp"].trigger()
    assert shown == ["Keyboard shortcuts"]


def test_help_concepts_opens_any_concept(window):
    concepts = window.actions.submenus["concepts"]
    optimizers = next(action.menu() for action in concepts.actions() if action.menu() and "ptimi" in action.text())
    adam = next(action for action in optimizers.actions() if "Adam" in action.text())
    adam.trigger()
    assert window.guide.help_dock.isVisible() and window.guide.help_panel.key == "adam"


def test_the_lesson_dock_lists_the_lessons_while_none_is_open_and_at_the_first_start(qtbot, window):
    from PySide6.QtCore import QSettings

    guide = window.guide
    assert guide.lesson_list.count() == len(lessons()) and not guide.lesson_dock.isVisible()
    settings = QSettings("EpochLabTests", "start-page")  # a settings file of this test's own (in the tests' XDG folder)
    settings.clear()
    guide.offer_lessons(settings)
    assert guide.lesson_dock.isVisible() and guide.lesson_pages.currentIndex() == 0
    guide.lesson_dock.hide()
    guide.offer_lessons(settings)  # offered once
    assert not guide.lesson_dock.isVisible()
    item = guide.lesson_list.item(1)
    guide.lesson_list.itemActivated.emit(item)  # a double click on it
    assert guide.lesson_panel.lesson.title == lessons()[1].title and guide.lesson_pages.currentWidget() is guide.lesson_panel
    settings.clear()
