"""`softmax` and `log_softmax` along a dim, with their gradient rules (each backward one op, as PyTorch's
`_softmax_backward_data`, itself differentiable)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstudio.engine import _dtype, grad_mode
from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.ops._core import needs, normalize_dim, precise, record
from gradstudio.engine.ops.reduction import sum

_STATE = grad_mode.STATE


class SoftmaxBackward0(Node):
    _saved_names = ("result",)

    def apply(self, g: Tensor) -> tuple:
        if not _STATE.enabled:  # nothing records the rule (a backward without create_graph): its numbers only
            return (Tensor._make(_softmax_grad(g._data, self.saved_array(), self.dim)),)
        (s,) = self.saved_tensors
        return (softmax_backward_data(g, s, self.dim),)


class SoftmaxBackwardDataBackward0(Node):
    def apply(self, gg: Tensor) -> tuple:
        g, s = self.saved_tensors
        return (softmax_backward_data(gg, s, self.dim) if needs(self, 0) else None,
                gg * (g - sum(g * s, self.dim, keepdim=True)) - g * sum(gg * s, self.dim, keepdim=True)
                if needs(self, 1) else None)


def softmax_backward_data(g: Tensor, s: Tensor, dim: int) -> Tensor:
    """s * (g - sum(g * s)) along `dim` given softmax's output s, as one op (PyTorch's _softmax_backward_data)."""
    return record(_softmax_grad(g._data, s._data, dim), SoftmaxBackwardDataBackward0, (g, s), save=(g, s), dim=dim)


def _softmax_grad(g: np.ndarray, y: np.ndarray, dim: int) -> np.ndarray:
    return y * (g - np.sum(g * y, axis=dim if y.ndim else None, keepdims=True))


class LogSoftmaxBackward0(Node):
    _saved_names = ("result",)

    def apply(self, g: Tensor) -> tuple:
        if not _STATE.enabled:  # nothing records the rule (a backward without create_graph): its numbers only
            return (Tensor._make(_log_softmax_grad(g._data, self.saved_array(), self.dim)),)
        (result,) = self.saved_tensors
        return (log_softmax_backward_data(g, result, self.dim),)


class LogSoftmaxBackwardDataBackward0(Node):
    def apply(self, gg: Tensor) -> tuple:
        from gradstudio.engine.ops.pointwise import exp

        g, result = self.saved_tensors
        p = exp(result)
        return (gg - sum(gg * p, self.dim, keepdim=True) if needs(self, 0) else None,
                -gg * p * sum(g, self.dim, keepdim=True) if needs(self, 1) else None)


def log_softmax_backward_data(g: Tensor, result: Tensor, dim: int) -> Tensor:
    """g - exp(result) * sum(g) along `dim`, as one op (PyTorch's _log_softmax_backward_data)."""
    data = _log_softmax_grad(g._data, result._data, dim)
    return record(data, LogSoftmaxBackwardDataBackward0, (g, result), save=(g, result), dim=dim)


def _log_softmax_grad(g: np.ndarray, y: np.ndarray, dim: int) -> np.ndarray:
    return g - np.exp(y) * np.add.reduce(g, axis=dim if y.ndim else None, keepdims=True)


_NARROW, _BATCH = 32, 8  # rows at most this wide, at least this many: the transposed reduction is faster


def _shifted(a: Tensor, dim: int, name: str) -> tuple[np.ndarray, int]:
    axis = normalize_dim(dim, a._data.ndim)
    if a._data.dtype.kind != "f" and a._data.size:  # PyTorch's kernels take only floating tensors (cast first)
        kernel = f"{name}_lastdim_kernel_impl" if axis >= a._data.ndim - 1 else f"{name}_kernel_impl"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype.legacy_type_name(a._data.dtype)[6:-6]}'")
    x = a._data
    if x.ndim == 0 or x.size == 0:  # nothing to shift (numpy's max has no identity for an empty slice)
        return x - x, axis
    return x - _max_along(x, axis), axis


def _max_along(x: np.ndarray, axis: int) -> np.ndarray:
    """np.max(x, axis, keepdims=True) (its ufunc's own call). numpy reduces a short row slowly, one row at a time
    (64 x 10 float32: 13 us); narrow rows of a batch are read as columns of a transposed copy instead (3 us).
    The same values: a maximum is exact, and the order only decides which of a tie of 0.0 and -0.0 is kept,
    which the softmaxes cannot tell apart (exp of either is 1, and a row with two maxima sums to at least 2)."""
    if x.ndim == 2 and axis == 1 and x.shape[1] <= _NARROW and x.shape[0] >= _BATCH:
        return np.maximum.reduce(x.T.copy(), axis=0)[:, None]
    return np.maximum.reduce(x, axis=axis, keepdims=True)


def _cast(a: Tensor, dtype: Any) -> Tensor:
    """`a` converted to `dtype` first, as PyTorch's softmax(dtype=...) records it (ToCopyBackward0)."""
    if dtype is None:
        return a
    from gradstudio.engine.ops.shape import to_dtype

    return to_dtype(a, dtype.numpy_dtype)


def softmax(a: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """exp(a) normalised to sum to one along `dim` (after casting to `dtype`, when given)."""
    a = _cast(a, dtype)
    shifted, axis = _shifted(a, dim, "softmax")
    if shifted.dtype.kind != "f":  # an empty integer tensor, which PyTorch returns as it is
        return record(shifted, SoftmaxBackward0, (a,), save_output=True, dim=axis)
    e = precise(np.exp, shifted)
    data = e / (np.sum(e, axis=axis, keepdims=True) if e.ndim else e)
    return record(data, SoftmaxBackward0, (a,), save_output=True, dim=axis)


def log_softmax(a: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """log(softmax(a)) along `dim`, computed stably (after casting to `dtype`, when given)."""
    a = _cast(a, dtype)
    shifted, axis = _shifted(a, dim, "log_softmax")
    if shifted.dtype.kind != "f":  # an empty integer tensor, which PyTorch returns as it is
        return record(shifted, LogSoftmaxBackward0, (a,), save_output=True, dim=axis)
    return record(_log_softmax_shifted(shifted, axis), LogSoftmaxBackward0, (a,), save_output=True, dim=axis)


def log_softmax_rows(x: np.ndarray) -> np.ndarray:
    """log_softmax's values along the rows of a non-empty floating matrix (what `log_softmax(a, 1)` records),
    for a caller that has made `log_softmax`'s checks itself (a fused cross_entropy)."""
    return _log_softmax_shifted(x - _max_along(x, 1), 1)


def _log_softmax_shifted(shifted: np.ndarray, axis: int) -> np.ndarray:
    e = precise(np.exp, shifted)
    return shifted - precise(np.log, np.add.reduce(e, axis=axis, keepdims=True) if shifted.ndim else e)
