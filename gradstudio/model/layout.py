"""Automatic layout: columns by topological depth, rows ordered to reduce edge crossings.

A layered (Sugiyama-style) layout, small enough to read: each node's column is
its longest-path depth from the sources, and a few barycenter sweeps order
each column by the mean row of its neighbours in the adjacent column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import networkx as nx

from gradstudio.model.document import GraphDocument

SWEEPS = 4


def layers(graph: nx.DiGraph) -> list[list[str]]:
    """Nodes grouped by longest-path depth from the sources (a node sits right of all its inputs)."""
    depth: dict[str, int] = {}
    for node in nx.topological_sort(graph):
        depth[node] = max((depth[p] + 1 for p in graph.predecessors(node)), default=0)
    columns: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node in graph:
        columns[depth[node]].append(node)
    return columns


def _barycenter(node: str, neighbours: Iterable[str], rank: Mapping[str, float], fallback: float) -> float:
    ranks = [rank[other] for other in neighbours if other in rank]
    return sum(ranks) / len(ranks) if ranks else fallback


def order_layers(graph: nx.DiGraph, columns: list[list[str]]) -> list[list[str]]:
    """Reorder each column by the barycenter of its neighbours, sweeping right then left."""
    columns = [list(column) for column in columns]
    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        indices = range(1, len(columns)) if forward else range(len(columns) - 2, -1, -1)
        for index in indices:
            fixed = columns[index - 1] if forward else columns[index + 1]
            rank = {node: position for position, node in enumerate(fixed)}
            neighbours = graph.predecessors if forward else graph.successors
            current = {node: position for position, node in enumerate(columns[index])}
            columns[index].sort(key=lambda n: (_barycenter(n, neighbours(n), rank, current[n]), current[n]))
    return columns


def crossings(graph: nx.DiGraph, columns: list[list[str]]) -> int:
    """How many pairs of edges between adjacent columns cross."""
    rank = {node: position for column in columns for position, node in enumerate(column)}
    column_of = {node: index for index, column in enumerate(columns) for node in column}
    by_column: dict[int, list[tuple[int, int]]] = {}
    for u, v in graph.edges:
        if column_of[v] == column_of[u] + 1:
            by_column.setdefault(column_of[u], []).append((rank[u], rank[v]))
    return sum(1 for spans in by_column.values() for i, a in enumerate(spans) for b in spans[i + 1:]
               if (a[0] - b[0]) * (a[1] - b[1]) < 0)


def layered_positions(document: GraphDocument, node_ids: Iterable[str] | None = None,
                      sizes: Mapping[str, tuple[float, float]] | None = None,
                      gap: tuple[float, float] = (80.0, 40.0)) -> dict[str, tuple[float, float]]:
    """New positions for `node_ids` (default: all), laid out from their current top-left corner.

    `sizes` gives each node's drawn width and height (the model does not know them);
    `gap` is the space between columns and between rows.
    """
    chosen = list(document.nodes if node_ids is None else node_ids)
    if not chosen:
        return {}
    graph = document.graph().subgraph(chosen).copy()
    sizes = sizes or {}
    initial = {n: document.nodes[n].position for n in chosen}
    columns = [sorted(column, key=lambda n: (initial[n][1], initial[n][0])) for column in layers(graph)]
    columns = order_layers(graph, columns)
    origin_x = min(x for x, _ in initial.values())
    origin_y = min(y for _, y in initial.values())
    width = {n: sizes.get(n, (160.0, 80.0))[0] for n in chosen}
    height = {n: sizes.get(n, (160.0, 80.0))[1] for n in chosen}
    heights = [sum(height[n] for n in column) + gap[1] * (len(column) - 1) for column in columns]
    tallest = max(heights)
    positions: dict[str, tuple[float, float]] = {}
    x = origin_x
    for column, column_height in zip(columns, heights):
        y = origin_y + (tallest - column_height) / 2
        for node in column:
            positions[node] = (float(x), float(y))
            y += height[node] + gap[1]
        x += max(width[n] for n in column) + gap[0]
    return positions
