"""Edit > Preferences…: the element limit per tensor is a setting, applied at start and re-evaluating on change."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from ui_helpers import DialogRecorder, add_node

from gradstudio.model import limits
from gradstudio.model.document import GraphDocument
from gradstudio.ui.dialogs.preferences_dialog import PreferencesDialog
from gradstudio.ui.main_window import MainWindow
from gradstudio.ui.settings import AppSettings


@pytest.fixture(autouse=True)
def restore_limit() -> Iterator[None]:
    """The limit is process-wide: put it back after each test."""
    previous = limits.max_elements()
    yield
    limits.set_max_elements(previous)


def answer_preferences(qtbot: Any, text: str, seen: dict[str, Any]) -> None:
    """When the dialog opens: type `text` as the limit, note whether OK is enabled, then press OK or Cancel."""

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, PreferencesDialog):
            QTimer.singleShot(20, answer)
            return
        seen["initial"] = dialog.max_elements_edit.text()
        dialog.max_elements_edit.selectAll()
        if text.isascii():
            qtbot.keyClicks(dialog.max_elements_edit, text)
        else:  # QTest types Latin-1 only
            dialog.max_elements_edit.insert(text)
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        seen["ok_enabled"] = ok.isEnabled()
        seen["problem"] = dialog.problem.text()
        button = ok if ok.isEnabled() else dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, answer)


def test_the_default_is_ten_million_and_is_applied_at_start(settings: AppSettings) -> None:
    assert settings.max_elements() == 10**7
    settings.set_max_elements(1234)
    assert AppSettings(settings.store).max_elements() == 1234
    settings.store.setValue("limits/max_elements", "nonsense")
    assert settings.max_elements() == 10**7


def test_a_stored_limit_is_applied_when_the_window_starts(qtbot: Any, settings: AppSettings,
                                                         dialogs: DialogRecorder) -> None:
    settings.set_max_elements(5000)
    window = MainWindow(settings)
    qtbot.addWidget(window)
    assert limits.max_elements() == 5000


def test_changing_the_limit_in_preferences_re_evaluates(qtbot: Any, window: MainWindow,
                                                        settings: AppSettings) -> None:
    document = GraphDocument()
    add_node(document, "big", "tensor", (0, 0), shape=(10, 10))
    window.set_document(document)
    window.workspace.flush()
    assert window.workspace.result("big").ok
    seen: dict[str, Any] = {}
    answer_preferences(qtbot, "50", seen)
    window.actions.all["actionPreferences"].trigger()
    assert seen == {"initial": "10,000,000", "ok_enabled": True, "problem": ""}
    assert limits.max_elements() == 50 and settings.max_elements() == 50
    result = window.workspace.result("big")
    assert not result.ok and "50 elements" in result.error
    assert "50" in window.statusBar().currentMessage()

    answer_preferences(qtbot, "1_000", seen)
    window.actions.all["actionPreferences"].trigger()
    assert window.workspace.result("big").ok and settings.max_elements() == 1000


@pytest.mark.parametrize("text", ["0", "abc", "-5", "10000000000", "1.5", "٣"])
def test_an_invalid_limit_cannot_be_accepted(qtbot: Any, window: MainWindow, settings: AppSettings,
                                             text: str) -> None:
    seen: dict[str, Any] = {}
    answer_preferences(qtbot, text, seen)
    window.actions.all["actionPreferences"].trigger()
    assert not seen["ok_enabled"] and seen["problem"]
    assert limits.max_elements() == 10**7 and settings.max_elements() == 10**7


def test_preferences_is_on_the_edit_menu(window: MainWindow) -> None:
    edit_menu = next(action.menu() for action in window.menuBar().actions() if action.text() == "&Edit")
    assert window.actions.all["actionPreferences"] in edit_menu.actions()
