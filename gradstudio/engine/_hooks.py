"""The hooks a backward pass runs at a node, with PyTorch's checks on what they return: tensor hooks
(`Tensor.register_hook`), retained gradients (`retain_grad()`), node pre-hooks and post-hooks
(`grad_fn.register_prehook`, `grad_fn.register_hook`). `_backward.py` calls them only for a node marked
`_hooked`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gradstudio.engine._graph import Node, output_nr
from gradstudio.engine._tensor import Tensor


def _check_hook_result(hook: Callable, grad: Tensor, replaced: Tensor) -> None:
    """A hook may change a gradient's values, not its shape or dtype (PyTorch's messages)."""
    name = getattr(hook, "__name__", type(hook).__name__)
    if replaced._data.shape != grad._data.shape:
        raise RuntimeError(f"hook '{name}' has changed the size of value")
    if replaced._data.dtype != grad._data.dtype:
        from gradstudio.engine._dtype import legacy_type_name

        raise RuntimeError(f"hook '{name}' has changed the type of value (was {legacy_type_name(grad._data.dtype)} "
                           f"got {legacy_type_name(replaced._data.dtype)})")


def _checked_tensor(value: Any) -> Any:
    if value is not None and not isinstance(value, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(value).__name__}'")
    return value


def _checked_tuple(hook: Callable, value: Any, expected: int) -> tuple:
    """A node hook's replacement gradients, refused as PyTorch refuses them."""
    if not isinstance(value, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(value).__name__}'")
    if len(value) != expected:
        name = getattr(hook, "__name__", type(hook).__name__)
        raise RuntimeError(f"hook '{name}' has returned an incorrect number of values (got {len(value)}, but "
                           f"expected {expected})")
    return tuple(_checked_tensor(item) for item in value)


def run_prehooks(node: Node, grad: Any) -> Any:
    """The gradient reaching `node` after its tensor hooks (each may replace it), with retained outputs given
    theirs, then after its node pre-hooks; a node with several outputs gets and returns one slot per output."""
    if node._output_numbers is not None:
        return _run_output_prehooks(node, grad)
    for hook in list(node._pre_hooks or ()):
        replaced = _checked_tensor(hook(grad))
        if replaced is not None:
            _check_hook_result(hook, grad, replaced)
            grad = replaced
    for retained in node._retained or ():
        tensor = retained()
        if tensor is not None:
            tensor._grad = grad.detach()._own_copy() if tensor._grad is None else tensor._grad + grad.detach()
    for hook in list(node._node_pre_hooks or ()):
        replaced = hook((grad,))
        if replaced is not None:
            (grad,) = _checked_tuple(hook, replaced, 1)
    return grad


def _run_output_prehooks(node: Node, grads: list) -> list:
    """The hooks of a node with several outputs: each tensor hook sees its output's gradient (None where none
    arrived, as in PyTorch), retained outputs get theirs, node pre-hooks see them all."""
    for number, hook in list(node._pre_hooks or ()):
        grad = grads[number]
        replaced = _checked_tensor(hook(grad))
        if replaced is not None:
            if grad is not None:
                _check_hook_result(hook, grad, replaced)
            grads[number] = replaced
    for retained in node._retained or ():
        tensor = retained()
        grad = grads[output_nr(tensor)] if tensor is not None else None
        if grad is not None:
            tensor._grad = grad.detach()._own_copy() if tensor._grad is None else tensor._grad + grad.detach()
    for hook in list(node._node_pre_hooks or ()):
        replaced = hook(tuple(grads))
        if replaced is not None:
            grads = list(_checked_tuple(hook, replaced, len(grads)))
    return grads


def run_post_hooks(node: Node, grads: tuple, grad: Any) -> tuple:
    """`grad_fn.register_hook` hooks: each sees (grad_inputs, grad_outputs) and may replace grad_inputs."""
    grads = tuple(grads) + (None,) * (len(node._edges) - len(grads))
    outputs = tuple(grad) if node._output_numbers is not None else (grad,)
    for hook in list(node._post_hooks):
        replaced = hook(grads, outputs)
        if replaced is not None:
            grads = _checked_tuple(hook, replaced, len(grads))
    return grads
