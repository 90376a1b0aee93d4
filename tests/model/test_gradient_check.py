"""Gradient check per node: analytic gradients against central differences on a float64 copy of the graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gradstudio.engine as engine
from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect, SetSetting
from gradstudio.model.evaluation import Evaluator
from gradstudio.model.gradcheck import GradCheckError, check_gradient
from gradstudio.model.io.fileformat import load

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def example(name: str) -> Evaluator:
    """An evaluator on one of the example graphs."""
    return Evaluator(load(EXAMPLES / f"{name}.gsg"))


def by_name(evaluator: Evaluator, name: str) -> str:
    """The id of the node called `name`."""
    return evaluator.document.name_owner(name)


@pytest.mark.parametrize(("name", "expected"), [("x", [6.0] * 3), ("y", [6.0] * 3), ("y_squared", [1.0] * 3),
                                                ("z", [1 / 3] * 3), ("out", 1.0)])
def test_notes_gradients_agree_with_finite_differences(name: str, expected: object) -> None:
    evaluator = example("notes_forward_backward")
    check = check_gradient(evaluator, by_name(evaluator, name))
    np.testing.assert_allclose(check.analytic, expected, rtol=1e-12)
    np.testing.assert_allclose(check.numerical, expected, rtol=1e-7)
    assert check.passed and check.max_difference < 1e-6
    assert check.analytic.dtype == np.float64 and check.target == by_name(evaluator, "out")


def test_randn_example_gives_three_quarters_everywhere() -> None:
    evaluator = example("notes_randn_mean")
    check = check_gradient(evaluator, by_name(evaluator, "a"))
    assert check.analytic.shape == (2, 2)
    np.testing.assert_allclose(check.analytic, 0.75)
    np.testing.assert_allclose(check.numerical, 0.75, rtol=1e-7)
    assert check.passed


def test_the_check_leaves_the_documents_tensors_alone() -> None:
    evaluator = example("notes_forward_backward")
    x = evaluator.value(by_name(evaluator, "x"))
    check_gradient(evaluator, by_name(evaluator, "x"))
    assert x.grad is None and x.dtype == engine.float32
    assert evaluator.value(by_name(evaluator, "x")) is x


def test_a_nonlinear_model_passes_the_check() -> None:
    evaluator = example("xor_mlp")
    leaves = [node.id for node in evaluator.document.nodes.values()
              if node.kind == "tensor" and node.attributes["requires_grad"]]
    for leaf in leaves:
        check = check_gradient(evaluator, leaf)
        assert check.passed, (leaf, check.max_difference)


def detached_document() -> GraphDocument:
    """out = (x.detach() * x).sum(): autograd sees only one factor, finite differences both."""
    document = GraphDocument()
    for node in (Node("x", "tensor", "x", {"requires_grad": True, "init": "values", "values": (1.0, 2.0, 3.0)}),
                 Node("d", "detach", "d"), Node("p", "mul", "p"), Node("out", "sum", "out")):
        document.apply(AddNode(node))
    for edge in (Edge("x", "d", "input"), Edge("d", "p", "a"), Edge("x", "p", "b"), Edge("p", "out", "input")):
        document.apply(Connect(edge))
    document.apply(SetSetting("backward_target", "out"))
    return document


def test_detach_shows_as_a_failed_check() -> None:
    check = check_gradient(Evaluator(detached_document()), "x")
    np.testing.assert_allclose(check.analytic, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(check.numerical, [2.0, 4.0, 6.0], rtol=1e-7)
    assert not check.passed
    assert check.max_difference == pytest.approx(3.0)


def test_a_node_the_target_does_not_depend_on_has_zero_gradients() -> None:
    document = detached_document()
    document.apply(AddNode(Node("w", "tensor", "w", {"requires_grad": True})))
    check = check_gradient(Evaluator(document), "w")
    np.testing.assert_array_equal(check.analytic, 0.0)
    np.testing.assert_array_equal(check.numerical, 0.0)
    assert check.passed


def test_non_scalar_targets_use_the_gradient_argument() -> None:
    evaluator = example("notes_forward_backward")
    x, y = by_name(evaluator, "x"), by_name(evaluator, "y_squared")
    check = check_gradient(evaluator, x, target=y, gradient=engine.tensor([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(check.analytic, [6.0, 0.0, 12.0])
    np.testing.assert_allclose(check.numerical, [6.0, 0.0, 12.0], rtol=1e-7)
    ones = check_gradient(evaluator, x, target=y)
    np.testing.assert_allclose(ones.analytic, [6.0] * 3)
    with pytest.raises(GradCheckError, match=r"the gradient has shape \[2\], the target \[3\]"):
        check_gradient(evaluator, x, target=y, gradient=[1.0, 2.0])


def test_checks_that_cannot_run_say_why() -> None:
    evaluator = example("notes_forward_backward")
    with pytest.raises(GradCheckError, match="two is a Python number"):
        check_gradient(evaluator, by_name(evaluator, "two"))
    evaluator.document.apply(SetSetting("backward_target", None))
    with pytest.raises(GradCheckError, match="choose a backward target"):
        check_gradient(evaluator, by_name(evaluator, "x"))
    integers = GraphDocument()
    integers.apply(AddNode(Node("i", "tensor", "i", {"dtype": "int64"})))
    with pytest.raises(GradCheckError, match="torch.int64: gradients need a floating point tensor"):
        check_gradient(Evaluator(integers), "i", target="i")
