"""The Backward Steps panel: which step of a backward walk is shown, and its chain rule with the numbers.

`gradstudio.ui.backward.stepper.StepController` drives it; on its own it only shows
text and the Previous / Next / Show All buttons.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from gradstudio.ui.panels.base import PanelDock
from gradstudio.ui.text_limits import shorten_words

IDLE = "Press Step Backward (Ctrl+Shift+B) to walk the backward pass one grad_fn at a time."


class StepPanel(PanelDock):
    """The `stepPanel` dock: which step, and its chain rule with the numbers (the step walk fills it)."""

    follows = ()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Backward Steps", "stepPanel", parent)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        row = QHBoxLayout()
        self.title = QLabel()
        self.title.setObjectName("stepTitle")
        row.addWidget(self.title, 1)
        self.previous = QPushButton("◀ Previous")
        self.next = QPushButton("Next ▶")
        self.finish = QPushButton("Show All")
        for button in (self.previous, self.next, self.finish):
            row.addWidget(button)
        layout.addLayout(row)
        self.text = QTextBrowser()
        self.text.setObjectName("stepText")
        layout.addWidget(self.text)
        self.setWidget(body)
        self.show_idle()

    def show_idle(self, text: str = IDLE) -> None:
        """No walk in progress."""
        self.title.setText("")
        self.text.setHtml(f"<p style='color:gray'>{text}</p>")
        for button in (self.previous, self.next, self.finish):
            button.setEnabled(False)

    def show_step(self, index: int, count: int, html: str, title: str) -> None:
        """Show one step's explanation."""
        self.title.setText(f"<b>Step {index + 1} of {count}</b> · {shorten_words(title)}")
        self.text.setHtml(html)
        self.previous.setEnabled(index > 0)
        self.next.setEnabled(True)
        self.finish.setEnabled(True)

    def show_selection(self, node_ids: list[str]) -> None:
        """The walk, not the selection, decides what this panel shows."""
        self.selection = list(node_ids)
