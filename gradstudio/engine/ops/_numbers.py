"""Python numbers as the ops take them: the 0-d arrays they compute with (float32 ones shared), and the
wrapped numbers their nodes save, shown as PyTorch shows them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gradstudio.engine._graph import Node, SavedNumber, SavedTensor
from gradstudio.engine._tensor import Tensor
from gradstudio.engine._versions import VersionCounter

_make = Tensor._make
_new = object.__new__
_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)

UNCHANGED = VersionCounter()  # the counter of every saved number no one has unpacked yet: never bumped
# the dtype PyTorch gives a Python number it wraps as a tensor (what `_saved_other` shows): its own kind
NUMBER_DTYPES = {bool: np.dtype(np.bool_), int: np.dtype(np.int64), float: np.dtype(np.float64)}
_INT64, _UINT64, _UINT64_START = NUMBER_DTYPES[int], np.dtype(np.uint64), 2**63


class WrappedNumber(SavedNumber):
    """A Python number an op saved as PyTorch does (a wrapped number): the rule computes with `_data`, the 0-d
    array of the op's dtype, which no one else sees (so it may be shared: `number_array`); `_saved_other`
    shows `_number` in its own kind (`tensor(3)`, `tensor(2.5000, dtype=torch.float64)`, `tensor(True)`)."""

    __slots__ = ("_number",)

    def unpack(self, owner: Node) -> Tensor:
        """The number's tensor, made on first use (then version-checked as any saved tensor)."""
        if self._tensor is None:
            tensor = self._tensor = _make(wrapped_number(self._number))
            tensor._counter = self._counter = VersionCounter()
        return SavedTensor.unpack(self, owner)


def wrapped_number(number: Any) -> np.ndarray:
    """The 0-d array PyTorch wraps a Python number in: bool, int64 (uint64 from 2**63 on) or float64. (An int
    past uint64's range PyTorch refuses with an OverflowError where the op meets it; the engine computes
    with it, and shows it as a float64.)"""
    numpy_dtype = NUMBER_DTYPES[type(number)]
    if numpy_dtype is _INT64 and not -_UINT64_START <= number < _UINT64_START:
        numpy_dtype = _UINT64 if 0 <= number < 2 * _UINT64_START else _FLOAT64
    return np.array(number, numpy_dtype)


def saved_number(array: np.ndarray, number: Any) -> WrappedNumber:
    """`saved()` of a Python number, kept as its 0-d array in the op's dtype, with no tensor made for it."""
    kept = _new(WrappedNumber)
    kept._counter, kept._version = UNCHANGED, 0
    kept._tensor, kept._data, kept._number = None, array, number
    return kept


NUMBER_ARRAYS: dict[Any, np.ndarray] = {}  # float32 0-d arrays of numbers ops met, by number (see number_array)


def number_array(number: Any, numpy_dtype: np.dtype) -> np.ndarray:
    """`np.array(number, numpy_dtype)`, the array an op computes a Python number with. A float32 one of a
    nonzero finite number is also kept, read-only, in NUMBER_ARRAYS, where the next op reads it first: equal
    numbers give one float32 (2 and 2.0 alike), and -0.0, nan and numbers whose cast overflows (and warns)
    never match a key. Shared safely: such arrays stay inside the ops and their rules (see WrappedNumber)."""
    array = np.array(number, numpy_dtype)
    if numpy_dtype is _FLOAT32 and number and math.isfinite(array):
        if len(NUMBER_ARRAYS) >= 256:  # bounded, as _zero_stub's cache
            NUMBER_ARRAYS.clear()
        array.flags.writeable = False
        NUMBER_ARRAYS[number] = array
    return array


def saved_pair(node: Node) -> tuple:
    """`node.saved_tensors` of a two-operand rule, a wrapped number as the Python number it was (the rule's op
    then converts it as the forward did), checked as any saved tensor once it was shown."""
    saved = node._saved
    if saved and type(saved[1]) is WrappedNumber:
        kept = saved[1]
        if kept._tensor is not None:  # shown, so it could have been changed in place
            kept.unpack(node)
        return saved[0].unpack(node), kept._number
    return node.saved_tensors
