"""One write at a time on a worker thread, for work the UI must not wait for (autosave's serialise + fsync).

A job is `job(cancelled) -> result`, given a function that says whether it was cancelled; it must read
nothing the UI thread changes (give it a snapshot). While a job runs, a newly submitted job waits, and
replaces any job already waiting: only the latest state is worth writing (coalescing). Each result or
error comes back as `finished` on the thread that owns the writer, never from inside `submit`.
`cancel` returns only when no job runs and none will start, so a caller can then delete what jobs write.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

Job = Callable[[Callable[[], bool]], Any]

log = logging.getLogger(__name__)


class _Run:
    """One submitted job on its way through the worker: its cancel flag, and its outcome once done."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.cancel_flag = threading.Event()
        self.future: Future[None] | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.handled = False  # its outcome was taken (by `_done` or `wait`); a late queued signal is ignored

    def execute(self, relay: _Relay) -> None:
        """On the worker: run the job, keep its outcome, and tell the owner's thread (queued)."""
        try:
            self.result = self.job(self.cancel_flag.is_set)
        except Exception as error:  # reported on the owner's thread: a failed write never ends the worker
            self.error = error
        try:
            relay.done.emit(self)
        except RuntimeError:  # the owner is gone (its window closed without stopping it): nobody to tell
            log.debug("background write finished after its owner was deleted")


class _Relay(QObject):
    """Carries a finished run from the worker to the owner's thread (a queued connection: it lives there)."""

    done = Signal(object)


class BackgroundWriter(QObject):
    """Runs submitted jobs one at a time on its own worker thread, coalescing the ones that wait."""

    finished = Signal(object, object)  # (result, error or None), on the owner's thread; not for cancelled jobs

    def __init__(self, name: str = "gradstudio-writer", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._relay = _Relay(self)
        self._relay.done.connect(self._done)
        self._running: _Run | None = None
        self._waiting: Job | None = None

    def busy(self) -> bool:
        """True while a job runs or waits."""
        return self._running is not None or self._waiting is not None

    def submit(self, job: Job) -> None:
        """Run `job` now if the worker is idle, else after the running one (replacing any job already waiting)."""
        if self._running is None:
            self._start(job)
        else:
            self._waiting = job

    def wait(self) -> None:
        """Block until every submitted job has run and been reported (for callers that need the file on disk)."""
        while self._running is not None:
            run = self._running
            self._settle(run)
            self._finish(run)

    def cancel(self) -> None:
        """Drop the waiting job, ask the running one to stop, and block until it has; nothing is reported."""
        self._waiting = None
        run = self._running
        if run is None:
            return
        run.cancel_flag.set()
        self._settle(run)
        run.handled = True
        self._running = None

    def shutdown(self) -> None:
        """Cancel, then end the worker thread (the writer takes no more jobs)."""
        self.cancel()
        self._executor.shutdown(wait=True)

    def _start(self, job: Job) -> None:
        run = _Run(job)
        self._running = run
        run.future = self._executor.submit(run.execute, self._relay)

    @staticmethod
    def _settle(run: _Run) -> None:
        """Wait for `run` on the worker (the wait releases the GIL, so the worker gets on with it)."""
        if run.future is not None:
            run.future.result()

    def _done(self, run: _Run) -> None:
        if run.handled or run is not self._running:
            return
        self._finish(run)

    def _finish(self, run: _Run) -> None:
        """Report `run` and start the job that waited for it, if any."""
        run.handled = True
        self._running = None
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            self._start(waiting)
        self.finished.emit(run.result, run.error)
