"""The editor: turns user gestures into undoable commands on the model, and explains refusals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from gradstudio.model.annotations import RemoveAnnotation
from gradstudio.model.catalog import CATALOG
from gradstudio.model.document import Edge, EditError, GraphDocument, Node
from gradstudio.model.edits import AddNode, Batch, Connect, Disconnect, Edit, RemoveNode
from gradstudio.model.evaluation import Evaluator
from gradstudio.model.rules import check_name
from gradstudio.ui.edit.commands import ApplyEdit, MoveNodes, Position, StackGuard, move_edits
from gradstudio.ui.edit.placement import free_position

# variable-name stems for new nodes (the rest use their op kind)
NAME_STEMS = {"tensor": "x", "scalar": "c"}
BUSY = "Undo or Redo is running; try again when it is done"


class Editor(QObject):
    """Applies edits through the undo stack; a refused edit changes nothing and is reported by `refused`."""

    refused = Signal(str)

    def __init__(self, document: GraphDocument, evaluator: Evaluator, stack: QUndoStack) -> None:
        super().__init__()
        self.document = document
        self.evaluator = evaluator
        self.stack = stack
        self.guard = StackGuard()
        self.job: str | None = None  # set by the workspace while a job (training) owns the graph

    @property
    def busy(self) -> str | None:
        """Why no edit may be pushed now (undo or redo running, a job owning the graph), or None."""
        return BUSY if self.guard.active else self.job

    def apply(self, edit: Edit, text: str) -> bool:
        """Perform `edit` as one undo step; False (and `refused` emitted) if the model refuses it."""
        problem = self.attempt(edit, text)
        if problem is not None:
            self.refused.emit(f"{text}: {problem}")
        return problem is None

    def attempt(self, edit: Edit, text: str) -> str | None:
        """Perform `edit` as one undo step; the model's reason if it refuses (nothing changed, nothing emitted)."""
        if self.busy is not None:
            return self.busy
        try:
            inverse = self.document.apply(edit)
        except EditError as error:
            return str(error)
        self.stack.push(ApplyEdit(self.document, edit, inverse, text, self.guard))
        return None

    def move(self, moves: Mapping[str, tuple[Position, Position]], text: str = "", mergeable: bool = True) -> bool:
        """Record items (nodes or annotations) moved from one position to another; False if nothing was moved."""
        moves = {key: (before, after) for key, (before, after) in moves.items() if before != after}
        if moves and self.busy is not None:
            self.refused.emit(f"Move: {self.busy}")
            return False
        if moves:
            count = len(moves)
            label = text or ("Move " + (f"{count} items" if count > 1 else self._label(next(iter(moves)))))
            try:  # first: a refused move (beyond the canvas's limits, say) must leave no dead step behind
                self.document.apply(move_edits(self.document, moves, 1))
            except EditError as error:
                self.refused.emit(f"{label}: {error}")
                return False
            self.stack.push(MoveNodes(self.document, moves, label, mergeable, self.guard, applied=True))
            return True
        return False

    def _label(self, key: str) -> str:
        node = self.document.nodes.get(key)
        return node.name if node is not None else "annotation"

    def add_node(self, kind: str, position: Position, source: str | None = None,
                 target: tuple[str, str] | None = None, name: str | None = None) -> str | None:
        """Add a node of `kind` with its top-left corner at `position` (or the nearest free spot); its id, or None.

        With `source` the new node's first input is wired from that node, with `target` its output feeds that
        (node id, port): the node and its wires are one undo step. Wiring that would fail leaves the node unwired.
        A `name` the document cannot take (used, reserved, not an identifier) gives way to a fresh one, said so.
        """
        if kind not in CATALOG:
            self.refused.emit(f"Add node: unknown op kind {kind!r}")
            return None
        node_id = self.document.new_id()
        name = self._usable_name(name, node_id) or self.document.new_name(NAME_STEMS.get(kind, kind))
        node = Node(node_id, kind, name, position=(float(position[0]), float(position[1])))
        node.position = free_position(self.document, node)
        edits: list[Edit] = [AddNode(node)]
        if source is not None and node.input_ports():
            edits.append(Connect(Edge(source, node_id, node.input_ports()[0])))
        if target is not None:
            occupant = self.document.edges.get(target)
            edits += [Disconnect(occupant)] if occupant is not None else []
            edits.append(Connect(Edge(node_id, *target)))
        title = f"Add {CATALOG[kind].title}"
        checked = [node_id, *([target[0]] if target is not None else [])]
        if len(edits) > 1 and self._apply_trying(Batch(edits), title, f"Cannot wire {name}", checked):
            return node_id
        return node_id if self.apply(edits[0], title) else None  # unwired (a refused wiring said why)

    def _usable_name(self, name: str | None, node_id: str) -> str | None:
        """`name` if a new node may take it, else None (and the reason said)."""
        if not name:
            return None
        try:
            check_name(self.document, name, node_id)
        except EditError as error:
            self.refused.emit(f"Add node: {error}; a fresh name is used")
            return None
        return name

    def connect(self, edge: Edge, replacing: Edge | None = None) -> bool:
        """Connect `edge` (instead of `replacing`, and of any edge already into its input) as one undo step.

        Refused on a model error or when the target then fails.
        """
        occupant = self.document.edges.get((edge.target, edge.port))
        displaced = [old for old in (replacing, occupant) if old is not None and old != edge]
        edits: list[Edit] = [Disconnect(old) for old in dict.fromkeys(displaced)]
        edit = Batch([*edits, Connect(edge)])
        text = f"Connect {self._label(edge.source)} → {self._label(edge.target)}.{edge.port}"
        return self._apply_trying(edit, text, "Cannot connect", [edge.target])

    def _apply_trying(self, edit: Edit, text: str, refusal: str, checked: list[str]) -> bool:
        """Apply `edit` as one undo step unless the model refuses it or a `checked` node would then fail."""
        if self.busy is not None:
            self.refused.emit(f"{refusal}: {self.busy}")
            return False
        try:
            inverse = self.document.apply(edit)
        except EditError as error:
            self.refused.emit(f"{refusal}: {error}")
            return False
        for node_id in checked:
            problem = self._trial_error(node_id)
            if problem is not None:
                inverse.apply(self.document)
                self.refused.emit(f"{refusal}: {self._label(node_id)} would fail: {problem}")
                return False
        self.stack.push(ApplyEdit(self.document, edit, inverse, text, self.guard))
        return True

    def insert(self, node_id: str, edge: Edge) -> bool:
        """Put an unwired node into `edge`: its source feeds the node's first input, the node feeds its target.

        Refused, as a connection is, when the node or the wire's target would then fail.
        """
        ports = self.document.node(node_id).input_ports()
        if not ports:
            self.refused.emit(f"Insert {self._label(node_id)}: it has no input")
            return False
        edit = Batch([Disconnect(edge), Connect(Edge(edge.source, node_id, ports[0])),
                      Connect(Edge(node_id, edge.target, edge.port))])
        name = self._label(node_id)
        return self._apply_trying(edit, f"Insert {name}", f"Cannot insert {name}", [node_id, edge.target])

    def _trial_error(self, target: str) -> str | None:
        """The error the target reports once all its inputs are wired (a shape mismatch, say), else None."""
        if len(self.document.inputs_of(target)) < len(self.document.node(target).input_ports()):
            return None
        result = self.evaluator.evaluate().get(target)
        return result.error if result is not None else None

    def disconnect(self, edge: Edge) -> bool:
        """Remove one edge."""
        return self.apply(Disconnect(edge), f"Disconnect {self._label(edge.source)} → {self._label(edge.target)}")

    def delete(self, node_ids: Iterable[str], edges: Iterable[Edge] = (), annotation_ids: Iterable[str] = ()) -> bool:
        """Delete nodes (with their edges), edges and annotations as one undo step."""
        node_ids = list(node_ids)
        doomed = set(node_ids)
        edits: list[Edit] = [Disconnect(e) for e in edges if e.source not in doomed and e.target not in doomed]
        edits += [RemoveNode(node_id) for node_id in node_ids]
        edits += [RemoveAnnotation(annotation_id) for annotation_id in annotation_ids]
        if not edits:
            return False
        return self.apply(Batch(edits), f"Delete {len(edits)} item{'s' if len(edits) > 1 else ''}")
