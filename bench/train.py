"""Training benchmark: optimiser steps per second, the engine against PyTorch eager in the same run.

Run `python bench/train.py [--threads N] [--rounds R] [--quick] [--sections] [--clock wall|cpu]
[--adam fused|numpy]`.
Workloads (each step is zero_grad, forward, backward and an optimiser step, written once and run by both
frameworks, since the engine is a drop-in `torch`):

- xor: the XOR MLP (2-4-1, tanh, sigmoid, binary cross-entropy), Adam on the full batch of 4: overhead-bound.
  Target: 0.6x PyTorch's time per step.
- mlp: a 784-256-10 MLP (relu, cross-entropy), Adam at batch 64, float32: GEMM-bound. Target: 0.9x.

Frameworks alternate in blocks (A B A B ...); the figure is the median over rounds of the per-round ratio
engine / torch. `--sections` profiles one mlp step instead: the time of each part (zero_grad, each layer's
forward, the loss, backward, the optimiser step) in both frameworks, alternating step by step, as the median
of the thread's CPU time (what the other processes of a shared machine take is left out).

Threads are pinned before numpy and torch load (`OMP_NUM_THREADS`, `OPENBLAS_NUM_THREADS`,
`torch.set_num_threads`): on a shared two-core machine multi-threaded timings are dominated by spin-waits.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads for BLAS and PyTorch (default 1)")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (default 9)")
    parser.add_argument("--quick", action="store_true", help="3 short rounds")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="time blocks by the wall clock (default) or by this thread's CPU time, which leaves "
                             "out the time other processes of a loaded shared machine take")
    parser.add_argument("--sections", action="store_true", help="time the parts of one mlp step instead")
    parser.add_argument("--adam", choices=("fused", "numpy"), default="fused",
                        help="the engine's Adam and SGD updates of large parameters: numba's compiled loops "
                             "(default, as the engine runs them) or numpy's passes (as without numba, in the bundle)")
    return parser.parse_args()


ARGS = _arguments()
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = str(ARGS.threads)

import numpy as np  # noqa: E402 - after pinning the threads

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import gradstudio.engine as engine  # noqa: E402
from gradstudio.engine import _fused_loader  # noqa: E402

TARGETS = {"xor": 0.6, "mlp": 0.9}
Step = Callable[[], None]


def xor_step(t: Any) -> Step:
    """One Adam step of the XOR MLP in framework `t`."""
    rng = np.random.default_rng(0)
    x = t.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = t.tensor([[0.0], [1.0], [1.0], [0.0]])
    params = [t.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
              for shape in ((2, 4), (4,), (4, 1), (1,))]
    w1, b1, w2, b2 = params
    optimiser = t.optim.Adam(params, lr=0.05)
    functional = t.nn.functional

    def step() -> None:
        optimiser.zero_grad()
        p = t.sigmoid(t.tanh(x @ w1 + b1) @ w2 + b2)
        functional.binary_cross_entropy(p, y).backward()
        optimiser.step()

    return step


def mlp_setup(t: Any) -> tuple:
    """The 784-256-10 MLP's data, labels, parameters and Adam optimiser in framework `t`."""
    rng = np.random.default_rng(1)
    x = t.tensor(rng.standard_normal((64, 784)).astype(np.float32))
    labels = t.tensor(rng.integers(0, 10, 64))
    params = [t.tensor((rng.standard_normal(shape) * scale).astype(np.float32), requires_grad=True)
              for shape, scale in (((784, 256), 0.05), ((256,), 0.0), ((256, 10), 0.06), ((10,), 0.0))]
    return x, labels, params, t.optim.Adam(params, lr=1e-3)


def mlp_step(t: Any) -> Step:
    """One Adam step of a 784-256-10 MLP with cross-entropy at batch 64 in framework `t`."""
    x, labels, (w1, b1, w2, b2), optimiser = mlp_setup(t)
    functional = t.nn.functional

    def step() -> None:
        optimiser.zero_grad()
        logits = t.relu(x @ w1 + b1) @ w2 + b2
        functional.cross_entropy(logits, labels).backward()
        optimiser.step()

    return step


SECTIONS = ("zero_grad", "x @ w1", "+ b1", "relu", "@ w2 + b2", "cross_entropy", "backward", "step")


def mlp_sections(t: Any) -> Callable[[], list[int]]:
    """The mlp step of `mlp_step`, the same ops, returning the CPU nanoseconds of each of SECTIONS."""
    x, labels, (w1, b1, w2, b2), optimiser = mlp_setup(t)
    functional, clock = t.nn.functional, time.thread_time_ns

    def step() -> list[int]:
        marks = [clock()]
        optimiser.zero_grad()
        marks.append(clock())
        hidden = x @ w1
        marks.append(clock())
        hidden = hidden + b1
        marks.append(clock())
        hidden = t.relu(hidden)
        marks.append(clock())
        logits = hidden @ w2 + b2
        marks.append(clock())
        loss = functional.cross_entropy(logits, labels)
        marks.append(clock())
        loss.backward()
        marks.append(clock())
        optimiser.step()
        marks.append(clock())
        return [b - a for a, b in zip(marks, marks[1:])]

    return step


def profile_sections(frameworks: dict[str, Any], steps: int) -> None:
    """Print the median microseconds of each section of an mlp step per framework (first tenth left out)."""
    runs = {name: mlp_sections(t) for name, t in frameworks.items()}
    times: dict[str, list[list[int]]] = {name: [] for name in runs}
    for _ in range(steps):
        for name, run in runs.items():
            times[name].append(run())
    print(f"{'us (median)':<12}" + "".join(f"{section:>14}" for section in SECTIONS) + f"{'sum':>10}")
    for name, samples in times.items():
        kept = samples[steps // 10:]
        medians = [statistics.median(sample[index] for sample in kept) / 1000 for index in range(len(SECTIONS))]
        print(f"{name:<12}" + "".join(f"{value:14.1f}" for value in medians) + f"{sum(medians):10.1f}")


def block(step: Step, iterations: int) -> float:
    """Seconds per step over `iterations` steps."""
    clock = time.thread_time if ARGS.clock == "cpu" else time.perf_counter
    start = clock()
    for _ in range(iterations):
        step()
    return (clock() - start) / iterations


def measure(make: Callable[[Any], Step], frameworks: dict[str, Any], rounds: int, seconds: float) -> dict:
    """Per-round seconds per step of each framework, alternating blocks, and the per-round ratios."""
    steps = {name: make(t) for name, t in frameworks.items()}
    iterations = {}
    for name, step in steps.items():
        probe = block(step, 3)
        iterations[name] = max(3, int(seconds / probe))
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            samples[name].append(block(step, iterations[name]))
    ratios = [a / b for a, b in zip(samples["engine"], samples.get("torch", samples["engine"]), strict=True)]
    return {"samples": samples, "ratio": statistics.median(ratios)}


def main() -> int:
    """Print the table: median time per step in each framework and the median engine/torch ratio."""
    frameworks: dict[str, Any] = {"engine": engine}
    try:
        import torch

        torch.set_num_threads(ARGS.threads)
        frameworks["torch"] = torch
        version = torch.__version__
    except ImportError:
        version = None
    rounds, seconds = (3, 0.2) if ARGS.quick else (ARGS.rounds, 0.5)
    if ARGS.adam == "numpy":
        _fused_loader._loops = None  # what the loader answers without numba
        print("engine's optimisers: numpy's passes for every parameter")
    elif _fused_loader.fused_loops() is None:  # loaded here, not in a timed block
        print("engine's optimisers: numpy's passes (numba is not installed)")
    if ARGS.sections:
        print(f"threads {ARGS.threads}; numpy {np.__version__}; torch {version or 'not installed'}; one mlp step")
        profile_sections(frameworks, 100 if ARGS.quick else 600)
        return 0
    print(f"threads {ARGS.threads}; numpy {np.__version__}; torch {version or 'not installed'}; "
          f"{rounds} rounds A B A B; {ARGS.clock} clock")
    print(f"{'workload':<8} {'engine':>10} {'torch':>10} {'ratio':>7} {'target':>7}")
    for name, make in (("xor", xor_step), ("mlp", mlp_step)):
        result = measure(make, frameworks, rounds, seconds)
        medians = {key: statistics.median(values) * 1e6 for key, values in result["samples"].items()}
        torch_text = f"{medians['torch']:8.1f}us" if "torch" in medians else "       -"
        ratio = f"{result['ratio']:.2f}x" if "torch" in medians else "-"
        print(f"{name:<8} {medians['engine']:8.1f}us {torch_text:>10} {ratio:>7} {TARGETS[name]:>6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
