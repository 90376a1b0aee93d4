"""Engine benchmark: GradStudio's engine against PyTorch eager and HIPS autograd (DESIGN.md, "Performance targets").

Run `python bench/engine.py` (or `--quick`). Every workload runs in every framework in one process, in
interleaved rounds, and the table reports the median time per iteration and the ratios of those medians,
so machine noise mostly cancels out of the ratios.

Workloads (`bench/engine_workloads.py`): `snippet` (the notes' first snippet alone, issue 15's row), `notes`
(the notes' two snippets), `chain` (1,000 elementwise ops) and `mlp` (a 784-256-10 MLP, BLAS-bound).

The engine and PyTorch run the very same workload code (the engine is a drop-in `torch`); HIPS autograd gets
the same computation in `autograd.numpy`. PyTorch is limited to the thread count numpy's BLAS uses.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import importlib.metadata
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # engine_workloads, also under `python -m bench.engine`

from engine_workloads import WORKLOADS, Step, Workload, disagreements, hips_steps, torch_api_steps  # noqa: E402 - the module beside this script

import gradstudio.engine as engine  # noqa: E402 - after making the checkout importable

OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


# ----- environment -----------------------------------------------------------------------------------------


def _openblas_library() -> ctypes.CDLL | None:
    """numpy's OpenBLAS, found among the libraries this process has loaded."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def _openblas_call(library: ctypes.CDLL | None, names: tuple[str, ...], restype: Any) -> Any:
    for name in names:
        function = getattr(library, name, None) if library is not None else None
        if function is not None:
            function.restype = restype
            return function()
    return None


def blas_info() -> tuple[int, str]:
    """numpy's BLAS thread count and the OpenBLAS kernel it picked (its core name), as far as they can be read."""
    library = _openblas_library()
    threads = _openblas_call(library, ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                                       "openblas_get_num_threads"), ctypes.c_int)
    core = _openblas_call(library, ("scipy_openblas_get_corename64_", "openblas_get_corename64_",
                                    "openblas_get_corename"), ctypes.c_char_p)
    if threads is None:
        threads = int(os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
                      or os.cpu_count() or 1)
    return threads, core.decode() if core else "unknown"


def set_blas_threads(threads: int) -> bool:
    """Make numpy's OpenBLAS use `threads` threads; False when its setter cannot be found."""
    library = _openblas_library()
    for name in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads"):
        function = getattr(library, name, None) if library is not None else None
        if function is not None:
            function.argtypes = [ctypes.c_int]
            function(threads)
            return True
    return False


def load_frameworks(threads: int) -> tuple[dict[str, dict[str, Step]], list[str]]:
    """The workloads of every framework that can be imported, and notes about the ones that cannot."""
    frameworks = {"engine": torch_api_steps(engine)}
    notes = []
    try:
        import torch
    except ImportError:
        notes.append("PyTorch is not installed: engine/torch ratios skipped.")
    else:
        torch.set_num_threads(threads)
        frameworks["torch"] = torch_api_steps(torch)
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        notes.append("HIPS autograd is not installed: engine/hips ratios skipped.")
    else:
        frameworks["hips"] = hips_steps(anp, autograd.grad)
    return frameworks, notes


# ----- timing ----------------------------------------------------------------------------------------------


@dataclass
class Timing:
    """Seconds per iteration of each framework, one sample per interleaved round."""

    samples: dict[str, list[float]]

    def median(self, name: str) -> float | None:
        """Median seconds per iteration of `name` (None if that framework did not run)."""
        values = self.samples.get(name)
        return statistics.median(values) if values else None

    def ratio(self, name: str, other: str) -> float | None:
        """Median over rounds of time(name) / time(other): both were timed back to back in each round."""
        if name not in self.samples or other not in self.samples:
            return None
        return statistics.median(a / b for a, b in zip(self.samples[name], self.samples[other]))


def time_block(step: Step, iterations: int) -> float:
    """Seconds per iteration over one block of `iterations` calls."""
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    return (time.perf_counter() - start) / iterations


def measure(steps: dict[str, Step], repeats: int, block_seconds: float) -> Timing:
    """Time every framework in `repeats` rounds; each round runs them back to back, in rotating order."""
    iterations = {}
    for name, step in steps.items():
        step()  # warm caches and lazy imports
        probe = time_block(step, 3)
        iterations[name] = max(1, int(block_seconds / probe))
    samples: dict[str, list[float]] = {name: [] for name in steps}
    names = list(steps)
    for round_index in range(repeats):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            samples[name].append(time_block(steps[name], iterations[name]))
    return Timing(samples)


# ----- report ----------------------------------------------------------------------------------------------


def format_time(seconds: float | None) -> str:
    """A duration with a unit that keeps three significant digits."""
    if seconds is None:
        return "n/a"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def verdict(ratio: float | None, target: float, strict: bool) -> str:
    """The ratio against its target: PASS, MISS, or n/a when a framework is missing."""
    if ratio is None:
        return "n/a"
    met = ratio < target if strict else ratio <= target
    return "PASS" if met else "MISS"


def report(results: dict[str, Timing], chosen: list[Workload]) -> list[str]:
    """The table: median times, engine/torch and engine/hips ratios, targets, verdicts."""
    header = (f"{'workload':<40} {'engine':>9} {'torch':>9} {'hips':>9}   "
              f"{'eng/torch':>9} {'target':>7} {'':4}   {'eng/hips':>8} {'target':>7} {'':4}")
    lines = [header, "-" * len(header)]
    for workload in chosen:
        timing = results[workload.key]
        torch_ratio, hips_ratio = timing.ratio("engine", "torch"), timing.ratio("engine", "hips")
        lines.append(
            f"{workload.title:<40} {format_time(timing.median('engine')):>9} "
            f"{format_time(timing.median('torch')):>9} {format_time(timing.median('hips')):>9}   "
            f"{_ratio(torch_ratio):>9} {'<=' + format(workload.torch_target, '.1f') + 'x':>7} "
            f"{verdict(torch_ratio, workload.torch_target, strict=False):4}   "
            f"{_ratio(hips_ratio):>8} {'<' + format(workload.hips_target, '.1f') + 'x':>7} "
            f"{verdict(hips_ratio, workload.hips_target, strict=True):4}"
        )
    return lines


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def environment_lines(threads: int, core: str, repeats: int, block_seconds: float) -> list[str]:
    """What the numbers depend on: versions, threads, the OpenBLAS workaround variables."""
    versions = [f"python {platform.python_version()}", f"numpy {np.__version__}"]
    for package in ("torch", "autograd"):
        if package in sys.modules:
            versions.append(f"{package} {importlib.metadata.version(package)}")
    openblas = ", ".join(f"{name}={os.environ[name]!r}" if name in os.environ else f"{name} unset"
                         for name in OPENBLAS_VARIABLES)
    torch_threads = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else "n/a"
    return [
        ", ".join(versions),
        f"threads: numpy BLAS {threads} (OpenBLAS core {core}), torch {torch_threads}, cpus {os.cpu_count()}",
        f"environment: {openblas}",
        f"timing: {repeats} interleaved rounds of ~{block_seconds:g} s per framework; times are medians over "
        "rounds, ratios medians of the per-round ratios",
    ]


def main(argv: list[str] | None = None) -> int:
    """Parse options, run every workload in every available framework, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds (a smoke run, noisier)")
    parser.add_argument("--repeats", type=int, help="rounds per workload (default 21, or 5 with --quick)")
    parser.add_argument("--threads", type=int,
                        help="run numpy's BLAS and PyTorch with this many threads (default: numpy's own count)")
    parser.add_argument("--only", choices=[w.key for w in WORKLOADS], action="append",
                        help="run only this workload (may be repeated)")
    options = parser.parse_args(argv)
    repeats = options.repeats or (5 if options.quick else 21)
    block_seconds = 0.03 if options.quick else 0.1
    chosen = [w for w in WORKLOADS if not options.only or w.key in options.only]

    setup_notes = []
    if options.threads and not set_blas_threads(options.threads):
        setup_notes.append("could not set numpy's BLAS thread count: --threads applies to PyTorch only.")
    threads, core = blas_info()
    frameworks, notes = load_frameworks(options.threads or threads)
    notes = setup_notes + notes
    for line in environment_lines(threads, core, repeats, block_seconds):
        print(line)
    for note in notes:
        print(f"note: {note}")
    print()
    results = {}
    for workload in chosen:
        steps = {name: workloads[workload.key] for name, workloads in frameworks.items()}
        for problem in disagreements(workload.key, steps):
            print(f"warning: {problem}")
        results[workload.key] = measure(steps, repeats, block_seconds)
    for line in report(results, chosen):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
