"""`nn.functional` without PyTorch: literal values and gradients, recorded graphs, messages, finite differences.

The same functions are compared with real PyTorch in `test_functional_vs_torch.py`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gradstudio.engine as torch
import gradstudio.engine.nn.functional as F
from gradstudio.engine.autograd import gradcheck, gradgradcheck

LN2 = math.log(2)


def _leaf(values: Any, dtype: Any = None) -> torch.Tensor:
    return torch.tensor(values, dtype=dtype, requires_grad=True)


def _graph(node: Any) -> Any:
    """A grad_fn as nested `(name, children)`, `None` for an input without history."""
    if node is None:
        return None
    return node.name().rsplit("::", 1)[-1], tuple(_graph(child) for child, _ in node.next_functions)


LEAF = ("AccumulateGrad", ())


def _close(tensor: torch.Tensor, expected: Any) -> None:
    np.testing.assert_allclose(tensor.detach().numpy(), np.asarray(expected, dtype=np.float64), rtol=1e-5, atol=1e-6)


# ----- literal values and gradients ---------------------------------------------------------------------


@pytest.mark.parametrize(("reduction", "value", "text"), [
    ("mean", 13 / 3, "tensor(4.3333, grad_fn=<MseLossBackward0>)"),
    ("sum", 13.0, "tensor(13., grad_fn=<MseLossBackward0>)"),
    ("none", [0.0, 4.0, 9.0], "tensor([0., 4., 9.], grad_fn=<MseLossBackward0>)"),
])
def test_mse_loss_values_and_gradients(reduction: str, value: Any, text: str) -> None:
    x, target = _leaf([1.0, 2.0, 3.0]), _leaf([1.0, 0.0, 0.0])
    loss = F.mse_loss(x, target, reduction=reduction)
    assert repr(loss) == text
    _close(loss, value)
    loss.sum().backward()
    scale = 1 / 3 if reduction == "mean" else 1.0
    _close(x.grad, np.array([0.0, 4.0, 6.0]) * scale)
    _close(target.grad, np.array([0.0, -4.0, -6.0]) * scale)


def test_cross_entropy_with_class_indices() -> None:
    logits = _leaf([[0.0, 0.0], [0.0, math.log(3)]])
    loss = F.cross_entropy(logits, torch.tensor([0, 1]))
    _close(loss, (LN2 - math.log(0.75)) / 2)
    assert _graph(loss.grad_fn) == ("NllLossBackward0", (("LogSoftmaxBackward0", (LEAF,)),))
    loss.backward()
    _close(logits.grad, [[-0.25, 0.25], [0.125, -0.125]])


def test_cross_entropy_with_class_probabilities() -> None:
    logits, target = _leaf([[0.0, 0.0]]), _leaf([[0.25, 0.75]])
    loss = F.cross_entropy(logits, target)
    assert repr(loss) == "tensor(0.6931, grad_fn=<DivBackward1>)"
    loss.backward()
    _close(logits.grad, [[0.25, -0.25]])
    _close(target.grad, [[LN2, LN2]])


def test_cross_entropy_label_smoothing_mixes_in_the_uniform_distribution() -> None:
    logits = _leaf([[0.0, math.log(3)]])
    loss = F.cross_entropy(logits, torch.tensor([1]), label_smoothing=0.5)
    _close(loss, -(0.75 * math.log(0.75) + 0.25 * math.log(0.25)))
    assert loss.grad_fn.name() == "AddBackward0"
    assert [child.name() for child, _ in loss.grad_fn.next_functions] == ["MulBackward1", "MulBackward1"]


def test_nll_loss_weight_and_ignore_index() -> None:
    log_p = _leaf([[-1.0, -2.0, -3.0], [-4.0, -5.0, -6.0], [-7.0, -8.0, -9.0]])
    target, weight = torch.tensor([2, 0, -100]), torch.tensor([1.0, 2.0, 3.0])
    loss = F.nll_loss(log_p, target, weight=weight)
    _close(loss, (9 + 4) / (3 + 1))
    loss.backward()
    _close(log_p.grad, [[0, 0, -0.75], [-0.25, 0, 0], [0, 0, 0]])
    _close(F.nll_loss(log_p, target, weight=weight, reduction="none"), [9.0, 4.0, 0.0])
    _close(F.nll_loss(log_p, target, reduction="sum"), 7.0)


def test_nll_loss_mean_of_only_ignored_targets_is_nan_with_zero_gradient() -> None:
    log_p = _leaf([[-1.0, -2.0]])
    loss = F.nll_loss(log_p, torch.tensor([-100]))
    assert math.isnan(loss.item())
    loss.backward()
    _close(log_p.grad, [[0.0, 0.0]])


def test_binary_cross_entropy_clamps_the_log_at_minus_100() -> None:
    loss = F.binary_cross_entropy(torch.tensor([0.5, 0.0, 1.0]), torch.tensor([1.0, 1.0, 1.0]), reduction="none")
    _close(loss, [LN2, 100.0, 0.0])
    x, target = _leaf([0.5, 0.25]), _leaf([1.0, 0.0])
    F.binary_cross_entropy(x, target, weight=torch.tensor([1.0, 2.0])).backward()
    _close(x.grad, [-1.0, 2 * 0.25 / 0.1875 / 2])
    _close(target.grad, [0.0, math.log(3)])


def test_binary_cross_entropy_with_logits_and_pos_weight() -> None:
    x = _leaf([0.0, 100.0])
    loss = F.binary_cross_entropy_with_logits(x, torch.tensor([1.0, 0.0]), pos_weight=torch.tensor([3.0, 3.0]),
                                              reduction="none")
    _close(loss, [3 * LN2, 100.0])
    loss.sum().backward()
    _close(x.grad, [-1.5, 1.0])


def test_linear_values_gradients_and_graphs() -> None:
    x, weight, bias = _leaf([[1.0, 2.0]]), _leaf([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), _leaf([1.0, 2.0, 3.0])
    out = F.linear(x, weight, bias)
    assert repr(out) == "tensor([[2., 4., 6.]], grad_fn=<AddmmBackward0>)"
    assert _graph(out.grad_fn) == ("AddmmBackward0", (LEAF, LEAF, ("TBackward0", (LEAF,))))
    out.backward(torch.tensor([[1.0, 10.0, 100.0]]))
    _close(x.grad, [[101.0, 110.0]])
    _close(weight.grad, [[1.0, 2.0], [10.0, 20.0], [100.0, 200.0]])
    _close(bias.grad, [1.0, 10.0, 100.0])
    assert _graph(F.linear(x, weight).grad_fn) == ("MmBackward0", (LEAF, ("TBackward0", (LEAF,))))


@pytest.mark.parametrize(("shape", "contiguous", "with_bias", "outer"), [
    ((2,), True, True, ["ViewBackward0", "AddmmBackward0"]),
    ((2,), True, False, ["SqueezeBackward4", "MmBackward0"]),
    ((3, 1, 2), True, True, ["ViewBackward0", "AddmmBackward0"]),
    ((3, 1, 2), True, False, ["UnsafeViewBackward0", "MmBackward0"]),
    ((3, 2, 2), False, True, ["AddBackward0", "UnsafeViewBackward0"]),
])
def test_linear_records_like_pytorch_for_other_ranks(shape: tuple, contiguous: bool, with_bias: bool,
                                                      outer: list[str]) -> None:
    x = torch.ones(*shape, requires_grad=True)
    x_in = x if contiguous else x.transpose(0, 1)
    out = F.linear(x_in, torch.ones(4, 2), torch.ones(4) if with_bias else None)
    assert out.shape == torch.Size([*x_in.shape[:-1], 4])
    assert [out.grad_fn.name(), out.grad_fn.next_functions[0][0].name()] == outer
    _close(out, np.full(out.shape, 3.0 if with_bias else 2.0))


def test_relu_in_place_and_softmax_options() -> None:
    x = _leaf([-1.0, 2.0])
    y = x * 1
    assert F.relu(y, inplace=True) is y and y.grad_fn.name() == "ReluBackward0" and y._version == 1
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        F.relu(x, inplace=True)
    s = F.softmax(x, 0, dtype=torch.float64)
    assert s.dtype == torch.float64 and s.grad_fn.next_functions[0][0].name() == "ToCopyBackward0"
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        _close(F.log_softmax(torch.tensor([0.0, 0.0])), [-LN2, -LN2])
    assert F.softmax(x, dim=0).grad_fn.name() == "SoftmaxBackward0"


def test_exports() -> None:
    assert torch.nn.functional is F
    for name in ("relu", "sigmoid", "tanh", "softmax", "log_softmax", "linear", "mse_loss", "cross_entropy",
                 "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"):
        assert callable(getattr(F, name)) and name in F.__all__


# ----- messages -----------------------------------------------------------------------------------------


def _x(*shape: int) -> torch.Tensor:
    return torch.zeros(*shape)


def _quiet(function: Callable[..., Any], *args: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args)


ERRORS: list[tuple[Callable[[], Any], type, str]] = [
    (lambda: _quiet(F.mse_loss, _x(2, 3), _x(4)), RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    (lambda: F.mse_loss(_x(2), _x(2), reduction="avg"), ValueError, "avg is not a valid value for reduction"),
    (lambda: F.mse_loss(_x(2), _x(2), weight=_x(3)), ValueError, "Weights and input must have the same size."),
    (lambda: F.cross_entropy(_x(4, 3), torch.tensor([0, 3, 1, 2])), IndexError, "Target 3 is out of bounds."),
    (lambda: F.cross_entropy(_x(4, 3), torch.tensor([0, 1, 2])), ValueError,
     "Expected input batch_size (4) to match target batch_size (3)."),
    (lambda: F.cross_entropy(_x(2, 3), torch.tensor([0.0, 1.0])), RuntimeError,
     "expected target dtype to be Long or Byte, but got Float"),
    (lambda: F.cross_entropy(_x(2, 3), torch.tensor([[0, 1], [1, 1]])), RuntimeError,
     "0D or 1D target tensor expected, multi-target not supported"),
    (lambda: F.cross_entropy(_x(2, 3), torch.zeros(2, 3, dtype=torch.int64)), RuntimeError,
     "Expected floating point type for target with class probabilities, got Long"),
    (lambda: F.cross_entropy(_x(2, 3), _x(2, 3), ignore_index=1), RuntimeError,
     "ignore_index is not supported for floating point target"),
    (lambda: F.cross_entropy(_x(2, 3), torch.tensor([0, 1]), label_smoothing=1.5), RuntimeError,
     "label_smoothing must be between 0.0 and 1.0. Got: 1.5"),
    (lambda: F.cross_entropy(_x(2, 3), torch.tensor([0, 1]), weight=_x(4)), RuntimeError,
     "weight tensor should be defined either for all 3 classes or no classes but got weight tensor of shape: [4]"),
    (lambda: F.cross_entropy(_x(3), torch.tensor([1, 2])), ValueError,
     "For 1D input, 1D target must have size 1, but got target size: 2"),
    (lambda: F.cross_entropy(_x(2, 3, 5), torch.zeros(2, 4, dtype=torch.int64)), RuntimeError,
     "Expected target size [2, 5], got [2, 4]"),
    (lambda: F.nll_loss(torch.tensor(1.0), torch.tensor(0)), ValueError, "Expected 1 or more dimensions (got 0)"),
    (lambda: F.nll_loss(_x(2, 3), torch.tensor([0, 1]), weight=_leaf([1.0, 1.0, 1.0])), RuntimeError,
     "The function 'nll_loss_forward' is not differentiable with respect to argument 'weight'. This input cannot "
     "have requires_grad True."),
    (lambda: F.binary_cross_entropy(_x(2, 3), _x(3)), ValueError,
     "Using a target size (torch.Size([3])) that is different to the input size (torch.Size([2, 3])) is "
     "deprecated. Please ensure they have the same size."),
    (lambda: F.binary_cross_entropy(torch.tensor([1.5]), _x(1)), RuntimeError,
     "all elements of input should be between 0 and 1"),
    (lambda: F.binary_cross_entropy(_x(1), torch.tensor([-0.5])), RuntimeError,
     "all elements of target should be between 0 and 1"),
    (lambda: F.binary_cross_entropy(_x(1), torch.zeros(1, dtype=torch.float64)), RuntimeError,
     "Found dtype Double but expected Float"),
    (lambda: F.binary_cross_entropy(_x(3), _x(3), weight=_x(2)), RuntimeError,
     "Attempting to broadcast a dimension of length 2 at -1! Mismatching argument at index 1 had "
     "torch.Size([2]); but expected shape should be broadcastable to [3]"),
    (lambda: F.binary_cross_entropy_with_logits(_x(2, 3), _x(3)), ValueError,
     "Target size (torch.Size([3])) must be the same as input size (torch.Size([2, 3]))"),
    (lambda: F.linear(_x(2, 5), _x(3, 4), _x(3)), RuntimeError,
     "mat1 and mat2 shapes cannot be multiplied (2x5 and 4x3)"),
    (lambda: F.linear(_x(2, 4), _x(3, 4), _x(2)), RuntimeError,
     "The expanded size of the tensor (3) must match the existing size (2) at non-singleton dimension 1.  Target "
     "sizes: [2, 3].  Tensor sizes: [2]"),
    (lambda: F.linear(torch.tensor(1.0), _x(3, 4)), RuntimeError,
     "both arguments to linear need to be at least 1D, but they are 0D and 2D"),
    (lambda: F.linear(_x(2, 4).double(), _x(3, 4)), RuntimeError,
     "expected m1 and m2 to have the same dtype, but got: double != float"),
]


@pytest.mark.parametrize(("call", "kind", "message"), ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_misuse_raises_pytorchs_error(call: Callable[[], Any], kind: type, message: str) -> None:
    with pytest.raises(kind) as raised:
        call()
    assert str(raised.value) == message


def test_mse_loss_warns_when_target_broadcasts() -> None:
    with pytest.warns(UserWarning, match=r"Using a target size \(torch.Size\(\[3\]\)\) that is different"):
        loss = F.mse_loss(_leaf([[1.0, 2.0, 3.0]] * 2), _leaf([1.0, 2.0, 4.0]))
    assert _graph(loss.grad_fn) == ("MseLossBackward0", (LEAF, ("ExpandBackward0", (LEAF,))))
    _close(loss, 1 / 3)


def test_legacy_reduction_arguments_warn_and_apply() -> None:
    with pytest.warns(UserWarning, match="please use reduction='sum' instead"):
        _close(F.mse_loss(torch.tensor([1.0, 2.0]), _x(2), size_average=False), 5.0)


# ----- finite differences (float64) ---------------------------------------------------------------------

RNG = np.random.default_rng(7)


def _d(*shape: int, low: float = -2.0, high: float = 2.0) -> torch.Tensor:
    return torch.tensor(RNG.uniform(low, high, shape), dtype=torch.float64, requires_grad=True)


def _p(*shape: int) -> torch.Tensor:
    return _d(*shape, low=0.1, high=0.9)


def _labels(*values: Any) -> torch.Tensor:
    return torch.tensor(list(values))


def _softmax_rows(*shape: int) -> torch.Tensor:
    return F.softmax(_d(*shape), dim=1).detach().requires_grad_()


DOUBLE = torch.float64
CASES: dict[str, tuple[Callable[..., Any], tuple]] = {
    "linear_2d": (F.linear, (_d(3, 4), _d(2, 4), _d(2))),
    "linear_1d": (F.linear, (_d(4), _d(2, 4), _d(2))),
    "linear_3d": (F.linear, (_d(2, 3, 4), _d(2, 4), _d(2))),
    "linear_noncontiguous": (lambda x, w, b: F.linear(x.transpose(0, 1), w, b), (_d(3, 2, 4), _d(2, 4), _d(2))),
    "linear_no_bias": (F.linear, (_d(2, 3, 4), _d(2, 4))),
    "mse_mean": (F.mse_loss, (_d(2, 3), _d(2, 3))),
    "mse_sum": (lambda a, b: F.mse_loss(a, b, reduction="sum"), (_d(3), _d(3))),
    "mse_none": (lambda a, b: F.mse_loss(a, b, reduction="none"), (_d(2, 2), _d(2, 2))),
    "mse_weighted": (lambda a, b: F.mse_loss(a, b, weight=torch.tensor([0.5, 2.0], dtype=DOUBLE)), (_d(2), _d(2))),
    "nll_weighted": (lambda x: F.nll_loss(x, _labels(0, 2, 1), weight=torch.tensor([1.0, 2.0, 0.5], dtype=DOUBLE)),
                     (_d(3, 3),)),
    "nll_ignore_none": (lambda x: F.nll_loss(x, _labels(0, -100, 1), reduction="none"), (_d(3, 3),)),
    "nll_spatial": (lambda x: F.nll_loss(x, torch.tensor([[[0, 1], [2, 0]]])), (_d(1, 3, 2, 2),)),
    "ce_indices": (lambda x: F.cross_entropy(x, _labels(1, 0, 2)), (_d(3, 3),)),
    "ce_scalar_target": (lambda x: F.cross_entropy(x, torch.tensor(2)), (_d(3),)),
    "ce_3d_none": (lambda x: F.cross_entropy(x, torch.tensor([[0, 2], [1, 1]]), reduction="none"), (_d(2, 3, 2),)),
    "ce_probabilities": (F.cross_entropy, (_d(2, 3), _softmax_rows(2, 3))),
    "ce_probabilities_smoothed": (lambda x, p: F.cross_entropy(x, p, label_smoothing=0.2), (_d(2, 3),
                                                                                           _softmax_rows(2, 3))),
    "ce_smoothed_weighted": (lambda x: F.cross_entropy(x, _labels(1, 0, -100), label_smoothing=0.3,
                                                       weight=torch.tensor([1.0, 2.0, 0.5], dtype=DOUBLE)),
                             (_d(3, 3),)),
    "bce_mean": (F.binary_cross_entropy, (_p(2, 3), _p(2, 3))),
    "bce_weighted_sum": (lambda x, t: F.binary_cross_entropy(x, t, torch.tensor([2.0, 0.5], dtype=DOUBLE),
                                                             reduction="sum"), (_p(3, 2), _p(3, 2))),
    "bce_logits": (F.binary_cross_entropy_with_logits, (_d(2, 3, low=-4, high=4), _p(2, 3))),
    "bce_logits_pos_weight": (lambda x, t: F.binary_cross_entropy_with_logits(
        x, t, weight=torch.tensor([1.5, 0.5, 1.0], dtype=DOUBLE),
        pos_weight=torch.tensor([3.0, 0.5, 1.0], dtype=DOUBLE), reduction="none"),
        (_d(2, 3, low=-4, high=4), _p(2, 3))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_finite_differences(name: str) -> None:
    function, inputs = CASES[name]
    assert gradcheck(function, inputs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_derivatives_match_finite_differences(name: str) -> None:
    function, inputs = CASES[name]
    assert gradgradcheck(function, inputs)


def test_binary_cross_entropy_second_derivative_is_not_zero() -> None:
    x, target = _p(3), _p(3)
    (grad_x,) = torch.autograd.grad(F.binary_cross_entropy(x, target), x, create_graph=True)
    (second,) = torch.autograd.grad(grad_x.sum(), x)
    assert np.all(second.numpy() > 0)
