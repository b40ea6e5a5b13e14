"""The data as a table, to choose a sample by its index: one row per sample (its dataset
index in the row header), its part (training or validation), its target, then its features.

The model is lazy: it formats only the cells Qt draws, and rows and columns keep one fixed
size (nothing is measured per cell), so 70,000 × 784 opens at once."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from core.data import Dataset
from core.insight import sample_target_text

PART, TARGET = 0, 1  # the columns before the features
FEATURE_DIGITS = 6  # significant digits of a feature in the table
RIGHT_ALIGNED = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class SampleModel(QAbstractTableModel):
    """Rows: the samples of a dataset; columns: part, target, then each feature."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self._validation: np.ndarray | None = None  # (m,) bool

    def set_dataset(self, dataset: Dataset | None, validation: np.ndarray | None = None) -> None:
        """Show ``dataset``; ``validation`` (m,) bool marks its validation samples (None: the part is not known)."""
        self.beginResetModel()
        self.dataset, self._validation = dataset, validation
        self.endResetModel()

    def set_validation(self, validation: np.ndarray | None) -> None:
        """A new training/validation split of the same data."""
        self._validation = validation
        if self.dataset is not None and self.dataset.n_samples:
            self.dataChanged.emit(self.index(0, PART), self.index(self.dataset.n_samples - 1, PART))

    def part(self, row: int) -> str:
        if self._validation is None:
            return ""
        return "validation" if self._validation[row] else "training"

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() or self.dataset is None else self.dataset.n_samples

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.dataset is None else 2 + self.dataset.n_features

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if self.dataset is None or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        if orientation == Qt.Orientation.Vertical:
            text, tip = str(section), f"sample {section} (its index in the data set, from 0)"
        elif section == PART:
            text, tip = "part", "Whether the sample is in the training or the validation part"
        elif section == TARGET:
            text, tip = "target", "The sample's target: its class, or the value to predict"
        else:
            text = self._feature_name(section - 2)
            tip = f"input feature {section - 1}: {text} (raw units)"
        return text if role == Qt.ItemDataRole.DisplayRole else tip

    def _feature_name(self, column: int) -> str:
        names = self.dataset.feature_names
        return names[column] if column < len(names) else f"x{column + 1}"

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.dataset is None:
            return None
        row, column = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == PART:
                return self.part(row)
            if column == TARGET:
                return sample_target_text(self.dataset, row)
            return f"{float(self.dataset.X[row, column - 2]):.{FEATURE_DIGITS}g}"
        if role == Qt.ItemDataRole.TextAlignmentRole and column > TARGET:
            return RIGHT_ALIGNED
        return None


class SampleTable(QTableView):
    """The table of :class:`SampleModel`; choosing a row (click, arrow keys) emits
    ``samplePicked(index)``; :meth:`set_current` moves to a row without emitting."""

    samplePicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sampleTable")
        self.setAccessibleName("Samples of the data set")
        self.setToolTip("Choose a sample to inspect: click its row (the row header is its index in the data set)")
        self.sample_model = SampleModel(self)
        self.setModel(self.sample_model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        metrics = QFontMetrics(self.font())
        for header in (self.horizontalHeader(), self.verticalHeader()):  # fixed sizes: nothing measured per cell
            header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive if header is self.horizontalHeader()
                                        else QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setDefaultSectionSize(metrics.horizontalAdvance("−0.000000e−00") + 12)
        self.verticalHeader().setDefaultSectionSize(metrics.height() + 6)
        self.horizontalHeader().setHighlightSections(False)
        self.selectionModel().currentRowChanged.connect(self._row_changed)
        self._quiet = False

    def set_dataset(self, dataset: Dataset | None, validation: np.ndarray | None = None) -> None:
        self.sample_model.set_dataset(dataset, validation)

    def set_current(self, index: int) -> None:
        """Select and show row ``index`` (when it exists) without emitting ``samplePicked``."""
        if not 0 <= index < self.sample_model.rowCount():
            return
        self._quiet = True
        try:
            self.selectRow(index)
            self.scrollTo(self.sample_model.index(index, 0))
        finally:
            self._quiet = False

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and not self._quiet:
            self.samplePicked.emit(current.row())
