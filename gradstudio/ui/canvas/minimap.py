"""The overview: a small view of the whole graph in the canvas corner; click or drag in it to move there."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QFrame, QGraphicsView

from gradstudio.ui.canvas.view import GraphView

SIZE = (220, 150)
MARGIN = 12


class Minimap(QGraphicsView):
    """A non-interactive second view of the canvas's scene, with the visible area outlined."""

    def __init__(self, canvas: GraphView) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.setObjectName("minimap")
        self.setInteractive(False)
        self.setFrameShape(QFrame.Shape.Box)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.setFixedSize(*SIZE)
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.setInterval(150)
        self._refit.timeout.connect(self.refit)
        canvas.horizontalScrollBar().valueChanged.connect(self.viewport().update)
        canvas.verticalScrollBar().valueChanged.connect(self.viewport().update)
        canvas.installEventFilter(self)
        self.place()

    def set_scene(self, scene: object) -> None:
        """Follow the canvas's (new) scene."""
        self.setScene(scene)
        scene.changed.connect(lambda _regions: self._refit.start())
        self.refit()

    def place(self) -> None:
        """Keep to the canvas's bottom-right corner."""
        self.move(self.canvas.width() - SIZE[0] - MARGIN, self.canvas.height() - SIZE[1] - MARGIN)

    def eventFilter(self, watched: object, event: object) -> bool:
        if watched is self.canvas and event.type() == event.Type.Resize:
            self.place()
        return False

    def refit(self) -> None:
        """Show every item."""
        scene = self.scene()
        if scene is None:
            return
        rect = scene.itemsBoundingRect()
        if rect.isEmpty():
            rect = QRectF(-200, -150, 400, 300)
        self.fitInView(rect.adjusted(-60, -60, 60, 60), Qt.AspectRatioMode.KeepAspectRatio)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, self.canvas.graph_scene().theme.background)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        visible = self.canvas.mapToScene(self.canvas.viewport().rect()).boundingRect()
        color = QColor(self.canvas.graph_scene().theme.selection)
        painter.setPen(QPen(color, 0))
        color.setAlpha(25)
        painter.setBrush(color)
        painter.drawRect(visible)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.canvas.centerOn(self.mapToScene(event.position().toPoint()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.canvas.centerOn(self.mapToScene(event.position().toPoint()))
