"""A document snapshot for writing elsewhere: whatever the document does afterwards, the snapshot writes the file
the document would have written when it was taken (no display needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from gsg_samples import base_data

from gradstudio.model.annotations import AddAnnotation, Annotation, MoveAnnotation, SetAnnotationText
from gradstudio.model.catalog import CATALOG
from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.edits import (
    AddNode,
    Disconnect,
    MoveNode,
    RemoveNode,
    RenameNode,
    SetAttribute,
    SetRetainGrad,
    SetSetting,
)
from gradstudio.model.io.fileformat import dumps, format_json, load, loads, to_data
from gradstudio.model.io.snapshot import take_snapshot
from gradstudio.model.lesson import Hidden, SetHidden
from gradstudio.model.port_constants import SetPortConstant

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "resources" / "examples").glob("*.gsg"))
EDITS = {
    "attribute": lambda: SetAttribute("n1", "values", (9.0, 8.0, 7.0, 6.0)),
    "rename": lambda: RenameNode("n1", "renamed"),
    "move": lambda: MoveNode("n1", (123.0, 45.0)),
    "retain grad": lambda: SetRetainGrad("n3", True),
    "port constant": lambda: SetPortConstant("n3", "b", 3.5),
    "hidden": lambda: SetHidden("n4", "value", Hidden(1e-3, 1e-4, "think")),
    "setting": lambda: SetSetting("grad_mode", "no_grad"),
    "disconnect": lambda: Disconnect(Edge("n1", "n3", "a")),
    "add node": lambda: AddNode(Node("n9", "scalar", "z", {"value": 1.0})),
    "remove node": lambda: RemoveNode("n4"),
    "annotation text": lambda: SetAnnotationText("a1", "changed"),
    "annotation move": lambda: MoveAnnotation("a1", (50.0, 60.0)),
}


def document_with_everything() -> GraphDocument:
    """The sample graph with a port constant, a hidden value and a note, so every edit above has a target."""
    document = loads(json.dumps(base_data()))
    document.apply(SetHidden("n4", "grad", Hidden(1e-2, 1e-3, "")))
    document.apply(AddAnnotation(Annotation("a1", "note", "hello", (0.0, 200.0))))
    return document


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS.keys())
def test_edits_after_the_snapshot_do_not_reach_it(edit):
    document = document_with_everything()
    expected = dumps(document)
    snapshot = take_snapshot(document)
    document.apply(edit())
    assert dumps(document) != expected
    assert format_json(to_data(snapshot)) + "\n" == expected


def test_a_snapshot_writes_the_same_file_as_its_document():
    for path in EXAMPLES:
        document = load(path)
        assert to_data(take_snapshot(document)) == to_data(document), path.name


def immutable(value: Any) -> bool:
    """True for values nobody can change in place: numbers, strings, None, and tuples of those."""
    if isinstance(value, tuple):
        return all(immutable(item) for item in value)
    return value is None or isinstance(value, (str, int, float, bool))


def test_attribute_values_are_immutable_so_a_snapshot_may_share_them():
    documents = [load(path) for path in EXAMPLES]
    document = GraphDocument()
    for index, kind in enumerate(CATALOG):
        document.apply(AddNode(Node(f"k{index}", kind, f"k{index}")))
    document.apply(AddNode(Node("v", "tensor", "v", {"shape": [2, 2], "init": "values", "values": [1, 2, 3, 4]})))
    documents.append(document)
    assert len(documents) > 1
    for each in documents:
        for node in each.nodes.values():
            for name, value in [*node.attributes.items(), *node.port_constants.items()]:
                assert immutable(value), (node.kind, name, value)
