"""What every op shares: operand conversion and type promotion, recording a node, un-broadcasting."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from gradstudio.engine import _dtype, grad_mode
from gradstudio.engine._backward import ANOMALY, record_forward_traceback
from gradstudio.engine._graph import Node, SavedTensor, edge_outputs, gradient_edge, next_sequence_nr
from gradstudio.engine._one_root import as_tensors
from gradstudio.engine._summation import torch_sum
from gradstudio.engine._tensor import Tensor
from gradstudio.engine._versions import VersionCounter
from gradstudio.engine._views import mark_view
from gradstudio.engine.ops._promotion import result_dtype, scalar_result_dtype

_STATE = grad_mode.STATE
_GRAD_OFF = grad_mode.GRAD_OFF  # empty: grad mode is on in every thread (see grad_mode.GRAD_OFF)
_make = Tensor._make
_new = object.__new__
_NODE_INIT = Node.__init__
_NDARRAY = np.ndarray
_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)


def scalar_tensor(value: Any, numpy_dtype: np.dtype) -> Tensor:
    """A 0-d constant tensor holding a Python number."""
    return Tensor._make(np.asarray(value, dtype=numpy_dtype))


def operands(a: Any, b: Any) -> tuple[Tensor, Tensor, np.ndarray, np.ndarray]:
    """Both operands as tensors, plus their data cast to the promoted dtype."""
    if type(a) is not Tensor:
        if not isinstance(a, Tensor):
            a = _make(np.asarray(a, dtype=scalar_result_dtype(b._data.dtype, a)))  # scalar_tensor(), inlined
    if type(b) is not Tensor:
        if not isinstance(b, Tensor):
            b = _make(np.asarray(b, dtype=scalar_result_dtype(a._data.dtype, b)))
    ad, bd = a._data, b._data
    if ad.dtype is not bd.dtype and ad.dtype != bd.dtype:
        target = result_dtype(ad, bd)
        ad, bd = ad.astype(target, copy=False), bd.astype(target, copy=False)
    return a, b, ad, bd


def record_pair(data: np.ndarray, node_type: type[Node], a: Tensor, b: Tensor | None) -> Tensor:
    """`record()` of a two-input op whose node type has no __init__, called once the caller knows grad mode
    is on and an operand requires grad; the caller sets the node's attributes on `out.grad_fn` directly.
    `b` is None for a Python number, which gets no edge, as a tensor that does not require grad."""
    node = _new(node_type)
    node._sequence_nr = next_sequence_nr()
    node._edges = (a.grad_fn or gradient_edge(a) if a._requires_grad else None,  # grad_fn: gradient_edge's answer
                   b.grad_fn or gradient_edge(b) if b is not None and b._requires_grad else None)
    if type(a) is not Tensor or (b is not None and type(b) is not Tensor):  # a view may be one of split's pieces
        _note_output_numbers(node, (a, b) if b is not None else (a,))
    out = _new(Tensor)  # Tensor._make(data, True), inlined: ops record only outside inference mode, so the counter
    out._data = data if type(data) is _NDARRAY else np.asarray(data)  # is made on first read (every slot set:
    out._requires_grad = True  # tests/engine/test_forward_fast_paths.py)
    out._grad = None
    out.grad_fn = node
    out._counter = None
    out._accumulator = None
    out._retains_grad = False
    if ANOMALY.enabled:
        record_forward_traceback(node)
    return out


def _note_output_numbers(node: Node, inputs: tuple) -> None:
    """Tell `node` which output of its child each edge carries when an input is one of several outputs (a piece
    of split, chunk or unbind: a floating tensor that records, so always a ViewTensor), as `record` does inline:
    without it the backward sends the piece's gradient to the child's first output."""
    for edge in node._edges:
        if edge is not None and edge._output_numbers is not None:
            node._edge_outputs = edge_outputs(inputs, node._edges)
            return


def record_unary(data: Any, node_type: type[Node], a: Tensor, save_output: bool = False,
                 save_input: bool = True) -> Tensor:
    """`record(data, node_type, (a,), save=(a,))`, or with `save_output=True` `record(data, node_type, (a,),
    save_output=True)`, or with `save_input=False` neither, for a one-input op whose node type has no
    __init__: no keyword dict, no loops (the caller sets any attributes on `out.grad_fn`)."""
    if not (a._requires_grad and (not _GRAD_OFF or _STATE.enabled)):
        return _make(data)
    node = _new(node_type)
    node._sequence_nr = next_sequence_nr()
    node._edges = (a.grad_fn or gradient_edge(a),)
    if type(a) is not Tensor:  # a view may be one of split's pieces
        _note_output_numbers(node, (a,))
    out = _new(Tensor)  # Tensor._make(data, True), inlined, as in record_pair
    out._data = data if type(data) is _NDARRAY else np.asarray(data)
    out._requires_grad = True
    out._grad = None
    out._counter = None
    out._accumulator = None
    out._retains_grad = False
    if save_output:
        kept = _new(SavedTensor)  # `out` was just made outside inference mode (ops record only there): no counter yet
        kept._counter = out._counter = VersionCounter()
        kept._version = 0
        kept._tensor, kept._data = None, out._data
        node._saved = (kept,)
    elif save_input:
        node._saved = (saved(a),)
    out.grad_fn = node
    if ANOMALY.enabled:
        record_forward_traceback(node)
    return out


def unrecorded_first(node: Node, g: Tensor) -> tuple | None:
    """The gradients of `node.unrecorded` as tensors, when grad mode is off and the rule takes this gradient;
    None when `apply` must run its recorded rule."""
    if _STATE.enabled:
        return None
    grads = node.unrecorded(g._data)
    return None if grads is None else as_tensors(grads)


def saved(tensor: Tensor) -> SavedTensor:
    """`SavedTensor(tensor)` without its __init__ call."""
    counter = tensor._counter
    if counter is None:  # Tensor._version_counter, inlined: the counter is made on first read
        counter = tensor._counter = VersionCounter()
    kept = _new(SavedTensor)
    kept._counter, kept._version = counter, counter.value
    kept._tensor, kept._data = tensor, None
    return kept


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
    """Wrap `data` as the op's result and, when grad mode and an input ask for it, attach its node.

    Written for speed (every recorded op of every step runs it): no comprehensions, which are calls of
    their own in Python 3.11, and Node and SavedTensor built without their __init__ calls."""
    out = _make(data)
    if _GRAD_OFF and not _STATE.enabled:
        return out
    for tensor in inputs:
        if tensor._requires_grad:
            break
    else:
        return out
    if node_type.__init__ is _NODE_INIT:  # Node.__init__ inlined (op nodes add no __init__ of their own)
        node = _new(node_type)
        node._sequence_nr = next_sequence_nr()
    else:
        node = node_type()
    edges = []
    for tensor in inputs:
        edges.append(gradient_edge(tensor) if tensor._requires_grad else None)
    node._edges = edges = tuple(edges)
    for edge in edges:
        if edge is not None and edge._output_numbers is not None:  # an input is one of several outputs
            node._edge_outputs = edge_outputs(inputs, edges)
            break
    if save:
        saved = []
        for tensor in save:
            counter = tensor._counter
            if counter is None:  # Tensor._version_counter, inlined: the counter is made on first read
                counter = tensor._counter = VersionCounter()
            kept = _new(SavedTensor)  # SavedTensor(tensor), inlined
            kept._counter, kept._version = counter, counter.value
            kept._tensor, kept._data = tensor, None
            saved.append(kept)
        node._saved = tuple(saved)
    if save_output:  # node.save_output(out), inlined
        kept = _new(SavedTensor)  # `out` was just made outside inference mode (ops record only there): no counter yet
        kept._counter = out._counter = VersionCounter()
        kept._version = 0
        kept._tensor, kept._data = None, out._data
        node._saved = (*node._saved, kept)
    if attributes:
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


# saved_stub's answers, mul reads them without a call: by shape for (native) float32, by (shape, dtype) for any
# other dtype (hashing a dtype costs more than the rest of the lookup; the two kinds of key never compare equal)
SAVED_STUBS: dict[tuple, SavedTensor] = {}


def saved_stub(shape: tuple[int, ...], numpy_dtype: np.dtype) -> SavedTensor:
    """`saved(shape_stub(t))` for a tensor of this shape and dtype, shared as the stub itself is: no one can
    change a stub (so its version stays 0) nor reach it through the node (`_saved_self` shows None)."""
    key = shape if numpy_dtype is _FLOAT32 else (shape, numpy_dtype)
    kept = SAVED_STUBS.get(key)
    if kept is None:
        if len(SAVED_STUBS) >= 256:  # bounded, as _zero_stub's cache
            SAVED_STUBS.clear()
        kept = SAVED_STUBS[key] = saved(_zero_stub(shape, numpy_dtype))
    return kept


def like_or_none(tensor: Tensor, result: np.ndarray) -> Tensor | None:
    """What un-broadcasting a gradient back to `tensor` needs: None when the op's `result` already has its
    shape and dtype (the gradient passes as it is), else its shape stub."""
    data = tensor._data
    if data.shape == result.shape and data.dtype is result.dtype:
        return None
    return _zero_stub(data.shape, data.dtype)


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


def reduce_to(grad: Tensor, like: Tensor | None) -> Tensor:
    """Sum a broadcast gradient back to `like`'s shape and cast it to `like`'s dtype (the one un-broadcast)."""
    if like is None:  # see like_or_none: the gradient already has the input's shape and dtype
        return grad
    shape = like._data.shape
    if grad._data.shape != shape:
        if not shape:  # a 0-d target: one sum of everything (SumBackward0), as PyTorch's sum_to
            from gradstudio.engine.ops.reduction import sum as sum_

            return reduce_to(sum_(grad), like)
        dims, extra = _broadcast_dims(grad._data.shape, shape)
        if not _STATE.enabled and grad._data.dtype.kind == "f":  # unrecorded: sum's and view's own numpy calls
            grad = _sum_to_unrecorded(grad, dims, extra, shape)
        else:
            grad = _sum_to_recorded(grad, dims, extra, shape)
    if grad._data.dtype != like._data.dtype:
        from gradstudio.engine.ops.shape import to_dtype

        grad = to_dtype(grad, like._data.dtype)
    return grad


@functools.lru_cache(maxsize=1024)
def _broadcast_dims(grad_shape: tuple[int, ...], shape: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """As PyTorch's sum_to: the dimensions a keepdim sum runs over (every broadcast one), and how many leading
    ones a view then drops. Cached: each layer's bias asks the same question every step."""
    extra = len(grad_shape) - len(shape)
    dims = tuple(range(extra)) + tuple(i + extra for i, extent in enumerate(shape)
                                       if extent == 1 and grad_shape[i + extra] != 1)
    return dims, extra


def _sum_to_recorded(grad: Tensor, dims: tuple[int, ...], extra: int, shape: tuple[int, ...]) -> Tensor:
    """reduce_to's sum and view through the engine's ops, so the un-broadcast is itself differentiable."""
    from gradstudio.engine.ops.reduction import sum as sum_
    from gradstudio.engine.ops.shape import view

    if dims:
        grad = sum_(grad, dims, keepdim=True)
    if extra:
        grad = view(grad, shape)
    return grad


def _sum_to_unrecorded(grad: Tensor, dims: tuple[int, ...], extra: int, shape: tuple[int, ...]) -> Tensor:
    """reduce_to's sum and view with grad mode off, without the ops' checks: the result is still a view of the
    sum (or of `grad`), as PyTorch's sum_to gives."""
    if dims:
        data = grad._data
        total = torch_sum(data, dims, True)  # PyTorch's float32 summation order, as the recorded sum uses
        grad = _make(total if total is not None else np.add.reduce(data, axis=dims, dtype=data.dtype, keepdims=True))
    if extra:
        data = grad._data.view()
        data.shape = shape
        grad = view_of(grad, _make(data))
    return grad


def tensor_function(function: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """`torch.f(x, ...)` form of an op: refuses a non-tensor first argument with PyTorch's TypeError."""
    name = function.__name__

    @functools.wraps(function)
    def checked(input: Any, *args: Any, **kwargs: Any) -> Tensor:  # noqa: A002 - PyTorch's argument name
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        if args or kwargs:
            return function(input, *args, **kwargs)
        return function(input)  # the common `torch.tanh(x)`: a plain call, not an unpacking one

    return checked
