"""The second wave of the surface (integer and logical operators, ordering, scans, tiling, products, keyword
aliases, in-place variants) against real PyTorch: values, gradients, grad_fn names and errors."""

import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same, attempt  # noqa: E402

A23 = [[0.5, -1.25, 2.0], [1.5, 0.75, -0.3]]
B3 = [0.2, -0.7, 1.1]
Z23 = [[0.5, 0.0, 2.0], [1.5, 0.75, 0.0]]


def _differentiate(build, *inputs, dtype="float32"):
    """Leaves from `inputs`, `out = build(t, *leaves)`, backward of the sum of out ** 2 (so the gradient
    depends on the values); shows out and the leaves' gradients."""

    def scenario(t):
        leaves = [t.tensor(value, requires_grad=True, dtype=getattr(t, dtype)) for value in inputs]
        out = build(t, *leaves)
        (out * out).sum().backward()
        return out, [leaf.grad for leaf in leaves]

    scenario.build, scenario.inputs = build, inputs
    return scenario


MATH = {
    "remainder_scalar": _differentiate(lambda t, a: a % 0.7, A23),
    "remainder_tensor": _differentiate(lambda t, a, b: a % b, A23, [0.4, 0.9, -0.8]),
    "remainder_function_other": _differentiate(lambda t, a, b: t.remainder(a, other=b), A23, [0.4, 0.9, -0.8]),
    "sort": _differentiate(lambda t, a: a.sort(1).values, A23),
    "sort_descending": _differentiate(lambda t, a: t.sort(a, dim=0, descending=True)[0], A23),
    "topk": _differentiate(lambda t, a: a.topk(2).values, A23),
    "topk_smallest": _differentiate(lambda t, a: t.topk(a, 1, dim=0, largest=False).values, A23),
    "norm": _differentiate(lambda t, a: a.norm(), A23),
    "norm_dim": _differentiate(lambda t, a: a.norm(dim=1), A23),
    "norm_p1": _differentiate(lambda t, a: t.norm(a, p=1), A23),
    "norm_p3_keepdim": _differentiate(lambda t, a: a.norm(p=3, dim=0, keepdim=True), A23),
    "logsumexp": _differentiate(lambda t, a: a.logsumexp(1), A23),
    "logsumexp_keepdim": _differentiate(lambda t, a: t.logsumexp(a, dim=0, keepdim=True), A23),
    "cumsum": _differentiate(lambda t, a: a.cumsum(1), A23),
    "cumsum_dim0": _differentiate(lambda t, a: t.cumsum(a, dim=0), A23),
    "cumprod": _differentiate(lambda t, a: a.cumprod(1), A23),
    "cumprod_zeros": _differentiate(lambda t, a: a.cumprod(1), Z23),
    "flip": _differentiate(lambda t, a: a.flip(0) * a, A23),
    "flip_dims": _differentiate(lambda t, a: t.flip(a, [0, 1]), A23),
    "gather": _differentiate(lambda t, a: a.gather(1, t.tensor([[0, 0], [2, 1]])), A23),
    "gather_dim0": _differentiate(lambda t, a: t.gather(a, 0, t.tensor([[1, 0, 1]])), A23),
    "masked_fill": _differentiate(lambda t, a: a.masked_fill(a > 0.6, 0.5), A23),
    "tril": _differentiate(lambda t, a: a.tril(), A23),
    "triu_offset": _differentiate(lambda t, a: t.triu(a, 1), A23),
    "diag_vector": _differentiate(lambda t, a: t.diag(a), B3),
    "diag_matrix": _differentiate(lambda t, a: t.diag(a), A23),
    "expand_as": _differentiate(lambda t, a, b: b.expand_as(a) * a, A23, B3),
    "repeat": _differentiate(lambda t, a: a.repeat(2, 1, 2), A23),
    "chunk": _differentiate(lambda t, a: a.chunk(3, 1)[1] * 2, A23),
    "split": _differentiate(lambda t, a: a.split(2, 1)[1], A23),
    "split_sizes": _differentiate(lambda t, a: t.split(a, [1, 2], dim=1)[1], A23),
    "unbind": _differentiate(lambda t, a: a.unbind(0)[1] * a.unbind(1)[2].sum(), A23),
    "outer": _differentiate(lambda t, a, b: t.outer(a, b), B3, [1.0, 2.0]),
    "einsum_matmul": _differentiate(lambda t, a, b: t.einsum("ij,j->i", a, b), A23, B3),
    "einsum_gram": _differentiate(lambda t, a: t.einsum("ij,kj->ik", a, a), A23),
    "einsum_trace_free_sum": _differentiate(lambda t, a, b: t.einsum("ij,j", a, b), A23, B3),
    "sum_axis_keepdims": _differentiate(lambda t, a: a.sum(axis=1, keepdims=True), A23),
    "mean_dtype": _differentiate(lambda t, a: t.mean(input=a, dim=0, dtype=t.float64), A23),
    "prod_dtype": _differentiate(lambda t, a: a.prod(1, dtype=t.float64), A23),
    "add_other": _differentiate(lambda t, a, b: t.add(a, other=b), A23, B3),
    "max_axis": _differentiate(lambda t, a: a.max(axis=1).values, A23),
    "exp_inplace": _differentiate(lambda t, a: (a * 1).exp_(), A23),
    "clamp_inplace": _differentiate(lambda t, a: (a * 2).clamp_(-5, 5), A23),
    "relu_inplace": _differentiate(lambda t, a: (a + 0).relu_(), A23),
    "pow_inplace": _differentiate(lambda t, a: (a * 1).pow_(3), A23),
    "ipow": _differentiate(lambda t, a: _ipow(a), A23),
    "masked_fill_inplace": _differentiate(lambda t, a: (a * 1).masked_fill_(a < 0, 0.0), A23),
    "sigmoid_inplace": _differentiate(lambda t, a: (a * 1).sigmoid_(), A23),
}


def _ipow(a):
    b = a * 1
    b **= 2
    return b


@pytest.mark.parametrize("name", MATH)
def test_math(name):
    assert_same(MATH[name], torch)


@pytest.mark.parametrize("name", MATH)
def test_math_second_order(name):
    build, inputs = MATH[name].build, MATH[name].inputs

    def scenario(t):
        leaves = [t.tensor(value, requires_grad=True, dtype=t.float64) for value in inputs]
        out = build(t, *leaves)
        grads = t.autograd.grad((out * out).sum(), leaves, create_graph=True)
        second = t.autograd.grad(sum(g.sum() for g in grads), leaves, allow_unused=True)
        return [g.detach().tolist() for g in grads], [None if g is None else g.tolist() for g in second]

    assert_same(scenario, torch)


VALUES = {
    "floor_divide_ints": lambda t: [t.tensor([7, -7, 5]) // 2, -7 // t.tensor([2, 3]), t.tensor([7.5, -2.5]) // 2],
    "floor_divide_grad": lambda t: t.tensor([1.0, 2.0], requires_grad=True) // 2,
    "floor_divide_backward": lambda t: attempt(lambda: (t.tensor([1.0], requires_grad=True) // 2).sum().backward()),
    "remainder_ints": lambda t: [t.tensor([7, -7, 5]) % 3, t.tensor([5.5, -5.5]) % 2, 7 % t.tensor([3, -3])],
    "remainder_signed_zero": lambda t: [t.tensor([-3.0, 3.0, -4.5, 0.0, -0.0]) % 1.5, t.tensor([-3.0, 1.0]) % -1.5,
                                        7.0 % t.tensor([3.5, -3.5])],
    "rmod_backward": lambda t: attempt(lambda: (3 % t.tensor([2.0], requires_grad=True)).sum().backward()),
    "bitwise_ints": lambda t: [t.tensor([6, 3]) & 5, t.tensor([6, 3]) | t.tensor([1, 4]), t.tensor([6, 3]) ^ 1,
                               ~t.tensor([0, 5]), 3 & t.tensor([1, 2])],
    "bitwise_bools": lambda t: [t.tensor([True, False]) & t.tensor([True, True]), ~t.tensor([True, False]),
                                t.tensor([True, False]) ^ True, t.tensor([True, False]) | False],
    "bitwise_inplace": lambda t: _inplace_bits(t),
    "argmax_argmin": lambda t: [t.tensor(A23).argmax(), t.tensor(A23).argmin(1), t.argmax(t.tensor(A23), dim=0,
                                                                                           keepdim=True),
                                t.tensor(A23).argmax(keepdim=True), t.tensor([1.0, 3.0, 3.0]).argmax()],
    "any_all": lambda t: [t.tensor(A23).gt(0).any(), (t.tensor(A23) > 0).all(1), t.any(t.tensor([0, 2])),
                          t.tensor(A23).all(dim=0, keepdim=True), t.tensor([[True], [False]]).any(axis=0)],
    "isnan_isfinite": lambda t: [t.tensor([1.0, float("nan"), float("inf")]).isnan(),
                                 t.isfinite(t.tensor([1.0, float("nan"), -float("inf")])),
                                 t.isinf(t.tensor([1.0, float("inf")]))],
    "allclose": lambda t: [t.allclose(t.tensor(A23), t.tensor(A23) + 1e-9), t.tensor(B3).allclose(t.tensor(A23[0])),
                           t.isclose(t.tensor(B3), t.tensor([0.2, 0.0, 1.1]))],
    "sort_indices": lambda t: [t.tensor(A23).sort(), t.tensor(A23).sort(descending=True).indices],
    "topk_result": lambda t: t.tensor(A23).topk(2, dim=1),
    "cumsum_int": lambda t: [t.tensor([1, 2, 3]).cumsum(0), t.tensor([True, True]).cumsum(0)],
    "sort_nan": lambda t: [t.tensor([1.0, float("nan"), -1.0]).sort(descending=True).indices,
                           t.tensor([1.0, float("nan"), -1.0]).sort().indices,
                           t.tensor([float("nan"), 2.0, 3.0]).topk(2).indices],
    "einsum_permute_only": lambda t: t.einsum("ij->ji", t.ones(2, 3, requires_grad=True)),
    "zero_d_gradients": lambda t: _zero_d_gradients(t),
}


def _zero_d_gradients(t):
    x = t.tensor(1.5, requires_grad=True)
    (x.sort().values * x.gather(0, t.tensor(0)) * x.cumprod(0) * x.topk(1).values).backward()
    return x.grad


def _inplace_bits(t):
    a = t.tensor([6, 3])
    a &= 5
    a |= t.tensor([8, 8])
    a ^= 1
    return a


@pytest.mark.parametrize("name", VALUES)
def test_values(name):
    assert_same(VALUES[name], torch)


ERRORS = {
    "bitwise_float": lambda t: t.tensor([1.0, 2.0]) & 1,
    "bitwise_double": lambda t: t.tensor([1.0], dtype=t.float64) | t.tensor([1]),
    "bitwise_int_float_scalar": lambda t: t.tensor([1, 2]) & 1.5,
    "invert_float": lambda t: ~t.tensor([1.0]),
    "gather_wrong_dims": lambda t: t.tensor(A23).gather(1, t.tensor([0, 1])),
    "topk_too_many": lambda t: t.tensor(B3).topk(4),
    "tril_vector": lambda t: t.tensor(B3).tril(),
    "norm_of_ints": lambda t: t.tensor([1, 2]).norm(),
    "repeat_too_few": lambda t: t.tensor(A23).repeat(2),
    "split_sizes_wrong": lambda t: t.tensor(A23).split([1, 1], 1),
    "masked_fill_float_mask": lambda t: t.tensor(B3).masked_fill(t.tensor([1.0, 0.0, 1.0]), 0.0),
    "chunk_zero": lambda t: t.tensor(B3).chunk(0),
    "chunk_0d": lambda t: t.tensor(1.0).chunk(2),
    "split_0d": lambda t: t.tensor(1.0).split(1),
    "unbind_0d": lambda t: t.tensor(1.0).unbind(),
    "argmax_bool": lambda t: t.tensor([True, False]).argmax(),
    "argmin_empty": lambda t: t.tensor([]).argmin(),
    "argmax_empty_dim": lambda t: t.ones(2, 0).argmax(1),
    "topk_bool": lambda t: t.tensor([True, False]).topk(1),
    "floor_divide_int_by_zero": lambda t: t.tensor([1, 2]) // t.tensor([1, 0]),
    "remainder_int_by_zero": lambda t: t.tensor([1, 2]) % 0,
    "bitwise_shapes_first": lambda t: t.ones(2) & t.ones(3),
    "allclose_dtypes": lambda t: t.allclose(t.ones(2), t.ones(2, dtype=t.int64)),
    "allclose_shapes": lambda t: t.allclose(t.ones(2), t.ones(3)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name):
    def scenario(t):
        outcome = attempt(lambda: ERRORS[name](t))
        assert isinstance(outcome, tuple) and outcome[:1] == ("raised",), f"{name} did not raise: {outcome!r}"
        return outcome

    assert_same(scenario, torch)
