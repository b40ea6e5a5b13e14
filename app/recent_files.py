"""File ▸ Open Recent: the experiment files opened or saved last, newest first, kept in the
user's settings (QSettings key ``RECENT_KEY``) so every window and every later start sees them.

:class:`RecentFiles` keeps at most ``RECENT_LIMIT`` absolute paths; :meth:`RecentFiles.fill`
rebuilds a menu from them: a file that is gone is shown greyed out (disabled), with a
tooltip that says so, and "Clear list" at the bottom removes them all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

RECENT_KEY = "files/recent"
RECENT_LIMIT = 8


class RecentFiles:
    """The recent experiment files in ``settings`` (a QSettings), newest first."""

    def __init__(self, settings: QSettings) -> None:
        self._settings = settings

    def paths(self) -> list[Path]:
        value = self._settings.value(RECENT_KEY) or []
        return [Path(text) for text in ([value] if isinstance(value, str) else value)][:RECENT_LIMIT]

    def add(self, path: str | Path) -> None:
        """Put ``path`` first (once), keeping at most RECENT_LIMIT."""
        path = Path(path).absolute()
        kept = [path, *(p for p in self.paths() if p != path)][:RECENT_LIMIT]
        self._store(kept)

    def remove(self, path: str | Path) -> None:
        path = Path(path).absolute()
        self._store([p for p in self.paths() if p != path])

    def clear(self) -> None:
        self._store([])

    def _store(self, paths: list[Path]) -> None:
        self._settings.setValue(RECENT_KEY, [str(p) for p in paths])
        self._settings.sync()

    def fill(self, menu: QMenu, open_path: Callable[[Path], None]) -> None:
        """Rebuild ``menu``: one action per recent file (``open_path(path)`` when chosen; greyed
        out when the file is gone), then "Clear list"."""
        menu.clear()
        paths = self.paths()
        for number, path in enumerate(paths, start=1):
            action = menu.addAction(f"&{number} {path.name}")
            action.setObjectName(f"recentFile{number}")
            exists = path.is_file()
            action.setEnabled(exists)
            action.setToolTip(str(path) if exists else f"{path} is not there any more")
            action.setStatusTip(action.toolTip())
            action.triggered.connect(lambda _checked=False, p=path: open_path(p))
        if not paths:
            menu.addAction("No recent files").setEnabled(False)
        menu.addSeparator()
        clear = menu.addAction("&Clear list")
        clear.setObjectName("recentClear")
        clear.setEnabled(bool(paths))
        clear.triggered.connect(self.clear)
