"""The Runs view: every run of the session in a table, to compare, show or hide, rename and delete.

One row per run (:class:`~core.run.Run`, oldest first; the current run in bold): whether the
plots draw it (a check box), its name (edit it in place), epochs, optimizer, α, batch size,
L1/L2, the final and best loss and metric (best validation where the run has a validation
part, with the epoch of the best loss) and the seconds it trained (``Run.summary()``).

It is a :class:`~app.views.common.LiveView`: the window's redraw scheduler refreshes it
when the session's ``version`` changes, and only while it is on screen. Every edit goes to
the session (``rename``, ``set_visible``, ``remove``) and is announced by a signal, so the
window can mark the file changed and draw the plots again.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QMenu,
    QMessageBox,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.run import Run, Session

from ..history import RunHistory
from ..layer_stats import compact_number
from .common import header_row, readout_label

SHOW, NAME = 0, 1  # the check box column and the editable name column
COLUMNS = (  # (header, the summary key shown, tooltip)
    ("Show", None, "Draw this run on the loss and metric plots (faded, behind the current run)"),
    ("Run", "name", "The run's name (double-click to rename it); the current run is in bold"),
    ("Epochs", "epochs", "Epochs trained (a branch counts those of the run it started from)"),
    ("Optimizer", "optimizer", "The optimizer it trained with"),
    ("α", "learning_rate", "The learning rate it started with"),
    ("Batch", "batch_size", "The mini-batch size"),
    ("L1", "l1", "The L1 penalty λ₁"),
    ("L2", "l2", "The L2 penalty λ₂"),
    ("Loss", "final_loss", "The loss after the last epoch (validation where there is a validation part)"),
    ("Best loss", "best_loss", "The lowest loss of the run, and (in brackets) the epoch it was reached at"),
    ("Metric", "final_metric", "Accuracy or R² after the last epoch (validation where there is a validation part)"),
    ("Best metric", "best_metric", "The highest accuracy or R² of the run"),
    ("Time", "seconds", "Seconds spent training it"),
)
NUMBERS = {"learning_rate", "l1", "l2", "final_loss", "best_loss"}
TEXTS = {"name", "optimizer"}  # left-aligned; the numbers are right-aligned
RIGHT_ALIGNED = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def metric_text(value: float | None, metric_name: str) -> str:
    """An accuracy as a percentage ("93.1 %"), an R² as a number ("R² 0.912"); "—" for none."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.1%}" if metric_name == "accuracy" else f"R² {value:.3f}"


def seconds_text(seconds: float) -> str:
    """Training time: "4.2 s", "3 min 12 s", "1 h 05 min"."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def cell_text(summary: dict, key: str) -> str:
    """What the runs table writes for ``key`` of a run's ``summary`` (Run.summary())."""
    value = summary[key]
    if key == "best_loss" and value is not None:
        return f"{compact_number(value)} ({summary['best_epoch']})"
    if key in ("final_metric", "best_metric"):
        return metric_text(value, summary["metric_name"])
    if key == "seconds":
        return seconds_text(value)
    if value is None:
        return "—"
    if key in NUMBERS:
        return compact_number(float(value))
    return str(value)


class RunsModel(QAbstractTableModel):
    """The session's runs as table rows (``history.session``: File ▸ Open may bring another).
    :meth:`sync` follows the session; until then the rows keep the runs they had (a run the
    session deleted meanwhile is still drawn, never looked up). A row's texts are computed
    once per change of its run (new epochs, a name) and only changed rows are redrawn, so a
    frame of a training session redraws the current run's row alone. Edits go to the session
    and are announced by the signals."""

    runRenamed = Signal(int, str)  # run id, new name
    runShown = Signal(int, bool)  # run id, whether the plots draw it
    problem = Signal(str)  # one line: an edit the session refused

    def __init__(self, history: RunHistory, parent=None):
        super().__init__(parent)
        self._history = history
        self._runs: list[Run] = []
        self._rows: dict[int, tuple[tuple, dict, tuple[str, ...]]] = {}  # id() of a run -> (its key, summary, texts)
        self._drawn: dict[int, tuple] = {}  # id() of a run -> the key its row was last drawn with
        self._widest = [0] * len(COLUMNS)  # characters of the longest text of each column so far
        self._bold = QFont()
        self._bold.setBold(True)

    @property
    def session(self) -> Session:
        return self._history.session

    def run_at(self, row: int) -> Run:
        return self._runs[row]

    def row_of(self, run_id: int) -> int:
        return next(row for row, run in enumerate(self._runs) if run.id == run_id)

    def sync(self) -> list[int]:
        """Follow the session: rows again when runs came or went, else the rows whose run
        changed. Returns the columns to fit to their texts again: all of them after new rows,
        else those that got a longer text than any before."""
        runs = list(self.session.runs)
        keys = [id(run) for run in runs]
        self._rows = {key: kept for key, kept in self._rows.items() if key in keys}
        if keys != [id(run) for run in self._runs]:
            self.beginResetModel()
            self._runs = runs
            self._drawn = {id(run): self._key(run) for run in runs}
            self.endResetModel()
            self._widened(runs)
            return list(range(len(COLUMNS)))  # rows came or went: every column fits them
        changed = []
        for row, run in enumerate(runs):
            key = self._key(run)
            if self._drawn.get(id(run)) != key:
                self._drawn[id(run)] = key
                changed.append(run)
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        return self._widened(changed)

    def _widened(self, runs: list[Run]) -> list[int]:
        widened = []
        for column in range(len(COLUMNS)):
            widest = max((len(self._row(run)[2][column]) for run in runs), default=0)
            if widest > self._widest[column]:
                self._widest[column] = widest
                widened.append(column)
        return widened

    def _key(self, run: Run) -> tuple:
        """What a row shows depends on: its epochs, name, visibility and whether it is current."""
        return len(run.record), run.name, run.visible, run is self.session.current

    def summary(self, run: Run) -> dict:
        """``run.summary()`` as of its epochs now (computed once per change of the run)."""
        return self._row(run)[1]

    def _row(self, run: Run) -> tuple[tuple, dict, tuple[str, ...]]:
        key = (len(run.record), run.name)
        kept = self._rows.get(id(run))
        if kept is None or kept[0] != key:
            summary = {**run.summary(), "name": run.name}
            kept = self._rows[id(run)] = (key, summary, tuple("" if name is None else cell_text(summary, name)
                                                              for _, name, _ in COLUMNS))
        return kept

    # ----- QAbstractTableModel --------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._runs)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section][2]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == SHOW:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        elif index.column() == NAME:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        run, column = self._runs[index.row()], index.column()
        value = None
        if column == SHOW:
            if role == Qt.ItemDataRole.CheckStateRole:
                value = Qt.CheckState.Checked if run.visible else Qt.CheckState.Unchecked
        elif role == Qt.ItemDataRole.DisplayRole:
            value = self._row(run)[2][column]
        elif role == Qt.ItemDataRole.EditRole and column == NAME:
            value = run.name
        elif role == Qt.ItemDataRole.FontRole and run is self.session.current:
            value = self._bold
        elif role == Qt.ItemDataRole.TextAlignmentRole and COLUMNS[column][1] not in TEXTS:
            value = RIGHT_ALIGNED
        elif role == Qt.ItemDataRole.ToolTipRole and column == NAME:
            value = self._name_tip(run)
        return value

    def _name_tip(self, run: Run) -> str:
        parts = [f"{run.name}: the run training now" if run is self.session.current else run.name]
        if run.parent is not None:
            try:
                parts.append(f"branched from {self.session.get(run.parent).name} after epoch {run.branch_epoch}")
            except KeyError:
                pass
        part = self.summary(run)["part"]
        if part is not None:
            parts.append(f"losses and metrics of the {'validation' if part == 'val' else 'training'} part")
        return "; ".join(parts)

    def setData(self, index: QModelIndex | QPersistentModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid():
            return False
        run = self.run_at(index.row())
        if run not in self.session.runs:
            return False  # deleted since the last frame
        if index.column() == SHOW and role == Qt.ItemDataRole.CheckStateRole:
            shown = Qt.CheckState(value) == Qt.CheckState.Checked
            self.session.set_visible(run.id, shown)
            self.dataChanged.emit(index, index)
            self.runShown.emit(run.id, shown)
            return True
        if index.column() == NAME and role == Qt.ItemDataRole.EditRole:
            try:
                self.session.rename(run.id, str(value))
            except ValueError as exc:
                self.problem.emit(f"{run.name}: {exc}")
                return False
            self.dataChanged.emit(index, index)
            self.runRenamed.emit(run.id, run.name)
            return True
        return False


class RunsTable(QWidget):
    """The Runs view: a header line (what the table is, the Delete button) over the table.

    Signals for the window: ``runDeleted(id)``, ``runRenamed(id, name)``, ``runShown(id,
    shown)`` after the session took the edit, and ``edited()`` after any of them (mark the
    file changed, schedule a frame). :meth:`delete_run` deletes without asking; the Delete
    button, the Delete key and the context menu ask first."""

    runDeleted = Signal(int)
    runRenamed = Signal(int, str)
    runShown = Signal(int, bool)
    edited = Signal()

    def __init__(self, history: RunHistory, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("runsView")
        self._history = history
        self._version = -1
        self._session: Session | None = None
        self.model = RunsModel(history, self)
        self.table = QTableView()
        self.table.setObjectName("runsTable")
        self.table.setAccessibleName("Runs of this session")
        self.table.setToolTip("Every run of the session: uncheck Show to hide its curves, double-click a name to rename it")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        # columns fit their texts (whole names; a narrow dock scrolls sideways), widened by refresh() only when a
        # longer text comes: Qt's ResizeToContents asks every cell again at every change (1200 calls a frame for 10 runs)
        self.table.horizontalHeader().setStretchLastSection(True)

        self.delete_action = QAction("Delete run…", self)
        self.delete_action.setObjectName("deleteRunAction")
        self.delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.delete_action.setToolTip("Delete the selected run from the session (not the one training now)")
        self.delete_action.triggered.connect(self.ask_delete_selected)
        self.table.addAction(self.delete_action)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        delete_button = QToolButton()
        delete_button.setObjectName("deleteRunButton")
        delete_button.setDefaultAction(self.delete_action)
        delete_button.setAccessibleName("Delete run")

        self.readout = readout_label("runsReadout")
        header_widget, header_layout = header_row()
        header_layout.addWidget(self.readout, 1)
        header_layout.addWidget(delete_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(header_widget)
        layout.addWidget(self.table, 1)

        self.model.runRenamed.connect(self._on_renamed)
        self.model.runShown.connect(self._on_shown)
        self.model.problem.connect(self.readout.setText)
        self.table.selectionModel().selectionChanged.connect(self._update_action)
        self.model.modelReset.connect(self._update_action)
        self._update_action()

    # ----- LiveView -------------------------------------------------------------------------------
    def stale(self) -> bool:
        return self._history.session is not self._session or self._history.version != self._version

    def refresh(self) -> None:
        self._session, self._version = self._history.session, self._history.version
        selected = self.selected_run()
        for column in self.model.sync():
            self.table.resizeColumnToContents(column)
        if selected is not None and selected.id in [run.id for run in self._session.runs]:
            self.select_run(selected.id)
        count = len(self._session.runs)
        self.readout.setText(f"{count} run{'s' if count != 1 else ''} in this session · uncheck one to hide its curves")
        self._update_action()

    def new_run(self) -> None:
        """Nothing to forget: the table is the session's."""

    # ----- selection and deletion ----------------------------------------------------------------
    def selected_run(self) -> Run | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.run_at(rows[0].row()) if rows else None

    def select_run(self, run_id: int) -> None:
        self.table.selectRow(self.model.row_of(run_id))

    def delete_run(self, run_id: int) -> None:
        """Delete run ``run_id`` from the session (not the current one: the message says so)."""
        run = self.model.session.get(run_id)
        try:
            self.model.session.remove(run_id)
        except ValueError as exc:
            self.readout.setText(f"{run.name}: {exc}")
            return
        self.refresh()
        self.runDeleted.emit(run_id)
        self.edited.emit()

    def ask_delete_selected(self) -> None:
        run = self.selected_run()
        if run is None or run is self.model.session.current:
            return
        answer = QMessageBox.question(self, "Delete run", f"Delete {run.name} and its {run.epochs} epochs from this session? "
                                      "This cannot be undone.")
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_run(run.id)

    def _update_action(self) -> None:
        run = self.selected_run()
        self.delete_action.setEnabled(run is not None and run is not self.model.session.current)

    def _context_menu(self, position) -> None:
        index = self.table.indexAt(position)
        if not index.isValid():
            return
        self.table.selectRow(index.row())
        menu = QMenu(self)
        menu.addAction(self.delete_action)
        menu.exec(self.table.viewport().mapToGlobal(position))

    def _on_renamed(self, run_id: int, name: str) -> None:
        self.runRenamed.emit(run_id, name)
        self.edited.emit()

    def _on_shown(self, run_id: int, shown: bool) -> None:
        self.runShown.emit(run_id, shown)
        self.edited.emit()
