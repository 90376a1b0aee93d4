"""The graph document: nodes, edges and settings, changed only through reversible edits.

Every edit is an `Edit` whose `apply(document)` performs it, notifies observers
and returns the edit that undoes it; the UI wraps these in undo commands. A
refused edit raises `EditError` and changes nothing.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from gradstudio.model import limits
from gradstudio.model.catalog import CATALOG, OpSpec
from gradstudio.model.limits import CANVAS_LIMIT, name_key
from gradstudio.model.rules import (
    CYCLE_MESSAGE,
    RESERVED_NAMES,
    EditError,
    canvas_point,
    check_id,
    check_name,
    find_cycle_edge,
)
from gradstudio.model.structure import StructureIndex
from gradstudio.model.train_settings import TrainSettings, TrainSettingsError, checked_setting

# names other modules import from here, where they used to live
__all__ = ["CANVAS_LIMIT", "GRAD_MODES", "RESERVED_NAMES", "EditError", "GraphDocument", "Node", "Edge", "Settings",
           "Edit", "AddNode", "RemoveNode", "Connect", "Disconnect", "SetAttribute", "RenameNode", "MoveNode",
           "SetRetainGrad", "SetSetting", "Batch", "canvas_point", "check_id", "check_name", "find_cycle_edge"]

if TYPE_CHECKING:
    import networkx as nx

    from gradstudio.model.annotations import Annotation

GRAD_MODES = ("normal", "no_grad")


@dataclass
class Node:
    """One node of the graph: an op kind with attributes, a position and a variable name."""

    id: str
    kind: str
    name: str
    attributes: dict[str, Any] = field(default_factory=dict)
    position: tuple[float, float] = (0.0, 0.0)
    retain_grad: bool = False
    port_constants: dict[str, Any] = field(default_factory=dict)  # typed constants on input ports (see port_constants)
    hidden: dict[str, Any] = field(default_factory=dict)  # lesson items hidden from a learner (see lesson)

    @property
    def spec(self) -> OpSpec:
        """The catalog entry of this node's kind."""
        return CATALOG[self.kind]

    def input_ports(self) -> tuple[str, ...]:
        """Names of this node's input ports."""
        return self.spec.input_ports(self.attributes)


@dataclass(frozen=True)
class Edge:
    """The output of `source` feeding input port `port` of `target`."""

    source: str
    target: str
    port: str


@dataclass
class Settings:
    """Document-wide settings: grad mode, the node Backward starts from, training settings and last loss history."""

    grad_mode: str = "normal"
    backward_target: str | None = None
    training: TrainSettings | None = None
    loss_history: tuple[float, ...] = ()


Observer = Callable[[str, Any], None]


class GraphDocument:
    """Nodes, edges, settings and annotations, with observers told of every change."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: dict[tuple[str, str], Edge] = {}
        self.settings = Settings()
        self.annotations: dict[str, Annotation] = {}
        self._observers: list[Observer] = []
        self._ids = itertools.count(1)
        self._structure = StructureIndex(self)

    # ----- observation ----------------------------------------------------------------------------------

    def subscribe(self, observer: Observer) -> Callable[[], None]:
        """Call `observer(event, payload)` on every change; returns an unsubscribe function."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    def notify(self, event: str, payload: Any) -> None:
        """Tell every observer that `event` happened."""
        self._structure.track(event, payload)
        for observer in list(self._observers):
            observer(event, payload)

    # ----- queries --------------------------------------------------------------------------------------

    def node(self, node_id: str) -> Node:
        """The node with `node_id` (EditError if there is none)."""
        try:
            return self.nodes[node_id]
        except (KeyError, TypeError):  # TypeError: an unhashable id from a paste or a script
            raise EditError(f"no node with id {limits.short_repr(node_id)}") from None

    def new_id(self) -> str:
        """An id no node or annotation has."""
        while True:
            candidate = f"n{next(self._ids)}"
            if candidate not in self.nodes and candidate not in self.annotations:
                return candidate

    def new_name(self, base: str) -> str:
        """A valid Python variable name not yet used in the document."""
        base = "".join(c if c.isalnum() or c == "_" else "_" for c in base.lower()) or "v"
        if base[0].isdigit():
            base = f"v{base}"
        base = base[: limits.MAX_NAME_LENGTH - 8]
        names = self._structure.names()
        if name_key(base) not in names and name_key(base) not in RESERVED_NAMES:
            return base
        return next(f"{base}{i}" for i in itertools.count(1) if name_key(f"{base}{i}") not in names)

    def inputs_of(self, node_id: str) -> dict[str, Edge]:
        """The edges into `node_id`, by port."""
        node = self.node(node_id)
        return {port: self.edges[(node_id, port)] for port in node.input_ports() if (node_id, port) in self.edges}

    def edges_from(self, node_id: str) -> list[Edge]:
        """The edges leaving `node_id`."""
        return [edge for edge in self.edges.values() if edge.source == node_id]

    def graph(self) -> nx.DiGraph:
        """The document as a networkx digraph of node ids (a copy, the caller's to change)."""
        import networkx as nx  # noqa: PLC0415 - a tenth of a second to import: only when a caller wants one

        successors, _ = self._structure.adjacency()
        graph = nx.DiGraph()
        graph.add_nodes_from(successors)
        graph.add_edges_from((source, target) for source, targets in successors.items() for target in targets)
        return graph

    def topological_order(self) -> list[str]:
        """Node ids so that every edge goes forward (ties broken by insertion order)."""
        return list(self._structure.topological_order())

    def reaches(self, start: str, end: str) -> bool:
        """True if a path of edges leads from node `start` to node `end`."""
        return start == end or end in self._structure.reachable(start)

    def name_owner(self, name: str) -> str | None:
        """The id of the node whose variable name is `name`, if there is one."""
        return self._structure.owner(name)

    def descendants(self, node_ids: Iterator[str] | list[str]) -> set[str]:
        """The given nodes and every node downstream of them."""
        successors, _ = self._structure.adjacency()
        result: set[str] = set()
        stack = [node_id for node_id in node_ids if node_id in successors]
        result.update(stack)
        while stack:
            for target in successors[stack.pop()]:
                if target not in result:
                    result.add(target)
                    stack.append(target)
        return result

    def ancestors(self, node_id: str) -> set[str]:
        """Every node upstream of `node_id` (not itself)."""
        return self._structure.reachable(node_id, forward=False)

    def apply(self, edit: Edit) -> Edit:
        """Perform `edit`; return the edit that undoes it."""
        return edit.apply(self)

    def state(self) -> tuple:
        """The whole document state as one comparable tuple of the live objects (copy it with `snapshot`)."""
        return list(self.nodes.values()), dict(self.edges), self.settings, list(self.annotations.values())

    def snapshot(self) -> tuple:
        """A comparable copy of the whole document state (undo checks and the saved state compare with it).

        Edges are frozen and most attribute values immutable, so only what could change in place is copied:
        a 5,000-node graph snapshots in milliseconds instead of the most of a second a deep copy takes."""
        nodes = [replace(node, attributes=_copied_values(node.attributes),
                         port_constants=_copied_values(node.port_constants)) for node in self.nodes.values()]
        return (nodes, dict(self.edges), copy.deepcopy(self.settings),
                copy.deepcopy(list(self.annotations.values())))


_IMMUTABLE = (str, int, float, bool, complex, type(None))


def _copied_values(values: dict[str, Any]) -> dict[str, Any]:
    """A copy of an attribute dict: immutable values shared, anything else (lists, arrays) deep-copied."""
    return {name: value if isinstance(value, _IMMUTABLE) or (isinstance(value, tuple) and all(
                isinstance(item, _IMMUTABLE) for item in value)) else copy.deepcopy(value)
            for name, value in values.items()}


# ----- edits ------------------------------------------------------------------------------------------------


class Edit:
    """A reversible change to a document."""

    def apply(self, document: GraphDocument) -> Edit:
        """Perform the change and return its inverse."""
        raise NotImplementedError


@dataclass
class AddNode(Edit):
    """Insert a node (attributes checked, completed from the catalog's defaults), last or at `index`."""

    node: Node
    index: int | None = None

    def apply(self, document: GraphDocument) -> Edit:
        from gradstudio.model.lesson import checked_hidden
        from gradstudio.model.port_constants import checked_port_constants

        # a shallow copy suffices: the attributes dict is rebuilt below from checked, immutable values
        node = replace(self.node)
        if not isinstance(node.kind, str) or node.kind not in CATALOG:
            raise EditError(f"unknown op kind {limits.short_repr(node.kind)}")
        if isinstance(node.id, str) and node.id in document.nodes:
            raise EditError(f"a node with id {node.id!r} already exists")
        check_id(document, node.id)
        check_name(document, node.name, node.id)
        node.position = canvas_point(node.position)
        if not isinstance(node.attributes, dict):
            raise EditError(f"attributes must be a mapping of names to values, got "
                            f"{limits.short_repr(node.attributes)}")
        node.attributes = _checked_attributes(CATALOG[node.kind], node.attributes)
        if not isinstance(node.retain_grad, bool):
            raise EditError(f"retain_grad must be true or false, got {limits.short_repr(node.retain_grad)}")
        node.port_constants = checked_port_constants(node, node.port_constants)
        node.hidden = checked_hidden(node.hidden)
        if self.index is None or self.index >= len(document.nodes):
            document.nodes[node.id] = node
        else:
            # undoing RemoveNode puts the node back in its place: the order breaks topological ties
            entries = list(document.nodes.items())
            entries.insert(self.index, (node.id, node))
            document.nodes.clear()
            document.nodes.update(entries)
        document.notify("node_added", node)
        return RemoveNode(node.id)


def _checked_attributes(spec: OpSpec, given: dict[str, Any]) -> dict[str, Any]:
    """The catalog's defaults overridden by `given`, each value checked and normalised (EditError if not)."""
    from gradstudio.model.validation import check_node_attribute

    attributes = spec.default_attributes()
    for name, value in given.items():
        if name not in attributes:
            raise EditError(f"{spec.kind} nodes have no attribute {name!r}")
        attributes[name] = check_node_attribute(spec.kind, spec.attribute(name), value)
    return attributes


@dataclass
class RemoveNode(Edit):
    """Delete a node and every edge touching it."""

    node_id: str

    def apply(self, document: GraphDocument) -> Edit:
        node = document.node(self.node_id)
        touching = [e for e in document.edges.values() if self.node_id in (e.source, e.target)]
        restore: list[Edit] = [AddNode(copy.deepcopy(node), list(document.nodes).index(self.node_id))]
        for edge in touching:
            restore.append(Disconnect(edge).apply(document))
        settings_edit = None
        if document.settings.backward_target == self.node_id:
            settings_edit = SetSetting("backward_target", None).apply(document)
        del document.nodes[self.node_id]
        document.notify("node_removed", node)
        if settings_edit is not None:
            restore.append(settings_edit)
        return Batch(restore)


@dataclass
class Connect(Edit):
    """Feed the output of `edge.source` into `edge.port` of `edge.target`.

    `check_cycle=False` leaves the (graph-sized) cycle check to the caller: the file reader checks a whole
    load once with `find_cycle_edge` instead of once per edge, which made target-first files quadratic.
    """

    edge: Edge
    check_cycle: bool = True

    def apply(self, document: GraphDocument) -> Edit:
        edge = self.edge
        document.node(edge.source)
        target = document.node(edge.target)
        if edge.port not in target.input_ports():
            raise EditError(f"{target.name} has no input {edge.port!r}")
        if (edge.target, edge.port) in document.edges:
            raise EditError(f"input {edge.port!r} of {target.name} is already connected")
        if edge.source == edge.target or (self.check_cycle and document.reaches(edge.target, edge.source)):
            raise EditError(CYCLE_MESSAGE)
        document.edges[(edge.target, edge.port)] = edge
        document.notify("edge_added", edge)
        return Disconnect(edge)


@dataclass
class Disconnect(Edit):
    """Remove one edge."""

    edge: Edge

    def apply(self, document: GraphDocument) -> Edit:
        if document.edges.get((self.edge.target, self.edge.port)) != self.edge:
            raise EditError("no such connection")
        del document.edges[(self.edge.target, self.edge.port)]
        document.notify("edge_removed", self.edge)
        return Connect(self.edge)


@dataclass
class SetAttribute(Edit):
    """Change one attribute of a node (validated against the catalog)."""

    node_id: str
    name: str
    value: Any

    def apply(self, document: GraphDocument) -> Edit:
        from gradstudio.model.validation import check_node_attribute

        node = document.node(self.node_id)
        spec = node.spec.attribute(self.name) if self.name in node.attributes else None
        if spec is None:
            raise EditError(f"{node.kind} nodes have no attribute {self.name!r}")
        value = check_node_attribute(node.kind, spec, self.value)
        old = node.attributes[self.name]
        dropped = self._edges_dropped_by_port_change(document, node, value)
        node.attributes[self.name] = value
        document.notify("attribute_changed", (node, self.name))
        inverse: Edit = SetAttribute(self.node_id, self.name, old)
        return Batch([inverse, *dropped]) if dropped else inverse

    def _edges_dropped_by_port_change(self, document: GraphDocument, node: Node, value: Any) -> list[Edit]:
        if not node.spec.variadic or self.name != "count":
            return []
        kept = set(node.spec.input_ports({**node.attributes, "count": value}))
        from gradstudio.model.port_constants import drop_vanished_constants

        gone = [e for (target, port), e in document.edges.items() if target == node.id and port not in kept]
        return [Disconnect(edge).apply(document) for edge in gone] + drop_vanished_constants(document, node, kept)


@dataclass
class RenameNode(Edit):
    """Change a node's variable name (must stay a unique Python identifier)."""

    node_id: str
    name: str

    def apply(self, document: GraphDocument) -> Edit:
        node = document.node(self.node_id)
        check_name(document, self.name, self.node_id)
        old, node.name = node.name, self.name
        document.notify("node_renamed", node)
        return RenameNode(self.node_id, old)


@dataclass
class MoveNode(Edit):
    """Place a node at a new canvas position."""

    node_id: str
    position: tuple[float, float]

    def apply(self, document: GraphDocument) -> Edit:
        node = document.node(self.node_id)
        old, node.position = node.position, canvas_point(self.position)
        document.notify("node_moved", node)
        return MoveNode(self.node_id, old)


@dataclass
class SetRetainGrad(Edit):
    """Ask Backward to keep `.grad` on a non-leaf node (`retain_grad()`)."""

    node_id: str
    retain: bool

    def apply(self, document: GraphDocument) -> Edit:
        node = document.node(self.node_id)
        old, node.retain_grad = node.retain_grad, bool(self.retain)
        document.notify("attribute_changed", (node, "retain_grad"))
        return SetRetainGrad(self.node_id, old)


@dataclass
class SetSetting(Edit):
    """Change a document setting (`grad_mode`, `backward_target`, `training` or `loss_history`)."""

    name: str
    value: Any

    def apply(self, document: GraphDocument) -> Edit:
        if self.name == "grad_mode" and self.value not in GRAD_MODES:
            raise EditError(f"grad mode must be one of {', '.join(GRAD_MODES)}")
        if self.name == "backward_target" and self.value is not None:
            document.node(self.value)
        if self.name not in ("grad_mode", "backward_target", "training", "loss_history"):
            raise EditError(f"unknown setting {self.name!r}")
        try:
            value = checked_setting(self.name, self.value)
        except TrainSettingsError as error:
            raise EditError(str(error)) from None
        old = getattr(document.settings, self.name)
        setattr(document.settings, self.name, value)
        document.notify("settings_changed", self.name)
        return SetSetting(self.name, old)


@dataclass
class Batch(Edit):
    """Several edits as one; if one is refused, the earlier ones are undone."""

    edits: list[Edit]

    def apply(self, document: GraphDocument) -> Edit:
        inverses: list[Edit] = []
        try:
            for edit in self.edits:
                inverses.append(edit.apply(document))
        except EditError:
            for inverse in reversed(inverses):
                inverse.apply(document)
            raise
        return Batch(list(reversed(inverses)))
