"""Cut, copy, paste and duplicate: a graph fragment as JSON, pasted with fresh ids and names at an offset."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from gradstudio.model.annotations import AddAnnotation, Annotation
from gradstudio.model.document import (
    RESERVED_NAMES,
    AddNode,
    Batch,
    Connect,
    Edge,
    Edit,
    EditError,
    GraphDocument,
    Node,
)

FRAGMENT_MIME = "application/x-gradstudio-fragment"
FRAGMENT_FORMAT = "gradstudio-fragment"
PASTE_OFFSET = (30.0, 30.0)


def fragment(document: GraphDocument, node_ids: Iterable[str], annotation_ids: Iterable[str] = ()) -> dict[str, Any]:
    """The chosen nodes, the edges among them and the chosen annotations, as plain JSON-ready data."""
    chosen = [node_id for node_id in document.nodes if node_id in set(node_ids)]
    inside = set(chosen)
    nodes = [{"id": n.id, "kind": n.kind, "name": n.name, "attributes": n.attributes, "position": list(n.position),
              "retain_grad": n.retain_grad} for n in (document.nodes[node_id] for node_id in chosen)]
    edges = [{"source": e.source, "target": e.target, "port": e.port} for e in document.edges.values()
             if e.source in inside and e.target in inside]
    annotations = [{"id": a.id, "kind": a.kind, "text": a.text, "position": list(a.position), "size": list(a.size)}
                   for a in (document.annotations[key] for key in annotation_ids)]
    return {"format": FRAGMENT_FORMAT, "nodes": nodes, "edges": edges, "annotations": annotations}


def _fresh_names(document: GraphDocument, names: list[str]) -> dict[str, str]:
    taken = {node.name for node in document.nodes.values()} | RESERVED_NAMES
    fresh: dict[str, str] = {}
    for name in names:
        stem, candidate, counter = name.rstrip("0123456789") or name, name, 1
        while candidate in taken:
            candidate, counter = f"{stem}{counter}", counter + 1
        taken.add(candidate)
        fresh[name] = candidate
    return fresh


def paste_edit(document: GraphDocument, data: dict[str, Any],
               offset: tuple[float, float] | None = None) -> tuple[Edit, list[str]]:
    """One edit adding a copy of the fragment (fresh ids and names, shifted by `offset`), and the new ids.

    Without an `offset` the copy lands one `PASTE_OFFSET` step further for every copy already there.
    """
    try:
        return _paste_edit(document, data, offset if offset is not None else _free_offset(document, data))
    except EditError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
        raise EditError(f"the clipboard does not hold a usable graph fragment ({error!r})") from None


def _free_offset(document: GraphDocument, data: dict[str, Any]) -> tuple[float, float]:
    """The first multiple of `PASTE_OFFSET` at which no pasted item lands exactly on an existing one."""
    taken = {tuple(item.position) for item in [*document.nodes.values(), *document.annotations.values()]}
    corners = [(float(x), float(y)) for x, y in (record["position"] for record in [*data["nodes"],
                                                                                 *data["annotations"]])]
    for step in range(1, len(taken) + 2):  # bounded: far out, a float may not move by one step
        offset = PASTE_OFFSET[0] * step, PASTE_OFFSET[1] * step
        if not any((x + offset[0], y + offset[1]) in taken for x, y in corners):
            break
    return offset


def _paste_edit(document: GraphDocument, data: dict[str, Any],
                offset: tuple[float, float]) -> tuple[Edit, list[str]]:
    if data.get("format") != FRAGMENT_FORMAT:
        raise EditError("the clipboard does not hold a graph fragment")
    ids = {record["id"]: document.new_id() for record in [*data["nodes"], *data["annotations"]]}
    names = _fresh_names(document, [record["name"] for record in data["nodes"]])
    dx, dy = offset
    edits: list[Edit] = []
    for record in data["nodes"]:
        x, y = record["position"]
        node = Node(ids[record["id"]], record["kind"], names[record["name"]], dict(record["attributes"]),
                    (x + dx, y + dy), bool(record.get("retain_grad", False)))
        edits.append(AddNode(node))
    edits += [Connect(Edge(ids[e["source"]], ids[e["target"]], e["port"])) for e in data["edges"]]
    for record in data["annotations"]:
        x, y = record["position"]
        edits.append(AddAnnotation(Annotation(ids[record["id"]], record["kind"], record["text"], (x + dx, y + dy),
                                              tuple(record["size"]))))
    return Batch(edits), list(ids.values())


def copy_to_clipboard(data: dict[str, Any]) -> None:
    """Put a fragment on the system clipboard (also as text, so it can be pasted into a chat or a file)."""
    text = json.dumps(data, indent=1)
    mime = QMimeData()
    mime.setData(FRAGMENT_MIME, text.encode("utf-8"))
    mime.setText(text)
    QGuiApplication.clipboard().setMimeData(mime)


def from_clipboard() -> dict[str, Any] | None:
    """The fragment on the system clipboard, if it holds one."""
    mime = QGuiApplication.clipboard().mimeData()
    if mime is None:
        return None
    raw = bytes(mime.data(FRAGMENT_MIME).data()).decode("utf-8") if mime.hasFormat(FRAGMENT_MIME) else mime.text()
    try:
        data = json.loads(raw)
    except (ValueError, TypeError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FRAGMENT_FORMAT else None
