"""float32 agreement with PyTorch, per function: the share of inputs where a result is bit-identical to torch's.

Run `python bench/float32_agreement.py` (needs torch). For each transcendental function it draws 10^5 float32
inputs from the function's usual domain (fixed seed) and compares three float32 results with torch's CPU result:
numpy's float32 kernel, the float64 kernel rounded to float32, and the engine's own result. The engine computes
each function with whichever path agrees better (`precise` in `ops/_core.py`); this table is how that was
chosen (sigmoid: the float64 exp rounded, then float32 arithmetic, as PyTorch's kernel; sin and cos: the float64
kernel rounded, 95% against numpy's float32 84% and 81%, at about 35x numpy's float32 time on large tensors).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gradstudio.engine as engine  # noqa: E402


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _softmax(x: np.ndarray) -> np.ndarray:
    rows = x.reshape(-1, 10)
    e = np.exp(rows - rows.max(1, keepdims=True))
    return (e / e.sum(1, keepdims=True)).reshape(x.shape)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    rows = x.reshape(-1, 10)
    shifted = rows - rows.max(1, keepdims=True)
    return (shifted - np.log(np.exp(shifted).sum(1, keepdims=True))).reshape(x.shape)


def _logits(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.normal(0, 3, n)


def _log_uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.exp(rng.uniform(-10, 10, n))


# name -> (numpy function, engine call, torch name, input sampler)
FUNCTIONS: dict[str, tuple[Callable, Callable, str, Callable[[np.random.Generator, int], np.ndarray]]] = {
    "exp": (np.exp, engine.exp, "exp", lambda rng, n: rng.uniform(-20, 20, n)),
    "log": (np.log, engine.log, "log", _log_uniform),
    "sqrt": (np.sqrt, engine.sqrt, "sqrt", _log_uniform),
    "sin": (np.sin, engine.sin, "sin", lambda rng, n: rng.uniform(-10, 10, n)),
    "cos": (np.cos, engine.cos, "cos", lambda rng, n: rng.uniform(-10, 10, n)),
    "tanh": (np.tanh, engine.tanh, "tanh", lambda rng, n: rng.uniform(-5, 5, n)),
    "sigmoid": (_sigmoid, engine.sigmoid, "sigmoid", lambda rng, n: rng.uniform(-20, 20, n)),
    "softmax": (_softmax, lambda x: engine.softmax(x.view(-1, 10), 1), "softmax", _logits),
    "log_softmax": (_log_softmax, lambda x: engine.log_softmax(x.view(-1, 10), 1), "log_softmax", _logits),
}


def agreement(name: str, size: int, seed: int = 0) -> dict[str, float]:
    """Per path, the fraction of `size` inputs whose float32 result equals torch's bit for bit."""
    import torch

    function, engine_call, torch_name, sample = FUNCTIONS[name]
    x = sample(np.random.default_rng(seed), size).astype(np.float32)
    torch_input = torch.from_numpy(x)
    if torch_name in ("softmax", "log_softmax"):  # rows of ten logits, as a classifier's output
        expected = getattr(torch, torch_name)(torch_input.view(-1, 10), 1).reshape(-1).numpy()
    else:
        expected = getattr(torch, torch_name)(torch_input).numpy()

    def share(result: np.ndarray) -> float:
        return float(np.mean((result == expected) | (np.isnan(result) & np.isnan(expected))))

    return {
        "float32": share(function(x).astype(np.float32)),
        "float64": share(function(x.astype(np.float64)).astype(np.float32)),
        "engine": share(engine_call(engine.tensor(x))._data.reshape(-1)),
    }


def _time(function: Callable, x: np.ndarray, precise: bool, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        if precise:
            function(x.astype(np.float64)).astype(np.float32)
        else:
            function(x)
        best = min(best, time.perf_counter() - start)
    return best


def summation_agreement(sizes: list[int], seed: int = 0) -> dict[str, float]:
    """Per reduction (sum, mean), the share of float32 vectors of the given sizes whose result is torch's."""
    import torch

    rng = np.random.default_rng(seed)
    hits = {"sum": 0, "mean": 0}
    for size in sizes:
        x = rng.standard_normal(size).astype(np.float32)
        for name in hits:
            ours = getattr(engine.from_numpy(x), name)().numpy()
            hits[name] += int(ours.tobytes() == getattr(torch.from_numpy(x), name)().numpy().tobytes())
    return {name: count / len(sizes) for name, count in hits.items()}


def main(argv: list[str] | None = None) -> int:
    """Print the agreement table (and the time of each path on the same inputs)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="inputs per function (default 10^5)")
    args = parser.parse_args(argv)
    print(f"{'function':10} {'numpy f32':>10} {'f64->f32':>10} {'engine':>10} {'f32 time':>10} {'f64 time':>10}")
    for name, (function, _, _, sample) in FUNCTIONS.items():
        shares = agreement(name, args.size)
        x = sample(np.random.default_rng(0), args.size).astype(np.float32)
        fast, precise = _time(function, x, False), _time(function, x, True)
        print(f"{name:10} {shares['float32']:10.2%} {shares['float64']:10.2%} {shares['engine']:10.2%} "
              f"{fast * 1e3:8.2f}ms {precise * 1e3:8.2f}ms")
    rng = np.random.default_rng(1)
    print(f"\n{'sizes':26} {'sum':>8} {'mean':>8}   (float32 vectors, share bit-identical to torch's)")
    for low, high in ((1, 65), (65, 4097), (4097, 32769), (32769, 100_001)):
        shares = summation_agreement([int(n) for n in rng.integers(low, high, 300)])
        print(f"{f'{low}..{high - 1}':26} {shares['sum']:8.1%} {shares['mean']:8.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
