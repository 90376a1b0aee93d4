"""Evaluating a document through the engine: forward (incremental) and backward (with edge gradients).

Forward runs in topological order under the document's grad mode and recomputes
only nodes an edit made dirty, so leaf tensors (and their `.grad`) survive edits
elsewhere, as variables do in a PyTorch session. Backward runs the engine's real
backward from the target and records, beside PyTorch's `.grad` semantics, the
gradient that flowed along every edge and the order the engine visited grad_fns.
Both run with the cyclic garbage collector held off (`collector.py`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import gradstudio.engine as engine
from gradstudio.engine.autograd.graph import gradient_node
from gradstudio.model.backward_flow import BackwardResult, BackwardStep, FlowRecorder
from gradstudio.model.collector import collection_paused
from gradstudio.model.document import GraphDocument, Node
from gradstudio.model.grad_regions import mode_context, node_modes, region_of
from gradstudio.model.limits import max_elements
from gradstudio.model.node_runner import NodeResult, NodeRunner, NodeValue

__all__ = ["BackwardResult", "BackwardStep", "EvaluationCancelled", "Evaluator", "NodeResult", "NodeValue"]

# evaluate()'s callbacks: progress(done, total) after each node, should_stop() before each node
Progress = Callable[[int, int], None]
ShouldStop = Callable[[], bool]


class EvaluationCancelled(Exception):
    """An evaluation stopped on request between nodes; the nodes not computed yet stay dirty."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__(f"evaluation cancelled after {done} of {total} nodes")
        self.done = done
        self.total = total


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
        self._runner = NodeRunner(document)  # each node's resolved inputs and passed size checks
        self._limit = max_elements()  # the element limit, read once per evaluation
        self._unsubscribe = document.subscribe(self._on_change)

    def close(self) -> None:
        """Stop observing the document."""
        self._unsubscribe()

    # ----- invalidation ---------------------------------------------------------------------------------

    def _on_change(self, event: str, payload: Any) -> None:
        if event == "node_removed":
            self.results.pop(payload.id, None)
            self._runner.forget(payload.id)
            self._dirty.discard(payload.id)
            self._modes.pop(payload.id, None)
        elif event == "node_added":
            self._dirty.add(payload.id)
            self._runner.replan(payload.id)
            self._set_mode(payload.id, self._mode_at(payload.id))
        elif event == "node_moved":
            self._regions_changed([payload.id], {payload.id: self._mode_at(payload.id)})
        elif event.startswith("annotation_"):
            self._regions_changed(list(self.document.nodes), node_modes(self.document))
        elif event in ("edge_added", "edge_removed"):
            self._runner.replan(payload.target)
            self._dirty |= self.document.descendants([payload.target])
        elif event == "attribute_changed":
            node = payload[0]
            self._runner.replan(node.id)
            downstream = self.document.descendants([node.id])
            if self._requires_grad_in_place(node, payload[1]):
                downstream.discard(node.id)
            self._dirty |= downstream
        elif event == "settings_changed" and payload == "grad_mode":
            # leaves are made the same way in either mode; keeping them keeps their .grad, as in a session
            self._dirty |= {node_id for node_id, node in self.document.nodes.items() if node.input_ports()}
        # a new grad mode recomputes every non-leaf: the recorded flow no longer belongs to the values shown
        keeps_backward = event in ("node_moved", "node_renamed", "lesson_changed") or (
            (event, payload) == ("settings_changed", "backward_target"))
        if not keeps_backward and not event.startswith("annotation_"):
            self.last_backward = None

    def _requires_grad_in_place(self, node: Node, attribute: str) -> bool:
        """`x.requires_grad_(flag)` on a leaf's own tensor, as PyTorch does it: the tensor keeps its `.grad`, so an
        undo gives back exactly what was there. False when the leaf must be made afresh instead (not computed yet,
        about to be recomputed anyway, or refusing the flag, as an integer or inference tensor does)."""
        if attribute != "requires_grad" or node.input_ports() or node.id in self._dirty:
            return False
        result = self.results.get(node.id)
        tensor = result.tensor if result is not None else None
        if tensor is None or not tensor.is_leaf:
            return False
        try:
            tensor.requires_grad_(bool(node.attributes["requires_grad"]))
        except RuntimeError:
            return False
        self.results[node.id] = result._replace(entry=gradient_node(tensor))  # a new result: views repaint the face
        return True

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
        self._runner.clear()
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
            with collection_paused():
                self._evaluate_dirty(progress, should_stop)
        finally:
            self._evaluating.release()
        return self.results

    def _evaluate_dirty(self, progress: Progress | None, should_stop: ShouldStop | None) -> None:
        """Compute the dirty nodes in topological order into a copy of the results, published at the end."""
        self._widen_for_in_place()
        order = [node_id for node_id in self.document.topological_order() if node_id in self._dirty]
        results = dict(self.results)  # readers in other threads keep a consistent mapping meanwhile
        self._limit = max_elements()
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
        """One node's result from its inputs' `results` (the hook each node of an evaluation goes through)."""
        return self._runner.run(node_id, results, self._limit)

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
        recorder = FlowRecorder(self.document, results, target, self._wires)
        with collection_paused():
            engine.autograd.backward(value, gradient, retain_graph=True, observer=recorder.observe)
        self.last_backward = recorder.result
        return recorder.result

    def grad_fn_owners(self, target: str) -> Callable[[Any], str | None]:
        """A function naming the document node that created a grad_fn of the graph behind `target`."""
        return FlowRecorder(self.document, self.evaluate(), target, self._wires).owner

    def _wires(self, node_id: str) -> tuple[tuple[str, str], ...]:
        """(port, source) per edge into the node, from its kept plan (current once the results are)."""
        return self._runner.plan(node_id).wires

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
