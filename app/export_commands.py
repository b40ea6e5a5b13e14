"""File ▸ Export: the history of every run (CSV), the run as a program (NumPy script,
notebook, PyTorch script), the trained network as ONNX, and any plot as an image.

:class:`ExportCommands` belongs to the main window and reads what it commits: the session's
runs (``window.history``), the network as built (``window.network``), the data
(``window.dataset``) and the trainer's state now (``window.trainer_state()``). A refusal is
explained in the window's banner (``window.refuse``), a success in the status bar."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMenu

from core.export import ExportSource, write_notebook, write_numpy_script, write_onnx, write_torch_script
from core.export.source import initial_state
from core.files import FileFormatError, write_history_csv

from .plot_export import ask_export_plot
from .session_io import network_with

if TYPE_CHECKING:
    from .main_window import MainWindow

PROGRAM_WRITERS = {"script": write_numpy_script, "notebook": write_notebook, "torch": write_torch_script}
# kind: (file name suffix, what the dialog calls it)
FILE_KINDS = {"script": (".py", "NumPy script"), "notebook": (".ipynb", "notebook"), "torch": ("-torch.py", "PyTorch script"),
              "onnx": (".onnx", "ONNX model")}


class ExportCommands:
    """The window's export commands (see the module docstring)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window

    def _ask_path(self, title: str, name: str, filter_text: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self.window, title, str(self.window.experiment_dir() / name), filter_text)
        return Path(path) if path else None

    def _done(self, message: str, milliseconds: int = 6000) -> None:
        self.window.statusBar().showMessage(message, milliseconds)

    # ----- the history --------------------------------------------------------------------------------
    def history(self, path: str | Path) -> bool:
        """Write every epoch of every run of the session to the CSV file ``path``: one row an
        epoch, the run's id and name first."""
        session = self.window.history.session
        rows = [{"run": run.id, "run_name": run.name, **record} for run in session.runs for record in run.record.records()]
        columns = list(dict.fromkeys(key for row in rows for key in row))  # accuracy and R² runs side by side
        try:
            write_history_csv(path, [dict.fromkeys(columns) | row for row in rows])
        except self.window.refusals as exc:
            self.window.refuse("Could not export the history.", exc)
            return False
        self._done(f"Wrote {len(rows)} epochs of {len(session.runs)} runs to {path}")
        return True

    def ask_history(self) -> None:
        path = self._ask_path("Export the history", f"{self.window.dataset.name}-history.csv", "CSV tables (*.csv)")
        if path:
            self.history(path)

    # ----- programs and models ------------------------------------------------------------------------
    def program(self, kind: str, path: str | Path) -> bool:
        """Write the current run as ``kind`` (one of FILE_KINDS): a standalone program
        ("script" for NumPy, "notebook", "torch") that trains it again from its initial
        weights, with the data file beside it, or the network as it is now ("onnx")."""
        window = self.window
        if window.network is None:
            window.refuse("Could not export the run.", "there is no network to export: fix the network settings first")
            return False
        try:  # the trainer's state now: the live setting changes made since the latest checkpoint too
            state = window.trainer_state()
            if kind == "onnx":
                if state is None:
                    raise FileFormatError("the trainer process did not answer: try again")
                written = write_onnx(network_with(window.network, state), path)
            else:
                run = window.history.current
                source = ExportSource.of_run(network_with(window.network, initial_state(run)), run, window.dataset, state)
                written = PROGRAM_WRITERS[kind](source, path)
        except window.refusals as exc:
            window.refuse("Could not export the run.", exc)
            return False
        self._done("Wrote " + ", ".join(str(p) for p in written), 8000)
        return True

    def ask_program(self, kind: str) -> None:
        suffix, title = FILE_KINDS[kind]
        path = self._ask_path(f"Export a {title}", f"{self.window.dataset.name}{suffix}", f"{title} (*{Path(suffix).suffix})")
        if path:
            self.program(kind, path)

    # ----- plots --------------------------------------------------------------------------------------
    def fill_plot_menu(self, menu: QMenu) -> None:
        """File ▸ Export ▸ Plot: one entry per plot of the window."""
        menu.clear()
        registry = self.window.registry
        for name, plot in registry.exportable_plots().items():
            title = registry.docks[name].windowTitle()
            menu.addAction(f"{title}…").triggered.connect(lambda _checked=False, p=plot, n=name: self.plot(p, n))

    def plot(self, plot: object, name: str) -> None:
        try:
            path = ask_export_plot(self.window, plot, name)
        except FileFormatError as exc:
            self.window.refuse("Could not export the plot.", exc)
            return
        if path is not None:
            self._done(f"Exported the plot to {path}")
