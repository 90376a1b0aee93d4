"""Docks for panels that a later release fills."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QWidget


def _label(text: str, muted: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if muted:
        label.setEnabled(False)
    return label


def coming_dock(object_name: str, title: str, text: str, parent: QWidget | None = None) -> QDockWidget:
    """A dock for a panel that a later release fills, saying so plainly."""
    dock = QDockWidget(title, parent)
    dock.setObjectName(object_name)
    label = _label(text, muted=True)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    dock.setWidget(label)
    return dock
