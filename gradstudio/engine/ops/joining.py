"""Joining tensors into one: `cat` along an existing dimension, `stack` along a new one.

Both copy into new memory with the inputs' promoted dtype; their backward cuts the gradient back into one
piece per input (as views of it, cast back to each input's dtype). The inverse ops, `split`, `chunk` and
`unbind`, are in `tiling.py`; views and casts in `shape.py`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.ops._core import normalize_dim, record
from gradstudio.engine.ops._promotion import promote_all
from gradstudio.engine.ops.shape import narrow, select, to_dtype


class CatBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        grads, start = [], 0
        for extent, input_dtype in zip(self.extents, self.dtypes):
            if extent is None:  # a legacy empty tensor, skipped by the forward: an empty gradient, as PyTorch's
                grads.append(Tensor._make(np.zeros((0,), input_dtype)))
                continue
            grads.append(to_dtype(narrow(g, self.dim, start, extent), input_dtype))
            start += extent
        return tuple(grads)


def cat(tensors: Any, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for position, x in enumerate(tensors):
        if not x._data.ndim:
            raise RuntimeError(f"zero-dimensional tensor (at position {position}) cannot be concatenated")
    # PyTorch skips legacy empty tensors (shape (0,)) when others have data: `torch.cat([torch.tensor([]), x])`
    skipped = [x._data.shape == (0,) for x in tensors]
    joined = [x for x, skip in zip(tensors, skipped) if not skip]
    if not joined:
        joined, skipped = tensors, [False] * len(tensors)
    axis = normalize_dim(dim, joined[0]._data.ndim)
    first = joined[0]._data.shape
    for number, x in enumerate(tensors):
        if skipped[number]:
            continue
        if x._data.ndim != len(first):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(first)} and {x._data.ndim}")
        for d, (expected, got) in enumerate(zip(first, x._data.shape)):
            if d != axis and expected != got:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {axis}. Expected size "
                                   f"{expected} but got size {got} for tensor number {number} in the list.")
    target = promote_all(x._data.dtype for x in tensors)
    data = np.concatenate([x._data for x in joined], axis=axis, dtype=target)
    return record(data, CatBackward0, tuple(tensors), dim=axis, dtypes=[x._data.dtype for x in tensors],
                  extents=[None if skip else x._data.shape[axis] for x, skip in zip(tensors, skipped)])


class StackBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return tuple(to_dtype(select(g, self.dim, i), input_dtype) for i, input_dtype in enumerate(self.dtypes))


def stack(tensors: Any, dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shapes = {x._data.shape for x in tensors}
    if len(shapes) > 1:
        first = tensors[0]._data.shape
        index = next(i for i, x in enumerate(tensors) if x._data.shape != first)
        raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 and "
                           f"{list(tensors[index]._data.shape)} at entry {index}")
    axis = normalize_dim(dim, tensors[0]._data.ndim + 1)
    data = np.stack([x._data for x in tensors], axis=axis, dtype=promote_all(x._data.dtype for x in tensors))
    return record(data, StackBackward0, tuple(tensors), dim=axis, dtypes=[x._data.dtype for x in tensors])
