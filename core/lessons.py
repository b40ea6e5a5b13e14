"""Lessons: prepared experiments that follow the course, each with its text for the student.

A lesson is one JSON file in ``resources/lessons/`` (adding one needs no code): an ordinary
experiment (core.experiment: ``dataset``, ``network``, ``training``, optionally ``weights``)
that ``python main.py train --config FILE`` runs, plus a ``lesson`` object::

    "lesson": {"title": "XOR needs a hidden layer",
               "goal": "One or two sentences: what the student will see.",
               "steps": [{"text": "Train it and look at the decision boundary.", "view": "boundary"},
                         {"text": "A step without a view."}],
               "questions": ["Two or three questions to answer."],
               "try_next": ["What to change next."],
               "epochs_hint": 200}

A step's ``view`` names one of :data:`VIEW_NAMES`, so the lesson panel can bring that view
forward. The schema (core.schema) checks the lesson object with the rest of the file; an
:class:`~core.experiment.Experiment` read from a lesson file runs its experiment and does
not keep the text, which lives on :class:`Lesson`. Files are listed in the order of their
numeric prefix (``01-…json``, ``02-…json``); a file's key is its name without ``.json``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .experiment import Experiment, _read_json
from .files import FileFormatError
from .schema import validate_lesson
from .trainer import ConfigError

# the views a lesson step may bring forward (the names of app.views.manager's ViewRegistry)
VIEW_NAMES = ("loss", "metric", "boundary", "regressionFit", "lossSurface", "confusion", "layers", "runs", "descent1d",
              "inspector", "weights", "networkGraph", "activations", "activationFunctions", "weightHistory", "misclassified",
              "kernels", "featureMaps", "hiddenState", "stepGradients", "forecast", "sampledText")
LESSONS_FOLDER = Path(__file__).resolve().parent.parent / "resources" / "lessons"
_NUMBERED = re.compile(r"(\d+)[-_ ]")


@dataclass(frozen=True)
class LessonStep:
    """One thing for the student to do or look at; ``view``: the view it points at, or None."""

    text: str
    view: str | None = None


@dataclass(frozen=True)
class Lesson:
    """A lesson file read: ``key`` (the file name without .json), its text, the ``experiment``
    to open (the file's experiment without the lesson text), and the file's ``path``.
    ``epochs_hint``: how many epochs show the point (None: the experiment's own)."""

    key: str
    title: str
    goal: str
    steps: tuple[LessonStep, ...]
    questions: tuple[str, ...]
    try_next: tuple[str, ...]
    experiment: Experiment
    path: Path
    epochs_hint: int | None = None

    @property
    def views(self) -> tuple[str, ...]:
        """The views its steps point at, in step order (each once)."""
        return tuple(dict.fromkeys(step.view for step in self.steps if step.view))


def lesson_in_file(path: str | os.PathLike) -> Lesson | None:
    """The lesson the experiment file ``path`` holds, or None for an experiment without a
    ``lesson`` object; FileFormatError naming the file (and the key path) for a bad file."""
    path = Path(path)
    data = _read_json(path)
    try:
        experiment = Experiment.from_json(data)  # checks the lesson object too
    except ConfigError as exc:
        raise FileFormatError(f"{path}: {exc}") from None
    if "lesson" not in data:
        return None
    text = validate_lesson(data["lesson"])
    return Lesson(key=path.stem, title=text["title"], goal=text["goal"],
                  steps=tuple(LessonStep(step["text"], step.get("view")) for step in text["steps"]),
                  questions=tuple(text["questions"]), try_next=tuple(text["try_next"]), experiment=experiment,
                  path=path, epochs_hint=text.get("epochs_hint"))


def load_lesson(path: str | os.PathLike) -> Lesson:
    """The lesson file ``path``; FileFormatError naming the file for a bad file or one
    without a ``lesson`` object."""
    lesson = lesson_in_file(path)
    if lesson is None:
        raise FileFormatError(f"{path}: not a lesson: it is an experiment without a 'lesson' object "
                              "(title, goal, steps, questions, try_next)")
    return lesson


def _order(path: Path) -> tuple[int, int, str]:
    """Numbered files first, by their number; then the others by name."""
    numbered = _NUMBERED.match(path.name)
    return (0, int(numbered.group(1)), path.name) if numbered else (1, 0, path.name)


def lessons(folder: str | os.PathLike = LESSONS_FOLDER, problems: list[str] | None = None) -> list[Lesson]:
    """Every lesson file (``*.json``) in ``folder``, in the order of their numeric prefix.

    A bad file raises FileFormatError naming it; when a ``problems`` list is given it is
    left out instead and its one-line message appended there (a menu still lists the rest).
    A missing folder has no lessons.
    """
    found = []
    for path in sorted(Path(folder).glob("*.json"), key=_order):
        try:
            found.append(load_lesson(path))
        except FileFormatError as exc:
            if problems is None:
                raise
            problems.append(str(exc))
    return found


def lesson_menu_entries(folder: str | os.PathLike = LESSONS_FOLDER, problems: list[str] | None = None
                        ) -> list[tuple[str, str, str]]:
    """(key, title, goal) of every lesson in ``folder``, in menu order: a menu item's key,
    its text and its tooltip (see :func:`lessons` for ``problems``)."""
    return [(lesson.key, lesson.title, lesson.goal) for lesson in lessons(folder, problems)]


def lesson_by_key(key: str, folder: str | os.PathLike = LESSONS_FOLDER) -> Lesson:
    """The lesson whose file in ``folder`` is ``key``.json; FileFormatError for one that is not there."""
    path = Path(folder) / f"{key}.json"
    if not path.is_file():
        known = ", ".join(p.stem for p in sorted(Path(folder).glob("*.json"), key=_order))
        raise FileFormatError(f"{path}: no such lesson; the lessons are {known or 'none'}")
    return load_lesson(path)
