"""Grad-mode regions: frames marked as `torch.no_grad()`, `enable_grad()` or `inference_mode()` blocks.

The one rule, asked by evaluation, code export and the canvas alike: a node belongs to a frame when its
position lies inside the frame's rectangle, and of the frames with a mode other than "none" that hold it
the innermost (smallest; the later one on a tie) decides the node's mode.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import gradstudio.engine as engine
from gradstudio.model.annotations import Annotation, annotation, check_grad_mode
from gradstudio.model.document import EditError, GraphDocument
from gradstudio.model.edits import Edit

# the torch call each mode opens its block with, as code and as the engine's context manager
MODE_CALLS = {"no_grad": "torch.no_grad()", "enable_grad": "torch.enable_grad()",
              "inference_mode": "torch.inference_mode()"}
_CONTEXTS: dict[str, Callable[[], AbstractContextManager]] = {
    "no_grad": engine.no_grad, "enable_grad": engine.enable_grad, "inference_mode": engine.inference_mode}
# what a frame's menu and the inspector call each mode
MODE_LABELS = {"none": "Plain frame", "no_grad": "with torch.no_grad():", "enable_grad": "with torch.enable_grad():",
               "inference_mode": "with torch.inference_mode():"}


def regions(document: GraphDocument) -> list[Annotation]:
    """The frames with a grad mode, innermost first (smallest area; the later one on a tie)."""
    framed = [(index, item) for index, item in enumerate(document.annotations.values())
              if item.kind == "frame" and item.grad_mode != "none"]
    framed.sort(key=lambda pair: (pair[1].size[0] * pair[1].size[1], -pair[0]))
    return [item for _, item in framed]


def region_at(ordered: list[Annotation], point: tuple[float, float]) -> Annotation | None:
    """The region (of `regions(...)`'s list) deciding the mode at `point`, or None."""
    return next((item for item in ordered if item.contains(point)), None)


def region_of(document: GraphDocument, node_id: str) -> Annotation | None:
    """The frame whose grad mode the node is evaluated under, or None."""
    return region_at(regions(document), document.nodes[node_id].position)


def node_regions(document: GraphDocument) -> dict[str, Annotation]:
    """Each node inside a region, with the region deciding its mode."""
    ordered = regions(document)
    if not ordered:
        return {}
    found = ((node_id, region_at(ordered, node.position)) for node_id, node in document.nodes.items())
    return {node_id: item for node_id, item in found if item is not None}


def node_modes(document: GraphDocument) -> dict[str, str]:
    """Each node inside a region, with the grad mode it is evaluated under."""
    return {node_id: item.grad_mode for node_id, item in node_regions(document).items()}


def untracked_by_region(document: GraphDocument, node_id: str) -> str | None:
    """Why `node_id` has no path back because of a region: the op nearest upstream of it (or itself) computed in a
    `no_grad` / `inference_mode` frame, named with the frame's block; None if no region cut the path."""
    regions_of_nodes = node_regions(document)
    upstream = {node_id} | {other for other in document.nodes if document.reaches(other, node_id)}
    for other in reversed(document.topological_order()):
        region = regions_of_nodes.get(other)
        if other in upstream and region is not None and region.grad_mode in ("no_grad", "inference_mode") \
                and document.inputs_of(other):
            return f"{document.nodes[other].name} is computed inside the frame `{MODE_LABELS[region.grad_mode]}`"
    return None


def mode_context(mode: str | None) -> AbstractContextManager:
    """The engine's context manager for a region's mode (a no-op for None or "none")."""
    factory = _CONTEXTS.get(mode) if mode else None
    return factory() if factory is not None else nullcontext()


@dataclass
class SetFrameGradMode(Edit):
    """Make a frame a `with torch.no_grad():` (or `enable_grad()`, `inference_mode()`) block, or plain again."""

    annotation_id: str
    grad_mode: str

    def apply(self, document: GraphDocument) -> Edit:
        item = annotation(document, self.annotation_id)
        if item.kind != "frame":
            raise EditError(f"only frames have a grad mode; {item.id!r} is a {item.kind}")
        mode = check_grad_mode(item.kind, self.grad_mode)
        old, item.grad_mode = item.grad_mode, mode
        document.notify("annotation_changed", item)
        return SetFrameGradMode(self.annotation_id, old)
