"""Autograd semantics, run on our engine and on real PyTorch: leaves, backward, hooks, in-place, grad modes.

Each scenario is written once against the torch API; what it returns (tensors, flags,
error messages, warnings) must be the same with both modules.
"""

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same, attempt, graph, printed, warned  # noqa: E402

import gradstudio.engine as engine  # noqa: E402


def _leaf(t, values=(1.0, 2.0, 3.0)):
    return t.tensor(list(values), requires_grad=True)


def leaf_and_non_leaf(t):
    x = _leaf(t)
    y = x * 2
    return [x.is_leaf, y.is_leaf, t.tensor([1.0]).is_leaf, x.requires_grad, y.requires_grad, x.grad_fn, y.grad_fn,
            y.detach().is_leaf, (x * 2).sum().is_leaf, x]


def grad_only_on_leaves(t):
    x = _leaf(t)
    y = x * x
    y.sum().backward()
    return x.grad, warned(lambda: y.grad)


def retain_grad(t):
    x = _leaf(t)
    y = x * 3
    y.retain_grad()
    z = (y * y).sum()
    z.retain_grad()
    z.backward()
    x.retain_grad()  # a no-op on leaves
    return [y.grad, z.grad, y.retains_grad, z.retains_grad, x.retains_grad, x.grad,
            attempt(lambda: t.tensor([1.0]).retain_grad())]


def accumulation(t):
    x = _leaf(t)
    (x * x).sum().backward()
    first = x.grad.clone()
    (x * 5).sum().backward()
    second = x.grad.clone()
    x.grad.zero_()
    x.exp().sum().backward()
    return first, second, x.grad


def gradient_argument(t):
    x = _leaf(t)
    y = x * x
    y.backward(t.tensor([1.0, 0.1, 0.01]))
    m = t.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (m @ m).backward(gradient=t.ones(2, 2))
    return x.grad, m.grad


def backward_errors(t):
    x = _leaf(t)
    return [
        attempt(lambda: (x * 2).backward()),
        attempt(lambda: t.tensor([1.0]).sum().backward()),
        attempt(lambda: (x * 2).backward(t.ones(2))),
        attempt(lambda: t.no_grad()(lambda: (x * 2).sum())().backward()),
        x.grad,
    ]


def second_backward(t):
    x = _leaf(t)
    z = (x * x).sum()
    z.backward()
    error = attempt(z.backward)
    saved_nothing = (x + 1).sum()
    saved_nothing.backward()
    saved_nothing.backward()  # nothing was saved, so nothing was freed
    return error, x.grad


def retain_graph(t):
    x = _leaf(t)
    z = (x * x.exp()).sum()
    z.backward(retain_graph=True)
    z.backward(retain_graph=True)
    z.backward()
    return x.grad, attempt(z.backward)


def create_graph_second_derivative(t):
    x = t.tensor(2.0, requires_grad=True)
    y = x ** 3
    (dy,) = t.autograd.grad(y, x, create_graph=True)
    (d2y,) = t.autograd.grad(dy, x)
    return printed(dy), d2y, x.grad


def _quietly(action):
    """Run `action` with warnings silenced (PyTorch warns once per process, so which call warns varies)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return attempt(action)


def create_graph_backward(t):
    x = t.tensor([2.0, 3.0], requires_grad=True)
    _quietly(lambda: (x ** 3).sum().backward(create_graph=True))
    first = x.grad
    second = t.autograd.grad(first.sum(), x)
    _quietly(lambda: (x ** 3).sum().backward(create_graph=True))
    return printed(first), second, printed(x.grad), graph(first.grad_fn)[:2], graph(x.grad.grad_fn)[:2]


def hessian_vector_product(t):
    x = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = t.tensor([0.5, -1.0, 2.0])
    f = (x ** 2 * x.sin()).sum()
    (g,) = t.autograd.grad(f, x, create_graph=True)
    (hv,) = t.autograd.grad((g * v).sum(), x)
    return printed(g), hv


def hooks(t):
    x = _leaf(t)
    seen = []
    handle = x.register_hook(lambda g: g * 2)
    y = x * 3
    y.register_hook(lambda g: seen.append(g.clone()))
    y.register_hook(lambda g: g + 1)
    y.sum().backward()
    first = x.grad.clone()
    handle.remove()
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    return [first, x.grad, seen, attempt(lambda: t.tensor([1.0]).register_hook(lambda g: g))]


def hook_on_shared_non_leaf(t):
    x = _leaf(t)
    y = x.exp()
    y.register_hook(lambda g: g * 0)
    z = y * y + y
    z.sum().backward()
    return x.grad


def hooks_and_retain_grad(t):
    x = _leaf(t)
    y = x * 0.25
    y.retain_grad()
    y.register_hook(lambda g: g * 10)
    z = y.exp()
    z.register_hook(lambda g: g + 1)
    z.retain_grad()
    z.sum().backward()
    return y.grad, z.grad, x.grad


def one_element_and_grad_properties(t):
    x = _leaf(t)
    (x[:1] * 2).backward()
    return x.grad, x.grad.is_leaf, x.grad.requires_grad, x.grad.grad_fn, x.grad.dtype, x.grad.shape


def leaf_in_place(t):
    x = _leaf(t)
    return [attempt(lambda: x.add_(1)), attempt(lambda: x.mul_(2)), attempt(lambda: x.zero_()),
            attempt(lambda: x.__iadd__(1)), attempt(lambda: x.__setitem__(0, 5.0)), x._version, x]


def modified_saved_input(t):
    x = _leaf(t)
    b = x * 2
    c = b * b
    b.add_(1)
    return b._version, b.grad_fn, attempt(lambda: c.sum().backward())


def modified_saved_output(t):
    x = _leaf(t)
    b = x.exp()
    b.mul_(2)
    return b._version, b, attempt(lambda: b.sum().backward())


def modified_through_detach(t):
    x = _leaf(t)
    y = x.tanh()
    y.detach().zero_()
    return y._version, attempt(lambda: y.sum().backward())


def modified_leaf_saved(t):
    x = _leaf(t)
    y = x * x
    with t.no_grad():
        x.mul_(2)
    return x._version, attempt(lambda: y.sum().backward())


def in_place_non_leaf(t):
    x = _leaf(t)
    y = x * 1
    y.add_(1)
    y.mul_(x)
    y -= 0.5
    y /= 2
    y.sum().backward()
    return y, y._version, x.grad


def versions(t):
    x = t.ones(3)
    counts = [x._version]
    x.add_(1)
    counts.append(x._version)
    x += 1
    x *= 2
    counts.append(x._version)
    x[0] = 5.0
    counts.append(x._version)
    view = x[1:]
    view.mul_(2)
    counts += [x._version, view._version]
    x.reshape(3, 1).sub_(1)
    counts.append(x._version)
    y = x + 1
    counts.append((x._version, y._version))
    x.zero_()
    counts.append(x._version)
    return counts, x, view


def in_place_through_views(t):
    x = t.arange(6.0).reshape(2, 3)
    x[0, 1].add_(5)
    x[1][2].mul_(10)
    x.t()[0].sub_(1)
    x.view(6)[4].div_(2)
    x[:, 2].zero_()
    return x, x._version


def manual_sgd(t):
    w = t.tensor([1.0, -2.0], requires_grad=True)
    inputs = t.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    targets = t.tensor([1.0, 2.0, 3.0])
    losses = []
    for _ in range(4):
        loss = ((inputs @ w - targets) ** 2).mean()
        loss.backward()
        with t.no_grad():
            w -= 0.01 * w.grad
        w.grad.zero_()
        losses.append(loss.item())
    return losses, w, w.grad, w.is_leaf, w.requires_grad, w._version, w.grad_fn


def detach_and_data(t):
    x = _leaf(t)
    y = x * 2
    d = y.detach()
    d_before = (d.requires_grad, d.is_leaf, d.grad_fn, d._version)
    z = x * 3
    z.detach_()
    data = x.data
    data.mul_(10)
    return [d_before, d, z, z.requires_grad, z.is_leaf, z.grad_fn, data, data.requires_grad, x, x._version,
            data._version]


def data_setter(t):
    x = _leaf(t)
    x.data = t.tensor([4.0, 5.0])
    (x * x).sum().backward()
    return x, x.grad


def requires_grad_setter(t):
    x = _leaf(t)
    y = x * 2
    ints = t.tensor([1, 2])
    plain = t.tensor([1.0])
    plain.requires_grad = True
    returned = t.tensor([2.0]).requires_grad_()
    turned_off = _leaf(t).requires_grad_(False)
    return [attempt(lambda: setattr(y, "requires_grad", False)),
            attempt(lambda: setattr(y, "requires_grad", True)),
            attempt(lambda: setattr(ints, "requires_grad", True)),
            attempt(lambda: ints.requires_grad_()),
            attempt(lambda: setattr(ints, "requires_grad", False)),
            plain, returned, turned_off]


def conversions_and_errors(t):
    x = _leaf(t)
    return [attempt(x.numpy), x.detach().numpy(), attempt(x.item), t.tensor([2.5]).item(), t.tensor(3).item(),
            t.tensor([[True]]).item(), attempt(lambda: t.tensor([]).item()), x.tolist(), t.tensor(2.0).tolist(),
            t.tensor([[1, 2], [3, 4]]).tolist(), float(t.tensor([1.5])), int(t.tensor(7)),
            _quietly(lambda: float(x)), attempt(lambda: int(t.tensor([1, 2]))), attempt(lambda: bool(x)),
            bool(t.tensor([0.0])), _quietly(lambda: float(t.tensor([2.5], requires_grad=True)))]


def numpy_shares_memory(t):
    x = t.tensor([1.0, 2.0])
    array = x.numpy()
    array[0] = 9.0
    x.mul_(2)
    return x, array


def no_grad_context(t):
    x = _leaf(t)
    with t.no_grad():
        inside = t.is_grad_enabled()
        y = x * 2
        with t.enable_grad():
            z = x * 2
            inner = t.is_grad_enabled()
        after_inner = t.is_grad_enabled()
    return [inside, inner, after_inner, t.is_grad_enabled(), y, y.requires_grad, z, z.requires_grad]


def no_grad_decorators(t):
    x = _leaf(t)

    @t.no_grad()
    def called(a):
        return a * 2, t.is_grad_enabled()

    @t.no_grad
    def bare(a):
        return a * 3, t.is_grad_enabled()

    @t.enable_grad()
    def enabled(a):
        return a * 4

    with t.no_grad():
        e = enabled(x)
    return [called(x), bare(x), e, called.__name__, bare.__name__, t.is_grad_enabled()]


def set_grad_enabled(t):
    x = _leaf(t)
    t.set_grad_enabled(False)
    off = (t.is_grad_enabled(), x * 2)
    t.set_grad_enabled(True)
    on = (t.is_grad_enabled(), x * 2)
    with t.set_grad_enabled(False):
        ctx = (t.is_grad_enabled(), x * 2)
    after = t.is_grad_enabled()
    with t.no_grad():
        with t.set_grad_enabled(True):
            nested = (t.is_grad_enabled(), x * 2)
        restored = t.is_grad_enabled()
    return [off, on, ctx, after, nested, restored, t.is_grad_enabled()]


def inference_mode(t):
    x = _leaf(t)
    with t.inference_mode():
        y = x * 2
        inside = (t.is_grad_enabled(), t.is_inference_mode_enabled())
    with t.inference_mode(False):
        z = x * 2
    decorated = t.inference_mode()(lambda a: a + 1)(x)
    return [y, y.requires_grad, inside, z, t.is_inference_mode_enabled(), t.is_grad_enabled(), decorated]


def autograd_grad(t):
    x = _leaf(t)
    w = t.tensor([0.5, -1.0, 2.0], requires_grad=True)
    unused = t.tensor([1.0], requires_grad=True)
    loss = (x * w).sum() + x.exp().sum()
    gx, gw = t.autograd.grad(loss, [x, w], retain_graph=True)
    only = t.autograd.grad(loss, w, retain_graph=True)
    allowed = t.autograd.grad(loss, [x, unused], allow_unused=True, retain_graph=True)
    vector = t.autograd.grad(x * w, x, grad_outputs=t.tensor([1.0, 2.0, 3.0]))
    return [gx, gw, only, allowed, vector, x.grad, w.grad,
            attempt(lambda: t.autograd.grad((x * 2).sum(), [x, unused])),
            attempt(lambda: t.autograd.grad((x * 2).sum(), t.tensor([1.0]))),
            attempt(lambda: t.autograd.grad(x * 2, x))]


def autograd_backward(t):
    x = _leaf(t)
    a, b = (x * 2).sum(), x * x
    t.autograd.backward([a, b], [None, t.tensor([1.0, 1.0, 0.5])])
    first = x.grad.clone()
    t.autograd.backward((x ** 2).sum())
    return first, x.grad


def gradcheck(t):
    inputs = (t.tensor([[0.3, -1.2], [2.0, 0.7]], dtype=t.float64, requires_grad=True),
              t.tensor([0.5, 1.5], dtype=t.float64, requires_grad=True))
    return [t.autograd.gradcheck(lambda a, b: (a @ b).tanh() * b, inputs),
            t.autograd.gradcheck(lambda a: a.softmax(0).log().sum(1), inputs[:1], eps=1e-6, atol=1e-5)]


def _anomaly(t, run):
    result, caught = warned(run)
    return result, [(category, message.splitlines()[0]) for category, message in caught]


def detect_anomaly_context(t):
    def run():
        with t.autograd.detect_anomaly():
            x = t.tensor([-1.0, 4.0], requires_grad=True)
            x.sqrt().sum().backward()

    return _anomaly(t, run), t.is_anomaly_enabled()


def set_detect_anomaly(t):
    def run():
        t.autograd.set_detect_anomaly(True)
        try:
            x = t.tensor([0.0, 1.0], requires_grad=True)
            (x * x.log()).sum().backward()
        finally:
            t.autograd.set_detect_anomaly(False)

    return _anomaly(t, run), t.is_anomaly_enabled()


def anomaly_nan_check_off(t):
    def run():
        with t.autograd.detect_anomaly(check_nan=False):
            x = t.tensor([-1.0, 4.0], requires_grad=True)
            x.sqrt().sum().backward()
            return x.grad

    return _anomaly(t, run)


def tensor_api(t):
    x = t.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    return [x.shape, x.size(), x.size(0), x.size(-1), x.size(dim=1), attempt(lambda: x.size(2)), x.dim(), x.ndim,
            x.numel(), x.dtype, t.tensor(5).shape, t.tensor(5).dim(), t.tensor(5).numel(), len(x),
            x.float() is x, x.double(), x.long(), x.to(t.int64), x.to(dtype=t.float64), x.clone(), x.T,
            x.zero_(), x, t.tensor([True, False]).long(), t.tensor([1, 0]).to(t.bool)]


def clone_and_casts_with_grad(t):
    x = _leaf(t)
    c, d, f, long = x.clone(), x.double(), x.float(), x.long()
    (c * d.float()).sum().backward()
    return [c, d, f is x, long, long.requires_grad, x.grad]


def zero_on_leaf_under_no_grad(t):
    x = _leaf(t)
    (x * x).sum().backward()
    with t.no_grad():
        x.zero_()
        x.add_(1)
    x.grad.zero_()
    return x, x.grad, x._version


def item_assignment(t):
    x = _leaf(t)
    y = x.clone()
    y[0] = 10.0
    y[1:] = x[:2] * 3
    y.sum().backward()
    plain = t.zeros(2, 3)
    plain[0] = 1.0
    plain[1, 1:] = t.tensor([2.0, 3.0])
    plain[:, 0] += 5
    return y, x.grad, plain


def saved_freed_as_each_node_runs(t):
    """Without retain_graph a node's saved tensors go right after it runs: when a hook stops the pass midway,
    the nodes that ran have freed theirs and the rest keep them, on both the one-root and the general path."""

    def stopped_midway(run):
        x = _leaf(t)
        y = x.exp()
        z = y.sin()
        y.register_hook(lambda grad: 1 / 0)
        stopped = attempt(lambda: run((z * 2).sum(), x))
        return [stopped, attempt(lambda: z.grad_fn._saved_self), attempt(lambda: y.grad_fn._saved_result)]

    return [stopped_midway(lambda out, x: out.backward()), stopped_midway(lambda out, x: t.autograd.backward(out)),
            stopped_midway(lambda out, x: t.autograd.grad(out, [x]))]


SEMANTICS = {f.__name__: f for f in (
    leaf_and_non_leaf, grad_only_on_leaves, retain_grad, accumulation, gradient_argument, backward_errors,
    second_backward, retain_graph, create_graph_second_derivative, create_graph_backward, hessian_vector_product,
    hooks, hook_on_shared_non_leaf, hooks_and_retain_grad, one_element_and_grad_properties, leaf_in_place,
    modified_saved_input, modified_saved_output, modified_through_detach, modified_leaf_saved, in_place_non_leaf,
    versions, in_place_through_views, manual_sgd, detach_and_data,
    data_setter, requires_grad_setter, conversions_and_errors, numpy_shares_memory, no_grad_context,
    no_grad_decorators, set_grad_enabled, inference_mode, autograd_grad, autograd_backward, gradcheck,
    detect_anomaly_context, set_detect_anomaly, anomaly_nan_check_off, tensor_api, clone_and_casts_with_grad,
    zero_on_leaf_under_no_grad, item_assignment, saved_freed_as_each_node_runs,
)}


@pytest.mark.parametrize("name", SEMANTICS)
def test_semantics(name):
    assert_same(SEMANTICS[name], torch)


@pytest.mark.parametrize("module", [engine, torch], ids=["engine", "torch"])
def test_non_leaf_grad_warns(module):
    y = module.tensor([1.0], requires_grad=True) * 2
    with pytest.warns(UserWarning, match=re.escape("The .grad attribute of a Tensor that is not a leaf Tensor")):
        assert y.grad is None


# PyTorch raises these warnings once per process, so they are compared in fresh interpreters.
FIRST_WARNINGS = """
import importlib, json, sys, warnings
t = importlib.import_module(sys.argv[1])


def first(action):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    return [(w.category.__name__, str(w.message)) for w in caught]


x = t.tensor([2.0, 3.0], requires_grad=True)
print(json.dumps({
    "backward_create_graph": first(lambda: (x ** 3).sum().backward(create_graph=True)),
    "float_of_requires_grad": first(lambda: float(t.tensor(2.0, requires_grad=True) * 2)),
    "int_of_requires_grad": first(lambda: int(t.tensor(2.0, requires_grad=True))),
    "item_of_requires_grad": first(lambda: t.tensor(2.0, requires_grad=True).item()),
    "T_of_vector": first(lambda: t.ones(3).T),
    "T_of_0d": first(lambda: t.tensor(1.0).T),
    "T_of_matrix": first(lambda: t.ones(2, 3).T),
}))
"""


def _first_warnings(module_name):
    run = subprocess.run([sys.executable, "-c", FIRST_WARNINGS, module_name], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    return json.loads(run.stdout.splitlines()[-1])


def test_first_time_warnings():
    ours = _first_warnings("gradstudio.engine")
    assert ours == _first_warnings("torch")
    assert ours["backward_create_graph"] and ours["float_of_requires_grad"] and ours["T_of_vector"]
