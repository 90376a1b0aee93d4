"""Graph fragments: the part of a document that copy, cut, paste and duplicate move, in the file's own records.

A fragment is a `.gsg` file without settings: the same node, edge and annotation
records, written by the file writer's serializers under the header
`{"format": "gradstudio-fragment", "version": CURRENT_VERSION}`, and read back by
the file reader's checks (and migrations), so a paste can only add what a file
could hold. A fragment that cannot be read raises `GraphFileError` naming the
place of the problem (`annotations[0].text: expected a string, got a number`);
`paste_edit` raises `EditError` only if the document itself refuses the copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from gradstudio.model.annotations import AddAnnotation, Annotation
from gradstudio.model.document import RESERVED_NAMES, Edge, GraphDocument, Node
from gradstudio.model.edits import AddNode, Batch, Connect, Edit
from gradstudio.model.io.fileformat import annotation_record, edge_order, edge_record, node_record
from gradstudio.model.io.filereader import add_records, upgrade
from gradstudio.model.io.fileschema import CURRENT_VERSION, expect_object
from gradstudio.model.limits import MAX_NAME_LENGTH, name_key

__all__ = ["FRAGMENT_FORMAT", "PASTE_OFFSET", "Fragment", "fragment", "read_fragment", "paste_edit"]

FRAGMENT_FORMAT = "gradstudio-fragment"
PASTE_OFFSET = (30.0, 30.0)


@dataclass
class Fragment:
    """A checked fragment: nodes, the edges among them and annotations, with the ids and names they were copied with."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)


def fragment(document: GraphDocument, node_ids: Iterable[str], annotation_ids: Iterable[str] = ()) -> dict[str, Any]:
    """The chosen nodes, the edges among them and the chosen annotations, as fragment JSON values."""
    chosen, notes = set(node_ids), set(annotation_ids)
    edges = [edge for edge in document.edges.values() if edge.source in chosen and edge.target in chosen]
    return {
        "format": FRAGMENT_FORMAT,
        "version": CURRENT_VERSION,
        "nodes": [node_record(node) for node in document.nodes.values() if node.id in chosen],
        "edges": [edge_record(edge) for edge in sorted(edges, key=edge_order(document))],
        "annotations": [annotation_record(item) for item in document.annotations.values() if item.id in notes],
    }


def read_fragment(data: Any) -> Fragment:
    """The fragment `data` (parsed JSON) describes, checked as a file is; GraphFileError naming the first problem."""
    version = data.get("version") if isinstance(data, dict) else None
    data = upgrade(data, FRAGMENT_FORMAT, "graph fragment")
    if version != CURRENT_VERSION:
        # the migrations upgrade whole files; a fragment is a file without its settings
        data.pop("settings", None)
    expect_object(data, "", ("format", "version", "nodes"), ("edges", "annotations"))
    scratch = GraphDocument()
    add_records(scratch, data)
    return Fragment(list(scratch.nodes.values()), list(scratch.edges.values()), list(scratch.annotations.values()))


def paste_edit(document: GraphDocument, piece: Fragment,
               offset: tuple[float, float] | None = None) -> tuple[Edit, list[str]]:
    """One edit adding a copy of the fragment (fresh ids and names, shifted by `offset`), and the new ids.

    Without an `offset` the copy lands one `PASTE_OFFSET` step further for every copy already there.
    """
    dx, dy = offset if offset is not None else _free_offset(document, piece)
    ids = {item.id: document.new_id() for item in [*piece.nodes, *piece.annotations]}
    names = _fresh_names(document, [node.name for node in piece.nodes])
    edits: list[Edit] = []
    for node in piece.nodes:
        x, y = node.position
        edits.append(AddNode(replace(node, id=ids[node.id], name=names[node.name], attributes=dict(node.attributes),
                                     position=(x + dx, y + dy))))
    edits += [Connect(Edge(ids[edge.source], ids[edge.target], edge.port)) for edge in piece.edges]
    for item in piece.annotations:
        x, y = item.position
        edits.append(AddAnnotation(replace(item, id=ids[item.id], position=(x + dx, y + dy))))
    return Batch(edits), list(ids.values())


def _fresh_names(document: GraphDocument, names: list[str]) -> dict[str, str]:
    taken = {name_key(node.name) for node in document.nodes.values()} | RESERVED_NAMES
    fresh: dict[str, str] = {}
    for name in names:
        stem, candidate, counter = name.rstrip("0123456789") or name, name, 1
        while name_key(candidate) in taken:
            candidate, counter = f"{stem[:MAX_NAME_LENGTH - 8]}{counter}", counter + 1
        taken.add(name_key(candidate))
        fresh[name] = candidate
    return fresh


def _free_offset(document: GraphDocument, piece: Fragment) -> tuple[float, float]:
    """The first multiple of `PASTE_OFFSET` at which no pasted item lands exactly on an existing one."""
    taken = {tuple(item.position) for item in [*document.nodes.values(), *document.annotations.values()]}
    corners = [(float(x), float(y)) for x, y in (item.position for item in [*piece.nodes, *piece.annotations])]
    for step in range(1, len(taken) + 2):  # bounded: far out, a float may not move by one step
        offset = PASTE_OFFSET[0] * step, PASTE_OFFSET[1] * step
        if not any((x + offset[0], y + offset[1]) in taken for x, y in corners):
            break
    return offset
