"""`dropout`, `random_`, `exponential_` and `multinomial` give PyTorch's numbers for the same seed, bit for bit.

Each case seeds both generators with `manual_seed`, draws, and compares the result (dtype, shape, exact values,
repr) or the error PyTorch raises; dropout also compares its gradient and grad_fn.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same, attempt  # noqa: E402

import gradstudio.engine as engine  # noqa: E402

CASES = {
    "random_float32": lambda t: t.zeros(50).random_(),
    "random_float64": lambda t: t.zeros(50, dtype=t.float64).random_(),
    "random_int64": lambda t: t.zeros(50, dtype=t.long).random_(),
    "random_bool": lambda t: t.zeros(50, dtype=t.bool).random_(),
    "random_to": lambda t: t.zeros(50).random_(10),
    "random_from_to": lambda t: t.zeros(50, dtype=t.long).random_(-5, 7),
    "random_over_32_bits": lambda t: t.zeros(20, dtype=t.long).random_(0, 2 ** 40),
    "random_empty_range": lambda t: t.zeros(3).random_(5, 5),
    "random_transposed": lambda t: t.zeros(4, 6).t().random_(100),
    "exponential": lambda t: t.zeros(1000).exponential_(),
    "exponential_rate_float64": lambda t: t.zeros(300, dtype=t.float64).exponential_(2.5),
    "exponential_large": lambda t: t.zeros(100_000).exponential_(0.3),
    "exponential_bad_rate": lambda t: t.zeros(3).exponential_(0.0),
    "multinomial_one": lambda t: t.multinomial(t.tensor([0.1, 0.5, 0.4]), 1),
    "multinomial_without_replacement": lambda t: t.multinomial(t.tensor([0.1, 0.5, 0.4, 2.0]), 3),
    "multinomial_rows": lambda t: t.multinomial(t.tensor([[0.1, 0.5, 0.4], [1.0, 1.0, 1.0]]), 2),
    "multinomial_float64": lambda t: t.multinomial(t.tensor([0.3, 0.2, 0.5], dtype=t.float64), 2),
    "multinomial_with_replacement": lambda t: t.multinomial(t.tensor([0.1, 0.5, 0.4]), 20, replacement=True),
    "multinomial_with_replacement_rows": lambda t: t.multinomial(t.tensor([[0.1, 0.5, 0.4], [0.0, 3.0, 1.0]]), 10,
                                                                 True),
    "multinomial_method": lambda t: t.tensor([0.2, 0.8]).multinomial(4, True),
    "multinomial_too_many": lambda t: t.multinomial(t.tensor([0.1, 0.5]), 3),
    "multinomial_negative": lambda t: t.multinomial(t.tensor([-0.1, 0.5]), 1),
    "multinomial_all_zero": lambda t: t.multinomial(t.tensor([0.0, 0.0]), 1),
    "multinomial_integers": lambda t: t.multinomial(t.tensor([1, 2]), 1),
    "multinomial_no_samples": lambda t: t.multinomial(t.tensor([0.5, 0.5]), 0),
    "dropout": lambda t: t.nn.functional.dropout(t.ones(7, 9), 0.3),
    "dropout_transposed": lambda t: t.nn.functional.dropout(t.ones(7, 9).t(), 0.6),
    "dropout_large": lambda t: t.nn.functional.dropout(t.ones(100, 100), 0.5),
    "dropout_float64": lambda t: t.nn.functional.dropout(t.ones(5, dtype=t.float64), 0.25),
    "dropout_all": lambda t: t.nn.functional.dropout(t.ones(4), 1.0),
    "dropout_module": lambda t: t.nn.Dropout(0.4)(t.arange(12.0).view(3, 4)),
    "dropout_then_rand": lambda t: (t.nn.functional.dropout(t.ones(6), 0.5), t.rand(3)),
}


def _seeded(name):
    def scenario(t):
        t.manual_seed(5)
        return attempt(lambda: CASES[name](t))

    return scenario


@pytest.mark.parametrize("name", sorted(CASES))
def test_draws_are_pytorchs(name):
    assert_same(_seeded(name), torch)
    ours, theirs = _seeded(name)(engine), _seeded(name)(torch)
    if not (isinstance(theirs, tuple) and theirs[:1] == ("raised",)):  # values: exactly, not within a tolerance
        for mine, reference in zip(ours if isinstance(ours, tuple) else (ours,),
                                   theirs if isinstance(theirs, tuple) else (theirs,)):
            assert np.array_equal(mine.numpy(), reference.numpy()), "not bit-identical"


def dropout_backward(t):
    t.manual_seed(11)
    x = t.linspace(-1, 1, 24, requires_grad=True)
    y = t.nn.functional.dropout(x.view(4, 6), 0.35)
    (y * y).sum().backward()
    return y, x.grad


def test_dropout_gradient_and_graph_are_pytorchs():
    assert_same(dropout_backward, torch)
