"""Autosave and crash recovery of the window's open document (the files themselves: `recovery_files`).

- While the document has unsaved changes it is written to a recovery file every
  30 s (unless nothing changed since the last write) and after every 20 undo-stack
  index changes (edits, undos and redos).
- Saving it, undoing back to the saved state, switching to another document (the
  window asked about unsaved work first) or a clean exit removes the file.
- A write never pauses editing: the document's snapshot is taken on the UI thread (milliseconds), and
  serialising, writing and fsync run on a worker thread (`BackgroundWriter`), one write at a time; edits
  made meanwhile are written right after it, as one write of the latest snapshot. Removing the file first
  cancels and waits out a write in flight, so no late write brings it back.
- At start, `offer_recovery` finds the files of processes that no longer run and
  asks: Restore, Discard, Show File, or Keep for Later.

A restored document keeps its original path and name but opens *modified* (its
undo stack is put out of the clean state): the original file is untouched until
the user saves, and closing asks first, so nothing is overwritten silently.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from gradstudio.model.collector import collection_paused
from gradstudio.model.io.fileformat import GraphFileError
from gradstudio.ui.io.background_writer import BackgroundWriter
from gradstudio.ui.io.recovery_files import STATE_DIR_VARIABLE, Recovery, RecoveryStore, snapshot

if TYPE_CHECKING:
    from gradstudio.ui.main_window import MainWindow
    from gradstudio.ui.workspace import Workspace

AUTOSAVE_INTERVAL_MS = 30_000
AUTOSAVE_EDITS = 20
RESTORE, DISCARD, LATER = "restore", "discard", "later"

log = logging.getLogger(__name__)


def state_folder() -> Path:
    """The user's state folder for GradStudio ($GRADSTUDIO_STATE_DIR overrides it, as tests do)."""
    override = os.environ.get(STATE_DIR_VARIABLE)
    if override:
        return Path(override)
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.StateLocation)
    return Path(folder) if folder else Path.home() / ".gradstudio"


def recovery_folder() -> Path:
    """Where recovery files live: `recovery/` in the state folder."""
    return state_folder() / "recovery"


class Autosaver(QObject):
    """Writes the bound workspace's document to its recovery file while it has unsaved changes."""

    written = Signal(str)

    def __init__(self, store: RecoveryStore, interval_ms: int = AUTOSAVE_INTERVAL_MS, edits: int = AUTOSAVE_EDITS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.edits = edits
        self.edits_since_write = 0
        self.workspace: Workspace | None = None
        self._failed = False
        self._dirty = False  # changed since the last snapshot was taken
        self.writer = BackgroundWriter("gradstudio-autosave", self)
        self.writer.finished.connect(self._write_finished)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.autosave)
        self.timer.start()

    def bind(self, workspace: Workspace) -> None:
        """Follow `workspace`; the previous document's recovery file goes (it was saved or let go)."""
        if self.workspace is not None:
            self.workspace.undo_stack.indexChanged.disconnect(self._index_changed)
            self.workspace.undo_stack.cleanChanged.disconnect(self._clean_changed)
        self.clear()
        self.workspace = workspace
        self.edits_since_write = 0
        self._dirty = False
        workspace.undo_stack.indexChanged.connect(self._index_changed)
        workspace.undo_stack.cleanChanged.connect(self._clean_changed)

    def autosave(self) -> bool:
        """Start writing the recovery file if the document has unsaved changes not yet written; True when started.

        Only the snapshot is taken here; the write runs on the worker and `written` says when it is on disk."""
        workspace = self.workspace
        self.edits_since_write = 0
        if workspace is None or workspace.undo_stack.isClean():
            self.clear()
            return False
        if not self._dirty and (self.writer.busy() or self.store.exists()):
            return False
        try:
            with collection_paused():  # thousands of small copies: no full collection for them mid-edit
                taken = snapshot(workspace.document, workspace.path, workspace.display_name)
        except Exception as error:  # autosave must never take the app down: say so once, keep editing
            self._report_failure(error)
            return False
        self._dirty = False
        store = self.store
        self.writer.submit(lambda cancelled, pace: store.write_snapshot(taken, cancelled, pace))
        return True

    def wait(self) -> None:
        """Block until the writes started so far are on disk (or failed) and reported."""
        self.writer.wait()

    def clear(self) -> None:
        """Cancel a write in flight (waiting it out), then remove the recovery file: nothing recreates it later."""
        self.writer.cancel()
        self.store.clear()

    def stop(self) -> None:
        """A clean exit: no more writes, and the recovery file goes."""
        self.timer.stop()
        self.writer.shutdown()
        self.store.clear()

    def _write_finished(self, path: object, error: object) -> None:
        if isinstance(error, BaseException):
            self._report_failure(error)
            self._dirty = True  # what failed is still unwritten: the next autosave writes it
            return
        self._failed = False
        self.written.emit(str(path))

    def _report_failure(self, error: BaseException) -> None:
        log.error("autosave to %s failed", self.store.folder, exc_info=error)
        if not self._failed and self.workspace is not None:
            self.workspace.message.emit(f"Autosave failed: {error}")
        self._failed = True

    def _index_changed(self, _index: int) -> None:
        self._dirty = True
        self.edits_since_write += 1
        if self.edits_since_write >= self.edits:
            self.autosave()

    def _clean_changed(self, clean: bool) -> None:
        self._dirty = True
        if clean:
            self.edits_since_write = 0
            self.clear()


# ----- at start: offer what a crashed run left ----------------------------------------------------------------------


def offer_recovery(window: MainWindow) -> int:
    """Ask about every recovery file a crashed run left; how many documents were restored."""
    restored = 0
    for recovery in window.autosave.store.stale():
        answer = ask(window, recovery)
        if answer == RESTORE:
            restored += restore(window, recovery)
        elif answer == DISCARD:
            recovery.discard()
    return restored


def ask(parent: QWidget, recovery: Recovery) -> str:
    """The recovery prompt (object name `recoveryPrompt`): RESTORE, DISCARD or LATER; Show File asks again."""
    box = QMessageBox(QMessageBox.Icon.Warning, "Recover unsaved work", "", QMessageBox.StandardButton.NoButton,
                      parent)
    box.setObjectName("recoveryPrompt")
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(recovery.saved_at)) if recovery.saved_at else "?"
    where = recovery.original_path or "never saved"
    box.setText(f"GradStudio did not close properly. “{recovery.display_name}” has unsaved work from {when}.")
    box.setInformativeText(f"Original file: {where}\nRestore opens it as a modified document; nothing is "
                           "overwritten until you save.")
    roles = QMessageBox.ButtonRole
    restore_button = box.addButton("Restore", roles.AcceptRole)
    discard_button = box.addButton("Discard", roles.DestructiveRole)
    show_button = box.addButton("Show File", roles.ActionRole)
    later_button = box.addButton("Keep for Later", roles.RejectRole)
    for button, name in [(restore_button, "recoveryRestore"), (discard_button, "recoveryDiscard"),
                         (show_button, "recoveryShowFile"), (later_button, "recoveryLater")]:
        button.setObjectName(name)
    box.setDefaultButton(restore_button)
    box.setEscapeButton(later_button)
    try:
        while True:
            box.exec()
            clicked = box.clickedButton()
            if clicked is show_button:
                show_file(parent, recovery)
                continue
            return RESTORE if clicked is restore_button else DISCARD if clicked is discard_button else LATER
    finally:
        box.deleteLater()


def show_file(parent: QWidget, recovery: Recovery) -> None:
    """Say where the recovery file is (and put its path on the clipboard)."""
    clipboard = QGuiApplication.clipboard()
    if clipboard is not None:
        clipboard.setText(str(recovery.graph_file))
    QMessageBox.information(parent, "Recovery file",
                            f"The recovered graph is a normal GradStudio file:\n{recovery.graph_file}\n\n"
                            "Its path is on the clipboard.")


def restore(window: MainWindow, recovery: Recovery) -> bool:
    """Open the recovered document as modified, write it again under this run, then drop the old file."""
    try:
        document = recovery.load()
    except GraphFileError as error:
        QMessageBox.critical(window, "Cannot restore", f"{recovery.graph_file.name}: {error}")
        return False
    if not window.files.maybe_save():
        return False
    window.set_document(document, recovery.original_path, recovery.display_name)
    window.undo_stack.resetClean()
    window.autosave.autosave()
    window.autosave.wait()  # the restored work is on disk under this run before the old file goes
    if window.autosave.store.exists():  # if that write failed, the old file stays: still the only copy on disk
        recovery.discard()
    window.show_message(f"Restored “{recovery.display_name}”: save it to keep it")
    return True
