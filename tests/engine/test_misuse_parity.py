"""Misuse PyTorch refuses or warns about, with its messages: mixed-dtype matrix products, hooks that
change a gradient's shape or dtype, gradcheck on single precision, warn-once conversions."""

import warnings

import pytest
from torch_diff import assert_same, attempt, warned

import gradstudio.engine as engine
from gradstudio.engine import _conversions

TORCH_MISSING = "PyTorch not installed: differential tests against real PyTorch skipped"


def _products(t):
    f, d, i = t.ones(2, 3), t.ones(3, 2, dtype=t.float64), t.ones(3, 2, dtype=t.int64)
    b = t.ones(2, 2).to(t.bool)
    return [lambda: t.mm(f, d), lambda: t.mm(d.t(), f.t()), lambda: t.mm(f, i), lambda: f @ d,
            lambda: t.ones(2, 2, 3) @ d, lambda: t.ones(2, 2, 3) @ t.ones(2, 3, 2, dtype=t.float64),
            lambda: f @ t.ones(3, dtype=t.float64), lambda: t.ones(3) @ t.ones(3, dtype=t.float64),
            lambda: t.ones(2) @ d.t(), lambda: t.ones(2, 3, requires_grad=True) @ d, lambda: i.t() @ i,
            lambda: b @ b, lambda: b @ b[0], lambda: b[0] @ b[0], lambda: b.unsqueeze(0) @ b.unsqueeze(0)]


def mixed_dtype_products(t):
    return [attempt(product) for product in _products(t)]


def hooks_changing_the_gradient(t):
    def run(hook, on_leaf):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        (x if on_leaf else y).register_hook(hook)
        return attempt(lambda: y.sum().backward())

    def grow(g):
        return t.ones(3)

    return [run(grow, True), run(grow, False), run(lambda g: g.double(), False), run(lambda g: g * 2, False)]


def gradcheck_in_single_precision(t):
    x = t.tensor([1.0, 2.0], requires_grad=True)
    return warned(lambda: t.autograd.gradcheck(lambda a: a * 2, (x,), raise_exception=False))


def requires_grad_on_a_non_leaf(t):
    y = t.tensor([1.0, 2.0], requires_grad=True) * 2
    return [y.requires_grad_(), y.requires_grad_(True), attempt(lambda: setattr(y, "requires_grad", True))]


SCENARIOS = [mixed_dtype_products, hooks_changing_the_gradient, gradcheck_in_single_precision,
             requires_grad_on_a_non_leaf]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_same_as_pytorch(scenario) -> None:
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    assert_same(scenario, torch)


@pytest.mark.parametrize(("product", "message"), [
    (lambda t: t.mm(t.ones(2, 3), t.ones(3, 2, dtype=t.float64)),
     "expected m1 and m2 to have the same dtype, but got: float != double"),
    (lambda t: t.ones(2, 3, dtype=t.int64) @ t.ones(3), "addmv input tensors must have the same dtype, but got Float, "
                                                       "Long, and Float"),
    (lambda t: t.ones(3) @ t.ones(3, dtype=t.float64), "dot : expected both vectors to have same dtype, but found "
                                                       "Float and Double"),
    (lambda t: t.bmm(t.ones(1, 2, 3), t.ones(1, 3, 2, dtype=t.float64)), "expected scalar type Float but found Double"),
])
def test_mixed_dtype_products_are_refused(product, message) -> None:
    with pytest.raises(RuntimeError) as caught:
        product(engine)
    assert str(caught.value) == message


def test_hook_may_not_change_shape_or_dtype() -> None:
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g.double())
    with pytest.raises(RuntimeError, match=r"^hook '<lambda>' has changed the type of value \(was torch.FloatTensor "
                                           r"got torch.DoubleTensor\)$"):
        y.sum().backward()


def test_gradcheck_warns_about_single_precision() -> None:
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match=r"^Input #0 requires gradient and is not a double precision"):
        assert engine.autograd.gradcheck(lambda a: a * 2, (x,), raise_exception=False) is False


def test_scalar_conversion_warns_once_per_process(monkeypatch) -> None:
    monkeypatch.setattr(_conversions, "_WARNED_ONCE", set())
    with pytest.warns(UserWarning, match="^Converting a tensor with requires_grad=True to a scalar"):
        float(engine.tensor([2.0], requires_grad=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(engine.tensor([3.0], requires_grad=True)) == 3.0


def refused_creation_and_shapes(t):
    x = t.arange(24.0).reshape(2, 3, 4)
    actions = [lambda: t.arange(0, 5, 0), lambda: t.arange(5, 0), lambda: t.linspace(0, 1, -1), lambda: t.eye(-1),
               lambda: t.eye(2, -1), lambda: t.ones(-1), lambda: t.zeros(2, -3), lambda: t.rand(2, -1),
               lambda: t.tensor([[1, 2], [3, 4]]).var(), lambda: t.tensor([1, 2]).std(0),
               lambda: x.permute(0, 0, 1), lambda: x.flatten(2, 0), lambda: x.unsqueeze(0).squeeze((0,)),
               lambda: x[0, :, 4], lambda: x[None, 0, :, 4], lambda: x[..., 5], lambda: x[0, None, 3],
               lambda: x[1.5], lambda: x[0, 1.0], lambda: x[..., ...], lambda: x[0, -5]]
    return [attempt(action) for action in actions]


def test_refusals_same_as_pytorch() -> None:
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    assert_same(refused_creation_and_shapes, torch)


@pytest.mark.parametrize(("action", "error", "message"), [
    (lambda t: t.arange(0, 5, 0), RuntimeError, "step must be nonzero"),
    (lambda t: t.ones(2, -1), RuntimeError, "Trying to create tensor with negative dimension -1: [2, -1]"),
    (lambda t: t.zeros(-1), RuntimeError, "zeros: Dimension size must be non-negative."),
    (lambda t: t.tensor([1, 2]).var(), RuntimeError, "std and var only support floating point and complex dtypes"),
    (lambda t: t.ones(2, 3).permute(1, 1), RuntimeError, "permute(): duplicate dims are not allowed."),
    (lambda t: t.ones(2, 3).flatten(1, 0), RuntimeError,
     "flatten() has invalid args: start_dim cannot come after end_dim"),
    (lambda t: t.ones(2, 3, 4)[0, :, 4], IndexError, "index 4 is out of bounds for dimension 2 with size 4"),
    (lambda t: t.ones(3)[1.5], IndexError, "only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                                           "Variables are valid indices (got float)"),
])
def test_refusals(action, error, message) -> None:
    with pytest.raises(error) as caught:
        action(engine)
    assert str(caught.value) == message


def test_squeeze_of_dims_and_vector_matrix_product_record_pytorchs_nodes() -> None:
    x = engine.ones(1, 2, requires_grad=True)
    assert x.squeeze((0,)).grad_fn.name() == "SqueezeBackward2"
    assert (engine.ones(2, requires_grad=True) @ engine.ones(2, 3)).grad_fn.name() == "SqueezeBackward4"
