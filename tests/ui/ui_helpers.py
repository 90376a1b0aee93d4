"""Helpers shared by the UI tests: stand-in dialogs, a small graph, and real mouse and drop events."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect
from gradstudio.ui.edit.placement import node_rect
from gradstudio.ui.main_window import MainWindow


class DialogRecorder:
    """Stands in for modal dialogs (which would block offscreen): records them and gives set answers."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple]] = []
        self.answers: dict[str, Any] = {}

    def handler(self, name: str, default: Any) -> Any:
        def answer(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args))
            return self.answers.get(name, default)

        return staticmethod(answer)

    def names(self) -> list[str]:
        """Which dialogs were shown, in order."""
        return [name for name, _ in self.calls]


def add_node(document: GraphDocument, node_id: str, kind: str, position: tuple[float, float],
             **attributes: Any) -> None:
    """Add a node whose id is also its name."""
    document.apply(AddNode(Node(node_id, kind, node_id, attributes, position)))


def chain_document() -> GraphDocument:
    """x (3 ones, requires_grad) and two -> y = x + two -> z = y * y, plus a free tensor w."""
    document = GraphDocument()
    add_node(document, "x", "tensor", (0, 0), requires_grad=True)
    add_node(document, "two", "scalar", (0, 150), value=2)
    add_node(document, "y", "add", (260, 0))
    add_node(document, "z", "mul", (520, 0))
    add_node(document, "w", "tensor", (0, 300), shape=(4,))
    for edge in [Edge("x", "y", "a"), Edge("two", "y", "b"), Edge("y", "z", "a"), Edge("y", "z", "b")]:
        document.apply(Connect(edge))
    return document


def viewport_point(window: MainWindow, scene_point: QPointF) -> QPoint:
    """Where a scene point is on the canvas viewport."""
    return window.view.mapFromScene(scene_point)


def drag(qtbot: Any, window: MainWindow, start: QPointF, end: QPointF, steps: int = 4) -> None:
    """Press the left button at scene point `start`, move in steps to `end`, release there."""
    viewport = window.view.viewport()
    button = Qt.MouseButton.LeftButton
    qtbot.mousePress(viewport, button, pos=viewport_point(window, start))
    for step in range(1, steps + 1):
        point = start + (end - start) * (step / steps)
        qtbot.mouseMove(viewport, viewport_point(window, point))
    qtbot.mouseRelease(viewport, button, pos=viewport_point(window, end))


def click(qtbot: Any, window: MainWindow, point: QPointF,
          modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """Left-click the canvas at a scene point."""
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, modifier, viewport_point(window, point))


def send_drop(window: MainWindow, mime: QMimeData, at: QPoint) -> None:
    """Drag-enter, drag-move and drop `mime` on the canvas viewport at `at` (QDrag.exec is never used)."""
    viewport = window.view.viewport()
    action = Qt.DropAction.CopyAction
    buttons, modifiers = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    point = QPointF(at)
    enter = QDragEnterEvent(at, action, mime, buttons, modifiers)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(at, action, mime, buttons, modifiers)
    QApplication.sendEvent(viewport, move)
    assert move.isAccepted()
    QApplication.sendEvent(viewport, QDropEvent(point, action, mime, buttons, modifiers))


def overlaps(window: MainWindow) -> list[tuple[str, str]]:
    """Pairs of nodes whose faces overlap on the canvas."""
    rects = {node.id: node_rect(node) for node in window.document.nodes.values()}
    return [(a, b) for a in rects for b in rects if a < b and rects[a].intersects(rects[b])]
