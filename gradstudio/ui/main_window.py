"""The main window (a plain shell until the canvas lands)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow


class MainWindow(QMainWindow):
    """GradStudio's top-level window."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("GradStudio")
        self.resize(1200, 800)
        self._path: str | None = None
        placeholder = QLabel("GradStudio — the canvas arrives with the next release.")
        placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        placeholder.setObjectName("canvas")
        self.setCentralWidget(placeholder)

    def open_path(self, path: str) -> None:
        """Remember the file to open and show it in the title."""
        self._path = path
        self.setWindowTitle(f"{path} — GradStudio")
