"""Evaluation and Backward hold off the cyclic garbage collector while they run, and leave it as they found it."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from gradstudio.model.collector import collection_paused
from gradstudio.model.document import GraphDocument
from gradstudio.model.edits import SetAttribute
from gradstudio.model.evaluation import EvaluationCancelled, Evaluator
from tests.model.graph_builders import add_notes_chain


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """The collector on again after the test, whatever it did."""
    yield
    gc.enable()


def test_the_collector_is_off_within_and_back_on_after_also_after_an_error(collector_restored: None) -> None:
    assert gc.isenabled()
    with pytest.raises(KeyError), collection_paused():
        assert not gc.isenabled()
        raise KeyError("x")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(collector_restored: None) -> None:
    gc.disable()
    with collection_paused():
        pass
    assert not gc.isenabled()


def test_evaluate_and_backward_run_with_the_collector_off_and_turn_it_back_on(collector_restored: None) -> None:
    document = add_notes_chain(GraphDocument())
    evaluator = Evaluator(document)
    seen: list[bool] = []
    evaluator.evaluate(progress=lambda done, total: seen.append(gc.isenabled()))
    assert seen and not any(seen) and gc.isenabled()
    evaluator.backward("out")
    assert gc.isenabled() and evaluator.leaf_grad("x") is not None
    document.apply(SetAttribute("x", "fill", 2.0))
    with pytest.raises(EvaluationCancelled):
        evaluator.evaluate(should_stop=lambda: True)
    assert gc.isenabled()


def test_a_worker_thread_leaves_the_collector_alone(collector_restored: None) -> None:
    seen: list[bool] = []

    def work() -> None:
        with collection_paused():
            seen.append(gc.isenabled())
    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert seen == [True] and gc.isenabled()
