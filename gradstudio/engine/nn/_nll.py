"""`nll_loss` and `cross_entropy`, recorded as PyTorch records them.

Class-index targets: `log_softmax` then `nll_loss` (one `NllLossBackward0`,
or `NllLoss2DBackward0` for inputs with spatial dimensions). Class-probability
targets: the same composite of `log_softmax`, `mul`, `sum`, `neg` and `div`
that PyTorch records.
"""

from __future__ import annotations

import functools

import numpy as np

from gradstudio.engine import grad_mode
from gradstudio.engine._graph import Node
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.nn._reduction import constant, masked_zero, reduction_name, refuse_grad, type_name
from gradstudio.engine.ops._core import record
from gradstudio.engine.ops.fused import fused, recording
from gradstudio.engine.ops.reduction import sum as sum_
from gradstudio.engine.ops.scalar import divide, scale, shift
from gradstudio.engine.ops.shape import reshape, unsqueeze
from gradstudio.engine.ops.softmax import LogSoftmaxBackward0, log_softmax, log_softmax_rows


class NllLossBackward0(Node):
    def apply(self, g: Tensor) -> tuple:
        if not grad_mode.STATE.enabled and g._data.dtype is self.coefficients.dtype:
            data = g._data if self.reduction != "none" or not g._data.ndim else g._data[:, None]
            return (Tensor._make(data * self.coefficients),)  # `_rule`'s one multiplication, unrecorded
        (a,) = self.saved_tensors  # saved, as PyTorch saves it: the double backward's edge to the input
        if not recording(g, a):
            return (self._rule(g),)
        return (fused(type(self).__name__.replace("Backward0", "BackwardBackward0"), lambda g, a: self._rule(g), g, a),)

    def _rule(self, g: Tensor) -> Tensor:
        if self.reduction == "none" and g._data.ndim:
            g = unsqueeze(g, 1)
        return g * constant(self.coefficients, g)


class NllLoss2DBackward0(NllLossBackward0):
    pass


def _batch_size(tensor: Tensor) -> int:
    return tensor._data.shape[0] if tensor._data.ndim else 0


def _check_shapes(input: Tensor, target: Tensor) -> None:  # noqa: A002
    ndim, target_shape = input._data.ndim, list(target._data.shape)
    if ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {ndim})")
    if ndim != 1 and input._data.shape[0] != _batch_size(target):
        raise ValueError(f"Expected input batch_size ({input._data.shape[0]}) to match target batch_size "
                         f"({_batch_size(target)}).")
    if ndim == 1 and target._data.ndim == 1 and target._data.size != 1:
        raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target._data.size}")
    expected = [input._data.shape[0], *input._data.shape[2:]]
    if ndim <= 2 and target._data.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if ndim == 4 and target._data.ndim != 3:
        raise RuntimeError("only batches of spatial targets supported (3D tensors) but got targets of dimension: "
                           f"{target._data.ndim}")
    if ndim == 4 and target_shape != expected:
        raise RuntimeError(f"size mismatch (got input: {list(input._data.shape)} , target: {target_shape}")
    if ndim >= 3 and target_shape != expected:
        raise RuntimeError(f"Expected target size {expected}, got {target_shape}")


def _check_weight_and_dtypes(input: Tensor, target: Tensor, weight: Tensor | None) -> None:  # noqa: A002
    classes = input._data.shape[0 if input._data.ndim == 1 else 1]
    if weight is not None and (weight._data.ndim != 1 or weight._data.size != classes):
        raise RuntimeError(f"weight tensor should be defined either for all {classes} classes or no classes but "
                           f"got weight tensor of shape: {list(weight._data.shape)}")
    if target._data.dtype != np.int64:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {type_name(target)}")
    if input._data.dtype.kind != "f":
        raise NotImplementedError(f"\"nll_loss_out_frame\" not implemented for '{type_name(input)}'")
    if weight is not None and weight._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected scalar type {type_name(input)} but found {type_name(weight)}")


def _picked(x: np.ndarray, target: np.ndarray, weight: np.ndarray | None, ignore_index: int
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per element: whether it counts, its class weight (0 if ignored), its input at the target class."""
    classes = x.shape[1]
    valid = target != ignore_index
    outside = valid & ((target < 0) | (target >= classes))
    if outside.any():
        raise IndexError(f"Target {target[outside].flat[0]} is out of bounds.")
    safe = np.where(valid, target, 0)
    class_weight = np.ones(classes, x.dtype) if weight is None else weight
    weights = np.where(valid, class_weight[safe], np.zeros((), x.dtype))
    if x.ndim == 2:  # take_along_axis's own indexing, without its Python-level index building
        values = x[np.arange(x.shape[0]), safe]
    else:
        values = np.take_along_axis(x, safe[:, None], axis=1)[:, 0]
    return valid, weights, values


def _every_target_counts(x: np.ndarray, t: np.ndarray, ignore_index: int) -> bool:
    """Whether `x` is a C-contiguous batch of rows whose every target is a class index in range and none is
    `ignore_index`: then each row weighs one and `_nll_unweighted` gives what the general path gives, bit for
    bit."""
    if x.ndim != 2 or not x.flags.c_contiguous or not t.size or t.size >= 1 << 24:  # a float32 count is exact
        return False
    classes = x.shape[1]
    if np.maximum.reduce(t.view(np.uint64)) >= classes:  # a negative target reads as a huge unsigned one
        return False
    return not 0 <= ignore_index < classes or not (t == ignore_index).any()


def _nll_unweighted(x: np.ndarray, t: np.ndarray, reduction: str) -> tuple[np.ndarray, np.ndarray]:
    """The loss and the gradient's coefficients for rows that all count with weight one (the usual case):
    the general path's arithmetic without its masks, since -1 * v is -v and the weights sum to the count.
    Each row's target is picked by its flat index in the C-contiguous `x` (one index array, not two)."""
    picks = _row_starts(x.size, x.shape[1]) + t
    losses = x.take(picks)  # x.reshape(-1)[picks], in one call
    np.multiply(losses, x.dtype.type(-1), out=losses)  # as the general path's -weight * value (NaN keeps its sign)
    coefficients = np.zeros(x.shape, x.dtype)  # zeros_like(x), x being C-contiguous
    if reduction == "none":
        coefficients.put(picks, -1)
        return losses, coefficients
    data = np.add.reduce(losses, axis=None, dtype=x.dtype)
    if reduction == "mean":
        count = x.dtype.type(t.size)
        data, factor = data / count, x.dtype.type(-1) / count
    else:
        factor = -1
    coefficients.put(picks, factor)
    return data, coefficients


def _nll_of_counted_rows(log_p: Tensor, t: np.ndarray, reduction: str) -> Tensor:
    """The NllLoss node of a batch of rows whose every target counts (`_every_target_counts`)."""
    data, coefficients = _nll_unweighted(log_p._data, t, reduction)
    return record(np.asarray(data, dtype=log_p._data.dtype), NllLossBackward0, (log_p,), save=(log_p,),
                  reduction=reduction, coefficients=coefficients)


@functools.lru_cache(maxsize=64)
def _row_starts(size: int, classes: int) -> np.ndarray:
    """The flat index of each row's first element in a C-contiguous (size // classes, classes) array: the same
    for every batch of a training run, so made once (read-only: it is shared)."""
    starts = np.arange(0, size, classes)
    starts.flags.writeable = False
    return starts


def _nll(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, reduction: str  # noqa: A002
         ) -> Tensor:
    """The NllLoss node proper, for an input of shape (C,), (N, C) or (N, C, H, W)."""
    x = input._data.reshape(1, -1) if input._data.ndim == 1 else input._data
    t = target._data.reshape(-1) if input._data.ndim == 1 else target._data
    if weight is None and input._data.ndim == 2 and _every_target_counts(x, t, ignore_index):
        return _nll_of_counted_rows(input, t, reduction)
    valid, weights, values = _picked(x, t, None if weight is None else weight._data, ignore_index)
    losses = np.where(valid, -weights * values, np.zeros((), x.dtype))
    coefficients = np.zeros_like(x)
    factor = -weights
    if reduction == "none":
        data = losses.reshape(target._data.shape) if input._data.ndim > 1 else losses.reshape(())
    else:
        data = np.add.reduce(losses, axis=None, dtype=x.dtype)  # np.sum's own call, without its wrapper
        if reduction == "mean":
            total = np.add.reduce(weights, axis=None, dtype=x.dtype)
            data, factor = data / total, np.where(valid, factor / total, np.zeros((), x.dtype))
    if x.ndim == 2:  # put_along_axis's own indexing, without its Python-level index building
        coefficients[np.arange(x.shape[0]), np.where(valid, t, 0)] = factor
    else:
        np.put_along_axis(coefficients, np.where(valid, t, 0)[:, None], factor[:, None], axis=1)
    node = NllLoss2DBackward0 if input._data.ndim == 4 else NllLossBackward0
    return record(np.asarray(data, dtype=x.dtype), node, (input,), save=(input,), reduction=reduction,
                  coefficients=coefficients.reshape(input._data.shape))


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
             size_average: bool | None = None, ignore_index: int = -100, reduce: bool | None = None,
             reduction: str = "mean") -> Tensor:
    """Negative log likelihood of log-probabilities `input` at class indices `target`."""
    reduction = reduction_name(reduction, size_average, reduce)
    _check_shapes(input, target)
    _check_weight_and_dtypes(input, target, weight)
    refuse_grad("nll_loss_forward", "weight", weight)
    shape = input._data.shape
    if len(shape) in (1, 2, 4):
        return _nll(input, target, weight, ignore_index, reduction)
    # Other spatial ranks go through the 2-D kernel as (N, C, 1, rest), as PyTorch does.
    rest = int(np.prod(shape[2:]))
    out = _nll(reshape(input, (shape[0], shape[1], 1, rest)), reshape(target, (shape[0], 1, rest)), weight,
               ignore_index, reduction)
    return reshape(out, target._data.shape) if reduction == "none" else out


def _class_weight_view(weight: Tensor, ndim: int) -> Tensor:
    """`weight` shaped to broadcast along the class dimension of an `ndim`-dimensional input."""
    shape = [1] * ndim
    shape[0 if ndim == 1 else 1] = weight._data.size
    return Tensor._make(weight._data.reshape(shape))


def _probability_loss(log_p: Tensor, target: Tensor, weight: Tensor | None, reduction: str,
                      label_smoothing: float) -> Tensor:
    ndim = log_p._data.ndim
    class_dim = 0 if ndim == 1 else 1
    classes = log_p._data.shape[class_dim]
    if label_smoothing > 0:
        target = shift(scale(target, 1 - label_smoothing), label_smoothing / classes)
    product = log_p * target
    if weight is not None:
        product = product * _class_weight_view(weight, ndim)
    if reduction == "none":
        return -sum_(product, class_dim)
    total = -sum_(product)
    return total if reduction == "sum" else divide(total, log_p._data.size // classes)


def _smoothing_term(log_p: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int,
                    reduction: str) -> Tensor:
    """The label-smoothing part: each sample's (weighted) sum of -log p over all classes, reduced."""
    ndim = log_p._data.ndim
    class_dim = 0 if ndim == 1 else 1
    ignored = target._data == ignore_index
    if weight is not None:
        log_p = log_p * _class_weight_view(weight, ndim)
    smooth = masked_zero(-sum_(log_p, class_dim), ignored)
    if reduction == "none":
        return smooth
    if reduction == "sum":
        return sum_(smooth)
    if weight is None:
        denominator = np.sum(~ignored)
    else:
        denominator = np.sum(weight._data[target._data[~ignored]], dtype=weight._data.dtype)
    return sum_(smooth) / Tensor._make(np.asarray(denominator))


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                  size_average: bool | None = None, ignore_index: int = -100, reduce: bool | None = None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross entropy of logits `input` against class indices or class probabilities `target`."""
    reduction = reduction_name(reduction, size_average, reduce)
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if weight is None and label_smoothing <= 0 and _counted_batch(input._data, target._data, ignore_index):
        return _cross_entropy_of_counted_rows(input, target._data, reduction)
    class_dim = 0 if input._data.ndim == 1 else 1
    if input._data.shape == target._data.shape:
        if target._data.dtype.kind != "f":
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                               f"{type_name(target)}")
        if ignore_index != -100:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _probability_loss(log_softmax(input, class_dim), target, weight, reduction, label_smoothing)
    log_p = log_softmax(input, class_dim)  # refuses an integer input (with its dim checked first), as PyTorch
    loss = nll_loss(log_p, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing <= 0:
        return loss
    classes = input._data.shape[class_dim]
    smooth = _smoothing_term(log_p, target, weight, ignore_index, reduction)
    return scale(loss, 1 - label_smoothing) + scale(smooth, label_smoothing / classes)


def _counted_batch(x: np.ndarray, t: np.ndarray, ignore_index: int) -> bool:
    """Whether cross_entropy of logits `x` at targets `t` is a batch of floating rows, one class index each,
    every one of them counting: every check of the general path passes, and its nll_loss takes
    `_nll_unweighted`."""
    return (x.ndim == 2 and t.ndim == 1 and x.dtype.kind == "f" and t.dtype == np.int64 and len(t) == len(x)
            and _every_target_counts(x, t, ignore_index))


def _cross_entropy_of_counted_rows(input: Tensor, t: np.ndarray, reduction: str) -> Tensor:  # noqa: A002
    """cross_entropy of a `_counted_batch`, recorded as the general path records it (LogSoftmaxBackward0 over
    dim 1, then NllLossBackward0, the same values saved) without the checks of log_softmax and nll_loss it
    passes (~10 us of a training step's 35 in isolation, twice that in-step, where every Python call runs
    with caches cold after the matrix products and the optimiser's passes)."""
    log_p = record(log_softmax_rows(input._data), LogSoftmaxBackward0, (input,), save_output=True, dim=1)
    return _nll_of_counted_rows(log_p, t, reduction)
