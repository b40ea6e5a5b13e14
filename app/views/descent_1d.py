"""Gradient descent on one variable, the course's f(x) = x² + 2 (core.descent): the curve, the
iterates x₀, x₁, … on it joined in order, the tangent at the current x (slope f'(x) = 2x), the
difference quotient (f(2.0001) − f(2)) / 0.0001 = 4.0001 with its numbers, and a table of
x_k, f(x_k), f'(x_k). Step, Reset and Play (a step every ``PLAY_MS`` until the iterates
converge, oscillate or diverge). It needs no trainer: a new run keeps what it shows."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core import descent

from ..style import DIVERGED_COLOR, TRAIN_COLOR, VAL_COLOR
from .common import ViewPanel, plot_item

PLAY_MS = 250
MAX_STEPS = 500  # Play stops after this many iterates whatever they do
DIGITS = 12  # significant digits of the iterates' numbers
QUOTIENT_DIGITS = 10  # of the difference quotient's: its floating-point error sits in the 12th
CURVE_POINTS = 401


def number(value: float) -> str:
    return f"{value:.{DIGITS}g}"


SIDE_WIDTH = 380  # px at most for the texts and the table beside the plot


class DescentView(ViewPanel):
    """The 1-D gradient-descent view (ViewPanel "descent1d")."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__("descent1d", parent)
        self.x0_spin = self._spin("descent1dX0", "x₀", "The starting point x₀ (changing it starts again)", (-100.0, 100.0, 2.0, 0.5))
        self.alpha_spin = self._spin("descent1dAlpha", "α", "The learning rate α of each step x := x − α·f'(x) "
                                     "(α < 1 converges, α = 1 oscillates, α > 1 diverges)", (0.0001, 3.0, 0.1, 0.05))
        self.step_button = self._button("descent1dStep", "Step", "One step: x := x − α·f'(x) = x − α·2x")
        self.reset_button = self._button("descent1dReset", "Reset", "Back to x₀")
        self.play_button = self._button("descent1dPlay", "Play", "Step on its own until x converges, oscillates or diverges")
        self.header.addWidget(self.export_button)
        self.timer = QTimer(self)
        self.timer.setInterval(PLAY_MS)
        self.timer.timeout.connect(self._tick)
        self.step_button.clicked.connect(self.step)
        self.reset_button.clicked.connect(self.reset)
        self.play_button.clicked.connect(self._toggle_play)
        self.x0_spin.valueChanged.connect(lambda _: self.reset())
        self.alpha_spin.valueChanged.connect(lambda _: self._draw())

        self.plot = plot_item(self.canvas, "x", "f(x) = x² + 2")
        self.curve = self.plot.plot(pen=pg.mkPen("#30363d", width=2), name="f")
        self.path = self.plot.plot(pen=pg.mkPen(VAL_COLOR, width=1.2), symbol="o", symbolSize=7, symbolBrush=VAL_COLOR,
                                   symbolPen=pg.mkPen("w", width=0.8))
        self.tangent = self.plot.plot(pen=pg.mkPen(TRAIN_COLOR, width=2, style=Qt.PenStyle.DashLine))
        self.current = pg.ScatterPlotItem(size=13, brush=pg.mkBrush(TRAIN_COLOR), pen=pg.mkPen("w", width=1.5))
        self.plot.addItem(self.current)
        self.canvas.setAccessibleName("Gradient descent on f(x) = x² + 2")

        self.quotient_label = QLabel()
        self.quotient_label.setObjectName("descent1dQuotient")
        self.quotient_label.setWordWrap(True)
        self.quotient_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label = QLabel()
        self.status_label.setObjectName("descent1dStatus")
        self.status_label.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("descent1dTable")
        self.table.setAccessibleName("Gradient descent steps")
        self.table.setToolTip("Each step k: x_k, f(x_k) and the slope f'(x_k) that the next step follows")
        self.table.setHorizontalHeaderLabels(["k", "x_k", "f(x_k)", "f'(x_k)"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        side = QWidget()  # beside the plot: a dock is wider than it is tall
        texts = QVBoxLayout(side)
        texts.setContentsMargins(6, 0, 6, 4)
        texts.addWidget(self.quotient_label)
        texts.addWidget(self.status_label)
        texts.addWidget(self.table, 1)
        side.setMaximumWidth(SIDE_WIDTH)
        body = QHBoxLayout()
        self.layout().removeWidget(self.stack)
        body.addWidget(self.stack, 3)
        body.addWidget(side, 2)
        self.layout().addLayout(body, 1)
        self._show_quotient()
        self.show_canvas()
        self.xs = np.array([self.x0_spin.value()])
        self._draw()

    def _spin(self, name: str, label: str, tip: str, numbers: tuple[float, float, float, float]) -> QDoubleSpinBox:
        """A labelled spin box in the header; ``numbers``: (minimum, maximum, value, step)."""
        low, high, value, step = numbers
        caption = QLabel(label)
        spin = QDoubleSpinBox()
        spin.setObjectName(name)
        spin.setRange(low, high)
        spin.setDecimals(4)
        spin.setSingleStep(step)
        spin.setValue(value)
        spin.setToolTip(tip)
        spin.setAccessibleName(label)
        caption.setBuddy(spin)
        self.header.addWidget(caption)
        self.header.addWidget(spin)
        return spin

    def _button(self, name: str, text: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setObjectName(name)
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(text)
        self.header.addWidget(button)
        return button

    # ----- LiveView: drawn at once on every change, nothing from the trainer -------------------------
    def stale(self) -> bool:
        return False

    def refresh(self) -> None:
        """Nothing waits: every change is drawn when it happens."""

    def new_run(self) -> None:
        """A new training run does not concern this view: it keeps its iterates."""

    # ----- actions --------------------------------------------------------------------------------
    def step(self) -> None:
        """One gradient-descent step from the last iterate."""
        self.xs = np.append(self.xs, descent.step(float(self.xs[-1]), self.alpha_spin.value()))
        self._draw()

    def reset(self) -> None:
        self.timer.stop()
        self.play_button.setText("Play")
        self.xs = np.array([self.x0_spin.value()])
        self.table.setRowCount(0)
        self._draw()

    def _toggle_play(self) -> None:
        if self.timer.isActive():
            self._stop()
        elif descent.outcome(self.xs) is None and len(self.xs) < MAX_STEPS:
            self.timer.start()
            self.play_button.setText("Pause")

    def _tick(self) -> None:
        self.step()
        if descent.outcome(self.xs) is not None or len(self.xs) >= MAX_STEPS:
            self._stop()

    def _stop(self) -> None:
        self.timer.stop()
        self.play_button.setText("Play")

    # ----- drawing --------------------------------------------------------------------------------
    def _show_quotient(self) -> None:
        q = descent.difference_quotient()
        short = f".{QUOTIENT_DIGITS}g"
        self.quotient_label.setText(
            f"f'(x) = 2x, so f'(2) = 4. The difference quotient approaches it: (f(2.0001) − f(2)) / 0.0001 = "
            f"({q.f_x_h:{short}} − {q.f_x:{short}}) / {q.h:g} = {q.value:{short}} (= f'(2) + h for this f).")
        self.quotient_label.setToolTip(f"In floating point: f(2.0001) = {q.f_x_h!r}, quotient = {q.value!r}")

    def _draw(self) -> None:
        xs = self.xs
        finite = xs[np.isfinite(xs)]
        reach = max(float(np.abs(finite).max(initial=0.0)), abs(self.x0_spin.value()), 1.0) * 1.15
        grid = np.linspace(-reach, reach, CURVE_POINTS)
        self.curve.setData(grid, descent.f(grid))
        self.path.setData(finite, descent.f(finite))
        x = float(finite[-1]) if len(finite) else float("nan")
        fx, slope = float(descent.f(x)), float(descent.f_prime(x))
        half = reach / 3
        self.tangent.setData([x - half, x + half], [fx - slope * half, fx + slope * half])
        self.current.setData([x], [fx])
        k = len(xs) - 1
        self.readout.setText(f"x_{k} = {number(x)}")
        self.readout.setToolTip(f"x_{k} = {number(x)}, f(x_{k}) = {number(fx)}, f'(x_{k}) = {number(slope)} (the tangent's slope)")
        self._fill_table()
        alpha = self.alpha_spin.value()
        found = descent.outcome(xs)
        said = {"converged": f"Converged after {k} steps.", "oscillates": "It oscillates: x jumps between the same two values.",
                "diverged": f"It diverged: |x| grew past {descent.DIVERGED_FACTOR:g} × max(1, |x₀|)."}.get(found or "", "")
        self.status_label.setText(f"With α = {alpha:g} gradient descent {descent.behaviour(alpha)}. {said}")
        self.status_label.setStyleSheet(f"color: {DIVERGED_COLOR};" if found == "diverged" or alpha > 1 else "")

    def _fill_table(self) -> None:
        """Rows for the iterates not yet in the table (all of them after a reset)."""
        table, xs = self.table, self.xs
        for k in range(table.rowCount(), len(xs)):
            table.insertRow(k)
            x = float(xs[k])
            for column, text in enumerate((str(k), number(x), number(descent.f(x)), number(descent.f_prime(x)))):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(k, column, item)
        table.scrollToBottom()
