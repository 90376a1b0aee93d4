"""Recording a Backward pass for display: the gradient that reached every node and flowed along every edge.

The engine's backward calls an observer with each grad_fn it runs; `FlowRecorder` maps those grad_fns back
to the document nodes that created them (by creation order, and by where each value's gradient enters) and
sums what went along each edge, beside PyTorch's own `.grad` semantics.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gradstudio.engine as engine
from gradstudio.engine.autograd.graph import AccumulateGrad, sequence_nr
from gradstudio.model.document import GraphDocument
from gradstudio.model.node_runner import NodeResult


@dataclass
class BackwardStep:
    """One grad_fn the engine ran: its name, the document node that created it, gradients in and out."""

    name: str
    owner: str | None
    grad_in: Any
    grads_out: tuple
    function: Any = None


@dataclass
class BackwardResult:
    """Everything one Backward press produced, for display."""

    target: str
    node_grads: dict[str, Any] = field(default_factory=dict)
    edge_grads: dict[tuple[str, str], Any] = field(default_factory=dict)
    steps: list[BackwardStep] = field(default_factory=list)

    @property
    def path(self) -> set[tuple[str, str]]:
        """(target, port) keys of the edges a gradient flowed along."""
        return set(self.edge_grads)


# the wired inputs of a node: (port, source node) per edge into it, in port order
Wires = Callable[[str], tuple[tuple[str, str], ...]]


def document_wires(document: GraphDocument) -> Wires:
    """`Wires` read from the document's edges."""
    return lambda node_id: tuple((port, edge.source) for port, edge in document.inputs_of(node_id).items())


class FlowRecorder:
    """Turns the engine's backward steps into per-node and per-edge gradients."""

    def __init__(self, document: GraphDocument, results: dict[str, NodeResult], target: str,
                 wires: Wires | None = None) -> None:
        self.document = document
        self._wires = wires or document_wires(document)  # the evaluator's kept ones, else the document's
        self.result = BackwardResult(target)
        self._ranges = sorted((r.sequence[0], r.sequence[1], node_id) for node_id, r in results.items() if r.ok)
        self._starts = [start for start, _, _ in self._ranges]
        # where a gradient enters each node's value; several nodes share one entry when an op returns its
        # input itself (flatten of a 1-d tensor), listed upstream first
        self._entry_of: dict[int, list[str]] = {}
        for node_id in document.topological_order():
            r = results.get(node_id)
            if r is not None and r.entry is not None:
                self._entry_of.setdefault(id(r.entry), []).append(node_id)
        self._results = results
        self._target = target

    def owner(self, node: Any) -> str | None:
        """The document node whose computation created this grad_fn."""
        if isinstance(node, AccumulateGrad):
            aliases = self._entry_of.get(id(node))
            return aliases[0] if aliases else None
        number = sequence_nr(node)
        index = bisect.bisect_right(self._starts, number) - 1
        if index >= 0:
            start, end, node_id = self._ranges[index]
            if start <= number < end:
                return node_id
        return None

    def observe(self, node: Any, grad_in: Any, grads_out: tuple) -> None:
        owner = self.owner(node)
        entered = self._entry_of.get(id(node))
        grad_in = grad_in.detach()  # one detached tensor per gradient serves the step, the node and the edge
        grads_out = tuple([g if g is None else g.detach() for g in grads_out])
        if entered is not None:
            self._enter(entered, grad_in)
        self.result.steps.append(BackwardStep(node.name(), owner, grad_in, grads_out, node))
        if owner is None:
            return
        entry_of = self._entry_of
        for index, ((child, _), grad) in enumerate(zip(node.next_functions, grads_out)):
            if child is None or grad is None:
                continue
            sources = entry_of.get(id(child))
            if sources is None or owner in sources:
                continue
            port = self._port_for(owner, sources, node, index)
            if port is not None:
                self._add_edge_grad((owner, port), grad)

    def _add_edge_grad(self, key: tuple[str, str], grad: Any) -> None:
        """Add `grad` to what flowed along the edge into (target, port)."""
        previous = self.result.edge_grads.get(key)
        self.result.edge_grads[key] = grad if previous is None else previous + grad

    def _enter(self, aliases: list[str], grad_in: Any) -> None:
        """Record the gradient reaching a value; split it along the edges between nodes sharing that value."""
        for alias in reversed(aliases[1:]):  # none but the first, mostly: one node per value
            # what reached this alias: the gradients its consumers sent back (plus the seed if it is the target)
            parts = [self.result.edge_grads[(e.target, e.port)] for e in self.document.edges_from(alias)
                     if (e.target, e.port) in self.result.edge_grads]
            grad = grad_in if alias == self._target else sum(parts[1:], parts[0]) if parts else None
            if grad is None:
                continue
            self.result.node_grads[alias] = grad
            for edge in self.document.inputs_of(alias).values():
                if edge.source in aliases:
                    self._add_edge_grad((edge.target, edge.port), grad)
        self.result.node_grads[aliases[0]] = grad_in

    def _port_for(self, owner: str, sources: list[str], node: Any, index: int) -> str | None:
        """The port of `owner` whose edge from one of `sources` next_functions[index] of `node` stands for."""
        wires = self._wires(owner)
        candidates = [port for port, source in wires if source in sources]
        if len(candidates) <= 1:
            return candidates[0] if candidates else None
        output = self._results[owner].value
        if output.grad_fn is node:
            tensor_ports = [port for port, source in wires if isinstance(self._results[source].value, engine.Tensor)]
            if index < len(tensor_ports) and tensor_ports[index] in candidates:
                return tensor_ports[index]
        return candidates[0]
