"""Adam's update of the MLP's w1 (784 x 256 float32) by the engine's numpy passes against fused elementwise
kernels, for issue 13: numexpr (when installed; not a dependency) and the engine's numba loop (`_fused.py`).

Run `python bench/adam_kernels.py [--rounds R]`. A kernel counts only if it gives the engine's bits: 20 steps
with Adam's real factors are compared byte for byte (the parameter and both moments) before anything is timed.
Then the median microseconds per update, the kernels interleaved. `bench/train.py --adam numpy` runs the whole
training step with numpy's passes instead of the loop.

Both run on one thread: numexpr's pool is pinned to one thread before it loads, numba's `njit` spawns none.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_MAX_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402 - after pinning the threads

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gradstudio.engine import _adam, _aligned, _fused_loader  # noqa: E402

SIZE = 784 * 256
Update = Callable[[list[np.ndarray], tuple], None]  # (param, grad, exp_avg, exp_avg_sq), Adam's factors


def factors(step: int, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> tuple:
    """Adam's per-step constants as `optim.Adam._factors` makes them for a float32 parameter."""
    real = np.float32
    return (real(1 - beta1), real(1 - beta2), real(beta2), real(math.sqrt(1 - beta2 ** step)), real(eps),
            real(-lr / (1 - beta1 ** step)))


def numpy_update() -> Update:
    """The engine's own path: `_adam.update_in_pieces`, thirteen numpy passes per cache-sized piece."""
    scratch, other = _aligned.empty(_adam.CHUNK, np.float32), _aligned.empty(_adam.CHUNK, np.float32)
    return lambda arrays, constants: _adam.update_in_pieces(arrays[0], arrays[1], [*arrays[2:], None], scratch,
                                                            other, constants)


def numexpr_update() -> Update | None:
    """Three numexpr programs (first moment, second moment, parameter), float32 throughout: the constants are
    float32 arguments (a Python float literal would make the expression float64)."""
    try:
        import numexpr
    except ImportError:
        return None
    numexpr.set_num_threads(1)
    real = float  # numexpr's name for float32 in a signature
    first = numexpr.NumExpr("m + (g - m) * a", signature=[("m", real), ("g", real), ("a", real)])
    second = numexpr.NumExpr("v * b + g * g * c", signature=[("v", real), ("b", real), ("g", real), ("c", real)])
    step = numexpr.NumExpr("p + m * s / (sqrt(v) / q + e)", signature=[
        ("p", real), ("m", real), ("s", real), ("v", real), ("q", real), ("e", real)])
    options = {"order": "K", "casting": "safe", "ex_uses_vml": False}

    def update(arrays: list[np.ndarray], constants: tuple) -> None:
        p, g, m, v = arrays
        one_minus_beta1, one_minus_beta2, beta2, correction, eps, step_size = constants
        first(m, g, one_minus_beta1, out=m, **options)
        second(v, beta2, g, one_minus_beta2, out=v, **options)
        step(p, m, step_size, v, correction, eps, out=p, **options)

    return update


def numba_update() -> Update | None:
    """The engine's compiled loop (`_fused.adam`, what `optim.Adam` runs for a large parameter), or None without
    numba."""
    loops = _fused_loader.fused_loops()
    if loops is None:
        return None
    return lambda arrays, constants: loops.adam(*(a.reshape(-1) for a in (arrays[0], arrays[1], arrays[2], arrays[3],
                                                                      arrays[3])), False, *constants)


def _state(rng: np.random.Generator) -> list[np.ndarray]:
    param = _aligned.empty(SIZE, np.float32)
    param[:] = rng.standard_normal(SIZE).astype(np.float32) * np.float32(0.05)
    gradient = rng.standard_normal(SIZE).astype(np.float32) * np.float32(0.01)  # numpy's own (16-byte) alignment
    return [param, gradient, _aligned.zeros_like(param), _aligned.zeros_like(param)]


def same_bits(update: Update) -> bool:
    """Whether `update` gives the numpy path's parameter and moments, byte for byte, over 20 steps."""
    reference, candidate = _state(np.random.default_rng(0)), _state(np.random.default_rng(0))
    rng = np.random.default_rng(2)
    general = numpy_update()
    for step in range(1, 21):
        gradient = rng.standard_normal(SIZE).astype(np.float32) * np.float32(0.01)
        reference[1][:] = candidate[1][:] = gradient
        general(reference, factors(step))
        update(candidate, factors(step))
    return all(a.tobytes() == b.tobytes() for a, b in zip(reference, candidate))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="timed updates per kernel (default 300)")
    rounds = parser.parse_args().rounds
    kernels = {"numpy": numpy_update(), "numexpr": numexpr_update(), "numba": numba_update()}
    timed: dict[str, Update] = {}
    for name, update in kernels.items():
        if update is None:
            print(f"{name:<8} not installed")
        elif not same_bits(update):
            print(f"{name:<8} different bits from the engine's path: not timed")
        else:
            timed[name] = update
    arrays = {name: _state(np.random.default_rng(1)) for name in timed}
    samples: dict[str, list[float]] = {name: [] for name in timed}
    for _ in range(rounds):
        for name, update in timed.items():
            start = time.perf_counter()
            update(arrays[name], factors(5))
            samples[name].append(time.perf_counter() - start)
    for name, values in samples.items():
        print(f"{name:<8} {statistics.median(values) * 1e6:8.1f} us per update of {SIZE} float32 (same bits)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
