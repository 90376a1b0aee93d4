"""Which gradient a node shows, and which nodes keep a `.grad`: the one place these facts are computed.

PyTorch draws a line here: a leaf's `.grad`, a non-leaf's retained `.grad`, or (GradStudio's addition)
the gradient that flowed through a non-leaf on the last Backward, which PyTorch computes but does not
keep. The values panel, the canvas, the CLI and the code export all ask this module, so they agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import gradstudio.engine as engine
from gradstudio.model.document import GraphDocument
from gradstudio.model.evaluation import Evaluator, NodeResult


@dataclass(frozen=True)
class ShownGradient:
    """The gradient a node shows, what it is, and a note saying why."""

    value: engine.Tensor | None
    kind: str
    title: str
    note: str = ""


def shown_gradient(name: str, result: NodeResult | None, flowed: engine.Tensor | None = None) -> ShownGradient:
    """Which gradient node `name` shows: its `.grad` if PyTorch keeps one, else `flowed` (from the last Backward)."""
    value = result.value if result is not None and result.ok else None
    tensor = result.tensor if result is not None and result.ok else None
    if tensor is None:
        return ShownGradient(None, "none", "Gradient", "A Python number has no gradient." if value is not None else "")
    grad = result.grad
    if grad is not None:
        if tensor.is_leaf:
            return ShownGradient(grad, "grad", f"{name}.grad")
        return ShownGradient(grad, "retained", f"{name}.grad (retained)",
                             f"{name}.retain_grad() keeps it on this non-leaf.")
    if not tensor.requires_grad:
        return ShownGradient(None, "none", f"{name}.grad", f"{name} does not require grad: no gradient flows here.")
    if tensor.is_leaf:
        return ShownGradient(None, "none", f"{name}.grad", f"{name}.grad is None: run Backward to fill it.")
    if flowed is not None:
        return ShownGradient(flowed, "flowed", f"Gradient that flowed through {name}",
                             f"Not {name}.grad: PyTorch keeps .grad only on leaves (Retain Grad keeps it here).")
    return ShownGradient(None, "none", "Gradient", f"{name} is not a leaf: its .grad stays None. Run Backward to see "
                         "the gradient that flows through it.")


def shown_gradient_of(evaluator: Evaluator, node_id: str) -> ShownGradient:
    """`shown_gradient` of a node as `evaluator` has it now (without evaluating): for callers holding an Evaluator."""
    node = evaluator.document.nodes.get(node_id)
    last = evaluator.last_backward
    flowed = last.node_grads.get(node_id) if last is not None else None
    return shown_gradient(node.name if node is not None else node_id, evaluator.results.get(node_id), flowed)


def keeps_grad(result: NodeResult | None) -> bool:
    """True when PyTorch keeps a `.grad` on the value after backward: a tracked leaf, or a non-leaf retaining it."""
    if result is None or not result.ok or not result.tracked:
        return False
    tensor = result.tensor
    return tensor.is_leaf or tensor.retains_grad


def grad_holders(document: GraphDocument, results: Mapping[str, NodeResult], target: str | None = None) -> list[str]:
    """Node ids (topological order) whose `.grad` PyTorch keeps after `target.backward()` (any node when None)."""
    order = document.topological_order()
    if target is not None:
        upstream = document.ancestors(target) | {target}
        order = [node_id for node_id in order if node_id in upstream]
    return [node_id for node_id in order if keeps_grad(results.get(node_id))]
