"""The requires_grad face of a node: a grey header when autograd does not track its value, a checkbox on leaves.

The checkbox is painted by the node item (no child widgets on thousands of
nodes) and clicking it is an undoable `SetAttribute`, like the context menu's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsSceneMouseEvent

from gradstudio.model.edits import SetAttribute
from gradstudio.model.evaluation import NodeResult
from gradstudio.ui.themes import Theme

if TYPE_CHECKING:
    from gradstudio.ui.canvas.items import NodeItem

UNTRACKED = {"light": QColor("#a3a9b0"), "dark": QColor("#5b626b")}
BOX_SIZE = 11.0
LABEL = "requires_grad"


def is_untracked(result: NodeResult | None) -> bool:
    """True for a node whose value is a tensor autograd does not track (requires_grad False)."""
    return result is not None and result.tensor is not None and not result.tracked


def header_color(item: NodeItem, theme: Theme) -> QColor:
    """The header colour: the category's, or grey when the value is not tracked."""
    if is_untracked(item.result):
        return UNTRACKED.get(theme.name, UNTRACKED["light"])
    return theme.header(item.node.spec.category)


def checkbox_rect(item: NodeItem) -> QRectF | None:
    """Where a tensor leaf's requires_grad checkbox sits (in the port row), None for other nodes."""
    if item.node.kind != "tensor":
        return None
    centre = item.port_position(None).y()
    return QRectF(10.0, centre - BOX_SIZE / 2, BOX_SIZE, BOX_SIZE)


def paint_checkbox(painter: QPainter, item: NodeItem, theme: Theme) -> None:
    """Draw the requires_grad checkbox and its label."""
    box = checkbox_rect(item)
    if box is None:
        return
    checked = bool(item.node.attributes.get("requires_grad"))
    painter.setPen(QPen(theme.port, 1.2))
    painter.setBrush(theme.header(item.node.spec.category) if checked else theme.node_body)
    painter.drawRoundedRect(box, 2, 2)
    if checked:
        painter.setPen(QPen(QColor("white"), 1.8))
        painter.drawPolyline([QPointF(box.left() + 2.5, box.center().y()), QPointF(box.center().x() - 0.5,
                              box.bottom() - 2.5), QPointF(box.right() - 2, box.top() + 2.5)])
    painter.setPen(theme.text if checked else theme.muted_text)
    painter.drawText(QRectF(box.right() + 5, box.top() - 4, 100, BOX_SIZE + 8),
                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, LABEL)


def press_checkbox(item: NodeItem, event: QGraphicsSceneMouseEvent) -> bool:
    """Toggle requires_grad when the press hits the checkbox (as one undo step); True if it did."""
    box = checkbox_rect(item)
    scene = item.graph_scene()
    if box is None or scene is None or event.button() != Qt.MouseButton.LeftButton:
        return False
    if not box.adjusted(-3, -3, 3, 3).contains(event.pos()):
        return False
    node = item.node
    wanted = not node.attributes.get("requires_grad")
    scene.editor.apply(SetAttribute(node.id, "requires_grad", wanted), f"requires_grad of {node.name}")
    event.accept()
    return True
