"""Every differentiable op of the engine's contract, checked against finite differences.

One table (`CASES`) lists the op applications; the tests below run each through
`gradcheck` (first derivatives) and `gradgradcheck` (second derivatives) in
float64, check the layout of every gradient, and a test asserts that the table
names every op of the contract. Hypothesis then draws broadcasting shapes for
the binary elementwise ops, and two double-backward facts close the file.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import gradstudio.engine as torch
from gradstudio.engine._graph import Node
from gradstudio.engine.autograd import gradcheck, gradgradcheck
from gradstudio.engine.autograd.gradcheck import GradcheckError
from gradstudio.engine.ops._core import record

Sampler = Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]
KINKS = (-0.5, 0.0, 0.5)  # where relu, abs and the clamp cases below are not differentiable


def _real(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape)


def _positive(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.5, 2.0, shape)


def _nonzero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape)


def _off_kinks(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    values = rng.uniform(-1.5, 1.5, shape)
    near = np.zeros(shape, dtype=bool)
    for kink in KINKS:
        near |= np.abs(values - kink) < 0.1
    # kinks are 0.5 apart, so a shift of 0.25 lands at least 0.15 from every kink
    return np.where(near, values + 0.25, values)


@dataclass(frozen=True)
class Arg:
    """One input of a case: shape, how its values are drawn, dtype, whether it requires grad."""

    shape: tuple[int, ...]
    sample: Sampler = _real
    dtype: Any = torch.float64
    requires_grad: bool = True

    def make(self, rng: np.random.Generator) -> torch.Tensor:
        """A fresh leaf tensor drawn from this argument's domain."""
        return torch.tensor(self.sample(rng, self.shape), dtype=self.dtype, requires_grad=self.requires_grad)


def real(*shape: int) -> Arg:
    """Any real values (standard normal)."""
    return Arg(shape)


def positive(*shape: int) -> Arg:
    """Values in [0.5, 2] (for log, sqrt, fractional powers, pow bases)."""
    return Arg(shape, _positive)


def nonzero(*shape: int) -> Arg:
    """Values with 0.5 <= |v| <= 1.5 (for division, reciprocal, negative powers)."""
    return Arg(shape, _nonzero)


def off_kinks(*shape: int) -> Arg:
    """Values at least 0.1 away from the KINKS (for abs, relu, clamp at +-0.5, where on a sign)."""
    return Arg(shape, _off_kinks)


def fixed(values: Any) -> Arg:
    """Exactly these values (zeros for prod, chosen orderings)."""
    array = np.asarray(values, dtype=np.float64)
    return Arg(array.shape, lambda rng, shape: array.copy())


def single(*shape: int, sample: Sampler = _real) -> Arg:
    """A float32 input (for dtype conversions)."""
    return Arg(shape, sample, torch.float32)


@dataclass(frozen=True)
class Case:
    """One row of the table: a contract op applied to inputs drawn from their domains."""

    op: str
    name: str
    fn: Callable[..., Any]
    args: tuple[Arg, ...]
    eps: float = 1e-6
    atol: float = 1e-5
    first_order_only: str = ""  # why the second derivative is not defined at these inputs

    def inputs(self) -> tuple[torch.Tensor, ...]:
        """The case's inputs, the same on every call (seeded by the case's name)."""
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        return tuple(arg.make(rng) for arg in self.args)


def case(op: str, name: str, fn: Callable[..., Any], *args: Arg, eps: float = 1e-6, atol: float = 1e-5,
         first_order_only: str = "") -> Case:
    """A table row (keyword tolerances only where float32 or a coarse step needs them)."""
    return Case(op, name, fn, args, eps, atol, first_order_only)


# ----- in-place updates of non-leaves (statements, so they cannot be lambdas) ---------------------------


def add_(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y.add_(z, alpha=2)."""
    y = x * 1
    return y.add_(z, alpha=2)


def sub_(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x.clone(); y.sub_(z)."""
    y = x.clone()
    return y.sub_(z)


def mul_(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y.mul_(z); y.mul_(z) (the second multiply sees the first's result)."""
    y = x * 1
    y.mul_(z)
    return y.mul_(z)


def div_(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x + 0; y.div_(z)."""
    y = x + 0
    return y.div_(z)


def iadd(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y += z; then used again."""
    y = x * 1
    y += z
    return y * x


def isub(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y -= z."""
    y = x * 1
    y -= z
    return y


def imul(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y *= z; y *= 3."""
    y = x * 1
    y *= z
    y *= 3
    return y


def itruediv(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y /= z."""
    y = x * 1
    y /= z
    return y


def zero_(x: torch.Tensor) -> torch.Tensor:
    """y = x * 2; y.zero_(); y + x (the zeroed path carries no gradient, the other does)."""
    y = x * 2
    y.zero_()
    return y + x


def set_row(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y[0] = z."""
    y = x * 1
    y[0] = z
    return y


def set_column_scaled(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y[:, 1] = z * 2; the result multiplied by x."""
    y = x * 1
    y[:, 1] = z * 2
    return y * x


def set_strided_broadcast(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y[..., ::2] = z with z broadcast over the rows."""
    y = x * 1
    y[..., ::2] = z
    return y


def set_with_leading_one(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y[1] = z where z has an extra leading dimension of size one."""
    y = x * 1
    y[1] = z
    return y


def set_into_constant(z: torch.Tensor) -> torch.Tensor:
    """y = zeros(2, 3); y[1] = z (a tensor that did not require grad starts to)."""
    y = torch.zeros(2, 3, dtype=torch.float64)
    y[1] = z
    return y


def iadd_item(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y[0] += z (an in-place add on a view, then item assignment)."""
    y = x * 1
    y[0] += z
    return y


def iadd_own_multiple(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y += y * 2 (y was multiplied by a constant, so nothing saved it); then y * z."""
    y = x * 1
    y += y * 2
    return y * z


def add_self_inplace(x: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y.add_(y) (the tensor itself as the other operand)."""
    y = x * 1
    return y.add_(y)


def set_row_from_row(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y[1] = y[0] * 2; y[0] = z (a value computed from a view of y itself, then overwritten)."""
    y = x * 1
    y[1] = y[0] * 2
    y[0] = z
    return y * y


# ----- in-place updates through views of non-leaves (the base's history must learn of them) -----------------


def mul_select(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y[0].mul_(z); y * y (the row's old values reach x only through z's product)."""
    y = x * 1
    y[0].mul_(z)
    return y * y


def add_transposed(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y.t().add_(z, alpha=2); y * x."""
    y = x * 1
    y.t().add_(z, alpha=2)
    return y * x


def div_viewed(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y.view(6).div_(z)."""
    y = x * 1
    y.view(6).div_(z)
    return y


def sub_sliced(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x + 0; y[1:].sub_(z); y.exp()."""
    y = x + 0
    y[1:].sub_(z)
    return y.exp()


def iadd_unsqueezed(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; v = y.unsqueeze(0); v += z; y * y."""
    y = x * 1
    v = y.unsqueeze(0)
    v += z
    return y * y


def imul_transposed(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; v = y.T; v *= z; y."""
    y = x * 1
    v = y.T
    v *= z
    return y


def mul_view_of_view(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y.permute(2, 0, 1)[1].mul_(z) (a view of a view writes into the root)."""
    y = x * 1
    y.permute(2, 0, 1)[1].mul_(z)
    return y


def mul_then_add_through_view(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; v = y[:, 1]; v.mul_(z); v.add_(z); y * y (the second op sees the first's history)."""
    y = x * 1
    v = y[:, 1]
    v.mul_(z)
    v.add_(z)
    return y * y


def view_used_after(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; v = y[1]; v.mul_(z); v * x[0] (the view's own history is the base's new one)."""
    y = x * 1
    v = y[1]
    v.mul_(z)
    return v * x[0]


def sibling_view(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; row, column = y[0], y[:, 1]; row.mul_(z); column * column (the column saw the change)."""
    y = x * 1
    row, column = y[0], y[:, 1]
    row.mul_(z)
    return column * column


def zero_column(x: torch.Tensor) -> torch.Tensor:
    """y = x * 2; y[:, 1].zero_(); y * x."""
    y = x * 2
    y[:, 1].zero_()
    return y * x


def add_into_constant_row(z: torch.Tensor) -> torch.Tensor:
    """y = zeros(2, 3); y[1].add_(z) (a base that did not require grad starts to)."""
    y = torch.zeros(2, 3, dtype=torch.float64)
    y[1].add_(z)
    return y


def relu_inplace_on_row(x: torch.Tensor) -> torch.Tensor:
    """y = x * 3; relu(y[0], inplace=True); y * x."""
    y = x * 3
    torch.nn.functional.relu(y[0], inplace=True)
    return y * x


def set_in_view(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; v = y[0]; v[1:] = z * 2; y (item assignment into a view writes into its base)."""
    y = x * 1
    v = y[0]
    v[1:] = z * 2
    return y


def set_everything(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y[...] = z (broadcast over the rows); y * x."""
    y = x * 1
    y[...] = z
    return y * x


def set_masked(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """y = x * 1; y[x > 0] = z (a boolean mask: assignment at tensor indices)."""
    y = x * 1
    y[x > 0] = z
    return y * y


def to_float64_squared(x: torch.Tensor) -> torch.Tensor:
    """A float32 input converted to float64 (squared, so the float64 result is used twice)."""
    y = x.to(torch.float64)
    return y * y


class Cube(torch.autograd.Function):
    """A custom Function whose backward is written with engine ops (so it is twice differentiable)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


MATMUL_SHAPES_A = {1: (3,), 2: (2, 3), 3: (2, 2, 3), 4: (3, 1, 2, 3)}
MATMUL_SHAPES_B = {1: (3,), 2: (3, 2), 3: (1, 3, 2), 4: (1, 2, 3, 2)}


def _matmul_cases() -> list[Case]:
    """`torch.matmul` for every pair of ranks 1..4; the batch dimensions broadcast against each other."""
    return [case("matmul", f"matmul_{rank_a}d_{rank_b}d", torch.matmul, real(*shape_a), real(*shape_b))
            for rank_a, shape_a in MATMUL_SHAPES_A.items() for rank_b, shape_b in MATMUL_SHAPES_B.items()]


CASES: list[Case] = [
    # binary arithmetic, with broadcasting and Python scalars on either side
    case("+", "add", lambda x, y: x + y, real(2, 3), real(2, 3)),
    case("+", "add_broadcast", lambda x, y: x + y, real(2, 3), real(3)),
    case("+", "add_scalar", lambda x: x + 1.5, real(2, 3)),
    case("+", "radd_scalar", lambda x: 2.0 + x, real(3)),
    case("+", "add_alpha", lambda x, y: torch.add(x, y, alpha=2), real(2, 1), real(1, 3)),
    case("-", "sub", lambda x, y: x - y, real(2, 1), real(1, 3)),
    case("-", "sub_scalar", lambda x: x - 0.5, real(3)),
    case("-", "rsub_scalar", lambda x: 1.5 - x, real(2, 2)),
    case("-", "sub_alpha", lambda x, y: torch.sub(x, y, alpha=3), real(3), real(2, 3)),
    case("*", "mul", lambda x, y: x * y, real(2, 3), real(2, 3)),
    case("*", "mul_broadcast", lambda x, y: torch.mul(x, y), real(3, 1, 2), real(2)),
    case("*", "mul_scalar", lambda x: x * 3, real(2, 3)),
    case("*", "rmul_scalar", lambda x: 3 * x, real(3)),
    case("*", "mul_self", lambda x: x * x, real(2, 3)),
    case("/", "div", lambda x, y: x / y, real(2, 3), nonzero(2, 3)),
    case("/", "div_broadcast", lambda x, y: torch.div(x, y), real(3), nonzero(2, 1)),
    case("/", "div_scalar", lambda x: x / 2, real(2, 3)),
    case("/", "rdiv_scalar", lambda x: 2 / x, nonzero(2, 3)),
    case("**", "pow_cube", lambda x: x ** 3, real(2, 3)),
    case("**", "pow_half", lambda x: x ** 0.5, positive(2, 3)),
    case("**", "pow_negative", lambda x: x ** -2, nonzero(2, 3)),
    case("**", "pow_zero", lambda x: x ** 0, real(3)),
    case("**", "pow_one", lambda x: x ** 1, real(3)),
    case("** tensor", "pow_tensor_zero_base", lambda x, y: x ** y, fixed([0.0, 0.0, 0.7, 0.0]),
         fixed([2.0, 3.0, 1.5, 4.0]), first_order_only="d/dy x**y = x**y log x has no derivative in x at x = 0"),
    case("** tensor", "pow_tensor_0d_exponent", lambda x, y: x ** y, positive(2, 3), real()),
    case("pow", "pow_function_scalar", lambda x: torch.pow(x, 2), real(2, 3)),
    case("pow", "pow_method_scalar", lambda x: x.pow(1.5), positive(3)),
    case("** tensor", "pow_tensor", lambda x, y: x ** y, positive(2, 3), real(2, 3)),
    case("** tensor", "pow_tensor_broadcast", lambda x, y: torch.pow(x, y), positive(2, 1), real(3)),
    case("** scalar base", "rpow", lambda x: 2 ** x, real(2, 3)),
    case("** scalar base", "rpow_fraction", lambda x: 0.5 ** x, real(3)),
    case("** scalar base", "pow_function_scalar_base", lambda x: torch.pow(3.0, x), real(2, 2)),
    case("** scalar base", "rpow_zero_base", lambda x: 0 ** x, positive(3),
         first_order_only="PyTorch's second derivative of 0 ** x is 0 * log(0) = nan too"),
    case("neg", "neg", lambda x: -x, real(2, 3)),
    case("neg", "neg_function", torch.neg, real(3)),
    # unary math
    case("abs", "abs", torch.abs, off_kinks(2, 3)),
    case("abs", "abs_method", lambda x: x.abs() * x, off_kinks(3)),
    case("exp", "exp", torch.exp, real(2, 3)),
    case("log", "log", torch.log, positive(2, 3)),
    case("logit", "logit", torch.logit, fixed([[0.2, 0.7, 0.4], [0.9, 0.1, 0.55]])),
    case("sqrt", "sqrt", lambda x: x.sqrt(), positive(2, 3)),
    case("sin", "sin", torch.sin, real(2, 3)),
    case("cos", "cos", lambda x: x.cos(), real(2, 3)),
    case("tanh", "tanh", torch.tanh, real(2, 3)),
    case("sigmoid", "sigmoid", lambda x: x.sigmoid(), real(2, 3)),
    case("sigmoid", "sigmoid_large", torch.sigmoid, fixed([-30.0, -3.0, 0.0, 4.0, 25.0])),
    case("relu", "relu", torch.relu, off_kinks(2, 3)),
    case("relu", "relu_functional", lambda x: torch.nn.functional.relu(x) * x, off_kinks(4)),
    case("reciprocal", "reciprocal", torch.reciprocal, nonzero(2, 3)),
    case("reciprocal", "reciprocal_method", lambda x: x.reciprocal(), nonzero(3)),
    # selection
    case("clamp", "clamp_both", lambda x: torch.clamp(x, -0.5, 0.5), off_kinks(3, 4)),
    case("clamp", "clamp_min", lambda x: x.clamp(min=-0.5), off_kinks(3, 4)),
    case("clamp", "clamp_max", lambda x: x.clamp(max=0.5), off_kinks(3, 4)),
    case("clamp", "clamp_crossed_bounds", lambda x: torch.clamp(x, 0.5, -0.5), off_kinks(2, 3)),
    case("clamp tensor", "clamp_tensor_both", lambda x, lo, hi: torch.clamp(x, lo, hi),
         real(3, 4), fixed([-0.4, -0.3, -1.2, -0.1]), fixed([[0.3], [1.1], [0.05]])),
    case("clamp tensor", "clamp_tensor_min", lambda x, lo: x.clamp(min=lo), real(3, 4), real(4)),
    case("clamp tensor", "clamp_tensor_max", lambda x, hi: x.clamp(max=hi), real(3, 4), real(3, 1)),
    case("clamp tensor", "clamp_tensor_crossed_bounds", lambda x, lo, hi: torch.clamp(x, lo, hi),
         fixed([-2.0, 0.0, 2.0, -2.0, 0.0, 2.0]), fixed([1.0, 1.0, 1.0, -1.0, -1.0, -1.0]),
         fixed([-1.0, -1.0, -1.0, 1.0, 1.0, 1.0])),
    case("maximum", "maximum", torch.maximum, real(2, 3), real(2, 3)),
    case("maximum", "maximum_broadcast", lambda x, y: x.maximum(y), real(3, 1), real(4)),
    case("minimum", "minimum", torch.minimum, real(2, 3), real(2, 3)),
    case("minimum", "minimum_broadcast", lambda x, y: x.minimum(y), real(4), real(3, 1)),
    case("where", "where", lambda x, y: torch.where(x > 0, x, y), off_kinks(2, 3), real(2, 3)),
    case("where", "where_broadcast", lambda x, y: torch.where(x > 0, x * 2, y), off_kinks(3, 1), real(4)),
    case("where", "where_scalar_other", lambda x: torch.where(x > 0, x, 0.0), off_kinks(2, 3)),
    case("where", "where_scalar_first", lambda y: torch.where(y < 0, -1.0, y), off_kinks(2, 3)),
    # reductions
    case("sum", "sum_all", torch.sum, real(2, 3)),
    case("sum", "sum_dim", lambda x: x.sum(1), real(2, 3, 2)),
    case("sum", "sum_dim_keepdim", lambda x: x.sum(dim=-1, keepdim=True), real(2, 3)),
    case("sum", "sum_dims_tuple", lambda x: x.sum((0, 2)), real(2, 3, 2)),
    case("sum", "sum_dims_tuple_keepdim", lambda x: torch.sum(x, (-1, 0), keepdim=True), real(2, 3, 2)),
    case("sum", "sum_0d", lambda x: x.sum(), real()),
    case("sum", "sum_dtype", lambda x: x.sum(1, dtype=torch.float64) ** 2, single(2, 3), eps=1e-2, atol=1e-4),
    case("mean", "mean_all", torch.mean, real(2, 3)),
    case("mean", "mean_dim", lambda x: x.mean(0), real(2, 3)),
    case("mean", "mean_dim_keepdim", lambda x: x.mean(dim=1, keepdim=True), real(2, 3)),
    case("mean", "mean_dims_tuple", lambda x: torch.mean(x, (0, 1)), real(2, 3, 2)),
    case("mean", "mean_dims_tuple_keepdim", lambda x: x.mean((1, 2), keepdim=True), real(2, 3, 2)),
    case("max", "max_all", torch.max, real(2, 3)),
    case("max", "max_dim", lambda x: x.max(1), real(2, 3)),
    case("max", "max_dim_keepdim", lambda x: torch.max(x, dim=0, keepdim=True), real(3, 2)),
    case("max", "max_dim_values", lambda x: x.max(-1).values * 2, real(2, 2, 3)),
    case("max", "max_binary", torch.max, real(2, 3), real(3)),
    case("max", "max_vector_dim", lambda x: x.max(0).values, real(4)),
    case("min", "min_all", lambda x: x.min(), real(2, 3)),
    case("min", "min_dim", lambda x: torch.min(x, 0), real(2, 3)),
    case("min", "min_dim_keepdim", lambda x: x.min(dim=-1, keepdim=True), real(3, 2)),
    case("min", "min_dim_values", lambda x: x.min(1)[0], real(2, 3, 2)),
    case("prod", "prod_all", torch.prod, real(2, 3)),
    case("prod", "prod_dim", lambda x: x.prod(1), real(2, 3)),
    case("prod", "prod_dim_keepdim", lambda x: x.prod(dim=0, keepdim=True), real(3, 2)),
    case("prod", "prod_one_zero", lambda x: x.prod(), fixed([[1.5, 0.0, -2.0], [0.5, 3.0, 1.2]])),
    case("prod", "prod_two_zeros", lambda x: x.prod(), fixed([0.0, 1.5, 0.0, -2.0])),
    case("prod", "prod_dim_zeros", lambda x: x.prod(1), fixed([[1.5, 0.0, -2.0], [0.0, 0.0, 1.2], [1.0, 2.0, 0.5]])),
    case("prod", "prod_dim_keepdim_zeros", lambda x: x.prod(2, keepdim=True),
         fixed([[[0.0, 1.5], [0.0, -2.0]], [[0.0, 0.0], [2.0, 1.1]]])),
    case("prod", "prod_0d", lambda x: x.prod(), real()),
    case("prod", "prod_0d_zero", lambda x: torch.prod(x) * 2, fixed(0.0)),
    case("sum", "sum_empty_dims", lambda x: x.sum(dim=()), real(2, 3)),
    case("mean", "mean_empty_dims", lambda x: x.mean(dim=[]), real(2, 3)),
    case("var", "var_constant_slice", lambda x: x.var(1), fixed([[0.5, 0.5, 0.5], [0.1, -0.4, 0.9]])),
    case("var", "var_all", torch.var, real(2, 3)),
    case("var", "var_dim", lambda x: x.var(1), real(2, 3)),
    case("var", "var_dim_keepdim", lambda x: x.var(0, keepdim=True), real(3, 2)),
    case("var", "var_biased", lambda x: x.var(unbiased=False), real(2, 3)),
    case("var", "var_correction", lambda x: torch.var(x, dim=1, correction=2), real(2, 4)),
    case("var", "var_dims_tuple", lambda x: x.var((0, 2)), real(2, 2, 3)),
    case("std", "std_all", torch.std, real(2, 3)),
    case("std", "std_dim", lambda x: x.std(1), real(2, 3)),
    case("std", "std_dim_keepdim", lambda x: x.std(dim=-1, keepdim=True), real(3, 3)),
    case("std", "std_biased", lambda x: torch.std(x, 0, unbiased=False), real(3, 2)),
    case("std", "std_correction", lambda x: x.std(correction=0), real(2, 3)),
    case("softmax", "softmax", lambda x: torch.softmax(x, 1), real(2, 3)),
    case("softmax", "softmax_dim0_3d", lambda x: x.softmax(0), real(3, 2, 2)),
    case("softmax", "softmax_functional", lambda x: torch.nn.functional.softmax(x, dim=-1), real(4)),
    case("log_softmax", "log_softmax", lambda x: torch.log_softmax(x, 1), real(2, 3)),
    case("log_softmax", "log_softmax_dim0", lambda x: x.log_softmax(dim=0), real(3, 2)),
    case("softmax", "softmax_dtype", lambda x: x.softmax(-1, dtype=torch.float64), single(2, 3), eps=1e-3,
         atol=1e-4),
    case("log_softmax", "log_softmax_dtype", lambda x: torch.log_softmax(x, 0, dtype=torch.float64), single(3),
         eps=1e-3, atol=1e-4),
    case("log_softmax", "log_softmax_functional", lambda x: torch.nn.functional.log_softmax(x, -1), real(2, 2, 3)),
    # matrix products
    *_matmul_cases(),
    case("@", "matmul_operator", lambda x, y: x @ y, real(2, 3), real(3, 2)),
    case("@", "matmul_operator_batched", lambda x, y: x @ y, real(2, 2, 3), real(3)),
    case("matmul", "matmul_method", lambda x, y: x.matmul(y), real(3), real(2, 3, 2)),
    case("mm", "mm", torch.mm, real(2, 3), real(3, 4)),
    case("mm", "mm_method_transposed", lambda x, y: x.t().mm(y), real(3, 2), real(3, 2)),
    case("mv", "mv", torch.mv, real(2, 3), real(3)),
    case("dot", "dot", torch.dot, real(4), real(4)),
    case("dot", "dot_method", lambda x, y: x.dot(y) * x, real(3), real(3)),
    case("bmm", "bmm", torch.bmm, real(2, 2, 3), real(2, 3, 2)),
    case("bmm", "bmm_transposed", lambda x, y: x.transpose(1, 2).bmm(y), real(2, 3, 2), real(2, 3, 1)),
    # shapes
    case("reshape", "reshape", lambda x: x.reshape(3, 2), real(2, 3)),
    case("reshape", "reshape_infer", lambda x: x.reshape(-1), real(2, 3)),
    case("reshape", "reshape_copy", lambda x: torch.reshape(x.t(), (6,)), real(2, 3)),
    case("view", "view", lambda x: x.view(3, 2), real(2, 3)),
    case("view", "view_infer", lambda x: x.view(-1, 1) * 2, real(2, 3)),
    case("transpose", "transpose", lambda x: x.transpose(0, 2), real(2, 3, 2)),
    case("transpose", "transpose_negative", lambda x: torch.transpose(x, -1, 0), real(3, 2)),
    case("t", "t", lambda x: x.t(), real(2, 3)),
    case("t", "t_vector", torch.t, real(3)),
    case(".T", "T", lambda x: x.T, real(2, 3)),
    case(".T", "T_used", lambda x: x.T @ x, real(3, 2)),
    case("permute", "permute", lambda x: x.permute(2, 0, 1), real(2, 3, 2)),
    case("permute", "permute_tuple", lambda x: torch.permute(x, (1, 0, 2)), real(2, 3, 2)),
    case("unsqueeze", "unsqueeze", lambda x: x.unsqueeze(0), real(2, 3)),
    case("unsqueeze", "unsqueeze_negative", lambda x: torch.unsqueeze(x, -1), real(2, 3)),
    case("squeeze", "squeeze_all", lambda x: x.squeeze(), real(2, 1, 3, 1)),
    case("squeeze", "squeeze_dim", lambda x: torch.squeeze(x, 1), real(2, 1, 3)),
    case("squeeze", "squeeze_dims", lambda x: x.squeeze((1, 3)), real(2, 1, 3, 1)),
    case("flatten", "flatten", lambda x: x.flatten(), real(2, 3, 2)),
    case("flatten", "flatten_start", lambda x: torch.flatten(x, 1), real(2, 3, 2)),
    case("flatten", "flatten_range", lambda x: x.flatten(0, 1), real(2, 3, 2)),
    case("expand", "expand", lambda x: x.expand(2, 3), real(1, 3)),
    case("expand", "expand_new_dim", lambda x: x.expand(4, -1, -1), real(2, 3)),
    case("expand", "expand_keep", lambda x: x.expand(-1, 3) * 2, real(2, 1)),
    case("expand", "expand_0d", lambda x: x.expand(2, 3), real()),
    case("cat", "cat", lambda x, y: torch.cat([x, y]), real(2, 3), real(1, 3)),
    case("cat", "cat_dim1", lambda x, y, z: torch.cat((x, y, z), dim=1), real(2, 1), real(2, 3), real(2, 2)),
    case("cat", "cat_negative_dim", lambda x, y: torch.cat([x, y * 2], -1), real(2, 2, 1), real(2, 2, 2)),
    case("stack", "stack", lambda x, y: torch.stack([x, y]), real(2, 3), real(2, 3)),
    case("stack", "stack_dim1", lambda x, y, z: torch.stack((x, y, z), dim=1), real(2), real(2), real(2)),
    case("stack", "stack_negative_dim", lambda x, y: torch.stack([x, y], -1), real(2, 3), real(2, 3)),
    case("stack", "stack_0d", lambda x, y: torch.stack([x, y, x * y]), real(), real()),
    case("cat", "cat_vectors", lambda x, y: torch.cat([x, y, x]), real(2), real(3)),
    # basic indexing
    case("indexing", "index_int", lambda x: x[0], real(2, 3)),
    case("indexing", "index_negative", lambda x: x[-1], real(3, 2)),
    case("indexing", "index_slice", lambda x: x[1:], real(3, 2)),
    case("indexing", "index_step", lambda x: x[::2], real(5, 2)),
    case("indexing", "index_slice_step", lambda x: x[1:5:3, ::2], real(6, 3)),
    case("indexing", "index_negative_slice", lambda x: x[-3:-1], real(4)),
    case("indexing", "index_negative_start_step", lambda x: x[-4::2, 1:], real(5, 3)),
    case("indexing", "index_column", lambda x: x[:, 1], real(2, 3)),
    case("indexing", "index_ellipsis", lambda x: x[..., 0], real(2, 2, 3)),
    # advanced indexing
    case("indexing", "index_list", lambda x: x[[0, 2, 0]], real(3, 2)),
    case("indexing", "index_mask", lambda x: x[torch.tensor([[True, False], [False, True], [True, True]])] ** 2,
         real(3, 2)),
    case("indexing", "index_long_tensor", lambda x: x[torch.tensor([[1, 1], [0, 2]])], real(3, 2)),
    case("indexing", "index_slice_and_list", lambda x: x[1:, [1, 0]] * x[0, [0, 1]], real(3, 2)),
    case("indexing", "index_separated", lambda x: x[[0, 1], :, [1, 0]], real(2, 3, 2)),
    case("indexing", "index_ellipsis_middle", lambda x: x[-1, ..., ::2], real(2, 2, 3)),
    case("indexing", "index_none", lambda x: x[None], real(2, 3)),
    case("indexing", "index_mixed", lambda x: x[0, None, 1:], real(2, 3)),
    case("indexing", "index_mixed_none_step", lambda x: x[:, None, ::2], real(2, 3)),
    case("indexing", "index_ellipsis_none", lambda x: x[..., -1, None], real(2, 3, 2)),
    case("indexing", "index_scalar_element", lambda x: x[1, -2], real(2, 3)),
    case("indexing", "index_twice", lambda x: x[0][1] * x[1], real(2, 3)),
    case("indexing", "index_everything", lambda x: x[...], real(2, 3)),
    # ordering, scans, tiling and products
    case("%", "remainder_scalar", lambda x: x % 0.7, Arg((2, 3), lambda r, s: r.uniform(0.05, 0.65, s))),
    case("%", "remainder_tensor", lambda x, y: x % y, fixed([0.3, 1.2, -0.5]), fixed([0.7, 0.5, 0.9])),
    case("sort", "sort", lambda x: x.sort(1).values * x.sort(0).values, real(2, 3)),
    case("topk", "topk", lambda x: x.topk(2, dim=0).values, real(3, 2)),
    case("norm", "norm", lambda x: x.norm(), real(2, 3)),
    case("norm", "norm_dim_p1", lambda x: x.norm(p=1, dim=1) ** 2, nonzero(2, 3)),
    case("norm", "norm_p3_keepdim", lambda x: torch.norm(x, p=3, dim=0, keepdim=True), nonzero(2, 3)),
    case("logsumexp", "logsumexp", lambda x: x.logsumexp(1), real(2, 3)),
    case("logsumexp", "logsumexp_keepdim", lambda x: torch.logsumexp(x, (0, 1), keepdim=True), real(2, 3)),
    case("cumsum", "cumsum", lambda x: x.cumsum(1) ** 2, real(2, 3)),
    case("cumprod", "cumprod", lambda x: x.cumprod(0), real(3, 2)),
    case("cumprod", "cumprod_zero", lambda x: x.cumprod(1), fixed([[0.5, 0.0, 2.0, 1.5], [1.5, 0.7, 0.0, 0.0]])),
    case("flip", "flip", lambda x: x.flip(0) * x, real(3, 2)),
    case("gather", "gather", lambda x: x.gather(1, torch.tensor([[0, 0], [2, 1]])), real(2, 3)),
    case("masked_fill", "masked_fill", lambda x: x.masked_fill(x > 0, 1.0) * x, off_kinks(2, 3)),
    case("tril", "tril", lambda x: x.tril(-1) + x.triu(1) * 2, real(3, 3)),
    case("diag", "diag", lambda x: torch.diag(x) * x.diag(-1).sum(), real(3, 3)),
    case("diag", "diag_embed", lambda x: torch.diag(x, -1), real(3)),
    case("expand_as", "expand_as", lambda x, y: x.expand_as(y) * y, real(3), real(2, 3)),
    case("repeat", "repeat", lambda x: x.repeat(2, 1, 3), real(2, 2)),
    case("split", "chunk_split_unbind",
         lambda x: x.chunk(2, 1)[1] * x.split([2, 1], 1)[0] + x.unbind(1)[0].unsqueeze(1),
         real(3, 3)),
    case("einsum", "einsum", lambda x, y: torch.einsum("ij,jk->ik", x, y) + torch.outer(x[0], y[:, 0]), real(2, 2),
         real(2, 2)),
    case("in-place", "inplace_unary", lambda x: (x * 1).exp_().tanh_().pow_(2), real(2, 3)),
    # nn.functional, second wave
    case("leaky_relu", "leaky_relu", lambda x: torch.nn.functional.leaky_relu(x, 0.2) ** 2, off_kinks(2, 3)),
    case("gelu", "gelu", torch.nn.functional.gelu, real(2, 3)),
    case("gelu", "gelu_tanh", lambda x: torch.nn.functional.gelu(x, approximate="tanh"), real(2, 3)),
    case("silu", "silu", torch.nn.functional.silu, real(2, 3)),
    case("elu", "elu", lambda x: torch.nn.functional.elu(x, alpha=0.7) ** 2, off_kinks(2, 3)),
    case("softplus", "softplus", lambda x: torch.nn.functional.softplus(x, beta=2.0, threshold=3.0), off_kinks(2, 3)),
    case("erf", "erf", torch.erf, real(2, 3)),
    case("l1_loss", "l1_loss", torch.nn.functional.l1_loss, off_kinks(2, 3), real(2, 3)),
    case("smooth_l1_loss", "smooth_l1_loss", lambda x, y: torch.nn.functional.smooth_l1_loss(x, y, beta=0.5),
         fixed([0.1, 1.2, -0.9, 0.3]), fixed([0.0, 0.1, 0.2, 0.25])),
    case("huber_loss", "huber_loss", lambda x, y: torch.nn.functional.huber_loss(x, y, reduction="sum", delta=0.5),
         fixed([0.1, 1.2, -0.9, 0.3]), fixed([0.0, 0.1, 0.2, 0.25])),
    case("kl_div", "kl_div", lambda x, y: torch.nn.functional.kl_div(x, y, reduction="batchmean"), real(2, 3),
         positive(2, 3)),
    case("kl_div", "kl_div_log_target", lambda x, y: torch.nn.functional.kl_div(x, y, reduction="sum",
                                                                                  log_target=True), real(2, 3),
         real(2, 3)),
    case("normalize", "normalize", torch.nn.functional.normalize, real(2, 3)),
    case("autograd.Function", "custom_function", lambda x: Cube.apply(x) * x, real(2, 3)),
    # copies and casts
    case("clone", "clone", lambda x: x.clone(), real(2, 3)),
    case("clone", "clone_used", lambda x: x.clone() * x, real(3)),
    case("to", "to_float64", to_float64_squared, single(2, 3), eps=1e-2, atol=1e-4),
    case("to", "to_float32", lambda x: x.to(torch.float32) * 2, real(2, 3), eps=1e-2, atol=1e-4),
    case("double", "double", lambda x: x.double() * x.double(), single(3), eps=1e-2, atol=1e-4),
    case("float", "float", lambda x: x.float() * 3, real(3), eps=1e-2, atol=1e-4),
    # in-place updates of non-leaves
    case("add_", "add_inplace", add_, real(2, 3), real(3)),
    case("sub_", "sub_inplace", sub_, real(2, 3), real(2, 3)),
    case("mul_", "mul_inplace", mul_, real(2, 3), real(2, 1)),
    case("div_", "div_inplace", div_, real(2, 3), nonzero(2, 3)),
    case("+=", "iadd", iadd, real(2, 3), real(2, 3)),
    case("-=", "isub", isub, real(2, 3), real(3)),
    case("*=", "imul", imul, real(2, 3), real(2, 3)),
    case("/=", "itruediv", itruediv, real(2, 3), nonzero(1, 3)),
    case("zero_", "zero_inplace", zero_, real(2, 3)),
    case("setitem", "setitem_row", set_row, real(2, 3), real(3)),
    case("setitem", "setitem_column", set_column_scaled, real(3, 3), real(3)),
    case("setitem", "setitem_strided_broadcast", set_strided_broadcast, real(2, 5), real(3)),
    case("setitem", "setitem_leading_one", set_with_leading_one, real(2, 3), real(1, 3)),
    case("setitem", "setitem_into_constant", set_into_constant, real(3)),
    case("setitem", "setitem_iadd_view", iadd_item, real(2, 3), real(3)),
    case("setitem", "setitem_from_own_row", set_row_from_row, real(2, 3), real(3)),
    case("+=", "iadd_own_multiple", iadd_own_multiple, real(2, 3), real(3)),
    case("add_", "add_self_inplace", add_self_inplace, real(2, 3)),
    # in-place updates through views of non-leaves
    case("mul_", "mul_inplace_select_view", mul_select, real(2, 3), real(3)),
    case("add_", "add_inplace_transposed_view", add_transposed, real(2, 3), real(3, 1)),
    case("div_", "div_inplace_viewed", div_viewed, real(2, 3), nonzero(6)),
    case("sub_", "sub_inplace_sliced_view", sub_sliced, real(3, 2), real(2)),
    case("+=", "iadd_unsqueezed_view", iadd_unsqueezed, real(2, 3), real(2, 3)),
    case("*=", "imul_T_view", imul_transposed, real(2, 3), real(3, 1)),
    case("mul_", "mul_inplace_view_of_view", mul_view_of_view, real(2, 3, 2), real(2, 1)),
    case("add_", "mul_then_add_through_view", mul_then_add_through_view, real(3, 2), real(3)),
    case("mul_", "mul_inplace_view_used_after", view_used_after, real(2, 3), real(3)),
    case("mul_", "mul_inplace_sibling_view", sibling_view, real(2, 3), real(3)),
    case("zero_", "zero_inplace_column_view", zero_column, real(2, 3)),
    case("add_", "add_inplace_view_of_constant", add_into_constant_row, real(3)),
    case("relu", "relu_inplace_on_view", relu_inplace_on_row, fixed([[-1.2, 0.7, -0.3], [0.9, -1.4, 1.1]])),
    case("setitem", "setitem_in_view", set_in_view, real(2, 3), real(2)),
    case("setitem", "setitem_everything", set_everything, real(2, 3), real(3)),
    case("setitem", "setitem_masked", set_masked, off_kinks(2, 3), real(1)),
]

CONTRACT_OPS = (
    "+", "-", "*", "/", "**", "** tensor", "** scalar base", "neg", "@",
    "abs", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "pow", "clamp", "clamp tensor",
    "maximum", "minimum", "where", "reciprocal",
    "sum", "mean", "max", "min", "prod", "var", "std", "softmax", "log_softmax",
    "matmul", "mm", "mv", "dot", "bmm",
    "reshape", "view", "transpose", "t", ".T", "permute", "unsqueeze", "squeeze", "flatten", "expand", "cat",
    "stack", "indexing", "clone", "to", "float", "double",
    "add_", "sub_", "mul_", "div_", "+=", "-=", "*=", "/=", "zero_", "setitem",
    "%", "sort", "topk", "norm", "logsumexp", "cumsum", "cumprod", "flip", "gather", "masked_fill", "tril", "diag",
    "expand_as", "repeat", "split", "einsum", "in-place",
    "leaky_relu", "gelu", "silu", "elu", "softplus", "erf", "logit", "l1_loss", "smooth_l1_loss", "huber_loss",
    "kl_div",
    "normalize", "autograd.Function",
)


def _case_id(value: Any) -> str:
    return value.name if isinstance(value, Case) else str(value)


def _differentiable_outputs(result: Any) -> list[torch.Tensor]:
    """The outputs of a case that carry gradients (a max(dim) result also holds integer indices)."""
    outputs = [result] if isinstance(result, torch.Tensor) else list(result)
    return [out for out in outputs if out.requires_grad]


def test_table_covers_the_contract() -> None:
    covered = {c.op for c in CASES}
    missing = [op for op in CONTRACT_OPS if op not in covered]
    assert not missing, f"contract ops without a gradcheck case: {missing}"
    assert covered <= set(CONTRACT_OPS), f"cases naming no contract op: {covered - set(CONTRACT_OPS)}"
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), "case names must be unique (they seed the inputs)"


def test_matmul_cases_cover_every_rank_pair() -> None:
    ranks = set()
    for c in CASES:
        if c.fn is torch.matmul:
            a, b = c.args
            ranks.add((len(a.shape), len(b.shape)))
    assert ranks == {(ra, rb) for ra in range(1, 5) for rb in range(1, 5)}


# float32 cases exist on purpose (dtype casts): gradcheck warns about them, as PyTorch does
SINGLE_PRECISION_WARNING = "ignore:Input #.* is not a double precision:UserWarning"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
@pytest.mark.filterwarnings(SINGLE_PRECISION_WARNING)
def test_first_derivatives(case: Case) -> None:
    assert gradcheck(case.fn, case.inputs(), eps=case.eps, atol=case.atol)


@pytest.mark.parametrize("case", [c for c in CASES if not c.first_order_only], ids=_case_id)
@pytest.mark.filterwarnings(SINGLE_PRECISION_WARNING)
def test_second_derivatives(case: Case) -> None:
    assert gradgradcheck(case.fn, case.inputs(), eps=case.eps, atol=case.atol)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_gradient_has_its_inputs_shape_and_dtype(case: Case, dtype: Any) -> None:
    inputs = tuple(torch.tensor(x.detach().numpy(), dtype=dtype, requires_grad=True) for x in case.inputs())
    outputs = _differentiable_outputs(case.fn(*inputs))
    assert outputs, "the case's result does not require grad"
    rng = np.random.default_rng(1)
    cotangents = [torch.tensor(rng.standard_normal(tuple(out.shape)), dtype=out.dtype) for out in outputs]
    grads = torch.autograd.grad(outputs, inputs, cotangents)
    for x, g in zip(inputs, grads):
        assert (g.shape, g.dtype) == (x.shape, x.dtype)
        assert g.requires_grad is False and g.grad_fn is None


# ----- property tests: binary elementwise ops under broadcasting ----------------------------------------

BINARY: dict[str, tuple[Callable[..., torch.Tensor], Sampler, Sampler]] = {
    "add": (torch.add, _real, _real),
    "sub": (lambda a, b: a - b, _real, _real),
    "mul": (torch.mul, _real, _real),
    "div": (lambda a, b: a / b, _real, _nonzero),
    "pow": (torch.pow, _positive, _real),
    "maximum": (torch.maximum, _real, _real),
    "minimum": (torch.minimum, _real, _real),
}
FLOATS = st.sampled_from([torch.float32, torch.float64])


def _finite_difference(fn: Callable[..., torch.Tensor], arrays: Sequence[np.ndarray], weights: np.ndarray,
                       index: int, eps: float = 1e-6) -> np.ndarray:
    """d sum(fn(*arrays) * weights) / d arrays[index] by central differences, in float64."""

    def loss(values: Sequence[np.ndarray]) -> float:
        with torch.no_grad():
            out = fn(*(torch.tensor(v, dtype=torch.float64) for v in values))
        return float(np.sum(out.numpy() * weights))

    point = [a.astype(np.float64) for a in arrays]
    gradient = np.zeros(point[index].shape)
    flat, out = point[index].reshape(-1), gradient.reshape(-1)
    for k in range(flat.size):
        original = flat[k]
        flat[k] = original + eps
        plus = loss(point)
        flat[k] = original - eps
        minus = loss(point)
        flat[k] = original
        out[k] = (plus - minus) / (2 * eps)
    return gradient


def _check_against_finite_differences(fn: Callable[..., torch.Tensor], arrays: Sequence[np.ndarray],
                                      dtypes: Sequence[Any], seed: int) -> None:
    """Backward of fn on leaves of the given dtypes equals the float64 finite differences, layout included."""
    leaves = [torch.tensor(a, dtype=d, requires_grad=True) for a, d in zip(arrays, dtypes)]
    out = fn(*leaves)
    weights = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    (out * torch.tensor(weights, dtype=out.dtype)).sum().backward()
    exact_points = [leaf.detach().numpy() for leaf in leaves]
    for index, leaf in enumerate(leaves):
        assert leaf.grad is not None
        assert (leaf.grad.shape, leaf.grad.dtype) == (leaf.shape, leaf.dtype)
        expected = _finite_difference(fn, exact_points, weights, index)
        single_precision = torch.float32 in (out.dtype, leaf.dtype)
        tolerance = {"rtol": 1e-3, "atol": 1e-3} if single_precision else {"rtol": 1e-5, "atol": 1e-6}
        np.testing.assert_allclose(leaf.grad.numpy(), expected, **tolerance)


@settings(max_examples=25, deadline=None)
@given(op=st.sampled_from(sorted(BINARY)), shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       dtypes=st.tuples(FLOATS, FLOATS), seed=st.integers(0, 2**32 - 1))
def test_binary_ops_under_broadcasting(op: str, shapes: Any, dtypes: tuple, seed: int) -> None:
    fn, sample_a, sample_b = BINARY[op]
    rng = np.random.default_rng(seed)
    shape_a, shape_b = shapes.input_shapes
    arrays = [sample_a(rng, shape_a), sample_b(rng, shape_b)]
    _check_against_finite_differences(fn, arrays, dtypes, seed)


@settings(max_examples=25, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3),
       dtypes=st.tuples(FLOATS, FLOATS), seed=st.integers(0, 2**32 - 1))
def test_where_under_broadcasting(shapes: Any, dtypes: tuple, seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape_condition, shape_a, shape_b = shapes.input_shapes
    condition = torch.tensor(rng.random(shape_condition) < 0.5)
    arrays = [rng.standard_normal(shape_a), rng.standard_normal(shape_b)]
    _check_against_finite_differences(lambda a, b: torch.where(condition, a, b), arrays, dtypes, seed)


@settings(max_examples=15, deadline=None)
@given(op=st.sampled_from(sorted(BINARY)), shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       seed=st.integers(0, 2**32 - 1))
def test_binary_ops_twice_differentiable_under_broadcasting(op: str, shapes: Any, seed: int) -> None:
    fn, sample_a, sample_b = BINARY[op]
    rng = np.random.default_rng(seed)
    shape_a, shape_b = shapes.input_shapes
    a = torch.tensor(sample_a(rng, shape_a), dtype=torch.float64, requires_grad=True)
    b = torch.tensor(sample_b(rng, shape_b), dtype=torch.float64, requires_grad=True)
    assert gradgradcheck(fn, (a, b))


# ----- double backward ------------------------------------------------------------------------------------


def test_second_derivative_of_cube() -> None:
    x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (first,) = torch.autograd.grad(x ** 3, x, create_graph=True)
    assert first.requires_grad
    (second,) = torch.autograd.grad(first, x, create_graph=True)
    (third,) = torch.autograd.grad(second, x)
    assert (first.item(), second.item(), third.item()) == (12.0, 12.0, 6.0)


def _hessian(x: np.ndarray) -> np.ndarray:
    """Analytic Hessian of f(x) = sum(x**3) + x0*x1*x2 + exp(x0*x2)."""
    x0, x1, x2 = x
    e = np.exp(x0 * x2)
    return np.diag(6 * x) + np.array([
        [x2 * x2 * e, x2, x1 + e + x0 * x2 * e],
        [x2, 0.0, x0],
        [x1 + e + x0 * x2 * e, x0, x0 * x0 * e],
    ])


def test_hessian_vector_product_matches_analytic_hessian() -> None:
    point = np.array([0.3, -1.2, 0.7])
    vector = np.array([1.0, -2.0, 0.5])
    x = torch.tensor(point, dtype=torch.float64, requires_grad=True)
    v = torch.tensor(vector, dtype=torch.float64)
    f = (x ** 3).sum() + x[0] * x[1] * x[2] + torch.exp(x[0] * x[2])
    (gradient,) = torch.autograd.grad(f, x, create_graph=True)
    (hvp,) = torch.autograd.grad(gradient, x, grad_outputs=v, retain_graph=True)
    (hvp_from_dot,) = torch.autograd.grad(gradient @ v, x)
    expected = _hessian(point) @ vector
    np.testing.assert_allclose(hvp.numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(hvp_from_dot.numpy(), expected, rtol=1e-12)


def test_dtype_arguments_cast_as_pytorch_records_them() -> None:
    x = torch.ones(3, requires_grad=True)
    probabilities = torch.softmax(x, 0, dtype=torch.float64)
    assert probabilities.dtype == torch.float64
    assert probabilities.grad_fn.next_functions[0][0].name() == "ToCopyBackward0"
    total = x.sum(dtype=torch.float64)
    assert total.grad_fn.next_functions[0][0].name().endswith("AccumulateGrad")
    total.backward()
    assert x.grad.dtype == torch.float32


# ----- the checker itself ---------------------------------------------------------------------------------


class _ScaledExpBackward(Node):
    """exp's gradient off by one percent: what gradcheck must catch."""

    def apply(self, g: torch.Tensor) -> tuple:
        (result,) = self.saved_tensors
        return (g * result * 1.01,)


class _FrozenExpBackward(Node):
    """exp's gradient right in value but built from a constant, so its own derivative is lost."""

    def apply(self, g: torch.Tensor) -> tuple:
        (result,) = self.saved_tensors
        return (g * torch.Tensor._make(result.detach().numpy().copy()),)


def _exp_with(node: type[Node]) -> Callable[[torch.Tensor], torch.Tensor]:
    """exp recorded with the given (deliberately faulty) backward."""
    return lambda x: record(np.exp(x.detach().numpy()), node, (x,), save_output=True)


def test_gradcheck_catches_a_wrong_first_derivative() -> None:
    x = torch.tensor([0.3, -1.2], dtype=torch.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradcheck(_exp_with(_ScaledExpBackward), (x,))
    assert gradcheck(_exp_with(_ScaledExpBackward), (x,), raise_exception=False) is False


def test_gradgradcheck_catches_a_gradient_that_is_not_differentiable() -> None:
    x = torch.tensor([0.3, -1.2], dtype=torch.float64, requires_grad=True)
    assert gradcheck(_exp_with(_FrozenExpBackward), (x,))
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(_exp_with(_FrozenExpBackward), (x,))


def test_gradcheck_perturbs_non_contiguous_inputs() -> None:
    x = torch.tensor(np.arange(6.0).reshape(2, 3) / 4, dtype=torch.float64).t().detach().requires_grad_()
    assert not x.detach().numpy().flags.c_contiguous
    assert gradcheck(lambda t: t.exp() @ t.t(), (x,))
    assert gradgradcheck(lambda t: t.exp() @ t.t(), (x,))
