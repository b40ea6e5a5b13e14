"""The run as a Jupyter notebook: the NumPy program's sections as markdown and code cells,
and a matplotlib plot of the losses at the end.

The notebook loads its data file from the working folder (Jupyter starts a notebook in its
own folder). The plot cell is tagged ``plot``: it is the only one that needs matplotlib.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbformat import v4

from .numpy_program import numpy_sections
from .source import ExportSource, data_file_for, write_data_file, write_text

PLOT_TAG = "plot"
PLOT_CODE = """\
import matplotlib.pyplot as plt

epochs = [record["epoch"] for record in history]
plt.plot(epochs, [record["train_loss"] for record in history], label="training loss")
if history and history[0]["val_loss"] is not None:
    plt.plot(epochs, [record["val_loss"] for record in history], label="validation loss")
plt.xlabel("epoch")
plt.ylabel("loss")
plt.legend()
plt.show()"""


def notebook_json(source: ExportSource, data_file: str) -> str:
    """The notebook (nbformat 4) as JSON text."""
    steps = len(source.dense_steps()) - 1
    cells = [v4.new_markdown_cell(
        f"# Training a neural network with NumPy, step by step\n\n"
        f"Exported by Epoch Lab: {steps} dense layers trained on *{source.dataset.name}* "
        f"({source.dataset.n_samples} samples) for {source.epochs} epochs, from the same initial weights and with "
        f"the same settings, so this notebook prints the lab's history, epoch by epoch. It needs only NumPy and "
        f"`{data_file}` beside it (and matplotlib for the plot at the end). The notation is the course's: "
        "W[l] is (n[l], n[l-1]), one column per sample.")]
    for number, section in enumerate(numpy_sections(source, data_file, beside_script=False), start=1):
        cells.append(v4.new_markdown_cell(f"## {number}. {section.title}\n\n{section.text}"))
        cells.append(v4.new_code_cell(section.code.rstrip()))
    cells.append(v4.new_markdown_cell("## The losses\n\nThe training and validation losses, epoch by epoch."))
    cells.append(v4.new_code_cell(PLOT_CODE, metadata={"tags": [PLOT_TAG]}))
    notebook = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.validate(notebook)
    return nbformat.writes(notebook)


def write_notebook(source: ExportSource, path: str | os.PathLike) -> list[Path]:
    """Write the notebook to ``path`` and its data file beside it; return both paths."""
    data = write_data_file(source, path)
    notebook = write_text(path, notebook_json(source, data_file_for(path).name))
    return [notebook, data]
