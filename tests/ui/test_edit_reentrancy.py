"""Edits while typing: pending field input is committed before Undo, Redo or a command runs, never during one."""

from __future__ import annotations

from typing import Any

import pytest
from panel_helpers import click_node, node_id, settle
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QToolBar, QToolButton
from ui_helpers import add_node, drag

from gradstudio.model.document import GraphDocument
from gradstudio.model.edits import SetAttribute
from gradstudio.ui.main_window import MainWindow

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def _one_tensor(window: MainWindow, qtbot: Any) -> None:
    document = GraphDocument()
    add_node(document, "x", "tensor", (0, 0))
    window.set_document(document)
    settle()
    click_node(qtbot, window, "x")


def _type(qtbot: Any, window: MainWindow, key: str, text: str, enter: bool, replace: bool = False) -> None:
    line = window.inspector.fields[key].editor
    line.setFocus()
    line.selectAll() if replace else line.end(False)
    qtbot.keyClicks(line, text)
    if enter:
        qtbot.keyClick(line, Qt.Key.Key_Return)
    settle()


def _toolbar_button(window: MainWindow, name: str) -> QToolButton:
    toolbar = window.findChild(QToolBar, "mainToolbar")
    return toolbar.widgetForAction(window.actions.all[name])


def test_toolbar_undo_while_typing_commits_the_typing_then_undoes_it(window: MainWindow, qtbot: Any) -> None:
    _one_tensor(window, qtbot)
    _type(qtbot, window, "shape", "2, 3", enter=True, replace=True)
    assert window.document.nodes["x"].attributes["shape"] == (2, 3)
    _type(qtbot, window, "shape", ", 4", enter=False)
    qtbot.mouseClick(_toolbar_button(window, "actionUndo"), Qt.MouseButton.LeftButton)
    settle()
    # the typed ", 4" became a step of its own, and Undo took it back: redo can bring it again
    assert window.document.nodes["x"].attributes["shape"] == (2, 3)
    assert window.undo_stack.count() == 2 and window.undo_stack.index() == 1
    qtbot.mouseClick(_toolbar_button(window, "actionUndo"), Qt.MouseButton.LeftButton)
    settle()
    assert window.document.nodes["x"].attributes["shape"] == (3,)
    qtbot.mouseClick(_toolbar_button(window, "actionRedo"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(_toolbar_button(window, "actionRedo"), Qt.MouseButton.LeftButton)
    settle()
    assert window.document.nodes["x"].attributes["shape"] == (2, 3, 4)
    assert window.inspector.fields["shape"].editor.text() == "2, 3, 4"
    click_node(qtbot, window, "x")  # the inspector's widgets are alive
    assert window.inspector.fields["shape"].editor.isVisible()


@pytest.mark.parametrize(("key", "modifiers", "added"), [(Qt.Key.Key_D, CTRL, "nodes"),
                                                         (Qt.Key.Key_N, CTRL | SHIFT, "annotations"),
                                                         (Qt.Key.Key_G, CTRL, "annotations")])
def test_a_shortcut_while_typing_keeps_the_typed_text(window: MainWindow, qtbot: Any, key: Qt.Key,
                                                     modifiers: Qt.KeyboardModifier, added: str) -> None:
    _one_tensor(window, qtbot)
    _type(qtbot, window, "name", "weights", enter=False, replace=True)
    qtbot.keyClick(window.inspector.fields["name"].editor, key, modifiers)
    settle()
    assert window.document.nodes["x"].name == "weights"
    assert len(getattr(window.document, added)) == 2 - (added == "annotations")
    assert [window.undo_stack.text(i) for i in range(window.undo_stack.count())][0] == "Rename x to weights"
    while window.undo_stack.canUndo():
        window.actions.actionUndo.trigger()
    settle()
    assert window.document.nodes["x"].name == "x" and len(window.document.nodes) == 1


def test_the_editor_refuses_an_edit_pushed_while_undo_runs(window: MainWindow, qtbot: Any) -> None:
    _one_tensor(window, qtbot)
    _type(qtbot, window, "shape", "5", enter=True, replace=True)
    messages: list[str] = []
    window.workspace.message.connect(messages.append)
    pushed: list[bool] = []
    x = node_id(window, "x")
    window.document.subscribe(lambda event, payload: pushed.append(
        window.editor.apply(SetAttribute(x, "shape", (7,)), "Sneak")) if not pushed else None)
    window.actions.actionUndo.trigger()
    settle()
    assert pushed == [False] and any("undo" in m.lower() for m in messages)
    assert window.undo_stack.count() == 1 and window.undo_stack.index() == 0 and window.undo_stack.canRedo()


def test_a_refused_auto_layout_leaves_no_dead_undo_step(window: MainWindow, qtbot: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _one_tensor(window, qtbot)
    before = window.document.snapshot()
    messages: list[str] = []
    window.workspace.message.connect(messages.append)
    # past the canvas's limits (here: not finite at all), the model refuses the positions
    monkeypatch.setattr("gradstudio.model.layout.layered_positions",  # imported by Auto layout on first use
                        lambda document, ids, sizes: {node_id: (float("inf"), 0.0) for node_id in ids})
    qtbot.keyClick(window.view, Qt.Key.Key_L, CTRL)
    settle()
    assert window.undo_stack.count() == 0 and window.document.snapshot() == before
    assert messages and messages[-1].startswith("Auto layout:")
    assert window.scene.nodes["x"].pos().x() == window.document.nodes["x"].position[0]


def test_a_refused_drag_puts_the_node_back(window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _one_tensor(window, qtbot)
    item = window.scene.nodes["x"]
    start = item.sceneBoundingRect().center()
    start.setY(item.sceneBoundingRect().top() + 10)
    monkeypatch.setattr("gradstudio.ui.edit.editor.move_edits", lambda *args: SetAttribute("x", "shape", "bad"))
    drag(qtbot, window, start, start + QPointF(200, 120))
    settle()
    assert window.undo_stack.count() == 0
    assert (item.pos().x(), item.pos().y()) == window.document.nodes["x"].position


def test_dragging_a_node_away_and_straight_back_leaves_no_undo_step(window: MainWindow, qtbot: Any) -> None:
    _one_tensor(window, qtbot)
    item = window.scene.nodes["x"]
    start = QPointF(item.sceneBoundingRect().left() + 30, item.sceneBoundingRect().top() + 8)
    away = start + QPointF(160, 80)
    drag(qtbot, window, start, away)
    settle()
    assert window.undo_stack.count() == 1
    drag(qtbot, window, away, start)
    settle()
    assert window.document.nodes["x"].position == (0.0, 0.0)
    assert window.undo_stack.count() == 0
