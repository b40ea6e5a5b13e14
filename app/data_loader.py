"""The "Load data" dialog: pick a file or image folder, preview it, choose columns, load.

The dialog shows what :func:`core.loaders.preview_file` finds (format, first rows, each
column's inferred type and default role; of a wide table the first 100 columns and the
target, with a note), lets the user override roles (feature / target / ignore), types
(numeric / categorical), the task, what to do with missing values and, for image folders,
the image size and colour. A table can be read as a time series instead (the "Time series"
group: window, horizon, input columns and the column to predict, with the shape it makes,
"m windows of T × F"; core.loaders.timeseries). Both the preview (a :class:`PreviewThread`, "Reading…"; choosing
another file or closing cancels it) and the load (a :class:`LoadThread` with a progress bar
and a Cancel button) run off the GUI thread, so the window stays usable. Whatever goes wrong
in either, a bad file or no memory left, ends as one message in the dialog (the loader
names the file, line and column) and nothing else changes.

On success, :attr:`LoadDataDialog.dataset` holds the ``core.data.Dataset`` and
:attr:`LoadDataDialog.source` the experiment's ``dataset`` object that reproduces it
(``{"path": ..., "target": ..., "roles": {...}, ...}``, see core.experiment).
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QThread, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.data import Dataset, counted
from core.experiment import dataset_options
from core.loaders.columns import PREVIEW_COLUMNS
from core.loaders.errors import LoadCancelled
from core.loaders.formats import Preview, load_file, preview_file
from core.loaders.options import KINDS, MISSING_POLICIES, ROLES
from core.schema import MAX_STEPS

from .accessibility import describe
from .image_reader import read_image
from .widgets import hint_label

FILE_FILTER = "Data files (*.csv *.tsv *.txt *.dat *.gz *.npz *ubyte *.idx);;All files (*)"
TASK_LABELS = {"auto": "Decide from the target", "classification": "Classification", "regression": "Regression"}
MISSING_LABELS = {"drop": "Drop those rows", "mean": "Fill with the column mean", "most_frequent": "Fill with the most frequent value"}
DEFAULT_WINDOW = 10  # rows a time series' window spans at first
FIRST_INPUT = "The first input column"
SERIES_TIP = ("Read the table as a time series: each sample is a window of consecutive rows of the input columns, its target "
              "the predicted column some rows after the window")


def column_list(text: str) -> list[str] | None:
    """The input columns written in ``text`` (names or positions separated by commas); None
    for an empty text (every numeric column). ValueError for an empty name between commas."""
    if not text.strip():
        return None
    columns = [part.strip() for part in text.split(",")]
    if not all(columns):
        raise ValueError(f"Input columns: {text.strip()!r} leaves a column name empty; write names or positions separated by commas")
    return columns


def windows_text(rows: int, approx: bool, window: int, horizon: int, features: int) -> str:
    """What a time series of ``rows`` rows makes: ``96 windows of 4 × 2`` (``≈`` when the rows
    are estimated), or why it makes none."""
    samples = rows - window - horizon + 1
    if samples < 1:
        return (f"No windows: a window of {counted(window, 'row')} and a horizon of {horizon:,} need at least "
                f"{window + horizon:,} rows; the table has {'about ' if approx else ''}{counted(rows, 'row')}")
    return f"{'≈ ' if approx else ''}{samples:,} windows of {window:,} × {features:,} (steps × features)"


def failure_message(path: Path, exc: Exception) -> str:
    """One line for the dialog about ``exc``, raised while reading ``path``: the project's
    own errors (and OSError) as they are, since they name the file; anything else named."""
    if isinstance(exc, MemoryError):
        return f"{path}: not enough memory to read it"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, (ValueError, OSError)):  # LoaderError, DataError, ResourceError, ConfigError are ValueErrors
        return text or f"{path}: {type(exc).__name__}"
    return f"{path}: cannot be read ({type(exc).__name__}{': ' + text if text else ''})"


class FileThread(QThread):
    """Runs :meth:`work` on a file off the GUI thread; every outcome ends in one signal:
    ``succeeded`` with the result, or ``failed`` with one line (empty when cancelled).
    :meth:`cancel` is thread-safe."""

    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, path: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.path = path
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def work(self) -> object:
        raise NotImplementedError

    def run(self) -> None:
        try:
            result = self.work()
        except LoadCancelled:
            self.failed.emit("")
        except Exception as exc:  # whatever it is (MemoryError too), the dialog shows it instead of waiting forever
            self.failed.emit(failure_message(self.path, exc))
        else:
            self.succeeded.emit(result)


class PreviewThread(FileThread):
    """Runs ``core.loaders.preview_file`` (the result: a Preview)."""

    def work(self) -> Preview:
        return preview_file(self.path, cancel=self._cancel)


class LoadThread(FileThread):
    """Runs ``core.loaders.load_file`` with the experiment ``source``'s options (the result: a Dataset)."""

    progressed = Signal(float, str)  # fraction in [0, 1], short message

    def __init__(self, path: Path, source: dict, parent: QWidget | None = None):
        super().__init__(path, parent)
        self.source = source

    def work(self) -> Dataset:
        options = dataset_options(self.source)
        return load_file(self.path, options, read_image=read_image, progress=self._progress, cancel=self._cancel)

    def _progress(self, fraction: float, message: str) -> None:
        self.progressed.emit(fraction, message)


class LoadDataDialog(QDialog):
    """Choose, preview and load a data file or image folder (see the module docstring)."""

    previewDone = Signal()  # a preview is shown, or why there is none (not sent for a cancelled one)

    def __init__(self, parent: QWidget | None = None, start_dir: str = ""):
        super().__init__(parent)
        self.setObjectName("loadDataDialog")
        self.setWindowTitle("Load data — Epoch Lab")
        self.resize(860, 640)
        self.dataset: Dataset | None = None
        self.source: dict = {}
        self._preview: Preview | None = None
        self._reading: PreviewThread | None = None  # the preview being read
        self._dropped: list[PreviewThread] = []  # previews cancelled but not yet ended
        self._thread: LoadThread | None = None
        self._start_dir = start_dir

        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("dataPathEdit")
        self.path_edit.setPlaceholderText("A CSV/TSV table, an .npz file, an MNIST IDX images file, or a folder of class folders")
        describe(self.path_edit, "Data file or folder", "The file or image folder to load: type a path and press Enter, or browse")
        browse_file = QPushButton("File…")
        browse_file.setObjectName("browseFileButton")
        describe(browse_file, "Choose a file", "Choose a CSV/TSV table, an .npz file or an MNIST IDX file (also .gz)")
        browse_folder = QPushButton("Image folder…")
        browse_folder.setObjectName("browseFolderButton")
        describe(browse_folder, "Choose an image folder", "Choose a folder with one subfolder of images per class")
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(browse_file)
        path_row.addWidget(browse_folder)

        self.summary = hint_label()
        self.summary.setObjectName("loadSummary")
        self.rows_table = QTableWidget()
        self.rows_table.setObjectName("previewTable")
        self.rows_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        describe(self.rows_table, "First rows", "The first rows of the file as it is read")
        self.columns_table = QTableWidget(0, 4)
        self.columns_table.setObjectName("columnsTable")
        self.columns_table.setHorizontalHeaderLabels(["Column", "Type", "Role", "Missing"])
        self.columns_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.columns_table.verticalHeader().setVisible(False)
        describe(self.columns_table, "Columns", "Each column's type and role: set the target (what to predict), features, and columns to ignore")
        self.columns_note = hint_label()
        self.columns_note.setObjectName("columnsNote")
        self.columns_note.hide()

        self.task_combo = QComboBox()
        self.task_combo.setObjectName("taskCombo")
        describe(self.task_combo, "Task", "Classification (the target names classes) or regression (the target is a number)")
        for key, label in TASK_LABELS.items():
            self.task_combo.addItem(label, key)
        self.missing_combo = QComboBox()
        self.missing_combo.setObjectName("missingCombo")
        describe(self.missing_combo, "Missing values", "What to do with rows that miss a feature value (rows without a target are dropped)")
        for key in MISSING_POLICIES:
            self.missing_combo.addItem(MISSING_LABELS[key], key)
        self.image_size = QSpinBox()
        self.image_size.setObjectName("imageSizeSpin")
        self.image_size.setRange(0, 256)
        self.image_size.setSpecialValueText("keep")
        self.image_size.setSuffix(" px")
        describe(self.image_size, "Image size", "Resize every image to a square of this size (keep: all images must have one size)")
        self.colour_combo = QComboBox()
        self.colour_combo.setObjectName("colourCombo")
        describe(self.colour_combo, "Image colour", "Read images as grey levels (one feature per pixel) or in colour (three per pixel)")
        self.colour_combo.addItem("Grey", True)
        self.colour_combo.addItem("Colour (RGB)", False)
        options = QGroupBox("How to read it")
        form = QFormLayout(options)
        form.addRow("Task", self.task_combo)
        form.addRow("Missing values", self.missing_combo)
        form.addRow("Image size", self.image_size)
        form.addRow("Image colour", self.colour_combo)
        self.series_box = self._series_group()

        self.message = QLabel()
        self.message.setObjectName("loadMessage")
        self.message.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("loadProgress")
        self.progress.setRange(0, 1000)
        self.progress.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("cancelLoadButton")
        describe(cancel, "Cancel", "Stop a running load; otherwise close without loading")
        self.load_button = self.buttons.addButton("Load", QDialogButtonBox.ButtonRole.AcceptRole)
        self.load_button.setObjectName("loadButton")
        describe(self.load_button, "Load", "Load the data with these choices (in the background; Cancel stops it)")
        self.load_button.setEnabled(False)

        columns_box = QGroupBox("Columns")
        columns_layout = QVBoxLayout(columns_box)
        columns_layout.addWidget(self.columns_table)
        columns_layout.addWidget(self.columns_note)
        middle = QHBoxLayout()
        middle.addWidget(columns_box, 3)
        side = QVBoxLayout()
        side.addWidget(options)
        side.addWidget(self.series_box)
        side.addStretch(1)
        middle.addLayout(side, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(path_row)
        layout.addWidget(self.summary)
        layout.addWidget(self.rows_table, 2)
        layout.addLayout(middle, 2)
        layout.addWidget(self.message)
        layout.addWidget(self.progress)
        layout.addWidget(self.buttons)

        browse_file.clicked.connect(self._browse_file)
        browse_folder.clicked.connect(self._browse_folder)
        self.path_edit.editingFinished.connect(lambda: self.set_path(self.path_edit.text()))
        self.load_button.clicked.connect(self.start_load)
        self.buttons.rejected.connect(self.reject)

    def _series_group(self) -> QGroupBox:
        """The "Time series" group (unchecked: a plain table); see the module docstring."""
        box = QGroupBox("Time series")
        box.setObjectName("timeSeriesBox")
        box.setCheckable(True)
        box.setChecked(False)
        box.setEnabled(False)
        describe(box, "Read as a time series", SERIES_TIP)
        self.window_spin = QSpinBox()
        self.window_spin.setObjectName("windowSpin")
        self.window_spin.setRange(1, MAX_STEPS)
        self.window_spin.setSuffix(" rows")
        self.window_spin.setValue(DEFAULT_WINDOW)
        describe(self.window_spin, "Window", "How many consecutive rows one sample holds (its steps, T)")
        self.horizon_spin = QSpinBox()
        self.horizon_spin.setObjectName("horizonSpin")
        self.horizon_spin.setRange(1, MAX_STEPS)
        self.horizon_spin.setSuffix(" row ahead")
        describe(self.horizon_spin, "Horizon", "How many rows after a window's last row the predicted value lies (1: the next row)")
        self.series_columns = QLineEdit()
        self.series_columns.setObjectName("seriesColumnsEdit")
        self.series_columns.setPlaceholderText("every numeric column")
        describe(self.series_columns, "Input columns", "The columns each step holds: names or 0-based positions separated by "
                 "commas; empty: every numeric column (not an ID or a row number)")
        self.series_target = QComboBox()
        self.series_target.setObjectName("seriesTargetCombo")
        describe(self.series_target, "Predict", "The column whose future value is the target")
        self.series_shape = hint_label()
        self.series_shape.setObjectName("seriesShapeLabel")
        form = QFormLayout(box)
        form.addRow("Window", self.window_spin)
        form.addRow("Horizon", self.horizon_spin)
        form.addRow("Inputs", self.series_columns)
        form.addRow("Predict", self.series_target)
        form.addRow(self.series_shape)
        box.toggled.connect(self._show_series)
        for spin, unit in ((self.window_spin, "{}"), (self.horizon_spin, "{} ahead")):
            spin.valueChanged.connect(lambda value, spin=spin, unit=unit: spin.setSuffix(" " + unit.format("row" if value == 1 else "rows")))
            spin.valueChanged.connect(self._show_series)
        self.series_columns.textChanged.connect(self._show_series)
        return box

    def _series_on(self) -> bool:
        return self.series_box.isEnabled() and self.series_box.isChecked()

    def _show_series(self) -> None:
        """The settings a time series makes moot are disabled; the shape it makes is shown."""
        on = self._series_on()
        self.columns_table.setEnabled(not on)
        self.task_combo.setEnabled(not on)
        if not on or self._preview is None:
            self.series_shape.setText("")
            return
        try:
            named = column_list(self.series_columns.text())
        except ValueError as exc:
            self.series_shape.setText(str(exc))
            return
        features = len(named) if named else sum(c.kind == "numeric" and c.role != "ignore" for c in self._preview.columns)
        preview = self._preview
        self.series_shape.setText(windows_text(preview.approx_rows or 0, preview.summary.startswith("≈"), self.window_spin.value(),
                                               self.horizon_spin.value(), features))

    def _fill_series(self, preview: Preview) -> None:
        """Offer the time series for a table (its columns to predict), not for other formats."""
        table = preview.format == "table"
        self.series_box.setEnabled(table)
        self.series_box.setToolTip(SERIES_TIP if table else "Only a table (CSV, TSV, …) can be read as a time series")
        self.series_target.clear()
        self.series_target.addItem(FIRST_INPUT, None)
        for column in preview.columns if table else ():
            self.series_target.addItem(column.name, column.name)
        self._show_series()

    # ----- choosing and previewing ----------------------------------------------------------
    def _browse_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load data file", self._start_dir, FILE_FILTER)
        if path:
            self.set_path(path)

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder with one subfolder of images per class", self._start_dir)
        if path:
            self.set_path(path)

    def set_path(self, path: str) -> None:
        """Preview ``path`` in a PreviewThread ("Reading…"); a file that cannot be previewed
        shows why and disables Load. Choosing another file cancels a preview still running."""
        path = path.strip()
        shown = self._reading.path if self._reading is not None else self._preview.path if self._preview is not None else None
        if not path or str(shown) == path:
            return
        self.path_edit.setText(path)
        self._drop_reading()
        self._preview = None
        self.rows_table.clear()
        self.rows_table.setRowCount(0)
        self.rows_table.setColumnCount(0)
        self.columns_table.setRowCount(0)
        self.columns_note.hide()
        self.series_box.setEnabled(False)
        self._show_series()
        self.load_button.setEnabled(False)
        self.summary.setText(f"Reading {Path(path).name}…")
        self.message.setText("")
        self._reading = PreviewThread(Path(path), self)
        self._reading.succeeded.connect(self._on_previewed)
        self._reading.failed.connect(self._on_preview_failed)
        self._reading.finished.connect(self._forget_dropped)
        self._reading.start()

    def _drop_reading(self) -> None:
        """Cancel the preview being read; it ends on its own and its result is ignored."""
        if self._reading is not None:
            self._reading.cancel()
            self._dropped.append(self._reading)
            self._reading = None

    @Slot()
    def _forget_dropped(self) -> None:
        thread = self.sender()
        if thread in self._dropped:
            self._dropped.remove(thread)
            thread.deleteLater()

    def _stop_previews(self) -> None:
        """Cancel every preview still running and wait for it to end (it stops at its next
        block of rows)."""
        self._drop_reading()
        for thread in self._dropped:
            thread.wait()
            thread.deleteLater()
        self._dropped.clear()

    def _take_reading(self) -> bool:
        """Whether the signal comes from the preview being read (then it is done with)."""
        if self.sender() is not self._reading:
            return False
        self._reading.wait()
        self._reading.deleteLater()
        self._reading = None
        return True

    @Slot(object)
    def _on_previewed(self, preview: Preview) -> None:
        if not self._take_reading():
            return
        self._preview = preview
        self.summary.setText(f"{preview.format}: {preview.summary}")
        self._fill_rows(preview)
        self._fill_columns(preview)
        images = preview.format == "images"
        self.image_size.setEnabled(images)
        self.colour_combo.setEnabled(images)
        self._fill_series(preview)
        missing = [(c.name, c.missing) for c in preview.columns if c.missing]
        if missing:
            where = ", ".join(f"{name} ({count})" for name, count in missing[:6])
            self._show_note(f"Missing values in the first rows: {where}. Choose below whether to drop or fill them.")
        else:
            self.message.setText("")
        self.load_button.setEnabled(True)
        self.previewDone.emit()

    @Slot(str)
    def _on_preview_failed(self, message: str) -> None:
        if not self._take_reading():
            return
        self.summary.setText("")
        if message:
            self._show_error(message)
        self.previewDone.emit()

    def _fill_rows(self, preview: Preview) -> None:
        names = [c.name for c in preview.columns]
        self.rows_table.setColumnCount(len(names))
        self.rows_table.setHorizontalHeaderLabels(names)
        self.rows_table.setRowCount(len(preview.rows))
        for r, row in enumerate(preview.rows):
            for c, text in enumerate(row):
                self.rows_table.setItem(r, c, QTableWidgetItem(text))
        self.rows_table.resizeColumnsToContents()

    def _fill_columns(self, preview: Preview) -> None:
        if preview.width > len(preview.columns):  # a wide table: the first columns, the target and the columns chosen
            extra = [column.name for column in preview.columns[PREVIEW_COLUMNS:]]
            also = f" and {', '.join(extra)}" if extra else ""
            self.columns_note.setText(f"Showing {len(preview.columns):,} of the {preview.width:,} columns: the first "
                                      f"{PREVIEW_COLUMNS}{also}. The others load as features unless empty, an ID or a row number.")
        self.columns_note.setVisible(preview.width > len(preview.columns))
        self.columns_table.setRowCount(len(preview.columns))
        for r, column in enumerate(preview.columns):
            self.columns_table.setItem(r, 0, QTableWidgetItem(column.name))
            kind = QComboBox()
            kind.addItems(KINDS)
            kind.setCurrentText(column.kind)
            describe(kind, f"Type of {column.name}", f"Read {column.name!r} as numbers, or as categories (one-hot encoded)")
            role = QComboBox()
            role.addItems(ROLES)
            role.setCurrentText(column.role)
            describe(role, f"Role of {column.name}", f"Use {column.name!r} as a feature, as the target to predict, or ignore it")
            role.currentTextChanged.connect(lambda text, row=r: self._on_role(row, text))
            self.columns_table.setCellWidget(r, 1, kind)
            self.columns_table.setCellWidget(r, 2, role)
            self.columns_table.setItem(r, 3, QTableWidgetItem(str(column.missing)))

    def _on_role(self, row: int, role: str) -> None:
        """Only one target: choosing a new one makes the old target a feature."""
        if role != "target":
            return
        for r in range(self.columns_table.rowCount()):
            combo = self.columns_table.cellWidget(r, 2)
            if r != row and combo.currentText() == "target":
                combo.setCurrentText("feature")

    def set_role(self, column: str, role: str) -> None:
        """Set the role of the column named ``column`` (as a user would in the table)."""
        for r in range(self.columns_table.rowCount()):
            if self.columns_table.item(r, 0).text() == column:
                self.columns_table.cellWidget(r, 2).setCurrentText(role)
                return
        raise KeyError(column)

    # ----- loading --------------------------------------------------------------------------
    def current_source(self) -> dict:
        """The experiment ``dataset`` object for the file and the choices made now: a time
        series' window, horizon, columns and target when the Time series group is ticked.
        ValueError for input columns that cannot be read."""
        source: dict = {"path": str(self._preview.path) if self._preview else self.path_edit.text().strip()}
        if self._series_on():
            return source | self._series_source()
        roles, types = {}, {}
        for r, column in enumerate(self._preview.columns if self._preview else ()):
            kind = self.columns_table.cellWidget(r, 1).currentText()
            role = self.columns_table.cellWidget(r, 2).currentText()
            if role == "target":
                source["target"] = column.name
            elif role != column.role or column.role == "target":
                roles[column.name] = role
            if kind != column.kind:
                types[column.name] = kind
        if roles:
            source["roles"] = roles
        if types:
            source["types"] = types
        if self.task_combo.currentData() != "auto":
            source["task"] = self.task_combo.currentData()
        source["missing"] = self.missing_combo.currentData()
        if self._preview is not None and self._preview.format == "images":
            if self.image_size.value():
                source["image_size"] = [self.image_size.value(), self.image_size.value()]
            source["grey"] = bool(self.colour_combo.currentData())
        return source

    def _series_source(self) -> dict:
        """The time-series keys of the experiment's ``dataset`` object, and the missing-value policy."""
        series: dict = {"window": self.window_spin.value()}
        if self.horizon_spin.value() != 1:
            series["horizon"] = self.horizon_spin.value()
        columns = column_list(self.series_columns.text())
        if columns:
            series["columns"] = columns
        if self.series_target.currentData() is not None:
            series["target"] = self.series_target.currentData()
        return series | {"missing": self.missing_combo.currentData()}

    @Slot()
    def start_load(self) -> None:
        """Load with the current choices in a background thread."""
        if self._thread is not None:
            return
        try:
            source = self.current_source()
            dataset_options(source)
        except ValueError as exc:
            self._show_error(str(exc))
            return
        self._thread = LoadThread(Path(source["path"]), source, self)
        self._thread.progressed.connect(self._on_progress)
        self._thread.succeeded.connect(self._on_loaded)
        self._thread.failed.connect(self._on_failed)
        self.source = source
        self.progress.setValue(0)
        self.progress.show()
        self.load_button.setEnabled(False)
        self.message.setText("Loading…")
        self._thread.start()

    @Slot(float, str)
    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(round(fraction * 1000))
        self.progress.setFormat(f"{message} — %p%")

    @Slot(object)
    def _on_loaded(self, dataset: Dataset) -> None:
        if self.sender() is not self._thread:  # a load cancelled after it had finished
            return
        self._finish_thread()
        self.dataset = dataset
        self.accept()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self.sender() is not self._thread:
            return
        self._finish_thread()
        self.progress.hide()
        self.load_button.setEnabled(True)
        if message:
            self._show_error(message)
        else:
            self._show_note("Loading was cancelled; nothing changed.")

    def _finish_thread(self) -> None:
        if self._thread is not None:
            self._thread.wait()
            self._thread.deleteLater()
            self._thread = None

    def reject(self) -> None:
        """Cancel a running load (and wait for it) before closing: the first Cancel stops the
        load and keeps the dialog open. Previews still being read are cancelled either way."""
        self._stop_previews()
        if self._thread is not None:
            self._thread.cancel()
            self._thread.wait()
            self._thread.deleteLater()
            self._thread = None
            self.progress.hide()
            self.load_button.setEnabled(True)
            self._show_note("Loading was cancelled; nothing changed.")
            return
        super().reject()

    def done(self, result: int) -> None:
        """Close (accepted or not) with no preview left running."""
        self._stop_previews()
        super().done(result)

    def _show_error(self, text: str) -> None:
        self.message.setStyleSheet("color: #b3261e;")
        self.message.setText(text)

    def _show_note(self, text: str) -> None:
        self.message.setStyleSheet("")
        self.message.setText(text)
