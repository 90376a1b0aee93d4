"""Building test documents in a line per node."""

from __future__ import annotations

from typing import Any

from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect


def add(document: GraphDocument, node_id: str, kind: str, *inputs: str, **attributes: Any) -> None:
    """Add a node (id = name) and wire `inputs` into its ports in order."""
    document.apply(AddNode(Node(node_id, kind, node_id, attributes)))
    for port, source in zip(document.nodes[node_id].input_ports(), inputs):
        document.apply(Connect(Edge(source, node_id, port)))


def add_notes_chain(document: GraphDocument) -> GraphDocument:
    """The notes' example: x = ones(3, requires_grad=True); y = x + 2; yy = y * y; z = yy * 3; out = z.mean()."""
    add(document, "x", "tensor", shape=(3,), requires_grad=True)
    add(document, "two", "scalar", value=2)
    add(document, "y", "add", "x", "two")
    add(document, "yy", "mul", "y", "y")
    add(document, "three", "scalar", value=3)
    add(document, "z", "mul", "yy", "three")
    add(document, "out", "mean", "z")
    return document
