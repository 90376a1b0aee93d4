"""Tensors drawn from the seeded generator (`rand randn randint randperm normal bernoulli`, their `*_like`, and the
in-place `uniform_ normal_ bernoulli_`): PyTorch's numbers for a seed, and its argument checks and messages."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gradstudio.engine import _arguments, _dtype
from gradstudio.engine import random as _random
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.creation import _finish, _float_dtype, _plain_shape, _sizes
from gradstudio.engine.random import Generator, resolve

# rand's and randn's keywords, in the order PyTorch's parser reads its parameters (after `size`)
_KEYWORDS = ("generator", "dtype", "device", "requires_grad")
_KNOWN = {"size", *_KEYWORDS}
# PyTorch's visible overloads of rand/randn take 1..7 arguments (size and six optional keywords) and 2..8 (the
# generator is required there): a refused call with a count only one of them takes gets that overload's message
_ONE_OVERLOAD = {1: False, 8: True}  # -> whether that overload needs `generator`


def _drawn(values: np.ndarray, requires_grad: bool) -> Tensor:
    return _finish(values, None, requires_grad)


def _float_kind(dtype: Any, name: str) -> np.dtype:
    numpy_dtype = _float_dtype(dtype)
    if numpy_dtype.kind != "f":
        legacy = _dtype.legacy_type_name(numpy_dtype)[len("torch."):-len("Tensor")]
        raise NotImplementedError(f'"{name}" not implemented for \'{legacy}\'')
    return numpy_dtype


def _is_size_entry(value: Any) -> bool:
    return _arguments._as_int(value, allow_bool=False) is not None


def _first_size_fits(size: tuple, keywords: dict[str, Any]) -> bool:
    """Whether the size is one PyTorch's parser matches (it looks at the first entry only; the rest are read
    afterwards, with their own message)."""
    if size:
        first = size[0]
        if isinstance(first, (tuple, list)):
            return len(size) == 1 and "size" not in keywords and (not first or _is_size_entry(first[0]))
        return "size" not in keywords and _is_size_entry(first)
    value = keywords.get("size")
    return isinstance(value, (tuple, list)) and (not value or _is_size_entry(value[0]))


def _matches(size: tuple, keywords: dict[str, Any]) -> bool:
    """Whether an overload of rand/randn takes these arguments."""
    generator, dtype, requires_grad = (keywords.get(key) for key in ("generator", "dtype", "requires_grad"))
    return (keywords.keys() <= _KNOWN and (generator is None or isinstance(generator, Generator))
            and (dtype is None or hasattr(dtype, "numpy_dtype"))
            and (requires_grad is None or type(requires_grad) is bool) and _first_size_fits(size, keywords))


def _refusal(name: str, size: tuple, keywords: dict[str, Any], needs_generator: bool) -> TypeError:
    """The error of the one overload PyTorch found plausible: its first parameter that refuses the call."""
    if not size and "size" not in keywords:
        return TypeError(f'{name}() missing 1 required positional arguments: "size"')
    if needs_generator and "generator" not in keywords:
        return TypeError(f'{name}() missing 1 required positional arguments: "generator"')
    for key, wanted, fits in (("generator", "torch.Generator", lambda value: isinstance(value, Generator)),
                              ("dtype", "torch.dtype", lambda value: hasattr(value, "numpy_dtype")),
                              ("requires_grad", "bool", lambda value: type(value) is bool)):
        value = keywords.get(key)
        if value is not None and not fits(value):
            return TypeError(f"{name}(): argument '{key}' must be {wanted}, not {_arguments.type_name(value)}")
    unexpected = next(iter(keywords.keys() - _KNOWN), None)
    if unexpected is not None:
        return TypeError(f"{name}() got an unexpected keyword argument '{unexpected}'")
    return TypeError(f"{name}() got multiple values for argument 'size'")


def _random_arguments(name: str, size: tuple, keywords: dict[str, Any]) -> tuple[tuple[int, ...], Any, Any, bool]:
    """rand's or randn's (shape, generator, dtype, requires_grad), checked as PyTorch's parser checks them: a call
    no overload takes is reported as an invalid combination (listing every argument given), or with the one
    plausible overload's own message; a size whose later entries are not ints, or negative, is refused after."""
    if not _matches(size, keywords):
        given = len(size) + len(keywords)
        if given not in _ONE_OVERLOAD:
            raise _arguments.invalid_combination(name, size, keywords)
        if size:  # a size of the wrong type raises its own message first
            _sizes(name, size, check=False)
        elif "size" in keywords:
            _sizes(name, (keywords["size"],), check=False, varargs=False, keyword=True)
        raise _refusal(name, size, keywords, _ONE_OVERLOAD[given])
    shape = _sizes(name, size) if size else _sizes(name, (keywords["size"],), varargs=False, keyword=True)
    generator, dtype, _, requires_grad = (keywords.get(key) for key in _KEYWORDS)
    return shape, generator, dtype, bool(requires_grad)


def _random_constructor(name: str, kernel: str, draw: Callable[[Generator, tuple[int, ...]], np.ndarray],
                        general_draw: Callable[[Generator, int, np.dtype], np.ndarray], summary: str
                        ) -> Callable[..., Tensor]:
    """rand and randn: one body, differing in the draw (`draw` for plain sizes, `general_draw` for any other
    call) and in the kernel PyTorch names when refusing an integer dtype."""

    def constructor(*size: Any, **keywords: Any) -> Tensor:
        if not keywords:
            requires_grad = False
        elif len(keywords) != 1 or (requires_grad := keywords.get("requires_grad")) is not True \
                and requires_grad is not False:
            return drawn_generally(size, keywords)
        if (shape := _plain_shape(size)) is None:
            return drawn_generally(size, keywords)
        return Tensor._make(draw(_random.default_generator, shape), requires_grad)  # plain sizes, a bool at most

    def drawn_generally(size: tuple, keywords: dict[str, Any]) -> Tensor:
        shape, generator, dtype, requires_grad = _random_arguments(name, size, keywords)
        numpy_dtype = _float_kind(dtype, kernel)
        return _drawn(general_draw(resolve(generator), math.prod(shape), numpy_dtype).reshape(shape), requires_grad)

    constructor.__name__ = constructor.__qualname__ = name
    constructor.__doc__ = (f"{summary}, PyTorch's numbers for the generator's seed (sizes as ints, one tuple or "
                           "`size=`; keywords `generator dtype device requires_grad`).")
    return constructor


rand = _random_constructor("rand", "check_uniform_bounds", Generator.standard_uniform, Generator.uniform,
                           "Uniform samples in [0, 1)")
randn = _random_constructor("randn", "normal_kernel_cpu", Generator.standard_normal, Generator.normal,
                            "Standard normal samples")


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
