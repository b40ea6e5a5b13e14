"""What guides a learner beside the views: the Lesson dock and the Help dock.

:class:`Guide` belongs to the main window. It fills the Lessons menu from the lesson files
(core.lessons) and Help ▸ Concepts from core.concepts; opening a lesson applies its
experiment as a new, unsaved session and shows its text in the Lesson dock, whose step
links bring their views forward; while no lesson is open (and at the first start) the dock
lists the lessons. F1 opens the Help dock on the focused control's concept
(app.help_panel), or the keyboard shortcuts where a control has none."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMenu, QStackedWidget, QVBoxLayout, QWidget

from core.files import FileFormatError
from core.lessons import Lesson, lesson_by_key, lesson_menu_entries
from core.run import Session

from .help_panel import HelpPanel, help_key_for_focus, menu_entries
from .lesson_panel import LessonList, LessonPanel, fill_lesson_menu

if TYPE_CHECKING:
    from .main_window import MainWindow

SIDE_WIDTH = 380  # px for the Lesson and Help column
WELCOMED_KEY = "guide/welcomed"  # set once the start page (the list of lessons) has been offered


def _titled(title: str, widget: QWidget) -> QWidget:
    """``widget`` under a wrapped heading."""
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(6, 6, 6, 6)
    heading = QLabel(title)
    heading.setWordWrap(True)
    heading.setProperty("hint", True)
    layout.addWidget(heading)
    layout.addWidget(widget, 1)
    return page


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
        self.problems: list[str] = []
        self.entries = lesson_menu_entries(problems=self.problems)  # (key, title, goal) of every lesson file
        self.lesson_panel = LessonPanel()
        self.lesson_list = LessonList(self.entries)  # the start page: every lesson, while none is open
        self.lesson_pages = QStackedWidget()
        self.lesson_pages.addWidget(_titled("Lessons: double-click one to open it", self.lesson_list))
        self.lesson_pages.addWidget(self.lesson_panel)
        self.lesson_dock = _side_dock(window, "Lesson", "lessonDock", self.lesson_pages)
        self.help_panel = HelpPanel()
        self.help_dock = _side_dock(window, "Help", "helpDock", self.help_panel)
        window.tabifyDockWidget(self.lesson_dock, self.help_dock)  # one column beside the views
        self.lesson_panel.showView.connect(window.registry.show_view)
        self.lesson_panel.restartRequested.connect(self.ask_lesson)
        self.lesson_list.chosen.connect(self.ask_lesson)

    def toggle_actions(self) -> list[QAction]:
        """View-menu entries that show or hide the two docks."""
        return [self.lesson_dock.toggleViewAction(), self.help_dock.toggleViewAction()]

    def fill_menus(self, lessons: QMenu, concepts: QMenu) -> None:
        """The Lessons menu (one entry per lesson file, in their numbered order) and Help ▸ Concepts."""
        fill_lesson_menu(lessons, self.entries, self.ask_lesson)
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
        """The Lesson dock shows ``lesson``, and its first view comes forward; None hides the
        dock, which shows the list of lessons when it is opened again."""
        self.lesson_panel.show_lesson(lesson)
        self.lesson_pages.setCurrentWidget(self.lesson_panel if lesson is not None else self.lesson_pages.widget(0))
        if lesson is None:
            self.lesson_dock.hide()
            return
        self._bring(self.lesson_dock)
        if lesson.views:
            self.window.registry.show_view(lesson.views[0])

    def offer_lessons(self, settings: QSettings) -> None:
        """The first time Epoch Lab starts: the Lesson dock opens on the list of lessons."""
        if not settings.value(WELCOMED_KEY, False, type=bool):
            settings.setValue(WELCOMED_KEY, True)
            self._bring(self.lesson_dock)

    def _bring(self, dock: QDockWidget) -> None:
        """``dock`` shown in front of its column, SIDE_WIDTH wide (the views keep the rest)."""
        dock.show()
        dock.raise_()
        self.window.resizeDocks([dock], [SIDE_WIDTH], Qt.Orientation.Horizontal)
        QTimer.singleShot(0, self.window.registry.fit_sizes)  # the views share what is left

    def report_problems(self) -> None:
        """Say in the banner which lesson files could not be read (the menu lists the others)."""
        if self.problems:
            self.window.banner.show_message("<b>Some lessons could not be read.</b> "
                                            + "<br>".join(html.escape(line) for line in self.problems), "warning")

    # ----- help ---------------------------------------------------------------------------------------
    def show_help(self, key: str) -> None:
        """Open the Help dock on the concept ``key`` (core.concepts); the focus stays where it is."""
        self.help_panel.show_concept(key)
        self._bring(self.help_dock)

    def help_for_focus(self) -> None:
        """F1: the help of the focused control's concept, else the keyboard shortcuts."""
        key = help_key_for_focus(QApplication.instance())
        if key is None:
            self.window.show_shortcuts()
        else:
            self.show_help(key)
