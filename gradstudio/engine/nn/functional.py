"""`torch.nn.functional`: activations, `linear` and the common losses, recorded as PyTorch records them."""

from __future__ import annotations

import warnings

from gradstudio.engine import _dtype
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.nn._activations import dropout, elu, gelu, leaky_relu, normalize, one_hot, silu, softplus
from gradstudio.engine.nn._elementwise import binary_cross_entropy, binary_cross_entropy_with_logits, mse_loss
from gradstudio.engine.nn._nll import cross_entropy, nll_loss
from gradstudio.engine.nn._robust import huber_loss, kl_div, l1_loss, smooth_l1_loss
from gradstudio.engine.ops import linalg, pointwise
from gradstudio.engine.ops import softmax as softmax_ops
from gradstudio.engine.ops.inplace import apply_inplace
from gradstudio.engine.ops.pointwise import sigmoid, tanh
from gradstudio.engine.ops.shape import reshape, t, to_dtype

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "linear", "mse_loss", "nll_loss", "cross_entropy",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "leaky_relu", "gelu", "silu", "elu", "softplus",
           "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div", "one_hot", "dropout", "normalize"]

# How PyTorch's matrix-product dtype message names element types.
_C_TYPE_NAMES = {"float32": "float", "float64": "double", "int64": "long int", "int32": "int", "bool": "bool"}


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002 - PyTorch's name
    """max(input, 0); with `inplace=True` the result is written into `input`."""
    if inplace:
        return apply_inplace(input, pointwise.relu)
    return pointwise.relu(input)


def _implicit_dim(name: str, ndim: int) -> int:
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as "
                  "an argument.", UserWarning, stacklevel=4)
    return 0 if ndim in (0, 1, 3) else 1


def _prepared(name: str, input: Tensor, dim: int | None, dtype: _dtype.dtype | None  # noqa: A002
              ) -> tuple[Tensor, int]:
    if dim is None:
        dim = _implicit_dim(name, input._data.ndim)
    if dtype is not None:
        input = to_dtype(input, dtype.numpy_dtype)
    return input, dim


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
            dtype: _dtype.dtype | None = None) -> Tensor:
    """exp(input) normalised to sum to one along `dim` (cast to `dtype` first if given)."""
    input, dim = _prepared("softmax", input, dim, dtype)
    return softmax_ops.softmax(input, dim)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
                dtype: _dtype.dtype | None = None) -> Tensor:
    """log(softmax(input)) along `dim`, computed stably (cast to `dtype` first if given)."""
    input, dim = _prepared("log_softmax", input, dim, dtype)
    return softmax_ops.log_softmax(input, dim)


def _check_linear(input: Tensor, weight: Tensor, bias: Tensor | None) -> None:  # noqa: A002
    if input._data.ndim == 0 or weight._data.ndim == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are {input._data.ndim}D "
                           f"and {weight._data.ndim}D")
    if bias is None and weight._data.ndim == 2 and input._data.dtype != weight._data.dtype:
        names = [_C_TYPE_NAMES[x._data.dtype.name] for x in (input, weight)]
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {names[0]} != {names[1]}")


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """input @ weight.T + bias, recorded as PyTorch does (one addmm for matrices, else matmul then add)."""
    _check_linear(input, weight, bias)
    if bias is None:
        return linalg.matmul(input, t(weight))
    ndim = input._data.ndim
    if ndim == 2:
        return linalg.addmm(bias, input, t(weight))
    if ndim == 1 or input._data.flags.c_contiguous:
        # PyTorch folds the leading dimensions into the rows of one addmm.
        rows = reshape(input, (-1, input._data.shape[-1]))
        out = linalg.addmm(bias, rows, t(weight))
        return reshape(out, input._data.shape[:-1] + out._data.shape[-1:])
    return pointwise.add(linalg.matmul(input, t(weight)), bias)
