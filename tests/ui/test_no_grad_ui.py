"""No-grad mode and requires_grad: the banner, Backward disabled (PyTorch's error if invoked anyway), grey
untracked nodes, the requires_grad checkbox on the face and in the menu, errors pinned with one-click fixes."""

from __future__ import annotations

from typing import Any

import pytest
from backward_helpers import badge, click_toolbar, edge_names, item, node_id, open_example, press_backward
from PySide6.QtCore import QPointF, Qt

from gradstudio.model.explain import NOT_REQUIRING_GRAD
from gradstudio.ui.canvas import requires_grad_face as face
from gradstudio.ui.canvas.banner import NO_GRAD_TEXT
from gradstudio.ui.main_window import MainWindow


@pytest.fixture
def notes(window: MainWindow) -> MainWindow:
    """The window on the notes' forward/backward example."""
    return open_example(window, "notes_forward_backward")


def menu_action(window: MainWindow, name: str, text: str) -> Any:
    """The action called `text` in the context menu of node `name`."""
    menu = window.context_menus.build(item(window, name), QPointF())
    [action] = [a for a in menu.actions() if a.text() == text]
    return action


def click_pin_button(qtbot: Any, window: MainWindow, pin: Any) -> None:
    """Click the fix button of a pinned message on the canvas."""
    point = window.view.mapFromScene(pin.mapToScene(pin.fix_rect().center()))
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.wait(10)  # the fix runs once the click is over
    window.workspace.flush()  # and the refresh it asked for, however busy the machine is


def test_no_grad_mode_banner_disabled_backward_and_untracked_results(notes: MainWindow, qtbot: Any) -> None:
    banner = notes.banner
    assert not banner.isVisible() and notes.actions.actionBackward.isEnabled()
    click_toolbar(qtbot, notes, notes.actions.actionNoGrad)
    notes.workspace.refresh()
    assert banner.isVisible() and banner.text() == NO_GRAD_TEXT
    assert not notes.actions.actionBackward.isEnabled() and not notes.actions.actionStepBackward.isEnabled()
    out = notes.workspace.results()[node_id(notes, "out")].value
    assert out.grad_fn is None and not out.requires_grad and repr(out) == "tensor(27.)"
    assert face.is_untracked(item(notes, "out").result) and face.is_untracked(item(notes, "y").result)
    assert not face.is_untracked(item(notes, "x").result)  # the leaf was made with requires_grad=True
    assert face.header_color(item(notes, "y"), notes.theme) == face.UNTRACKED["light"]
    press_backward(qtbot, notes)  # the shortcut of a disabled action does nothing
    assert notes.workspace.model.last_backward is None and notes.backward.pins == {}
    notes.undo_stack.undo()
    assert not banner.isVisible() and notes.actions.actionBackward.isEnabled()


def test_backward_invoked_anyway_shows_pytorchs_error_and_the_fix(notes: MainWindow, qtbot: Any) -> None:
    notes.actions.actionNoGrad.trigger()
    menu_action(notes, "out", "&Backward from Here").trigger()
    out = node_id(notes, "out")
    pin = notes.backward.pins[out]
    assert pin.explanation.message == NOT_REQUIRING_GRAD == "element 0 of tensors does not require grad and does " \
        "not have a grad_fn"
    assert "torch.no_grad()" in pin.explanation.explanation and pin.explanation.fix_label == "Turn off No Grad"
    assert NOT_REQUIRING_GRAD in notes.statusBar().currentMessage()
    assert notes.backward.run() is None  # programmatically: the same
    click_pin_button(qtbot, notes, notes.backward.pins[out])
    assert notes.document.settings.grad_mode == "normal" and notes.backward.pins == {}
    press_backward(qtbot, notes)
    assert badge(notes, "x", "grad").text == "[6, 6, 6]"


def test_the_requires_grad_checkbox_on_the_face(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_requires_grad_false")
    x = item(window, "x")
    box = face.checkbox_rect(x)
    assert box is not None and face.checkbox_rect(item(window, "two")) is None
    assert face.is_untracked(x.result)
    point = window.view.mapFromScene(x.mapToScene(box.center()))
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    window.workspace.refresh()
    assert window.document.nodes[x.node.id].attributes["requires_grad"] is True
    assert not face.is_untracked(item(window, "x").result) and not face.is_untracked(item(window, "y").result)
    assert window.document.nodes[x.node.id].position == (0.0, 0.0)  # a click on the box does not drag the node
    window.undo_stack.undo()
    window.workspace.refresh()
    assert window.document.nodes[x.node.id].attributes["requires_grad"] is False
    assert face.is_untracked(item(window, "y").result)


def test_requires_grad_in_the_menu_and_the_fix_for_an_untracked_graph(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_requires_grad_false")
    assert not menu_action(window, "x", "requires_grad").isChecked()
    window.scene.clearSelection()  # the menu selected x; Backward starts from the document's target, y
    press_backward(qtbot, window)
    y = node_id(window, "y")
    pin = window.backward.pins[y]
    assert pin.explanation.message == NOT_REQUIRING_GRAD and pin.explanation.fix_label == "Set requires_grad"
    click_pin_button(qtbot, window, pin)
    assert window.document.nodes[node_id(window, "x")].attributes["requires_grad"] is True
    assert menu_action(window, "x", "requires_grad").isChecked()
    menu_action(window, "x", "requires_grad").trigger()
    assert window.document.nodes[node_id(window, "x")].attributes["requires_grad"] is False
    window.undo_stack.undo()
    assert window.document.nodes[node_id(window, "x")].attributes["requires_grad"] is True


def test_the_highlight_shows_where_tracking_stops(notes: MainWindow, qtbot: Any) -> None:
    three = node_id(notes, "three")
    notes.backward.set_requires_grad(node_id(notes, "x"), True)
    press_backward(qtbot, notes)
    assert edge_names(notes, notes.scene.highlight.stopped) == {("y", "b"), ("z", "b")}
    stopped = notes.scene.edges[(node_id(notes, "z"), "b")]
    assert stopped.flow_pen.style() in (Qt.PenStyle.DashLine, Qt.PenStyle.CustomDashLine)  # dashed
    assert "three gets no gradient" in stopped.toolTip()
    assert item(notes, "three").opacity() < 1.0 and three not in notes.backward.view.involved


def test_reading_a_non_leaf_grad_pins_pytorchs_warning_with_retain_grad(notes: MainWindow, qtbot: Any) -> None:
    press_backward(qtbot, notes)
    menu_action(notes, "y", "Print y.grad").trigger()
    y = node_id(notes, "y")
    pin = notes.backward.pins[y]
    assert pin.explanation.message.startswith("The .grad attribute of a Tensor that is not a leaf Tensor is being "
                                              "accessed. Its .grad attribute won't be populated")
    assert pin.severity == "warning" and notes.statusBar().currentMessage() == "y.grad = None"
    click_pin_button(qtbot, notes, pin)
    assert notes.document.nodes[y].retain_grad and notes.backward.pins == {}
    notes.scene.clearSelection()
    press_backward(qtbot, notes)
    assert badge(notes, "y", "grad").text == "[6, 6, 6]"
    menu_action(notes, "x", "Print x.grad").trigger()
    assert notes.statusBar().currentMessage() == "x.grad = tensor([12., 12., 12.])"


def test_a_pin_closes_with_its_cross(notes: MainWindow, qtbot: Any) -> None:
    notes.actions.actionNoGrad.trigger()
    notes.backward.run(node_id(notes, "out"))
    pin = notes.backward.pins[node_id(notes, "out")]
    point = notes.view.mapFromScene(pin.mapToScene(pin.close_rect().center()))
    qtbot.mouseClick(notes.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.wait(10)
    assert notes.backward.pins == {} and pin.scene() is None
    assert notes.document.settings.grad_mode == "no_grad"


def test_node_faces_say_grad_fn_leaf_or_untracked(notes: MainWindow, qtbot: Any) -> None:
    faces = {name: item(notes, name).preview() for name in ("x", "y", "out", "two")}
    assert {name: face.autograd for name, face in faces.items()} == {
        "x": "leaf", "y": "AddBackward0", "out": "MeanBackward0", "two": ""}
    assert faces["y"].tooltip.endswith("is_leaf=False  requires_grad=True  grad_fn=<AddBackward0>")
    click_toolbar(qtbot, notes, notes.actions.actionNoGrad)
    notes.workspace.refresh()
    assert item(notes, "y").preview().autograd == "untracked" and item(notes, "x").preview().autograd == "leaf"
    assert item(notes, "out").preview().tooltip == "tensor(27.)\nis_leaf=True  requires_grad=False  grad_fn=None"


def test_toggling_no_grad_on_and_off_leaves_the_document_clean(notes: MainWindow, qtbot: Any) -> None:
    click_toolbar(qtbot, notes, notes.actions.actionNoGrad)
    assert notes.isWindowModified()
    click_toolbar(qtbot, notes, notes.actions.actionNoGrad)
    assert not notes.isWindowModified() and notes.undo_stack.isClean()
    assert notes.files.maybe_save()  # switching examples does not ask
    notes.undo_stack.undo()  # undoing the "off" is a change again, undoing the "on" clean again
    assert notes.isWindowModified()
    notes.undo_stack.undo()
    assert not notes.isWindowModified()


def test_a_checkbox_click_undone_by_a_second_click_leaves_the_document_clean(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_requires_grad_false")
    x = item(window, "x")
    point = window.view.mapFromScene(x.mapToScene(face.checkbox_rect(x).center()))
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert window.isWindowModified()
    x = item(window, "x")
    point = window.view.mapFromScene(x.mapToScene(face.checkbox_rect(x).center()))
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert window.document.nodes[x.node.id].attributes["requires_grad"] is False
    assert not window.isWindowModified()
