"""`torch.autograd.functional` (jacobian, hessian, vjp, jvp, hvp, vhp) and custom `autograd.Function`s, against
real PyTorch: values, shapes, requires_grad, grad_fn names, and errors."""

import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same, attempt  # noqa: E402

X = [0.5, -1.25, 2.0]
Y = [[1.5, 0.75], [-0.3, 0.2]]


def _f(x):
    return (x * x).exp() * 0.1 + x.sin()


def _scalar(x):
    return (x ** 3).sum() + (x[0] * x[1])


def _two(x, y):
    return (x.sum() * y).tanh(), (y @ y).sum() * x


FUNCTIONAL = {
    "jacobian": lambda t, F: F.jacobian(_f, t.tensor(X)),
    "jacobian_matrix_input": lambda t, F: F.jacobian(lambda y: y @ y, t.tensor(Y)),
    "jacobian_tuples": lambda t, F: F.jacobian(_two, (t.tensor(X), t.tensor(Y))),
    "jacobian_unused_input": lambda t, F: F.jacobian(lambda x, y: x * 2, (t.tensor(X), t.tensor(Y))),
    "jacobian_create_graph": lambda t, F: F.jacobian(_f, t.tensor(X), create_graph=True),
    "hessian": lambda t, F: F.hessian(_scalar, t.tensor(X)),
    "hessian_tuple": lambda t, F: F.hessian(lambda x, y: (x.sum() * y * y).sum(), (t.tensor(X), t.tensor(Y))),
    "vjp": lambda t, F: F.vjp(_f, t.tensor(X), t.tensor([1.0, 0.5, -1.0])),
    "vjp_scalar": lambda t, F: F.vjp(_scalar, t.tensor(X)),
    "jvp": lambda t, F: F.jvp(_f, t.tensor(X), t.tensor([1.0, 0.5, -1.0])),
    "jvp_tuple": lambda t, F: F.jvp(_two, (t.tensor(X), t.tensor(Y)), (t.tensor([1.0, 0.0, 1.0]), t.ones(2, 2))),
    "hvp": lambda t, F: F.hvp(_scalar, t.tensor(X), t.tensor([1.0, 0.5, -1.0])),
    "vhp": lambda t, F: F.vhp(_scalar, t.tensor(X), t.tensor([1.0, 0.5, -1.0])),
    "inputs_requiring_grad_untouched": lambda t, F: _untouched(t, F),
    "bad_inputs": lambda t, F: attempt(lambda: F.jacobian(_f, [1.0, 2.0])),
    "vjp_needs_v": lambda t, F: attempt(lambda: F.vjp(_f, t.tensor(X))),
}


def _untouched(t, F):
    x = t.tensor(X, requires_grad=True)
    j = F.jacobian(_f, x)
    return j, x.grad, j.requires_grad


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_functional(name):
    assert_same(lambda t: FUNCTIONAL[name](t, t.autograd.functional), torch)


def _functions(t):
    class Cube(t.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return x ** 3 * scale

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2 * ctx.scale, None

    class Needs(t.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            seen.append(ctx.needs_input_grad)
            return (g * b if ctx.needs_input_grad[0] else None), (g * a if ctx.needs_input_grad[1] else None)

    seen = []
    return Cube, Needs, seen


def test_custom_function():
    def scenario(t):
        Cube, Needs, seen = _functions(t)
        x = t.tensor(X, requires_grad=True)
        y = Cube.apply(x, 2.0)
        z = Needs.apply(y, t.tensor([1.0, 2.0, 3.0]))
        z.sum().backward()
        return y, z, x.grad, seen, y.grad_fn.name(), z.grad_fn.name(), type(y.grad_fn).__name__

    assert_same(scenario, torch)


def test_custom_function_double_backward():
    def scenario(t):
        Cube, _, _ = _functions(t)
        x = t.tensor(X, requires_grad=True, dtype=t.float64)
        (g,) = t.autograd.grad(Cube.apply(x, 1.5).sum(), x, create_graph=True)
        (g2,) = t.autograd.grad(g.sum(), x)
        return g.detach(), g2

    assert_same(scenario, torch)


def test_custom_function_without_grad():
    def scenario(t):
        Cube, _, _ = _functions(t)
        y = Cube.apply(t.tensor(X), 2.0)
        return y, y.requires_grad, y.grad_fn

    assert_same(scenario, torch)


def test_custom_function_saved_tensor_modified():
    def scenario(t):
        Cube, _, _ = _functions(t)
        x = t.tensor(X, requires_grad=True)
        h = x * 1
        y = Cube.apply(h, 2.0)
        h.add_(1)
        return attempt(lambda: y.sum().backward())

    assert_same(scenario, torch)


def test_custom_function_backward_twice():
    def scenario(t):
        Cube, _, _ = _functions(t)
        y = Cube.apply(t.tensor(X, requires_grad=True), 2.0).sum()
        y.backward()
        return attempt(lambda: y.backward())

    assert_same(scenario, torch)
