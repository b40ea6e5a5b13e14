"""What every view shares: the :class:`LiveView` contract the window's redraw scheduler
draws through, a one-line readout label, and :class:`ViewPanel`, the base of the
inspection views: a header (readout, the epoch shown, export button), a pyqtgraph canvas,
and a note that replaces the canvas when the view does not apply to the data."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Protocol

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QScrollArea,
    QScrollBar,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.files import FileFormatError

from ..accessibility import describe
from ..plot_export import ask_export_plot, export_plot


class LiveView(Protocol):
    """A view (a QWidget) the window's redraw scheduler (:mod:`app.redraw`) draws.

    Data reach a view as they arrive (probe results, epoch reports); it only keeps them.
    In each frame the scheduler calls ``refresh()`` on every view that is shown and
    ``stale()`` (one view per turn of the event loop), so all shown views draw the same
    moment of the run, within a few milliseconds.
    """

    def stale(self) -> bool:
        """Whether there is something new to draw."""
        ...

    def refresh(self) -> None:
        """Bring the view up to date (the canvas repaints afterwards)."""
        ...

    def new_run(self) -> None:
        """A new run (or new data) starts: forget everything shown."""
        ...


def is_shown(view: QWidget) -> bool:
    """Whether any part of the view widget ``view`` is on screen: a dock tabbed behind
    another is not, though Qt calls it visible (asked of a scroll area, such as a pyqtgraph
    canvas, the answer is about its viewport)."""
    surface = view.viewport() if isinstance(view, QAbstractScrollArea) else view
    return not surface.visibleRegion().isEmpty()


class ReadoutLabel(QLabel):
    """A one-line label whose changing text never resizes its view (it is clipped instead).

    :meth:`set_variants` gives it several texts, longest first: it shows the longest that fits
    its width (chosen again at every resize), so a number is shown whole or not at all, and its
    tooltip starts with the whole text (``full_text``). Its size hint is one line of its font whatever the text: a label asks its rich text
    to lay itself out twice more for its size hints on every change (a third of a loss
    plot's frame, measured here), and no layout needs them."""

    def __init__(self) -> None:
        super().__init__()
        self._variants: tuple[str, ...] = ()
        self.full_text = ""  # the longest variant, whether shown or not

    def set_variants(self, variants: list[str], explanation: str = "") -> None:
        """Show the longest of the plain texts ``variants`` (longest first) that fits, none when none
        does; the tooltip: the first, then ``explanation`` on the next line."""
        self._variants = tuple(variants)
        self.full_text = variants[0] if variants else ""
        self.setToolTip("\n".join(part for part in (self.full_text, explanation) if part))
        if variants:
            self._fit()
        else:
            super().setText("")

    def setText(self, text: str) -> None:
        """One text, cut if it does not fit (for a text that changes as the mouse moves)."""
        self._variants = ()
        self.full_text = text
        super().setText(text)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if not self._variants:
            return
        metrics = QFontMetricsF(self.font())
        width = self.contentsRect().width()
        text = next((text for text in self._variants if metrics.horizontalAdvance(text) <= width), "")
        if text != self.text():
            super().setText(text)

    def sizeHint(self) -> QSize:
        margins = self.contentsMargins()
        return QSize(0, math.ceil(QFontMetricsF(self.font()).height()) + margins.top() + margins.bottom())

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()


def readout_label(name: str) -> QLabel:
    """A :class:`ReadoutLabel`; in a :func:`header_row` its text changes re-lay out that row only."""
    label = ReadoutLabel()
    label.setObjectName(name)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    return label


class HeaderRow(QWidget):
    """The row above a view's plot, whose texts change every frame without re-laying out
    the window.

    Qt passes every label's new text up as a layout request through each enclosing layout,
    to the main window, which then lays out every dock again (4-6 ms a frame with every view
    on screen, measured here). Here the row's controls sit in an inner widget that this one
    sizes itself, without a layout of its own, so such a request stops at the row unless the
    row's height changes. The row is opaque, so a changed text repaints the row alone, not
    the dock behind it."""

    def __init__(self) -> None:
        super().__init__()
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setAutoFillBackground(True)
        self._inner = QWidget(self)
        self.controls = QHBoxLayout(self._inner)
        self.controls.setContentsMargins(6, 2, 6, 0)
        self._height = -1  # the height last asked of the row

    def sizeHint(self) -> QSize:
        hint = self._inner.sizeHint()
        self._height = hint.height()
        return hint

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self._inner.minimumSizeHint().height())

    def resizeEvent(self, event) -> None:
        self._inner.setGeometry(self.rect())

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest and self._inner.sizeHint().height() != self._height:
            self.updateGeometry()  # a taller control (another font): the view makes room
        return super().event(event)


def header_row() -> tuple[QWidget, QHBoxLayout]:
    """The row above a view's plot (a :class:`HeaderRow`) and the layout for its controls.
    The row never widens its view: on a narrow screen its controls are cut at the right
    instead of squeezing the plots beside it (a header's checkboxes once kept the loss plot
    100 px wide)."""
    row = HeaderRow()
    return row, row.controls


def epoch_text(epoch: int, batch: int = 0) -> str:
    """Where in the run a view's picture comes from: "epoch 12", or "epoch 12 + 3 batches"."""
    if batch:
        return f"epoch {epoch} + {batch} batch{'es' if batch != 1 else ''}"
    return f"epoch {epoch}"


def epoch_label(name: str) -> QLabel:
    """The header label that states the epoch a view shows."""
    label = QLabel()
    label.setObjectName(name)
    label.setProperty("hint", True)
    label.setToolTip("The moment of the run this picture shows: epochs completed (and mini-batches into the next)")
    return label


class ViewPanel(QWidget):
    """Base of the inspection views: ``self.canvas`` (a GraphicsLayoutWidget) under a header
    row that holds ``self.readout``, any extra controls (``self.header``), the epoch shown
    and an Export button.

    Probe results (:class:`app.worker.ProbeResult`) arrive through :meth:`receive`; the
    newest is drawn at the next :meth:`refresh` by the subclass's ``show_data(*data)``
    (a tuple payload gives several arguments), and the header states its epoch."""

    def __init__(self, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.name = name
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setObjectName(f"{name}Canvas")
        self.note = QLabel()
        self.note.setObjectName(f"{name}Note")
        self.note.setWordWrap(True)
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setProperty("hint", True)
        self.note.setContentsMargins(24, 24, 24, 24)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.canvas)
        self.stack.addWidget(self.note)
        self.readout = readout_label(f"{name}Readout")
        self.epoch_label = epoch_label(f"{name}Epoch")
        self._pending: Any = None
        self._wheel_bar: QScrollBar | None = None  # the bar the wheel over the canvas scrolls (scroll_canvas)
        self.export_button = QToolButton()
        self.export_button.setObjectName(f"{name}Export")
        self.export_button.setText("Export")
        self.export_button.setToolTip("Save this view as a PNG image or an SVG drawing")
        self.export_button.setAccessibleName("Export this view")
        self.export_button.clicked.connect(self._ask_export)
        header_widget, self.header = header_row()
        self.header.addWidget(self.readout, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(header_widget)
        layout.addWidget(self.stack, 1)

    # ----- LiveView ------------------------------------------------------------------------------------
    def receive(self, result) -> None:
        """Keep the newest probe result; it is drawn at the next :meth:`refresh`."""
        self._pending = result

    def stale(self) -> bool:
        return self._pending is not None

    def refresh(self) -> None:
        result, self._pending = self._pending, None
        if result is None:
            return
        self.show_data(*(result.data if isinstance(result.data, tuple) else (result.data,)))
        self.epoch_label.setText(epoch_text(result.epoch, result.batch))

    def new_run(self) -> None:
        self._pending = None
        self.epoch_label.setText("")
        self.clear()

    def clear(self) -> None:
        """Forget everything the view shows (subclasses reset their pictures and texts)."""

    def show_data(self, *data) -> None:
        raise NotImplementedError

    def finish_header(self) -> None:
        """Call after adding controls to ``self.header``: puts the epoch and the Export button last."""
        self.header.addWidget(self.epoch_label)
        self.header.addWidget(self.export_button)

    def show_note(self, text: str) -> None:
        """Replace the plot by ``text`` (the view does not apply to this data)."""
        self.note.setText(text)
        self.stack.setCurrentWidget(self.note)

    def show_reason(self, reason: str) -> None:
        """The view does not apply to the data, for ``reason``: forget the picture and say so.
        Once said, later results with the same reason change nothing (a note written again at
        every probe result re-laid out the whole window each time)."""
        if not (self.showing_note() and self.note.text() == reason):
            self.clear()
            self.show_note(reason)

    def show_canvas(self) -> None:
        """Show the view's picture: the stack's first page (the canvas, or what holds it)."""
        self.stack.setCurrentIndex(0)

    def scroll_canvas(self, min_height: int, wheel_scrolls: bool = False) -> QScrollArea:
        """Put the canvas, at least ``min_height`` pixels tall, in a scroll area (objectName
        ``{name}Scroll``) that becomes the stack's first page: in a shorter dock the view scrolls
        up and down instead of squeezing its plots to nothing. With ``wheel_scrolls`` the mouse
        wheel over the canvas scrolls the area (for plots with nothing to zoom: pyqtgraph's view
        boxes take every wheel event, even with their mouse interaction off)."""
        self.stack.removeWidget(self.canvas)
        scroll = QScrollArea()
        scroll.setObjectName(f"{self.name}Scroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.canvas)
        self.canvas.setMinimumHeight(min_height)
        self.stack.insertWidget(0, scroll)
        if wheel_scrolls:
            self._wheel_bar = scroll.verticalScrollBar()
            self.canvas.viewport().installEventFilter(self)
        return scroll

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Wheel and self._wheel_bar is not None and watched is self.canvas.viewport():
            QApplication.sendEvent(self._wheel_bar, event)  # the scroll area's bar, not the plots under the mouse
            return True
        return super().eventFilter(watched, event)

    def keep_or_explain(self, data) -> bool:
        """Keep a probe result as ``self.data`` and show the canvas (True), or, when its
        ``reason`` says the view does not apply, forget the data and show the reason (False)."""
        if data.reason:
            self.data = None
            self.show_reason(data.reason)
            return False
        self.data = data
        self.show_canvas()
        return True

    def showing_note(self) -> bool:
        return self.stack.currentWidget() is self.note

    def export(self, path: str | Path) -> Path:
        """Write the view to ``path``: an SVG drawing when it ends in .svg, a PNG image when in
        .png (app.plot_export: atomically; FileFormatError for anything else)."""
        return export_plot(self.canvas, path)

    def _ask_export(self) -> None:
        try:
            ask_export_plot(self, self.canvas, self.name)
        except FileFormatError as exc:
            QMessageBox.warning(self, "Could not export the view", str(exc))


def plot_item(canvas: pg.GraphicsLayoutWidget, bottom: str, left: str, row: int = 0, col: int = 0) -> pg.PlotItem:
    from ..style import style_plot_item

    item = canvas.addPlot(row=row, col=col)
    style_plot_item(item, bottom, left)
    item.setMenuEnabled(True)
    return item


class SampleViewPanel(ViewPanel):
    """A view of one chosen sample: ``self.sample_spin`` (made by the subclass, or by
    :meth:`add_sample_box`) picks it, and the window sets it without the view emitting."""

    sampleChanged = Signal(int)  # the user picked another sample in the view's box
    sample_spin: QSpinBox

    def add_sample_box(self, what: str) -> None:
        """A "Sample" box first in the header (``self.sample_spin``, objectName ``{name}SampleSpin``)
        that emits ``sampleChanged``; ``what`` ends its description ("whose hidden states are shown")."""
        label = QLabel("Sample")
        self.sample_spin = QSpinBox()
        self.sample_spin.setObjectName(f"{self.name}SampleSpin")
        describe(self.sample_spin, f"Sample {what}",
                 f"The sample (row of the data set, from 0) {what}: the one the inspector shows too")
        label.setBuddy(self.sample_spin)
        self.sample_spin.setRange(0, 0)
        self.sample_spin.valueChanged.connect(self.sampleChanged)
        self.header.insertWidget(0, label)
        self.header.insertWidget(1, self.sample_spin)

    def set_sample_count(self, count: int) -> None:
        self.sample_spin.setMaximum(max(count - 1, 0))

    def set_sample(self, index: int) -> None:
        """Show that sample ``index`` is the one shown (picked elsewhere); emits nothing."""
        self.sample_spin.blockSignals(True)
        self.sample_spin.setValue(index)
        self.sample_spin.blockSignals(False)
