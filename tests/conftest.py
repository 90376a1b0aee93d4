"""Test set-up shared by every folder: Qt runs offscreen, and the app's state folder is a temporary one."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Recovery files and crash logs go to a fresh folder per test, never the user's state folder."""
    folder = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("GRADSTUDIO_STATE_DIR", str(folder))
    return folder
