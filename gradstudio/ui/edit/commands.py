"""Undo commands: each wraps model edits and nothing else (commands never push commands)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from PySide6.QtGui import QUndoCommand

from gradstudio.model.annotations import MoveAnnotation
from gradstudio.model.document import GraphDocument
from gradstudio.model.edits import Batch, Edit, MoveNode

MOVE_COMMAND_ID = 1
MERGE_WINDOW = 1.0  # seconds: moves of the same items closer together than this undo as one step

Position = tuple[float, float]


class StackGuard:
    """Knows whether one of a stack's commands is being undone or redone, when no new edit may be pushed."""

    def __init__(self) -> None:
        self.depth = 0

    @property
    def active(self) -> bool:
        """True while a command's undo or redo runs."""
        return self.depth > 0

    @contextmanager
    def running(self) -> Iterator[None]:
        """Mark the body as a command's undo or redo."""
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1


class ApplyEdit(QUndoCommand):
    """One model edit (a `Batch` for compound edits), already performed when pushed; undone by its inverse."""

    def __init__(self, document: GraphDocument, edit: Edit, inverse: Edit, text: str,
                 guard: StackGuard | None = None) -> None:
        super().__init__(text)
        self._guard = guard or StackGuard()
        self._document = document
        self._edit = edit
        self._inverse = inverse
        self._pending_first_redo = True

    def redo(self) -> None:
        # the editor applied the edit to learn whether the model accepts it; QUndoStack.push redoes at once
        if self._pending_first_redo:
            self._pending_first_redo = False
            return
        with self._guard.running():
            self._inverse = self._document.apply(self._edit)

    def undo(self) -> None:
        with self._guard.running():
            self._edit = self._document.apply(self._inverse)


class MoveNodes(QUndoCommand):
    """Move nodes and annotations; quick successive moves of the same items merge into one step."""

    def __init__(self, document: GraphDocument, moves: Mapping[str, tuple[Position, Position]], text: str,
                 mergeable: bool = True, guard: StackGuard | None = None, applied: bool = False) -> None:
        super().__init__(text)
        self._guard = guard or StackGuard()
        self._document = document
        self.moves = dict(moves)
        self._mergeable = mergeable
        self._time = time.monotonic()
        self._pending_first_redo = applied  # the editor moved them already, to learn whether the model accepts it

    def _edits(self, index: int) -> Batch:
        return move_edits(self._document, self.moves, index)

    def redo(self) -> None:
        if self._pending_first_redo:
            self._pending_first_redo = False
            return
        with self._guard.running():
            self._document.apply(self._edits(1))

    def undo(self) -> None:
        with self._guard.running():
            self._document.apply(self._edits(0))

    def id(self) -> int:
        return MOVE_COMMAND_ID if self._mergeable else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, MoveNodes) or set(other.moves) != set(self.moves):
            return False
        if other._time - self._time > MERGE_WINDOW:
            return False
        self.moves = {key: (self.moves[key][0], other.moves[key][1]) for key in self.moves}
        self._time = other._time
        self.setObsolete(all(before == after for before, after in self.moves.values()))  # moved back: no step
        return True


def move_edits(document: GraphDocument, moves: Mapping[str, tuple[Position, Position]], index: int) -> Batch:
    """The model edits placing each moved item (node or annotation) at its `index`-th position (0 before, 1 after)."""
    edits: list[Edit] = []
    for key, positions in moves.items():
        position = positions[index]
        edits.append(MoveNode(key, position) if key in document.nodes else MoveAnnotation(key, position))
    return Batch(edits)
