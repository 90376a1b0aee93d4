"""What the canvas shows after a Backward (or part-way through stepping it): a Qt-free description.

Which edges carried a gradient and how much, which nodes show the gradient that
flowed through them and which a real `.grad`, where tracking stops (inputs of the
path that take no gradient), what stays bright, and the node of the current step.
A `.grad` an earlier Backward left (kept through edits and passes that missed it,
as PyTorch keeps it) is shown too, marked as earlier: `gradients.py` decides which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gradstudio.engine as engine
from gradstudio.model.evaluation import BackwardResult, Evaluator
from gradstudio.model.gradients import kept_grads

EdgeKey = tuple[str, str]


@dataclass
class FlowView:
    """One frame of the backward display (with no pass shown, `target` None and only the kept `.grad`s)."""

    target: str | None
    edge_grads: dict[EdgeKey, Any] = field(default_factory=dict)
    node_flows: dict[str, Any] = field(default_factory=dict)
    grads: dict[str, Any] = field(default_factory=dict)
    earlier: dict[str, str] = field(default_factory=dict)  # nodes in `grads` whose .grad an earlier Backward left,
    # with the note saying so
    stopped: set[EdgeKey] = field(default_factory=set)
    involved: set[str] = field(default_factory=set)
    current: str | None = None
    step: int | None = None


def magnitude(grad: Any) -> float:
    """The size of a gradient for colouring: its largest absolute entry."""
    data = grad.detach().numpy() if isinstance(grad, engine.Tensor) else grad
    return float(abs(data).max()) if getattr(data, "size", 1) else 0.0


def flow_view(evaluator: Evaluator, result: BackwardResult, step: int | None = None) -> FlowView:
    """The display of `result`, complete (`step` None) or after steps 0..`step` of the engine's order."""
    document = evaluator.document
    reached = _reached(result, step)
    view = FlowView(result.target, step=step)
    view.current = result.steps[step].owner if step is not None and step < len(result.steps) else None
    for key, grad in result.edge_grads.items():
        if reached is None or key[0] in reached:
            view.edge_grads[key] = grad
    for node_id, grad in result.node_grads.items():
        if reached is None or node_id in reached or node_id == result.target:
            _place_node(evaluator, view, node_id, grad)
    _place_earlier(evaluator, view, set(result.node_grads))
    view.involved = set(result.node_grads) | {s.owner for s in result.steps if s.owner} | {result.target}
    view.stopped = {key for key, edge in document.edges.items()
                    if (reached is None or edge.target in reached) and edge.target in view.involved
                    and key not in result.edge_grads and not _tracked(evaluator, edge.source)}
    return view


def kept_view(evaluator: Evaluator) -> FlowView:
    """What the canvas shows with no pass displayed: every `.grad` still kept (from a Backward before an edit)."""
    view = FlowView(None)
    _place_earlier(evaluator, view, set())
    return view


def _place_earlier(evaluator: Evaluator, view: FlowView, passed: set[str]) -> None:
    """Show the `.grad` of every node outside `passed` (the nodes the shown pass reached) that keeps one."""
    for node_id, shown in kept_grads(evaluator).items():
        if node_id not in passed:
            view.grads[node_id] = shown.value
            view.earlier[node_id] = shown.note


def _reached(result: BackwardResult, step: int | None) -> set[str] | None:
    """Owners of the steps run so far (None: the whole pass)."""
    if step is None:
        return None
    return {s.owner for s in result.steps[: step + 1] if s.owner is not None}


def _place_node(evaluator: Evaluator, view: FlowView, node_id: str, flowed: Any) -> None:
    """A leaf shows its .grad; a non-leaf the gradient that flowed, plus .grad when it retains it."""
    result = evaluator.results.get(node_id)
    tensor = result.tensor if result is not None else None
    if tensor is None or not tensor.is_leaf:
        view.node_flows[node_id] = flowed
    grad = result.grad if result is not None else None
    if grad is not None:
        view.grads[node_id] = grad


def _tracked(evaluator: Evaluator, node_id: str) -> bool:
    result = evaluator.results.get(node_id)
    return result is not None and result.tracked
