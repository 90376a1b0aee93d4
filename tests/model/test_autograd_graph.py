"""The grad_fn graph builder: PyTorch's names, next_functions, owners, depth layering and Backward's flows."""

from __future__ import annotations

from pathlib import Path

import pytest

import gradstudio.engine as engine
from gradstudio.model.autograd_graph import (
    AutogradGraph,
    autograd_graph_of,
    build_autograd_graph,
    edge_flows,
    executed,
    short_name,
)
from gradstudio.model.edits import SetSetting
from gradstudio.model.evaluation import Evaluator
from gradstudio.model.io.fileformat import load

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


@pytest.fixture
def notes() -> Evaluator:
    """The notes example: x = ones(3, rg); y = x + 2; y_squared = y * y; z = y_squared * 3; out = z.mean()."""
    return Evaluator(load(EXAMPLES / "notes_forward_backward.gsg"))


def names(evaluator: Evaluator, graph: AutogradGraph) -> dict[str, tuple[str, str | None]]:
    """Each function id -> (its label, its owner's variable name)."""
    document = evaluator.document
    return {key: (node.label, document.nodes[node.owner].name if node.owner else None)
            for key, node in graph.nodes.items()}


def test_the_notes_graph_as_pytorch_builds_it(notes: Evaluator) -> None:
    graph = autograd_graph_of(notes, "n7")
    assert graph.root == "f0"
    assert names(notes, graph) == {"f0": ("MeanBackward0", "out"), "f1": ("MulBackward0", "z"),
                                   "f2": ("MulBackward0", "y_squared"), "f3": ("AddBackward0", "y"),
                                   "f4": ("AccumulateGrad", "x")}
    assert graph.nodes["f4"].name == "torch::autograd::AccumulateGrad"
    # the Python numbers 2 and 3 get no gradient: (None, 0) in next_functions, as in PyTorch
    assert [graph.nodes[key].next for key in ("f0", "f1", "f2", "f3", "f4")] == [
        ("f1",), ("f2", None), ("f3", "f3"), ("f4", None), ()]
    assert graph.edges() == [("f0", "f1", 0), ("f1", "f2", 0), ("f2", "f3", 0), ("f2", "f3", 1), ("f3", "f4", 0)]
    assert graph.columns() == [["f4"], ["f3"], ["f2"], ["f1"], ["f0"]]


def test_depth_is_the_longest_distance_from_the_root() -> None:
    a = engine.ones(2, requires_grad=True)
    b = a.exp()
    out = (a * b).sum()
    graph = build_autograd_graph(out.grad_fn)
    labels = {node.label: node.depth for node in graph.nodes.values()}
    assert labels == {"SumBackward0": 0, "MulBackward0": 1, "ExpBackward0": 2, "AccumulateGrad": 3}
    assert all(graph.nodes[child].depth > graph.nodes[parent].depth for parent, child, _ in graph.edges())


def test_no_grad_fn_gives_an_empty_graph(notes: Evaluator) -> None:
    notes.document.apply(SetSetting("grad_mode", "no_grad"))
    graph = autograd_graph_of(notes, "n7")
    assert graph.root is None and graph.nodes == {} and graph.edges() == [] and graph.columns() == []
    assert autograd_graph_of(notes, "n2").nodes == {}


def test_backward_flows_and_order_on_the_graph(notes: Evaluator) -> None:
    graph = autograd_graph_of(notes, "n7")
    result = notes.backward()
    assert executed(graph, result.steps) == ["f0", "f1", "f2", "f3", "f4"]
    flows = {key: grad.tolist() for key, grad in edge_flows(graph, result.steps).items()}
    third = pytest.approx([1 / 3] * 3)
    assert flows == {("f0", "f1", 0): third, ("f1", "f2", 0): [1.0] * 3, ("f2", "f3", 0): [3.0] * 3,
                     ("f2", "f3", 1): [3.0] * 3, ("f3", "f4", 0): [6.0] * 3}
    assert set(flows) == set(graph.edges())


def test_short_names() -> None:
    assert short_name("torch::autograd::AccumulateGrad") == "AccumulateGrad"
    assert short_name("MulBackward0") == "MulBackward0"
