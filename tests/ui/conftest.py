"""Fixtures for the UI tests: a main window with throw-away settings and dialogs that never block."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QPointF, QSettings
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox
from ui_helpers import DialogRecorder, chain_document

from gradstudio.ui.main_window import DEFAULT_SIZE, MainWindow
from gradstudio.ui.settings import AppSettings


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch) -> DialogRecorder:
    """Every modal dialog answered without showing: prompts say Cancel unless a test sets an answer."""
    recorder = DialogRecorder()
    buttons = QMessageBox.StandardButton
    for name, default in [("question", buttons.Cancel), ("critical", buttons.Ok), ("warning", buttons.Ok),
                          ("information", buttons.Ok), ("about", None)]:
        monkeypatch.setattr(QMessageBox, name, recorder.handler(name, default))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", recorder.handler("getSaveFileName", ("", "")))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", recorder.handler("getOpenFileName", ("", "")))
    monkeypatch.setattr(QInputDialog, "getText", recorder.handler("getText", ("", False)))
    monkeypatch.setattr(QInputDialog, "getMultiLineText", recorder.handler("getMultiLineText", ("", False)))
    return recorder


@pytest.fixture
def settings(tmp_path: Any) -> AppSettings:
    """Settings in a temporary INI file (never the user's)."""
    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def window(qtbot: Any, settings: AppSettings, dialogs: DialogRecorder) -> Iterator[MainWindow]:
    """A shown main window on an empty document."""
    main = MainWindow(settings)
    main.resize(DEFAULT_SIZE)  # offscreen's screen is 800x800: the tests' window is the default one on a larger screen
    # closing asks about unsaved work; at teardown the answer is: discard it
    qtbot.addWidget(main, before_close_func=lambda widget: widget.undo_stack.setClean())
    main.show()
    qtbot.waitExposed(main)
    yield main


@pytest.fixture
def chain(window: MainWindow) -> MainWindow:
    """The window showing `chain_document()` at 100 % zoom, everything visible."""
    window.set_document(chain_document())
    window.view.reset_zoom()
    window.view.centerOn(QPointF(400, 150))
    return window
