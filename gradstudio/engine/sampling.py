"""`random_`, `exponential_` and `multinomial`, drawn from the generator as PyTorch's CPU kernels draw them.

`random_()` reduces one word per element modulo the dtype's range (two words for 64-bit ranges);
`exponential_(lambd)` is -1/lambd * log1p(-u) of a 53-bit uniform; `multinomial` without replacement
(or for one sample) is PyTorch's Gumbel trick, argmax / topk of p / Exp(1), and with replacement a
binary search of one uniform per sample in the row's normalised float cumulative sum.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradstudio.engine._tensor import Tensor
from gradstudio.engine.draws import _refill
from gradstudio.engine.random import Generator, resolve

# dtype -> (the modulus of a full-range random_(), whether it reads 64-bit values)
_FULL_RANGE = {np.dtype(np.float32): (1 << 24) + 1, np.dtype(np.float64): (1 << 53) + 1,
               np.dtype(np.int64): 1 << 63, np.dtype(np.int32): 1 << 31}


def random_(a: Tensor, from_: int | None = None, to: int | None = None, *,
            generator: Generator | None = None) -> Tensor:
    """Fill `a` with integers: in [from_, to), in [0, to) (`random_(to)`), or over the dtype's range."""
    rng = resolve(generator)
    count, dtype = a._data.size, a._data.dtype
    if from_ is not None and to is None:
        from_, to = 0, from_
    if to is None:
        if dtype == np.bool_:
            return _refill(a, rng.words(count) & np.uint64(1))
        modulus = _FULL_RANGE[dtype]
        words = rng.words64(count) if dtype in (np.float64, np.int64) else rng.words(count)
        return _refill(a, words % np.uint64(modulus))
    if from_ >= to:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}")
    return _refill(a, rng.random_below(count, int(to) - int(from_)) + int(from_))


def exponential_(a: Tensor, lambd: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill `a` with exponential samples of rate `lambd`, in place."""
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    return _refill(a, _exponential(resolve(generator), a._data.size, lambd, a._data.dtype))


_LOG1P = np.frompyfunc(math.log1p, 1, 1)
_FLOAT64 = np.dtype(np.float64)


def _exponential(rng: Generator, count: int, lambd: float, dtype: np.dtype = _FLOAT64) -> np.ndarray:
    """Exponential samples in double, then `dtype`. numpy's log1p differs from the C library's PyTorch calls in
    the last bit of 7% of doubles, which a float64 result keeps: those take Python's (the C library's) log1p."""
    unit = rng.uniform(count, np.float64)
    logs = _LOG1P(-unit).astype(np.float64) if dtype == np.float64 else np.log1p(-unit)
    return ((-1.0 / lambd) * logs).astype(dtype)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: Generator | None = None) -> Tensor:
    """Indices drawn from each row's (unnormalised) probabilities, PyTorch's for the generator's seed."""
    probabilities = input._data
    _check(probabilities, num_samples, replacement)
    rng = resolve(generator)
    if not replacement or num_samples == 1:
        # p / q with q ~ Exp(1): its argmax (or top k) is a draw (without replacement)
        q = _exponential(rng, probabilities.size, 1.0, probabilities.dtype).reshape(probabilities.shape)
        ratio = probabilities / q
        if num_samples == 1:
            return Tensor._make(np.argmax(ratio, axis=-1, keepdims=True).astype(np.int64))
        from gradstudio.engine.ops.ordering import topk

        return topk(Tensor._make(ratio), num_samples).indices
    rows = probabilities.reshape(-1, probabilities.shape[-1])
    drawn = np.empty((rows.shape[0], num_samples), np.int64)
    for index, row in enumerate(rows):
        cumulative = np.add.accumulate(row)  # in the row's dtype, one term at a time, as PyTorch's loop
        total = cumulative[-1]
        if total > 0:
            cumulative = cumulative / total
        drawn[index] = np.searchsorted(cumulative, rng.uniform(num_samples, np.float64), side="left")
    return Tensor._make(drawn.reshape(probabilities.shape[:-1] + (num_samples,)))


def _check(probabilities: np.ndarray, num_samples: int, replacement: bool) -> None:
    """PyTorch's refusals, in its order."""
    if probabilities.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if probabilities.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_type_name(probabilities.dtype)}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > probabilities.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if not (np.all(probabilities >= 0) and np.all(np.isfinite(probabilities))):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if np.any(probabilities.sum(axis=-1) == 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")


def _type_name(numpy_dtype: Any) -> str:
    from gradstudio.engine._dtype import legacy_type_name

    return legacy_type_name(numpy_dtype)[6:-6]
