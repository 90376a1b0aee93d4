"""Typed constants on unconnected input ports: `x + 2` as one Add node with `2` on its `b` port.

A constant stands in for an edge on a port that has none; when an edge is connected to the port, the edge
wins and the constant waits, unused, until the edge is removed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gradstudio.model import limits
from gradstudio.model.document import GraphDocument, Node
from gradstudio.model.edits import Edit
from gradstudio.model.rules import EditError

if TYPE_CHECKING:
    from collections.abc import Mapping

Number = int | float | bool


def check_port_constant(node: Node, port: Any, value: Any) -> Number:
    """`value` as the constant of input `port` of `node` (EditError if the port or the value is not one)."""
    if not isinstance(port, str) or port not in node.input_ports():
        ports = ", ".join(node.input_ports()) or "none"
        raise EditError(f"{node.name} has no input {limits.short_repr(port)}; its inputs are {ports}")
    if not isinstance(value, (int, float)):  # bool is an int
        raise EditError(f"the constant of input {port!r} must be a number or true/false, got "
                        f"{limits.short_repr(value)}")
    try:
        return limits.check_number(value, f"the constant of input {port!r}")
    except limits.LimitError as error:
        raise EditError(str(error)) from None


def checked_port_constants(node: Node, given: Any) -> dict[str, Number]:
    """A node's port constants, each checked against its input ports (EditError if one is not valid)."""
    if not isinstance(given, dict):
        raise EditError(f"port constants must be a mapping of input ports to numbers, got {limits.short_repr(given)}")
    return {port: check_port_constant(node, port, value) for port, value in given.items()}


def port_constant(node: Node, port: str) -> Number | None:
    """The constant typed on `port` of `node`, if it has one."""
    return node.port_constants.get(port)


def unconnected_constants(document: GraphDocument, node: Node) -> Mapping[str, Number]:
    """The constants `node` uses: those on its input ports no edge feeds."""
    return {port: value for port, value in node.port_constants.items()
            if port in node.input_ports() and (node.id, port) not in document.edges}


@dataclass
class SetPortConstant(Edit):
    """Type a constant on an input port of a node (`value` None removes it)."""

    node_id: str
    port: str
    value: Number | None

    def apply(self, document: GraphDocument) -> Edit:
        node = document.node(self.node_id)
        old = node.port_constants.get(self.port)
        if self.value is None:
            if self.port not in node.port_constants:
                raise EditError(f"input {limits.short_repr(self.port)} of {node.name} holds no constant")
            constants = {port: v for port, v in node.port_constants.items() if port != self.port}
        else:
            constants = {**node.port_constants, self.port: check_port_constant(node, self.port, self.value)}
        node.port_constants = constants
        document.notify("attribute_changed", (node, "port_constants"))
        return SetPortConstant(self.node_id, self.port, old)


def drop_vanished_constants(document: GraphDocument, node: Node, kept: set[str]) -> list[Edit]:
    """Remove the constants of ports a variadic node no longer has; returns the edits undoing that."""
    gone = [port for port in node.port_constants if port not in kept]
    return [SetPortConstant(node.id, port, None).apply(document) for port in gone]



def constant_text(value: Number | None) -> str:
    """How a port constant reads as typed text (`2`, `2.5`, `True`, `nan`); empty for none."""
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def parse_constant(text: str) -> Number | None:
    """A port constant from typed text: an int, a float (`1e-3`, `nan`, `inf`), `True` or `False`; None when empty."""
    text = text.strip()
    if not text:
        return None
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise EditError(f"expected a number, True or False, got {limits.short_repr(text)}") from None
