"""Evaluating documents: forward values, errors as values, incremental recompute, backward with edge gradients."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from graph_builders import add, add_notes_chain

import gradstudio.engine as engine
from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.edits import (
    AddNode,
    Connect,
    Disconnect,
    MoveNode,
    RemoveNode,
    RenameNode,
    SetAttribute,
    SetRetainGrad,
    SetSetting,
)
from gradstudio.model.evaluation import Evaluator, NodeResult

NOT_REQUIRING_GRAD = "element 0 of tensors does not require grad and does not have a grad_fn"
NOT_SCALAR = "grad can be implicitly created only for scalar outputs"
MISMATCH = "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0"


def notes_document() -> GraphDocument:
    """x = ones(3, requires_grad=True); y = x + 2; z = y * y * 3; out = z.mean(); side = y.exp() (off the path)."""
    document = add_notes_chain(GraphDocument())
    add(document, "side", "exp", "y")
    document.apply(SetSetting("backward_target", "out"))
    return document


def array(value: Any) -> np.ndarray:
    """A tensor's values as numpy (None stays None)."""
    return None if value is None else value.detach().numpy()


def plain(value: Any) -> Any:
    """A node value as numpy (tensors) or itself (numbers)."""
    return array(value) if isinstance(value, engine.Tensor) else value


def same(tensor: Any, expected: Any) -> bool:
    """Exact equality of a tensor's values with `expected`."""
    return tensor is not None and np.array_equal(array(tensor), np.asarray(expected, dtype=array(tensor).dtype))


@pytest.fixture
def notes() -> GraphDocument:
    """A fresh notes document."""
    return notes_document()


# ----- forward ---------------------------------------------------------------------------------------------------


def test_forward_gives_the_notes_values_and_grad_fns(notes: GraphDocument) -> None:
    results = Evaluator(notes).evaluate()
    assert all(result.ok for result in results.values())
    assert repr(results["x"].value) == "tensor([1., 1., 1.], requires_grad=True)"
    assert repr(results["y"].value) == "tensor([3., 3., 3.], grad_fn=<AddBackward0>)"
    assert repr(results["z"].value) == "tensor([27., 27., 27.], grad_fn=<MulBackward0>)"
    assert repr(results["out"].value) == "tensor(27., grad_fn=<MeanBackward0>)"
    assert results["two"].value == 2


def test_a_shape_mismatch_is_the_nodes_error_and_blocks_only_its_dependents() -> None:
    document = GraphDocument()
    add(document, "a", "tensor", shape=(3,))
    add(document, "b", "tensor", shape=(4,))
    add(document, "s", "add", "a", "b")
    add(document, "m", "mean", "s")
    add(document, "e", "exp", "m")
    add(document, "fine", "exp", "a")
    evaluator = Evaluator(document)
    results = evaluator.evaluate()
    assert results["s"].error == MISMATCH and results["s"].value is None
    assert results["m"].blocked_by == "s" and results["m"].error is None and not results["m"].ok
    assert results["e"].blocked_by == "s"
    assert results["a"].ok and results["b"].ok and results["fine"].ok
    with pytest.raises(RuntimeError, match="node e has no value to run backward from"):
        evaluator.backward("e")
    document.apply(SetAttribute("b", "shape", (3,)))
    assert all(result.ok for result in evaluator.evaluate().values())
    assert same(evaluator.value("e"), np.float32(np.exp(2.0)))  # PyTorch's float32 exp, correctly rounded


def test_the_shape_mismatch_message_is_pytorchs() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed: message comparison skipped")
    with pytest.raises(RuntimeError) as raised:
        torch.ones(3) + torch.ones(4)
    assert str(raised.value) == MISMATCH


def test_an_unconnected_input_is_reported_and_blocks_downstream() -> None:
    document = GraphDocument()
    add(document, "a", "tensor")
    add(document, "p", "mul", "a")
    add(document, "q", "sum", "p")
    results = Evaluator(document).evaluate()
    assert results["p"].error == "input 'b' is not connected"
    assert results["q"].blocked_by == "p"


def test_a_bad_leaf_is_an_error_value_not_a_crash() -> None:
    document = GraphDocument()
    add(document, "a", "tensor", shape=(2, 2), init="values", values=(1, 2, 3))
    add(document, "e", "exp", "a")
    results = Evaluator(document).evaluate()
    assert results["a"].error == "shape [2, 2] needs 4 values, got 3"
    assert results["e"].blocked_by == "a"


def test_removing_an_upstream_node_turns_into_an_unconnected_input(notes: GraphDocument) -> None:
    evaluator = Evaluator(notes)
    evaluator.evaluate()
    notes.apply(RemoveNode("yy"))
    results = evaluator.evaluate()
    assert "yy" not in results
    assert results["z"].error == "input 'a' is not connected"
    assert results["out"].blocked_by == "z"


# ----- incremental recompute -----------------------------------------------------------------------------------


def test_an_edit_dirties_the_node_and_its_descendants_only(notes: GraphDocument) -> None:
    evaluator = Evaluator(notes)
    assert evaluator.dirty == set(notes.nodes)
    before = {node_id: result.value for node_id, result in evaluator.evaluate().items()}
    assert evaluator.dirty == frozenset()
    notes.apply(SetAttribute("three", "value", 1))
    assert evaluator.dirty == {"three", "z", "out"}
    after = evaluator.evaluate()
    for node_id in ("x", "y", "yy", "side"):
        assert after[node_id].value is before[node_id]
    for node_id in ("z", "out"):
        assert after[node_id].value is not before[node_id]
    assert same(after["out"].value, 9.0)
    fresh = Evaluator(notes).evaluate()
    assert set(fresh) == set(after)
    for node_id, result in after.items():
        np.testing.assert_array_equal(plain(result.value), plain(fresh[node_id].value))


@pytest.mark.parametrize(
    ("edit", "dirty"),
    [
        (MoveNode("y", (40, 40)), set()),
        (RenameNode("y", "shifted"), set()),
        (SetSetting("backward_target", "z"), set()),
        (Disconnect(Edge("y", "side", "input")), {"side"}),
        (SetRetainGrad("yy", True), {"yy", "z", "out"}),
        (SetAttribute("x", "fill", 5.0), {"x", "y", "yy", "z", "out", "side"}),
        (SetSetting("grad_mode", "no_grad"), {"y", "yy", "z", "out", "side"}),
        (AddNode(Node("new", "exp", "new")), {"new"}),
    ],
)
def test_which_nodes_an_edit_dirties(notes: GraphDocument, edit: Any, dirty: set[str]) -> None:
    evaluator = Evaluator(notes)
    evaluator.evaluate()
    notes.apply(edit)
    assert evaluator.dirty == dirty


def test_connecting_dirties_the_target_downstream(notes: GraphDocument) -> None:
    add(notes, "extra", "add", "side")
    evaluator = Evaluator(notes)
    evaluator.evaluate()
    notes.apply(Connect(Edge("z", "extra", "b")))
    assert evaluator.dirty == {"extra"}
    result = evaluator.evaluate()["extra"]
    np.testing.assert_allclose(array(result.value), [np.exp(3) + 27] * 3, rtol=1e-6)


def test_evaluate_with_nothing_dirty_recomputes_nothing(notes: GraphDocument) -> None:
    evaluator = Evaluator(notes)
    first = {node_id: result.value for node_id, result in evaluator.evaluate().items()}
    again = evaluator.evaluate()
    assert all(again[node_id].value is value for node_id, value in first.items())


def test_closed_evaluator_stops_listening(notes: GraphDocument) -> None:
    evaluator = Evaluator(notes)
    evaluator.evaluate()
    evaluator.close()
    notes.apply(SetAttribute("three", "value", 1))
    assert evaluator.dirty == frozenset()


# ----- backward --------------------------------------------------------------------------------------------------


def test_backward_gives_the_notes_gradient_and_accumulates_until_zero_grad(notes: GraphDocument) -> None:
    evaluator = Evaluator(notes)
    evaluator.backward()
    assert repr(evaluator.leaf_grad("x")) == "tensor([6., 6., 6.])"
    evaluator.backward()
    assert repr(evaluator.leaf_grad("x")) == "tensor([12., 12., 12.])"
    evaluator.zero_grad()
    assert evaluator.leaf_grad("x") is None
    assert evaluator.last_backward is None
    evaluator.backward("out")
    assert repr(evaluator.leaf_grad("x")) == "tensor([6., 6., 6.])"


def test_backward_matches_pytorch() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed: differential check skipped")
    x = torch.ones(3, requires_grad=True)
    y = x + 2
    out = (y * y * 3).mean()
    out.backward()
    evaluator = Evaluator(notes_document())
    evaluator.backward()
    np.testing.assert_array_equal(array(evaluator.leaf_grad("x")), x.grad.numpy())
    np.testing.assert_array_equal(array(evaluator.value("out")), out.detach().numpy())


def test_backward_records_the_edges_on_the_path_and_their_gradients(notes: GraphDocument) -> None:
    result = Evaluator(notes).backward()
    assert result.target == "out"
    assert result.path == {("out", "input"), ("z", "a"), ("yy", "a"), ("yy", "b"), ("y", "a")}
    assert ("side", "input") not in result.path
    expected_edges = {("out", "input"): [1 / 3] * 3, ("z", "a"): [1.0] * 3, ("yy", "a"): [3.0] * 3,
                      ("yy", "b"): [3.0] * 3, ("y", "a"): [6.0] * 3}
    for key, expected in expected_edges.items():
        np.testing.assert_allclose(array(result.edge_grads[key]), expected, rtol=1e-6)
    expected_nodes = {"out": 1.0, "z": [1 / 3] * 3, "yy": [1.0] * 3, "y": [6.0] * 3, "x": [6.0] * 3}
    assert set(result.node_grads) == set(expected_nodes)
    for node_id, expected in expected_nodes.items():
        np.testing.assert_allclose(array(result.node_grads[node_id]), expected, rtol=1e-6)


def test_backward_steps_follow_the_engine_order(notes: GraphDocument) -> None:
    result = Evaluator(notes).backward()
    assert [step.name for step in result.steps] == [
        "MeanBackward0", "MulBackward0", "MulBackward0", "AddBackward0", "torch::autograd::AccumulateGrad"]
    assert [step.owner for step in result.steps] == ["out", "z", "yy", "y", "x"]
    assert same(result.steps[0].grad_in, 1.0)
    assert same(result.steps[-1].grad_in, [6.0] * 3)


def test_one_input_used_on_two_ports_gets_a_gradient_per_port() -> None:
    document = GraphDocument()
    add(document, "x", "tensor", shape=(2,), requires_grad=True)
    add(document, "d", "sub", "x", "x")
    add(document, "w", "tensor", shape=(2, 2), init="values", values=(1, 1, 2, 2))
    add(document, "s", "stack", "x", "x")
    add(document, "ws", "mul", "s", "w")
    add(document, "total", "add", "d", "ws")
    add(document, "loss", "sum", "total")
    result = Evaluator(document).backward("loss")
    # d (2,) is broadcast over ws's two rows, so twice the upstream gradient reaches it
    assert same(result.edge_grads[("total", "a")], [2.0, 2.0])
    assert same(result.edge_grads[("d", "a")], [2.0, 2.0])
    assert same(result.edge_grads[("d", "b")], [-2.0, -2.0])
    assert same(result.edge_grads[("s", "tensor0")], [1.0, 1.0])
    assert same(result.edge_grads[("s", "tensor1")], [2.0, 2.0])
    assert ("ws", "b") not in result.path


def test_variadic_inputs_split_the_gradient_by_port() -> None:
    document = GraphDocument()
    add(document, "a", "tensor", shape=(2,), requires_grad=True)
    add(document, "b", "tensor", shape=(3,), init="arange", requires_grad=True)
    add(document, "c", "cat", "a", "b")
    add(document, "sq", "mul", "c", "c")
    add(document, "loss", "sum", "sq")
    evaluator = Evaluator(document)
    result = evaluator.backward("loss")
    assert same(result.edge_grads[("c", "tensor0")], [2.0, 2.0])
    assert same(result.edge_grads[("c", "tensor1")], [0.0, 2.0, 4.0])
    assert same(evaluator.leaf_grad("b"), [0.0, 2.0, 4.0])


def test_non_scalar_backward_needs_a_gradient(notes: GraphDocument) -> None:
    evaluator = Evaluator(notes)
    with pytest.raises(RuntimeError, match=NOT_SCALAR):
        evaluator.backward("y")
    assert evaluator.leaf_grad("x") is None
    result = evaluator.backward("y", engine.tensor([1.0, 2.0, 3.0]))
    assert same(evaluator.leaf_grad("x"), [1.0, 2.0, 3.0])
    assert result.path == {("y", "a")}


def test_backward_needs_a_target_with_a_tensor_value(notes: GraphDocument) -> None:
    evaluator = Evaluator(notes)
    notes.apply(SetSetting("backward_target", None))
    with pytest.raises(RuntimeError, match="choose a node to run backward from"):
        evaluator.backward()
    with pytest.raises(RuntimeError, match=NOT_REQUIRING_GRAD):
        evaluator.backward("two")


def test_retain_grad_keeps_a_non_leaf_gradient(notes: GraphDocument) -> None:
    evaluator = Evaluator(notes)
    evaluator.backward()
    assert evaluator.leaf_grad("y") is None
    notes.apply(SetRetainGrad("y", True))
    evaluator.zero_grad()
    evaluator.backward()
    assert evaluator.value("y").retains_grad
    assert same(evaluator.leaf_grad("y"), [6.0] * 3)
    assert evaluator.leaf_grad("yy") is None


def test_no_grad_mode_tracks_nothing_and_backward_gives_pytorchs_error(notes: GraphDocument) -> None:
    evaluator = Evaluator(notes)
    notes.apply(SetSetting("grad_mode", "no_grad"))
    results = evaluator.evaluate()
    for node_id in ("y", "yy", "z", "out", "side"):
        assert results[node_id].value.grad_fn is None
        assert not results[node_id].value.requires_grad
    assert results["x"].value.requires_grad
    assert repr(results["out"].value) == "tensor(27.)"
    with pytest.raises(RuntimeError, match=NOT_REQUIRING_GRAD):
        evaluator.backward()
    assert evaluator.leaf_grad("x") is None


def test_toggling_grad_mode_keeps_the_leaves_and_their_grad(notes: GraphDocument) -> None:
    evaluator = Evaluator(notes)
    evaluator.backward()
    x = evaluator.value("x")
    notes.apply(SetSetting("grad_mode", "no_grad"))
    evaluator.evaluate()
    notes.apply(SetSetting("grad_mode", "normal"))
    assert evaluator.value("x") is x
    assert repr(evaluator.value("out")) == "tensor(27., grad_fn=<MeanBackward0>)"
    evaluator.backward()
    assert same(evaluator.leaf_grad("x"), [12.0] * 3)


def test_leaf_grad_survives_edits_elsewhere_and_accumulates(notes: GraphDocument) -> None:
    evaluator = Evaluator(notes)
    evaluator.backward()
    notes.apply(SetAttribute("three", "value", 1))
    assert same(evaluator.leaf_grad("x"), [6.0] * 3)
    evaluator.backward()
    assert same(evaluator.leaf_grad("x"), [8.0] * 3)
    notes.apply(SetAttribute("x", "fill", 0.0))
    evaluator.evaluate()
    assert evaluator.leaf_grad("x") is None


def test_last_backward_is_forgotten_when_values_change(notes: GraphDocument) -> None:
    evaluator = Evaluator(notes)
    result = evaluator.backward()
    notes.apply(MoveNode("x", (3, 3)))
    assert evaluator.last_backward is result
    notes.apply(SetAttribute("three", "value", 4))
    assert evaluator.last_backward is None


def test_a_fan_out_sums_into_the_leaf() -> None:
    document = GraphDocument()
    add(document, "x", "tensor", shape=(2,), requires_grad=True, init="full", fill=2.0)
    add(document, "e", "exp", "x")
    add(document, "sq", "mul", "x", "x")
    add(document, "both", "add", "e", "sq")
    add(document, "loss", "sum", "both")
    add(document, "unused", "sin", "x")
    evaluator = Evaluator(document)
    result = evaluator.backward("loss")
    assert {("e", "input"), ("sq", "a"), ("sq", "b")} <= result.path
    assert ("unused", "input") not in result.path
    expected = np.exp(np.float32(2)) + 4
    np.testing.assert_allclose(array(evaluator.leaf_grad("x")), [expected] * 2, rtol=1e-6)
    total = array(result.edge_grads[("e", "input")]) + array(result.edge_grads[("sq", "a")]) + array(
        result.edge_grads[("sq", "b")])
    np.testing.assert_allclose(total, array(evaluator.leaf_grad("x")), rtol=1e-6)


def test_an_op_returning_its_input_itself_still_shows_the_flow() -> None:
    # flatten of a 1-d tensor returns that very tensor (as in PyTorch): two nodes, one value, one AccumulateGrad
    document = GraphDocument()
    add(document, "x", "tensor", shape=(3,), requires_grad=True)
    add(document, "f", "flatten", "x")
    add(document, "m", "mean", "f")
    add(document, "e", "exp", "x")
    add(document, "s", "sum", "e")
    add(document, "total", "add", "m", "s")
    evaluator = Evaluator(document)
    assert evaluator.value("f") is evaluator.value("x")
    result = evaluator.backward("total")
    assert result.path == {("total", "a"), ("total", "b"), ("m", "input"), ("f", "input"), ("s", "input"),
                           ("e", "input")}
    np.testing.assert_allclose(array(result.edge_grads[("f", "input")]), [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_allclose(array(result.node_grads["f"]), [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_allclose(array(result.node_grads["x"]), [1 / 3 + np.e] * 3, rtol=1e-6)
    np.testing.assert_allclose(array(evaluator.leaf_grad("x")), [1 / 3 + np.e] * 3, rtol=1e-6)
    assert result.steps[-1].owner == "x"
    flattened = Evaluator(document).backward("f", engine.ones(3))
    assert same(flattened.node_grads["f"], [1.0] * 3) and same(flattened.edge_grads[("f", "input")], [1.0] * 3)


def test_steps_carry_the_engine_function_and_owners_are_named(notes: GraphDocument) -> None:
    evaluator = Evaluator(notes)
    result = evaluator.backward()
    out = evaluator.value("out")
    assert result.steps[0].function is out.grad_fn
    owner_of = evaluator.grad_fn_owners("out")
    assert [owner_of(step.function) for step in result.steps] == [step.owner for step in result.steps]


def test_a_new_grad_mode_forgets_the_last_backward(notes: GraphDocument) -> None:
    evaluator = Evaluator(notes)
    evaluator.backward()
    notes.apply(SetSetting("backward_target", "z"))
    assert evaluator.last_backward is not None
    notes.apply(SetSetting("grad_mode", "no_grad"))
    assert evaluator.last_backward is None


# ----- typed results -------------------------------------------------------------------------------------------------


def test_a_result_names_its_tensor_whether_it_is_tracked_and_its_grad(notes: GraphDocument) -> None:
    notes.apply(SetRetainGrad("y", True))
    evaluator = Evaluator(notes)
    results = evaluator.evaluate()
    x, y, yy, two = results["x"], results["y"], results["yy"], results["two"]
    assert x.tensor is x.value and x.tracked and y.tracked
    assert two.tensor is None and not two.tracked and two.grad is None
    evaluator.backward()
    assert same(x.grad, [6.0] * 3) and same(y.grad, [6.0] * 3) and yy.grad is None  # read live, never warns
    notes.apply(SetSetting("grad_mode", "no_grad"))
    assert not evaluator.evaluate()["y"].tracked


def test_a_result_without_a_value_is_untracked_and_cannot_be_changed() -> None:
    failed = NodeResult(error="input 'a' is not connected")
    assert failed.tensor is None and not failed.tracked and failed.grad is None and not failed.ok
    untracked = NodeResult(value=engine.ones(2))
    assert untracked.tensor is not None and not untracked.tracked
    with pytest.raises(AttributeError):
        failed.value = 1  # type: ignore[misc]
