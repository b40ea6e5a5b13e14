"""Start the Qt application and show the main window."""

from __future__ import annotations

import sys
from typing import Sequence


def run_gui(argv: Sequence[str]) -> int:
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    window = QMainWindow()
    window.setObjectName("MainWindow")
    window.setWindowTitle("Epoch Lab")
    window.setCentralWidget(QLabel("Epoch Lab"))
    window.show()
    return app.exec()
