"""One validation and one set of limits for every edit path: what the document holds, a file can hold."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradstudio.model import limits
from gradstudio.model.annotations import AddAnnotation, Annotation, SetAnnotationText
from gradstudio.model.catalog import CATALOG
from gradstudio.model.document import Edge, EditError, GraphDocument, Node
from gradstudio.model.edits import (
    AddNode,
    Connect,
    Edit,
    MoveNode,
    RemoveNode,
    RenameNode,
    SetAttribute,
    SetRetainGrad,
    SetSetting,
)
from gradstudio.model.io.fileformat import dumps, loads
from gradstudio.model.io.fileschema import GraphFileError
from gradstudio.model.io.fragment import read_fragment
from gradstudio.model.leaves import LeafError, element_count
from gradstudio.model.validation import check_attribute


def test_add_annotation_checks_the_text_as_set_annotation_text_does() -> None:
    document = GraphDocument()
    with pytest.raises(EditError, match="annotation text must be text, got 3"):
        AddAnnotation(Annotation("a1", "note", 3)).apply(document)  # type: ignore[arg-type]
    AddAnnotation(Annotation("a1", "note", "fine")).apply(document)
    with pytest.raises(EditError, match="annotation text must be text"):
        SetAnnotationText("a1", ["x"]).apply(document)  # type: ignore[arg-type]
    assert loads(dumps(document)).annotations["a1"].text == "fine"


@pytest.mark.parametrize(("node", "message"), [
    (Node("bad id!", "exp", "x"), "an id must be 1 to 64 letters"),
    (Node("n1", [], "x"), r"unknown op kind \[\]"),  # type: ignore[arg-type]
    (Node("n1", "exp", "x" * 65), "a name may have at most 64 characters, got 65"),
    (Node("n1", "exp", 5), "a variable name must be text, got 5"),  # type: ignore[arg-type]
    (Node("n1", "exp", "ｐｒｉｎｔ"), "is not a valid variable name"),
    (Node("n1", "exp", "ｔｏｒｃｈ"), "is not a valid variable name"),
    (Node("n1", "exp", "x", retain_grad="yes"), "retain_grad must be true or false"),  # type: ignore[arg-type]
    (Node("n1", "exp", "x", position=(1e8, 0)), r"position must be two finite numbers within ±1e\+07"),
    (Node("n1", "exp", "x", position=("1", 2)), "position must be two finite numbers"),  # type: ignore[arg-type]
    (Node("n1", "exp", "x", attributes=[1]), "attributes must be a mapping"),  # type: ignore[arg-type]
    (Node("n1", "tensor", "x", {"fill": 10**400}), "fill must be within the range of a float"),
    (Node("n1", "tensor", "x", {"values": (1, 10**400)}), "values must be within the range of a float"),
    (Node("n1", "scalar", "x", {"value": -(10**400)}), "value must be within the range of a float"),
    (Node("n1", "tensor", "x", {"seed": 2**64}), "seed must be within"),
    (Node("n1", "tensor", "x", {"shape": (10**5000, 10**5000)}), "shape entries must be within"),
    (Node("n1", "tensor", "x", {"shape": (2**40, 2**40)}), "more than 10,000,000 elements"),
    (Node("n1", "reshape", "x", {"shape": (10**5000,)}), "shape entries must be within"),
])
def test_add_node_checks_what_the_file_reader_checks(node: Node, message: str) -> None:
    document = GraphDocument()
    with pytest.raises(EditError, match=message) as refused:
        AddNode(node).apply(document)
    assert len(str(refused.value)) < 300
    assert not document.nodes


def test_a_shape_with_a_product_of_more_than_4300_digits_is_refused_with_a_short_message() -> None:
    shape = (10**4400, 10**4400)  # the product has 8,801 digits: str() of it would raise ValueError
    with pytest.raises(LeafError, match="more than 10,000,000 elements") as counted:
        element_count(shape)
    assert "about 4401 digits" in str(counted.value)
    with pytest.raises(EditError, match="shape entries must be within") as refused:
        check_attribute(CATALOG["tensor"].attribute("shape"), shape)
    assert len(str(refused.value)) < 300


def test_the_element_limit_is_a_setting() -> None:
    shape = CATALOG["tensor"].attribute("shape")
    previous = limits.set_max_elements(100)
    try:
        assert limits.max_elements() == 100
        with pytest.raises(EditError, match="more than 100 elements"):
            check_attribute(shape, (11, 10))
    finally:
        limits.set_max_elements(previous)
    assert check_attribute(shape, (11, 10)) == (11, 10)
    assert limits.max_elements() == limits.DEFAULT_MAX_ELEMENTS == 10**7


def test_names_clash_as_python_identifiers_do() -> None:
    document = GraphDocument()
    AddNode(Node("n1", "exp", "fi")).apply(document)
    with pytest.raises(EditError, match="the name 'ﬁ' is already used \\(Python reads it as 'fi'\\)"):
        AddNode(Node("n2", "exp", "ﬁ")).apply(document)
    AddNode(Node("n2", "exp", "x")).apply(document)
    with pytest.raises(EditError, match="already used"):
        RenameNode("n2", "ﬁ").apply(document)
    assert document.new_name("ﬁ") != "ﬁ"


@pytest.mark.parametrize("kind", [[], {}, 3, None])
def test_a_fragment_whose_kind_is_not_a_string_is_refused_cleanly(kind: Any) -> None:
    data = {"format": "gradstudio-fragment", "version": 2,
            "nodes": [{"id": "n1", "kind": kind, "name": "x"}],
            "annotations": [{"id": "a1", "kind": kind}]}
    with pytest.raises(GraphFileError, match=r"nodes\[0\].kind: expected a string"):
        read_fragment(data)
    data["nodes"] = []
    with pytest.raises(GraphFileError, match=r"annotations\[0\].kind: expected a string"):
        read_fragment(data)


def test_a_name_longer_than_the_limit_in_a_file_is_refused_with_a_clear_message() -> None:
    document = GraphDocument()
    AddNode(Node("n1", "exp", "x")).apply(document)
    text = dumps(document).replace('"name": "x"', f'"name": "{"y" * 100}"')
    with pytest.raises(GraphFileError, match=r"nodes\[0\].name: a name may have at most 64 characters, got 100"):
        loads(text)


# ----- the property: whatever edits the document accepts, it saves and reopens as it was -------------------

HOSTILE_NUMBERS = st.one_of(
    st.integers(-3, 3), st.integers(), st.sampled_from([10**400, -(10**400), 2**63, 2**1030, 10**15]),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans())
HOSTILE = st.recursive(
    st.one_of(st.none(), HOSTILE_NUMBERS, st.text(max_size=5), st.sampled_from(["ﬁ", "ｐｒｉｎｔ", "x" * 70])),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.tuples(inner, inner),
                            st.dictionaries(st.text(max_size=3), inner, max_size=2)),
    max_leaves=6)
NAMES = st.one_of(st.sampled_from(["x", "fi", "ﬁ", "y1", "ｙ1", "print", "ｐｒｉｎｔ", "torch", "a" * 64, "a" * 65]),
                  st.text(max_size=8))
KINDS = st.one_of(st.sampled_from(sorted(CATALOG)), HOSTILE)


@st.composite
def hostile_edits(draw: st.DrawFn, document: GraphDocument) -> Edit:
    """A random edit with values from everything a paste, a file or a typed field could offer."""
    ids = sorted(document.nodes) or ["n1"]
    choice = draw(st.integers(0, 8))
    if choice == 0 or not document.nodes:
        kind = draw(KINDS)
        attributes = {}
        if isinstance(kind, str) and kind in CATALOG and CATALOG[kind].attributes:
            names = [spec.name for spec in CATALOG[kind].attributes]
            attributes = draw(st.dictionaries(st.sampled_from(names), HOSTILE, max_size=3))
        position = draw(st.one_of(st.tuples(HOSTILE_NUMBERS, HOSTILE_NUMBERS), HOSTILE))
        return AddNode(Node(draw(st.one_of(st.just(document.new_id()), HOSTILE)), kind, draw(NAMES), attributes,
                            position))
    node_id = draw(st.sampled_from(ids))
    if choice == 1:
        node = document.nodes[node_id]
        names = [spec.name for spec in node.spec.attributes] or ["missing"]
        return SetAttribute(node_id, draw(st.sampled_from(names)), draw(HOSTILE))
    if choice == 2:
        return RenameNode(node_id, draw(NAMES))
    if choice == 3:
        return MoveNode(node_id, draw(st.one_of(st.tuples(HOSTILE_NUMBERS, HOSTILE_NUMBERS), HOSTILE)))
    if choice == 4:
        return SetRetainGrad(node_id, draw(st.booleans()))
    if choice == 5:
        return SetSetting(draw(st.sampled_from(["grad_mode", "backward_target"])),
                          draw(st.one_of(st.sampled_from(["normal", "no_grad", *ids]), HOSTILE)))
    if choice == 6:
        return Connect(Edge(draw(st.sampled_from(ids)), node_id, draw(st.one_of(st.sampled_from(
            ["a", "b", "input", "tensor0"]), HOSTILE))))
    if choice == 7:
        return RemoveNode(draw(st.one_of(st.just(node_id), HOSTILE)))
    item = Annotation(draw(st.one_of(st.just(document.new_id()), HOSTILE)), draw(st.sampled_from(["note", "frame"])),
                      draw(HOSTILE), draw(st.tuples(HOSTILE_NUMBERS, HOSTILE_NUMBERS)))
    return AddAnnotation(item)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_accepted_edits_always_save_and_reload_to_an_equal_document(data: st.DataObject) -> None:
    document = GraphDocument()
    accepted = 0
    for _ in range(data.draw(st.integers(1, 12))):
        edit = data.draw(hostile_edits(document))
        try:
            edit.apply(document)
            accepted += 1
        except EditError:
            continue  # refused edits change nothing; any other exception fails the test
    text = dumps(document)
    reopened = loads(text)
    assert dumps(reopened) == text
    assert list(reopened.nodes) == list(document.nodes)
    assert len(json.loads(text)["nodes"]) + len(json.loads(text)["annotations"]) <= accepted


@pytest.mark.parametrize("edit", [SetSetting("backward_target", []), RenameNode([], "x"), MoveNode({}, (0, 0)),
                                  SetAnnotationText([], "x")])
def test_an_unhashable_id_is_an_edit_error(edit: Edit) -> None:
    with pytest.raises(EditError, match="no (node|annotation) with id"):
        edit.apply(GraphDocument())


def test_a_huge_unexpected_key_is_quoted_shortened_in_the_error() -> None:
    document = GraphDocument()
    AddNode(Node("n1", "exp", "x")).apply(document)
    data = json.loads(dumps(document))
    data["nodes"][0]["attribute" + "1" * 5000] = 1  # found by the file fuzzer (seed 30977)
    with pytest.raises(GraphFileError, match=r"^nodes\[0\]\.attribute1111.*\.\.\.: unexpected key") as refused:
        loads(json.dumps(data))
    assert len(str(refused.value)) < 700
