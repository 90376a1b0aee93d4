"""Creation, dtypes, type promotion and every listed op, run on our engine and on real PyTorch.

Each scenario is written once against the torch API and run with both modules; reprs,
dtypes, shapes, values, gradients and grad_fn graphs (by name) must agree.
"""

import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same, attempt, graph, warned  # noqa: E402

A23 = [[0.5, -1.25, 2.0], [1.5, 0.75, -0.3]]
B3 = [0.2, -0.7, 1.1]
POS23 = [[0.5, 1.25, 2.0], [1.5, 0.75, 0.3]]
POS3 = [0.4, 1.7, 2.5]

# ----- creation and dtypes -------------------------------------------------------------------------------

CREATION = {
    "tensor_ints": lambda t: t.tensor([1, 2, 3]),
    "tensor_floats": lambda t: t.tensor([[1.0, 2.5], [-3.0, 4.25]]),
    "tensor_bools": lambda t: t.tensor([True, False, True]),
    "tensor_mixed_int_float": lambda t: t.tensor([1, 2.5]),
    "tensor_mixed_bool_int": lambda t: t.tensor([True, 2]),
    "tensor_scalar_int": lambda t: t.tensor(3),
    "tensor_scalar_float": lambda t: t.tensor(2.5),
    "tensor_scalar_bool": lambda t: t.tensor(False),
    "tensor_empty": lambda t: t.tensor([]),
    "tensor_3d": lambda t: t.tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]),
    "tensor_dtype_float64": lambda t: t.tensor([1, 2], dtype=t.float64),
    "tensor_dtype_int64_truncates": lambda t: t.tensor([1.7, -1.7], dtype=t.int64),
    "tensor_dtype_bool": lambda t: t.tensor([0, 2, 0], dtype=t.bool),
    "tensor_aliases": lambda t: [t.tensor([1], dtype=t.float), t.tensor([1], dtype=t.double),
                                 t.tensor([1.5], dtype=t.long)],
    "tensor_requires_grad": lambda t: t.tensor([1.0, 2.0], requires_grad=True),
    "tensor_requires_grad_float64": lambda t: t.tensor([1.0], dtype=t.float64, requires_grad=True),
    "tensor_requires_grad_int_error": lambda t: attempt(lambda: t.tensor([1, 2], requires_grad=True)),
    "tensor_from_tensor": lambda t: warned(lambda: t.tensor(t.tensor([1.0, 2.0]))),
    "ones_varargs": lambda t: t.ones(2, 3),
    "ones_tuple": lambda t: t.ones((2, 3)),
    "ones_list": lambda t: t.ones([3]),
    "ones_scalar_shape": lambda t: t.ones(()),
    "ones_dtype": lambda t: [t.ones(2, dtype=t.int64), t.ones(2, dtype=t.bool), t.ones(2, dtype=t.float64)],
    "ones_requires_grad": lambda t: t.ones(2, 2, requires_grad=True),
    "zeros": lambda t: [t.zeros(2, 2), t.zeros(3, dtype=t.int64), t.zeros((1, 2, 2))],
    "zeros_requires_grad_int_error": lambda t: attempt(lambda: t.zeros(2, dtype=t.int64, requires_grad=True)),
    "full_float": lambda t: t.full((2, 2), 1.5),
    "full_int": lambda t: t.full((2, 3), 7),
    "full_bool": lambda t: t.full((2,), True),
    "full_dtype": lambda t: t.full([3], 2, dtype=t.float64),
    "full_requires_grad": lambda t: t.full((2,), 0.5, requires_grad=True),
    "arange_end": lambda t: t.arange(5),
    "arange_start_end": lambda t: t.arange(1, 4),
    "arange_float_step": lambda t: t.arange(0, 1, 0.25),
    "arange_float_end": lambda t: t.arange(5.0),
    "arange_step": lambda t: t.arange(0, 7, 2),
    "arange_negative_step": lambda t: t.arange(10, 0, -3),
    "arange_dtype": lambda t: t.arange(4, dtype=t.float32),
    "arange_requires_grad": lambda t: t.arange(3.0, requires_grad=True),
    "linspace": lambda t: [t.linspace(0, 1, 5), t.linspace(-1, 1, 4), t.linspace(2, 3, 1), t.linspace(0, 10, 11)],
    "linspace_dtype": lambda t: t.linspace(0, 1, 3, dtype=t.float64),
    "eye": lambda t: [t.eye(3), t.eye(2, 3), t.eye(2, dtype=t.int64)],
    "like_functions": lambda t: [
        t.ones_like(t.tensor([[1, 2]])), t.zeros_like(t.tensor([1.5, 2.5])),
        t.zeros_like(t.tensor([1, 2]), dtype=t.float32), t.full_like(t.tensor([1, 2]), 2.5),
        t.full_like(t.tensor([1.0, 2.0]), 2.5), t.ones_like(t.tensor([1.0]), requires_grad=True),
        t.ones_like(t.tensor([1.0, 2.0], requires_grad=True)),
    ],
    "random_shapes_and_dtypes": lambda t: [
        (r.shape, r.dtype, r.requires_grad, r.min().item() >= 0, r.max().item() < 1)
        for r in (t.rand(2, 3), t.rand((4,)), t.rand(2, dtype=t.float64))
    ] + [(r.shape, r.dtype, r.requires_grad) for r in (t.randn(3, 2), t.randn(2, requires_grad=True),
                                                       t.rand_like(t.ones(2)), t.randn_like(t.ones(1, 2)))],
    "dtype_objects": lambda t: [t.float32, t.float64, t.int64, t.bool, t.float, t.double, t.long,
                                t.float32.is_floating_point, t.int64.is_floating_point],
    "size_object": lambda t: [t.Size([2, 3]), t.ones(2, 3).shape == (2, 3), t.ones(2, 3).shape[1],
                              t.ones(2, 3).shape.numel(), str(t.ones(4).shape)],
}


@pytest.mark.parametrize("name", CREATION)
def test_creation(name):
    assert_same(CREATION[name], torch)


# ----- type promotion ------------------------------------------------------------------------------------

def _ints(t):
    return t.tensor([1, 2, 3])


PROMOTION = {
    "int_times_float_scalar": lambda t: _ints(t) * 2.5,
    "int_times_int_scalar": lambda t: _ints(t) * 2,
    "int_plus_bool_scalar": lambda t: _ints(t) + True,
    "int_div_int": lambda t: _ints(t) / t.tensor([2, 2, 2]),
    "int_div_scalar": lambda t: _ints(t) / 2,
    "scalar_div_int": lambda t: 6 / _ints(t),
    "scalar_minus_int": lambda t: 1 - _ints(t),
    "int_pow_int": lambda t: _ints(t) ** 2,
    "int_pow_float": lambda t: _ints(t) ** 0.5,
    "int_scalar_pow": lambda t: 2 ** _ints(t),
    "float_scalar_pow_int": lambda t: 2.0 ** _ints(t),
    "bool_plus_bool": lambda t: t.tensor([True, False]) + t.tensor([True, True]),
    "bool_times_int": lambda t: t.tensor([True, False]) * 3,
    "bool_plus_float_tensor": lambda t: t.tensor([True, False]) + t.tensor([0.5, 0.5]),
    "f32_plus_f64": lambda t: t.tensor([1.0, 2.0]) + t.tensor([0.5, 0.25], dtype=t.float64),
    "f32_plus_f64_0d": lambda t: t.tensor([1.0, 2.0]) + t.tensor(0.5, dtype=t.float64),
    "f64_0d_plus_f32": lambda t: t.tensor(0.5, dtype=t.float64) * t.tensor([1.0, 2.0]),
    "f32_0d_plus_f64": lambda t: t.tensor(0.5) + t.tensor([1.0, 2.0], dtype=t.float64),
    "int_plus_f32_0d": lambda t: _ints(t) + t.tensor(0.5),
    "int_0d_plus_f64": lambda t: t.tensor(3) + t.tensor([0.5], dtype=t.float64),
    "f32_0d_plus_f64_0d": lambda t: t.tensor(0.5) + t.tensor(0.25, dtype=t.float64),
    "f64_times_float_scalar": lambda t: t.tensor([1.0], dtype=t.float64) * 0.1,
    "f32_plus_int_tensor": lambda t: t.tensor([1.5]) + t.tensor([2]),
    "comparisons": lambda t: [_ints(t) > 1, _ints(t) == 2.0, t.tensor([1.0, 2.0]) <= t.tensor([2.0, 1.0]),
                              _ints(t) != 3, _ints(t) >= 2, _ints(t) < 2.5],
    "comparisons_on_grad_tensor": lambda t: t.tensor([1.0, 2.0], requires_grad=True) > 1,
    "int_sum_and_prod": lambda t: [_ints(t).sum(), _ints(t).prod(), t.tensor([True, True, False]).sum(),
                                   _ints(t).sum(0)],
    "int_unary_to_float": lambda t: [_ints(t).exp(), _ints(t).sqrt(), _ints(t).log(), _ints(t).sin(),
                                     _ints(t).sigmoid(), _ints(t).tanh()],
    "int_unary_keeps_int": lambda t: [_ints(t).abs(), -_ints(t), _ints(t).relu(), _ints(t).clamp(2, 3)],
    "int_mean_error": lambda t: attempt(lambda: _ints(t).mean()),
    "int_max": lambda t: [_ints(t).max(), _ints(t).min(), t.tensor([[1, 5], [7, 2]]).max(1)],
    "casts": lambda t: [_ints(t).float(), _ints(t).double(), t.tensor([1.7, -2.5]).long(),
                        t.tensor([1.5]).to(t.float64), _ints(t).to(dtype=t.float32),
                        t.tensor([0.0, 2.0]).to(t.bool), t.tensor([1.0]).to(t.float32)],
    "cast_keeps_identity": lambda t: [(lambda x: x.float() is x)(t.tensor([1.0])),
                                      (lambda x: x.to(t.float32) is x)(t.tensor([1.0]))],
    "in_place_int_by_float_error": lambda t: attempt(lambda: _ints(t).mul_(1.5)),
    "in_place_float_by_int": lambda t: t.tensor([1.5, 2.5]).mul_(t.tensor([2, 3])),
}


@pytest.mark.parametrize("name", PROMOTION)
def test_type_promotion(name):
    assert_same(PROMOTION[name], torch)


# ----- math ops: values, gradients, grad_fn graphs -------------------------------------------------------

def _differentiate(build, *inputs, dtype="float32"):
    """A scenario: leaves from `inputs`, `out = build(t, *leaves)`, backward of out's sum; shows out and grads."""

    def scenario(t):
        leaves = [t.tensor(value, requires_grad=True, dtype=getattr(t, dtype)) for value in inputs]
        out = build(t, *leaves)
        out.sum().backward()
        return out, [leaf.grad for leaf in leaves]

    scenario.build, scenario.inputs, scenario.dtype = build, inputs, dtype
    return scenario




def _second_order(name, first_order):
    """The same op, differentiated twice: gradients built with create_graph (their whole graphs of grad_fn names,
    as PyTorch records them), then the gradient of their sum."""
    build, inputs, dtype = first_order.build, first_order.inputs, first_order.dtype

    def scenario(t):
        leaves = [t.tensor(value, requires_grad=True, dtype=getattr(t, dtype)) for value in inputs]
        out = build(t, *leaves)
        grads = t.autograd.grad(out.sum(), leaves, create_graph=True)
        differentiable = [g.sum() for g in grads if g.requires_grad]
        second = t.autograd.grad(sum(differentiable), leaves, allow_unused=True) if differentiable else ()
        top = [graph(g.grad_fn) for g in grads]
        return top, [g.detach().tolist() for g in grads], [None if g is None else (g + 0).tolist() for g in second]

    return scenario


def _select_values(t, x):
    return x.max(1).values


MATH = {
    "add_broadcast": _differentiate(lambda t, a, b: a + b, A23, B3),
    "add_alpha": _differentiate(lambda t, a, b: t.add(a, b, alpha=2), A23, B3),
    "add_scalar": _differentiate(lambda t, a: a + 2, A23),
    "radd_scalar": _differentiate(lambda t, a: 2 + a, A23),
    "sub_broadcast": _differentiate(lambda t, a, b: a - b, A23, [[1.0], [2.0]]),
    "sub_alpha": _differentiate(lambda t, a, b: a.sub(b, alpha=3), A23, B3),
    "rsub_scalar": _differentiate(lambda t, a: 2 - a, A23),
    "mul_broadcast": _differentiate(lambda t, a, b: a * b, A23, B3),
    "mul_scalar_both_sides": _differentiate(lambda t, a: 3 * a * 2, A23),
    "div_broadcast": _differentiate(lambda t, a, b: a / b, A23, POS3),
    "div_scalar": _differentiate(lambda t, a: a / 4, A23),
    "rdiv_scalar": _differentiate(lambda t, a: 2 / a, POS23),
    "pow_scalar": _differentiate(lambda t, a: a ** 2, A23),
    "pow_fractional": _differentiate(lambda t, a: a ** 0.5, POS23),
    "pow_zero": _differentiate(lambda t, a: a ** 0, A23),
    "pow_tensor_exponent": _differentiate(lambda t, a, b: a ** b, POS23, B3),
    "pow_function": _differentiate(lambda t, a: t.pow(a, 3), A23),
    "pow_method": _differentiate(lambda t, a: a.pow(2), A23),
    "rpow_scalar": _differentiate(lambda t, a: 2 ** a, A23),
    "neg": _differentiate(lambda t, a: -a, A23),
    "abs": _differentiate(lambda t, a: a.abs(), A23),
    "abs_function": _differentiate(lambda t, a: t.abs(a), [[-1.0, 0.0, 2.0]]),
    "exp": _differentiate(lambda t, a: a.exp(), A23),
    "log": _differentiate(lambda t, a: t.log(a), POS23),
    "logit": _differentiate(lambda t, a: a.logit(), [[0.2, 0.7, 0.4], [0.9, 0.1, 0.55]]),
    "sqrt": _differentiate(lambda t, a: a.sqrt(), POS23),
    "sin": _differentiate(lambda t, a: t.sin(a), A23),
    "cos": _differentiate(lambda t, a: a.cos(), A23),
    "tanh": _differentiate(lambda t, a: t.tanh(a), A23),
    "sigmoid": _differentiate(lambda t, a: a.sigmoid(), A23),
    "relu": _differentiate(lambda t, a: t.relu(a), [[-1.0, 0.0, 2.0]]),
    "clamp_both": _differentiate(lambda t, a: a.clamp(-0.5, 1.0), A23),
    "clamp_min_only": _differentiate(lambda t, a: t.clamp(a, min=0.6), A23),
    "clamp_max_only": _differentiate(lambda t, a: a.clamp(max=0.6), A23),
    "clamp_tensor_bounds": _differentiate(lambda t, a, lo, hi: t.clamp(a, lo, hi), A23, [0.0, 0.0, 0.0],
                                          [[1.0], [1.0]]),
    "maximum_with_ties": _differentiate(lambda t, a, b: t.maximum(a, b), [1.0, 2.0, 3.0], [3.0, 2.0, 1.0]),
    "minimum_broadcast": _differentiate(lambda t, a, b: a.minimum(b), A23, B3),
    "where": _differentiate(lambda t, a, b: t.where(a > 0.6, a, b), A23, B3),
    "where_scalar_other": _differentiate(lambda t, a: t.where(a > 0, a, 0.0), A23),
    "sum_all": _differentiate(lambda t, a: a.sum(), A23),
    "sum_dim": _differentiate(lambda t, a: a.sum(1), A23),
    "sum_dim_keepdim": _differentiate(lambda t, a: t.sum(a, dim=0, keepdim=True), A23),
    "sum_dims_tuple": _differentiate(lambda t, a: a.sum((0, 1)), A23),
    "sum_negative_dim": _differentiate(lambda t, a: a.sum(-1), A23),
    "mean_all": _differentiate(lambda t, a: a.mean(), A23),
    "mean_dim": _differentiate(lambda t, a: t.mean(a, 0), A23),
    "mean_dim_keepdim": _differentiate(lambda t, a: a.mean(dim=1, keepdim=True), A23),
    "max_all": _differentiate(lambda t, a: a.max(), A23),
    "max_all_ties": _differentiate(lambda t, a: a.max(), [2.0, 1.0, 2.0]),
    "min_all": _differentiate(lambda t, a: t.min(a), A23),
    "max_dim": _differentiate(_select_values, A23),
    "max_dim_result": lambda t: t.tensor(A23, requires_grad=True).max(1),
    "max_dim_keepdim_result": lambda t: t.max(t.tensor(A23, requires_grad=True), dim=0, keepdim=True),
    "min_dim_result": lambda t: t.tensor(A23).min(dim=1),
    "min_dim_indices_grad": _differentiate(lambda t, a: a.min(0)[0], A23),
    "max_binary": _differentiate(lambda t, a, b: t.max(a, b), A23, B3),
    "prod_all": _differentiate(lambda t, a: a.prod(), A23),
    "prod_dim": _differentiate(lambda t, a: t.prod(a, 1), A23),
    "prod_with_zero": _differentiate(lambda t, a: a.prod(), [1.5, 0.0, 2.0]),
    "prod_with_two_zeros": _differentiate(lambda t, a: a.prod(0), [[1.5, 0.0], [0.0, 2.0]]),
    "var_all": _differentiate(lambda t, a: a.var(), A23),
    "var_dim": _differentiate(lambda t, a: t.var(a, 1), A23),
    "var_biased": _differentiate(lambda t, a: a.var(unbiased=False), A23),
    "var_correction_keepdim": _differentiate(lambda t, a: a.var(0, keepdim=True, correction=0), A23),
    "std_all": _differentiate(lambda t, a: a.std(), A23),
    "std_dim_keepdim": _differentiate(lambda t, a: t.std(a, dim=1, keepdim=True), A23),
    "softmax": _differentiate(lambda t, a: a.softmax(1) * t.tensor(B3), A23),
    "softmax_function_dim0": _differentiate(lambda t, a: t.softmax(a, dim=0) * t.tensor([[1.0], [3.0]]), A23),
    "log_softmax": _differentiate(lambda t, a: a.log_softmax(-1) * t.tensor(B3), A23),
    "log_softmax_function": _differentiate(lambda t, a: t.log_softmax(a, 0) ** 2, A23),
    "matmul_dot": _differentiate(lambda t, a, b: a @ b, POS3, B3),
    "matmul_mv": _differentiate(lambda t, a, b: a @ b, A23, B3),
    "matmul_vm": _differentiate(lambda t, a, b: a @ b, [1.0, -2.0], A23),
    "matmul_mm": _differentiate(lambda t, a, b: a @ b, A23, [[1.0, 2.0], [0.5, -1.0], [2.0, 0.0]]),
    "matmul_3d_2d": _differentiate(lambda t, a, b: t.matmul(a, b), [A23, POS23], [[1.0], [0.5], [-1.0]]),
    "matmul_3d_1d": _differentiate(lambda t, a, b: a.matmul(b), [A23, POS23], B3),
    "matmul_3d_3d": _differentiate(lambda t, a, b: a @ b, [A23, POS23], [[[1.0], [0.5], [-1.0]]] * 2),
    "matmul_2d_3d": _differentiate(lambda t, a, b: a @ b, [[1.0, 2.0]], [A23, POS23]),
    "matmul_1d_3d": _differentiate(lambda t, a, b: a @ b, [1.0, 2.0], [A23, POS23]),
    "mm": _differentiate(lambda t, a, b: t.mm(a, b), A23, [[1.0], [0.5], [-1.0]]),
    "mm_method": _differentiate(lambda t, a, b: a.mm(b), [[1.0, 2.0]], A23),
    "reshape": _differentiate(lambda t, a: a.reshape(3, 2) * t.tensor([1.0, 2.0]), A23),
    "reshape_tuple_infer": _differentiate(lambda t, a: t.reshape(a, (-1,)), A23),
    "reshape_same_shape": _differentiate(lambda t, a: a.reshape(2, 3), A23),
    "reshape_of_transpose": _differentiate(lambda t, a: a.t().reshape(6), A23),
    "view": _differentiate(lambda t, a: a.view(3, 2) * t.tensor([1.0, 2.0]), A23),
    "view_infer": _differentiate(lambda t, a: a.view(-1), A23),
    "transpose": _differentiate(lambda t, a: a.transpose(0, 1) * t.tensor([1.0, 2.0]), A23),
    "transpose_function": _differentiate(lambda t, a: t.transpose(a, 1, 0), A23),
    "t_method": _differentiate(lambda t, a: a.t(), A23),
    "T_property": _differentiate(lambda t, a: a.T * t.tensor([1.0, 2.0]), A23),
    "permute": _differentiate(lambda t, a: a.permute(2, 0, 1) * 2, [A23, POS23]),
    "permute_tuple": _differentiate(lambda t, a: t.permute(a, (1, 0)), A23),
    "unsqueeze": _differentiate(lambda t, a: a.unsqueeze(1) * t.tensor([[1.0], [2.0]]), A23),
    "unsqueeze_negative": _differentiate(lambda t, a: t.unsqueeze(a, -1), B3),
    "squeeze_all": _differentiate(lambda t, a: a.squeeze(), [[[1.0], [2.0]]]),
    "squeeze_dim": _differentiate(lambda t, a: t.squeeze(a, 0), [[[1.0], [2.0]]]),
    "squeeze_dim_not_one": _differentiate(lambda t, a: a.squeeze(1), [[[1.0], [2.0]]]),
    "flatten": _differentiate(lambda t, a: a.flatten(), [A23, POS23]),
    "flatten_range": _differentiate(lambda t, a: t.flatten(a, 1), [A23, POS23]),
    "expand": _differentiate(lambda t, a: a.expand(2, 3) * t.tensor(A23), [[1.0], [2.0]]),
    "expand_minus_one": _differentiate(lambda t, a: a.expand(4, -1), B3),
    "cat": _differentiate(lambda t, a, b: t.cat([a, b]) * 2, A23, [B3]),
    "cat_dim1": _differentiate(lambda t, a, b: t.cat((a, b), dim=1), A23, [[1.0], [2.0]]),
    "stack": _differentiate(lambda t, a, b: t.stack([a, b]) * 2, B3, POS3),
    "stack_dim1": _differentiate(lambda t, a, b: t.stack((a, b), dim=1), A23, POS23),
    "index_int": _differentiate(lambda t, a: a[0], A23),
    "index_negative_int": _differentiate(lambda t, a: a[-1], A23),
    "index_two_ints": _differentiate(lambda t, a: a[1, 2], A23),
    "index_column": _differentiate(lambda t, a: a[:, 1], A23),
    "index_slice": _differentiate(lambda t, a: a[1:], A23),
    "index_step_slice": _differentiate(lambda t, a: a[:, ::2], A23),
    "index_none": _differentiate(lambda t, a: a[None], A23),
    "index_none_middle": _differentiate(lambda t, a: a[:, None, 1:], A23),
    "index_ellipsis": _differentiate(lambda t, a: a[..., 0], A23),
    "index_ellipsis_alone": _differentiate(lambda t, a: a[...], A23),
    "index_full_slice": _differentiate(lambda t, a: a[:], A23),
    "clone": _differentiate(lambda t, a: a.clone() * 2, A23),
    "to_float64": _differentiate(lambda t, a: a.to(t.float64) * 2, A23),
    "double_method": _differentiate(lambda t, a: a.double(), A23),
    "float64_chain": _differentiate(lambda t, a, b: (a * b).exp().sum(0), A23, B3, dtype="float64"),
    "composite_chain": _differentiate(lambda t, a, b: ((a * b + 1).tanh() ** 2).mean(0) / b, A23, POS3),
    "shared_input_twice": _differentiate(lambda t, a: a * a + a.exp() * a, A23),
    "scalar_0d_broadcast": _differentiate(lambda t, a, b: a * b + b, A23, 2.0),
}


@pytest.mark.parametrize("name", MATH)
def test_math(name):
    assert_same(MATH[name], torch)


@pytest.mark.parametrize("name", [name for name, scenario in MATH.items() if hasattr(scenario, "build")])
def test_math_second_order(name):
    assert_same(_second_order(name, MATH[name]), torch)


# ----- matmul's dispatch: which kernel PyTorch records depends on ranks, layout and requires_grad ----------

MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)), ((2, 4, 3), (3,)), ((2, 4, 3), (3, 2)),
    ((3,), (2, 3, 4)), ((5, 3), (2, 3, 4)), ((1, 3), (2, 3, 4)), ((2, 4, 3), (2, 3, 5)), ((2, 1, 4, 3), (3, 3, 2)),
    ((1, 4, 3), (3, 3, 2)), ((3, 4, 3), (1, 3, 2)), ((1, 4, 3), (1, 3, 2)), ((1, 1, 4, 3), (3, 3, 2)),
    ((2, 2, 4, 3), (2, 3, 1)), ((4, 3), (2, 2, 3, 2)),
]


def _matmul_scenario(shape_a, shape_b, grad_a, grad_b, transposed_a=False):
    def scenario(t):
        def leaf(shape, offset, grad):
            count = 1
            for extent in shape:
                count *= extent
            values = (t.arange(count, dtype=t.float32) * 0.25 - offset).reshape(shape)
            return values.requires_grad_(grad)

        a, b = leaf(shape_a, 1.0, grad_a), leaf(shape_b, 0.5, grad_b)
        out = (a.transpose(0, 1) if transposed_a else a) @ b
        out.sum().backward()
        return out, a.grad, b.grad

    return scenario


@pytest.mark.parametrize("grads", [(True, True), (True, False), (False, True)], ids=["both", "left", "right"])
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
def test_matmul_dispatch(shapes, grads):
    assert_same(_matmul_scenario(*shapes, *grads), torch)


@pytest.mark.parametrize("grads", [(True, True), (True, False), (False, True)], ids=["both", "left", "right"])
def test_matmul_dispatch_non_contiguous(grads):
    assert_same(_matmul_scenario((4, 2, 3), (3, 2), *grads, transposed_a=True), torch)


# ----- misuse of ops: PyTorch's exception types and messages -----------------------------------------------

ERRORS = {
    "broadcast_mismatch": lambda t: t.ones(2, 3) + t.ones(2),
    "broadcast_mismatch_leading": lambda t: t.ones(4, 2, 3) * t.ones(3, 1, 3),
    "mm_mismatch": lambda t: t.mm(t.ones(2, 3), t.ones(2, 3)),
    "mm_not_matrix": lambda t: t.mm(t.ones(3), t.ones(3, 2)),
    "matmul_mismatch": lambda t: t.ones(2, 3) @ t.ones(2, 3),
    "matmul_vector_mismatch": lambda t: t.ones(2, 3) @ t.ones(2),
    "dot_mismatch": lambda t: t.ones(3) @ t.ones(2),
    "matmul_0d": lambda t: t.tensor(2.0) @ t.ones(2),
    "view_incompatible": lambda t: t.ones(2, 3).t().view(6),
    "reshape_invalid": lambda t: t.ones(2, 3).reshape(4),
    "reshape_two_inferred": lambda t: t.ones(2, 3).reshape(-1, -1),
    "view_invalid": lambda t: t.ones(6).view(4, -1),
    "sum_dim_out_of_range": lambda t: t.ones(2, 3).sum(2),
    "mean_dim_out_of_range": lambda t: t.ones(2, 3).mean(-3),
    "softmax_dim_out_of_range": lambda t: t.ones(3).softmax(1),
    "unsqueeze_out_of_range": lambda t: t.ones(3).unsqueeze(3),
    "transpose_out_of_range": lambda t: t.ones(2, 3).transpose(0, 2),
    "t_of_3d": lambda t: t.ones(2, 2, 2).t(),
    "permute_wrong_length": lambda t: t.ones(2, 3).permute(0),
    "expand_shrink": lambda t: t.ones(2, 3).expand(3, 3),
    "expand_fewer_dims": lambda t: t.ones(2, 3).expand(3),
    "cat_mismatch": lambda t: t.cat([t.ones(2, 3), t.ones(2, 2)]),
    "cat_empty": lambda t: t.cat([]),
    "cat_rank_mismatch": lambda t: t.cat([t.ones(2, 3), t.ones(3)]),
    "cat_dim_out_of_range": lambda t: t.cat([t.ones(2, 3), t.ones(2, 3)], dim=2),
    "stack_mismatch": lambda t: t.stack([t.ones(2), t.ones(3)]),
    "index_out_of_range": lambda t: t.ones(2, 3)[2],
    "index_out_of_range_dim1": lambda t: t.ones(2, 3)[:, -4],
    "too_many_indices": lambda t: t.ones(2, 3)[0, 0, 0],
    "negative_step": lambda t: t.ones(3)[::-1],
    "clamp_without_bounds": lambda t: t.clamp(t.ones(2)),
    "in_place_result_type": lambda t: t.tensor([1, 2]).add_(0.5),
    "max_of_empty": lambda t: t.tensor([]).max(),
    "len_of_0d": lambda t: len(t.tensor(1.0)),
    "item_of_empty": lambda t: t.tensor([]).item(),
    "bool_of_many": lambda t: bool(t.ones(2)),
    "numpy_of_requires_grad": lambda t: t.ones(2, requires_grad=True).numpy(),
    "grad_shape_mismatch": lambda t: setattr(t.ones(2, requires_grad=True), "grad", t.ones(3)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    def scenario(t):
        outcome = attempt(lambda: ERRORS[name](t))
        assert isinstance(outcome, tuple) and outcome[:1] == ("raised",), f"{name} did not raise: {outcome!r}"
        return outcome

    assert_same(scenario, torch)
