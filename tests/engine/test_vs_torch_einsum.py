"""einsum records PyTorch's graph: operands unsqueezed and permuted, pairs reduced by mul or by
permute/reshape/bmm/view/permute, contracted dims viewed away at the end (or summed, for one operand).

For each equation both engines build the result from float64 leaves; the whole grad_fn graph (names, edges),
the values, the gradients, the first derivatives' graphs under create_graph and the second derivatives agree.
A letter repeated within one operand takes its diagonal (a view, `DiagonalBackward0`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same, attempt  # noqa: E402

# equation -> operand shapes
EQUATIONS: dict[str, tuple[tuple[int, ...], ...]] = {
    "ij,jk->ik": ((2, 3), (3, 4)),
    "bij,bjk->bik": ((2, 2, 3), (2, 3, 4)),
    "i,i->": ((3,), (3,)),
    "i,j->ij": ((2,), (3,)),
    "ij->ji": ((2, 3),),
    "ij": ((2, 3),),
    "ij->": ((2, 3),),
    "ij->j": ((2, 3),),
    "ij,ij->ij": ((2, 3), (2, 3)),
    "ij,j->i": ((2, 3), (3,)),
    "ij,j": ((2, 3), (3,)),
    "bi,bi->b": ((2, 3), (2, 3)),
    "ij,kj->ik": ((2, 3), (4, 3)),
    "bij,bkj->bik": ((2, 2, 3), (2, 4, 3)),
    "i,ij,j->": ((2,), (2, 3), (3,)),
    "ij,k->k": ((2, 3), (4,)),
    "ij,jk,kl->il": ((2, 3), (3, 4), (4, 2)),
    "ij,jk->ik_broadcast_one": ((2, 1), (3, 4)),
    "abc,cd->dbca": ((2, 3, 4), (4, 2)),
    "ij,jk->ki": ((2, 3), (3, 4)),
    "abc,cd->dba": ((2, 3, 4), (4, 2)),
    "ace,a->ce": ((2, 1, 4), (2,)),
    "eb,dae->dab": ((2, 5), (2, 4, 2)),
    "ba,bed->ead": ((5, 3), (5, 2, 3)),
    "ace,eb->bc": ((1, 2, 3), (3, 2)),
    "deb,eca->cdb": ((4, 5, 3), (5, 2, 3)),
    "ii->i": ((3, 3),),
    "ii->": ((3, 3),),
    "ii": ((3, 3),),
    "bii->bi": ((2, 3, 3),),
    "iij->j": ((2, 2, 3),),
    "iii->i": ((2, 2, 2),),
    "jii->ij": ((3, 2, 2),),
    "iji->j": ((2, 3, 2),),
    "ii,i->i": ((2, 2), (2,)),
    "ij,jj->i": ((2, 3), (3, 3)),
    "d,dae->e": ((5,), (5, 2, 3)),
    "dbc,de->ec": ((2, 3, 5), (2, 1)),
}


def _operands(t: Any, name: str) -> list:
    shapes = EQUATIONS[name]
    rng = np.random.default_rng(len(name))
    return [t.tensor(rng.standard_normal(shape), requires_grad=True) for shape in shapes]


def _equation(name: str) -> str:
    return name.split("_")[0]


@pytest.mark.parametrize("name", sorted(EQUATIONS))
def test_graph_values_and_gradients_match_pytorch(name: str) -> None:
    def scenario(t: Any) -> Any:
        operands = _operands(t, name)
        out = t.einsum(_equation(name), *operands)
        out.backward(t.ones_like(out) * 1.5)
        return out, [operand.grad for operand in operands]

    assert_same(scenario, torch)


@pytest.mark.parametrize("name", sorted(EQUATIONS))
def test_first_derivative_graphs_and_second_derivatives_match_pytorch(name: str) -> None:
    def scenario(t: Any) -> Any:
        operands = _operands(t, name)
        out = t.einsum(_equation(name), *operands)
        first = t.autograd.grad((out * out).sum(), operands, create_graph=True)
        second = t.autograd.grad(sum((g * g).sum() for g in first), operands)
        return list(first), list(second)

    assert_same(scenario, torch)


def test_a_diagonal_is_a_view_and_mismatched_repeats_are_refused() -> None:
    def scenario(t: Any) -> Any:
        x = t.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=t.float64, requires_grad=True)
        y = x * 1
        diagonal = t.einsum("ii->i", y)
        diagonal.mul_(10)
        (y * y).sum().backward()
        mismatched = attempt(lambda: t.einsum("ii->i", t.ones(2, 3)))
        return y, diagonal, x.grad, mismatched

    assert_same(scenario, torch)
