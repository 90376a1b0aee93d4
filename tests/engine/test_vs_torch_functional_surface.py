"""The second wave of `torch.nn.functional` (activations, robust losses, kl_div, normalize, one_hot, dropout)
against real PyTorch: values, gradients (first and second order), grad_fn graphs, warnings and errors."""

import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same, attempt, warned  # noqa: E402

X = [[0.5, -1.25, 2.0, 0.0], [1.5, 0.75, -0.3, -3.0]]
T = [[0.2, -0.7, 1.1, 0.5], [1.0, 1.0, 1.0, -2.9]]
P = [[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.0, 0.5]]


def _with(build, *inputs, grad=(True,)):
    """Leaves from `inputs` (requiring grad as `grad` says), out = build(F, *leaves); backward of sum(out ** 3).

    Shows the graph, dtype and values of out and the gradients (values within a float tolerance, not as printed:
    float32 results one ulp apart print differently at a rounding tie)."""

    def scenario(t, dtype="float32"):
        leaves = [t.tensor(value, dtype=getattr(t, dtype), requires_grad=g)
                  for value, g in zip(inputs, grad + (False,) * len(inputs))]
        out = build(t.nn.functional, *leaves)
        if dtype == "float64":
            grads = t.autograd.grad((out * out * out).sum(), [x for x in leaves if x.requires_grad],
                                    create_graph=True)
            second = t.autograd.grad(sum(g.sum() for g in grads), [x for x in leaves if x.requires_grad],
                                     allow_unused=True)
            return [g.detach().tolist() for g in grads], [None if g is None else g.tolist() for g in second]
        (out * out * out).sum().backward()
        return (out.grad_fn, str(out.dtype), out.detach().tolist(),
                [None if x.grad is None else x.grad.tolist() for x in leaves])

    return scenario


CASES = {
    "leaky_relu": _with(lambda F, x: F.leaky_relu(x), X),
    "leaky_relu_slope": _with(lambda F, x: F.leaky_relu(x, 0.2), X),
    "silu": _with(lambda F, x: F.silu(x), X),
    "elu": _with(lambda F, x: F.elu(x), X),
    "elu_alpha": _with(lambda F, x: F.elu(x, alpha=0.5), X),
    "softplus": _with(lambda F, x: F.softplus(x), X),
    "softplus_beta_threshold": _with(lambda F, x: F.softplus(x, beta=2.0, threshold=1.0), X),
    "l1_loss": _with(lambda F, x, y: F.l1_loss(x, y), X, T),
    "l1_loss_sum_both": _with(lambda F, x, y: F.l1_loss(x, y, reduction="sum"), X, T, grad=(True, True)),
    "l1_loss_none": _with(lambda F, x, y: F.l1_loss(x, y, reduction="none"), X, T),
    "smooth_l1_loss": _with(lambda F, x, y: F.smooth_l1_loss(x, y), X, T),
    "smooth_l1_loss_beta_none": _with(lambda F, x, y: F.smooth_l1_loss(x, y, reduction="none", beta=0.5), X, T,
                                      grad=(True, True)),
    "smooth_l1_loss_sum": _with(lambda F, x, y: F.smooth_l1_loss(x, y, reduction="sum"), X, T),
    "huber_loss": _with(lambda F, x, y: F.huber_loss(x, y), X, T),
    "huber_loss_delta_none": _with(lambda F, x, y: F.huber_loss(x, y, reduction="none", delta=0.5), X, T,
                                   grad=(True, True)),
    "kl_div_batchmean": _with(lambda F, x, y: F.kl_div(x.log_softmax(1), y, reduction="batchmean"), X, P),
    "kl_div_none": _with(lambda F, x, y: F.kl_div(x, y, reduction="none"), X, P),
    "kl_div_sum_log_target": _with(lambda F, x, y: F.kl_div(x, y, reduction="sum", log_target=True), X, T),
    "normalize": _with(lambda F, x: F.normalize(x), X),
    "normalize_p1_dim0": _with(lambda F, x: F.normalize(x, p=1, dim=0), X),
    "dropout_eval": _with(lambda F, x: F.dropout(x, 0.5, training=False) * 2, X),
    "dropout_p0": _with(lambda F, x: F.dropout(x, 0.0) * 2, X),
    "dropout_p1": _with(lambda F, x: F.dropout(x, 1.0), X),
}


@pytest.mark.parametrize("name", CASES)
def test_functional(name):
    assert_same(lambda t: warned(lambda: CASES[name](t)), torch)


@pytest.mark.parametrize("name", CASES)
def test_functional_second_order(name):
    assert_same(lambda t: warned(lambda: CASES[name](t, "float64")), torch)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(approximate):
    """PyTorch's float32 gelu is not correctly rounded in the tails (gelu(-3) is 1.3e-4 off relatively); the
    engine's is, so values and gradients are compared to 1e-3 relatively; names and graphs exactly."""
    import numpy as np

    results = {}
    for module in (torch, __import__("gradstudio.engine", fromlist=["nn"])):
        x = module.tensor(X, requires_grad=True)
        out = module.nn.functional.gelu(x, approximate=approximate)
        (out * out * out).sum().backward()
        x64 = module.tensor(X, dtype=module.float64, requires_grad=True)
        (g,) = module.autograd.grad(module.nn.functional.gelu(x64, approximate=approximate).sum(), x64,
                                    create_graph=True)
        (g2,) = module.autograd.grad(g.sum(), x64)
        results[module is torch] = out.grad_fn.name(), out.detach().numpy(), x.grad.numpy(), g2.numpy()
    ours, theirs = results[False], results[True]
    assert ours[0] == theirs[0]
    for a, b in zip(ours[1:], theirs[1:]):
        assert np.allclose(a, b, rtol=1e-3, atol=1e-6)


def test_activations_at_infinities():
    def scenario(t):
        x = t.tensor([float("inf"), -float("inf"), float("nan")])
        F = t.nn.functional
        return [F.gelu(x), F.gelu(x, approximate="tanh"), F.silu(x), F.elu(x), F.softplus(x), F.leaky_relu(x)]

    assert_same(scenario, torch)


def test_kl_div_mean_warns():
    assert_same(lambda t: warned(lambda: t.nn.functional.kl_div(t.tensor(X), t.tensor(P))), torch)


def test_huber_loss_takes_the_input_dtype():
    def scenario(t):
        F = t.nn.functional
        return [F.huber_loss(t.ones(2, dtype=t.float64), t.zeros(2)),
                F.huber_loss(t.ones(2), t.zeros(2, dtype=t.int64)),
                F.smooth_l1_loss(t.ones(2), t.zeros(2, dtype=t.float64))]

    assert_same(scenario, torch)


def test_one_hot():
    def scenario(t):
        F = t.nn.functional
        return F.one_hot(t.tensor([0, 2, 1])), F.one_hot(t.tensor([[0], [2]]), 4), F.one_hot(t.tensor([], dtype=t.long),
                                                                                              3)

    assert_same(scenario, torch)


def test_dropout_scales_the_kept_elements():
    def scenario(t):
        x = t.ones(1000, requires_grad=True)
        y = t.nn.functional.dropout(x, 0.25)
        y.sum().backward()
        kept = y != 0
        return y.grad_fn.name(), sorted(set(y[kept].tolist())), bool(((x.grad == 0) == ~kept).all())

    assert_same(scenario, torch)


ERRORS = {
    "one_hot_float": lambda F, t: F.one_hot(t.tensor([0.0, 1.0])),
    "one_hot_too_large": lambda F, t: F.one_hot(t.tensor([0, 3]), 3),
    "one_hot_negative": lambda F, t: F.one_hot(t.tensor([-1, 0])),
    "dropout_p": lambda F, t: F.dropout(t.ones(2), 1.5),
    "gelu_approximate": lambda F, t: F.gelu(t.ones(2), approximate="fast"),
    "smooth_l1_negative_beta": lambda F, t: F.smooth_l1_loss(t.ones(2), t.ones(2), beta=-1.0),
    "huber_zero_delta": lambda F, t: F.huber_loss(t.ones(2), t.ones(2), delta=0.0),
    "kl_div_reduction": lambda F, t: F.kl_div(t.ones(2), t.ones(2), reduction="avg"),
    "l1_loss_reduction": lambda F, t: F.l1_loss(t.ones(2), t.ones(2), reduction="avg"),
    "kl_div_integral": lambda F, t: F.kl_div(t.tensor([1, 2]), t.ones(2), reduction="sum"),
    "huber_integral_input": lambda F, t: F.huber_loss(t.tensor([1, 2]), t.ones(2)),
    "huber_target_dtype_backward": lambda F, t: F.huber_loss(t.ones(2, requires_grad=True),
                                                             t.ones(2, dtype=t.float64)).backward(),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    assert_same(lambda t: attempt(lambda: ERRORS[name](t.nn.functional, t)), torch)
