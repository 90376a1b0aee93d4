"""Which gradient a node shows, and which nodes keep a `.grad`: the one place these facts are computed.

PyTorch draws a line here: a leaf's `.grad`, a non-leaf's retained `.grad`, or (GradStudio's addition)
the gradient that flowed through a non-leaf on the last Backward, which PyTorch computes but does not
keep. A `.grad` outlives edits and later passes that do not reach it, as a variable's does in a PyTorch
session, until Zero Grad (or until its own tensor is made afresh); such a gradient is shown as coming
from an earlier Backward. The values panel, the canvas, the CLI and the code export all ask this module,
so they agree.
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
    earlier: bool = False  # a `.grad` the last Backward did not add to (there was none since an edit, or it missed)


# why a kept `.grad` is not the last Backward's: no Backward since an edit, or the last one did not reach the node
AFTER_EDIT, NOT_REACHED = "after edit", "not reached"


def shown_gradient(name: str, result: NodeResult | None, flowed: engine.Tensor | None = None,
                   earlier: str | None = None) -> ShownGradient:
    """Which gradient node `name` shows: its `.grad` if PyTorch keeps one, else `flowed` (from the last Backward).

    `earlier` (AFTER_EDIT, NOT_REACHED) says why a `.grad` it keeps did not come from the last Backward.
    """
    value = result.value if result is not None and result.ok else None
    tensor = result.tensor if result is not None and result.ok else None
    if tensor is None:
        return ShownGradient(None, "none", "Gradient", "A Python number has no gradient." if value is not None else "")
    grad = result.grad
    if grad is not None:
        since = _earlier_note(name, earlier)
        if tensor.is_leaf:
            return ShownGradient(grad, "grad", f"{name}.grad", since, earlier is not None)
        return ShownGradient(grad, "retained", f"{name}.grad (retained)",
                             " ".join(filter(None, (f"{name}.retain_grad() keeps it on this non-leaf.", since))),
                             earlier is not None)
    if not tensor.requires_grad:
        return ShownGradient(None, "none", f"{name}.grad", f"{name} does not require grad: no gradient flows here.")
    if tensor.is_leaf:
        return ShownGradient(None, "none", f"{name}.grad", f"{name}.grad is None: run Backward to fill it.")
    if flowed is not None:
        return ShownGradient(flowed, "flowed", f"Gradient that flowed through {name}",
                             f"Not {name}.grad: PyTorch keeps .grad only on leaves (Retain Grad keeps it here).")
    return ShownGradient(None, "none", "Gradient", f"{name} is not a leaf: its .grad stays None. Run Backward to see "
                         "the gradient that flows through it.")


def _earlier_note(name: str, earlier: str | None) -> str:
    """What the note says of a `.grad` from an earlier Backward ("" for the last Backward's)."""
    if earlier is None:
        return ""
    if earlier == AFTER_EDIT:
        return f"From a Backward before the last edit: PyTorch keeps {name}.grad until Zero Grad; the next " \
               "Backward adds to it."
    return f"From an earlier Backward (the last one did not reach {name}): PyTorch keeps it until Zero Grad."


def shown_gradient_of(evaluator: Evaluator, node_id: str) -> ShownGradient:
    """`shown_gradient` of a node as `evaluator` has it now (without evaluating): for callers holding an Evaluator."""
    node = evaluator.document.nodes.get(node_id)
    last = evaluator.last_backward
    flowed = last.node_grads.get(node_id) if last is not None else None
    earlier = AFTER_EDIT if last is None else NOT_REACHED if flowed is None else None
    return shown_gradient(node.name if node is not None else node_id, evaluator.results.get(node_id), flowed, earlier)


def kept_grads(evaluator: Evaluator) -> dict[str, ShownGradient]:
    """Every node holding a `.grad` now, with the gradient it shows, as `evaluator` has them (without evaluating).

    A node an edit made dirty is left out: it is recomputed as a fresh tensor, without `.grad`.
    """
    dirty = evaluator.dirty
    return {node_id: shown_gradient_of(evaluator, node_id) for node_id, result in evaluator.results.items()
            if node_id not in dirty and result.grad is not None}


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
