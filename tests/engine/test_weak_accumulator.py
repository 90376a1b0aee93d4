"""A leaf holds its AccumulateGrad weakly, as PyTorch's does: no leaf/node reference cycle for the cyclic
collector, yet hooks and metadata attached through the leaf or the node stay with the leaf. Checked against torch."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable

import pytest

import gradstudio.engine as torch

try:
    import torch as real_torch
except ImportError:  # the engine-only cases still run; the comparisons with PyTorch skip, saying so
    real_torch = None
needs_torch = pytest.mark.skipif(real_torch is None,
                                 reason="PyTorch not installed: differential tests against real PyTorch skipped")


@pytest.fixture
def no_cyclic_collector():
    """Only reference counts free anything while a test runs: what is freed is freed without a cycle."""
    was_enabled = gc.isenabled()
    gc.disable()
    yield
    if was_enabled:
        gc.enable()


@pytest.mark.parametrize("framework", [pytest.param(real_torch, marks=needs_torch), torch], ids=["torch", "engine"])
def test_the_graph_and_the_leaf_are_freed_without_the_cyclic_collector(framework, no_cyclic_collector) -> None:
    x = framework.ones(3, requires_grad=True)
    out = ((x + 2) * 3).mean()
    leaf = weakref.ref(x)
    out.backward()
    del out, x
    assert leaf() is None  # (torch's nodes take no weak references: the leaf stands for its node here)


def test_the_graph_is_the_only_holder_of_a_leafs_accumulator(no_cyclic_collector) -> None:
    x = torch.ones(3, requires_grad=True)
    out = ((x + 2) * 3).mean()
    node = weakref.ref(out.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0])
    out.backward()
    del out
    assert node() is None and x.grad.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("framework", [pytest.param(real_torch, marks=needs_torch), torch], ids=["torch", "engine"])
def test_one_accumulator_serves_every_op_of_a_live_graph(framework) -> None:
    x = framework.ones(2, requires_grad=True)
    first, second = x * 2, x + 1
    assert first.grad_fn.next_functions[0][0] is second.grad_fn.next_functions[0][0]
    (first.sum() + second.sum()).backward()
    assert x.grad.tolist() == [3.0, 3.0]


def _leaf_hook(x, calls: list) -> None:
    x.register_hook(lambda grad: calls.append(("tensor", grad.tolist())))


def _post_accumulate_hook(x, calls: list) -> None:
    x.register_post_accumulate_grad_hook(lambda leaf: calls.append(("post_accumulate", leaf.grad.tolist())))


def _node_hook(x, calls: list) -> None:
    node = (x * 1).grad_fn.next_functions[0][0]
    node.register_hook(lambda grad_inputs, grad_outputs: calls.append(("node", grad_outputs[0].tolist())))


def _node_prehook(x, calls: list) -> None:
    node = (x * 1).grad_fn.next_functions[0][0]
    node.register_prehook(lambda grad_outputs: calls.append(("prehook", grad_outputs[0].tolist())))


def _calls(framework, attach: Callable) -> list:
    calls: list = []
    x = framework.ones(2, requires_grad=True)
    attach(x, calls)  # the graph made here (if any) is freed at once
    (x * 3).sum().backward()
    (x * 5).sum().backward()
    return calls


@needs_torch
@pytest.mark.parametrize("attach", [_leaf_hook, _post_accumulate_hook])
def test_a_leafs_hooks_stay_after_the_graph_that_made_its_accumulator_is_freed(
        attach: Callable, no_cyclic_collector) -> None:
    expected = _calls(real_torch, attach)
    assert _calls(torch, attach) == expected and len(expected) == 2


@pytest.mark.parametrize("attach", [_node_hook, _node_prehook])
def test_hooks_on_a_leafs_node_stay_while_the_leaf_lives(attach: Callable, no_cyclic_collector) -> None:
    """PyTorch drops them with the graph that held the node; this engine keeps them, as it did before the leaf
    held its node weakly."""
    assert [values for _, values in _calls(torch, attach)] == [[3.0, 3.0], [5.0, 5.0]]


def test_metadata_set_on_a_leafs_node_stays_while_the_leaf_lives(no_cyclic_collector) -> None:
    """PyTorch drops it with the graph; this engine keeps it, as it did before the leaf held its node weakly."""
    x = torch.ones(2, requires_grad=True)
    (x * 1).grad_fn.next_functions[0][0].metadata["tag"] = 1
    assert (x * 2).grad_fn.next_functions[0][0].metadata == {"tag": 1}
