"""The spread of values: `var` and `std` (Bessel-corrected by default), with their gradient rules."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.ops._core import normalize_dims, record
from gradstudio.engine.ops.reduction import _count, _unreduced, mean
from gradstudio.engine.ops.scalar import scale


def _correction(unbiased: Any, correction: Any) -> float:
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


class VarBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        (a,) = self.saved_tensors
        # as PyTorch's var_backward: (2 / dof) * grad * (self - self.mean(dim, keepdim=True))
        return (_unreduced(g, self) * _inverse_dof(self, 2.0) * _centred(a, self),)


class StdBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        from gradstudio.engine.nn._reduction import masked_zero

        a, result = self.saved_tensors
        # PyTorch's std_backward: var_backward(grad / (result * 2)) masked where the deviation is 0 (a constant
        # slice): 0, not 0 / 0
        grad_var = masked_zero(g / scale(result, 2), result._data == 0)
        return (scale(_unreduced(grad_var, self), _inverse_dof(self, 2.0)) * _centred(a, self),)


def _centred(a: Tensor, node: Node) -> Tensor:
    """a minus its mean over the node's dims (kept), or its mean() when they are all of them (as PyTorch's)."""
    return a - (mean(a) if len(node.dims) == a._data.ndim else mean(a, node.dims, keepdim=True))


def _inverse_dof(node: Node, scale: float) -> float:
    """scale / (N - correction), infinite (as in PyTorch) when no degrees of freedom are left."""
    return float(np.divide(scale, np.float64(node.count - node.correction)))


DOF_WARNING = ("{}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction factor "
               "(input numel divided by output numel). (Triggered internally at "
               "/__w/pytorch/pytorch/aten/src/ATen/native/ReduceOps.cpp:1861.)")


def _spread(a: Tensor, dim: Any, unbiased: Any, keepdim: bool, correction: Any, is_std: bool) -> Tensor:
    if a._data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    dims = normalize_dims(dim, a._data.ndim)
    ddof = _correction(unbiased, correction)
    if _count(a._data.shape, dims) - ddof <= 0:
        warnings.warn(DOF_WARNING.format("std" if is_std else "var"), UserWarning, stacklevel=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        data = np.var(a._data, axis=dims, keepdims=keepdim, ddof=ddof)
    if is_std:
        data = np.sqrt(data)
    node = StdBackward0 if is_std else VarBackward0
    return record(np.asarray(data, dtype=a._data.dtype), node, (a,), save=(a,), save_output=is_std,
                  input_shape=a._data.shape, dims=dims, keepdim=keepdim, count=_count(a._data.shape, dims),
                  correction=ddof)


def var(a: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Tensor:
    """Variance (Bessel-corrected by default)."""
    return _spread(a, dim, unbiased, keepdim, correction, is_std=False)


def std(a: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None) -> Tensor:
    """Standard deviation (Bessel-corrected by default)."""
    return _spread(a, dim, unbiased, keepdim, correction, is_std=True)
