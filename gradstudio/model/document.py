"""The graph document: its nodes, edges, settings and annotations, and the queries on them.

The data and what can be asked of it live here (ids, names, inputs, order, reachability, snapshots);
the only ways to change it are the reversible `Edit`s of `edits.py`, which tell the document's observers
(`notify`). A refused edit raises `EditError` and changes nothing.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from gradstudio.model import limits
from gradstudio.model.catalog import CATALOG
from gradstudio.model.limits import CANVAS_LIMIT, name_key
from gradstudio.model.op_spec import OpSpec
from gradstudio.model.rules import (
    RESERVED_NAMES,
    EditError,
    canvas_point,
    check_id,
    check_name,
    find_cycle_edge,
)
from gradstudio.model.structure import StructureIndex
from gradstudio.model.train_settings import TrainSettings

# names other modules import from here, where they used to live (the edits are in edits.py)
__all__ = ["CANVAS_LIMIT", "GRAD_MODES", "RESERVED_NAMES", "EditError", "GraphDocument", "Node", "Edge", "Settings",
           "canvas_point", "check_id", "check_name", "find_cycle_edge"]

if TYPE_CHECKING:
    import networkx as nx

    from gradstudio.model.annotations import Annotation
    from gradstudio.model.edits import Edit

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
