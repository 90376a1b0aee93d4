"""The shape of the tensor a wire carries (`[3]`, `[4, 2]`), drawn at its midpoint as Orange shows data on links.

Each wire leaving a node shows its shape once per node it feeds (`label_wires`, which the scene asks when a
shape or the backward display changes). A wire into an op that broadcast its tensor carries a `BroadcastMarker` instead:
the shape change (`[3] → [6, 3]`) outlined in the highlight colour, and after
Backward a second line saying how the gradient was summed back (`summed over
dim 0`). The marker is an item of its own, above the nodes: it explains the wire,
so it is never hidden, even where the wire is too short for a shape label.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QStyleOptionGraphicsItem, QWidget

from gradstudio.model.broadcasting import BroadcastFact, edge_broadcast, edge_marker
from gradstudio.model.evaluation import NodeResult
from gradstudio.ui.canvas.fonts import canvas_font
from gradstudio.ui.themes import LIGHT, Theme

if TYPE_CHECKING:
    from gradstudio.ui.canvas.edge_items import EdgeItem
    from gradstudio.ui.canvas.scene import GraphScene

LABEL_FONT = canvas_font(points=7.5)
LABEL_REACH = QRectF(-70.0, -24.0, 140.0, 26.0)  # around the midpoint: room for the longest label drawn
MARKER_Z = 2.0  # above nodes (0) and wires (-1), below pinned nodes (5)
MAX_LABEL = 24  # characters; a longer shape is cut with an ellipsis


def shape_label(result: NodeResult | None) -> str | None:
    """`[3]`, `[4, 2]` or `[]` for a tensor result; None for no value or a Python number."""
    if result is None:
        return None
    shape = result.shape  # kept by the evaluation: no tensor is asked on a refresh of every node
    if shape is None:
        tensor = result.tensor
        if tensor is None:
            return None
        shape = tensor.shape
    text = "[" + ", ".join(map(str, shape)) + "]"
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 2] + "…]"


def broadcast_label(fact: BroadcastFact, backward_done: bool) -> str:
    """The text of a broadcast wire: the shape change, and after Backward how the gradient was summed back."""
    return edge_marker(fact, backward_done)


def label_wires(scene: GraphScene, source: str) -> None:
    """Label the wires leaving `source` with its tensor's shape, once per node they feed, or a broadcast marker."""
    nodes, edges, flow = scene.nodes, scene.edges, scene.flow_shown
    node = nodes[source]
    label = node.wire_label = shape_label(node.result)

    def port_order(item: EdgeItem) -> tuple[str, int]:
        """Sort key of a wire: its target, then its port's place among the target's inputs."""
        inputs = nodes[item.edge.target].inputs
        return item.edge.target, inputs.index(item.edge.port) if item.edge.port in inputs else len(inputs)

    fed: set[str] = set()
    for item in sorted((edges[key] for key in scene.edges_of.get(source, ()) if edges[key].edge.source == source),
                       key=port_order):
        shown = {node_id: nodes[node_id].result for node_id in (source, item.edge.target)}  # never evaluates
        fact = edge_broadcast(scene.document, shown, item.edge)
        if fact is not None:
            flowed = flow is not None and (item.edge.target, item.edge.port) in flow.edge_grads
            item.set_label(broadcast_label(fact, flowed), broadcast=True)
        else:
            item.set_label(label if item.edge.target not in fed else None)
        fed.add(item.edge.target)


def label_rect(text: str, middle: QPointF) -> QRectF:
    """Where the label of a wire whose midpoint is `middle` goes: just above the curve, centred."""
    metrics = QFontMetricsF(LABEL_FONT)
    lines = text.split("\n")
    width = max(metrics.horizontalAdvance(line) for line in lines) + 8 + 4 * (len(lines) > 1)
    height = metrics.height() * len(lines) + 2 + 2 * (len(lines) > 1)
    return QRectF(middle.x() - width / 2, middle.y() - height - 3, width, height)


def paint_label(painter: QPainter, path: QPainterPath, text: str, theme: Theme) -> None:
    """Draw `text` in a small pill at the midpoint of `path`, if it fits between the wire's ends."""
    rect = label_rect(text, path.pointAtPercent(0.5))
    if rect.width() + 8 > abs(path.currentPosition().x() - path.elementAt(0).x):
        return  # a short wire: the label would cover the nodes' faces
    paint_pill(painter, rect, text, theme)


def paint_pill(painter: QPainter, rect: QRectF, text: str, theme: Theme, marked: bool = False) -> None:
    """A label's rounded box and text; a `marked` one (a broadcast) is outlined in the highlight colour."""
    painter.setPen(QPen(theme.port_highlight, 1.2) if marked else QPen(theme.edge, 0.8))
    painter.setBrush(theme.background)
    painter.drawRoundedRect(rect, 4, 4)
    painter.setFont(LABEL_FONT)
    painter.setPen(theme.text if marked else theme.muted_text)
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


class BroadcastMarker(QGraphicsItem):
    """The broadcast of a wire's tensor, at the wire's midpoint above the nodes; clicks go through it."""

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self._middle = QPointF()
        self._rect = QRectF()
        self.setZValue(MARKER_Z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def show_text(self, text: str, middle: QPointF) -> None:
        """Say `text` at the wire's midpoint `middle`."""
        if (text, middle) != (self.text, self._middle):
            self.prepareGeometryChange()
            self.text, self._middle = text, QPointF(middle)
            self._rect = label_rect(text, middle)

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        scene = self.scene()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        paint_pill(painter, self._rect, self.text, getattr(scene, "theme", LIGHT), marked=True)


def sync_marker(marker: BroadcastMarker | None, scene: QGraphicsScene | None, text: str | None,
                middle: QPointF) -> BroadcastMarker | None:
    """The marker a wire should have: made and added to `scene` when `text` is given, else removed (None)."""
    if text and scene is not None:
        if marker is None:
            marker = BroadcastMarker()
            scene.addItem(marker)
        marker.show_text(text, middle)
        return marker
    if marker is not None and marker.scene() is not None:
        marker.scene().removeItem(marker)
    return None
