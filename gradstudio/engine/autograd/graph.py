"""`torch.autograd.graph`: the recorded graph's public face, for tools that inspect a backward pass.

The model and the UI read grad_fn types, creation order, version counters and stored
gradients through these names only, never through the engine's underscore modules or
attributes, so the engine may change its insides without breaking them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gradstudio.engine._backward import BackwardObserver
from gradstudio.engine._graph import AccumulateGrad, Node, gradient_edge, sequence_mark

if TYPE_CHECKING:
    from gradstudio.engine._tensor import Tensor

__all__ = ["AccumulateGrad", "BackwardObserver", "Node", "gradient_node", "sequence_mark", "sequence_nr",
           "stored_grad", "version"]


def gradient_node(tensor: Tensor) -> Node | None:
    """Where a gradient for `tensor` goes: its grad_fn, its leaf's AccumulateGrad, or None when none is recorded."""
    return gradient_edge(tensor)


def sequence_nr(node: Node) -> int:
    """The creation order of a grad_fn (PyTorch's `grad_fn._sequence_nr()`); compare it with `sequence_mark()`."""
    return node._sequence_nr


def version(tensor: Tensor) -> int:
    """How many in-place changes `tensor` has seen (PyTorch's `tensor._version`)."""
    return tensor._version


def stored_grad(tensor: Tensor) -> Tensor | None:
    """The gradient `tensor` holds, read without the warning `.grad` gives on a non-leaf."""
    return tensor._grad
