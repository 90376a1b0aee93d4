"""The rules a document's contents obey, shared by its edits and the file reader: ids, names, positions, cycles.

Every refusal is an `EditError`, the one exception the document's edits raise; the limits themselves
(name length, the canvas's extent) come from `limits`.
"""

from __future__ import annotations

import keyword
import numbers
import re
from typing import TYPE_CHECKING, Any

from gradstudio.model import limits
from gradstudio.model.limits import CANVAS_LIMIT, LimitError, name_key
from gradstudio.model.structure import is_acyclic

if TYPE_CHECKING:
    from gradstudio.model.document import Edge, GraphDocument

CYCLE_MESSAGE = "connecting these ports would make a cycle"
ITEM_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class EditError(ValueError):
    """An edit the document refuses (unknown node, occupied input, cycle, ...); nothing changed."""


# names the exported code itself uses (a variable called `print` or `float` would break it), and keywords
RESERVED_NAMES = frozenset({"torch", "F", "nn", "print", "float", "None", "True", "False", "and", "or", "not", "in",
                            "is", "if", "else", "for", "while", "def", "class", "return", "import", "from", "as",
                            "with", "lambda", "pass", "del", "global", "try", "except", "raise", "yield", "assert"})


def find_cycle_edge(edges: list[Edge]) -> int | None:
    """The index of the first edge in `edges` that closes a cycle, or None: one check of the whole list, then
    a bisection over prefixes only when there is a cycle (so O(E log E) at worst, never one search per edge)."""
    def acyclic(count: int) -> bool:
        return is_acyclic((edge.source, edge.target) for edge in edges[:count])

    if acyclic(len(edges)):
        return None
    low, high = 0, len(edges)  # acyclic(low) holds, acyclic(high) does not
    while high - low > 1:
        middle = (low + high) // 2
        if acyclic(middle):
            low = middle
        else:
            high = middle
    return high - 1


def canvas_point(value: Any, what: str = "position") -> tuple[float, float]:
    """`value` as two finite floats; EditError otherwise (a NaN position would break drawing and saving)."""
    items = list(value) if isinstance(value, (list, tuple)) else []
    point: tuple[float, ...] = ()
    if len(items) == 2 and all(isinstance(n, numbers.Real) and not isinstance(n, bool) for n in items):
        try:
            point = tuple(float(number) for number in items)
        except OverflowError:
            point = ()
    if len(point) != 2 or not all(abs(number) <= CANVAS_LIMIT for number in point):  # NaN fails too
        raise EditError(f"{what} must be two finite numbers within ±{CANVAS_LIMIT:.0e}, got "
                        f"{limits.short_repr(value)}")
    return point


def check_id(document: GraphDocument, item_id: Any) -> None:
    """Ids are 1 to 64 letters, digits, '_', '-' or '.' (what a file accepts), unused by nodes and annotations."""
    if not isinstance(item_id, str) or not ITEM_ID.fullmatch(item_id):
        raise EditError(f"an id must be 1 to 64 letters, digits, '_', '-' or '.', got {limits.short_repr(item_id)}")
    if item_id in document.nodes or item_id in document.annotations:
        raise EditError(f"the id {item_id!r} is already used")


def check_name(document: GraphDocument, name: Any, node_id: str) -> None:
    """Variable names are unique Python identifiers (they become the exported code's names), compared as Python
    compares them (NFKC: `ﬁ` is `fi`, full-width `ｐｒｉｎｔ` is `print`), and at most 64 characters."""
    if not isinstance(name, str):
        raise EditError(f"a variable name must be text, got {limits.short_repr(name)}")
    try:
        limits.check_name_length(name)
    except LimitError as error:
        raise EditError(str(error)) from None
    key = name_key(name)
    if not name.isidentifier() or key in RESERVED_NAMES or keyword.iskeyword(key):
        raise EditError(f"{name!r} is not a valid variable name")
    owner = document.name_owner(name)
    if owner not in (None, node_id):
        other = document.nodes[owner].name if owner in document.nodes else name
        same = "" if other == name else f" (Python reads it as {other!r})"
        raise EditError(f"the name {name!r} is already used{same}")
