"""Presentation mode: the window made for a projector and the back of a classroom.

One toggle (View ▸ Presentation mode, F11) puts the window full screen, hides the Experiment
panel (Playground's "hide the controls"), sets every text to PRESENTATION_POINTS, every
plot's tick labels to PRESENTATION_PLOT_POINTS and their axes and curves LINE_SCALE times as
thick in darker ink, and chooses the slow-motion speed. Turning it off gives each of those
back as it was. The choice is kept in the settings, so Epoch Lab starts in the mode it was
left in.

Plots drawn after the mode was turned on (a new network's views) are brought up to it
within RESTYLE_MS: :class:`Presentation` looks for new curves and axes on a timer while the
mode is on, and remembers what it changed (weakly: an item that goes is forgotten).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QWidget

from .style import PLOT_FONT_POINTS, STYLESHEET

if TYPE_CHECKING:
    from .main_window import MainWindow

PRESENTATION_POINTS = 16  # every text: a 1280×720 projector read from 10 m
PRESENTATION_PLOT_POINTS = 15  # tick labels in plots
LINE_SCALE = 2.0  # curves and axes, times their width
AXIS_INK = "#000000"
TOP_ROW_SHARE = 0.7  # of the view area's height for the loss plot and the decision boundary
SLOW_MOTION = 3.0  # epochs per second (a preset of the run toolbar's speed box)
RESTYLE_MS = 500
SETTLE_MS = 200  # after going full screen (or back), when the window has its new size
SETTINGS_KEY = "window/presentation"


class Presentation(QObject):
    """Presentation mode of ``window`` (see the module docstring); ``toggled(on)`` after each change."""

    toggled = Signal(bool)

    def __init__(self, window: MainWindow, settings: QSettings) -> None:
        super().__init__(window)
        self.window, self.settings = window, settings
        self.enabled = False
        self._before: dict = {}  # what the mode changed, to give back
        self._fonted: weakref.WeakSet = weakref.WeakSet()  # the widgets given the mode's font
        self._pens: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # curve → its own pen
        self._axes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # axis → (pen, tick font, label style)
        self._timer = QTimer(self)
        self._timer.setInterval(RESTYLE_MS)
        self._timer.timeout.connect(self._restyle_plots)

    def remembered(self) -> bool:
        """Whether the mode was on when Epoch Lab was closed last."""
        return self.settings.value(SETTINGS_KEY, False, type=bool)

    def set_enabled(self, on: bool) -> None:
        if on == self.enabled:
            return
        self.enabled = on
        self.settings.setValue(SETTINGS_KEY, on)
        (self._enter if on else self._leave)()
        self.toggled.emit(on)

    # ----- entering and leaving -----------------------------------------------------------------------
    def _enter(self) -> None:
        window, app = self.window, QApplication.instance()
        speed = window.run_controls.speed
        self._before = {"full_screen": window.isFullScreen(), "maximized": window.isMaximized(),
                        "setup": window.setup_dock.isVisible(), "speed": speed.currentIndex(), "font": QFont(app.font()),
                        "style_sheet": app.styleSheet(), "top_share": window.registry.top_share}
        font = QFont(app.font())
        font.setPointSizeF(PRESENTATION_POINTS)
        _set_application_font(app, font, self._before["style_sheet"])
        # and on each widget of the window that has no font of its own: a widget the style sheet styles does not
        # follow the application's (nor its parent's) font once polished; the ones made later inherit it
        for widget in (window, *window.findChildren(QWidget)):
            if not widget.testAttribute(Qt.WidgetAttribute.WA_SetFont):
                widget.setFont(font)
                self._fonted.add(widget)
        window.setup_dock.hide()
        slow = speed.findData(SLOW_MOTION)
        if slow >= 0:
            speed.setCurrentIndex(slow)
        window.showFullScreen()
        self._restyle_plots()
        self._timer.start()
        window.registry.top_share = TOP_ROW_SHARE  # the loss and the boundary: what the back of the room must read
        QTimer.singleShot(SETTLE_MS, window.registry.fit_sizes)  # the views share the room the Experiment panel gave up

    def _leave(self) -> None:
        window, app, before = self.window, QApplication.instance(), self._before
        self._timer.stop()
        _set_application_font(app, before.get("font", app.font()), before.get("style_sheet", STYLESHEET))
        for widget in list(self._fonted):
            if shiboken6.isValid(widget):
                widget.setFont(QFont())  # inherited again
        self._fonted = weakref.WeakSet()
        for item, pen in list(self._pens.items()):
            if shiboken6.isValid(item):
                item.setPen(pen)
        for axis, (pen, font, label_style) in list(self._axes.items()):
            if not shiboken6.isValid(axis):
                continue
            axis.setPen(pen)
            axis.setTextPen(pen)
            axis.setTickFont(font)
            _set_label_style(axis, label_style)
        self._pens.clear()
        self._axes.clear()
        if before.get("setup", True):
            window.setup_dock.show()
        window.run_controls.speed.setCurrentIndex(before.get("speed", 0))
        if not before.get("full_screen", False):
            window.showMaximized() if before.get("maximized", False) else window.showNormal()
        window.registry.top_share = before.get("top_share", window.registry.top_share)
        QTimer.singleShot(SETTLE_MS, window.registry.fit_sizes)

    # ----- plots ----------------------------------------------------------------------------------------
    def _restyle_plots(self) -> None:
        """Every curve and axis of the window's plots not brought up to the mode yet: thicker, darker, larger."""
        for view in self.window.findChildren(pg.GraphicsView):
            for item in view.scene().items():
                if isinstance(item, pg.PlotDataItem) and item not in self._pens:
                    self._thicken(item)
                elif isinstance(item, pg.AxisItem) and item not in self._axes:
                    self._enlarge(item)

    def _thicken(self, item: pg.PlotDataItem) -> None:
        pen = pg.mkPen(item.opts["pen"])
        self._pens[item] = pen
        thick = pg.mkPen(pen)
        thick.setWidthF(max(pen.widthF(), 1.0) * LINE_SCALE)
        item.setPen(thick)

    def _enlarge(self, axis: pg.AxisItem) -> None:
        pen = pg.mkPen(axis.pen())
        font = QFont(axis.style.get("tickFont") or QFont())
        if font.pointSizeF() <= 0:
            font.setPointSizeF(PLOT_FONT_POINTS)
        self._axes[axis] = (pen, font, dict(axis.labelStyle))
        ink = pg.mkPen(AXIS_INK, width=pen.widthF() * LINE_SCALE if pen.widthF() > 0 else LINE_SCALE)
        axis.setPen(ink)
        axis.setTextPen(ink)
        big = QFont(font)
        big.setPointSizeF(PRESENTATION_PLOT_POINTS)
        axis.setTickFont(big)
        _set_label_style(axis, {**axis.labelStyle, "font-size": f"{PRESENTATION_PLOT_POINTS + 1}pt"})


def _set_application_font(app: QApplication, font: QFont, style_sheet: str) -> None:
    """``font`` for every widget: a widget the style sheet styles keeps the font it was polished
    with until the sheet (``style_sheet``, the application's) is applied again."""
    app.setFont(font)
    app.setStyleSheet("")
    app.setStyleSheet(style_sheet)


def _set_label_style(axis: pg.AxisItem, style: dict) -> None:
    """The CSS of ``axis``'s label (its text and SI-prefix settings untouched: AxisItem.setLabel would reset them)."""
    axis.labelStyle = style
    axis.label.setHtml(axis.labelString())
    axis._adjustSize()
    axis.picture = None
    axis.update()
