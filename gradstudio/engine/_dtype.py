"""Tensor dtypes and `Size`, printed exactly as PyTorch prints them."""

from __future__ import annotations

import operator
from typing import Any

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


C_TYPE_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int", "bool": "bool"}


def check_assigned_grad_dtype(tensor_dtype: np.dtype, grad_dtype: np.dtype) -> None:
    """PyTorch's refusal of a `.grad` whose dtype differs from the tensor's."""
    if grad_dtype != tensor_dtype:
        got = C_TYPE_NAMES[from_numpy_dtype(grad_dtype).name]
        expected = _LEGACY_NAMES[from_numpy_dtype(tensor_dtype).name]
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{got}' to a tensor with grad_dtype '{expected}'. The "
            "gradient must match the tensor's grad_dtype (defaults to the tensor's dtype). You can set the tensor's "
            "grad_dtype attribute with a specific dtype, or None to allow any dtype. Set grad_dtype with caution. "
            "Diverging the dtypes of a tensor and its gradient may break downstream systems that assume they match.")


DEFAULT_FLOAT = np.dtype(np.float32)
DEFAULT_INT = np.dtype(np.int64)


class Size(tuple):
    """A tensor's shape: a tuple that prints as `torch.Size([2, 3])`."""

    def __new__(cls, sizes: Any = ()) -> Size:
        extents = []
        for index, extent in enumerate(sizes):
            try:
                extents.append(operator.index(extent))
            except TypeError:
                raise TypeError(f"torch.Size() takes an iterable of 'int' (item {index} is "
                                f"'{type(extent).__name__}')") from None
        return tuple.__new__(cls, extents)

    @classmethod
    def _of(cls, shape: tuple) -> Size:
        """A numpy shape (already valid ints) as a Size, without the checks."""
        return tuple.__new__(cls, shape)

    def __getitem__(self, index: Any) -> Any:
        item = tuple.__getitem__(self, index)
        return tuple.__new__(Size, item) if isinstance(index, slice) else item

    def __add__(self, other: Any) -> Size:
        if not isinstance(other, tuple):
            raise TypeError(f"can only concatenate tuple (not {type(other).__name__}) to torch.Size")
        return tuple.__new__(Size, tuple.__add__(self, other))

    def __radd__(self, other: Any) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        return tuple.__new__(Size, other + tuple(self))

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def numel(self) -> int:
        """Number of elements a tensor of this shape holds."""
        count = 1
        for extent in self:
            count *= extent
        return count


_DEVICE_TYPES = ("cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, xla, lazy, vulkan, mps, "
                 "meta, hpu, mtia, privateuseone")


class device:  # noqa: N801 - PyTorch's name
    """Where a tensor lives (always the CPU here): `device(type='cpu')`, with `.type` and `.index`."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002 - PyTorch's name
        if isinstance(type, device):
            type, index = type.type, type.index
        kind, _, number = str(type).partition(":")
        if kind not in _DEVICE_TYPES.split(", "):
            raise RuntimeError(f"Expected one of {_DEVICE_TYPES} device type at start of device string: {type}")
        self.type = kind
        self.index = int(number) if number else index

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")
