"""Type promotion as PyTorch's result_type: Python scalars, 0-d and dimensioned tensors of every dtype, through
arithmetic, where, clamp, maximum, cat, stack and torch.tensor, checked against real PyTorch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same, attempt  # noqa: E402

import gradstudio.engine as engine  # noqa: E402

DTYPES = ("float32", "float64", "int64", "int32", "bool")
SCALARS = (True, 3, 2.5)


def _operand(module, kind, dtype_name, scalar):
    """A Python scalar, a 0-d tensor or a dimensioned tensor of `dtype_name`."""
    if kind == "scalar":
        return scalar
    values = [1, 0] if dtype_name == "bool" else [2, 3]
    tensor = module.tensor(values, dtype=getattr(module, dtype_name))
    return tensor[0] if kind == "0-d" else tensor


def _torch_dtype_name(dtype):
    return str(dtype).removeprefix("torch.")


operand = st.tuples(st.sampled_from(("scalar", "0-d", "tensor")), st.sampled_from(DTYPES), st.sampled_from(SCALARS))


@settings(max_examples=150, deadline=None)
@given(operand, operand)
def test_binary_ops_follow_result_type(left, right):
    expected = _torch_dtype_name(torch.result_type(*[_operand(torch, *o) for o in (left, right)]))
    a, b = (_operand(engine, *o) for o in (left, right))
    if not isinstance(a, engine.Tensor) and not isinstance(b, engine.Tensor):
        return
    condition = engine.tensor([True, False])
    results = {"where": engine.where(condition, a, b)}
    if expected != "bool":
        results["add"] = (a + b) if isinstance(a, engine.Tensor) else (b + a)
    if isinstance(a, engine.Tensor) and isinstance(b, engine.Tensor):
        results["maximum"] = engine.maximum(a, b)
    if isinstance(a, engine.Tensor) and a.dtype != engine.bool and not isinstance(b, bool) and \
            (not isinstance(b, engine.Tensor) or b.dtype != engine.bool):
        results["clamp"] = engine.clamp(a, min=b)
    for name, result in results.items():
        assert _torch_dtype_name(result.dtype) == expected, (name, left, right, result.dtype)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(DTYPES), min_size=1, max_size=3))
def test_cat_and_stack_follow_result_type(dtype_names):
    def scenario(t):
        tensors = [t.tensor([1, 0], dtype=getattr(t, name)) for name in dtype_names]
        return t.cat(tensors), t.stack(tensors)

    assert_same(scenario, torch)


def _cat_grads(t):
    a = t.tensor([1.0, 2.0], requires_grad=True)
    b = t.tensor([1.5], dtype=t.float64, requires_grad=True)
    joined, stacked = t.cat([a, b]), t.stack([a, t.tensor([0.5, 1.0], dtype=t.float64)])
    (joined.sum() + stacked.sum()).backward()
    return joined, stacked, a.grad, b.grad


PROMOTION = {
    "where_two_floats": lambda t: t.where(t.tensor([True, False]), 1.5, 2),
    "where_two_ints": lambda t: t.where(t.tensor([True, False]), 1, 2),
    "where_two_bools": lambda t: t.where(t.tensor([True, False]), True, False),
    "where_int_tensor_float": lambda t: t.where(t.tensor([True, False]), t.tensor([1, 2]), 2.5),
    "clamp_int_float_bounds": lambda t: t.clamp(t.tensor([1, 2, 3]), 1.5, 2.5),
    "clamp_int_float_min": lambda t: t.clamp(t.tensor([1, 2, 3]), min=1.5),
    "clamp_int_method_max": lambda t: t.tensor([1, 2, 3]).clamp(max=2.5),
    "clamp_int_int_bounds": lambda t: t.clamp(t.tensor([1, 2, 3]), 2, 3),
    "clamp_float_int_bounds": lambda t: t.clamp(t.tensor([1.0, 2.0, 3.0]), 2, 3),
    "clamp_int_float_tensor": lambda t: t.clamp(t.tensor([1, 2, 3]), t.tensor([1.5, 1.5, 1.5])),
    "clamp_float_double_tensor": lambda t: t.clamp(t.tensor([1.0, 2.0, 3.0]), max=t.tensor([1.5], dtype=t.float64)),
    "clamp_int_int_tensor": lambda t: t.clamp(t.tensor([1, 5, 3]), max=t.tensor([2, 2, 2])),
    "cat_int_float": lambda t: t.cat([t.tensor([1, 2]), t.tensor([1.5])]),
    "stack_int_float": lambda t: t.stack([t.tensor([1, 2]), t.tensor([1.5, 2.0])]),
    "cat_stack_grads": _cat_grads,
    "tensor_of_0d_floats": lambda t: t.tensor([t.tensor(1.5), t.tensor(2.0)]),
    "tensor_of_0d_ints": lambda t: t.tensor([t.tensor(1), t.tensor(2)]),
    "tensor_of_0d_double": lambda t: t.tensor([t.tensor(1.0, dtype=t.float64), t.tensor(2.0)]),
    "tensor_of_0d_int_and_float": lambda t: t.tensor([t.tensor(1), 2.5]),
    "tensor_numpy_float64": lambda t: t.tensor(np.float64(1.5)),
    "tensor_numpy_float32": lambda t: t.tensor(np.float32(1.5)),
    "tensor_numpy_int64": lambda t: t.tensor(np.int64(3)),
    "tensor_list_numpy_float64": lambda t: t.tensor([np.float64(1.5), 2.0]),
    "tensor_list_numpy_float32_int": lambda t: t.tensor([np.float32(1.5), 2]),
    "tensor_nested_mixed": lambda t: t.tensor([[1, 2], [3.5, 4]]),
    "full_numpy_float64": lambda t: t.full((2,), np.float64(1.5)),
    "numpy_scalar_operand": lambda t: [t.tensor([1, 2]) + np.float64(1.5), t.tensor([1.0]) * np.float64(2)],
}


@pytest.mark.parametrize("name", PROMOTION)
def test_promotion(name):
    assert_same(lambda t: attempt(lambda: PROMOTION[name](t)), torch)
