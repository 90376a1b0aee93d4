"""The report of an uncaught exception, shown by the crash handler (`ui/crash.py`): read-only text, Copy and Close."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget


class CrashDialog(QDialog):
    """The report of one uncaught exception: read-only text, Copy and Close."""

    def __init__(self, report: str, log_file: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("crashDialog")
        self.setWindowTitle("GradStudio — unexpected error")
        self.report = report
        intro = QLabel("Something went wrong inside GradStudio. The app is still running and your document is "
                       "open: saving it now under a new name is a good idea.\n"
                       f"This report was also written to {log_file}.")
        intro.setWordWrap(True)
        intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text = QPlainTextEdit(report)
        self.text.setObjectName("crashReport")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        buttons = QDialogButtonBox()
        self.copy_button = buttons.addButton("Copy Report", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setObjectName("crashCopy")
        self.copy_button.clicked.connect(self.copy)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setObjectName("crashClose")
        self.close_button.setDefault(True)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(720, 420)

    def copy(self) -> None:
        """Put the whole report on the clipboard."""
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self.report)
            self.copy_button.setText("Copied")
