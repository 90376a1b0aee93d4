"""Matrix products: `mm`, `mv`, `dot`, `bmm`, `addmm` and `matmul`, recorded as PyTorch records them."""

from __future__ import annotations

import numpy as np

from gradstudio.engine import grad_mode
from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.ops._core import broadcast_error, kept_if, needs, operands, record, reduce_to, shape_stub
from gradstudio.engine.ops.shape import (
    contiguous,
    expand_to,
    reshape,
    squeeze,
    squeeze_leading,
    t,
    transpose,
    unsafe_view,
    unsqueeze,
)

_STATE = grad_mode.STATE
_make = Tensor._make


def _matrix_error(a: np.ndarray, b: np.ndarray) -> RuntimeError:
    return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
                        f"{b.shape[0]}x{b.shape[1]})")


def _check_dtypes(kind: str, a: Tensor, b: Tensor) -> None:
    """PyTorch's matrix products take no mixed dtypes (and no bool): its message for each kernel."""
    da, db = a._data.dtype, b._data.dtype
    if da == db:
        if da.kind == "b":
            kernel = {"mm": "addmm_impl_cpu_", "mv": "addmv_impl_cpu"}.get(kind, kind)
            raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
        return
    from gradstudio.engine._dtype import _LEGACY_NAMES, C_TYPE_NAMES, from_numpy_dtype

    name_a, name_b = from_numpy_dtype(da).name, from_numpy_dtype(db).name
    title_a, title_b = _LEGACY_NAMES[name_a], _LEGACY_NAMES[name_b]
    messages = {
        "mm": f"expected m1 and m2 to have the same dtype, but got: {C_TYPE_NAMES[name_a]} != {C_TYPE_NAMES[name_b]}",
        "mv": f"addmv input tensors must have the same dtype, but got {title_b}, {title_a}, and {title_b}",
        "dot": f"dot : expected both vectors to have same dtype, but found {title_a} and {title_b}",
        "bmm": f"expected scalar type {title_a} but found {title_b}",
    }
    raise RuntimeError(messages[kind])


def _require_dims(name: str, a: Tensor, expected: int, label: str = "") -> None:
    if a._data.ndim != expected:
        raise RuntimeError(f"{label or 'self'} must be a {expected}D tensor" if name != "mm" else
                           f"{label or 'self'} must be a matrix")


def _for_each_other(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """What a product saves, as PyTorch: each operand only when the other one's gradient needs it."""
    return kept_if(a, b._requires_grad), kept_if(b, a._requires_grad)


def _products_unrecorded(node: Node, g: Tensor, a: np.ndarray, b: np.ndarray, first: int) -> tuple | None:
    """A product's two gradients g @ b.T and a.T @ g in numpy, as `mm(g, t(b))` and `mm(t(a), g)` compute
    them, when grad mode is off and the dtypes agree (else None: the recorded rule decides, and raises)."""
    data = g._data
    if _STATE.enabled or data.dtype is not a.dtype or data.dtype is not b.dtype:
        return None
    return (_make(data @ b.T) if needs(node, first) else None, _make(a.T @ data) if needs(node, first + 1) else None)


def _column_major(matrix: np.ndarray) -> bool:
    """Whether a matrix is laid out column by column (a transposed row-major one), as PyTorch's mm backward
    checks its operands' strides."""
    item = matrix.itemsize
    return matrix.strides[0] == item and matrix.strides[1] == item * matrix.shape[0]


def _note_layouts(out: Tensor, a: np.ndarray, b: np.ndarray) -> Tensor:
    """Remember on `out`'s node which operands were column-major (what PyTorch's backward formulas read)."""
    node = out.grad_fn
    if node is not None:
        first, second = _column_major(a), _column_major(b)
        if first or second:
            node.column_major = (first, second)
    return out


def _matrix_gradients(node: Node, g: Tensor, a: Tensor, b: Tensor, first: int) -> tuple:
    """The gradients of a @ b, recorded as PyTorch's mm_mat1_backward and mm_mat2_backward record them: for
    a column-major operand the gradient is built transposed (b @ g.t()).t() / (g.t() @ a).t()."""
    a_column, b_column = node.column_major
    grad_a = grad_b = None
    if needs(node, first):
        grad_a = t(mm(b, t(g))) if a_column else mm(g, t(b))
    if needs(node, first + 1):
        grad_b = t(mm(t(g), a)) if b_column else mm(t(a), g)
    return grad_a, grad_b


class MmBackward0(Node):
    _saved_names = ("self", "mat2")
    column_major = (False, False)  # whether self and mat2 were column-major (set by mm where one was)

    def apply(self, g: Tensor) -> tuple:
        fast = _products_unrecorded(self, g, *self.saved_arrays(), 0)
        if fast is not None:
            return fast
        a, b = self.saved_tensors
        return _matrix_gradients(self, g, a, b, 0)


def mm(a: Tensor, b: Tensor) -> Tensor:
    """Product of two matrices."""
    ad, bd = a._data, b._data
    if not _plain_matrices(ad, bd):  # else every check below passes and operands() changes nothing
        _require_dims("mm", a, 2)
        _require_dims("mm", b, 2, "mat2")
        _check_dtypes("mm", a, b)
        a, b, ad, bd = operands(a, b)
    if ad.shape[1] != bd.shape[0]:
        raise _matrix_error(ad, bd)
    return _note_layouts(record(ad @ bd, MmBackward0, (a, b), save=_for_each_other(a, b)), ad, bd)


def _plain_matrices(ad: np.ndarray, bd: np.ndarray) -> bool:
    """Whether two arrays are matrices of one floating dtype (a layer's product): mm's rank and dtype checks
    pass and promotion changes nothing, so a training step's products skip them."""
    return ad.ndim == 2 and bd.ndim == 2 and ad.dtype is bd.dtype and ad.dtype.kind == "f"


class AddmmBackward0(Node):
    column_major = (False, False)  # whether mat1 and mat2 were column-major (set by addmm where one was)

    def apply(self, g: Tensor) -> tuple:
        _, a_data, b_data = self.saved_arrays()
        fast = _products_unrecorded(self, g, a_data, b_data, 1)
        bias, a, b = self.saved_tensors
        if fast is not None:
            return (reduce_to(g, bias) if needs(self, 0) else None, *fast)
        return (reduce_to(g, bias) if needs(self, 0) else None, *_matrix_gradients(self, g, a, b, 1))


def _check_addmm(bias: Tensor, a: Tensor, b: Tensor) -> None:
    """PyTorch's checks, in its order: dtypes, ranks, inner sizes, then whether bias expands to the result."""
    from gradstudio.engine._dtype import legacy_type_name

    for label, first in (("self", bias), ("mat1", a)):
        if first._data.dtype != b._data.dtype:
            names = [legacy_type_name(x._data.dtype)[6:-6] for x in (first, b)]
            raise RuntimeError(f"{label} and mat2 must have the same dtype, but got {names[0]} and {names[1]}")
    for label, matrix in (("mat1", a), ("mat2", b)):
        if matrix._data.ndim != 2:
            raise RuntimeError(f"{label} must be a matrix, got {matrix._data.ndim}-D tensor")
    if a._data.shape[1] != b._data.shape[0]:
        raise _matrix_error(a._data, b._data)
    expand_to(bias.detach(), (a._data.shape[0], b._data.shape[1]))


def addmm(bias: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """bias + a @ b for matrices a and b (bias broadcast)."""
    _check_addmm(bias, a, b)
    # as PyTorch: the bias is not saved (only its shape), each matrix only for the other's gradient
    out = record(bias._data + a._data @ b._data, AddmmBackward0, (bias, a, b),
                 save=(shape_stub(bias), *_for_each_other(a, b)))
    return _note_layouts(out, a._data, b._data)


class MvBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        a, v = self.saved_tensors
        # PyTorch's grad.outer(vec): the gradient as a column times the vector, broadcast
        return (reshape(g, (-1, 1)) * v if needs(self, 0) else None,
                mv(t(a), g) if needs(self, 1) else None)


def mv(a: Tensor, v: Tensor) -> Tensor:
    """Matrix times vector."""
    a, v, ad, vd = operands(a, v)
    if ad.ndim != 2 or vd.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {ad.ndim}, {vd.ndim}")
    _check_dtypes("mv", a, v)
    if ad.shape[1] != vd.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({ad.shape[0]}), mat ({ad.shape[0]}x{ad.shape[1]}), "
                           f"vec ({vd.shape[0]})")
    return record(ad @ vd, MvBackward0, (a, v), save=_for_each_other(a, v))


class DotBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        a, b = self.saved_tensors
        return (g * b if needs(self, 0) else None, g * a if needs(self, 1) else None)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """Inner product of two vectors."""
    a, b, ad, bd = operands(a, b)
    if ad.ndim != 1 or bd.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {ad.ndim}D and {bd.ndim}D tensors")
    _check_dtypes("dot", a, b)
    if ad.shape != bd.shape:
        n, m = ad.shape[0], bd.shape[0]
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same "
                           f"number of elements, but got {n} and {m} elements respectively")
    return record(np.dot(ad, bd), DotBackward0, (a, b), save=_for_each_other(a, b))


class BmmBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        a, b = self.saved_tensors
        return (bmm(g, transpose(b, 1, 2)) if needs(self, 0) else None,
                bmm(transpose(a, 1, 2), g) if needs(self, 1) else None)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """Batched matrix product of two 3-d tensors."""
    a, b, ad, bd = operands(a, b)
    if ad.ndim != 3 or bd.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor" if ad.ndim != 3 else "batch2 must be a 3D tensor")
    _check_dtypes("bmm", a, b)
    if ad.shape[0] != bd.shape[0] or ad.shape[2] != bd.shape[1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{ad.shape[0]}, "
                           f"{ad.shape[2]}] but got: [{bd.shape[0]}, {bd.shape[1]}].")
    return record(np.matmul(ad, bd), BmmBackward0, (a, b), save=_for_each_other(a, b))


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """The `@` product for any ranks, dispatched as PyTorch does (dot, mv, mm, folded or batched)."""
    da, db = a._data.ndim, b._data.ndim
    if da == 2 and db == 2:  # the usual case first (no other branch takes two matrices)
        return mm(a, b)
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    if da == 1 and db == 1:
        return dot(a, b)
    if da == 2 and db == 1:
        return mv(a, b)
    if da == 1 and db == 2:
        return squeeze_leading(mm(unsqueeze(a, 0), b))
    if da == 3 and db == 3:  # a 3-D operand with one batch that requires grad is folded to a matrix
        if a._data.shape[0] == 1 and b._data.shape[0] != 1 and a._requires_grad:
            a, da = squeeze(a, 0), 2
        elif b._data.shape[0] == 1 and a._data.shape[0] != 1 and b._requires_grad:
            b, db = squeeze(b, 0), 2
    if _should_fold(a, b):
        return _folded_matmul(a, b)
    return _batched_matmul(a, b)


def _should_fold(a: Tensor, b: Tensor) -> bool:
    """PyTorch's choice of one mm/mv over bmm: the larger operand must fold into rows without a copy."""
    a_larger = a._data.ndim >= b._data.ndim
    big = a._data if a_larger else np.swapaxes(b._data, -1, -2)
    small = b if a_larger else a
    if not (big.ndim >= 3 and small._data.ndim <= 2):
        return False
    if small._requires_grad:
        return True
    if a._data.ndim == 2:
        return False
    if big.size == 0:
        return True
    strides = [stride // big.itemsize for stride in big.strides]
    return all(strides[i] == strides[i + 1] * big.shape[i + 1] for i in range(big.ndim - 2))


def _folded_matmul(a: Tensor, b: Tensor) -> Tensor:
    """N-d @ matrix or vector (or the transposed case): fold the batch into rows, one mm or mv, unfold."""
    transposed = b._data.ndim > a._data.ndim
    big = transpose(b, -1, -2) if transposed else a
    small = (t(a) if a._data.ndim == 2 else a) if transposed else b
    output_shape = big._data.shape[:-1]
    rows = reshape(big, (int(np.prod(output_shape)), big._data.shape[-1]))
    if small._data.ndim == 1:
        return unsafe_view(mv(rows, small), output_shape)
    output = unsafe_view(mm(rows, small), output_shape + (small._data.shape[1],))
    return contiguous(transpose(output, -1, -2)) if transposed else output


def _batched_matmul(a: Tensor, b: Tensor) -> Tensor:
    """Broadcast the batch dimensions, flatten them into one, bmm, unflatten."""
    sa, sb = a._data.shape, b._data.shape
    n, m1 = (sa[-2] if len(sa) > 1 else 1), sa[-1]
    m2, p = (sb[-2], sb[-1]) if len(sb) > 1 else (sb[0], 1)
    batch_a, batch_b = sa[:max(len(sa) - 2, 0)], sb[:max(len(sb) - 2, 0)]
    try:
        batch = tuple(np.broadcast_shapes(batch_a, batch_b))
    except ValueError:
        raise broadcast_error(batch_a, batch_b) from None
    count = int(np.prod(batch))
    a3 = reshape(expand_to(a, batch + (n, m1)), (count, n, m1))
    if len(sb) == 1:
        b3 = unsqueeze(reshape(expand_to(b, batch + (m2,)), (count, m2)), 2)
    else:
        b3 = reshape(expand_to(b, batch + (m2, p)), (count, m2, p))
    shape = batch + ((n,) if len(sa) > 1 else ()) + ((p,) if len(sb) > 1 else ())
    product = bmm(a3, b3)
    return unsafe_view(squeeze(product, -1) if len(sb) == 1 else product, shape)
