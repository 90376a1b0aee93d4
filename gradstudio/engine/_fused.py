"""Adam's and SGD's updates of a large parameter as compiled loops (numba); imported only through
`_fused_loader.fused_loops`.

numpy's passes (`_adam.update`) read and write every element thirteen times (SGD with momentum's five or six);
these loops do each element's arithmetic once, in the same float operations and order, so they give the same
bits: no fastmath (nothing is reordered or contracted into a fused multiply-add), and `error_model="numpy"`
lets a division by zero give inf or nan as numpy's does (without numba's per-division check LLVM also
vectorises the loop). Adam's is about 3x faster than the passes on the MLP's 784 x 256 float32 weight
(bench/adam_kernels.py), SGD's with momentum about 2x.

Importing this module imports numba (a few tenths of a second; the first call compiles for the arrays' dtype,
as long again), so nothing imports it before an optimiser step needs it. `cache=True` keeps the machine code
for the next run, in `__pycache__` beside this file or, when that folder is read-only, in numba's user-wide
cache; with no writable folder at all (or a cache numba cannot read) the loop is compiled afresh in the process
(`Compiled`). `nogil=True`: a UI thread runs while a training worker is in the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np


def adam_loop(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, exp_avg_sq: np.ndarray,
              max_exp_avg_sq: np.ndarray, amsgrad: bool, one_minus_beta1: Any, one_minus_beta2: Any, beta2: Any,
              bias_correction2_sqrt: Any, eps: Any, step_size: Any) -> None:
    """Adam's update of flat, contiguous arrays of one dtype in place, element by element, in `_adam.update`'s
    operations and order (the scalars in the arrays' dtype; `max_exp_avg_sq` is read only with `amsgrad`)."""
    for i in range(param.size):
        g = grad[i]
        m = exp_avg[i] + (g - exp_avg[i]) * one_minus_beta1
        exp_avg[i] = m
        v = exp_avg_sq[i] * beta2 + g * g * one_minus_beta2
        exp_avg_sq[i] = v
        if amsgrad:
            most = max_exp_avg_sq[i]
            if not most >= v:  # np.maximum's answer: the larger, nan if either is nan
                most = v if most == most else most
            max_exp_avg_sq[i] = most
            v = most
        param[i] = param[i] + m * step_size / (np.sqrt(v) / bias_correction2_sqrt + eps)


def sgd_loop(param: np.ndarray, grad: np.ndarray, buffer: np.ndarray, momentum: Any, one_minus_dampening: Any,
             lr: Any, with_momentum: bool, first: bool, nesterov: bool) -> None:
    """SGD's update of flat, contiguous arrays of one dtype in place, in `optim.SGD`'s numpy operations and order:
    with momentum the buffer (on the first step already a copy of the gradient) is updated and steps, or with
    Nesterov the gradient plus the buffer times momentum; `buffer` is read only `with_momentum`."""
    for i in range(param.size):
        g = grad[i]
        step = g
        if with_momentum:
            b = g
            if not first:
                b = buffer[i] * momentum + g * one_minus_dampening
                buffer[i] = b
            step = g + b * momentum if nesterov else b
        param[i] = param[i] - step * lr


_OPTIONS = {"nogil": True, "error_model": "numpy"}


class Compiled:
    """A loop compiled, from numba's cache when it can: a cache numba cannot read or write (a corrupt or
    truncated index raises from inside numba on the first call of a dtype, before the loop runs) leaves this
    process on the loop compiled without a cache; with no writable cache folder numba refuses `cache=True` at
    once."""

    def __init__(self, loop: Callable[..., None]) -> None:
        self.uncached = numba.njit(**_OPTIONS)(loop)
        try:
            self.kernel = numba.njit(cache=True, **_OPTIONS)(loop)
        except RuntimeError:  # numba's "cannot cache function ...: no locator available"
            self.kernel = self.uncached

    def __call__(self, *arguments: Any) -> None:
        try:
            self.kernel(*arguments)
        except Exception:
            if self.kernel is self.uncached:
                raise
            self.kernel = self.uncached
            self.kernel(*arguments)

    @property
    def cached(self) -> bool:
        """Whether the loop runs from numba's cache (else compiled in this process only)."""
        return self.kernel is not self.uncached


adam = Compiled(adam_loop)
sgd = Compiled(sgd_loop)
