"""Shapes and losses at their edges, as PyTorch has them: `cat` with a legacy empty tensor (shape (0,), skipped
when others have data), `permute()` with no, too few, too many or repeated dims, `expand` with -1 in a new
leading dimension or a float size, and losses PyTorch refuses to compute in an integer dtype. Each case runs
under both engines; results (values, dtypes, grad_fn) or errors (type and message) must agree.
"""

import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same, attempt, warned  # noqa: E402


def F(t):
    return t.nn.functional


CASES = {
    "cat_empty_first": lambda t: t.cat([t.tensor([]), t.ones(2, 3)]),
    "cat_empty_last": lambda t: t.cat([t.ones(2, 3), t.tensor([])], dim=1),
    "cat_empty_dim0": lambda t: t.cat([t.ones(2, 3), t.tensor([])], 0),
    "cat_only_empty": lambda t: t.cat([t.tensor([]), t.tensor([])]),
    "cat_empty_float64": lambda t: t.cat([t.tensor([], dtype=t.float64), t.ones(2)]),
    "cat_empty_int": lambda t: t.cat([t.tensor([], dtype=t.long), t.ones(2)]),
    "cat_empty_grad": lambda t: t.cat([t.zeros(0, requires_grad=True), t.ones(2, 3, requires_grad=True)]),
    "cat_empty_dim_oob": lambda t: t.cat([t.tensor([]), t.ones(2, 3)], dim=2),
    "cat_empty_2d": lambda t: t.cat([t.zeros(0, 3), t.ones(2, 3)]),
    "cat_empty_2d_wrong": lambda t: t.cat([t.zeros(0, 2), t.ones(2, 3)]),
    "cat_empty_negdim": lambda t: t.cat([t.tensor([]), t.ones(2, 3)], dim=-1),
    "cat_nothing": lambda t: t.cat([]),
    "stack_empty": lambda t: t.stack([t.tensor([]), t.ones(2)]),
    "permute_none": lambda t: t.ones(2, 3).permute(),
    "permute_short": lambda t: t.ones(2, 3).permute(0),
    "permute_long": lambda t: t.ones(2, 3).permute(0, 1, 2),
    "permute_dup": lambda t: t.ones(2, 3).permute(0, 0),
    "permute_oob": lambda t: t.ones(2, 3).permute(0, 2),
    "permute_scalar_none": lambda t: t.tensor(1.).permute(),
    "permute_fn_none": lambda t: t.permute(t.ones(2, 3)),
    "permute_list": lambda t: t.ones(2, 3).permute([1, 0]),
    "permute_float": lambda t: t.ones(2, 3).permute(1.0, 0),
    "permute_tuple_dims": lambda t: t.permute(t.ones(2, 3), (1, 0)),
    "expand_neg_new": lambda t: t.ones(3).expand(-1, 3),
    "expand_neg_ok": lambda t: t.ones(1, 3).expand(2, -1),
    "expand_neg2": lambda t: t.ones(3).expand(-2),
    "expand_fewer": lambda t: t.ones(2, 3).expand(3),
    "expand_wrong": lambda t: t.ones(2, 3).expand(3, 3),
    "expand_neg_leading": lambda t: t.ones(3).expand(2, -1),
    "expand_none": lambda t: t.ones(3).expand(),
    "expand_float": lambda t: t.ones(3).expand(3.0),
    "mse_int": lambda t: F(t).mse_loss(t.tensor([1, 2]), t.tensor([1, 3])),
    "mse_int_float": lambda t: F(t).mse_loss(t.tensor([1, 2]), t.tensor([1., 3.])),
    "mse_float_int": lambda t: F(t).mse_loss(t.tensor([1., 2.]), t.tensor([1, 3])),
    "mse_bool": lambda t: F(t).mse_loss(t.tensor([True]), t.tensor([False])),
    "l1_int": lambda t: F(t).l1_loss(t.tensor([1, 2]), t.tensor([1, 3])),
    "smooth_l1_int": lambda t: F(t).smooth_l1_loss(t.tensor([1, 2]), t.tensor([1, 3])),
    "huber_int": lambda t: F(t).huber_loss(t.tensor([1, 2]), t.tensor([1, 3])),
    "bce_int": lambda t: F(t).binary_cross_entropy(t.tensor([0, 1]), t.tensor([0, 1])),
    "bce_float_int": lambda t: F(t).binary_cross_entropy(t.tensor([0.5, 1.]), t.tensor([0, 1])),
    "bcel_int": lambda t: F(t).binary_cross_entropy_with_logits(t.tensor([0, 1]), t.tensor([0, 1])),
    "bcel_int_float": lambda t: F(t).binary_cross_entropy_with_logits(t.tensor([0, 1]), t.tensor([0., 1.])),
    "ce_int": lambda t: F(t).cross_entropy(t.tensor([[1, 2]]), t.tensor([0])),
    "ce_empty": lambda t: F(t).cross_entropy(t.zeros(0, 3), t.tensor([], dtype=t.long)),
    "ce_empty_sum": lambda t: F(t).cross_entropy(t.zeros(0, 3), t.tensor([], dtype=t.long), reduction="sum"),
    "ce_empty_none": lambda t: F(t).cross_entropy(t.zeros(0, 3), t.tensor([], dtype=t.long), reduction="none"),
    "ce_long_probs": lambda t: F(t).cross_entropy(t.tensor([[1, 2]]), t.tensor([[0., 1.]])),
    "ce_float_target": lambda t: F(t).cross_entropy(t.tensor([[1., 2.]]), t.tensor([[0, 1]])),
    "ce_int_1d": lambda t: F(t).cross_entropy(t.tensor([1, 2]), t.tensor(0)),
    "nll_int": lambda t: F(t).nll_loss(t.tensor([[1, 2]]), t.tensor([0])),
    "kl_int": lambda t: F(t).kl_div(t.tensor([1, 2]), t.tensor([1, 2])),
    "softmax_int": lambda t: t.softmax(t.tensor([1, 2]), 0),
    "log_softmax_int": lambda t: t.log_softmax(t.tensor([1, 2]), 0),
    "ce_0d_long": lambda t: F(t).cross_entropy(t.tensor(2), t.tensor([0])),
    "ce_long_3d": lambda t: F(t).cross_entropy(t.ones(1, 2, 2, dtype=t.long), t.zeros(1, 2, dtype=t.long)),
    "ce_empty_long": lambda t: F(t).cross_entropy(t.zeros(0, 3, dtype=t.long), t.zeros(0, dtype=t.long)),
    "ce_empty_classes": lambda t: F(t).cross_entropy(t.zeros(2, 0), t.tensor([0, 0])),
    "ce_empty_probabilities": lambda t: F(t).cross_entropy(t.zeros(0, 3), t.zeros(0, 3)),
    "log_softmax_empty_long": lambda t: t.log_softmax(t.zeros(0, 3, dtype=t.long), 1),
    "max_over_empty_dim": lambda t: t.zeros(0, 3).max(dim=0),
    "max_over_empty_last_dim": lambda t: t.zeros(2, 0).max(dim=1),
    "max_over_full_dim_of_empty": lambda t: t.zeros(0, 3).max(dim=1),
    "min_over_empty_dim": lambda t: t.zeros(0, 3).min(0),
    "max_of_empty": lambda t: t.zeros(0, 3).max(),
    "argmax_over_empty_dim": lambda t: t.zeros(0, 3).argmax(0),
    "pow_bool_bool": lambda t: t.tensor([True]) ** t.tensor([False]),
    "pow_python_bool_base": lambda t: True ** t.tensor([True]),
    "pow_bool_python_bool": lambda t: t.tensor([True, False]) ** True,
    "pow_bool_int": lambda t: t.tensor([True]) ** t.tensor([2]),
    "add_alpha_bools": lambda t: t.add(t.tensor([True, False]), t.tensor([True, True]), alpha=2),
    "add_alpha_zero_bools": lambda t: t.add(t.tensor([True, False]), t.tensor([True, True]), alpha=0),
    "add_float_alpha_ints": lambda t: t.add(t.tensor([1]), t.tensor([2]), alpha=2.5),
    "add_float_alpha_int_and_float": lambda t: t.add(t.tensor([1]), t.tensor([2.0]), alpha=2.5),
    "clamp_bounds_not_broadcasting": lambda t: t.clamp(t.ones(2, 3), t.ones(3, 2)),
    "clamp_upper_bound_not_broadcasting": lambda t: t.clamp(t.ones(2, 3), t.ones(3), t.ones(2)),
    "relu_bool": lambda t: t.relu(t.tensor([True])),
    "abs_bool": lambda t: t.tensor([True]).abs(),
    "ce_float_int_target_empty": lambda t: F(t).cross_entropy(t.zeros(0), t.tensor([], dtype=t.long)),
}


def not_implemented_raises_before_a_sibling_leaf_is_filled(t):
    """PyTorch's NotImplemented placeholder runs as soon as it is ready, like AccumulateGrad: ready together,
    the first readied runs first, so `z * c` raises before c.grad is filled and `c * z` after."""
    grads = []
    for swapped in (False, True):
        x, c = t.tensor([1.5, 2.5], requires_grad=True), t.tensor([1.0], requires_grad=True)
        z = x.floor_divide(2)
        out = (c * z if swapped else z * c).sum()
        grads.append((attempt(out.backward), x.grad, c.grad))
    x, y = t.tensor([1.5, 2.5], requires_grad=True), t.tensor([0.5, 3.0], requires_grad=True)
    grads.append((attempt((y.floor_divide(2).sum() + (x * 2).sum()).backward), x.grad, y.grad))
    return grads


def cat_with_legacy_empty_backward(t):
    empty = t.zeros(0, requires_grad=True)
    x = t.ones(2, 3, requires_grad=True)
    out = t.cat([empty, x * 2, empty], dim=1)
    (out * out).sum().backward()
    return out, empty.grad, x.grad


@pytest.mark.parametrize("name", sorted(CASES))
def test_edge_matches_pytorch(name):
    assert_same(lambda t: warned(lambda: CASES[name](t)), torch)


def test_mT_of_a_0d_tensor_is_the_tensor_itself():
    """PyTorch returns the tensor (its deprecation warning fires once per process, so it is not compared here)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(lambda t: (lambda x: [x.mT is x, x.mT])(t.tensor(1.5, requires_grad=True)), torch)


def test_not_implemented_backward_raises_in_pytorchs_order():
    assert_same(not_implemented_raises_before_a_sibling_leaf_is_filled, torch)


def test_cat_with_legacy_empty_tensor_backward_matches_pytorch():
    assert_same(cat_with_legacy_empty_backward, torch)
