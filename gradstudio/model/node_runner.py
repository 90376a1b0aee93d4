"""Computing one node from its inputs' results: the per-node half of evaluation (`evaluation.py` plans the order).

What a node reads from the document (its compute function, which node or typed constant feeds each port) is
resolved once into a `NodePlan` and kept until the node's inputs or attributes change; the size checks a node
passed are kept until its inputs' shapes or the element limit change. So a value edit at 1,000 nodes costs the
engine's ops and little beside them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import gradstudio.engine as engine
from gradstudio.engine.autograd.graph import gradient_node, sequence_mark, stored_grad
from gradstudio.model.document import GraphDocument, Node
from gradstudio.model.limits import check_element_count, short_message
from gradstudio.model.result_size import check_result_size

Tensor = engine.Tensor

# what a node computes: a tensor, or the Python number of a scalar node; None when it has no value
NodeValue = engine.Tensor | float | int | bool | None


class NodeResult(NamedTuple):
    """What a node computed: a value, or the error that stopped it (or the upstream node that did).

    Immutable; a named tuple rather than a frozen dataclass because one is made per node per evaluation and a
    tuple is built in a third of the time.
    """

    value: NodeValue = None
    error: str | None = None
    blocked_by: str | None = None
    sequence: tuple[int, int] = (0, 0)
    # where a gradient for the value entered when it was computed (its grad_fn or AccumulateGrad): an in-place
    # op downstream later gives the same tensor a new grad_fn, but this value's gradient still enters here
    entry: Any = None
    # the tensor value's shape as computed (None for a number or no value): read by the nodes downstream's size
    # checks and the canvas's wire labels without asking the tensor again; no op of the catalog reshapes in place
    shape: tuple[int, ...] | None = None

    @property
    def ok(self) -> bool:
        """True when the node has a value."""
        return self.error is None and self.blocked_by is None

    @property
    def tensor(self) -> engine.Tensor | None:
        """The value when it is a tensor (None for a Python number, or no value)."""
        return self.value if isinstance(self.value, Tensor) else None

    @property
    def tracked(self) -> bool:
        """True when autograd tracks the value: a tensor with requires_grad."""
        tensor = self.tensor
        return tensor is not None and tensor.requires_grad

    @property
    def grad(self) -> engine.Tensor | None:
        """PyTorch's `.grad` of the value as it is now: a leaf's, or a retained non-leaf's; never warns.

        Read live, so it follows Backward and Zero Grad although the result itself never changes.
        """
        tensor = self.tensor
        if tensor is None or not (tensor.is_leaf or tensor.retains_grad):
            return None
        return stored_grad(tensor)


# a port with neither an edge nor a typed constant (an edge wins over a constant)
UNCONNECTED = object()


@dataclass(frozen=True)
class NodePlan:
    """What computing one node reads from the document, resolved once: valid until its inputs or attributes change."""

    node: Node
    compute: Callable[[Mapping[str, Any], Mapping[str, Any]], Any]
    # per input port, in order: (port, the node feeding it or None, the typed constant or UNCONNECTED when None)
    inputs: tuple[tuple[str, str | None, Any], ...]
    # what the size check reads of the attributes beside the inputs' shapes: an expand's target shape
    checked_attributes: Any
    # (port, source node) per edge into the node, in port order: what a Backward's recorder asks
    wires: tuple[tuple[str, str], ...]


def plan_of(document: GraphDocument, node_id: str) -> NodePlan:
    """Resolve the node's compute function and where each of its inputs comes from."""
    node = document.nodes[node_id]
    spec = node.spec
    edges = document.edges
    inputs = []
    for port in spec.input_ports(node.attributes):
        edge = edges.get((node_id, port))
        if edge is not None:
            inputs.append((port, edge.source, None))
        else:
            inputs.append((port, None, node.port_constants.get(port, UNCONNECTED)))
    checked = node.attributes.get("shape") if node.kind == "expand" else None
    wires = tuple((port, source) for port, source, _ in inputs if source is not None)
    return NodePlan(node, spec.compute, tuple(inputs), checked, wires)


class NodeRunner:
    """Computes nodes one at a time from their inputs' results, with each node's plan and passed checks kept."""

    def __init__(self, document: GraphDocument) -> None:
        self.document = document
        self._plans: dict[str, NodePlan] = {}
        # per node, the inputs' shapes (with an expand's shape and the limit) its size checks last passed with,
        # and the result's shape then: re-checked only when they change
        self._passed: dict[str, tuple] = {}

    def replan(self, node_id: str) -> None:
        """The node's inputs or attributes changed: resolve it again when it is next computed."""
        self._plans.pop(node_id, None)

    def forget(self, node_id: str) -> None:
        """The node is gone: drop everything kept for it."""
        self._plans.pop(node_id, None)
        self._passed.pop(node_id, None)

    def clear(self) -> None:
        """Resolve every node again (the passed checks stay: they are keyed by what they read)."""
        self._plans.clear()

    def plan(self, node_id: str) -> NodePlan:
        """The node's plan, resolved now if it is not kept."""
        plan = self._plans.get(node_id)
        if plan is None:
            plan = self._plans[node_id] = plan_of(self.document, node_id)
        return plan

    def run(self, node_id: str, results: Mapping[str, NodeResult], limit: int) -> NodeResult:
        """Compute the node from `results` (its inputs' results) under the element limit `limit`."""
        plan = self._plans.get(node_id) or self.plan(node_id)
        inputs: dict[str, Any] = {}
        shapes: list[tuple[int, ...] | None] = []  # the inputs' shapes, in port order, for the size checks
        for port, source, constant in plan.inputs:
            if source is None:
                if constant is UNCONNECTED:
                    return NodeResult(error=f"input '{port}' is not connected")
                inputs[port] = constant
                shapes.append(constant.shape if isinstance(constant, Tensor) else None)
                continue
            upstream = results.get(source)
            if upstream is None or not upstream.ok:
                return NodeResult(blocked_by=upstream.blocked_by or source if upstream else source)
            inputs[port] = upstream.value
            shapes.append(upstream.shape)
        node = plan.node
        attributes = node.attributes
        start = sequence_mark()
        try:
            checks = (tuple(shapes), plan.checked_attributes, limit)
            passed = self._passed.get(node_id)
            same_inputs = passed is not None and passed[0] == checks
            if not same_inputs:
                check_result_size(node.kind, inputs, attributes)
            value = plan.compute(inputs, attributes)
            shape = value.shape if isinstance(value, Tensor) else None
            if shape is not None and not (same_inputs and passed[1] == shape):
                check_element_count(shape, "the result's shape")
            if not same_inputs or passed[1] != shape:
                self._passed[node_id] = (checks, shape)
        except MemoryError:
            return NodeResult(error="not enough memory to compute this node")
        except Exception as error:  # noqa: BLE001 - any engine error becomes the node's message
            return NodeResult(error=short_message(str(error)) or type(error).__name__)
        if shape is None:
            return NodeResult(value, None, None, (start, sequence_mark()))
        if node.retain_grad and value.grad_fn is not None:
            value.retain_grad()
        return NodeResult(value, None, None, (start, sequence_mark()), gradient_node(value), shape)
