"""The grad_fn graph as PyTorch builds it: from a tensor's `grad_fn` along `next_functions` to `AccumulateGrad`.

Qt-free: ids, names, edges, the document node that owns each function, and a
layering by depth from the root, for the autograd view to draw; plus the
gradients a Backward sent along each of its edges, for the same highlighting as
the canvas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from gradstudio.model.evaluation import BackwardStep, Evaluator


def short_name(name: str) -> str:
    """The name to display: `torch::autograd::AccumulateGrad` shows as `AccumulateGrad`."""
    return name.rsplit("::", 1)[-1]


@dataclass(frozen=True)
class FunctionNode:
    """One grad_fn: its id in this graph, PyTorch's name, the owning document node and where its gradients go."""

    id: str
    name: str
    owner: str | None
    next: tuple[str | None, ...]
    depth: int

    @property
    def label(self) -> str:
        """The short display name."""
        return short_name(self.name)


@dataclass
class AutogradGraph:
    """The functions reachable from a root grad_fn, by id, with the engine objects behind them."""

    root: str | None = None
    nodes: dict[str, FunctionNode] = field(default_factory=dict)
    functions: dict[str, Any] = field(default_factory=dict)
    # engine object identity -> id; safe because `functions` keeps every object alive
    identities: dict[int, str] = field(default_factory=dict, repr=False)

    def id_of(self, function: Any) -> str | None:
        """This graph's id of an engine grad_fn (None if it is not in the graph)."""
        return self.identities.get(id(function))

    def edges(self) -> list[tuple[str, str, int]]:
        """(function, next function, input index) for every edge, root first."""
        return [(node.id, child, index) for node in self.nodes.values() for index, child in enumerate(node.next)
                if child is not None]

    def columns(self) -> list[list[str]]:
        """Function ids grouped by depth, the deepest (the leaves' AccumulateGrad) first: data flows right."""
        deepest = max((node.depth for node in self.nodes.values()), default=-1)
        columns: list[list[str]] = [[] for _ in range(deepest + 1)]
        for node in self.nodes.values():
            columns[deepest - node.depth].append(node.id)
        return columns


def build_autograd_graph(grad_fn: Any, owner_of: Callable[[Any], str | None] = lambda _: None) -> AutogradGraph:
    """The graph reachable from `grad_fn` (None gives an empty graph), ids `f0`, `f1`, ... breadth first."""
    graph = AutogradGraph()
    if grad_fn is None:
        return graph
    order = _breadth_first(grad_fn)
    ids = {id(function): f"f{index}" for index, function in enumerate(order)}
    depths = _longest_depths(order)
    for function in order:
        key = ids[id(function)]
        following = tuple(ids[id(child)] if child is not None else None for child, _ in function.next_functions)
        graph.nodes[key] = FunctionNode(key, function.name(), owner_of(function), following, depths[id(function)])
        graph.functions[key] = function
    graph.identities = ids
    graph.root = "f0"
    return graph


def _breadth_first(root: Any) -> list[Any]:
    order, seen, index = [root], {id(root)}, 0
    while index < len(order):
        for child, _ in order[index].next_functions:
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                order.append(child)
        index += 1
    return order


def _longest_depths(order: list[Any]) -> dict[int, int]:
    """Each function's longest distance from the root (so every edge goes one column or more to the left)."""
    parents: dict[int, list[Any]] = {id(function): [] for function in order}
    for function in order:
        for child, _ in function.next_functions:
            if child is not None:
                parents[id(child)].append(function)
    depths: dict[int, int] = {}
    for function in _topological(order, parents):
        depths[id(function)] = max((depths[id(parent)] + 1 for parent in parents[id(function)]), default=0)
    return depths


def _topological(order: list[Any], parents: dict[int, list[Any]]) -> Iterable[Any]:
    """Functions with every parent before them (Kahn's algorithm on the reachable graph)."""
    waiting = {id(function): len(parents[id(function)]) for function in order}
    ready = [function for function in order if waiting[id(function)] == 0]
    while ready:
        function = ready.pop(0)
        yield function
        for child, _ in function.next_functions:
            if child is not None:
                waiting[id(child)] -= 1
                if waiting[id(child)] == 0:
                    ready.append(child)


def autograd_graph_of(evaluator: Evaluator, node_id: str) -> AutogradGraph:
    """The grad_fn graph behind a document node's value (empty when it has no grad_fn)."""
    result = evaluator.evaluate().get(node_id)
    value = result.value if result is not None and result.ok else None
    grad_fn = getattr(value, "grad_fn", None)
    if grad_fn is None:
        return AutogradGraph()
    return build_autograd_graph(grad_fn, evaluator.grad_fn_owners(node_id))


def edge_flows(graph: AutogradGraph, steps: Iterable[BackwardStep]) -> dict[tuple[str, str, int], Any]:
    """The gradient each Backward step sent along each edge of the graph, keyed like `edges()`."""
    flows: dict[tuple[str, str, int], Any] = {}
    for step in steps:
        key = graph.id_of(step.function)
        if key is None:
            continue
        for index, (child, grad) in enumerate(zip(graph.nodes[key].next, step.grads_out)):
            if child is not None and grad is not None:
                flows[(key, child, index)] = grad
    return flows


def executed(graph: AutogradGraph, steps: Iterable[BackwardStep]) -> list[str]:
    """Ids of the functions a Backward ran, in the engine's order."""
    return [key for key in (graph.id_of(step.function) for step in steps) if key is not None]
