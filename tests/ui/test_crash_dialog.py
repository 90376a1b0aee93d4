"""Uncaught exceptions in slots: logged, shown once in a copyable report, never recursive, and the app runs on.

pytest-qt captures exceptions in slots by installing its own `sys.excepthook` for the whole test; the
`crash_handler` fixture installs ours over it (so slot exceptions reach ours, not pytest-qt's) and gives
pytest-qt's back afterwards.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QPlainTextEdit, QPushButton
from recovery_helpers import move_steps

from gradstudio.ui import app, crash
from gradstudio.ui.crash import CrashHandler, install_crash_handler
from gradstudio.ui.dialogs import crash_dialog
from gradstudio.ui.dialogs.crash_dialog import CrashDialog
from gradstudio.ui.main_window import MainWindow


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def crash_handler(state_dir: Path) -> Iterator[CrashHandler]:
    """Our hook installed over pytest-qt's for one test, then pytest-qt's back."""
    original = sys.excepthook
    handler = install_crash_handler(state_dir)
    handler.clock = Clock()
    yield handler
    handler.uninstall()
    if handler.dialog is not None:
        handler.dialog.close()
        handler.dialog.deleteLater()
    assert sys.excepthook is original


def failing_slot(message: str = "boom in a slot") -> None:
    """A slot with a bug."""
    raise ValueError(message)


def raise_in_slots(qtbot: Any, count: int = 1, message: str = "boom in a slot") -> None:
    """Let the event loop call `failing_slot` `count` times."""
    for _ in range(count):
        QTimer.singleShot(0, lambda: failing_slot(message))
    qtbot.wait(50)


def crash_dialogs() -> list[CrashDialog]:
    """The crash dialogs on screen."""
    return [widget for widget in QApplication.topLevelWidgets()
            if widget.objectName() == "crashDialog" and widget.isVisible()]


def test_importing_the_module_installs_nothing_and_start_up_installs_the_hook(
        monkeypatch: pytest.MonkeyPatch, state_dir: Path) -> None:
    assert not isinstance(getattr(sys.excepthook, "__self__", None), CrashHandler)
    original = sys.excepthook
    monkeypatch.setattr(app, "create_window", lambda path=None: None)
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)
    assert app.run_app() == 0
    handler = sys.excepthook.__self__
    assert isinstance(handler, CrashHandler)
    assert handler.log_file == state_dir / crash.LOG_NAME
    handler.uninstall()
    assert sys.excepthook is original


def test_an_exception_in_a_slot_shows_a_copyable_report_logs_it_and_the_app_runs_on(
        qtbot: Any, chain: MainWindow, crash_handler: CrashHandler, state_dir: Path) -> None:
    raise_in_slots(qtbot)
    qtbot.waitUntil(lambda: len(crash_dialogs()) == 1)
    dialog = crash_dialogs()[0]
    report = dialog.findChild(QPlainTextEdit, "crashReport")
    assert report.isReadOnly()
    text = report.toPlainText()
    assert "Traceback (most recent call last)" in text
    assert "failing_slot" in text and "ValueError: boom in a slot" in text
    assert text.startswith("GradStudio ")
    qtbot.mouseClick(dialog.findChild(QPushButton, "crashCopy"), Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == text
    assert "ValueError: boom in a slot" in (state_dir / crash.LOG_NAME).read_text(encoding="utf-8")
    qtbot.mouseClick(dialog.findChild(QPushButton, "crashClose"), Qt.MouseButton.LeftButton)
    assert crash_dialogs() == []
    move_steps(chain, 1)  # the window still edits
    assert chain.isVisible() and chain.isWindowModified()


def test_repeated_exceptions_open_one_dialog_and_the_same_one_waits_a_minute(
        qtbot: Any, chain: MainWindow, crash_handler: CrashHandler, state_dir: Path) -> None:
    raise_in_slots(qtbot, count=5)
    assert len(crash_dialogs()) == 1
    assert crash_handler.suppressed == 4
    crash_handler.dialog.close()
    raise_in_slots(qtbot)
    assert crash_dialogs() == []  # the same exception again, within the minute
    crash_handler.clock.now += crash.REPEAT_SECONDS + 1
    raise_in_slots(qtbot)
    assert len(crash_dialogs()) == 1
    assert (state_dir / crash.LOG_NAME).read_text(encoding="utf-8").count("ValueError: boom in a slot") == 7


def test_a_different_exception_gets_its_own_dialog_once_the_first_is_closed(
        qtbot: Any, chain: MainWindow, crash_handler: CrashHandler) -> None:
    raise_in_slots(qtbot)
    crash_handler.dialog.close()
    QTimer.singleShot(0, lambda: {}["missing"])
    qtbot.waitUntil(lambda: len(crash_dialogs()) == 1)
    assert "KeyError: 'missing'" in crash_dialogs()[0].report


def test_an_exception_while_reporting_is_only_logged(qtbot: Any, chain: MainWindow, crash_handler: CrashHandler,
                                                     monkeypatch: pytest.MonkeyPatch, state_dir: Path) -> None:
    calls: list[str] = []

    def broken_dialog(report: str, *_args: Any) -> CrashDialog:
        calls.append(report)
        raise RuntimeError("the dialog itself failed")

    monkeypatch.setattr(crash_dialog, "CrashDialog", broken_dialog)
    raise_in_slots(qtbot)
    assert len(calls) == 1 and crash_dialogs() == []
    log = (state_dir / crash.LOG_NAME).read_text(encoding="utf-8")
    assert "could not show the crash report" in log and "RuntimeError: the dialog itself failed" in log
    assert sys.excepthook == crash_handler.handle
    move_steps(chain, 1)
    assert chain.isWindowModified()


def test_keyboard_interrupt_goes_to_the_previous_hook(crash_handler: CrashHandler) -> None:
    seen: list[type] = []
    previous, crash_handler.previous = crash_handler.previous, lambda kind, *_: seen.append(kind)
    try:
        crash_handler.handle(KeyboardInterrupt, KeyboardInterrupt(), None)
    finally:
        crash_handler.previous = previous
    assert seen == [KeyboardInterrupt] and crash_dialogs() == []


FATAL_CHILD = """
import faulthandler, sys
from pathlib import Path
from gradstudio.ui.crash import install_crash_handler
install_crash_handler(Path(sys.argv[1]))
faulthandler._sigsegv()
"""


def test_a_fatal_error_writes_its_report_before_the_process_dies(tmp_path: Path) -> None:
    import subprocess

    done = subprocess.run([sys.executable, "-c", FATAL_CHILD, str(tmp_path)], capture_output=True, text=True,
                          timeout=60, env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert done.returncode != 0
    report = (tmp_path / crash.FATAL_LOG_NAME).read_text(encoding="utf-8")
    assert "Fatal Python error: Segmentation fault" in report and "<string>" in report
