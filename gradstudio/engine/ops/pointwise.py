"""Elementwise arithmetic with broadcasting (add, sub, mul, div, pow, and neg and reciprocal beside them), and
their gradient rules (one Node per op, beside its forward). The one-input math (exp, sin, tanh, relu...) is in
unary.py and is importable from here too, as the op modules have always imported it."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstudio.engine import grad_mode
from gradstudio.engine._graph import Node, SavedTensor
from gradstudio.engine._tensor import Tensor, tracking
from gradstudio.engine._versions import VersionCounter
from gradstudio.engine.ops._core import (
    SAVED_STUBS,
    binary,
    broadcast_error,
    float_data,
    kept_if,
    like_or_none,
    needs,
    operands,
    record,
    record_pair,
    reduce_to,
    saved,
    saved_stub,
    unrecorded_first,
)
from gradstudio.engine.ops._numbers import (
    NUMBER_ARRAYS,
    NUMBER_DTYPES,
    UNCHANGED,
    WrappedNumber,
    number_array,
    saved_number,
    saved_pair,
)
from gradstudio.engine.ops.scalar import minus, scale
from gradstudio.engine.ops.selection import where
from gradstudio.engine.ops.unary import abs, cos, exp, log, logit, relu, sigmoid, sin, sqrt, tanh  # noqa: A004

# Backward rules below first try a lean numpy path, taken only when grad mode is off (a backward without
# create_graph) and it computes exactly what the recorded rule would: same numpy calls, same dtypes, shapes
# that need no un-broadcasting. It skips rebuilding saved tensors and the op wrappers around each product.
_STATE = grad_mode.STATE
_GRAD_OFF = grad_mode.GRAD_OFF  # empty: grad mode is on in every thread (see grad_mode.GRAD_OFF)
_make = Tensor._make
_new = object.__new__
_F32 = np.dtype(np.float32)  # the usual dtype, told by identity before asking any dtype its kind

# ----- binary arithmetic ---------------------------------------------------------------------------------


_PASS_BOTH = (None, None)  # AddBackward0.inputs_like when neither gradient needs un-broadcasting
_SAVED_ALPHA = property(lambda node: node.alpha, doc="PyTorch's `_saved_alpha`: the alpha the op scaled by.")


class AddBackward0(Node):
    inputs_like, alpha = _PASS_BOTH, 1  # what `x + 2` records (its fast path sets nothing); others set both
    _saved_alpha = _SAVED_ALPHA

    def unrecorded(self, gd: Any) -> tuple | None:
        """`apply`'s pass-through on a bare array (one tensor when both inputs take it, as both take g)."""
        a, b = self.inputs_like
        if a is not None or b is not None or self.alpha != 1:
            return None
        edges = self._edges
        if edges[0] is not None and edges[1] is not None:
            gd = _make(gd)
        return (gd if edges[0] is not None else None, gd if edges[1] is not None else None)

    def apply(self, g: Tensor) -> tuple:
        a, b = self.inputs_like
        if a is None and b is None and self.alpha == 1:  # both gradients pass as they are (see like_or_none)
            edges = self._edges
            return (g if edges[0] is not None else None, g if edges[1] is not None else None)
        return (reduce_to(g, a) if needs(self, 0) else None,
                reduce_to(g * self.alpha if self.alpha != 1 else g, b) if needs(self, 1) else None)


class SubBackward0(Node):
    _saved_alpha = _SAVED_ALPHA

    def apply(self, g: Tensor) -> tuple:
        a, b = self.inputs_like
        return (reduce_to(g, a) if needs(self, 0) else None,
                reduce_to(-g * self.alpha if self.alpha != 1 else -g, b) if needs(self, 1) else None)


class RsubBackward1(Node):
    alpha = 1  # `n - x` has no alpha; PyTorch shows 1
    _saved_alpha = _SAVED_ALPHA

    def apply(self, g: Tensor) -> tuple:
        return (reduce_to(-g, self.inputs_like[0]),)


def add(a: Any, b: Any, *, alpha: float = 1) -> Tensor:
    """a + alpha * b, broadcast."""
    if (type(a) is Tensor and (type(b) is float or type(b) is int) and alpha == 1
            and ((dtype := a._data.dtype) is _F32 or dtype.kind == "f")):
        # `x + 2`: the number as a 0-d array of x's dtype needs no tensor (it has no edge, nothing keeps it); the
        # sum has x's shape and dtype, so x's gradient passes as it is (like_or_none's None)
        bd = NUMBER_ARRAYS.get(b) if dtype is _F32 else None
        data = a._data + (number_array(b, dtype) if bd is None else bd)  # (numpy converts a number dearer, NEP 50)
        if not (a._requires_grad and (not _GRAD_OFF or _STATE.enabled)):
            return _make(data)
        return record_pair(data, AddBackward0, a, None)  # the class's inputs_like and alpha: x's gradient as it is
    if type(a) is Tensor and type(b) is Tensor and alpha == 1 and a._data.dtype is b._data.dtype:
        ad, bd = a._data, b._data  # two plain tensors of one dtype: nothing to promote, no binary() steps
        try:
            data = ad + bd
        except ValueError:
            raise broadcast_error(ad.shape, bd.shape) from None
        if not ((a._requires_grad or b._requires_grad) and (not _GRAD_OFF or _STATE.enabled)):
            return _make(data)
        out = record_pair(data, AddBackward0, a, b)
        node = out.grad_fn
        node.inputs_like = (like_or_none(a, data) if a._requires_grad else None,  # read only for needed grads
                            like_or_none(b, data) if b._requires_grad else None)
        node.alpha = 1
        return out
    a, b, data = binary(np.add if alpha == 1 else lambda x, y: _scaled_add(x, y, alpha), a, b)
    if not ((a._requires_grad or b._requires_grad) and (not _GRAD_OFF or _STATE.enabled)):  # tracking(), inlined
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

    def unrecorded(self, gd: Any) -> tuple | None:
        ad, bd = self.saved_arrays()
        dtype, shape = gd.dtype, gd.shape
        need_a, need_b = self._edges[0] is not None, self._edges[1] is not None
        if (dtype is ad.dtype and dtype is bd.dtype and (not need_a or ad.shape == shape)
                and (not need_b or bd.shape == shape)):
            return (gd * bd if need_a else None, gd * ad if need_b else None)
        return None

    def apply(self, g: Tensor) -> tuple:
        grads = unrecorded_first(self, g)
        if grads is not None:
            return grads
        a, b = saved_pair(self)
        return (reduce_to(g * b, a) if needs(self, 0) else None,
                reduce_to(g * a, b) if needs(self, 1) else None)


def mul(a: Any, b: Any) -> Tensor:
    """Elementwise product, broadcast."""
    if type(a) is Tensor and (type(b) is float or type(b) is int) and ((dtype := a._data.dtype) is _F32
                                                                       or dtype.kind == "f"):
        # `x * 3`: the number as a 0-d array of x's dtype (as scalar_tensor makes it), kept without a tensor
        ad = a._data
        bd = NUMBER_ARRAYS.get(b) if dtype is _F32 else None
        if bd is None:
            bd = number_array(b, dtype)
        data = ad * bd
        if not (a._requires_grad and (not _GRAD_OFF or _STATE.enabled)):
            return _make(data)
        out = record_pair(data, MulBackward0, a, None)
        kept = _new(WrappedNumber)  # saved_number(bd, b), inlined
        kept._counter, kept._version = UNCHANGED, 0
        kept._tensor, kept._data, kept._number = None, bd, b
        stub = SAVED_STUBS.get(ad.shape if dtype is _F32 else (ad.shape, dtype))  # (see SAVED_STUBS)
        out.grad_fn._saved = (stub or saved_stub(ad.shape, dtype), kept)
        return out
    if type(a) is Tensor and type(b) is Tensor and a._data.dtype is b._data.dtype:
        ad, bd = a._data, b._data  # two plain tensors of one dtype: nothing to promote, no binary() steps
        try:
            data = ad * bd
        except ValueError:
            raise broadcast_error(ad.shape, bd.shape) from None
        if not ((a._requires_grad or b._requires_grad) and (not _GRAD_OFF or _STATE.enabled)):
            return _make(data)
        out = record_pair(data, MulBackward0, a, b)
        if a is b:  # `y * y`: one saved tensor serves as both (nothing changes a SavedTensor once made)
            counter = a._counter
            if counter is None:  # saved(a), inlined (as record() inlines it)
                counter = a._counter = VersionCounter()
            kept = _new(SavedTensor)
            kept._counter, kept._version = counter, counter.value
            kept._tensor, kept._data = a, None
            out.grad_fn._saved = (kept, kept)
        else:  # a stand-in for an operand whose gradient formula is not needed (read first from saved_stub's cache)
            dtype, stubs = ad.dtype, SAVED_STUBS  # (one dtype: see SAVED_STUBS for the keys)
            out.grad_fn._saved = (
                saved(a) if b._requires_grad else stubs.get(ad.shape if dtype is _F32 else (ad.shape, dtype))
                or saved_stub(ad.shape, dtype),
                saved(b) if a._requires_grad else stubs.get(bd.shape if dtype is _F32 else (bd.shape, dtype))
                or saved_stub(bd.shape, dtype))
        return out
    number = b
    a, b, data = binary(np.multiply, a, b)
    if not ((a._requires_grad or b._requires_grad) and (not _GRAD_OFF or _STATE.enabled)):  # tracking(), inlined
        return Tensor._make(data)
    out = record(data, MulBackward0, (a, b), save=(kept_if(a, b._requires_grad), kept_if(b, a._requires_grad)))
    return _wrapping_number(out, b, number)


def _wrapping_number(out: Tensor, b: Tensor, number: Any) -> Tensor:
    """`out` of an op on (a, b) whose node saved b: b kept as a wrapped number when the caller gave a Python
    number (bool, int or float), as PyTorch keeps it (see WrappedNumber)."""
    if type(number) in NUMBER_DTYPES:
        node = out.grad_fn
        node._saved = (node._saved[0], saved_number(b._data, number))
    return out


class DivBackward0(Node):
    _saved_names = ("self", "other")

    def apply(self, g: Tensor) -> tuple:
        a, b = saved_pair(self)
        return (reduce_to(g / b, a) if needs(self, 0) else None,
                reduce_to(-g * (a / b / b), b) if needs(self, 1) else None)


def div(a: Any, b: Any) -> Tensor:
    """True division, broadcast; integer inputs give float results."""
    number = b
    a, b, ad, bd = operands(a, b)
    try:
        data = np.true_divide(float_data(ad), float_data(bd))
    except ValueError:
        raise broadcast_error(ad.shape, bd.shape) from None
    if not tracking(a, b):
        return Tensor._make(data)
    return _wrapping_number(record(data, DivBackward0, (a, b), save=(kept_if(a, b._requires_grad), b)), b, number)


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
    _saved_names = ("exponent", "result")
    _saved_self = property(lambda node: node.base, doc="PyTorch's `_saved_self` of `n ** x`: the number n.")

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


__all__ = ["add", "sub", "rsub", "mul", "div", "reciprocal", "rdiv", "pow", "neg",
           "abs", "exp", "log", "logit", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu"]
