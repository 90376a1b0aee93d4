"""Size checks run once per node until an input's shape (or the element limit) changes (issue 15)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import gradstudio.model.node_runner as node_runner
from gradstudio.model import limits
from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect, SetAttribute
from gradstudio.model.evaluation import Evaluator


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The kinds of the nodes whose predicted result size was checked, in order."""
    kinds: list[str] = []
    check = node_runner.check_result_size

    def counted(kind: str, inputs: Any, attributes: Any) -> None:
        kinds.append(kind)
        check(kind, inputs, attributes)

    monkeypatch.setattr(node_runner, "check_result_size", counted)
    return kinds


@pytest.fixture
def restored_limit() -> Iterator[None]:
    """Put the element limit back after the test."""
    limit = limits.max_elements()
    yield
    limits.set_max_elements(limit)


def outer_graph() -> GraphDocument:
    """x (4,) and y (3, 1) -> p = x * y, broadcast to (3, 4), then q = exp(p)."""
    document = GraphDocument()
    document.apply(AddNode(Node("x", "tensor", "x", {"shape": (4,), "init": "full", "fill": 1.0})))
    document.apply(AddNode(Node("y", "tensor", "y", {"shape": (3, 1)})))
    document.apply(AddNode(Node("p", "mul", "p")))
    document.apply(AddNode(Node("q", "exp", "q")))
    for edge in (Edge("x", "p", "a"), Edge("y", "p", "b"), Edge("p", "q", "input")):
        document.apply(Connect(edge))
    return document


def test_new_values_of_the_same_shapes_are_not_checked_again(checked: list[str]) -> None:
    document = outer_graph()
    evaluator = Evaluator(document)
    evaluator.evaluate()
    assert sorted(checked) == ["exp", "mul", "tensor", "tensor"]
    checked.clear()
    document.apply(SetAttribute("x", "fill", 2.0))
    results = evaluator.evaluate()
    assert checked == [] and results["q"].tensor.shape == (3, 4)
    assert results["p"].tensor.detach().numpy()[0, 0] == 2.0 * results["y"].tensor.detach().numpy()[0, 0]


def test_a_new_input_shape_checks_that_node_and_what_follows(checked: list[str]) -> None:
    document = outer_graph()
    evaluator = Evaluator(document)
    evaluator.evaluate()
    checked.clear()
    document.apply(SetAttribute("y", "shape", (2, 1)))
    results = evaluator.evaluate()
    assert sorted(checked) == ["exp", "mul"] and results["q"].tensor.shape == (2, 4)


def test_a_lower_limit_is_applied_although_no_shape_changed(checked: list[str], restored_limit: None) -> None:
    document = outer_graph()
    evaluator = Evaluator(document)
    evaluator.evaluate()
    limits.set_max_elements(10)  # p and q hold 12 elements
    assert evaluator.limit_changed()
    results = evaluator.evaluate()
    assert not results["p"].ok and "10 elements" in results["p"].error.replace(",", "")
