"""Activations of `torch.nn.functional` beyond relu (`leaky_relu gelu silu elu softplus`), `normalize`, `dropout`,
`one_hot`, and `erf` (which gelu's gradient is written with). One node per op, rules written with engine ops."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradstudio.engine import draws
from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.ops._core import float_data, record
from gradstudio.engine.ops.fused import fused
from gradstudio.engine.ops.inplace import apply_inplace
from gradstudio.engine.ops.pointwise import exp, sigmoid, tanh
from gradstudio.engine.ops.selection import where

_ERF = np.vectorize(math.erf, otypes=[np.float64])
_SQRT_HALF = math.sqrt(0.5)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_TWO_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def _floating(name: str, a: Tensor) -> np.ndarray:
    if a._data.dtype.kind != "f":
        raise NotImplementedError(f'"{name}" not implemented for \'{"Long" if a._data.dtype.kind == "i" else "Bool"}\'')
    return a._data


class ErfBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        (a,) = self.saved_tensors
        return (g * exp(-(a * a)) * _TWO_OVER_SQRT_PI,)


def erf(a: Tensor) -> Tensor:
    """The error function, elementwise."""
    data = float_data(a._data)
    return record(_ERF(data).astype(data.dtype), ErfBackward0, (a,), save=(a,))


class LeakyReluBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        (a,) = self.saved_tensors
        return (fused("LeakyReluBackwardBackward0", self._rule, g, a),)

    def _rule(self, g: Tensor, a: Tensor) -> Tensor:
        return g * Tensor._make(np.where(a._data > 0, 1.0, self.slope).astype(g._data.dtype))


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """x where x > 0, else negative_slope * x."""
    if inplace:
        return apply_inplace(input, lambda a: leaky_relu(a, negative_slope))
    data = _floating("leaky_relu_cpu", input)
    out = np.where(data > 0, data, data * np.asarray(negative_slope, data.dtype))
    return record(out, LeakyReluBackward0, (input,), save=(input,), slope=negative_slope)


class GeluBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        (a,) = self.saved_tensors
        return (fused("GeluBackwardBackward0", self._rule, g, a),)

    def _rule(self, g: Tensor, a: Tensor) -> Tensor:
        if self.approximate == "tanh":
            t = tanh((a + a * a * a * _GELU_CUBIC) * _SQRT_TWO_OVER_PI)
            inner = (a * a * (3 * _GELU_CUBIC) + 1.0) * _SQRT_TWO_OVER_PI
            return g * ((t + 1.0) * 0.5 + a * 0.5 * (1.0 - t * t) * inner)
        cdf = (erf(a * _SQRT_HALF) + 1.0) * 0.5
        pdf = exp(a * a * -0.5) * (1.0 / math.sqrt(2.0 * math.pi))
        return g * (cdf + a * pdf)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002
    """x * Phi(x) (Phi the standard normal CDF), or its tanh approximation."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    data = _floating("GeluKernelImpl", input)
    wide = data.astype(np.float64)
    if approximate == "tanh":
        out = 0.5 * wide * (1.0 + np.tanh(_SQRT_TWO_OVER_PI * (wide + _GELU_CUBIC * wide ** 3)))
    else:  # PyTorch's exact kernel gives nan at +inf too
        out = np.where(np.isposinf(wide), np.nan, 0.5 * wide * (1.0 + _ERF(wide * _SQRT_HALF)))
    return record(out.astype(data.dtype), GeluBackward0, (input,), save=(input,), approximate=approximate)


class SiluBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        (a,) = self.saved_tensors
        s = sigmoid(a)
        return (g * s * (a * (1.0 - s) + 1.0),)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * sigmoid(x)."""
    data = _floating("silu_cpu", input)
    wide = data.astype(np.float64)
    return record((wide / (1.0 + np.exp(-wide))).astype(data.dtype), SiluBackward0, (input,), save=(input,))


class EluBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        (a,) = self.saved_tensors
        return (fused("EluBackwardBackward0", self._rule, g, a),)

    def _rule(self, g: Tensor, a: Tensor) -> Tensor:
        return g * where(a._data > 0, 1.0, exp(a) * self.alpha)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x where x > 0, else alpha * (exp(x) - 1)."""
    data = _floating("elu_cpu", input)
    out = np.where(data > 0, data, (alpha * np.expm1(data.astype(np.float64))).astype(data.dtype))
    return record(out, EluBackward0, (input,), save=(input,), alpha=alpha)


class SoftplusBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        (a,) = self.saved_tensors
        return (fused("SoftplusBackwardBackward0", self._rule, g, a),)

    def _rule(self, g: Tensor, a: Tensor) -> Tensor:
        scaled = a._data * self.beta
        # PyTorch's double backward masks with `<` where the forward uses `>`: at the threshold itself the slope
        # is a constant to second order
        slope = where(scaled == self.threshold, Tensor._make(1 / (1 + np.exp(-scaled))), sigmoid(a * self.beta))
        return g * where(scaled > self.threshold, 1.0, slope)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """log(1 + exp(beta * x)) / beta, linear where beta * x > threshold."""
    data = _floating("softplus_cpu", input)
    wide = data.astype(np.float64) * beta
    out = np.where(wide > threshold, data, np.logaddexp(0.0, wide) / beta)
    return record(out.astype(data.dtype), SoftplusBackward0, (input,), save=(input,), beta=beta, threshold=threshold)


# ----- normalize, dropout, one_hot -------------------------------------------------------------------------


class ClampMinBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        (a,) = self.saved_tensors
        return (g * Tensor._make((a._data >= self.low).astype(g._data.dtype)),)


def clamp_min(a: Tensor, low: float) -> Tensor:
    """max(a, low) elementwise (PyTorch's clamp_min)."""
    return record(np.maximum(a._data, np.asarray(low, a._data.dtype)), ClampMinBackward0, (a,), save=(a,), low=low)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Any = None) -> Tensor:  # noqa: A002
    """input / max(||input||_p along dim, eps)."""
    from gradstudio.engine.ops.ordering import norm
    from gradstudio.engine.ops.tiling import expand_as

    denominator = expand_as(clamp_min(norm(input, p, dim, keepdim=True), eps), input)
    return input / denominator


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,  # noqa: A002
            *, generator: Any = None) -> Tensor:
    """Zero each element with probability p and scale the rest by 1 / (1 - p), when training.

    As PyTorch's CPU dropout: a noise tensor laid out like `input` filled by `bernoulli_(1 - p)`, divided by
    1 - p, then multiplied in, so `torch.manual_seed(s)` gives PyTorch's mask bit for bit.
    """
    from gradstudio.engine.ops.inplace import mul_

    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0 or not input._data.size:
        return input
    if p == 1.0:
        noise = Tensor._make(np.zeros((), input._data.dtype))
    else:
        noise = draws.bernoulli_(Tensor._make(np.empty_like(input._data)), 1.0 - p, generator=generator)
        noise = Tensor._make(noise._data / noise._data.dtype.type(1.0 - p))
    return mul_(input, noise) if inplace else input * noise


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices as rows of zeros with a one at each index (int64)."""
    if tensor._data.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    data = tensor._data
    if data.size and data.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(data.max()) + 1 if data.size else 0
    elif data.size and data.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor._make((data[..., None] == np.arange(num_classes)).astype(np.int64))
