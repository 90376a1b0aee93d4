"""`mean` and `prod` with `dtype=` are recorded as PyTorch records them: one MeanBackward / ProdBackward node
straight to the input (no ToCopyBackward0), the result in the asked dtype, the gradient in the input's."""

import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same  # noqa: E402

CASES = {
    "mean": lambda t, x: x.mean(dtype=t.float64),
    "mean_dim": lambda t, x: x.mean(0, dtype=t.float64),
    "mean_function_keepdim": lambda t, x: t.mean(x, 1, keepdim=True, dtype=t.float64),
    "prod": lambda t, x: x.prod(dtype=t.float64),
    "prod_dim": lambda t, x: x.prod(1, dtype=t.float64),
    "prod_with_a_zero": lambda t, x: (x - 2).prod(dtype=t.float64),
    "sum": lambda t, x: x.sum(dtype=t.float64),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_reduction_with_dtype_records_like_pytorch(name):
    def scenario(t):
        x = t.tensor([[1.5, 2.0, 3.0], [4.0, 0.5, 6.0]], requires_grad=True)
        out = CASES[name](t, x)
        (out * out).sum().backward()
        return out, x.grad

    assert_same(scenario, torch)


def test_mean_of_integers_with_a_float_dtype_is_pytorchs():
    assert_same(lambda t: [t.tensor([1, 2, 4]).mean(dtype=t.float32), t.tensor([1, 2, 4]).prod(dtype=t.float64)],
                torch)
