"""The code panel: the PyTorch code of the open graph, regenerated live by the model's exporter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from gradstudio.model.io.codegen import generate_code
from gradstudio.ui.panels.base import PanelDock
from gradstudio.ui.text_limits import clip
from gradstudio.ui.widgets.tensor_view import monospace
from gradstudio.ui.workspace import Workspace

if TYPE_CHECKING:
    from gradstudio.ui.panels.code_highlighter import PythonHighlighter


def safe_code(workspace: Workspace) -> tuple[str, str | None]:
    """The graph's PyTorch code and None, or "" and why it cannot be written (a value beyond float range, say)."""
    try:
        last = workspace.backward_result  # the Backward just run, whichever node it started from
        return generate_code(workspace.document, workspace.results(), last.target if last else None), None
    except (ArithmeticError, ValueError, TypeError, MemoryError, RecursionError) as error:
        return "", f"{type(error).__name__}: {error}"


class CodeDock(PanelDock):
    """The `codePanel` dock: read-only code, regenerated after every evaluation while the panel is visible."""

    follows = ("values_changed", "backward_changed")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Code", "codePanel", parent)
        self._stale = True
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(monospace())
        self.highlighter: PythonHighlighter | None = None  # made when the code is first on screen
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the code to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        self.setWidget(self._body())
        # a dock behind another tab still says isVisible(); visibilityChanged tells when its tab is shown
        self.on_screen = False
        self.visibilityChanged.connect(self._visibility_changed)

    def _body(self) -> QWidget:
        top = QHBoxLayout()
        note = QLabel("The PyTorch code of this graph (read-only, follows every edit)")
        note.setEnabled(False)
        top.addWidget(note, 1)
        top.addWidget(self.copy_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(top)
        layout.addWidget(self.text, 1)
        return body

    def _visibility_changed(self, visible: bool) -> None:
        self.on_screen = visible
        if visible and self.highlighter is None:  # its module (and Qt's rich-text types) load only then
            from gradstudio.ui.panels.code_highlighter import PythonHighlighter

            self.highlighter = PythonHighlighter(self.text.document())
        if visible and self._stale:
            self.refresh()

    def show_selection(self, node_ids: list[str]) -> None:
        """The code is the whole graph's: a new selection changes nothing."""
        self.selection = list(node_ids)

    def refresh(self) -> None:
        """Regenerate the code now if the panel is visible, else when it is next shown."""
        self._stale = True
        if self.workspace is None or not self.on_screen:
            return
        code = self._generate()
        if code != self.text.toPlainText():
            scroll = self.text.verticalScrollBar().value()
            self.text.setPlainText(code)
            self.text.verticalScrollBar().setValue(scroll)
        self._stale = False

    def code(self) -> str:
        """The code as shown (regenerated first if it is stale)."""
        if self._stale and self.workspace is not None:
            return self._generate()
        return self.text.toPlainText()

    def _generate(self) -> str:
        code, problem = safe_code(self.workspace)
        return code if problem is None else f"# This graph cannot be written as code: {clip(problem)}\n"

    def copy(self) -> None:
        """Put the code on the clipboard."""
        QGuiApplication.clipboard().setText(self.code())
