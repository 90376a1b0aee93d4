"""The invariants the engine's hot-path shortcuts rely on (see bench/engine.py for why they exist).

Each shortcut replaces a slower, obviously-correct formulation; these tests pin
that the two agree: expand's hand-built broadcast view, the shared shape
stand-ins, the early return of unrecorded arithmetic, nodes that create hook
lists and metadata on first use, reductions through np.add.reduce, and the copy
a leaf's first gradient still gets.
"""

from __future__ import annotations

import numpy as np
import pytest

import gradstudio.engine as torch
from gradstudio.engine.ops._core import shape_stub
from gradstudio.engine.ops.shape import _broadcast_view


@pytest.mark.parametrize(("source", "target"), [
    ((), (3,)), ((1,), (4,)), ((3,), (2, 3)), ((2, 1), (2, 5)), ((1, 1), (3, 4)),
    ((1,), (0,)), ((0,), (2, 0)), ((2, 1, 3), (4, 2, 5, 3)),
])
def test_broadcast_view_is_np_broadcast_to(source: tuple, target: tuple) -> None:
    array = np.random.default_rng(0).standard_normal(source).astype(np.float32)
    view, expected = _broadcast_view(array, target), np.broadcast_to(array, target)
    assert view.shape == expected.shape and view.dtype == expected.dtype
    assert np.array_equal(view, expected)
    assert view.flags.writeable  # as PyTorch's expand: writes through parts without repeats reach the base
    assert view.size == 0 or np.shares_memory(view, array)


@pytest.mark.parametrize("make", [
    lambda base: base[3:4],  # contiguous, but starts inside its base
    lambda base: base.T[:1],  # not contiguous: np.broadcast_to does the work
])
def test_broadcast_view_of_views(make) -> None:
    source = make(np.arange(60, dtype=np.float32).reshape(10, 6))
    target = (5,) + source.shape[1:]
    assert np.array_equal(_broadcast_view(source, target), np.broadcast_to(source, target))


def test_expand_is_a_read_only_view_sharing_memory() -> None:
    x = torch.tensor([[1.0], [2.0]])
    y = x.expand(2, 3)
    assert y.tolist() == [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
    x.add_(1)
    assert y.tolist() == [[2.0, 2.0, 2.0], [3.0, 3.0, 3.0]]
    assert y._version == x._version


def test_shape_stubs_are_shared_and_cannot_be_written() -> None:
    a, b = torch.ones(2, 3), torch.zeros(2, 3)
    stub = shape_stub(a)
    assert stub is shape_stub(b)
    assert tuple(stub.shape) == (2, 3) and stub.dtype == torch.float32
    assert stub is not shape_stub(torch.ones(2, 3, dtype=torch.float64))
    with pytest.raises(ValueError):
        stub._data[0, 0] = 1.0


@pytest.mark.parametrize("op", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b, lambda a, b: 1 - a,
])
def test_unrecorded_arithmetic_matches_recorded(op) -> None:
    data = np.array([[0.5, -1.5, 2.0]], dtype=np.float32)
    leaf = torch.tensor(data, requires_grad=True)
    recorded = op(leaf, torch.tensor([[2.0], [4.0]]))
    with torch.no_grad():
        unrecorded = op(leaf, torch.tensor([[2.0], [4.0]]))
    assert recorded.grad_fn is not None and unrecorded.grad_fn is None and not unrecorded.requires_grad
    assert np.array_equal(recorded.detach().numpy(), unrecorded.numpy())


def test_nodes_create_hooks_retained_lists_and_metadata_on_first_use() -> None:
    x = torch.ones(3, requires_grad=True)
    y, z = x * 2, x * 3
    assert y.grad_fn._pre_hooks is None and y.grad_fn._retained is None
    y.register_hook(lambda g: g * 10)
    y.retain_grad()
    y.grad_fn.metadata["note"] = 1
    assert z.grad_fn._pre_hooks is None and z.grad_fn._metadata is None  # nothing leaked into the class
    (y.sum() + z.sum()).backward()
    assert y.grad.tolist() == [10.0, 10.0, 10.0]
    assert x.grad.tolist() == [23.0, 23.0, 23.0]
    assert y.grad_fn.metadata == {"note": 1} and z.grad_fn.metadata == {}


def test_next_functions_are_built_from_the_edges() -> None:
    x, w = torch.ones(2, requires_grad=True), torch.ones(2)
    node = (x * w).grad_fn
    (accumulate, index), (nothing, other_index) = node.next_functions
    assert type(accumulate).__name__ == "AccumulateGrad" and accumulate.variable is x and index == 0
    assert nothing is None and other_index == 0
    node.next_functions = ((None, 0), (accumulate, 0))
    assert node.next_functions == ((None, 0), (accumulate, 0))


def test_saved_output_is_rebuilt_with_its_node() -> None:
    x = torch.tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()
    (saved,) = y.grad_fn.saved_tensors
    assert saved.grad_fn is y.grad_fn and np.array_equal(saved.detach().numpy(), y.detach().numpy())
    y.sum().backward()
    assert np.allclose(x.grad.numpy(), np.exp([0.5, 1.0]))


# float32 sums over trailing dims follow PyTorch's summation order instead (tests/engine/test_vs_torch_summation.py)
@pytest.mark.parametrize(("dtype", "dim", "keepdim"), [
    (np.float64, None, False), (np.float64, 0, False), (np.float64, 1, True), (np.float64, (0, 2), False),
    (np.float32, 0, False), (np.float32, 1, True), (np.float32, (0, 2), False)])
def test_sum_and_mean_are_bit_identical_to_numpy(dtype, dim, keepdim) -> None:
    data = np.random.default_rng(1).standard_normal((4, 5, 3)).astype(dtype)
    axis = tuple(range(3)) if dim is None else dim
    tensor = torch.from_numpy(data)
    summed = tensor.sum() if dim is None else tensor.sum(dim, keepdim=keepdim)
    averaged = tensor.mean() if dim is None else tensor.mean(dim, keepdim=keepdim)
    assert np.array_equal(summed.numpy(), np.sum(data, axis=axis, keepdims=keepdim, dtype=dtype))
    assert np.array_equal(averaged.numpy(), np.mean(data, axis=axis, keepdims=keepdim, dtype=dtype))
    assert summed.dtype == averaged.dtype == tensor.dtype


def test_mean_of_an_empty_tensor_is_nan_without_a_warning() -> None:
    assert np.isnan(torch.zeros(0).mean().item())  # filterwarnings = error turns a numpy warning into a failure


def test_a_leafs_first_gradient_is_its_own_copy() -> None:
    x = torch.ones(3, requires_grad=True)
    gradient = torch.tensor([1.0, 2.0, 3.0])
    (x + 1).backward(gradient)
    x.grad.zero_()
    assert gradient.tolist() == [1.0, 2.0, 3.0]


LEAN_OPERANDS = [
    (lambda: torch.tensor([1.0, -2.0, 3.5], requires_grad=True), lambda: 2),
    (lambda: torch.tensor([1.0, -2.0, 3.5], requires_grad=True), lambda: 0.1),
    (lambda: torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True), lambda: 1e-30),
    (lambda: torch.tensor([[1.0], [2.0]], requires_grad=True), lambda: torch.tensor([0.5, 4.0, -1.0])),
    (lambda: torch.tensor([1.0, 2.0]), lambda: torch.tensor(3.0, requires_grad=True)),
    (lambda: torch.tensor([1.0, 2.0], requires_grad=True), lambda: torch.tensor([1.0, 2.0], requires_grad=True)),
    (lambda: torch.tensor([True, False]), lambda: torch.tensor([True, True])),
    (lambda: torch.tensor([3, 4]), lambda: torch.tensor([5, -6])),
    (lambda: torch.tensor([1.0, 2.0]), lambda: 5),
]


def _run_binary(op, make_a, make_b) -> tuple:
    """What an add or mul shows: values, dtype, node, edges, saved tensors, and the gradients it passes on."""
    a, b = make_a(), make_b()
    out = op(a, b)
    node = out.grad_fn
    shown = [out.detach().numpy().tobytes(), out.dtype, out.requires_grad, node and node.name(),
             node and [edge is not None and edge.name() for edge, _ in node.next_functions]]
    if node is not None:
        if node.name() == "MulBackward0":
            shown.append([None if t is None else (t.tolist(), t.dtype) for t in (node._saved_self, node._saved_other)])
        else:
            shown.append([None if t is None else t.shape for t in node.inputs_like] + [node.alpha])
        out.sum().backward()
        shown.append([None if isinstance(t, (int, float)) or t.grad is None else t.grad.tolist() for t in (a, b)])
    return tuple(shown)


class _Subclass(torch.Tensor):
    """A Tensor subclass: add and mul take their general path (binary()'s promotion) for it, as their lean
    paths are for plain tensors only."""

    __slots__ = ()


def _general(make):
    """`make`, its tensor as a _Subclass instance (same data, same requires_grad): the general path's operand."""
    def made():
        value = make()
        return _Subclass._make(value._data, value.requires_grad) if isinstance(value, torch.Tensor) else value

    return made


@pytest.mark.parametrize("op", [torch.add, torch.mul], ids=["add", "mul"])
@pytest.mark.parametrize(("make_a", "make_b"), LEAN_OPERANDS)
def test_lean_operands_record_what_the_general_path_records(op, make_a, make_b) -> None:
    assert _run_binary(op, make_a, make_b) == _run_binary(op, _general(make_a), _general(make_b))


@pytest.mark.parametrize("op", [torch.add, torch.mul], ids=["add", "mul"])
def test_lean_operands_keep_the_broadcast_error(op) -> None:
    a, b = torch.ones(2, 3, requires_grad=True), torch.ones(4)
    with pytest.raises(RuntimeError) as lean:
        op(a, b)
    with pytest.raises(RuntimeError) as general:
        op(_general(lambda: a)(), _general(lambda: b)())
    assert str(lean.value) == str(general.value) and "must match the size" in str(lean.value)


def _run_unary(op) -> tuple:
    """What a one-input op shows: values, node, edges, the saved tensor and the gradient."""
    a = torch.tensor([0.5, -1.5, 2.0], requires_grad=True)
    out = op(a)
    node = out.grad_fn
    saved = node.saved_tensors[0]
    shown = (out.detach().numpy().tobytes(), node.name(), [edge.name() for edge, _ in node.next_functions],
             saved.detach().numpy().tobytes(), saved is a, saved.grad_fn is node, out.requires_grad)
    out.sum().backward()
    return shown + (a.grad.numpy().tobytes(),)


@pytest.mark.parametrize("op", [torch.exp, torch.sin, torch.cos, torch.tanh, torch.sigmoid, torch.relu],
                         ids=["exp", "sin", "cos", "tanh", "sigmoid", "relu"])
def test_record_unary_records_what_record_records(monkeypatch: pytest.MonkeyPatch, op) -> None:
    from gradstudio.engine.ops import unary
    from gradstudio.engine.ops._core import record

    def general(data, node_type, a, save_output=False):
        if save_output:
            return record(data, node_type, (a,), save_output=True)
        return record(data, node_type, (a,), save=(a,))

    lean = _run_unary(op)
    monkeypatch.setattr(unary, "record_unary", general)
    assert lean == _run_unary(op)
    with torch.no_grad():
        assert op(torch.ones(2, requires_grad=True)).grad_fn is None


def test_a_version_counter_made_on_first_read_counts_as_an_eager_one() -> None:
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    assert y._counter is None and y._version == 0  # reading the version alone makes no counter
    saved_by = y.sin()  # saves y: its counter is made now, and the node holds it
    view, alias = y[1:], y.detach()
    assert y._version_counter is view._version_counter is alias._version_counter
    alias.add_(1)
    assert (y._version, view._version) == (1, 1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        saved_by.sum().backward()
    with torch.inference_mode():
        made_inside = torch.ones(2)
    assert made_inside.is_inference() and not y.is_inference()  # an inference tensor's counter is made at once


def test_a_node_is_marked_hooked_by_each_kind_of_hook() -> None:
    """Backward looks at a node's hook lists and retained outputs only once one was made; each registration
    marks the node."""
    x = torch.ones(2, requires_grad=True)
    calls = []
    registrations = [
        lambda node: node.register_hook(lambda grads_in, grads_out: calls.append("post")),
        lambda node: node.register_prehook(lambda grads: calls.append("pre")),
        lambda node: node.register_tensor_hook(lambda grad: calls.append("tensor")),
        lambda node: node.retain_output(x),
    ]
    for register in registrations:
        node = (x * 2).grad_fn
        assert not node._hooked
        register(node)
        assert node._hooked
    y = x * 3
    handle = y.grad_fn.register_hook(lambda grads_in, grads_out: calls.append("removed"))
    handle.remove()
    y.register_hook(lambda grad: calls.append("kept"))
    y.sum().backward()
    assert calls == ["kept"]


def test_a_retained_view_keeps_its_gradient_when_in_place_rewrites_its_history() -> None:
    """An in-place op through a view moves the view's retain_grad() to its new node (_views.move_retained sets
    `_retained` there): backward still sees it, as PyTorch."""
    x = torch.ones(4, requires_grad=True)
    base = x * 1
    view = base[1:3]
    view.retain_grad()
    view.mul_(3)
    (view * 2).sum().backward()
    assert view.grad_fn._hooked
    assert view.grad.tolist() == [2.0, 2.0]
    assert x.grad.tolist() == [0.0, 6.0, 6.0, 0.0]


@pytest.mark.parametrize("dtype", [None, torch.float64, torch.int64, torch.int32, torch.bool])
@pytest.mark.parametrize("size", [(3,), (2, 3), (), (0,), (4, 0, 2)])
def test_ones_fills_an_empty_array_as_np_ones_does(dtype, size: tuple) -> None:
    """ones() fills an empty array itself instead of calling np.ones: the same values, dtype, shape and
    layout, a fresh writeable array each time."""
    data = torch.ones(size, dtype=dtype)._data
    expected = np.ones(size, np.float32 if dtype is None else dtype.numpy_dtype)
    assert data.dtype == expected.dtype and data.shape == expected.shape and np.array_equal(data, expected)
    assert data.flags.c_contiguous and data.flags.writeable and data.flags.owndata
    assert not np.shares_memory(data, torch.ones(size, dtype=dtype)._data)


def test_ones_keeps_its_argument_checks() -> None:
    with pytest.raises(RuntimeError, match="Trying to create tensor with negative dimension -1"):
        torch.ones(-1)
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype can require"):
        torch.ones(2, dtype=torch.int64, requires_grad=True)
    assert torch.ones(size=(2,), requires_grad=True).requires_grad
