"""A document's structure kept indexed: its networkx graph, its topological order and its variable names.

The document hands every change event to `StructureIndex.track` before any observer hears it, so the
index is current when an observer (the evaluator) asks for descendants. The graph is updated edge by
edge instead of being rebuilt, and the topological order is cached until the structure changes, so an
edit or a file load costs time in proportion to what changed, not to the size of the graph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import networkx as nx

from gradstudio.model.limits import name_key

if TYPE_CHECKING:
    from gradstudio.model.document import GraphDocument

# how each structural event changes (node count, edge count); it tells whether the index was in step before it
_SIZE_CHANGE = {"node_added": (1, 0), "node_removed": (-1, 0), "edge_added": (0, 1), "edge_removed": (0, -1)}


class StructureIndex:
    """The graph, topological order and name lookup of one document, updated from its change events."""

    def __init__(self, document: GraphDocument) -> None:
        self._document = document
        self._graph = nx.DiGraph()
        self._parallel: dict[tuple[str, str], int] = {}
        self._owners: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._order: list[str] | None = None
        self._sizes = (-1, -1)

    def _current_sizes(self) -> tuple[int, int]:
        return len(self._document.nodes), len(self._document.edges)

    def _rebuild(self) -> None:
        """Index the document from scratch (also what happens after someone changed its dicts directly)."""
        document = self._document
        self._graph = nx.DiGraph()
        self._graph.add_nodes_from(document.nodes)
        self._parallel = {}
        for edge in document.edges.values():
            self._link(edge.source, edge.target)
        self._names = {node_id: node.name for node_id, node in document.nodes.items()}
        self._owners = {name_key(name): node_id for node_id, name in self._names.items()}
        self._order = None
        self._sizes = self._current_sizes()

    def _current(self) -> StructureIndex:
        if self._sizes != self._current_sizes():
            self._rebuild()
        return self

    def _link(self, source: str, target: str) -> None:
        key = (source, target)
        self._parallel[key] = self._parallel.get(key, 0) + 1
        self._graph.add_edge(source, target)

    def _unlink(self, source: str, target: str) -> None:
        key = (source, target)
        self._parallel[key] -= 1
        if not self._parallel[key]:
            del self._parallel[key]
            self._graph.remove_edge(source, target)

    def _rename(self, node_id: str, name: str | None) -> None:
        old = self._names.pop(node_id, None)
        if old is not None and self._owners.get(name_key(old)) == node_id:
            del self._owners[name_key(old)]
        if name is not None:
            self._names[node_id] = name
            self._owners[name_key(name)] = node_id

    def track(self, event: str, payload: Any) -> None:
        """Bring the index up to date with one change the document just made."""
        nodes, edges = self._current_sizes()
        node_change, edge_change = _SIZE_CHANGE.get(event, (0, 0))
        if self._sizes != (nodes - node_change, edges - edge_change):
            self._rebuild()
            return
        if event == "node_added":
            self._graph.add_node(payload.id)
            self._rename(payload.id, payload.name)
        elif event == "node_removed":
            self._graph.remove_node(payload.id)
            self._rename(payload.id, None)
        elif event == "edge_added":
            self._link(payload.source, payload.target)
        elif event == "edge_removed":
            self._unlink(payload.source, payload.target)
        elif event == "node_renamed":
            self._rename(payload.id, payload.name)
        if event in _SIZE_CHANGE:
            self._order = None
        self._sizes = (nodes, edges)

    @property
    def graph(self) -> nx.DiGraph:
        """The live graph (node ids, one edge per connected pair); read it, never change it."""
        return self._current()._graph

    def topological_order(self) -> list[str]:
        """Node ids so that every edge goes forward, ties broken by the document's node order (cached)."""
        self._current()
        if self._order is None:
            position = {node_id: index for index, node_id in enumerate(self._document.nodes)}
            graph = self._with_in_place_order()
            self._order = list(nx.lexicographical_topological_sort(graph, key=position.__getitem__))
        return self._order

    def _with_in_place_order(self) -> nx.DiGraph:
        """The graph, plus: an in-place op runs after every other reader of the tensor it changes.

        A reader wired to the changed tensor's node reads it before the change (as code written before
        `b.mul_(2)` does); to read it after, wire from the in-place node. Readers downstream of the op
        (which must run after it anyway) and a second in-place op already ordered after it are left alone.
        """
        writers = [(node_id, edge.source) for node_id, node in self._document.nodes.items()
                   if node.spec.modifies is not None
                   and (edge := self._document.edges.get((node_id, node.spec.modifies))) is not None]
        if not writers:
            return self._graph
        graph = self._graph.copy()
        for writer, source in writers:
            for reader in list(self._graph.successors(source)):
                if reader != writer and not nx.has_path(graph, writer, reader):
                    graph.add_edge(reader, writer)
        return graph

    def owner(self, name: str) -> str | None:
        """The id of the node named `name` (compared as Python compares identifiers, NFKC), if any."""
        return self._current()._owners.get(name_key(name))

    def names(self) -> set[str]:
        """Every variable name in use, in NFKC form (as Python identifiers compare)."""
        return set(self._current()._owners)
