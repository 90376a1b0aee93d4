"""Live scrubbing without Qt: drag a leaf's value and watch every value and the last Backward follow.

A `ScrubSession` changes one number of a leaf (a scalar node's value, or one cell of a
tensor leaf) again and again: each change is applied to the document, the graph is
evaluated, and the last Backward is run again for the same target as if it were the
first pass on these values (the `.grad` it had added to other leaves is taken back
first). It keeps the (leaf value, target value) samples for the sparkline, and at the
end gives one edit and its inverse, so a whole drag undoes as one step, exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import gradstudio.engine as engine
from gradstudio.model.code_literals import float32
from gradstudio.model.document import Node
from gradstudio.model.edits import Batch, Edit, SetAttribute
from gradstudio.model.evaluation import BackwardResult
from gradstudio.model.workspace import GraphWorkspace

MAX_SCRUB_ELEMENTS = 10_000  # a leaf with more values is not scrubbed: each frame writes all of them
Backward = Callable[[str, Any], BackwardResult]


class ScrubError(ValueError):
    """This node's value cannot be scrubbed (not a leaf, not a number, no value yet)."""


def scrub_step(value: float, fine: bool = False, integer: bool = False) -> float:
    """How much one pixel of drag changes `value`: a hundredth of its decade (a tenth of that with `fine`).

    1.0 moves by 0.01 a pixel, 250 by 1, 0.03 by 0.001; values near zero move as 0.1 does.
    """
    step = 10.0 ** (math.floor(math.log10(max(abs(value), 0.1))) - 2)
    if fine:
        step /= 10.0
    return max(1.0, float(round(step))) if integer else step


def rounded(value: float, step: float) -> float:
    """`value` to the decimals of `step`, so dragged numbers read 1.37, not 1.3700000000000001."""
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 0
    return round(value, decimals)


def scrub_problem(node: Node, value: Any) -> str | None:
    """Why this node's value cannot be scrubbed, or None when it can (`value` is its current result's value)."""
    if node.kind == "scalar":
        number = node.attributes["value"]
        return None if isinstance(number, (int, float)) and not isinstance(number, bool) else "not a number"
    if node.kind != "tensor":
        return "only a leaf's value (a tensor or scalar node) can be scrubbed"
    if node.attributes["dtype"] == "bool":
        return "a bool tensor has no values between False and True"
    if not isinstance(value, engine.Tensor):
        return "the tensor has no value yet"
    if not 0 < value.numel() <= MAX_SCRUB_ELEMENTS:
        return f"only tensors of 1 to {MAX_SCRUB_ELEMENTS:,} elements are scrubbed"
    return None


def _flat_values(node: Node, value: Any) -> list[float]:
    """The leaf's numbers, flattened, as its values attribute writes them (float32 in its shortest decimals)."""
    if node.kind == "scalar":
        return [node.attributes["value"]]
    array = value.detach().numpy().reshape(-1)
    if array.dtype == np.float32:
        return [float(float32(number)) for number in array]
    return [number.item() for number in array]


class ScrubSession:
    """One drag of one number of a leaf; `set_value` as often as the screen allows, then `finish` or `cancel`."""

    def __init__(self, workspace: GraphWorkspace, node_id: str, cell: int = 0,
                 backward: Backward | None = None) -> None:
        self.workspace = workspace
        self.node = workspace.document.node(node_id)
        current = workspace.value(node_id)
        problem = scrub_problem(self.node, current)
        if problem is not None:
            raise ScrubError(problem)
        self.start_values = _flat_values(self.node, current)
        if not 0 <= cell < len(self.start_values):
            raise ScrubError(f"{self.node.name} has no element {cell}")
        self.cell = cell
        self.start_init = self.node.attributes.get("init")
        self.start = self.start_values[cell]
        self.value = self.start
        self.integer = self.node.attributes.get("dtype") == "int64"  # a scalar node's 2 may become 2.5
        last = workspace.last_backward
        self.target = last.target if last is not None else workspace.document.settings.backward_target
        self.rerun = last is not None
        self.gradient = self._seed(last)
        self._backward = backward or workspace.backward
        self._before = workspace.grads_before_last_pass() if self.rerun else {}
        self._edit: Edit | None = None
        self._inverse: Edit | None = None
        self.samples: list[tuple[float, float]] = []
        self.slopes: dict[float, float] = {}  # leaf value -> d target / d value there, where Backward gave it
        self.error: str | None = None  # why the last re-run Backward failed (None: it ran, or none was asked for)
        self._sample()

    def _seed(self, last: BackwardResult | None) -> Any:
        """The gradient argument the last Backward was given (None for a scalar target)."""
        if last is None or not last.steps:
            return None
        target = self.workspace.value(last.target)
        if isinstance(target, engine.Tensor) and target.numel() == 1:
            return None
        return last.steps[0].grad_in.detach().clone()

    def step(self, fine: bool = False) -> float:
        """What one pixel of drag changes, for this leaf's value at the start of the drag."""
        return scrub_step(self.start, fine, self.integer)

    def set_value(self, value: float) -> BackwardResult | None:
        """Give the cell `value` (one more frame of the drag): evaluate, re-run the last Backward, sample the target.

        Raises `EditError` when the document refuses the value (nothing changes then).
        """
        if self.integer:
            value = int(round(value))
        edit = self._value_edit(value)
        # after the first frame the leaf's init is "values" already: setting it again would only tell every
        # observer (and dirty the graph) a second time per frame; the whole edit is kept for the undo step
        applied = edit.edits[0] if isinstance(edit, Batch) and self._inverse is not None else edit
        inverse = self.workspace.document.apply(applied)
        if self._inverse is None:
            self._inverse = inverse
        self._edit, self.value = edit, value
        self.workspace.results()
        result = None
        self.error = None
        if self.rerun and self.target in self.workspace.document.nodes:
            self.workspace.restore_grads(self._before)
            try:
                result = self._backward(self.target, self.gradient)
            except RuntimeError as error:  # a value the target cannot go back from: the drag goes on without
                self.error = str(error)
        self._sample()
        return result

    def _value_edit(self, value: float) -> Edit:
        node = self.node
        if node.kind == "scalar":
            return SetAttribute(node.id, "value", value)
        values = list(self.start_values)
        values[self.cell] = value
        edit = SetAttribute(node.id, "values", values)
        return edit if self.start_init == "values" else Batch([edit, SetAttribute(node.id, "init", "values")])

    def _sample(self) -> None:
        """Record (leaf value, target value) and, when the leaf has a .grad, the slope there."""
        target = self.workspace.value(self.target) if self.target in self.workspace.document.nodes else None
        if isinstance(target, engine.Tensor) and target.numel() == 1 and target.dtype.is_floating_point:
            level = float(target.detach().numpy().reshape(()))
        elif isinstance(target, (int, float)) and not isinstance(target, bool):
            level = float(target)
        else:
            return
        if math.isfinite(level):
            self.samples.append((float(self.value), level))
        grad = self.workspace.grad(self.node.id) if self.rerun else None
        if grad is not None:
            self.slopes[float(self.value)] = float(grad.detach().numpy().reshape(-1)[self.cell])

    @property
    def changed(self) -> bool:
        """True once the document holds another value than at the start."""
        return self._inverse is not None

    def finish(self) -> tuple[Edit, Edit] | None:
        """The drag ends: (the edit now applied, its inverse back to the start), or None when nothing changed."""
        if self._inverse is None or self._edit is None:
            return None
        if self.value == self.start:  # dragged back to where it began: no step, and the attributes as they were
            self.cancel()
            return None
        return self._edit, self._inverse

    def cancel(self) -> None:
        """Put the leaf back as it was before the drag."""
        if self._inverse is not None:
            self.workspace.document.apply(self._inverse)
            self._inverse, self._edit, self.value = None, None, self.start
