"""Evaluating with progress and cancel: stopped between nodes, the rest left dirty, finished by the next call."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from graph_builders import add

from gradstudio.model import limits
from gradstudio.model.document import GraphDocument
from gradstudio.model.edits import SetSetting
from gradstudio.model.evaluation import EvaluationCancelled, Evaluator


def chain_document(length: int = 12) -> GraphDocument:
    """x = ones(3, requires_grad=True); n1 = x + x; n2 = n1 + x; ... a chain of `length` adds."""
    document = GraphDocument()
    add(document, "x", "tensor", shape=(3,), requires_grad=True)
    previous = "x"
    for index in range(1, length + 1):
        add(document, f"n{index}", "add", previous, "x")
        previous = f"n{index}"
    return document


def test_progress_reports_every_node_in_order() -> None:
    document = chain_document()
    calls: list[tuple[int, int]] = []
    Evaluator(document).evaluate(progress=lambda done, total: calls.append((done, total)))
    assert calls == [(done, 13) for done in range(1, 14)]


def test_cancel_leaves_the_rest_dirty_and_the_next_evaluate_finishes() -> None:
    document = chain_document()
    evaluator = Evaluator(document)
    seen: list[int] = []
    with pytest.raises(EvaluationCancelled) as cancelled:
        evaluator.evaluate(progress=lambda done, _total: seen.append(done), should_stop=lambda: len(seen) >= 5)
    assert (cancelled.value.done, cancelled.value.total) == (5, 13)
    assert "cancelled" in str(cancelled.value)
    assert len(evaluator.dirty) == 8 and "n12" in evaluator.dirty and "n3" not in evaluator.dirty
    assert set(evaluator.results) == {"x", "n1", "n2", "n3", "n4"}
    results = evaluator.evaluate()
    assert not evaluator.dirty
    expected = Evaluator(chain_document()).evaluate()
    for node_id, result in expected.items():
        assert np.array_equal(results[node_id].value.detach().numpy(), result.value.detach().numpy())


def test_a_worker_thread_evaluates_under_the_documents_grad_mode() -> None:
    document = chain_document(3)
    document.apply(SetSetting("grad_mode", "no_grad"))
    evaluator = Evaluator(document)
    worker = threading.Thread(target=evaluator.evaluate)
    worker.start()
    worker.join(timeout=60)
    assert not evaluator.dirty
    assert not evaluator.results["n3"].tracked and evaluator.results["x"].tracked


def test_another_thread_gets_the_results_as_they_are_while_one_evaluates() -> None:
    document = chain_document(3)
    evaluator = Evaluator(document)
    inner: list[int] = []

    def look(done: int, _total: int) -> None:
        if done == 2:
            reader = threading.Thread(target=lambda: inner.append(len(evaluator.evaluate())))
            reader.start()
            reader.join(timeout=60)

    evaluator.evaluate(progress=look)
    assert inner == [0] and not evaluator.dirty and len(evaluator.results) == 4


def test_a_held_evaluator_computes_nothing_and_refuses_backward_until_released() -> None:
    document = chain_document(3)
    evaluator = Evaluator(document)
    seen: list[int] = []
    with pytest.raises(EvaluationCancelled):
        evaluator.evaluate(progress=lambda done, _total: seen.append(done), should_stop=lambda: bool(seen))
    evaluator.held = True
    assert set(evaluator.evaluate()) == {"x"}
    with pytest.raises(RuntimeError, match="cancelled"):
        evaluator.backward("n3", None)
    evaluator.held = False
    assert len(evaluator.evaluate()) == 4


def test_a_new_element_limit_recomputes_what_it_judges_otherwise() -> None:
    document = chain_document(2)
    add(document, "other", "tensor", shape=(2,))
    evaluator = Evaluator(document)
    evaluator.evaluate()
    other = evaluator.results["other"].value
    previous = limits.set_max_elements(2)
    try:
        assert evaluator.limit_changed()
        assert evaluator.dirty == {"x", "n1", "n2"}
        evaluator.evaluate()
        assert not evaluator.results["x"].ok and evaluator.results["n2"].blocked_by == "x"
        assert evaluator.results["other"].value is other  # untouched: a leaf keeps its tensor (and .grad)
    finally:
        limits.set_max_elements(previous)
    assert evaluator.limit_changed() and evaluator.dirty == {"x", "n1", "n2"}
    assert evaluator.evaluate()["n2"].ok
    assert not evaluator.limit_changed()
