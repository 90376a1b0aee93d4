"""Backward on the canvas: the notes' numbers on the node faces, accumulation and Zero Grad, the lit path,
the gradient argument of a non-scalar, Retain Grad, and display state cleared by edits."""

from __future__ import annotations

from typing import Any

import pytest
from backward_helpers import (
    badge,
    click_node,
    click_toolbar,
    edge_names,
    item,
    node_id,
    open_example,
    press_backward,
)
from panel_helpers import settle
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QDialogButtonBox
from ui_helpers import add_node

from gradstudio.model.document import Edge, GraphDocument
from gradstudio.model.edits import Connect, RenameNode, SetAttribute
from gradstudio.ui.dialogs.gradient_dialog import GradientDialog
from gradstudio.ui.main_window import MainWindow

NOTES_PATH = {("y", "a"), ("y_squared", "a"), ("y_squared", "b"), ("z", "a"), ("out", "input")}


@pytest.fixture
def notes(window: MainWindow) -> MainWindow:
    """The window on the notes' forward/backward example (x = ones(3), y = x + 2, z = y*y*3, out = z.mean())."""
    return open_example(window, "notes_forward_backward")


def test_backward_gives_section_4s_gradient_on_the_leaf(notes: MainWindow, qtbot: Any) -> None:
    assert badge(notes, "x", "grad") is None
    press_backward(qtbot, notes)
    grad = badge(notes, "x", "grad")
    assert repr(grad.value) == "tensor([6., 6., 6.])" and grad.text == "[6, 6, 6]" and grad.label == ".grad"
    click_node(qtbot, notes, "x")
    assert notes.values_panel.grad_view.text.toPlainText() == "tensor([6., 6., 6.])"
    assert repr(notes.workspace.model.grad(node_id(notes, "x"))) == "tensor([6., 6., 6.])"
    assert "out.backward()" in notes.statusBar().currentMessage()


def test_backward_from_the_toolbar_on_section_6s_example(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_randn_mean")
    click_toolbar(qtbot, window, window.actions.actionBackward)
    grad = badge(window, "a", "grad")
    assert grad.value.tolist() == [[0.75, 0.75], [0.75, 0.75]]
    assert grad.text == "[0.75, 0.75, 0.75, 0.75]"
    assert window.workspace.model.grad(node_id(window, "a")).tolist() == [[0.75, 0.75], [0.75, 0.75]]


def test_intermediate_nodes_show_the_flow_distinct_from_grad(notes: MainWindow, qtbot: Any) -> None:
    press_backward(qtbot, notes)
    flows = {name: badge(notes, name, "flow") for name in ("y", "y_squared", "z", "out")}
    assert {name: b.text for name, b in flows.items()} == {
        "y": "[6, 6, 6]", "y_squared": "[1, 1, 1]", "z": "[0.3333, 0.3333, 0.3333]", "out": "1"}
    assert flows["y"].label == "∂out/∂y" and "None unless retain_grad" in flows["y"].toolTip()
    # PyTorch keeps a non-leaf's .grad None: no .grad badge on intermediate nodes, and no flow on the leaf
    assert all(badge(notes, name, "grad") is None for name in flows)
    assert badge(notes, "x", "flow") is None


def test_backward_twice_doubles_and_zero_grad_clears(notes: MainWindow, qtbot: Any) -> None:
    press_backward(qtbot, notes)
    press_backward(qtbot, notes)
    assert badge(notes, "x", "grad").text == "[12, 12, 12]"
    pin = notes.backward.pins[node_id(notes, "x")]
    assert pin.explanation.message == "x.grad accumulated: it now holds the sum of 2 backward passes"
    assert pin.explanation.fix_label == "Zero Grad"
    click_toolbar(qtbot, notes, notes.actions.actionZeroGrad)
    assert notes.workspace.model.grad(node_id(notes, "x")) is None
    assert badge(notes, "x", "grad") is None and notes.backward.pins == {}
    assert notes.scene.highlight.lit_edges() == set()
    press_backward(qtbot, notes)
    assert badge(notes, "x", "grad").text == "[6, 6, 6]"


def test_the_lit_edges_are_exactly_the_backward_path(notes: MainWindow, qtbot: Any) -> None:
    press_backward(qtbot, notes)
    result = notes.workspace.model.last_backward
    lit = notes.scene.highlight.lit_edges()
    assert lit == result.path
    assert edge_names(notes, lit) == NOTES_PATH
    scene_edges = notes.scene.edges
    assert {key for key, edge in scene_edges.items() if edge.flow_pen is not None and edge.opacity() == 1.0
            and edge.flow_pen.style() == Qt.PenStyle.SolidLine} == lit
    # the Python numbers take no gradient: their edges show where tracking stops, dashed
    assert edge_names(notes, notes.scene.highlight.stopped) == {("y", "b"), ("z", "b")}
    width = {name: scene_edges[(node_id(notes, name[0]), name[1])].flow_pen.widthF() for name in NOTES_PATH}
    assert width[("y", "a")] > width[("y_squared", "a")] > width[("z", "a")] > width[("out", "input")]
    assert item(notes, "two").opacity() < 1.0 and item(notes, "x").opacity() == 1.0


def test_backward_on_the_selected_node(notes: MainWindow, qtbot: Any) -> None:
    click_node(qtbot, notes, "z")
    assert notes.scene.selected_node_ids() == [node_id(notes, "z")]
    notes.scene.clearSelection()
    click_node(qtbot, notes, "out")
    press_backward(qtbot, notes)
    assert notes.workspace.model.last_backward.target == node_id(notes, "out")


def dialog_of(window: MainWindow) -> GradientDialog:
    """The open gradient-argument dialog."""
    dialog = window.backward.gradient_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_non_scalar_backward_asks_for_the_gradient_and_cancel_does_nothing(notes: MainWindow, qtbot: Any) -> None:
    click_node(qtbot, notes, "y_squared")
    press_backward(qtbot, notes)
    dialog = dialog_of(notes)
    assert "grad can be implicitly created only for scalar outputs" in dialog.intro.text()
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert notes.workspace.model.grad(node_id(notes, "x")) is None and notes.workspace.model.last_backward is None


def test_the_gradient_argument_ones_or_values(notes: MainWindow, qtbot: Any) -> None:
    click_node(qtbot, notes, "y_squared")
    press_backward(qtbot, notes)
    dialog = dialog_of(notes)
    assert dialog.ones.isChecked()
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert badge(notes, "x", "grad").text == "[6, 6, 6]"  # d sum(y*y) / dx = 2 y = 6
    notes.backward.zero_grad()
    press_backward(qtbot, notes)
    dialog = dialog_of(notes)
    qtbot.keyClicks(dialog.values, "1, 0")
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.problem.text() == "shape [3] needs 3 values, got 2"
    qtbot.keyClicks(dialog.values, ", 2")
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert notes.workspace.model.grad(node_id(notes, "x")).tolist() == [6.0, 0.0, 12.0]


def test_retain_grad_shows_the_difference_and_undoes(notes: MainWindow, qtbot: Any) -> None:
    y = node_id(notes, "y")
    menu = notes.context_menus.build(item(notes, "y"), QPointF())
    [retain] = [action for action in menu.actions() if action.text() == "Retain &Grad"]
    assert not retain.isChecked()
    retain.trigger()
    notes.scene.clearSelection()
    press_backward(qtbot, notes)
    assert badge(notes, "y", "grad").text == "[6, 6, 6]" and badge(notes, "y", "flow").text == "[6, 6, 6]"
    assert badge(notes, "y_squared", "grad") is None
    notes.undo_stack.undo()
    assert not notes.document.nodes[y].retain_grad
    assert badge(notes, "y", "grad") is None  # an edit clears the backward display
    press_backward(qtbot, notes)
    assert badge(notes, "y", "grad") is None and badge(notes, "y", "flow") is not None
    notes.undo_stack.redo()
    assert notes.document.nodes[y].retain_grad
    press_backward(qtbot, notes)
    assert badge(notes, "y", "grad").text == "[6, 6, 6]"


def test_edits_clear_the_display_but_moves_do_not(notes: MainWindow, qtbot: Any) -> None:
    press_backward(qtbot, notes)
    notes.editor.move({node_id(notes, "x"): ((0.0, 0.0), (10.0, 20.0))})
    assert notes.scene.highlight.lit_edges()
    notes.editor.apply(SetAttribute(node_id(notes, "three"), "value", 4), "three = 4")
    assert notes.scene.highlight.lit_edges() == set() and badge(notes, "y", "flow") is None
    assert all(edge.flow_pen is None and edge.opacity() == 1.0 for edge in notes.scene.edges.values())
    assert all(node.opacity() == 1.0 for node in notes.scene.nodes.values())
    # .grad itself survives edits elsewhere (a session's leaf keeps it), marked as an earlier Backward's,
    # and accumulates on the next press
    kept = badge(notes, "x", "grad")
    assert kept.text == "[6, 6, 6]" and kept.earlier and "before the last edit" in kept.toolTip()
    press_backward(qtbot, notes)
    assert badge(notes, "x", "grad").text == "[14, 14, 14]" and not badge(notes, "x", "grad").earlier


@pytest.mark.parametrize(
    ("example", "leaf", "expected", "problem"),
    [
        ("notes_forward_backward", "x", [6.0, 6.0, 6.0], None),
        ("notes_randn_mean", "a", [[0.75, 0.75], [0.75, 0.75]], None),
        ("notes_no_grad", "x", None, "element 0 of tensors does not require grad and does not have a grad_fn"),
        ("notes_requires_grad_false", "x", None,
         "element 0 of tensors does not require grad and does not have a grad_fn"),
    ],
)
def test_every_example_of_the_notes(window: MainWindow, qtbot: Any, example: str, leaf: str, expected: Any,
                                    problem: str | None) -> None:
    open_example(window, example)
    target = window.document.settings.backward_target
    press_backward(qtbot, window)
    if problem is None:
        assert badge(window, leaf, "grad").value.tolist() == expected
        assert window.workspace.model.grad(node_id(window, leaf)).tolist() == expected
        click_node(qtbot, window, leaf)  # the values panel shows the same .grad
        grad = window.values_panel.grad_view
        assert grad.title.text() == f"{leaf}.grad" and grad.value.tolist() == expected
        assert grad.text.toPlainText() == repr(window.workspace.model.grad(node_id(window, leaf)))
        return
    assert badge(window, leaf, "grad") is None and window.workspace.model.grad(node_id(window, leaf)) is None
    no_grad = window.document.settings.grad_mode == "no_grad"
    assert window.actions.actionBackward.isEnabled() is not no_grad
    window.backward.run()  # invoked anyway: PyTorch's message, pinned to the target
    assert window.backward.pins[target].explanation.message == problem


def test_a_pinned_non_scalar_error_offers_the_gradient_dialog(notes: MainWindow, qtbot: Any) -> None:
    y_squared = node_id(notes, "y_squared")
    assert notes.backward.run(y_squared, ask=False) is None
    pin = notes.backward.pins[y_squared]
    assert pin.explanation.message == "grad can be implicitly created only for scalar outputs"
    assert pin.explanation.fix_label == "Supply gradient…"
    point = notes.view.mapFromScene(pin.mapToScene(pin.fix_rect().center()))
    qtbot.mouseClick(notes.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.waitUntil(lambda: notes.backward.gradient_dialog is not None and notes.backward.gradient_dialog.isVisible())
    dialog = dialog_of(notes)
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert notes.workspace.model.last_backward.target == y_squared and badge(notes, "x", "grad").text == "[6, 6, 6]"


def test_the_accumulation_notes_fix_is_zero_grad(notes: MainWindow, qtbot: Any) -> None:
    press_backward(qtbot, notes)
    press_backward(qtbot, notes)
    pin = notes.backward.pins[node_id(notes, "x")]
    point = notes.view.mapFromScene(pin.mapToScene(pin.fix_rect().center()))
    qtbot.mouseClick(notes.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.waitUntil(lambda: notes.workspace.model.grad(node_id(notes, "x")) is None)
    assert notes.backward.pins == {} and badge(notes, "x", "grad") is None


def test_renaming_keeps_the_display_and_relabels_it(notes: MainWindow, qtbot: Any) -> None:
    press_backward(qtbot, notes)
    notes.editor.apply(RenameNode(node_id(notes, "y"), "shifted"), "rename")
    assert badge(notes, "shifted", "flow").label == "∂out/∂shifted"
    assert notes.scene.highlight.lit_edges() == notes.workspace.model.last_backward.path


def test_backward_on_a_target_without_a_value_pins_the_error_that_stopped_it(notes: MainWindow, qtbot: Any) -> None:
    x = node_id(notes, "x")
    notes.editor.apply(SetAttribute(x, "dtype", "int64"), "dtype")  # requires_grad stays on: PyTorch refuses
    press_backward(qtbot, notes)
    assert list(notes.backward.pins) == [x] and notes.workspace.model.last_backward is None
    explanation = notes.backward.pins[x].explanation
    assert explanation.message == "only Tensors of floating point dtype can require gradients"
    assert "float32" in explanation.explanation
    assert notes.statusBar().currentMessage() == ("out.backward(): out has no value because x cannot be computed: "
                                                  "only Tensors of floating point dtype can require gradients")


def test_zero_grad_after_deleting_a_pinned_node_does_not_touch_its_deleted_pin(window: MainWindow, qtbot: Any) -> None:
    document = GraphDocument()
    add_node(document, "x", "tensor", (0, 0))
    add_node(document, "s", "sum", (300, 0))
    document.apply(Connect(Edge("x", "s", "input")))
    window.set_document(document)
    settle()
    click_node(qtbot, window, "s")
    qtbot.keyClick(window.view, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    settle()
    assert "s" in window.backward.pins  # x does not require grad: Backward's error is pinned on s
    click_node(qtbot, window, "s")
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    settle()
    shift_ctrl = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window.view, Qt.Key.Key_G, shift_ctrl)
    settle()
    assert window.backward.pins == {}
