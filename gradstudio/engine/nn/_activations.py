"""`leaky_relu`, `gelu` and `l1_loss`, the activations and loss tutorials reach for beyond the basics.

`leaky_relu` and `gelu` are one node each, named as PyTorch names them; `l1_loss` is composed of engine
ops as PyTorch composes it (`(input - target).abs()` then the reduction), so its graph is PyTorch's.
"""

from __future__ import annotations

import math

import numpy as np

from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.nn._reduction import reduction_name
from gradstudio.engine.ops import pointwise
from gradstudio.engine.ops import reduction as reductions
from gradstudio.engine.ops._core import record
from gradstudio.engine.ops.inplace import apply_inplace
from gradstudio.engine.ops.selection import where

_ERF = np.vectorize(math.erf, otypes=[np.float64])


class LeakyReluBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        (x,) = self.saved_tensors
        return (where(x._data > 0, g, g * self.slope),)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """x where x > 0, else negative_slope * x."""
    if inplace:
        return apply_inplace(input, lambda a: leaky_relu(a, negative_slope))
    data = input._data
    out = np.where(data > 0, data, data * np.asarray(negative_slope, data.dtype)).astype(data.dtype)
    return record(out, LeakyReluBackward0, (input,), save=(input,), slope=negative_slope)


def _gelu_parts(x: np.ndarray, approximate: str) -> tuple[np.ndarray, np.ndarray]:
    """GELU's value and derivative, computed in float64."""
    x = x.astype(np.float64)
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
        t = np.tanh(inner)
        derivative = 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x**2)
        return 0.5 * x * (1 + t), derivative
    cdf = 0.5 * (1 + _ERF(x / math.sqrt(2)))
    return x * cdf, cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


class GeluBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        (x,) = self.saved_tensors
        _, derivative = _gelu_parts(x._data, self.approximate)
        return (g * Tensor._make(derivative.astype(x._data.dtype)),)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """x * Phi(x), or its tanh approximation (first derivatives only)."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    value, _ = _gelu_parts(input._data, approximate)
    return record(value.astype(input._data.dtype), GeluBackward0, (input,), save=(input,), approximate=approximate)


def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None,  # noqa: A002
            reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Mean (or sum, or none) of |input - target|."""
    losses = pointwise.abs(pointwise.sub(input, target))
    how = reduction_name(reduction, size_average, reduce)
    if how == "none":
        return losses
    return reductions.sum(losses) if how == "sum" else reductions.mean(losses)
