"""A `.grad` kept after an edit: the canvas and the values panel show the same one (or neither), and unchecking
requires_grad keeps it as `x.requires_grad_(False)` does, with undo restoring it exactly.

Driven with real clicks and typing on the notes' first example (x = ones(3, requires_grad=True); y = x + 2;
z = y * y * 3; out = z.mean()).
"""

from __future__ import annotations

from typing import Any

import pytest
from backward_helpers import badge, click_toolbar, item, node_id, open_example
from panel_helpers import click_node, settle
from PySide6.QtCore import Qt
from test_inspector import type_into

from gradstudio.ui.canvas import requires_grad_face as face
from gradstudio.ui.main_window import MainWindow

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def notes(window: MainWindow, qtbot: Any) -> MainWindow:
    """The notes' example after one Backward from the toolbar: x.grad = [6, 6, 6]."""
    open_example(window, "notes_forward_backward")
    click_toolbar(qtbot, window, window.actions.actionBackward)
    settle()
    assert badge(window, "x", "grad").text == "[6, 6, 6]"
    return window


def panel_grad(window: MainWindow) -> list[float] | None:
    """The gradient the values panel shows for the selected node, as a list (None when it shows none)."""
    value = window.values_panel.grad_view.value
    return None if value is None else value.tolist()


def canvas_grad(window: MainWindow, name: str) -> list[float] | None:
    """The `.grad` badge's gradient under node `name` on the canvas, as a list (None without one)."""
    shown = badge(window, name, "grad")
    return None if shown is None else shown.value.tolist()


def click_requires_grad(qtbot: Any, window: MainWindow, name: str) -> None:
    """Click the requires_grad checkbox on a leaf's face."""
    leaf = item(window, name)
    point = window.view.mapFromScene(leaf.mapToScene(face.checkbox_rect(leaf).center()))
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    settle()


def test_an_edit_elsewhere_keeps_x_grad_on_the_canvas_as_in_the_values_panel(notes: MainWindow, qtbot: Any) -> None:
    click_node(qtbot, notes, "three")
    type_into(qtbot, notes, "value", "4")
    click_node(qtbot, notes, "x")
    assert notes.workspace.model.last_backward is None  # the pass belonged to the old values
    assert canvas_grad(notes, "x") == panel_grad(notes) == [6.0, 6.0, 6.0]
    shown = notes.workspace.shown_gradient(node_id(notes, "x"))
    kept = badge(notes, "x", "grad")
    assert shown.earlier and kept.earlier == shown.note == notes.values_panel.gradient.note
    assert "before the last edit" in shown.note and shown.note in kept.toolTip()
    assert badge(notes, "y", "flow") is None  # what flowed through y belonged to the old pass: gone from both
    click_node(qtbot, notes, "y")
    assert panel_grad(notes) is None


def test_an_edit_of_x_itself_drops_its_grad_from_both(notes: MainWindow, qtbot: Any) -> None:
    click_node(qtbot, notes, "x")
    type_into(qtbot, notes, "shape", "4")
    assert notes.workspace.model.grad(node_id(notes, "x")) is None  # a fresh tensor, as a new torch.ones(4)
    assert canvas_grad(notes, "x") is None and panel_grad(notes) is None


def test_zero_grad_after_an_edit_clears_both(notes: MainWindow, qtbot: Any) -> None:
    click_node(qtbot, notes, "three")
    type_into(qtbot, notes, "value", "4")
    click_node(qtbot, notes, "x")
    click_toolbar(qtbot, notes, notes.actions.actionZeroGrad)
    settle()
    assert canvas_grad(notes, "x") is None and panel_grad(notes) is None


def test_undo_of_an_edit_keeps_the_grad_shown_on_both(notes: MainWindow, qtbot: Any) -> None:
    click_node(qtbot, notes, "three")
    type_into(qtbot, notes, "value", "4")
    click_node(qtbot, notes, "x")
    qtbot.keyClick(notes.view, Qt.Key.Key_Z, CTRL)
    settle()
    assert notes.document.nodes[node_id(notes, "three")].attributes["value"] == 3
    assert canvas_grad(notes, "x") == panel_grad(notes) == [6.0, 6.0, 6.0]


def test_unchecking_requires_grad_keeps_x_grad_and_undo_restores_it(notes: MainWindow, qtbot: Any) -> None:
    x = node_id(notes, "x")
    model = notes.workspace.model
    before = model.grad(x)
    click_node(qtbot, notes, "x")
    click_requires_grad(qtbot, notes, "x")
    assert notes.document.nodes[x].attributes["requires_grad"] is False
    assert not model.tracked(x) and face.is_untracked(item(notes, "y").result)
    # torch: x.requires_grad_(False) leaves x.grad as it was
    assert model.grad(x) is before and before.tolist() == [6.0, 6.0, 6.0]
    assert canvas_grad(notes, "x") == panel_grad(notes) == [6.0, 6.0, 6.0]
    assert notes.values_panel.value_view.text.toPlainText() == "tensor([1., 1., 1.])"  # the same tensor, redrawn
    qtbot.keyClick(notes.view, Qt.Key.Key_Z, CTRL)
    settle()
    assert notes.document.nodes[x].attributes["requires_grad"] is True and model.tracked(x)
    assert notes.values_panel.value_view.text.toPlainText() == "tensor([1., 1., 1.], requires_grad=True)"
    assert model.grad(x) is before and before.tolist() == [6.0, 6.0, 6.0]
    click_node(qtbot, notes, "out")
    click_toolbar(qtbot, notes, notes.actions.actionBackward)  # and the next pass adds to it, as in a session
    settle()
    assert model.grad(x).tolist() == [12.0, 12.0, 12.0] and canvas_grad(notes, "x") == [12.0, 12.0, 12.0]
