"""Python source text for the values code export writes: numbers, sizes and nested lists."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def number(value: Any) -> str:
    """A Python literal for an int, float or bool (`float('inf')` and `float('nan')` for the non-finite)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = float(value)
    if math.isnan(value):
        return "float('nan')"
    if math.isinf(value):
        return "float('inf')" if value > 0 else "-float('inf')"
    return repr(value)


def operand(value: Any) -> str:
    """A number as an operand of an operator: negative ones parenthesised (`(-2) ** x`, not `-2 ** x`)."""
    text = number(value)
    return f"({text})" if text.startswith("-") else text


def float32(value: Any) -> str:
    """The shortest decimal that reads back as this float32 even through Python's float64 (else the exact one)."""
    single = np.float32(value)
    if not np.isfinite(single):
        return number(float(single))
    text = str(single)
    if np.float32(float(text)) != single:
        text = repr(float(single))
    return text


def element(value: Any, dtype: np.dtype) -> str:
    """One element of an array as the literal that gives it back in `dtype`."""
    if dtype == np.bool_:
        return str(bool(value))
    if dtype.kind in "iu":
        return str(int(value))
    return float32(value) if dtype == np.float32 else number(float(value))


def nested(array: np.ndarray, indent: int = 0) -> str:
    """`array` as a nested list literal, one innermost row per line (aligned under `indent` columns)."""
    if array.ndim == 0:
        return element(array.item(), array.dtype)
    if array.ndim == 1:
        return "[" + ", ".join(element(v, array.dtype) for v in array.tolist()) + "]"
    separator = "," + "\n" * (array.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(nested(block, indent + 1) for block in array) + "]"


def sizes(shape: tuple[int, ...]) -> str:
    """Sizes as positional arguments (`2, 3`); the empty shape as `()`."""
    return ", ".join(str(extent) for extent in shape) if shape else "()"


def size_tuple(shape: tuple[int, ...]) -> str:
    """A shape as a tuple literal (`(3,)`, `(2, 3)`, `()`)."""
    return "(" + ", ".join(str(extent) for extent in shape) + ("," if len(shape) == 1 else "") + ")"
