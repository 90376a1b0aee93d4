"""Checking attribute values against the catalog, and parsing index expressions without eval."""

from __future__ import annotations

from typing import Any

from gradstudio.model.catalog import AttributeSpec
from gradstudio.model.document import EditError
from gradstudio.model.leaves import LeafError, element_count


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _flatten(values: Any) -> list:
    if isinstance(values, (list, tuple)):
        return [x for item in values for x in _flatten(item)]
    return [values]


def check_attribute(spec: AttributeSpec, value: Any) -> Any:
    """`value` normalised for attribute `spec`; EditError naming the problem if it does not fit."""
    if value is None:
        if spec.optional:
            return None
        raise EditError(f"{spec.name} needs a value")
    kind = spec.kind
    if kind == "bool":
        if not isinstance(value, bool):
            raise EditError(f"{spec.name} must be true or false, got {value!r}")
        return value
    if kind in ("int", "dim"):
        if not _is_int(value):
            raise EditError(f"{spec.name} must be an integer, got {value!r}")
        if kind == "int" and spec.name == "count" and not 1 <= value <= 64:
            raise EditError(f"{spec.name} must be between 1 and 64, got {value}")
        return value
    if kind in ("float", "number"):
        if not _is_number(value):
            raise EditError(f"{spec.name} must be a number, got {value!r}")
        return value if kind == "number" else float(value)
    if kind == "str":
        if not isinstance(value, str):
            raise EditError(f"{spec.name} must be text, got {value!r}")
        if spec.name == "index":
            parse_index(value)
        return value
    if kind == "choice":
        if value not in spec.choices:
            raise EditError(f"{spec.name} must be one of {', '.join(spec.choices)}, got {value!r}")
        return value
    if kind in ("shape", "dims"):
        if not isinstance(value, (list, tuple)) or not all(_is_int(v) for v in value):
            raise EditError(f"{spec.name} must be a list of integers, got {value!r}")
        if kind == "shape" and any(v < -1 for v in value):
            raise EditError(f"{spec.name} extents must be non-negative (or -1 to infer), got {list(value)}")
        return tuple(value)
    if kind == "values":
        flat = _flatten(value)
        if not all(isinstance(v, (int, float, bool)) for v in flat):
            raise EditError(f"{spec.name} must be numbers, got {value!r}")
        return tuple(flat)
    raise EditError(f"unknown attribute kind {kind!r}")


def check_node_attribute(kind: str, spec: AttributeSpec, value: Any) -> Any:
    """check_attribute plus the rules of one node kind: a leaf's shape must describe a tensor we may allocate."""
    value = check_attribute(spec, value)
    if kind == "tensor" and spec.name == "shape":
        try:
            element_count(value)
        except LeafError as error:
            raise EditError(str(error)) from None
    return value


def _index_part(text: str) -> Any:
    text = text.strip()
    if text == "...":
        return Ellipsis
    if text == "None":
        return None
    if ":" in text:
        bounds = text.split(":")
        if len(bounds) > 3:
            raise EditError(f"bad slice {text!r}")
        numbers = [int(b) if b.strip() else None for b in bounds]
        return slice(*numbers)
    return int(text)


def parse_index(text: str) -> tuple:
    """`"0, 1:3, None, ..."` as an index tuple; only ints, slices, None and ... are allowed."""
    try:
        return tuple(_index_part(part) for part in text.split(","))
    except EditError:
        raise
    except ValueError:
        raise EditError(f"index {text!r} must be ints, slices (a:b:c), None or ... separated by commas") from None
