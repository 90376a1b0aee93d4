"""Property tests: random graphs evaluate as the engine does, edits undo exactly, incremental equals full."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gradstudio.engine as engine
from gradstudio.model.catalog import CATALOG
from gradstudio.model.document import Edge, EditError, GraphDocument, Node
from gradstudio.model.edits import (
    AddNode,
    Batch,
    Connect,
    Disconnect,
    Edit,
    MoveNode,
    RemoveNode,
    RenameNode,
    SetAttribute,
    SetRetainGrad,
    SetSetting,
)
from gradstudio.model.evaluation import Evaluator, NodeResult

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# shapes that all broadcast together, so most random wirings are valid
SHAPES = [(2, 3), (3,), (1, 3), (2, 1), ()]
UNARY = ["neg", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "clone"]
BINARY = ["add", "sub", "mul", "maximum", "minimum"]
REDUCTIONS = ["sum", "mean", "max", "min"]
SHAPE_OPS = ["reshape", "unsqueeze", "squeeze", "flatten", "stack", "cat"]


def _extreme(function: Callable[..., Any]) -> Callable[..., Any]:
    # like torch.max: over everything without a dim (where keepdim=True is PyTorch's TypeError), else the values
    def call(x: Any, dim: Any, keepdim: bool) -> Any:
        return function(x, keepdim=keepdim) if dim is None else function(x, dim, keepdim).values

    return call


# the engine called directly, one entry per kind the generator uses (independent of the catalog's compute)
REFERENCE: dict[str, Callable[..., Any]] = {
    **{kind: (lambda name: lambda x: getattr(engine, name)(x))(kind) for kind in UNARY},
    "neg": operator.neg, "clone": lambda x: x.clone(),
    "add": operator.add, "sub": operator.sub, "mul": operator.mul,
    "maximum": lambda a, b: engine.maximum(a, b), "minimum": lambda a, b: engine.minimum(a, b),
    "sum": lambda x, dim, keepdim: engine.sum(x, dim, keepdim),
    "mean": lambda x, dim, keepdim: engine.mean(x, dim, keepdim),
    "max": _extreme(engine.max), "min": _extreme(engine.min),
    "reshape": lambda x, shape: engine.reshape(x, shape), "unsqueeze": lambda x, dim: engine.unsqueeze(x, dim),
    "squeeze": lambda x, dim: engine.squeeze(x) if dim is None else engine.squeeze(x, dim),
    "flatten": lambda x, start_dim, end_dim: engine.flatten(x, start_dim, end_dim),
    "stack": lambda *xs, dim, count: engine.stack(list(xs), dim=dim),
    "cat": lambda *xs, dim, count: engine.cat(list(xs), dim=dim),
}

small = st.floats(-2, 2, width=32, allow_subnormal=False)


@dataclass
class Spec:
    """One generated node: kind, attributes and the indices of the earlier nodes feeding its ports."""

    kind: str
    attributes: dict[str, Any]
    inputs: tuple[int, ...] = ()


@st.composite
def leaf_specs(draw: st.DrawFn, scalar: bool = True) -> Spec:
    """A tensor leaf with explicit values, or (if `scalar`) sometimes a Python-number operand."""
    if scalar and draw(st.integers(0, 4)) == 0:
        return Spec("scalar", {"value": draw(small)})
    shape = draw(st.sampled_from(SHAPES))
    count = int(np.prod(shape, dtype=int))
    values = draw(st.lists(small, min_size=count, max_size=count))
    return Spec("tensor", {"shape": shape, "init": "values", "values": tuple(values),
                           "requires_grad": draw(st.booleans())})


@st.composite
def op_specs(draw: st.DrawFn, tensors: list[int], available: int) -> Spec:
    """An op wired to earlier nodes: tensor inputs from `tensors`, a binary op's `b` from any of `available`."""
    earlier = st.sampled_from(tensors)
    family = draw(st.sampled_from(["unary", "binary", "reduction", "shape"]))
    if family == "unary":
        return Spec(draw(st.sampled_from(UNARY)), {}, (draw(earlier),))
    if family == "binary":
        return Spec(draw(st.sampled_from(BINARY)), {}, (draw(earlier), draw(st.integers(0, available - 1))))
    if family == "reduction":
        dim = draw(st.sampled_from([None, 0, -1]))
        return Spec(draw(st.sampled_from(REDUCTIONS)), {"dim": dim, "keepdim": draw(st.booleans())}, (draw(earlier),))
    kind = draw(st.sampled_from(SHAPE_OPS))
    if kind == "reshape":
        return Spec(kind, {"shape": draw(st.sampled_from([(-1,), (3, -1), (-1, 1)]))}, (draw(earlier),))
    if kind == "unsqueeze":
        return Spec(kind, {"dim": draw(st.sampled_from([0, -1]))}, (draw(earlier),))
    if kind == "squeeze":
        return Spec(kind, {"dim": draw(st.sampled_from([None, 0]))}, (draw(earlier),))
    if kind == "flatten":
        return Spec(kind, {"start_dim": 0, "end_dim": -1}, (draw(earlier),))
    count = draw(st.integers(1, 3))
    return Spec(kind, {"count": count, "dim": 0}, tuple(draw(earlier) for _ in range(count)))


@st.composite
def graphs(draw: st.DrawFn, max_ops: int = 8) -> list[Spec]:
    """A random DAG: leaves (the first a tensor), then ops each wired to earlier nodes (ops make tensors)."""
    specs = [draw(leaf_specs(scalar=False)), *draw(st.lists(leaf_specs(), max_size=3))]
    for _ in range(draw(st.integers(1, max_ops))):
        tensors = [index for index, spec in enumerate(specs) if spec.kind != "scalar"]
        specs.append(draw(op_specs(tensors, len(specs))))
    return specs


def build(specs: list[Spec]) -> GraphDocument:
    """The document the specs describe, node i having id and name `n{i}`."""
    document = GraphDocument()
    for index, spec in enumerate(specs):
        document.apply(AddNode(Node(f"n{index}", spec.kind, f"n{index}", dict(spec.attributes))))
        for port, source in zip(document.nodes[f"n{index}"].input_ports(), spec.inputs):
            document.apply(Connect(Edge(f"n{source}", f"n{index}", port)))
    return document


def reference_results(specs: list[Spec]) -> list[NodeResult]:
    """Each node's outcome computed by calling the engine directly, in generation (a topological) order."""
    outcomes: list[NodeResult] = []
    for spec in specs:
        blocked = next((outcomes[i] for i in spec.inputs if not outcomes[i].ok), None)
        if blocked is not None:
            root = blocked.blocked_by or f"n{specs_index(outcomes, blocked)}"
            outcomes.append(NodeResult(blocked_by=root))
            continue
        try:
            outcomes.append(NodeResult(value=compute_reference(spec, [outcomes[i].value for i in spec.inputs])))
        except Exception as error:  # noqa: BLE001 - an engine error is the node's outcome, as in the evaluator
            outcomes.append(NodeResult(error=str(error) or type(error).__name__))
    return outcomes


def specs_index(outcomes: list[NodeResult], outcome: NodeResult) -> int:
    """The position of `outcome` (by identity) in `outcomes`."""
    return next(i for i, other in enumerate(outcomes) if other is outcome)


def compute_reference(spec: Spec, inputs: list[Any]) -> Any:
    """One node's value straight from the engine."""
    if spec.kind == "scalar":
        return spec.attributes["value"]
    if spec.kind == "tensor":
        shape, values = spec.attributes["shape"], spec.attributes["values"]
        nested = np.asarray(values, dtype=np.float32).reshape(shape).tolist()
        return engine.tensor(nested, requires_grad=spec.attributes["requires_grad"])
    return REFERENCE[spec.kind](*inputs, **spec.attributes)


def assert_same_outcome(got: NodeResult, want: NodeResult, where: str) -> None:
    """Same error, same blocking node, or the same value (bit for bit, with its grad_fn and requires_grad)."""
    assert (got.error, got.blocked_by) == (want.error, want.blocked_by), where
    if not want.ok:
        return
    assert isinstance(got.value, engine.Tensor) == isinstance(want.value, engine.Tensor), where
    if isinstance(want.value, engine.Tensor):
        assert got.value.shape == want.value.shape and got.value.dtype == want.value.dtype, where
        np.testing.assert_array_equal(got.value.detach().numpy(), want.value.detach().numpy(), err_msg=where)
        assert got.value.requires_grad == want.value.requires_grad, where
        assert (got.value.grad_fn and got.value.grad_fn.name()) == (want.value.grad_fn and want.value.grad_fn.name())
    else:
        assert type(got.value) is type(want.value) and got.value == want.value, where


def outcome_of(call: Callable[[], Any]) -> str | None:
    """None if `call` succeeds, else its error message."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 - compared between the evaluator and the engine
        return f"{type(error).__name__}: {error}"
    return None


@SETTINGS
@given(graphs())
def test_random_graphs_evaluate_as_the_engine_does(specs: list[Spec]) -> None:
    document = build(specs)
    evaluator = Evaluator(document)
    results = evaluator.evaluate()
    reference = reference_results(specs)
    for index, want in enumerate(reference):
        assert_same_outcome(results[f"n{index}"], want, f"node n{index} ({specs[index].kind})")
    # backward from the last node: the same error, or the same gradient in every leaf
    last = len(specs) - 1
    target = reference[last].value
    if not isinstance(target, engine.Tensor):
        return
    gradient = None if target.dim() == 0 else engine.ones_like(target)
    assert outcome_of(lambda: evaluator.backward(f"n{last}", gradient)) == outcome_of(
        lambda: target.backward(gradient))
    for index, spec in enumerate(specs):
        if spec.kind == "tensor":
            got, want = evaluator.leaf_grad(f"n{index}"), reference[index].value.grad
            assert (got is None) == (want is None)
            if want is not None:
                np.testing.assert_array_equal(got.numpy(), want.numpy())


# ----- random edits ----------------------------------------------------------------------------------------------

NAMES = ["x", "y", "n0", "n1", "loss", "1bad", "for", "torch", "a b", ""]
ATTRIBUTE_VALUES = {
    "shape": [(2,), (3,), (2, 2), [1, 3], (-1,), (3, -2), "3", (1.5,)],
    "dims": [(1, 0), (0,), (0, 2, 1), (1.0, 0)],
    "dim": [0, 1, -1, None, 2.5, "0"],
    "int": [0, 1, 2, 3, 65, -1, 1.5, True],
    "float": [0.0, 1, -2.5, "x", None],
    "number": [2, 0.5, None, False],
    "bool": [True, False, 1, None],
    "index": ["0", "1:3", "None, ...", "a:b", 3],
    "values": [(1, 2, 3), [[1, 2], [3, 4]], (), ("a",)],
}


@st.composite
def edits(draw: st.DrawFn, document: GraphDocument) -> Edit:
    """A random edit against the current document, sometimes one the document must refuse."""
    node_ids = sorted(document.nodes)
    some_node = st.sampled_from([*node_ids, "ghost"])
    kind = draw(st.sampled_from(["add", "remove", "connect", "disconnect", "attribute", "attribute", "rename",
                                 "move", "retain", "setting", "batch"]))
    if kind == "add":
        node_id = draw(st.sampled_from([document.new_id(), *node_ids[:1]]))
        name = draw(st.sampled_from([document.new_name("v"), *NAMES]))
        return AddNode(Node(node_id, draw(st.sampled_from(sorted(CATALOG))), name))
    if kind == "remove":
        return RemoveNode(draw(some_node))
    if kind == "connect":
        target = draw(some_node)
        ports = list(document.nodes[target].input_ports()) if target in document.nodes else []
        return Connect(Edge(draw(some_node), target, draw(st.sampled_from([*ports, "nope"]))))
    if kind == "disconnect":
        existing = list(document.edges.values())
        return Disconnect(draw(st.sampled_from([*existing, Edge("x", "y", "a")])))
    if kind == "attribute":
        node_id = draw(some_node)
        specs = document.nodes[node_id].spec.attributes if node_id in document.nodes else ()
        if not specs:
            return SetAttribute(node_id, "dim", 0)
        spec = draw(st.sampled_from(specs))
        pool = ATTRIBUTE_VALUES.get(spec.kind, []) + list(spec.choices) + ["bogus", spec.default]
        name = draw(st.sampled_from([spec.name, spec.name, "bogus"]))
        return SetAttribute(node_id, name, draw(st.sampled_from(pool)))
    if kind == "rename":
        return RenameNode(draw(some_node), draw(st.sampled_from(NAMES)))
    if kind == "move":
        return MoveNode(draw(some_node), (draw(st.integers(-50, 50)), draw(small)))
    if kind == "retain":
        return SetRetainGrad(draw(some_node), draw(st.booleans()))
    if kind == "setting":
        name = draw(st.sampled_from(["grad_mode", "backward_target", "theme"]))
        return SetSetting(name, draw(st.sampled_from(["normal", "no_grad", "off", None, *node_ids, "ghost"])))
    return Batch([draw(edits(document)), draw(edits(document))])


@SETTINGS
@given(graphs(max_ops=5), st.data())
def test_edits_then_inverses_in_reverse_restore_the_document(specs: list[Spec], data: st.DataObject) -> None:
    document = build(specs)
    original = document.snapshot()
    inverses: list[Edit] = []
    for _ in range(data.draw(st.integers(1, 12), label="edit count")):
        edit = data.draw(edits(document), label="edit")
        before = document.snapshot()
        try:
            inverses.append(document.apply(edit))
        except EditError:
            assert document.snapshot() == before
        assert_structure_indexed(document)
    for inverse in reversed(inverses):
        document.apply(inverse)
    assert document.snapshot() == original
    assert_structure_indexed(document)


def assert_structure_indexed(document: GraphDocument) -> None:
    """The document's cached graph, order and names agree with ones computed from scratch."""
    graph = nx.DiGraph()
    graph.add_nodes_from(document.nodes)
    graph.add_edges_from((edge.source, edge.target) for edge in document.edges.values())
    position = {node_id: index for index, node_id in enumerate(document.nodes)}
    assert nx.utils.graphs_equal(document.graph(), graph)
    assert document.topological_order() == list(nx.lexicographical_topological_sort(graph, key=position.get))
    assert all(document.name_owner(node.name) == node_id for node_id, node in document.nodes.items())
    assert document.name_owner("unused_name") is None


# ----- incremental versus full recompute -------------------------------------------------------------------------


@st.composite
def value_edits(draw: st.DrawFn, document: GraphDocument) -> Edit:
    """An edit that changes values: a leaf's numbers, an op's attributes, grad mode, retain_grad or wiring."""
    node_id = draw(st.sampled_from(sorted(document.nodes)))
    node = document.nodes[node_id]
    choice = draw(st.integers(0, 5))
    if choice == 0 and node.kind == "tensor":
        count = len(node.attributes["values"])
        return SetAttribute(node_id, "values", tuple(draw(st.lists(small, min_size=count, max_size=count))))
    if choice == 1 and node.kind == "scalar":
        return SetAttribute(node_id, "value", draw(small))
    if choice == 2 and node.kind in REDUCTIONS:
        return SetAttribute(node_id, "dim", draw(st.sampled_from([None, 0, -1])))
    if choice == 3:
        return SetSetting("grad_mode", draw(st.sampled_from(["normal", "no_grad"])))
    if choice == 4 and document.inputs_of(node_id):
        return Disconnect(draw(st.sampled_from(sorted(document.inputs_of(node_id).values(), key=str))))
    return SetRetainGrad(node_id, draw(st.booleans()))


@SETTINGS
@given(graphs(), st.data())
def test_incremental_recompute_equals_a_full_recompute(specs: list[Spec], data: st.DataObject) -> None:
    document = build(specs)
    evaluator = Evaluator(document)
    evaluator.evaluate()
    for _ in range(data.draw(st.integers(1, 6), label="edit count")):
        document.apply(data.draw(value_edits(document), label="edit"))
        if data.draw(st.booleans(), label="evaluate now"):
            evaluator.evaluate()
    incremental = evaluator.evaluate()
    full = Evaluator(document).evaluate()
    assert set(incremental) == set(full)
    for node_id, want in full.items():
        assert_same_outcome(incremental[node_id], want, node_id)
