"""PyTorch's type promotion: a tensor with a number, two tensors, and many tensors and numbers at once."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstudio.engine import _dtype
from gradstudio.engine._tensor import Tensor

_SCALAR_DTYPES = {bool: np.dtype(np.bool_), int: _dtype.DEFAULT_INT, float: _dtype.DEFAULT_FLOAT}


def scalar_result_dtype(tensor_dtype: np.dtype, value: Any) -> np.dtype:
    """The dtype of a tensor of `tensor_dtype` combined with the Python (or numpy) number `value`."""
    if tensor_dtype.kind == "f" and type(value) in _SCALAR_DTYPES:
        return tensor_dtype  # the common case, decided early: a Python number never promotes a float tensor
    scalar_dtype = _SCALAR_DTYPES.get(type(value))
    if scalar_dtype is None:
        if isinstance(value, (np.generic,)):
            scalar_dtype = _SCALAR_DTYPES[type(value.item())]
        else:
            raise TypeError(f"unsupported operand type: '{type(value).__name__}'")
    if _dtype.category_of(scalar_dtype) > _dtype.category_of(tensor_dtype):
        return scalar_dtype
    return tensor_dtype


def result_dtype(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """PyTorch's promotion: higher category wins; within one, 0-d tensors defer to dimensioned ones."""
    da, db = a.dtype, b.dtype
    if da == db:
        return da
    ca, cb = _dtype.category_of(da), _dtype.category_of(db)
    if ca != cb:
        return da if ca > cb else db
    if a.ndim == 0 and b.ndim > 0:
        return db
    if b.ndim == 0 and a.ndim > 0:
        return da
    return np.promote_types(da, db)


def promote_all(dtypes: Any) -> np.dtype:
    """PyTorch's promotion of dimensioned tensors' dtypes (cat, stack): the highest category wins, and
    within it the wider type."""
    dtypes = iter(dtypes)
    result = next(dtypes)
    for other in dtypes:
        if other != result:
            category, other_category = _dtype.category_of(result), _dtype.category_of(other)
            if category == other_category:
                result = np.promote_types(result, other)
            elif other_category > category:
                result = other
    return result


def result_type_of(*values: Any) -> np.dtype:
    """PyTorch's result_type over tensors and Python numbers: dimensioned tensors, then 0-d tensors, then
    numbers, each later group counting only when its category is higher."""
    groups: tuple[list, list, list] = ([], [], [])
    for value in values:
        if isinstance(value, Tensor):
            groups[0 if value._data.ndim else 1].append(value._data.dtype)
        elif value is not None:
            groups[2].append(_SCALAR_DTYPES.get(type(value)) or np.asarray(value).dtype)
    result = None
    for group in groups:
        if group:
            candidate = promote_all(group)
            if result is None or _dtype.category_of(candidate) > _dtype.category_of(result):
                result = candidate
    return result


__all__ = ["scalar_result_dtype", "result_dtype", "promote_all", "result_type_of"]
