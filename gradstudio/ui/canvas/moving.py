"""Moving nodes and notes by hand: snapping to the grid, one undoable move for each drag, and inserting a lone
node into the wire it is dropped on (the wire lit while it hovers there).

Qt moves the items while the mouse drags them; each item tells the scene (`items.track_move`), which hands the move
here, and the scene's release commits. The scene also moves items itself when the model says so (`place`): those
moves are no drag and commit nothing. Wire drags are wiring.py's, drags on a face's value scrubbing.py's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QGraphicsItem

from gradstudio.model.document import Edge
from gradstudio.ui.canvas.grid import GRID
from gradstudio.ui.canvas.items import NodeItem

if TYPE_CHECKING:
    from gradstudio.ui.canvas.edge_items import EdgeItem
    from gradstudio.ui.canvas.scene import GraphScene


class MoveTool:
    """The items dragged since the last commit, and the wire a dragged node would be inserted into."""

    def __init__(self, scene: GraphScene) -> None:
        self.scene = scene
        self._placing = False  # the model is moving an item (`place`): not a drag
        self._dragged: set[QGraphicsItem] = set()
        self._hinted: EdgeItem | None = None

    def place(self, item: QGraphicsItem, position: tuple[float, float]) -> None:
        """Put an item where the model says (not a user drag: nothing to commit)."""
        self._placing = True
        try:
            item.setPos(QPointF(*position))
        finally:
            self._placing = False

    def constrain(self, item: QGraphicsItem, position: QPointF) -> QPointF:
        """Where a dragged item may go: snapped to the grid when snapping is on (model moves are kept as is)."""
        if self.scene.snap_to_grid and not self._placing:
            return QPointF(round(position.x() / GRID) * GRID, round(position.y() / GRID) * GRID)
        return position

    def moved(self, item: QGraphicsItem) -> None:
        """An item moved: remember a user drag, to commit on release."""
        if not self._placing:
            self._dragged.add(item)

    def forget(self, item: QGraphicsItem) -> None:
        """An item left the scene: neither commit its move nor light it."""
        self._dragged.discard(item)
        if item is self._hinted:
            self._hinted = None

    def follow(self, point: QPointF) -> None:
        """The mouse moved to scene point `point`: light the wire a dragged node would go into there."""
        if self._dragged:
            models = [(item, item.node if isinstance(item, NodeItem) else None) for item in self._dragged]
            self._hint(self._insertion(models, point))

    def commit(self, drop: QPointF | None = None) -> None:
        """Turn the items dragged since the last commit into one undoable move.

        One unwired node dropped (at scene point `drop`) on a wire is inserted into it, in the same undo step.
        """
        editor = self.scene.editor
        moves, models = {}, []
        for item in self._dragged:
            model = item.node if isinstance(item, NodeItem) else item.annotation
            moves[model.id] = (model.position, (item.pos().x(), item.pos().y()))
            models.append((item, model))
        self._dragged.clear()
        self._hint(None)
        wire = self._insertion(models, drop)
        if wire is not None:
            editor.stack.beginMacro(f"Insert {models[0][1].name}")
        moved = editor.move(moves, mergeable=wire is None)
        if wire is not None:
            if moved:
                editor.insert(models[0][1].id, wire)
            editor.stack.endMacro()
        if not moved:
            for item, model in models:  # refused (or nothing moved): the items go back where the model has them
                self.place(item, model.position)

    def _insertion(self, models: list[tuple[QGraphicsItem, Any]], drop: QPointF | None) -> Edge | None:
        """The wire a lone unwired node with inputs was dropped on, if any."""
        if drop is None or len(models) != 1 or not isinstance(models[0][0], NodeItem):
            return None
        node_id = models[0][1].id
        if self.scene.edges_of.get(node_id) or not models[0][0].inputs or self.scene.editor.busy is not None:
            return None
        return self.scene.edge_at(drop)

    def _hint(self, edge: Edge | None) -> None:
        """Light the wire a dragged node would go into (None: none)."""
        item = self.scene.edges.get((edge.target, edge.port)) if edge is not None else None
        if item is not self._hinted:
            for old, new in ((self._hinted, False), (item, True)):
                if old is not None:
                    old.hinted = new
                    old.update()
            self._hinted = item
