"""Comment notes and titled frames on the canvas; a dragged frame carries the nodes inside it."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneMouseEvent,
    QInputDialog,
    QLineEdit,
    QStyleOptionGraphicsItem,
    QWidget,
)

from gradstudio.model.annotations import MIN_SIZE, Annotation, SetAnnotationRect, SetAnnotationText
from gradstudio.ui.canvas.items import POSITION_CHANGED, track_move
from gradstudio.ui.themes import LIGHT, Theme

PAINTED_CHARACTERS = 5000  # of a note or a frame's title: more than the largest box shows

GRIP = 14.0
TITLE_HEIGHT = 28.0
TITLE_FONT = QFont()
TITLE_FONT.setPointSizeF(11)
TITLE_FONT.setBold(True)
NOTE_FONT = QFont()
NOTE_FONT.setPointSizeF(9.5)


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
        self.scene().place(self, self.annotation.position)
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
        border = theme.frame.darker(150)
        border.setAlpha(160)
        painter.setPen(QPen(theme.selection, 2) if self.isSelected() else QPen(border, 1.5))
        painter.setBrush(theme.frame)
        painter.drawRoundedRect(rect, 8, 8)
        title = QRectF(rect.left(), rect.top(), rect.width(), TITLE_HEIGHT)
        painter.setPen(theme.text)
        painter.setFont(TITLE_FONT)
        text = QFontMetricsF(TITLE_FONT).elidedText(self.annotation.text[:PAINTED_CHARACTERS],
                                                    Qt.TextElideMode.ElideRight, max(0.0, title.width() - 24))
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(title.adjusted(12, 0, -12, 0), align, text)
        self._paint_grip(painter, theme)
