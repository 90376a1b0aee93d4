"""Ops that tile or cut a tensor (`expand_as repeat chunk split unbind`) and products built from primitives
(`outer einsum`, which need no gradient rule of their own)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstudio.engine._graph import Node, record_outputs
from gradstudio.engine._tensor import Tensor
from gradstudio.engine._views import mark_multi_output_view
from gradstudio.engine.ops._core import normalize_dim, record, view_of
from gradstudio.engine.ops.joining import cat, stack
from gradstudio.engine.ops.linalg import bmm
from gradstudio.engine.ops.shape import expand_to, permute, reshape, unsqueeze, view


def view_as(a: Tensor, other: Tensor) -> Tensor:
    """`a` viewed with `other`'s shape."""
    return view(a, other._data.shape)


def expand_as(a: Tensor, other: Tensor) -> Tensor:
    """`a` expanded to `other`'s shape (a view)."""
    return expand_to(a, other._data.shape)


class RepeatBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        from gradstudio.engine.ops.reduction import sum as sum_

        # the gradient of each copy, summed: split every dim into (repeats, extent) and add up the repeats
        split = tuple(size for pair in zip(self.repeats, self.padded_shape) for size in pair)
        total = sum_(reshape(g, split), tuple(range(0, len(split), 2)))
        return (reshape(total, self.input_shape),)


def repeat(a: Tensor, *sizes: Any) -> Tensor:
    """`a` tiled `sizes` times along each dim (leading new dims allowed)."""
    repeats = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes)
    if len(repeats) < a._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    padded = (1,) * (len(repeats) - a._data.ndim) + a._data.shape
    data = np.tile(a._data.reshape(padded), repeats)
    return record(data, RepeatBackward0, (a,), repeats=repeats, padded_shape=padded, input_shape=a._data.shape)


class _PiecesBackward(Node):
    """Backward of an op whose outputs are pieces of its input (one node for them all, as in PyTorch): the
    outputs' gradients, zeros where none arrived, put back together along the cut dim."""

    def apply(self, grads: list) -> tuple:
        filled = [grad if grad is not None else Tensor._make(np.zeros(shape, self.dtype))
                  for grad, shape in zip(grads, self.output_shapes)]
        return (self.join(filled, self.axis),)


class SplitBackward0(_PiecesBackward):
    join = staticmethod(cat)


class SplitWithSizesBackward0(_PiecesBackward):
    join = staticmethod(cat)


class UnbindBackward0(_PiecesBackward):
    join = staticmethod(stack)


def _record_pieces(a: Tensor, axis: int, keys: list[tuple], node_type: type[Node]) -> tuple[Tensor, ...]:
    """The pieces `a[key]` as views of `a`, all with one shared grad_fn (each its own output_nr)."""
    if not keys:
        return ()
    pieces = [Tensor._make(a._data[key]) for key in keys]
    first = record(pieces[0]._data, node_type, (a,), axis=axis, dtype=a._data.dtype,
                   output_shapes=[piece._data.shape for piece in pieces])
    node = first.grad_fn
    pieces[0] = first
    if node is not None:
        for piece in pieces[1:]:
            piece._requires_grad, piece.grad_fn = True, node
        record_outputs(node, pieces)
    pieces = tuple(view_of(a, piece) for piece in pieces)
    if node is not None:
        for piece in pieces:
            mark_multi_output_view(piece)
    return pieces


def _pieces(a: Tensor, axis: int, bounds: list[tuple[int, int]], node: type[Node]) -> tuple[Tensor, ...]:
    keys = [(slice(None),) * axis + (slice(start, stop),) for start, stop in bounds]
    return _record_pieces(a, axis, keys, node)


def split(a: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of `a` along `dim`: of one size (the last may be smaller) or of the listed sizes (views)."""
    _refuse_0d("split", a)
    axis = normalize_dim(dim, a._data.ndim)
    extent = a._data.shape[axis]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        starts = range(0, extent, size) if size else [0]
        return _pieces(a, axis, [(s, min(s + size, extent)) for s in starts], SplitBackward0)
    sizes = list(split_size_or_sections)
    if sum(sizes) != extent:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {extent} (input tensor's size at "
                           f"dimension {axis}), but got split_sizes={sizes}")
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
    return _pieces(a, axis, list(zip(offsets[:-1], offsets[1:])), SplitWithSizesBackward0)


def split_with_sizes(a: Tensor, split_sizes: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of `a` along `dim` of the listed sizes (views)."""
    return split(a, list(split_sizes), dim)


def _refuse_0d(name: str, a: Tensor) -> None:
    if a._data.ndim == 0:
        raise RuntimeError(f"{name} expects at least a 1-dimensional tensor")


def chunk(a: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """`a` cut into at most `chunks` equal pieces along `dim` (views)."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    _refuse_0d("chunk", a)
    extent = a._data.shape[normalize_dim(dim, a._data.ndim)]
    return split(a, max(-(-extent // chunks), 1), dim)


def unbind(a: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices of `a` along `dim`, each with that dim removed (views)."""
    if a._data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    axis = normalize_dim(dim, a._data.ndim)
    keys = [(slice(None),) * axis + (i, Ellipsis) for i in range(a._data.shape[axis])]
    return _record_pieces(a, axis, keys, UnbindBackward0)


class DiagonalBackward0(Node):
    """Backward of taking a diagonal: the gradient written onto the diagonal of zeros (recorded under
    create_graph as DiagonalBackwardBackward0, whose own backward takes the diagonal again)."""

    def apply(self, g: Tensor) -> tuple:
        data = np.zeros(self.input_shape, g._data.dtype)
        _diagonal_view(data, self.dim1, self.dim2)[...] = g._data
        return (record(data, DiagonalBackwardBackward0, (g,), dim1=self.dim1, dim2=self.dim2),)


class DiagonalBackwardBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        return (_diagonal(g, self.dim1, self.dim2),)


def _diagonal_view(data: np.ndarray, dim1: int, dim2: int) -> np.ndarray:
    """The main diagonal of dims dim1 < dim2 as a writable numpy view, put last (as PyTorch's diagonal)."""
    keep = [d for d in range(data.ndim) if d not in (dim1, dim2)]
    shape = tuple(data.shape[d] for d in keep) + (min(data.shape[dim1], data.shape[dim2]),)
    strides = tuple(data.strides[d] for d in keep) + (data.strides[dim1] + data.strides[dim2],)
    return np.lib.stride_tricks.as_strided(data, shape, strides, writeable=data.flags.writeable)


def _diagonal(a: Tensor, dim1: int, dim2: int) -> Tensor:
    """The main diagonal of dims dim1 < dim2 (a view, PyTorch's DiagonalBackward0), as einsum takes it."""
    data = _diagonal_view(a._data, dim1, dim2)
    return view_of(a, record(data, DiagonalBackward0, (a,), input_shape=a._data.shape, dim1=dim1, dim2=dim2))


def _move_last_to(a: Tensor, dim: int) -> Tensor:
    """`a.movedim(-1, dim)`: a permute (recorded even where it changes nothing, as PyTorch's movedim)."""
    order = list(range(a._data.ndim - 1))
    order.insert(dim, a._data.ndim - 1)
    return permute(a, tuple(order))


def outer(a: Tensor, b: Tensor) -> Tensor:
    """The outer product of two vectors (a column times a row)."""
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {a._data.ndim}-D")
    return reshape(a, (-1, 1)) * b


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation lowered as PyTorch lowers it, so the recorded graph is PyTorch's: each operand
    unsqueezed and permuted to (output labels, contracted labels), then reduced left to right, a pair at a
    time, by a broadcasting multiply or a permute/reshape/bmm (`_product_pair`); the contracted dims are
    finally viewed away (or, for one operand, summed)."""
    from gradstudio.engine.ops.reduction import sum as sum_

    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    equation = equation.replace(" ", "")
    inputs, _, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation"
                           if len(operands) > len(terms) else
                           "einsum(): fewer operands were provided than specified in the equation")
    if "->" not in equation:
        output = "".join(sorted(c for c in set(inputs) - {","} if inputs.count(c) == 1))
    letters = list(output) + sorted(set(inputs) - set(output) - {","})
    ops = []
    for index, (term, tensor) in enumerate(zip(terms, operands)):
        if len(term) != tensor._data.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(term)}) does not match "
                               f"the number of dimensions ({tensor._data.ndim}) for operand {index} "
                               "and no ellipsis was given")
        ops.append(_align(tensor, term, letters, index))
    contracted = range(len(output), len(letters))
    counts = {dim: sum(1 for op in ops if op._data.shape[dim] != 1) for dim in contracted}
    while len(ops) > 1:
        a, b = ops[0], ops[1]
        summed, a_only, b_only = [], [], []
        for dim in contracted:
            a_has, b_has = a._data.shape[dim] != 1, b._data.shape[dim] != 1
            if a_has and b_has:
                counts[dim] -= 1
                if counts[dim] == 1:  # no later operand has it: contract it now
                    summed.append(dim)
                    counts[dim] = 0
            elif counts[dim] == 1 and (a_has or b_has):  # only one of the pair has it: sum it out first
                (a_only if a_has else b_only).append(dim)
                counts[dim] = 0
        if a_only:
            a = _sum_kept(a, a_only)
        if b_only:
            b = _sum_kept(b, b_only)
        ops[:2] = [_product_pair(a, b, summed)]
    result = ops[0]
    if not contracted:
        return result
    if len(operands) > 1:  # every contracted dim has size 1 by now
        return view(result, result._data.shape[:len(output)])
    return sum_(result, list(contracted))


def _product_pair(left: Tensor, right: Tensor, summed: list[int]) -> Tensor:
    """`left * right` summed over the dims `summed` (kept, with size 1), as PyTorch's einsum computes it: the
    dims in both, in one and summed, laid out by permutes and reshapes into one batched matrix product."""
    if not summed:
        return left * right
    both, left_only, right_only, sum_size = [], [], [], 1
    for dim in range(left._data.ndim):
        in_left, in_right = left._data.shape[dim] != 1, right._data.shape[dim] != 1
        if dim in summed:
            if in_left and in_right:
                sum_size *= left._data.shape[dim]
            elif in_left:
                left = _sum_kept(left, dim)
            elif in_right:
                right = _sum_kept(right, dim)
        elif in_left and in_right:
            both.append(dim)
        elif in_left:
            left_only.append(dim)
        else:
            right_only.append(dim)
    if left_only and right_only and max(right_only) < min(left_only):
        # PyTorch then makes the other operand the left one (observed: ij,jk->ki multiplies jk @ ij)
        left, right, left_only, right_only = right, left, right_only, left_only
    sizes_left, sizes_right = left._data.shape, right._data.shape
    both_size = int(np.prod([sizes_left[d] for d in both]))
    left_size = int(np.prod([sizes_left[d] for d in left_only]))
    right_size = int(np.prod([sizes_right[d] for d in right_only]))
    out_size = ([sizes_left[d] for d in both] + [sizes_left[d] for d in left_only] + [1] * len(summed)
                + [sizes_right[d] for d in right_only])
    order = both + left_only + summed + right_only
    left = reshape(permute(left, tuple(order)), (both_size, left_size, sum_size))
    right = reshape(permute(right, tuple(both + summed + right_only + left_only)), (both_size, sum_size, right_size))
    back = [0] * len(order)
    for position, dim in enumerate(order):
        back[dim] = position
    return permute(view(bmm(left, right), tuple(out_size)), tuple(back))


def _sum_kept(tensor: Tensor, dims: Any) -> Tensor:
    """`tensor` summed over `dims`, kept with size 1, laid out row-major as PyTorch's sum is (numpy's keeps the
    input's order), so that the reshapes after it are views or copies exactly where PyTorch's are."""
    from gradstudio.engine.ops.reduction import sum as sum_

    result = sum_(tensor, dims, keepdim=True)
    result._data = np.ascontiguousarray(result._data)  # a fresh result: nothing else holds its array
    return result


def _align(tensor: Tensor, term: str, letters: list[str], index: int) -> Tensor:
    """`tensor` with its dims ordered as `letters` (size 1 where its term lacks a letter): a letter repeated
    in the term takes the diagonal (moved back to the letter's first dim), the missing dims are unsqueezed at
    the end, then one permute (recorded even when it changes nothing, as in PyTorch)."""
    present: list[str] = []
    for letter in term:
        if letter not in present:
            present.append(letter)
            continue
        first, repeat = present.index(letter), len(present)
        size, other = tensor._data.shape[repeat], tensor._data.shape[first]
        if size != other:
            raise RuntimeError(f"einsum(): subscript {letter} is repeated for operand {index} but the sizes don't "
                               f"match, {size} != {other}")
        tensor = _move_last_to(_diagonal(tensor, first, repeat), first)
    for letter in letters:
        if letter not in present:
            tensor = unsqueeze(tensor, -1)
            present.append(letter)
    return permute(tensor, tuple(present.index(letter) for letter in letters))
