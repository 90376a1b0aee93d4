"""The forward shortcuts of the notes' snippets give, byte for byte, what the general code gives and what PyTorch
gives: a tiny float32 sum or mean added up as Python floats (`_summation.small_total`), a Python number's float32
array read from `_core.NUMBER_ARRAYS`, and the number an op saves shown as PyTorch's wrapped number."""

from __future__ import annotations

import numpy as np
import pytest

import gradstudio.engine as torch
from gradstudio.engine import _summation
from gradstudio.engine.ops import reduction

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
    largest = float(np.finfo(np.float32).max)
    assert _summation.small_total([16777216.0, 1.0, 1.0]) == 16777216.0  # each partial sum rounded to float32
    assert str(_summation.small_total([-0.0])) == "0.0" and str(_summation.small_total([-0.0] * 7)) == "0.0"
    assert _summation.small_total([3e38, 3e38]) == np.inf and _summation.small_total([largest, 1.0]) == largest
    halves = [2.0**-24, 1.0, 0.0, 0.0, 2.0**-24]  # the fifth joins the first accumulator: 2**-23 before the 1
    assert _summation.small_total(halves) == 1.0 + 2.0**-23 != np.add.accumulate(np.float32(halves))[-1]


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
