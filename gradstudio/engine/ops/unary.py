"""One-input elementwise math and its gradient rules: abs, exp, log, logit, sqrt, sin, cos, tanh, sigmoid,
relu (one Node per op, beside its forward; the arithmetic of two operands is in pointwise.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstudio.engine import grad_mode
from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.ops._core import (
    float_data,
    needs,
    precise,
    record,
    record_unary,
    scalar_tensor,
    unrecorded_first,
)
from gradstudio.engine.ops.scalar import scale
from gradstudio.engine.ops.selection import where

# Backward rules below first try a lean numpy path, taken only when grad mode is off (a backward without
# create_graph) and it computes exactly what the recorded rule would: same numpy calls, same dtypes. It skips
# rebuilding saved tensors and the op wrappers around each product.
_STATE = grad_mode.STATE
_make = Tensor._make



class AbsBackward0(Node):
    _saved_names = ("self",)

    def apply(self, g: Tensor) -> tuple:
        (a,) = self.saved_tensors
        return (g * record(_sign(a._data), SgnBackward0, (a,)),)


def _sign(x: np.ndarray) -> np.ndarray:
    """-1, 0 or 1, and 0 for NaN (PyTorch's sgn; numpy's sign keeps NaN)."""
    return (x > 0).astype(x.dtype) - (x < 0)


class SgnBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (g * 0,)


def abs(a: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """|a|."""
    if a._data.dtype == np.bool_:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return record(np.abs(a._data), AbsBackward0, (a,), save=(a,))


class ExpBackward0(Node):
    _saved_names = ("result",)

    def unrecorded(self, gd: Any) -> tuple | None:
        result = self.saved_array()
        return (gd * result,) if gd.dtype is result.dtype else None

    def apply(self, g: Tensor) -> tuple:
        grads = unrecorded_first(self, g)
        if grads is not None:
            return grads
        (result,) = self.saved_tensors
        return (g * result,)


def exp(a: Tensor) -> Tensor:
    """e ** a."""
    return record_unary(precise(np.exp, a._data), ExpBackward0, a, True)


class LogBackward0(Node):
    _saved_names = ("self",)

    def apply(self, g: Tensor) -> tuple:
        (a,) = self.saved_tensors
        return (g / a,)


def log(a: Tensor) -> Tensor:
    """Natural logarithm."""
    return record(precise(np.log, a._data), LogBackward0, (a,), save=(a,))


class LogitBackward0(Node):
    _saved_names = ("self",)

    def apply(self, g: Tensor) -> tuple:
        (a,) = self.saved_tensors
        # PyTorch's logit_backward: grad / (x * (1 - x)) inside [0, 1], nan outside
        inside = (a._data >= 0) & (a._data <= 1)
        return (where(inside, g / (a * (scalar_tensor(1, a._data.dtype) - a)), float("nan")),)  # SubBackward0


def logit(a: Tensor) -> Tensor:
    """log(a / (1 - a)), the inverse of sigmoid."""
    return record(precise(lambda x: np.log(x / (1 - x)), float_data(a._data)), LogitBackward0, (a,), save=(a,))


class SqrtBackward0(Node):
    _saved_names = ("result",)

    def apply(self, g: Tensor) -> tuple:
        (result,) = self.saved_tensors
        return (g / scale(result, 2),)


def sqrt(a: Tensor) -> Tensor:
    """Square root."""
    return record(np.sqrt(float_data(a._data)), SqrtBackward0, (a,), save_output=True)


class SinBackward0(Node):
    _saved_names = ("self",)

    def unrecorded(self, gd: Any) -> tuple | None:
        a = self.saved_array()
        if gd.dtype is not a.dtype or a.dtype.kind != "f":
            return None
        slope = precise(np.cos, a)  # a fresh array (a number when 0-d): the product can go into it
        return (np.multiply(gd, slope, slope) if a.ndim and gd.shape == a.shape else gd * slope,)

    def apply(self, g: Tensor) -> tuple:
        grads = unrecorded_first(self, g)
        if grads is not None:
            return grads
        (a,) = self.saved_tensors
        return (g * cos(a),)


def sin(a: Tensor) -> Tensor:
    """Sine, `precise`: numpy's float32 kernel agrees with PyTorch's bit for bit on 84% of inputs, the float64
    one rounded on 95% (bench/float32_agreement.py)."""
    return record_unary(precise(np.sin, a._data), SinBackward0, a)


class CosBackward0(Node):
    _saved_names = ("self",)

    def unrecorded(self, gd: Any) -> tuple | None:
        a = self.saved_array()
        return (np.negative(gd) * precise(np.sin, a),) if gd.dtype is a.dtype and a.dtype.kind == "f" else None

    def apply(self, g: Tensor) -> tuple:
        grads = unrecorded_first(self, g)
        if grads is not None:
            return grads
        (a,) = self.saved_tensors
        return (g * -sin(a),)


def cos(a: Tensor) -> Tensor:
    """Cosine, `precise` as sine (81% -> 95% agreement with PyTorch)."""
    return record_unary(precise(np.cos, a._data), CosBackward0, a)


# 0-d ones: `one - x` against an array costs numpy less than `1 - x` (no Python number to convert)
_ONES = {dtype: np.ones((), dtype) for dtype in (np.dtype(np.float32), np.dtype(np.float64))}


class TanhBackward0(Node):
    _saved_names = ("result",)

    def unrecorded(self, gd: Any) -> tuple:
        """tanh_backward's data."""
        y = self.saved_array()
        one = _ONES.get(y.dtype)
        if one is not None and gd.dtype is y.dtype and gd.shape == y.shape and y.ndim:
            slope = y * y  # the same three operations, the last two in place in this fresh array
            np.subtract(one, slope, slope)
            return (np.multiply(gd, slope, slope),)
        return (gd * (1 - y * y),)

    def apply(self, g: Tensor) -> tuple:
        grads = unrecorded_first(self, g)
        if grads is not None:
            return grads
        (result,) = self.saved_tensors
        return (tanh_backward(g, result),)


class TanhBackwardBackward0(Node):
    def apply(self, gg: Tensor) -> tuple:
        g, result = self.saved_tensors
        return (tanh_backward(gg, result) if needs(self, 0) else None,
                gg * g * result * -2 if needs(self, 1) else None)


def tanh_backward(g: Tensor, result: Tensor) -> Tensor:
    """g * (1 - tanh**2) given tanh's output, recorded as one op (PyTorch's tanh_backward)."""
    y = result._data
    return record(g._data * (1 - y * y), TanhBackwardBackward0, (g, result), save=(g, result))


def tanh(a: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return record_unary(precise(np.tanh, a._data), TanhBackward0, a, True)


class SigmoidBackward0(Node):
    _saved_names = ("result",)

    def unrecorded(self, gd: Any) -> tuple:
        """sigmoid_backward's data."""
        y = self.saved_array()
        return (gd * y * (1 - y),)

    def apply(self, g: Tensor) -> tuple:
        grads = unrecorded_first(self, g)
        if grads is not None:
            return grads
        (result,) = self.saved_tensors
        return (sigmoid_backward(g, result),)


class SigmoidBackwardBackward0(Node):
    def apply(self, gg: Tensor) -> tuple:
        g, result = self.saved_tensors
        return (sigmoid_backward(gg, result) if needs(self, 0) else None,
                gg * g * (1 - result * 2) if needs(self, 1) else None)


def sigmoid_backward(g: Tensor, result: Tensor) -> Tensor:
    """g * s * (1 - s) given the sigmoid's output s, recorded as one op (PyTorch's sigmoid_backward)."""
    y = result._data
    return record(g._data * y * (1 - y), SigmoidBackwardBackward0, (g, result), save=(g, result))


def sigmoid(a: Tensor) -> Tensor:
    """Logistic sigmoid 1 / (1 + e ** -a), in the input's precision: it saturates to 0 where e ** -a overflows,
    as PyTorch's does."""
    x = float_data(a._data)
    data = np.reciprocal(precise(np.exp, -x) + 1, dtype=x.dtype)
    return record_unary(data, SigmoidBackward0, a, True)


class ReluBackward0(Node):
    _saved_names = ("result",)

    def unrecorded(self, gd: Any) -> tuple:
        """threshold_backward's data."""
        return (_threshold_backward_data(gd, self.saved_array()),)

    def apply(self, g: Tensor) -> tuple:
        grads = unrecorded_first(self, g)
        if grads is not None:
            return grads
        (result,) = self.saved_tensors
        return (threshold_backward(g, result),)


class ThresholdBackwardBackward0(Node):
    def apply(self, gg: Tensor) -> tuple:
        (result,) = self.saved_tensors
        return (threshold_backward(gg, result) if needs(self, 0) else None,
                gg * 0 if needs(self, 1) else None)


def threshold_backward(g: Tensor, result: Tensor) -> Tensor:
    """g where relu's output is positive, else 0, recorded as one op (PyTorch's threshold_backward)."""
    data = _threshold_backward_data(g._data, result._data)
    return record(data, ThresholdBackwardBackward0, (g, result), save=(result,))


_SAME_SIZE_INTEGERS = {2: np.int16, 4: np.int32, 8: np.int64}


def _threshold_backward_data(g: np.ndarray, result: np.ndarray) -> np.ndarray:
    """g where relu's output is not <= 0, else +0 (as PyTorch gives); a NaN output is not <= 0, so its
    gradient passes. As a bit mask (all ones or all zeros per element) ANDed with g's bits: the same values
    bit for bit as np.where, which branches per element and is seven times slower on a random sign pattern."""
    integer = _SAME_SIZE_INTEGERS.get(g.dtype.itemsize) if g.dtype.kind == "f" else None
    if integer is None or g.shape != result.shape or not g.ndim:  # (a 0-d comparison gives a scalar, not an array)
        return np.where(~(result <= 0), g, np.zeros((), g.dtype))
    mask = np.less_equal(result, 0).view(np.int8)  # 1 where the gradient stops
    np.subtract(mask, 1, out=mask)  # 0 there, -1 (all bits set) where it passes, widened with its sign
    mask = mask.astype(integer)
    return np.bitwise_and(g.view(integer), mask, out=mask).view(g.dtype)


def relu(a: Tensor) -> Tensor:
    """max(a, 0)."""
    if a._data.dtype == np.bool_:
        raise RuntimeError("Boolean inputs not supported for relu")
    return record_unary(np.maximum(a._data, 0).astype(a._data.dtype, copy=False), ReluBackward0, a, True)
