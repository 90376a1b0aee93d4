"""In-place ops on the canvas: they run after the other readers of the tensor they change, recompute without
changing it twice, count versions as PyTorch does, and a refused Backward names the saved node and the writer."""

from __future__ import annotations

import pytest

from gradstudio.model.document import GraphDocument
from gradstudio.model.edits import SetAttribute
from gradstudio.model.evaluation import Evaluator
from gradstudio.model.port_constants import SetPortConstant
from gradstudio.model.versions import in_place_conflict, tensor_version
from tests.model.graph_builders import add

torch = pytest.importorskip("torch", reason="real PyTorch is the oracle of versions and refusals")


def saved_then_changed(writer_first: bool = True) -> GraphDocument:
    """a (requires grad) -> b = sigmoid(a) -> c = b * b (saves b) and b.mul_(2) -> loss = c.sum()."""
    document = GraphDocument()
    add(document, "a", "tensor", shape=(3,), requires_grad=True)
    add(document, "b", "sigmoid", "a")
    add(document, "two", "scalar", value=2)
    if writer_first:  # placed before the reader in the document: the order still runs it after
        add(document, "m", "mul_", "b", "two")
        add(document, "c", "mul", "b", "b")
    else:
        add(document, "c", "mul", "b", "b")
        add(document, "m", "mul_", "b", "two")
    add(document, "loss", "sum", "c")
    return document


def torch_program(factor: float) -> tuple[object, int, str]:
    """The same program in PyTorch: b's values, its version, and Backward's refusal."""
    a = torch.ones(3, requires_grad=True)
    b = a.sigmoid()
    c = b * b
    b.mul_(factor)
    with pytest.raises(RuntimeError) as refused:
        c.sum().backward()
    return b.detach().numpy(), b._version, str(refused.value)


@pytest.mark.parametrize("writer_first", [True, False])
def test_in_place_op_runs_after_the_other_readers(writer_first: bool) -> None:
    order = saved_then_changed(writer_first).topological_order()
    assert order.index("c") < order.index("m")


def test_values_and_versions_are_pytorchs_and_recomputing_changes_once() -> None:
    document = saved_then_changed()
    evaluator = Evaluator(document)
    results = evaluator.evaluate()
    values, version, _ = torch_program(2.0)
    assert tensor_version(results["b"]) == tensor_version(results["m"]) == version == 1
    assert tensor_version(results["c"]) == 0
    assert results["b"].tensor.detach().numpy().tolist() == pytest.approx(values.tolist())
    document.apply(SetAttribute("two", "value", 3.0))  # m recomputes: b is made afresh, then changed once
    results = evaluator.evaluate()
    assert tensor_version(results["b"]) == 1
    assert results["b"].tensor.detach().numpy().tolist() == pytest.approx(torch_program(3.0)[0].tolist())


def test_refused_backward_names_the_saved_node_the_writer_and_both_versions() -> None:
    document = saved_then_changed()
    evaluator = Evaluator(document)
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as refused:
        evaluator.backward("loss")
    torch_message = torch_program(2.0)[2]
    assert "is at version 1; expected version 0 instead" in torch_message
    assert "is at version 1; expected version 0 instead" in str(refused.value)
    conflict = in_place_conflict(document, evaluator.results, str(refused.value))
    assert (conflict.saved, conflict.writers, conflict.versions) == ("b", ("m",), "saved at version 0, now 1")
    pinned = conflict.explanations(str(refused.value), {node_id: node.name for node_id, node in
                                                        document.nodes.items()})
    assert set(pinned) == {"b", "m"}
    assert all("saved at version 0, now 1" in explanation.explanation for explanation in pinned.values())


def test_an_in_place_add_that_invalidates_nothing_backpropagates_like_pytorch() -> None:
    document = GraphDocument()
    add(document, "a", "tensor", shape=(3,), requires_grad=True)
    add(document, "b", "mul", "a", "a")
    add(document, "m", "add_", "b")
    document.apply(SetPortConstant("m", "other", 1.0))
    add(document, "loss", "sum", "m")
    evaluator = Evaluator(document)
    evaluator.backward("loss")
    a = torch.ones(3, requires_grad=True)
    b = a * a
    b.add_(1.0)
    b.sum().backward()
    assert evaluator.results["a"].grad.numpy().tolist() == a.grad.numpy().tolist()
    assert tensor_version(evaluator.results["b"]) == b._version == 1


def test_no_conflict_for_other_messages() -> None:
    document = saved_then_changed()
    evaluator = Evaluator(document)
    assert in_place_conflict(document, evaluator.evaluate(), "element 0 of tensors does not require grad") is None
