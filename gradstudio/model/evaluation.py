"""Evaluating a document through the engine: forward (incremental) and backward (with edge gradients).

Forward runs in topological order under the document's grad mode and recomputes
only nodes an edit made dirty, so leaf tensors (and their `.grad`) survive edits
elsewhere, as variables do in a PyTorch session. Backward runs the engine's real
backward from the target and records, beside PyTorch's `.grad` semantics, the
gradient that flowed along every edge and the order the engine visited grad_fns.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gradstudio.engine as engine
from gradstudio.engine.autograd.graph import AccumulateGrad, gradient_node, sequence_mark, sequence_nr, stored_grad
from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.grad_regions import mode_context, node_modes, region_of
from gradstudio.model.limits import check_element_count, max_elements, short_message
from gradstudio.model.result_size import check_result_size

# evaluate()'s callbacks: progress(done, total) after each node, should_stop() before each node
Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]


class EvaluationCancelled(Exception):
    """An evaluation stopped on request between nodes; the nodes not computed yet stay dirty."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__(f"evaluation cancelled after {done} of {total} nodes")
        self.done = done
        self.total = total


# what a node computes: a tensor, or the Python number of a scalar node; None when it has no value
NodeValue = engine.Tensor | float | int | bool | None


@dataclass(frozen=True)
class NodeResult:
    """What a node computed: a value, or the error that stopped it (or the upstream node that did)."""

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
        return self.value if isinstance(self.value, engine.Tensor) else None

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


class Evaluator:
    """Keeps every node's result up to date with the document and runs Backward on request."""

    def __init__(self, document: GraphDocument) -> None:
        self.document = document
        self.results: dict[str, NodeResult] = {}
        self.last_backward: BackwardResult | None = None
        self._dirty: set[str] = set(document.nodes)
        self._modes: dict[str, str] = node_modes(document)  # the nodes inside grad-mode regions, with their mode
        self.regions_version = 0  # counts changes of any node's region mode (the exported code changes with it)
        self.held = False  # a cancelled evaluation: the rest waits, unevaluated, until a caller clears this
        self._evaluating = threading.Lock()  # one evaluation at a time; another thread sees the results as they are
        # per node, the shapes (and limit) its size checks last passed with: re-checked only when they change
        self._passed_checks: dict[str, tuple] = {}
        self._unsubscribe = document.subscribe(self._on_change)

    def close(self) -> None:
        """Stop observing the document."""
        self._unsubscribe()

    # ----- invalidation ---------------------------------------------------------------------------------

    def _on_change(self, event: str, payload: Any) -> None:
        if event == "node_removed":
            self.results.pop(payload.id, None)
            self._passed_checks.pop(payload.id, None)
            self._dirty.discard(payload.id)
            self._modes.pop(payload.id, None)
        elif event == "node_added":
            self._dirty.add(payload.id)
            self._set_mode(payload.id, self._mode_at(payload.id))
        elif event == "node_moved":
            self._regions_changed([payload.id], {payload.id: self._mode_at(payload.id)})
        elif event.startswith("annotation_"):
            self._regions_changed(list(self.document.nodes), node_modes(self.document))
        elif event in ("edge_added", "edge_removed"):
            self._dirty |= self.document.descendants([payload.target])
        elif event == "attribute_changed":
            self._dirty |= self.document.descendants([payload[0].id])
        elif event == "settings_changed" and payload == "grad_mode":
            # leaves are made the same way in either mode; keeping them keeps their .grad, as in a session
            self._dirty |= {node_id for node_id, node in self.document.nodes.items() if node.input_ports()}
        # a new grad mode recomputes every non-leaf: the recorded flow no longer belongs to the values shown
        keeps_backward = event in ("node_moved", "node_renamed", "lesson_changed") or (
            (event, payload) == ("settings_changed", "backward_target"))
        if not keeps_backward and not event.startswith("annotation_"):
            self.last_backward = None

    def _mode_at(self, node_id: str) -> str | None:
        region = region_of(self.document, node_id)
        return region.grad_mode if region is not None else None

    def _set_mode(self, node_id: str, mode: str | None) -> None:
        if mode is None:
            self._modes.pop(node_id, None)
        else:
            self._modes[node_id] = mode

    def _regions_changed(self, node_ids: list[str], modes: dict[str, str | None]) -> None:
        """Give these nodes their new grad modes (`modes`; a node missing there is in no region) and mark dirty
        what changed: an op node and everything downstream. A leaf is made alike under no_grad and enable_grad,
        so it keeps its tensor (and .grad) unless inference_mode comes or goes."""
        changed = [node_id for node_id in node_ids if self._modes.get(node_id) != modes.get(node_id)]
        if not changed:
            return
        self.regions_version += 1
        affected = [node_id for node_id in changed if self.document.nodes[node_id].input_ports()
                    or "inference_mode" in (self._modes.get(node_id), modes.get(node_id))]
        for node_id in changed:
            self._set_mode(node_id, modes.get(node_id))
        if affected:
            self._dirty |= self.document.descendants(affected)
            self.last_backward = None

    def grad_mode_of(self, node_id: str) -> str | None:
        """The grad mode of the region the node is evaluated in, or None outside every region."""
        return self._modes.get(node_id)

    def recompute_downstream(self, node_ids: list[str]) -> None:
        """Recompute, on the next evaluate, every non-leaf fed by these leaves (changed in place, as by training)."""
        downstream = self.document.descendants(node_ids)
        self._dirty |= {node_id for node_id in downstream if self.document.nodes[node_id].input_ports()}
        self.last_backward = None

    def limit_changed(self) -> bool:
        """Recompute, on the next evaluate, what the element limit may now judge otherwise; True if any.

        Those are the nodes without a value (refused under the old limit, or blocked by one that was) and
        those holding more elements than the new limit, with everything downstream of them.
        """
        limit = max_elements()
        affected = [node_id for node_id, result in self.results.items()
                    if not result.ok or (result.tensor is not None and result.tensor.numel() > limit)]
        if not affected:
            return False
        self._dirty |= self.document.descendants(affected)
        self.last_backward = None
        return True

    def mark_all_dirty(self) -> None:
        """Recompute everything on the next evaluate (leaves too: fresh tensors, no .grad)."""
        self._dirty = set(self.document.nodes)

    @property
    def dirty(self) -> frozenset[str]:
        """Nodes the next evaluate will recompute."""
        return frozenset(self._dirty)

    # ----- forward --------------------------------------------------------------------------------------

    def evaluate(self, progress: Progress | None = None, should_stop: ShouldStop | None = None,
                 ) -> dict[str, NodeResult]:
        """Recompute the dirty nodes (and only those); returns all results.

        `progress(done, total)` is called after each node and `should_stop()` before each: when it answers
        True, `EvaluationCancelled` is raised and the nodes not computed yet stay dirty for the next call.
        While another thread evaluates, or while `held` (after a cancel, until the caller clears it), the
        results are returned as they are, without waiting or computing.
        """
        if self.held or not self._dirty or not self._evaluating.acquire(blocking=False):
            return self.results
        try:
            self._evaluate_dirty(progress, should_stop)
        finally:
            self._evaluating.release()
        return self.results

    def _evaluate_dirty(self, progress: Progress | None, should_stop: ShouldStop | None) -> None:
        """Compute the dirty nodes in topological order into a copy of the results, published at the end."""
        self._widen_for_in_place()
        order = [node_id for node_id in self.document.topological_order() if node_id in self._dirty]
        results = dict(self.results)  # readers in other threads keep a consistent mapping meanwhile
        enabled = self.document.settings.grad_mode == "normal"
        try:
            with engine.set_grad_enabled(enabled):  # grad mode is thread-local: set in the evaluating thread
                for done, node_id in enumerate(order):
                    if should_stop is not None and should_stop():
                        raise EvaluationCancelled(done, len(order))
                    mode = self._modes.get(node_id)
                    if mode is None:
                        results[node_id] = self._compute(node_id, results)
                    else:
                        with mode_context(mode):  # nested in the graph's mode, as PyTorch nests
                            results[node_id] = self._compute(node_id, results)
                    self._dirty.discard(node_id)
                    if progress is not None:
                        progress(done + 1, len(order))
            self._dirty.clear()
        finally:
            self.results = results

    def _widen_for_in_place(self) -> None:
        """A dirty in-place op would change its input's tensor a second time: recompute that input afresh too."""
        nodes, edges = self.document.nodes, self.document.edges
        pending = [node_id for node_id in self._dirty if nodes[node_id].spec.modifies is not None]
        while pending:
            node_id = pending.pop()
            edge = edges.get((node_id, nodes[node_id].spec.modifies))
            if edge is None or edge.source in self._dirty:
                continue
            added = self.document.descendants([edge.source]) - self._dirty
            self._dirty |= added | {edge.source}
            pending.extend(other for other in added | {edge.source} if nodes[other].spec.modifies is not None)

    @property
    def evaluating(self) -> bool:
        """True while some thread is evaluating."""
        return self._evaluating.locked()

    def _compute(self, node_id: str, results: dict[str, NodeResult]) -> NodeResult:
        node = self.document.nodes[node_id]
        spec = node.spec
        edges = self.document.edges
        inputs: dict[str, Any] = {}
        shapes: list[tuple[int, ...] | None] = []  # the inputs' shapes, in port order, for the size checks
        for port in spec.input_ports(node.attributes):
            edge = edges.get((node_id, port))
            if edge is None and port in node.port_constants:  # a typed constant; an edge would win over it
                value = inputs[port] = node.port_constants[port]
                shapes.append(value.shape if isinstance(value, engine.Tensor) else None)
                continue
            if edge is None:
                return NodeResult(error=f"input '{port}' is not connected")
            upstream = results.get(edge.source)
            if upstream is None or not upstream.ok:
                return NodeResult(blocked_by=upstream.blocked_by or edge.source if upstream else edge.source)
            inputs[port] = upstream.value
            shapes.append(upstream.shape)
        start = sequence_mark()
        try:
            checks = self._size_checks(node, shapes)
            passed = self._passed_checks.get(node_id)
            same_inputs = passed is not None and passed[0] == checks
            if not same_inputs:
                check_result_size(node.kind, inputs, node.attributes)
            value = spec.compute(inputs, node.attributes)
            shape = value.shape if isinstance(value, engine.Tensor) else None
            if shape is not None and not (same_inputs and passed[1] == shape):
                check_element_count(shape, "the result's shape")
            self._passed_checks[node_id] = (checks, shape)
        except MemoryError:
            return NodeResult(error="not enough memory to compute this node")
        except Exception as error:  # noqa: BLE001 - any engine error becomes the node's message
            return NodeResult(error=short_message(str(error)) or type(error).__name__)
        if shape is None:
            return NodeResult(value=value, sequence=(start, sequence_mark()))
        if node.retain_grad and value.grad_fn is not None:
            value.retain_grad()
        return NodeResult(value=value, sequence=(start, sequence_mark()), entry=gradient_node(value), shape=shape)

    @staticmethod
    def _size_checks(node: Node, shapes: list[tuple[int, ...] | None]) -> tuple:
        """What `check_result_size` reads: the kind, the inputs' shapes, an expand's shape and the element limit
        (the result's own check reads its shape and the same limit)."""
        return node.kind, tuple(shapes), node.attributes.get("shape") if node.kind == "expand" else None, max_elements()

    def value(self, node_id: str) -> Any:
        """The node's current value (evaluating first); None if it has an error."""
        result = self.evaluate().get(node_id)
        return result.value if result is not None else None

    # ----- backward -------------------------------------------------------------------------------------

    def backward(self, target: str | None = None, gradient: Any = None) -> BackwardResult:
        """Run `target.backward(gradient)` (retaining the graph, so Backward can be pressed again)."""
        target = target or self.document.settings.backward_target
        if target is None:
            raise RuntimeError("choose a node to run backward from")
        results = self.evaluate()
        if self.held and self._dirty:
            raise RuntimeError("the evaluation was cancelled: refresh to finish it before running backward")
        result = results.get(target)
        if result is None or not result.ok:
            raise RuntimeError(f"node {self.document.node(target).name} has no value to run backward from")
        value = result.value
        if not isinstance(value, engine.Tensor):
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        recorder = _FlowRecorder(self.document, results, target)
        engine.autograd.backward(value, gradient, retain_graph=True, observer=recorder.observe)
        self.last_backward = recorder.result
        return recorder.result

    def grad_fn_owners(self, target: str) -> Callable[[Any], str | None]:
        """A function naming the document node that created a grad_fn of the graph behind `target`."""
        return _FlowRecorder(self.document, self.evaluate(), target).owner

    def zero_grad(self) -> None:
        """Set every leaf's (and retained non-leaf's) `.grad` to None, as `optimizer.zero_grad()` does."""
        for result in self.results.values():
            if isinstance(result.value, engine.Tensor):
                result.value.grad = None
        self.last_backward = None

    def leaf_grad(self, node_id: str) -> engine.Tensor | None:
        """The `.grad` PyTorch would show for this node (None for non-leaves unless retained), not evaluating."""
        result = self.results.get(node_id)
        return result.grad if result is not None else None


class _FlowRecorder:
    """Turns the engine's backward steps into per-node and per-edge gradients."""

    def __init__(self, document: GraphDocument, results: dict[str, NodeResult], target: str) -> None:
        self.document = document
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
        index = bisect.bisect_right(self._starts, sequence_nr(node)) - 1
        if index >= 0:
            start, end, node_id = self._ranges[index]
            if start <= sequence_nr(node) < end:
                return node_id
        return None

    def observe(self, node: Any, grad_in: Any, grads_out: tuple) -> None:
        owner = self.owner(node)
        entered = self._entry_of.get(id(node))
        grad_in = grad_in.detach()  # one detached tensor per gradient serves the step, the node and the edge
        grads_out = tuple(g.detach() if g is not None else None for g in grads_out)
        if entered is not None:
            self._enter(entered, grad_in)
        self.result.steps.append(BackwardStep(node.name(), owner, grad_in, grads_out, node))
        if owner is None:
            return
        for index, ((child, _), grad) in enumerate(zip(node.next_functions, grads_out)):
            if child is None or grad is None:
                continue
            sources = self._entry_of.get(id(child))
            if sources is None or owner in sources:
                continue
            edge = self._edge_for(owner, sources, node, index)
            if edge is not None:
                self._add_edge_grad(edge, grad)

    def _add_edge_grad(self, edge: Edge, grad: Any) -> None:
        key = (edge.target, edge.port)
        previous = self.result.edge_grads.get(key)
        self.result.edge_grads[key] = grad if previous is None else previous + grad

    def _enter(self, aliases: list[str], grad_in: Any) -> None:
        """Record the gradient reaching a value; split it along the edges between nodes sharing that value."""
        for alias in reversed(aliases[1:]):
            # what reached this alias: the gradients its consumers sent back (plus the seed if it is the target)
            parts = [self.result.edge_grads[(e.target, e.port)] for e in self.document.edges_from(alias)
                     if (e.target, e.port) in self.result.edge_grads]
            grad = grad_in if alias == self._target else sum(parts[1:], parts[0]) if parts else None
            if grad is None:
                continue
            self.result.node_grads[alias] = grad
            for edge in self.document.inputs_of(alias).values():
                if edge.source in aliases:
                    self._add_edge_grad(edge, grad)
        self.result.node_grads[aliases[0]] = grad_in

    def _edge_for(self, owner: str, sources: list[str], node: Any, index: int) -> Edge | None:
        """The edge from one of `sources` into `owner` that next_functions[index] of `node` stands for."""
        candidates = [e for e in self.document.inputs_of(owner).values() if e.source in sources]
        if len(candidates) <= 1:
            return candidates[0] if candidates else None
        output = self._results[owner].value
        if output.grad_fn is node:
            tensor_ports = [port for port, e in self.document.inputs_of(owner).items()
                            if isinstance(self._results[e.source].value, engine.Tensor)]
            if index < len(tensor_ports):
                port = tensor_ports[index]
                return next((e for e in candidates if e.port == port), candidates[0])
        return candidates[0]
