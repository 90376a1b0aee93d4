"""Where a pinned error stands: above its node when there is room, else where it hides no other node.

Backward (Ctrl+B) on a selected leaf that does not require grad pins PyTorch's refusal to it; the notes' example
has `two` right below `x`, so a leaf below `two` has a node just above it.
"""

from __future__ import annotations

from typing import Any

import pytest
from backward_helpers import item, node_id, open_example, press_backward
from panel_helpers import click_node
from PySide6.QtCore import QRectF, QSizeF

from gradstudio.model.document import Node
from gradstudio.model.edits import AddNode
from gradstudio.ui.canvas.node_geometry import WIDTH
from gradstudio.ui.canvas.pins import POINTER, PinItem
from gradstudio.ui.main_window import MainWindow

NOT_REQUIRING_GRAD = "element 0 of tensors does not require grad and does not have a grad_fn"


@pytest.fixture
def notes(window: MainWindow) -> MainWindow:
    """The notes' forward/backward example (x at (0, 0), two at (0, 150), y at (220, 0), ...)."""
    return open_example(window, "notes_forward_backward")


def pin_backward_on_new_leaf(qtbot: Any, window: MainWindow, position: tuple[float, float]) -> PinItem:
    """Add an untracked leaf `w` at `position`, select it with a click, press Ctrl+B: PyTorch's refusal is pinned."""
    window.editor.apply(AddNode(Node(window.document.new_id(), "tensor", "w", {"shape": (3,)}, position)), "Add w")
    window.workspace.refresh()
    click_node(qtbot, window, "w")
    press_backward(qtbot, window)
    pin = window.backward.pins[node_id(window, "w")]
    assert pin.explanation.message == NOT_REQUIRING_GRAD
    return pin


def body(pin: PinItem) -> QRectF:
    """The callout's body in scene coordinates (the pointer aside)."""
    return pin.mapRectToScene(QRectF(0, 0, pin.boundingRect().width() - 2, pin._height))


def face(window: MainWindow, name: str) -> QRectF:
    """The face of node `name` in scene coordinates."""
    node = item(window, name)
    return QRectF(node.scenePos(), QSizeF(WIDTH, node.height()))


def covered_nodes(window: MainWindow, pin: PinItem) -> list[str]:
    """Names of the other nodes whose faces the pin's body covers."""
    own = pin.parentItem().node.name
    return [name for name in (node.name for node in window.document.nodes.values())
            if name != own and face(window, name).intersects(body(pin))]


def test_a_pin_with_room_stands_above_its_node(notes: MainWindow, qtbot: Any) -> None:
    pin = pin_backward_on_new_leaf(qtbot, notes, (0.0, 400.0))
    leaf = face(notes, "w")
    assert not pin.below and body(pin).bottom() < leaf.top()
    assert body(pin).left() == leaf.left() and covered_nodes(notes, pin) == []


def test_a_pin_with_a_node_above_stands_below_and_hides_nothing(notes: MainWindow, qtbot: Any) -> None:
    pin = pin_backward_on_new_leaf(qtbot, notes, (0.0, 280.0))  # `two` ends a few grid steps above
    assert covered_nodes(notes, pin) == []
    assert pin.below and body(pin).top() > face(notes, "w").bottom()
    tip = pin.mapToScene(pin.pointer_x, -POINTER)  # the pointer reaches up to the leaf
    leaf = face(notes, "w")
    assert leaf.left() < tip.x() < leaf.right() and leaf.bottom() <= tip.y() < body(pin).top()


def test_a_pin_boxed_in_above_and_below_reaches_left(notes: MainWindow, qtbot: Any) -> None:
    notes.editor.apply(AddNode(Node(notes.document.new_id(), "scalar", "under", {"value": 1}, (880.0, 300.0))),
                       "Add under")
    pin = pin_backward_on_new_leaf(qtbot, notes, (660.0, 170.0))  # z above, `under` below right, room below left
    assert covered_nodes(notes, pin) == []
    leaf = face(notes, "w")
    assert body(pin).left() < leaf.left() and body(pin).right() == pytest.approx(leaf.right())
    # the pointer still points at the leaf
    tip = pin.mapToScene(pin.pointer_x, 0).x()
    assert leaf.left() < tip < leaf.right()
