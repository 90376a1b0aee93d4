"""The forward shortcuts of the notes' snippets give, byte for byte, what the general code gives and what PyTorch
gives: a tiny float32 sum or mean added up as Python floats (`_summation.small_total`), a Python number's float32
array read from `_core.NUMBER_ARRAYS`, and the number an op saves shown as PyTorch's wrapped number."""

from __future__ import annotations

import numpy as np
import pytest

import gradstudio.engine as torch
from gradstudio.engine import _summation
from gradstudio.engine.ops import _core, _numbers, pointwise, reduction

try:
    import torch as real_torch
except ImportError:  # the engine-only cases still run; the comparisons with PyTorch skip, saying so
    real_torch = None
needs_torch = pytest.mark.skipif(real_torch is None,
                                 reason="PyTorch not installed: differential tests against real PyTorch skipped")

# float32 values whose sums round, cancel, overflow (3e38 + 3e38) or meet nan, infinities, -0.0 and subnormals
AWKWARD = np.array([1.5, -2.25, 3e38, 3e38, -3e38, np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, -1e-45, 0.1, 1 / 3,
                    16777216.0, 1.0, -1.0, 7.0], np.float32)
SHAPES = [(), (1,), (2,), (3,), (4,), (5,), (6,), (7,), (1, 3), (2, 2), (4, 1), (1, 1, 2), (2, 3), (1, 7)]


def _samples(shape: tuple, count: int = 120) -> list[np.ndarray]:
    """Arrays of this shape drawn from AWKWARD (every pair and triple of specials turns up), and random ones."""
    rng = np.random.default_rng(len(shape) * 10 + int(np.prod(shape)))
    size = int(np.prod(shape))
    picks = [AWKWARD[rng.integers(0, len(AWKWARD), size)].reshape(shape) for _ in range(count)]
    picks += [rng.standard_normal(size).astype(np.float32).reshape(shape) * scale for scale in (1, 1e30, 1e-30)]
    return [np.asarray(pick, np.float32) for pick in picks] + [np.full(shape, -0.0, np.float32),
                                                               np.full(shape, 3e38, np.float32)]


def _layouts(array: np.ndarray) -> list[np.ndarray]:
    """The array itself, and as a strided and as a transposed view (the same values in the same logical order)."""
    wide = np.zeros(array.shape + (2,), np.float32)
    wide[..., 0] = array
    layouts = [array, wide[..., 0]]
    if array.ndim == 2:
        layouts.append(np.ascontiguousarray(array.T).T)
    return layouts


def _reduced(array: np.ndarray, name: str, requires_grad: bool = True) -> tuple:
    """A whole sum or mean's bytes, dtype, shape and node name, and the gradient backward gives."""
    x = torch.from_numpy(array.copy() if array.flags.c_contiguous else array).requires_grad_(requires_grad)
    out = getattr(x, name)()
    shown = (out.detach().numpy().tobytes(), out.dtype, tuple(out.shape), out.grad_fn and out.grad_fn.name())
    if requires_grad:
        out.backward()
        shown += (x.grad.numpy().tobytes(),)
    return shown


def _numpy_sum(array: np.ndarray) -> np.float32:
    """The float32 sum in PyTorch's order by numpy (what the engine computed before small_total): the first
    accumulator's terms, the other three's, then +0.0 for the accumulators that start at zero."""
    values = array.reshape(-1)
    order = [0, *range(4, values.size), *range(1, min(4, values.size))]
    return np.add.accumulate(np.append(values[order], np.float32(0)))[-1]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_a_tiny_float32_reduction_is_numpys_in_pytorchs_order(shape: tuple) -> None:
    """Whole sums and means, their rows' sums (keepdim too), and a whole mean by its general path (named dims)."""
    with np.errstate(all="ignore"):
        for array in _samples(shape):
            total, count = _numpy_sum(array), max(array.size, 1)
            for layout in _layouts(array):
                x = torch.from_numpy(layout)
                assert x.sum().numpy().tobytes() == total.tobytes()
                assert x.mean().numpy().tobytes() == (total / np.float32(count)).tobytes()
                if layout.ndim and layout.flags.c_contiguous:  # (strided rows: numpy's order, see torch_sum)
                    assert x.sum(-1, keepdim=True).numpy().tobytes() == torch.from_numpy(np.stack(
                        [_numpy_sum(row) for row in layout.reshape(-1, layout.shape[-1])])).numpy().tobytes()
                if layout.ndim:
                    every = tuple(range(layout.ndim))
                    assert x.mean(every).numpy().tobytes() == x.mean().numpy().tobytes()


@pytest.mark.parametrize("shape", [(3,), (2, 2), (7,)], ids=str)
def test_a_tiny_means_node_and_gradient_are_the_general_paths(shape: tuple) -> None:
    """x.mean() against x.mean(every dim) (MeanBackward1, recorded through `record`): same bits and gradient."""
    for array in _samples(shape, 20):
        shown = []
        for dims in ((), tuple(range(len(shape)))):
            x = torch.from_numpy(array.copy()).requires_grad_()
            out = x.mean(*((dims,) if dims else ()))
            out.backward()
            shown.append((out.detach().numpy().tobytes(), out.grad_fn.input_shape, out.grad_fn.count,
                          out.grad_fn.keepdim, out.grad_fn.input_dtype, x.grad.numpy().tobytes()))
        assert shown[0] == shown[1]


@needs_torch
@pytest.mark.parametrize("name", ["mean", "sum"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_a_tiny_float32_reduction_is_pytorchs(shape: tuple, name: str) -> None:
    for array in _samples(shape):
        with np.errstate(all="ignore"):
            ours = getattr(torch.from_numpy(array.copy()), name)().numpy()
        theirs = getattr(real_torch.from_numpy(array.copy()), name)().numpy()
        assert ours.tobytes() == theirs.tobytes() and ours.shape == theirs.shape, array


def test_small_total_adds_in_float32() -> None:
    def small_total(values: list[float]) -> float:
        return _summation.small_total(np.array(values, np.float32))

    largest = float(np.finfo(np.float32).max)
    assert small_total([16777216.0, 1.0, 1.0]) == 16777216.0  # each partial sum rounded to float32
    assert str(small_total([-0.0])) == "0.0" and str(small_total([-0.0] * 7)) == "0.0"
    assert small_total([3e38, 3e38]) == np.inf and small_total([largest, 1.0]) == largest
    halves = [2.0**-24, 1.0, 0.0, 0.0, 2.0**-24]  # the fifth joins the first accumulator: 2**-23 before the 1
    assert small_total(halves) == 1.0 + 2.0**-23 != np.add.accumulate(np.float32(halves))[-1]


def test_the_tiny_paths_are_the_ones_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparisons above are between two paths: a tiny float32 sum or mean calls no numpy reduction."""
    def refuse(*args, **kwargs):
        raise AssertionError("a numpy reduction ran")

    monkeypatch.setattr(reduction, "torch_sum", refuse)
    x = torch.tensor([[1.5, 2.0], [0.25, -1.0]], requires_grad=True)
    assert x.mean().item() == 0.6875
    with pytest.raises(AssertionError):
        torch.ones(8).mean()
    with pytest.raises(AssertionError):
        x.mean(0)


# ----- a Python number: its float32 array read from NUMBER_ARRAYS, saved as PyTorch's wrapped number ----------

NUMBERS = [3, 2.5, True, 0, -0.0, 0.0, 1, 1.0, 0.1, -7, 2**24 + 1, 2**53 + 1, 2**63, -2**63, 1e300, 1e-45,
           float("nan"), float("inf")]
FORMS = {
    "x*n": lambda x, n: x * n, "n*x": lambda x, n: n * x, "x.mul(n)": lambda x, n: x.mul(n),
    "x/n": lambda x, n: x / n, "n/x": lambda x, n: n / x, "x+n": lambda x, n: x + n, "n+x": lambda x, n: n + x,
    "x-n": lambda x, n: x - n, "n-x": lambda x, n: n - x, "x.add(n,alpha=2)": lambda x, n: x.add(n, alpha=2),
}


def _product_results(framework, form: str, number, dtype_name: str, shape: tuple, show_first: bool) -> tuple:
    """What `form` of a tensor and a number gives: bytes, node, the number as `_saved_other` shows it, `_saved_self`
    and `_saved_alpha`, first and second derivatives (by backward, and by grad with create_graph)."""
    dtype = getattr(framework, dtype_name)
    x = framework.tensor(np.resize([1.5, -2.0, 0.25], int(np.prod(shape))).reshape(shape).tolist(), dtype=dtype,
                         requires_grad=True)
    with np.errstate(all="ignore"):
        out = FORMS[form](x, number)
    node = out.grad_fn
    shown = [out.detach().numpy().tobytes(), str(out.dtype), type(node).__name__]
    saved = {}
    for key in ("_saved_other", "_saved_self", "_saved_alpha"):
        if show_first and hasattr(node, key):
            value = getattr(node, key)
            saved[key] = (repr(value), value.numpy().tobytes(), value._version, value.requires_grad) if isinstance(
                value, framework.Tensor) else repr(value)
    with np.errstate(all="ignore"):
        (first,) = framework.autograd.grad((out * out).sum(), x, create_graph=True)
        (second,) = framework.autograd.grad(first.sum(), x, retain_graph=True)
        (out * out).sum().backward()
    return (*shown, saved, first.detach().numpy().tobytes(), second.numpy().tobytes(), x.grad.numpy().tobytes())


@needs_torch
@pytest.mark.parametrize("shape", [(3,), ()], ids=str)
@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
@pytest.mark.parametrize("form", sorted(FORMS))
def test_an_op_with_a_number_is_pytorchs(form: str, dtype_name: str, shape: tuple) -> None:
    """Bits, node, the saved number in its own kind (tensor(3), tensor(2.5000, dtype=torch.float64),
    tensor(True)), _saved_alpha, and first and second derivatives, as PyTorch's."""
    for number in NUMBERS:
        if form in ("x-n", "n-x") and number is True:
            continue  # PyTorch refuses a bool in a subtraction (as the engine does: test_misuse_parity.py)
        ours = _product_results(torch, form, number, dtype_name, shape, True)
        theirs = _product_results(real_torch, form, number, dtype_name, shape, True)
        if form == "n/x" and number != number:  # known, older than these paths: the sign of n / x's nan second
            ours, theirs = ours[:5] + ours[6:], theirs[:5] + theirs[6:]  # derivative differs from PyTorch's
        assert ours == theirs, number


@pytest.mark.parametrize("form", ["x*n", "x/n", "n/x"])
def test_a_shown_number_changes_no_gradient(form: str) -> None:
    """Backward after `_saved_other` was shown (then the rule reads the number, not the shown tensor) gives the
    gradients it gives when nothing looked (the unrecorded rule's)."""
    for number in NUMBERS:
        for dtype_name in ("float32", "float64"):
            quiet = _product_results(torch, form, number, dtype_name, (3,), False)
            assert _product_results(torch, form, number, dtype_name, (3,), True)[4:] == quiet[4:], number


def test_an_int_past_int64_shows_as_pytorch_wraps_it() -> None:
    x = torch.ones(2, requires_grad=True)
    assert (x * 2**63).grad_fn._saved_other.dtype == torch.uint64 if hasattr(torch, "uint64") else True
    assert _numbers.wrapped_number(2**63).dtype == np.uint64 and _numbers.wrapped_number(-2**63).dtype == np.int64
    assert _numbers.wrapped_number(10**40).dtype == np.float64  # (PyTorch refuses such an int: not yet the engine)


def _cold(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ops read an empty NUMBER_ARRAYS (number_array fills another): every number converted afresh."""
    monkeypatch.setattr(pointwise, "NUMBER_ARRAYS", {})


@pytest.mark.parametrize("form", ["x*n", "x+n", "n*x", "n+x"])
def test_a_numbers_shared_array_is_a_fresh_ones_bits(monkeypatch: pytest.MonkeyPatch, form: str) -> None:
    """Each number met twice (the second time from NUMBER_ARRAYS), in an order that puts equal keys (0, -0.0,
    0.0; 1, 1.0, True; 2**24 + 1 and 16777216.0) side by side: the bits, node and gradients of fresh arrays."""
    sequence = [0, -0.0, 0.0, -0.0, 1, 1.0, 2**24 + 1, 16777216.0, 2**24 + 1] + NUMBERS + NUMBERS[::-1]
    shared = [_product_results(torch, form, number, "float32", (3,), True) for number in sequence]
    assert 2.5 in pointwise.NUMBER_ARRAYS
    _cold(monkeypatch)
    assert shared == [_product_results(torch, form, number, "float32", (3,), True) for number in sequence]


def test_the_shared_arrays_are_read_only_bounded_and_only_for_safe_numbers() -> None:
    _numbers.NUMBER_ARRAYS.clear()
    x = torch.ones(3)
    for number in (0, -0.0, float("nan"), float("inf"), 1e300, 10**40):
        with np.errstate(all="ignore"):
            x * number
    assert not _numbers.NUMBER_ARRAYS  # zeros, nan and casts that overflow never match a key
    x * 2.5 + 7
    assert set(_numbers.NUMBER_ARRAYS) == {2.5, 7} and not _numbers.NUMBER_ARRAYS[7].flags.writeable
    for number in range(1, 300):
        x + number
    assert 0 < len(_numbers.NUMBER_ARRAYS) <= 256
    assert (x * 2.5).grad_fn is None and ((x + 2.5) * 2).tolist() == [7.0, 7.0, 7.0]


def test_the_number_paths_are_the_ones_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparisons above are between two paths: a number met before is not converted again."""
    x = torch.ones(3, requires_grad=True)
    x * 2.5 + 7
    monkeypatch.setattr(pointwise, "number_array", lambda number, dtype: pytest.fail("converted again"))
    assert (x * 2.5 + 7).tolist() == [9.5, 9.5, 9.5]


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("form", ["x*n", "x/n", "n/x"])
def test_a_shown_number_changed_in_place_is_caught_by_every_rule(form: str, create_graph: bool) -> None:
    """The recorded rules (create_graph, and division's only rule) read the number itself, yet check the tensor
    shown for it as `saved_tensors` would."""
    x = torch.ones(3, requires_grad=True)
    out = FORMS[form](x, 3)
    with torch.no_grad():
        out.grad_fn._saved_other.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        torch.autograd.grad(out.sum(), x, create_graph=create_graph)


# ----- record_pair and record_unary build their output tensor without Tensor._make's call --------------------

RECORDED = {
    "x+n": lambda x: x + 2, "x*n": lambda x: x * 3, "y*y": lambda x: (x * 1) * (x * 1), "x*x": lambda x: x * x,
    "mean": lambda x: x.mean(), "mean 0-d": lambda x: x.sum().mean(), "x+n 0-d": lambda x: x.sum() + 2,
    "sin": lambda x: torch.sin(x), "sigmoid": lambda x: torch.sigmoid(x), "exp": lambda x: torch.exp(x),
}


_UNSET = object()


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_a_recorded_output_is_the_tensor_make_builds(name: str) -> None:
    """Every slot of the output set as Tensor._make(data, True) sets it, the node aside, and the data an ndarray
    (a 0-d result comes from numpy as a scalar)."""
    x = torch.tensor([0.5, -1.5, 2.0], requires_grad=True)
    out = RECORDED[name](x)
    made = torch.Tensor._make(out._data, True)
    for slot in torch.Tensor.__slots__:  # (a slot _make leaves unset, such as a view's, is unset in both)
        if slot not in ("__weakref__", "grad_fn", "_counter"):
            ours, expected = getattr(out, slot, _UNSET), getattr(made, slot, _UNSET)
            assert ours is expected or ours == expected, slot
    assert type(out._data) is np.ndarray and out.grad_fn is not None and out.is_leaf is False
    assert out._version == 0 and not out.is_inference() and type(out) is torch.Tensor


# ----- Tensor.mean takes the plain x.mean() itself, every other call through accepting_aliases ----------------

MEAN_CALLS = {
    "plain": lambda m, x: m(x), "dim": lambda m, x: m(x, 1), "dim=": lambda m, x: m(x, dim=0),
    "axis=": lambda m, x: m(x, axis=1), "keepdims=": lambda m, x: m(x, 0, keepdims=True),
    "input=": lambda m, x: m(input=x), "input= dim=": lambda m, x: m(input=x, dim=(0, 1)),
    "dtype=": lambda m, x: m(x, dtype=torch.float64), "dim=None": lambda m, x: m(x, dim=None),
    "int input": lambda m, x: m(x.long()), "0-d": lambda m, x: m(x.sum()), "float64": lambda m, x: m(x.double()),
    "large": lambda m, x: m(x.expand(4, 2, 3).reshape(24)), "foo=": lambda m, x: m(x, foo=1),
    "dim twice": lambda m, x: m(x, 0, axis=1), "keepdim alone": lambda m, x: m(x, keepdim=True),
    "nothing": lambda m, x: m(),
}


@pytest.mark.parametrize("name", sorted(MEAN_CALLS))
def test_mean_answers_every_call_as_the_alias_wrapper_did(name: str) -> None:
    """reduction.mean (Tensor.mean itself) against accepting_aliases(reduction._mean), the method before: same
    bits, node, gradient, or the same error."""
    from gradstudio.engine._aliases import accepting_aliases

    def run(function) -> tuple:
        x = torch.tensor([[0.5, -1.5, 2.0], [0.25, 3.0, -0.0]], requires_grad=True)
        try:
            out = MEAN_CALLS[name](function, x)
        except (TypeError, RuntimeError) as error:
            return type(error), str(error)
        shown = (out.detach().numpy().tobytes(), out.dtype, tuple(out.shape), out.grad_fn and out.grad_fn.name())
        if out.requires_grad:
            out.sum().backward()
            shown += (x.grad.numpy().tobytes(),)
        return shown

    assert run(reduction.mean) == run(accepting_aliases(reduction._mean))


def test_the_plain_mean_takes_no_wrapper() -> None:
    assert torch.Tensor.mean is reduction.mean and torch.mean.__wrapped__ is reduction.mean
    assert reduction.mean.__name__ == reduction._mean.__name__ == "mean"


def test_saved_stand_ins_of_float32_by_shape_are_apart_from_every_other_dtypes() -> None:
    """SAVED_STUBS keys a native float32 stand-in by its shape alone: other dtypes, a byte-swapped float32
    included, keep stand-ins of their own."""
    native, swapped = np.dtype(np.float32), np.dtype(">f4" if np.little_endian else "<f4")
    kinds = [native, swapped, np.dtype(np.float64), np.dtype(np.float16)]
    stubs = [_core.saved_stub((2, 3), kind) for kind in kinds]
    assert len({id(stub) for stub in stubs}) == len(kinds)
    assert [stub._tensor._data.dtype for stub in stubs] == kinds and all(stub is _core.saved_stub((2, 3), kind)
                                                                       for stub, kind in zip(stubs, kinds))
    for kind in kinds[::2]:  # (the dtypes a tensor can have)
        x = torch.from_numpy(np.ones((2, 3), kind)).requires_grad_()
        node = (x * 3).grad_fn
        assert node._saved[0]._tensor._data.dtype == kind and node._saved[0] is _core.saved_stub((2, 3), kind)
