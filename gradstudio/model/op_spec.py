"""What a catalog entry holds: `OpSpec` (one node kind) and `AttributeSpec` (one of its attributes).

The types are apart from the table (`catalog.py`) so that what reads an entry (validation, the attribute
kinds, the inspector's fields, the file reader) can name them without importing every entry and the
engine calls they make. What an attribute's `kind` accepts is in `attribute_kinds.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AttributeSpec:
    """One editable attribute of a node kind; what its `kind` means is in `attribute_kinds.KINDS`."""

    name: str
    kind: str
    default: Any
    doc: str = ""
    choices: tuple[str, ...] = ()
    optional: bool = False
    # limits of the value (of each entry, for list kinds); None: the kind's own
    minimum: float | None = None
    maximum: float | None = None
    # a further rule on a value that passed its kind's check; raises ValueError saying why
    validate: Callable[[Any], object] | None = None
    # whether the attribute matters, given the node's attributes (None: always)
    applies_when: Callable[[Mapping[str, Any]], bool] | None = None
    # the role of the control that edits it, where not its kind's (a tensor's values: a table)
    widget: str = ""

    def applies(self, attributes: Mapping[str, Any]) -> bool:
        """True if this attribute matters for a node with `attributes` (a tensor's fill only for init=full)."""
        return self.applies_when is None or self.applies_when(attributes)


@dataclass(frozen=True)
class OpSpec:
    """Everything GradStudio knows about one node kind."""

    kind: str
    title: str
    category: str
    inputs: tuple[str, ...]
    compute: Callable[[Mapping[str, Any], Mapping[str, Any]], Any]
    template: str
    doc: str
    attributes: tuple[AttributeSpec, ...] = field(default=())
    variadic: bool = False
    # input ports whose tensors broadcast to the output's shape (their gradients are summed back)
    broadcasts: tuple[str, ...] = ()
    # the symbolic local derivative (model/derivatives.py), for the formula shown on an edge after Backward
    derivative: Any = None
    # the input port whose tensor an in-place op (`add_`) changes; it runs after that tensor's other readers
    modifies: str | None = None

    def attribute(self, name: str) -> AttributeSpec:
        """The spec of attribute `name` (KeyError if the kind has none)."""
        for spec in self.attributes:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def default_attributes(self) -> dict[str, Any]:
        """A fresh dict of every attribute at its default."""
        return {spec.name: spec.default for spec in self.attributes}

    def input_ports(self, attributes: Mapping[str, Any]) -> tuple[str, ...]:
        """Input port names; variadic kinds (cat, stack) have `count` of them."""
        if self.variadic:
            return tuple(f"{self.inputs[0]}{i}" for i in range(int(attributes.get("count", 2))))
        return self.inputs
