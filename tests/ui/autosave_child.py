"""Run by `test_crash_recovery.py` in its own process: open an example, edit until autosave has written twice
(after 20 edits, then on the timer), edit once more, print what was autosaved, and wait to be killed."""

from __future__ import annotations

import json
import os
import sys

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from gradstudio.model.io import fileformat
from gradstudio.ui.io.files import example_files
from gradstudio.ui.io.recovery import AUTOSAVE_EDITS
from gradstudio.ui.main_window import MainWindow
from gradstudio.ui.settings import AppSettings

LIFETIME_MS = 60_000  # never outlive a test that failed to kill us


def main(settings_file: str) -> int:
    """Edit, autosave, report on stdout, then run the event loop until killed."""
    app = QApplication(sys.argv[:1])
    window = MainWindow(AppSettings(QSettings(settings_file, QSettings.Format.IniFormat)))
    window.show()
    example = next(path for path in example_files() if path.name == "xor_mlp.gsg")
    assert window.files.open_path(str(example), as_example=True)
    written: list[str] = []
    window.autosave.written.connect(lambda _path: written.append(fileformat.dumps(window.document)))
    node_id = sorted(window.document.nodes)[0]

    def edit(count: int) -> None:
        for _ in range(count):
            before = window.document.nodes[node_id].position
            window.editor.move({node_id: (before, (before[0] + 7, before[1] + 3))}, mergeable=False)

    edit(AUTOSAVE_EDITS)
    while not written:  # twenty edits write the recovery file, on the worker thread
        app.processEvents()
    edit(2)
    window.autosave.timer.setInterval(200)
    while len(written) < 2:
        app.processEvents()
    window.autosave.timer.setInterval(LIFETIME_MS)
    edit(1)  # the edit in progress when the process dies: not autosaved
    report = {"pid": os.getpid(), "autosaved": written[-1], "final": fileformat.dumps(window.document)}
    print(json.dumps(report), flush=True)
    QTimer.singleShot(LIFETIME_MS, app.quit)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
