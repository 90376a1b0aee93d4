"""The overview: a small translucent picture of the whole graph in the canvas corner; click or drag in it to move.

The picture is a snapshot of the scene, redrawn a moment after the graph changes
(drawing thousands of items live on every drag step would make dragging crawl);
only the outline of the visible area is drawn live. It shows only when it helps:
not on an empty canvas, not while the whole graph is in view, and it collapses to
a small button in the corner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QWidget

from gradstudio.ui.canvas.view import GraphView

if TYPE_CHECKING:
    from gradstudio.ui.workspace import Workspace

SIZE = (168, 104)
COLLAPSED = (22, 22)
BUTTON = 14  # the collapse / expand corner
MARGIN = 10
SETTLE_MS = 250
PADDING = 40.0
OPACITY = 0.82
NO_CACHE = QGraphicsItem.CacheMode.NoCache


class Minimap(QWidget):
    """A snapshot of the canvas's scene with the visible area outlined."""

    def __init__(self, canvas: GraphView) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.setObjectName("minimap")
        self.setFixedSize(*SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.enabled = True  # View > Overview
        self.collapsed = False
        self._picture = QPixmap()
        self._source = QRectF()
        self._graph = QRectF()
        self._scene: QGraphicsScene | None = None
        self._workspace: Workspace | None = None
        self._stale = False  # a redraw is owed for when the running job ends
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self.refit)
        canvas.horizontalScrollBar().valueChanged.connect(self.follow_view)
        canvas.verticalScrollBar().valueChanged.connect(self.follow_view)
        canvas.zoomed.connect(self.follow_view)
        canvas.installEventFilter(self)
        self.place()

    def set_scene(self, scene: QGraphicsScene) -> None:
        """Follow the canvas's (new) scene."""
        self._scene = scene
        for signal in (scene.selectionChanged, scene.restyled):  # (scene.changed would slow every repaint down)
            signal.connect(self.schedule)
        self._picture = QPixmap()
        self._source = QRectF()
        self._graph = QRectF()
        self.setVisible(False)
        self._settle.start()  # not on the opening path: the overview follows a moment later

    def bind(self, workspace: Workspace) -> None:
        """Redraw after every edit, value change and setting of `workspace` (the scene does not always say)."""
        if self._workspace is not None:
            for signal in self._signals(self._workspace):
                signal.disconnect(self.schedule)
            self._workspace.busy_changed.disconnect(self._busy_changed)
        self._workspace = workspace
        self._stale = False
        for signal in self._signals(workspace):
            signal.connect(self.schedule)
        workspace.busy_changed.connect(self._busy_changed)

    @staticmethod
    def _signals(workspace: Workspace) -> tuple:
        return (workspace.undo_stack.indexChanged, workspace.values_changed, workspace.settings_changed,
                workspace.backward_changed, workspace.lesson_changed)

    def schedule(self, *_args: object) -> None:
        """Redraw a moment after the graph stops changing; while a job runs (training: new values a few times
        a second, no edit allowed), once it ends, so redrawing the overview never holds up the canvas."""
        if self._workspace is not None and self._workspace.busy is not None:
            self._stale = True
            return
        self._settle.start()

    def _busy_changed(self, reason: str | None) -> None:
        if reason is None and self._stale:
            self._stale = False
            self._settle.start()

    def set_enabled(self, on: bool) -> None:
        """Turn the overview on or off (View > Overview)."""
        self.enabled = on
        self.follow_view()

    def set_collapsed(self, collapsed: bool) -> None:
        """Fold the overview into a small button in the corner, or open it again."""
        self.collapsed = collapsed
        self.setFixedSize(*(COLLAPSED if collapsed else SIZE))
        self.setToolTip("Show the overview" if collapsed else "")
        self.place()
        if not collapsed:
            self.refit()
        self.update()

    def wanted(self) -> bool:
        """Shown: switched on, a graph to show, and part of it out of view."""
        if not self.enabled or self._graph.isEmpty():
            return False
        visible = self.canvas.mapToScene(self.canvas.viewport().rect()).boundingRect()
        return not visible.contains(self._graph)

    def follow_view(self, *_args: object) -> None:
        """Show or hide as the view moves, then redraw the outline of the visible area."""
        self.setVisible(self.wanted())
        self.update()

    def place(self) -> None:
        """Keep to the canvas's bottom-right corner."""
        self.move(self.canvas.width() - self.width() - MARGIN, self.canvas.height() - self.height() - MARGIN)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.canvas and event.type() == QEvent.Type.Resize:
            self.place()
            self.follow_view()
        return False

    def refit(self) -> None:
        """Redraw the snapshot of the whole graph (and show or hide the overview)."""
        scene = self._scene
        if scene is None:
            return
        self._graph = self.canvas.graph_rect()
        self.follow_view()
        if self._graph.isEmpty() or self.collapsed:
            return
        rect = self._graph.adjusted(-PADDING, -PADDING, PADDING, PADDING)
        scale = min(SIZE[0] / rect.width(), SIZE[1] / rect.height())
        # centre the graph in the widget: grow the source rectangle to the widget's aspect ratio
        width, height = SIZE[0] / scale, SIZE[1] / scale
        self._source = QRectF(rect.center().x() - width / 2, rect.center().y() - height / 2, width, height)
        picture = QPixmap(*SIZE)
        background = QColor(scene.theme.background)
        background.setAlpha(215)
        picture.fill(background)
        painter = QPainter(picture)
        self._render_uncached(scene, painter)
        painter.end()
        self._picture = picture
        self.update()

    def _render_uncached(self, scene: QGraphicsScene, painter: QPainter) -> None:
        """Render the scene afresh: an item's device cache for a painter off any view is never invalidated by
        the item's updates (a renamed or recoloured node would show as it was), so the caches go for the render."""
        cached = [(item, item.cacheMode()) for item in scene.items() if item.cacheMode() != NO_CACHE]
        for item, _mode in cached:
            item.setCacheMode(NO_CACHE)
        scene.render(painter, QRectF(0, 0, *SIZE), self._source)
        for item, mode in cached:
            item.setCacheMode(mode)

    def to_scene(self, point: QPointF) -> QPointF:
        """The scene point under a widget position."""
        return QPointF(self._source.x() + point.x() * self._source.width() / self.width(),
                       self._source.y() + point.y() * self._source.height() / self.height())

    def _to_widget(self, rect: QRectF) -> QRectF:
        sx, sy = self.width() / self._source.width(), self.height() / self._source.height()
        return QRectF((rect.x() - self._source.x()) * sx, (rect.y() - self._source.y()) * sy,
                      rect.width() * sx, rect.height() * sy)

    def button_rect(self) -> QRectF:
        """The corner that collapses (or, collapsed, the whole button that expands) the overview."""
        if self.collapsed:
            return QRectF(self.rect())
        return QRectF(self.width() - BUTTON - 2, 2, BUTTON, BUTTON)

    def paintEvent(self, event: QPaintEvent) -> None:
        theme = self.canvas.graph_scene().theme
        painter = QPainter(self)
        painter.setOpacity(OPACITY)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not self.collapsed:
            painter.drawPixmap(0, 0, self._picture)
            if not self._source.isEmpty():
                visible = self.canvas.mapToScene(self.canvas.viewport().rect()).boundingRect()
                color = QColor(theme.selection)
                painter.setPen(QPen(color, 1.5))
                color.setAlpha(25)
                painter.setBrush(color)
                painter.drawRect(self._to_widget(visible).intersected(QRectF(self.rect()).adjusted(1, 1, -1, -1)))
        else:
            painter.fillRect(self.rect(), theme.node_body)
        painter.setPen(QPen(theme.node_border, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        self._paint_button(painter, theme.text)

    def _paint_button(self, painter: QPainter, color: QColor) -> None:
        """A minus to fold, a small frame to open again."""
        box = self.button_rect().adjusted(4, 4, -4, -4)
        painter.setPen(QPen(color, 1.5))
        if self.collapsed:
            painter.drawRect(box)
            painter.drawRect(QRectF(box.center(), box.bottomRight()))
        else:
            painter.drawLine(QPointF(box.left(), box.center().y()), QPointF(box.right(), box.center().y()))

    def showEvent(self, event: object) -> None:
        super().showEvent(event)
        if self._picture.isNull():
            self.refit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self.button_rect().contains(event.position()):
            self.set_collapsed(not self.collapsed)
            return
        self.canvas.centerOn(self.to_scene(event.position()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if not self.collapsed and event.buttons() & Qt.MouseButton.LeftButton:
            self.canvas.centerOn(self.to_scene(event.position()))
