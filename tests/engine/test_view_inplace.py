"""In-place ops through views: the base's history learns of the change, as in PyTorch.

`y = x * 1; y[0].mul_(z)` must give `y` a `CopySlices` grad_fn (so x and z get the right
gradients) and the view an `AsStridedBackward0` one; views of leaves that require grad and
views created under no_grad refuse in-place ops with PyTorch's messages; other views of the
same base see the new history; item assignment is an in-place copy into a view.

The first half runs each scenario on the engine and on real PyTorch (skipped, saying so,
where PyTorch is not installed) and compares what they show: values, gradients, grad_fn
graphs by name, versions and error messages. The second half asserts the key facts with
PyTorch 2.13's literal values and messages, so the suite means something without PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from torch_diff import assert_same, attempt, graph, printed

import gradstudio.engine as torch

# ----- differential scenarios against real PyTorch ----------------------------------------------------------


@pytest.fixture(scope="module")
def real_torch() -> ModuleType:
    """PyTorch itself, or a skip saying why the differential tests did not run."""
    return pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")


def _x(t: Any) -> Any:
    return t.tensor([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]], requires_grad=True)


def _operand(t: Any, like: Any, scale: float = 0.5) -> Any:
    """A leaf requiring grad with `like`'s shape and distinct positive values."""
    values = np.arange(like.numel(), dtype=np.float64).reshape(tuple(like.shape)) * scale + 1.5
    return t.tensor(values.tolist(), requires_grad=True)


VIEWS: dict[str, Callable[[Any], Any]] = {
    "select": lambda y: y[0],
    "select_method": lambda y: y.select(1, 2),
    "element": lambda y: y[1, 2],
    "slice": lambda y: y[1:],
    "column": lambda y: y[:, 1],
    "strided": lambda y: y[:, ::2],
    "narrow": lambda y: y.narrow(1, 1, 2),
    "t": lambda y: y.t(),
    "T": lambda y: y.T,
    "transpose": lambda y: y.transpose(0, 1),
    "permute": lambda y: y.permute(1, 0),
    "view": lambda y: y.view(6),
    "reshape": lambda y: y.reshape(3, 2),
    "unsqueeze": lambda y: y.unsqueeze(0),
    "squeeze": lambda y: y[0:1].squeeze(0),
    "ellipsis": lambda y: y[...],
    "view_of_view": lambda y: y.t()[1],
    "none_and_slice": lambda y: y[None, 1, 1:],
}


def _relu_(t: Any, v: Any, z: Any) -> Any:
    return t.nn.functional.relu(v, inplace=True)


OPS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "mul_": lambda t, v, z: v.mul_(z),
    "add_alpha": lambda t, v, z: v.add_(z, alpha=2),
    "sub_constant": lambda t, v, z: v.sub_(1.5),
    "div_": lambda t, v, z: v.div_(z),
    "iadd": lambda t, v, z: v.__iadd__(z),
    "zero_": lambda t, v, z: v.zero_(),
    "fill_number": lambda t, v, z: v.fill_(2.5),
    "fill_tensor": lambda t, v, z: v.fill_(z.sum()),
    "copy_": lambda t, v, z: v.copy_(z),
    "relu_": _relu_,
}


def _through_view(view_name: str, op_name: str) -> Callable[[Any], Any]:
    def scenario(t: Any) -> Any:
        x = _x(t)
        y = x * 1
        v = VIEWS[view_name](y)
        z = _operand(t, v)
        OPS[op_name](t, v, z)
        shown = [y, v, graph(y.grad_fn), graph(v.grad_fn), y._version, v._version, v.is_leaf, v.requires_grad]
        ((y * y).sum() + (v * v * 3).sum()).backward()
        return [*shown, x.grad, z.grad]

    return scenario


@pytest.mark.parametrize("op_name", OPS)
@pytest.mark.parametrize("view_name", VIEWS)
def test_in_place_through_a_view(view_name: str, op_name: str, real_torch: ModuleType) -> None:
    assert_same(_through_view(view_name, op_name), real_torch)


def leaf_views(t):
    x = _x(t)
    z = t.ones(3, requires_grad=True)

    def augmented():
        v = x[0]
        v += 1

    def assigned_row():
        x[1] = 5.0

    def assigned_all():
        x[...] = 5.0

    errors = [attempt(lambda: x[0].mul_(2)), attempt(lambda: x.t().add_(1)), attempt(lambda: x.view(6).zero_()),
              attempt(lambda: x[0].mul_(z)), attempt(augmented), attempt(assigned_row), attempt(assigned_all),
              attempt(lambda: x.__setitem__(slice(None), 5.0)), attempt(lambda: x[:, 1:].copy_(t.zeros(2, 2)))]
    before = x._version
    v = x[1:]
    with t.no_grad():
        v.mul_(2)
        x[0, 0] = 9.0
    return errors, before, x, x._version, v, graph(v.grad_fn), x.is_leaf


def views_of_plain_tensors(t):
    base = t.zeros(2, 3)
    z = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
    row = base[1]
    row.add_(z)
    other = base[:, 0]
    shown = [base, row, graph(base.grad_fn), graph(row.grad_fn), base.requires_grad, other.requires_grad,
             graph(other.grad_fn)]
    (base * base).sum().backward()
    constant = t.zeros(3)
    constant[1:].add_(1)
    return [*shown, z.grad, constant, constant.requires_grad, constant._version]


def no_grad_views(t):
    x = _x(t)
    y = x * 1
    plain = t.zeros(3)
    z = t.ones(3, requires_grad=True)
    with t.no_grad():
        of_leaf, of_y, of_plain, both_inside = x[0], y[1], plain[0:2], y[0]
        both_inside.mul_(2)
    with t.inference_mode():
        inferred = y[0]
    plain_view = plain[1:]
    with t.no_grad():
        late = plain[:2]
    late.add_(1)  # nothing requires grad: allowed
    errors = [attempt(lambda: of_leaf.mul_(2)), attempt(lambda: of_y.add_(1)), attempt(lambda: of_y.mul_(z)),
              attempt(lambda: of_plain.mul_(z[:2])), attempt(lambda: inferred.mul_(2))]
    plain_view.mul_(z[1:])
    return errors, x, y, plain, y._version, repr(of_plain), attempt(lambda: of_plain.grad_fn), plain._version


def no_grad_view_after_its_base_changed(t):
    x = _x(t)
    y = x * 1
    with t.no_grad():
        v = y[0]
        w = x.t()
    y.mul_(2)
    with t.no_grad():
        x.mul_(3)
    with t.no_grad():
        unchanged = y[1]
    return [attempt(lambda: v.grad_fn), repr(v), attempt(lambda: w.grad_fn), repr(w), unchanged.grad_fn,
            v._version]


def other_views_see_the_change(t):
    x = _x(t)
    z = t.tensor([2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    row, column, transposed, flat = y[0], y[:, 1], y.t(), y.view(6)
    before = [graph(column.grad_fn)]
    row.mul_(z)
    after = [graph(column.grad_fn), graph(transposed.grad_fn), graph(flat.grad_fn), column, transposed, flat]
    loss = (column * column).sum() + (transposed * 2).sum() + flat[4]
    gx, gz = t.autograd.grad(loss, [x, z])
    return before, after, gx, gz


def base_changed_directly(t):
    x = _x(t)
    y = x * 1
    row = y[1]
    y.mul_(2)
    shown = [graph(row.grad_fn), row, y._version, row._version]
    (row * row).sum().backward()
    leaf = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tail = leaf[1:]
    with t.no_grad():
        leaf.mul_(2)
    shown += [graph(tail.grad_fn), tail]
    tail.sum().backward()
    return [*shown, x.grad, leaf.grad]


def view_changed_under_no_grad(t):
    x = _x(t)
    y = x * 1
    v = y[1]
    with t.no_grad():
        v.mul_(2)
    return [graph(v.grad_fn), graph(y.grad_fn), v, y, t.autograd.grad(v.sum(), x)]


def twice_through_one_view_and_another(t):
    x = _x(t)
    z = t.tensor([2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    v = y[0]
    v.mul_(z)
    v.add_(1)
    y[:, 2].mul_(z[:2])
    shown = [graph(y.grad_fn), graph(v.grad_fn), y, v, y._version]
    (y * y).sum().backward()
    return [*shown, x.grad, z.grad]


def retain_grad_and_hooks(t):
    x = _x(t)
    y = x * 1
    y.retain_grad()
    seen = []
    y.register_hook(lambda g: seen.append(g.clone()))
    v = y[0]
    v.retain_grad()
    v.mul_(2)
    (y * y).sum().backward()
    first = [y.grad, v.grad, v.retains_grad, seen]
    w = x * 1
    r = w[1]
    r.retain_grad()
    r.add_(1)
    (r * r).sum().backward()
    plain = x * 1
    plain.retain_grad()
    plain.mul_(2)
    (plain * plain).sum().backward()
    return [*first, r.grad, plain.grad, x.grad]


def saved_values_changed_through_views(t):
    def saved_view():
        x = _x(t)
        v = (x * 1)[0]
        w = v * v
        v.mul_(2)
        return t.autograd.grad(w.sum(), x)

    def saved_base():
        x = _x(t)
        y = x * 1
        w = y * y
        y[0].mul_(2)
        return t.autograd.grad(w.sum(), x)

    def view_saved_base_changed():
        x = _x(t)
        y = x * 1
        v = y[0]
        w = v * v
        y.mul_(2)
        return t.autograd.grad(w.sum(), x)

    def saved_output():
        x = _x(t)
        y = x.exp()
        y[0].mul_(2)
        return t.autograd.grad(y.sum(), x)

    return [attempt(saved_view), attempt(saved_base), attempt(view_saved_base_changed), attempt(saved_output)]


def backward_twice_and_create_graph(t):
    x = t.tensor([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]], requires_grad=True)
    z = t.tensor([1.2, -0.4, 0.9], requires_grad=True)
    y = x * x
    y[1].mul_(z)
    y.t()[0].mul_(x[0, :2])
    gx, gz = t.autograd.grad((y.exp()).sum(), [x, z], create_graph=True)
    hx, hz = t.autograd.grad((gx * gx).sum() + gz.sum(), [x, z], retain_graph=True)
    loss = (y * y).sum()
    loss.backward(retain_graph=True)
    again = attempt(lambda: loss.backward())
    twice = attempt(lambda: loss.backward())
    return again, twice, printed(gx), printed(gz), hx, hz, x.grad, z.grad


def item_assignment_graphs(t):
    x = _x(t)
    z = t.tensor([7.0, 8.0, 9.0], requires_grad=True)
    results = []
    for key, value in [(0, z), (Ellipsis, z), (slice(None), z), (None, z), (0, z[None]), (1, 5.0), ((0, 1), z[0]),
                       ((slice(None), 0), z[:2]), (1, z[:1]), ((Ellipsis, 2), z[1:]), (0, t.tensor([1, 2, 3])),
                       (Ellipsis, 2.0), ((1, slice(0, 2)), z.sum())]:
        y = x * 1
        y[key] = value
        results.append((graph(y.grad_fn), y))
        y.sum().backward()
        results.append((x.grad, z.grad))
        x.grad, z.grad = None, None
    return results


def item_assignment_into_views(t):
    x = _x(t)
    z = t.tensor([7.0, 8.0], requires_grad=True)
    y = x * 1
    v = y[0]
    v[1:] = z
    w = y.t()
    w[2] = z * 2
    shown = [graph(y.grad_fn), graph(v.grad_fn), graph(w.grad_fn), y, v, w]
    (y * y).sum().backward()
    return [*shown, x.grad, z.grad]


def item_assignment_at_tensor_indices(t):
    x = _x(t)
    z = t.tensor([7.0], requires_grad=True)
    pair = t.tensor([5.0, 6.0], requires_grad=True)
    y = x * 1
    y[x > 0] = z
    masked = (graph(y.grad_fn), y)
    (y * y).sum().backward()
    grads = (x.grad, z.grad)
    w = x * 1
    w[[0, 1], [1, 0]] = pair
    w[0][t.tensor([True, False, True])] = 0.0
    listed = (graph(w.grad_fn), w)
    (w * w).sum().backward()
    plain = t.zeros(2, 3)
    plain[plain == 0] = 1.0
    plain[0, [0, 2]] = 4.0
    return masked, grads, listed, x.grad, pair.grad, plain


def item_assignment_errors_and_casts(t):
    x = _x(t)
    plain = t.zeros(2, 3)
    ints = t.zeros(3, dtype=t.int64)
    ints[0] = 2.7
    ints[1:] = t.tensor([1.5, 2.5])
    y = x * 1
    return [attempt(lambda: plain.__setitem__(0, t.ones(4))), attempt(lambda: plain.__setitem__(0, t.ones(2, 3))),
            attempt(lambda: y.__setitem__(0, t.ones(4, requires_grad=True))),
            attempt(lambda: y[0].copy_(t.ones(4))), attempt(lambda: y.fill_(t.ones(2))), ints, plain, y]


def fill_copy_and_zero_names(t):
    x = _x(t)
    z = t.tensor(3.0, requires_grad=True)
    row = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
    filled = (x * 1).fill_(2.0)
    filled_zero = (x * 1).fill_(0)
    filled_tensor = (x * 1).fill_(z)
    zeroed = (x * 1).zero_()
    copied = (x * 1).copy_(row)
    total = (filled + filled_zero + filled_tensor + zeroed + copied * copied).sum()
    total.backward()
    return [graph(filled.grad_fn), graph(filled_zero.grad_fn), graph(filled_tensor.grad_fn), graph(zeroed.grad_fn),
            graph(copied.grad_fn), x.grad, z.grad, row.grad]


def expanded_views(t):
    x = _x(t)
    y = x * 1
    wide = y[0:1].expand(3, 3)
    same = y[0:1].expand(1, 3)
    same.mul_(2)
    plain = t.zeros(1, 3)
    return [attempt(lambda: wide.mul_(2)), attempt(lambda: wide.add_(t.ones(3, requires_grad=True))),
            attempt(lambda: plain.expand(2, 3).add_(1)), graph(same.grad_fn), graph(wide.grad_fn), y, y._version]


def non_contiguous_base(t):
    x = _x(t)
    z = t.tensor([2.0, 3.0], requires_grad=True)
    w = t.tensor([0.5, -1.0, 1.5], requires_grad=True)
    y = x.t() * 1
    y[1].mul_(z)
    y[:, 0].add_(w)
    (y * y).sum().backward()
    return y, graph(y.grad_fn), x.grad, z.grad, w.grad


def view_of_a_detached_base(t):
    x = _x(t)
    z = t.tensor([2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    d = y.detach()
    v = d[0]
    v.mul_(z)
    return [graph(v.grad_fn), graph(d.grad_fn), graph(y.grad_fn), y, y._version, d.requires_grad,
            attempt(lambda: (y * 2).sum().backward())]


def base_and_is_view(t):
    x = _x(t)
    y = x * 1
    v = y.t()[0]
    with t.no_grad():
        n = x[0]
    return [v._base is y, v._is_view(), y._base is None, y._is_view(), n._base is x, n._is_view(),
            attempt(lambda: v.detach_()), attempt(lambda: n.detach_()), v.detach()._base is None]


SCENARIOS = {f.__name__: f for f in (
    leaf_views, views_of_plain_tensors, no_grad_views, no_grad_view_after_its_base_changed,
    other_views_see_the_change, base_changed_directly, view_changed_under_no_grad,
    twice_through_one_view_and_another, retain_grad_and_hooks, saved_values_changed_through_views,
    backward_twice_and_create_graph, item_assignment_graphs, item_assignment_into_views,
    item_assignment_at_tensor_indices, item_assignment_errors_and_casts, fill_copy_and_zero_names, expanded_views,
    non_contiguous_base, view_of_a_detached_base, base_and_is_view,
)}


@pytest.mark.parametrize("name", SCENARIOS)
def test_matches_pytorch(name: str, real_torch: ModuleType) -> None:
    assert_same(SCENARIOS[name], real_torch)


# ----- PyTorch 2.13's literal values and messages (no PyTorch needed) ---------------------------------------

VIEW_OF_LEAF = "a view of a leaf Variable that requires grad is being used in an in-place operation."
NO_GRAD_VIEW = (
    "A view was created in no_grad mode and {} modified inplace with grad mode enabled. Given that this use case is "
    "ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the inplace "
    "either both inside the no_grad block (if you don't want the inplace to be tracked) or both outside (if you want "
    "the inplace to be tracked)."
)


def _raises(message: str, action: Callable[[], Any]) -> None:
    with pytest.raises(RuntimeError) as caught:
        action()
    assert str(caught.value) == message


def _names(node: Any) -> list[str | None]:
    return [None if child is None else child.name() for child, _ in node.next_functions]


def test_select_mul_reaches_the_base_and_the_other_operand() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    z = torch.tensor([2.0, 3.0], requires_grad=True)
    y = x * 1
    v = y[0]
    v.mul_(z)
    (y * y).sum().backward()
    assert x.grad.tolist() == [[8.0, 36.0], [6.0, 8.0]]
    assert z.grad.tolist() == [4.0, 24.0]
    assert y.grad_fn.name() == "torch::autograd::CopySlices"
    assert _names(y.grad_fn) == ["MulBackward0", "torch::autograd::AccumulateGrad"]
    assert v.grad_fn.name() == "AsStridedBackward0"
    assert _names(v.grad_fn) == ["torch::autograd::CopySlices"]
    assert (y._version, v._version) == (1, 1)
    assert repr(v) == "tensor([2., 6.], grad_fn=<AsStridedBackward0>)"
    assert repr(y) == "tensor([[2., 6.],\n        [3., 4.]], grad_fn=<CopySlices>)"


@pytest.mark.parametrize(("build", "x_grad"), [
    (lambda y: y.t(), [[8.0, 16.0], [24.0, 32.0]]),
    (lambda y: y.view(4), [[8.0, 16.0], [24.0, 32.0]]),
    (lambda y: y[1:], [[2.0, 4.0], [24.0, 32.0]]),
    (lambda y: y.unsqueeze(0), [[8.0, 16.0], [24.0, 32.0]]),
    (lambda y: y.T, [[8.0, 16.0], [24.0, 32.0]]),
    (lambda y: y[:, 1], [[2.0, 16.0], [6.0, 32.0]]),
    (lambda y: y.t()[1], [[2.0, 16.0], [6.0, 32.0]]),
], ids=["t", "view", "slice", "unsqueeze", "T", "column", "view_of_view"])
def test_each_view_op_rewrites_the_base(build: Callable[[Any], Any], x_grad: list) -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    v = build(y)
    v.mul_(2)
    assert (v.grad_fn.name(), y.grad_fn.name()) == ("AsStridedBackward0", "torch::autograd::CopySlices")
    (y * y).sum().backward()
    assert x.grad.tolist() == x_grad


def test_add_on_a_transpose_names() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    v = y.t()
    v.add_(1)
    assert (y.grad_fn.name(), v.grad_fn.name()) == ("torch::autograd::CopySlices", "AsStridedBackward0")
    assert v.grad_fn.next_functions[0][0] is y.grad_fn
    assert y.tolist() == [[2.0, 3.0], [4.0, 5.0]]


def test_views_of_leaves_refuse_in_place_ops() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    _raises(VIEW_OF_LEAF, lambda: x[0].mul_(2))
    _raises(VIEW_OF_LEAF, lambda: x.t().add_(1))
    _raises(VIEW_OF_LEAF, lambda: x.__setitem__(0, 5.0))
    _raises("a leaf Variable that requires grad is being used in an in-place operation.",
            lambda: x.__setitem__(Ellipsis, 5.0))
    assert x._version == 0 and x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with torch.no_grad():
        x[0].mul_(2)
    assert x.tolist() == [[2.0, 4.0], [3.0, 4.0]] and x._version == 1


def test_no_grad_views_refuse_in_place_ops_with_grad_mode_on() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with torch.no_grad():
        v = x[0]
    _raises(NO_GRAD_VIEW.format("is being"), lambda: v.mul_(2))
    plain = torch.zeros(3)
    with torch.no_grad():
        p = plain[1:]
    _raises(NO_GRAD_VIEW.format("is being"), lambda: p.mul_(torch.ones(2, requires_grad=True)))
    p.add_(1)  # nothing requires grad: allowed
    assert plain.tolist() == [0.0, 1.0, 1.0]
    with torch.inference_mode():
        i = x[1]
    _raises("A view was created in inference mode and is being modified inplace in normal mode. Given that this use "
            "case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and "
            "the inplace either both inside the inference_mode block (if you don't want the inplace to be tracked) or "
            "both outside (if you want the inplace to be tracked).", lambda: i.mul_(2))


def test_no_grad_view_of_a_changed_base_cannot_regenerate() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    with torch.no_grad():
        v = y[0]
    y.mul_(2)
    _raises(NO_GRAD_VIEW.format("its base or another view of its base has been"), lambda: v.grad_fn)
    assert repr(v) == "tensor([2., 4.], grad_fn=<Invalid>)"


def test_other_views_regenerate_their_history() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    row, column = y[0], y[:, 1]
    assert column.grad_fn.name() == "SelectBackward0"
    row.mul_(3)
    assert column.grad_fn.name() == "AsStridedBackward0"
    assert column.grad_fn.next_functions[0][0] is y.grad_fn
    (grad,) = torch.autograd.grad((column * column).sum(), x)
    assert grad.tolist() == [[0.0, 36.0], [0.0, 8.0]]


def test_view_of_a_leaf_regenerates_after_a_no_grad_update() -> None:
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = x[1:]
    with torch.no_grad():
        v.mul_(2)
    assert repr(v) == "tensor([4., 6.], grad_fn=<AsStridedBackward0>)"
    assert v.grad_fn.next_functions[0][0].name() == "torch::autograd::AccumulateGrad"
    v.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0]


def test_in_place_on_an_expanded_view_is_refused() -> None:
    y = torch.zeros(1, 2)
    _raises("unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation.", lambda: y.expand(3, 2).add_(1))


def test_item_assignment_is_a_copy_into_a_view() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    z = torch.tensor([2.0, 3.0], requires_grad=True)
    y = x * 1
    y[...] = z
    assert y.grad_fn.name() == "torch::autograd::CopyBackwards"
    assert _names(y.grad_fn) == ["MulBackward0", "ExpandBackward0"]
    y.sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]] and z.grad.tolist() == [2.0, 2.0]
    w = x * 1
    w[1] = 5.0
    assert w.grad_fn.name() == "torch::autograd::CopySlices" and _names(w.grad_fn) == ["MulBackward0", None]
    row = w[0]
    row[1] = z[0]
    assert (row.grad_fn.name(), _names(w.grad_fn)) == ("AsStridedBackward0", ["torch::autograd::CopySlices",
                                                                               "SelectBackward0"])
    assert (w * w).sum().tolist() == 1 + 4 + 25 + 25


def test_fill_names() -> None:
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    assert (x * 1).fill_(2.0).grad_fn.name() == "FillBackward2"
    assert (x * 1).fill_(0).grad_fn.name() == "FillBackward2"
    assert (x * 1).fill_(torch.tensor(3.0)).grad_fn.name() == "FillBackward3"
    assert (x * 1).zero_().grad_fn.name() == "ZeroBackward0"
