"""Evaluation never hangs on Python-number arithmetic and never allocates a tensor past the element limit."""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import pytest

from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect
from gradstudio.model.evaluation import Evaluator


def graph(kind: str, a: Node, b: Node | None = None, **attributes: Any) -> tuple[GraphDocument, Evaluator]:
    """A document with the leaves `a` (and `b`) feeding one `kind` node `out`."""
    document = GraphDocument()
    for leaf in (a, b):
        if leaf is not None:
            AddNode(leaf).apply(document)
    AddNode(Node("out", kind, "out", attributes)).apply(document)
    ports = document.nodes["out"].input_ports()
    for port, leaf in zip(ports, (a, b)):
        if leaf is not None:
            Connect(Edge(leaf.id, "out", port)).apply(document)
    return document, Evaluator(document)


def scalar(node_id: str, value: Any) -> Node:
    return Node(node_id, "scalar", node_id, {"value": value})


def tensor(node_id: str, shape: tuple[int, ...]) -> Node:
    return Node(node_id, "tensor", node_id, {"shape": shape, "init": "zeros"})


def test_a_scalar_power_of_10_to_the_10_to_the_15_is_an_error_not_a_hang() -> None:
    _, evaluator = graph("pow", scalar("a", 10), scalar("b", 10**15))
    start = time.perf_counter()
    result = evaluator.evaluate()["out"]
    assert time.perf_counter() - start < 1
    assert result.error == "the result of 10 ** 1000000000000000 is beyond the range of a float"


@pytest.mark.parametrize(("kind", "a", "b", "message"), [
    ("mul", 10**200, 10**200, "the result must be within the range of a float"),
    ("add", 10**308, 10**308, "the result must be within the range of a float"),
    ("pow", 10.0, 400, "the result of 10.0 ** 400 is beyond the range of a float"),
    ("pow", -8, 0.5, "the result is a complex number"),
])
def test_python_number_arithmetic_beyond_float_range_is_an_error_on_the_node(kind: str, a: Any, b: Any,
                                                                             message: str) -> None:
    _, evaluator = graph(kind, scalar("a", a), scalar("b", b))
    assert evaluator.evaluate()["out"].error.startswith(message)


def test_python_number_arithmetic_within_range_still_computes_exactly() -> None:
    _, evaluator = graph("pow", scalar("a", 2), scalar("b", 100))
    assert evaluator.evaluate()["out"].value == 2**100


@pytest.mark.parametrize(("kind", "a", "b", "attributes"), [
    ("add", (10_000, 1), (1, 10_000), {}),
    ("matmul", (5_000, 1), (1, 5_000), {}),
    ("mm", (5_000, 1), (1, 5_000), {}),
    ("expand", (1, 1), None, {"shape": (100_000, 100_000)}),
    ("expand", (100_000, 1), None, {"shape": (-1, 100_000)}),
])
def test_a_result_past_the_element_limit_is_an_error_before_it_is_allocated(kind: str, a: tuple, b: tuple | None,
                                                                            attributes: dict) -> None:
    _, evaluator = graph(kind, tensor("a", a), tensor("b", b) if b is not None else None, **attributes)
    tracemalloc.start()
    try:
        result = evaluator.evaluate()["out"]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "has more than 10,000,000 elements, the limit for one tensor" in result.error
    assert peak < 20_000_000  # the result would take 100 MB or more
