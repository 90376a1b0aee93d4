"""Ops that move elements around or scan along a dim: sort, topk, gather, flip, cumsum/cumprod, tril/triu, diag,
masked_fill, plus logsumexp and norm; each gradient rule beside its forward, written with engine ops."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.ops._core import normalize_dim, normalize_dims, record, scalar_tensor
from gradstudio.engine.ops.reduction import _return_type

_SORT_RESULT, _TOPK_RESULT = _return_type("sort"), _return_type("topk")


def _grid(index: np.ndarray, axis: int) -> tuple:
    """A full numpy index that reads `index` along `axis` and every position elsewhere."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[axis] = index
    return tuple(grids)


# ----- gather and its adjoint ----------------------------------------------------------------------------


class GatherBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (scatter_add_into(g, self.input_shape, self.axis, self.index),)


class ScatterAddBackward0(Node):
    """Backward of the scatter-add that gather's gradient makes: gather the gradient back."""

    def apply(self, g: Tensor) -> tuple:
        return (_gather(g, self.axis, self.index, GatherBackward0),)


def scatter_add_into(values: Tensor, shape: tuple, axis: int, index: np.ndarray) -> Tensor:
    """Zeros of `shape` with `values` added at `index` along `axis` (repeats accumulate)."""
    data = np.zeros(shape, dtype=values._data.dtype)
    if shape:
        np.add.at(data, _grid(index, axis), values._data)
    else:  # a 0-d input: its one element is the one picked
        data[()] = values._data
    return record(data, ScatterAddBackward0, (values,), axis=axis, index=index)


def _gather(a: Tensor, axis: int, index: np.ndarray, node: type[Node]) -> Tensor:
    data = a._data[_grid(index, axis)] if a._data.ndim else a._data[()].reshape(())
    return record(np.array(data), node, (a,), input_shape=a._data.shape, axis=axis, index=index)


def gather(a: Tensor, dim: int, index: Tensor) -> Tensor:
    """out[i][j] = a[index[i][j]][j] (for dim 0; likewise for any dim)."""
    if index._data.dtype != np.int64:
        raise RuntimeError("gather(): Expected dtype int64 for index")
    axis = normalize_dim(dim, a._data.ndim)
    if index._data.ndim != a._data.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    extent = a._data.shape[axis] if a._data.ndim else 1
    if index._data.size and (index._data.min() < -extent or index._data.max() >= extent):
        bad = index._data[(index._data < -extent) | (index._data >= extent)][0]
        raise RuntimeError(f"index {bad} is out of bounds for dimension {axis} with size {extent}")
    return _gather(a, axis, index._data % max(extent, 1), GatherBackward0)


# ----- sort and topk --------------------------------------------------------------------------------------


class SortBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (scatter_add_into(g, self.input_shape, self.axis, self.index),)


class TopkBackward0(SortBackward0):
    pass


def _ordered(a: Tensor, axis: int, descending: bool) -> np.ndarray:
    data = a._data if a._data.ndim else a._data.reshape(1)
    if data.dtype.kind == "b":
        key = ~data if descending else data
    elif descending:  # NaN counts as the largest value, as in PyTorch (numpy sorts it last either way)
        key = np.where(np.isnan(data), -np.inf, -data) if data.dtype.kind == "f" else -data
    else:
        key = data
    order = np.argsort(key, axis=axis, kind="stable")
    return order if a._data.ndim else order.reshape(())


def sort(a: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """(values, indices) sorted along `dim`; the gradient goes back to where each value came from."""
    axis = normalize_dim(dim, a._data.ndim)
    order = _ordered(a, axis, descending)
    values = _gather(a, axis, order, SortBackward0) if a._data.ndim else record(a._data.copy(), SortBackward0, (a,),
                                                                               input_shape=(), axis=0, index=order)
    return _SORT_RESULT(values, Tensor._make(order.astype(np.int64)))


def topk(a: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    """The k largest (or smallest) elements along `dim`, with their indices."""
    if a._data.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    axis = normalize_dim(dim, a._data.ndim)
    extent = a._data.shape[axis] if a._data.ndim else 1
    if not 0 <= k <= extent:
        raise RuntimeError("selected index k out of range")
    order = np.take(_ordered(a, axis, largest), np.arange(k), axis=axis) if a._data.ndim else _ordered(a, 0, largest)
    values = _gather(a, axis, order, TopkBackward0)
    return _TOPK_RESULT(values, Tensor._make(order.astype(np.int64)))


# ----- flips and scans ------------------------------------------------------------------------------------


class FlipBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (flip(g, self.dims),)


def flip(a: Tensor, dims: Any) -> Tensor:
    """Reverse the order of elements along `dims` (a copy)."""
    axes = normalize_dims(dims, a._data.ndim)
    return record(np.flip(a._data, axes).copy() if axes else a._data.copy(), FlipBackward0, (a,), dims=axes)


class CumsumBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (flip(cumsum(flip(g, self.axis), self.axis), self.axis),)


def _running(a: Tensor, dim: int, dtype: Any, accumulate: Any) -> tuple[Tensor, np.ndarray, int]:
    """The input (cast to `dtype` first when given), its running sums or products along `dim`, and the axis.

    Bools and narrower integers accumulate in int64, as PyTorch's cumsum and cumprod do.
    """
    from gradstudio.engine.ops.shape import to_dtype

    if dtype is not None:
        a = to_dtype(a, dtype.numpy_dtype)
    axis = normalize_dim(dim, a._data.ndim)
    data = accumulate(a._data, axis=axis) if a._data.ndim else a._data.copy()
    if data.dtype.kind == "b" or (data.dtype.kind in "iu" and data.dtype != np.int64):
        data = data.astype(np.int64)
    return a, data, axis


def cumsum(a: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sums along `dim`."""
    a, data, axis = _running(a, dim, dtype, np.cumsum)
    return record(data, CumsumBackward0, (a,), axis=axis)


class CumprodBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        (a, result) = self.saved_tensors
        axis = self.axis
        if a._data.ndim == 0:  # the running product of one element is that element
            return (g,)
        if not np.any(a._data == 0):  # d out_j / d a_i = out_j / a_i for j >= i
            return (flip(cumsum(flip(g * result, axis), axis), axis) / a,)
        # zeros: sum over j >= i of g_j * prod_{k <= j, k != i} a_k, built from engine ops (so differentiable)
        from gradstudio.engine.ops.reduction import sum as sum_
        from gradstudio.engine.ops.selection import where
        from gradstudio.engine.ops.shape import permute, unsqueeze

        order = [d for d in range(a._data.ndim) if d != axis] + [axis]
        back = np.argsort(order).tolist()
        n = a._data.shape[axis]
        others = where(np.eye(n, dtype=bool), 1.0, unsqueeze(permute(a, tuple(order)), -2))  # [..., i, k]
        weights = triu(cumprod(others, -1))  # [..., i, j]: prod_{k <= j, k != i} a_k for j >= i
        grad = sum_(unsqueeze(permute(g, tuple(order)), -2) * weights, -1)
        return (permute(grad, tuple(back)),)


def cumprod(a: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running products along `dim`."""
    a, data, axis = _running(a, dim, dtype, np.cumprod)
    return record(data, CumprodBackward0, (a,), save=(a,), save_output=True, axis=axis)


# ----- triangles, diagonals, masks ------------------------------------------------------------------------


class TrilBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (tril(g, self.diagonal),)


class TriuBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (triu(g, self.diagonal),)


def _check_matrix(name: str, a: Tensor) -> None:
    if a._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")


def tril(a: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (elements above `diagonal` zeroed) of the last two dims."""
    _check_matrix("tril", a)
    return record(np.tril(a._data, diagonal), TrilBackward0, (a,), diagonal=diagonal)


def triu(a: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (elements below `diagonal` zeroed) of the last two dims."""
    _check_matrix("triu", a)
    return record(np.triu(a._data, diagonal), TriuBackward0, (a,), diagonal=diagonal)


class DiagEmbedBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (diag(g, self.diagonal),)


class DiagonalBackward0_copy(Node):  # noqa: N801 - PyTorch's name
    def apply(self, g: Tensor) -> tuple:
        from gradstudio.engine.ops.indexing import index_put_accumulate

        rows, columns = np.nonzero(np.eye(*self.input_shape, k=self.diagonal, dtype=bool))
        return (index_put_accumulate(g, self.input_shape, (rows, columns)),)


def diag(a: Tensor, diagonal: int = 0) -> Tensor:
    """A vector to a diagonal matrix, or a matrix to its diagonal."""
    if a._data.ndim == 1:
        return record(np.diag(a._data, diagonal), DiagEmbedBackward0, (a,), diagonal=diagonal)
    if a._data.ndim != 2:
        raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{a._data.ndim}D")
    return record(np.diag(a._data, diagonal).copy(), DiagonalBackward0_copy, (a,), input_shape=a._data.shape,
                  diagonal=diagonal)


class MaskedFillBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (masked_fill(g, self.mask, 0.0),)


def masked_fill(a: Tensor, mask: Any, value: Any) -> Tensor:
    """`a` with `value` written where `mask` (a bool tensor broadcast to `a`) holds."""
    mask_data = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask_data.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {_name(mask_data)}")
    fill = value._data if isinstance(value, Tensor) else value
    data = np.where(mask_data, np.asarray(fill).astype(a._data.dtype), a._data)
    if data.shape != a._data.shape:
        from gradstudio.engine.ops._core import broadcast_error

        raise broadcast_error(a._data.shape, mask_data.shape)
    return record(data, MaskedFillBackward0, (a,), mask=mask_data)


def _name(array: np.ndarray) -> str:
    return {"int64": "long int", "float32": "float", "float64": "double"}.get(str(array.dtype), str(array.dtype))


# ----- logsumexp and norm ---------------------------------------------------------------------------------


class LogsumexpBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        from gradstudio.engine.ops.pointwise import exp
        from gradstudio.engine.ops.shape import reshape

        (a, result) = self.saved_tensors
        if not self.keepdim:
            kept = tuple(1 if i in self.dims else n for i, n in enumerate(a._data.shape))
            g, result = reshape(g, kept), reshape(result, kept)
        return (g * exp(a - result),)


def logsumexp(a: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(a))) along `dim`, computed stably."""
    from gradstudio.engine.ops._core import float_data

    data = float_data(a._data)
    dims = normalize_dims(dim, a._data.ndim)
    shift = np.max(data, axis=dims, keepdims=True) if data.size else np.zeros((1,) * data.ndim, data.dtype)
    shift = np.where(np.isfinite(shift), shift, 0)
    out = np.log(np.sum(np.exp(data - shift), axis=dims, keepdims=True)) + shift
    if not keepdim:
        out = np.squeeze(out, axis=dims)
    return record(out.astype(data.dtype), LogsumexpBackward0, (a,), save=(a,), save_output=True, dims=dims,
                  keepdim=keepdim)


class LinalgVectorNormBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        from gradstudio.engine.ops.pointwise import abs as abs_
        from gradstudio.engine.ops.pointwise import pow as pow_
        from gradstudio.engine.ops.selection import where
        from gradstudio.engine.ops.shape import reshape

        (a, result) = self.saved_tensors
        if not self.keepdim and self.dims:
            kept = tuple(1 if i in self.dims else n for i, n in enumerate(a._data.shape))
            g, result = reshape(g, kept), reshape(result, kept)
        sign = Tensor._make(np.sign(a._data))
        if self.p == 1:
            return (g * sign,)
        zero = scalar_tensor(0, a._data.dtype)
        if self.p == 2:
            return (where(result._data == 0, zero, g * a / result),)
        scaled = a * pow_(abs_(a), self.p - 2) if self.p >= 2 else sign * pow_(abs_(a), self.p - 1)
        return (where(result._data == 0, zero, g * scaled / pow_(result, self.p - 1)),)


def norm(a: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """The vector p-norm of all elements or along `dim` (p = 2 by default; "fro" is 2)."""
    if a._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_long_name(a._data.dtype)}")
    order = 2.0 if p in ("fro", None) else float(p)
    dims = normalize_dims(dim, a._data.ndim)
    magnitude = np.abs(a._data)
    if order == float("inf"):
        data = np.max(magnitude, axis=dims, keepdims=keepdim)
    elif order == 2:
        data = np.sqrt(np.sum(magnitude * magnitude, axis=dims, keepdims=keepdim))
    else:
        data = np.sum(magnitude ** order, axis=dims, keepdims=keepdim) ** (1 / order)
    return record(np.asarray(data, dtype=a._data.dtype), LinalgVectorNormBackward0, (a,), save=(a,),
                  save_output=True, p=order, dims=dims, keepdim=keepdim)


def _long_name(numpy_dtype: np.dtype) -> str:
    return {"int64": "Long", "bool": "Bool", "int32": "Int"}.get(str(numpy_dtype), str(numpy_dtype))
