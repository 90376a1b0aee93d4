"""Uncaught exceptions: log them, show a copyable report, and keep the app running.

`install_crash_handler(folder)` (called at start-up by `app.run_app`, never at import)
replaces `sys.excepthook`. An exception that reaches it (typically raised in a slot,
which Qt's event loop survives) is written with its traceback to `crash.log` in the
state folder through Python logging, printed to stderr, and shown in a dialog (object
name `crashDialog`, `dialogs/crash_dialog.py`) whose report can be copied. Reporting is never recursive: an
exception while showing the dialog is only logged. It is rate-limited: while a report
is open, further exceptions are only logged, and the same exception (type and place)
opens at most one dialog per minute.
This module imports nothing of Qt: the dialog and Qt's version load when a crash is shown, so installing the handler
costs start-up nothing (and the module loads with the Qt-free layers, before PySide6).
"""

from __future__ import annotations

import faulthandler
import logging
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from gradstudio import __version__

if TYPE_CHECKING:
    from gradstudio.ui.dialogs.crash_dialog import CrashDialog

LOG_NAME = "crash.log"
FATAL_LOG_NAME = "fatal.log"  # what faulthandler writes when the process itself dies (a segfault, an abort)
REPEAT_SECONDS = 60.0

log = logging.getLogger("gradstudio.crash")

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


def format_report(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> str:
    """The report a user can paste into a bug: versions, then the traceback."""
    import PySide6
    from PySide6.QtCore import qVersion

    header = (f"GradStudio {__version__}, Python {platform.python_version()}, Qt {qVersion()}, "
              f"PySide6 {PySide6.__version__}\n{platform.platform()}")
    return header + "\n\n" + "".join(traceback.format_exception(exc_type, exc, tb))


def signature(exc_type: type[BaseException], tb: TracebackType | None) -> tuple[str, str, int]:
    """What makes two exceptions 'the same' for rate-limiting: the type and where it was raised."""
    frames = traceback.extract_tb(tb) if tb is not None else []
    last = frames[-1] if frames else None
    return exc_type.__qualname__, last.filename if last else "", (last.lineno or 0) if last else 0


class CrashHandler:
    """The installed `sys.excepthook`: logs, shows one dialog at a time, and never recurses."""

    def __init__(self, log_file: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.log_file = Path(log_file)
        self.clock = clock
        self.previous: ExceptHook | None = None
        self.dialog: CrashDialog | None = None
        self.shown_at: dict[tuple[str, str, int], float] = {}
        self.suppressed = 0
        self._reporting = False
        self._log_handler: logging.Handler | None = None
        self._fatal_file: object | None = None
        self._faulthandler_was_on = False

    def install(self) -> None:
        """Start logging to the crash log and take over `sys.excepthook`."""
        if self._log_handler is None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log_handler = logging.FileHandler(self.log_file, encoding="utf-8", delay=True)
            self._log_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            log.addHandler(self._log_handler)
            log.setLevel(logging.INFO)
        if self._fatal_file is None:
            self._faulthandler_was_on = faulthandler.is_enabled()
            self._fatal_file = open(self.log_file.with_name(FATAL_LOG_NAME), "a", encoding="utf-8")  # noqa: SIM115
            faulthandler.enable(self._fatal_file, all_threads=True)
        if sys.excepthook != self.handle:
            self.previous = sys.excepthook
            sys.excepthook = self.handle

    def uninstall(self) -> None:
        """Give `sys.excepthook` back and stop logging to the file."""
        if sys.excepthook == self.handle and self.previous is not None:
            sys.excepthook = self.previous
        self.previous = None
        if self._log_handler is not None:
            log.removeHandler(self._log_handler)
            self._log_handler.close()
            self._log_handler = None
        if self._fatal_file is not None:
            faulthandler.disable()
            self._fatal_file.close()
            self._fatal_file = None
            if self._faulthandler_was_on and sys.__stderr__ is not None:
                faulthandler.enable(sys.__stderr__)

    def handle(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        """Log the exception, print it, and show it (unless reporting already, or shown very recently)."""
        if issubclass(exc_type, KeyboardInterrupt):
            (self.previous or sys.__excepthook__)(exc_type, exc, tb)
            return
        report = format_report(exc_type, exc, tb)
        log.error("uncaught exception\n%s", report)
        if sys.stderr is not None:
            sys.stderr.write(report)
        if self._reporting:
            return
        self._reporting = True
        try:
            self._show(signature(exc_type, tb), report)
        except Exception:  # the report itself failed: the log has the first one, and this one
            log.exception("could not show the crash report")
        finally:
            self._reporting = False

    def _show(self, key: tuple[str, str, int], report: str) -> None:
        from PySide6.QtWidgets import QApplication

        from gradstudio.ui.dialogs import crash_dialog

        if QApplication.instance() is None:
            return
        if self.dialog is not None and self.dialog.isVisible():
            self.suppressed += 1
            return
        now = self.clock()
        if now - self.shown_at.get(key, float("-inf")) < REPEAT_SECONDS:
            self.suppressed += 1
            return
        self.shown_at[key] = now
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = crash_dialog.CrashDialog(report, self.log_file, QApplication.activeWindow())
        self.dialog.show()
        self.dialog.raise_()


def install_crash_handler(state_folder: Path) -> CrashHandler:
    """Install the handler, logging to `crash.log` in `state_folder`; keep the result to `uninstall()` it."""
    handler = CrashHandler(Path(state_folder) / LOG_NAME)
    handler.install()
    return handler
