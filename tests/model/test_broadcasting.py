"""The broadcast facts behind the edge markers: which input was broadcast, and how Backward summed it back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradstudio.model.broadcasting import BroadcastFact, broadcast, edge_broadcast, edge_marker
from gradstudio.model.evaluation import Evaluator
from gradstudio.model.io.fileformat import load

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


@pytest.mark.parametrize(("source", "target", "summed", "kept", "text"), [
    ((3,), (6, 3), (0,), (), "summed over dim 0"),
    ((3,), (2, 4, 3), (0, 1), (), "summed over dims 0, 1"),
    ((2, 1), (2, 3), (), (1,), "summed over dim 1, kept"),
    ((3, 1), (2, 3, 4), (0,), (2,), "summed over dim 0, and dim 2, kept"),
    ((), (2, 3), (0, 1), (), "summed over dims 0, 1"),
])
def test_broadcast_names_the_summed_dims(source: tuple, target: tuple, summed: tuple, kept: tuple,
                                         text: str) -> None:
    fact = broadcast(source, target)
    assert fact == BroadcastFact(source, target, summed, kept)
    assert fact.reduction == text
    # the numbers agree: summing over those dims gives the input's shape back
    assert np.ones(target).sum(axis=kept, keepdims=True).sum(axis=summed).shape == source


@pytest.mark.parametrize(("source", "target"), [((3,), (3,)), ((4,), (2, 3)), ((2, 3), (3,))])
def test_no_broadcast_for_equal_or_incompatible_shapes(source: tuple, target: tuple) -> None:
    assert broadcast(source, target) is None


def test_softmax_example_bias_is_broadcast_and_its_gradient_summed_over_dim_0() -> None:
    document = load(EXAMPLES / "softmax_classifier.gsg")
    evaluator = Evaluator(document)
    results = evaluator.evaluate()
    bias = document.name_owner("b")
    edge = next(e for e in document.edges_from(bias))
    fact = edge_broadcast(document, results, edge)
    assert fact.marker == "[3] → [6, 3]"
    assert edge_marker(fact, backward_done=False) == "[3] → [6, 3]"
    assert edge_marker(fact, backward_done=True) == "[3] → [6, 3]\nsummed over dim 0"
    backward = evaluator.backward()
    flowed = backward.node_grads[edge.target].numpy()
    np.testing.assert_allclose(backward.edge_grads[(edge.target, edge.port)].numpy(),
                               flowed.sum(axis=fact.summed), rtol=1e-6)
    # the other input of the add has the output's shape: no marker
    other = document.edges[(edge.target, "a")]
    assert edge_broadcast(document, results, other) is None
