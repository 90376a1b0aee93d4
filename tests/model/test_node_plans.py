"""Each node's resolved inputs (its plan) are kept between evaluations and resolved again when they change (issue 15).

The oracle for every change is a fresh `Evaluator` on the same document, which has nothing kept: a kept plan
that outlived its inputs or attributes would make the two disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gradstudio.model.node_runner as node_runner
from gradstudio.model.annotations import AddAnnotation, Annotation
from gradstudio.model.document import Edge, GraphDocument
from gradstudio.model.edits import (
    Connect,
    Disconnect,
    Edit,
    MoveNode,
    RemoveNode,
    SetAttribute,
    SetRetainGrad,
    SetSetting,
)
from gradstudio.model.evaluation import Evaluator
from gradstudio.model.grad_regions import SetFrameGradMode
from gradstudio.model.port_constants import SetPortConstant
from tests.model.graph_builders import add


@pytest.fixture
def planned(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the nodes whose plan was resolved, in order."""
    node_ids: list[str] = []
    plan_of = node_runner.plan_of

    def counted(document: GraphDocument, node_id: str) -> node_runner.NodePlan:
        node_ids.append(node_id)
        return plan_of(document, node_id)

    monkeypatch.setattr(node_runner, "plan_of", counted)
    return node_ids


def graph() -> GraphDocument:
    """x (3,) tracked, w (3,) -> p = x * w, q = p * c (c typed on q's port), s = cat(p, q), out = s.sum()."""
    document = GraphDocument()
    add(document, "x", "tensor", shape=(3,), init="linspace", start=-1.0, end=1.0, requires_grad=True)
    add(document, "w", "tensor", shape=(3,), init="full", fill=2.0)
    add(document, "p", "mul", "x", "w")
    add(document, "q", "mul", "p")
    document.apply(SetPortConstant("q", "b", 3.0))
    add(document, "s", "cat", "p", "q")
    add(document, "out", "sum", "s")
    document.apply(MoveNode("p", (400.0, 0.0)))  # where a test's frame will hold it
    return document


def outcome(results: dict[str, Any]) -> dict[str, tuple]:
    """Per node: its values (or error, or blocker) and whether autograd tracks it."""
    shown = {}
    for node_id, result in results.items():
        value = result.tensor.detach().numpy().tolist() if result.tensor is not None else result.value
        shown[node_id] = (value, result.error, result.blocked_by, result.tracked)
    return shown


def assert_like_fresh(document: GraphDocument, evaluator: Evaluator, planned: list[str] | None = None,
                      ) -> dict[str, tuple]:
    """The kept evaluator's results are those of a fresh evaluator on the same document (whose plans, resolved
    meanwhile, are not counted in `planned`)."""
    kept = outcome(evaluator.evaluate())
    counted = len(planned) if planned is not None else 0
    fresh = Evaluator(document)
    try:
        assert kept == outcome(fresh.evaluate())
    finally:
        fresh.close()
        if planned is not None:
            del planned[counted:]
    return kept


def test_a_value_edit_resolves_no_plan_but_the_edited_nodes(planned: list[str]) -> None:
    document = graph()
    evaluator = Evaluator(document)
    evaluator.evaluate()
    assert sorted(planned) == sorted(document.nodes)
    planned.clear()
    document.apply(SetAttribute("w", "fill", 5.0))
    shown = assert_like_fresh(document, evaluator, planned)
    assert planned == ["w"] and shown["out"][0] == pytest.approx(float(np.linspace(-1, 1, 3).sum() * 5 * 4))


EDITS: list[tuple[str, Callable[[], Edit], str]] = [
    ("a wire onto a port holding a constant (the wire wins)", lambda: Connect(Edge("w", "q", "b")), "q"),
    ("a wire taken off", lambda: Disconnect(Edge("p", "q", "a")), "q"),
    ("a typed constant changed", lambda: SetPortConstant("q", "b", 7.0), "q"),
    ("a typed constant removed", lambda: SetPortConstant("q", "b", None), "q"),
    ("a variadic count raised", lambda: SetAttribute("s", "count", 3), "s"),
    ("an attribute of the op", lambda: SetAttribute("out", "keepdim", True), "out"),
    ("an input's shape", lambda: SetAttribute("w", "shape", (2,)), "w"),
    ("a node removed", lambda: RemoveNode("p"), "q"),
]


@pytest.mark.parametrize(("why", "make", "replanned"), EDITS, ids=[why for why, _, _ in EDITS])
def test_an_edit_to_a_nodes_inputs_or_attributes_resolves_it_again_and_undo_and_redo_do_too(
        planned: list[str], why: str, make: Callable[[], Edit], replanned: str) -> None:
    document = graph()
    evaluator = Evaluator(document)
    before = assert_like_fresh(document, evaluator, planned)
    edit = make()
    planned.clear()
    inverse = document.apply(edit)
    after = assert_like_fresh(document, evaluator, planned)
    assert replanned in planned and after != before, why
    redo = document.apply(inverse)
    assert assert_like_fresh(document, evaluator, planned) == before
    document.apply(redo)
    assert assert_like_fresh(document, evaluator, planned) == after


def test_retain_grad_read_from_the_node_keeps_the_non_leafs_grad() -> None:
    document = graph()
    evaluator = Evaluator(document)
    evaluator.evaluate()
    document.apply(SetRetainGrad("p", True))
    evaluator.backward("out")
    assert evaluator.leaf_grad("p").detach().numpy().tolist() == pytest.approx([4.0, 4.0, 4.0])
    inverse = document.apply(SetRetainGrad("p", False))
    evaluator.backward("out")
    assert evaluator.leaf_grad("p") is None
    document.apply(inverse)
    evaluator.backward("out")
    assert evaluator.leaf_grad("p") is not None


def test_regions_and_the_no_grad_toggle_change_tracking_through_kept_plans(planned: list[str]) -> None:
    document = graph()
    evaluator = Evaluator(document)
    assert assert_like_fresh(document, evaluator, planned)["out"][3]
    document.apply(AddAnnotation(Annotation("f", "frame", "f", (300.0, -100.0), (300.0, 300.0), grad_mode="no_grad")))
    shown = assert_like_fresh(document, evaluator, planned)
    assert not shown["p"][3] and shown["q"][3] is False and not shown["out"][3]
    document.apply(SetFrameGradMode("f", "enable_grad"))
    assert assert_like_fresh(document, evaluator, planned)["out"][3]
    document.apply(SetFrameGradMode("f", "no_grad"))
    moved_out = document.apply(MoveNode("p", (0.0, 600.0)))
    assert assert_like_fresh(document, evaluator, planned)["out"][3]
    document.apply(moved_out)
    assert not assert_like_fresh(document, evaluator, planned)["out"][3]
    planned.clear()
    document.apply(SetSetting("grad_mode", "no_grad"))
    shown = assert_like_fresh(document, evaluator, planned)
    assert shown["x"][3] and not shown["out"][3]  # a leaf is made alike in either mode
    document.apply(SetSetting("grad_mode", "normal"))
    document.apply(SetFrameGradMode("f", "none"))
    assert assert_like_fresh(document, evaluator, planned)["out"][3]
    assert planned == []  # modes and regions are not part of a plan: they are read as each node is computed


def test_mark_all_dirty_resolves_every_node_again(planned: list[str]) -> None:
    document = graph()
    evaluator = Evaluator(document)
    evaluator.evaluate()
    planned.clear()
    evaluator.mark_all_dirty()
    assert_like_fresh(document, evaluator, planned)
    assert sorted(planned) == sorted(document.nodes)
