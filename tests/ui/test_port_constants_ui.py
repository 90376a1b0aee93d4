"""Port constants in the window: typed in the inspector, shown on the node's face, undone with Ctrl+Z."""

from __future__ import annotations

from typing import Any

from panel_helpers import click_node, settle
from PySide6.QtCore import Qt
from ui_helpers import add_node

from gradstudio.model.document import Edge, GraphDocument
from gradstudio.model.edits import Connect
from gradstudio.ui.main_window import MainWindow

CTRL = Qt.KeyboardModifier.ControlModifier


def x_into_add() -> GraphDocument:
    """x (3 ones) wired into `a` of an Add node y whose `b` is unwired."""
    document = GraphDocument()
    add_node(document, "x", "tensor", (0, 0), requires_grad=True)
    add_node(document, "y", "add", (260, 0))
    document.apply(Connect(Edge("x", "y", "a")))
    return document


def type_into(qtbot: Any, window: MainWindow, key: str, text: str) -> None:
    """Replace the text of inspector field `key` by typing, then press Enter."""
    line = window.inspector.fields[key].editor
    line.setFocus()
    line.selectAll()
    qtbot.keyClick(line, Qt.Key.Key_Backspace)
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)
    settle()


def test_typing_a_constant_on_b_makes_y_x_plus_2_and_ctrl_z_undoes_it(window: MainWindow, qtbot: Any) -> None:
    window.set_document(x_into_add())
    click_node(qtbot, window, "y")
    fields = window.inspector.fields
    assert "port_b" in fields and "port_a" not in fields  # only the unwired input takes a constant
    assert window.workspace.result("y").error == "input 'b' is not connected"
    item = window.scene.nodes["y"]
    assert item.port_label("b") == "b"
    before = window.document.snapshot()
    type_into(qtbot, window, "port_b", "2")
    assert window.document.nodes["y"].port_constants == {"b": 2}
    assert window.undo_stack.count() == 1
    assert window.workspace.result("y").value.tolist() == [3.0, 3.0, 3.0]
    assert item.port_label("b") == "b = 2"
    assert "not connected" not in item.preview().values
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_Z, CTRL)
    settle()
    assert window.document.snapshot() == before
    assert window.workspace.result("y").error == "input 'b' is not connected"
    assert item.port_label("b") == "b"
    assert window.inspector.fields["port_b"].editor.text() == ""


def test_a_bad_constant_is_refused_under_its_field_and_clearing_removes_it(window: MainWindow, qtbot: Any) -> None:
    window.set_document(x_into_add())
    click_node(qtbot, window, "y")
    type_into(qtbot, window, "port_b", "two")
    assert window.document.nodes["y"].port_constants == {} and window.undo_stack.count() == 0
    assert "expected a number, True or False" in window.inspector.fields["port_b"].error.text()
    type_into(qtbot, window, "port_b", "0.5")
    assert window.workspace.result("y").value.tolist() == [1.5, 1.5, 1.5]
    type_into(qtbot, window, "port_b", "")
    assert window.document.nodes["y"].port_constants == {} and window.undo_stack.count() == 2


def test_an_edge_into_the_port_wins_and_hides_the_field(window: MainWindow, qtbot: Any) -> None:
    window.set_document(x_into_add())
    click_node(qtbot, window, "y")
    type_into(qtbot, window, "port_b", "2")
    assert window.workspace.editor.connect(Edge("x", "y", "b"))
    settle()
    assert window.workspace.result("y").value.tolist() == [2.0, 2.0, 2.0]
    assert "port_b" not in window.inspector.fields
    assert window.scene.nodes["y"].port_label("b") == "b"
