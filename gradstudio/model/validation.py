"""Checking attribute values against the catalog: thin entry points to the kinds in `attribute_kinds`."""

from __future__ import annotations

from typing import Any

from gradstudio.model.attribute_kinds import kind_of, parse_index
from gradstudio.model.op_spec import AttributeSpec

__all__ = ["check_attribute", "check_node_attribute", "parse_index"]


def check_attribute(spec: AttributeSpec, value: Any) -> Any:
    """`value` normalised for attribute `spec`; EditError naming the problem if it does not fit."""
    return kind_of(spec).check(spec, value)


def check_node_attribute(kind: str, spec: AttributeSpec, value: Any) -> Any:
    """check_attribute for an attribute of a `kind` node (node-specific rules are on the spec: a leaf's shape
    must describe a tensor we may allocate), kept for the document's and the file reader's calls."""
    return check_attribute(spec, value)
