"""Tensor dtypes and `Size`, printed exactly as PyTorch prints them."""

from __future__ import annotations

import numpy as np


class dtype:  # noqa: N801 - PyTorch's name
    """A tensor element type; wraps the numpy dtype that stores it."""

    __slots__ = ("name", "numpy_dtype", "is_floating_point", "_category")

    def __init__(self, name: str, numpy_dtype: np.dtype, category: int) -> None:
        self.name = name
        self.numpy_dtype = np.dtype(numpy_dtype)
        self.is_floating_point = category == FLOAT_CATEGORY
        self._category = category

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self) -> str:
        return self.name


BOOL_CATEGORY, INT_CATEGORY, FLOAT_CATEGORY = 0, 1, 2

float32 = dtype("float32", np.float32, FLOAT_CATEGORY)
float64 = dtype("float64", np.float64, FLOAT_CATEGORY)
int64 = dtype("int64", np.int64, INT_CATEGORY)
int32 = dtype("int32", np.int32, INT_CATEGORY)
bool_ = dtype("bool", np.bool_, BOOL_CATEGORY)

_BY_NUMPY = {d.numpy_dtype: d for d in (float32, float64, int64, int32, bool_)}


def from_numpy_dtype(numpy_dtype: np.dtype) -> dtype:
    """The engine dtype that stores values of `numpy_dtype`."""
    try:
        return _BY_NUMPY[numpy_dtype]
    except KeyError:
        raise TypeError(f"can't convert np.ndarray of type numpy.{numpy_dtype}. The only supported types are: "
                        "float64, float32, int64, int32, and bool.") from None


def category_of(numpy_dtype: np.dtype) -> int:
    """Bool < int < float: the order PyTorch's type promotion follows."""
    kind = numpy_dtype.kind
    return FLOAT_CATEGORY if kind == "f" else BOOL_CATEGORY if kind == "b" else INT_CATEGORY


_LEGACY_NAMES = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "bool": "Bool"}


def legacy_type_name(numpy_dtype: np.dtype) -> str:
    """PyTorch's old-style type name used in some messages, e.g. `torch.FloatTensor`."""
    return f"torch.{_LEGACY_NAMES[from_numpy_dtype(numpy_dtype).name]}Tensor"


DEFAULT_FLOAT = np.dtype(np.float32)
DEFAULT_INT = np.dtype(np.int64)


class Size(tuple):
    """A tensor's shape: a tuple that prints as `torch.Size([2, 3])`."""

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def numel(self) -> int:
        """Number of elements a tensor of this shape holds."""
        count = 1
        for extent in self:
            count *= extent
        return count
