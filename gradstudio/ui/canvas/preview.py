"""The compact text a node shows under its ports: shape and dtype, then the first few values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import gradstudio.engine as engine
from gradstudio.model.evaluation import NodeResult
from gradstudio.ui.text_limits import first_values, int_text, tensor_text

MAX_SHOWN = 4


@dataclass(frozen=True)
class Preview:
    """Two short lines for the node face, whether they describe an error, the full text for the tool tip, and
    the autograd facts (`MulBackward0` for a tracked result, `leaf`, or `untracked` when requires_grad is False)."""

    summary: str
    values: str
    is_error: bool = False
    tip: str | Callable[[], str] = ""  # the tool tip, or how to write it (a tensor's repr waits for a hover)
    autograd: str = ""

    @property
    def tooltip(self) -> str:
        """The full text for the tool tip."""
        return self.tip() if callable(self.tip) else self.tip


def _number(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, int):
        return int_text(value, 12)
    return f"{float(value):.4g}" if isinstance(value, (float, np.floating)) else str(value)


def shown_numbers(tensor: engine.Tensor) -> tuple[list[str], bool]:
    """The texts of the first few values of `tensor` (flat order), and whether more follow."""
    data = tensor.detach().numpy()
    if data.ndim == 0:
        return [_number(data.item() if data.dtype != np.bool_ else bool(data))], False
    return [_number(v) for v in first_values(data, MAX_SHOWN)], data.size > MAX_SHOWN  # never ravel: views stay


def shown_key(tensor: engine.Tensor) -> tuple:
    """What `compact_values` reads of `tensor` (dtype, shape, the first values): equal keys, equal texts, and
    the key costs no formatting."""
    data = tensor.detach().numpy()
    return data.dtype.str, data.shape, tuple(first_values(data, MAX_SHOWN))


def compact_values(tensor: engine.Tensor) -> str:
    """The first few values of `tensor`, flattened, e.g. `[4.5, 4.5, 4.5]` or `[1, 2, 3, 4, …]`."""
    numbers, more = shown_numbers(tensor)
    if tensor.dim() == 0:
        return numbers[0]
    return f"[{', '.join(numbers)}{', …' if more else ''}]"


def autograd_facts(result: NodeResult) -> str:
    """What autograd knows of a node's tensor, for the face: its grad_fn's name, `leaf` (tracked) or `untracked`."""
    tensor = result.tensor
    if tensor.grad_fn is not None:
        return tensor.grad_fn.name()
    return "leaf" if result.tracked else "untracked"


def autograd_line(tensor: engine.Tensor) -> str:
    """The same facts spelled out as PyTorch's attributes, for the tool tip."""
    grad_fn = f"<{tensor.grad_fn.name()}>" if tensor.grad_fn is not None else "None"
    return f"is_leaf={tensor.is_leaf}  requires_grad={tensor.requires_grad}  grad_fn={grad_fn}"


def describe(result: NodeResult | None, name_of: Callable[[str], str], unwired: tuple[str, ...] = ()) -> Preview:
    """The preview of one node's result (`name_of` turns a node id into its variable name).

    A node with `unwired` inputs is not in error, just unfinished: it says what it waits for.
    """
    if result is None:
        return Preview("", "")
    if unwired:
        return Preview("needs input", ", ".join(unwired), tip=result.error or "")
    if result.blocked_by is not None:
        return Preview("waiting", f"on {name_of(result.blocked_by)}", tip="an upstream node has no value")
    if result.error is not None:
        return Preview("error", result.error, is_error=True, tip=result.error)
    value = result.value
    if isinstance(value, engine.Tensor):
        # `[]` for a 0-d tensor, as the wires, the values panel and torch.Size([]) say: "scalar" cut its dtype
        shape = str(list(value.shape))
        dtype = str(value.dtype).removeprefix("torch.")
        tip = lambda: f"{tensor_text(value)}\n{autograd_line(value)}"  # noqa: E731 - written on hover, if ever
        return Preview(f"{shape} {dtype}", compact_values(value), tip=tip, autograd=autograd_facts(result))
    return Preview(f"Python {type(value).__name__}", _number(value), tip=tensor_text(value))
