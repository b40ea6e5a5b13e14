"""Training ▸ Continue from here: the settings a branch starts with.

:class:`BranchDialog` shows the settings of the run at the checkpoint (learning rate,
optimizer, L1, L2, batch size) for the user to change; :meth:`BranchDialog.changes` gives
those that differ, as ``TrainingConfig`` fields, for ``MainWindow.continue_from``.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from core.trainer import TrainingConfig

from .training_controls import OPTIMIZER_TITLES
from .widgets import LogSpinBox


class BranchDialog(QDialog):
    """Asks how a branch from the checkpoint at ``epoch`` of ``run_name`` trains, starting from ``config``."""

    def __init__(self, run_name: str, epoch: int, config: TrainingConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("branchDialog")
        self.setWindowTitle("Continue from here")
        self._config = config
        self.learning_rate = LogSpinBox(1e-6, 10.0, config.learning_rate)
        self.learning_rate.setObjectName("branchLearningRate")
        self.optimizer = QComboBox()
        self.optimizer.setObjectName("branchOptimizer")
        for name, title in OPTIMIZER_TITLES.items():
            self.optimizer.addItem(title, name)
        self.optimizer.setCurrentIndex(self.optimizer.findData(config.optimizer))
        self.l1 = LogSpinBox(0.0, 10.0, config.l1)
        self.l1.setObjectName("branchL1")
        self.l2 = LogSpinBox(0.0, 10.0, config.l2)
        self.l2.setObjectName("branchL2")
        self.batch_size = QSpinBox()
        self.batch_size.setObjectName("branchBatchSize")
        self.batch_size.setRange(1, 1_000_000)
        self.batch_size.setValue(config.batch_size)
        form = QFormLayout()
        form.addRow("Learning rate α", self.learning_rate)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("L1 penalty", self.l1)
        form.addRow("L2 penalty", self.l2)
        form.addRow("Batch size", self.batch_size)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start the branch")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"A new run starts from {run_name} after epoch {epoch}, with these settings; "
                                f"{run_name} stays as it is."))
        layout.addLayout(form)
        layout.addWidget(buttons)

    def changes(self) -> dict:
        """The settings changed from the run's, as TrainingConfig fields."""
        chosen = {"learning_rate": self.learning_rate.value(), "optimizer": self.optimizer.currentData(),
                  "l1": self.l1.value(), "l2": self.l2.value(), "batch_size": self.batch_size.value()}
        return {name: value for name, value in chosen.items() if getattr(self._config, name) != value}
