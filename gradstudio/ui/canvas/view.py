"""The canvas view: zoom around the cursor, panning, rubber band, drops from the palette and the desktop, quick add,
the empty canvas's hint; its background is grid.py's grid."""

from __future__ import annotations

import math
from collections.abc import Collection

from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QCursor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFocusEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QWidget

from gradstudio.model.catalog import CATALOG
from gradstudio.model.io.code_suffixes import SUFFIXES as CODE_SUFFIXES
from gradstudio.ui.canvas.grid import GRID, GRID_MAJOR, draw_grid, grid_spacing
from gradstudio.ui.canvas.node_geometry import HEADER, ROW, WIDTH
from gradstudio.ui.canvas.scene import GraphScene
from gradstudio.ui.canvas.search import NodeSearch

OP_MIME = "application/x-gradstudio-op"
MIN_ZOOM, MAX_ZOOM = 0.05, 4.0
FIT_ON_OPEN_ZOOM = 0.7  # a graph that fits at this zoom or more opens whole
OPEN_ZOOM = 0.8  # a larger one opens at this zoom, its text readable, from its top-left; the overview shows the rest
ZOOM_STEP = 1.25
WORLD = 100_000.0
EMPTY_HINT = ("Drag an op from the palette onto the canvas,\npress Tab to add one by name,\n"
              "or open an example: File ▸ Examples")


class GraphView(QGraphicsView):
    """Shows a GraphScene; every edit it starts goes through the scene's editor."""

    file_dropped = Signal(object)
    code_dropped = Signal(object, object)  # a dropped file other than a graph, and the scene point of the drop
    zoomed = Signal(object)
    context_menu_requested = Signal(object, object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvas")
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        # a few changed items repaint just their region; many (a scrub frame) one rectangle: a clip of hundreds of
        # rectangles slows every drawing call down more than painting the rectangle between them costs
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSceneRect(QRectF(-WORLD / 2, -WORLD / 2, WORLD, WORLD))
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.grid_lines_drawn = 0  # by the last paint of the background
        self._showing_hint = False
        self._pan_from: QPointF | None = None
        self._space_held = False
        self._search_at = QPointF()
        self._search_wire: tuple[str | None, tuple[str, str] | None] = (None, None)
        self._search: NodeSearch | None = None

    @property
    def search(self) -> NodeSearch:
        """The quick-add box over the viewport and its overlays (the minimap), built when first asked for: start-up
        does not fill a hidden list with every op."""
        if self._search is None:
            self._search = NodeSearch(self)
            self._search.chosen.connect(self._add_searched)
        return self._search

    def setScene(self, scene: GraphScene) -> None:
        super().setScene(scene)
        self.setSceneRect(QRectF(-WORLD / 2, -WORLD / 2, WORLD, WORLD))
        scene.sceneRectChanged.connect(self.grow_world)
        scene.emptiness_changed.connect(self._repaint_if_emptiness_changed)
        self._showing_hint = scene.is_empty()
        self.grow_world(scene.itemsBoundingRect())

    def grow_world(self, rect: QRectF) -> None:
        """Widen the pannable area to keep `rect` (the graph's extent) reachable with room around it."""
        wanted = self.sceneRect().united(rect.adjusted(-WORLD / 2, -WORLD / 2, WORLD / 2, WORLD / 2))
        if wanted != self.sceneRect():
            self.setSceneRect(wanted)

    def graph_scene(self) -> GraphScene:
        """The scene being shown."""
        return self.scene()  # type: ignore[return-value]

    def zoom(self) -> float:
        """The current scale factor (1.0 = 100 %)."""
        return self.transform().m11()

    # ----- zoom and fit ------------------------------------------------------------------------------------------

    def zoom_at(self, factor: float, anchor: QPoint | None = None) -> None:
        """Scale by `factor`, keeping the scene point under `anchor` (a viewport position) in place."""
        factor = max(MIN_ZOOM, min(MAX_ZOOM, self.zoom() * factor)) / self.zoom()
        if math.isclose(factor, 1.0):
            return
        anchor = anchor if anchor is not None else self._cursor_or_centre()
        fixed = self.mapToScene(anchor)
        self.scale(factor, factor)
        drift = self.mapFromScene(fixed) - anchor
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + drift.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + drift.y())
        self.zoomed.emit(self.zoom())

    def _cursor_or_centre(self) -> QPoint:
        cursor = self.viewport().mapFromGlobal(QCursor.pos())
        return cursor if self.viewport().rect().contains(cursor) else self.viewport().rect().center()

    def zoom_in(self) -> None:
        """Zoom in one step around the cursor."""
        self.zoom_at(ZOOM_STEP)

    def zoom_out(self) -> None:
        """Zoom out one step around the cursor."""
        self.zoom_at(1 / ZOOM_STEP)

    def reset_zoom(self) -> None:
        """Back to 100 %, keeping the centre of the view."""
        self.zoom_at(1 / self.zoom(), self.viewport().rect().center())

    def fit_rect(self, rect: QRectF) -> None:
        """Show `rect` (scene coordinates) whole, never magnified beyond 100 %."""
        if rect.isEmpty():
            return
        self.grow_world(rect)
        self.fitInView(rect.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.0 or self.zoom() < MIN_ZOOM:
            # never magnified beyond 100 %, never below the minimum zoom (far-apart nodes: show their middle)
            wanted = min(1.0, max(MIN_ZOOM, self.zoom()))
            self.setTransform(QTransform.fromScale(wanted, wanted))  # exact: no rounding from relative scales
        self.centerOn(rect.center())
        self.zoomed.emit(self.zoom())

    def graph_rect(self) -> QRectF:
        """The scene rectangle of every visible top-level item (empty on an empty canvas)."""
        rect = QRectF()
        for item in self.graph_scene().items():
            if item.parentItem() is None and item.isVisible():
                rect = rect.united(item.sceneBoundingRect())
        return rect

    def show_on_open(self) -> None:
        """Fit the whole graph if it reads at FIT_ON_OPEN_ZOOM or more, else show its top-left at OPEN_ZOOM."""
        rect = self.graph_rect()
        if rect.isEmpty():
            return
        self.fit_rect(rect)
        if self.zoom() >= FIT_ON_OPEN_ZOOM:
            return
        self.setTransform(QTransform.fromScale(OPEN_ZOOM, OPEN_ZOOM))
        visible = self.mapToScene(self.viewport().rect()).boundingRect()
        margin = 30 / OPEN_ZOOM
        x = rect.left() - margin + visible.width() / 2
        fits = rect.height() + 2 * margin <= visible.height()
        y = rect.center().y() if fits else rect.top() - margin + visible.height() / 2
        self.centerOn(QPointF(x, y))
        self.zoomed.emit(self.zoom())

    def fit_all(self) -> None:
        """Fit the whole graph."""
        self._fit_items(self.graph_scene().items())

    def fit_selection(self) -> None:
        """Fit the selection (the whole graph when nothing is selected)."""
        scene = self.graph_scene()
        self._fit_items(scene.selectedItems() or scene.items())

    def _fit_items(self, items: list) -> None:
        rect = QRectF()
        for item in items:
            if item.parentItem() is None and item.isVisible():
                rect = rect.united(item.sceneBoundingRect())
        self.fit_rect(rect)

    # ----- the empty canvas's hint -------------------------------------------------------------------------------

    def _repaint_if_emptiness_changed(self) -> None:
        """The hint spans the viewport: repaint it whole when it appears or goes (edits repaint only their items)."""
        empty = self.graph_scene().is_empty()
        if empty != self._showing_hint:
            self._showing_hint = empty
            self.viewport().update()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawForeground(painter, rect)
        if not self.graph_scene().is_empty():
            return
        self._showing_hint = True
        painter.save()
        painter.resetTransform()
        font = painter.font()
        font.setPixelSize(15)
        painter.setFont(font)
        painter.setPen(self.graph_scene().theme.muted_text)
        area = QRectF(self.viewport().rect()).adjusted(24, 24, -24, -24)
        painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, EMPTY_HINT)
        painter.restore()

    # ----- background --------------------------------------------------------------------------------------------

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        theme = self.graph_scene().theme
        painter.fillRect(rect, theme.background)
        self.grid_lines_drawn = 0
        minor = grid_spacing(self.zoom())
        self.grid_lines_drawn += draw_grid(painter, rect, minor, theme.grid_minor)
        if minor == GRID:
            major = grid_spacing(self.zoom(), GRID * GRID_MAJOR)
            self.grid_lines_drawn += draw_grid(painter, rect, major, theme.grid_major)

    # ----- mouse: wheel zoom, middle / space panning, double-click quick add -------------------------------------

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.zoom_at(1.0015 ** event.angleDelta().y(), event.position().toPoint())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        panning = event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space_held)
        if panning:
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space_held else Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.itemAt(event.position().toPoint()) is None:
            self.open_search(event.position().toPoint())
            return
        super().mouseDoubleClickEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        scene = self.graph_scene()
        if scene is not None and scene.face_scrub.took_right_click():
            return  # that right click cancelled a scrub
        item = self.itemAt(event.pos())
        while item is not None and item.parentItem() is not None:
            item = item.parentItem()
        self.context_menu_requested.emit(item, self.mapToScene(event.pos()), event.globalPos())

    # ----- keys: Tab opens quick add, space pans ------------------------------------------------------------------

    def event(self, event: QEvent) -> bool:
        # Tab would move keyboard focus to the next widget before keyPressEvent sees it
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Tab:
            self.open_search(self._cursor_or_centre())
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._space_key(event, held=True):
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if not self._space_key(event, held=False):
            super().keyReleaseEvent(event)

    def _space_key(self, event: QKeyEvent, held: bool) -> bool:
        """Follow the space key going down or up (held: ready to pan, an open hand); True if the event was it."""
        if event.key() != Qt.Key.Key_Space or event.isAutoRepeat():
            return False
        self._space_held = held
        self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if held else Qt.CursorShape.ArrowCursor)
        return True

    def focusOutEvent(self, event: QFocusEvent) -> None:
        # the space key's release goes to whichever widget has focus by then: stop panning now
        self._space_held = False
        if self._pan_from is None:
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
        super().focusOutEvent(event)

    def open_search(self, position: QPoint, kinds: Collection[str] | None = None, source: str | None = None,
                    target: tuple[str, str] | None = None) -> None:
        """Open the quick-add box offering `kinds`; the chosen op lands at this viewport position.

        With `source` (a node id) the new node's first input is wired from it; with `target` (node id, port)
        its output feeds that input.
        """
        self._search_at = self.mapToScene(position)
        self._search_wire = (source, target)
        self.search.popup(position + self.viewport().pos(), kinds)

    def _add_searched(self, kind: str) -> None:
        source, target = self._search_wire
        at = self._search_at - wired_offset(source, target)
        node_id = self.graph_scene().editor.add_node(kind, (at.x(), at.y()), source, target, self.search.name)
        if node_id is not None:
            self.graph_scene().select([node_id])
        self.setFocus()

    # ----- drag and drop: ops from the palette, .gsg files from the desktop ---------------------------------------

    def _accepts(self, event: QDragEnterEvent | QDragMoveEvent | QDropEvent) -> bool:
        mime = event.mimeData()
        return mime.hasFormat(OP_MIME) or bool(graph_file_paths(mime)) or bool(code_file_paths(mime))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._accepts(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._accepts(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        if mime.hasFormat(OP_MIME):
            kind = bytes(mime.data(OP_MIME).data()).decode("utf-8")
            point = self.mapToScene(event.position().toPoint())
            wire = self.graph_scene().edge_at(point) if kind in CATALOG and CATALOG[kind].inputs else None
            source, target = (wire.source, (wire.target, wire.port)) if wire is not None else (None, None)
            node_id = self.graph_scene().editor.add_node(kind, (point.x(), point.y()), source, target)
            if node_id is not None:
                self.graph_scene().select([node_id])
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
            return
        paths = graph_file_paths(mime)
        if paths:
            event.acceptProposedAction()
            self.file_dropped.emit(paths[0])
            return
        code = code_file_paths(mime)
        if code:
            event.acceptProposedAction()
            self.code_dropped.emit(code[0], self.mapToScene(event.position().toPoint()))
            return
        event.ignore()


def wired_offset(source: str | None, target: tuple[str, str] | None) -> QPointF:
    """From a quick-added node's top-left corner to the port its wire ends on (none unwired)."""
    if source is not None:
        return QPointF(0.0, HEADER + ROW / 2)
    if target is not None:
        return QPointF(WIDTH, HEADER + ROW / 2)
    return QPointF()


def graph_file_paths(mime: QMimeData) -> list[str]:
    """Local `.gsg` files among dragged URLs."""
    return [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and url.toLocalFile().endswith(".gsg")]


def code_file_paths(mime: QMimeData) -> list[str]:
    """Local files among dragged URLs other than graphs, code files (.py, .ipynb, notes) first: the code importer
    reads those and says which files it reads of any other, rather than the drop silently not taking."""
    paths = [url.toLocalFile() for url in mime.urls() if url.isLocalFile() and not url.toLocalFile().endswith(".gsg")]
    return sorted(paths, key=lambda path: not path.lower().endswith(CODE_SUFFIXES))
