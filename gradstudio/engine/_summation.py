"""float32 sums added up in PyTorch's order, so that `x.sum()` and `x.mean()` give PyTorch's bits.

PyTorch's CPU sum (ATen's SumKernel `cascade_sum`) reads a contiguous row as vectors of
`LANES` floats, keeps four vector accumulators (`row_sum`'s ilp factor) that it cascades
into coarser levels every 2^k vectors (`multi_row_sum`), then adds the scalar tail and
finally the lanes one by one; a row shorter than one vector is summed the same way with
scalars. numpy's pairwise summation rounds differently, so printed losses differ in the
last digit. Each sequential part here is one numpy reduction along a leading axis (numpy
adds those strictly in order), vectorised over rows.
"""

from __future__ import annotations

import struct

import numpy as np

_ILP = 4  # row_sum's accumulators
_LEVELS = 4  # multi_row_sum's cascade levels
_F32 = np.dtype(np.float32)
# Sums of up to this many elements follow PyTorch's order (this module matches PyTorch's bits up to 32768, its
# GRAIN_SIZE, beyond which PyTorch splits a sum between threads); larger ones keep numpy's faster pairwise order.
EXACT_LIMIT = 4096


_FLOAT32 = struct.Struct("f")  # packing a Python float as one rounds it to float32 as numpy's cast does
_pack, _unpack = _FLOAT32.pack, _FLOAT32.unpack

# floats per vector of PyTorch's sum kernel: 8 (its AVX2 build; measured the same on an AVX-512 machine)
LANES = 8


def _in_order(start: np.ndarray | None, terms: np.ndarray) -> np.ndarray:
    """start + terms[0] + terms[1] + ... added one at a time (terms along axis 0)."""
    if start is not None:
        terms = np.concatenate([start[None], terms])
    if len(terms) == 1:
        return terms[0]
    # accumulate, not reduce: numpy's reduce may add pairwise along a contiguous axis, accumulate never does
    return np.add.accumulate(terms, axis=0)[-1]


def _sequential(terms: np.ndarray) -> np.ndarray:
    """terms[0] + terms[1] + ... one at a time along axis 0 (zeros for no terms)."""
    if not len(terms):
        return np.zeros(terms.shape[1:], terms.dtype)
    return np.add.accumulate(terms, axis=0)[-1]


def _multi_row_sum(x: np.ndarray) -> np.ndarray:
    """ATen's multi_row_sum: `x` is (size, nrows, ...) in reading order; the nrows accumulators, cascaded."""
    size = x.shape[0]
    level_power = max(4, (size - 1).bit_length() // _LEVELS if size > 1 else 0)
    step = 1 << level_power
    blocks = size // step
    rest = _sequential(x[blocks * step:])
    if not blocks:
        return rest
    block_sums = np.add.accumulate(x[:blocks * step].reshape((blocks, step) + x.shape[1:]), axis=1)[:, -1]
    if blocks < step:  # only the first cascade level is ever reached
        return rest + _sequential(block_sums)
    zero = np.zeros(x.shape[1:], x.dtype)
    acc = [zero] * _LEVELS
    for block in range(blocks):
        acc[0] = block_sums[block]
        done = (block + 1) * step
        for level in range(1, _LEVELS):
            acc[level] = acc[level] + acc[level - 1]
            acc[level - 1] = zero
            if done & ((step - 1) << (level * level_power)):
                break
    acc[0] = rest
    return _in_order(acc[0], np.stack(acc[1:]))


def _row_sum(x: np.ndarray) -> np.ndarray:
    """ATen's row_sum over axis 0 of `x` (size, ...): four interleaved accumulators, the rest into the first."""
    size = x.shape[0]
    whole = size // _ILP * _ILP
    partial = _multi_row_sum(x[:whole].reshape((size // _ILP, _ILP) + x.shape[1:]))
    first = _in_order(partial[0], x[whole:])
    return _in_order(first, partial[1:])


def _short_row_sum(terms: np.ndarray) -> np.ndarray:
    """`_row_sum` of fewer than 4 x 16 terms (no cascade), as one sequence: the first accumulator, the terms
    left over, then the other three accumulators."""
    count = terms.shape[0]
    whole = count // _ILP * _ILP
    if whole:
        firsts = np.add.accumulate(terms[:whole].reshape((whole // _ILP, _ILP) + terms.shape[1:]), axis=0)[-1]
        sequence = np.concatenate([firsts[:1] + 0, terms[whole:], firsts[1:] + 0])
    else:
        sequence = np.concatenate([terms, np.zeros((_ILP,) + terms.shape[1:], terms.dtype)])
    return np.add.accumulate(sequence, axis=0)[-1]


def _single_row_sum(row: np.ndarray) -> np.ndarray:
    """`inner_sum` of one row of LANES to 16 * 4 * LANES * 16 floats (the cascade never passes its first level),
    in few numpy calls: a full sum (a loss, a mean) is the common case."""
    count = row.shape[0]
    vectors = count // LANES
    groups = vectors // _ILP  # multi_row_sum's rows: four vectors each
    grid = row[:groups * _ILP * LANES].reshape(groups, _ILP * LANES)
    step = 1 << max(4, (groups - 1).bit_length() // _LEVELS if groups > 1 else 0)
    blocks = groups // step
    partial = _sequential(grid[blocks * step:])  # the first accumulator after the last whole block
    if blocks:  # plus the second, which gathered each block's sum
        block_sums = np.add.accumulate(grid[:blocks * step].reshape(blocks, step, -1), axis=1)[:, -1]
        partial = partial + np.add.accumulate(block_sums, axis=0)[-1]
    partial = partial.reshape(_ILP, LANES)
    left = row[groups * _ILP * LANES:vectors * LANES].reshape(-1, LANES)
    lanes = np.add.accumulate(np.concatenate([partial[:1], left, partial[1:]]), axis=0)[-1]
    return np.add.accumulate(np.concatenate([row[vectors * LANES:], lanes]))[-1:]


def inner_sum(rows: np.ndarray) -> np.ndarray:
    """The float32 sum of each row of `rows` (R, n), in PyTorch's order."""
    width = LANES
    count = rows.shape[1]
    if rows.shape[0] == 1 and width <= count <= width * _ILP * 16 * 16:
        return _single_row_sum(rows[0])
    if count < width and rows.shape[0] == 1:  # the common tiny sum, in as few numpy calls as it takes
        return np.array([small_total(rows[0])], _F32)
    terms = rows.T  # (n, R): the order of reading along axis 0
    if count < width:
        return _short_row_sum(terms)
    if count < width * _ILP * 16:
        whole = count // width * width
        vectors = _short_row_sum(terms[:whole].reshape(count // width, width, -1))  # (width, R)
        sequence = np.concatenate([np.zeros((1, rows.shape[0]), rows.dtype), terms[whole:], vectors])
        return np.add.accumulate(sequence, axis=0)[-1]
    whole = count // width * width
    vectors = _row_sum(terms[:whole].reshape(count // width, width, -1))  # (width, R)
    tail = _in_order(np.zeros(rows.shape[0], rows.dtype), terms[whole:])
    return _in_order(tail, vectors)


def small_total(data: np.ndarray) -> float:
    """The float32 sum of a float32 array of one to seven values in PyTorch's order, as a Python float: its values
    in reading order as Python floats, the first accumulator's terms, then the other three's, then the empty
    accumulators' +0.0 (so -0.0 sums to 0.0). Each sum of two floats rounded once to float32 is float32's own sum
    (a double carries over twice float32's digits, +2; the native pack rounds as a C cast, to inf past float32's
    range): no numpy call but reading the values."""
    values = (data if data.ndim == 1 else data.ravel()).tolist()  # (ravel: no call for the usual 1-d array)
    if len(values) > _ILP:
        values = [values[0], *values[_ILP:], *values[1:_ILP]]
    total = values[0]
    for value in values[1:]:
        (total,) = _unpack(_pack(total + value))
    return total + 0.0


def torch_sum(data: np.ndarray, dims: tuple[int, ...], keepdim: bool) -> np.ndarray | None:
    """`data` summed over `dims` in PyTorch's order when it is float32, at most EXACT_LIMIT elements, and the dims are
    the trailing ones of a contiguous array (a full sum, or rows); None otherwise (numpy's sum stands)."""
    dtype = data.dtype
    if dtype is not _F32 and dtype != _F32 or not dims:  # (identity first: the common case costs no comparison)
        return None
    ndim, size = data.ndim, data.size
    if 0 < size < LANES and len(dims) == ndim:  # a tiny full sum (a loss, a mean in a tutorial), kept cheap
        total = np.array(small_total(data), _F32)
        return total.reshape((1,) * ndim) if keepdim else total
    if not 0 < size <= EXACT_LIMIT or not data.flags.c_contiguous:
        return None
    if dims != tuple(range(ndim - len(dims), ndim)):
        return None
    kept = data.shape[:ndim - len(dims)]
    count = 1
    for extent in data.shape[ndim - len(dims):]:
        count *= extent
    # contiguous, as numpy's sum returns it (accumulating along a transposed view leaves strided rows)
    result = np.ascontiguousarray(inner_sum(data.reshape(-1, count))).reshape(kept)
    if keepdim:
        result = result.reshape(kept + (1,) * len(dims))
    return result
