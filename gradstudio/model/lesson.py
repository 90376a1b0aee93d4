"""Lesson authoring: which values and gradients a document hides from a learner, and how a prediction is read.

A node can hide its value, its gradient, or both. Each hidden item carries the author's tolerance (an answer
is right when |prediction - truth| <= atol + rtol * |truth| everywhere, as `torch.allclose` has it) and an
optional hint. Hiding is a reversible `SetHidden` edit; `lesson_play.py` plays a lesson. A prediction is
typed text (`6`, `1/3`, `[6, 6, 6]`, `[[0.75, 0.75], [0.75, 0.75]]`) read by a small parser, never eval'd.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from gradstudio.model import limits
from gradstudio.model.document import GraphDocument
from gradstudio.model.edits import Edit
from gradstudio.model.rules import EditError

VALUE = "value"
GRAD = "grad"
HIDDEN_KINDS = (VALUE, GRAD)
KIND_TITLES = {VALUE: "value", GRAD: "gradient"}
DEFAULT_ATOL = 1e-3
DEFAULT_RTOL = 1e-2  # 0.33 for 1/3 is right; 0.3 is not
MAX_TOLERANCE = 1e6
MAX_HINT = 500
MAX_PREDICTION_CHARS = 5000
MAX_PREDICTION_DEPTH = 6
MAX_PREDICTION_ELEMENTS = 1000
LESSON_CHANGED = "lesson_changed"


@dataclass(frozen=True)
class Hidden:
    """One hidden item's settings: the tolerance its answer is checked with, and the author's hint."""

    atol: float = DEFAULT_ATOL
    rtol: float = DEFAULT_RTOL
    hint: str = ""

    def checked(self) -> Hidden:
        """These settings, validated (EditError if a tolerance is negative or too large, or the hint too long)."""
        for name in ("atol", "rtol"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise EditError(f"the {name} tolerance must be a finite number, got {limits.short_repr(value)}")
            if not 0 <= value <= MAX_TOLERANCE:
                raise EditError(f"the {name} tolerance must lie between 0 and {MAX_TOLERANCE:g}, got {value!r}")
        if not isinstance(self.hint, str):
            raise EditError(f"a hint must be text, got {limits.short_repr(self.hint)}")
        if len(self.hint) > MAX_HINT:
            raise EditError(f"a hint may hold at most {MAX_HINT} characters, got {len(self.hint)}")
        return replace(self, atol=float(self.atol), rtol=float(self.rtol))

    def tolerance_text(self) -> str:
        """The tolerance in words: `±0.001 + 1%`."""
        return f"±{self.atol:g} + {self.rtol * 100:g}%"


def checked_hidden(given: Any) -> dict[str, Hidden]:
    """A node's hidden items, each checked, in the order value, grad (EditError if one is not valid)."""
    if not isinstance(given, dict):
        raise EditError(f"hidden items must be a mapping of 'value'/'grad' to settings, got {limits.short_repr(given)}")
    for kind in given:
        if kind not in HIDDEN_KINDS:
            raise EditError(f"a node can hide its value or its grad, not {limits.short_repr(kind)}")
    for hidden in given.values():
        if not isinstance(hidden, Hidden):
            raise EditError(f"expected hidden-item settings, got {limits.short_repr(hidden)}")
    return {kind: given[kind].checked() for kind in HIDDEN_KINDS if kind in given}


@dataclass
class SetHidden(Edit):
    """Hide a node's value or gradient from a learner with these settings (`hidden` None shows it again)."""

    node_id: str
    kind: str
    hidden: Hidden | None

    def apply(self, document: GraphDocument) -> Edit:
        node = document.node(self.node_id)
        if self.kind not in HIDDEN_KINDS:
            raise EditError(f"a node can hide its value or its grad, not {limits.short_repr(self.kind)}")
        old = node.hidden.get(self.kind)
        if self.hidden is None:
            node.hidden.pop(self.kind, None)
        else:
            node.hidden = checked_hidden({**node.hidden, self.kind: self.hidden})
        document.notify(LESSON_CHANGED, node)
        return SetHidden(self.node_id, self.kind, old)


def hidden_items(document: GraphDocument) -> list[tuple[str, str]]:
    """Every hidden (node id, kind), in evaluation order, the value before the gradient."""
    return [(node_id, kind) for node_id in document.topological_order()
            for kind in HIDDEN_KINDS if kind in document.nodes[node_id].hidden]


def is_lesson(document: GraphDocument) -> bool:
    """True when the document hides something: it opens to be played."""
    return any(node.hidden for node in document.nodes.values())


# ----- reading a prediction -------------------------------------------------------------------------------------


class PredictionError(ValueError):
    """Typed text that is not a number or a small tensor of numbers; the message says why."""


_TOKEN = re.compile(r"\s*(?:(?P<open>\[)|(?P<close>\])|(?P<comma>,)|(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)"
                    r"(?:[eE][-+]?\d+)?(?:\s*/\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)?|"
                    r"[-+]?(?:inf|nan))|(?P<word>True|False))\s*", re.IGNORECASE)


def parse_prediction(text: str) -> np.ndarray:
    """A typed number (`6`, `-0.5`, `1/3`, `True`) or nested list of them (`[6, 6, 6]`) as a float array.

    PyTorch's printed form is accepted too (`tensor([6., 6., 6.])`). Anything else raises PredictionError.
    """
    if not isinstance(text, str):
        raise PredictionError("type a number or a list of numbers")
    if len(text) > MAX_PREDICTION_CHARS:
        raise PredictionError(f"an answer may hold at most {MAX_PREDICTION_CHARS} characters")
    text = text.strip()
    wrapped = re.fullmatch(r"tensor\((.*?)(?:,\s*(?:grad_fn|requires_grad|dtype)=.*)?\)", text, re.S)
    if wrapped:
        text = wrapped.group(1).strip()
    if not text:
        raise PredictionError("type your prediction first: a number, or a list such as [6, 6, 6]")
    tokens = _tokens(text)
    value, rest = _parse_item(tokens, 0, 0)
    if rest != len(tokens):
        raise PredictionError(f"unexpected {tokens[rest][1]!r} after the answer")
    array = np.asarray(value, dtype=np.float64)
    if array.size > MAX_PREDICTION_ELEMENTS:
        raise PredictionError(f"an answer may hold at most {MAX_PREDICTION_ELEMENTS} numbers")
    return array


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            bad = text[position:].strip()[:20]
            raise PredictionError(f"cannot read {bad!r}: type numbers, commas and [ ] only")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _parse_item(tokens: list[tuple[str, str]], index: int, depth: int) -> tuple[Any, int]:
    """One number or bracketed list starting at `tokens[index]`; returns it and the index after it."""
    if index >= len(tokens):
        raise PredictionError("the answer ends too early: a number or a ] is missing")
    kind, text = tokens[index]
    if kind == "number":
        return _number(text), index + 1
    if kind == "word":
        return float(text.lower() == "true"), index + 1
    if kind != "open":
        raise PredictionError(f"expected a number, got {text!r}")
    if depth >= MAX_PREDICTION_DEPTH:
        raise PredictionError(f"lists may nest at most {MAX_PREDICTION_DEPTH} deep")
    items: list[Any] = []
    index += 1
    while index < len(tokens) and tokens[index][0] != "close":
        item, index = _parse_item(tokens, index, depth + 1)
        items.append(item)
        if index < len(tokens) and tokens[index][0] == "comma":
            index += 1
        elif index < len(tokens) and tokens[index][0] != "close":
            raise PredictionError(f"expected a comma or ], got {tokens[index][1]!r}")
    if index >= len(tokens):
        raise PredictionError("a [ is not closed by a ]")
    _check_rows(items)
    return items, index + 1


def _check_rows(items: list[Any]) -> None:
    """The rows of one list must all be numbers, or all lists of one shape (a tensor is rectangular)."""
    shapes = {np.shape(item) for item in items}
    if len(shapes) > 1:
        raise PredictionError("rows of different lengths: a tensor's rows all have the same length")


def _number(text: str) -> float:
    if "/" in text:
        numerator, denominator = (float(part) for part in text.split("/"))
        if denominator == 0:
            raise PredictionError(f"{text.strip()} divides by zero")
        number = numerator / denominator
    else:
        number = float(text)
    if math.isinf(number) and "inf" not in text.lower():
        raise PredictionError(f"{text.strip()} is too large for a number")
    return number
