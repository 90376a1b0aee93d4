"""Regression losses beyond mse (`l1_loss smooth_l1_loss huber_loss`) and `kl_div`: the two with a PyTorch node
of their own get one (rules for input and target, written with engine ops); l1 and kl_div are composites, as in
PyTorch."""

from __future__ import annotations

import warnings

import numpy as np

from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.nn._elementwise import _broadcast_pair, _reduce, in_dtype_of
from gradstudio.engine.nn._reduction import reduction_name, refuse_integer
from gradstudio.engine.ops._core import needs, operands, record, reduce_to
from gradstudio.engine.ops.fused import fused, recording
from gradstudio.engine.ops.pointwise import abs as abs_
from gradstudio.engine.ops.pointwise import exp, log
from gradstudio.engine.ops.reduction import mean
from gradstudio.engine.ops.reduction import sum as sum_
from gradstudio.engine.ops.selection import where

_TYPE_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "bool": "Bool"}


def _warn_size(input: Tensor, target: Tensor) -> None:  # noqa: A002
    if target.shape != input.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      "same size.", UserWarning, stacklevel=3)


def _reduced(losses: Tensor, reduction: str) -> Tensor:
    return losses if reduction == "none" else sum_(losses) if reduction == "sum" else mean(losses)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,  # noqa: A002
            reduction: str = "mean") -> Tensor:
    """Mean (or sum, or elementwise) absolute error."""
    _warn_size(input, target)
    reduction = reduction_name(reduction, size_average, reduce)
    a, b = _broadcast_pair(input, target)
    return _reduced(abs_(a - b), reduction)


class _PiecewiseLoss(Node):
    """Shared rule of smooth_l1 and huber: quadratic inside `width`, linear outside."""

    def apply(self, g: Tensor) -> tuple:
        a, b = self.saved_tensors
        if self.refused_target is not None:  # PyTorch's huber backward refuses a target of another dtype
            raise RuntimeError(f"Found dtype {self.refused_target} but expected {_TYPE_NAMES[a._data.dtype.name]}")
        name = type(self).__name__.replace("Backward0", "BackwardBackward0")
        if recording(g, a, b):  # one SmoothL1LossBackwardBackward0 (or Huber...) per input, as in PyTorch
            grad_a = fused(name, self._rule, g, a, b) if needs(self, 0) else None
            grad_b = fused(name, self._rule, g, b, a) if needs(self, 1) else None
        else:
            grad_a = self._rule(g, a, b)
            grad_b = -grad_a
        return (reduce_to(grad_a, a) if needs(self, 0) else None, reduce_to(grad_b, b) if needs(self, 1) else None)

    def _rule(self, g: Tensor, a: Tensor, b: Tensor) -> Tensor:
        a, b = in_dtype_of(g, a), in_dtype_of(g, b)
        diff = a - b
        inside = np.abs(diff._data) < self.width
        sign = Tensor._make(np.sign(diff._data).astype(g._data.dtype))
        grad = g * where(inside, diff * self.inner_scale, sign * self.outer_scale)
        return grad / self.count if self.reduction == "mean" else grad


class SmoothL1LossBackward0(_PiecewiseLoss):
    pass


class HuberLossBackward0(_PiecewiseLoss):
    pass


def _piecewise(input: Tensor, target: Tensor, reduction: str, width: float, huber: bool) -> Tensor:  # noqa: A002
    _warn_size(input, target)
    reduction = reduction_name(reduction)
    a, b = _broadcast_pair(input, target)
    a, b, ad, bd = operands(a, b)
    refuse_integer("huber_cpu" if huber else "smooth_l1_cpu", ad.dtype)
    if huber and ad.dtype != input._data.dtype:  # huber_loss computes in, and returns, the input's dtype
        if input._data.dtype.kind != "f":
            raise RuntimeError(f"result type {_TYPE_NAMES[ad.dtype.name]} can't be cast to the desired output type "
                               f"{_TYPE_NAMES[input._data.dtype.name]}")
        ad, bd = ad.astype(input._data.dtype), bd.astype(input._data.dtype)
    refused = _TYPE_NAMES[target._data.dtype.name] if huber and target._data.dtype != input._data.dtype else None
    distance = np.abs(ad - bd)
    if huber:
        losses = np.where(distance < width, 0.5 * distance * distance, width * (distance - 0.5 * width))
        node, inner, outer = HuberLossBackward0, 1.0, width
    else:
        losses = np.where(distance < width, 0.5 * distance * distance / width, distance - 0.5 * width)
        node, inner, outer = SmoothL1LossBackward0, 1.0 / width, 1.0
    return record(_reduce(losses.astype(ad.dtype), reduction), node, (a, b), save=(a, b), reduction=reduction,
                  count=losses.size, width=width, inner_scale=inner, outer_scale=outer, refused_target=refused)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,  # noqa: A002
                   reduce: bool | None = None, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target), reduced."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    reduction = reduction_name(reduction, size_average, reduce)
    if beta == 0.0:
        return l1_loss(input, target, reduction=reduction)
    return _piecewise(input, target, reduction, beta, huber=False)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:  # noqa: A002
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta) (d = input - target), reduced."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    return _piecewise(input, target, reduction, delta, huber=True)


_MEAN_WARNING = ("reduction: 'mean' divides the total loss by both the batch size and the support size."
                 "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                 "'mean' will be changed to behave the same as 'batchmean' in the next major release.")


def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,  # noqa: A002
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL divergence of `target` from the log-probabilities `input` (target as probabilities, or logs)."""
    if size_average is not None or reduce is not None:
        reduction = reduction_name(reduction, size_average, reduce)
    elif reduction == "mean":  # warned before the dtype check, as PyTorch does
        warnings.warn(_MEAN_WARNING, UserWarning, stacklevel=2)
    if input._data.dtype.kind != "f" or target._data.dtype.kind != "f":
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if reduction not in ("none", "mean", "sum", "batchmean"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        losses = exp(target) * (target - input)
    elif target._requires_grad:
        losses = where(target._data == 0, 0.0, target * log(target)) - target * input
    else:
        t = target._data
        entropy = np.where(t == 0, 0, t * np.log(np.where(t == 0, 1, t))).astype(t.dtype)
        losses = Tensor._make(entropy) - target * input
    if reduction == "batchmean":
        total = sum_(losses)
        return total / input._data.shape[0] if input._data.ndim else total
    return _reduced(losses, reduction)
