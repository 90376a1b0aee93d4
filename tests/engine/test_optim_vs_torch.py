"""The first 20 steps of every optimiser (and both lr schedules) on a small MLP match PyTorch's, step for step."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradstudio.engine as engine

STEPS = 20
OPTIMISERS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.02, "weight_decay": 0.3, "betas": (0.8, 0.99)}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.01}),
]
SCHEDULES = [
    (None, {}),
    ("StepLR", {"step_size": 5, "gamma": 0.5}),
    ("CosineAnnealingLR", {"T_max": 8, "eta_min": 0.001}),
]


@pytest.fixture(scope="module")
def real_torch() -> Any:
    """Real PyTorch, or a skip when it is not installed."""
    return pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")


def _initial() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.standard_normal(shape).astype(np.float32) for shape in ((8, 2), (8,), (1, 8), (1,), (16, 2), (16, 1))]


def _run(lib: Any, name: str, options: dict, schedule: str | None, schedule_options: dict) -> list[list[np.ndarray]]:
    """Train a 2-8-1 tanh MLP on fixed data; the parameters after every step."""
    w1, b1, w2, b2, x, y = _initial()
    params = [lib.tensor(array, requires_grad=True) for array in (w1, b1, w2, b2)]
    data, target = lib.tensor(x), lib.tensor(y)
    optimizer = getattr(lib.optim, name)(params, **options)
    scheduler = getattr(lib.optim.lr_scheduler, schedule)(optimizer, **schedule_options) if schedule else None
    history = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        hidden = lib.tanh(data @ params[0].T + params[1])
        loss = ((hidden @ params[2].T + params[3] - target) ** 2).mean()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history


@pytest.mark.parametrize(("schedule", "schedule_options"), SCHEDULES, ids=lambda v: str(v))
@pytest.mark.parametrize(("name", "options"), OPTIMISERS, ids=lambda v: str(v))
def test_optimiser_matches_torch_step_for_step(real_torch: Any, name: str, options: dict, schedule: str | None,
                                               schedule_options: dict) -> None:
    ours = _run(engine, name, options, schedule, schedule_options)
    theirs = _run(real_torch, name, options, schedule, schedule_options)
    for step, (mine, reference) in enumerate(zip(ours, theirs, strict=True)):
        for index, (a, b) in enumerate(zip(mine, reference, strict=True)):
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6, err_msg=f"step {step + 1}, parameter {index}")


@pytest.mark.parametrize(("schedule", "options"), SCHEDULES[1:])
def test_schedule_learning_rates_match_torch_exactly(real_torch: Any, schedule: str, options: dict) -> None:
    rates = []
    for lib in (engine, real_torch):
        optimizer = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.3)
        scheduler = getattr(lib.optim.lr_scheduler, schedule)(optimizer, **options)
        seen = []
        for _ in range(40):
            optimizer.step()
            scheduler.step()
            seen.append(scheduler.get_last_lr()[0])
        rates.append(seen)
    assert rates[0] == rates[1]


def test_adamw_defaults_and_rmsprop_refusals() -> None:
    param = engine.zeros(2, requires_grad=True)
    assert engine.optim.AdamW([param]).param_groups[0]["weight_decay"] == 0.01
    with pytest.raises(ValueError, match="Invalid alpha value"):
        engine.optim.RMSprop([param], alpha=-1.0)
