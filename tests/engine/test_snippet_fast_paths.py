"""The shortcuts issue 15 added for tiny graphs (the notes' first snippet) give, byte for byte, what the
general code gives: a Python number added without a tensor of its own, a whole mean's gradient divided as
Python floats, and the backward loop's plain-node step (see bench/engine.py for why they exist)."""

from __future__ import annotations

import numpy as np
import pytest

import gradstudio.engine as torch
from gradstudio.engine.ops import _core, _numbers, pointwise, reduction

try:
    import torch as real_torch
except ImportError:  # the engine-only cases still run; the comparisons with PyTorch skip, saying so
    real_torch = None
needs_torch = pytest.mark.skipif(real_torch is None,
                                 reason="PyTorch not installed: differential tests against real PyTorch skipped")

NUMBERS = [2, 0, -3, 2**24 + 1, 2**53 + 1, 10**40, 0.1, -0.0, 1e300, -1e-300, 1e-45, float("nan"), float("inf")]
DTYPES = [torch.float32, torch.float64]
# (shape, requires_grad, strided) of the tensor a number meets: leaves and non-leaves, 0-d, a strided view
OPERANDS = [((3,), True, False), ((2, 2), True, False), ((2, 2), True, True), ((), True, False), ((3,), False, False)]


def _operand(shape: tuple, dtype, requires_grad: bool, strided: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """A tensor of awkward values (nan, -0.0, huge, tiny) and its leaf: a plain tensor (a leaf, or when it
    requires grad the result of an op on one, so non-leaves are covered too), or a strided view (a view
    tensor: the general path, for comparison)."""
    values = np.array([1.5, -2.25, 3e38, np.nan, np.inf, 0.0, -0.0, 1e-40], np.float64)
    count = int(np.prod(shape)) if shape else 1
    data = np.resize(values, count * (2 if strided else 1)).astype(dtype.numpy_dtype)
    if strided:
        leaf = torch.tensor(data, requires_grad=requires_grad)
        return leaf[::2].reshape(shape), leaf
    leaf = torch.tensor(data.reshape(shape), requires_grad=requires_grad)
    plain = leaf * 1 if requires_grad and len(shape) == 2 else leaf
    assert type(plain) is torch.Tensor
    return plain, leaf


def _shown(out: torch.Tensor, leaf: torch.Tensor) -> tuple:
    """What an op's result shows: bytes, dtype, shape, node and edges; then the gradient backward gives."""
    node = out.grad_fn
    shown = [out.detach().numpy().tobytes(), out.dtype, tuple(out.shape), out.requires_grad,
             node and node.name(), node and [edge and edge.name() for edge, _ in node.next_functions]]
    if node is not None:
        shown.append([None if like is None else (tuple(like.shape), like.dtype) for like in node.inputs_like])
        shown.append(node.alpha)
        out.backward(torch.ones_like(out))
        shown.append(leaf.grad.numpy().tobytes())
    return tuple(shown)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("number", NUMBERS, ids=repr)
@pytest.mark.parametrize(("shape", "requires_grad", "strided"), [*OPERANDS, ((0,), True, False)])
@pytest.mark.parametrize("reflected", [False, True], ids=["x+n", "n+x"])
def test_a_number_added_without_its_tensor_is_the_tensor_path(dtype, number, shape: tuple, requires_grad: bool,
                                                              strided: bool, reflected: bool) -> None:
    """`x + n` against `x + tensor(n, dtype=x.dtype)`, which is what it computed before (a 0-d tensor of the
    number in x's dtype): same bits, dtype, node, edges, un-broadcast stand-ins and gradient."""
    def run(second, reflect: bool):
        x, leaf = _operand(shape, dtype, requires_grad, strided)
        return _shown(second + x if reflect else x + second, leaf)

    assert run(number, reflected) == run(torch.tensor(number, dtype=dtype), False)  # (n + x is x.__radd__(n))


@pytest.mark.parametrize("number", [2, 0.5])
def test_a_number_added_under_no_grad_records_nothing(number) -> None:
    x = torch.ones(3, requires_grad=True)
    with torch.no_grad():
        out = x + number
    assert out.grad_fn is None and not out.requires_grad
    assert out.numpy().tobytes() == (x.detach() + torch.tensor(number, dtype=x.dtype)).numpy().tobytes()


def test_a_number_added_keeps_the_general_paths_for_other_operands() -> None:
    """Integers, bools, numpy scalars and alpha still promote as PyTorch does."""
    assert (torch.tensor([1, 2]) + 2).dtype == torch.int64
    assert (torch.tensor([1, 2]) + 0.5).dtype == torch.float32
    assert (torch.tensor([True]) + True).dtype == torch.bool
    assert (torch.ones(2) + np.float64(0.5)).dtype == torch.float32
    assert torch.add(torch.ones(2), 3, alpha=2).tolist() == [7.0, 7.0]
    x = torch.ones(2, requires_grad=True)
    assert (x + 2).grad_fn.next_functions[1] == (None, 0)


def _mean_gradients(seed: float, size: int, dtype, recorded: bool) -> bytes:
    x = torch.ones(size, dtype=dtype, requires_grad=True)
    gradient = torch.tensor(seed, dtype=dtype)
    if recorded:  # create_graph: the rule through the engine's ops (expand, then divide)
        (grad,) = torch.autograd.grad(x.mean(), x, gradient, create_graph=True)
        return grad.detach().numpy().tobytes()
    x.mean().backward(gradient)
    return x.grad.numpy().tobytes()


def _awkward_seeds(dtype) -> list[float]:
    """Random bit patterns (nan payloads, subnormals, huge) and the special values."""
    bits = np.random.default_rng(15).integers(0, 2**32, 64, dtype=np.uint64).astype(np.uint32)
    values = list(bits.view(np.float32).astype(dtype.numpy_dtype))
    return values + [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, 3.4e38, 1.0, 1 / 3]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("size", [1, 3, 7, 1000])
def test_a_whole_means_gradient_is_the_recorded_rules_bit_for_bit(dtype, size: int) -> None:
    for seed in _awkward_seeds(dtype):
        assert _mean_gradients(seed, size, dtype, False) == _mean_gradients(seed, size, dtype, True), seed


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_a_mean_over_more_than_the_exact_count_takes_numpys_division(monkeypatch: pytest.MonkeyPatch,
                                                                     dtype) -> None:
    """Past 2**24 elements a count is not exactly a float32: the quotient is numpy's, as before."""
    monkeypatch.setattr(reduction, "_EXACT", 2)
    for seed in _awkward_seeds(dtype)[:8]:
        assert _mean_gradients(seed, 3, dtype, False) == _mean_gradients(seed, 3, dtype, True), seed


def test_an_empty_means_gradient_is_empty() -> None:
    x = torch.ones(0, requires_grad=True)
    x.mean().backward()
    assert x.grad.shape == (0,) and x.grad.dtype == torch.float32


def _refuse_binary(*args):
    raise AssertionError("binary() called")


def test_the_number_path_is_the_one_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparisons above are between two paths: adding a number to a plain floating tensor, or a plain
    tensor of its dtype, takes no promotion step; anything else does."""
    monkeypatch.setattr(pointwise, "binary", _refuse_binary)
    x = torch.ones(3, requires_grad=True)
    assert (x + 2).tolist() == [3.0, 3.0, 3.0] and (2.5 + x).grad_fn.name() == "AddBackward0"
    assert (x + torch.ones(3)).tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(AssertionError):
        x + torch.ones(3, dtype=torch.float64)


def _reference_dependencies(roots: list) -> dict:
    """How many edges lead into each node reachable from the roots, counted the obvious way."""
    counts = dict.fromkeys(roots, 0)
    seen, frontier = set(roots), list(roots)
    while frontier:
        node = frontier.pop(0)
        for child in node._edges:
            if child is not None:
                counts[child] = counts.get(child, 0) + 1
                if child not in seen:
                    seen.add(child)
                    frontier.append(child)
    return counts


def _graphs() -> list:
    x, w = torch.ones(3, requires_grad=True), torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    y = x + 2
    chain = torch.tanh(torch.sin(y * 0.5) + w)
    diamond = torch.sin(y) * torch.cos(y) + y * w
    pieces = torch.split(y * w, 1)
    return [[((y * y * 3).mean()).grad_fn], [chain.grad_fn], [diamond.grad_fn],
            [(pieces[0] * pieces[2] + pieces[1]).grad_fn], [chain.grad_fn, diamond.grad_fn]]


@pytest.mark.parametrize("index", range(5))
def test_dependencies_walked_down_chains_count_every_edge(index: int) -> None:
    from gradstudio.engine._backward import _dependencies

    roots = _graphs()[index]
    assert _dependencies(list(roots), dict.fromkeys(roots, 0)) == _reference_dependencies(roots)


@pytest.mark.parametrize("outside", ["enabled", "no_grad"])
@pytest.mark.parametrize("hook_sets", [None, True, False])
def test_backward_restores_the_grad_mode_it_found(outside: str, hook_sets) -> None:
    """Whatever a hook leaves behind, backward puts back the caller's grad mode and the count of threads with
    grad mode off (see grad_mode.GRAD_OFF)."""
    from gradstudio.engine import grad_mode

    x = torch.ones(3, requires_grad=True)
    out = (x * 2).sum()
    if hook_sets is not None:
        out.grad_fn.register_prehook(lambda grads: grad_mode.STATE.set_enabled(hook_sets))
    before = len(grad_mode.GRAD_OFF)
    if outside == "no_grad":
        with torch.no_grad():
            out.backward()
            assert not torch.is_grad_enabled() and len(grad_mode.GRAD_OFF) == before + 1
    else:
        out.backward()
        assert torch.is_grad_enabled()
    assert len(grad_mode.GRAD_OFF) == before and x.grad.tolist() == [2.0, 2.0, 2.0]


def test_a_leafs_accumulator_made_inline_is_a_constructed_one() -> None:
    """gradient_edge builds AccumulateGrad without its __init__: same node, same numbering, same use."""
    from gradstudio.engine._graph import AccumulateGrad

    x = torch.ones(2, requires_grad=True)
    built = AccumulateGrad(x)
    edge = (x * 1).grad_fn.next_functions[0][0]
    assert type(edge) is AccumulateGrad and edge.variable is x and vars(edge).keys() == vars(built).keys()
    assert edge._sequence_nr > built._sequence_nr and edge is (x + 1).grad_fn.next_functions[0][0]
    assert edge.name() == "torch::autograd::AccumulateGrad" and repr(edge).startswith("<AccumulateGrad object")


# ----- run_from's unrecorded rules: bare arrays between nodes, tensors wherever anything can see them ---------

def _leaf_pair(dtype=torch.float32, strided: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    data = np.array([[0.5, -1.5, 0.0, 2.0], [2.0, -0.0, 3.0, -2.5]])
    a = torch.tensor(data, dtype=dtype, requires_grad=True)
    b = torch.tensor(data[::-1].copy() + 1, dtype=dtype, requires_grad=True)
    return (a.T, b.T) if strided else (a, b)


GRAPHS = {
    "snippet": lambda a, b: ((a + 2) * (a + 2) * 3).mean(),
    "chain": lambda a, b: torch.sin(torch.tanh((a * 0.9 + b) * 1.1)).sum(),
    "unary": lambda a, b: (torch.exp(a * 0.1) + torch.cos(b) + torch.sigmoid(a) + torch.relu(b - 1)).mean(),
    "fan_in": lambda a, b: (a * b + a * a + b).mean(),
    "shared_add": lambda a, b: ((a + b) * 2).sum(),
    "broadcast": lambda a, b: (a * b[:1] + b[0]).mean(),
    "views": lambda a, b: (a.reshape(-1)[2:6] * b.flatten()[:4]).mean(),
    "split": lambda a, b: sum(piece.mean() for piece in (a * b).split(1)),
    "0d": lambda a, b: torch.tanh(a[1, 1] * b[0, 1]) * 2,
    "mixed_dtype": lambda a, b: (a.double() * b.double()).mean(),
    "one_input": lambda a, b: (a * a.detach()).mean(),
}


def _backward_results(name: str, general: bool, dtype=torch.float32, strided: bool = False,
                      no_grad: bool = False) -> list:
    """Leaf gradients and a retained intermediate gradient, as bytes with dtype and shape: by `out.backward()`
    (run_from) or by autograd.backward (the general engine, which runs every node's apply)."""
    a, b = _leaf_pair(dtype, strided)
    out = GRAPHS[name](a, b)
    with torch.set_grad_enabled(not no_grad):
        if general:
            torch.autograd.backward(out)
        else:
            out.backward()
        assert torch.is_grad_enabled() is not no_grad
    leaves = [a, b] if not strided else [a.grad_fn.next_functions[0][0].variable,
                                         b.grad_fn.next_functions[0][0].variable]
    return [None if leaf.grad is None else (leaf.grad.numpy().tobytes(), leaf.grad.dtype, tuple(leaf.grad.shape),
                                            leaf.grad.requires_grad, leaf.grad.grad_fn)
            for leaf in leaves]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("strided", [False, True], ids=["contiguous", "strided"])
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_unrecorded_rules_give_the_general_engines_gradients(name: str, dtype, strided: bool) -> None:
    assert _backward_results(name, False, dtype, strided) == _backward_results(name, True, dtype, strided)


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_unrecorded_rules_under_no_grad_give_the_same_gradients(name: str) -> None:
    assert _backward_results(name, False, no_grad=True) == _backward_results(name, True)


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_retained_and_hooked_gradients_are_tensors_with_the_general_engines_values(name: str) -> None:
    """retain_grad() and a tensor hook on an intermediate in the middle of the unrecorded nodes: both see
    tensors, with what the general engine gives them."""
    def run(general: bool) -> list:
        a, b = _leaf_pair()
        middle = torch.sin(a * 1.5)
        middle.retain_grad()
        seen = []
        middle.register_hook(lambda grad: seen.append((type(grad).__name__, grad.numpy().tobytes())))
        out = GRAPHS[name](middle * 1.0, b)
        torch.autograd.backward(out) if general else out.backward()
        return seen + [middle.grad.numpy().tobytes(), a.grad.numpy().tobytes(), b.grad is None or
                       b.grad.numpy().tobytes()]

    assert run(False) == run(True)


def test_a_hook_that_turns_grad_mode_on_records_the_later_nodes_as_the_general_engine_does() -> None:
    """Nodes after a hook that leaves grad mode on run their recorded rules, in run_from as in execute."""
    from gradstudio.engine import grad_mode

    def run(general: bool) -> list:
        a, b = _leaf_pair()
        middle = torch.tanh((a * b) * 1.5)  # the two muls run after tanh's node, whose pre-hook turns grad on
        middle.grad_fn.register_prehook(lambda grads: grad_mode.STATE.set_enabled(True))
        seen = []
        a.register_hook(lambda grad: seen.append((grad.requires_grad, grad.grad_fn and grad.grad_fn.name())))
        out = torch.sin(middle).sum()
        torch.autograd.backward(out) if general else out.backward()
        return seen + [a.grad.numpy().tobytes(), b.grad.numpy().tobytes(), torch.is_grad_enabled()]

    fast = run(False)
    assert fast == run(True) and fast[0] == (True, "MulBackward0")


def test_one_gradient_for_both_inputs_of_an_add_is_one_tensor() -> None:
    """As PyTorch (and the recorded rule) pass both inputs of an add the one gradient, hooks on both see one
    tensor, even when it arrives as an array from an unrecorded rule."""
    a, b = torch.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    seen = []
    a.register_hook(seen.append)
    b.register_hook(seen.append)
    ((a + b) * 2).sum().backward()
    assert seen[0] is seen[1] and a.grad is not seen[0] and a.grad.tolist() == [2.0, 2.0, 2.0]


def test_anomaly_mode_names_the_unrecorded_rule_that_made_nan() -> None:
    messages = []
    for general in (False, True):
        x = torch.tensor([0.0, 1.0], requires_grad=True)
        out = (torch.sin(x * float("inf")) * 2).sum()
        with pytest.warns(UserWarning), torch.autograd.detect_anomaly(check_nan=True), \
                pytest.raises(RuntimeError) as error:
            torch.autograd.backward(out) if general else out.backward()
        messages.append(str(error.value))
    assert messages[0] == messages[1] and "returned nan values" in messages[0]


def test_a_leaf_gets_a_gradient_of_its_own_from_unrecorded_rules() -> None:
    """An array passed on by add to a leaf is stored as .grad only when nothing else holds it."""
    a, b = torch.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    ((a + b) * 2).sum().backward()
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    x = torch.ones(3, requires_grad=True)
    (x * 2).sum().backward()
    first = x.grad
    (x * 2).sum().backward()
    assert x.grad is first and x.grad.tolist() == [4.0, 4.0, 4.0]


def test_the_one_root_seed_is_a_fresh_array_each_time() -> None:
    """out.backward() seeds with a copy of a kept 0-d one: a hook that changes its seed in place changes no
    later backward's."""
    seen = []

    def spoil(grads):
        seen.append(grads[0].item())
        grads[0].mul_(5)

    for _ in range(2):
        x = torch.ones(3, requires_grad=True)
        out = (x * 2).sum()
        out.grad_fn.register_prehook(spoil)
        out.backward()
        assert x.grad.tolist() == [10.0, 10.0, 10.0]
    assert seen == [1.0, 1.0]


ALIASED_CALLS = {
    "method": (lambda x: x.mean(), lambda x: reduction.mean(x)),
    "function": (lambda x: torch.mean(x), lambda x: reduction.mean(x)),
    "input=": (lambda x: torch.mean(input=x), lambda x: reduction.mean(x)),
    "axis=": (lambda x: x.mean(axis=0), lambda x: reduction.mean(x, 0)),
    "keepdims=": (lambda x: x.sum(1, keepdims=True), lambda x: reduction.sum(x, 1, True)),
    "other=": (lambda x: x.mul(other=x * 2), lambda x: pointwise.mul(x, x * 2)),
    "function_other=": (lambda x: torch.maximum(x, other=x * 2), lambda x: torch.maximum(x, x * 2)),
}


@pytest.mark.parametrize("name", sorted(ALIASED_CALLS))
def test_the_alias_wrapper_calls_the_function_as_it_is_called(name: str) -> None:
    """The wrapper that accepts numpy's spellings (axis=, keepdims=, input=, other=) passes a lone tensor
    argument on as a plain call: same values, node and gradient as calling the op itself."""
    results = []
    for call in ALIASED_CALLS[name]:
        x = torch.tensor([[1.5, -2.0], [0.25, 3.0]], requires_grad=True)
        out = call(x)
        out.sum().backward()
        results.append((out.detach().numpy().tobytes(), tuple(out.shape), out.grad_fn.name(),
                        x.grad.numpy().tobytes()))
    assert results[0] == results[1]


def test_a_square_keeps_its_one_operand_once_and_still_checks_its_version() -> None:
    """`y * y` saves y once for both slots: both read back as y, and changing y in place is still caught."""
    x = torch.tensor([1.5, -2.0, 0.5], requires_grad=True)
    y = x * 1
    z = y * y
    node = z.grad_fn
    assert node._saved[0] is node._saved[1]
    assert node._saved_self is y and node._saved_other is y
    z.sum().backward(retain_graph=True)
    assert x.grad.tolist() == [3.0, -4.0, 1.0]
    with torch.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_saved_stand_ins_are_shared_per_shape_and_dtype_and_bounded() -> None:
    first = _core.saved_stub((3,), np.dtype(np.float32))
    assert _core.saved_stub((3,), np.dtype(np.float32)) is first
    assert _core.saved_stub((3,), np.dtype(np.float64)) is not first
    for extent in range(300):
        _core.saved_stub((extent, 2), np.dtype(np.float32))
    assert len(_core.SAVED_STUBS) <= 256
    node = (torch.ones(3, requires_grad=True) * 3).grad_fn
    assert node._saved_self is None and node._saved_other.tolist() == 3.0


def _shown_product(out: torch.Tensor, leaf: torch.Tensor) -> tuple:
    """What a product shows: bytes, dtype, node, edges, saved tensors; then first and second derivatives."""
    node = out.grad_fn
    shown = [out.detach().numpy().tobytes(), out.dtype, tuple(out.shape), out.requires_grad]
    if node is not None:
        other = node._saved_other
        shown += [node.name(), [edge and edge.name() for edge, _ in node.next_functions], node._saved_self,
                  (other.numpy().tobytes(), other.dtype, other.requires_grad, other.grad_fn, other._version)]
        (grad,) = torch.autograd.grad(out.sum(), leaf, create_graph=True)
        shown.append(grad.detach().numpy().tobytes())
        out.backward(torch.ones_like(out))
        shown.append(leaf.grad.numpy().tobytes())
    return tuple(shown)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("number", NUMBERS, ids=repr)
@pytest.mark.parametrize(("shape", "requires_grad", "strided"), OPERANDS)
@pytest.mark.parametrize("reflected", [False, True], ids=["x*n", "n*x"])
def test_a_number_multiplied_without_its_tensor_is_the_tensor_path(dtype, number, shape: tuple, requires_grad: bool,
                                                                   strided: bool, reflected: bool) -> None:
    """`x * n` against `x * tensor(n, dtype=x.dtype)` (the 0-d tensor made of the number before): same bits,
    node, edges, saved tensors, first and second derivatives; only the number is shown as PyTorch shows a
    wrapped number, in its own kind (tests/engine/test_forward_fast_paths.py compares it with PyTorch's)."""
    def run(second, reflect: bool):
        x, leaf = _operand(shape, dtype, requires_grad, strided)
        return _shown_product(second * x if reflect else x * second, leaf)

    expected = list(run(torch.tensor(number, dtype=dtype), False))
    if len(expected) > 4:  # recorded: `_saved_other` is the wrapped number
        wrapped = torch.from_numpy(_numbers.wrapped_number(number))
        expected[7] = (wrapped.numpy().tobytes(), wrapped.dtype, False, None, 0)
    assert run(number, reflected) == tuple(expected)


def test_a_saved_number_unpacked_and_changed_in_place_is_caught() -> None:
    x = torch.ones(3, requires_grad=True)
    out = x * 3
    other = out.grad_fn._saved_other
    assert other is out.grad_fn._saved_other  # made once, then kept
    with torch.no_grad():
        other.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
    y = torch.ones(3, requires_grad=True)
    (y * 3).sum().backward()  # a number no one unpacked: nothing could change it
    assert y.grad.tolist() == [3.0, 3.0, 3.0]


def test_the_number_product_path_is_the_one_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pointwise, "binary", _refuse_binary)
    x = torch.ones(3, requires_grad=True)
    assert (x * 2).tolist() == [2.0, 2.0, 2.0] and (0.5 * x).grad_fn.name() == "MulBackward0"
    assert (x * x).grad_fn.name() == "MulBackward0"
    with pytest.raises(AssertionError):
        x * torch.ones(3, dtype=torch.float64)


# ----- run_from's sink for a bare array: the leaf's first .grad wraps the array itself ----------------------

def _grads_and_torch(build, shapes) -> list[tuple]:
    """Each leaf's .grad bytes from the engine and from torch, after `build(*leaves).backward()`."""
    pairs = []
    for framework in (torch, real_torch):
        leaves = [framework.linspace(-1.0, 2.0, int(np.prod(shape))).reshape(shape).requires_grad_()
                  for shape in shapes]
        build(*leaves).backward()
        pairs.append([leaf.grad.detach().numpy().tobytes() for leaf in leaves])
    return pairs


@pytest.mark.parametrize("build, shapes", [
    (lambda x: ((x + 2) * (x + 2) * 3).mean(), [(3,)]),
    (lambda a: (a * 3).mean(), [(2, 2)]),
    (lambda a, b: (a * b).mean(), [(2, 3), (2, 3)]),
    (lambda a, b: (a + b).mean(), [(4,), (4,)]),
])
@needs_torch
def test_a_bare_array_stored_as_a_leafs_grad_has_torchs_bytes(build, shapes) -> None:
    engine, expected = _grads_and_torch(build, shapes)
    assert engine == expected


def test_a_bare_array_reaching_a_leaf_is_stored_as_it_is() -> None:
    x = torch.ones(3, requires_grad=True)
    ((x + 2) * (x + 2) * 3).mean().backward()
    assert x.grad._data.flags.owndata and x.grad._data.flags.writeable and x.grad.grad_fn is None


@needs_torch
def test_one_array_for_two_leaves_is_not_shared_by_their_grads() -> None:
    """AddBackward hands both leaves one gradient: the first to take it copies it, as torch's steal declines."""
    grads = {}
    for framework in (torch, real_torch):
        a, b = (framework.ones(2, requires_grad=True) for _ in range(2))
        (a + b).sum().backward()
        a.grad.add_(1)
        grads[framework] = (a.grad.tolist(), b.grad.tolist())
    assert grads[torch] == grads[real_torch] == ([2.0, 2.0], [1.0, 1.0])


@needs_torch
def test_later_backwards_add_into_the_stolen_grad_in_place() -> None:
    seen = {}
    for framework in (torch, real_torch):
        x = framework.ones(3, requires_grad=True)
        ((x + 2) * 3).mean().backward()
        first = x.grad
        for _ in range(2):
            ((x + 2) * 3).mean().backward()
        seen[framework] = (x.grad is first, x.grad.tolist(), x.grad._version)
    assert seen[torch] == seen[real_torch]


# ----- accepting_aliases: the plain `x.mean()` call skips the argument repacking, every spelling as torch's ---

SPELLINGS = {
    "method_plain": lambda t, x: x.mean(),
    "method_dim": lambda t, x: x.mean(1),
    "method_axis": lambda t, x: x.mean(axis=1),
    "method_keepdims": lambda t, x: x.sum(axis=0, keepdims=True),
    "function_plain": lambda t, x: t.mean(x),
    "function_input": lambda t, x: t.mean(input=x),
    "function_input_dim": lambda t, x: t.mean(input=x, dim=0),
    "function_other": lambda t, x: t.mul(input=x, other=x),
    "method_other": lambda t, x: x.mul(other=x),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(SPELLINGS))
def test_every_spelling_of_an_aliased_call_gives_torchs_bytes(name: str) -> None:
    call = SPELLINGS[name]
    values = np.array([[0.5, -1.5, 2.0], [1.0, 3.25, -0.75]], np.float32)
    ours, theirs = call(torch, torch.tensor(values)), call(real_torch, real_torch.tensor(values))
    assert ours.shape == tuple(theirs.shape) and ours.numpy().tobytes() == theirs.numpy().tobytes()


@pytest.mark.parametrize("framework", [torch, pytest.param(real_torch, marks=needs_torch)], ids=["engine", "torch"])
def test_an_aliased_call_without_a_tensor_is_refused(framework) -> None:
    with pytest.raises(TypeError):
        framework.mean()
