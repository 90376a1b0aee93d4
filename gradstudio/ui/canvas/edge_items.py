"""Graphics items for the edges between nodes: the drawn connection and the live wire of a drag.

Edges draw the model's `Edge`; the backward display (highlight.py) sets their pen while a pass is shown,
and wire_labels.py the shape written at their middle (or a broadcast marker above it).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from gradstudio.model.document import Edge
from gradstudio.ui.canvas.exposure import cubic_pieces, exposed_scene_region
from gradstudio.ui.canvas.node_geometry import LOD_SIMPLE, LOD_TINY
from gradstudio.ui.canvas.wire_labels import LABEL_REACH, BroadcastMarker, paint_label, sync_marker
from gradstudio.ui.themes import LIGHT

EDGE_FLAGS = QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
EXPOSED_MARGIN = 5.0  # scene units around a curve that its pen may cover (half the widest flow pen, and then some)
REACH = LABEL_REACH.left(), LABEL_REACH.top(), LABEL_REACH.right(), LABEL_REACH.bottom()  # as plain numbers


def bezier(start: QPointF, end: QPointF) -> QPainterPath:
    """A smooth S-curve leaving `start` to the right and entering `end` from the left."""
    return bezier_between(start.x(), start.y(), end.x(), end.y())


def bezier_between(x0: float, y0: float, x1: float, y1: float) -> QPainterPath:
    """`bezier` between two points given as coordinates."""
    bend = max(40.0, abs(x1 - x0) * 0.5)
    path = QPainterPath(QPointF(x0, y0))
    path.cubicTo(QPointF(x0 + bend, y0), QPointF(x1 - bend, y1), QPointF(x1, y1))
    return path


def bezier_pieces(x0: float, y0: float, x1: float, y1: float) -> list[QRect]:
    """Rectangles that together hold `bezier_between` the two points, a few hundred units of it each."""
    bend = max(40.0, abs(x1 - x0) * 0.5)
    return cubic_pieces(x0, y0, x0 + bend, y0, x1 - bend, y1, x1, y1)


def bezier_extent(start: QPointF, end: QPointF) -> tuple[QRectF, QPointF]:
    """The rectangle holding `bezier(start, end)` (its control points' hull) and the curve's midpoint."""
    left, top, right, bottom, middle_x, middle_y = _extent(start.x(), start.y(), end.x(), end.y())
    return QRectF(left, top, right - left, bottom - top), QPointF(middle_x, middle_y)


def _extent(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float, float, float]:
    """Hull (left, top, right, bottom) and midpoint of `bezier_between`, in plain arithmetic: a large graph's
    thousands of wires need no path, and no call into Qt, until one is drawn."""
    bend = max(40.0, abs(x1 - x0) * 0.5)
    # B(1/2) = (P0 + 3 P1 + 3 P2 + P3) / 8 with P1 = (x0 + bend, y0), P2 = (x1 - bend, y1): the ends' middle
    return min(x0, x1 - bend), min(y0, y1), max(x0 + bend, x1), max(y0, y1), (x0 + x1) / 2, (y0 + y1) / 2


def hairline_pen(color: QColor, dashes: tuple[float, float] = (8.0, 4.0)) -> QPen:
    """A cosmetic 1-pixel dashed pen (`dashes` in pixels): Qt's raster engine draws it straight into the pixels,
    dozens of times faster than a dashed 2-pixel pen, which is stroked dash by dash on every paint (a long wire
    has hundreds of dashes). `draw_hairlines` thickens it on screen."""
    pen = QPen(color, 0, Qt.PenStyle.CustomDashLine)
    pen.setCosmetic(True)
    pen.setDashPattern(list(dashes))
    return pen


def hairline_offset(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float]:
    """A shift of one device pixel across both the ends (horizontal) and the chord of the S-curve from (x0, y0)
    to (x1, y1): the normal of their bisector (a line's direction taken either way), at least 0.7 px across
    each, so every part of the wire is thickened."""
    chord_x, chord_y = x1 - x0, y1 - y0
    if chord_x < 0:  # a wire running back to the left has the same line direction as one running right
        chord_x, chord_y = -chord_x, -chord_y
    length = math.hypot(chord_x, chord_y) or 1.0
    along_x, along_y = 1.0 + chord_x / length, chord_y / length  # along_x >= 1: never a zero vector
    norm = math.hypot(along_x, along_y)
    return -along_y / norm, along_x / norm


def draw_hairlines(painter: QPainter, path: QPainterPath, pen: QPen, offset: tuple[float, float], lod: float) -> None:
    """Draw `path` with the hairline `pen` twice, `offset` device pixels apart: a ~2 px dashed line at the
    hairline's price."""
    painter.setPen(pen)
    painter.drawPath(path)
    scale = max(lod, 1e-6)
    painter.drawPath(path.translated(offset[0] / scale, offset[1] / scale))


class EdgeItem(QGraphicsItem):
    """A connection drawn as a smooth cubic bezier from an output port to an input port."""

    def __init__(self, edge: Edge) -> None:
        super().__init__()
        self.edge = edge
        self._ends = (0.0, 0.0, 0.0, 0.0)
        self._curve: QPainterPath | None = None  # built when first drawn or hit-tested
        self._bounds = QRectF()
        self._middle_at = (0.0, 0.0)
        self._shape: QPainterPath | None = None
        self._pieces: list[QRect] | None = None  # rectangles holding the curve, made when first drawn
        self.flow_pen: QPen | None = None  # set while a backward pass is shown (ui/canvas/highlight.py)
        self.label: str | None = None  # the shape of the tensor it carries (ui/canvas/wire_labels.py)
        self.broadcast = False  # the label is a broadcast marker: the target op broadcast this tensor
        self.marker: BroadcastMarker | None = None  # its own item, above the nodes, while `broadcast`
        self.hinted = False  # a node dragged over it would be inserted on release
        self._tip: str | Callable[[], str] | None = None  # the tool tip not written yet (see set_tip)
        self.setFlags(EDGE_FLAGS)
        self.setZValue(-1)

    def set_ends(self, start: QPointF, end: QPointF) -> None:
        """Redraw between two scene points."""
        self.set_end_coordinates(start.x(), start.y(), end.x(), end.y())

    def set_end_coordinates(self, x0: float, y0: float, x1: float, y1: float, placed: bool = True) -> None:
        """Redraw between (x0, y0) and (x1, y1); `placed` False for an item not in a scene yet (nothing to tell)."""
        if (x0, y0, x1, y1) == self._ends and self._bounds.isValid():
            return  # not moved: nothing to redraw
        if placed:
            self.prepareGeometryChange()
        self._ends = (x0, y0, x1, y1)
        self._curve = None
        self._shape = None
        self._pieces = None
        left, top, right, bottom, middle_x, middle_y = _extent(x0, y0, x1, y1)
        reach_left, reach_top, reach_right, reach_bottom = REACH
        left, top = min(left - 5, middle_x + reach_left), min(top - 5, middle_y + reach_top)
        right, bottom = max(right + 5, middle_x + reach_right), max(bottom + 5, middle_y + reach_bottom)
        self._bounds = QRectF(left, top, right - left, bottom - top)
        self._middle_at = (middle_x, middle_y)
        self._sync_marker()

    @property
    def _middle(self) -> QPointF:
        """The curve's midpoint, where its label goes."""
        return QPointF(*self._middle_at)

    @property
    def _path(self) -> QPainterPath:
        """The curve between the ends (made on first use, then kept until the ends move)."""
        if self._curve is None:
            self._curve = bezier_between(*self._ends)
        return self._curve

    def set_label(self, label: str | None, broadcast: bool = False) -> None:
        """Show `label` (the carried tensor's shape, or a broadcast marker) at the midpoint, or nothing."""
        if (label, broadcast) != (self.label, self.broadcast):
            self.label, self.broadcast = label, broadcast
            self._sync_marker()
            self.update()

    def set_tip(self, tip: str | Callable[[], str]) -> None:
        """The tool tip, or how to write it: written when first asked for (a hover), since a scrub frame re-tips
        hundreds of wires and a gradient's text is slow to make."""
        self._tip = tip

    def toolTip(self) -> str:  # noqa: N802 - Qt's name
        """The tool tip, written now if it was left to write."""
        tip, self._tip = self._tip, None
        if tip is not None:
            text = tip() if callable(tip) else tip
            if text != super().toolTip():
                self.setToolTip(text)
        return super().toolTip()

    def _sync_marker(self) -> None:
        """Keep the broadcast marker item in step: shown at the midpoint while the label is a broadcast."""
        if self.marker is None and not self.broadcast:
            return  # nearly every wire: no marker to make or move
        shown = self.label if self.broadcast and self.scene() is not None else None
        self.marker = sync_marker(self.marker, self.scene(), shown, self._middle)

    def drop_marker(self) -> None:
        """Take the broadcast marker off the scene: the wire is leaving it. (Not an itemChange override: that would
        call into Python for each of the eight changes adding a wire makes, ten thousand wires on a large graph.)"""
        self.marker = sync_marker(self.marker, None, None, QPointF())

    def point_at(self, fraction: float) -> QPointF:
        """The scene point `fraction` of the way along the wire (0: its source, 1: its target)."""
        return self._path.pointAtPercent(fraction)

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
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < LOD_TINY and self.flow_pen is None and not self.hinted:  # far out: a thin straight line will do
            painter.setPen(QPen(color, 0))
            painter.drawLine(QPointF(self._ends[0], self._ends[1]), QPointF(self._ends[2], self._ends[3]))
            return
        if not self._exposed(painter, lod):
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, lod >= LOD_SIMPLE)
        pen = QPen(color, 3 if self.isSelected() else 2)
        if self.flow_pen is not None and not self.isSelected():
            pen = self.flow_pen
        if self.hinted:
            pen = QPen(theme.port_highlight, 4)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        hairline = pen.isCosmetic() and pen.style() != Qt.PenStyle.SolidLine
        if hairline and scene is not None and scene.exporting:  # a picture, at any scale: true 2 px dashes
            pen, hairline = QPen(pen.color(), 2.0, Qt.PenStyle.DashLine), False
        if hairline:
            draw_hairlines(painter, self._path, pen, hairline_offset(*self._ends), lod)
        else:
            painter.setPen(pen)
            painter.drawPath(self._path)
        if self.label and not self.broadcast and lod >= LOD_SIMPLE:
            paint_label(painter, self._path, self.label, theme)


    def _exposed(self, painter: QPainter, lod: float) -> bool:
        """True when the paint may show part of the curve or its label (a scrub frame exposes only the value lines
        that changed, and the long wires of a fan-out need not draw at all)."""
        exposed = exposed_scene_region(painter, EXPOSED_MARGIN + 3 / max(lod, 1e-6))
        if exposed is None:
            return True
        if self._pieces is None:
            self._pieces = bezier_pieces(*self._ends)
        if self.label and not self.broadcast and exposed.intersects(self._label_reach()):
            return True
        return any(exposed.intersects(piece) for piece in self._pieces)

    def _label_reach(self) -> QRect:
        middle_x, middle_y = self._middle_at
        return LABEL_REACH.translated(middle_x, middle_y).toAlignedRect()


class WireItem(QGraphicsPathItem):
    """The live wire that follows the mouse while a connection is being dragged."""

    def __init__(self, color: QColor) -> None:
        super().__init__()
        self.setPen(QPen(color, 2, Qt.PenStyle.DashLine))
        self.setZValue(10)

    def set_ends(self, start: QPointF, end: QPointF) -> None:
        """Redraw between two scene points."""
        self.setPath(bezier(start, end))
