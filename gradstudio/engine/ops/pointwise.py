"""Elementwise ops with broadcasting, and their gradient rules (one Node per op, beside its forward)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstudio.engine import grad_mode
from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor, tracking
from gradstudio.engine.ops._core import (
    binary,
    broadcast_error,
    float_data,
    kept_if,
    lean_operands,
    like_or_none,
    needs,
    operands,
    precise,
    record,
    record_pair,
    record_unary,
    reduce_to,
    saved,
    saved_stub,
    scalar_tensor,
)
from gradstudio.engine.ops.scalar import minus, scale
from gradstudio.engine.ops.selection import where

# Backward rules below first try a lean numpy path, taken only when grad mode is off (a backward without
# create_graph) and it computes exactly what the recorded rule would: same numpy calls, same dtypes, shapes
# that need no un-broadcasting. It skips rebuilding saved tensors and the op wrappers around each product.
_STATE = grad_mode.STATE
_make = Tensor._make

# ----- binary arithmetic ---------------------------------------------------------------------------------


class AddBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        a, b = self.inputs_like
        if a is None and b is None and self.alpha == 1:  # both gradients pass as they are (see like_or_none)
            edges = self._edges
            return (g if edges[0] is not None else None, g if edges[1] is not None else None)
        return (reduce_to(g, a) if needs(self, 0) else None,
                reduce_to(g * self.alpha if self.alpha != 1 else g, b) if needs(self, 1) else None)


class SubBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        a, b = self.inputs_like
        return (reduce_to(g, a) if needs(self, 0) else None,
                reduce_to(-g * self.alpha if self.alpha != 1 else -g, b) if needs(self, 1) else None)


class RsubBackward1(Node):
    def apply(self, g: Tensor) -> tuple:
        return (reduce_to(-g, self.inputs_like[0]),)


def add(a: Any, b: Any, *, alpha: float = 1) -> Tensor:
    """a + alpha * b, broadcast."""
    pair = lean_operands(a, b) if alpha == 1 else None
    if pair is not None:  # the common case without binary()'s promotion steps
        a, b = pair
        ad, bd = a._data, b._data
        try:
            data = ad + bd
        except ValueError:
            raise broadcast_error(ad.shape, bd.shape) from None
        if not (_STATE.enabled and (a._requires_grad or b._requires_grad)):
            return _make(data)
        out = record_pair(data, AddBackward0, a, b)
        node = out.grad_fn
        node.inputs_like = (like_or_none(a, data) if a._requires_grad else None,  # read only for needed grads
                            like_or_none(b, data) if b._requires_grad else None)
        node.alpha = 1
        return out
    a, b, data = binary(np.add if alpha == 1 else lambda x, y: _scaled_add(x, y, alpha), a, b)
    if not (_STATE.enabled and (a._requires_grad or b._requires_grad)):  # tracking(), inlined
        return Tensor._make(data)
    return record(data, AddBackward0, (a, b), inputs_like=(like_or_none(a, data) if a._requires_grad else None,
                                                           like_or_none(b, data) if b._requires_grad else None),
                  alpha=alpha)


def _scaled_add(x: np.ndarray, y: np.ndarray, alpha: Any) -> np.ndarray:
    """x + alpha * y in the operands' (promoted) dtype, as PyTorch: alpha cast to it, refused as a float for
    integers."""
    if x.dtype.kind in "biu" and isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if x.dtype == np.bool_:
        return x | (y & bool(alpha))
    return x + alpha * y


BOOL_SUBTRACTION = ("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                    "`logical_xor()` operator instead.")
BOOL_TENSOR_SUBTRACTION = ("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")


def _subtract(a: Any, b: Any, alpha: float) -> tuple[Tensor, Tensor, np.ndarray]:
    """Both operands and a - alpha * b; any bool operand refused, as PyTorch does (numpy refuses only two)."""
    a, b, ad, bd = operands(a, b)
    a_bool, b_bool = a._data.dtype.kind == "b", b._data.dtype.kind == "b"
    if a_bool or b_bool:
        raise RuntimeError(BOOL_SUBTRACTION if a_bool and b_bool else BOOL_TENSOR_SUBTRACTION)
    try:
        return a, b, np.subtract(ad, bd) if alpha == 1 else ad - alpha * bd
    except ValueError:
        raise broadcast_error(ad.shape, bd.shape) from None


def sub(a: Any, b: Any, *, alpha: float = 1) -> Tensor:
    """a - alpha * b, broadcast."""
    a, b, data = _subtract(a, b, alpha)
    if not tracking(a, b):
        return Tensor._make(data)
    return record(data, SubBackward0, (a, b), inputs_like=(like_or_none(a, data), like_or_none(b, data)),
                  alpha=alpha)


def rsub(a: Tensor, scalar: Any) -> Tensor:
    """scalar - a (PyTorch records RsubBackward1)."""
    b, a, data = _subtract(scalar, a, 1)
    if not tracking(a):
        return Tensor._make(data)
    return record(data, RsubBackward1, (a,), inputs_like=(like_or_none(a, data),))


class MulBackward0(Node):
    _saved_names = ("self", "other")

    def apply(self, g: Tensor) -> tuple:
        if not _STATE.enabled:
            ad, bd = self.saved_arrays()
            gd = g._data
            dtype, shape = gd.dtype, gd.shape
            need_a, need_b = self._edges[0] is not None, self._edges[1] is not None
            if (dtype is ad.dtype and dtype is bd.dtype and (not need_a or ad.shape == shape)
                    and (not need_b or bd.shape == shape)):
                return (_make(gd * bd) if need_a else None, _make(gd * ad) if need_b else None)
        a, b = self.saved_tensors
        return (reduce_to(g * b, a) if needs(self, 0) else None,
                reduce_to(g * a, b) if needs(self, 1) else None)


def mul(a: Any, b: Any) -> Tensor:
    """Elementwise product, broadcast."""
    pair = lean_operands(a, b)
    if pair is not None:  # the common case without binary()'s promotion steps
        a, b = pair
        ad, bd = a._data, b._data
        try:
            data = ad * bd
        except ValueError:
            raise broadcast_error(ad.shape, bd.shape) from None
        if not (_STATE.enabled and (a._requires_grad or b._requires_grad)):
            return _make(data)
        out = record_pair(data, MulBackward0, a, b)
        out.grad_fn._saved = (saved(a) if b._requires_grad else saved_stub(ad.shape, ad.dtype),
                              saved(b) if a._requires_grad else saved_stub(bd.shape, bd.dtype))
        return out
    a, b, data = binary(np.multiply, a, b)
    if not (_STATE.enabled and (a._requires_grad or b._requires_grad)):  # tracking(), inlined
        return Tensor._make(data)
    return record(data, MulBackward0, (a, b), save=(kept_if(a, b._requires_grad), kept_if(b, a._requires_grad)))


class DivBackward0(Node):
    _saved_names = ("self", "other")

    def apply(self, g: Tensor) -> tuple:
        a, b = self.saved_tensors
        return (reduce_to(g / b, a) if needs(self, 0) else None,
                reduce_to(-g * (a / b / b), b) if needs(self, 1) else None)


def div(a: Any, b: Any) -> Tensor:
    """True division, broadcast; integer inputs give float results."""
    a, b, ad, bd = operands(a, b)
    try:
        data = np.true_divide(float_data(ad), float_data(bd))
    except ValueError:
        raise broadcast_error(ad.shape, bd.shape) from None
    if not tracking(a, b):
        return Tensor._make(data)
    return record(data, DivBackward0, (a, b), save=(kept_if(a, b._requires_grad), b))


class ReciprocalBackward0(Node):
    _saved_names = ("result",)

    def apply(self, g: Tensor) -> tuple:
        (result,) = self.saved_tensors
        return (-g * (result * result),)


def reciprocal(a: Tensor) -> Tensor:
    """1 / a."""
    return record(np.reciprocal(float_data(a._data)), ReciprocalBackward0, (a,), save_output=True)


def rdiv(a: Tensor, scalar: Any) -> Tensor:
    """scalar / a, recorded as PyTorch does: reciprocal, then multiply."""
    return mul(reciprocal(a), scalar)


class PowBackward0(Node):
    _saved_names, _saved_scalars = ("self",), ("exponent",)

    def apply(self, g: Tensor) -> tuple:
        (a,) = self.saved_tensors
        if self.exponent == 0:
            return (g * 0,)
        return (g * scale(pow(a, self.exponent - 1), self.exponent),)


class PowBackward1(Node):
    _saved_names = ("self", "exponent", "result")

    def apply(self, g: Tensor) -> tuple:
        a, b, result = self.saved_tensors
        grad_a = reduce_to(where(b._data == 0, 0.0, g * (b * pow(a, minus(b, 1)))), a) if needs(self, 0) else None
        grad_b = None
        if needs(self, 1):  # PyTorch's formula: zero where the base is 0 and the exponent >= 0
            masked = (a._data == 0) & (b._data >= 0)
            with np.errstate(divide="ignore", invalid="ignore"):  # log(0), and 0 * -inf where masked
                grad_b = reduce_to(g * where(masked, 0.0, result * log(a)), b)
        return grad_a, grad_b


class PowBackward2(Node):
    def apply(self, g: Tensor) -> tuple:
        (exponent, result) = self.saved_tensors
        log_base = float(np.log(np.float64(self.base)))  # -inf for 0, nan for a negative base, as in PyTorch
        if self.base == 0:  # PyTorch: 0 ** x has gradient 0 wherever x >= 0
            return (g * where(exponent._data >= 0, 0.0, result * log_base),)
        return (g * scale(result, log_base),)


def pow(a: Any, exponent: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """a ** exponent, for tensor or scalar bases and exponents."""
    if not isinstance(a, Tensor):
        exponent, base, exponent_data, base_data = operands(exponent, a)
        _refuse_bool_power(exponent_data.dtype)
        data = np.power(float_data(base_data), float_data(exponent_data))
        if exponent_data.dtype.kind in "iub":  # an integer base and exponent stay integer, as in PyTorch
            data = data.astype(exponent_data.dtype)
        return record(data, PowBackward2, (exponent,), save=(exponent,), save_output=True, base=a)
    if isinstance(exponent, Tensor):
        a, b, data = binary(_power, a, exponent)
        _refuse_bool_power(a._data.dtype if data.dtype == np.int8 else data.dtype)
        return record(data, PowBackward1, (a, b), save=(a, b), save_output=True)
    if type(exponent) is int and exponent < 0 and a._data.dtype.kind in "iub":
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    a, _, data = binary(np.power, a, exponent)
    if data.dtype == np.int8:  # numpy's bool ** bool; PyTorch's stays bool
        data = data.astype(np.bool_)
    return record(data, PowBackward0, (a,), save=(a,), exponent=exponent)


def _refuse_bool_power(numpy_dtype: np.dtype) -> None:
    if numpy_dtype == np.bool_:
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")


def _power(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x ** y; integers to negative integer powers as PyTorch: 1 / x ** |y| truncated (numpy refuses them)."""
    if y.dtype.kind not in "iu" or not (y < 0).any():
        return np.power(x, y)
    negative = y < 0
    magnitude = np.power(x, np.where(negative, 0, y))
    unit = np.where(x == 1, 1, np.where(x == -1, np.where(y % 2 == 0, 1, -1), 0))
    return np.where(negative, unit, magnitude).astype(magnitude.dtype)


class NegBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (-g,)


def neg(a: Tensor) -> Tensor:
    """-a."""
    if a._data.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    return record(np.negative(a._data), NegBackward0, (a,))


# ----- unary math ----------------------------------------------------------------------------------------


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

    def apply(self, g: Tensor) -> tuple:
        if not _STATE.enabled:
            result = self.saved_array()
            if g._data.dtype is result.dtype:
                return (_make(g._data * result),)
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
        return (where(inside, g / (a * sub(scalar_tensor(1, a._data.dtype), a)), float("nan")),)


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

    def apply(self, g: Tensor) -> tuple:
        if not _STATE.enabled:
            a, gd = self.saved_array(), g._data
            if gd.dtype is a.dtype and a.dtype.kind == "f":
                slope = precise(np.cos, a)  # a fresh array (a number when 0-d): the product can go into it
                return (_make(np.multiply(gd, slope, slope) if a.ndim and gd.shape == a.shape else gd * slope),)
        (a,) = self.saved_tensors
        return (g * cos(a),)


def sin(a: Tensor) -> Tensor:
    """Sine, `precise`: numpy's float32 kernel agrees with PyTorch's bit for bit on 84% of inputs, the float64
    one rounded on 95% (bench/float32_agreement.py)."""
    return record_unary(precise(np.sin, a._data), SinBackward0, a)


class CosBackward0(Node):
    _saved_names = ("self",)

    def apply(self, g: Tensor) -> tuple:
        if not _STATE.enabled:
            a = self.saved_array()
            if g._data.dtype is a.dtype and a.dtype.kind == "f":
                return (_make(np.negative(g._data) * precise(np.sin, a)),)
        (a,) = self.saved_tensors
        return (g * -sin(a),)


def cos(a: Tensor) -> Tensor:
    """Cosine, `precise` as sine (81% -> 95% agreement with PyTorch)."""
    return record_unary(precise(np.cos, a._data), CosBackward0, a)


# 0-d ones: `one - x` against an array costs numpy less than `1 - x` (no Python number to convert)
_ONES = {dtype: np.ones((), dtype) for dtype in (np.dtype(np.float32), np.dtype(np.float64))}


class TanhBackward0(Node):
    _saved_names = ("result",)

    def apply(self, g: Tensor) -> tuple:
        if not _STATE.enabled:  # tanh_backward's data, unrecorded
            y, gd = self.saved_array(), g._data
            one = _ONES.get(y.dtype)
            if one is not None and gd.dtype is y.dtype and gd.shape == y.shape and y.ndim:
                slope = y * y  # the same three operations, the last two in place in this fresh array
                np.subtract(one, slope, slope)
                return (_make(np.multiply(gd, slope, slope)),)
            return (_make(gd * (1 - y * y)),)
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

    def apply(self, g: Tensor) -> tuple:
        if not _STATE.enabled:  # sigmoid_backward's data, unrecorded
            y = self.saved_array()
            return (_make(g._data * y * (1 - y)),)
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

    def apply(self, g: Tensor) -> tuple:
        if not _STATE.enabled:  # threshold_backward's data, unrecorded
            result = self.saved_array()
            return (_make(_threshold_backward_data(g._data, result)),)
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
    keep = np.less_equal(result, 0)
    np.logical_not(keep, out=keep)
    mask = keep.astype(integer)
    np.negative(mask, out=mask)  # 1 -> all bits set
    return np.bitwise_and(g.view(integer), mask, out=mask).view(g.dtype)


def relu(a: Tensor) -> Tensor:
    """max(a, 0)."""
    if a._data.dtype == np.bool_:
        raise RuntimeError("Boolean inputs not supported for relu")
    return record_unary(np.maximum(a._data, 0).astype(a._data.dtype, copy=False), ReluBackward0, a, True)
