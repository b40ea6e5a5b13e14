"""The look of the window: a light Fusion palette, legible fonts and the plot colours.

Everything that decides a colour lives here so that every view (loss curves, data
previews, heatmaps, later views such as the decision boundary) draws the same classes and
the same training/validation series in the same colours. Colours are the Okabe–Ito
palette, which stays distinguishable for colour-blind viewers and on washed-out projectors.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QGraphicsItem

TRAIN_COLOR = "#0072B2"  # blue: training series
VAL_COLOR = "#D55E00"  # vermillion: validation series
MARKER_COLOR = "#555555"  # learning-rate and other setting changes
DIVERGED_COLOR = "#C62828"
CLASS_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
WEIGHT_COLORMAP = "CET-D1A"  # diverging blue–white–red, white at the centre
TARGET_COLORMAP = "viridis"  # continuous targets in data previews

BASE_POINT_SIZE = 10.5
PLOT_FONT_POINTS = 10

STYLESHEET = """
QGroupBox { font-weight: 600; border: 1px solid #cfd4dc; border-radius: 6px; margin-top: 12px; padding: 10px 8px 8px 8px; }
QGroupBox::title { subcontrol-origin: margin; left: 10px; padding: 0 4px; color: #2b3340; }
QToolBar#runToolBar { spacing: 6px; padding: 4px 8px; border-bottom: 1px solid #cfd4dc; }
QToolBar#runToolBar QToolButton { padding: 4px 10px; }
QToolButton#playButton { font-weight: 700; min-width: 78px; background: #1f6feb; color: white; border: 1px solid #1a5fca; border-radius: 5px; }
QToolButton#playButton:hover { background: #2f7df5; }
QToolButton#playButton:disabled { background: #9fb8df; border-color: #9fb8df; }
QLabel#epochLabel { font-weight: 700; }
QLabel.hint, QLabel[hint="true"] { color: #5b6472; }
QLabel#problemLabel { color: #b3261e; }
QDockWidget::title { padding: 4px 8px; background: #e9ecf1; font-weight: 600; }
QTableWidget { gridline-color: #e1e4ea; }
QHeaderView::section { padding: 3px 6px; background: #eef1f5; border: none; border-bottom: 1px solid #cfd4dc; font-weight: 600; }
QFrame#messageBanner[level="warning"] { background: #fff4e5; border: 1px solid #f0a020; border-radius: 6px; }
QFrame#messageBanner[level="error"] { background: #fdecea; border: 1px solid #d93025; border-radius: 6px; }
QFrame#messageBanner[level="info"] { background: #e8f0fe; border: 1px solid #1a73e8; border-radius: 6px; }
"""


def apply_style(app: QApplication) -> None:
    """Give ``app`` the Fusion style, a light palette, a readable font and pyqtgraph's colours."""
    app.setStyle("Fusion")
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#f4f5f7",
        QPalette.ColorRole.WindowText: "#1f2328",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f6f8fa",
        QPalette.ColorRole.Text: "#1f2328",
        QPalette.ColorRole.Button: "#eceff3",
        QPalette.ColorRole.ButtonText: "#1f2328",
        QPalette.ColorRole.Highlight: "#1f6feb",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#ffffe8",
        QPalette.ColorRole.ToolTipText: "#1f2328",
        QPalette.ColorRole.PlaceholderText: "#8a929e",
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#9aa1ab"))
    app.setPalette(palette)
    font = app.font()
    if font.pointSizeF() < BASE_POINT_SIZE:
        font.setPointSizeF(BASE_POINT_SIZE)
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)
    configure_pyqtgraph()


def configure_pyqtgraph() -> None:
    """White plots with dark axes and antialiased lines (safe to call more than once)."""
    pg.setConfigOptions(background="w", foreground="#30363d", antialias=True)


def plot_font() -> QFont:
    """The font for axis ticks and labels inside plots."""
    font = QFont()
    font.setPointSizeF(PLOT_FONT_POINTS)
    return font


def style_plot_item(item: pg.PlotItem, bottom: str, left: str, grid: bool = False) -> None:
    """Axis labels and tick fonts for a plot item, and a light grid when ``grid``.

    A grid costs as much to draw as the rest of a plot together (pyqtgraph draws it as
    part of the axes, over the whole plot), so live plots go without it. Axes are cached
    as pixmaps: a frame that only moves curves repaints them without re-rendering text.

    Tick values are never rescaled by an SI prefix. Disabling the prefix alone is not
    enough in pyqtgraph 0.14: ``enableAutoSIPrefix(False)`` still runs one
    ``updateAutoSIPrefix()``, which (for an axis without units whose visible range lies
    in 0..1, e.g. a loss of 0.68) stores a tick scale of 1000 that nothing resets, while
    the label shows no prefix. With no range in which a prefix applies, that update
    computes a scale of 1.
    """
    for name, text in (("bottom", bottom), ("left", left)):
        axis = item.getAxis(name)
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        axis.setTickFont(plot_font())
        axis.setLabel(text, siPrefixEnableRanges=(), **{"font-size": f"{PLOT_FONT_POINTS + 1}pt"})
        axis.enableAutoSIPrefix(False)
    item.showGrid(x=grid, y=grid, alpha=0.18)
