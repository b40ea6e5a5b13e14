"""The run toolbar: Play/Pause, Step epoch, Step batch, Reset, where the run is, speed, learning rate.

The four commands are the window's actions (:mod:`app.actions`, with their shortcuts Space,
→, Shift+→, Ctrl+R); the toolbar shows them as buttons. Right after them it shows where
the run is: epoch (and mini-batch) against the epochs target, so the counter stays in
sight on a narrow screen. Two more readouts, the time spent training and the throughput,
are made here and shown by the window in its status bar.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QStyle, QToolBar, QToolButton, QWidget

from .actions import Actions
from .training_controls import check_box_holds
from .widgets import LogSpinBox, ProgressStrip

SPEEDS = (("Full speed", 0.0), ("100 epochs/s", 100.0), ("30 epochs/s", 30.0), ("10 epochs/s", 10.0),
          ("3 epochs/s", 3.0), ("1 epoch/s", 1.0), ("1 epoch / 3 s", 1 / 3))


def _format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    return f"{hours}:{minutes:02d}:{rest:04.1f}" if hours else f"{minutes}:{rest:04.1f}"


def _format_rate(rate: float) -> str:
    for limit, suffix in ((1e6, "M"), (1e3, "k")):
        if rate >= limit:
            return f"{rate / limit:.3g}{suffix}"
    return f"{rate:.3g}"


class RunControls(QToolBar):
    """The toolbar that runs training; its actions are the window's Training commands."""

    speedChanged = Signal(float)  # epochs per second, 0: as fast as possible
    learningRateChanged = Signal(float)
    editingDone = Signal()  # Enter in the learning-rate box: the window gives the focus back to the plots

    def __init__(self, actions: Actions, parent: QWidget | None = None):
        super().__init__("Run", parent)
        self.setObjectName("runToolBar")
        self.playing = False  # whether training runs (Play shows Pause)
        self.setMovable(False)
        self.setFloatable(False)
        self.setIconSize(QSize(20, 20))
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        style = self.style()
        self._play_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        self._pause_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPause)
        self.play_action, self.step_epoch_action, self.step_batch_action, self.reset_action = (
            actions[name] for name in ("play", "stepEpoch", "stepBatch", "reset"))
        for action, icon, button_name in ((self.play_action, self._play_icon, "playButton"),
                                          (self.step_epoch_action, QStyle.StandardPixmap.SP_MediaSkipForward, "stepEpochButton"),
                                          (self.step_batch_action, QStyle.StandardPixmap.SP_MediaSeekForward, "stepBatchButton"),
                                          (self.reset_action, QStyle.StandardPixmap.SP_BrowserReload, "resetButton")):
            action.setIcon(icon if action is self.play_action else style.standardIcon(icon))
            self.addAction(action)
            button = self.widgetForAction(action)
            assert isinstance(button, QToolButton)
            button.setObjectName(button_name)
            button.setAccessibleName(action.text())
        self.addSeparator()

        self.epoch_label = QLabel()
        self.epoch_label.setObjectName("epochLabel")
        self.epoch_label.setToolTip("Epochs completed (and mini-batches into the next) of the epochs target")
        self.epoch_label.setAccessibleName("Epochs completed")
        self.progress = ProgressStrip()
        self.progress.setObjectName("epochProgress")
        self.progress.setToolTip("Progress towards the epochs target")
        self.progress.setAccessibleName("Progress towards the epochs target")
        self.progress.setMinimumWidth(60)
        for widget in (self.epoch_label, self.progress):
            self.addWidget(widget)
            widget.setContentsMargins(6, 0, 6, 0)
        self.addSeparator()

        self.speed = QComboBox()
        self.speed.setObjectName("speedCombo")
        for title, value in SPEEDS:
            self.speed.addItem(title, value)
        self.speed.setToolTip("How fast Play runs: as fast as the computer can, or in slow motion to watch every epoch")
        self.speed.setAccessibleName("Training speed")
        self.addWidget(self.speed)
        self.addSeparator()

        self.learning_rate = LogSpinBox(1e-6, 100.0, 0.01)
        self.learning_rate.setObjectName("learningRateSpin")
        self.learning_rate.setMinimumWidth(96)
        self.learning_rate.setToolTip("Learning rate α: the size of each step. Arrows step 1, 2, 3, 5 × 10ᵏ; "
                                      "a change applies at the next mini-batch and is marked on the loss plot. "
                                      "Enter returns to the plots.")
        self.learning_rate.setAccessibleName("Learning rate alpha")
        self.addWidget(self._caption("Learning rate α"))
        self.addWidget(self.learning_rate)

        self.elapsed_label = QLabel()
        self.elapsed_label.setObjectName("elapsedLabel")
        self.elapsed_label.setToolTip("Time spent training this run")
        self.throughput_label = QLabel()
        self.throughput_label.setObjectName("throughputLabel")
        self.throughput_label.setToolTip("Training samples processed per second (forward and backward passes)")
        # fixed widths: a label that grows with its text would re-lay out the whole window every frame
        for label, widest in ((self.epoch_label, "Epoch 88888 / 88888 · batch 888/888"), (self.elapsed_label, "Training time 88:88:88.8"),
                              (self.throughput_label, "888.8M samples/s")):
            label.setFixedWidth(label.fontMetrics().horizontalAdvance(widest) + 16)

        self.speed.currentIndexChanged.connect(lambda: self.speedChanged.emit(self.speed.currentData()))
        self.learning_rate.valueChanged.connect(self.learningRateChanged)
        self.learning_rate.lineEdit().returnPressed.connect(self.editingDone)
        self.show_progress(0, 0, 1, target=1, seconds=0.0, samples_per_second=None)
        self._compact_buttons = [self.widgetForAction(a) for a in (self.step_epoch_action, self.step_batch_action, self.reset_action)]
        self._full_width = self.sizeHint().width()

    def resizeEvent(self, event) -> None:
        """On a narrow window (a small screen, large fonts) the step and reset buttons show only
        their icons, so that nothing moves into the toolbar's overflow menu."""
        super().resizeEvent(event)
        style = Qt.ToolButtonStyle.ToolButtonIconOnly if self.width() < self._full_width else Qt.ToolButtonStyle.ToolButtonTextBesideIcon
        for button in self._compact_buttons:
            if button.toolButtonStyle() != style:
                button.setToolButtonStyle(style)

    @staticmethod
    def _caption(text: str) -> QLabel:
        label = QLabel(text)
        label.setContentsMargins(6, 0, 4, 0)
        return label

    def set_playing(self, playing: bool) -> None:
        """Show the Play action as Pause while training runs."""
        self.playing = playing
        self.play_action.setText("Pause" if playing else "Play")
        self.play_action.setIcon(self._pause_icon if playing else self._play_icon)

    def set_trainable(self, trainable: bool) -> None:
        """Enable the commands only when there is a network that can train."""
        for action in (self.play_action, self.step_epoch_action, self.step_batch_action, self.reset_action):
            action.setEnabled(trainable)

    def check_learning_rate(self, value: float) -> None:
        """Raise ConfigError when the learning-rate box cannot hold ``value`` (it would clamp it)."""
        check_box_holds("training.learning_rate", value, self.learning_rate)

    def set_learning_rate(self, value: float) -> None:
        """Show ``value`` without emitting."""
        self.learning_rate.blockSignals(True)
        self.learning_rate.setValue(value)
        self.learning_rate.blockSignals(False)

    def speed_value(self) -> float:
        return self.speed.currentData()

    def show_progress(self, epoch: int, batch: int, batches: int, *, target: int, seconds: float, samples_per_second: float | None) -> None:
        """Epoch ``epoch`` done (plus ``batch`` of ``batches`` mini-batches of the next) of ``target``."""
        text = f"Epoch {epoch} / {target}"
        if batch:
            text += f" · batch {batch}/{batches}"
        self.epoch_label.setText(text)
        self.progress.set_fraction(epoch / max(target, 1))
        self.elapsed_label.setText(f"Training time {_format_duration(seconds)}")
        self.throughput_label.setText(f"{_format_rate(samples_per_second)} samples/s" if samples_per_second else "— samples/s")
