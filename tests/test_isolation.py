"""The test set-up itself: the user's settings are out of reach, property tests are repeatable."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import settings


def test_hypothesis_runs_a_fixed_set_of_examples():
    current = settings()
    assert current.derandomize and current.database is None and current.deadline is None
    assert current.max_examples == 100


def test_this_process_keeps_no_settings_in_the_users_folders(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        assert Path(os.environ[name]).is_relative_to(base), name


def test_each_child_gets_its_own_empty_settings_folders(child_env, tmp_path):
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        folder = Path(child_env[name])
        assert folder.is_relative_to(tmp_path) and folder.is_dir() and not any(folder.iterdir()), name
    assert child_env["QT_QPA_PLATFORM"] == "offscreen"
