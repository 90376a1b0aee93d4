"""`run_from`'s lean step (`Node._lean_step`: a plain node's unrecorded rule, or an unhooked sink's steal, run on
a bare array before any general step) and its late grad-mode switch give what the general engine and PyTorch
give: every kind of hook still runs and sees what it saw, grad mode is off wherever something can see it and
restored afterwards, saved tensors are freed, checked and kept as before."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import gradstudio.engine as torch
from gradstudio.engine._graph import FREED_BUFFERS_MESSAGE, AccumulateGrad, Node

try:
    import torch as real_torch
except ImportError:  # the engine-only cases still run; the comparisons with PyTorch skip, saying so
    real_torch = None
needs_torch = pytest.mark.skipif(real_torch is None,
                                 reason="PyTorch not installed: differential tests against real PyTorch skipped")
ENGINE_AND_TORCH = [torch, pytest.param(real_torch, marks=needs_torch)]


def _hook_on(kind: str, x, y, out, seen: list, framework) -> None:
    """Attach one kind of hook (on the leaf x, the intermediate y or the output's node); each records what it
    sees: the gradient's bytes and whether grad mode is on."""
    def note(grad) -> None:
        seen.append((kind, grad.detach().numpy().tobytes(), framework.is_grad_enabled()))

    if kind == "tensor_hook":
        y.register_hook(note)
    elif kind == "leaf_hook":
        x.register_hook(note)
    elif kind == "retain_grad":
        y.retain_grad()
    elif kind == "post_accumulate":
        x.register_post_accumulate_grad_hook(lambda leaf: note(leaf.grad))
    elif kind == "prehook":
        y.grad_fn.register_prehook(lambda grads: note(grads[0]))
    elif kind == "posthook":
        y.grad_fn.register_hook(lambda grads_in, grads_out: note(grads_out[0]))
    elif kind == "sink_prehook":
        out.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0].register_prehook(
            lambda grads: note(grads[0]))


HOOK_KINDS = ["tensor_hook", "leaf_hook", "retain_grad", "post_accumulate", "prehook", "posthook", "sink_prehook"]


def _run_with_hook(framework, kind: str, general: bool, grad_enabled: bool) -> list:
    """The notes' first snippet with one hook, run by `out.backward()` (run_from) or by autograd.backward (the
    general engine); everything hooks saw, the gradients, and grad mode before and after."""
    x = framework.tensor([1.5, -2.0, 0.25], requires_grad=True)
    y = x + 2
    out = (y * y * 3).mean()
    seen: list = []
    _hook_on(kind, x, y, out, seen, framework)
    with framework.set_grad_enabled(grad_enabled):
        framework.autograd.backward(out) if general else out.backward()
        seen.append(framework.is_grad_enabled())
    retained = y.grad.numpy().tobytes() if kind == "retain_grad" else None
    return seen + [x.grad.numpy().tobytes(), retained]


@pytest.mark.parametrize("grad_enabled", [True, False], ids=["grad_on", "no_grad"])
@pytest.mark.parametrize("kind", HOOK_KINDS)
def test_every_hook_runs_as_in_the_general_engine(kind: str, grad_enabled: bool) -> None:
    fast = _run_with_hook(torch, kind, False, grad_enabled)
    assert fast == _run_with_hook(torch, kind, True, grad_enabled)
    assert len(fast) == (3 if kind == "retain_grad" else 4)  # the hook ran once (retain_grad keeps y.grad)


@needs_torch
@pytest.mark.parametrize("grad_enabled", [True, False], ids=["grad_on", "no_grad"])
@pytest.mark.parametrize("kind", HOOK_KINDS)
def test_every_hook_sees_what_torchs_sees(kind: str, grad_enabled: bool) -> None:
    assert _run_with_hook(torch, kind, False, grad_enabled) == _run_with_hook(real_torch, kind, False, grad_enabled)


def test_a_hooked_node_takes_the_general_step() -> None:
    x = torch.ones(3, requires_grad=True)
    y = x * 2
    plain = (x * 3).grad_fn
    assert y.grad_fn._lean_step is not None and plain._lean_step is not None
    y.retain_grad()
    assert y.grad_fn._lean_step is None and plain._lean_step is not None
    sink = y.grad_fn.next_functions[0][0]
    assert sink._lean_step is not None
    x.register_post_accumulate_grad_hook(lambda leaf: None)
    assert sink._lean_step is None


def _node_types(base: type) -> list[type]:
    found = []
    for subclass in base.__subclasses__():
        found += [subclass, *_node_types(subclass)]
    return found


def test_only_rules_that_free_as_node_does_get_a_lean_step() -> None:
    """A node type's lean step is its unrecorded rule, unless it frees its saved tensors its own way (the lean
    step frees them as Node.release_saved does); the sink's is the steal."""
    import gradstudio.engine.nn  # noqa: F401 - every node type defined
    import gradstudio.engine.ops.fused  # noqa: F401

    types = _node_types(Node)
    assert sum(kind.unrecorded is not None for kind in types) >= 8
    for kind in types:
        if kind is AccumulateGrad:
            assert kind._lean_step is not None
            continue
        expected = kind.unrecorded if kind.release_saved is Node.release_saved else None
        assert kind._lean_step is expected, kind.__name__


@pytest.mark.parametrize("framework", ENGINE_AND_TORCH, ids=["engine", "torch"])
@pytest.mark.parametrize("grad_enabled", [True, False], ids=["grad_on", "no_grad"])
def test_grad_mode_is_off_in_every_hook_and_restored_after(framework, grad_enabled: bool) -> None:
    """A hook after a chain of lean steps (a leaf's post-accumulate hook) sees grad mode off, as one before
    them (the output node's pre-hook) does."""
    seen = []
    x = framework.ones(3, requires_grad=True)
    out = ((x + 2) * 3).mean()
    out.grad_fn.register_prehook(lambda grads: seen.append(framework.is_grad_enabled()))
    x.register_post_accumulate_grad_hook(lambda leaf: seen.append(framework.is_grad_enabled()))
    with framework.set_grad_enabled(grad_enabled):
        out.backward()
        seen.append(framework.is_grad_enabled())
    assert seen == [False, False, grad_enabled]


@pytest.mark.parametrize("framework", ENGINE_AND_TORCH, ids=["engine", "torch"])
def test_a_backward_of_lean_steps_alone_leaves_grad_mode_as_it_was(framework) -> None:
    for enabled in (True, False, True):
        x = framework.ones(2, 2, requires_grad=True)
        out = (x * 3).mean()
        with framework.set_grad_enabled(enabled):
            out.backward()
            assert framework.is_grad_enabled() is enabled
        assert x.grad.tolist() == [[0.75, 0.75], [0.75, 0.75]]


@pytest.mark.parametrize("framework", ENGINE_AND_TORCH, ids=["engine", "torch"])
def test_a_backward_in_a_new_thread_warns_of_nothing(framework) -> None:
    """Lean steps run numpy before anything else in the thread reads grad mode: numpy's error state (set per
    thread by the engine's grad mode) must already be the engine's, so an overflow gives inf without a warning,
    as PyTorch's does."""
    x = framework.tensor([10.0], requires_grad=True)
    out = ((x * 1e20) * 1e20).mean()
    outcome = []

    def work() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                out.backward()
                outcome.append(x.grad.tolist())
            except Exception as error:  # noqa: BLE001 - the outcome is compared below
                outcome.append(repr(error))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert outcome == [[float("inf")]]


def _saved_after(framework, retain_graph: bool) -> list:
    x = framework.tensor([1.5, -2.0], requires_grad=True)
    y = x + 2
    z = y * y
    out = (z * 3).mean()
    out.backward(retain_graph=retain_graph)
    shown = []
    for name in ("_saved_self", "_saved_other"):
        try:
            shown.append(getattr(z.grad_fn, name).detach().numpy().tobytes())
        except RuntimeError as error:
            shown.append(str(error))
    return shown + [x.grad.numpy().tobytes()]


@pytest.mark.parametrize("retain_graph", [False, True])
def test_lean_steps_free_saved_tensors_as_the_general_engine(retain_graph: bool) -> None:
    fast = _saved_after(torch, retain_graph)
    assert (fast[0] == fast[1] == FREED_BUFFERS_MESSAGE) is not retain_graph
    if real_torch is not None:
        assert fast == _saved_after(real_torch, retain_graph)


def test_a_retained_graph_runs_lean_again_with_the_same_gradients() -> None:
    x = torch.tensor([1.5, -2.0, 0.25], requires_grad=True)
    out = ((x + 2) * (x + 2) * 3).mean()
    out.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    out.backward()
    assert np.array_equal(x.grad.numpy(), 2 * first)


def test_a_rule_whose_node_frees_its_own_way_runs_the_general_step() -> None:
    """A node type with an unrecorded rule and a release_saved of its own gets no lean step: its release_saved
    runs (and its rule, through apply), with the lean graph's gradients."""
    from gradstudio.engine.ops.pointwise import MulBackward0

    freed = []

    class FreeingMul(MulBackward0):
        def release_saved(self) -> None:
            freed.append(self)
            super().release_saved()

    assert FreeingMul._lean_step is None and MulBackward0._lean_step is MulBackward0.unrecorded
    grads = []
    for swap in (False, True):
        x = torch.tensor([1.5, -2.0, 0.25], requires_grad=True)
        y = x * x
        if swap:
            y.grad_fn.__class__ = FreeingMul
        (y * 3).mean().backward()
        grads.append(x.grad.numpy().tobytes())
    assert grads[0] == grads[1] and len(freed) == 1 and freed[0]._saved is None


def _read_only(shape: tuple) -> np.ndarray:
    array = np.ones(shape, np.float32)
    array.flags.writeable = False
    return array


HELD: list = []
ARRAYS = {  # (a maker of the array reaching the sink, whether the leaf may take it as its .grad)
    "fresh": (lambda shape: np.ones(shape, np.float32), True),
    "fortran": (lambda shape: np.asfortranarray(np.ones(shape, np.float32)), False),
    "read_only": (_read_only, False),
    "view": (lambda shape: np.ones((shape[0] * 2, shape[1]), np.float32)[::2], False),
    "other_dtype": (lambda shape: np.ones(shape, np.float64), False),
    "held": (lambda shape: HELD.append(np.ones(shape, np.float32)) or HELD[-1], False),
}


@pytest.mark.parametrize("kind", sorted(ARRAYS))
def test_the_sinks_lean_step_takes_only_an_array_no_one_else_can_reach(kind: str) -> None:
    """The steal (the sink's lean step) keeps a bare array as the leaf's .grad only when it is C-contiguous,
    writeable, owns its memory, has the leaf's dtype and nothing else holds it; else it changes nothing."""
    from gradstudio.engine._one_root import _stolen

    make, taken = ARRAYS[kind]
    x = torch.ones(2, 3, requires_grad=True)
    sink = (x * 2).grad_fn.next_functions[0][0]
    grad = make((2, 3))  # held as run_from holds it: one local
    result = _stolen(sink, grad)
    if taken:
        assert result == () and x.grad.numpy().flags.c_contiguous and x.grad.tolist() == [[1.0] * 3] * 2
    else:
        assert result is None and x.grad is None
    HELD.clear()


@pytest.mark.parametrize("piece", [0, 1])
@pytest.mark.parametrize("framework", ENGINE_AND_TORCH, ids=["engine", "torch"])
def test_a_node_feeding_a_piece_of_a_split_takes_the_general_step(framework, piece: int) -> None:
    """A product of one piece of a split sends its gradient to that piece's slot of the split's node: no lean
    step for it (the lean step hands a gradient on as it is)."""
    a = framework.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    product = (a * 2).split(1)[piece] * 3
    if framework is torch:
        assert product.grad_fn._edge_outputs == (piece, 0) and product.grad_fn._lean_step is None
    product.mean().backward()
    expected = [[3.0, 3.0], [0.0, 0.0]]
    assert a.grad.tolist() == (expected if piece == 0 else expected[::-1])
