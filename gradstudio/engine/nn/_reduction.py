"""What the losses share: reduction names, the legacy `size_average`/`reduce` arguments, small constant nodes.

PyTorch records masking made inside a loss as `MaskedFillBackward0`, as the helpers
here do (arithmetic with a Python number is in `ops/scalar.py`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gradstudio.engine import _dtype, grad_mode
from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.ops._core import record

REDUCTIONS = ("none", "mean", "sum")


def reduction_name(reduction: str, size_average: bool | None = None, reduce: bool | None = None) -> str:
    """The reduction to apply, from `reduction` or (with PyTorch's warning) the legacy flags."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' "
                      "instead.", UserWarning, stacklevel=3)
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def type_name(tensor: Tensor) -> str:
    """The short type name PyTorch's loss messages use (`Float`, `Double`, `Long`)."""
    return _dtype.legacy_type_name(tensor._data.dtype)[6:-6]


def refuse_integer(kernel: str, numpy_dtype: np.dtype) -> None:
    """PyTorch's NotImplementedError for a loss kernel asked to work in an integer or bool dtype."""
    if numpy_dtype.kind != "f":
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.legacy_type_name(numpy_dtype)[6:-6]}\'')


def refuse_grad(function: str, argument: str, tensor: Tensor | None) -> None:
    """PyTorch's error for a gradient-requiring argument the loss cannot differentiate."""
    if tensor is not None and tensor._requires_grad and grad_mode.STATE.enabled:
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to argument "
                           f"'{argument}'. This input cannot have requires_grad True.")


class MaskedFillBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (masked_zero(g, self.mask),)


def masked_zero(a: Tensor, mask: np.ndarray) -> Tensor:
    """`a.masked_fill(mask, 0.0)`: zeros where `mask` holds."""
    return record(np.where(mask, np.zeros((), a._data.dtype), a._data), MaskedFillBackward0, (a,), mask=mask)


def constant(array: Any, like: Tensor) -> Tensor:
    """A gradient-free tensor holding `array` in `like`'s dtype."""
    return Tensor._make(np.asarray(array, dtype=like._data.dtype))
