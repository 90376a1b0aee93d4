"""The code panel: the exporter's PyTorch code of the open graph, live, read-only, copyable."""

from __future__ import annotations

from typing import Any

from backward_helpers import press_backward
from panel_helpers import click_node, node_id, open_example, settle
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from test_inspector import type_into
from ui_helpers import add_node

from gradstudio.model.document import Edge
from gradstudio.model.edits import Connect, SetSetting
from gradstudio.model.io.codegen import generate_code
from gradstudio.ui.main_window import MainWindow


def show_code(window: MainWindow) -> str:
    """Bring the code panel's tab to the front and return its text."""
    window.code_panel.show()
    window.code_panel.raise_()
    settle()
    return window.code_panel.text.toPlainText()


def test_the_panel_shows_the_exporters_code(window: MainWindow) -> None:
    open_example(window, "notes_forward_backward")
    code = show_code(window)
    assert code == generate_code(window.document, window.workspace.results())
    assert "y = x + 2\n" in code and code.endswith("out.backward()\nprint(x.grad)\n")
    assert window.code_panel.text.isReadOnly()


def test_the_code_follows_inspector_edits_and_undo(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    show_code(window)
    click_node(qtbot, window, "x")
    type_into(qtbot, window, "shape", "2, 3")
    code = window.code_panel.text.toPlainText()
    assert "x = torch.ones(2, 3, requires_grad=True)\n" in code
    assert code == generate_code(window.document, window.workspace.results())
    type_into(qtbot, window, "name", "inputs")
    assert "y = inputs + 2\n" in window.code_panel.text.toPlainText()
    window.undo_stack.undo()
    window.undo_stack.undo()
    settle()
    assert window.code_panel.text.toPlainText() == generate_code(window.document, window.workspace.results())
    assert "x = torch.ones(3, requires_grad=True)\n" in window.code_panel.text.toPlainText()


def test_no_grad_mode_wraps_the_ops(window: MainWindow) -> None:
    open_example(window, "notes_forward_backward")
    show_code(window)
    window.editor.apply(SetSetting("grad_mode", "no_grad"), "No grad")
    settle()
    assert "with torch.no_grad():\n    y = x + 2\n" in window.code_panel.text.toPlainText()


def test_a_hidden_panel_catches_up_when_shown(window: MainWindow) -> None:
    open_example(window, "notes_forward_backward")
    window.values_panel.raise_()
    settle()
    assert not window.code_panel.on_screen
    window.editor.apply(SetSetting("grad_mode", "no_grad"), "No grad")
    settle()
    assert "with torch.no_grad()" not in window.code_panel.text.toPlainText()  # not regenerated while hidden
    assert "with torch.no_grad()" in show_code(window)


def test_copy_puts_the_code_on_the_clipboard(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "linear_regression")
    code = show_code(window)
    qtbot.mouseClick(window.code_panel.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == code
    assert code.startswith("import torch\nimport torch.nn.functional as F\n")
    assert node_id(window, "loss")


def test_the_code_shows_the_backward_just_run_without_a_target(chain: MainWindow, qtbot: Any) -> None:
    add_node(chain.document, "m", "mean", (780, 0))
    chain.document.apply(Connect(Edge("z", "m", "input")))
    chain.workspace.refresh()
    assert chain.document.settings.backward_target in (None, "")
    assert ".backward()" not in show_code(chain)
    click_node(qtbot, chain, "m")
    press_backward(qtbot, chain)
    code = show_code(chain)
    assert code.endswith("print(m)\nm.backward()\nprint(x.grad)\n")
    assert code == generate_code(chain.document, chain.workspace.results(), "m")


def test_the_code_is_coloured_once_the_panel_is_on_screen(window: MainWindow) -> None:
    """The highlighter is made when the code's tab first comes to the front (not at start-up), then colours the
    keywords, `torch` and the numbers."""
    open_example(window, "notes_forward_backward")
    assert window.code_panel.highlighter is None
    show_code(window)
    highlighter = window.code_panel.highlighter
    assert highlighter is not None and highlighter.document() is window.code_panel.text.document()
    block = window.code_panel.text.document().findBlock(0)
    while block.isValid() and "torch." not in block.text():
        block = block.next()
    formats = block.layout().formats()
    coloured = {block.text()[part.start:part.start + part.length] for part in formats}
    assert "torch" in coloured and any(text[:1].isdigit() for text in coloured)
