"""`nn.functional` against real PyTorch: the same scenario run in both must print, record and differentiate alike.

Each scenario is written once against the torch API. Both runs get the same
input values; they must agree on the output's repr, dtype and shape, its grad_fn
graph (names, edge by edge), the warnings raised, the gradients of every leaf,
and, for misuse, the exception type and message.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gradstudio.engine as engine


@pytest.fixture(scope="module")
def real_torch() -> Any:
    """Real PyTorch, or a skip when it is not installed."""
    return pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")


class Maker:
    """Builds the scenario's inputs in one module, from values drawn the same way in every run."""

    def __init__(self, module: Any, seed: int) -> None:
        self.t, self.rng, self.leaves = module, np.random.default_rng(seed), []

    def x(self, *shape: int, low: float = -2.0, high: float = 2.0, grad: bool = True, double: bool = False) -> Any:
        """A float tensor of uniform values (a leaf that requires grad unless `grad=False`)."""
        values = self.rng.uniform(low, high, shape).astype(np.float64 if double else np.float32)
        tensor = self.t.tensor(values, requires_grad=grad)
        if grad:
            self.leaves.append(tensor)
        return tensor

    def p(self, *shape: int, grad: bool = True) -> Any:
        """Probabilities in (0.05, 0.95)."""
        return self.x(*shape, low=0.05, high=0.95, grad=grad)

    def labels(self, values: Any) -> Any:
        """An int64 tensor of class indices."""
        return self.t.tensor(values)

    def const(self, values: Any) -> Any:
        """A float32 tensor that does not require grad."""
        return self.t.tensor(np.asarray(values, dtype=np.float32))


def _graph(node: Any) -> Any:
    if node is None:
        return None
    return node.name().rsplit("::", 1)[-1], tuple(_graph(child) for child, _ in node.next_functions)


def _run(module: Any, name: str, scenario: Callable) -> dict[str, Any]:
    """Forward, then backward with fixed weights on the output; everything both modules should agree on."""
    maker = Maker(module, zlib.crc32(name.encode()))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = scenario(module, module.nn.functional, maker)
        except Exception as error:  # noqa: BLE001 - the error itself is what is compared
            return {"error": (type(error).__name__, str(error)), "warnings": [str(w.message) for w in caught]}
    seen = {"repr": repr(out), "dtype": repr(out.dtype), "shape": repr(out.shape), "graph": _graph(out.grad_fn),
            "values": out.detach().numpy().copy(), "warnings": [str(w.message) for w in caught]}
    if out.requires_grad:
        weights = np.random.default_rng(1).uniform(0.5, 1.5, tuple(out.shape)).astype(out.detach().numpy().dtype)
        (out * module.tensor(weights)).sum().backward()
        seen["grads"] = [leaf.grad.numpy().copy() for leaf in maker.leaves]
    return seen


def _same(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert ours.keys() == theirs.keys()
    for key in ours:
        if key == "values":
            np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6)
        elif key == "grads":
            assert len(ours[key]) == len(theirs[key])
            for mine, reference in zip(ours[key], theirs[key]):
                np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-5)
        else:
            assert ours[key] == theirs[key], key


def _transposed(m: Maker) -> Any:
    return m.x(3, 2, 4).transpose(0, 1)


SCENARIOS: dict[str, Callable] = {
    # activations
    "relu": lambda t, F, m: F.relu(m.x(2, 3)),
    "relu_inplace": lambda t, F, m: F.relu(m.x(2, 3) * 1, inplace=True),
    "sigmoid": lambda t, F, m: F.sigmoid(m.x(4)),
    "tanh": lambda t, F, m: F.tanh(m.x(4)),
    "softmax": lambda t, F, m: F.softmax(m.x(2, 3), dim=1),
    "softmax_positional": lambda t, F, m: F.softmax(m.x(2, 3), 0),
    "softmax_implicit_dim": lambda t, F, m: F.softmax(m.x(2, 3)),
    "softmax_dtype": lambda t, F, m: F.softmax(m.x(3), 0, dtype=t.float64),
    "log_softmax": lambda t, F, m: F.log_softmax(m.x(2, 3), dim=-1),
    "log_softmax_implicit_dim_3d": lambda t, F, m: F.log_softmax(m.x(2, 2, 3)),
    # linear
    "linear_2d": lambda t, F, m: F.linear(m.x(3, 4), m.x(2, 4), m.x(2)),
    "linear_2d_no_bias": lambda t, F, m: F.linear(m.x(3, 4), m.x(2, 4)),
    "linear_1d": lambda t, F, m: F.linear(m.x(4), m.x(2, 4), m.x(2)),
    "linear_1d_no_bias": lambda t, F, m: F.linear(m.x(4), m.x(2, 4)),
    "linear_3d": lambda t, F, m: F.linear(m.x(3, 2, 4), m.x(5, 4), m.x(5)),
    "linear_4d_no_bias": lambda t, F, m: F.linear(m.x(2, 3, 2, 4), m.x(5, 4)),
    "linear_noncontiguous": lambda t, F, m: F.linear(_transposed(m), m.x(5, 4), m.x(5)),
    "linear_bias_broadcast": lambda t, F, m: F.linear(m.x(3, 4), m.x(2, 4), m.x(1, 2)),
    "linear_vector_weight": lambda t, F, m: F.linear(m.x(3, 4), m.x(4)),
    "linear_input_only": lambda t, F, m: F.linear(m.x(3, 4), m.x(2, 4, grad=False), m.x(2, grad=False)),
    "linear_weight_only": lambda t, F, m: F.linear(m.x(3, 4, grad=False), m.x(2, 4), None),
    # mse_loss
    "mse_mean": lambda t, F, m: F.mse_loss(m.x(2, 3), m.x(2, 3)),
    "mse_sum": lambda t, F, m: F.mse_loss(m.x(2, 3), m.x(2, 3, grad=False), reduction="sum"),
    "mse_none": lambda t, F, m: F.mse_loss(m.x(2, 3), m.x(2, 3), reduction="none"),
    "mse_broadcast_target": lambda t, F, m: F.mse_loss(m.x(2, 3), m.x(3)),
    "mse_mixed_dtypes": lambda t, F, m: F.mse_loss(m.x(3, double=True), m.x(3)),
    "mse_legacy_arguments": lambda t, F, m: F.mse_loss(m.x(3), m.x(3), reduce=False),
    "mse_weighted_mean": lambda t, F, m: F.mse_loss(m.x(2, 2), m.x(2, 2), weight=m.p(2, 2, grad=False)),
    "mse_empty": lambda t, F, m: F.mse_loss(m.x(0), m.x(0)),
    # nll_loss
    "nll": lambda t, F, m: F.nll_loss(m.x(3, 4), m.labels([3, 0, 1])),
    "nll_1d_input": lambda t, F, m: F.nll_loss(m.x(4), m.labels(2)),
    # PyTorch's own backward fails for this one, so only the forward is compared.
    "nll_1d_input_1d_target": lambda t, F, m: F.nll_loss(m.x(4, grad=False), m.labels([2]), reduction="none"),
    "nll_weight_ignore": lambda t, F, m: F.nll_loss(m.x(4, 3), m.labels([2, -100, 0, 2]), weight=m.p(3, grad=False)),
    "nll_ignore_index_none": lambda t, F, m: F.nll_loss(m.x(3, 3), m.labels([1, 7, 2]), ignore_index=7,
                                                        reduction="none"),
    "nll_3d_none": lambda t, F, m: F.nll_loss(m.x(2, 3, 4), m.labels([[0, 1, 2, 0], [2, 2, 1, 0]]), reduction="none"),
    "nll_4d": lambda t, F, m: F.nll_loss(m.x(2, 3, 2, 2), m.labels([[[0, 1], [2, 0]], [[2, 2], [1, 0]]])),
    "nll_5d_none": lambda t, F, m: F.nll_loss(m.x(1, 3, 2, 1, 2), m.labels([[[[0, 1]], [[2, 0]]]]),
                                              reduction="none"),
    "nll_all_ignored": lambda t, F, m: F.nll_loss(m.x(2, 3), m.labels([-100, -100])),
    # cross_entropy
    "ce_mean": lambda t, F, m: F.cross_entropy(m.x(4, 3), m.labels([0, 2, 1, 2])),
    "ce_sum": lambda t, F, m: F.cross_entropy(m.x(4, 3), m.labels([0, 2, 1, 2]), reduction="sum"),
    "ce_none": lambda t, F, m: F.cross_entropy(m.x(4, 3), m.labels([0, 2, 1, 2]), reduction="none"),
    "ce_scalar_target": lambda t, F, m: F.cross_entropy(m.x(3), m.labels(1)),
    "ce_weight_ignore": lambda t, F, m: F.cross_entropy(m.x(4, 3), m.labels([0, 2, -100, 2]),
                                                        weight=m.p(3, grad=False)),
    "ce_3d": lambda t, F, m: F.cross_entropy(m.x(2, 3, 4), m.labels([[0, 1, 2, 0], [2, 2, 1, 0]])),
    "ce_probabilities_mean": lambda t, F, m: F.cross_entropy(m.x(4, 3), F.softmax(m.x(4, 3), 1)),
    "ce_probabilities_sum": lambda t, F, m: F.cross_entropy(m.x(4, 3), m.p(4, 3), reduction="sum"),
    "ce_probabilities_none": lambda t, F, m: F.cross_entropy(m.x(4, 3), m.p(4, 3, grad=False), reduction="none"),
    "ce_probabilities_1d": lambda t, F, m: F.cross_entropy(m.x(3), m.p(3, grad=False)),
    "ce_probabilities_3d": lambda t, F, m: F.cross_entropy(m.x(2, 3, 2), m.p(2, 3, 2, grad=False)),
    "ce_probabilities_weight": lambda t, F, m: F.cross_entropy(m.x(2, 3), m.p(2, 3, grad=False),
                                                               weight=m.p(3, grad=False)),
    "ce_probabilities_smoothing": lambda t, F, m: F.cross_entropy(m.x(2, 3), m.p(2, 3), label_smoothing=0.2),
    "ce_negative_smoothing": lambda t, F, m: F.cross_entropy(m.x(2, 3), m.labels([0, 1]), label_smoothing=-0.2),
    "ce_smoothing_mean": lambda t, F, m: F.cross_entropy(m.x(4, 3), m.labels([0, 2, -100, 2]), label_smoothing=0.1),
    "ce_smoothing_sum": lambda t, F, m: F.cross_entropy(m.x(4, 3), m.labels([0, 2, 1, 2]), label_smoothing=0.1,
                                                        reduction="sum"),
    "ce_smoothing_weight_none": lambda t, F, m: F.cross_entropy(m.x(4, 3), m.labels([0, 2, -100, 2]),
                                                                weight=m.p(3, grad=False), label_smoothing=0.3,
                                                                reduction="none"),
    "ce_smoothing_weight_mean": lambda t, F, m: F.cross_entropy(m.x(4, 3), m.labels([0, 2, 1, 2]),
                                                                weight=m.p(3, grad=False), label_smoothing=0.3),
    # binary cross entropy
    "bce_mean": lambda t, F, m: F.binary_cross_entropy(m.p(2, 3), m.p(2, 3)),
    "bce_sum": lambda t, F, m: F.binary_cross_entropy(m.p(4), m.p(4, grad=False), reduction="sum"),
    "bce_none_weight": lambda t, F, m: F.binary_cross_entropy(m.p(2, 3), m.p(2, 3), weight=m.p(3, grad=False),
                                                              reduction="none"),
    "bce_extremes": lambda t, F, m: F.binary_cross_entropy(F.sigmoid(m.x(4) * 0 + m.const([-200, 0, 200, 20])),
                                                           m.const([1.0, 0.5, 0.0, 0.0]), reduction="none"),
    "bce_after_sigmoid": lambda t, F, m: F.binary_cross_entropy(t.sigmoid(m.x(3)), m.const([1.0, 0.0, 1.0])),
    "bce_logits_mean": lambda t, F, m: F.binary_cross_entropy_with_logits(m.x(2, 3, low=-5, high=5), m.p(2, 3)),
    "bce_logits_pos_weight": lambda t, F, m: F.binary_cross_entropy_with_logits(
        m.x(2, 3, low=-5, high=5), m.p(2, 3), weight=m.p(3, grad=False), pos_weight=m.const([3.0, 0.5, 1.0]),
        reduction="none"),
    "bce_logits_large": lambda t, F, m: F.binary_cross_entropy_with_logits(
        m.x(4) * 0 + m.const([-200.0, -30.0, 30.0, 200.0]), m.const([0.2, 1.0, 0.0, 0.9]), reduction="sum"),
    "bce_logits_double_target": lambda t, F, m: F.binary_cross_entropy_with_logits(m.x(3), m.p(3).double()),
}

ERRORS: dict[str, Callable] = {
    "mse_shapes": lambda t, F, m: F.mse_loss(m.x(2, 3), m.x(4)),
    "mse_reduction": lambda t, F, m: F.mse_loss(m.x(2), m.x(2), reduction="bad"),
    "mse_weight_shape": lambda t, F, m: F.mse_loss(m.x(2), m.x(2), weight=m.x(3)),
    "nll_0d": lambda t, F, m: F.nll_loss(t.tensor(1.0), m.labels(0)),
    "nll_float_target": lambda t, F, m: F.nll_loss(m.x(2, 3), t.tensor([1.0, 0.0])),
    "nll_float_target_3d": lambda t, F, m: F.nll_loss(m.x(2, 3, 2), t.zeros(2, 2)),
    "nll_bool_target_4d": lambda t, F, m: F.nll_loss(m.x(2, 3, 2, 2), t.zeros(2, 2, 2, dtype=t.bool)),
    "nll_weight_grad": lambda t, F, m: F.nll_loss(m.x(2, 3), m.labels([0, 1]), weight=m.x(3)),
    "nll_weight_dtype": lambda t, F, m: F.nll_loss(m.x(2, 3), m.labels([0, 1]), weight=m.x(3, grad=False,
                                                                                            double=True)),
    "nll_weight_shape": lambda t, F, m: F.nll_loss(m.x(2, 3), m.labels([0, 1]), weight=m.x(3, 1, grad=False)),
    "nll_4d_target_rank": lambda t, F, m: F.nll_loss(m.x(2, 3, 2, 2), m.labels([[0, 1], [1, 0]])),
    "nll_4d_target_shape": lambda t, F, m: F.nll_loss(m.x(2, 3, 2, 2), m.labels([[[0, 1, 1]] * 2] * 2)),
    "nll_4d_out_of_bounds": lambda t, F, m: F.nll_loss(m.x(1, 3, 1, 2), m.labels([[[0, 5]]])),
    "nll_integer_input": lambda t, F, m: F.nll_loss(t.tensor([[1, 2]]), m.labels([0])),
    "ce_out_of_bounds": lambda t, F, m: F.cross_entropy(m.x(2, 3), m.labels([0, 3])),
    "ce_negative": lambda t, F, m: F.cross_entropy(m.x(2, 3), m.labels([0, -1])),
    "ce_batch": lambda t, F, m: F.cross_entropy(m.x(2, 3), m.labels([0, 1, 2])),
    "ce_scalar_target_batch": lambda t, F, m: F.cross_entropy(m.x(2, 3), m.labels(1)),
    "ce_multi_target": lambda t, F, m: F.cross_entropy(m.x(2, 3), m.x(2, 2, grad=False)),
    "ce_int_target": lambda t, F, m: F.cross_entropy(m.x(2, 3), t.tensor([0, 1], dtype=t.int32)),
    "ce_long_probabilities": lambda t, F, m: F.cross_entropy(m.x(2, 3), t.zeros(2, 3, dtype=t.int64)),
    "ce_probabilities_ignore": lambda t, F, m: F.cross_entropy(m.x(2, 3), m.p(2, 3), ignore_index=0),
    "ce_smoothing": lambda t, F, m: F.cross_entropy(m.x(2, 3), m.labels([0, 1]), label_smoothing=1.1),
    "ce_1d_target_size": lambda t, F, m: F.cross_entropy(m.x(3), m.labels([1, 1])),
    "ce_3d_target": lambda t, F, m: F.cross_entropy(m.x(2, 3, 4), m.labels([[0, 1], [1, 0]])),
    "ce_integer_input": lambda t, F, m: F.cross_entropy(t.tensor([[1, 2]]), m.labels([0])),
    "bce_shapes": lambda t, F, m: F.binary_cross_entropy(m.p(2, 3), m.p(3)),
    "bce_input_range": lambda t, F, m: F.binary_cross_entropy(m.x(3) * 0 + 1.5, m.p(3)),
    "bce_input_nan": lambda t, F, m: F.binary_cross_entropy(t.tensor([float("nan")]), m.p(1)),
    "bce_target_range": lambda t, F, m: F.binary_cross_entropy(m.p(3), m.p(3) + 1),
    "bce_target_dtype": lambda t, F, m: F.binary_cross_entropy(m.p(3), t.tensor([1, 0, 1])),
    "bce_input_dtype": lambda t, F, m: F.binary_cross_entropy(m.p(3).double(), m.p(3)),
    "bce_weight_shape": lambda t, F, m: F.binary_cross_entropy(m.p(2, 3), m.p(2, 3), weight=m.p(2, grad=False)),
    "bce_weight_grad": lambda t, F, m: F.binary_cross_entropy(m.p(3), m.p(3), weight=m.p(3)),
    "bce_reduction": lambda t, F, m: F.binary_cross_entropy(m.p(3), m.p(3), reduction="avg"),
    "bce_logits_shapes": lambda t, F, m: F.binary_cross_entropy_with_logits(m.x(2, 3), m.p(3)),
    "bce_logits_weight": lambda t, F, m: F.binary_cross_entropy_with_logits(m.x(2, 3), m.p(2, 3),
                                                                            weight=m.p(2, grad=False)),
    "bce_logits_pos_weight_shape": lambda t, F, m: F.binary_cross_entropy_with_logits(
        m.x(2, 3), m.p(2, 3), pos_weight=m.p(2, grad=False)),
    "bce_logits_pos_weight_grad": lambda t, F, m: F.binary_cross_entropy_with_logits(m.x(3), m.p(3),
                                                                                     pos_weight=m.p(3)),
    "bce_logits_long_target": lambda t, F, m: F.binary_cross_entropy_with_logits(m.x(3), t.tensor([1, 0, 1])),
    "linear_inner": lambda t, F, m: F.linear(m.x(2, 5), m.x(3, 4), m.x(3)),
    "linear_inner_3d": lambda t, F, m: F.linear(m.x(5, 2, 5), m.x(3, 4), m.x(3)),
    "linear_inner_1d_no_bias": lambda t, F, m: F.linear(m.x(5), m.x(3, 4)),
    "linear_bias": lambda t, F, m: F.linear(m.x(2, 4), m.x(3, 4), m.x(2)),
    "linear_bias_1d_input": lambda t, F, m: F.linear(m.x(4), m.x(3, 4), m.x(2)),
    "linear_0d": lambda t, F, m: F.linear(t.tensor(1.0), m.x(3, 4)),
    "linear_3d_weight": lambda t, F, m: F.linear(m.x(2, 4), m.x(2, 3, 4)),
    "linear_vector_weight_bias": lambda t, F, m: F.linear(m.x(2, 4), m.x(4), m.x(1)),
    "linear_dtypes": lambda t, F, m: F.linear(m.x(2, 4, double=True), m.x(3, 4), m.x(3)),
    "linear_bias_dtype": lambda t, F, m: F.linear(m.x(2, 4), m.x(3, 4), m.x(3, double=True)),
    "linear_no_bias_dtypes": lambda t, F, m: F.linear(m.x(3, 2, 4, double=True), m.x(3, 4)),
    "relu_inplace_leaf": lambda t, F, m: F.relu(m.x(3), inplace=True),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_matches_pytorch(real_torch: Any, name: str) -> None:
    theirs = _run(real_torch, name, SCENARIOS[name])
    assert "error" not in theirs, theirs
    _same(_run(engine, name, SCENARIOS[name]), theirs)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_misuse_raises_what_pytorch_raises(real_torch: Any, name: str) -> None:
    theirs = _run(real_torch, name, ERRORS[name])
    assert "error" in theirs, theirs
    assert _run(engine, name, ERRORS[name]) == theirs


def _second_derivatives(module: Any, loss: str) -> list[np.ndarray]:
    """d/d(input, target) of the sum of the first gradients, through create_graph=True."""
    F = module.nn.functional
    x = module.tensor([0.2, 0.7, 0.4], dtype=module.float64, requires_grad=True)
    target = module.tensor([0.9, 0.1, 0.4], dtype=module.float64, requires_grad=True)
    first = module.autograd.grad(getattr(F, loss)(x, target), [x, target], create_graph=True)
    second = module.autograd.grad(first[0].sum() + first[1].sum() * 0.5, [x, target])
    return [g.numpy() for g in second]


@pytest.mark.parametrize("loss", ["mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_double_backward_matches_pytorch(real_torch: Any, loss: str) -> None:
    for mine, reference in zip(_second_derivatives(engine, loss), _second_derivatives(real_torch, loss)):
        np.testing.assert_allclose(mine, reference, rtol=1e-6, atol=1e-9)
