"""Tensor creation: `tensor ones zeros full *_like rand randn arange linspace eye manual_seed`."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gradstudio.engine import _dtype
from gradstudio.engine._tensor import Tensor

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the engine's random generator (values differ from PyTorch's; the distributions match)."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def _sizes(size: tuple, check: bool = True) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    sizes = tuple(int(s) for s in size)
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


_PYTHON_DTYPES = {bool: np.dtype(np.bool_), int: _dtype.DEFAULT_INT, float: _dtype.DEFAULT_FLOAT}


def _infer_dtype(data: Any) -> np.dtype:
    """As torch.tensor infers: Python floats give float32, ints int64, bools bool; numpy scalars and arrays
    and tensors keep their dtype; a sequence promotes its items' dtypes."""
    from gradstudio.engine.ops._core import promote_all

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
    return np.asarray(data).dtype


COPY_CONSTRUCT_WARNING = (
    "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
    "sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor)."
)


def tensor(data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new leaf tensor holding a copy of `data` (numbers, nested lists, arrays or tensors)."""
    numpy_dtype = dtype.numpy_dtype if dtype is not None else _infer_dtype(data)
    if isinstance(data, Tensor):
        warnings.warn(COPY_CONSTRUCT_WARNING, UserWarning, stacklevel=2)
        data = data._data
    elif isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in np.ravel(np.asarray(data, object))):
        data = np.asarray([x.item() if isinstance(x, Tensor) else x for x in np.ravel(np.asarray(data, object))]
                          ).reshape(np.shape(np.asarray(data, object)))
    array = np.array(data, dtype=numpy_dtype)
    return _finish(array, None, requires_grad)


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


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of ones."""
    return _finish(np.ones(_sizes(size), _float_dtype(dtype)), None, requires_grad)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of zeros."""
    if any(extent < 0 for extent in _sizes(size, check=False)):
        raise RuntimeError("zeros: Dimension size must be non-negative.")  # PyTorch's own wording for zeros
    return _finish(np.zeros(_sizes(size), _float_dtype(dtype)), None, requires_grad)


def full(size: Any, fill_value: Any, *, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor filled with `fill_value` (its dtype follows the value unless given)."""
    # a fill value is a Scalar to PyTorch: a numpy float64 fills the default float dtype
    numpy_dtype = dtype.numpy_dtype if dtype is not None else _infer_dtype(
        fill_value.item() if isinstance(fill_value, np.generic) else fill_value)
    return _finish(np.full(_sizes((size,)), fill_value, numpy_dtype), None, requires_grad)


def _like(a: Tensor, dtype: Any) -> np.dtype:
    return dtype.numpy_dtype if dtype is not None else a._data.dtype


def ones_like(a: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with `a`'s shape and dtype."""
    return _finish(np.ones(a._data.shape, _like(a, dtype)), None, requires_grad)


def zeros_like(a: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with `a`'s shape and dtype."""
    return _finish(np.zeros(a._data.shape, _like(a, dtype)), None, requires_grad)


def full_like(a: Tensor, fill_value: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """`fill_value` with `a`'s shape and dtype."""
    return _finish(np.full(a._data.shape, fill_value, _like(a, dtype)), None, requires_grad)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False, generator: Any = None) -> Tensor:
    """Uniform samples in [0, 1)."""
    rng = generator or _generator
    return _finish(rng.random(_sizes(size)).astype(_float_dtype(dtype)), None, requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False, generator: Any = None) -> Tensor:
    """Standard normal samples."""
    rng = generator or _generator
    return _finish(rng.standard_normal(_sizes(size)).astype(_float_dtype(dtype)), None, requires_grad)


def rand_like(a: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples with `a`'s shape."""
    return rand(*a._data.shape, dtype=dtype or a.dtype, requires_grad=requires_grad)


def randn_like(a: Tensor, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Normal samples with `a`'s shape."""
    return randn(*a._data.shape, dtype=dtype or a.dtype, requires_grad=requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Values from start (default 0) up to end, exclusive; integers unless any argument is a float."""
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


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from start to end, inclusive."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    step = (end - start) / (steps - 1) if steps > 1 else 0.0
    index = np.arange(steps, dtype=np.float64)
    halfway = steps // 2
    values = np.where(index < halfway, start + step * index, end - step * (steps - 1 - index))
    if steps == 1:
        values[:] = start
    return _finish(values.astype(_float_dtype(dtype)), None, requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Identity matrix (n x m)."""
    for label, extent in (("n", n), ("m", m)):
        if extent is not None and extent < 0:
            raise RuntimeError(f"{label} must be greater or equal to 0, got {extent}")
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), None, requires_grad)
