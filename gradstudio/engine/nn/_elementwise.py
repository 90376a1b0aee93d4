"""Element-by-element losses: `mse_loss`, `binary_cross_entropy`, `binary_cross_entropy_with_logits`.

Each is one node with its own gradient rule for both input and target, as in
PyTorch; the rules use engine ops, so second derivatives work.
"""

from __future__ import annotations

import warnings

import numpy as np

from gradstudio.engine import grad_mode
from gradstudio.engine._graph import Node
from gradstudio.engine._summation import torch_sum
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.nn._reduction import constant, reduction_name, refuse_grad, refuse_integer, type_name
from gradstudio.engine.ops._core import broadcast_error, needs, operands, record, reduce_to
from gradstudio.engine.ops.fused import fused, recording
from gradstudio.engine.ops.pointwise import exp, log, logit, sigmoid
from gradstudio.engine.ops.reduction import sum as sum_
from gradstudio.engine.ops.scalar import divide
from gradstudio.engine.ops.selection import clamp, where
from gradstudio.engine.ops.shape import expand_to

# PyTorch clamps the denominator x * (1 - x) of the BCE gradient from below by this.
_BCE_EPSILON = 1e-12


def _reduce(losses: np.ndarray, reduction: str) -> np.ndarray:
    """Apply a reduction in numpy (a mean of nothing is nan, without numpy's warning)."""
    if reduction == "none":
        return losses
    total = torch_sum(losses, tuple(range(losses.ndim)), False)  # PyTorch's float32 summation order
    if total is None:
        total = np.add.reduce(losses, axis=None, dtype=losses.dtype)  # np.sum's own call, without its wrapper
    return total if reduction == "sum" else np.asarray(total / losses.size, dtype=losses.dtype)


def _grad_scale(node: Node, g: Tensor) -> Tensor:
    """The incoming gradient divided by the element count for 'mean', times the weight if any."""
    if node.reduction == "mean":
        g = g / node.count
    return g if node.weight is None else g * constant(node.weight, g)


# ----- mse_loss ------------------------------------------------------------------------------------------


class MseLossBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        a, b = self.saved_tensors
        x, y = in_dtype_of(g, a), in_dtype_of(g, b)  # an operand of another dtype: computed in the result's
        if recording(g, x, y):  # PyTorch's mse_loss_backward: one MseLossBackwardBackward0 per input
            grad_a = fused("MseLossBackwardBackward0", self._rule, g, x, y) if needs(self, 0) else None
            grad_b = fused("MseLossBackwardBackward0", self._rule, g, y, x) if needs(self, 1) else None
        else:
            grad_a = self._rule(g, x, y)
            grad_b = -grad_a
        return (reduce_to(grad_a, a) if needs(self, 0) else None, reduce_to(grad_b, b) if needs(self, 1) else None)

    def _rule(self, g: Tensor, a: Tensor, b: Tensor) -> Tensor:
        grad = g * (a - b) * 2.0
        return grad / self.count if self.reduction == "mean" else grad


def in_dtype_of(g: Tensor, operand: Tensor) -> Tensor:
    """`operand` converted to the dtype of the gradient `g` (a loss's result dtype), if it is not in it."""
    return operand if operand._data.dtype == g._data.dtype else operand.to(g.dtype)


def _broadcast_pair(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Both expanded to their common shape (only the one that changes is recorded)."""
    try:
        shape = np.broadcast_shapes(a._data.shape, b._data.shape)
    except ValueError:
        raise broadcast_error(a._data.shape, b._data.shape) from None
    return ((a if a._data.shape == shape else expand_to(a, shape)),
            (b if b._data.shape == shape else expand_to(b, shape)))


def _weighted_mse(a: Tensor, b: Tensor, weight: Tensor, reduction: str) -> Tensor:
    if weight.shape != a.shape:
        raise ValueError("Weights and input must have the same size.")
    weighted = (a - b) ** 2 * weight
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return sum_(weighted)
    if reduction == "mean":
        return sum_(weighted) / sum_(weight)
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,  # noqa: A002
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error (or its sum, or the elementwise squares), recorded as MseLossBackward0."""
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      "same size.", UserWarning, stacklevel=2)
    if size_average is not None or reduce is not None:
        reduction = reduction_name(reduction, size_average, reduce)
    a, b = _broadcast_pair(input, target)
    if weight is not None:
        return _weighted_mse(a, b, weight, reduction)
    reduction = reduction_name(reduction)
    a, b, ad, bd = operands(a, b)
    refuse_integer("mse_cpu", ad.dtype)
    diff = ad - bd
    return record(_reduce(diff * diff, reduction), MseLossBackward0, (a, b), save=(a, b), reduction=reduction,
                  count=diff.size)


# ----- binary_cross_entropy ------------------------------------------------------------------------------


class BinaryCrossEntropyBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        if not grad_mode.STATE.enabled and self.weight is None and not needs(self, 1):
            x, t = self.saved_arrays()
            data = g._data
            if data.dtype is x.dtype and data.dtype is t.dtype:  # the rule below in its own numpy calls
                if self.reduction == "mean":
                    data = data / self.count
                return (Tensor._make(data * (x - t) / np.clip((1 - x) * x, _BCE_EPSILON, None)), None)
        x, t = self.saved_tensors
        grad_x = fused("BinaryCrossEntropyBackwardBackward0", self._rule, g, x, t) if needs(self, 0) else None
        grad_t = self._target_rule(g, x) if needs(self, 1) else None
        return grad_x, grad_t

    def _target_rule(self, g: Tensor, x: Tensor) -> Tensor:
        """PyTorch's binary_cross_entropy_target_backward: -logit(x) * weight * grad / count."""
        grad = -logit(x)
        if self.weight is not None:
            grad = grad * constant(self.weight, g)
        grad = grad * g
        return divide(grad, self.count) if self.reduction == "mean" else grad

    def _rule(self, g: Tensor, x: Tensor, t: Tensor) -> Tensor:
        return _grad_scale(self, g) * (x - t) / clamp((1 - x) * x, min=_BCE_EPSILON)


def _check_unit_interval(data: np.ndarray, what: str) -> None:
    if not ((data >= 0) & (data <= 1)).all():  # the method: np.all's Python-level wrapper costs more than the test
        raise RuntimeError(f"all elements of {what} should be between 0 and 1")


def _expanded_weight(weight: Tensor | None, shape: tuple, dtype: np.dtype) -> np.ndarray | None:
    """`weight` broadcast to the loss's shape (PyTorch's message when it cannot be)."""
    if weight is None:
        return None
    try:
        full = np.broadcast_shapes(shape, weight._data.shape)
    except ValueError:
        raise _infer_size_error(weight._data.shape, shape) from None
    return np.broadcast_to(weight._data.astype(dtype, copy=False), full)


def _infer_size_error(small: tuple, big: tuple) -> RuntimeError:
    for offset in range(1, min(len(small), len(big)) + 1):
        a, b = small[-offset], big[-offset]
        if a != b and a != 1 and b != 1:
            return RuntimeError(f"Attempting to broadcast a dimension of length {a} at -{offset}! Mismatching "
                                f"argument at index 1 had torch.Size({list(small)}); but expected shape should be "
                                f"broadcastable to {list(big)}")
    return RuntimeError(f"shapes {list(small)} and {list(big)} cannot be broadcast")


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross entropy of probabilities `input` against `target` (logs clamped at -100, as PyTorch does)."""
    reduction = reduction_name(reduction, size_average, reduce)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    if target._data.dtype != input._data.dtype:
        raise RuntimeError(f"Found dtype {type_name(target)} but expected {type_name(input)}")
    refuse_integer("binary_cross_entropy", input._data.dtype)
    refuse_grad("binary_cross_entropy", "weight", weight)
    x, t = input._data, target._data
    _check_unit_interval(x, "input")
    _check_unit_interval(t, "target")
    w = _expanded_weight(weight, t.shape, x.dtype)
    losses = (t - 1) * np.maximum(np.log1p(-x), -100) - t * np.maximum(np.log(x), -100)
    if w is not None:
        losses = losses * w
    return record(_reduce(losses, reduction), BinaryCrossEntropyBackward0, (input, target), save=(input, target),
                  weight=w, reduction=reduction, count=x.size)


# ----- binary_cross_entropy_with_logits ------------------------------------------------------------------


class BinaryCrossEntropyWithLogitsBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        x, t = self.saved_tensors
        g = _grad_scale(self, g)
        pos = None if self.pos_weight is None else constant(self.pos_weight, x)
        grad_x = grad_t = None
        if needs(self, 0):
            grad_x = sigmoid(x) - t if pos is None else (pos * t + 1 - t) * sigmoid(x) - pos * t
            grad_x = reduce_to(g * grad_x, x)
        if needs(self, 1):
            grad_t = -x if pos is None else (pos - 1) * _softplus_of_negative(x) - x
            grad_t = reduce_to(g * grad_t, t)
        return grad_x, grad_t


def _softplus_of_negative(x: Tensor) -> Tensor:
    """log(1 + exp(-x)) = -log(sigmoid(x)), stable, with the exact derivative -sigmoid(-x) everywhere."""
    negative = x._data < 0
    magnitude = where(negative, -x, x)
    return where(negative, -x, 0.0) + log(1 + exp(-magnitude))


def _logits_loss(x: np.ndarray, t: np.ndarray, pos_weight: np.ndarray | None) -> np.ndarray:
    softplus = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))
    if pos_weight is None:
        return (1 - t) * x + softplus
    return (1 - t) * x + (1 + (pos_weight - 1) * t) * softplus


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid then binary cross entropy, computed stably from logits, with optional `pos_weight`."""
    reduction = reduction_name(reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    refuse_grad("binary_cross_entropy_with_logits", "weight", weight)
    refuse_grad("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
    refuse_integer("log_sigmoid_cpu", input._data.dtype)
    _, _, x, t = operands(input, target)
    if target._data.dtype.kind != "f":
        raise RuntimeError(f"result type {type_name(input)} can't be cast to the desired output type "
                           f"{type_name(target)}")
    pos = None
    if pos_weight is not None:
        pos = pos_weight._data.astype(x.dtype, copy=False)
        _broadcast_shape(pos.shape, t.shape)
    losses = _logits_loss(x, t, pos)
    w = None
    if weight is not None:
        w = weight._data.astype(x.dtype, copy=False)
        full = _broadcast_shape(losses.shape, w.shape)
        w = np.broadcast_to(w, full)
        losses = losses * w
    return record(_reduce(losses, reduction), BinaryCrossEntropyWithLogitsBackward0, (input, target),
                  save=(input, target), weight=w, pos_weight=pos, reduction=reduction, count=losses.size)


def _broadcast_shape(a: tuple, b: tuple) -> tuple:
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        raise broadcast_error(a, b) from None
