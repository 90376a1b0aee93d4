"""The reversible edits of a graph document: the only way its nodes, edges and settings change.

Every edit is an `Edit` whose `apply(document)` checks it, performs it, notifies the document's observers
and returns the edit that undoes it; the UI wraps these in undo commands (`ui/edit/commands.py`). A refused
edit raises `EditError` and changes nothing; `Batch` undoes the part of a compound edit that ran. The
document's data and queries are in `document.py`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from gradstudio.model import limits
from gradstudio.model.catalog import CATALOG
from gradstudio.model.document import GRAD_MODES, Edge, Node
from gradstudio.model.rules import CYCLE_MESSAGE, EditError, canvas_point, check_id, check_name
from gradstudio.model.train_settings import TrainSettingsError, checked_setting

if TYPE_CHECKING:
    from gradstudio.model.document import GraphDocument
    from gradstudio.model.op_spec import OpSpec


class Edit:
    """A reversible change to a document."""

    def apply(self, document: GraphDocument) -> Edit:
        """Perform the change and return its inverse."""
        raise NotImplementedError


@dataclass
class AddNode(Edit):
    """Insert a node (attributes checked, completed from the catalog's defaults), last or at `index`."""

    node: Node
    index: int | None = None

    def apply(self, document: GraphDocument) -> Edit:
        from gradstudio.model.lesson import checked_hidden
        from gradstudio.model.port_constants import checked_port_constants

        # a shallow copy suffices: the attributes dict is rebuilt below from checked, immutable values
        node = replace(self.node)
        if not isinstance(node.kind, str) or node.kind not in CATALOG:
            raise EditError(f"unknown op kind {limits.short_repr(node.kind)}")
        if isinstance(node.id, str) and node.id in document.nodes:
            raise EditError(f"a node with id {node.id!r} already exists")
        check_id(document, node.id)
        check_name(document, node.name, node.id)
        node.position = canvas_point(node.position)
        if not isinstance(node.attributes, dict):
            raise EditError(f"attributes must be a mapping of names to values, got "
                            f"{limits.short_repr(node.attributes)}")
        node.attributes = _checked_attributes(CATALOG[node.kind], node.attributes)
        if not isinstance(node.retain_grad, bool):
            raise EditError(f"retain_grad must be true or false, got {limits.short_repr(node.retain_grad)}")
        node.port_constants = checked_port_constants(node, node.port_constants)
        node.hidden = checked_hidden(node.hidden)
        if self.index is None or self.index >= len(document.nodes):
            document.nodes[node.id] = node
        else:
            # undoing RemoveNode puts the node back in its place: the order breaks topological ties
            entries = list(document.nodes.items())
            entries.insert(self.index, (node.id, node))
            document.nodes.clear()
            document.nodes.update(entries)
        document.notify("node_added", node)
        return RemoveNode(node.id)


def _checked_attributes(spec: OpSpec, given: dict[str, Any]) -> dict[str, Any]:
    """The catalog's defaults overridden by `given`, each value checked and normalised (EditError if not)."""
    from gradstudio.model.validation import check_node_attribute

    attributes = spec.default_attributes()
    for name, value in given.items():
        if name not in attributes:
            raise EditError(f"{spec.kind} nodes have no attribute {name!r}")
        attributes[name] = check_node_attribute(spec.kind, spec.attribute(name), value)
    return attributes


@dataclass
class RemoveNode(Edit):
    """Delete a node and every edge touching it."""

    node_id: str

    def apply(self, document: GraphDocument) -> Edit:
        node = document.node(self.node_id)
        touching = [e for e in document.edges.values() if self.node_id in (e.source, e.target)]
        restore: list[Edit] = [AddNode(copy.deepcopy(node), list(document.nodes).index(self.node_id))]
        for edge in touching:
            restore.append(Disconnect(edge).apply(document))
        settings_edit = None
        if document.settings.backward_target == self.node_id:
            settings_edit = SetSetting("backward_target", None).apply(document)
        del document.nodes[self.node_id]
        document.notify("node_removed", node)
        if settings_edit is not None:
            restore.append(settings_edit)
        return Batch(restore)


@dataclass
class Connect(Edit):
    """Feed the output of `edge.source` into `edge.port` of `edge.target`.

    `check_cycle=False` leaves the (graph-sized) cycle check to the caller: the file reader checks a whole
    load once with `find_cycle_edge` instead of once per edge, which made target-first files quadratic.
    """

    edge: Edge
    check_cycle: bool = True

    def apply(self, document: GraphDocument) -> Edit:
        edge = self.edge
        document.node(edge.source)
        target = document.node(edge.target)
        if edge.port not in target.input_ports():
            raise EditError(f"{target.name} has no input {edge.port!r}")
        if (edge.target, edge.port) in document.edges:
            raise EditError(f"input {edge.port!r} of {target.name} is already connected")
        if edge.source == edge.target or (self.check_cycle and document.reaches(edge.target, edge.source)):
            raise EditError(CYCLE_MESSAGE)
        document.edges[(edge.target, edge.port)] = edge
        document.notify("edge_added", edge)
        return Disconnect(edge)


@dataclass
class Disconnect(Edit):
    """Remove one edge."""

    edge: Edge

    def apply(self, document: GraphDocument) -> Edit:
        if document.edges.get((self.edge.target, self.edge.port)) != self.edge:
            raise EditError("no such connection")
        del document.edges[(self.edge.target, self.edge.port)]
        document.notify("edge_removed", self.edge)
        return Connect(self.edge)


@dataclass
class SetAttribute(Edit):
    """Change one attribute of a node (validated against the catalog)."""

    node_id: str
    name: str
    value: Any

    def apply(self, document: GraphDocument) -> Edit:
        from gradstudio.model.validation import check_node_attribute

        node = document.node(self.node_id)
        spec = node.spec.attribute(self.name) if self.name in node.attributes else None
        if spec is None:
            raise EditError(f"{node.kind} nodes have no attribute {self.name!r}")
        value = check_node_attribute(node.kind, spec, self.value)
        old = node.attributes[self.name]
        dropped = self._edges_dropped_by_port_change(document, node, value)
        node.attributes[self.name] = value
        document.notify("attribute_changed", (node, self.name))
        inverse: Edit = SetAttribute(self.node_id, self.name, old)
        return Batch([inverse, *dropped]) if dropped else inverse

    def _edges_dropped_by_port_change(self, document: GraphDocument, node: Node, value: Any) -> list[Edit]:
        if not node.spec.variadic or self.name != "count":
            return []
        kept = set(node.spec.input_ports({**node.attributes, "count": value}))
        from gradstudio.model.port_constants import drop_vanished_constants

        gone = [e for (target, port), e in document.edges.items() if target == node.id and port not in kept]
        return [Disconnect(edge).apply(document) for edge in gone] + drop_vanished_constants(document, node, kept)


@dataclass
class RenameNode(Edit):
    """Change a node's variable name (must stay a unique Python identifier)."""

    node_id: str
    name: str

    def apply(self, document: GraphDocument) -> Edit:
        node = document.node(self.node_id)
        check_name(document, self.name, self.node_id)
        old, node.name = node.name, self.name
        document.notify("node_renamed", node)
        return RenameNode(self.node_id, old)


@dataclass
class MoveNode(Edit):
    """Place a node at a new canvas position."""

    node_id: str
    position: tuple[float, float]

    def apply(self, document: GraphDocument) -> Edit:
        node = document.node(self.node_id)
        old, node.position = node.position, canvas_point(self.position)
        document.notify("node_moved", node)
        return MoveNode(self.node_id, old)


@dataclass
class SetRetainGrad(Edit):
    """Ask Backward to keep `.grad` on a non-leaf node (`retain_grad()`)."""

    node_id: str
    retain: bool

    def apply(self, document: GraphDocument) -> Edit:
        node = document.node(self.node_id)
        old, node.retain_grad = node.retain_grad, bool(self.retain)
        document.notify("attribute_changed", (node, "retain_grad"))
        return SetRetainGrad(self.node_id, old)


@dataclass
class SetSetting(Edit):
    """Change a document setting (`grad_mode`, `backward_target`, `training` or `loss_history`)."""

    name: str
    value: Any

    def apply(self, document: GraphDocument) -> Edit:
        if self.name == "grad_mode" and self.value not in GRAD_MODES:
            raise EditError(f"grad mode must be one of {', '.join(GRAD_MODES)}")
        if self.name == "backward_target" and self.value is not None:
            document.node(self.value)
        if self.name not in ("grad_mode", "backward_target", "training", "loss_history"):
            raise EditError(f"unknown setting {self.name!r}")
        try:
            value = checked_setting(self.name, self.value)
        except TrainSettingsError as error:
            raise EditError(str(error)) from None
        old = getattr(document.settings, self.name)
        setattr(document.settings, self.name, value)
        document.notify("settings_changed", self.name)
        return SetSetting(self.name, old)


@dataclass
class Batch(Edit):
    """Several edits as one; if one is refused, the earlier ones are undone."""

    edits: list[Edit]

    def apply(self, document: GraphDocument) -> Edit:
        inverses: list[Edit] = []
        try:
            for edit in self.edits:
                inverses.append(edit.apply(document))
        except EditError:
            for inverse in reversed(inverses):
                inverse.apply(document)
            raise
        return Batch(list(reversed(inverses)))
