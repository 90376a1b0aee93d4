"""Grad mode and inference mode are thread-local, as in PyTorch.

A mode entered in one thread never changes what another thread's ops record, and every new thread starts
with grad mode on and inference mode off. Each scenario is written once against the torch API, holds one
thread inside a mode (with `threading.Event`s) while the other runs ops, and returns what both saw; the
engine must see the expected values, and so must real PyTorch where it is installed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

import gradstudio.engine as engine
from gradstudio.engine import grad_mode

TORCH_MISSING = "PyTorch not installed: differential tests against real PyTorch skipped"
TIMEOUT = 10.0  # seconds; only a broken test waits this long


def wait(event: threading.Event) -> None:
    """Block until `event` is set, failing instead of hanging if it never is."""
    assert event.wait(TIMEOUT), "the other thread never got there"


def start(body: Callable[[], Any]) -> Callable[[], Any]:
    """Run `body` in a new thread; the returned `join` waits for it and returns its result or raises its error."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = body()
        except BaseException as error:  # handed to the main thread by join()
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def join() -> Any:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), "the worker thread hung"
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    return join


def no_grad_held_in_worker(t: Any) -> list:
    """The worker sits inside `no_grad` while the main thread runs ops: they still record."""
    x = t.ones(2, requires_grad=True)
    entered, release = threading.Event(), threading.Event()

    def body() -> list:
        with t.no_grad():
            inside = [t.is_grad_enabled(), (x * 2).grad_fn is None]
            entered.set()
            wait(release)
        return inside

    join = start(body)
    try:
        wait(entered)
        y = x * 2
        main = [t.is_grad_enabled(), y.grad_fn is not None, y.requires_grad]
    finally:
        release.set()
    return [main, join()]


def inference_mode_held_in_worker(t: Any) -> list:
    """The worker sits inside `inference_mode`: the main thread's new tensors are normal and ops record."""
    x = t.ones(2, requires_grad=True)
    entered, release = threading.Event(), threading.Event()

    def body() -> list:
        with t.inference_mode():
            inside = [t.is_inference_mode_enabled(), t.ones(1).is_inference()]
            entered.set()
            wait(release)
        return inside

    join = start(body)
    try:
        wait(entered)
        main = [t.is_inference_mode_enabled(), t.ones(1).is_inference(), (x * 2).grad_fn is not None]
    finally:
        release.set()
    return [main, join()]


def worker_started_inside_no_grad(t: Any) -> list:
    """A thread started from within the main thread's `no_grad` starts with grad mode on, and records."""
    x = t.ones(2, requires_grad=True)
    with t.no_grad():
        worker = start(lambda: [t.is_grad_enabled(), t.is_inference_mode_enabled(), (x * 2).grad_fn is not None])()
        main = [t.is_grad_enabled(), (x * 2).grad_fn is None]
    return [main, worker]


def worker_started_inside_inference_mode(t: Any) -> list:
    """A thread started from within the main thread's `inference_mode` starts outside it."""
    x = t.ones(2, requires_grad=True)
    with t.inference_mode():
        worker = start(lambda: [t.is_grad_enabled(), t.is_inference_mode_enabled(), t.ones(1).is_inference(),
                                (x * 2).grad_fn is not None])()
        main = [t.is_inference_mode_enabled(), t.ones(1).is_inference()]
    return [main, worker]


def set_grad_enabled_in_worker(t: Any) -> list:
    """`set_grad_enabled(False)` called as a function in a worker turns grad mode off there only."""
    x = t.ones(2, requires_grad=True)
    switched, release = threading.Event(), threading.Event()

    def body() -> list:
        t.set_grad_enabled(False)
        try:
            inside = [t.is_grad_enabled(), (x * 2).grad_fn is None]
            switched.set()
            wait(release)
        finally:  # a process-wide state (what this test guards against) must not leak into later tests
            t.set_grad_enabled(True)
        return inside

    join = start(body)
    try:
        wait(switched)
        main = [t.is_grad_enabled(), (x * 2).grad_fn is not None]
    finally:
        release.set()
    return [main, join()]


def backward_paused_in_worker(t: Any) -> list:
    """A backward pass (which turns recording off while it runs) paused in a hook leaves other threads alone."""
    x, other = t.ones(2, requires_grad=True), t.ones(2, requires_grad=True)
    entered, release = threading.Event(), threading.Event()
    inside: list = []

    def hook(grad: Any) -> None:
        inside.append(t.is_grad_enabled())
        entered.set()
        wait(release)

    def body() -> list:
        x.register_hook(hook)
        (x * 3).sum().backward()
        return [inside, x.grad.tolist()]

    join = start(body)
    try:
        wait(entered)
        main = [t.is_grad_enabled(), (other * 2).grad_fn is not None]
    finally:
        release.set()
    return [main, join()]


# (scenario, what it must return: [what the main thread saw, what the worker saw])
EXPECTED = [
    (no_grad_held_in_worker, [[True, True, True], [False, True]]),
    (inference_mode_held_in_worker, [[False, False, True], [True, True]]),
    (worker_started_inside_no_grad, [[False, True], [True, False, True]]),
    (worker_started_inside_inference_mode, [[True, True], [True, False, False, True]]),
    (set_grad_enabled_in_worker, [[True, True], [False, True]]),
    (backward_paused_in_worker, [[True, True], [[False], [3.0, 3.0]]]),
]
SCENARIOS = [pytest.param(scenario, expected, id=scenario.__name__) for scenario, expected in EXPECTED]


@pytest.mark.parametrize(("scenario", "expected"), SCENARIOS)
def test_engine_grad_mode_is_thread_local(scenario: Callable[[Any], list], expected: list) -> None:
    assert scenario(engine) == expected
    assert engine.is_grad_enabled() and not engine.is_inference_mode_enabled()
    assert grad_mode.GRAD_OFF == []  # every thread back in grad mode: ops read the fast answer again


@pytest.mark.parametrize(("scenario", "expected"), SCENARIOS)
def test_pytorch_grad_mode_is_thread_local_the_same_way(scenario: Callable[[Any], list], expected: list) -> None:
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    assert scenario(torch) == expected


def test_a_new_thread_gets_ieee_results_without_numpy_warnings() -> None:
    """numpy's error state is per thread: a worker (a training run, a background evaluation) enters a grad
    mode and then computes log(0) and a saturated BCE as the main thread does, with no warning (pytest turns
    warnings into errors, so a warning would end the thread with an exception)."""
    results: list = []

    def work() -> None:
        with engine.enable_grad():
            log_zero = engine.log(engine.tensor([0.0, 1.0])).tolist()
            x = engine.tensor([1.0], requires_grad=True)
            loss = engine.nn.functional.binary_cross_entropy(x, engine.tensor([0.0]))
            results.append((log_zero, loss.item()))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert results == [([float("-inf"), 0.0], 100.0)]


def grad_mode_after_a_hook_switches_it(t: Any, outer: bool, inner: bool) -> list:
    """A node hook sets grad mode without restoring it during a backward run inside `set_grad_enabled(outer)`:
    what grad mode is after the backward, and whether an op then records."""
    x = t.ones(2, requires_grad=True)
    loss = (x * 2).sum()

    def switch(grad_outputs: tuple) -> None:
        t.set_grad_enabled(inner)

    loss.grad_fn.register_prehook(switch)
    with t.set_grad_enabled(outer):
        loss.backward()
        seen = [t.is_grad_enabled(), (x * 2).grad_fn is not None]
    return [*seen, t.is_grad_enabled(), (x * 2).grad_fn is not None]


SWITCHES = [(True, False), (False, True), (True, True), (False, False)]


@pytest.mark.parametrize(("outer", "inner"), SWITCHES)
def test_grad_mode_set_by_a_hook_ends_with_the_backward(outer: bool, inner: bool) -> None:
    """The backward restores the grad mode it started in, and the bookkeeping that lets ops skip the
    thread-local read (grad_mode.GRAD_OFF) balances: after it, ops record again."""
    assert grad_mode_after_a_hook_switches_it(engine, outer, inner) == [outer, outer, True, True]
    assert grad_mode.GRAD_OFF == []


@pytest.mark.parametrize(("outer", "inner"), SWITCHES)
def test_pytorch_ends_a_hooks_grad_mode_with_the_backward_too(outer: bool, inner: bool) -> None:
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    assert grad_mode_after_a_hook_switches_it(torch, outer, inner) == [outer, outer, True, True]


def test_an_op_records_in_grad_mode_while_another_thread_leaves_it_unrestored() -> None:
    """A worker that turns grad mode off with the function form and ends without restoring it leaves an entry
    in grad_mode.GRAD_OFF: ops elsewhere then read their own thread's flag, and still record."""
    join = start(lambda: engine.set_grad_enabled(False) and engine.is_grad_enabled())
    assert join() is False
    x = engine.ones(2, requires_grad=True)
    assert all(node is not None for node in ((x * 2).grad_fn, (x + 1).grad_fn, engine.tanh(x).grad_fn,
                                             x.mean().grad_fn))
    grad_mode.GRAD_OFF.clear()  # the dead worker's entry (only ever makes ops take the slower read)
