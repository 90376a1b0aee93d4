"""In-place ops (`add_ sub_ mul_ div_ zero_ fill_`, `+=`, item assignment) with version counting.

An in-place op writes into the tensor's own array (so views see it), bumps the
shared version counter (so a saved copy that changed is detected in backward)
and, when recording, makes the op's node the tensor's new `grad_fn`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradstudio.engine import grad_mode
from gradstudio.engine._graph import AccumulateGrad, Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.ops import pointwise
from gradstudio.engine.ops._core import needs, operands, record, reduce_to

LEAF_IN_PLACE_MESSAGE = "a leaf Variable that requires grad is being used in an in-place operation."


VIEW_OF_LEAF_MESSAGE = "a view of a leaf Variable that requires grad is being used in an in-place operation."
_VIEW_NODES = frozenset({
    "AliasBackward0", "ExpandBackward0", "PermuteBackward0", "ReshapeAliasBackward0", "SelectBackward0",
    "SliceBackward0", "SqueezeBackward0", "SqueezeBackward1", "SqueezeBackward4", "TBackward0",
    "TransposeBackward0", "UnsqueezeBackward0", "ViewBackward0",
})


def _check_leaf(a: Tensor, through_view: bool = False) -> None:
    if not (a._requires_grad and grad_mode.STATE.enabled):
        return
    if a.grad_fn is None:
        raise RuntimeError(VIEW_OF_LEAF_MESSAGE if through_view else LEAF_IN_PLACE_MESSAGE)
    if _views_leaf(a):
        raise RuntimeError(VIEW_OF_LEAF_MESSAGE)


def _views_leaf(a: Tensor) -> bool:
    """Whether `a` is a view of a leaf that requires grad: a chain of view nodes down to a leaf sharing its memory."""
    node = a.grad_fn
    while type(node).__name__ in _VIEW_NODES:
        node = node.next_functions[0][0]
        if isinstance(node, AccumulateGrad):
            return node.variable._version_counter is a._version_counter
    return False


def _history_snapshot(a: Tensor) -> Tensor:
    """A's current values and history, frozen, for the op to record against."""
    snapshot = Tensor._make(a._data.copy(), a._requires_grad)
    snapshot.grad_fn = a.grad_fn
    snapshot._accumulator = a._accumulator
    return snapshot


def _write(a: Tensor, result: Tensor) -> Tensor:
    data = result._data
    if data.dtype != a._data.dtype and not np.can_cast(data.dtype, a._data.dtype, casting="same_kind"):
        raise RuntimeError(f"result type {_legacy(data.dtype)} can't be cast to the desired output type "
                           f"{_legacy(a._data.dtype)}")
    a._data[...] = data
    a._version_counter.value += 1
    if result.grad_fn is not None:
        a.grad_fn, a._requires_grad = result.grad_fn, True
    return a


def _legacy(numpy_dtype: np.dtype) -> str:
    from gradstudio.engine._dtype import legacy_type_name

    return legacy_type_name(numpy_dtype)[6:-6]


def apply_inplace(a: Tensor, op: Callable[[Tensor], Tensor], *others: Any) -> Tensor:
    """Run `op` as an in-place update of `a`."""
    _check_leaf(a)
    recording = grad_mode.STATE.enabled and (a._requires_grad or any(
        isinstance(o, Tensor) and o._requires_grad for o in others))
    source = _history_snapshot(a) if recording else a
    return _write(a, op(source))


def add_(a: Tensor, b: Any, *, alpha: float = 1) -> Tensor:
    """a += alpha * b, in place."""
    return apply_inplace(a, lambda s: pointwise.add(s, b, alpha=alpha), b)


def sub_(a: Tensor, b: Any, *, alpha: float = 1) -> Tensor:
    """a -= alpha * b, in place."""
    return apply_inplace(a, lambda s: pointwise.sub(s, b, alpha=alpha), b)


def mul_(a: Tensor, b: Any) -> Tensor:
    """a *= b, in place."""
    return apply_inplace(a, lambda s: pointwise.mul(s, b), b)


def div_(a: Tensor, b: Any) -> Tensor:
    """a /= b, in place."""
    return apply_inplace(a, lambda s: pointwise.div(s, b), b)


class ZeroBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (g * 0,)


class FillBackward0(ZeroBackward0):
    pass


def fill_(a: Tensor, value: Any) -> Tensor:
    """Set every element to `value`, in place."""
    node = ZeroBackward0 if value == 0 else FillBackward0
    return apply_inplace(a, lambda s: record(np.full_like(s._data, value), node, (s,)))


def zero_(a: Tensor) -> Tensor:
    """Set every element to zero, in place."""
    return fill_(a, 0)


class CopyBackwards(Node):
    """Backward of `copy_`: the source gets the gradient (the overwritten destination gets none)."""

    def name(self) -> str:
        return "torch::autograd::CopyBackwards"

    def apply(self, g: Tensor) -> tuple:
        return None, reduce_to(g, self.source_like)


def copied(source: Tensor) -> Tensor:
    """A fresh copy of `source`, recorded as PyTorch's `empty_like(source).copy_(source)`."""
    destination = Tensor._make(np.empty_like(source._data))
    like = Tensor._make(np.broadcast_to(np.zeros((), source._data.dtype), source._data.shape))
    return record(source._data.copy(), CopyBackwards, (destination, source), source_like=like)


class CopySlices(Node):
    """Backward of item assignment: the overwritten region's gradient goes to the value."""

    def name(self) -> str:
        return "torch::autograd::CopySlices"

    def apply(self, g: Tensor) -> tuple:
        from gradstudio.engine.ops.shape import getitem, reshape

        grad_self = grad_value = None
        if needs(self, 0):
            kept = np.ones(g._data.shape, dtype=g._data.dtype)
            kept[self.key] = 0
            grad_self = g * Tensor._make(kept)
        if needs(self, 1):
            region = getitem(g, self.key)
            missing = self.value_like._data.ndim - region._data.ndim
            if missing > 0:  # a value may carry leading ones the region lacks: y[0] = z with z of shape (1, n)
                region = reshape(region, (1,) * missing + region._data.shape)
            grad_value = reduce_to(region, self.value_like)
        return grad_self, grad_value


def setitem(a: Tensor, key: Any, value: Any) -> None:
    """`a[key] = value` for basic indexing."""
    _check_leaf(a, through_view=True)
    value_tensor = value if isinstance(value, Tensor) else operands(a, value)[1]
    recording = grad_mode.STATE.enabled and (a._requires_grad or value_tensor._requires_grad)
    if not recording:
        a._data[key] = value_tensor._data
        a._version_counter.value += 1
        return
    snapshot = _history_snapshot(a)
    data = a._data.copy()
    data[key] = value_tensor._data
    like = Tensor._make(np.broadcast_to(np.zeros((), value_tensor._data.dtype), value_tensor._data.shape))
    _write(a, record(data, CopySlices, (snapshot, value_tensor), key=key, value_like=like))
