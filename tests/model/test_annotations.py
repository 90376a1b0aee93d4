"""Annotations (notes and frames): each edit, its inverse, refusals and events (no display needed)."""

from __future__ import annotations

import pytest

from gradstudio.model.annotations import (
    AddAnnotation,
    Annotation,
    MoveAnnotation,
    RemoveAnnotation,
    SetAnnotationRect,
    SetAnnotationText,
)
from gradstudio.model.document import EditError, GraphDocument


def document_with_note() -> GraphDocument:
    """A document holding one note, n1."""
    document = GraphDocument()
    document.apply(AddAnnotation(Annotation("n1", "note", "hello", (10, 20), (200, 100))))
    return document


EDITS = [
    SetAnnotationText("n1", "changed"),
    SetAnnotationRect("n1", (5, 5), (300, 150)),
    MoveAnnotation("n1", (-40, 60)),
    RemoveAnnotation("n1"),
    AddAnnotation(Annotation("f1", "frame", "Forward pass", (0, 0), (400, 300))),
]


@pytest.mark.parametrize("edit", EDITS, ids=lambda edit: type(edit).__name__)
def test_inverse_restores_the_document(edit: object) -> None:
    document = document_with_note()
    before = document.snapshot()
    inverse = document.apply(edit)
    assert document.snapshot() != before
    document.apply(inverse)
    assert document.snapshot() == before


@pytest.mark.parametrize(("edit", "message"), [
    (AddAnnotation(Annotation("n1", "note")), "already used"),
    (AddAnnotation(Annotation("a", "sticker")), "kind must be one of note, frame"),
    (AddAnnotation(Annotation("a", "note", size=(10, 100))), "at least 40 x 40"),
    (SetAnnotationRect("n1", (0, 0), (500, 5)), "at least 40 x 40"),
    (SetAnnotationText("n1", 3), "must be text"),
    (MoveAnnotation("zz", (0, 0)), "no annotation with id 'zz'"),
])
def test_refused_edits_change_nothing(edit: object, message: str) -> None:
    document = document_with_note()
    before = document.snapshot()
    with pytest.raises(EditError, match=message):
        document.apply(edit)
    assert document.snapshot() == before


def test_events_name_the_annotation() -> None:
    document = document_with_note()
    events: list[tuple[str, str]] = []
    document.subscribe(lambda event, payload: events.append((event, payload.id)))
    for edit in EDITS[:4]:
        document.apply(edit)
    assert events == [("annotation_changed", "n1"), ("annotation_changed", "n1"), ("annotation_moved", "n1"),
                      ("annotation_removed", "n1")]


def test_new_ids_avoid_annotation_ids() -> None:
    document = GraphDocument()
    document.apply(AddAnnotation(Annotation("n1", "note")))
    assert document.new_id() != "n1"


def test_contains() -> None:
    frame = Annotation("f", "frame", position=(0, 0), size=(100, 50))
    assert frame.contains((100, 50)) and not frame.contains((101, 10))


def test_annotation_edits_keep_the_last_backward() -> None:
    from gradstudio.model.document import Node
    from gradstudio.model.edits import AddNode, SetSetting
    from gradstudio.model.evaluation import Evaluator

    document = GraphDocument()
    document.apply(AddNode(Node("x", "tensor", "x", {"requires_grad": True, "shape": ()})))
    document.apply(SetSetting("backward_target", "x"))
    evaluator = Evaluator(document)
    evaluator.backward()
    document.apply(AddAnnotation(Annotation("n1", "note", "the leaf")))
    assert evaluator.last_backward is not None


@pytest.mark.parametrize("edit", [
    AddAnnotation(Annotation("n2", "note", "", (float("nan"), 0.0))),
    AddAnnotation(Annotation("n2", "note", "", (0.0, 0.0), (float("inf"), 100.0))),
    AddAnnotation(Annotation("n2", "note", "", (0.0, 0.0), (float("nan"), 100.0))),
    MoveAnnotation("n1", (0.0, float("-inf"))),
    SetAnnotationRect("n1", (0.0, 0.0), (100.0, float("nan"))),
])
def test_non_finite_positions_and_sizes_are_refused(edit: object) -> None:
    document = document_with_note()
    before = document.snapshot()
    with pytest.raises(EditError, match="must be two finite numbers"):
        document.apply(edit)
    assert document.snapshot() == before
