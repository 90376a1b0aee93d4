"""The engine benchmark's workloads (run and reported by bench/engine.py), each written once for PyTorch's API
(the engine and PyTorch run the very same code: the engine is a drop-in `torch`) and once for HIPS autograd
(the same computation in `autograd.numpy`), and the check that every framework computes the same gradients.

- snippet: the notes' first snippet alone (`ones(3, requires_grad=True)`, `x + 2`, `y * y * 3`, `mean`,
  `backward`): the per-op and per-backward overhead of a tiny graph (issue 15's row).
- notes: the user's notes snippet (`x + 2`, `y * y * 3`, `mean`, `backward`, then the `randn(2, 2)` one),
  tensors created afresh each iteration: per-op and per-backward overhead.
- chain: 1,000 elementwise ops (mul, add, tanh, sin) on a (16,) float32 tensor, then `sum().backward()`.
- mlp: 784-256-10 MLP forward and backward at batch 64, float32, written as `x @ w + b`, `relu` and a mean
  squared error in every framework so the comparison is like for like (BLAS-bound).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

# One iteration of a workload in one framework; returns the gradients it computed (checked to agree).
Step = Callable[[], list[Any]]

CHAIN_LENGTH = 1000
MLP_SIZES = (784, 256, 10)
MLP_BATCH = 64


@dataclass(frozen=True)
class Workload:
    """One benchmark row: a name, a description, and the targets from DESIGN.md."""

    key: str
    title: str
    torch_target: float  # engine time / PyTorch time must be at most this
    hips_target: float = 1.0  # engine time / HIPS time must be below this


WORKLOADS = (
    Workload("snippet", "notes' first snippet, fwd+bwd", 0.5),
    Workload("notes", "notes snippet (per iteration)", 0.5),
    Workload("chain", f"chain of {CHAIN_LENGTH} elementwise ops, (16,)", 0.8),
    Workload("mlp", f"MLP {'-'.join(map(str, MLP_SIZES))} fwd+bwd, batch {MLP_BATCH}", 1.2),
)


def torch_api_steps(torch: ModuleType) -> dict[str, Step]:
    """The workloads for a module with PyTorch's API (`gradstudio.engine` or `torch`)."""

    def snippet() -> list[Any]:
        x = torch.ones(3, requires_grad=True)
        y = x + 2
        z = y * y * 3
        out = z.mean()
        out.backward()
        return [x.grad]

    def notes() -> list[Any]:
        x = torch.ones(3, requires_grad=True)
        y = x + 2
        z = y * y * 3
        out = z.mean()
        out.backward()
        a = torch.randn(2, 2, requires_grad=True)
        b = a * 3
        c = b.mean()
        c.backward()
        return [x.grad, a.grad]

    chain_input = torch.from_numpy(np.linspace(-1, 1, 16, dtype=np.float32)).requires_grad_()
    shift = torch.from_numpy(np.full(16, 0.1, dtype=np.float32))

    def chain() -> list[Any]:
        chain_input.grad = None
        h = chain_input
        for _ in range(CHAIN_LENGTH // 4):
            h = h * 0.9
            h = h + shift
            h = torch.tanh(h)
            h = torch.sin(h)
        h.sum().backward()
        return [chain_input.grad]

    x, y, *weights = (torch.from_numpy(array) for array in mlp_arrays())
    w1, b1, w2, b2 = (weight.requires_grad_() for weight in weights)

    def mlp() -> list[Any]:
        for weight in (w1, b1, w2, b2):
            weight.grad = None
        hidden = torch.relu(x @ w1 + b1)
        out = hidden @ w2 + b2
        loss = ((out - y) ** 2).mean()
        loss.backward()
        return [weight.grad for weight in (w1, b1, w2, b2)]

    return {"snippet": snippet, "notes": notes, "chain": chain, "mlp": mlp}


def hips_steps(anp: ModuleType, grad: Callable) -> dict[str, Step]:
    """The workloads in HIPS autograd: the same arithmetic, differentiated with `autograd.grad`."""

    def snippet_x(x: np.ndarray) -> Any:
        y = x + 2
        z = y * y * 3
        return anp.mean(z)

    def snippet_a(a: np.ndarray) -> Any:
        return anp.mean(a * 3)

    grad_x, grad_a = grad(snippet_x), grad(snippet_a)

    def snippet() -> list[Any]:
        return [grad_x(np.ones(3, dtype=np.float32))]

    def notes() -> list[Any]:
        return [grad_x(np.ones(3, dtype=np.float32)), grad_a(np.random.randn(2, 2).astype(np.float32))]

    shift = np.full(16, 0.1, dtype=np.float32)
    chain_input = np.linspace(-1, 1, 16, dtype=np.float32)

    def chain_loss(h: np.ndarray) -> Any:
        for _ in range(CHAIN_LENGTH // 4):
            h = h * 0.9
            h = h + shift
            h = anp.tanh(h)
            h = anp.sin(h)
        return anp.sum(h)

    grad_chain = grad(chain_loss)

    x, y, *weights = mlp_arrays()

    def mlp_loss(params: tuple) -> Any:
        w1, b1, w2, b2 = params
        hidden = anp.maximum(anp.dot(x, w1) + b1, 0)
        out = anp.dot(hidden, w2) + b2
        return anp.mean((out - y) ** 2)

    grad_mlp = grad(mlp_loss)
    params = tuple(weights)

    return {"snippet": snippet, "notes": notes, "chain": lambda: [grad_chain(chain_input)],
            "mlp": lambda: list(grad_mlp(params))}


def mlp_arrays() -> list[np.ndarray]:
    """Inputs, targets and initial weights of the MLP (float32, the same in every framework)."""
    rng = np.random.default_rng(0)
    n_in, n_hidden, n_out = MLP_SIZES

    def uniform(shape: tuple, fan_in: int) -> np.ndarray:
        bound = 1 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(np.float32)

    return [
        rng.standard_normal((MLP_BATCH, n_in)).astype(np.float32),
        rng.standard_normal((MLP_BATCH, n_out)).astype(np.float32),
        uniform((n_in, n_hidden), n_in),
        uniform((n_hidden,), n_in),
        uniform((n_hidden, n_out), n_hidden),
        uniform((n_out,), n_hidden),
    ]


def disagreements(key: str, steps: dict[str, Step]) -> list[str]:
    """Frameworks whose gradients differ from the engine's on this workload (the notes' randn part aside)."""
    expected = [_as_array(grad) for grad in steps["engine"]()]
    problems = []
    for name, step in steps.items():
        got = [_as_array(grad) for grad in step()]
        if key == "notes":
            expected, got = expected[:1], got[:1]
        for want, have in zip(expected, got):
            if want.shape != have.shape or not np.allclose(want, have, rtol=1e-4, atol=1e-5):
                problems.append(f"{name} computes different gradients than the engine on '{key}'")
                break
    return problems


def _as_array(grad: Any) -> np.ndarray:
    return np.asarray(grad.detach().numpy() if hasattr(grad, "detach") else grad)
