"""Integer-style and logical ops: `// % & | ^ ~`, argmax/argmin, any/all, isnan/isfinite/isinf, allclose."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor, tracking
from gradstudio.engine.ops._core import (
    binary,
    broadcast_error,
    needs,
    normalize_dim,
    normalize_dims,
    record,
    reduce_to,
    shape_stub,
)

_TYPE_NAMES = {"f": {4: "Float", 8: "Double"}, "i": {8: "Long", 4: "Int"}, "b": {1: "Bool"}}


def _type_name(numpy_dtype: np.dtype) -> str:
    return _TYPE_NAMES.get(numpy_dtype.kind, {}).get(numpy_dtype.itemsize, str(numpy_dtype))


class NotImplementedBackward(Node):
    """PyTorch's placeholder node for ops without a derivative: backward through it raises (as soon as it is
    ready, before any leaf's .grad is filled by a sibling AccumulateGrad readied after it)."""

    _runs_first = True

    def name(self) -> str:
        """PyTorch's name for this placeholder."""
        return "torch::autograd::NotImplemented"

    def apply(self, g: Tensor) -> tuple:
        raise RuntimeError(f"derivative for aten::{self.op} is not implemented")


NotImplementedBackward.__name__ = NotImplementedBackward.__qualname__ = "NotImplemented"  # as PyTorch prints it


def _integer_division(function: Any) -> Any:
    """`function` refusing an integer division by zero as PyTorch does."""

    def divide(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        if x.dtype.kind in "biu" and y.dtype.kind in "biu" and not np.all(y):
            raise RuntimeError("ZeroDivisionError")
        return function(x, y)

    return divide


def _python_mod(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Remainder with the divisor's sign, computed as PyTorch does (fmod, then shifted): -3.0 % 1.5 is -0.0."""
    if x.dtype.kind in "biu" and y.dtype.kind in "biu":
        return np.remainder(x, y)
    rest = np.fmod(x, y)
    return np.where((rest != 0) & ((rest < 0) != (y < 0)), rest + y, rest)


def floor_divide(a: Any, b: Any) -> Tensor:
    """Floor of a / b (`//`); not differentiable, as in PyTorch."""
    tensors = tuple(x for x in (a, b) if isinstance(x, Tensor))
    a, b, data = binary(_integer_division(np.floor_divide), a, b)
    return record(data, NotImplementedBackward, tensors, op="floor_divide")


def _rfloordiv(a: Tensor, other: Any) -> Tensor:
    return floor_divide(other, a)


class RemainderBackward0(Node):
    """remainder(tensor, number): the gradient passes through to the tensor."""

    def apply(self, g: Tensor) -> tuple:
        return (g,)


class RemainderBackward1(Node):
    """remainder(a, b) of two tensors: d/da = 1, d/db = -floor(a / b)."""

    def apply(self, g: Tensor) -> tuple:
        a, b = self.inputs_like
        return (reduce_to(g, a) if needs(self, 0) else None,
                reduce_to(-g * Tensor._make(self.quotient.astype(g._data.dtype)), b) if needs(self, 1) else None)


def remainder(a: Any, b: Any) -> Tensor:
    """a mod b with the sign of b (`%`), as Python and PyTorch define it."""
    if not isinstance(a, Tensor):
        return _rmod(b, a)
    scalar_other = not isinstance(b, Tensor)
    a, b, data = binary(_integer_division(_python_mod), a, b)
    if not tracking(a, b):
        return Tensor._make(data)
    if scalar_other:
        return record(data, RemainderBackward0, (a,))
    quotient = np.floor(np.true_divide(a._data, b._data))
    return record(data, RemainderBackward1, (a, b), inputs_like=(shape_stub(a), shape_stub(b)), quotient=quotient)


def _rmod(a: Tensor, other: Any) -> Tensor:
    """number % tensor: PyTorch has no derivative for it."""
    a, b, data = binary(lambda x, y: _integer_division(_python_mod)(y, x), a, other)
    return record(data, NotImplementedBackward, (a,), op="remainder")


def _bitwise(name: str, function: Any) -> Any:
    def op(a: Any, b: Any) -> Tensor:
        if not _integral(a, b):
            _broadcastable(a, b)  # PyTorch checks the shapes before the dtypes
            _refuse(name, a, b)
        a, b, data = binary(function, a, b)
        return Tensor._make(data)

    op.__name__ = name
    op.__doc__ = f"Elementwise {name} of integer or bool tensors."
    return op


def _broadcastable(a: Any, b: Any) -> None:
    shapes = [x._data.shape for x in (a, b) if isinstance(x, Tensor)]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise broadcast_error(*shapes) from None


def _integral(a: Any, b: Any) -> bool:
    return builtins.all(not isinstance(x, Tensor) or x._data.dtype.kind in "biu" for x in (a, b)) and \
        not builtins.any(isinstance(x, float) for x in (a, b))


def _refuse(name: str, a: Any, b: Any) -> Any:
    floating = next((x for x in (a, b) if isinstance(x, Tensor) and x._data.dtype.kind == "f"), None)
    kind = "Float" if floating is None else _type_name(floating._data.dtype)
    raise NotImplementedError(f'"{name}_cpu" not implemented for \'{kind}\'')


bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)


def _reflect(function: Any) -> Any:
    return lambda self, other: function(other, self)


def bitwise_not(a: Tensor) -> Tensor:
    """Elementwise NOT (`~`): logical on bool tensors, two's complement on integers."""
    if a._data.dtype.kind == "f":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return Tensor._make(np.invert(a._data))


def logical_not(a: Tensor) -> Tensor:
    """Elementwise logical NOT, as a bool tensor."""
    return Tensor._make(np.logical_not(a._data))


# ----- index-valued and bool-valued reductions (never recorded) -------------------------------------------


def _arg(function: Any, a: Tensor, dim: Any, keepdim: bool) -> Tensor:
    name = function.__name__
    if a._data.dtype == np.bool_:
        raise RuntimeError(f"{name}(): does not support bool input")
    if a._data.size == 0:
        if dim is None:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        axis = normalize_dim(dim, a._data.ndim)
        if a._data.shape[axis] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    if dim is None:
        index = np.asarray(function(a._data.reshape(-1)), dtype=np.int64)
        return Tensor._make(index.reshape((1,) * a._data.ndim) if keepdim else index)
    axis = normalize_dim(dim, a._data.ndim)
    if a._data.ndim == 0:
        return Tensor._make(np.asarray(0, dtype=np.int64))
    return Tensor._make(function(a._data, axis=axis, keepdims=keepdim).astype(np.int64))


def argmax(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (flattened when `dim` is None; the first one on ties)."""
    return _arg(np.argmax, a, dim, keepdim)


def argmin(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest element (flattened when `dim` is None; the first one on ties)."""
    return _arg(np.argmin, a, dim, keepdim)


def _logical(function: Any, a: Tensor, dim: Any, keepdim: bool) -> Tensor:
    axes = normalize_dims(dim, a._data.ndim)
    return Tensor._make(np.asarray(function(a._data.astype(bool), axis=axes, keepdims=keepdim)))


def any(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001 - PyTorch's name
    """Whether any element (along `dim`) is nonzero."""
    return _logical(np.any, a, dim, keepdim)


def all(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001 - PyTorch's name
    """Whether every element (along `dim`) is nonzero."""
    return _logical(np.all, a, dim, keepdim)


def isnan(a: Tensor) -> Tensor:
    """Where the elements are NaN."""
    return Tensor._make(np.isnan(a._data))


def isinf(a: Tensor) -> Tensor:
    """Where the elements are +-inf."""
    return Tensor._make(np.isinf(a._data))


def isfinite(a: Tensor) -> Tensor:
    """Where the elements are neither NaN nor infinite."""
    return Tensor._make(np.isfinite(a._data))


def allclose(a: Tensor, b: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """Whether |a - b| <= atol + rtol * |b| everywhere."""
    return bool(isclose(a, b, rtol, atol, equal_nan)._data.all())


def isclose(a: Tensor, b: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """Elementwise |a - b| <= atol + rtol * |b| (both of one dtype, as PyTorch requires)."""
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{_type_name(a._data.dtype)} did not match {_type_name(b._data.dtype)}")
    _broadcastable(a, b)
    return Tensor._make(np.isclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan))
