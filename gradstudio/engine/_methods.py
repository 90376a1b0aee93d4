"""Attach the ops to `Tensor` as methods and Python operators (one place, so the class stays small)."""

from __future__ import annotations

from typing import Any

from gradstudio.engine._dtype import float32, float64, int64
from gradstudio.engine._formatting import format_with_spec
from gradstudio.engine._graph import register_post_accumulate_grad_hook
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.ops import inplace, linalg, pointwise, reduction, selection, shape


def _reflected(function: Any) -> Any:
    return lambda self, other: function(other, self)


def _in_place_operator(function: Any) -> Any:
    return lambda self, other: function(self, other)


def _comparison_operator(function: Any) -> Any:
    """`t == None` is False (and `!=` True), `t < None` Python's TypeError, as PyTorch: an operand it cannot
    compare is NotImplemented."""
    def operator(self: Tensor, other: Any) -> Any:
        try:
            return function(self, other)
        except TypeError:
            return NotImplemented

    return operator


def _matrix_transpose(self: Tensor) -> Tensor:
    if self._data.ndim == 1:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{self._data.ndim}-D tensor.")
    return shape.transpose(self, -2, -1)


def _bind() -> None:
    methods = {
        "add": pointwise.add, "sub": pointwise.sub, "mul": pointwise.mul, "div": pointwise.div,
        "pow": pointwise.pow, "neg": pointwise.neg, "abs": pointwise.abs, "exp": pointwise.exp,
        "log": pointwise.log, "sqrt": pointwise.sqrt, "sin": pointwise.sin, "cos": pointwise.cos,
        "tanh": pointwise.tanh, "sigmoid": pointwise.sigmoid, "relu": pointwise.relu, "clamp": selection.clamp,
        "clip": selection.clamp, "maximum": selection.maximum, "minimum": selection.minimum,
        "reciprocal": pointwise.reciprocal,
        "eq": selection.eq, "ne": selection.ne, "lt": selection.lt, "le": selection.le, "gt": selection.gt,
        "ge": selection.ge,
        "sum": reduction.sum, "mean": reduction.mean, "max": reduction.max, "min": reduction.min,
        "prod": reduction.prod, "var": reduction.var, "std": reduction.std, "softmax": reduction.softmax,
        "log_softmax": reduction.log_softmax,
        "matmul": linalg.matmul, "mm": linalg.mm, "mv": linalg.mv, "dot": linalg.dot, "bmm": linalg.bmm,
        "reshape": shape.reshape, "view": shape.view, "transpose": shape.transpose, "t": shape.t,
        "permute": shape.permute, "unsqueeze": shape.unsqueeze, "squeeze": shape.squeeze,
        "flatten": shape.flatten, "expand": shape.expand, "clone": shape.clone, "contiguous": shape.contiguous,
        "to": shape.to, "select": shape.select, "narrow": shape.narrow,
        "add_": inplace.add_, "sub_": inplace.sub_, "mul_": inplace.mul_, "div_": inplace.div_,
        "zero_": inplace.zero_, "fill_": inplace.fill_, "copy_": inplace.copy_,
        "__add__": pointwise.add, "__radd__": pointwise.add, "__sub__": pointwise.sub,
        "__rsub__": pointwise.rsub, "__mul__": pointwise.mul, "__rmul__": pointwise.mul,
        "__truediv__": pointwise.div, "__rtruediv__": pointwise.rdiv, "__pow__": pointwise.pow,
        "__rpow__": _reflected(pointwise.pow), "__matmul__": linalg.matmul,
        "__rmatmul__": _reflected(linalg.matmul), "__neg__": pointwise.neg, "__abs__": pointwise.abs,
        "__iadd__": _in_place_operator(inplace.add_), "__isub__": _in_place_operator(inplace.sub_),
        "__imul__": _in_place_operator(inplace.mul_), "__itruediv__": _in_place_operator(inplace.div_),
        "__eq__": _comparison_operator(selection.eq), "__ne__": _comparison_operator(selection.ne),
        "__lt__": _comparison_operator(selection.lt), "__le__": _comparison_operator(selection.le),
        "__gt__": _comparison_operator(selection.gt), "__ge__": _comparison_operator(selection.ge),
        "__getitem__": shape.getitem, "__setitem__": inplace.setitem,
    }
    for name, function in methods.items():
        setattr(Tensor, name, function)
    Tensor.T = property(shape.reverse_dims, doc="All dimensions reversed (the transpose of a matrix).")
    Tensor.mT = property(_matrix_transpose, doc="Transpose of the last two dimensions.")
    Tensor.float = lambda self: shape.to_dtype(self, float32.numpy_dtype)
    Tensor.double = lambda self: shape.to_dtype(self, float64.numpy_dtype)
    Tensor.long = lambda self: shape.to_dtype(self, int64.numpy_dtype)
    Tensor.__hash__ = lambda self: id(self)
    Tensor.__format__ = format_with_spec
    Tensor.register_post_accumulate_grad_hook = register_post_accumulate_grad_hook
    Tensor._base = property(lambda self: None, doc="The tensor this is a view of (None: not a view; see _views.py).")
    Tensor._is_view = lambda self: False


_bind()
