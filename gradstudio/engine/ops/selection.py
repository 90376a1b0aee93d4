"""Selection ops: `clamp maximum minimum where` with their gradient rules, and comparisons (never recorded)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.ops._core import (
    binary,
    broadcast_error,
    needs,
    operands,
    record,
    reduce_to,
    scalar_tensor,
    shape_stub,
)
from gradstudio.engine.ops._promotion import result_type_of


def _masked(condition: np.ndarray, g: Tensor) -> Tensor:
    """g where `condition` holds, else 0: PyTorch's clamp_backward, a WhereBackward0 under create_graph."""
    return where(condition, g, 0.0)


class ClampBackward1(Node):
    def apply(self, g: Tensor) -> tuple:
        (a,) = self.saved_tensors
        inside = np.ones(a._data.shape, dtype=bool)
        if self.low is not None:
            inside &= a._data >= self.low
        if self.high is not None:
            inside &= a._data <= self.high
        return (_masked(inside, g),)


class ClampBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        a, low, high = self.saved_tensors
        below, above = a._data < low._data, a._data > high._data
        # crossed bounds (min > max) give max everywhere, so max takes the gradient there, as in PyTorch
        crossed = high._data < low._data
        inside = (a._data >= low._data) & (a._data <= high._data)  # False for a NaN anywhere, as in PyTorch
        return (reduce_to(_masked(inside, g), a) if needs(self, 0) else None,
                reduce_to(_masked(below & (low._data < high._data), g), low) if needs(self, 1) else None,
                reduce_to(_masked(above | crossed, g), high) if needs(self, 2) else None)


def _bound(value: Any, high: bool, numpy_dtype: np.dtype) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if value is None:  # no bound: the far end of the result's range
        limits = np.finfo(numpy_dtype) if numpy_dtype.kind == "f" else np.iinfo(numpy_dtype)
        value = (np.inf if high else -np.inf) if numpy_dtype.kind == "f" else (limits.max if high else limits.min)
    return scalar_tensor(value, numpy_dtype)


def clamp(a: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Limit values to [min, max]; either bound may be None or a tensor."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    target = result_type_of(a, min, max)
    x = a._data.astype(target, copy=False)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        low, high = _bound(min, False, target), _bound(max, True, target)
        try:
            data = np.minimum(np.maximum(x, low._data), high._data).astype(target, copy=False)
        except ValueError:  # PyTorch's message for the first pair that does not broadcast
            try:
                shape = np.broadcast_shapes(x.shape, low._data.shape)
            except ValueError:
                raise broadcast_error(x.shape, low._data.shape) from None
            raise broadcast_error(shape, high._data.shape) from None
        return record(data, ClampBackward0, (a, low, high), save=(a, low, high))
    data = np.clip(x, min, max).astype(target, copy=False)
    return record(data, ClampBackward1, (a,), save=(a,), low=min, high=max)


class MaximumBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        a, b = self.saved_tensors
        return _split_ties(self, g, a, b, a._data < b._data, a._data > b._data)


class MinimumBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        a, b = self.saved_tensors
        return _split_ties(self, g, a, b, a._data > b._data, a._data < b._data)


def _split_ties(node: Node, g: Tensor, a: Tensor, b: Tensor, a_loses: np.ndarray, b_loses: np.ndarray) -> tuple:
    """Gradient to the winner of each comparison; ties share it half and half, as PyTorch does, and where a
    NaN makes the comparison undecided, both sides get all of it (PyTorch masks only the loser)."""
    ties = np.broadcast_to(a._data == b._data, g._data.shape)
    a_share = np.where(ties, 0.5, ~a_loses).astype(g._data.dtype)
    b_share = np.where(ties, 0.5, ~b_loses).astype(g._data.dtype)
    return (reduce_to(g * Tensor._make(a_share), a) if needs(node, 0) else None,
            reduce_to(g * Tensor._make(b_share), b) if needs(node, 1) else None)


def maximum(a: Tensor, b: Tensor) -> Tensor:
    """Elementwise maximum, broadcast."""
    a, b, data = binary(np.maximum, a, b)
    return record(data, MaximumBackward0, (a, b), save=(a, b))


def minimum(a: Tensor, b: Tensor) -> Tensor:
    """Elementwise minimum, broadcast."""
    a, b, data = binary(np.minimum, a, b)
    return record(data, MinimumBackward0, (a, b), save=(a, b))


class WhereBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        a, b = self.inputs_like
        zero = scalar_tensor(0, g._data.dtype)
        return (reduce_to(where(self.condition, g, zero), a) if needs(self, 0) else None,
                reduce_to(where(self.condition, zero, g), b) if needs(self, 1) else None)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Pick from a where condition holds, else from b."""
    mask = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = scalar_tensor(a, result_type_of(a, b))
    a, b, ad, bd = operands(a, b)
    try:
        data = np.where(mask, ad, bd)
    except ValueError:
        raise broadcast_error(ad.shape, bd.shape) from None
    return record(data, WhereBackward0, (a, b), condition=mask, inputs_like=(shape_stub(a), shape_stub(b)))


# ----- comparisons (never recorded) ----------------------------------------------------------------------


def _compare(function: Any) -> Any:
    def compare(a: Any, b: Any) -> Tensor:
        a, b, data = binary(function, a, b)
        return Tensor._make(data)

    compare.__doc__ = f"Elementwise {function.__name__}, as a bool tensor (not differentiable)."
    return compare


eq, ne, lt, le, gt, ge = (_compare(f) for f in (np.equal, np.not_equal, np.less, np.less_equal,
                                                 np.greater, np.greater_equal))
