"""What a tensor's values become outside the engine: Python numbers and lists, numpy arrays, text, and the
Python protocols built on them (`len`, `iter`, `bool`, `float`, `int`, `operator.index`). `Tensor` (`_tensor.py`)
inherits them; they read only its data, `requires_grad` and `grad_fn`."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gradstudio.engine._formatting import format_tensor

SCALAR_CONVERSION_WARNING = (
    "Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
    "Consider using tensor.detach() first. (Triggered internally at "
    "/__w/pytorch/pytorch/torch/csrc/autograd/generated/python_variable_methods.cpp:822.)"
)

_WARNED_ONCE: set[str] = set()


def warn_once(message: str, stacklevel: int = 3) -> None:
    """A UserWarning PyTorch gives once per process (its TORCH_WARN_ONCE)."""
    if message not in _WARNED_ONCE:
        _WARNED_ONCE.add(message)
        warnings.warn(message, UserWarning, stacklevel=stacklevel)


class TensorConversions:
    """`Tensor`'s conversions (a base with no state of its own: the slots are Tensor's)."""

    __slots__ = ()

    def item(self) -> float | int | bool:
        """The single value as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        """Values as (nested) Python lists."""
        return self._data.tolist()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared memory); refused while the tensor requires grad."""
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def __repr__(self) -> str:
        grad_fn = type(self.grad_fn).__name__ if self.grad_fn is not None else None
        return format_tensor(self._data, grad_fn_name=grad_fn, requires_grad=self._requires_grad)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[index] for index in range(self._data.shape[0]))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))

    def __float__(self) -> float:
        if self._requires_grad:
            warn_once(SCALAR_CONVERSION_WARNING)
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.item())

    def __int__(self) -> int:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())
