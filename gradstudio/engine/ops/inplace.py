"""In-place ops (`add_ sub_ mul_ div_ zero_ fill_ copy_`, `+=`) with version counting.

An in-place op computes its result out of place, recorded against a snapshot of the
tensor's history, writes it into the tensor's own array (so views see it) and bumps the
shared version counter (so a saved copy that changed is detected in backward). The
history then goes where PyTorch puts it:

- on a tensor that is not a view, the op's node becomes the tensor's `grad_fn`;
- through a view (see `_views.py`), the view's root base gets a `CopySlices` node that
  wraps the op's node: in backward it runs that node on the view's region of the
  gradient and passes the rest of the gradient to the base's old history. The view (and,
  when next used, every other view of that base) then reads its region out of the new
  history as `AsStridedBackward0`.

Item assignment (`a[key] = value`) builds on these and is in `assignment.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gradstudio.engine import grad_mode
from gradstudio.engine._backward import record_forward_traceback
from gradstudio.engine._graph import Node, gradient_edge
from gradstudio.engine._tensor import INFERENCE_IN_PLACE_MESSAGE, Tensor, is_inference_counter
from gradstudio.engine._views import (
    DEFAULT,
    Region,
    ViewTensor,
    creation_meta_message,
    has_internal_overlap,
    move_retained,
    refresh,
)
from gradstudio.engine.ops import pointwise
from gradstudio.engine.ops._core import broadcast_error, needs, record, reduce_to, shape_stub

LEAF_IN_PLACE_MESSAGE = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_OF_LEAF_MESSAGE = "a view of a leaf Variable that requires grad is being used in an in-place operation."
OVERLAP_MESSAGE = ("unsupported operation: more than one element of the written-to tensor refers to a single memory "
                   "location. Please clone() the tensor before performing the operation.")


def check_inference(a: Tensor) -> None:
    """Inference tensors may change in place only inside inference mode (PyTorch's rule and message)."""
    if is_inference_counter(a._version_counter) and not grad_mode.STATE.inference:
        raise RuntimeError(INFERENCE_IN_PLACE_MESSAGE)


def _check_leaf(a: Tensor) -> None:
    if a._requires_grad and grad_mode.STATE.enabled and a.grad_fn is None:
        raise RuntimeError(LEAF_IN_PLACE_MESSAGE)


def _history_snapshot(a: Tensor) -> Tensor:
    """A's current values and history, frozen, for the op to record against."""
    snapshot = Tensor._make(a._data.copy(), a._requires_grad)
    snapshot.grad_fn = a.grad_fn
    snapshot._accumulator = a._accumulator
    return snapshot


def _store(a: Tensor, data: np.ndarray, overlap_ok: bool = False) -> None:
    """Write an op's result into `a`'s memory and count the change.

    Elements sharing one address (an expanded tensor) refuse the write unless `overlap_ok`: PyTorch lets
    `zero_` and `fill_` with a number through, as every element gets the same value.
    """
    check_inference(a)
    target = a._data
    if data.dtype != target.dtype and not np.can_cast(data.dtype, target.dtype, casting="same_kind"):
        raise RuntimeError(f"result type {_legacy(data.dtype)} can't be cast to the desired output type "
                           f"{_legacy(target.dtype)}")
    if data.shape != target.shape:
        raise RuntimeError(f"output with shape {list(target.shape)} doesn't match the broadcast shape "
                           f"{list(data.shape)}")
    if not overlap_ok and 0 in target.strides and has_internal_overlap(target):
        raise RuntimeError(OVERLAP_MESSAGE)
    target[...] = data
    a._version_counter.value += 1


def _write(a: Tensor, result: Tensor, overlap_ok: bool = False) -> Tensor:
    """Store the result in `a`, which is not a view, and make the op's node its history."""
    _store(a, result._data, overlap_ok)
    node = result.grad_fn
    if node is not None:
        old = a.grad_fn
        a.grad_fn, a._requires_grad = node, True
        move_retained(a, old, node)
    return a


def _legacy(numpy_dtype: np.dtype) -> str:
    from gradstudio.engine._dtype import legacy_type_name

    return legacy_type_name(numpy_dtype)[6:-6]


def apply_inplace(a: Tensor, op: Callable[[Tensor], Tensor], *others: Any, overlap_ok: bool = False) -> Tensor:
    """Run `op` (the out-of-place form of the update, given `a`) as an in-place update of `a`."""
    if a.__class__ is ViewTensor:
        return _through_view(a, op, others, overlap_ok)
    _check_leaf(a)
    recording = grad_mode.STATE.enabled and (a._requires_grad or any(
        isinstance(o, Tensor) and o._requires_grad for o in others))
    source = _history_snapshot(a) if recording else a
    return _write(a, op(source), overlap_ok)


def _through_view(view: ViewTensor, op: Callable[[Tensor], Tensor], others: tuple, overlap_ok: bool) -> Tensor:
    """An in-place update of a view: the data goes into the root's memory, the history onto the root."""
    root, meta, _ = view._view
    recording = grad_mode.STATE.enabled and (view._requires_grad or root._requires_grad or any(
        isinstance(o, Tensor) and o._requires_grad for o in others))
    if not recording:
        _store(view, op(view)._data, overlap_ok)
        return view
    if meta != DEFAULT:
        raise RuntimeError(creation_meta_message(view, indirect=False))
    if root.grad_fn is None and (root._requires_grad or view._requires_grad):
        raise RuntimeError(VIEW_OF_LEAF_MESSAGE)
    region = Region.of(root, view)
    if region is None:  # the root's data was replaced since: the view only holds its own memory now
        return _write(view, op(_history_snapshot(view)), overlap_ok)
    if region.overlapping and not overlap_ok:
        raise RuntimeError(OVERLAP_MESSAGE)
    result = op(_history_snapshot(view))
    _store(view, result._data, overlap_ok)
    fn = result.grad_fn
    if fn is not None:
        node = CopySlices()
        node.next_functions = ((gradient_edge(root), 0), *fn.next_functions[1:])
        node.fn, node.region = fn, region
        record_forward_traceback(node)
        old = root.grad_fn
        root.grad_fn, root._requires_grad = node, True
        move_retained(root, old, node)
        refresh(view)
    return view


# ----- reading and writing a view's region of its base (differentiable both ways) ----------------------------


class AsStridedBackward0(Node):
    """Backward of reading a region out of a base: the gradient placed into zeros of the base's shape.

    Also the grad_fn a view regenerates once its base changed in place, as PyTorch's.
    """

    def apply(self, g: Tensor) -> tuple:
        return (as_strided_scatter(g, self.region),)


class AsStridedScatterBackward0(Node):
    """Backward of placing a region into zeros: read the region back out."""

    def apply(self, g: Tensor) -> tuple:
        return (as_strided(g, self.region),)


def as_strided(a: Tensor, region: Region) -> Tensor:
    """The elements of `a` (shaped as the region's base) that the region covers, shaped as the view."""
    data = np.asarray(np.ravel(a._data)[region.positions], dtype=a._data.dtype)
    return record(data, AsStridedBackward0, (a,), region=region)


def as_strided_scatter(g: Tensor, region: Region) -> Tensor:
    """Zeros of the region's base shape with `g` added over the region (overlapping elements add up)."""
    flat = np.zeros(int(np.prod(region.base_shape)), dtype=g._data.dtype)
    positions, values = region.positions.reshape(-1), np.ravel(g._data)
    if region.overlapping:
        np.add.at(flat, positions, values)
    else:
        flat[positions] = values
    return record(flat.reshape(region.base_shape), AsStridedScatterBackward0, (g,), region=region)


class CopySlices(Node):
    """A base changed in place through a view: the op's node `fn` runs on the view's region of the gradient.

    Inputs: the base's old history, then `fn`'s inputs after the first (the view's old values, which the
    base's old history already covers).
    """

    def name(self) -> str:
        return "torch::autograd::CopySlices"

    def apply(self, g: Tensor) -> tuple:
        region = self.region
        grads = self.fn.apply(as_strided(g, region))
        grad_base = None
        if needs(self, 0):
            grad_base = g * Tensor._make(region.kept(g._data.dtype))
            if grads and grads[0] is not None:
                grad_base = grad_base + as_strided_scatter(grads[0], region)
        return (grad_base, *grads[1:])

    def release_saved(self) -> None:
        """Free what the wrapped node saved."""
        self.fn.release_saved()


# ----- arithmetic -------------------------------------------------------------------------------------------


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


# ----- filling and copying ----------------------------------------------------------------------------------


def _zeros_like(g: Tensor) -> Tensor:
    return Tensor._make(np.zeros(g._data.shape, dtype=g._data.dtype))


class ZeroBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (g * 0,)


class FillBackward2(ZeroBackward0):
    """Backward of `fill_` with a number."""


class FillBackward3(Node):
    """Backward of `fill_` with a 0-d tensor: the value gets the sum of the gradient."""

    def apply(self, g: Tensor) -> tuple:
        from gradstudio.engine.ops.reduction import sum as sum_

        return (_zeros_like(g) if needs(self, 0) else None,
                reduce_to(sum_(g), self.value_like) if needs(self, 1) else None)


def _fill(a: Tensor, value: Any, node: type[Node]) -> Tensor:
    return apply_inplace(a, lambda s: record(np.full_like(s._data, value), node, (s,)), overlap_ok=True)


def fill_(a: Tensor, value: Any) -> Tensor:
    """Set every element to `value` (a number or a 0-d tensor), in place."""
    if not isinstance(value, Tensor):
        return _fill(a, value, FillBackward2)
    if value._data.ndim:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value._data.ndim} "
                           "dimensions.")
    return apply_inplace(a, lambda s: _filled(s, value), value)


def _filled(destination: Tensor, value: Tensor) -> Tensor:
    data = np.full_like(destination._data, value._data)
    if destination._data.dtype.kind != "f":
        return Tensor._make(data)
    return record(data, FillBackward3, (destination, value), value_like=shape_stub(value))


def zero_(a: Tensor) -> Tensor:
    """Set every element to zero, in place."""
    return _fill(a, 0, ZeroBackward0)


class CopyBackwards(Node):
    """Backward of `copy_`: the source gets the gradient, the overwritten destination zeros."""

    def name(self) -> str:
        return "torch::autograd::CopyBackwards"

    def apply(self, g: Tensor) -> tuple:
        return (_zeros_like(g) if needs(self, 0) else None,
                reduce_to(g, self.source_like) if needs(self, 1) else None)


def copied(source: Tensor) -> Tensor:
    """A fresh copy of `source`, recorded as PyTorch's `empty_like(source).copy_(source)`."""
    destination = Tensor._make(np.empty_like(source._data))
    return record(source._data.copy(), CopyBackwards, (destination, source), source_like=shape_stub(source))


def copy_(a: Tensor, source: Any) -> Tensor:
    """Overwrite `a` with `source` (broadcast to `a`'s shape and cast to its dtype), in place."""
    if not isinstance(source, Tensor):
        source = Tensor._make(np.asarray(source, dtype=a._data.dtype))
    return apply_inplace(a, lambda s: _copy_into(s, source), source)


def _copy_into(destination: Tensor, source: Tensor) -> Tensor:
    shape = destination._data.shape
    try:
        broadcast = np.broadcast_to(source._data, shape)
    except ValueError:
        raise broadcast_error(shape, source._data.shape) from None
    data = np.array(broadcast, dtype=destination._data.dtype)
    if destination._data.dtype.kind != "f":
        return Tensor._make(data)
    return record(data, CopyBackwards, (destination, source), source_like=shape_stub(source))
