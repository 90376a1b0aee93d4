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
