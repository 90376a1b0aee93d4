"""Text the UI shows, kept short: one-line status messages, elided paths and names, summaries of huge tensors."""

from __future__ import annotations

import math
import re
from itertools import islice
from typing import Any

import numpy as np

import gradstudio.engine as engine

MESSAGE_LIMIT = 300  # characters of a status-bar message
PATH_LIMIT = 120  # characters of a path inside a message
NAME_LIMIT = 64  # characters of a name in a panel's header
REPR_LIMIT = 1000  # elements: PyTorch's repr summarises tensors bigger than this


def escaped(text: str) -> str:
    """`text` shown as is inside a panel's rich text (`html.escape`; html and its table of entities load with the first
    name a panel shows, not while the app starts)."""
    import html

    return html.escape(text)


def clip(text: Any, limit: int = MESSAGE_LIMIT) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[:limit - 1] + "…"


def elide_middle(text: Any, limit: int) -> str:
    """`text` cut in the middle to `limit` characters (the ends of paths and names say the most)."""
    text = str(text)
    if len(text) <= limit:
        return text
    keep = limit - 1
    return text[:keep // 2] + "…" + text[len(text) - (keep - keep // 2):]


def elide_path(path: Any) -> str:
    """A path short enough for a message."""
    return elide_middle(path, PATH_LIMIT)


def short_name(name: str) -> str:
    """A node's name short enough for a panel's header."""
    return elide_middle(name, NAME_LIMIT)


def shorten_words(text: str, limit: int = NAME_LIMIT) -> str:
    """`text` with every word longer than `limit` (a huge name, say) cut in its middle: labels stay narrow."""
    return re.sub(rf"\S{{{limit + 1},}}", lambda match: elide_middle(match.group(0), limit), str(text))


def int_text(value: int, limit: int = 24) -> str:
    """An integer, in scientific form when it has more digits than `limit` (never its full 4,300+ digits)."""
    digits = int(value.bit_length() * math.log10(2)) + 1 if value else 1
    if digits <= limit:
        return str(value)
    if digits <= 4000:
        text = str(abs(value))
        return f"{'-' if value < 0 else ''}{text[0]}.{text[1:7]}e+{len(text) - 1}"
    return f"{'-' if value < 0 else ''}~1e+{digits - 1}"


def tensor_text(value: Any) -> str:
    """`repr(value)`, or for a tensor of more than REPR_LIMIT elements a summary that reads only a few of them."""
    if not isinstance(value, engine.Tensor) or value.numel() <= REPR_LIMIT:
        return int_text(value) if isinstance(value, int) and not isinstance(value, bool) else repr(value)
    data = value.detach().numpy()
    first = ", ".join(str(v) for v in islice(data.flat, 6))
    grad_fn = f", grad_fn=<{value.grad_fn.name()}>" if value.grad_fn is not None else ""
    grad = ", requires_grad=True" if value.requires_grad and value.grad_fn is None else ""
    return (f"tensor([{first}, ...], size={list(value.shape)}, dtype={value.dtype}{grad_fn}{grad})"
            f"  # {value.numel():,} elements: summarised")


def first_values(array: np.ndarray, count: int) -> list:
    """The first `count` elements of `array` in order, without copying it (a broadcast view stays a view)."""
    return list(islice(array.flat, count))
