"""Creation functions refuse what PyTorch refuses, with its exception type and message.

Strings, None, dicts, sets and ragged lists as data; float, string, None and dict sizes; missing sizes; a
`dtype=` that is not a dtype; `*_like` of a non-tensor. Every case runs under both engines; what each raises
(type and message) or returns must agree.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same, attempt  # noqa: E402

DATA = {
    "str": lambda t: t.tensor("abc"),
    "bytes": lambda t: t.tensor(b"ab"),
    "list_of_str": lambda t: t.tensor(["a", "b"]),
    "str_among_numbers": lambda t: t.tensor([1, "a"]),
    "str_in_a_row": lambda t: t.tensor([[1], "ab"]),
    "str_with_dtype": lambda t: t.tensor([1, "a"], dtype=t.float32),
    "list_of_str_with_dtype": lambda t: t.tensor(["a"], dtype=t.float32),
    "none": lambda t: t.tensor(None),
    "none_in_list": lambda t: t.tensor([1, None]),
    "none_after_numpy_scalar": lambda t: t.tensor([np.float64(1), None]),
    "dict": lambda t: t.tensor({"a": 1}),
    "dict_in_tuple": lambda t: t.tensor((1, {})),
    "set": lambda t: t.tensor({1, 2}),
    "object": lambda t: t.tensor(object()),
    "dtype_as_data": lambda t: t.tensor(t.float32),
    "missing_data": lambda t: t.tensor(),
    "ragged_shorter_row": lambda t: t.tensor([[1, 2], [3]]),
    "ragged_longer_row": lambda t: t.tensor([[1], [2, 3]]),
    "ragged_deep": lambda t: t.tensor([[[1, 2]], [[3]]]),
    "ragged_float_dtype": lambda t: t.tensor([[1, 2], [3]], dtype=t.float32),
    "ragged_bool_dtype": lambda t: t.tensor([[1, 2], [3]], dtype=t.bool),
    "row_then_number": lambda t: t.tensor([[1, 2], 3]),
    "number_then_row": lambda t: t.tensor([1, [2, 3]]),
    "number_then_row_float": lambda t: t.tensor([1.5, [2, 3]]),
    "number_then_row_float_dtype": lambda t: t.tensor([1, [2, 3]], dtype=t.float32),
    "empty_first_row": lambda t: t.tensor([[], [1]]),
    "list_and_tuple_rows": lambda t: t.tensor([[1, 2], (3, 4)]),
    "list_of_vectors": lambda t: t.tensor([t.tensor([1.0, 2.0]), t.tensor([3.0, 4.0])]),
    "list_of_scalars": lambda t: t.tensor([t.tensor(1.0), t.tensor(2.0)]),
    "dtype_as_string": lambda t: t.tensor([1, 2], dtype="float32"),
}

SIZES = {
    "ones_float": lambda t: t.ones(2.5),
    "ones_float_in_tuple": lambda t: t.ones((2, 3.0)),
    "ones_float_first_in_tuple": lambda t: t.ones((2.0,)),
    "ones_float_vararg": lambda t: t.ones(2, 3.0),
    "ones_float_first_vararg": lambda t: t.ones(2.0, 3),
    "ones_none": lambda t: t.ones(None),
    "ones_none_vararg": lambda t: t.ones(2, None),
    "ones_str": lambda t: t.ones("3"),
    "ones_str_in_tuple": lambda t: t.ones((2, "3")),
    "ones_dict": lambda t: t.ones({2: 3}),
    "ones_bool": lambda t: t.ones(True),
    "ones_bool_first_in_list": lambda t: t.ones([True, 2]),
    "ones_bool_second": lambda t: t.ones(2, True),
    "ones_tuple_vararg": lambda t: t.ones(2, (3,)),
    "ones_float_tensor": lambda t: t.ones(t.tensor(2.0)),
    "ones_int_tensor_and_numpy_ints": lambda t: t.ones(t.tensor(2), np.int64(3)),
    "ones_numpy_float": lambda t: t.ones(np.float64(2)),
    "ones_empty_tuple": lambda t: t.ones(()),
    "ones_missing": lambda t: t.ones(),
    "zeros_missing": lambda t: t.zeros(),
    "zeros_float": lambda t: t.zeros(2.5),
    "zeros_float_first_vararg": lambda t: t.zeros(1.0, 2),
    "zeros_keyword_float": lambda t: t.zeros(size=[2.5]),
    "ones_dtype_string": lambda t: t.ones(2, dtype="float32"),
    "full_int_size": lambda t: t.full(2, 1.0),
    "full_float_size": lambda t: t.full((2.0,), 1),
    "full_float_in_size": lambda t: t.full((2, 3.5), 1.0),
    "full_none_size": lambda t: t.full(None, 1.0),
    "full_dict_size": lambda t: t.full({}, 1),
    "full_str_value": lambda t: t.full((2,), "a"),
    "full_none_value": lambda t: t.full((2,), None),
    "full_list_value": lambda t: t.full((2,), [1]),
    "full_tensor_value": lambda t: t.full((2,), t.tensor(1.5)),
    "full_missing_value": lambda t: t.full((2,)),
    "rand_float": lambda t: t.rand(2.0),
    "rand_str": lambda t: t.rand("2"),
    "rand_missing": lambda t: t.rand(),
    "randn_missing": lambda t: t.randn(),
    "randn_float_first_vararg": lambda t: t.randn(2.5, 3),
    "randn_float_vararg": lambda t: t.randn(2, 3.5),
    "rand_keyword_none": lambda t: t.rand(size=None),
    "rand_bad_generator": lambda t: t.rand(3, generator=5),
    "rand_unknown_keyword": lambda t: t.rand(2, foo=1),
    "rand_size_twice": lambda t: t.rand(2, size=(2,)),
    "ones_unknown_keyword": lambda t: t.ones(2, foo=1),
    "ones_size_keyword": lambda t: t.ones(size=(2, 3)),
    "randint_missing_size": lambda t: t.randint(5),
    "randint_int_size": lambda t: t.randint(0, 5, 2),
    "randint_float_size": lambda t: t.randint(0, 5, (2.0,)),
    "eye_float": lambda t: t.eye(2.0),
    "eye_none": lambda t: t.eye(None),
    "eye_str": lambda t: t.eye("a"),
    "eye_missing": lambda t: t.eye(),
    "eye_float_columns": lambda t: t.eye(2, 3.0),
    "eye_float_rows_with_columns": lambda t: t.eye(2.0, 3),
    "arange_str": lambda t: t.arange("3"),
    "arange_none": lambda t: t.arange(None),
    "arange_missing": lambda t: t.arange(),
    "arange_str_end": lambda t: t.arange(1, "a"),
    "arange_none_step": lambda t: t.arange(1, 5, None),
    "linspace_missing_steps": lambda t: t.linspace(0, 1),
    "linspace_float_steps": lambda t: t.linspace(0, 1, 2.5),
    "linspace_none_steps": lambda t: t.linspace(0, 1, None),
    "linspace_str_start": lambda t: t.linspace("0", 1, 3),
    "ones_like_list": lambda t: t.ones_like([1, 2]),
    "zeros_like_none": lambda t: t.zeros_like(None),
    "full_like_list": lambda t: t.full_like([1], 1),
    "rand_like_list": lambda t: t.rand_like([1]),
    "ones_like_int": lambda t: t.ones_like(2),
}


@pytest.mark.parametrize("name", sorted(DATA))
def test_tensor_data_refused_or_accepted_as_pytorch_does(name):
    assert_same(lambda t: attempt(lambda: DATA[name](t)), torch)


@pytest.mark.parametrize("name", sorted(SIZES))
def test_sizes_refused_or_accepted_as_pytorch_does(name):
    def shape_or_error(t):
        result = attempt(lambda: SIZES[name](t))
        return (result.dtype, result.shape) if hasattr(result, "shape") else result

    assert_same(shape_or_error, torch)
