"""Evaluating a large dirty set in a worker thread behind a modal progress dialog with Cancel.

The model's `Evaluator.evaluate` reports progress and checks for a stop between nodes; it sets the
document's grad mode itself, in the thread that evaluates (grad mode is thread-local). Here the UI thread
runs a local event loop while the worker computes, so the window keeps painting and the dialog's Cancel
button answers; the modal dialog (and the workspace's busy state) keep edits out meanwhile.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QProgressDialog, QWidget

from gradstudio.model.evaluation import EvaluationCancelled, Evaluator

POLL_MS = 50  # how often the dialog reads the worker's progress


class _Job(QObject):
    """What the worker and the UI thread share: progress counts, the stop request and the outcome."""

    finished = Signal()  # emitted by the worker; queued to the UI thread, it ends the wait at once

    def __init__(self) -> None:
        super().__init__()
        self.done = 0
        self.total = 0
        self.stop = threading.Event()
        self.cancelled = False
        self.error: BaseException | None = None

    def progress(self, done: int, total: int) -> None:
        """Called by the evaluator after each node (in the worker)."""
        self.done, self.total = done, total


def evaluate_in_background(evaluator: Evaluator, parent: QWidget | None = None) -> bool:
    """Evaluate `evaluator`'s dirty nodes in a worker thread behind a modal dialog; False when cancelled."""
    job = _Job()
    job.total = len(evaluator.dirty)

    def work() -> None:
        try:
            evaluator.evaluate(progress=job.progress, should_stop=job.stop.is_set)
        except EvaluationCancelled:
            job.cancelled = True
        except BaseException as error:  # noqa: BLE001 - raised again in the UI thread
            job.error = error
        finally:
            job.finished.emit()

    dialog = _progress_dialog(job.total, parent)
    dialog.canceled.connect(job.stop.set)
    loop = QEventLoop()
    worker = threading.Thread(target=work, name="gradstudio-evaluation", daemon=True)
    timer = QTimer()
    timer.setInterval(POLL_MS)

    def poll() -> None:
        dialog.setMaximum(max(job.total, 1))
        dialog.setValue(job.done)
        if not worker.is_alive():
            loop.quit()

    timer.timeout.connect(poll)
    job.finished.connect(loop.quit)  # not a poll later: the values show as soon as they are computed
    worker.start()
    timer.start()
    dialog.show()
    loop.exec()
    timer.stop()
    worker.join()
    dialog.canceled.disconnect(job.stop.set)
    dialog.close()
    dialog.deleteLater()
    if job.error is not None:
        raise job.error
    return not job.cancelled


def _progress_dialog(total: int, parent: QWidget | None) -> QProgressDialog:
    """The modal dialog: 'Evaluating N nodes…', a bar and Cancel."""
    parent = parent if parent is not None else QApplication.activeWindow()
    dialog = QProgressDialog(f"Evaluating {total:,} nodes…", "Cancel", 0, max(total, 1), parent)
    dialog.setObjectName("progressDialog")
    dialog.setWindowTitle("Evaluating")
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setValue(0)
    return dialog
