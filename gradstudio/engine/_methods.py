"""Attach the ops to `Tensor` as methods and Python operators (one place, so the class stays small)."""

from __future__ import annotations

import warnings
from typing import Any

from gradstudio.engine import draws, sampling
from gradstudio.engine._aliases import accepting_aliases
from gradstudio.engine._dtype import float32, float64, int64
from gradstudio.engine._formatting import format_with_spec
from gradstudio.engine._graph import register_post_accumulate_grad_hook
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.ops import (
    assignment,
    indexing,
    inplace,
    integer,
    linalg,
    ordering,
    pointwise,
    reduction,
    selection,
    shape,
    softmax,
    spread,
    tiling,
)


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


MT_DEPRECATION_0D = ("Tensor.mT is deprecated on 0-D tensors. This function is the identity in these cases. "
                     "(Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4373.)")


def _matrix_transpose(self: Tensor) -> Tensor:
    if self._data.ndim == 0:  # the tensor itself, with PyTorch's warning once per process
        if MT_DEPRECATION_0D not in shape.WARNED_ONCE:
            shape.WARNED_ONCE.add(MT_DEPRECATION_0D)
            warnings.warn(MT_DEPRECATION_0D, UserWarning, stacklevel=2)
        return self
    if self._data.ndim == 1:
        raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                           f"{self._data.ndim}-D tensor.")
    return shape.transpose(self, -2, -1)


def _bind() -> None:
    methods = {
        "add": pointwise.add, "sub": pointwise.sub, "mul": pointwise.mul, "div": pointwise.div,
        "pow": pointwise.pow, "neg": pointwise.neg, "abs": pointwise.abs, "exp": pointwise.exp,
        "log": pointwise.log, "logit": pointwise.logit, "sqrt": pointwise.sqrt, "sin": pointwise.sin,
        "cos": pointwise.cos,
        "tanh": pointwise.tanh, "sigmoid": pointwise.sigmoid, "relu": pointwise.relu, "clamp": selection.clamp,
        "clip": selection.clamp, "maximum": selection.maximum, "minimum": selection.minimum,
        "reciprocal": pointwise.reciprocal,
        "eq": selection.eq, "ne": selection.ne, "lt": selection.lt, "le": selection.le, "gt": selection.gt,
        "ge": selection.ge,
        "sum": reduction.sum, "mean": reduction.mean, "max": reduction.max, "min": reduction.min,
        "prod": reduction.prod, "var": spread.var, "std": spread.std, "softmax": softmax.softmax,
        "log_softmax": softmax.log_softmax,
        "matmul": linalg.matmul, "mm": linalg.mm, "mv": linalg.mv, "dot": linalg.dot, "bmm": linalg.bmm,
        "reshape": shape.reshape, "view": shape.view, "transpose": shape.transpose, "t": shape.t,
        "permute": shape.permute, "unsqueeze": shape.unsqueeze, "squeeze": shape.squeeze,
        "flatten": shape.flatten, "expand": shape.expand, "clone": shape.clone, "contiguous": shape.contiguous,
        "to": shape.to, "select": shape.select, "narrow": shape.narrow,
        "add_": inplace.add_, "sub_": inplace.sub_, "mul_": inplace.mul_, "div_": inplace.div_,
        "zero_": inplace.zero_, "fill_": inplace.fill_, "copy_": inplace.copy_,
        "uniform_": draws.uniform_, "normal_": draws.normal_, "bernoulli_": draws.bernoulli_,
        "bernoulli": draws.bernoulli, "random_": sampling.random_, "exponential_": sampling.exponential_,
        "multinomial": sampling.multinomial,
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
        "__getitem__": indexing.getitem, "__setitem__": assignment.setitem,
    }
    methods.update(_surface_methods())
    for name, function in methods.items():
        setattr(Tensor, name, function)
    for name in ("sum", "mean", "prod", "max", "min", "var", "std", "softmax", "log_softmax", "argmax", "argmin",
                 "any", "all", "norm", "logsumexp", "cumsum", "cumprod"):
        setattr(Tensor, name, accepting_aliases(methods[name]))
    for name in ("add", "sub", "mul", "div", "maximum", "minimum", "matmul", "eq", "ne", "lt", "le", "gt", "ge"):
        setattr(Tensor, name, accepting_aliases(methods[name], second="other"))
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


def _in_place(function: Any) -> Any:
    return lambda self, *args, **kwargs: inplace.apply_inplace(
        self, lambda source: function(source, *args, **kwargs), *args)


def _surface_methods() -> dict[str, Any]:
    """The second wave of methods: integer and logical ops, ordering, tiling, and in-place variants."""
    methods = {
        "floor_divide": integer.floor_divide, "remainder": integer.remainder,
        "bitwise_and": integer.bitwise_and, "bitwise_or": integer.bitwise_or, "bitwise_xor": integer.bitwise_xor,
        "bitwise_not": integer.bitwise_not, "logical_not": integer.logical_not,
        "argmax": integer.argmax, "argmin": integer.argmin, "any": integer.any, "all": integer.all,
        "isnan": integer.isnan, "isinf": integer.isinf, "isfinite": integer.isfinite, "allclose": integer.allclose,
        "isclose": integer.isclose,
        "sort": ordering.sort, "topk": ordering.topk, "gather": ordering.gather, "flip": ordering.flip,
        "cumsum": ordering.cumsum, "cumprod": ordering.cumprod, "tril": ordering.tril, "triu": ordering.triu,
        "diag": ordering.diag, "masked_fill": ordering.masked_fill, "logsumexp": ordering.logsumexp,
        "norm": ordering.norm,
        "expand_as": tiling.expand_as, "view_as": tiling.view_as, "repeat": tiling.repeat, "split": tiling.split,
        "chunk": tiling.chunk, "split_with_sizes": tiling.split_with_sizes,
        "unbind": tiling.unbind, "outer": tiling.outer,
        "__floordiv__": integer.floor_divide, "__rfloordiv__": _reflected(integer.floor_divide),
        "__mod__": integer.remainder, "__rmod__": _reflected(integer.remainder),
        "__and__": integer.bitwise_and, "__rand__": _reflected(integer.bitwise_and),
        "__or__": integer.bitwise_or, "__ror__": _reflected(integer.bitwise_or),
        "__xor__": integer.bitwise_xor, "__rxor__": _reflected(integer.bitwise_xor),
        "__invert__": integer.bitwise_not,
    }
    unary = {"exp": pointwise.exp, "log": pointwise.log, "sqrt": pointwise.sqrt, "sin": pointwise.sin,
             "cos": pointwise.cos, "tanh": pointwise.tanh, "sigmoid": pointwise.sigmoid, "relu": pointwise.relu,
             "abs": pointwise.abs, "neg": pointwise.neg, "reciprocal": pointwise.reciprocal, "pow": pointwise.pow,
             "clamp": selection.clamp, "clip": selection.clamp, "masked_fill": ordering.masked_fill,
             "floor_divide": integer.floor_divide, "remainder": integer.remainder,
             "bitwise_and": integer.bitwise_and, "bitwise_or": integer.bitwise_or, "bitwise_xor": integer.bitwise_xor}
    methods.update({f"{name}_": _in_place(function) for name, function in unary.items()})
    methods.update({"__ifloordiv__": methods["floor_divide_"], "__imod__": methods["remainder_"],
                    "__iand__": methods["bitwise_and_"], "__ior__": methods["bitwise_or_"],
                    "__ixor__": methods["bitwise_xor_"], "__ipow__": methods["pow_"]})
    return methods


_bind()
