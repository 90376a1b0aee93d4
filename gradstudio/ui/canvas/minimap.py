"""The overview: a small picture of the whole graph in the canvas corner; click or drag in it to move there.

The picture is a snapshot of the scene, redrawn a moment after the graph stops
changing (drawing thousands of items live on every drag step would make dragging
crawl); only the outline of the visible area is drawn live.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsScene, QWidget

from gradstudio.ui.canvas.view import GraphView

SIZE = (220, 150)
MARGIN = 12
SETTLE_MS = 250
PADDING = 60.0


class Minimap(QWidget):
    """A snapshot of the canvas's scene with the visible area outlined."""

    def __init__(self, canvas: GraphView) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.setObjectName("minimap")
        self.setFixedSize(*SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._picture = QPixmap()
        self._source = QRectF()
        self._scene: QGraphicsScene | None = None
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self.refit)
        canvas.horizontalScrollBar().valueChanged.connect(self.update)
        canvas.verticalScrollBar().valueChanged.connect(self.update)
        canvas.zoomed.connect(self.update)
        canvas.installEventFilter(self)
        self.place()

    def set_scene(self, scene: QGraphicsScene) -> None:
        """Follow the canvas's (new) scene."""
        self._scene = scene
        scene.changed.connect(self._scene_changed)
        self._picture = QPixmap()
        self._source = QRectF()
        self._settle.start()  # not on the opening path: the overview follows a moment later

    def _scene_changed(self, _regions: object) -> None:
        if self.isVisible():
            self._settle.start()

    def place(self) -> None:
        """Keep to the canvas's bottom-right corner."""
        self.move(self.canvas.width() - SIZE[0] - MARGIN, self.canvas.height() - SIZE[1] - MARGIN)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.canvas and event.type() == QEvent.Type.Resize:
            self.place()
        return False

    def refit(self) -> None:
        """Redraw the snapshot of the whole graph."""
        scene = self._scene
        if scene is None:
            return
        rect = scene.itemsBoundingRect()
        if rect.isEmpty():
            rect = QRectF(-200, -150, 400, 300)
        rect = rect.adjusted(-PADDING, -PADDING, PADDING, PADDING)
        scale = min(self.width() / rect.width(), self.height() / rect.height())
        # centre the graph in the widget: grow the source rectangle to the widget's aspect ratio
        width, height = self.width() / scale, self.height() / scale
        self._source = QRectF(rect.center().x() - width / 2, rect.center().y() - height / 2, width, height)
        picture = QPixmap(self.size())
        picture.fill(scene.theme.background)
        painter = QPainter(picture)
        scene.render(painter, QRectF(picture.rect()), self._source)
        painter.end()
        self._picture = picture
        self.update()

    def to_scene(self, point: QPointF) -> QPointF:
        """The scene point under a widget position."""
        return QPointF(self._source.x() + point.x() * self._source.width() / self.width(),
                       self._source.y() + point.y() * self._source.height() / self.height())

    def _to_widget(self, rect: QRectF) -> QRectF:
        sx, sy = self.width() / self._source.width(), self.height() / self._source.height()
        return QRectF((rect.x() - self._source.x()) * sx, (rect.y() - self._source.y()) * sy,
                      rect.width() * sx, rect.height() * sy)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        if self._picture.isNull():
            painter.fillRect(self.rect(), self.canvas.graph_scene().theme.background)
        painter.drawPixmap(0, 0, self._picture)
        if not self._source.isEmpty():
            visible = self.canvas.mapToScene(self.canvas.viewport().rect()).boundingRect()
            color = QColor(self.canvas.graph_scene().theme.selection)
            painter.setPen(QPen(color, 1.5))
            color.setAlpha(25)
            painter.setBrush(color)
            painter.drawRect(self._to_widget(visible).intersected(QRectF(self.rect()).adjusted(1, 1, -1, -1)))
        painter.setPen(QPen(self.canvas.graph_scene().theme.node_border, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))

    def showEvent(self, event: object) -> None:
        super().showEvent(event)
        self.refit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.canvas.centerOn(self.to_scene(event.position()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.canvas.centerOn(self.to_scene(event.position()))
