"""The `.gsg` file's error type and the small typed checks the reader and the migrations share.

Every check names the place in the file (`nodes[3].attributes.shape`) and what
was expected there, so a hand-edited or damaged file gets one precise message.
"""

from __future__ import annotations

import math
from typing import Any

FORMAT = "gradstudio-graph"
CURRENT_VERSION = 5
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_NESTING = 32
MAX_MESSAGE = 300


class GraphFileError(ValueError):
    """A graph file that cannot be loaded; `path` is the place in the file, `message` what was wrong."""

    def __init__(self, path: str, message: str) -> None:
        if len(message) > MAX_MESSAGE:  # messages quote the offending value, which may be huge
            message = message[: MAX_MESSAGE - 3] + "..."
        if len(path) > MAX_MESSAGE:  # so may the path: it quotes unexpected keys
            path = path[: MAX_MESSAGE - 3] + "..."
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def type_name(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def child(path: str, key: str | int) -> str:
    """The path of `key` inside `path` (`nodes` + 3 -> `nodes[3]`, `node` + `kind` -> `node.kind`)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if key.isidentifier() and key.isascii():
        return f"{path}.{key}" if path else key
    return f"{path}[{key!r}]"


def expect_object(value: Any, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    """`value` as a JSON object with every `required` key and no key outside `required + optional`."""
    if not isinstance(value, dict):
        raise GraphFileError(path, f"expected an object, got {type_name(value)}")
    for key in required:
        if key not in value:
            raise GraphFileError(child(path, key), "missing")
    allowed = set(required) | set(optional)
    for key in value:
        if key not in allowed:
            raise GraphFileError(child(path, key), f"unexpected key; expected only {', '.join(required + optional)}")
    return value


def expect_list(value: Any, path: str) -> list:
    """`value` as a JSON array."""
    if not isinstance(value, list):
        raise GraphFileError(path, f"expected an array, got {type_name(value)}")
    return value


def expect_str(value: Any, path: str) -> str:
    """`value` as a JSON string."""
    if not isinstance(value, str):
        raise GraphFileError(path, f"expected a string, got {type_name(value)}")
    return value


def expect_bool(value: Any, path: str) -> bool:
    """`value` as true or false."""
    if not isinstance(value, bool):
        raise GraphFileError(path, f"expected true or false, got {type_name(value)}")
    return value


def expect_finite(value: Any, path: str) -> float:
    """`value` as a finite number (a float)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GraphFileError(path, f"expected a number, got {type_name(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise GraphFileError(path, f"expected a finite number, got {value!r}")
    return number


def nesting_depth(value: Any) -> int:
    """How deeply arrays and objects nest in `value` (0 for a scalar); stops counting past MAX_NESTING."""
    depth, level = 0, [value]
    while level and depth <= MAX_NESTING:
        containers = [item for item in level if isinstance(item, (list, dict))]
        if not containers:
            break
        depth += 1
        level = [x for c in containers for x in (c.values() if isinstance(c, dict) else c)]
    return depth
