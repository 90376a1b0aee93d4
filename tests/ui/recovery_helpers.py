"""Helpers for the recovery tests: edits that count, stale recovery files, and answers to the real prompt."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from gradstudio.model.document import GraphDocument
from gradstudio.ui.io.recovery_files import Recovery, RecoveryStore, read_sidecar
from gradstudio.ui.main_window import MainWindow


def move_steps(window: MainWindow, count: int, node_id: str = "x") -> None:
    """`count` separate undoable moves of one node (each one undo-stack step)."""
    for _ in range(count):
        before = window.document.nodes[node_id].position
        window.editor.move({node_id: (before, (before[0] + 10, before[1]))}, mergeable=False)


def dead_pid() -> int:
    """The id of a process that has just exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def plant_recovery(folder: Path, document: GraphDocument, original: str | None, name: str,
                   pid: int | None = None, start: str | None = None) -> Recovery:
    """A recovery file as a run with process id `pid` (a dead one by default) would have left it."""
    store = RecoveryStore(folder)
    store.write(document, original, name)
    header = json.loads(store.sidecar.read_text(encoding="utf-8"))
    header["pid"] = dead_pid() if pid is None else pid
    header["process_start"] = start
    store.sidecar.write_text(json.dumps(header), encoding="utf-8")
    recovery = read_sidecar(store.sidecar)
    assert recovery is not None
    return recovery


def answer_prompts(names: list[str], texts: list[str], tries: int = 500) -> None:
    """Click the named button of each coming recovery prompt in turn, recording each prompt's text."""
    pending = list(names)

    def click(left: int = tries) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or box.objectName() != "recoveryPrompt" or not box.isVisible():
            if left > 0:
                QTimer.singleShot(10, lambda: click(left - 1))
            return
        texts.append(f"{box.text()}\n{box.informativeText()}")
        box.findChild(QPushButton, pending.pop(0)).click()
        if pending:
            QTimer.singleShot(0, click)

    QTimer.singleShot(0, click)
