"""What guides a learner beside the views: the Lesson dock and the Help dock.

:class:`Guide` belongs to the main window. It fills the Lessons menu from the lesson files
(core.lessons) and Help ▸ Concepts from core.concepts; opening a lesson applies its
experiment as a new, unsaved session and shows its text in the Lesson dock, whose step
links bring their views forward. F1 opens the Help dock on the focused control's concept
(app.help_panel), or the keyboard shortcuts where a control has none."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDockWidget, QMenu, QWidget

from core.files import FileFormatError
from core.lessons import Lesson, lesson_by_key, lesson_menu_entries
from core.run import Session

from .help_panel import HelpPanel, help_key_for_focus, menu_entries
from .lesson_panel import LessonPanel, fill_lesson_menu

if TYPE_CHECKING:
    from .main_window import MainWindow


def _side_dock(window: MainWindow, title: str, name: str, panel: QWidget) -> QDockWidget:
    """A closable, movable dock on the window's right, hidden until it has something to show."""
    dock = QDockWidget(title, window)
    dock.setObjectName(name)
    dock.setWidget(panel)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable | QDockWidget.DockWidgetFeature.DockWidgetMovable
                     | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    dock.hide()
    return dock


class Guide(QObject):
    """The Lesson and Help docks of ``window`` and the menus that open them (see the module
    docstring). ``problems`` holds a line for each lesson file that could not be read."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.lesson_panel = LessonPanel()
        self.lesson_dock = _side_dock(window, "Lesson", "lessonDock", self.lesson_panel)
        self.help_panel = HelpPanel()
        self.help_dock = _side_dock(window, "Help", "helpDock", self.help_panel)
        self.problems: list[str] = []
        self.lesson_panel.showView.connect(window.registry.show_view)
        self.lesson_panel.restartRequested.connect(self.ask_lesson)

    def toggle_actions(self) -> list[QAction]:
        """View-menu entries that show or hide the two docks."""
        return [self.lesson_dock.toggleViewAction(), self.help_dock.toggleViewAction()]

    def fill_menus(self, lessons: QMenu, concepts: QMenu) -> None:
        """The Lessons menu (one entry per lesson file, in their numbered order) and Help ▸ Concepts."""
        fill_lesson_menu(lessons, lesson_menu_entries(problems=self.problems), self.ask_lesson)
        for group, entries in menu_entries():
            group_menu = concepts.addMenu(group)
            for title, key in entries:
                group_menu.addAction(title).triggered.connect(lambda _checked=False, key=key: self.show_help(key))

    # ----- lessons ------------------------------------------------------------------------------------
    def ask_lesson(self, key: str) -> None:
        if self.window.confirm_discard("Opening a lesson"):
            self.open_lesson(key)

    def open_lesson(self, key: str) -> bool:
        """Open the lesson ``key`` (its file's stem): its experiment as a new, unsaved session,
        its text in the Lesson dock. False (explained in the banner) when it cannot be opened."""
        window = self.window
        try:
            lesson = lesson_by_key(key)
        except FileFormatError as exc:
            window.refuse("Could not open the lesson.", exc)
            return False
        if not window.apply_or_refuse("Could not open the lesson.",
                                      lambda: window.apply_experiment(lesson.experiment, lesson.path.parent, Session())):
            return False
        window.mark_clean(None)
        self.show_lesson(lesson)
        return True

    def show_lesson(self, lesson: Lesson | None) -> None:
        """The Lesson dock shows ``lesson``, and its first view comes forward; None hides the dock."""
        self.lesson_panel.show_lesson(lesson)
        if lesson is None:
            self.lesson_dock.hide()
            return
        self.lesson_dock.show()
        self.lesson_dock.raise_()
        if lesson.views:
            self.window.registry.show_view(lesson.views[0])

    def report_problems(self) -> None:
        """Say in the banner which lesson files could not be read (the menu lists the others)."""
        if self.problems:
            self.window.banner.show_message("<b>Some lessons could not be read.</b> "
                                            + "<br>".join(html.escape(line) for line in self.problems), "warning")

    # ----- help ---------------------------------------------------------------------------------------
    def show_help(self, key: str) -> None:
        """Open the Help dock on the concept ``key`` (core.concepts); the focus stays where it is."""
        self.help_panel.show_concept(key)
        self.help_dock.show()
        self.help_dock.raise_()

    def help_for_focus(self) -> None:
        """F1: the help of the focused control's concept, else the keyboard shortcuts."""
        key = help_key_for_focus(QApplication.instance())
        if key is None:
            self.window.show_shortcuts()
        else:
            self.show_help(key)
