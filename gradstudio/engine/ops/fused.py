"""A gradient formula recorded as one node, named as PyTorch names its double backward.

PyTorch computes the gradient of `mse_loss`, `gelu`, `nll_loss`, ... with one kernel
(`mse_loss_backward`), so under `create_graph=True` a first derivative shows one node,
`MseLossBackwardBackward0`, whose edges are that kernel's inputs. `fused` gives the
engine's composite formulas the same face: the formula runs on aliases of its inputs,
and the node's backward differentiates that inner graph (itself recorded, so every
higher derivative stays right). Without grad mode the formula just runs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gradstudio.engine import grad_mode
from gradstudio.engine._backward import execute
from gradstudio.engine._graph import FREED_BUFFERS_MESSAGE, Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.ops._core import record
from gradstudio.engine.ops.shape import AliasBackward0


class FusedBackward(Node):
    """The backward of a fused formula: the inner graph's gradients with respect to the aliased inputs."""

    _inner: Tensor | None = None
    _aliases: tuple = ()

    def apply(self, grad: Tensor) -> tuple:
        if self._inner is None:
            raise RuntimeError(FREED_BUFFERS_MESSAGE)
        grads = execute([self._inner], [grad], retain_graph=True, create_graph=grad_mode.STATE.enabled,
                        inputs=self._aliases, accumulate=False)
        # a formula linear in an input (leaky_relu's in its input) has a zero derivative there, as in PyTorch
        return tuple(zeros_for(alias) if found is None and alias._requires_grad else found
                     for alias, found in zip(self._aliases, grads))

    def release_saved(self) -> None:
        self._inner = None


def zeros_for(tensor: Tensor) -> Tensor:
    """A zero gradient for `tensor`."""
    return Tensor._make(np.zeros(tensor._data.shape, tensor._data.dtype))


_NODE_TYPES: dict[str, type[FusedBackward]] = {}


def _node_type(name: str) -> type[FusedBackward]:
    node_type = _NODE_TYPES.get(name)
    if node_type is None:
        node_type = _NODE_TYPES[name] = type(name, (FusedBackward,), {"__doc__": FusedBackward.__doc__})
    return node_type


def _alias(tensor: Tensor) -> Tensor:
    """`tensor` seen through a node of its own (the identity), where the inner graph's gradient is read."""
    alias = record(tensor._data, AliasBackward0, (tensor,))
    alias._version_counter = tensor._version_counter
    return alias


def fused(name: str, formula: Callable[..., Tensor], *inputs: Tensor) -> Tensor:
    """`formula(*inputs)`, recorded as one node called `name` whose edges lead to `inputs`."""
    if not grad_mode.STATE.enabled or not any(tensor._requires_grad for tensor in inputs):
        return formula(*inputs)
    aliases = tuple(_alias(tensor) for tensor in inputs)
    inner = formula(*aliases)
    return record(inner._data, _node_type(name), inputs, _inner=inner, _aliases=aliases)


def recording(*inputs: Tensor) -> bool:
    """Whether a formula of `inputs` is being recorded (grad mode on and an input requiring grad)."""
    return grad_mode.STATE.enabled and any(tensor._requires_grad for tensor in inputs)
