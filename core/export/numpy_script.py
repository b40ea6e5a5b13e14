"""The run as one standalone NumPy script (``python script.py`` prints one JSON line per epoch).

The script needs only NumPy and the data file written beside it (see :mod:`.source`); its
steps are the sections of :mod:`.numpy_program`, each under a comment that explains it.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

from .numpy_program import numpy_sections
from .source import ExportSource, data_file_for, write_data_file, write_text

WIDTH = 110


def comment_block(text: str, title: str | None = None) -> str:
    """``text`` wrapped into ``#`` comment lines, under a ruled ``title`` when given."""
    lines = [f"# ----- {title} ".ljust(WIDTH, "-")] if title else []
    lines += textwrap.wrap(text, WIDTH - 2, initial_indent="# ", subsequent_indent="# ", break_on_hyphens=False)
    return "\n".join(lines)


def script_header(source: ExportSource, what: str, name: str, data_file: str) -> str:
    """The docstring of the script ``name``: what it trains, how to run it, what it needs. Names
    are quoted as JSON strings, so that no quote or backslash in them ends the docstring."""
    dataset, script, data = (json.dumps(text, ensure_ascii=False) for text in (source.dataset.name, name, data_file))
    return (f'"""{what}\n\n'
            f"Exported by Epoch Lab: {len(source.dense_steps()) - 1} dense layers trained on {dataset} "
            f"({source.dataset.n_samples} samples) for {source.epochs} epochs.\n"
            f"Run it as `python {script}` next to {data}; it prints one JSON object per epoch, as\n"
            f'`python main.py train --json` does.\n"""\n')


def numpy_script_text(source: ExportSource, data_file: str, name: str) -> str:
    """The whole script, loading ``data_file`` from its own folder."""
    parts = [script_header(source, "Train a neural network with NumPy alone, step by step, in the course's notation.",
                           name, data_file)]
    for section in numpy_sections(source, data_file, beside_script=True):
        parts.append(comment_block(section.text, section.title) + "\n" + section.code.rstrip() + "\n")
    return "\n\n".join(parts)


def write_numpy_script(source: ExportSource, path: str | os.PathLike) -> list[Path]:
    """Write the script to ``path`` and its data file beside it; return both paths."""
    data = write_data_file(source, path)
    script = write_text(path, numpy_script_text(source, data_file_for(path).name, Path(path).name))
    return [script, data]
