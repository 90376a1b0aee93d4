"""Crash recovery through a real kill: the app autosaves in a subprocess, dies by SIGKILL, and the next start
offers the autosaved document; Restore gives it exactly as last autosaved."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from recovery_helpers import answer_prompts
from ui_helpers import DialogRecorder

from gradstudio.model.io import fileformat
from gradstudio.ui.app import create_window
from gradstudio.ui.settings import AppSettings

ROOT = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("autosave_child.py")
READY_SECONDS = 20


def read_report(process: subprocess.Popen) -> dict[str, Any]:
    """The child's one-line JSON report, or a failure with its stderr if it does not come in time."""
    ready, _, _ = select.select([process.stdout], [], [], READY_SECONDS)
    line = process.stdout.readline() if ready else ""
    if not line:
        process.kill()
        _, errors = process.communicate()
        pytest.fail(f"the child did not report in {READY_SECONDS} s:\n{errors}")
    return json.loads(line)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killed_mid_edit_the_next_start_restores_the_last_autosave(
        qtbot: Any, settings: AppSettings, dialogs: DialogRecorder, state_dir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "GRADSTUDIO_STATE_DIR": str(state_dir), "QT_QPA_PLATFORM": "offscreen",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, str(CHILD), str(tmp_path / "child.ini")], env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        report = read_report(process)
        assert report["pid"] == process.pid
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert report["autosaved"] != report["final"]  # the last edit was lost with the process

    texts: list[str] = []
    answer_prompts(["recoveryRestore"], texts)
    window = create_window(settings=settings)
    qtbot.addWidget(window, before_close_func=lambda widget: widget.undo_stack.setClean())
    assert len(texts) == 1 and "Xor mlp (example)" in texts[0]
    assert fileformat.dumps(window.document) == report["autosaved"]
    assert window.isWindowModified() and window.workspace.path is None
    assert window.autosave.store.stale() == []
