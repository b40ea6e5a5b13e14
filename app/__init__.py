"""Epoch Lab's Qt (PySide6 + pyqtgraph) user interface over the Qt-free ``core`` engine."""
