"""The "Load data" dialog: pick a file or image folder, preview it, choose columns, load.

The dialog shows what :func:`core.loaders.preview_file` finds (format, first rows, each
column's inferred type and default role), lets the user override roles (feature / target /
ignore), types (numeric / categorical), the task, what to do with missing values and,
for image folders, the image size and colour. Loading runs in a :class:`LoadThread` with a
progress bar and a Cancel button; the window stays usable. A bad file shows its message
in the dialog (the loader names the file, line and column) and nothing else changes.

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

from core.data import Dataset
from core.experiment import dataset_options
from core.loaders.errors import LoadCancelled
from core.loaders.formats import Preview, load_file, preview_file
from core.loaders.options import KINDS, MISSING_POLICIES, ROLES

from .accessibility import describe
from .image_reader import read_image
from .widgets import hint_label

FILE_FILTER = "Data files (*.csv *.tsv *.txt *.dat *.gz *.npz *ubyte *.idx);;All files (*)"
TASK_LABELS = {"auto": "Decide from the target", "classification": "Classification", "regression": "Regression"}
MISSING_LABELS = {"drop": "Drop those rows", "mean": "Fill with the column mean", "most_frequent": "Fill with the most frequent value"}


class LoadThread(QThread):
    """Runs ``core.loaders.load_file`` off the GUI thread; :meth:`cancel` is thread-safe."""

    progressed = Signal(float, str)  # fraction in [0, 1], short message
    loaded = Signal(object)  # the Dataset
    failed = Signal(str)  # the loader's message (empty when cancelled)

    def __init__(self, path: Path, source: dict, parent: QWidget | None = None):
        super().__init__(parent)
        self.path, self.source = path, source
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:
        try:
            dataset = load_file(self.path, dataset_options(self.source), read_image=read_image,
                                progress=self._progress, cancel=self._cancel)
        except LoadCancelled:
            self.failed.emit("")
        except (ValueError, OSError) as exc:  # LoaderError, DataError, ConfigError are ValueErrors
            self.failed.emit(str(exc))
        else:
            self.loaded.emit(dataset)

    def _progress(self, fraction: float, message: str) -> None:
        self.progressed.emit(fraction, message)


class LoadDataDialog(QDialog):
    """Choose, preview and load a data file or image folder (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None, start_dir: str = ""):
        super().__init__(parent)
        self.setObjectName("loadDataDialog")
        self.setWindowTitle("Load data — Epoch Lab")
        self.resize(860, 640)
        self.dataset: Dataset | None = None
        self.source: dict = {}
        self._preview: Preview | None = None
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
        middle = QHBoxLayout()
        middle.addWidget(columns_box, 3)
        middle.addWidget(options, 2)
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
        """Preview ``path``; a file that cannot be previewed shows why and disables Load."""
        path = path.strip()
        if not path or (self._preview is not None and str(self._preview.path) == path):
            return
        self.path_edit.setText(path)
        self._preview = None
        self.rows_table.clear()
        self.rows_table.setRowCount(0)
        self.columns_table.setRowCount(0)
        try:
            preview = preview_file(path)
        except (ValueError, OSError) as exc:
            self._show_error(str(exc))
            self.summary.setText("")
            self.load_button.setEnabled(False)
            return
        self._preview = preview
        self.summary.setText(f"{preview.format}: {preview.summary}")
        self._fill_rows(preview)
        self._fill_columns(preview)
        images = preview.format == "images"
        self.image_size.setEnabled(images)
        self.colour_combo.setEnabled(images)
        missing = [(c.name, c.missing) for c in preview.columns if c.missing]
        if missing:
            where = ", ".join(f"{name} ({count})" for name, count in missing[:6])
            self._show_note(f"Missing values in the first rows: {where}. Choose below whether to drop or fill them.")
        else:
            self.message.setText("")
        self.load_button.setEnabled(True)

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
        """The experiment ``dataset`` object for the file and the choices made now."""
        source: dict = {"path": str(self._preview.path) if self._preview else self.path_edit.text().strip()}
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

    @Slot()
    def start_load(self) -> None:
        """Load with the current choices in a background thread."""
        if self._thread is not None:
            return
        source = self.current_source()
        try:
            dataset_options(source)
        except ValueError as exc:
            self._show_error(str(exc))
            return
        self._thread = LoadThread(Path(source["path"]), source, self)
        self._thread.progressed.connect(self._on_progress)
        self._thread.loaded.connect(self._on_loaded)
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
        """Cancel a running load (and wait for it) before closing."""
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

    def _show_error(self, text: str) -> None:
        self.message.setStyleSheet("color: #b3261e;")
        self.message.setText(text)

    def _show_note(self, text: str) -> None:
        self.message.setStyleSheet("")
        self.message.setText(text)
