"""Tensor creation: `tensor ones zeros full *_like arange linspace eye`, and the seeded random draws."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from gradstudio.engine import _arguments, _dtype
from gradstudio.engine import random as _random
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.random import Generator, resolve


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
    shape = _plain_shape(size) if not keywords and dtype is None else None
    array = _empty(shape or _shape_argument("ones", size, keywords, dtype), _float_dtype(dtype))
    array.fill(1)  # np.ones's own two steps (empty, then one fill) without its Python-level wrapper
    return _finish(array, None, requires_grad)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None, **keywords: Any) -> Tensor:
    """A tensor of zeros (`size=` also accepted)."""
    shape = (_plain_shape(size) if not keywords and dtype is None else None) or _shape_argument(
        "zeros", size, keywords, dtype, check=False)
    if any(extent < 0 for extent in shape):
        raise RuntimeError("zeros: Dimension size must be non-negative.")  # PyTorch's own wording for zeros
    return _finish(np.zeros(shape, _float_dtype(dtype)), None, requires_grad)


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


def _drawn(values: np.ndarray, requires_grad: bool) -> Tensor:
    return _finish(values, None, requires_grad)


def _float_kind(dtype: Any, name: str) -> np.dtype:
    numpy_dtype = _float_dtype(dtype)
    if numpy_dtype.kind != "f":
        legacy = _dtype.legacy_type_name(numpy_dtype)[len("torch."):-len("Tensor")]
        raise NotImplementedError(f'"{name}" not implemented for \'{legacy}\'')
    return numpy_dtype


def _random_shape(name: str, size: tuple, keywords: dict[str, Any], generator: Any, dtype: Any) -> tuple[int, ...]:
    """The sizes of a random draw, and its generator checked as PyTorch does."""
    if generator is not None and not isinstance(generator, Generator):
        raise _arguments.invalid_combination(name, size, {"generator": generator})
    if dtype is not None and not hasattr(dtype, "numpy_dtype"):  # rand and randn have overloads: no 'dtype' message
        raise _arguments.invalid_combination(name, size, {**keywords, "dtype": dtype})
    return _shape_argument(name, size, keywords, dtype)


def _shape_argument(name: str, size: tuple, keywords: dict[str, Any], dtype: Any, check: bool = True
                    ) -> tuple[int, ...]:
    """The sizes given positionally or as `size=` (PyTorch accepts either, not both), checked as PyTorch does."""
    _arguments.check_dtype(name, dtype)
    if not keywords:
        return _sizes(name, size, check=check)
    if set(keywords) != {"size"} or size:
        if name in _arguments.OVERLOADS:
            raise _arguments.invalid_combination(name, size, keywords)
        unexpected = next(iter(set(keywords) - {"size"}), None)
        if unexpected is None:  # `size=` as well as positional sizes
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        raise TypeError(f"{name}() got an unexpected keyword argument '{unexpected}'")
    return _sizes(name, (keywords["size"],), keyword=True, check=check)


def _plain_shape(size: tuple) -> tuple[int, ...] | None:
    """The shape of the common call's sizes (non-negative ints, or one tuple of them: `randn(2, 2)`, `ones((3,))`),
    decided without the general parsing; None sends any other size through it (as the callers send a dtype,
    generator or keyword), so every refusal keeps PyTorch's message."""
    if len(size) == 1 and type(size[0]) is tuple:
        size = size[0]
    for extent in size:
        if type(extent) is not int or extent < 0:
            return None
    return size if size else None  # `randn()` (refused) and `randn(())` (a 0-d tensor) take the general path


def rand(*size: Any, generator: Generator | None = None, dtype: Any = None, requires_grad: bool = False,
         device: Any = None, **keywords: Any) -> Tensor:
    """Uniform samples in [0, 1), PyTorch's numbers for the generator's seed (`size=` also accepted)."""
    if not keywords and generator is None and dtype is None and (shape := _plain_shape(size)) is not None:
        values = _random.default_generator.uniform(math.prod(shape), _dtype.DEFAULT_FLOAT)
        return Tensor._make(values.reshape(shape), requires_grad)
    shape = _random_shape("rand", size, keywords, generator, dtype)
    numpy_dtype = _float_kind(dtype, "check_uniform_bounds")
    return _drawn(resolve(generator).uniform(math.prod(shape), numpy_dtype).reshape(shape), requires_grad)


def randn(*size: Any, generator: Generator | None = None, dtype: Any = None, requires_grad: bool = False,
          device: Any = None, **keywords: Any) -> Tensor:
    """Standard normal samples, PyTorch's numbers for the generator's seed (`size=` also accepted)."""
    if not keywords and generator is None and dtype is None and (shape := _plain_shape(size)) is not None:
        values = _random.default_generator.normal(math.prod(shape), _dtype.DEFAULT_FLOAT)
        return Tensor._make(values.reshape(shape), requires_grad)
    shape = _random_shape("randn", size, keywords, generator, dtype)
    numpy_dtype = _float_kind(dtype, "normal_kernel_cpu")
    return _drawn(resolve(generator).normal(math.prod(shape), numpy_dtype).reshape(shape), requires_grad)


def randint(*args: Any, generator: Generator | None = None, dtype: Any = None, requires_grad: bool = False,
            device: Any = None, size: Any = None) -> Tensor:
    """Integers in [low, high) (`randint(high, size)` or `randint(low, high, size)`), PyTorch's for a seed."""
    if size is not None:
        args = (*args, size)
    if len(args) not in (2, 3) or any(_arguments.is_number(v) is False or isinstance(v, float) for v in args[:-1]) \
            or not isinstance(args[-1], (tuple, list)):
        raise _arguments.invalid_combination("randint", args)
    low, high, shape = (0, *args) if len(args) == 2 else args
    try:
        shape = _sizes("randint", (shape,), varargs=False)
    except TypeError:
        raise _arguments.invalid_combination("randint", args) from None
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    values = resolve(generator).random_below(math.prod(shape), int(high) - int(low)) + int(low)
    numpy_dtype = dtype.numpy_dtype if dtype is not None else _dtype.DEFAULT_INT
    return _drawn(values.reshape(shape).astype(numpy_dtype), requires_grad)


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = None, requires_grad: bool = False,
             device: Any = None) -> Tensor:
    """A random permutation of 0..n-1, PyTorch's for a seed."""
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}")
    numpy_dtype = dtype.numpy_dtype if dtype is not None else _dtype.DEFAULT_INT
    return _drawn(resolve(generator).permutation(int(n)).astype(numpy_dtype), requires_grad)


def normal(mean: Any, std: Any = 1.0, size: Any = None, *, generator: Generator | None = None,
           dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Normal samples: float mean and std with a size, or tensors broadcast together (then `* std + mean`)."""
    rng = resolve(generator)
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal() missing required argument 'size'")
        shape = _sizes("normal", (size,))
        numpy_dtype = _float_kind(dtype, "normal_kernel_cpu")
        return _drawn(rng.normal(math.prod(shape), numpy_dtype, float(mean), float(std)).reshape(shape),
                      requires_grad)
    like = mean if isinstance(mean, Tensor) else std
    shape = np.broadcast_shapes(*(np.shape(v._data) for v in (mean, std) if isinstance(v, Tensor)))
    count = math.prod(shape)
    if isinstance(std, Tensor):
        noise = rng.normal(count, like._data.dtype).reshape(shape)
        values = noise * std._data + (mean._data if isinstance(mean, Tensor) else mean)
    else:
        values = rng.normal(count, like._data.dtype, 0.0, float(std)).reshape(shape) + mean._data
    return _drawn(np.asarray(values, like._data.dtype), requires_grad)


def bernoulli(probabilities: Tensor, p: float | None = None, *, generator: Generator | None = None) -> Tensor:
    """1 with each element's probability, else 0, in its dtype (a float `p` for all elements if given)."""
    rng = resolve(generator)
    count = probabilities._data.size
    if p is not None:
        return _drawn(rng.bernoulli(count, float(p)).reshape(probabilities._data.shape)
                      .astype(probabilities._data.dtype), False)
    unit = rng.uniform(count, probabilities._data.dtype).astype(np.float64).reshape(probabilities._data.shape)
    return _drawn((unit < probabilities._data).astype(probabilities._data.dtype), False)


def rand_like(a: Tensor, *, dtype: Any = None, requires_grad: bool = False, generator: Any = None) -> Tensor:
    """Uniform samples with `a`'s shape and dtype."""
    _arguments.check_tensor("rand_like", a)
    return rand(a._data.shape, dtype=dtype or a.dtype, requires_grad=requires_grad, generator=generator)


def randn_like(a: Tensor, *, dtype: Any = None, requires_grad: bool = False, generator: Any = None) -> Tensor:
    """Normal samples with `a`'s shape and dtype."""
    _arguments.check_tensor("randn_like", a)
    return randn(a._data.shape, dtype=dtype or a.dtype, requires_grad=requires_grad, generator=generator)


def randint_like(a: Tensor, low: int, high: int | None = None, *, dtype: Any = None,
                 requires_grad: bool = False, generator: Any = None) -> Tensor:
    """Integers in [low, high) with `a`'s shape and dtype (`randint_like(a, high)` from 0)."""
    _arguments.check_tensor("randint_like", a)
    if high is None:
        low, high = 0, low
    return randint(low, high, a._data.shape, dtype=dtype or a.dtype, requires_grad=requires_grad,
                   generator=generator)


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


def _refill(a: Tensor, values: np.ndarray) -> Tensor:
    """Write drawn values into `a` in place, in its memory order as PyTorch's kernels do (checked like `copy_`)."""
    from gradstudio.engine.ops import inplace

    shape, strides = a._data.shape, a._data.strides
    axes = sorted(range(len(shape)), key=lambda axis: -abs(strides[axis]))
    laid_out = values.reshape([shape[axis] for axis in axes]).transpose(np.argsort(axes))
    return inplace.copy_(a, Tensor._make(laid_out.astype(a._data.dtype)))


def uniform_(a: Tensor, from_: float = 0.0, to: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill `a` with uniform samples in [from_, to), in place."""
    _float_kind(a.dtype, "check_uniform_bounds")
    return _refill(a, resolve(generator).uniform(a._data.size, a._data.dtype, from_, to))


def normal_(a: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill `a` with normal samples, in place (a non-contiguous `a` takes the one-at-a-time path, as in PyTorch)."""
    _float_kind(a.dtype, "normal_kernel_cpu")
    contiguous = a._data.flags.c_contiguous
    return _refill(a, resolve(generator).normal(a._data.size, a._data.dtype, mean, std, contiguous))


def bernoulli_(a: Tensor, p: float = 0.5, *, generator: Generator | None = None) -> Tensor:
    """Fill `a` with 1 (probability p) or 0, in place."""
    return _refill(a, resolve(generator).bernoulli(a._data.size, float(p)))
