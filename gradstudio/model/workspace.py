"""`GraphWorkspace`: the one owner of an open graph's computed state, without Qt.

It holds the document, its evaluation and the backward state (the last Backward,
how many passes each `.grad` sums), and answers "which gradient does this node
show, and why" and "is it tracked" once, for the CLI and every UI panel alike.
Listeners hear two events: `backward_changed` (the last Backward was set or
cleared) and `grads_changed` (some `.grad` may differ). Run Backward and Zero Grad
through the workspace, not its evaluator, or the pass counts and events miss them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import gradstudio.engine as engine
from gradstudio.engine.autograd.graph import version
from gradstudio.model import gradients
from gradstudio.model.document import GraphDocument
from gradstudio.model.evaluation import BackwardResult, Evaluator, NodeResult
from gradstudio.model.gradients import ShownGradient

Listener = Callable[[str, Any], None]
BACKWARD_CHANGED = "backward_changed"
GRADS_CHANGED = "grads_changed"

__all__ = ["BACKWARD_CHANGED", "GRADS_CHANGED", "GraphWorkspace", "Listener", "ShownGradient"]


class GraphWorkspace:
    """One open graph: its document, its evaluation, the backward state and the gradients each node shows."""

    def __init__(self, document: GraphDocument | None = None) -> None:
        self.document = document if document is not None else GraphDocument()
        self.evaluator = Evaluator(self.document)
        self._listeners: list[Listener] = []
        self._passes: dict[str, int] = {}
        self._received: set[str] = set()  # nodes whose .grad the last Backward added to
        self._backward_seen: BackwardResult | None = None
        self._announced: dict[str, engine.Tensor | None] = {}  # dirty values whose coming .grad reset was told
        # subscribed after the evaluator, so its dirty set and last_backward are current when we look
        self._unsubscribe = self.document.subscribe(self._on_change)

    def close(self) -> None:
        """Stop observing the document."""
        self._unsubscribe()
        self.evaluator.close()

    # ----- events ------------------------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(event, payload)` on `backward_changed` and `grads_changed`; returns an unsubscriber."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _emit(self, event: str, payload: Any = None) -> None:
        for listener in list(self._listeners):
            listener(event, payload)

    def _sync_backward(self, always: bool = False) -> None:
        """Tell listeners when the evaluator's last Backward is another than the one they last heard of."""
        current = self.evaluator.last_backward
        if always or current is not self._backward_seen:
            self._backward_seen = current
            self._emit(BACKWARD_CHANGED, current)

    def _on_change(self, event: str, payload: Any) -> None:
        if event == "node_removed":
            self._received.discard(payload.id)
        dirty = self.evaluator.dirty
        results = self.evaluator.results
        for node_id in dirty:
            # a recomputed node gets a fresh tensor without .grad: its count starts again
            self._passes.pop(node_id, None)
        losing = {node_id: results[node_id].tensor for node_id in dirty
                  if node_id in results and results[node_id].grad is not None}
        fresh = any(self._announced.get(node_id) is not tensor for node_id, tensor in losing.items())
        self._announced = losing
        self._sync_backward()
        if fresh:
            self._emit(GRADS_CHANGED)

    # ----- forward -----------------------------------------------------------------------------------------------

    def results(self) -> Mapping[str, NodeResult]:
        """Every node's result, the dirty ones recomputed first."""
        return MappingProxyType(self.evaluator.evaluate())

    def result(self, node_id: str) -> NodeResult | None:
        """The node's result (evaluating first); None for an unknown node."""
        return self.results().get(node_id)

    def value(self, node_id: str) -> Any:
        """The node's value (evaluating first); None when it has none."""
        result = self.result(node_id)
        return result.value if result is not None else None

    def tracked(self, node_id: str) -> bool:
        """True when autograd tracks the node's value (a tensor with requires_grad)."""
        result = self.result(node_id)
        return result is not None and result.tracked

    def leaves_moved(self, node_ids: list[str]) -> None:
        """These leaves' tensors were changed in place (a training run): what they feed is recomputed next."""
        self.evaluator.recompute_downstream(node_ids)
        self._sync_backward()

    def limit_changed(self) -> None:
        """The element limit changed: what it may now judge otherwise is recomputed on the next evaluate."""
        if self.evaluator.limit_changed():
            self._sync_backward()

    # ----- backward state ----------------------------------------------------------------------------------------

    @property
    def last_backward(self) -> BackwardResult | None:
        """What the last Backward produced, until Zero Grad or an edit that changes values clears it."""
        return self.evaluator.last_backward

    @property
    def passes(self) -> Mapping[str, int]:
        """How many Backward passes each node's `.grad` sums now (nodes without a `.grad` left out)."""
        results = self.evaluator.results
        return MappingProxyType({node_id: count for node_id, count in self._passes.items()
                                 if node_id in results and results[node_id].grad is not None})

    def backward(self, target: str | None = None, gradient: Any = None) -> BackwardResult:
        """`target.backward(gradient)` as `Evaluator.backward` runs it (errors raised unchanged), counting passes."""
        before = self._grads()
        try:
            return self.evaluator.backward(target, gradient)
        finally:
            # also after an error: a pass that failed part-way may already have added into some .grad
            self._count_passes(before)
            self._sync_backward()

    def _grads(self) -> dict[str, tuple[engine.Tensor, int]]:
        """Every `.grad` held now, with its version, to see afterwards which ones a pass added to."""
        held = {}
        for node_id, result in self.results().items():
            grad = result.grad
            if grad is not None:
                held[node_id] = (grad, version(grad))
        return held

    def _count_passes(self, before: dict[str, tuple[engine.Tensor, int]]) -> None:
        after = self._grads()
        changed = {node_id for node_id, (grad, count) in after.items()
                   if node_id not in before or before[node_id][0] is not grad or before[node_id][1] != count}
        for node_id in changed:
            self._passes[node_id] = self._passes.get(node_id, 1) + 1 if node_id in before else 1
        self._received = changed
        if changed:
            self._emit(GRADS_CHANGED)

    def grads_before_last_pass(self) -> dict[str, tuple[Any, Any, int]]:
        """What each `.grad` the last Backward added to held before it, to run that pass again on new values.

        Per node: (its tensor, the earlier gradient as an array or None where this was its first pass, the
        pass count then). Live scrubbing restores these before each re-run, so a leaf the drag does not
        recompute shows one pass's gradient at the new values, not a growing sum.
        """
        last = self.evaluator.last_backward
        saved: dict[str, tuple[Any, Any, int]] = {}
        for node_id in self._received:
            result = self.evaluator.results.get(node_id)
            grad = result.grad if result is not None else None
            if grad is None or last is None:
                continue
            passes = self._passes.get(node_id, 1)
            contribution = last.node_grads.get(node_id)
            earlier = None
            if passes > 1 and contribution is not None:
                earlier = grad.detach().numpy() - contribution.detach().numpy()
            saved[node_id] = (result.tensor, earlier, passes - 1 if earlier is not None else 0)
        return saved

    def restore_grads(self, saved: Mapping[str, tuple[Any, Any, int]]) -> None:
        """Put back the `.grad`s `grads_before_last_pass` saved, where the tensor was not recomputed since."""
        for node_id, (tensor, earlier, passes) in saved.items():
            result = self.evaluator.results.get(node_id)
            if result is None or result.tensor is not tensor:
                continue
            tensor.grad = None if earlier is None else engine.from_numpy(earlier.copy())
            if passes:
                self._passes[node_id] = passes
            else:
                self._passes.pop(node_id, None)

    def accumulated(self) -> list[str]:
        """Nodes (topological order) whose `.grad` the last Backward added to and which now sums two or more passes."""
        passes = self.passes
        return [node_id for node_id in self.document.topological_order()
                if node_id in self._received and passes.get(node_id, 0) >= 2]

    def zero_grad(self) -> None:
        """Every `.grad` None (as `optimizer.zero_grad(set_to_none=True)`); pass counts and last Backward cleared."""
        self.evaluator.zero_grad()
        self._passes.clear()
        self._received.clear()
        self._announced.clear()
        self._sync_backward(always=True)
        self._emit(GRADS_CHANGED)

    # ----- gradients ---------------------------------------------------------------------------------------------

    def grad(self, node_id: str) -> engine.Tensor | None:
        """PyTorch's `.grad` of the node: a leaf's, or a retained non-leaf's (evaluating first); never warns."""
        result = self.result(node_id)
        return result.grad if result is not None else None

    def shown_gradient(self, node_id: str) -> ShownGradient:
        """Which gradient the node shows, what it is and why (evaluating first)."""
        self.results()
        return gradients.shown_gradient_of(self.evaluator, node_id)

    def grad_holders(self, target: str | None = None) -> list[str]:
        """Node ids (topological order) whose `.grad` PyTorch keeps after `target.backward()` (all nodes if None)."""
        return gradients.grad_holders(self.document, self.results(), target)
