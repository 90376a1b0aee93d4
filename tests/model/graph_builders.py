"""Building test documents in a line per node."""

from __future__ import annotations

from typing import Any

from gradstudio.model.document import AddNode, Connect, Edge, GraphDocument, Node


def add(document: GraphDocument, node_id: str, kind: str, *inputs: str, **attributes: Any) -> None:
    """Add a node (id = name) and wire `inputs` into its ports in order."""
    document.apply(AddNode(Node(node_id, kind, node_id, attributes)))
    for port, source in zip(document.nodes[node_id].input_ports(), inputs):
        document.apply(Connect(Edge(source, node_id, port)))
