"""Attribute values as the text a user types (`2, 3` for a shape) and back.

Parsing only converts: text that does not convert is passed on unchanged, so the one set of rules in
`validation.check_attribute` refuses it and says why (no second set of rules for typed input).
"""

from __future__ import annotations

from typing import Any

from gradstudio.model.catalog import AttributeSpec


def format_value(spec: AttributeSpec, value: Any) -> str:
    """The text an attribute's field shows (empty for None and for the 0-d shape)."""
    if value is None:
        return ""
    if spec.kind in ("shape", "dims", "values"):
        return ", ".join(format_number(v) for v in value)
    if spec.kind in ("float", "number"):
        return format_number(value)
    return str(value)


def format_number(value: Any) -> str:
    """A number as typed: ints plain, floats in Python's shortest form (`0.1`, `1e-08`)."""
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    return repr(value)


def parse_number(text: str) -> Any:
    """`"2"` -> 2, `"2.5"` -> 2.5, `"inf"` -> inf; text that is not a number comes back as it was."""
    stripped = text.strip()
    for convert in (int, float):
        try:
            return convert(stripped)
        except ValueError:
            continue
    return text


def parse_value(spec: AttributeSpec, text: str) -> Any:
    """The value typed `text` stands for, for attribute `spec` (unconvertible text unchanged, for the check)."""
    if spec.kind in ("str", "choice"):
        return text
    stripped = text.strip()
    if spec.kind in ("shape", "dims", "values"):
        return _parse_list(spec, stripped)
    if not stripped:
        return None
    if spec.kind in ("int", "dim"):
        try:
            return int(stripped)
        except ValueError:
            return text
    if spec.kind in ("float", "number"):
        return parse_number(stripped)
    if spec.kind == "bool":
        return {"true": True, "false": False}.get(stripped.lower(), text)
    return text


def _parse_list(spec: AttributeSpec, text: str) -> Any:
    inner = text[1:-1] if text[:1] + text[-1:] in ("()", "[]") else text
    parts = [part.strip() for part in inner.split(",")]
    if parts and not parts[-1]:
        parts.pop()  # "3," is the one-element shape
    if spec.kind == "values":
        return tuple(parse_number(part) for part in parts)
    try:
        return tuple(int(part) for part in parts)
    except ValueError:
        return text

