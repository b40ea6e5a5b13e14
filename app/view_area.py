"""The centre of the window: views (plots, tables) as dock widgets that can be moved,
tabbed, floated and hidden. A later view is one :meth:`ViewArea.add_view` call."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar, QTabWidget, QWidget


class ViewArea(QMainWindow):
    """An inner main window with no central widget: its dock areas hold every view."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Widget)
        self.setObjectName("viewArea")
        # no AnimatedDocks: any re-layout would animate every view's geometry, repainting plots for nothing
        self.setDockOptions(QMainWindow.DockOption.AllowNestedDocks | QMainWindow.DockOption.AllowTabbedDocks)
        self.setTabPosition(Qt.DockWidgetArea.AllDockWidgetAreas, QTabWidget.TabPosition.North)
        self.views: dict[str, QDockWidget] = {}

    def add_view(self, name: str, title: str, widget: QWidget, *, beside: str | None = None,
                 orientation: Qt.Orientation = Qt.Orientation.Horizontal) -> QDockWidget:
        """Add ``widget`` as the view ``name``: first in the area, or split off the view
        ``beside`` (to its right, or below it with a vertical ``orientation``). Views can be
        tabbed onto each other with ``tabifyDockWidget`` (the user can drag them too)."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{name}Dock")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable | QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        if beside is not None:
            self.splitDockWidget(self.views[beside], dock, orientation)
        self.views[name] = dock
        return dock

    def tidy_tab_bars(self) -> None:
        """Show every tab title whole (scroll arrows instead of "Wei…" when a group is narrow),
        and hide the tab bars Qt left behind: tabbing a third dock onto a group (or restoring a
        layout) can leave the group's earlier bar shown at its old place, drawn across another
        view. A bar in use sits right on top of the dock it shows; any other is stray."""
        docks = [dock for dock in self.views.values() if dock.isVisible() and not dock.isFloating()]
        for bar in self.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
            bar.setElideMode(Qt.TextElideMode.ElideNone)
            bar.setUsesScrollButtons(True)
            if not bar.isVisible() or bar.count() == 0:
                continue
            title = bar.tabText(bar.currentIndex())
            used = any(dock.windowTitle() == title and not dock.visibleRegion().isEmpty()
                       and abs(dock.x() - bar.x()) <= 2 and abs(dock.width() - bar.width()) <= 2 for dock in docks)
            if not used:
                bar.hide()
