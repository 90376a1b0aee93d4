"""Rebuilding the notes' example (out = mean(3 (x + 2)²)) from an empty canvas, counting every user action.

The graph, its values, its gradients and the notes' own variable names take 18 actions: quick-add reads
`y = +` as code is written, so a node is named in the same keystrokes that choose its op (naming each node
afterwards in the inspector used to cost two more actions per node: 30 in all).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from panel_helpers import settle
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QLineEdit
from ui_helpers import drag, send_drop, viewport_point

from gradstudio.model.document import Edge
from gradstudio.ui.canvas import requires_grad_face as face
from gradstudio.ui.main_window import MainWindow

BUDGET = 20


class Actions:
    """Performs a learner's gestures on the real window with real events, counting each one as one action."""

    def __init__(self, window: MainWindow, qtbot: Any) -> None:
        self.window = window
        self.qtbot = qtbot
        self.log: list[str] = []

    @property
    def count(self) -> int:
        """How many user actions were performed."""
        return len(self.log)

    def _done(self, what: str) -> None:
        self.log.append(what)
        settle()

    def drop_op(self, kind: str, at: QPointF) -> str:
        """Drag an op from the palette onto the canvas at scene point `at`; the new node's id."""
        tree = self.window.palette.tree
        send_drop(self.window, tree.mimeData([tree.op_item(kind)]), viewport_point(self.window, at))
        self._done(f"drop {kind}")
        return self.selected()

    def click_requires_grad(self, node_id: str) -> None:
        """Click the requires_grad checkbox on a leaf's face."""
        item = self.window.scene.nodes[node_id]
        box = face.checkbox_rect(item)
        assert box is not None
        point = viewport_point(self.window, item.mapToScene(box.center()))
        self.qtbot.mouseClick(self.window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
        self._done("click requires_grad")

    def wire(self, start: QPointF, end: QPointF) -> None:
        """Drag a wire from one port to another port, or into empty canvas."""
        drag(self.qtbot, self.window, start, end)
        self._done("drag wire")

    def quick_add(self, typed: str) -> str:
        """Type into the open quick-add box and press Enter; the new node's id."""
        line = self.window.view.search.line
        assert self.window.view.search.isVisible()
        self.qtbot.keyClicks(line, typed)
        self.qtbot.keyClick(line, Qt.Key.Key_Return)
        self._done(f"quick-add {typed!r}")
        return self.selected()

    def click_field(self, key: str) -> QLineEdit:
        """Click into an inspector field (its text all selected, as a triple click would leave it)."""
        line = self.window.inspector.fields[key].editor
        assert isinstance(line, QLineEdit)
        self.qtbot.mouseClick(line, Qt.MouseButton.LeftButton, pos=line.rect().center())
        line.selectAll()
        self._done(f"click field {key}")
        return line

    def type_enter(self, line: QLineEdit, text: str) -> None:
        """Type into the focused field and press Enter."""
        self.qtbot.keyClicks(line, text)
        self.qtbot.keyClick(line, Qt.Key.Key_Return)
        self._done(f"type {text!r} + Enter")

    def key(self, key: Qt.Key, modifiers: Qt.KeyboardModifier) -> None:
        """Press a shortcut on the canvas."""
        self.qtbot.keyClick(self.window.view, key, modifiers)
        self._done("key")

    def selected(self) -> str:
        """The one selected node (where a new node is left)."""
        [node_id] = self.window.workspace.selection
        return node_id


def test_the_notes_example_is_rebuilt_in_at_most_20_actions(window: MainWindow, qtbot: Any) -> None:
    window.view.reset_zoom()
    window.view.centerOn(QPointF(420, 120))
    act = Actions(window, qtbot)
    scene = window.scene
    document = window.document

    x = act.drop_op("tensor", QPointF(-60, 0))  # shape 3, ones: the defaults
    act.click_requires_grad(x)
    act.wire(scene.nodes[x].output_anchor(), scene.nodes[x].output_anchor() + QPointF(60, 0))
    y = act.quick_add("y = +")
    act.wire(scene.nodes[y].input_anchor("b"), scene.nodes[y].input_anchor("b") + QPointF(-40, 120))
    two = act.quick_add("two = scalar")  # a Scalar's default value is 2
    act.wire(scene.nodes[y].output_anchor(), scene.nodes[y].output_anchor() + QPointF(60, 0))
    y_squared = act.quick_add("y_squared = *")
    act.wire(scene.nodes[y].output_anchor(), scene.nodes[y_squared].input_anchor("b"))
    act.wire(scene.nodes[y_squared].output_anchor(), scene.nodes[y_squared].output_anchor() + QPointF(60, 0))
    z = act.quick_add("z = *")
    act.wire(scene.nodes[z].input_anchor("b"), scene.nodes[z].input_anchor("b") + QPointF(-40, 120))
    three = act.quick_add("three = scalar")
    act.type_enter(act.click_field("value"), "3")
    act.wire(scene.nodes[z].output_anchor(), scene.nodes[z].output_anchor() + QPointF(60, 0))
    out = act.quick_add("out = mean")
    act.key(Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)

    kinds = {node_id: node.kind for node_id, node in document.nodes.items()}
    assert kinds == {x: "tensor", two: "scalar", y: "add", y_squared: "mul", three: "scalar", z: "mul", out: "mean"}
    assert set(document.edges.values()) == {
        Edge(x, y, "a"), Edge(two, y, "b"), Edge(y, y_squared, "a"), Edge(y, y_squared, "b"),
        Edge(y_squared, z, "a"), Edge(three, z, "b"), Edge(z, out, "input")}
    assert document.nodes[x].attributes["requires_grad"] is True
    results = window.workspace.results()
    assert float(results[out].tensor.item()) == 27.0
    assert results[x].grad is not None and results[x].grad.numpy().tolist() == [6.0, 6.0, 6.0]
    assert np.allclose(results[z].tensor.detach().numpy(), [27.0, 27.0, 27.0])
    names = {node_id: node.name for node_id, node in document.nodes.items()}
    assert names == {x: "x", two: "two", y: "y", y_squared: "y_squared", three: "three", z: "z", out: "out"}
    assert act.count == 18, act.log
    assert act.count <= BUDGET
