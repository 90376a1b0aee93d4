"""The chain rule of each Backward step, with the numbers: incoming gradient x local derivative = outgoing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gradstudio.model.chain_rule import ELEMENTWISE, JACOBIAN, SCALAR_OUTPUT, contributions, explain_step
from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect
from gradstudio.model.evaluation import Evaluator
from gradstudio.model.io.fileformat import load

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def steps_of(example: str) -> tuple[Evaluator, list]:
    """Backward on an example's target, each step explained."""
    evaluator = Evaluator(load(EXAMPLES / f"{example}.gsg"))
    result = evaluator.backward()
    owners = evaluator.grad_fn_owners(result.target)
    return evaluator, [(step, explain_step(step, owners)) for step in result.steps]


def test_the_notes_chain_rule_with_numbers() -> None:
    evaluator, steps = steps_of("notes_forward_backward")
    name = {node_id: node.name for node_id, node in evaluator.document.nodes.items()}
    explained = [chain for _, chain in steps]
    assert [chain.label for chain in explained] == ["MeanBackward0", "MulBackward0", "MulBackward0",
                                                    "AddBackward0", "AccumulateGrad"]
    assert [name[chain.owner] for chain in explained] == ["out", "z", "y_squared", "y", "x"]
    mean, scale, square, add, accumulate = explained
    # out = z.mean(): d out / d z_i = 1/3, times the seed 1
    assert mean.grad_in == 1.0
    [term] = mean.terms
    assert term.kind == SCALAR_OUTPUT and name[term.destination] == "z"
    np.testing.assert_allclose(term.local, [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_allclose(term.product, [1 / 3] * 3, rtol=1e-6)
    # z = y_squared * 3: local derivative 3, the Python number gets nothing
    [term] = scale.terms
    assert term.kind == ELEMENTWISE and name[term.destination] == "y_squared"
    np.testing.assert_allclose(scale.grad_in, [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_array_equal(term.local, [3.0] * 3)
    np.testing.assert_array_equal(term.product, [1.0] * 3)
    # y_squared = y * y: each factor's local derivative is the other, y = 3; the engine sums 3 + 3 into y
    assert [t.kind for t in square.terms] == [ELEMENTWISE, ELEMENTWISE]
    for t in square.terms:
        assert name[t.destination] == "y"
        np.testing.assert_array_equal(t.local, [3.0] * 3)
        np.testing.assert_array_equal(t.product, [3.0] * 3)
    # y = x + 2: local derivative 1
    [term] = add.terms
    np.testing.assert_array_equal(add.grad_in, [6.0] * 3)
    np.testing.assert_array_equal(term.local, [1.0] * 3)
    np.testing.assert_array_equal(term.product, [6.0] * 3)
    assert name[term.destination] == "x"
    assert accumulate.accumulates and accumulate.terms == ()
    np.testing.assert_array_equal(accumulate.grad_in, [6.0] * 3)


@pytest.mark.parametrize("example", ["notes_forward_backward", "notes_randn_mean", "linear_regression",
                                     "softmax_classifier", "xor_mlp"])
def test_products_are_the_engines_outgoing_gradients(example: str) -> None:
    _, steps = steps_of(example)
    kinds = set()
    for step, chain in steps:
        for term in chain.terms:
            kinds.add(term.kind)
            np.testing.assert_allclose(term.product, step.grads_out[term.index].numpy(), rtol=1e-5, atol=1e-7)
    assert kinds


def test_matrix_products_show_the_whole_jacobian() -> None:
    _, steps = steps_of("linear_regression")
    jacobians = [term for _, chain in steps for term in chain.terms if term.kind == JACOBIAN]
    assert jacobians
    for term in jacobians:
        assert term.local.ndim == 2


def test_contributions_are_what_each_use_of_a_tensor_sent_back() -> None:
    document = GraphDocument()
    for node in [Node("x", "tensor", "x", {"requires_grad": True}), Node("s", "sin", "s"), Node("c", "cos", "c"),
                 Node("a", "add", "a"), Node("m", "sum", "m")]:
        document.apply(AddNode(node))
    for edge in [Edge("x", "s", "input"), Edge("x", "c", "input"), Edge("s", "a", "a"), Edge("c", "a", "b"),
                 Edge("a", "m", "input")]:
        document.apply(Connect(edge))
    evaluator = Evaluator(document)
    steps = evaluator.backward("m").steps
    [leaf] = [index for index, step in enumerate(steps) if step.name.endswith("AccumulateGrad")]
    sent = contributions(steps, leaf)
    assert len(sent) == 2  # from sin and from cos
    np.testing.assert_allclose(sent[0] + sent[1], steps[leaf].grad_in.numpy(), rtol=1e-6)
    np.testing.assert_allclose(sorted(float(part[0]) for part in sent), sorted([np.cos(1.0), -np.sin(1.0)]), rtol=1e-6)
    assert contributions(steps, 0) == []  # the first step gets the seed, from no step
