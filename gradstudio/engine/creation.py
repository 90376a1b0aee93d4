"""Tensor creation: `tensor ones zeros full *_like arange linspace eye` (the seeded random draws: draws.py)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gradstudio.engine import _arguments, _dtype
from gradstudio.engine._tensor import Tensor


def _sizes(name: str, size: tuple, check: bool = True, varargs: bool = True, keyword: bool = False
           ) -> tuple[int, ...]:
    if varargs and not keyword and len(size) == 1 and type(size[0]) is int and size[0] >= 0:
        return size  # the common `ones(3)`: already the answer
    sizes = _arguments.sizes(name, size, varargs=varargs, keyword=keyword)
    for extent in sizes:
        if check and extent < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {extent}: {list(sizes)}")
    return sizes


def _finish(array: np.ndarray, dtype: Any, requires_grad: bool) -> Tensor:
    if dtype is not None:
        array = array.astype(dtype.numpy_dtype, copy=False)
    if requires_grad:
        check_can_require_grad_created(array.dtype)
    return Tensor._make(array, requires_grad)


def check_can_require_grad_created(numpy_dtype: np.dtype) -> None:
    """At creation PyTorch words the dtype error slightly differently from `requires_grad_()`."""
    if numpy_dtype.kind != "f":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")


_empty = np.empty  # one global read in the constructors a tiny graph starts with
_FLOAT32 = _dtype.DEFAULT_FLOAT
_MISSING = object()  # an argument not given (None is a value some of them refuse with their own message)
_PYTHON_DTYPES = {bool: np.dtype(np.bool_), int: _dtype.DEFAULT_INT, float: _dtype.DEFAULT_FLOAT}


def _infer_dtype(data: Any) -> np.dtype:
    """As torch.tensor infers: Python floats give float32, ints int64, bools bool; numpy scalars and arrays
    and tensors keep their dtype; a sequence promotes its items' dtypes."""
    from gradstudio.engine.ops._promotion import promote_all

    python = _PYTHON_DTYPES.get(type(data))
    if python is not None:
        return python
    if isinstance(data, Tensor):
        return data._data.dtype
    if isinstance(data, (np.ndarray, np.generic)):
        return data.dtype
    if isinstance(data, (list, tuple)):
        kinds = {type(item) for item in data}
        if kinds and kinds <= _PYTHON_DTYPES.keys():  # the common case: a flat list of Python numbers
            return promote_all(_PYTHON_DTYPES[kind] for kind in kinds)
        return promote_all([_infer_dtype(item) for item in data]) if data else _dtype.DEFAULT_FLOAT
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if not isinstance(data, (int, float, complex)) and not hasattr(data, "__array__") and not hasattr(data, "__len__"):
        raise RuntimeError(f"Could not infer dtype of {_arguments.type_name(data)}")
    return np.asarray(data).dtype


COPY_CONSTRUCT_WARNING = (
    "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
    "sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor)."
)


def tensor(data: Any = _MISSING, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of `data` (numbers, nested lists, arrays or tensors)."""
    if data is _MISSING:
        raise TypeError('tensor() missing 1 required positional arguments: "data"')
    _arguments.check_dtype("tensor", dtype)
    if isinstance(data, Tensor):
        warnings.warn(COPY_CONSTRUCT_WARNING, UserWarning, stacklevel=2)
        return _finish(np.array(data._data, dtype=dtype.numpy_dtype if dtype is not None else None), None,
                       requires_grad)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) and x._data.size != 1 for x in data):
        raise ValueError("only one element tensors can be converted to Python scalars")
    try:
        array = _array(data, dtype)
    except (ValueError, TypeError) as error:
        array = _refused(data, dtype, error)
    if array.dtype.kind not in "fiub":
        array = _refused(data, dtype, None)
    return _finish(array, None, requires_grad)


def _refused(data: Any, dtype: Any, error: Exception | None) -> np.ndarray:
    """PyTorch's error for data numpy could not hold as numbers (a string, None, a dict, a ragged list), or the
    empty tensor PyTorch makes of rows of which the first is empty (`[[], [1]]`)."""
    shape = _arguments.refuse_data(data, None if dtype is None else dtype.numpy_dtype)
    if all(shape):
        raise error or RuntimeError(f"Could not infer dtype of {_arguments.type_name(data)}")
    return np.zeros(shape, _dtype.DEFAULT_FLOAT if dtype is None else dtype.numpy_dtype)


def _array(data: Any, dtype: Any) -> np.ndarray:
    numpy_dtype = dtype.numpy_dtype if dtype is not None else _infer_dtype(data)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in np.ravel(np.asarray(data, object))):
        data = np.asarray([x.item() if isinstance(x, Tensor) else x for x in np.ravel(np.asarray(data, object))]
                          ).reshape(np.shape(np.asarray(data, object)))
    return np.array(data, dtype=numpy_dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a numpy array."""
    _dtype.from_numpy_dtype(array.dtype)
    return Tensor._make(array)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """Tensor input returned as is; anything else converted like `tensor`."""
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype is dtype else data.to(dtype)
    return tensor(data, dtype=dtype)


def _float_dtype(dtype: Any) -> np.dtype:
    return dtype.numpy_dtype if dtype is not None else _dtype.DEFAULT_FLOAT


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None, **keywords: Any) -> Tensor:
    """A tensor of ones (`size=` also accepted)."""
    if not keywords and dtype is None and (requires_grad is False or requires_grad is True) \
            and (shape := _plain_shape(size)) is not None:  # the common call: float32, nothing to check
        array = _empty(shape, _FLOAT32)
        array.fill(1)  # np.ones's own two steps (empty, then one fill) without its Python-level wrapper
        return Tensor._make(array, requires_grad)
    shape = _shape_argument("ones", size, keywords, dtype)
    return _finish(np.ones(shape, _float_dtype(dtype)), None, _requires_grad("ones", requires_grad))


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None, **keywords: Any) -> Tensor:
    """A tensor of zeros (`size=` also accepted)."""
    shape = (_plain_shape(size) if not keywords and dtype is None else None) or _shape_argument(
        "zeros", size, keywords, dtype, check=False)
    if any(extent < 0 for extent in shape):
        raise RuntimeError("zeros: Dimension size must be non-negative.")  # PyTorch's own wording for zeros
    return _finish(np.zeros(shape, _float_dtype(dtype)), None, _requires_grad("zeros", requires_grad))


def _requires_grad(name: str, requires_grad: Any) -> bool:
    """`requires_grad=` as PyTorch's parser reads it: a bool, or None for the default."""
    if requires_grad is not None and type(requires_grad) is not bool:
        raise TypeError(f"{name}(): argument 'requires_grad' must be bool, not {_arguments.type_name(requires_grad)}")
    return bool(requires_grad)


def full(size: Any, fill_value: Any = _MISSING, *, dtype: Any = None, requires_grad: bool = False,
         device: Any = None) -> Tensor:
    """A tensor filled with `fill_value` (its dtype follows the value unless given)."""
    if fill_value is _MISSING:
        raise TypeError('full() missing 1 required positional arguments: "fill_value"')
    _arguments.check_dtype("full", dtype)
    shape = _sizes("full", (size,), varargs=False)
    _arguments.check_number("full", "fill_value", 2, fill_value)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    # a fill value is a Scalar to PyTorch: a numpy float64 fills the default float dtype
    numpy_dtype = dtype.numpy_dtype if dtype is not None else _infer_dtype(
        fill_value.item() if isinstance(fill_value, np.generic) else fill_value)
    return _finish(np.full(shape, fill_value, numpy_dtype), None, requires_grad)


def _like(a: Tensor, dtype: Any) -> np.dtype:
    return dtype.numpy_dtype if dtype is not None else a._data.dtype


def ones_like(a: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with `a`'s shape and dtype."""
    _arguments.check_tensor("ones_like", a)
    return _finish(np.ones(a._data.shape, _like(a, dtype)), None, requires_grad)


def zeros_like(a: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with `a`'s shape and dtype."""
    _arguments.check_tensor("zeros_like", a)
    return _finish(np.zeros(a._data.shape, _like(a, dtype)), None, requires_grad)


def full_like(a: Tensor, fill_value: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """`fill_value` with `a`'s shape and dtype."""
    _arguments.check_tensor("full_like", a)
    return _finish(np.full(a._data.shape, fill_value, _like(a, dtype)), None, requires_grad)


def _shape_argument(name: str, size: tuple, keywords: dict[str, Any], dtype: Any, check: bool = True
                    ) -> tuple[int, ...]:
    """The sizes given positionally or as `size=` (PyTorch accepts either, not both), checked as PyTorch does."""
    _arguments.check_dtype(name, dtype)
    if not keywords:
        return _sizes(name, size, check=check)
    if set(keywords) != {"size"} or size:
        unexpected = next(iter(set(keywords) - {"size"}), None)
        if unexpected is None:  # `size=` as well as positional sizes
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        raise TypeError(f"{name}() got an unexpected keyword argument '{unexpected}'")
    return _sizes(name, (keywords["size"],), varargs=False, keyword=True, check=check)


def _plain_shape(size: tuple) -> tuple[int, ...] | None:
    """The shape of the common call's sizes (non-negative ints, or one tuple of them: `randn(2, 2)`, `ones((3,))`),
    decided without the general parsing; None sends any other size through it (as the callers send a dtype,
    generator or keyword), so every refusal keeps PyTorch's message."""
    if len(size) == 1:
        first = size[0]
        if type(first) is int:  # `ones(3)`: decided at once
            return size if first >= 0 else None
        if type(first) is not tuple:
            return None
        size = first
    for extent in size:
        if type(extent) is not int or extent < 0:
            return None
    return size if size else None  # `randn()` (refused) and `randn(())` (a 0-d tensor) take the general path


def arange(start: Any = _MISSING, end: Any = None, step: Any = 1, *, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Values from start (default 0) up to end, exclusive; integers unless any argument is a float."""
    if start is _MISSING:
        raise _arguments.invalid_combination("arange", ())
    given = (start,) if end is None else (start, end) if step == 1 else (start, end, step)
    if not all(_arguments.is_number(value) for value in given):
        if len(given) == 1:
            _arguments.check_number("arange", "end", 1, start)
        raise _arguments.invalid_combination("arange", given)
    if end is None:
        start, end = 0, start
    floating = any(isinstance(v, float) for v in (start, end, step))
    numpy_dtype = dtype.numpy_dtype if dtype is not None else (_dtype.DEFAULT_FLOAT if floating
                                                               else _dtype.DEFAULT_INT)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    count = max(int(np.ceil((end - start) / step)), 0)
    array = (start + step * np.arange(count, dtype=np.float64)).astype(numpy_dtype)
    return _finish(array, None, requires_grad)


def linspace(start: float, end: float, steps: Any = _MISSING, *, dtype: Any = None,
             requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from start to end, inclusive."""
    given = (start, end) if steps is _MISSING else (start, end, steps)
    if len(given) < 3 or not all(_arguments.is_number(value) for value in given) \
            or not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        raise _arguments.invalid_combination("linspace", given)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    numpy_dtype = _float_dtype(dtype)
    if numpy_dtype == np.float32:  # PyTorch's float32 kernel: a float32 step, each value one fused multiply-add
        start, end = np.float64(np.float32(start)), np.float64(np.float32(end))
        step = np.float64((np.float32(end) - np.float32(start)) / np.float32(max(steps - 1, 1)))
    else:
        step = (end - start) / (steps - 1) if steps > 1 else 0.0
    index = np.arange(steps, dtype=np.float64)
    halfway = steps // 2
    # float64 products of float32 values are exact, so one rounding to float32 below is the fused result
    values = np.where(index < halfway, start + step * index, end - step * (steps - 1 - index))
    if steps == 1:
        values[:] = start
    return _finish(values.astype(numpy_dtype), None, requires_grad)


def eye(n: Any = _MISSING, m: int | None = None, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Identity matrix (n x m)."""
    if n is _MISSING:
        raise _arguments.invalid_combination("eye", ())
    if m is None:
        _arguments.check_int("eye", "n", 1, n)
    elif not all(isinstance(extent, (int, np.integer)) and not isinstance(extent, bool) for extent in (n, m)):
        raise _arguments.invalid_combination("eye", (n, m))
    for label, extent in (("n", n), ("m", m)):
        if extent is not None and extent < 0:
            raise RuntimeError(f"{label} must be greater or equal to 0, got {extent}")
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), None, requires_grad)
