"""split, chunk and unbind record ONE node for all their outputs, as PyTorch does.

Every piece's grad_fn is that node (`SplitBackward0`, `SplitWithSizesBackward0`, `UnbindBackward0`) and its
`output_nr` says which output it is; a consumer's `next_functions` point at `(node, output_nr)`. Backward
gathers the gradients of all pieces into the one node before running it (missing ones become zeros, hooks see
None for them), and under create_graph the first derivative is a `CatBackward0`/`StackBackward0`.
"""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")

from torch_diff import assert_same, attempt  # noqa: E402

X = [[0.3, -0.7, 1.2], [0.9, 0.1, -0.4], [1.5, -0.2, 0.6], [0.4, 0.8, -1.3], [-0.5, 0.7, 0.2]]

# name -> the pieces of a (5, 3) tensor
CUTS: dict[str, Any] = {
    "chunk": lambda t, x: x.chunk(2),
    "chunk_dim1": lambda t, x: x.chunk(3, dim=1),
    "chunk_one": lambda t, x: x.chunk(1),
    "split": lambda t, x: x.split(2),
    "split_whole": lambda t, x: x.split(5),
    "split_sizes": lambda t, x: x.split([1, 4]),
    "split_sizes_dim1": lambda t, x: t.split(x, [2, 1], dim=1),
    "split_with_sizes": lambda t, x: t.split_with_sizes(x, [2, 3]),
    "unbind": lambda t, x: x.unbind(1),
    "unbind_rows": lambda t, x: t.unbind(x),
}


def _leaf(t: Any) -> Any:
    return t.tensor(X, dtype=t.float64, requires_grad=True)


@pytest.mark.parametrize("name", sorted(CUTS))
def test_pieces_share_one_node_with_their_output_numbers(name: str) -> None:
    def scenario(t: Any) -> Any:
        pieces = CUTS[name](t, _leaf(t) * 1)
        return ([piece.grad_fn is pieces[0].grad_fn for piece in pieces], [piece.output_nr for piece in pieces],
                list(pieces))

    assert_same(scenario, torch)


@pytest.mark.parametrize("name", sorted(CUTS))
def test_consumers_point_at_node_and_output_and_backward_gathers_all_pieces(name: str) -> None:
    def scenario(t: Any) -> Any:
        x = _leaf(t)
        pieces = CUTS[name](t, x)
        weights = [float(index + 2) for index in range(len(pieces))]
        terms = [(piece * weight).sum() for piece, weight in zip(pieces, weights)]
        total = sum(terms[1:], terms[0] * pieces[-1].sum())  # the last piece reached by two paths
        total.backward()
        return total, [term.grad_fn.next_functions[0][0].next_functions for term in terms], x.grad

    assert_same(scenario, torch)


@pytest.mark.parametrize("name", sorted(CUTS))
def test_first_derivative_graph_and_second_derivative_match(name: str) -> None:
    def scenario(t: Any) -> Any:
        x = _leaf(t)
        pieces = CUTS[name](t, x)
        loss = (pieces[0] * pieces[0]).sum()
        if len(pieces) > 1:
            loss = loss + (pieces[-1] ** 3).sum()
        (first,) = t.autograd.grad(loss, x, create_graph=True)
        (second,) = t.autograd.grad((first * first).sum(), x)
        return first, second

    assert_same(scenario, torch)


def test_unused_pieces_reach_hooks_as_none_and_node_hooks_see_every_output() -> None:
    def scenario(t: Any) -> Any:
        x = _leaf(t)
        a, b, c = x.unbind(1)
        seen: list = []
        a.register_hook(lambda g: seen.append(("a", g)))
        c.register_hook(lambda g: seen.append(("c", g)))
        b.grad_fn.register_prehook(lambda outputs: seen.append(("pre", list(outputs))))
        b.grad_fn.register_hook(lambda inputs, outputs: seen.append(("post", list(inputs), list(outputs))))
        a.retain_grad()
        b.retain_grad()
        (a * 3).sum().backward()
        return seen, a.grad, b.grad, x.grad

    assert_same(scenario, torch)


def test_a_hook_replaces_its_piece_gradient_only() -> None:
    def scenario(t: Any) -> Any:
        x = _leaf(t)
        a, b = x.chunk(2)
        b.register_hook(lambda g: g * 10)
        (a.sum() + b.sum()).backward()
        return x.grad

    assert_same(scenario, torch)


def test_pieces_as_roots_and_as_inputs_of_grad() -> None:
    def scenario(t: Any) -> Any:
        x = _leaf(t)
        a, b = x.chunk(2)
        t.autograd.backward([a, b], [t.ones_like(a), t.ones_like(b) * 3])
        wanted = t.autograd.grad(b.sum() + (a * a).sum(), [b, a])
        c, d = x.split([2, 3])
        unused = t.autograd.grad(d.sum(), [c, d], allow_unused=True)
        e, f = x.chunk(2)
        f.retain_grad()
        (f * 2).sum().backward(inputs=[f])
        y = x * 1  # a single-output non-leaf: retain_grad and inputs= fill its .grad once, not twice
        y.retain_grad()
        (y * 2).sum().backward(inputs=[y])
        return x.grad, list(wanted), list(unused), f.grad, y.grad

    assert_same(scenario, torch)


def test_in_place_changes_of_pieces_are_refused_as_pytorch_refuses_them() -> None:
    def scenario(t: Any) -> Any:
        x = _leaf(t)
        y = x * 1
        a, b, c = y.unbind(1)
        direct = attempt(lambda: c.mul_(2))
        of_view = attempt(lambda: c[1:].mul_(2))
        y.add_(1)
        through_base = attempt(lambda: c.grad_fn)
        with t.no_grad():
            d, e = y.chunk(2)
        made_without_grad = attempt(lambda: d.mul_(2))
        with t.no_grad():
            f, g = y.chunk(2)
            f.mul_(2)
        return direct, of_view, through_base, made_without_grad, y

    assert_same(scenario, torch)


@pytest.mark.parametrize("name", sorted(CUTS))
def test_a_scalar_loss_backward_gathers_the_pieces(name: str) -> None:
    """`loss.backward()` on a scalar takes the engine's one-root path: it too fills a slot per piece."""

    def scenario(t: Any) -> Any:
        x = _leaf(t)
        pieces = CUTS[name](t, x)
        loss = (pieces[0] * 2).sum() + (pieces[-1] ** 2).sum()
        loss.backward()
        return x.grad

    assert_same(scenario, torch)


def test_backward_on_a_piece_itself_takes_the_general_path() -> None:
    def scenario(t: Any) -> Any:
        x = t.arange(3.0, requires_grad=True)
        x.unbind()[1].backward()
        return x.grad

    assert_same(scenario, torch)
