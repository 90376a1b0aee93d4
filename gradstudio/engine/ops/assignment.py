"""Item assignment, `a[key] = value` (`Tensor.__setitem__`), as PyTorch does it.

Basic indexing copies into the view `a[key]` (or into `a` itself when the key selects all of it), as
PyTorch's `copy_to`: `copy_`, `fill_` from a 0-d value, else the value's leading ones stripped and expanded.
Tensor or list indices put the values in place (`IndexPutBackward0`). Both are in-place ops of `inplace.py`
(version counting, history through views); untracked assignments write straight into the array.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstudio.engine import grad_mode
from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine._views import Region, ViewTensor
from gradstudio.engine.ops._core import needs, record, reduce_to, shape_stub
from gradstudio.engine.ops.indexing import getitem
from gradstudio.engine.ops.inplace import apply_inplace, as_strided, check_inference, copy_, fill_
from gradstudio.engine.ops.shape import expand_to, reshape, view


class IndexPutBackward0(Node):
    """Backward of assignment at tensor or list indices: the values get the gradient at those indices."""

    def apply(self, g: Tensor) -> tuple:
        grad_self = grad_values = None
        shape = g._data.shape
        if needs(self, 0):
            kept = np.ones(shape, dtype=g._data.dtype)
            kept[self.key] = 0
            grad_self = g * Tensor._make(kept)
        if needs(self, 1):
            positions = np.arange(g._data.size).reshape(shape)[self.key]
            picked = as_strided(g, Region(np.asarray(positions), shape, overlapping=True))
            missing = self.values_like._data.ndim - picked._data.ndim
            if missing > 0:
                picked = reshape(picked, (1,) * missing + picked._data.shape)
            grad_values = reduce_to(picked, self.values_like)
        return grad_self, grad_values


def _index_put(a: Tensor, key: Any, values: Tensor) -> Tensor:
    data = a._data.copy()
    data[key] = values._data
    if a._data.dtype.kind != "f":
        return Tensor._make(data)
    return record(data, IndexPutBackward0, (a, values), key=key, values_like=shape_stub(values))


def _is_advanced(key: Any) -> bool:
    entries = key if isinstance(key, tuple) else (key,)
    return any(isinstance(entry, (Tensor, list, np.ndarray)) for entry in entries)


def _numpy_key(key: Any) -> Any:
    """An index with its tensors and lists as numpy arrays."""
    entries = key if isinstance(key, tuple) else (key,)
    converted = tuple(entry._data if isinstance(entry, Tensor) else np.asarray(entry) if isinstance(entry, list)
                      else entry for entry in entries)
    return converted if isinstance(key, tuple) else converted[0]


def _same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.strides == b.strides and a.ctypes.data == b.ctypes.data


def _copy_to(destination: Tensor, source: Tensor) -> None:
    """PyTorch's copy_to for item assignment: copy_, fill_ from a 0-d value, else strip leading ones and expand."""
    shape = destination._data.shape
    if source._data.shape == shape:
        copy_(destination, source)
    elif source._data.ndim == 0:
        fill_(destination, source)
    else:
        leading = next((i for i, extent in enumerate(source._data.shape) if extent != 1), source._data.ndim)
        source = view(source, source._data.shape[leading:])
        if source._data.shape != shape:
            source = expand_to(source, shape)
        copy_(destination, source)


def setitem(a: Tensor, key: Any, value: Any) -> None:
    """`a[key] = value`: basic indexing copies into a view of `a`; tensor or list indices put values in place."""
    source = value if isinstance(value, Tensor) else Tensor._make(np.asarray(value, dtype=a._data.dtype))
    advanced = _is_advanced(key)
    tracked = a._requires_grad or source._requires_grad or a.__class__ is ViewTensor and a._view[0]._requires_grad
    check_inference(a)
    if not (grad_mode.STATE.enabled and tracked) and 0 not in a._data.strides:  # expanded: checked below
        try:
            a._data[_numpy_key(key) if advanced else key] = source._data
        except ValueError:  # shapes that do not fit: the recorded path below raises PyTorch's error
            pass
        else:
            a._version_counter.value += 1
            return
    if advanced:
        if source._data.ndim and source._data.shape[0] == 1:
            leading = next((i for i, extent in enumerate(source._data.shape) if extent != 1), source._data.ndim)
            source = view(source, source._data.shape[leading:])
        numpy_key = _numpy_key(key)
        apply_inplace(a, lambda s: _index_put(s, numpy_key, source), source)
        return
    destination = getitem(a, key)
    if _same_memory(destination._data, a._data):  # the key selects all of `a`: PyTorch writes into `a` itself
        destination = a
    _copy_to(destination, source)
