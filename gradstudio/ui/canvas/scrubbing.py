"""Scrubbing on the canvas: drag a leaf's value sideways on its face; a sparkline plots the target against it.

Over the value line of a tensor or scalar leaf the cursor turns into a horizontal
resize arrow (as on a Blender or ComfyUI number field). A plain left drag there changes
the number under the cursor (one cell of a tensor) by a step per pixel that suits its
magnitude, Shift (at the press or while moving) for finer steps, instead of moving the node; the workspace's
`LiveScrub` applies it frame by frame and records the drag as one undo step. While
and after a drag a sparkline above the face plots the backward target against the
value, with the tangent of slope `.grad` at the current value; it goes after a few
seconds, on the next edit, or with the next drag. A right click during the drag cancels it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSceneMouseEvent, QStyleOptionGraphicsItem, QWidget

from gradstudio.model.scrub import ScrubSession, scrub_problem
from gradstudio.ui.canvas.fonts import MONO_FONT, SMALL_FONT
from gradstudio.ui.canvas.items import NodeItem, set_opacity
from gradstudio.ui.canvas.node_geometry import value_line
from gradstudio.ui.canvas.preview import shown_numbers

if TYPE_CHECKING:
    from gradstudio.ui.canvas.scene import GraphScene

SPARK_WIDTH, SPARK_HEIGHT = 176.0, 46.0
SPARK_Z = 4.0  # a scrubbed leaf's stacking while its sparkline shows (a pinned node's is 5)
SPARK_SECONDS = 4.0  # the sparkline stays this long after a drag
SPARK_INK = QColor("#1e88e5")


def value_rect(item: NodeItem) -> QRectF | None:
    """The face's value line, in item coordinates, when it shows a number a drag can change; else None."""
    result = item.result
    if result is None or not result.ok or scrub_problem(item.node, result.value) is not None:
        return None
    return value_line(item)


def cell_at(item: NodeItem, x: float) -> int:
    """Which of the shown numbers (a flat index) sits under item x-coordinate `x` (the nearest one)."""
    tensor = item.result.tensor if item.result is not None else None
    if tensor is None or tensor.dim() == 0:
        return 0
    numbers, _ = shown_numbers(tensor)
    metrics = QFontMetricsF(MONO_FONT)
    left = value_line(item).left()
    text, centres = "[", []
    for number in numbers:
        start = metrics.horizontalAdvance(text)
        text += number
        centres.append(left + (start + metrics.horizontalAdvance(text)) / 2)
        text += ", "
    return min(range(len(centres)), key=lambda index: abs(centres[index] - x))


class Sparkline(QGraphicsItem):
    """Above a scrubbed leaf: the backward target against the leaf's value, and the tangent at the current value."""

    def __init__(self, session: ScrubSession, target_name: str, parent: NodeItem) -> None:
        super().__init__(parent)
        self.session = session
        self.target_name = target_name
        self.setPos(0, -SPARK_HEIGHT - 6)
        self.setZValue(2)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, SPARK_WIDTH, SPARK_HEIGHT)

    def samples(self) -> list[tuple[float, float]]:
        """The (value, target) pairs sampled so far, by value."""
        return sorted(set(self.session.samples))

    def slope(self) -> float | None:
        """d target / d value at the current value, where Backward gave it (a tensor leaf's .grad)."""
        return self.session.slopes.get(float(self.session.value))

    def caption(self) -> str:
        """What is plotted, and the slope at the current value: `out vs x   slope 6.4`."""
        slope = self.slope()
        caption = f"{self.target_name} vs {self.session.node.name}"
        return caption + (f"   slope {slope:.4g}" if slope is not None else "")

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        theme = self.parentItem().theme()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(theme.node_border, 1))
        painter.setBrush(theme.node_body)
        painter.drawRoundedRect(self.boundingRect().adjusted(0.5, 0.5, -0.5, -0.5), 5, 5)
        painter.setFont(SMALL_FONT)
        painter.setPen(theme.muted_text)
        painter.drawText(QRectF(6, 1, SPARK_WIDTH - 12, 14), Qt.AlignmentFlag.AlignVCenter, self.caption())
        self._plot(painter, QRectF(8, 16, SPARK_WIDTH - 16, SPARK_HEIGHT - 21), self.slope())

    def _plot(self, painter: QPainter, area: QRectF, slope: float | None) -> None:
        points = self.samples()
        if not points:
            return
        xs, ys = [x for x, _ in points], [y for _, y in points]
        x_low, x_high = min(xs), max(xs)
        y_low, y_high = min(ys), max(ys)
        x_span, y_span = (x_high - x_low) or 1.0, (y_high - y_low) or 1.0

        def place(x: float, y: float) -> QPointF:
            return QPointF(area.left() + (x - x_low) / x_span * area.width(),
                           area.bottom() - (y - y_low) / y_span * area.height())

        painter.setClipRect(area.adjusted(-4, -4, 4, 4))  # the tangent stops at the plot's edge
        ink = self.parentItem().theme().text
        path = QPainterPath(place(*points[0]))
        for point in points[1:]:
            path.lineTo(place(*point))
        painter.setPen(QPen(ink, 1.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        current = next((level for value, level in reversed(self.session.samples)
                        if value == float(self.session.value)), None)
        if current is None:
            return
        here = place(float(self.session.value), current)
        if slope is not None:  # the tangent: the derivative Backward gave, drawn as a slope through the point
            half = x_span * 0.25
            painter.setPen(QPen(SPARK_INK, 1.2, Qt.PenStyle.DashLine))
            painter.drawLine(place(self.session.value - half, current - slope * half),
                             place(self.session.value + half, current + slope * half))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(SPARK_INK)
        painter.drawEllipse(here, 3.5, 3.5)


class FaceScrub:
    """The drag gesture on node faces of one scene, and the sparkline it leaves."""

    def __init__(self, scene: GraphScene) -> None:
        self.scene = scene
        self.live = scene.workspace.scrub
        self.item: NodeItem | None = None
        self.cell: int | None = None
        self.sparkline: Sparkline | None = None
        self._value = 0.0
        self._last_x = 0.0
        self._stack_index = -1
        self._ending = False
        self._fine_at_press = False
        self._cancelled = False
        self._hide_timer = QTimer()
        self._hide_timer.setSingleShot(True)
        self._hide_timer.timeout.connect(self.hide_sparkline)
        self.live.sampled.connect(self._sampled)
        scene.workspace.undo_stack.indexChanged.connect(self._history_moved)

    def close(self) -> None:
        """Stop listening (the scene is going)."""
        self._hide_timer.stop()
        self.live.sampled.disconnect(self._sampled)
        self.scene.workspace.undo_stack.indexChanged.disconnect(self._history_moved)

    def hover(self, item: NodeItem, position: QPointF) -> None:
        """Show the horizontal-resize cursor over a value a drag can change."""
        area = value_rect(item)
        over = area is not None and area.contains(position)
        if over:
            item.setCursor(Qt.CursorShape.SizeHorCursor)
        else:
            item.unsetCursor()
        item.set_value_hovered(over)

    def press(self, item: NodeItem, event: QGraphicsSceneMouseEvent) -> bool:
        """Start a drag when a plain left press hits the value line; True if it did (the node does not move).

        A right press during a drag cancels it, as in Blender: the value goes back and nothing is recorded.
        """
        self._cancelled = False
        if item is self.item and event.button() == Qt.MouseButton.RightButton:
            self._cancelled = True  # the context menu this right click asks for is not wanted
            self.item, self.cell = None, None
            item.set_scrubbed_cell(None)
            self.live.cancel()
            self.hide_sparkline()
            event.accept()
            return True
        area = value_rect(item)
        if (event.button() != Qt.MouseButton.LeftButton or area is None or not area.contains(event.pos())
                or event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier):
            return False
        cell = cell_at(item, event.pos().x())
        session = self.live.begin(item.node.id, cell)
        if session is None:
            return False
        self.hide_sparkline()
        self.scene.select([item.node.id])
        self.item, self.cell = item, cell
        self._value, self._last_x = float(session.start), float(event.screenPos().x())
        self._fine_at_press = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        item.set_scrubbed_cell(cell)
        event.accept()
        return True

    def took_right_click(self) -> bool:
        """True (once) when the last right click cancelled a drag: the canvas then opens no context menu."""
        cancelled, self._cancelled = self._cancelled, False
        return cancelled

    def move(self, item: NodeItem, event: QGraphicsSceneMouseEvent) -> bool:
        """Follow the drag: pixels moved times the step (a tenth with Shift); True while this item is dragged."""
        if item is not self.item or not self.live.active:
            return False
        x = float(event.screenPos().x())
        fine = self._fine_at_press or bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        self._value += (x - self._last_x) * self.live.step(fine)
        self._last_x = x
        self.live.move_to(self._value)
        event.accept()
        return True

    def release(self, item: NodeItem, event: QGraphicsSceneMouseEvent) -> bool:
        """End the drag as one undo step; True if this item was being dragged."""
        if item is not self.item:
            return False
        self.item, self.cell = None, None
        item.set_scrubbed_cell(None)
        self._ending = True
        try:
            self.live.end()
        finally:
            self._ending = False
        self._stack_index = self.scene.workspace.undo_stack.index()
        if self.sparkline is not None:
            self._hide_timer.start(round(SPARK_SECONDS * 1000))
        event.accept()
        return True

    def _sampled(self, session: ScrubSession) -> None:
        """Draw (or redraw) the sparkline on the scrubbed leaf, once two samples make a line."""
        item = self.scene.nodes.get(session.node.id)
        if item is None or len(session.samples) < 2:
            return
        if self.sparkline is None or self.sparkline.session is not session or self.sparkline.parentItem() is not item:
            self.hide_sparkline()
            self.sparkline = Sparkline(session, self.scene.workspace.name_of(session.target), item)
        self._hide_timer.stop()
        set_opacity(item, 1.0)  # the leaf being dragged stays bright, even off the backward path
        item.setZValue(max(item.zValue(), SPARK_Z))  # its sparkline above the neighbours' badges
        self.sparkline.update()

    def _history_moved(self, index: int) -> None:
        """The next edit (or an undo) takes the sparkline down; the drag's own step does not."""
        if self.sparkline is not None and not self.live.active and not self._ending and index != self._stack_index:
            self.hide_sparkline()

    def hide_sparkline(self) -> None:
        """Take the sparkline down."""
        self._hide_timer.stop()
        sparkline, self.sparkline = self.sparkline, None
        if sparkline is not None and sparkline.scene() is not None:
            parent = sparkline.parentItem()
            if parent.zValue() == SPARK_Z:
                parent.setZValue(0.0)
            sparkline.scene().removeItem(sparkline)
