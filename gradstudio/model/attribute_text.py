"""Attribute values as the text a user types (`2, 3` for a shape) and back, as each kind in `attribute_kinds` reads it.

Parsing only converts: text that does not convert is passed on unchanged, so the one set of rules in
the kind's check refuses it and says why (no second set of rules for typed input).
"""

from __future__ import annotations

from typing import Any

from gradstudio.model.attribute_kinds import format_number, kind_of, parse_number
from gradstudio.model.op_spec import AttributeSpec

__all__ = ["format_number", "format_value", "parse_number", "parse_value"]


def format_value(spec: AttributeSpec, value: Any) -> str:
    """The text an attribute's field shows (empty for None and for the 0-d shape)."""
    return kind_of(spec).format(spec, value)


def parse_value(spec: AttributeSpec, text: str) -> Any:
    """The value typed `text` stands for, for attribute `spec` (unconvertible text unchanged, for the check)."""
    return kind_of(spec).parse(spec, text)
