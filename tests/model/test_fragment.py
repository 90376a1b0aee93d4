"""Graph fragments (copy and paste): the file's records, the file's checks, fresh ids and names, cascading offsets."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from gsg_samples import base_data, changed

from gradstudio.model.annotations import Annotation
from gradstudio.model.document import GraphDocument
from gradstudio.model.io.fileformat import format_json, load, loads, save, to_data
from gradstudio.model.io.filereader import parse_json
from gradstudio.model.io.fileschema import CURRENT_VERSION, GraphFileError
from gradstudio.model.io.fragment import FRAGMENT_FORMAT, Fragment, fragment, paste_edit, read_fragment

DOCS = Path(__file__).resolve().parents[2] / "docs" / "file-format.md"
NOTE = {"id": "a1", "kind": "note", "text": "y is x + 2", "position": [10.0, 200.0], "size": [220.0, 90.0]}


def source() -> GraphDocument:
    """The sample file (y = x + 2, out = y.mean(), with `retain_grad` on y) plus a note."""
    data = base_data()
    data["nodes"][2]["retain_grad"] = True
    data["nodes"][2]["position"] = [220.0, 0.0]
    data["annotations"] = [NOTE]
    return loads(json.dumps(data))


def everything() -> dict:
    """A fragment of the whole sample document."""
    document = source()
    return fragment(document, list(document.nodes), list(document.annotations))


def snapshot(document: GraphDocument) -> tuple:
    """The document's nodes, edges and annotations, comparable with ==."""
    return list(document.nodes.values()), sorted(document.edges.values(), key=repr), list(document.annotations.values())


def pasted(document: GraphDocument, data: dict, offset: tuple[float, float] | None = None) -> list[str]:
    """Paste `data` into `document`; the new ids."""
    edit, new_ids = paste_edit(document, read_fragment(data), offset)
    document.apply(edit)
    return new_ids


def test_a_fragment_uses_the_file_writers_records() -> None:
    document = source()
    data = everything()
    file = to_data(document)
    assert list(data) == ["format", "version", "nodes", "edges", "annotations"]
    assert (data["format"], data["version"]) == (FRAGMENT_FORMAT, CURRENT_VERSION)
    assert [data[key] for key in ("nodes", "edges", "annotations")] == [file[key] for key in
                                                                        ("nodes", "edges", "annotations")]
    assert data["nodes"][0]["attributes"]["values"] == [[1, 2], [3, 4]]  # nested as the file writes them


def test_a_fragment_holds_only_the_edges_among_its_nodes() -> None:
    data = fragment(source(), ["n3", "n1"])
    assert [node["id"] for node in data["nodes"]] == ["n1", "n3"]  # document order, as in a file
    assert data["edges"] == [{"source": "n1", "target": "n3", "port": "a"}]
    assert data["annotations"] == []


def test_reading_gives_the_checked_items() -> None:
    document = source()
    piece = read_fragment(json.loads(json.dumps(everything())))
    assert isinstance(piece, Fragment)
    assert (piece.nodes, sorted(piece.edges, key=repr), piece.annotations) == snapshot(document)


def test_the_clipboard_text_parses_back_to_the_same_fragment() -> None:
    data = everything()
    assert parse_json(format_json(data)) == data


def test_paste_save_and_load_give_the_same_document(tmp_path: Path) -> None:
    for target in (GraphDocument(), source()):
        pasted(target, everything())
        save(target, tmp_path / "pasted.gsg")
        assert snapshot(load(tmp_path / "pasted.gsg")) == snapshot(target)


def test_pasted_ids_and_names_are_fresh_and_the_edges_follow_them() -> None:
    document = source()
    before = set(document.nodes) | set(document.annotations)
    new_ids = pasted(document, everything())
    assert len(new_ids) == 5 and not before & set(new_ids)
    copies = [document.nodes[node_id] for node_id in new_ids[:4]]
    assert [node.name for node in copies] == ["x1", "two1", "y1", "out1"]
    x1, two1, y1, out1 = copies
    assert x1.attributes == document.nodes["n1"].attributes and y1.retain_grad
    assert document.inputs_of(y1.id)["a"].source == x1.id and document.inputs_of(y1.id)["b"].source == two1.id
    assert document.inputs_of(out1.id)["input"].source == y1.id
    note = document.annotations[new_ids[4]]
    assert (note.kind, note.text, note.size) == ("note", NOTE["text"], (220.0, 90.0))


def test_fresh_names_skip_reserved_names_and_keep_numbering() -> None:
    document = GraphDocument()
    pasted(document, fragment(source(), ["n1"]))
    pasted(document, fragment(source(), ["n1"]))
    pasted(document, fragment(source(), ["n1"]))
    assert sorted(node.name for node in document.nodes.values()) == ["x", "x1", "x2"]


def test_repeated_pastes_cascade() -> None:
    document = source()
    data = fragment(document, ["n1"], ["a1"])
    for step in (1, 2, 3):
        new_ids = pasted(document, data)
        assert document.nodes[new_ids[0]].position == (30.0 * step, 30.0 * step)
        assert document.annotations[new_ids[1]].position == (10.0 + 30.0 * step, 200.0 + 30.0 * step)


def test_an_explicit_offset_is_used_as_given() -> None:
    document = source()
    [node_id] = pasted(document, fragment(document, ["n1"]), offset=(-5.0, 7.5))
    assert document.nodes[node_id].position == (-5.0, 7.5)


def test_a_version_1_fragment_is_migrated() -> None:
    data = {"format": FRAGMENT_FORMAT, "version": 1,
            "nodes": [{"id": "n1", "kind": "tensor", "name": "x", "x": 0.0, "y": 5.0},
                      {"id": "n2", "kind": "relu", "name": "r", "x": 200.0, "y": 5.0}],
            "edges": [["n1", "n2", "input"]]}
    piece = read_fragment(data)
    assert [(node.name, node.position) for node in piece.nodes] == [("x", (0.0, 5.0)), ("r", (200.0, 5.0))]
    assert [(edge.source, edge.target, edge.port) for edge in piece.edges] == [("n1", "n2", "input")]


def replaced(value: object) -> Callable[[dict], object]:
    """A mutation replacing the whole fragment."""
    return lambda _data: value


BAD_FRAGMENTS = {
    "note text a number": (changed((("annotations", 0, "text"), 42)),
                           "annotations[0].text: expected a string, got a number"),
    "unknown op kind": (changed((("nodes", 1, "kind"), "foo")), "nodes[1].kind: unknown op kind 'foo'"),
    "attribute of the wrong type": (changed((("nodes", 3, "attributes"), {"keepdim": 1})),
                                    "nodes[3].attributes.keepdim: keepdim must be true or false, got 1"),
    "unknown attribute": (changed((("nodes", 3, "attributes"), {"axis": 0})),
                          "nodes[3].attributes.axis: unexpected key; expected only dim, keepdim"),
    "huge shape": (changed((("nodes", 0, "attributes", "shape"), [100000, 100000])),
                   "nodes[0].attributes.shape: shape [100000, 100000] has more than 10,000,000 elements"),
    "edge to a missing node": (changed((("edges", 2, "target"), "n99")), "edges[2].target: no node with id 'n99'"),
    "duplicate input port": (changed((("edges", 1, "port"), "a")), "edges[1]: input 'a' of y is already connected"),
    "a port the node lacks": (changed((("edges", 1, "port"), "c")),
                              "edges[1].port: add node 'y' has no input 'c'; its inputs are a, b"),
    "cycle": (changed((("edges", 1, "source"), "n4")), "edges[2]: connecting these ports would make a cycle"),
    "NaN position": (changed((("nodes", 0, "position"), [math.nan, 0.0])),
                     "nodes[0].position[0]: expected a finite number, got nan"),
    "infinite position": (changed((("annotations", 0, "position"), [0.0, math.inf])),
                          "annotations[0].position[1]: expected a finite number, got inf"),
    "huge position": (changed((("nodes", 2, "position"), [1e300, 0.0])),
                      "nodes[2].position[0]: expected a number within ±1e+07, got 1e+300"),
    "tiny note": (changed((("annotations", 0, "size"), [5.0, 5.0])),
                  "annotations[0]: an annotation must be at least 40 x 40, got 5 x 5"),
    "name not a string": (changed((("nodes", 2, "name"), 5)), "nodes[2].name: expected a string, got a number"),
    "same name twice": (changed((("nodes", 2, "name"), "x")), "nodes[2].name: the name 'x' is already used"),
    "same id twice": (changed((("annotations", 0, "id"), "n1")),
                      "annotations[0].id: duplicate id 'n1'; every node and annotation needs its own"),
    "missing node name": (changed((("nodes", 2, "name"),)), "nodes[2].name: missing"),
    "missing edge port": (changed((("edges", 0, "port"),)), "edges[0].port: missing"),
    "missing nodes": (changed((("nodes",),)), "nodes: missing"),
    "missing version": (changed((("version",),)), "version: missing"),
    "missing format": (changed((("format",),)),
                       'format: missing; a GradStudio graph fragment starts with "format": "gradstudio-fragment"'),
    "not a dict": (replaced([1, 2]), "expected a JSON object (a GradStudio graph fragment), got an array"),
    "nodes not a list": (changed((("nodes",), {})), "nodes: expected an array, got an object"),
    "wrong format tag": (changed((("format",), "gradstudio-graph")),
                         "format: expected 'gradstudio-fragment', got 'gradstudio-graph'; "
                         "not a GradStudio graph fragment"),
    "newer version": (changed((("version",), CURRENT_VERSION + 1)),
                      f"version: format version {CURRENT_VERSION + 1} was written by a newer GradStudio; this one "
                      f"reads versions 1 to {CURRENT_VERSION}"),
    "version as text": (changed((("version",), "2")), "version: expected an integer, got a string"),
    "settings are not part of a fragment": (changed((("settings",), {})),
                                            "settings: unexpected key; expected only format, version, nodes, edges, "
                                            "annotations"),
}


@pytest.mark.parametrize("mutation, message", BAD_FRAGMENTS.values(), ids=BAD_FRAGMENTS.keys())
def test_malformed_fragments_are_refused_at_their_place(mutation: Callable[[dict], object], message: str) -> None:
    with pytest.raises(GraphFileError) as raised:
        read_fragment(mutation(everything()))
    assert str(raised.value).startswith(message)


def test_a_refused_fragment_changes_no_document() -> None:
    document = source()
    before = document.snapshot()
    with pytest.raises(GraphFileError):
        read_fragment(changed((("annotations", 0, "text"), 42))(fragment(document, [], ["a1"])))
    assert document.snapshot() == before


def test_reading_does_not_change_the_data() -> None:
    data = everything()
    copy = json.loads(json.dumps(data))
    read_fragment(data)
    assert data == copy


def test_an_annotation_only_fragment_pastes() -> None:
    document = source()
    [note_id] = pasted(document, fragment(document, [], ["a1"]))
    assert document.annotations[note_id] == Annotation(note_id, "note", NOTE["text"], (40.0, 230.0), (220.0, 90.0))


def test_the_documented_fragment_is_what_we_write() -> None:
    documented = re.findall(r"```json\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)[-1]
    document = GraphDocument()
    pasted(document, parse_json(documented), offset=(0.0, 0.0))
    assert format_json(fragment(document, list(document.nodes), list(document.annotations))) + "\n" == documented
