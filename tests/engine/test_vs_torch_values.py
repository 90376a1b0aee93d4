"""Values at the edges, run on our engine and on real PyTorch: constant slices, empty dim lists, scalar bases,
saturation and NaNs flowing through backward."""

import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same, attempt  # noqa: E402

NAN = float("nan")


def _grad_of(build, values, *, reduce=lambda y: y.sum()):
    """A scenario: a leaf holding `values`, `build(t, x)`, backward of its sum; the output and the gradient."""
    def scenario(t):
        x = t.tensor(values, requires_grad=True)
        y = build(t, x)
        out = y if isinstance(y, t.Tensor) else y[0]
        reduce(out).backward()
        return out, x.grad

    return scenario


def _both_grads(build, a_values, b_values):
    def scenario(t):
        a, b = t.tensor(a_values, requires_grad=True), t.tensor(b_values, requires_grad=True)
        out = build(t, a, b)
        out.sum().backward()
        return out, a.grad, b.grad

    return scenario


def _clamp_tensors(t):
    x = t.tensor([NAN, -1.0, 1.0, 3.0, 1.0], requires_grad=True)
    low = t.tensor([0.0, NAN, 0.0, 0.0, NAN], requires_grad=True)
    high = t.tensor([2.0, 2.0, NAN, 2.0, NAN], requires_grad=True)
    out = t.clamp(x, low, high)
    out.sum().backward()
    return out, x.grad, low.grad, high.grad


VALUES = {
    "std_constant_rows": _grad_of(lambda t, x: x.std(1), [[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]]),
    "std_constant_all": _grad_of(lambda t, x: x.std(), [2.0, 2.0, 2.0]),
    "std_constant_keepdim": _grad_of(lambda t, x: x.std(0, keepdim=True), [[1.0, 2.0], [1.0, 5.0]]),
    "std_constant_float64": lambda t: _grad_of(lambda t, x: x.double().std(), [3.0, 3.0])(t),
    "var_constant": _grad_of(lambda t, x: x.var(), [2.0, 2.0, 2.0]),
    "sum_empty_tuple": _grad_of(lambda t, x: x.sum(dim=()), [[1.0, 2.0], [3.0, 4.0]]),
    "mean_empty_list": _grad_of(lambda t, x: x.mean(dim=[]), [[1.0, 2.0], [3.0, 4.0]]),
    "sum_empty_keepdim": _grad_of(lambda t, x: x.sum(dim=(), keepdim=True), [[1.0, 2.0], [3.0, 4.0]]),
    "var_empty_dims": lambda t: [t.ones(2, 3).var(dim=()), t.ones(2, 3).std(dim=[])],
    "sum_empty_dims_0d": lambda t: t.tensor(1.5).sum(dim=()),
    "sum_empty_dims_int": lambda t: t.tensor([[1, 2], [3, 4]]).sum(dim=()),
    "zero_base": _grad_of(lambda t, x: 0 ** x, [0.0, 1.0, 2.0, 0.5, -1.0]),
    "negative_base": _grad_of(lambda t, x: (-2.0) ** x, [0.0, 1.0, 2.0, 0.5]),
    "zero_float_base": _grad_of(lambda t, x: 0.0 ** x, [3.0, -2.0]),
    "int_base_int_exponent": lambda t: [2 ** t.tensor([0, 1, 2]), 0 ** t.tensor([0, 1]), 2.5 ** t.tensor([1, 2])],
    "sigmoid_saturates": _grad_of(lambda t, x: t.sigmoid(x), [-100.0, -90.0, -88.0, -20.0, 0.0, 20.0, 100.0]),
    "sigmoid_saturates_float64": lambda t: _grad_of(lambda t, x: t.sigmoid(x.double()),
                                                    [-800.0, -700.0, -100.0, 40.0])(t),
    "sigmoid_method_and_f": lambda t: [t.tensor([-100.0, 100.0]).sigmoid(),
                                       t.nn.functional.sigmoid(t.tensor([-104.0]))],
    "max_nan": _grad_of(lambda t, x: x.max(), [1.0, NAN, 3.0, NAN]),
    "max_one_nan": _grad_of(lambda t, x: x.max(), [1.0, NAN, 3.0]),
    "min_nan": _grad_of(lambda t, x: x.min(), [NAN, 1.0, NAN]),
    "max_dim_nan": _grad_of(lambda t, x: x.view(2, 2).max(1), [1.0, NAN, 3.0, NAN]),
    "max_dim0_nan": _grad_of(lambda t, x: x.view(2, 2).max(0), [1.0, NAN, NAN, 2.0]),
    "min_dim_nan": _grad_of(lambda t, x: x.view(2, 2).min(1), [1.0, NAN, NAN, NAN]),
    "relu_nan": _grad_of(lambda t, x: t.relu(x), [NAN, -1.0, 0.0, 1.0]),
    "abs_nan": _grad_of(lambda t, x: t.abs(x), [NAN, -1.0, 0.0, 1.0]),
    "maximum_nan": _both_grads(lambda t, a, b: t.maximum(a, b), [NAN, 2.0, NAN, 1.0, 1.0], [1.0, NAN, NAN, 0.0, 1.0]),
    "minimum_nan": _both_grads(lambda t, a, b: t.minimum(a, b), [NAN, 2.0, NAN, 1.0, 1.0], [1.0, NAN, NAN, 0.0, 1.0]),
    "clamp_scalar_nan": _grad_of(lambda t, x: t.clamp(x, 0.0, 2.0), [NAN, -1.0, 1.0, 3.0]),
    "clamp_nan_bound": _grad_of(lambda t, x: t.clamp(x, NAN, 2.0), [NAN, -1.0, 1.0, 3.0]),
    "clamp_min_nan": _grad_of(lambda t, x: t.clamp(x, min=0.0), [NAN, -1.0, 1.0]),
    "clamp_tensor_nan": _clamp_tensors,
}


@pytest.mark.parametrize("name", VALUES)
def test_values(name):
    assert_same(lambda t: attempt(lambda: VALUES[name](t)), torch)
