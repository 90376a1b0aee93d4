"""`optim.SGD` and `optim.Adam`: literal updates, the Optimizer base's behaviour, and training runs against PyTorch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gradstudio.engine as torch


@pytest.fixture(scope="module")
def real_torch() -> Any:
    """Real PyTorch, or a skip when it is not installed."""
    return pytest.importorskip("torch", reason="PyTorch not installed: differential tests against real PyTorch skipped")


def _close(tensor: torch.Tensor, expected: Any, tol: float = 1e-6) -> None:
    np.testing.assert_allclose(tensor.detach().numpy(), np.asarray(expected, dtype=np.float64), rtol=tol, atol=tol)


def _steps(optimizer: torch.optim.Optimizer, param: torch.Tensor, grads: list[list[float]]) -> None:
    """Run one step per gradient, handing the optimizer each gradient as `.grad`."""
    for grad in grads:
        optimizer.zero_grad()
        param.grad = torch.tensor(grad)
        optimizer.step()


# ----- literal updates -----------------------------------------------------------------------------------


def test_sgd_step_updates_data_in_place() -> None:
    p = torch.tensor([1.0, 2.0], requires_grad=True)
    data, version = p.detach().numpy(), p._version
    _steps(torch.optim.SGD([p], lr=0.1), p, [[0.5, -1.0]])
    _close(p, [0.95, 2.1])
    assert p._version == version + 1 and p.is_leaf and p.requires_grad and p.grad_fn is None
    assert np.shares_memory(data, p.detach().numpy())


@pytest.mark.parametrize(("options", "expected", "buffer"), [
    ({"momentum": 0.9, "dampening": 0.5}, [0.9, 0.76, 0.584], 1.76),  # the first step stores the raw gradient
    ({"momentum": 0.9, "nesterov": True}, [0.81, 0.539, 0.1951], 2.71),
    ({"weight_decay": 0.5}, [0.85, 0.7075, 0.572125], None),
    ({"weight_decay": 0.5, "maximize": True}, [1.05, 1.0975, 1.142625], None),
])
def test_sgd_momentum_nesterov_weight_decay_maximize(options: dict, expected: list[float], buffer: Any) -> None:
    p = torch.tensor([1.0], requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=0.1, **options)
    for value in expected:
        _steps(optimizer, p, [[1.0]])
        _close(p, [value])
    if buffer is None:
        assert p not in optimizer.state
    else:
        _close(optimizer.state[p]["momentum_buffer"], [buffer])


def test_adam_first_steps_move_by_the_learning_rate() -> None:
    p = torch.tensor([1.0, -1.0], requires_grad=True)
    optimizer = torch.optim.Adam([p], lr=0.1)
    _steps(optimizer, p, [[0.3, -2.0]])
    _close(p, [0.9, -0.9])
    state = optimizer.state[p]
    assert repr(state["step"]) == "tensor(1.)" and sorted(state) == ["exp_avg", "exp_avg_sq", "step"]
    _close(state["exp_avg"], [0.03, -0.2])
    _close(state["exp_avg_sq"], [0.00009, 0.004])
    _steps(optimizer, p, [[0.3, -2.0]])
    _close(p, [0.8, -0.8])


# Numbers printed by PyTorch 2.13 for three steps: one on sum(p * p * [3, 0.5]), then two on 0.01 * sum(p).
ADAM_RUNS = [
    ({}, [0.78087211, -1.78218031], {"exp_avg": [0.48790002, -0.1601], "exp_avg_sq": [0.03592823, 0.0039922]}),
    ({"amsgrad": True}, [0.7809574, -1.7822628], {"max_exp_avg_sq": [0.036, 0.004]}),
    ({"weight_decay": 0.5}, [0.76814306, -1.7321918], {"exp_avg": [0.6102953, -0.41729015]}),
    ({"weight_decay": 0.5, "decoupled_weight_decay": True}, [0.6513536, -1.51001191], {}),
    ({"maximize": True, "betas": (0.5, 0.9), "eps": 1e-3}, [1.17494857, -2.17318487],
     {"exp_avg": [-0.75749999, 0.24249999], "exp_avg_sq": [2.91601896, 0.32401901]}),
]


@pytest.mark.parametrize(("options", "expected", "state"), ADAM_RUNS)
def test_adam_matches_pytorchs_printed_numbers(options: dict, expected: list[float], state: dict) -> None:
    p = torch.tensor([1.0, -2.0], requires_grad=True)
    optimizer = torch.optim.Adam([p], lr=0.1, **options)
    _steps(optimizer, p, [[6.0, -2.0], [0.01, 0.01], [0.01, 0.01]])
    _close(p, expected)
    for key, values in state.items():
        _close(optimizer.state[p][key], values)
    assert optimizer.state[p]["step"].item() == 3.0


# ----- the Optimizer base --------------------------------------------------------------------------------


def test_zero_grad_sets_none_or_zeroes_in_place() -> None:
    p = torch.tensor([1.0, 2.0], requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    grad = p.grad
    optimizer.zero_grad(set_to_none=False)
    assert p.grad is grad and p.grad.tolist() == [0.0, 0.0] and grad._version == 1 and not grad.requires_grad
    optimizer.zero_grad()
    assert p.grad is None


def test_step_skips_parameters_without_gradient_and_returns_the_closure_loss() -> None:
    a, b = torch.tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    optimizer = torch.optim.SGD([a, b], lr=0.5)

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = (a * 3).sum()
        loss.backward()
        return loss

    with torch.no_grad():
        loss = optimizer.step(closure)
    assert loss.item() == 3.0 and a.tolist() == [-0.5] and b.tolist() == [1.0] and b.grad is None


def test_step_bumps_the_version_so_stale_graphs_refuse_backward() -> None:
    p = torch.tensor([1.0, 2.0], requires_grad=True)
    optimizer = torch.optim.Adam([p], lr=0.1)
    loss = (p * p).sum()
    loss.backward(retain_graph=True)
    optimizer.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_parameter_groups_defaults_and_repr() -> None:
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([{"params": a}, {"params": [b], "lr": 1.0}], lr=0.1, momentum=0.5)
    assert [group["lr"] for group in optimizer.param_groups] == [0.1, 1.0]
    assert optimizer.param_groups[0]["params"] == [a] and optimizer.defaults["momentum"] == 0.5
    assert list(optimizer.param_groups[1]) == ["params", "lr", "momentum", "dampening", "weight_decay", "nesterov",
                                               "maximize", "foreach", "differentiable", "fused"]
    a.grad, b.grad = torch.ones(1), torch.ones(1)
    optimizer.step()
    assert a.tolist() == pytest.approx([-0.1]) and b.tolist() == [-1.0]
    assert repr(torch.optim.SGD([a], lr=0.1)) == (
        "SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n    foreach: None\n    fused: None\n"
        "    lr: 0.1\n    maximize: False\n    momentum: 0\n    nesterov: False\n    weight_decay: 0\n)")
    c = torch.zeros(1, requires_grad=True)
    optimizer.add_param_group({"params": [c], "lr": 2.0})
    assert optimizer.param_groups[2]["momentum"] == 0.5


def _p() -> torch.Tensor:
    return torch.zeros(2, requires_grad=True)


MISUSE: list[tuple[Callable[[], Any], type, str]] = [
    (lambda: torch.optim.SGD([_p()], lr=-1), ValueError, "Invalid learning rate: -1"),
    (lambda: torch.optim.SGD([_p()], momentum=-0.5), ValueError, "Invalid momentum value: -0.5"),
    (lambda: torch.optim.SGD([_p()], weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    (lambda: torch.optim.SGD([_p()], nesterov=True), ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda: torch.optim.SGD([_p()], momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda: torch.optim.Adam([_p()], eps=-1), ValueError, "Invalid epsilon value: -1"),
    (lambda: torch.optim.Adam([_p()], betas=(1.0, 0.9)), ValueError, "Invalid beta parameter at index 0: 1.0"),
    (lambda: torch.optim.Adam([_p()], betas=(0.9, -0.1)), ValueError, "Invalid beta parameter at index 1: -0.1"),
    (lambda: torch.optim.Adam([_p()], weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    (lambda: torch.optim.SGD([]), ValueError, "optimizer got an empty parameter list"),
    (lambda: torch.optim.SGD(_p()), TypeError,
     "params argument given to the optimizer should be an iterable of Tensors or dicts, but got torch.FloatTensor"),
    (lambda: torch.optim.SGD([_p() * 2]), ValueError, "can't optimize a non-leaf Tensor"),
    (lambda: torch.optim.SGD([1.0]), TypeError, "optimizer can only optimize Tensors, but one of the params is float"),
    (lambda: torch.optim.SGD([{"params": {_p()}}]), TypeError,
     "optimizer parameters need to be organized in ordered collections, but the ordering of tensors in sets will "
     "change between runs. Please use a list instead."),
]


@pytest.mark.parametrize(("call", "kind", "message"), MISUSE, ids=[m[2][:40] for m in MISUSE])
def test_misuse_raises_pytorchs_error(call: Callable[[], Any], kind: type, message: str) -> None:
    with pytest.raises(kind) as raised:
        call()
    assert str(raised.value) == message


def test_a_parameter_in_two_groups_is_refused_and_a_duplicate_warns() -> None:
    p = _p()
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        torch.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        torch.optim.SGD([p, p], lr=0.1)


# ----- training runs against PyTorch ---------------------------------------------------------------------

DATA = np.random.default_rng(3)
X_REGRESSION = DATA.standard_normal((16, 3)).astype(np.float32)
Y_REGRESSION = (X_REGRESSION @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
INIT_REGRESSION = [DATA.standard_normal((1, 3)).astype(np.float32), np.zeros(1, np.float32)]
X_XOR = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
Y_XOR = np.array([[0], [1], [1], [0]], np.float32)
INIT_XOR = [DATA.standard_normal(shape).astype(np.float32) for shape in [(4, 2), (4,), (1, 4), (1,)]]


def _regression_loss(t: Any, params: list) -> Any:
    prediction = t.nn.functional.linear(t.tensor(X_REGRESSION), params[0], params[1])
    return t.nn.functional.mse_loss(prediction, t.tensor(Y_REGRESSION))


def _xor_loss(t: Any, params: list) -> Any:
    F = t.nn.functional
    hidden = t.tanh(F.linear(t.tensor(X_XOR), params[0], params[1]))
    return F.binary_cross_entropy(t.sigmoid(F.linear(hidden, params[2], params[3])), t.tensor(Y_XOR))


PROBLEMS = {"regression": (_regression_loss, INIT_REGRESSION), "xor": (_xor_loss, INIT_XOR)}
CONFIGS = {
    "sgd": ("SGD", {"lr": 0.1}),
    "sgd_momentum": ("SGD", {"lr": 0.05, "momentum": 0.9}),
    "sgd_dampening": ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    "sgd_nesterov": ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    "sgd_weight_decay": ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.01}),
    "sgd_maximize": ("SGD", {"lr": 0.01, "maximize": True}),
    "adam": ("Adam", {"lr": 0.05}),
    "adam_amsgrad": ("Adam", {"lr": 0.05, "amsgrad": True}),
    "adam_weight_decay": ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    "adam_decoupled": ("Adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    "adam_betas": ("Adam", {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-6, "maximize": True}),
}


def _train(t: Any, problem: str, optimizer: str, options: dict, steps: int = 20) -> tuple[list, Any, list]:
    """Train from the shared initial values; return the parameters, the optimizer and the losses seen."""
    loss_of, init = PROBLEMS[problem]
    params = [t.tensor(value.copy(), requires_grad=True) for value in init]
    opt = getattr(t.optim, optimizer)(params, **options)
    losses = []
    for step in range(steps):
        opt.zero_grad(set_to_none=step % 2 == 0)
        loss = loss_of(t, params)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return params, opt, losses


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_training_matches_pytorch(real_torch: Any, problem: str, config: str) -> None:
    optimizer, options = CONFIGS[config]
    ours, our_opt, our_losses = _train(torch, problem, optimizer, options)
    theirs, their_opt, their_losses = _train(real_torch, problem, optimizer, options)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-5, atol=1e-6)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), rtol=1e-5, atol=1e-5)
        assert mine._version == reference._version
        for key, value in their_opt.state[reference].items():
            np.testing.assert_allclose(our_opt.state[mine][key].numpy(), value.numpy(), rtol=1e-5, atol=1e-6)
    assert repr(our_opt) == repr(their_opt)
    assert our_losses[-1] != our_losses[0]
