"""Step Backward: the grad_fns in the engine's order, the current node ringed, the chain rule with the numbers."""

from __future__ import annotations

from typing import Any

import pytest
from backward_helpers import badge, edge_names, node_id, open_example, press_backward, press_step
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from gradstudio.ui.main_window import MainWindow

ORDER = ["MeanBackward0", "MulBackward0", "MulBackward0", "AddBackward0", "AccumulateGrad"]
OWNERS = ["out", "z", "y_squared", "y", "x"]


@pytest.fixture
def notes(window: MainWindow) -> MainWindow:
    """The window on the notes' forward/backward example."""
    return open_example(window, "notes_forward_backward")


def walk(qtbot: Any, window: MainWindow) -> list[tuple[str, str, str]]:
    """Press Step Backward through the whole pass: (function, current node, panel text) per step."""
    seen = []
    stepper = window.backward_tools.stepper
    for _ in ORDER:
        press_step(qtbot, window)
        current = window.backward.view.current
        seen.append((stepper.chain.label, window.document.nodes[current].name,
                     window.backward_tools.step_panel.text.toPlainText()))
    return seen


def test_step_through_visits_the_grad_fns_in_the_engines_order(notes: MainWindow, qtbot: Any) -> None:
    seen = walk(qtbot, notes)
    assert [function for function, _, _ in seen] == ORDER
    assert [node for _, node, _ in seen] == OWNERS
    assert [step.name for step in notes.workspace.model.last_backward.steps][:-1] == ORDER[:-1]
    panel = notes.backward_tools.step_panel
    assert panel.isVisible() and "Step 5 of 5" in panel.title.text()
    press_step(qtbot, notes)  # past the last step: the whole pass
    assert notes.backward_tools.stepper.index is None and notes.backward.view.step is None
    assert "Backward done" in panel.text.toPlainText()


def test_each_step_shows_the_chain_rule_with_the_right_numbers(notes: MainWindow, qtbot: Any) -> None:
    texts = [text for _, _, text in walk(qtbot, notes)]
    mean, scale, square, add, accumulate = texts
    assert mean.startswith("Backward starts at out: ∂out/∂out = 1")
    assert "incoming gradient ∂out/∂out = 1" in mean
    assert "Backward starts" not in scale
    assert "local derivative ∂out/∂z = [0.3333, 0.3333, 0.3333]" in mean
    assert "∂out/∂z = [0.3333, 0.3333, 0.3333]" in mean.split("chain rule")[1]
    assert "incoming gradient ∂out/∂z = [0.3333, 0.3333, 0.3333]" in scale
    assert "local derivative ∂z/∂y_squared (elementwise) = [3, 3, 3]" in scale
    assert "→ ∂out/∂y_squared = [1, 1, 1]" in scale
    assert square.count("local derivative ∂y_squared/∂y (elementwise) = [3, 3, 3]") == 2
    assert square.count("[1, 1, 1] ⊙ [3, 3, 3] → ∂out/∂y = [3, 3, 3]") == 2
    assert "∂out/∂y = [3, 3, 3] + [3, 3, 3] = [6, 6, 6]" in square  # y feeds both inputs of y * y
    assert " + " not in scale
    assert "incoming gradient ∂out/∂y = [3, 3, 3] + [3, 3, 3] = [6, 6, 6] (y is used twice" in add
    assert "local derivative ∂y/∂x (elementwise) = [1, 1, 1]" in add and "→ ∂out/∂x = [6, 6, 6]" in add
    assert "x.grad += [6, 6, 6] → x.grad = [6, 6, 6]" in accumulate


def test_the_canvas_lights_only_what_the_gradient_reached(notes: MainWindow, qtbot: Any) -> None:
    lit = notes.scene.highlight.lit_edges
    press_step(qtbot, notes)
    ring_parent = notes.scene.highlight._ring.parentItem()
    assert ring_parent is notes.scene.nodes[node_id(notes, "out")]
    assert edge_names(notes, lit()) == {("out", "input")}
    assert badge(notes, "z", "flow") is None and badge(notes, "x", "grad") is None
    press_step(qtbot, notes)
    press_step(qtbot, notes)
    assert edge_names(notes, lit()) == {("out", "input"), ("z", "a"), ("y_squared", "a"), ("y_squared", "b")}
    assert badge(notes, "y_squared", "flow").text == "[1, 1, 1]" and badge(notes, "y", "flow") is None
    press_step(qtbot, notes)
    press_step(qtbot, notes)
    assert badge(notes, "x", "grad").text == "[6, 6, 6]"
    assert lit() == notes.workspace.model.last_backward.path


def test_previous_and_show_all_buttons(notes: MainWindow, qtbot: Any) -> None:
    panel = notes.backward_tools.step_panel
    for _ in range(3):
        press_step(qtbot, notes)
    qtbot.mouseClick(panel.previous, Qt.MouseButton.LeftButton)
    assert notes.backward_tools.stepper.index == 1 and "Step 2 of 5" in panel.title.text()
    qtbot.mouseClick(panel.next, Qt.MouseButton.LeftButton)
    assert notes.backward_tools.stepper.index == 2
    qtbot.mouseClick(panel.finish, Qt.MouseButton.LeftButton)
    assert notes.backward.view.step is None and notes.scene.highlight.lit_edges() == \
        notes.workspace.model.last_backward.path


def test_stepping_replays_the_last_backward_without_accumulating(notes: MainWindow, qtbot: Any) -> None:
    press_backward(qtbot, notes)
    walk(qtbot, notes)
    assert notes.workspace.model.grad(node_id(notes, "x")).tolist() == [6.0, 6.0, 6.0]


def test_an_edit_ends_the_walk(notes: MainWindow, qtbot: Any) -> None:
    press_step(qtbot, notes)
    press_step(qtbot, notes)
    notes.commands.toggle_retain_grad(node_id(notes, "y"))
    assert notes.backward_tools.stepper.index is None
    assert "Press Step Backward" in notes.backward_tools.step_panel.text.toPlainText()
    press_step(qtbot, notes)
    assert notes.backward_tools.stepper.index == 0
    assert notes.workspace.model.grad(node_id(notes, "x")).tolist() == [12.0, 12.0, 12.0]


def test_stepping_from_a_non_scalar_starts_once_the_gradient_is_given(notes: MainWindow, qtbot: Any) -> None:
    notes.scene.select([node_id(notes, "y_squared")])
    press_step(qtbot, notes)
    dialog = notes.backward.gradient_dialog
    assert dialog.isVisible() and notes.backward_tools.stepper.index is None
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    stepper = notes.backward_tools.stepper
    assert stepper.index == 0 and stepper.chain.label == "MulBackward0"
    assert "incoming gradient ∂y_squared/∂y_squared = [1, 1, 1]" in notes.backward_tools.step_panel.text.toPlainText()


def test_stepping_starts_from_the_selected_node_not_the_last_pass(notes: MainWindow, qtbot: Any) -> None:
    press_backward(qtbot, notes)  # from out, the document's target
    z = node_id(notes, "z")
    notes.scene.select([z])
    press_step(qtbot, notes)
    dialog = notes.backward.gradient_dialog
    assert dialog is not None and dialog.isVisible()  # z is not a scalar: Backward from z asks, as Backward does
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    stepper = notes.backward_tools.stepper
    assert stepper.result.target == z and stepper.chain.label == "MulBackward0"
