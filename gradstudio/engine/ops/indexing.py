"""Indexing: `getitem` with basic entries (ints, slices, None, Ellipsis) and advanced ones (lists, integer
tensors, boolean masks), and the gradient of advanced indexing."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.ops._core import record
from gradstudio.engine.ops.shape import alias_view, select, slice_dim, unsqueeze


def is_advanced(key: Any) -> bool:
    """Whether an index holds a tensor, list or array (PyTorch's advanced indexing)."""
    entries = key if isinstance(key, tuple) else (key,)
    return any(isinstance(entry, (Tensor, list, np.ndarray)) for entry in entries)


def _entry(entry: Any) -> Any:
    if isinstance(entry, Tensor):
        entry = entry._data
    elif isinstance(entry, list):
        entry = np.asarray(entry)
        if entry.size == 0:
            entry = entry.astype(np.int64)
    if isinstance(entry, np.ndarray) and entry.dtype.kind not in "biu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return entry


def numpy_key(key: Any) -> tuple:
    """The index as numpy reads it, refusing what PyTorch refuses (float index tensors)."""
    entries = key if isinstance(key, tuple) else (key,)
    return tuple(_entry(entry) for entry in entries)


def _mask_error(shape: tuple, key: tuple) -> IndexError | None:
    """PyTorch's message for a boolean mask whose shape does not match the dimensions it indexes."""
    dim = 0
    for entry in key:
        if isinstance(entry, np.ndarray) and entry.dtype == np.bool_:
            for offset, extent in enumerate(entry.shape):
                if dim + offset < len(shape) and extent != shape[dim + offset]:
                    return IndexError(f"The shape of the mask {list(entry.shape)} at index {offset} does not match "
                                      f"the shape of the indexed tensor {list(shape)} at index {dim + offset}")
            dim += entry.ndim
        elif entry is not None and entry is not Ellipsis:
            dim += 1
    return None


def gather_at(data: np.ndarray, key: tuple) -> np.ndarray:
    """`data[key]` with PyTorch's messages for out-of-range indices and mismatched masks."""
    error = _mask_error(data.shape, key)
    if error is not None:
        raise error
    try:
        return data[key]
    except IndexError as failure:
        raise IndexError(str(failure).replace("axis", "dimension")) from None


class IndexBackward0(Node):
    """Backward of advanced indexing: the gradient added into zeros at the indexed positions."""

    def apply(self, g: Tensor) -> tuple:
        return (index_put_accumulate(g, self.input_shape, self.key),)


class IndexPutBackward0(Node):
    """Backward of the accumulating put that `IndexBackward0` makes: read the positions back out."""

    def apply(self, g: Tensor) -> tuple:
        return (index(g, self.key),)


def index_put_accumulate(values: Tensor, shape: tuple, key: tuple) -> Tensor:
    """Zeros of `shape` with `values` added at `key` (repeated positions accumulate)."""
    data = np.zeros(shape, dtype=values._data.dtype)
    np.add.at(data, key, values._data)
    return record(data, IndexPutBackward0, (values,), key=key)


def index(a: Tensor, key: tuple) -> Tensor:
    """`a[key]` for a numpy-ready advanced key (a copy, recorded as IndexBackward0)."""
    return record(gather_at(a._data, key), IndexBackward0, (a,), input_shape=a._data.shape, key=key)


# ----- getitem --------------------------------------------------------------------------------------------


def getitem(a: Tensor, key: Any) -> Tensor:
    """Indexing: basic entries (ints, slices, None, Ellipsis) recorded one step per dimension as PyTorch does,
    then any advanced entries (lists, integer tensors, masks) as one IndexBackward0."""
    if isinstance(key, slice) and a._data.ndim:  # a lone slice is always recorded, even `x[:]`
        return slice_dim(a, 0, key)
    if a._data.ndim == 0 and not isinstance(key, tuple):
        _check_0d_key(key)
    if not isinstance(key, tuple):
        key = (key,)
    if is_advanced(key):
        advanced = numpy_key(key)
        result = _basic(a, tuple(_as_slices(entry) for entry in advanced))
        return index(result, _remaining(advanced, a._data.ndim))
    if key == (Ellipsis,):
        return alias_view(a)
    result = _basic(a, key)
    return alias_view(a) if result is a else result


def _as_slices(entry: Any) -> Any:
    """An advanced entry as whole slices (one per dimension it indexes), for the basic pass."""
    if isinstance(entry, np.ndarray):
        return (slice(None),) * (entry.ndim if entry.dtype == np.bool_ else 1)
    return entry


def _basic(a: Tensor, key: tuple) -> Tensor:
    """Apply a basic key one step per dimension; `a` itself when nothing needs recording."""
    key = tuple(part for entry in key for part in (entry if isinstance(entry, tuple) else (entry,)))
    key = tuple(_index_entry(k) for k in key)
    consumed = sum(1 for k in key if k is not None and k is not Ellipsis)
    if consumed > a._data.ndim:
        raise IndexError(f"too many indices for tensor of dimension {a._data.ndim}")
    positions = list(range(len(key)))  # where each entry stands in the key: PyTorch's messages name that
    if Ellipsis in key:
        position = key.index(Ellipsis)
        fill = a._data.ndim - consumed
        rest = [i for i in range(position + 1, len(key)) if key[i] is not Ellipsis]  # PyTorch ignores repeats
        positions = list(range(position)) + [position] * fill + rest
        key = key[:position] + (slice(None),) * fill + tuple(key[i] for i in rest)
    result, dim = a, 0
    for entry, position in zip(key, positions):
        if entry is None:
            result = unsqueeze(result, dim)
            dim += 1
        elif isinstance(entry, slice):
            if not _whole(entry, result._data.shape[dim]):
                result = slice_dim(result, dim, entry)
            dim += 1
        else:
            extent = result._data.shape[dim]
            if not -extent <= entry < extent:
                raise IndexError(f"index {entry} is out of bounds for dimension {position} with size {extent}")
            result = select(result, dim, entry)
    return result


def _remaining(key: tuple, ndim: int) -> tuple:
    """The advanced part of `key`, over the dimensions left once its basic entries are applied."""
    consumed = sum(entry.ndim if isinstance(entry, np.ndarray) and entry.dtype == np.bool_ else 1
                   for entry in key if entry is not None and entry is not Ellipsis)
    remaining: list = []
    for entry in key:
        if entry is Ellipsis:
            remaining.extend([slice(None)] * (ndim - consumed))
        elif entry is None or isinstance(entry, slice):
            remaining.append(slice(None))
        elif isinstance(entry, np.ndarray):
            remaining.append(entry)
    return tuple(remaining)


def _check_0d_key(entry: Any) -> None:
    """PyTorch's messages for a lone int or slice applied to a 0-d tensor (in a tuple they are "too many")."""
    if isinstance(entry, slice):
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    if entry is not None and entry is not Ellipsis and not is_advanced(entry):
        _index_entry(entry)
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                         "in C++ to convert a 0-dim tensor to a number")


def _index_entry(entry: Any) -> Any:
    """One entry of a basic index: None, Ellipsis, a slice or an int (PyTorch's message for anything else)."""
    if entry is None or entry is Ellipsis or isinstance(entry, slice):
        return entry
    if isinstance(entry, (bool, np.bool_)):
        raise NotImplementedError("advanced (boolean) indexing is not supported; use basic indexing")
    try:
        return operator.index(entry)
    except TypeError:
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
                         f"indices (got {type(entry).__name__})") from None


def _whole(entry: slice, length: int) -> bool:
    """Whether a slice inside an index tuple covers the whole dimension (PyTorch then records nothing)."""
    return entry.start in (None, 0) and entry.step in (None, 1) and (entry.stop is None or entry.stop >= length)
