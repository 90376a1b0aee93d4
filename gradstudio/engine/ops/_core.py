"""What every op shares: operand conversion and type promotion, recording a node, un-broadcasting."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from gradstudio.engine import _dtype, grad_mode
from gradstudio.engine._backward import ANOMALY, record_forward_traceback
from gradstudio.engine._graph import Node, SavedTensor, gradient_edge
from gradstudio.engine._tensor import Tensor
from gradstudio.engine._views import mark_view

# PyTorch semantics: IEEE results (inf, nan) without warnings.
np.seterr(all="ignore")

_SCALAR_DTYPES = {bool: np.dtype(np.bool_), int: _dtype.DEFAULT_INT, float: _dtype.DEFAULT_FLOAT}


def scalar_tensor(value: Any, numpy_dtype: np.dtype) -> Tensor:
    """A 0-d constant tensor holding a Python number."""
    return Tensor._make(np.asarray(value, dtype=numpy_dtype))


def _scalar_result_dtype(tensor_dtype: np.dtype, value: Any) -> np.dtype:
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


def operands(a: Any, b: Any) -> tuple[Tensor, Tensor, np.ndarray, np.ndarray]:
    """Both operands as tensors, plus their data cast to the promoted dtype."""
    if type(a) is not Tensor:
        if not isinstance(a, Tensor):
            a = scalar_tensor(a, _scalar_result_dtype(b._data.dtype, a))
    if type(b) is not Tensor:
        if not isinstance(b, Tensor):
            b = scalar_tensor(b, _scalar_result_dtype(a._data.dtype, b))
    ad, bd = a._data, b._data
    if ad.dtype != bd.dtype:
        target = result_dtype(ad, bd)
        ad, bd = ad.astype(target, copy=False), bd.astype(target, copy=False)
    return a, b, ad, bd


def binary(function: Any, a: Any, b: Any) -> tuple[Tensor, Tensor, np.ndarray]:
    """Promote and broadcast two operands and apply `function`; PyTorch's message if shapes don't broadcast."""
    a, b, ad, bd = operands(a, b)
    try:
        return a, b, function(ad, bd)
    except ValueError:
        raise broadcast_error(ad.shape, bd.shape) from None


def float_data(array: np.ndarray) -> np.ndarray:
    """Integer and bool data promoted to the default float dtype (for ops such as exp or division)."""
    return array if array.dtype.kind == "f" else array.astype(_dtype.DEFAULT_FLOAT)


_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)


def precise(function: Callable[[np.ndarray], np.ndarray], array: np.ndarray) -> np.ndarray:
    """`function` of float data, a float32 result computed in float64 and rounded once: numpy's float32 exp,
    log and tanh agree with PyTorch's bit for bit on only 60-93% of inputs, this on 99-99.98%
    (bench/float32_agreement.py). Float64 data is computed as it is."""
    dtype = array.dtype
    if dtype is _FLOAT64:  # identity, not ==: the check runs on every transcendental op of every step
        return function(array)
    if dtype is _FLOAT32 or dtype.kind != "f":
        return function(array.astype(_FLOAT64)).astype(_FLOAT32)
    return function(array)


def record(data: Any, node_type: type[Node], inputs: tuple[Tensor, ...], *, save: tuple = (),
           save_output: bool = False, **attributes: Any) -> Tensor:
    """Wrap `data` as the op's result and, when grad mode and an input ask for it, attach its node."""
    out = Tensor._make(data)
    if not grad_mode.STATE.enabled:
        return out
    for tensor in inputs:
        if tensor._requires_grad:
            break
    else:
        return out
    node = node_type()
    node._edges = tuple([gradient_edge(t) for t in inputs])
    if save:
        node._saved = tuple([SavedTensor(t) for t in save])
    if save_output:
        node.save_output(out)
    for name, value in attributes.items():  # setattr keeps the node's attributes in its compact inline storage
        setattr(node, name, value)
    out._requires_grad = True
    out.grad_fn = node
    if ANOMALY.enabled:
        record_forward_traceback(node)
    return out


def shape_stub(tensor: Tensor) -> Tensor:
    """A data-free stand-in carrying only `tensor`'s shape and dtype (all that un-broadcasting needs)."""
    return _zero_stub(tensor._data.shape, tensor._data.dtype)


@functools.lru_cache(maxsize=256)
def _zero_stub(shape: tuple[int, ...], numpy_dtype: np.dtype) -> Tensor:
    """A read-only zero tensor that takes no memory. Shared (nothing can write to it), because building one
    costs microseconds and every add, sub, mul and expand makes one or two."""
    return Tensor._make(np.broadcast_to(np.zeros((), numpy_dtype), shape))


def kept_if(tensor: Tensor, needed: bool) -> Tensor:
    """`tensor` when a gradient formula reads it, else a stand-in that only un-broadcasts.

    PyTorch saves an operand only for the gradients it enters, so changing it in
    place afterwards (`y += y * 2`, an optimiser step on `W` in `x @ W`) is no error when nothing will read it.
    """
    return tensor if needed else shape_stub(tensor)


def view_of(base: Tensor, out: Tensor) -> Tensor:
    """Mark `out` as a view of `base`: in-place changes to either bump one shared version counter, and an
    in-place change through the view rewrites the history of `base`'s root (see _views.py)."""
    out._version_counter = base._version_counter
    mark_view(base, out)
    return out


def needs(node: Node, index: int) -> bool:
    """Whether input `index` of `node` wants a gradient."""
    return node._edges[index] is not None


def normalize_dim(dim: int, ndim: int) -> int:
    """A dimension index made non-negative, with PyTorch's error when out of range."""
    low, high = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if not low <= dim <= high:
        raise IndexError(f"Dimension out of range (expected to be in range of [{low}, {high}], but got {dim})")
    return dim % max(ndim, 1)


def normalize_dims(dim: Any, ndim: int) -> tuple[int, ...]:
    """All dimensions when `dim` is None or empty, else the given one or ones, normalised.

    A 0-d tensor has no axes: its "dim 0" (or -1) is accepted, as PyTorch does, and reduces nothing.
    """
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:  # an empty dim list reduces over every dimension, as in PyTorch
        return tuple(range(ndim))
    normalized = tuple(sorted(normalize_dim(d, ndim) for d in dims))
    if len(normalized) > 1:
        for first, second in zip(normalized, normalized[1:]):
            if first == second:
                raise RuntimeError(f"dim {first} appears multiple times in the list of dims")
    return normalized if ndim else ()


def broadcast_error(shape_a: tuple, shape_b: tuple) -> RuntimeError:
    """PyTorch's message for shapes that do not broadcast."""
    ndim = max(len(shape_a), len(shape_b))
    for offset in range(1, ndim + 1):
        size_a = shape_a[-offset] if offset <= len(shape_a) else 1
        size_b = shape_b[-offset] if offset <= len(shape_b) else 1
        if size_a != size_b and size_a != 1 and size_b != 1:
            return RuntimeError(f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) "
                                f"at non-singleton dimension {ndim - offset}")
    return RuntimeError(f"shapes {list(shape_a)} and {list(shape_b)} cannot be broadcast")


def reduce_to(grad: Tensor, like: Tensor) -> Tensor:
    """Sum a broadcast gradient back to `like`'s shape and cast it to `like`'s dtype (the one un-broadcast)."""
    shape = like._data.shape
    if grad._data.shape != shape:
        from gradstudio.engine.ops.reduction import sum as sum_

        # as PyTorch's sum_to: one keepdim sum over every broadcast dimension, then a view dropping the leading ones
        extra = grad._data.ndim - len(shape)
        if not shape:  # a 0-d target: one sum of everything (SumBackward0), as PyTorch's sum_to
            return reduce_to(sum_(grad), like)
        dims = tuple(range(extra)) + tuple(i + extra for i, extent in enumerate(shape)
                                           if extent == 1 and grad._data.shape[i + extra] != 1)
        if dims:
            grad = sum_(grad, dims, keepdim=True)
        if extra:
            from gradstudio.engine.ops.shape import view

            grad = view(grad, shape)
    if grad._data.dtype != like._data.dtype:
        from gradstudio.engine.ops.shape import to_dtype

        grad = to_dtype(grad, like._data.dtype)
    return grad


def tensor_function(function: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """`torch.f(x, ...)` form of an op: refuses a non-tensor first argument with PyTorch's TypeError."""
    name = function.__name__

    @functools.wraps(function)
    def checked(input: Any, *args: Any, **kwargs: Any) -> Tensor:  # noqa: A002 - PyTorch's argument name
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        return function(input, *args, **kwargs)

    return checked
