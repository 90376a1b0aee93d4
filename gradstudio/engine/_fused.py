"""Adam's update of a large parameter as one compiled loop (numba); imported only through `_adam.fused_kernel`.

numpy's passes (`_adam.update`) read and write every element thirteen times; this loop does each element's
arithmetic once, in the same float operations and order, so it gives the same bits: no fastmath (nothing is
reordered or contracted into a fused multiply-add), and `error_model="numpy"` lets a division by zero give inf
or nan as numpy's does (without numba's per-division check LLVM also vectorises the loop). About 3x faster
than the passes on the MLP's 784 x 256 float32 weight (bench/adam_kernels.py).

Importing this module imports numba (a few tenths of a second; the first call compiles for the arrays' dtype,
as long again), so nothing imports it before an optimiser step needs it. `cache=True` keeps the machine code
for the next run, in `__pycache__` beside this file or, when that folder is read-only, in numba's user-wide
cache; with no writable folder at all the kernel is compiled afresh in each process. `nogil=True`: a UI thread
runs while a training worker is in the loop.
"""

from __future__ import annotations

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


_OPTIONS = {"nogil": True, "error_model": "numpy"}
_uncached = numba.njit(**_OPTIONS)(adam_loop)
try:
    _kernel = numba.njit(cache=True, **_OPTIONS)(adam_loop)
except RuntimeError:  # numba's "cannot cache function ...: no locator available": no writable cache folder
    _kernel = _uncached


def adam(*arguments: Any) -> None:
    """`adam_loop` compiled, from numba's cache when it can: a cache numba cannot read or write (a corrupt or
    truncated index raises from inside numba on the first call of a dtype, before the loop runs) leaves this
    process on the kernel compiled without a cache."""
    global _kernel
    try:
        _kernel(*arguments)
    except Exception:
        if _kernel is _uncached:
            raise
        _kernel = _uncached
        _kernel(*arguments)
