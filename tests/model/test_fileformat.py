"""Reading `.gsg` files: one test per class of bad file, each asserting its message; limits (no display needed)."""

from __future__ import annotations

import json
import re
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from gsg_samples import base_data, changed

from gradstudio.model.io import fileformat
from gradstudio.model.io.fileformat import GraphFileError, load, loads

DOCS = Path(__file__).resolve().parents[2] / "docs" / "file-format.md"


def load_error(source: str | bytes | Callable[[dict], dict]) -> str:
    """The message loading `source` (text, bytes, or a mutation of the base file) fails with."""
    if callable(source):
        source = json.dumps(source(base_data()))
    with pytest.raises(GraphFileError) as raised:
        loads(source)
    return str(raised.value)


def test_the_base_file_is_valid():
    document = loads(json.dumps(base_data()))
    assert [node.name for node in document.nodes.values()] == ["x", "two", "y", "out"]
    assert document.nodes["n1"].attributes["values"] == (1, 2, 3, 4)


BAD_FILES = {
    # not a graph file at all
    "empty": ("", "the file is empty"),
    "empty bytes": (b"", "the file is empty"),
    "only a byte-order mark": ("\ufeff", "the file is empty"),
    "only white space": ("  \n\n", "the file is empty (only spaces and line breaks)"),
    "not JSON": ("{", "not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)"),
    "truncated JSON": ('{"format": "gradstudio-graph", "version"',
                       "not valid JSON: Expecting ':' delimiter (line 1, column 41)"),
    "not UTF-8": (b'{"format": "gradstudio-graph\xff"}', "not UTF-8 text (byte 28 is 0xff)"),
    "not an object": ("[1, 2]", "expected a JSON object (a GradStudio graph file), got an array"),
    "duplicate JSON key": ('{"format": "gradstudio-graph", "format": "x"}',
                           "the key 'format' appears twice in one JSON object"),
    "missing format": (changed((("format",),)),
                       'format: missing; a GradStudio graph file starts with "format": "gradstudio-graph"'),
    "wrong format": (changed((("format",), "other-graph")),
                     "format: expected 'gradstudio-graph', got 'other-graph'; not a GradStudio graph file"),
    # versions
    "missing version": (changed((("version",),)), "version: missing"),
    "version as text": (changed((("version",), "2")), "version: expected an integer, got a string"),
    "version as boolean": (changed((("version",), True)), "version: expected an integer, got a boolean"),
    "future version": (changed((("version",), 6)),
                       "version: format version 6 was written by a newer GradStudio; this one reads versions 1 to 5"),
    "version zero": (changed((("version",), 0)), "version: expected a format version from 1 to 5, got 0"),
    # nodes
    "unknown op": (changed((("nodes", 2, "kind"), "foo")), "nodes[2].kind: unknown op kind 'foo'"),
    "missing kind": (changed((("nodes", 2, "kind"),)), "nodes[2].kind: missing"),
    "extra node key": (changed((("nodes", 2, "colour"), "red")),
                       "nodes[2].colour: unexpected key; expected only id, kind, name, position, retain_grad, "
                       "attributes, port_constants, hidden, data"),
    "duplicate id": (changed((("nodes", 3, "id"), "n1")),
                     "nodes[3].id: duplicate id 'n1'; every node and annotation needs its own"),
    "bad id": (changed((("nodes", 3, "id"), "a b")), "nodes[3].id: expected 1 to 64 letters, digits, '_', '-' or '.'"),
    "duplicate name": (changed((("nodes", 3, "name"), "x")), "nodes[3].name: the name 'x' is already used"),
    "invalid name": (changed((("nodes", 3, "name"), "1st")), "nodes[3].name: '1st' is not a valid variable name"),
    "keyword name": (changed((("nodes", 3, "name"), "lambda")),
                     "nodes[3].name: 'lambda' is not a valid variable name"),
    # wrong types
    "nodes not a list": (changed((("nodes",), {})), "nodes: expected an array, got an object"),
    "node not an object": (changed((("nodes", 1), "two")), "nodes[1]: expected an object, got a string"),
    "name as number": (changed((("nodes", 2, "name"), 5)), "nodes[2].name: expected a string, got a number"),
    "position as text": (changed((("nodes", 0, "position"), "0,0")),
                         "nodes[0].position: expected [x, y], got a string"),
    "position of three": (changed((("nodes", 0, "position"), [1, 2, 3])),
                          "nodes[0].position: expected [x, y], got an array of 3"),
    "position not finite": (changed((("nodes", 0, "position"), [1, 1e999])),
                            "nodes[0].position[1]: expected a finite number, got inf"),
    "position off the canvas": (changed((("nodes", 0, "position"), [1, -2e7])),
                                "nodes[0].position[1]: expected a number within ±1e+07, got -20000000.0"),
    "retain_grad as text": (changed((("nodes", 2, "retain_grad"), "yes")),
                            "nodes[2].retain_grad: expected true or false, got a string"),
    "attributes as list": (changed((("nodes", 2, "attributes"), [])),
                           "nodes[2].attributes: expected an object, got an array"),
    "unknown attribute": (changed((("nodes", 3, "attributes"), {"axis": 0})),
                          "nodes[3].attributes.axis: unexpected key; expected only dim, keepdim"),
    "attribute of wrong type": (changed((("nodes", 3, "attributes"), {"keepdim": 1})),
                                "nodes[3].attributes.keepdim: keepdim must be true or false, got 1"),
    "settings as list": (changed((("settings",), [])), "settings: expected an object, got an array"),
    "unknown grad mode": (changed((("settings", "grad_mode"), "fast")),
                          "settings.grad_mode: expected one of normal, no_grad, got 'fast'"),
    "backward target missing": (changed((("settings", "backward_target"), "n9")),
                                "settings.backward_target: no node with id 'n9'"),
    "extra top-level key": (changed((("comment",), "hi")),
                            "comment: unexpected key; expected only format, version, nodes, settings, edges, "
                            "annotations"),
    # tensors
    "bad shape": (changed((("nodes", 0, "attributes", "shape"), [2, -1])),
                  "nodes[0].attributes.shape: shape extents must be at least 0, got [2, -1]"),
    "shape as text": (changed((("nodes", 0, "attributes", "shape"), "2x2")),
                      "nodes[0].attributes.shape: shape must be a list of integers, got '2x2'"),
    "bad dtype": (changed((("nodes", 0, "attributes", "dtype"), "float16")),
                  "nodes[0].attributes.dtype: dtype must be one of float32, float64, int64, bool, got 'float16'"),
    "huge shape": (changed((("nodes", 0, "attributes", "shape"), [100000, 100000])),
                   "nodes[0].attributes.shape: shape [100000, 100000] has more than 10,000,000 elements, "
                   "the limit for one tensor"),
    "wrong value count": (changed((("nodes", 0, "attributes", "values"), [[1, 2]])),
                          "nodes[0].attributes.values: nested as shape [1, 2], but the tensor's shape [2, 2] "
                          "needs 4 values"),
    "ragged values": (changed((("nodes", 0, "attributes", "values"), [[1, 2], [3]])),
                      "nodes[0].attributes.values: rows of different lengths; shape [2, 2] needs 4 values in "
                      "equal rows"),
    "values not numbers": (changed((("nodes", 0, "attributes", "values"), [[1, "2"], [3, 4]])),
                           "nodes[0].attributes.values: values must be numbers, got [[1, '2'], [3, 4]]"),
    # edges
    "edges not a list": (changed((("edges",), {"a": 1})), "edges: expected an array, got an object"),
    "edge as triple": (changed((("edges", 0), ["n1", "n3", "a"])), "edges[0]: expected an object, got an array"),
    "missing port": (changed((("edges", 1, "port"),)), "edges[1].port: missing"),
    "extra port": (changed((("edges", 1, "port"), "c")),
                   "edges[1].port: add node 'y' has no input 'c'; its inputs are a, b"),
    "port of a leaf": (changed((("edges", 1, "target"), "n1"), (("edges", 1, "port"), "a")),
                       "edges[1].port: tensor node 'x' has no input 'a'; it has no inputs"),
    "dangling source": (changed((("edges", 0, "source"), "n99")), "edges[0].source: no node with id 'n99'"),
    "dangling target": (changed((("edges", 2, "target"), "n99")), "edges[2].target: no node with id 'n99'"),
    "occupied input": (changed((("edges", 1, "port"), "a")), "edges[1]: input 'a' of y is already connected"),
    "cycle": (changed((("edges", 1, "source"), "n4")), "edges[2]: connecting these ports would make a cycle"),
    "self loop": (changed((("edges", 2, "source"), "n4")), "edges[2]: connecting these ports would make a cycle"),
    # annotations
    "unknown annotation kind": (changed((("annotations",), [{"id": "a1", "kind": "arrow"}])),
                                "annotations[0].kind: expected one of note, frame, got 'arrow'"),
    "annotation too small": (changed((("annotations",), [{"id": "a1", "kind": "note", "size": [10, 10]}])),
                             "annotations[0]: an annotation must be at least 40 x 40, got 10 x 10"),
    "annotation id of a node": (changed((("annotations",), [{"id": "n1", "kind": "note"}])),
                                "annotations[0].id: duplicate id 'n1'; every node and annotation needs its own"),
    # grad-mode frames (version 5)
    "unknown frame grad mode": (changed((("version",), 5), (("annotations",), [
        {"id": "a1", "kind": "frame", "grad_mode": "no_grad"}, {"id": "a2", "kind": "frame", "grad_mode": "off"}])),
        "annotations[1].grad_mode: expected one of none, no_grad, enable_grad, inference_mode, got 'off'"),
    "frame grad mode not text": (changed((("version",), 5), (("annotations",), [
        {"id": "a1", "kind": "frame", "grad_mode": False}])),
        "annotations[0].grad_mode: expected a string, got a boolean"),
    "grad mode on a note": (changed((("version",), 5), (("annotations",), [
        {"id": "a1", "kind": "note", "grad_mode": "none"}])), "annotations[0].grad_mode: only frames have a grad mode"),
    "grad mode in a version 4 file": (changed((("version",), 4), (("annotations",), [
        {"id": "a1", "kind": "frame", "grad_mode": "no_grad"}])),
        "annotations[0].grad_mode: unexpected key; files of version 4 have no grad-mode frames"),
}


@pytest.mark.parametrize(("source", "message"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_is_refused_with_its_place_and_expectation(source, message):
    assert load_error(source) == message


def test_error_carries_the_path_and_the_message_apart():
    with pytest.raises(GraphFileError) as raised:
        loads(json.dumps(changed((("nodes", 2, "kind"), "foo"))(base_data())))
    assert (raised.value.path, raised.value.message) == ("nodes[2].kind", "unknown op kind 'foo'")


def test_odd_keys_are_quoted_in_the_path():
    assert load_error(changed((("nodes", 2, "a key"), 1))).startswith("nodes[2]['a key']: unexpected key")


def test_huge_values_are_shortened_in_the_message():
    message = load_error(changed((("nodes", 0, "attributes", "values"), [[1, "x" * 5000], [3, 4]])))
    assert len(message) < 400 and message.endswith("...")


def test_deep_nesting_is_refused():
    too_deep = "not valid JSON for a graph: arrays or objects nested too deeply"
    assert load_error("[" * 100_000 + "]" * 100_000) == too_deep
    deep = changed((("nodes", 0, "attributes", "values"), json.loads("[" * 40 + "]" * 40)))
    assert load_error(deep) == "nodes[0].attributes.values: arrays nested more than 32 deep"


def test_text_over_the_size_cap_is_refused_before_parsing():
    assert load_error("x" * (50 * 1024 * 1024 + 1)) == "the file is larger than the 50 MB limit for graph files"


def test_files_over_the_size_cap_are_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(fileformat, "MAX_FILE_BYTES", 1000)
    big = tmp_path / "big.gsg"
    big.write_text(" " * 1001 + "not even JSON")
    with pytest.raises(GraphFileError, match="^the file is larger than the 0 MB limit for graph files$"):
        load(big)


def test_a_huge_tensor_is_not_allocated_while_loading():
    data = changed((("nodes", 0, "attributes"), {"shape": [3_000, 3_000], "init": "randn"}))(base_data())
    tracemalloc.start()
    try:
        document = loads(json.dumps(data))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert document.nodes["n1"].attributes["shape"] == (3_000, 3_000)
    assert peak < 5_000_000  # the tensor itself would take 36 MB


def test_an_unreadable_path_is_a_graph_file_error(tmp_path):
    with pytest.raises(GraphFileError, match="^cannot read the file: No such file or directory$"):
        load(tmp_path / "missing.gsg")
    with pytest.raises(GraphFileError, match="^cannot read the file: Is a directory$"):
        load(tmp_path)


def test_flat_values_of_the_wrong_count_load_and_fail_on_the_node():
    # the editor can hold this state between two edits, so a saved file must open again
    document = loads(json.dumps(changed((("nodes", 0, "attributes", "values"), [1, 2, 3]))(base_data())))
    from gradstudio.model.evaluation import Evaluator

    assert Evaluator(document).evaluate()["n1"].error == "shape [2, 2] needs 4 values, got 3"


def test_optional_keys_take_their_defaults():
    document = loads('{"format": "gradstudio-graph", "version": 2, "nodes": [{"id": "a", "kind": "tensor", '
                     '"name": "x"}]}')
    node = document.nodes["a"]
    assert (node.position, node.retain_grad, node.attributes["shape"]) == ((0.0, 0.0), False, (3,))
    assert (document.settings.grad_mode, document.settings.backward_target, document.edges) == ("normal", None, {})


def test_a_byte_order_mark_is_tolerated():
    assert loads(b"\xef\xbb\xbf" + json.dumps(base_data()).encode()).nodes["n1"].name == "x"


def test_the_documented_messages_are_real():
    documented = re.search(r"for example\n\n```\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    messages = {message for _, message in BAD_FILES.values()}
    for line in documented.group(1).splitlines():
        assert line in messages or line.startswith("not valid JSON: "), line
