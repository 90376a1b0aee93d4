"""Typed constants on unconnected input ports: the edit, evaluation, files, fragments and code export."""

from __future__ import annotations

import json

import numpy as np
import pytest
from codegen_runs import run_code

from gradstudio.model.document import Edge, EditError, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect, Disconnect, SetAttribute
from gradstudio.model.evaluation import Evaluator
from gradstudio.model.io.codegen import generate_code
from gradstudio.model.io.fileformat import CURRENT_VERSION, GraphFileError, dumps, loads
from gradstudio.model.io.fragment import fragment, paste_edit, read_fragment
from gradstudio.model.port_constants import SetPortConstant


def x_plus() -> GraphDocument:
    """x = ones(3) with requires_grad, y = x + ? with `b` unwired, and a Scalar node `s` (3) beside them."""
    document = GraphDocument()
    AddNode(Node("n1", "tensor", "x", {"requires_grad": True})).apply(document)
    AddNode(Node("n2", "add", "y")).apply(document)
    AddNode(Node("n3", "scalar", "s", {"value": 3})).apply(document)
    Connect(Edge("n1", "n2", "a")).apply(document)
    return document


def values(evaluator: Evaluator, node_id: str) -> list[float]:
    return evaluator.evaluate()[node_id].value.tolist()


def test_evaluation_uses_the_constant_and_undo_restores_the_error() -> None:
    document = x_plus()
    evaluator = Evaluator(document)
    assert evaluator.evaluate()["n2"].error == "input 'b' is not connected"
    before = document.snapshot()
    inverse = document.apply(SetPortConstant("n2", "b", 2))
    assert values(evaluator, "n2") == [3.0, 3.0, 3.0]
    document.apply(SetPortConstant("n2", "b", 2.5))
    assert values(evaluator, "n2") == [3.5, 3.5, 3.5]
    document.apply(SetPortConstant("n2", "b", 2))
    inverse.apply(document)
    assert document.snapshot() == before
    assert evaluator.evaluate()["n2"].error == "input 'b' is not connected"


def test_an_edge_wins_over_the_constant_which_returns_when_the_edge_goes() -> None:
    document = x_plus()
    evaluator = Evaluator(document)
    document.apply(SetPortConstant("n2", "b", 2))
    document.apply(Connect(Edge("n3", "n2", "b")))
    assert values(evaluator, "n2") == [4.0, 4.0, 4.0]
    document.apply(Disconnect(Edge("n3", "n2", "b")))
    assert values(evaluator, "n2") == [3.0, 3.0, 3.0]


def test_backward_flows_through_an_op_with_a_constant() -> None:
    document = x_plus()
    AddNode(Node("n4", "mul", "z")).apply(document)
    Connect(Edge("n1", "n4", "a")).apply(document)
    document.apply(SetPortConstant("n4", "b", 5))
    evaluator = Evaluator(document)
    evaluator.evaluate()
    evaluator.results["n4"].value.sum().backward()
    assert evaluator.results["n1"].grad.tolist() == [5.0, 5.0, 5.0]


@pytest.mark.parametrize(("port", "value", "message"), [
    ("c", 2, "y has no input 'c'; its inputs are a, b"),
    ("b", "2", "the constant of input 'b' must be a number or true/false, got '2'"),
    ("b", [2], "the constant of input 'b' must be a number or true/false, got [2]"),
    ("b", 10 ** 400, "must be within the range of a float"),
], ids=["no such port", "text", "list", "huge"])
def test_a_bad_constant_is_refused_and_changes_nothing(port: str, value: object, message: str) -> None:
    document = x_plus()
    before = document.snapshot()
    with pytest.raises(EditError, match=message.replace("[", r"\[").replace("]", r"\]")):
        document.apply(SetPortConstant("n2", port, value))
    assert document.snapshot() == before


def test_removing_a_constant_that_is_not_there_is_refused() -> None:
    with pytest.raises(EditError, match="holds no constant"):
        x_plus().apply(SetPortConstant("n2", "b", None))


def test_fewer_ports_drop_their_constants_and_undo_brings_them_back() -> None:
    document = x_plus()
    AddNode(Node("n5", "cat", "c", {"count": 3})).apply(document)
    document.apply(SetPortConstant("n5", "tensor2", 1.0))
    before = document.snapshot()
    inverse = document.apply(SetAttribute("n5", "count", 2))
    assert document.nodes["n5"].port_constants == {}
    inverse.apply(document)
    assert document.snapshot() == before


# ----- files and fragments -----------------------------------------------------------------------------------


def test_a_file_round_trips_its_constants_and_writes_them_only_when_there_are_some() -> None:
    document = x_plus()
    assert "port_constants" not in dumps(document)
    document.apply(SetPortConstant("n2", "b", 2))
    document.apply(SetPortConstant("n2", "a", True))
    text = dumps(document)
    assert '"attributes": {},\n      "port_constants": {"a": true, "b": 2}\n' in text
    loaded = loads(text)
    assert loaded.nodes["n2"].port_constants == {"a": True, "b": 2}
    assert dumps(loaded) == text


def test_an_older_file_migrates_without_constants_and_may_not_hold_them() -> None:
    data = json.loads(dumps(x_plus()))
    data["version"] = 3
    document = loads(json.dumps(data))
    assert all(node.port_constants == {} for node in document.nodes.values())
    assert json.loads(dumps(document))["version"] == CURRENT_VERSION
    data["nodes"][1]["port_constants"] = {"b": 2}
    with pytest.raises(GraphFileError, match=r"^nodes\[1\]\.port_constants: unexpected key; files of version 3"):
        loads(json.dumps(data))


@pytest.mark.parametrize(("constants", "message"), [
    ({"b": "two"}, "nodes[1].port_constants.b: the constant of input 'b' must be a number or true/false, got 'two'"),
    ({"b": None}, "nodes[1].port_constants.b: the constant of input 'b' must be a number or true/false, got None"),
    ({"c": 2}, "nodes[1].port_constants.c: unexpected key; expected only a, b"),
    ([2], "nodes[1].port_constants: expected an object, got an array"),
])
def test_a_malformed_constant_is_refused_naming_its_place(constants: object, message: str) -> None:
    data = json.loads(dumps(x_plus()))
    data["nodes"][1]["port_constants"] = constants
    with pytest.raises(GraphFileError) as raised:
        loads(json.dumps(data))
    assert str(raised.value) == message


def test_a_fragment_carries_the_constants_into_the_paste() -> None:
    document = x_plus()
    document.apply(SetPortConstant("n2", "b", -1.5))
    piece = read_fragment(json.loads(json.dumps(fragment(document, ["n2"]))))
    edit, ids = paste_edit(document, piece)
    document.apply(edit)
    assert document.nodes[ids[0]].port_constants == {"b": -1.5}


# ----- code export ---------------------------------------------------------------------------------------------


def test_code_export_writes_the_constant_inline_and_runs_to_the_same_value() -> None:
    document = x_plus()
    AddNode(Node("n4", "mul", "z")).apply(document)
    Connect(Edge("n2", "n4", "a")).apply(document)
    document.apply(SetPortConstant("n2", "b", 2))
    document.apply(SetPortConstant("n4", "b", -3))
    code = generate_code(document)
    assert "y = x + 2\n" in code
    assert "z = y * (-3)\n" in code
    namespace, _ = run_code(code, "engine")
    evaluator = Evaluator(document)
    np.testing.assert_array_equal(namespace["z"].detach().numpy(), evaluator.evaluate()["n4"].value.detach().numpy())


def test_code_export_prefers_the_edge_over_the_constant() -> None:
    document = x_plus()
    document.apply(SetPortConstant("n2", "b", 2))
    document.apply(Connect(Edge("n3", "n2", "b")))
    assert "y = x + 3\n" in generate_code(document)
