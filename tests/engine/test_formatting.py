"""Tests that tensor text matches what PyTorch itself prints."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

from gradstudio.engine._formatting import format_size, format_tensor

NAN = math.nan
INF = math.inf
F16, F32, F64 = np.float16, np.float32, np.float64
I32, I64 = np.int32, np.int64


@pytest.fixture(scope="module")
def torch():
    """Real PyTorch, or a skip when it is not installed."""
    return pytest.importorskip(
        "torch", reason="PyTorch not installed: differential tests against real PyTorch skipped"
    )


def _same_as_torch(torch, tensor) -> None:
    """Assert our text for `tensor`'s data equals PyTorch's repr and str of it."""
    grad_fn = tensor.grad_fn
    ours = format_tensor(
        tensor.detach().numpy(),
        grad_fn_name=None if grad_fn is None else type(grad_fn).__name__,
        requires_grad=tensor.requires_grad,
    )
    assert ours == repr(tensor)
    assert ours == str(tensor)


def _check_array(torch, array: np.ndarray) -> None:
    """Compare against PyTorch for `array` as a plain tensor."""
    _same_as_torch(torch, torch.from_numpy(array))


# ---------------------------------------------------------------- torch-free


@pytest.mark.parametrize(
    ("array", "kwargs", "expected"),
    [
        (
            np.array([4.5, 4.5], F32),
            {"grad_fn_name": "MulBackward0"},
            "tensor([4.5000, 4.5000], grad_fn=<MulBackward0>)",
        ),
        (np.ones(3, F32), {"requires_grad": True}, "tensor([1., 1., 1.], requires_grad=True)"),
        (np.full(3, 6.0, F32), {}, "tensor([6., 6., 6.])"),
        (np.array([[1, 2], [3, 4]], F32), {}, "tensor([[1., 2.],\n        [3., 4.]])"),
        (np.array([0.1, 0.2], F64), {}, "tensor([0.1000, 0.2000], dtype=torch.float64)"),
        (np.array([0.1], F32), {}, "tensor([0.1000])"),
        (np.array(3.5, F32), {}, "tensor(3.5000)"),
        (np.array(7, I64), {}, "tensor(7)"),
        (np.array([True, False]), {}, "tensor([ True, False])"),
        (np.array([-0.0, 1.0], F32), {}, "tensor([-0., 1.])"),
        (np.array([0.0, NAN, -INF], F32), {}, "tensor([0., nan, -inf])"),
        (np.array([0.5, NAN, INF], F32), {}, "tensor([0.5000,    nan,    inf])"),
        (np.array([1e-4], F32), {}, "tensor([1.0000e-04])"),
        (np.array([1.0, 1000.5], F32), {}, "tensor([1.0000e+00, 1.0005e+03])"),
        (np.array([1, 2], I32), {}, "tensor([1, 2], dtype=torch.int32)"),
        (np.zeros((0, 3), F32), {}, "tensor([], size=(0, 3))"),
        (np.zeros(0, I64), {}, "tensor([], dtype=torch.int64)"),
        (np.arange(2001), {}, "tensor([   0,    1,    2,  ..., 1998, 1999, 2000])"),
        (
            np.arange(4, dtype=F32),
            {"grad_fn_name": "SumBackward0", "requires_grad": True},
            "tensor([0., 1., 2., 3.], grad_fn=<SumBackward0>)",
        ),
        (
            np.arange(8, dtype=F32).reshape(2, 2, 2),
            {},
            "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])",
        ),
        (
            np.linspace(0, 1, 25),
            {},
            "tensor([0.0000, 0.0417, 0.0833, 0.1250, 0.1667, 0.2083, 0.2500, 0.2917, 0.3333,\n"
            "        0.3750, 0.4167, 0.4583, 0.5000, 0.5417, 0.5833, 0.6250, 0.6667, 0.7083,\n"
            "        0.7500, 0.7917, 0.8333, 0.8750, 0.9167, 0.9583, 1.0000],\n"
            "       dtype=torch.float64)",
        ),
    ],
)
def test_literal_expectations(array: np.ndarray, kwargs: dict, expected: str) -> None:
    """Known PyTorch output, checked without needing PyTorch installed."""
    assert format_tensor(array, **kwargs) == expected


def test_format_size() -> None:
    """Sizes print as a list inside ``torch.Size``."""
    assert format_size((2, 3)) == "torch.Size([2, 3])"
    assert format_size(()) == "torch.Size([])"
    assert format_size((np.int64(4),)) == "torch.Size([4])"


def test_unsupported_dtype_is_rejected() -> None:
    """Dtypes without a PyTorch counterpart here raise TypeError."""
    with pytest.raises(TypeError):
        format_tensor(np.array([1 + 2j]))


# ------------------------------------------------------- against real PyTorch


def _rng_values(shape: tuple[int, ...], scale: float, dtype) -> np.ndarray:
    """Deterministic pseudo-random values of a given scale."""
    return (np.random.default_rng(0).standard_normal(shape) * scale).astype(dtype)


HAND_PICKED: dict[str, np.ndarray] = {
    # 0-d
    "scalar_f32": np.array(3.5, F32),
    "scalar_whole": np.array(2.0, F32),
    "scalar_int": np.array(-7, I64),
    "scalar_bool": np.array(True),
    "scalar_nan": np.array(NAN, F32),
    "scalar_neg_zero": np.array(-0.0, F32),
    "scalar_tiny": np.array(1e-10, F64),
    "scalar_huge": np.array(3e12, F32),
    "scalar_f16": np.array(3.5, F16),
    # int mode
    "whole_floats": np.array([1.0, 2.0, 3.0], F32),
    "sixes": np.full(3, 6.0, F32),
    "whole_negatives": np.array([-10.0, 2.0, 300.0], F32),
    "whole_f64": np.array([1.0, -2.0], F64),
    "ratio_exactly_1000": np.array([1.0, 1000.0], F32),
    "exactly_1e8": np.array([1e8, 1.0], F64),
    # fixed mode
    "fixed": np.array([0.1, 0.25, -3.75], F32),
    "fixed_f64": np.array([0.1, 0.2, 123.456], F64),
    "rounding_f32": np.array([1.99995, 0.12345], F32),
    "rounding_f64": np.array([1.99995, 0.12345], F64),
    "wide_fixed": np.array([123456.7891, -0.5], F64),
    "one_e_minus_4_f64": np.array([1e-4, 0.05], F64),
    # scientific mode
    "sci_ratio": np.array([1.0, 1000.5], F32),
    "sci_big": np.array([1e9, 2.0], F32),
    "sci_big_whole": np.array([1e9, 1e10], F64),
    "sci_small": np.array([1e-5, 0.5], F32),
    "sci_one_e_minus_4_f32": np.array([1e-4], F32),
    "sci_three_digit_exponent": np.array([1e-100, 1e100], F64),
    "sci_negative": np.array([-1e-7, 3.0, -2e5], F64),
    "sci_random": _rng_values((4, 5), 1e6, F32),
    # nan / inf
    "nan_inf_whole": np.array([1.0, NAN, INF, -INF], F32),
    "nan_fixed": np.array([0.5, NAN], F32),
    "inf_sci": np.array([1e-5, INF, NAN, 2.0], F64),
    "all_nan": np.array([NAN, NAN], F32),
    "all_inf": np.array([INF, -INF], F32),
    "nan_and_zero": np.array([NAN, 0.0, -0.0], F32),
    "nan_2d": np.array([[NAN, 1.5], [2.25, -INF]], F32),
    # zeros
    "neg_zero_pair": np.array([-0.0, 0.0], F32),
    "neg_zero_fixed": np.array([-0.0, 1.5], F32),
    "neg_zero_sci": np.array([-0.0, 1e-6], F32),
    "zeros_1d": np.zeros(3, F32),
    "zeros_2d": np.zeros((2, 2), F32),
    "zeros_f64": np.zeros(4, F64),
    # bool
    "bool_mixed": np.array([True, False, True]),
    "bool_true": np.array([True, True]),
    "bool_2d": np.array([[True, False], [False, False]]),
    # integers
    "int_negative": np.array([-1, 20, -300], I64),
    "int_wide": np.array([-(2**63), 2**63 - 1], I64),
    "int_mixed_width": np.array([1, -1000000], I64),
    "int32": np.array([1, -2, 3], I32),
    "uint8": np.array([0, 255], np.uint8),
    "float16": np.array([0.1, 2.5, -3.0], F16),
    # wrapping of long rows
    "wrap_floats": np.arange(30, dtype=F32) * 1.5,
    "wrap_whole": np.arange(40, dtype=F32),
    "wrap_int": np.arange(100, dtype=I64),
    "wrap_f64": np.linspace(0, 1, 25),
    "wrap_sci": _rng_values((30,), 1e5, F64),
    "wrap_2d": _rng_values((3, 25), 1.0, F32),
    "wrap_bool": np.arange(60) % 3 == 0,
    # nesting
    "two_by_two": np.array([[1.0, 2.0], [3.0, 4.0]], F32),
    "column": np.arange(5, dtype=F32).reshape(5, 1),
    "three_d": np.arange(24, dtype=F32).reshape(2, 3, 4),
    "three_d_int": np.arange(24, dtype=I64).reshape(2, 3, 4) - 12,
    "four_d": np.arange(16, dtype=F32).reshape(2, 2, 2, 2) / 3,
    "five_d": np.arange(32, dtype=I64).reshape(2, 2, 2, 2, 2),
    # summarisation
    "summary_1d": np.arange(1001, dtype=F32),
    "summary_1d_f64_sci": _rng_values((2000,), 1e9, F64),
    "summary_2d": np.arange(2000, dtype=F32).reshape(40, 50),
    "summary_short_first_axis": np.arange(1200, dtype=I64).reshape(3, 400),
    "summary_short_last_axis": np.arange(1200, dtype=F32).reshape(400, 3) / 7,
    "summary_3d": np.arange(1100, dtype=F32).reshape(10, 10, 11),
    "summary_4d": _rng_values((5, 5, 5, 10), 1.0, F32),
    "summary_bool": np.arange(1500) % 2 == 0,
    "summary_hidden_extremes": np.concatenate([np.ones(3), np.full(1000, 1e-9), np.ones(3)]),
    # empty
    "empty_1d": np.zeros(0, F32),
    "empty_2d": np.zeros((0, 3), F32),
    "empty_3d": np.zeros((2, 0, 4), F32),
    "empty_int": np.zeros(0, I64),
    "empty_f64": np.zeros((3, 0), F64),
    "empty_bool": np.zeros((0, 2), bool),
}


@pytest.mark.parametrize("name", list(HAND_PICKED))
def test_hand_picked_against_torch(torch, name: str) -> None:
    """Every hand-picked array prints exactly as PyTorch prints it."""
    _check_array(torch, HAND_PICKED[name])


FLOAT_CASES = [name for name, arr in HAND_PICKED.items() if arr.dtype.kind == "f"]


@pytest.mark.parametrize("name", FLOAT_CASES)
def test_requires_grad_against_torch(torch, name: str) -> None:
    """Leaf tensors that require grad get the ``requires_grad=True`` suffix."""
    _same_as_torch(torch, torch.from_numpy(HAND_PICKED[name]).requires_grad_())


OPERATIONS = {
    "mul": lambda t: t * 2,
    "add": lambda t: t + 1,
    "clone": lambda t: t.clone(),
    "sum": lambda t: t.sum(),
    "exp": lambda t: t.exp(),
    "neg": lambda t: -t,
    "unsqueeze": lambda t: t.unsqueeze(0),
}


@pytest.mark.parametrize("op", list(OPERATIONS))
@pytest.mark.parametrize("name", FLOAT_CASES)
def test_grad_fn_against_torch(torch, name: str, op: str) -> None:
    """Results of differentiable operations carry PyTorch's grad_fn suffix."""
    leaf = torch.from_numpy(HAND_PICKED[name]).requires_grad_()
    _same_as_torch(torch, OPERATIONS[op](leaf))


@pytest.mark.parametrize("width", range(60, 90))
def test_suffix_wrapping_boundary(torch, width: int) -> None:
    """Suffixes move to their own line exactly where PyTorch moves them."""
    leaf = torch.from_numpy(np.arange(width // 6, dtype=F64) + 0.5).requires_grad_()
    _same_as_torch(torch, leaf)
    _same_as_torch(torch, leaf * 3)
    _same_as_torch(torch, (leaf * 3).unsqueeze(0).unsqueeze(0))


@pytest.mark.parametrize("shape", [(), (0,), (2, 3), (1, 0, 5), (7, 1, 1, 2)])
def test_format_size_against_torch(torch, shape: tuple[int, ...]) -> None:
    """``format_size`` matches ``str(torch.Size(...))``."""
    assert format_size(shape) == str(torch.Size(shape))


# ------------------------------------------------------------ property tests

DTYPES = [F32, F64, F16, I64, I32, np.bool_]
SPECIALS = [NAN, INF, -INF, 0.0, -0.0]


@st.composite
def float_values(draw: st.DrawFn, count: int) -> list[float]:
    """A list of floats drawn from one of several value distributions."""
    kind = draw(st.sampled_from(["whole", "wide", "tiny", "unit", "any", "huge"]))
    base = {
        "whole": st.integers(-1000, 1000).map(float),
        "wide": st.floats(-1e12, 1e12),
        "tiny": st.floats(-1e-5, 1e-5),
        "unit": st.floats(-10, 10),
        "any": st.floats(allow_nan=True, allow_infinity=True),
        "huge": st.floats(1e7, 1e10) | st.floats(-1e10, -1e7),
    }[kind]
    sprinkle = draw(st.booleans())
    elements = st.one_of(base, st.sampled_from(SPECIALS)) if sprinkle else base
    return draw(st.lists(elements, min_size=count, max_size=count))


@st.composite
def tensors(draw: st.DrawFn, shape_strategy: st.SearchStrategy) -> np.ndarray:
    """A numpy array of a supported dtype with interesting values."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(shape_strategy)
    count = math.prod(shape)
    if dtype.kind == "b":
        values = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    elif dtype.kind == "i":
        info = np.iinfo(dtype)
        bound = draw(st.sampled_from([9, 1000, int(info.max)]))
        ints = st.integers(max(-bound, int(info.min)), bound)
        values = draw(st.lists(ints, min_size=count, max_size=count))
    else:
        values = draw(float_values(count))
    with np.errstate(over="ignore"):
        return np.array(values, dtype=np.float64 if dtype.kind == "f" else dtype).astype(dtype).reshape(shape)


SMALL_SHAPES = array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=7)
LONG_ROW_SHAPES = array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=40)
LARGE_SHAPES = [(1001,), (1500,), (34, 30), (3, 350), (350, 3), (11, 10, 11), (4, 4, 4, 16)]


@st.composite
def large_tensors(draw: st.DrawFn) -> np.ndarray:
    """An array above the summarisation threshold, filled by a seeded generator."""
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(st.sampled_from(LARGE_SHAPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind == "i":
        bound = draw(st.sampled_from([9, 1000, 2**31 - 1]))
        return rng.integers(-bound, bound, size=shape, endpoint=True).astype(dtype)
    scale = 10.0 ** draw(st.integers(-8, 12))
    values = rng.standard_normal(shape) * scale
    if draw(st.booleans()):
        values = np.round(values)
    if draw(st.booleans()):
        positions = rng.random(shape) < 0.05
        values[positions] = rng.choice(SPECIALS, size=int(positions.sum()))
    with np.errstate(over="ignore"):
        return values.astype(dtype)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(array=tensors(SMALL_SHAPES), grad=st.sampled_from(["none", "leaf", "clone"]))
def test_random_small_tensors_against_torch(torch, array: np.ndarray, grad: str) -> None:
    """Random small arrays, optionally with autograd state, print like PyTorch."""
    tensor = torch.from_numpy(array)
    if grad != "none" and array.dtype.kind == "f":
        tensor = tensor.requires_grad_()
        if grad == "clone":
            tensor = tensor.clone()
    _same_as_torch(torch, tensor)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(array=tensors(LONG_ROW_SHAPES))
def test_random_long_rows_against_torch(torch, array: np.ndarray) -> None:
    """Random arrays with long rows wrap exactly like PyTorch."""
    _check_array(torch, array)


@settings(max_examples=60, deadline=None)
@given(array=large_tensors())
def test_random_summarised_tensors_against_torch(torch, array: np.ndarray) -> None:
    """Random arrays above the threshold are summarised like PyTorch."""
    _check_array(torch, array)
