"""The graph scene: mirrors the document's events into items, and the workspace's values and backward display onto
them; answers what lies where (ports, wires, the selection) and hands the mouse to its tools.

Structure follows the document's events; values and the backward display follow the workspace's `values_changed`
and `backward_changed`; the selection is reported to it. The tools own the gestures: `wires` (wiring.py) the
port-to-port drags, `moves` (moving.py) dragging nodes and notes, `face_scrub` (scrubbing.py) the drag on a
leaf's value. Which label each wire shows is wire_labels.py's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsSceneHelpEvent, QGraphicsSceneMouseEvent, QToolTip

from gradstudio.model.annotations import Annotation
from gradstudio.model.collector import collection_paused
from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.flow_view import FlowView, kept_view
from gradstudio.model.formulas import edge_formula
from gradstudio.ui.canvas.annotation_items import AnnotationItem
from gradstudio.ui.canvas.edge_items import EdgeItem
from gradstudio.ui.canvas.highlight import CanvasHighlight
from gradstudio.ui.canvas.items import NodeItem, Port
from gradstudio.ui.canvas.moving import MoveTool
from gradstudio.ui.canvas.node_geometry import PORT_RADIUS
from gradstudio.ui.canvas.scrubbing import FaceScrub
from gradstudio.ui.canvas.wire_labels import label_wires, shape_label
from gradstudio.ui.canvas.wiring import WireTool
from gradstudio.ui.edit.editor import Editor
from gradstudio.ui.themes import LIGHT, Theme
from gradstudio.ui.workspace import Workspace


class GraphScene(QGraphicsScene):
    """Items for every node, edge and annotation of one document, kept in step with its events.

    Nothing may connect to QGraphicsScene's `changed`: while it has a receiver, Qt repaints every updated item whole
    (its partial updates widened to the item) and lists every changed rectangle to Python. Listen to these instead.
    """

    emptiness_changed = Signal()  # the first node or note arrived, or the last one left
    restyled = Signal()  # the theme or the version badges changed: every item looks different

    def __init__(self, workspace: Workspace, theme: Theme = LIGHT) -> None:
        super().__init__()
        self.workspace = workspace
        self.editor: Editor = workspace.editor
        self.document: GraphDocument = workspace.document
        self.theme = theme
        self.snap_to_grid = False
        self.show_versions = False  # node faces show their tensor's version counter (View > Show Versions)
        self.exporting = False  # drawing into an image: items leave out their interactive chrome
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[tuple[str, str], EdgeItem] = {}
        self.annotations: dict[str, AnnotationItem] = {}
        self.edges_of: dict[str, set[tuple[str, str]]] = {}  # node id -> keys of the edges in and out of it
        self.flow_shown: FlowView | None = None  # the backward display shown: broadcast markers say how it summed
        self.on_screen: tuple[QRectF, float] | None = None  # while values refresh: what the view shows, its zoom
        self.wires = WireTool(self)
        self.moves = MoveTool(self)
        self.face_scrub = FaceScrub(self)
        self._build()
        self.highlight = CanvasHighlight(self.nodes, self.edges, workspace.name_of, workspace.lesson.masks)
        self._unsubscribe = self.document.subscribe(self._on_event)
        workspace.values_changed.connect(self.refresh_values)
        workspace.backward_changed.connect(self.show_backward)
        workspace.lesson_changed.connect(self.show_lesson)
        self.selectionChanged.connect(self._report_selection)

    def close(self) -> None:
        """Stop observing the document and stop signalling (the window is switching documents or closing)."""
        self._unsubscribe()
        self.face_scrub.close()
        self.blockSignals(True)
        for signal, slot in ((self.workspace.values_changed, self.refresh_values),
                             (self.workspace.backward_changed, self.show_backward),
                             (self.workspace.lesson_changed, self.show_lesson)):
            signal.disconnect(slot)

    def is_empty(self) -> bool:
        """True when the graph has no node and no annotation (the canvas shows its hint); asked on every paint,
        so it reads the item tables instead of listing the scene's items."""
        return not self.nodes and not self.annotations

    def _report_selection(self) -> None:
        self.workspace.set_selection(self.selected_node_ids())

    def _build(self) -> None:
        with collection_paused():
            self._build_items()

    def _build_items(self) -> None:
        results = self.workspace.results()
        for node in self.document.nodes.values():
            self._add_node(node, results.get(node.id))
        for edge in self.document.edges.values():
            self._add_edge(edge, labelled=False)
        for source in {edge.source for edge in self.document.edges.values()}:
            if self.nodes[source].result is not None:  # no value yet (a large graph is evaluated later): no label
                label_wires(self, source)  # once per source, not once per edge
        for annotation in self.document.annotations.values():
            self._add_annotation(annotation)

    # ----- mirroring model events ------------------------------------------------------------------------------

    def _on_event(self, event: str, payload: Any) -> None:
        handler = getattr(self, f"_on_{event}", None)
        if handler is not None:
            handler(payload)

    def _on_node_added(self, node: Node) -> None:
        self._add_node(node, None)
        self._tell_emptiness(len(self.nodes) == 1 and not self.annotations)

    def _on_node_removed(self, node: Node) -> None:
        self.wires.forget(node_id=node.id)
        self.edges_of.pop(node.id, None)
        item = self.nodes.pop(node.id)
        self.moves.forget(item)
        self.removeItem(item)
        self._tell_emptiness(self.is_empty())

    def _tell_emptiness(self, changed: bool) -> None:
        if changed:
            self.emptiness_changed.emit()

    def _on_edge_added(self, edge: Edge) -> None:
        self._add_edge(edge)
        self.nodes[edge.target].update()

    def _on_edge_removed(self, edge: Edge) -> None:
        self.wires.forget(edge=edge)
        key = (edge.target, edge.port)
        item = self.edges.pop(key)
        self.moves.forget(item)
        item.drop_marker()
        self.removeItem(item)
        for node_id in (edge.source, edge.target):
            self.edges_of[node_id].discard(key)
        self.nodes[edge.target].update()

    def _on_attribute_changed(self, payload: tuple[Node, str]) -> None:
        item = self.nodes[payload[0].id]
        if item.sync_ports():  # the anchors moved
            self._update_edges(item.node.id)
        item.refresh_face()

    def _on_node_renamed(self, node: Node) -> None:
        self.nodes[node.id].update()
        for item in self.nodes.values():
            if item.result is not None and item.result.blocked_by == node.id:
                item.set_result(item.result)  # its preview names the renamed node
        if self.workspace.flow is not None:
            self.highlight.show(self.workspace.flow)  # badges name the node

    def _on_node_moved(self, node: Node) -> None:
        self.moves.place(self.nodes[node.id], node.position)

    def _on_annotation_added(self, annotation: Annotation) -> None:
        self._add_annotation(annotation)
        self._tell_emptiness(len(self.annotations) == 1 and not self.nodes)

    def _on_annotation_removed(self, annotation: Annotation) -> None:
        item = self.annotations.pop(annotation.id)
        self.moves.forget(item)
        self.removeItem(item)
        self._tell_emptiness(self.is_empty())

    def _on_annotation_changed(self, annotation: Annotation) -> None:
        self.annotations[annotation.id].sync()

    def _on_annotation_moved(self, annotation: Annotation) -> None:
        self.moves.place(self.annotations[annotation.id], annotation.position)

    def _add_node(self, node: Node, result: Any) -> None:
        item = NodeItem(node, result)
        self.nodes[node.id] = item
        self.addItem(item)

    def _add_edge(self, edge: Edge, labelled: bool = True) -> None:
        key = (edge.target, edge.port)
        item = EdgeItem(edge)
        self.edges[key] = item
        self.edges_of.setdefault(edge.source, set()).add(key)
        self.edges_of.setdefault(edge.target, set()).add(key)
        if labelled:
            self._set_edge_ends(item)
        else:  # building: every node stands where the model says, so its anchors are plain arithmetic
            source, target = self.nodes[edge.source], self.nodes[edge.target]
            item.set_end_coordinates(*source.anchor_coordinates(None, *source.node.position),
                                     *target.anchor_coordinates(edge.port, *target.node.position), placed=False)
        self.addItem(item)
        if labelled:
            label_wires(self, edge.source)

    def _add_annotation(self, annotation: Annotation) -> None:
        item = AnnotationItem.create(annotation)
        self.annotations[annotation.id] = item
        self.addItem(item)

    def _set_edge_ends(self, item: EdgeItem) -> None:
        edge = item.edge
        item.set_ends(self.nodes[edge.source].output_anchor(), self.nodes[edge.target].input_anchor(edge.port))

    def _update_edges(self, node_id: str) -> None:
        for key in self.edges_of.get(node_id, ()):
            self._set_edge_ends(self.edges[key])

    def item_moved(self, item: QGraphicsItem) -> None:
        """A node or annotation moved: drag its edges along, and tell the move tool (a user drag commits on release)."""
        if isinstance(item, NodeItem):
            self._update_edges(item.node.id)
        self.moves.moved(item)

    # ----- values ----------------------------------------------------------------------------------------------

    def refresh_values(self) -> None:
        """Give every node whose result changed its new result, and show again a leaf whose tensor changed in
        place (a training run's parameters)."""
        results = self.workspace.results()
        self.on_screen = self._view_extent()
        try:
            for node_id, item in self.nodes.items():
                result = results.get(node_id)
                if result is item.result and not item.inputs and item.changed_in_place():
                    item.set_result(result)
                elif result is not item.result:
                    item.set_result(result)
                    if shape_label(result) != item.wire_label:  # a new value of the same shape: its wires' labels stand
                        label_wires(self, node_id)
                        for edge in self.document.inputs_of(node_id).values():  # a broadcast depends on the output
                            label_wires(self, edge.source)
        finally:
            self.on_screen = None
        if self.flow_shown is None:
            self._show_kept_grads()  # a node recomputed afresh lost its .grad; the others keep theirs

    def _view_extent(self) -> tuple[QRectF, float] | None:
        """The scene rectangle the one view shows and its zoom; None with no view or several (faces repaint whole)."""
        views = self.views()
        if len(views) != 1 or not views[0].isVisible():
            return None
        view = views[0]
        return view.mapToScene(view.viewport().rect()).boundingRect(), view.transform().m11()

    def show_backward(self, flow: FlowView | None) -> None:
        """Paint a backward pass (or one step of it) on the items; None takes it off."""
        if flow is None:
            self.highlight.clear()
            self._show_kept_grads()
        else:
            self.highlight.lazy_tips = self.workspace.scrub.active
            self.highlight.show(flow)
        self.flow_shown = flow
        for source in {item.edge.source for item in self.edges.values() if item.broadcast}:
            label_wires(self, source)

    def _show_kept_grads(self) -> None:
        """With no pass shown, badge the `.grad`s an earlier Backward left (the values panel shows them too)."""
        self.highlight.show_badges(kept_view(self.workspace.model.evaluator))

    def edge_tooltip(self, edge: Edge) -> str | None:
        """The formula of the gradient the shown Backward sent along `edge`, with its numbers; None before."""
        backward = self.workspace.backward_result
        if backward is None or self.flow_shown is None or (edge.target, edge.port) not in self.flow_shown.edge_grads:
            return None
        # the results as they are (a pass is shown only while they are current): a hover never evaluates
        formula = edge_formula(self.document, self.workspace.model.evaluator.results, backward, edge)
        return formula.text if formula is not None else None

    def helpEvent(self, event: QGraphicsSceneHelpEvent) -> None:
        # computed when asked, for the one wire under the mouse: no formula is built for wires nobody hovers
        edge = self.edge_at(event.scenePos())
        text = self.edge_tooltip(edge) if edge is not None else None
        if text is None:
            for item in self.items(event.scenePos()):
                if isinstance(item, EdgeItem):
                    item.toolTip()  # a tip left to write when asked (set_tip) is written before Qt reads it
            super().helpEvent(event)
            return
        QToolTip.showText(event.screenPos(), text, event.widget())
        event.accept()

    def set_show_versions(self, on: bool) -> None:
        """Show (or hide) the version badge on every node face."""
        self.show_versions = on
        for item in self.nodes.values():
            item.update()
        self.restyled.emit()

    def show_lesson(self) -> None:
        """Repaint what a lesson hides or reveals: the faces' values and tags, and the gradient badges."""
        for item in self.nodes.values():
            item.set_result(item.result)
        if self.workspace.flow is not None:
            self.highlight.show(self.workspace.flow)
        else:
            self._show_kept_grads()

    def set_theme(self, theme: Theme) -> None:
        """Repaint everything in another colour theme."""
        self.theme = theme
        for item in self.items():
            mode = item.cacheMode()
            if mode != QGraphicsItem.CacheMode.NoCache:  # a cached face would keep the old colours on some displays
                item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
                item.setCacheMode(mode)
            item.update()
        self.restyled.emit()

    # ----- queries ---------------------------------------------------------------------------------------------

    def edge_at(self, point: QPointF) -> Edge | None:
        """The edge drawn under a scene point, if any."""
        return next((item.edge for item in self.items(point) if isinstance(item, EdgeItem)), None)

    def port_at(self, position: QPointF) -> Port | None:
        """The port under a scene position (with a few pixels of slack), if any."""
        slack = PORT_RADIUS + 4
        area = QRectF(position.x() - slack, position.y() - slack, 2 * slack, 2 * slack)
        for item in self.items(area):
            if isinstance(item, NodeItem):
                port = item.port_at(item.mapFromScene(position))
                if port is not None:
                    return port
        return None

    def selected_node_ids(self) -> list[str]:
        """Ids of the selected nodes, in document order."""
        return [node_id for node_id, item in self.nodes.items() if item.isSelected()]

    def selected_edges(self) -> list[Edge]:
        """The selected edges."""
        return [item.edge for item in self.edges.values() if item.isSelected()]

    def selected_annotation_ids(self) -> list[str]:
        """Ids of the selected notes and frames."""
        return [key for key, item in self.annotations.items() if item.isSelected()]

    def select(self, ids: Iterable[str]) -> None:
        """Select exactly the nodes and annotations with these ids."""
        wanted = set(ids)
        self.clearSelection()
        for key, item in [*self.nodes.items(), *self.annotations.items()]:
            if key in wanted:
                item.setSelected(True)

    def enclosed(self, rect: QRectF) -> list[QGraphicsItem]:
        """Nodes and annotations lying wholly inside a scene rectangle (what a frame carries)."""
        return [item for item in self.items(rect) if isinstance(item, (NodeItem, AnnotationItem))
                and rect.contains(item.sceneBoundingRect().adjusted(2, 2, -2, -2))]

    # ----- mouse: wiring first, then Qt's selection and moving --------------------------------------------------

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self.wires.press(event):
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self.wires.move(event):
            return
        super().mouseMoveEvent(event)
        self.moves.follow(event.scenePos())

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self.wires.release(event):
            return
        super().mouseReleaseEvent(event)
        self.moves.commit(event.scenePos())

