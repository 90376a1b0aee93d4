"""The node item: a node of the document on the canvas, its ports as handles, and how it behaves.

An item keeps a reference to the model's `Node` (never a copy) and to the evaluator's latest `NodeResult`, follows
the model's changes to them, and answers hover and mouse (scrubbing and the requires_grad checkbox take theirs
first). How its face looks is node_face.py's (bound here as `face_key` and `paint_face`), its measures
node_geometry.py's; the wires between nodes are edge_items.py's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from gradstudio.model.document import Node
from gradstudio.model.evaluation import NodeResult
from gradstudio.model.port_constants import constant_text
from gradstudio.ui.canvas import lesson_face, node_face, requires_grad_face
from gradstudio.ui.canvas.face_cache import cacheable, draw_cached
from gradstudio.ui.canvas.node_face import VALUES_AT
from gradstudio.ui.canvas.node_geometry import (
    HEADER,
    LOD_SIMPLE,
    LOD_TINY,
    PORT_RADIUS,
    ROW,
    WIDTH,
    node_height,
    values_rect,
)
from gradstudio.ui.canvas.preview import Preview, describe
from gradstudio.ui.canvas.version_badge import version_of
from gradstudio.ui.text_limits import shorten_words
from gradstudio.ui.themes import LIGHT, Theme

if TYPE_CHECKING:
    from gradstudio.model.lesson_play import Lesson
    from gradstudio.ui.canvas.scene import GraphScene

# looked up once: itemChange runs for every flag, cache and position change of every item
POSITION_CHANGE = QGraphicsItem.GraphicsItemChange.ItemPositionChange
POSITION_CHANGED = QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged
_FLAG = QGraphicsItem.GraphicsItemFlag
NODE_FLAGS = _FLAG.ItemIsMovable | _FLAG.ItemIsSelectable | _FLAG.ItemSendsGeometryChanges


def track_move(item: QGraphicsItem, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:
    """Let the graph scene snap a moving item and hear that it moved; returns the (maybe snapped) position."""
    scene = item.scene()
    if scene is not None:
        if change == POSITION_CHANGE:
            return scene.moves.constrain(item, value)
        if change == POSITION_CHANGED:
            scene.item_moved(item)
    return value


def set_opacity(item: QGraphicsItem, opacity: float) -> None:
    """`item.setOpacity(opacity)`, skipped when it was set so already (hundreds of items, every scrub frame): every
    canvas item's opacity is set through here."""
    if getattr(item, "shown_opacity", 1.0) != opacity:
        item.setOpacity(opacity)
        item.shown_opacity = opacity


class Port:
    """A handle on one port of a node: which node, which input (None: the output), and where it is.

    Ports are drawn by their node item (thousands of child items would slow large graphs down).
    """

    __slots__ = ("node_item", "port")

    def __init__(self, node_item: NodeItem, port: str | None) -> None:
        self.node_item = node_item
        self.port = port

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Port) and (other.node_item, other.port) == (self.node_item, self.port)

    def __hash__(self) -> int:
        return hash((id(self.node_item), self.port))

    @property
    def node_id(self) -> str:
        """Id of the node this port belongs to."""
        return self.node_item.node.id

    @property
    def is_output(self) -> bool:
        """True for the output port."""
        return self.port is None

    def scene_pos(self) -> QPointF:
        """Centre of the port in scene coordinates."""
        return self.node_item.mapToScene(self.node_item.port_position(self.port))


class NodeItem(QGraphicsItem):
    """A node: variable name and op title in a coloured header, ports, shape and a value preview."""

    # the face's look (node_face.py), taken as methods: a paint calls them with no wrapper call per face
    face_key = node_face.face_key
    paint_face = node_face.paint_face

    def __init__(self, node: Node, result: NodeResult | None = None) -> None:
        super().__init__()
        self.node = node
        self.result = result
        self._preview: Preview | None = None
        self._preview_version: int | None = None  # the tensor's version counter when the preview was made
        self.wire_label: str | None = None  # the shape its outgoing wires show (the scene keeps it)
        self.inputs: tuple[str, ...] = node.input_ports()
        self._bounds = self._outline()
        self.highlighted: frozenset[str | None] = frozenset()
        self.value_hovered = False  # the cursor is over a value a drag can scrub
        self.scrubbed_cell: int | None = None  # the number being dragged, while a scrub lasts
        self._painted_key: tuple | None = None  # the face key last drawn on a view (from the face cache)
        self.setPos(QPointF(*node.position))
        self.setFlags(NODE_FLAGS)  # no Qt item cache: faces come from face_cache.FACES, keyed by their content
        self.setAcceptHoverEvents(True)

    def graph_scene(self) -> GraphScene | None:
        """The scene this node lives in, if any."""
        return self.scene()  # type: ignore[return-value]

    def theme(self) -> Theme:
        """The scene's colour theme."""
        scene = self.graph_scene()
        return scene.theme if scene is not None else LIGHT

    def is_connected(self, port: str | None) -> bool:
        """True when an edge feeds input `port`."""
        scene = self.graph_scene()
        return scene is not None and (self.node.id, port) in scene.document.edges

    # ----- ports -----------------------------------------------------------------------------------------------

    def port_position(self, port: str | None) -> QPointF:
        """Centre of a port in item coordinates: inputs down the left edge, the output on the right."""
        if port is None:
            return QPointF(WIDTH, HEADER + ROW / 2)
        return QPointF(0.0, HEADER + (self.inputs.index(port) + 0.5) * ROW)

    def ports(self) -> list[Port]:
        """Handles on the input ports and the output port."""
        return [Port(self, name) for name in self.inputs] + [Port(self, None)]

    def port_at(self, position: QPointF, reach: float = PORT_RADIUS + 4) -> Port | None:
        """The port within `reach` of an item-coordinates position, if any."""
        for port in [None, *self.inputs]:
            if (self.port_position(port) - position).manhattanLength() <= reach * 1.4:
                return Port(self, port)
        return None

    def set_highlighted(self, ports: frozenset[str | None]) -> None:
        """Mark ports (input names, None for the output) a dragged wire may connect to."""
        if ports != self.highlighted:
            self.highlighted = ports
            self.update()

    def set_value_hovered(self, hovered: bool) -> None:
        """Mark the value line as under the cursor (scrubbable) or not."""
        if hovered != self.value_hovered:
            self.value_hovered = hovered
            self.update()

    def set_scrubbed_cell(self, cell: int | None) -> None:
        """Mark the number being dragged (None: no drag)."""
        if cell != self.scrubbed_cell:
            self.scrubbed_cell = cell
            self.update()

    # ----- model sync ------------------------------------------------------------------------------------------

    def sync_ports(self) -> bool:
        """Follow a change in the node's input ports (variadic kinds change their count); True if they changed."""
        names = self.node.input_ports()
        if names == self.inputs:
            return False
        self.prepareGeometryChange()
        self.inputs = names
        self._bounds = self._outline()
        self.update()
        return True

    def refresh_face(self) -> None:
        """Repaint the face if it would look different from what was last drawn (an attribute changed: a port
        constant shows beside its port, requires_grad in its box); a scrub frame's new leaf data does not."""
        if self._painted_key is None or self.face_key(self.theme()) != self._painted_key:
            self.update()

    def port_label(self, port: str) -> str:
        """The text beside an input port: its name, with the constant it uses when no edge feeds it (`b = 2`)."""
        value = self.node.port_constants.get(port)
        if value is None or self.is_connected(port):
            return port
        return f"{port} = {constant_text(value)}"

    def set_result(self, result: NodeResult | None) -> None:
        """Show a new evaluation result. A face on screen (the scene says where, while it refreshes values) whose
        new result changes nothing but its values repaints only them, and one that looks the same not at all: a
        scrub frame then leaves the wires and faces around alone."""
        self.result = result
        self._preview = None
        scene = self.graph_scene()
        shown, on_screen = self._painted_key, scene.on_screen if scene is not None else None
        if shown is not None and on_screen is not None and self.sceneBoundingRect().intersects(on_screen[0]):
            key = self.face_key(self.theme())
            if key == shown:
                return  # the same face: the very pixels on screen (a value changed past the digits shown)
            if key[:VALUES_AT] == shown[:VALUES_AT] and key[VALUES_AT + 1:] == shown[VALUES_AT + 1:]:
                self.update(values_rect(self, on_screen[1]))
                return
        self.update()

    def changed_in_place(self) -> bool:
        """Whether the tensor shown was changed in place since its values were shown (a training step on a
        leaf changes the tensor, not the result that holds it)."""
        return self._preview is not None and self._preview_version != version_of(self)

    def preview(self) -> Preview:
        """The (cached) preview text of the current result."""
        if self._preview is None:
            self._preview_version = version_of(self)
            scene = self.graph_scene()
            nodes = scene.document.nodes if scene is not None else {}
            unwired = tuple(port for port in self.inputs
                            if not self.is_connected(port) and port not in self.node.port_constants)
            self._preview = describe(self.result, lambda node_id: nodes[node_id].name if node_id in nodes else "?",
                                     unwired)
            lesson = self.lesson()
            if lesson is not None and lesson.masks(self.node.id, "value"):
                self._preview = lesson_face.masked_preview(self._preview)
        return self._preview

    def lesson(self) -> Lesson | None:
        """The lesson of the scene's workspace (what it hides, what the learner revealed), if any."""
        scene = self.graph_scene()
        return scene.workspace.lesson if scene is not None else None

    def anchor_coordinates(self, port: str | None, x: float, y: float) -> tuple[float, float]:
        """Where an edge meets `port` (None: the output) when the node stands at (x, y), as coordinates."""
        if port is None:
            return x + WIDTH, y + HEADER + ROW / 2
        if port in self.inputs:
            return x, y + HEADER + (self.inputs.index(port) + 0.5) * ROW
        return x, y

    def input_anchor(self, port: str) -> QPointF:
        """Scene position where an edge enters `port` (nodes are never rotated or scaled)."""
        return self.pos() + self.port_position(port) if port in self.inputs else self.pos()

    def output_anchor(self) -> QPointF:
        """Scene position where edges leave the output port."""
        return self.pos() + self.port_position(None)

    def height(self) -> float:
        """Height of the node face."""
        return node_height(len(self.inputs))

    # ----- Qt overrides ---------------------------------------------------------------------------------------

    def _outline(self) -> QRectF:
        reach = PORT_RADIUS + 3
        top = lesson_face.TAG_HEIGHT + 4  # room for a lesson's tag above the header
        return QRectF(-reach, -top, WIDTH + 2 * reach, self.height() + top + 2)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: object) -> object:
        if change != POSITION_CHANGE and change != POSITION_CHANGED:
            return value  # what QGraphicsItem.itemChange returns: no call into Qt for every flag and cache change
        return super().itemChange(change, track_move(self, change, value))

    def hoverEnterEvent(self, event: object) -> None:
        preview = self.preview()
        self.setToolTip(shorten_words(f"{self.node.name} = {self.node.spec.title}\n{preview.tooltip}".strip(), 200))
        super().hoverEnterEvent(event)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        theme = self.theme()
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < LOD_TINY:  # letters would be a few pixels tall: a block in the header's colour says as much
            if widget is not None:
                self._painted_key = None
            painter.setPen(QPen(theme.selection, 2.5 / lod) if self.isSelected() else Qt.PenStyle.NoPen)
            painter.setBrush(requires_grad_face.header_color(self, theme))
            painter.drawRect(QRectF(0, 0, WIDTH, self.height()))
            return
        scene = self.graph_scene()
        if (scene is not None and scene.exporting) or not cacheable(painter):
            self.paint_face(painter, lod, theme)
            return
        key = self.face_key(theme)
        if widget is not None:  # drawn on a view, not in the overview's or an export's picture
            self._painted_key = key
        draw_cached(painter, self._bounds, (key, lod < LOD_SIMPLE), lambda face: self.paint_face(face, lod, theme))

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        scene = self.graph_scene()
        if scene is not None:
            scene.face_scrub.hover(self, event.pos())
        super().hoverMoveEvent(event)

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.set_value_hovered(False)
        super().hoverLeaveEvent(event)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        scene = self.graph_scene()
        if requires_grad_face.press_checkbox(self, event):
            return
        if scene is not None and scene.face_scrub.press(self, event):
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        scene = self.graph_scene()
        if scene is None or not scene.face_scrub.move(self, event):
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        scene = self.graph_scene()
        if scene is None or not scene.face_scrub.release(self, event):
            super().mouseReleaseEvent(event)

    def version(self) -> int | None:
        """The version counter of the node's tensor (`tensor._version`), read live; None for no tensor."""
        return version_of(self)
