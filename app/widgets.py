"""Small reusable widgets: a log-scale number box, a message banner, form helpers."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QValidator
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFrame, QHBoxLayout, QLabel, QSizePolicy, QStyle, QToolButton, QWidget

LADDER = (1.0, 2.0, 3.0, 5.0)  # the values each decade steps through: 0.01, 0.02, 0.03, 0.05, 0.1, …


MIN_COMBO_CHARACTERS = 10  # a closed list box is at least this wide (e.g. "glorot_un…" in a narrow panel)


def shrinking(combo: QComboBox) -> QComboBox:
    """``combo``, narrower than its longest item when the panel is narrow (the list still shows every item whole)."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(MIN_COMBO_CHARACTERS)
    return combo


class LogSpinBox(QDoubleSpinBox):
    """A number box for scale-free settings (learning rate, penalties) that steps on a log scale.

    The arrows and PageUp/PageDown move along 1, 2, 3, 5 × 10ᵏ; any value can be typed.
    Values show in short ``g`` form (0.03, 1e-05). With a minimum of 0, stepping down from
    the smallest positive value gives 0 and stepping up from 0 gives it back.
    """

    def __init__(self, minimum: float, maximum: float, value: float, smallest_positive: float | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDecimals(12)  # QDoubleSpinBox rounds to this many decimals; keep typed values exact
        self.setRange(minimum, maximum)
        self.setKeyboardTracking(False)
        self.setAccelerated(True)
        self._smallest = smallest_positive if smallest_positive is not None else max(minimum, 1e-12)
        self.setValue(value)

    def textFromValue(self, value: float) -> str:
        return f"{value:.4g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            partial = stripped == "" or all(c in "0123456789.eE+-" for c in stripped)
            return QValidator.State.Intermediate if partial else QValidator.State.Invalid
        if self.minimum() <= value <= self.maximum() and math.isfinite(value):
            return QValidator.State.Acceptable
        return QValidator.State.Intermediate

    def fixup(self, text: str) -> str:
        return self.textFromValue(self.value())

    def stepBy(self, steps: int) -> None:
        value = self.value()
        for _ in range(abs(steps)):
            value = self._next(value, up=steps > 0)
        self.setValue(min(max(value, self.minimum()), self.maximum()))

    def _next(self, value: float, up: bool) -> float:
        """The next ladder value above (or below) ``value``."""
        if value <= 0:
            return self._smallest if up else 0.0
        decade = math.floor(math.log10(value))
        candidates = sorted(m * 10.0**d for d in (decade - 1, decade, decade + 1) for m in LADDER)
        if up:
            return next(c for c in candidates if c > value * (1 + 1e-9))
        below = [c for c in candidates if c < value * (1 - 1e-9)]
        if below and below[-1] >= self._smallest * (1 - 1e-9):
            return below[-1]
        return 0.0 if self.minimum() <= 0 else self._smallest

    def stepEnabled(self) -> QDoubleSpinBox.StepEnabledFlag:
        flags = QDoubleSpinBox.StepEnabledFlag.StepNone
        if self.value() < self.maximum():
            flags |= QDoubleSpinBox.StepEnabledFlag.StepUpEnabled
        if self.value() > self.minimum():
            flags |= QDoubleSpinBox.StepEnabledFlag.StepDownEnabled
        return flags


class MessageBanner(QFrame):
    """A closable strip that explains something that happened (divergence, a failed save).

    ``level`` is "info", "warning" or "error"; the style sheet colours the frame by it.
    """

    closed = Signal()

    ICONS = {
        "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
        "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
        "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
    }

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("messageBanner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.setSpacing(10)
        self._icon = QLabel()
        self._icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text = QLabel()
        self.text.setObjectName("messageText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        close = QToolButton()
        close.setAutoRaise(True)
        close.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton))
        close.setToolTip("Dismiss")
        close.setAccessibleName("Dismiss the message")
        close.clicked.connect(self.dismiss)
        layout.addWidget(self._icon)
        layout.addWidget(self.text, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, text: str, level: str = "info") -> None:
        """Show ``text`` (rich text allowed) with the colour and icon of ``level``."""
        self.setProperty("level", level)
        self.style().unpolish(self)
        self.style().polish(self)
        self._icon.setPixmap(self.style().standardIcon(self.ICONS[level]).pixmap(24, 24))
        self.text.setText(text)
        self.show()

    def dismiss(self) -> None:
        if self.isVisible():
            self.hide()
            self.closed.emit()


class ProgressStrip(QWidget):
    """A thin progress bar. Unlike QProgressBar, whose ``setValue`` repaints at once (here,
    with the GIL held, in the middle of training), it only schedules a repaint."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._fraction = 0.0
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(80, 10)

    def set_fraction(self, fraction: float) -> None:
        """Show ``fraction`` (clipped to 0…1) of the bar filled."""
        fraction = min(max(fraction, 0.0), 1.0)
        if abs(fraction - self._fraction) * self.width() >= 0.5 or (fraction in (0.0, 1.0) and fraction != self._fraction):
            self._fraction = fraction
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = rect.height() / 2
        painter.setBrush(self.palette().mid())
        painter.drawRoundedRect(rect, radius, radius)
        if self._fraction > 0:
            painter.setBrush(self.palette().highlight())
            painter.drawRoundedRect(QRectF(rect.x(), rect.y(), max(rect.height(), rect.width() * self._fraction), rect.height()), radius, radius)


def hint_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A grey, word-wrapped explanatory label."""
    label = QLabel(text, parent)
    label.setProperty("hint", True)
    label.setWordWrap(True)
    return label
