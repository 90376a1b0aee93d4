"""Advanced indexing (lists, integer tensors, boolean masks, mixed with basic entries) against real PyTorch."""

import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same, attempt  # noqa: E402

X = [[0.5, -1.0, 2.0, 0.3], [1.5, 0.7, -0.3, 0.1], [0.2, 0.4, -2.0, 1.1]]

INDEXING = {
    "list": lambda t, x: x[[0, 2]],
    "list_repeated": lambda t, x: x[[0, 0, 2]],
    "mask": lambda t, x: x[x > 0],
    "mask_rows": lambda t, x: x[t.tensor([True, False, True])],
    "long_tensor": lambda t, x: x[t.tensor([2, 0, 2])],
    "slice_then_list": lambda t, x: x[:, [0, 2]],
    "int_then_list": lambda t, x: x[1, [0, 3]],
    "tensor_pair": lambda t, x: x[t.tensor([0, 1]), t.tensor([2, 3])],
    "2d_index": lambda t, x: x[t.tensor([[0, 1], [2, 2]])],
    "ellipsis_list": lambda t, x: x[..., [1]],
    "none_list": lambda t, x: x[None, [0, 1]],
    "separated_by_slice": lambda t, x: x.reshape(3, 2, 2)[[0, 1], :, [1, 0]],
}

ERRORS = {
    "out_of_range": lambda t, x: x[[0, 5]],
    "mask_shape": lambda t, x: x[x[0] > 0],
    "float_index": lambda t, x: x[t.tensor([0.5])],
    "int_on_0d": lambda t, x: t.tensor(1.0)[0],
    "slice_on_0d": lambda t, x: t.tensor(1.0)[1:],
    "tuple_on_0d": lambda t, x: t.tensor(1.0)[0, ...],
}


@pytest.mark.parametrize("name", INDEXING)
def test_indexing_values_and_gradients(name):
    def scenario(t):
        x = t.tensor(X, requires_grad=True)
        y = INDEXING[name](t, x) * 1.5
        (y ** 2).sum().backward()
        return y, x.grad

    assert_same(scenario, torch)


@pytest.mark.parametrize("name", INDEXING)
def test_indexing_second_order(name):
    def scenario(t):
        x = t.tensor(X, requires_grad=True, dtype=t.float64)
        (g,) = t.autograd.grad((INDEXING[name](t, x) ** 3).sum(), x, create_graph=True)
        (g2,) = t.autograd.grad(g.sum(), x)
        return g.detach(), g2

    assert_same(scenario, torch)


def test_setitem_with_mask_on_non_leaf():
    def scenario(t):
        x = t.tensor(X, requires_grad=True)
        y = x * 2
        y[y > 1] = 0
        y.sum().backward()
        return y, x.grad

    assert_same(scenario, torch)


@pytest.mark.parametrize("name", ERRORS)
def test_indexing_errors(name):
    assert_same(lambda t: attempt(lambda: ERRORS[name](t, t.tensor(X))), torch)
