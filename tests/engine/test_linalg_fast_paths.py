"""mm's path for two matrices of one floating dtype, pinned to the general path (checks, promotion) bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import gradstudio.engine as engine
from gradstudio.engine.ops import linalg

RNG = np.random.default_rng(21)
PAIRS = {
    "float32": (RNG.standard_normal((5, 3)).astype(np.float32), RNG.standard_normal((3, 4)).astype(np.float32)),
    "float64": (RNG.standard_normal((5, 3)), RNG.standard_normal((3, 4))),
    "column_major": (np.asfortranarray(RNG.standard_normal((5, 3)).astype(np.float32)),
                     RNG.standard_normal((4, 3)).astype(np.float32).T),
}


def _product_observed(a: np.ndarray, b: np.ndarray, grads: tuple[bool, bool], via: str) -> list:
    transposed = a.flags.f_contiguous and not a.flags.c_contiguous  # leaves stored transposed, used as views
    leaves = [engine.tensor(m.T if transposed else m, requires_grad=g) for m, g in zip((a, b), grads)]
    x, w = (leaf.t() for leaf in leaves) if transposed else leaves
    out = x @ w if via == "@" else engine.mm(x, w)
    node = out.grad_fn
    seen = [out.detach().numpy().tobytes(), node.name(), node.column_major,
            [None if saved is None else saved.detach().numpy().tobytes() for saved in (node._saved_self,
                                                                                       node._saved_mat2)]]
    (out * out).sum().backward()
    return [*seen, *(None if t.grad is None else t.grad.numpy().tobytes() for t in leaves)]


@pytest.mark.parametrize("name", sorted(PAIRS))
@pytest.mark.parametrize("grads", [(True, True), (False, True), (True, False)])
@pytest.mark.parametrize("via", ["@", "mm"])
def test_a_product_of_plain_matrices_is_the_general_path_bit_for_bit(monkeypatch: pytest.MonkeyPatch, name: str,
                                                                     grads: tuple[bool, bool], via: str) -> None:
    fast = _product_observed(*PAIRS[name], grads, via)
    monkeypatch.setattr(linalg, "_plain_matrices", lambda a, b: False)
    assert fast == _product_observed(*PAIRS[name], grads, via)


def test_a_product_of_plain_matrices_skips_the_checks_and_promotion(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("the general path ran")

    monkeypatch.setattr(linalg, "operands", refuse)
    a, b = PAIRS["float32"]
    assert (engine.tensor(a) @ engine.tensor(b)).shape == (5, 4)
    assert engine.mm(engine.tensor(a.astype(np.float64)), engine.tensor(b.astype(np.float64))).shape == (5, 4)


@pytest.mark.parametrize(("a", "b", "plain"), [
    (np.zeros((2, 3), np.float32), np.zeros((3, 4), np.float32), True),
    (np.zeros((2, 3)), np.zeros((3, 4)), True),
    (np.zeros((2, 3), np.float32), np.zeros((5, 4), np.float32), True),  # mm still refuses the sizes
    (np.zeros((2, 3), np.float32), np.zeros((3, 4)), False),  # mixed dtypes: PyTorch's refusal
    (np.zeros((2, 3), np.int64), np.zeros((3, 4), np.int64), False),  # integers: the general checks
    (np.zeros((2, 3), bool), np.zeros((3, 4), bool), False),
    (np.zeros(3, np.float32), np.zeros((3, 4), np.float32), False),
    (np.zeros((2, 2, 3), np.float32), np.zeros((3, 4), np.float32), False),
])
def test_only_matrices_of_one_floating_dtype_skip_the_checks(a: np.ndarray, b: np.ndarray, plain: bool) -> None:
    assert linalg._plain_matrices(a, b) is plain


@pytest.mark.parametrize(("a", "b", "error", "message"), [
    (np.zeros((2, 3), np.float32), np.zeros((2, 3), np.float32), RuntimeError,
     r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)"),
    (np.zeros((2, 3), np.float32), np.zeros((3, 2)), RuntimeError,
     "expected m1 and m2 to have the same dtype, but got: float != double"),
    (np.zeros(3, np.float32), np.zeros((3, 2), np.float32), RuntimeError, "self must be a matrix"),
])
def test_mm_refuses_as_pytorch_does_on_either_path(a: np.ndarray, b: np.ndarray, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        engine.mm(engine.tensor(a), engine.tensor(b))
