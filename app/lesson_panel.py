"""The lesson side panel: a lesson's goal, numbered steps, questions and what to try next.

:class:`LessonPanel` shows one :class:`core.lessons.Lesson`. A step that points at a view
carries a link ("Show the weight heatmap") that emits ``showView(name)`` with a name of
core.lessons.VIEW_NAMES; the window brings that view forward. "Start again" emits
``restartRequested(key)`` so the window can open the lesson's experiment afresh. Every text
wraps, so the panel reads at a side-dock width of about 330 px and with large fonts; the
title and headings scale with the panel's font (presentation mode changes it).

:class:`LessonList` lists lessons (for a start page) and :func:`fill_lesson_menu` builds a
Lessons menu from core.lessons.lesson_menu_entries(); both call back with a lesson's key.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from core.lessons import Lesson

from .accessibility import describe

# what a step's link calls each view of core.lessons.VIEW_NAMES: "Show the weight heatmap"
VIEW_TITLES: dict[str, str] = {
    "loss": "the loss plot",
    "kernels": "the kernels",
    "featureMaps": "the feature maps",
    "metric": "the accuracy plot",
    "boundary": "the decision boundary",
    "regressionFit": "the regression fit",
    "lossSurface": "the loss surface",
    "confusion": "the confusion matrix",
    "layers": "the layers table",
    "runs": "the runs table",
    "descent1d": "the 1-D gradient descent",
    "inspector": "the forward and backward pass",
    "weights": "the weight heatmap",
    "networkGraph": "the network graph",
    "activations": "the activations",
    "activationFunctions": "the activation functions",
    "weightHistory": "the weights and gradients",
    "misclassified": "the misclassified images",
    "hiddenState": "the hidden state",
    "stepGradients": "the gradient through time",
    "forecast": "the forecast",
    "sampledText": "the sampled text",
}
TITLE_SCALE = 1.35  # the lesson's title, relative to the panel's font
HEADING_SCALE = 1.12  # "Steps", "Questions", "Try next"
EMPTY_TEXT = "No lesson is open. Choose one from the Lessons menu."


def _wrapping(label: QLabel, text_format: Qt.TextFormat) -> QLabel:
    """``label``, wrapping its text to the panel's width (never wider than the panel)."""
    label.setTextFormat(text_format)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    return label


def _wrapped(text: str) -> QLabel:
    """A label of plain ``text`` that wraps and can be selected with the mouse."""
    label = _wrapping(QLabel(text), Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class ViewLink(QLabel):
    """The link of a step that points at ``view``: "Show the weight heatmap →". A click, or
    Enter or Space while it has the focus (Tab reaches it; a frame shows it), emits
    ``linkActivated(view)``."""

    ACTIVATING_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space)

    def __init__(self, view: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = view
        title = VIEW_TITLES[view]
        self.setText(f'<a href="{view}">Show {html.escape(title)}</a>&nbsp;→')
        _wrapping(self, Qt.TextFormat.RichText)
        self.setObjectName(f"lessonLink_{view}")
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setStyleSheet("QLabel { border: 2px solid transparent; border-radius: 3px; } "
                           "QLabel:focus { border-color: palette(highlight); }")
        describe(self, f"Show {title}", f"Bring {title} forward ({view})")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in self.ACTIVATING_KEYS:
            self.linkActivated.emit(self.view)
            return
        super().keyPressEvent(event)


class LessonPanel(QWidget):
    """One lesson: title, goal, the epochs it needs, numbered steps (with a link to a view
    where a step points at one), the questions and what to try next, in a vertical scroll.

    Signals: ``showView(name)`` when a step's link is activated; ``restartRequested(key)``
    when "Start again" is pressed."""

    showView = Signal(str)
    restartRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("lessonPanel")
        self.lesson: Lesson | None = None
        self.title = self.goal = self.epochs = QLabel()  # replaced by every show_lesson
        self.restart: QPushButton | None = None  # "Start again", while a lesson is shown
        self.links: list[ViewLink] = []
        self.headings: list[QLabel] = []
        self.body = QWidget()  # rebuilt by every show_lesson
        self.scroll = QScrollArea()
        self.scroll.setObjectName("lessonScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)
        self.setMinimumWidth(220)
        self.show_lesson(None)

    # ----- content ----------------------------------------------------------------------------
    def show_lesson(self, lesson: Lesson | None) -> None:
        """Show ``lesson`` (None: a line saying how to open one), from its top."""
        self.lesson = lesson
        self.links, self.headings, self.restart = [], [], None
        self.body = QWidget()
        self.body.setObjectName("lessonBody")
        self.sections = QVBoxLayout(self.body)
        self.sections.setContentsMargins(10, 10, 10, 10)
        self.sections.setSpacing(8)
        self.title = self._text(lesson.title if lesson else "Lessons", "lessonTitle")
        self.goal = self._text(lesson.goal if lesson else EMPTY_TEXT, "lessonGoal")
        if lesson is not None:
            epochs = lesson.epochs_hint or lesson.experiment.training.epochs
            self.epochs = self._text(f"Train about {epochs} epoch{'s' if epochs != 1 else ''}.", "lessonEpochs")
            self.epochs.setProperty("hint", True)
            self._section("Steps", [(step.text, step.view) for step in lesson.steps], numbered=True)
            self._section("Questions", [(text, None) for text in lesson.questions], numbered=True)
            self._section("Try next", [(text, None) for text in lesson.try_next], numbered=False)
            self.restart = QPushButton("Start again")
            self.restart.setObjectName("lessonRestart")
            describe(self.restart, "Start the lesson again", "Open this lesson's experiment again, as the lesson file gives it")
            self.restart.clicked.connect(self._restart)
            self.sections.addWidget(self.restart)
        self.sections.addStretch(1)
        self._apply_fonts()
        self.scroll.setWidget(self.body)  # deletes the previous body

    def _text(self, text: str, name: str) -> QLabel:
        label = _wrapped(text)
        label.setObjectName(name)
        self.sections.addWidget(label)
        return label

    def _section(self, heading: str, items: Sequence[tuple[str, str | None]], numbered: bool) -> None:
        """A heading and one row per item: its number (or a bullet), its text and, when it
        names a view, the link to it under the text."""
        title = _wrapped(heading)
        title.setObjectName(f"lessonHeading{heading.replace(' ', '')}")
        self.headings.append(title)
        self.sections.addWidget(title)
        rows = QWidget()
        grid = QGridLayout(rows)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(8)
        grid.setColumnStretch(1, 1)
        for row, (text, view) in enumerate(items):
            marker = QLabel(f"{row + 1}." if numbered else "•")
            marker.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            grid.addWidget(marker, row, 0, Qt.AlignmentFlag.AlignTop)
            cell = QVBoxLayout()
            cell.setSpacing(2)
            cell.addWidget(_wrapped(text))
            if view is not None:
                link = ViewLink(view)
                link.linkActivated.connect(self.showView.emit)
                self.links.append(link)
                cell.addWidget(link)
            grid.addLayout(cell, row, 1)
        self.sections.addWidget(rows)

    def _restart(self) -> None:
        if self.lesson is not None:
            self.restartRequested.emit(self.lesson.key)

    # ----- fonts follow the panel's own (presentation mode, large system fonts) ---------------
    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.ApplicationFontChange):
            self._apply_fonts()

    def _apply_fonts(self) -> None:
        """Give every text the panel's font (set one by one: under an application style sheet
        the scroll area and labels do not inherit it), the title and headings larger and bold."""
        base = self.font()
        scaled = {self.title: TITLE_SCALE, **dict.fromkeys(self.headings, HEADING_SCALE)}
        for widget in (self.body, *self.body.findChildren(QWidget)):
            font = QFont(base)
            if widget in scaled:
                font.setPointSizeF(base.pointSizeF() * scaled[widget])
                font.setBold(True)
            widget.setFont(font)


class LessonList(QListWidget):
    """The lessons as a list (a start page's): each item shows the title, its tooltip the
    goal; a double click or Enter emits ``chosen(key)``."""

    chosen = Signal(str)

    def __init__(self, entries: Iterable[tuple[str, str, str]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("lessonList")
        self.setWordWrap(True)
        describe(self, "Lessons", "The prepared lessons: double-click one (or press Enter) to open it")
        for number, (key, title, goal) in enumerate(entries, start=1):
            item = QListWidgetItem(f"{number}. {title}")
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setToolTip(goal)
            self.addItem(item)
        self.itemActivated.connect(lambda item: self.chosen.emit(item.data(Qt.ItemDataRole.UserRole)))


def fill_lesson_menu(menu: QMenu, entries: Iterable[tuple[str, str, str]], open_lesson: Callable[[str], None]) -> None:
    """Add one action per lesson to ``menu`` ("3. The worked example by hand", the goal as its
    tooltip and status tip); choosing it calls ``open_lesson(key)``."""
    menu.setToolTipsVisible(True)
    for number, (key, title, goal) in enumerate(entries, start=1):
        action = menu.addAction(f"{number}. {title}")
        action.setObjectName(f"lessonAction_{key}")
        action.setToolTip(goal)
        action.setStatusTip(goal)
        action.triggered.connect(lambda _checked=False, key=key: open_lesson(key))
