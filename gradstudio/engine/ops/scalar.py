"""Arithmetic with a Python number made inside a gradient formula or a loss, recorded as PyTorch records its
Scalar overloads: `MulBackward1`, `DivBackward1`, `AddBackward1`, `SubBackward1` (a number written by the user
is a 0-d tensor operand instead, `MulBackward0`)."""

from __future__ import annotations

import numpy as np

from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.ops._core import record


class MulBackward1(Node):
    def apply(self, g: Tensor) -> tuple:
        return (scale(g, self.other),)


class DivBackward1(Node):
    def apply(self, g: Tensor) -> tuple:
        return (divide(g, self.other),)


def scale(a: Tensor, value: float) -> Tensor:
    """a * value for a Python number, recorded as MulBackward1."""
    return record(np.asarray(a._data * value, dtype=a._data.dtype), MulBackward1, (a,), other=value)


def divide(a: Tensor, value: float) -> Tensor:
    """a / value for a Python number, recorded as DivBackward1."""
    return record(np.asarray(a._data / value, dtype=a._data.dtype), DivBackward1, (a,), other=value)


class AddBackward1(Node):
    def apply(self, g: Tensor) -> tuple:
        return (g,)


def shift(a: Tensor, value: float) -> Tensor:
    """a + value for a Python number, recorded as AddBackward1."""
    return record(np.asarray(a._data + value, dtype=a._data.dtype), AddBackward1, (a,))


class SubBackward1(Node):
    def apply(self, g: Tensor) -> tuple:
        return (g,)


def minus(a: Tensor, value: float) -> Tensor:
    """a - value for a Python number, recorded as SubBackward1."""
    return record(np.asarray(a._data - value, dtype=a._data.dtype), SubBackward1, (a,))
