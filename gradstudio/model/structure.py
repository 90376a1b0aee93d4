"""A document's structure kept indexed: its adjacency, its topological order and its variable names.

The document hands every change event to `StructureIndex.track` before any observer hears it, so the
index is current when an observer (the evaluator) asks for descendants. The graph is updated edge by
edge instead of being rebuilt, and the topological order is cached until the structure changes, so an
edit or a file load costs time in proportion to what changed, not to the size of the graph. The adjacency
is plain dicts (networkx costs a tenth of a second to import, before the first window can show); callers
that want a networkx graph ask the document's `graph()`, which builds one from this index.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from gradstudio.model.limits import name_key

if TYPE_CHECKING:
    from gradstudio.model.document import GraphDocument

# how each structural event changes (node count, edge count); it tells whether the index was in step before it
_SIZE_CHANGE = {"node_added": (1, 0), "node_removed": (-1, 0), "edge_added": (0, 1), "edge_removed": (0, -1)}


class StructureIndex:
    """The graph, topological order and name lookup of one document, updated from its change events."""

    def __init__(self, document: GraphDocument) -> None:
        self._document = document
        self._successors: dict[str, dict[str, None]] = {}
        self._predecessors: dict[str, dict[str, None]] = {}
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
        self._successors = {node_id: {} for node_id in document.nodes}
        self._predecessors = {node_id: {} for node_id in document.nodes}
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
        self._successors.setdefault(source, {})[target] = None
        self._predecessors.setdefault(target, {})[source] = None
        self._successors.setdefault(target, {})
        self._predecessors.setdefault(source, {})

    def _unlink(self, source: str, target: str) -> None:
        key = (source, target)
        self._parallel[key] -= 1
        if not self._parallel[key]:
            del self._parallel[key]
            del self._successors[source][target]
            del self._predecessors[target][source]

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
            self._successors.setdefault(payload.id, {})
            self._predecessors.setdefault(payload.id, {})
            self._rename(payload.id, payload.name)
        elif event == "node_removed":
            self._remove_node(payload.id)
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

    def _remove_node(self, node_id: str) -> None:
        for target in self._successors.pop(node_id, {}):
            self._predecessors[target].pop(node_id, None)
            self._parallel.pop((node_id, target), None)
        for source in self._predecessors.pop(node_id, {}):
            self._successors[source].pop(node_id, None)
            self._parallel.pop((source, node_id), None)

    def successors(self, node_id: str) -> Iterable[str]:
        """The nodes an edge from `node_id` reaches (each once); read them, never change them."""
        return self._current()._successors.get(node_id, {})

    def predecessors(self, node_id: str) -> Iterable[str]:
        """The nodes with an edge into `node_id` (each once); read them, never change them."""
        return self._current()._predecessors.get(node_id, {})

    def adjacency(self) -> tuple[dict[str, dict[str, None]], dict[str, dict[str, None]]]:
        """The live successor and predecessor maps (node id -> node ids); read them, never change them."""
        self._current()
        return self._successors, self._predecessors

    def reachable(self, start: str, forward: bool = True) -> set[str]:
        """Every node a path leads to from `start` (or, not `forward`, from which one leads to it), not itself."""
        links = self._current()._successors if forward else self._predecessors
        return reachable_from(links, start)

    def topological_order(self) -> list[str]:
        """Node ids so that every edge goes forward, ties broken by the document's node order (cached)."""
        self._current()
        if self._order is None:
            position = {node_id: index for index, node_id in enumerate(self._document.nodes)}
            successors, predecessors = self._with_in_place_order()
            self._order = topological_sort(successors, predecessors, position.__getitem__)
        return self._order

    def _with_in_place_order(self) -> tuple[dict[str, dict[str, None]], dict[str, dict[str, None]]]:
        """The adjacency, plus: an in-place op runs after every other reader of the tensor it changes.

        A reader wired to the changed tensor's node reads it before the change (as code written before
        `b.mul_(2)` does); to read it after, wire from the in-place node. Readers downstream of the op
        (which must run after it anyway) and a second in-place op already ordered after it are left alone.
        """
        writers = [(node_id, edge.source) for node_id, node in self._document.nodes.items()
                   if node.spec.modifies is not None
                   and (edge := self._document.edges.get((node_id, node.spec.modifies))) is not None]
        if not writers:
            return self._successors, self._predecessors
        successors = {node_id: dict(targets) for node_id, targets in self._successors.items()}
        predecessors = {node_id: dict(sources) for node_id, sources in self._predecessors.items()}
        for writer, source in writers:
            for reader in list(self._successors.get(source, {})):
                if reader != writer and reader not in reachable_from(successors, writer):
                    successors[reader][writer] = None
                    predecessors[writer][reader] = None
        return successors, predecessors

    def owner(self, name: str) -> str | None:
        """The id of the node named `name` (compared as Python compares identifiers, NFKC), if any."""
        return self._current()._owners.get(name_key(name))

    def names(self) -> set[str]:
        """Every variable name in use, in NFKC form (as Python identifiers compare)."""
        return set(self._current()._owners)


def topological_sort(successors: dict[str, dict[str, None]], predecessors: dict[str, dict[str, None]],
                     key: Callable[[str], int]) -> list[str]:
    """Kahn's order that always takes the ready node of the smallest `key` (networkx's lexicographical order);
    raises ValueError on a cycle."""
    waiting = {node_id: len(sources) for node_id, sources in predecessors.items()}
    ready = [(key(node_id), node_id) for node_id, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, node_id = heapq.heappop(ready)
        order.append(node_id)
        for target in successors[node_id]:
            waiting[target] -= 1
            if waiting[target] == 0:
                heapq.heappush(ready, (key(target), target))
    if len(order) != len(waiting):
        raise ValueError("the graph has a cycle")
    return order


def is_acyclic(pairs: Iterable[tuple[str, str]]) -> bool:
    """True when the directed edges (source, target) close no cycle."""
    successors: dict[str, dict[str, None]] = {}
    predecessors: dict[str, dict[str, None]] = {}
    for source, target in pairs:
        for node_id in (source, target):
            successors.setdefault(node_id, {})
            predecessors.setdefault(node_id, {})
        successors[source][target] = None
        predecessors[target][source] = None
    order = {node_id: index for index, node_id in enumerate(successors)}
    try:
        topological_sort(successors, predecessors, order.__getitem__)
    except ValueError:
        return False
    return True


def reachable_from(links: dict[str, dict[str, None]], start: str) -> set[str]:
    """Every node the `links` (node id -> neighbours) lead to from `start`, not `start` itself."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        for neighbour in links.get(stack.pop(), ()):
            if neighbour not in seen:
                seen.add(neighbour)
                stack.append(neighbour)
    seen.discard(start)
    return seen
