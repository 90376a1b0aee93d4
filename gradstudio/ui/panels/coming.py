"""A panel that a later release fills: it says so plainly, and binds like every other panel."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from gradstudio.ui.panels.base import PanelDock


class ComingDock(PanelDock):
    """A dock whose panel a later release fills, with one line saying what it will hold."""

    follows = ()

    def __init__(self, title: str, object_name: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(title, object_name, parent)
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setEnabled(False)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWidget(label)

