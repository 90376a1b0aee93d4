"""Reductions (`sum mean max min prod`), with their gradient rules (`var` and `std` are in spread.py, `softmax` in
softmax.py)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from gradstudio.engine import _dtype, grad_mode
from gradstudio.engine._aliases import MISSING, accepting_aliases
from gradstudio.engine._graph import Node
from gradstudio.engine._summation import LANES, small_total, torch_sum
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.ops._core import normalize_dim, normalize_dims, record, record_unary, unrecorded_first
from gradstudio.engine.ops.scalar import divide

_KEEPDIM_MISMATCH = "      didn't match because some of the keywords were incorrect: keepdim\n"
_DIMLESS_SIGNATURES = {
    "sum": " * (*, torch.dtype dtype = None)\n"
           " * (tuple of ints dim, bool keepdim = False, *, torch.dtype dtype = None)\n",
    "prod": " * (*, torch.dtype dtype = None)\n * (int dim, bool keepdim = False, *, torch.dtype dtype = None)\n",
    "max": f" * ()\n{_KEEPDIM_MISMATCH} * (Tensor other)\n{_KEEPDIM_MISMATCH} * (int dim, bool keepdim = False)\n",
}
_DIMLESS_SIGNATURES["mean"] = _DIMLESS_SIGNATURES["sum"]
_DIMLESS_SIGNATURES["min"] = _DIMLESS_SIGNATURES["max"]


def _refuse_keepdim_without_dim(name: str, dim: Any, keepdim: bool) -> None:
    """PyTorch has no `keepdim` without `dim` for these reductions: its overload error, method form."""
    if dim is None and keepdim:
        raise TypeError(f"{name}() received an invalid combination of arguments - got (keepdim=bool, ), but "
                        f"expected one of:\n{_DIMLESS_SIGNATURES[name]}")


def _kept_shape(shape: tuple, dims: tuple[int, ...]) -> tuple:
    return tuple(1 if i in dims else extent for i, extent in enumerate(shape))


def expand_back(g: Tensor, node: Node) -> Tensor:
    """The gradient of a reduced tensor spread back over the reduced dimensions."""
    from gradstudio.engine.ops.shape import expand_to

    return expand_to(_unreduced(g, node), node.input_shape)


def _unreduced(g: Tensor, node: Node) -> Tensor:
    """The gradient of a reduced tensor with its reduced dims back as ones (a 0-d one stays 0-d, as in PyTorch,
    unless the dims were named: sum(dim=[0, 1]) unsqueezes back like any reduction over named dims)."""
    from gradstudio.engine.ops.shape import reshape, unsqueeze

    if node.keepdim or not g._data.ndim and not (g._requires_grad and getattr(node, "dims_named", False)):
        return g
    if g._requires_grad:  # recorded (create_graph): one UnsqueezeBackward0 per reduced dim, as PyTorch's
        for dim in node.dims:
            g = unsqueeze(g, dim)
        return g
    return reshape(g, _kept_shape(node.input_shape, node.dims))


_ALL_DIMS = [tuple(range(ndim)) for ndim in range(65)]  # normalize_dims(None, ndim), for numpy's up to 64 dims


def _count(shape: tuple, dims: tuple[int, ...]) -> int:
    count = 1
    for d in dims:
        count *= shape[d]
    return count


class SumBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        grad = expand_back(g, self)
        if grad._data.dtype != self.input_dtype:  # sum(dtype=...) added up in another dtype than the input's
            from gradstudio.engine.ops.shape import to_dtype

            grad = to_dtype(grad, self.input_dtype)
        return (grad,)


class SumBackward1(SumBackward0):
    dims_named = True


def sum(a: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001
    """Sum over all elements, or over `dim`; integers and bools sum to int64."""
    _refuse_keepdim_without_dim("sum", dim, keepdim)
    dims = normalize_dims(dim, a._data.ndim)
    numpy_dtype = dtype.numpy_dtype if dtype is not None else (a._data.dtype if a._data.dtype.kind == "f"
                                                               else _dtype.DEFAULT_INT)
    # np.add.reduce is what np.sum runs for an ndarray, without np.sum's ~1.5 us of Python-level dispatch
    data = torch_sum(a._data, dims, keepdim) if numpy_dtype is a._data.dtype else None  # PyTorch's float32 order
    if data is None:
        data = np.add.reduce(a._data, axis=dims, dtype=numpy_dtype, keepdims=keepdim)
    node = SumBackward0 if dim is None else SumBackward1
    return record(data, node, (a,), input_shape=a._data.shape, dims=dims, keepdim=keepdim,
                  input_dtype=a._data.dtype)


_EXACT = 1 << 24  # every count up to this is a float32 exactly
_F32 = np.dtype(np.float32)  # the usual dtype, told by identity before asking any dtype its kind


class MeanBackward0(Node):
    keepdim = False  # a whole mean's (set by it only where a mean keeps dims)

    def unrecorded(self, gd: Any) -> tuple | None:
        """A mean to one number: the one quotient filled into a fresh array, as PyTorch's (no view). Divided
        as Python floats: a float32 (or float64) quotient rounded once from float64 is the quotient numpy's
        division gives, bit for bit (float64 carries over twice float32's digits, +2), and the count is exact
        in either dtype."""
        count = self.count
        if gd.ndim or gd.dtype is not self.input_dtype or not 0 < count <= _EXACT:
            return None
        spread = np.empty(self.input_shape, gd.dtype)
        spread.fill(float(gd) / count)
        return (spread,)

    def apply(self, g: Tensor) -> tuple:
        grads = unrecorded_first(self, g)
        if grads is not None:
            return grads
        if g._requires_grad:  # recorded (create_graph): PyTorch's order, expand then DivBackward1
            grad = divide(expand_back(g, self), self.count)
        else:
            grad = expand_back(g / self.count, self)
        return (grad if grad._data.dtype is self.input_dtype else in_input_dtype(grad, self),)


def in_input_dtype(grad: Tensor, node: Node) -> Tensor:
    """A gradient computed in a reduction's `dtype=`, converted back to its input's dtype (as PyTorch's engine
    converts every gradient to its input's)."""
    if grad._data.dtype == node.input_dtype:
        return grad
    from gradstudio.engine.ops.shape import to_dtype

    return to_dtype(grad, node.input_dtype)


class MeanBackward1(MeanBackward0):
    dims_named = True


def mean(a: Any = MISSING, /, *args: Any, **kwargs: Any) -> Tensor:
    """Arithmetic mean over all elements, or over `dim` (floating tensors only; `dtype=` computes in that
    dtype, recorded as one MeanBackward node, as in PyTorch), with NumPy's spellings and `input=` as
    `accepting_aliases` takes them. The plain whole mean of a floating tensor (`x.mean()`) is taken here, with
    no alias wrapper's call first (`Tensor.mean` is this function); any other call goes through the wrapper."""
    if args or kwargs or a is MISSING or not ((data_dtype := (data := a._data).dtype) is _F32
                                              or data_dtype.kind == "f"):
        return _mean_with_aliases(a, *args, **kwargs)
    dims, count = _ALL_DIMS[data.ndim], data.size
    if data_dtype is _F32 and 0 < count < LANES:  # a tiny float32 mean: no numpy call but the result's
        result = np.array(small_total(data) / count, _F32)  # the quotient of floats, rounded once (exact)
    else:
        total = torch_sum(data, dims, False)  # PyTorch's float32 order, as _mean's
        if total is None:
            total = np.add.reduce(data, dims, data_dtype)
        result = total / count
    out = record_unary(result, MeanBackward0, a, False, False)  # (positional: saves nothing)
    node = out.grad_fn
    if node is not None:  # (keepdim: the class's False)
        node.input_shape = data.shape
        node.dims = dims
        node.count = count
        node.input_dtype = data_dtype
    return out


mean.accepts_aliases = True  # accepting_aliases leaves it as it is (and tensor_function's wrapper, which copies it)


def _mean(a: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """`mean` with its arguments as PyTorch names them: over `dim`, kept dims, another dtype, an integer input."""
    _refuse_keepdim_without_dim("mean", dim, keepdim)
    values = a._data if dtype is None else a._data.astype(dtype.numpy_dtype)
    if values.dtype.kind != "f":
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {_dtype.legacy_type_name(values.dtype)[6:-6]}")
    dims = normalize_dims(dim, a._data.ndim)
    count = _count(a._data.shape, dims)
    # np.mean's own steps (sum in the input's dtype, divide by the count) without its ~3 us of Python
    # overhead, and without its warning for an empty slice: PyTorch returns nan silently
    total = torch_sum(values, dims, keepdim)  # PyTorch's mean is its sum (in its float32 order) / count
    if total is None:
        total = np.add.reduce(values, axis=dims, dtype=values.dtype, keepdims=keepdim)
    data = total / count
    node = MeanBackward0 if dim is None else MeanBackward1
    return record(data, node, (a,), input_shape=a._data.shape, dims=dims, keepdim=keepdim, count=count,
                  input_dtype=a._data.dtype)


_mean.__name__ = _mean.__qualname__ = "mean"  # Python's argument errors name the op as before
_mean_with_aliases = accepting_aliases(_mean)


class ReturnTypes(NamedTuple):
    """`(values, indices)` as returned by `max(dim)` and `min(dim)`."""

    values: Tensor
    indices: Tensor


def _return_type(name: str) -> type:
    cls = type(name, (ReturnTypes,), {
        "__repr__": lambda self: f"torch.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})",
        "__module__": "torch.return_types",  # as PyTorch's structseq (the class also lives in `return_types`)
    })
    return cls


MAX_RESULT, MIN_RESULT = _return_type("max"), _return_type("min")


class MaxBackward1(Node):
    """Whole-tensor max/min: ties share the gradient evenly, as PyTorch does."""

    def apply(self, g: Tensor) -> tuple:
        (a, result) = self.saved_tensors
        # a NaN maximum came from the NaNs: they share the gradient, as in PyTorch's evenly_distribute_backward
        mask = (np.isnan(a._data) if np.isnan(result._data) else a._data == result._data).astype(g._data.dtype)
        return (g * Tensor._make(mask / mask.sum()),)


class MinBackward1(MaxBackward1):
    pass


class MaxBackward0(Node):
    """max/min along a dim: the gradient goes to the index the forward picked."""

    def apply(self, g: Tensor) -> tuple:
        return (expand_back(g, self) * Tensor._make(self.onehot.astype(g._data.dtype)),)


class MinBackward0(MaxBackward0):
    pass


def _extreme(a: Tensor, dim: Any, keepdim: bool, is_max: bool) -> Any:
    _refuse_keepdim_without_dim("max" if is_max else "min", dim, keepdim)
    from gradstudio.engine.ops.selection import maximum, minimum

    if isinstance(dim, Tensor):
        return maximum(a, dim) if is_max else minimum(a, dim)
    name = "max" if is_max else "min"
    if a._data.size == 0 and dim is None:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() "
                           "== 0. Specify the reduction dim with the 'dim' argument.")
    if a._data.size == 0 and a._data.ndim and a._data.shape[normalize_dim(dim, a._data.ndim)] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {normalize_dim(dim, a._data.ndim)} to have non-zero size.")
    if dim is None:
        data = a._data.max() if is_max else a._data.min()
        node = MaxBackward1 if is_max else MinBackward1
        out = record(data, node, (a,), save=(a,), save_output=True)
        return out
    axis = normalize_dim(dim, a._data.ndim)
    pick = np.argmax if is_max else np.argmin
    indices = np.expand_dims(pick(a._data, axis=axis), axis) if a._data.ndim else np.asarray(0)
    values = np.take_along_axis(a._data, indices, axis=axis) if a._data.ndim else a._data.copy()
    onehot = np.zeros(a._data.shape, dtype=bool)
    if a._data.ndim:
        np.put_along_axis(onehot, indices, True, axis=axis)
    else:
        onehot[()] = True
    if not keepdim and a._data.ndim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    node = MaxBackward0 if is_max else MinBackward0
    values_tensor = record(values, node, (a,), input_shape=a._data.shape, dims=(axis,) if a._data.ndim else (),
                           keepdim=keepdim or not a._data.ndim, onehot=onehot)
    result_type = MAX_RESULT if is_max else MIN_RESULT
    return result_type(values_tensor, Tensor._make(indices.astype(np.int64)))


def max(a: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001 - PyTorch's name
    """Largest element; along `dim` gives (values, indices); with a tensor, the elementwise maximum."""
    return _extreme(a, dim, keepdim, is_max=True)


def min(a: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001 - PyTorch's name
    """Smallest element; along `dim` gives (values, indices); with a tensor, the elementwise minimum."""
    return _extreme(a, dim, keepdim, is_max=False)


class ProdBackward0(Node):
    """Gradient of a product, with PyTorch's formulas (so create_graph records what PyTorch records): the
    product over each factor where no factor is zero, else the products of the factors before and after each
    one (exclusive cumulative products both ways), exact with zeros."""

    def apply(self, g: Tensor) -> tuple:
        a, result = self.saved_tensors
        if a._data.dtype != result._data.dtype:  # prod(dtype=...): PyTorch's backward reads self.to(grad's dtype)
            a = a.to(result.dtype)
        if not a._data.ndim:
            return (in_input_dtype(g, self),)
        zeros = int(np.count_nonzero(a._data == 0))
        if zeros == 0:
            return (in_input_dtype(g * (result / a), self),)
        if not grad_mode.STATE.enabled and zeros > 1:
            return (in_input_dtype(Tensor._make(np.zeros(a._data.shape, a._data.dtype)), self),)
        from gradstudio.engine.ops.shape import contiguous, view
        from gradstudio.engine.ops.tiling import view_as

        return (in_input_dtype(view_as(_products_of_others(g, view(contiguous(a), -1), 0), a), self),)


class ProdBackward1(ProdBackward0):
    def apply(self, g: Tensor) -> tuple:
        from gradstudio.engine.ops.shape import unsqueeze

        a, result = self.saved_tensors
        if a._data.dtype != result._data.dtype:
            a = a.to(result.dtype)
        if not a._data.ndim:
            return (in_input_dtype(g, self),)
        dim = self.dims[0]
        if not self.keepdim:
            g, result = unsqueeze(g, dim), unsqueeze(result, dim)
        if not (a._data == 0).any():
            return (in_input_dtype(g * (result / a), self),)
        return (in_input_dtype(_products_of_others(g, a, dim), self),)


def _products_of_others(g: Tensor, a: Tensor, dim: int) -> Tensor:
    """`g` times, for each element, the product of the other elements along `dim`: the exclusive cumulative
    products from the front and from the back, multiplied (PyTorch's prod_safe_zeros_backward)."""
    from gradstudio.engine.ops.joining import cat
    from gradstudio.engine.ops.ordering import cumprod, flip
    from gradstudio.engine.ops.shape import narrow

    extent = a._data.shape[dim]
    if extent == 1:  # no other elements: PyTorch returns the gradient itself
        return g
    ones = Tensor._make(np.ones(a._data.shape[:dim] + (1,) + a._data.shape[dim + 1:], a._data.dtype))
    before = cumprod(cat([ones, narrow(a, dim, 0, extent - 1)], dim), dim)
    after = flip(cumprod(cat([ones, flip(narrow(a, dim, 1, extent - 1), (dim,))], dim), dim), (dim,))
    return g * (before * after)


def prod(a: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Product over all elements, or along `dim` (`dtype=` multiplies in that dtype, one ProdBackward node)."""
    _refuse_keepdim_without_dim("prod", dim, keepdim)
    dims = normalize_dims(dim, a._data.ndim)
    values = a._data if dtype is None else a._data.astype(dtype.numpy_dtype)
    data = np.prod(values, axis=dims, keepdims=keepdim)
    if values.dtype.kind != "f":
        data = data.astype(np.int64)
    node = ProdBackward0 if dim is None else ProdBackward1
    return record(data, node, (a,), save=(a,), save_output=True, input_shape=a._data.shape,
                  dims=dims, keepdim=keepdim if dim is not None else False, input_dtype=a._data.dtype)
