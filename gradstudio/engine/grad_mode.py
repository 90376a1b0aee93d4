"""Grad modes: `no_grad`, `enable_grad`, `set_grad_enabled`, `inference_mode`.

Each saves the previous state on entry and restores it on exit, and works both as a
context manager and as a function decorator, as in PyTorch. As in PyTorch, the state is
thread-local: a mode set in one thread never affects another, and every new thread starts
with grad mode on and inference mode off.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

# How many threads are inside inference mode right now. Every tensor ever made asks whether it is made in
# inference mode; while no thread is, a plain list read answers without the slower thread-local lookup.
INFERENCE_THREADS = [0]
_INFERENCE_LOCK = threading.Lock()
# One entry per thread whose grad mode is off right now (in no_grad, inference mode or a backward pass). While it
# is empty, grad mode is on in every thread, and an op learns that from `not GRAD_OFF` (a global read) instead of
# the thread-local flag (~8x dearer). Every write of `enabled` goes through `_GradState.set_enabled`, which keeps
# it so: list.append and list.pop are atomic under the GIL, so no lock is needed.
GRAD_OFF: list[None] = []


class _GradState(threading.local):
    """Per-thread switch read by every op before it records history.

    `enabled` is whether ops record. Inside `inference_mode` nothing records, even where grad mode is
    turned back on (`enable_grad`): `inference_grad` then holds the grad mode `is_grad_enabled` reports.
    `threading.local` runs `__init__` afresh in each thread that touches the state, which gives every new
    thread PyTorch's defaults. No `__slots__`: slots would live on the one shared object, not per thread.
    """

    def __init__(self) -> None:
        # runs once in each thread, on its first grad-mode read: numpy's error state is per thread, and the
        # engine's IEEE results (inf, nan) come without warnings in every thread, as PyTorch's do
        np.seterr(all="ignore")
        self.enabled = True
        self.inference = False
        self.inference_grad = False

    def set_enabled(self, mode: bool) -> None:
        """Turn recording on or off in this thread, keeping GRAD_OFF's entry for it."""
        if mode:
            if not self.enabled:
                GRAD_OFF.pop()
                self.enabled = True
        elif self.enabled:
            GRAD_OFF.append(None)
            self.enabled = False

    def save(self) -> tuple[bool, bool, bool]:
        """The whole state, for a context to restore on exit."""
        return self.enabled, self.inference, self.inference_grad

    def restore(self, saved: tuple[bool, bool, bool]) -> None:
        """Put back a state from `save`."""
        was_inference = self.inference
        self.set_enabled(saved[0])
        self.inference, self.inference_grad = saved[1], saved[2]
        if saved[1] != was_inference:
            with _INFERENCE_LOCK:
                INFERENCE_THREADS[0] += 1 if saved[1] else -1

    def set_grad(self, mode: bool) -> None:
        """Set grad mode; within inference mode it is only reported, never recorded."""
        if self.inference:
            self.inference_grad = mode
        else:
            self.set_enabled(mode)


STATE = _GradState()


def is_grad_enabled() -> bool:
    """True when grad mode is on in this thread (inside `inference_mode`, ops still record nothing)."""
    return STATE.enabled or STATE.inference_grad


def is_inference_mode_enabled() -> bool:
    """True inside `inference_mode()` in this thread."""
    return STATE.inference


class _GradModeContext:
    """Base: a context manager that is also usable as a decorator, with or without parentheses."""

    def __new__(cls, *args: Any) -> Any:
        if len(args) == 1 and callable(args[0]) and not isinstance(args[0], bool):
            return cls()(args[0])
        return super().__new__(cls)

    def __call__(self, function: Callable) -> Callable:
        if inspect.isgeneratorfunction(function):
            return self._wrap_generator(function)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__(*self._args()):
                return function(*args, **kwargs)

        return wrapper

    def _wrap_generator(self, function: Callable) -> Callable:
        """A generator function whose every step runs in this mode (and the caller's code between steps not)."""

        @functools.wraps(function)
        def generator(*args: Any, **kwargs: Any) -> Any:
            inner = function(*args, **kwargs)
            try:
                with self.clone():
                    response = inner.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with self.clone():
                            inner.close()
                        raise
                    except BaseException as error:  # noqa: BLE001 - thrown into the generator, as PyTorch does
                        with self.clone():
                            response = inner.throw(error)
                    else:
                        with self.clone():
                            response = inner.send(request)
            except StopIteration as stop:
                return stop.value

        return generator

    def _args(self) -> tuple:
        return ()

    def clone(self) -> _GradModeContext:
        return self.__class__(*self._args())


class _FixedGradMode(_GradModeContext):
    """Set grad mode to the subclass's `_enabled` inside the block; restore the previous mode after."""

    _enabled: bool

    def __enter__(self) -> None:
        self._previous = STATE.save()
        STATE.set_grad(self._enabled)

    def __exit__(self, *exc: object) -> None:
        STATE.restore(self._previous)


class no_grad(_FixedGradMode):  # noqa: N801 - PyTorch's name
    """Disable gradient recording inside the block (or the decorated function)."""

    _enabled = False


class enable_grad(_FixedGradMode):  # noqa: N801 - PyTorch's name
    """Enable gradient recording inside the block, even within `no_grad`."""

    _enabled = True


class set_grad_enabled(_GradModeContext):  # noqa: N801 - PyTorch's name
    """Set grad mode to `mode` now; as a context manager, restore the old mode on exit."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, not "
                            f"{type(mode).__name__}")
        self._previous = STATE.save()
        self._mode = bool(mode)
        STATE.set_grad(self._mode)

    def _args(self) -> tuple:
        return (self._mode,)

    def __call__(self, function: Callable) -> Callable:
        STATE.restore(self._previous)
        return super().__call__(function)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        STATE.restore(self._previous)


class inference_mode(_GradModeContext):  # noqa: N801 - PyTorch's name
    """Like `no_grad`, and tensors created inside are inference tensors (`Tensor.is_inference()`), which
    autograd may not save for backward later. `mode=False` leaves inference mode and turns grad mode on."""

    def __init__(self, mode: bool = True) -> None:
        self._mode = bool(mode)

    def _args(self) -> tuple:
        return (self._mode,)

    def __enter__(self) -> None:
        self._previous = STATE.save()
        STATE.restore((False, True, False) if self._mode else (True, False, False))

    def __exit__(self, *exc: object) -> None:
        STATE.restore(self._previous)
