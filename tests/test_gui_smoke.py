"""``python main.py`` opens the window, trains a few epochs and quits cleanly, with its own
settings folder (never the user's), whatever layout was stored there before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOAT_A_DOCK = """
from PySide6.QtWidgets import QApplication, QDockWidget
from app.main_window import MainWindow
app = QApplication([])
window = MainWindow()
window.show()
window.findChildren(QDockWidget)[0].setFloating(True)
window.close()  # stores the layout
"""


def run_main(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", "--auto-train-epochs", "5", "--quit-after"], cwd=ROOT, env=env,
                          check=False, capture_output=True, text=True, timeout=90)


def app_problems(stderr: str) -> list[str]:
    """The app's own complaints on stderr (its "error:" lines, a traceback); Qt's messages are not ours to judge."""
    return [line for line in stderr.splitlines() if line.startswith(("Traceback", "error:"))]


def test_main_trains_a_few_epochs_and_exits_cleanly(child_env):
    result = run_main(child_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("epoch 5: training loss ")
    assert not app_problems(result.stderr), result.stderr
    assert (Path(child_env["XDG_CONFIG_HOME"]) / "EpochLab" / "EpochLab.ini").exists()  # its layout went to its own folder


def test_main_starts_from_a_stored_layout_with_a_floating_dock(child_env):
    stored = subprocess.run([sys.executable, "-c", FLOAT_A_DOCK], cwd=ROOT, env=child_env, check=False,
                            capture_output=True, text=True, timeout=90)
    assert stored.returncode == 0, stored.stderr
    result = run_main(child_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("epoch 5: training loss ")
    assert not app_problems(result.stderr), result.stderr
