"""An error pinned to the node that caused it: PyTorch's exact text, a plain line, and a one-click fix.

A callout above the node (a child item, so it follows the node when dragged),
painted by hand like the node faces; clicking its fix button runs the fix,
clicking × dismisses it. Where the space above is taken by other nodes it stands
below the node (under its gradient badges), or reaches left, whichever covers none.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSceneMouseEvent, QStyleOptionGraphicsItem, QWidget

from gradstudio.model.explain import Explanation
from gradstudio.ui.canvas.fonts import MONO_FONT, SMALL_FONT
from gradstudio.ui.canvas.items import NodeItem
from gradstudio.ui.canvas.node_geometry import WIDTH

PIN_WIDTH = 330.0
PAD = 8.0
BUTTON_HEIGHT = 22.0
POINTER = 9.0
GAP = 4.0  # between the pointer's tip and the node
POINTS_AT = 24.0  # the pointer's tip, from the node's left edge
FLAGS = Qt.TextFlag.TextWordWrap
COLORS = {"error": QColor("#c0392b"), "warning": QColor("#b9770e"), "note": QColor("#2471a3")}
TITLES = {"error": "RuntimeError", "warning": "UserWarning", "note": "Note"}
TITLE_FONT = QFont(SMALL_FONT)
TITLE_FONT.setBold(True)


def _height(font: QFont, text: str, width: float) -> float:
    return QFontMetricsF(font).boundingRect(QRectF(0, 0, width, 10_000), FLAGS, text).height()


class PinItem(QGraphicsItem):
    """A callout holding one explained message, with its fix button when there is a fix."""

    def __init__(self, explanation: Explanation, severity: str, parent: QGraphicsItem,
                 on_fix: Callable[[], None] | None = None, on_close: Callable[[], None] | None = None) -> None:
        super().__init__(parent)
        self.explanation = explanation
        self.severity = severity
        self.on_fix = on_fix if explanation.fix is not None else None
        self.on_close = on_close
        inner = PIN_WIDTH - 2 * PAD
        self._message_height = _height(MONO_FONT, explanation.message, inner)
        self._explanation_height = _height(SMALL_FONT, explanation.explanation, inner)
        button = BUTTON_HEIGHT + PAD if self.on_fix is not None else 0.0
        self._height = PAD + 16 + self._message_height + 6 + self._explanation_height + PAD + button
        self.below = False  # the pointer on top, the callout under the node
        self.pointer_x = POINTS_AT
        self._place()
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton)
        self.setToolTip(explanation.message)

    @property
    def color(self) -> QColor:
        """The accent colour of this pin's severity."""
        return COLORS.get(self.severity, COLORS["error"])

    def _place(self) -> None:
        """Stand above the node, else below it, else reaching left (above, then below): the first place that
        covers no other node or pin; where every one does, the one covering least."""
        node = self.parentItem()
        bottoms = [child.mapRectToParent(child.boundingRect()).bottom() for child in node.childItems()
                   if child is not self and child.isVisible()]  # under the node's gradient badges
        below_top = max([node.height(), *bottoms]) + POINTER + GAP
        above_top = -self._height - POINTER - GAP
        left = WIDTH - PIN_WIDTH  # the callout's right edge on the node's
        places = [(0.0, above_top, False), (0.0, below_top, True), (left, above_top, False), (left, below_top, True)]
        covered = [self._covered(QRectF(x, top, PIN_WIDTH, self._height)) for x, top, _ in places]
        x, top, self.below = places[covered.index(min(covered))]
        self.pointer_x = POINTS_AT - x
        self.setPos(x, top)

    def _covered(self, rect: QRectF) -> float:
        """How much of other nodes (with their badges and pins) the callout's body would cover at `rect` (in the
        node's coordinates)."""
        node = self.parentItem()
        scene = node.scene()
        if scene is None:
            return 0.0
        area = node.mapRectToScene(rect)
        covered = 0.0
        for other in scene.items(area):
            if other.topLevelItem() is node or not isinstance(other.topLevelItem(), NodeItem):
                continue
            overlap = other.sceneBoundingRect().intersected(area)
            covered += overlap.width() * overlap.height()
        return covered

    def boundingRect(self) -> QRectF:
        return QRectF(-1, -POINTER - 1, PIN_WIDTH + 2, self._height + 2 * POINTER + 2)

    def fix_rect(self) -> QRectF | None:
        """The fix button, in item coordinates (None when there is no fix)."""
        if self.on_fix is None:
            return None
        return QRectF(PAD, self._height - PAD - BUTTON_HEIGHT, PIN_WIDTH - 2 * PAD, BUTTON_HEIGHT)

    def close_rect(self) -> QRectF:
        """The × in the corner."""
        return QRectF(PIN_WIDTH - PAD - 14, PAD - 2, 16, 16)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        accent = self.color
        outline = QPainterPath()
        outline.addRoundedRect(QRectF(0, 0, PIN_WIDTH, self._height), 6, 6)
        x = self.pointer_x
        base, point = (1.0, -POINTER) if self.below else (self._height - 1, self._height + POINTER)
        outline.addPolygon(QPolygonF([QPointF(x - 6, base), QPointF(x + 6, base), QPointF(x - 2, point)]))
        painter.setPen(QPen(accent, 1.5))
        painter.setBrush(QColor(255, 252, 247))
        painter.drawPath(outline.simplified())
        inner = PIN_WIDTH - 2 * PAD
        painter.setPen(accent)
        painter.setFont(TITLE_FONT)
        painter.drawText(QRectF(PAD, PAD - 2, inner, 16), Qt.AlignmentFlag.AlignVCenter, TITLES[self.severity])
        chrome = not getattr(self.scene(), "exporting", False)  # buttons only on screen, not in exported images
        if chrome:
            painter.drawText(self.close_rect(), Qt.AlignmentFlag.AlignCenter, "×")
        top = PAD + 16
        painter.setFont(MONO_FONT)
        painter.drawText(QRectF(PAD, top, inner, self._message_height), FLAGS, self.explanation.message)
        top += self._message_height + 6
        painter.setPen(QColor("#2d3339"))
        painter.setFont(SMALL_FONT)
        painter.drawText(QRectF(PAD, top, inner, self._explanation_height), FLAGS, self.explanation.explanation)
        button = self.fix_rect()
        if button is not None and chrome:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(accent)
            painter.drawRoundedRect(button, 4, 4)
            painter.setPen(QColor("white"))
            painter.setFont(TITLE_FONT)
            painter.drawText(button, Qt.AlignmentFlag.AlignCenter, f"Fix: {self.explanation.fix_label}")

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        event.accept()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        # deferred: a fix or a close removes this very item, which must not happen inside its own handler
        button = self.fix_rect()
        if button is not None and button.contains(event.pos()):
            QTimer.singleShot(0, self.on_fix)
        elif self.close_rect().adjusted(-4, -4, 4, 4).contains(event.pos()) and self.on_close is not None:
            QTimer.singleShot(0, self.on_close)
        event.accept()
