"""Comment notes and titled frames on the canvas; a dragged frame carries the nodes inside it.

A grad-mode frame (a `with torch.no_grad():` region) is tinted in its mode's colour, with a dashed border and a
badge in its title bar naming its `with` statement.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QInputDialog,
    QLineEdit,
    QStyleOptionGraphicsItem,
    QWidget,
)

from gradstudio.model.annotations import MIN_SIZE, Annotation, SetAnnotationRect, SetAnnotationText
from gradstudio.model.grad_regions import MODE_CALLS, node_regions
from gradstudio.ui.canvas.fonts import canvas_font
from gradstudio.ui.canvas.items import POSITION_CHANGED, track_move
from gradstudio.ui.themes import LIGHT, Theme

PAINTED_CHARACTERS = 5000  # of a note or a frame's title: more than the largest box shows

GRIP = 14.0
TITLE_HEIGHT = 28.0
TITLE_FONT = canvas_font(points=11, bold=True)
NOTE_FONT = canvas_font(points=9.5)
BADGE_FONT = canvas_font(points=9, monospace="monospace")
BADGE_HEIGHT = 20.0


class AnnotationItem(QGraphicsItem):
    """Base of notes and frames: drawn from the model's `Annotation`, resized from the bottom-right grip."""

    def __init__(self, annotation: Annotation) -> None:
        super().__init__()
        self.annotation = annotation
        self._resize_from: QPointF | None = None
        self._size = annotation.size
        self.setPos(QPointF(*annotation.position))
        flags = QGraphicsItem.GraphicsItemFlag
        self.setFlags(flags.ItemIsMovable | flags.ItemIsSelectable | flags.ItemSendsGeometryChanges)

    @staticmethod
    def create(annotation: Annotation) -> AnnotationItem:
        """The item class for the annotation's kind."""
        return FrameItem(annotation) if annotation.kind == "frame" else NoteItem(annotation)

    def theme(self) -> Theme:
        """The scene's colour theme."""
        scene = self.scene()
        return scene.theme if scene is not None else LIGHT

    def sync(self) -> None:
        """Follow a change of text, position or size in the model."""
        self.prepareGeometryChange()
        self._size = self.annotation.size
        self.scene().moves.place(self, self.annotation.position)
        self.update()

    def rect(self) -> QRectF:
        """The annotation's rectangle in item coordinates."""
        return QRectF(0, 0, *self._size)

    def boundingRect(self) -> QRectF:
        return self.rect().adjusted(-2, -2, 2, 2)

    def _in_grip(self, position: QPointF) -> bool:
        rect = self.rect()
        return position.x() > rect.right() - GRIP and position.y() > rect.bottom() - GRIP

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:
        return super().itemChange(change, track_move(self, change, value))

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._in_grip(event.pos()):
            self._resize_from = event.pos()
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._resize_from is None:
            super().mouseMoveEvent(event)
            return
        self.prepareGeometryChange()
        delta = event.pos() - self._resize_from
        width, height = self.annotation.size
        self._size = (max(MIN_SIZE, width + delta.x()), max(MIN_SIZE, height + delta.y()))
        self.update()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._resize_from is None:
            super().mouseReleaseEvent(event)
            return
        self._resize_from = None
        edit = SetAnnotationRect(self.annotation.id, self.annotation.position, self._size)
        self.scene().editor.apply(edit, f"Resize {self.annotation.kind}")

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self.edit_text()

    def edit_text(self) -> None:
        """Ask for a new text (a note) or title (a frame), as one undoable edit."""
        parent = self.scene().views()[0] if self.scene().views() else None
        if self.annotation.kind == "note":
            text, ok = QInputDialog.getMultiLineText(parent, "Edit note", "Note:", self.annotation.text)
        else:
            text, ok = QInputDialog.getText(parent, "Edit frame", "Title:", QLineEdit.EchoMode.Normal,
                                            self.annotation.text)
        if ok and text != self.annotation.text:
            self.scene().editor.apply(SetAnnotationText(self.annotation.id, text), f"Edit {self.annotation.kind}")

    def _paint_grip(self, painter: QPainter, theme: Theme) -> None:
        rect = self.rect()
        painter.setPen(QPen(theme.muted_text, 1))
        for offset in (4.0, 8.0, 12.0):
            painter.drawLine(QPointF(rect.right() - offset, rect.bottom() - 2),
                             QPointF(rect.right() - 2, rect.bottom() - offset))


class NoteItem(AnnotationItem):
    """A sticky note with free text."""

    def __init__(self, annotation: Annotation) -> None:
        super().__init__(annotation)
        self.setZValue(-0.5)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        theme = self.theme()
        rect = self.rect()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(theme.selection, 2) if self.isSelected() else QPen(theme.note.darker(125), 1))
        painter.setBrush(theme.note)
        painter.drawRoundedRect(rect, 4, 4)
        painter.setPen(theme.note_text)
        painter.setFont(NOTE_FONT)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
        # laying out more than a box can show costs every paint: its first characters are all it could hold
        painter.drawText(rect.adjusted(10, 8, -10, -8), flags, self.annotation.text[:PAINTED_CHARACTERS])
        self._paint_grip(painter, theme)


class FrameItem(AnnotationItem):
    """A titled backdrop; dragging it moves the nodes and notes lying inside it."""

    def __init__(self, annotation: Annotation) -> None:
        super().__init__(annotation)
        self.setZValue(-10)
        self._carried: list[tuple[QGraphicsItem, QPointF]] = []
        self._origin = QPointF()
        self.setAcceptHoverEvents(True)

    @property
    def badge(self) -> str | None:
        """The `with` statement a grad-mode frame stands for (None for a plain frame)."""
        call = MODE_CALLS.get(self.annotation.grad_mode)
        return f"with {call}:" if call else None

    def members(self) -> list[str]:
        """Names of the nodes this region decides the grad mode of (the model's rule: innermost region wins)."""
        document = self.scene().document
        regions = node_regions(document)
        return [document.nodes[node_id].name for node_id, region in regions.items() if region.id == self.annotation.id]

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        if self.badge is not None:
            names = ", ".join(self.members()) or "no node yet: drag nodes inside"
            self.setToolTip(f"{self.badge} evaluates {names}")
        else:
            self.setToolTip("")
        super().hoverEnterEvent(event)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        super().mousePressEvent(event)
        if self._resize_from is None and event.button() == Qt.MouseButton.LeftButton:
            inside = self.scene().enclosed(self.sceneBoundingRect())
            self._carried = [(item, item.pos()) for item in inside if item is not self and not item.isSelected()]
            self._origin = self.pos()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        self._carried = []

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:
        result = super().itemChange(change, value)
        if change == POSITION_CHANGED and self._carried:
            delta = self.pos() - self._origin
            for item, start in self._carried:
                item.setPos(start + delta)
        return result

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        theme = self.theme()
        rect = self.rect()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        badge = self.badge
        if badge is None:
            border = theme.frame.darker(150)
            border.setAlpha(160)
            pen, fill = QPen(border, 1.5), theme.frame
        else:
            color = theme.region(self.annotation.grad_mode)
            pen, fill = QPen(color, 2, Qt.PenStyle.DashLine), QColor(color)
            fill.setAlpha(34)
        painter.setPen(QPen(theme.selection, 2) if self.isSelected() else pen)
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, 8, 8)
        title = QRectF(rect.left(), rect.top(), rect.width(), TITLE_HEIGHT)
        if badge is not None:
            title.setRight(title.right() - self._paint_badge(painter, theme, badge))
        painter.setPen(theme.text)
        painter.setFont(TITLE_FONT)
        text = QFontMetricsF(TITLE_FONT).elidedText(self.annotation.text[:PAINTED_CHARACTERS],
                                                    Qt.TextElideMode.ElideRight, max(0.0, title.width() - 24))
        if text != "…":  # a title squeezed out by the badge is left out rather than shown as a lone ellipsis
            painter.drawText(title.adjusted(12, 0, -12, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             text)
        self._paint_grip(painter, theme)

    def _paint_badge(self, painter: QPainter, theme: Theme, badge: str) -> float:
        """Draw the `with` statement as a filled pill at the title bar's right end; returns the width it takes."""
        rect = self.rect()
        metrics = QFontMetricsF(BADGE_FONT)
        width = min(metrics.horizontalAdvance(badge) + 14, rect.width() - 12)
        pill = QRectF(rect.right() - width - 6, rect.top() + (TITLE_HEIGHT - BADGE_HEIGHT) / 2 + 2, width, BADGE_HEIGHT)
        color = theme.region(self.annotation.grad_mode)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(pill, BADGE_HEIGHT / 2, BADGE_HEIGHT / 2)
        painter.setPen(QColor("#ffffff") if color.lightness() < 140 else QColor("#1d2329"))
        painter.setFont(BADGE_FONT)
        shown = metrics.elidedText(badge, Qt.TextElideMode.ElideRight, width - 10)
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, shown)
        return width + 6
