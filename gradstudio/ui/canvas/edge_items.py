"""Graphics items for the edges between nodes: the drawn connection and the live wire of a drag.

Edges draw the model's `Edge`; the backward display (highlight.py) sets their pen while a pass is shown,
and wire_labels.py the shape written at their middle.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from gradstudio.model.document import Edge
from gradstudio.ui.canvas.items import LOD_SIMPLE
from gradstudio.ui.canvas.wire_labels import LABEL_REACH, paint_label
from gradstudio.ui.themes import LIGHT


def bezier(start: QPointF, end: QPointF) -> QPainterPath:
    """A smooth S-curve leaving `start` to the right and entering `end` from the left."""
    bend = max(40.0, abs(end.x() - start.x()) * 0.5)
    path = QPainterPath(start)
    path.cubicTo(QPointF(start.x() + bend, start.y()), QPointF(end.x() - bend, end.y()), end)
    return path


class EdgeItem(QGraphicsItem):
    """A connection drawn as a smooth cubic bezier from an output port to an input port."""

    def __init__(self, edge: Edge) -> None:
        super().__init__()
        self.edge = edge
        self._path = QPainterPath()
        self._bounds = QRectF()
        self._shape: QPainterPath | None = None
        self.flow_pen: QPen | None = None  # set while a backward pass is shown (ui/canvas/highlight.py)
        self.label: str | None = None  # the shape of the tensor it carries (ui/canvas/wire_labels.py)
        self.hinted = False  # a node dragged over it would be inserted on release
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(-1)

    def set_ends(self, start: QPointF, end: QPointF) -> None:
        """Redraw between two scene points."""
        self.prepareGeometryChange()
        self._path = bezier(start, end)
        middle = LABEL_REACH.translated(self._path.pointAtPercent(0.5))
        self._bounds = self._path.boundingRect().adjusted(-5, -5, 5, 5).united(middle)
        self._shape = None

    def set_label(self, label: str | None) -> None:
        """Show `label` (the carried tensor's shape) at the midpoint, or nothing."""
        if label != self.label:
            self.label = label
            self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(10)
            self._shape = stroker.createStroke(self._path)
        return self._shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        scene = self.scene()
        theme = scene.theme if scene is not None else LIGHT
        color = theme.selection if self.isSelected() else theme.edge
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(color, 3 if self.isSelected() else 2)
        if self.flow_pen is not None and not self.isSelected():
            pen = self.flow_pen
        if self.hinted:
            pen = QPen(theme.port_highlight, 4)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.label and option.levelOfDetailFromTransform(painter.worldTransform()) >= LOD_SIMPLE:
            paint_label(painter, self._path, self.label, theme)


class WireItem(QGraphicsPathItem):
    """The live wire that follows the mouse while a connection is being dragged."""

    def __init__(self, color: QColor) -> None:
        super().__init__()
        self.setPen(QPen(color, 2, Qt.PenStyle.DashLine))
        self.setZValue(10)

    def set_ends(self, start: QPointF, end: QPointF) -> None:
        """Redraw between two scene points."""
        self.setPath(bezier(start, end))
