"""One write at a time on a worker thread, for work the UI must not wait for (autosave's serialise + fsync).

A job is `job(cancelled, pace) -> result`: `cancelled()` says whether it was cancelled, and `pace()` is to be
called often (every node record, say). Python runs one thread at a time (the GIL): a worker that computes
without pause makes the UI thread wait up to the interpreter's switch interval (5 ms) each time it comes
back from Qt into Python, many times per event, so a background serialisation stalled the UI as long as a
synchronous one. `pace` gives the interpreter up for `REST` seconds after each `SLICE` of work, so the UI
thread never waits more than about a slice; it also stops a cancelled job where it is (`WriteCancelled`).
A job must read nothing the UI thread changes (give it a snapshot). While a job runs, a newly submitted job waits, and
replaces any job already waiting: only the latest state is worth writing (coalescing). Each result or
error comes back as `finished` on the thread that owns the writer, never from inside `submit`.
`cancel` returns only when no job runs and none will start, so a caller can then delete what jobs write.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

Job = Callable[[Callable[[], bool], Callable[[], None]], Any]

SLICE = 0.001  # seconds a job computes before it rests
REST = 0.001  # seconds it then leaves the interpreter to the UI thread

log = logging.getLogger(__name__)


class WriteCancelled(Exception):
    """Raised by `pace` in a cancelled job: the job stops where it is and reports nothing."""


class _Run:
    """One submitted job on its way through the worker: its cancel flag, and its outcome once done."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.cancel_flag = threading.Event()
        self.future: Future[None] | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.handled = False  # its outcome was taken (by `_done` or `wait`); a late queued signal is ignored
        self.slice_start = 0.0

    def pace(self) -> None:
        """Rest after each slice of work, so the UI thread gets the interpreter; stop when cancelled."""
        if self.cancel_flag.is_set():
            raise WriteCancelled
        if time.perf_counter() - self.slice_start >= SLICE:
            time.sleep(REST)
            self.slice_start = time.perf_counter()

    def execute(self, relay: _Relay) -> None:
        """On the worker: run the job, keep its outcome, and tell the owner's thread (queued)."""
        self.slice_start = time.perf_counter()
        try:
            self.result = self.job(self.cancel_flag.is_set, self.pace)
        except WriteCancelled:
            self.result = None
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
        self._name = name
        self._executor: ThreadPoolExecutor | None = None  # made for the first job: most runs never write one
        self._relay = _Relay(self)
        self._relay.done.connect(self._done)
        self._running: _Run | None = None
        self._waiting: Job | None = None
        self._closed = False

    def busy(self) -> bool:
        """True while a job runs or waits."""
        return self._running is not None or self._waiting is not None

    def submit(self, job: Job) -> None:
        """Run `job` now if the worker is idle, else after the running one (replacing any job already waiting);
        after `shutdown`, nothing."""
        if self._closed:
            return
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
        self._closed = True
        self.cancel()
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    def _start(self, job: Job) -> None:
        run = _Run(job)
        self._running = run
        run.future = self._worker().submit(run.execute, self._relay)

    def _worker(self) -> ThreadPoolExecutor:
        """The one-thread executor, made (and concurrent.futures loaded) when the first job comes."""
        if self._executor is None:
            from concurrent.futures import ThreadPoolExecutor

            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)
        return self._executor

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
