"""The exported PyTorch script reproduces the engine's losses to 1e-4 relative over 10 epochs.

It runs under the Python that EPOCHLAB_TORCH_PYTHON names (e.g. a Python 3.11 venv with
``pip install torch numpy``), or this one when it has torch; skipped otherwise."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys

import pytest
from test_export import EPOCHS, SETTINGS, trained_run

from core.export import write_torch_script

RELATIVE = 1e-4
METRIC_SLACK = 0.02  # a sample whose output sits at 0.5 may fall on the other side


def torch_python() -> str | None:
    named = os.environ.get("EPOCHLAB_TORCH_PYTHON")
    if named:
        return named
    return sys.executable if importlib.util.find_spec("torch") else None


def test_the_script_needs_only_numpy_and_torch(tmp_path):
    make_data, hidden, config, options = SETTINGS["binary adam, dropout, L2, shuffle"]
    _, source, _ = trained_run(make_data(), hidden, config, **options)
    script, data = write_torch_script(source, tmp_path / "run_torch.py")
    assert data.name == "run_torch_data.npz"
    tree = ast.parse(script.read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"json", "math", "os", "time", "pathlib", "numpy", "torch"}
    assert "torch.nn.Sequential(" in script.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", SETTINGS)
def test_torch_script_matches_the_engine(name, tmp_path, child_env):
    python = torch_python()
    if python is None:
        pytest.skip("no Python with torch: set EPOCHLAB_TORCH_PYTHON")
    make_data, hidden, config, options = SETTINGS[name]
    expected, source, _ = trained_run(make_data(), hidden, config, **options)
    script, _ = write_torch_script(source, tmp_path / "run_torch.py")
    done = subprocess.run([python, str(script)], check=False, capture_output=True, text=True, env=child_env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    got = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(got) == len(expected) == EPOCHS
    for want, have in zip(expected, got, strict=True):
        assert set(have) == set(want)
        assert have["epoch"] == want["epoch"] and have["lr"] == want["lr"]
        for key, value in want.items():
            if key in ("epoch", "lr", "seconds"):
                continue
            if value is None:
                assert have[key] is None
            elif key.endswith("loss"):
                assert have[key] == pytest.approx(value, rel=RELATIVE), (key, want, have)
            else:
                assert have[key] == pytest.approx(value, abs=METRIC_SLACK), (key, want, have)
