"""``python main.py`` opens the window, trains a few epochs and quits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QT_PLATFORM_NOISE = "This plugin does not support propagateSizeHints()"  # the offscreen platform's own warning


def test_main_trains_a_few_epochs_and_exits_cleanly():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "main.py", "--auto-train-epochs", "5", "--quit-after"], cwd=ROOT, env=env, check=False,
                            capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("epoch 5: training loss ")
    noise = [line for line in result.stderr.splitlines() if line.strip() and line.strip() != QT_PLATFORM_NOISE]
    assert not noise, result.stderr
