"""The one home of GradStudio's size limits: tensor elements, names, canvas coordinates and number magnitudes.

Every entry point (the document's edits, attribute checks, file and fragment loading, evaluation, the CLI)
asks this module, so what the document accepts is exactly what a file can hold and what the app can compute
and draw. Checks use bounded arithmetic: a shape's product stops once past the limit, and a huge Python int
is measured by its bit length, never turned into text (CPython refuses int -> str past 4,300 digits).
"""

from __future__ import annotations

import math
import sys
import unicodedata
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_ELEMENTS = 10**7
MAX_ELEMENTS_CEILING = 10**9  # the highest element limit a user may set (4 GB of float32 in one tensor)
MAX_NAME_LENGTH = 64
MAX_TEXT_LENGTH = 100_000  # a note's text or a frame's title
CANVAS_LIMIT = 1e7  # far beyond any real graph; keeps the canvas's integer scroll range sane
MAX_INT = 2**63 - 1  # integer attributes (dims, seeds, counts) fit an int64, as PyTorch's do
MAX_FLOAT = sys.float_info.max
MAX_REPR = 80  # characters of a number quoted in a message


class LimitError(ValueError):
    """A value beyond one of the limits; the message names the limit."""


@dataclass
class Limits:
    """The limits a user may change (a setting): how many elements one tensor may hold."""

    max_elements: int = DEFAULT_MAX_ELEMENTS


LIMITS = Limits()


def max_elements() -> int:
    """The current limit on the elements of one tensor (default 10**7)."""
    return LIMITS.max_elements


def set_max_elements(count: int) -> int:
    """Change the element limit (a setting); returns the previous one so a caller can restore it."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_ELEMENTS_CEILING:
        raise LimitError(f"the element limit must be an integer from 1 to {MAX_ELEMENTS_CEILING:,}, got "
                         f"{short_repr(count)}")
    previous, LIMITS.max_elements = LIMITS.max_elements, count
    return previous


def short_repr(value: Any, width: int = MAX_REPR) -> str:
    """`repr(value)` cut to `width` characters; a huge int is described by its size, never converted whole."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        digits = int(value.bit_length() * math.log10(2)) + 1
        return f"{'-' if value < 0 else ''}<an integer of about {digits} digits>"
    if isinstance(value, (list, tuple)) and not _small(value):
        parts, length = [], 0
        for item in value:
            part = short_repr(item, width)
            parts.append(part)
            length += len(part) + 2
            if length > width:
                break
        text = "[" + ", ".join(parts) + ("]" if len(parts) == len(value) else ", ...]")
    else:
        text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _small(items: list | tuple) -> bool:
    """True when `repr(items)` is cheap and safe: few entries, no nesting, no huge ints."""
    return len(items) <= 64 and not any(
        isinstance(item, (list, tuple, dict)) or (isinstance(item, int) and item.bit_length() > 200)
        for item in items)


def short_message(text: str, width: int = 300) -> str:
    """An error message cut to `width` characters (engine messages may quote a huge value)."""
    return text if len(text) <= width else text[: width - 3] + "..."


def bounded_product(extents: Any, limit: int) -> int | None:
    """The product of non-negative int `extents`, or None once it passes `limit` (no huge intermediate)."""
    extents = list(extents)
    if any(extent == 0 for extent in extents):
        return 0
    product = 1
    for extent in extents:
        if extent > limit:
            return None
        product *= extent
        if product > limit:
            return None
    return product


def check_element_count(shape: Any, what: str = "shape") -> int:
    """How many elements a tensor of non-negative int `shape` holds; LimitError past `max_elements()`."""
    limit = max_elements()
    count = bounded_product(shape, limit)
    if count is None:
        raise LimitError(f"{what} {short_repr(list(shape))} has more than {limit:,} elements, the limit for one "
                         "tensor")
    return count


def check_int(value: int, what: str) -> int:
    """An integer attribute within the int64 range (measured by bit length, no conversion to text)."""
    if abs(value) > MAX_INT:
        raise LimitError(f"{what} must be within ±{MAX_INT}, got {short_repr(value)}")
    return value


def check_number(value: Any, what: str) -> Any:
    """A number that fits a float (a 401-digit int does not); NaN and infinities are floats, so they pass."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_FLOAT:
        raise LimitError(f"{what} must be within the range of a float (±{MAX_FLOAT:.3e}), got {short_repr(value)}")
    return value


def name_key(name: str) -> str:
    """The form Python compares identifiers in (NFKC): `ﬁ` and `fi` are one variable in exported code."""
    return unicodedata.normalize("NFKC", name)


def check_name_length(name: str) -> str:
    """A variable name of at most MAX_NAME_LENGTH characters (it is drawn on a node's face)."""
    if len(name) > MAX_NAME_LENGTH:
        raise LimitError(f"a name may have at most {MAX_NAME_LENGTH} characters, got {len(name):,}")
    return name


def check_text_length(text: str, what: str = "text") -> str:
    """A note's text of at most MAX_TEXT_LENGTH characters."""
    if len(text) > MAX_TEXT_LENGTH:
        raise LimitError(f"{what} may have at most {MAX_TEXT_LENGTH:,} characters, got {len(text):,}")
    return text


def check_python_result(value: Any) -> Any:
    """A Python-number result of scalar arithmetic; LimitError when it is beyond a float's range."""
    if isinstance(value, complex):
        raise LimitError("the result is a complex number")
    return check_number(value, "the result")


def python_power(base: Any, exponent: Any) -> Any:
    """`base ** exponent` of Python numbers, refused before computing when the result would pass a float's range.

    Python computes int powers exactly, so `10 ** 10**15` would run for hours; its size is known beforehand
    from logarithms.
    """
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        if exponent * math.log2(abs(base)) > 1100:  # a float's range is 2**1024
            raise LimitError(f"the result of {short_repr(base)} ** {short_repr(exponent)} is beyond the range "
                             "of a float")
    try:
        return check_python_result(base ** exponent)
    except OverflowError:
        raise LimitError(f"the result of {short_repr(base)} ** {short_repr(exponent)} is beyond the range of a "
                         "float") from None
