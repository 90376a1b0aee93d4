"""A document frozen at one moment, taken in milliseconds, for writing it on another thread (autosave).

Edits change a document by rebinding a node's name, position and flags, by setting items of its attribute,
port-constant and hidden dicts, and by adding and removing nodes, edges and annotations. The values
themselves are immutable: attribute values are checked into tuples, numbers and strings (a leaf's values
too: `SetAttribute` replaces the tuple, nothing changes it in place), edges, `Hidden` and `TrainSettings`
are frozen. So a snapshot copies the containers and each node and annotation shell, and shares every value:
about 2 ms at 5,000 nodes, where building the file's records (`fileformat.to_data`) takes about 9 ms
and copying every value deeply far longer. The file is built from the snapshot later, on the worker.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from gradstudio.model.document import Edge, GraphDocument, Node, Settings

if TYPE_CHECKING:
    from gradstudio.model.annotations import Annotation


@dataclass(frozen=True)
class DocumentSnapshot:
    """The parts of a document the file format writes, as they were when taken (read-only by agreement)."""

    nodes: dict[str, Node]
    edges: dict[tuple[str, str], Edge]
    settings: Settings
    annotations: dict[str, Annotation]


def take_snapshot(document: GraphDocument) -> DocumentSnapshot:
    """`document` as it is now, sharing only immutable values with it (safe to read on another thread)."""
    nodes = {node_id: Node(node.id, node.kind, node.name, dict(node.attributes), node.position, node.retain_grad,
                           dict(node.port_constants), dict(node.hidden))
             for node_id, node in document.nodes.items()}
    annotations = {item_id: copy.copy(item) for item_id, item in document.annotations.items()}
    return DocumentSnapshot(nodes, dict(document.edges), replace(document.settings), annotations)
