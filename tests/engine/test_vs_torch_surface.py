"""Behaviour beyond values, run on our engine and on real PyTorch: formatting, saved operands of matmul and
linear, and the misuse PyTorch refuses."""

import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same, attempt  # noqa: E402


def _formatted(value, spec):
    return attempt(lambda: format(value, spec))


FORMAT = {
    "fstring_0d": lambda t: f"{t.tensor(1.23456789)}",
    "fstring_precision": lambda t: f"{t.tensor(1.23456789):.4f}",
    "fstring_loss_with_grad": lambda t: f"{(t.tensor(2.5, requires_grad=True) * 2).sum():.3f}",
    "fstring_width": lambda t: f"{t.tensor(0.5):>10}|",
    "int_0d": lambda t: [_formatted(t.tensor(3), "d"), _formatted(t.tensor(3), ".2f")],
    "bool_0d": lambda t: _formatted(t.tensor(True), ""),
    "double_0d": lambda t: _formatted(t.tensor(0.1, dtype=t.float64), ".10f"),
    "vector_empty_spec": lambda t: _formatted(t.tensor([1.0, 2.0]), ""),
    "vector_spec_refused": lambda t: _formatted(t.tensor([1.0, 2.0]), ".2f"),
    "one_element_vector_refused": lambda t: _formatted(t.tensor([1.0]), ".2f"),
}


@pytest.mark.parametrize("name", FORMAT)
def test_format(name):
    assert_same(lambda t: attempt(lambda: FORMAT[name](t)), torch)


def _step_before_backward(product, *, input_requires_grad=False, change=("weight", "bias")):
    """A product, then an optimiser-like in-place change under no_grad before backward."""
    def scenario(t):
        x = t.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=input_requires_grad)
        weight = t.tensor([[0.5, -1.0], [2.0, 1.0]], requires_grad=True)
        bias = t.tensor([0.1, 0.2], requires_grad=True)
        loss = product(t, x, weight, bias).pow(2).sum()
        with t.no_grad():
            if "weight" in change:
                weight -= 0.1
            if "bias" in change:
                bias += 1.0
        outcome = attempt(loss.backward)
        return outcome, weight.grad, bias.grad, x.grad

    return scenario


SAVED = {
    "matmul_step": _step_before_backward(lambda t, x, w, b: x @ w),
    "mm_step": _step_before_backward(lambda t, x, w, b: t.mm(x, w)),
    "mv_step": _step_before_backward(lambda t, x, w, b: t.mv(x, w[0])),
    "dot_step": _step_before_backward(lambda t, x, w, b: t.dot(x[0], w[0]), change=("weight",)),
    "bmm_step": _step_before_backward(lambda t, x, w, b: t.bmm(x.unsqueeze(0), w.unsqueeze(0))),
    "linear_step": _step_before_backward(lambda t, x, w, b: t.nn.functional.linear(x, w, b)),
    "linear_no_bias_step": _step_before_backward(lambda t, x, w, b: t.nn.functional.linear(x, w)),
    "linear_3d_step": _step_before_backward(lambda t, x, w, b: t.nn.functional.linear(x.unsqueeze(0), w, b)),
    "bias_add_step": _step_before_backward(lambda t, x, w, b: x @ w + b),
    # PyTorch does save the weight when the input needs its gradient: the change is then an error
    "matmul_both_require_grad": _step_before_backward(lambda t, x, w, b: x @ w, input_requires_grad=True),
    "linear_both_require_grad": _step_before_backward(lambda t, x, w, b: t.nn.functional.linear(x, w, b),
                                                      input_requires_grad=True),
    "linear_only_bias_changed": _step_before_backward(lambda t, x, w, b: t.nn.functional.linear(x, w, b),
                                                      input_requires_grad=True, change=("bias",)),
}


@pytest.mark.parametrize("name", SAVED)
def test_saved_operands(name):
    assert_same(SAVED[name], torch)
