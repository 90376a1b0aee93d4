"""Dragging wires: from an output to an input (or back), and picking up an edge's end to rewire it.

The highlight of compatible ports is only a hint; on release the editor asks
the model, which accepts the connection or refuses it with a reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QGraphicsSceneMouseEvent

from gradstudio.model.document import Edge
from gradstudio.ui.canvas.edge_items import WireItem
from gradstudio.ui.canvas.items import NodeItem, Port
from gradstudio.ui.canvas.search import accepting

if TYPE_CHECKING:
    from gradstudio.ui.canvas.scene import GraphScene


class WireTool:
    """The state of one wire drag, driven by the scene's mouse events."""

    def __init__(self, scene: GraphScene) -> None:
        self.scene = scene
        self.anchor: Port | None = None
        self.picked: Edge | None = None
        self.wire: WireItem | None = None
        self.pending: WireItem | None = None  # the dropped wire, shown while the quick-add box is open
        self._highlighted: list[NodeItem] = []

    @property
    def active(self) -> bool:
        """True while a wire is being dragged."""
        return self.anchor is not None

    def press(self, event: QGraphicsSceneMouseEvent) -> bool:
        """Start a wire when the left button goes down on a port; True if the event was used."""
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        port = self.scene.port_at(event.scenePos())
        if port is None:
            return False
        self.picked = None if port.is_output else self.scene.document.edges.get((port.node_id, port.port))
        if self.picked is not None:
            # grabbing a connected input picks up the edge's end: the wire now hangs from its source
            self.scene.edges[(self.picked.target, self.picked.port)].hide()
            port = Port(self.scene.nodes[self.picked.source], None)
        self.anchor = port
        self.wire = WireItem(self.scene.theme.port_highlight)
        self.scene.addItem(self.wire)
        self._draw(event.scenePos())
        self._highlight(self._compatible(port))
        event.accept()
        return True

    def move(self, event: QGraphicsSceneMouseEvent) -> bool:
        """Follow the mouse; True while wiring."""
        if not self.active:
            return False
        self._draw(event.scenePos())
        return True

    def release(self, event: QGraphicsSceneMouseEvent) -> bool:
        """Finish the wire on a port (connect), on empty canvas (quick add) or off a port (drop a picked-up edge)."""
        if not self.active:
            return False
        anchor, picked = self.anchor, self.picked
        target = self.scene.port_at(event.scenePos())
        self.cancel()
        body = self._node_at(event.scenePos()) if target is None else None
        if body is not None:  # on a node's face: its first free input (or its output), as node editors do
            target = self._body_port(anchor, body)
            if target is None:
                self.scene.editor.refused.emit(f"Cannot connect: every input of {body.node.name} is taken; "
                                               "drop the wire on one to replace it")
                return True
        if target is None and picked is None:
            self._quick_add(anchor, event.scenePos())
            return True
        if target is None or target == anchor:
            if picked is not None:
                self.scene.editor.disconnect(picked)
            return True
        edge = self._edge_between(anchor, target)
        if edge is None:
            self.scene.editor.refused.emit("Cannot connect: wire an output to an input")
        elif edge != picked:
            self.scene.editor.connect(edge, replacing=picked)
        return True

    def cancel(self) -> None:
        """Drop the wire without changing anything."""
        if self.wire is not None:
            self.scene.removeItem(self.wire)
        if self.picked is not None and (self.picked.target, self.picked.port) in self.scene.edges:
            self.scene.edges[(self.picked.target, self.picked.port)].show()
        self._highlight({})
        self.anchor = self.picked = self.wire = None

    def drop_pending(self) -> None:
        """Take down the wire left hanging for the quick-add box."""
        if self.pending is not None:
            # the box may close as the window does, after the scene (and the wire with it) is gone
            if shiboken6.isValid(self.pending) and self.pending.scene() is self.scene:
                self.scene.removeItem(self.pending)
            self.pending = None

    def forget(self, node_id: str | None = None, edge: Edge | None = None) -> None:
        """Drop the wire when the document loses a node or edge it hangs from (deleted or undone mid-drag)."""
        if self.anchor is None:
            return
        picked_nodes = {self.picked.source, self.picked.target} if self.picked is not None else set()
        if node_id in {self.anchor.node_id, *picked_nodes} or (edge is not None and edge == self.picked):
            self.picked = None  # its item is gone with it
            self.cancel()

    def _node_at(self, position: QPointF) -> NodeItem | None:
        """The node whose face is under a scene point, if any."""
        return next((item for item in self.scene.items(position) if isinstance(item, NodeItem)), None)

    def _body_port(self, anchor: Port, node: NodeItem) -> Port | None:
        """The port a wire dropped on `node`'s face ends on: its first free input, or its output."""
        if node.node.id == anchor.node_id:
            return anchor
        if not anchor.is_output:
            return Port(node, None)
        edges = self.scene.document.edges
        free = [name for name in node.inputs if (node.node.id, name) not in edges]
        return Port(node, free[0]) if free else None

    def _quick_add(self, anchor: Port, position: QPointF) -> None:
        """A fresh wire dropped on empty canvas: offer the ops it can feed (or feed it); the chosen one comes wired."""
        views = self.scene.views()
        if not views:
            return
        view = views[0]
        at = view.mapFromScene(position)
        self.drop_pending()
        self.pending = WireItem(self.scene.theme.port_highlight)
        start = anchor.scene_pos()
        self.pending.set_ends(*((start, position) if anchor.is_output else (position, start)))
        self.scene.addItem(self.pending)
        view.search.closed.connect(self.drop_pending, Qt.ConnectionType.SingleShotConnection)
        if anchor.is_output:
            result = self.scene.workspace.results().get(anchor.node_id)
            view.open_search(at, accepting(result.value if result is not None else None), source=anchor.node_id)
        else:
            view.open_search(at, target=(anchor.node_id, anchor.port))

    @staticmethod
    def _edge_between(anchor: Port, target: Port) -> Edge | None:
        if anchor.is_output and not target.is_output:
            return Edge(anchor.node_id, target.node_id, target.port)
        if target.is_output and not anchor.is_output:
            return Edge(target.node_id, anchor.node_id, anchor.port)
        return None

    def _draw(self, position: QPointF) -> None:
        start = self.anchor.scene_pos()
        if self.anchor.is_output:
            self.wire.set_ends(start, position)
        else:
            self.wire.set_ends(position, start)

    def _compatible(self, anchor: Port) -> dict[NodeItem, frozenset[str | None]]:
        """Ports a wire from `anchor` could end on without a cycle or a second edge into an input."""
        document = self.scene.document
        edges = document.edges
        if anchor.is_output:
            upstream = document.ancestors(anchor.node_id) | {anchor.node_id}
            # an occupied input counts (dropping there replaces its wire, as node editors do); one fed by this
            # very output already does not
            free = {item: frozenset(name for name in item.inputs
                                    if (edge := edges.get((node_id, name))) is None or edge == self.picked
                                    or edge.source != anchor.node_id)
                    for node_id, item in self.scene.nodes.items() if node_id not in upstream}
            return {item: ports for item, ports in free.items() if ports}
        downstream = document.descendants([anchor.node_id])
        return {item: frozenset([None]) for node_id, item in self.scene.nodes.items() if node_id not in downstream}

    def highlighted_ports(self) -> set[tuple[str, str | None]]:
        """(node id, port) of every port lit up as a possible end of the wire."""
        return {(item.node.id, port) for item in self._highlighted for port in item.highlighted}

    def _highlight(self, ports: dict[NodeItem, frozenset[str | None]]) -> None:
        for item in self._highlighted:
            item.set_highlighted(frozenset())
        for item, names in ports.items():
            item.set_highlighted(names)
        self._highlighted = list(ports)
