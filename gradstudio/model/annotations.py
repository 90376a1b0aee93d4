"""Annotations: comment notes and titled frames that teachers place on the canvas.

They live in the document beside the nodes (and are saved with it) but take no
part in evaluation. Each change is a reversible edit, like the node edits.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from gradstudio.model.document import EditError, GraphDocument, canvas_point, check_id
from gradstudio.model.edits import Edit
from gradstudio.model.limits import LimitError, check_text_length, short_repr

ANNOTATION_KINDS = ("note", "frame")
# The grad mode a frame puts its nodes under: "none" (the graph's own mode), or a torch context manager's block.
FRAME_GRAD_MODES = ("none", "no_grad", "enable_grad", "inference_mode")
MIN_SIZE = 40.0


@dataclass
class Annotation:
    """A note (free text) or a frame (a titled backdrop grouping the nodes inside it)."""

    id: str
    kind: str
    text: str = ""
    position: tuple[float, float] = (0.0, 0.0)
    size: tuple[float, float] = (200.0, 120.0)
    grad_mode: str = "none"

    def contains(self, point: tuple[float, float]) -> bool:
        """True when `point` lies inside the annotation's rectangle."""
        (x, y), (width, height) = self.position, self.size
        return x <= point[0] <= x + width and y <= point[1] <= y + height


def annotation(document: GraphDocument, annotation_id: str) -> Annotation:
    """The annotation with `annotation_id` (EditError if there is none)."""
    try:
        return document.annotations[annotation_id]
    except (KeyError, TypeError):  # TypeError: an unhashable id
        raise EditError(f"no annotation with id {short_repr(annotation_id)}") from None


def _size(size: tuple[float, float]) -> tuple[float, float]:
    width, height = canvas_point(size, "size")
    if width < MIN_SIZE or height < MIN_SIZE:
        raise EditError(f"an annotation must be at least {MIN_SIZE:g} x {MIN_SIZE:g}, got {width:g} x {height:g}")
    return width, height


def check_grad_mode(kind: str, mode: object) -> str:
    """`mode` as the grad mode of an annotation of `kind` (EditError: not one of FRAME_GRAD_MODES, or a note's)."""
    if not isinstance(mode, str) or mode not in FRAME_GRAD_MODES:
        raise EditError(f"a frame's grad mode must be one of {', '.join(FRAME_GRAD_MODES)}, got {short_repr(mode)}")
    if kind != "frame" and mode != "none":
        raise EditError(f"only frames have a grad mode, not a {kind}")
    return mode


def checked_text(text: object) -> str:
    """A note's text or a frame's title: a string within the text length limit (EditError otherwise)."""
    if not isinstance(text, str):
        raise EditError(f"annotation text must be text, got {short_repr(text)}")
    try:
        return check_text_length(text, "annotation text")
    except LimitError as error:
        raise EditError(str(error)) from None


@dataclass
class AddAnnotation(Edit):
    """Place a note or a frame."""

    annotation: Annotation

    def apply(self, document: GraphDocument) -> Edit:
        item = copy.deepcopy(self.annotation)
        if not isinstance(item.kind, str) or item.kind not in ANNOTATION_KINDS:
            raise EditError(f"annotation kind must be one of {', '.join(ANNOTATION_KINDS)}, got "
                            f"{short_repr(item.kind)}")
        check_id(document, item.id)
        item.text = checked_text(item.text)
        item.grad_mode = check_grad_mode(item.kind, item.grad_mode)
        item.size = _size(item.size)
        item.position = canvas_point(item.position)
        document.annotations[item.id] = item
        document.notify("annotation_added", item)
        return RemoveAnnotation(item.id)


@dataclass
class RemoveAnnotation(Edit):
    """Delete a note or a frame (never the nodes it encloses)."""

    annotation_id: str

    def apply(self, document: GraphDocument) -> Edit:
        item = annotation(document, self.annotation_id)
        del document.annotations[self.annotation_id]
        document.notify("annotation_removed", item)
        return AddAnnotation(copy.deepcopy(item))


@dataclass
class SetAnnotationText(Edit):
    """Change a note's text or a frame's title."""

    annotation_id: str
    text: str

    def apply(self, document: GraphDocument) -> Edit:
        item = annotation(document, self.annotation_id)
        text = checked_text(self.text)
        old, item.text = item.text, text
        document.notify("annotation_changed", item)
        return SetAnnotationText(self.annotation_id, old)


@dataclass
class SetAnnotationRect(Edit):
    """Give an annotation a new position and size (resizing a frame)."""

    annotation_id: str
    position: tuple[float, float]
    size: tuple[float, float]

    def apply(self, document: GraphDocument) -> Edit:
        item = annotation(document, self.annotation_id)
        size = _size(self.size)
        old = SetAnnotationRect(self.annotation_id, item.position, item.size)
        item.position, item.size = canvas_point(self.position), size
        document.notify("annotation_changed", item)
        return old


@dataclass
class MoveAnnotation(Edit):
    """Place an annotation at a new canvas position (its size unchanged)."""

    annotation_id: str
    position: tuple[float, float]

    def apply(self, document: GraphDocument) -> Edit:
        item = annotation(document, self.annotation_id)
        old, item.position = item.position, canvas_point(self.position)
        document.notify("annotation_moved", item)
        return MoveAnnotation(self.annotation_id, old)
