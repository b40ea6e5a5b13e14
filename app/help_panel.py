"""The concept help: a panel (for a dock) that explains one activation, loss, optimizer,
initializer, regulariser or training setting (core.concepts), and which concept a focused
control is about.

:class:`HelpPanel` shows a concept's title, its formula in the course's notation, a plot of
the function and its derivative (drawn from the engine's own code, for concepts with a
curve), and what it is for and where it goes wrong. Its fonts follow the panel's own font
(larger for the title and the formula), so it stays readable at about 380 px wide and with
the large fonts of a projector.

:func:`concept_for_widget` maps a control to its concept by the control's objectName; a
combo box whose value is itself a concept (the optimizer, the output activation, the loss,
an initializer) and the layer table's current cell give the chosen value's concept.
:func:`help_key_for_focus` does this for the focused control (what F1 opens).
"""

from __future__ import annotations

import re

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFrame,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from core.concepts import CONCEPTS, KIND_TITLES, KINDS, Concept, concept, concepts_of

from .accessibility import describe
from .layer_builder import ACTIVATION, INITIALIZER, SIZE, TYPE
from .style import TRAIN_COLOR, VAL_COLOR, plot_font, style_plot_item

KIND_NAMES = {"layer": "Layer", "activation": "Activation function", "loss": "Loss", "optimizer": "Optimizer", "initializer": "Initializer",
              "regularizer": "Regularisation", "setting": "Training setting", "view": "What a view shows"}
TITLE_SCALE = 1.5  # the title's font, relative to the panel's
FORMULA_SCALE = 1.2
HEADING_SCALE = 1.1
PLOT_HEIGHT = 230
ZERO_PEN = pg.mkPen("#8a929e", width=1)
HINT_COLOR = "#5b6472"
GROUP_LENGTH = 20  # a bracketed part of a formula up to this many characters never breaks across lines
FORMULA_STYLE = "QLabel#helpFormula { background: #f6f8fa; border: 1px solid #d8dde4; border-radius: 6px; padding: 8px; }"

WIDGET_CONCEPTS = {  # controls whose concept is fixed, by objectName
    "learningRateSpin": "learning_rate", "branchLearningRate": "learning_rate",
    "batchSizeSpin": "batch_size", "branchBatchSize": "batch_size",
    "epochsSpin": "epochs", "validationSpin": "val_fraction", "standardizeCheck": "standardize", "shuffleCheck": "shuffle",
    "trainingSeedSpin": "seed", "precisionCombo": "dtype",
    "l1Spin": "l1", "branchL1": "l1", "l2Spin": "l2", "branchL2": "l2", "clipNormSpin": "clip_norm",
    "bpttStepsSpin": "bptt_steps",
    "momentumSpin": "momentum", "nesterovCheck": "momentum", "beta1Spin": "adam", "beta2Spin": "adam", "rhoSpin": "rmsprop",
    "layerSlopeSpin": "leaky_relu", "activationFunctionsSlopeSpin": "leaky_relu",
    "layerRateSpin": "dropout", "layerFiltersSpin": "conv2d", "layerKernelRowsSpin": "conv2d",
    "layerKernelColumnsSpin": "conv2d", "layerMomentumSpin": "batchnorm", "layerEpsilonSpin": "batchnorm",
    "hiddenStateSampleSpin": "hidden_state", "hiddenStateLayerCombo": "hidden_state", "hiddenStateCanvas": "gates",
    "stepGradientsCanvas": "vanishing_gradient", "sampledTextTemperatureSpin": "temperature", "sampledTextText": "temperature",
}
VALUE_COMBOS = ("optimizerCombo", "branchOptimizer", "outputActivationCombo", "outputInitializerCombo", "lossCombo",
                "activationFunctionsFunctionCombo", "layerKindCombo", "layerActivationCombo", "layerInitializerCombo")  # combo boxes whose chosen value (currentData) is a concept key
LAYER_TABLE = "layerTable"


def _layer_cell_concept(table: QTableWidget) -> str | None:
    """The concept of the layer table's current cell: its activation or initializer, or its
    layer kind (dense, dropout, conv2d, …) for its type and size (None for no cell)."""
    item = table.currentItem()
    if item is None:
        return None
    kind_item = table.item(item.row(), TYPE)
    kind = kind_item.data(Qt.ItemDataRole.UserRole) if kind_item is not None else None
    if item.column() in (TYPE, SIZE):
        return kind if kind in CONCEPTS else None
    if item.column() in (ACTIVATION, INITIALIZER):
        value = item.data(Qt.ItemDataRole.UserRole)
        return value if value in CONCEPTS else None
    return None


def _own_concept(widget: QWidget) -> tuple[bool, str | None]:
    """(whether ``widget`` is a control the help knows, the concept it is about)."""
    name = widget.objectName()
    if name in WIDGET_CONCEPTS:
        return True, WIDGET_CONCEPTS[name]
    if name in VALUE_COMBOS and isinstance(widget, QComboBox):
        value = widget.currentData()
        return True, value if value in CONCEPTS else None
    if name == LAYER_TABLE and isinstance(widget, QTableWidget):
        return True, _layer_cell_concept(widget)
    return False, None


def concept_for_widget(widget: QWidget | None) -> str | None:
    """The key of the concept ``widget`` is about, or None. A part of a control (a spin box's
    line edit, an editor open in a table cell) counts as the control: the nearest known
    control among ``widget`` and its parents answers."""
    while widget is not None:
        known, key = _own_concept(widget)
        if known:
            return key
        widget = widget.parentWidget()
    return None


def help_key_for_focus(app: QApplication) -> str | None:
    """The concept of the control that has the keyboard focus in ``app`` (what F1 opens), or None."""
    return concept_for_widget(app.focusWidget())


def keep_groups_together(html: str, longest: int = GROUP_LENGTH) -> str:
    """``html`` with the spaces inside each bracketed group "(…)" of at most ``longest`` visible
    characters made non-breaking, so a wrapped formula breaks between terms, not inside (1 − a)."""
    keep = [False] * len(html)
    opened: list[int] = []
    for i, char in enumerate(html):
        if char == "(":
            opened.append(i)
        elif char == ")" and opened:
            start = opened.pop()
            if len(re.sub(r"<[^>]*>", "", html[start : i + 1])) <= longest:
                keep[start:i] = [True] * (i - start)
    return "".join("\u00a0" if char == " " and kept else char for char, kept in zip(html, keep, strict=True))


def _text_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    return label


class HelpPanel(QWidget):
    """One concept explained: title, formula, plot of f and f′ (when it has a curve), when to
    use it, pitfalls; a list at the top to pick any other concept."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("helpPanel")
        self.key: str | None = None

        self.chooser = QComboBox()
        self.chooser.setObjectName("conceptCombo")
        self.chooser.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.chooser.setMinimumContentsLength(12)  # long titles do not widen the dock
        for kind in KINDS:
            if self.chooser.count():
                self.chooser.insertSeparator(self.chooser.count())
            for item in concepts_of(kind):
                self.chooser.addItem(f"{item.title} ({KIND_NAMES[kind].lower()})", item.key)
        describe(self.chooser, "Concept", "The concept explained below: every layer, activation, loss, optimizer, initializer, "
                                          "regulariser and training setting. F1 on a control opens its concept.")
        self.title = _text_label("helpTitle")
        self.kind = _text_label("helpKind")
        self.kind.setStyleSheet(f"color: {HINT_COLOR};")
        self.summary = _text_label("helpSummary")
        self.formula = _text_label("helpFormula")
        self.formula.setStyleSheet(FORMULA_STYLE)
        self.formula.setAccessibleName("Formula")

        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setObjectName("helpPlot")
        self.canvas.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.canvas.setMinimumHeight(PLOT_HEIGHT)
        self.canvas.setMaximumHeight(int(PLOT_HEIGHT * 1.3))
        self.canvas.setAccessibleName("Plot of the function and its derivative")
        self.plot_item = self.canvas.addPlot(row=0, col=0)
        self.plot_item.setMouseEnabled(x=False, y=False)  # the panel scrolls with the wheel; the plot stays put
        self.plot_item.setMenuEnabled(False)
        self.plot_item.hideButtons()
        style_plot_item(self.plot_item, "", "", grid=True)
        self.plot_item.addLine(x=0, pen=ZERO_PEN)
        self.plot_item.addLine(y=0, pen=ZERO_PEN)
        self.value_curve = self.plot_item.plot(pen=pg.mkPen(TRAIN_COLOR, width=3))
        self.slope_curve = self.plot_item.plot(pen=pg.mkPen(VAL_COLOR, width=3, style=Qt.PenStyle.DashLine))
        self.legend = pg.LegendItem(colCount=2)  # under the plot, where it never hides a curve
        self.canvas.addItem(self.legend, row=1, col=0)
        self.plot_note = _text_label("helpPlotNote")
        self.plot_note.setStyleSheet(f"color: {HINT_COLOR};")

        self.when_heading = _text_label("helpWhenHeading")
        self.when_heading.setText("When to use it")
        self.when = _text_label("helpWhen")
        self.pitfalls_heading = _text_label("helpPitfallsHeading")
        self.pitfalls_heading.setText("Pitfalls")
        self.pitfalls = _text_label("helpPitfalls")

        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(10, 8, 10, 10)
        column.setSpacing(6)
        for widget in (self.title, self.kind, self.summary, self.formula, self.canvas, self.plot_note,
                       self.when_heading, self.when, self.pitfalls_heading, self.pitfalls):
            column.addWidget(widget)
        column.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("helpScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(content)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.chooser)
        layout.addWidget(self.scroll, 1)

        self._apply_fonts()
        self.chooser.currentIndexChanged.connect(lambda: self.show_concept(self.chooser.currentData()))
        self.show_concept(self.chooser.itemData(0))

    def show_concept(self, key: str) -> None:
        """Explain the concept ``key`` (a key of core.concepts.CONCEPTS; KeyError otherwise)."""
        item = concept(key)
        self.key = key
        self.chooser.blockSignals(True)
        self.chooser.setCurrentIndex(self.chooser.findData(key))
        self.chooser.blockSignals(False)
        self.title.setText(item.title)
        self.kind.setText(KIND_NAMES[item.kind])
        self.summary.setText(item.summary)
        self.formula.setText(keep_groups_together(item.formula_html))
        self.when.setText(item.when_to_use)
        self.pitfalls.setText(item.pitfalls)
        self._show_plot(item)
        self.scroll.verticalScrollBar().setValue(0)

    def _show_plot(self, item: Concept) -> None:
        curve = item.plot
        self.canvas.setVisible(curve is not None)
        self.plot_note.setVisible(curve is not None)
        if curve is None:
            self.value_curve.setData([], [])
            self.slope_curve.setData([], [])
            return
        x, value, slope = curve.samples()
        self.value_curve.setData(x, value)
        self.slope_curve.setData(x, slope)
        self.legend.clear()
        self.legend.addItem(self.value_curve, curve.value_name)
        self.legend.addItem(self.slope_curve, curve.slope_name)
        self.plot_item.getAxis("bottom").setLabel(curve.x_label, **{"font-size": self.legend.opts["labelTextSize"]})
        self.plot_item.setXRange(curve.low, curve.high, padding=0.02)
        if curve.y_range is None:
            self.plot_item.enableAutoRange(axis="y")
        else:
            self.plot_item.setYRange(*curve.y_range, padding=0.02)
        note = f"; {curve.note}" if curve.note else ""
        self.plot_note.setText(f"Solid: {curve.value_name}, dashed: its derivative {curve.slope_name}{note}. "
                               "Drawn by the engine's own code, the one that trains.")

    def _apply_fonts(self) -> None:
        """Title, formula and headings larger than the panel's own font (which presentation mode may raise)."""
        base = self.font().pointSizeF()
        for labels, scale, bold in (((self.title,), TITLE_SCALE, True), ((self.formula,), FORMULA_SCALE, False),
                                    ((self.when_heading, self.pitfalls_heading), HEADING_SCALE, True)):
            for label in labels:
                font = QFont(self.font())
                font.setPointSizeF(base * scale)
                font.setBold(bold)
                label.setFont(font)
        tick_font = QFont(self.font())
        tick_font.setPointSizeF(max(plot_font().pointSizeF(), base * 0.9))
        for name in ("bottom", "left"):
            axis = self.plot_item.getAxis(name)
            axis.setTickFont(tick_font)
        self.legend.opts["labelTextSize"] = f"{tick_font.pointSizeF():g}pt"
        if self.key is not None:
            self._show_plot(concept(self.key))  # the legend's labels take the size when added

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._apply_fonts()
        super().changeEvent(event)


def menu_entries() -> list[tuple[str, list[tuple[str, str]]]]:
    """What a Help ▸ Concepts menu lists: (group title, [(concept title, key), …]) per kind."""
    return [(KIND_TITLES[kind], [(c.title, c.key) for c in concepts_of(kind)]) for kind in KINDS]
