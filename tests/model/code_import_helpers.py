"""Shared by the code-import tests: the seed notes' blocks and a structural comparison of documents."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from gradstudio.model.document import GraphDocument
from gradstudio.model.grad_regions import node_modes
from gradstudio.model.io.code_import import plan_import, read_source

ROOT = Path(__file__).resolve().parents[2]
NOTES = ROOT / "resources" / "notes" / "pytorch_autograd_notes.md"
SEED = Path("/work/shared/seed/000_122b4979a9a6ffb8.txt")
EXAMPLES = ROOT / "resources" / "examples"


def notes_blocks() -> list[str]:
    """The code of each fenced Python block of the notes, in order."""
    return [block.code for block in read_source(NOTES).blocks]


def imported(code: str, document: GraphDocument | None = None) -> GraphDocument:
    """`code` imported into `document` (a new one by default), applied."""
    document = document if document is not None else GraphDocument()
    document.apply(plan_import(document, code).edit())
    return document


def structure(document: GraphDocument, targets: bool = True) -> nx.MultiDiGraph:
    """Nodes by kind, attributes and grad-mode region, edges by port: what a graph computes, without ids, names or
    positions."""
    graph = nx.MultiDiGraph()
    modes = node_modes(document)
    for node in document.nodes.values():
        attributes = {key: _plain(value) for key, value in node.attributes.items()}
        target = targets and document.settings.backward_target == node.id
        graph.add_node(node.id, label=(node.kind, repr(sorted(attributes.items())), node.retain_grad, target,
                                      op_mode(document, node.id, modes)))
    for edge in document.edges.values():
        graph.add_edge(edge.source, edge.target, port=edge.port)
    return graph


def op_mode(document: GraphDocument, node_id: str, modes: dict[str, str]) -> str:
    """The region mode an op node computes under; constants placed in or beside a region compare alike."""
    return modes.get(node_id, "none") if document.inputs_of(node_id) else "none"


def _plain(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return tuple(_plain(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def same_structure(first: GraphDocument, second: GraphDocument) -> bool:
    """True if both documents hold the same ops, attributes, edges (by port) and backward target (where both have
    one: an example names a target the code it stands for never runs backward from)."""
    targets = bool(first.settings.backward_target and second.settings.backward_target)
    return nx.is_isomorphic(structure(first, targets), structure(second, targets),
                            node_match=lambda a, b: a["label"] == b["label"],
                            edge_match=lambda a, b: sorted(e["port"] for e in a.values())
                            == sorted(e["port"] for e in b.values()))
