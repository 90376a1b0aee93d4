"""Ops on one piece of split, chunk or unbind send the piece's gradient to that piece's place in the input.

The one-input fast path (`_core.record_unary`: exp, sin, cos, tanh, sigmoid, relu, a whole mean) once forgot
which output of the split its input was, so the gradient went to the first piece and failed to reshape."""

from __future__ import annotations

import numpy as np
import pytest

import gradstudio.engine as torch

try:
    import torch as real_torch
except ImportError:  # the engine-only oracle still runs; the comparisons with PyTorch skip, saying so
    real_torch = None
needs_torch = pytest.mark.skipif(real_torch is None,
                                 reason="PyTorch not installed: differential tests against real PyTorch skipped")

VALUES = np.array([[0.5, -1.25, 2.0], [1.5, 0.25, -0.75], [-2.0, 1.0, 0.125]], dtype=np.float32)

FUNCTIONS = {
    "mean": lambda m, q: q.mean(),
    "sum": lambda m, q: q.sum(),
    "exp": lambda m, q: m.exp(q).sum(),
    "sin": lambda m, q: m.sin(q).sum(),
    "cos": lambda m, q: m.cos(q).sum(),
    "tanh": lambda m, q: m.tanh(q).sum(),
    "sigmoid": lambda m, q: m.sigmoid(q).sum(),
    "relu": lambda m, q: m.relu(q).sum(),
    "times number": lambda m, q: (q * 3).sum(),
    "plus number": lambda m, q: (q + 2).mean(),
    "squared": lambda m, q: (q * q).mean(),
}

PIECES = {
    "split(1)[1]": lambda q: q.split(1)[1],
    "split(2)[1]": lambda q: q.split(2)[1],
    "chunk(3)[2]": lambda q: q.chunk(3)[2],
    "unbind()[1]": lambda q: q.unbind()[1],
    "unbind(1)[2]": lambda q: q.unbind(1)[2],
}


def _gradient(module, function, piece) -> np.ndarray:
    leaf = module.tensor(VALUES.copy(), requires_grad=True)
    function(module, piece(leaf * 2)).backward()
    return leaf.grad.numpy()


def _expected_from_a_leaf(function, piece) -> np.ndarray:
    """The same gradient built without the split: the function's gradient at a leaf holding the piece's values,
    placed where the piece sits in the input (through the chain rule's factor 2)."""
    positions = piece(torch.tensor(np.arange(VALUES.size, dtype=np.float32).reshape(VALUES.shape))).numpy()
    piece_leaf = torch.tensor(VALUES.reshape(-1)[positions.astype(int)] * 2, requires_grad=True)
    function(torch, piece_leaf).backward()
    expected = np.zeros(VALUES.size, dtype=np.float32)
    expected[positions.astype(int).reshape(-1)] = piece_leaf.grad.numpy().reshape(-1) * 2
    return expected.reshape(VALUES.shape)


@pytest.mark.parametrize("piece_name", list(PIECES))
@pytest.mark.parametrize("function_name", list(FUNCTIONS))
def test_a_pieces_gradient_lands_in_its_place(function_name: str, piece_name: str) -> None:
    function, piece = FUNCTIONS[function_name], PIECES[piece_name]
    np.testing.assert_array_equal(_gradient(torch, function, piece), _expected_from_a_leaf(function, piece))


@needs_torch
@pytest.mark.parametrize("piece_name", list(PIECES))
@pytest.mark.parametrize("function_name", list(FUNCTIONS))
def test_a_pieces_gradient_is_pytorchs(function_name: str, piece_name: str) -> None:
    function, piece = FUNCTIONS[function_name], PIECES[piece_name]
    np.testing.assert_allclose(_gradient(torch, function, piece), _gradient(real_torch, function, piece),
                               rtol=1e-6, atol=1e-7)


def test_a_piece_through_two_fast_ops_keeps_its_place() -> None:
    leaf = torch.tensor(VALUES.copy(), requires_grad=True)
    torch.tanh(torch.exp(leaf.unbind()[2])).mean().backward()
    assert not leaf.grad.numpy()[:2].any() and leaf.grad.numpy()[2].all()
