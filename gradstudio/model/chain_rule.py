"""The chain rule of one Backward step, with numbers: incoming gradient x local derivative = outgoing gradient.

The local derivative is the grad_fn's own Jacobian, read off by running the
function (the engine's rule for that op) on each one-hot incoming gradient, so
every op is covered and the numbers are the engine's. It is shown in the
simplest form that is exact: elementwise (a diagonal Jacobian), one row (a
scalar output), or the whole matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import gradstudio.engine as engine
from gradstudio.engine.autograd.graph import AccumulateGrad
from gradstudio.model.autograd_graph import short_name
from gradstudio.model.evaluation import BackwardStep

ELEMENTWISE = "elementwise"
SCALAR_OUTPUT = "scalar output"
JACOBIAN = "jacobian"
TOO_LARGE = "too large"
MAX_JACOBIAN = 4096


@dataclass(frozen=True)
class LocalTerm:
    """One input of the step: where its gradient goes, the local derivative, and incoming x local."""

    index: int
    destination: str | None
    kind: str
    local: np.ndarray | None
    product: np.ndarray


@dataclass(frozen=True)
class ChainRuleStep:
    """A Backward step explained: which function, owned by which node, gradient in, and one term per input."""

    name: str
    owner: str | None
    grad_in: np.ndarray
    terms: tuple[LocalTerm, ...]

    @property
    def label(self) -> str:
        """The function's display name."""
        return short_name(self.name)

    @property
    def accumulates(self) -> bool:
        """True for AccumulateGrad: the step adds grad_in into a leaf's .grad."""
        return self.label == "AccumulateGrad"


def explain_step(step: BackwardStep, owner_of: Callable[[Any], str | None] = lambda _: None) -> ChainRuleStep:
    """The chain rule of `step`; `owner_of` names the document node a next function belongs to."""
    grad_in = _array(step.grad_in)
    function = step.function
    terms: list[LocalTerm] = []
    if function is not None and not isinstance(function, AccumulateGrad):
        jacobians = _jacobians(function, step.grad_in, step.grads_out)
        for index, ((child, _), grad) in enumerate(zip(function.next_functions, step.grads_out)):
            if child is None or grad is None:
                continue
            terms.append(_term(index, owner_of(child), grad_in, _array(grad), jacobians[index]))
    return ChainRuleStep(step.name, step.owner, grad_in, tuple(terms))


def format_array(values: Any) -> str:
    """Numbers as the node faces show them: `[6, 6, 6]`, `0.3333`, `[[0.75, 0.75], [0.75, 0.75]]`."""
    array = np.asarray(values)
    if array.ndim == 0:
        return f"{float(array):.4g}"
    return np.array2string(array, separator=", ", threshold=24, edgeitems=3, max_line_width=100,
                           formatter={"float_kind": lambda v: f"{v:.4g}", "int_kind": str})


def contributions(steps: list[BackwardStep], index: int) -> list[np.ndarray]:
    """The gradients the earlier steps sent to step `index`'s function, which the engine summed into its grad_in.

    Two or more when one tensor was used more than once (`y * y`, or `y` feeding two ops).
    """
    function = steps[index].function
    if function is None:
        return []
    sent = []
    for step in steps[:index]:
        children = step.function.next_functions if step.function is not None else ()
        for (child, _), grad in zip(children, step.grads_out):
            if child is function and grad is not None:
                sent.append(_array(grad))
    return sent


def _array(tensor: Any) -> np.ndarray:
    return np.asarray(tensor.detach().numpy())


def _jacobians(function: Any, grad_in: Any, grads_out: tuple) -> list[np.ndarray | None]:
    """Per input, the matrix d output / d input (rows: output elements), or None if too large or unused."""
    count = grad_in.numel()
    sizes = [grad.numel() if grad is not None else 0 for grad in grads_out]
    if count * max(sizes, default=0) > MAX_JACOBIAN:
        return [None] * len(grads_out)
    rows: list[list[np.ndarray]] = [[] for _ in grads_out]
    try:
        with engine.no_grad():
            for element in range(count):
                one_hot = np.zeros(count, dtype=grad_in.detach().numpy().dtype)
                one_hot[element] = 1
                outputs = function.apply(engine.from_numpy(one_hot.reshape(tuple(grad_in.shape))))
                for index, output in enumerate(outputs):
                    if index < len(rows) and output is not None:
                        rows[index].append(_array(output).reshape(-1))
    except Exception:  # noqa: BLE001 - a rule that cannot be replayed still shows its outgoing gradient
        return [None] * len(grads_out)
    return [np.stack(row) if row and len(row) == count else None for row in rows]


def _term(index: int, destination: str | None, grad_in: np.ndarray, grad_out: np.ndarray,
          jacobian: np.ndarray | None) -> LocalTerm:
    """Pick the simplest exact form of the local derivative and multiply it by the incoming gradient."""
    if jacobian is None:
        return LocalTerm(index, destination, TOO_LARGE, None, grad_out)
    shape = grad_out.shape
    if jacobian.shape[0] == 1:
        local = jacobian[0].reshape(shape)
        return LocalTerm(index, destination, SCALAR_OUTPUT, local, grad_in.reshape(()) * local)
    square = jacobian.shape[0] == jacobian.shape[1] and grad_in.shape == shape
    if square and np.count_nonzero(jacobian - np.diag(np.diag(jacobian))) == 0:
        local = np.diag(jacobian).reshape(shape)
        return LocalTerm(index, destination, ELEMENTWISE, local, grad_in * local)
    return LocalTerm(index, destination, JACOBIAN, jacobian, (grad_in.reshape(-1) @ jacobian).reshape(shape))
