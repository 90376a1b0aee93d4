"""First derivatives under `create_graph=True` are recorded as PyTorch records them, and stay differentiable.

PyTorch computes the gradient of a loss or an activation with one backward kernel, so a first derivative shows
one node (`MseLossBackwardBackward0`, `GeluBackwardBackward0`, ...) whose edges are that kernel's inputs. For
each op below both engines build the first derivatives of `out.sum()` with create_graph; the whole grad_fn graph
behind each (names and edges), its values, and the second and third derivatives through it must agree.
"""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same  # noqa: E402

X = [[0.3, -0.7, 1.2], [0.9, 0.1, -0.4]]
Y = [[0.2, 0.5, -1.1], [0.6, -0.3, 0.8]]
P = [[0.3, 0.7, 0.2], [0.9, 0.1, 0.4]]
Q = [[0.2, 0.5, 0.1], [0.6, 0.3, 0.8]]


def _f(t: Any) -> Any:
    return t.nn.functional


# name -> (inputs, op of the leaves)
OPS: dict[str, tuple[tuple, Any]] = {
    "mse_loss": ((X, Y), lambda t, x, y: _f(t).mse_loss(x, y)),
    "mse_loss_sum": ((X, Y), lambda t, x, y: _f(t).mse_loss(x, y, reduction="sum")),
    "mse_loss_none": ((X, Y), lambda t, x, y: _f(t).mse_loss(x * 2, y, reduction="none")),
    "binary_cross_entropy": ((P, Q), lambda t, x, y: _f(t).binary_cross_entropy(x, y)),
    "binary_cross_entropy_weight": ((P, Q), lambda t, x, y: _f(t).binary_cross_entropy(
        x, y, weight=t.tensor([1.0, 2.0, 0.5], dtype=t.float64))),
    "binary_cross_entropy_of_sigmoid": ((X, Y), lambda t, x, y: _f(t).binary_cross_entropy(t.sigmoid(x),
                                                                                             t.sigmoid(y))),
    "smooth_l1_loss": ((X, Y), lambda t, x, y: _f(t).smooth_l1_loss(x, y)),
    "huber_loss": ((X, Y), lambda t, x, y: _f(t).huber_loss(x, y, delta=0.5)),
    "leaky_relu": ((X,), lambda t, x: _f(t).leaky_relu(x, 0.1)),
    "gelu": ((X,), lambda t, x: _f(t).gelu(x)),
    "gelu_tanh": ((X,), lambda t, x: _f(t).gelu(x, approximate="tanh")),
    "elu": ((X,), lambda t, x: _f(t).elu(x)),
    "softplus": ((X,), lambda t, x: _f(t).softplus(x)),
    "nll_loss": ((X,), lambda t, x: _f(t).nll_loss(x, t.tensor([0, 2]))),
    "cross_entropy": ((X,), lambda t, x: _f(t).cross_entropy(x, t.tensor([0, 2]))),
    "cross_entropy_none": ((X,), lambda t, x: _f(t).cross_entropy(x * x, t.tensor([1, 2]), reduction="none")),
    "clamp": ((X,), lambda t, x: x.clamp(-0.5, 0.5) * x),
    "clamp_tensor_bounds": ((X, Y), lambda t, x, y: t.clamp(x, y)),
    "pow": ((X,), lambda t, x: x ** 3),
    "pow_tensor_exponent_zero_bases": (([[0.0, 0.0, 2.0], [0.0, 1.5, 0.7]], [[2.0, -1.0, 0.5], [0.0, 3.0, -0.5]]),
                                       lambda t, x, y: x ** y),
    "sqrt": ((P,), lambda t, x: x.sqrt()),
    "cos": ((X,), lambda t, x: x.cos()),
    "reciprocal_scalar_over": ((P,), lambda t, x: 2 / x),
    "div": ((X, P), lambda t, x, y: x / y),
    "exp2": ((X,), lambda t, x: 2 ** x),
    "mean_dim": ((X,), lambda t, x: x.mean(1) ** 2),
    "mean_all": ((X,), lambda t, x: x.mean() * x),
    "prod_all": ((X,), lambda t, x: x.prod()),
    "prod_dim_keepdim": ((X,), lambda t, x: x.prod(1, keepdim=True)),
    "prod_one_zero": (([[0.3, 0.0, 1.2], [0.9, 0.1, -0.4]],), lambda t, x: x.prod()),
    "prod_two_zeros": (([[0.3, 0.0, 1.2], [0.0, 0.1, -0.4]],), lambda t, x: x.prod()),
    "prod_dim_zeros": (([[0.3, 0.0, 0.0], [0.9, 0.1, -0.4]],), lambda t, x: x.prod(1)),
    "prod_dim_length_one": (([[0.3], [0.0]],), lambda t, x: x.prod(1)),
    "prod_of_one_zero_element": (([0.0],), lambda t, x: x.prod() * 2),
    "prod_dtype": ((X,), lambda t, x: x.float().prod(1, dtype=t.float64)),
    "sum_over_every_named_dim": ((X,), lambda t, x: x.sum([0, 1]) ** 2),
    "mean_over_every_named_dim": ((X,), lambda t, x: x.mean((0, 1)) ** 3),
    "sum_to_0d": ((X, [1.5]), lambda t, x, s: x * s[0]),
    "var": ((X,), lambda t, x: x.var(1)),
    "var_all": ((X,), lambda t, x: x.var()),
    "std": ((X,), lambda t, x: x.std()),
    "std_dim_keepdim": ((X,), lambda t, x: x.std(0, keepdim=True)),
    "tanh_and_sigmoid": ((X,), lambda t, x: t.tanh(x) * t.sigmoid(x)),
    "log_softmax": ((X,), lambda t, x: t.log_softmax(x, 1) ** 2),
    "mm_transposed_mat2": ((X, Y), lambda t, x, y: x @ y.t()),
    "mm_transposed_mat1": ((X, Y), lambda t, x, y: x.t() @ y),
    "mm_both_transposed": ((X, Y), lambda t, x, y: t.mm(x.t(), y.t().t().t().t())),
    "linear": ((X, Y), lambda t, x, y: _f(t).linear(x, y, t.tensor([0.5, -0.5], dtype=t.float64))),
    "mv": ((X, [[0.5, -1.0, 2.0]]), lambda t, x, v: x @ v[0]),
    "outer_of_flattened": ((X, Y), lambda t, x, y: t.outer(x.flatten(), y.flatten())),
    "row_sums": ((X, Y), lambda t, x, y: (x * y).sum(1, keepdim=True) * x),
}


def _derivatives(name: str):
    inputs, op = OPS[name]

    def scenario(t: Any) -> Any:
        leaves = [t.tensor(value, dtype=t.float64, requires_grad=True) for value in inputs]
        first = t.autograd.grad(op(t, *leaves).sum(), leaves, create_graph=True)
        differentiable = [g for g in first if g.requires_grad]
        if not differentiable:  # a piecewise-linear op: its first derivative is constant, as in PyTorch
            return list(first)
        second = t.autograd.grad(sum((g * g).sum() for g in differentiable), leaves, create_graph=True,
                                 allow_unused=True)
        used = [g for g in second if g is not None and g.requires_grad]
        third = t.autograd.grad(sum((g * g).sum() for g in used), leaves, allow_unused=True) if used else ()
        return list(first), [None if g is None else g.tolist() for g in second], [g.tolist() for g in third]

    return scenario


@pytest.mark.parametrize("name", sorted(OPS))
def test_first_derivative_graph_and_higher_derivatives_match_pytorch(name: str) -> None:
    assert_same(_derivatives(name), torch)
