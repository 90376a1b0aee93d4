"""Shape ops (views share memory and the version counter), indexing, copies and dtype casts."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gradstudio.engine import _arguments, _dtype
from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.ops._core import normalize_dim, record, shape_stub, view_of
from gradstudio.engine.ops._promotion import promote_all


def _sizes(args: tuple) -> tuple:
    """Accept both `f(2, 3)` and `f((2, 3))`, as PyTorch does."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def _infer_shape(shape: tuple, numel: int) -> tuple:
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for extent in shape:
        if extent != -1:
            known *= extent
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class ViewBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (reshape(g, self.input_shape),)


class UnsafeViewBackward0(ViewBackward0):
    pass


class ReshapeAliasBackward0(ViewBackward0):
    pass


def view(a: Tensor, *shape: Any) -> Tensor:
    """Same data seen with another shape; fails where a copy would be needed."""
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        raise NotImplementedError("view(dtype) is not supported")
    target = _infer_shape(_sizes(shape), a._data.size)
    data = a._data.view()
    try:
        data.shape = target
    except AttributeError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one dimension "
                           "spans across two contiguous subspaces). Use .reshape(...) instead.") from None
    return view_of(a, record(data, ViewBackward0, (a,), input_shape=a._data.shape))


def reshape(a: Tensor, *shape: Any) -> Tensor:
    """Same values with another shape (a view when possible, else a copy)."""
    target = _infer_shape(_sizes(shape), a._data.size)
    data = a._data.view()
    try:
        data.shape = target
    except AttributeError:  # no view possible: PyTorch copies, then views the copy
        return unsafe_view(clone(a), target)
    node = ViewBackward0 if a._data.flags.c_contiguous else ReshapeAliasBackward0
    return view_of(a, record(data, node, (a,), input_shape=a._data.shape))


def unsafe_view(a: Tensor, shape: tuple) -> Tensor:
    """Reshape recorded as UnsafeViewBackward0 (how PyTorch's matmul ends)."""
    return record(a._data.reshape(shape), UnsafeViewBackward0, (a,), input_shape=a._data.shape)


class AliasBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (g,)


def alias_view(a: Tensor, node: type[Node] = AliasBackward0) -> Tensor:
    """A new tensor object over the same data (`x[...]`, or a no-op reshape)."""
    return view_of(a, record(a._data.view(), node, (a,), input_shape=a._data.shape))


def flatten(a: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one."""
    if a._data.ndim == 0:
        return reshape(a, (1,))
    start, end = normalize_dim(start_dim, a._data.ndim), normalize_dim(end_dim, a._data.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return a
    shape = a._data.shape
    merged = int(np.prod(shape[start:end + 1]))
    return reshape(a, shape[:start] + (merged,) + shape[end + 1:])


class TransposeBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (transpose(g, *self.dims),)


class TBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (t(g),)


def transpose(a: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (a view)."""
    ndim = a._data.ndim
    d0, d1 = normalize_dim(dim0, ndim), normalize_dim(dim1, ndim)
    data = np.swapaxes(a._data, d0, d1) if ndim else a._data.view()
    return view_of(a, record(data, TransposeBackward0, (a,), dims=(d0, d1)))


def t(a: Tensor) -> Tensor:
    """Transpose of a matrix (vectors and scalars are returned as they are)."""
    if a._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {a._data.ndim}D")
    return view_of(a, record(a._data.T, TBackward0, (a,)))


class PermuteBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (permute(g, tuple(np.argsort(self.dims).tolist())),)


def permute(a: Tensor, *dims: Any) -> Tensor:
    """Reorder dimensions (a view)."""
    given = _arguments.sizes("permute", dims, argument="dims")
    if len(given) != a._data.ndim:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does not match the length "
                           "of the desired ordering of dimensions i.e. input.dim() = "
                           f"{a._data.ndim} is not equal to len(dims) = {len(given)}")
    order = tuple(normalize_dim(d, a._data.ndim) for d in given)
    if len(set(order)) != len(order):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return view_of(a, record(np.transpose(a._data, order), PermuteBackward0, (a,), dims=order))


T_DEPRECATION_0D = ("Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases. "
                     "(Triggered internally at /__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4321.)")
T_DEPRECATION = (
    "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it will throw "
    "an error in a future release. Consider `x.mT` to transpose batches of matrices or `x.permute(*torch.arange("
    "x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor. (Triggered internally at "
    "/__w/pytorch/pytorch/aten/src/ATen/native/TensorShape.cpp:4314.)"
)


WARNED_ONCE: set[str] = set()


def reverse_dims(a: Tensor) -> Tensor:
    """`x.T`: all dimensions reversed (PyTorch warns unless the tensor is a matrix)."""
    if a._data.ndim != 2:
        message = T_DEPRECATION_0D if a._data.ndim == 0 else T_DEPRECATION
        if message not in WARNED_ONCE:  # PyTorch warns once per process (TORCH_WARN_ONCE)
            WARNED_ONCE.add(message)
            warnings.warn(message, UserWarning, stacklevel=3)
    return permute(a, tuple(reversed(range(a._data.ndim))))


class UnsqueezeBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (squeeze(g, self.dim),)


def unsqueeze(a: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size one at `dim` (a view)."""
    axis = normalize_dim(dim, a._data.ndim + 1)
    return view_of(a, record(np.expand_dims(a._data, axis), UnsqueezeBackward0, (a,), dim=axis))


class SqueezeBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (reshape(g, self.input_shape),)


class SqueezeBackward1(SqueezeBackward0):
    pass


class SqueezeBackward2(SqueezeBackward0):
    pass


class SqueezeBackward4(SqueezeBackward0):
    """What PyTorch's in-place `squeeze_(dims)` records (matmul of a vector and a matrix uses it)."""


def squeeze(a: Tensor, dim: Any = None) -> Tensor:
    """Drop dimensions of size one (all, or just `dim`)."""
    shape = a._data.shape
    if dim is None:
        node, axes = SqueezeBackward0, tuple(i for i, extent in enumerate(shape) if extent == 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        node = SqueezeBackward1 if isinstance(dim, int) else SqueezeBackward2
        axes = tuple(d for d in (normalize_dim(d, a._data.ndim) for d in dims) if a._data.ndim and shape[d] == 1)
    return view_of(a, record(np.squeeze(a._data, axes), node, (a,), input_shape=shape))


def squeeze_leading(a: Tensor) -> Tensor:
    """Drop a leading dimension of size one, recorded as PyTorch's matmul does it (`squeeze_` of dims [0])."""
    return view_of(a, record(np.squeeze(a._data, 0), SqueezeBackward4, (a,), input_shape=a._data.shape))


class ExpandBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        from gradstudio.engine.ops._core import reduce_to

        return (reduce_to(g, self.like),)


def expand(a: Tensor, *sizes: Any) -> Tensor:
    """Broadcast to a larger shape without copying (-1 keeps a dimension); sizes checked as PyTorch does."""
    return expand_to(a, _arguments.sizes("expand", sizes))


def expand_to(a: Tensor, target: tuple) -> Tensor:
    """`expand` to a tuple of ints already checked (a gradient spread back over a reduction's shape)."""
    shape = a._data.shape
    offset = len(target) - len(shape)
    if offset < 0:
        raise RuntimeError(f"expand({_dtype.legacy_type_name(a._data.dtype)}{{{list(shape)}}}, size={list(target)}): "
                           "the number of sizes provided "
                           f"({len(target)}) must be greater or equal to the number of dimensions in the tensor "
                           f"({len(shape)})")
    resolved = tuple(shape[i - offset] if s == -1 and i >= offset else s for i, s in enumerate(target))
    if offset and -1 in resolved[:offset]:
        raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension "
                           f"{resolved.index(-1)}")
    for i, extent in enumerate(shape):
        if extent != 1 and extent != resolved[i + offset]:
            raise RuntimeError(f"The expanded size of the tensor ({resolved[i + offset]}) must match the existing "
                               f"size ({extent}) at non-singleton dimension {i + offset}.  Target sizes: "
                               f"{list(target)}.  Tensor sizes: {list(shape)}")
    data = a._data.view() if resolved == shape else _broadcast_view(a._data, resolved)
    return view_of(a, record(data, ExpandBackward0, (a,), like=shape_stub(a)))


def _broadcast_view(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`array` broadcast to `shape`: a view with stride 0 along the broadcast dimensions.

    Writeable, as PyTorch's expand: a write through a part without repeated elements (`y.expand(3, 2)[0]`)
    reaches the base, and in-place ops refuse the parts that repeat (see `_store` in inplace.py). Built
    straight from strides (np.broadcast_to spends about 3 us in Python-level checks and returns a read-only
    array), as backward expands a gradient for every sum and mean. `shape` is already validated.
    """
    strides = (0,) * (len(shape) - array.ndim) + tuple(
        0 if extent == 1 else stride for extent, stride in zip(array.shape, array.strides))
    if not array.flags.c_contiguous or array.size == 0:  # not usable as a buffer: numpy's slower route
        return np.lib.stride_tricks.as_strided(array, shape, strides, writeable=array.flags.writeable)
    return np.ndarray(shape, array.dtype, array, 0, strides)


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


# ----- indexing ------------------------------------------------------------------------------------------


class IndexBackward(Node):
    """Backward of select/slice: the gradient placed into zeros of the input's shape."""

    def apply(self, g: Tensor) -> tuple:
        return (embed(g, self.input_shape, self.key),)


class SelectBackward0(IndexBackward):
    pass


class SliceBackward0(IndexBackward):
    pass


class SelectBackwardBackward0(Node):
    """Backward of `embed`: read the region back out (what makes indexing twice differentiable)."""

    def apply(self, g: Tensor) -> tuple:
        return (record(g._data[self.key], SliceBackward0, (g,), input_shape=g._data.shape, key=self.key),)


def embed(g: Tensor, shape: tuple, key: tuple) -> Tensor:
    """Zeros of `shape` with `g` written at `key`."""
    data = np.zeros(shape, dtype=g._data.dtype)
    data[key] = g._data
    return record(data, SelectBackwardBackward0, (g,), key=key)


def select(a: Tensor, dim: int, index: int) -> Tensor:
    """The slice at `index` along `dim` (a view with one dimension fewer)."""
    axis = normalize_dim(dim, a._data.ndim)
    extent = a._data.shape[axis]
    if not -extent <= index < extent:
        raise IndexError(f"index {index} is out of bounds for dimension {axis} with size {extent}")
    key = (slice(None),) * axis + (index,)
    data = a._data[key + (Ellipsis,)]  # with the Ellipsis numpy returns a 0-d view, not a copied scalar
    return view_of(a, record(data, SelectBackward0, (a,), input_shape=a._data.shape, key=key))


def narrow(a: Tensor, dim: int, start: int, length: int) -> Tensor:
    """Elements start..start+length along `dim` (a view)."""
    return slice_dim(a, dim, slice(start, start + length))


def slice_dim(a: Tensor, dim: int, bounds: slice) -> Tensor:
    """A basic slice along one dimension (a view)."""
    if bounds.step is not None and bounds.step <= 0:
        raise ValueError("step must be greater than zero")
    key = (slice(None),) * dim + (bounds,)
    return view_of(a, record(a._data[key], SliceBackward0, (a,), input_shape=a._data.shape, key=key))


# ----- copies and casts ----------------------------------------------------------------------------------


class CloneBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (g,)


def clone(a: Tensor) -> Tensor:
    """A copy with its own memory (recorded, so gradients flow through)."""
    return record(a._data.copy(), CloneBackward0, (a,))


def contiguous(a: Tensor) -> Tensor:
    """Self when already C-contiguous, else a copy."""
    return a if a._data.flags.c_contiguous else clone(a)


class ToCopyBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (to_dtype(g, self.input_dtype),)


def to_dtype(a: Tensor, numpy_dtype: np.dtype) -> Tensor:
    """A copy converted to another dtype (self if the dtype already matches)."""
    numpy_dtype = np.dtype(numpy_dtype)
    if a._data.dtype == numpy_dtype:
        return a
    out = record(a._data.astype(numpy_dtype), ToCopyBackward0, (a,), input_dtype=a._data.dtype)
    if numpy_dtype.kind != "f" and out.grad_fn is not None:
        out.grad_fn, out._requires_grad = None, False
    return out


def to(a: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Convert to a dtype (device arguments other than 'cpu' are refused)."""
    target, copy = kwargs.get("dtype"), kwargs.get("copy", False)
    flags = [arg for arg in args if isinstance(arg, bool)]  # to(dtype, non_blocking, copy) positionally
    if len(flags) > 1:
        copy = flags[1]
    for arg in (arg for arg in args if not isinstance(arg, bool)):
        if isinstance(arg, _dtype.dtype):
            target = arg
        elif isinstance(arg, Tensor):
            target = arg.dtype
        elif str(arg) != "cpu":
            raise RuntimeError(f"Expected one of cpu device type at start of device string: {arg}")
    numpy_dtype = a._data.dtype if target is None else target.numpy_dtype
    if copy and numpy_dtype == a._data.dtype:
        return record(a._data.copy(), ToCopyBackward0, (a,), input_dtype=a._data.dtype)
    return to_dtype(a, numpy_dtype)
