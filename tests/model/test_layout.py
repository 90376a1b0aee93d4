"""Auto-layout: columns by topological depth, few crossings, laid out from the current corner."""

from __future__ import annotations

import networkx as nx

from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect
from gradstudio.model.layout import crossings, layered_positions, layers, order_layers


def chain_document() -> GraphDocument:
    """x, y -> a = x + y -> b = a * x, placed in a jumble."""
    document = GraphDocument()
    for index, (node_id, kind) in enumerate([("b", "mul"), ("x", "tensor"), ("a", "add"), ("y", "tensor")]):
        document.apply(AddNode(Node(node_id, kind, node_id, position=(100.0 * (3 - index), 50.0 * index))))
    for edge in [Edge("x", "a", "a"), Edge("y", "a", "b"), Edge("a", "b", "a"), Edge("x", "b", "b")]:
        document.apply(Connect(edge))
    return document


def test_every_edge_points_right() -> None:
    document = chain_document()
    positions = layered_positions(document)
    for edge in document.edges.values():
        assert positions[edge.source][0] < positions[edge.target][0]


def test_layout_starts_at_the_current_corner_and_columns_do_not_overlap() -> None:
    document = chain_document()
    positions = layered_positions(document, sizes={n: (150.0, 90.0) for n in document.nodes}, gap=(50.0, 20.0))
    xs = sorted({x for x, _ in positions.values()})
    assert xs == [0.0, 200.0, 400.0]
    assert min(y for _, y in positions.values()) == 0.0
    column = sorted(y for x, y in positions.values() if x == 0.0)
    assert column[1] - column[0] == 110.0


def test_selection_only_moves_the_selection() -> None:
    document = chain_document()
    assert set(layered_positions(document, ["a", "b"])) == {"a", "b"}
    assert layered_positions(document, []) == {}


def test_barycenter_pass_removes_crossings() -> None:
    graph = nx.DiGraph([("a", "y"), ("b", "x"), ("c", "z")])
    columns = [["a", "b", "c"], ["x", "y", "z"]]
    assert crossings(graph, columns) == 1
    assert crossings(graph, order_layers(graph, columns)) == 0


def test_layers_are_longest_path_depths() -> None:
    graph = nx.DiGraph([("x", "a"), ("a", "b"), ("x", "b")])
    assert layers(graph) == [["x"], ["a"], ["b"]]
