"""The UI monkey: seeded random user actions through the real window (a few hundred here; GRADSTUDIO_SOAK=1 for
20,000 over 10 seeds). After every action the scene and the model agree and no exception escaped; at the end
undo-all restores the first document and redo-all the last."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from monkey import Monkey
from ui_helpers import DialogRecorder

from gradstudio.ui.main_window import MainWindow

SOAK = os.environ.get("GRADSTUDIO_SOAK") == "1"
SEEDS = range(10) if SOAK else range(2)
ACTIONS = int(os.environ.get("GRADSTUDIO_SOAK_ACTIONS", "2000")) if SOAK else 150


@pytest.mark.parametrize("seed", SEEDS)
def test_random_user_actions_keep_scene_model_and_history_consistent(window: MainWindow, qtbot: Any,
                                                                     dialogs: DialogRecorder, tmp_path: Path,
                                                                     seed: int) -> None:
    log = Monkey(window, qtbot, dialogs, tmp_path, seed).run(ACTIONS)
    assert len(log) == ACTIONS

