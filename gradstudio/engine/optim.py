"""`torch.optim`: `Optimizer`, `SGD` (momentum, Nesterov), `Adam`, `AdamW`, `RMSprop`, as PyTorch computes them.

Updates run under `no_grad` and write into each parameter's own array, bumping
its version counter once per in-place update as PyTorch's `add_`/`addcdiv_` do.
The arithmetic is done in the parameter's dtype, in PyTorch's order, so that a
float32 run tracks PyTorch's to rounding. The base class is in `_optimizer.py`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from gradstudio.engine import _adam, _aligned, _fused_loader
from gradstudio.engine._optimizer import Optimizer, bump, check_non_negative, check_unsupported, required  # noqa: F401 - torch.optim.optimizer.required, here as it always was
from gradstudio.engine._tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (heavy-ball or Nesterov), dampening and weight decay."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        check_non_negative("learning rate", lr)
        check_non_negative("momentum value", momentum)
        check_non_negative("weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        check_unsupported(differentiable)
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach, "differentiable": differentiable,
                    "fused": fused}
        super().__init__(params, defaults)

    def _update(self, group: dict[str, Any]) -> None:
        momentum, dampening, lr = group["momentum"], group["dampening"], group["lr"]
        for param in group["params"]:
            if param._grad is None:
                continue
            step = self._gradient(param, group)
            if self._fused_update(param, step, group):  # numba's one pass, when it loads and applies
                continue
            if momentum != 0:
                step = self._momentum_step(param, step, momentum, dampening, group["nesterov"])
            scratch = self._scratch(param)[0]
            np.multiply(step, param._data.dtype.type(lr), out=scratch)
            param._data -= scratch
            bump(param)

    def _fused_update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any]) -> bool:
        """The update `_update`'s numpy lines make (momentum buffer included), in one compiled pass over a large
        parameter (`_fused.sgd_loop`); False, nothing done, when `_fused_loader.fusable` says no or numba is not
        there."""
        momentum = group["momentum"]
        buffer = self.state[param].get("momentum_buffer") if momentum != 0 else None  # no state without momentum
        if not _fused_loader.fusable(param._data, grad, [] if buffer is None else [buffer._data]):
            return False
        loops = _fused_loader.fused_loops()
        if loops is None:
            return False
        first = momentum != 0 and buffer is None
        if first:
            self.state[param]["momentum_buffer"] = Tensor._make(np.array(grad, copy=True))
        elif buffer is not None:
            bump(buffer)
        real, flat = param._data.dtype.type, param._data.reshape(-1)
        loops.sgd(flat, np.ascontiguousarray(grad).reshape(-1), flat if buffer is None else buffer._data.reshape(-1),
                  real(momentum), real(1 - group["dampening"]), real(group["lr"]), momentum != 0, first,
                  group["nesterov"])
        bump(param)
        return True

    def _momentum_step(self, param: Tensor, grad: np.ndarray, momentum: float, dampening: float,
                       nesterov: bool) -> np.ndarray:
        """Update the momentum buffer (a plain copy of the gradient on the first step) and return the step."""
        state = self.state[param]
        buffer = state.get("momentum_buffer")
        if buffer is None:
            buffer = state["momentum_buffer"] = Tensor._make(np.array(grad, copy=True))
        else:
            buffer._data *= buffer._data.dtype.type(momentum)
            buffer._data += grad * buffer._data.dtype.type(1 - dampening)
            bump(buffer)
        return grad + buffer._data * grad.dtype.type(momentum) if nesterov else buffer._data


class Adam(Optimizer):
    """Adam with bias correction; `amsgrad`, weight decay (coupled, or decoupled as in AdamW) and `maximize`."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        check_non_negative("learning rate", lr)
        check_non_negative("epsilon value", eps)
        for index, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
        check_non_negative("weight_decay value", weight_decay)
        check_unsupported(differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused, "decoupled_weight_decay": decoupled_weight_decay}
        self._flat: dict[int, _adam.FlatMoments] = {}  # per group: its small parameters' shared state
        super().__init__(params, defaults)

    def _state_for(self, param: Tensor, amsgrad: bool) -> dict[str, Any]:
        state = self.state[param]
        if not state:
            state["step"] = Tensor._make(np.zeros((), np.float32))
            state["exp_avg"] = Tensor._make(_aligned.zeros_like(param._data))
            state["exp_avg_sq"] = Tensor._make(_aligned.zeros_like(param._data))
            if amsgrad:
                state["max_exp_avg_sq"] = Tensor._make(_aligned.zeros_like(param._data))
        return state

    def _update(self, group: dict[str, Any]) -> None:
        params = [param for param in group["params"] if param._grad is not None]
        small = [param for param in params if param._data.size <= _fused_loader.SMALL]
        states = [self.state[param] for param in small]
        flat = self._flat_moments(group, small, states) if len(small) > 1 else None
        for param in params:
            if flat is None or param._data.size > _fused_loader.SMALL:
                self._update_param(param, group)
        if flat is not None:
            self._update_flat(flat, states, group)

    def _flat_moments(self, group: dict[str, Any], small: list[Tensor],
                      states: list[dict[str, Any]]) -> _adam.FlatMoments | None:
        """The flat state that lets the group's small parameters share one update, when it can."""
        flat = self._flat.get(id(group))
        if flat is not None and flat.serves(small, states, group["amsgrad"]):
            return flat
        if any(states) or len({param._data.dtype for param in small}) != 1:
            return None
        flat = self._flat[id(group)] = _adam.FlatMoments(small, group["amsgrad"])
        flat.create_states(states)
        return flat

    def _begin_step(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> float:
        """Count the step in the parameter's state and apply decoupled weight decay; the step number."""
        step_tensor = state["step"]
        step_tensor._data += 1
        bump(step_tensor)
        if group["decoupled_weight_decay"] and group["weight_decay"] != 0:
            self._decay(param, group)
        return float(step_tensor._data)

    @staticmethod
    def _decay(param: Tensor, group: dict[str, Any]) -> None:
        """AdamW's decoupled weight decay: the parameter shrunk in place, before its update."""
        param._data *= param._data.dtype.type(1 - group["lr"] * group["weight_decay"])
        bump(param)

    @staticmethod
    def _factors(group: dict[str, Any], real: type, step: float) -> tuple:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        return (real(1 - beta1), real(1 - beta2), real(beta2), real(math.sqrt(1 - beta2 ** step)), real(eps),
                real(-lr / (1 - beta1 ** step)))

    def _update_param(self, param: Tensor, group: dict[str, Any]) -> None:
        state = self._state_for(param, group["amsgrad"])
        step = self._begin_step(param, state, group)
        grad = self._gradient(param, group)
        factors = self._factors(group, param._data.dtype.type, step)
        moments = [state["exp_avg"]._data, state["exp_avg_sq"]._data,
                   state["max_exp_avg_sq"]._data if group["amsgrad"] else None]
        if not _adam.fused(param._data, grad, moments, factors):  # numba's one pass, when it loads and applies
            self._update_with_numpy(param, grad, moments, factors)
        for tensor in (state["exp_avg"], state["exp_avg_sq"], param):
            bump(tensor)

    def _update_with_numpy(self, param: Tensor, grad: np.ndarray, moments: list[np.ndarray | None],
                           factors: tuple) -> None:
        """`_adam.update`'s passes, a large C-contiguous parameter's in cache-sized pieces."""
        arrays = [param._data, grad, *moments]
        if param._data.size > _adam.CHUNK and all(a is None or a.flags.c_contiguous for a in arrays):
            _adam.update_in_pieces(param._data, grad, moments, *self._scratch(param, _adam.CHUNK), factors)
        else:
            param._data += _adam.update(grad, *moments, *self._scratch(param), factors)

    def _update_flat(self, flat: _adam.FlatMoments, states: list[dict[str, Any]], group: dict[str, Any]) -> None:
        """One update of the small parameters together, in the same arithmetic as `_update_param`."""
        step = flat.count_step()
        decay = group["decoupled_weight_decay"] and group["weight_decay"] != 0
        for param, state in zip(flat.params, states):
            state["step"]._version_counter.value += 1  # bump, inlined
            if decay:
                self._decay(param, group)
        grads = [self._gradient(param, group) for param in flat.params]
        flat.step(grads, self._factors(group, flat.params[0]._data.dtype.type, step))
        for param, state in zip(flat.params, states):
            state["exp_avg"]._version_counter.value += 1
            state["exp_avg_sq"]._version_counter.value += 1
            param._version_counter.value += 1


class AdamW(Adam):
    """Adam with decoupled weight decay (PyTorch's `AdamW`: `Adam(..., decoupled_weight_decay=True)`, decay 1e-2)."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)


class RMSprop(Optimizer):
    """RMSprop: steps scaled by a running root-mean-square of the gradient; optional momentum and centering."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        check_non_negative("learning rate", lr)
        check_non_negative("epsilon value", eps)
        check_non_negative("momentum value", momentum)
        check_non_negative("weight_decay value", weight_decay)
        check_non_negative("alpha value", alpha)
        check_unsupported(differentiable)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _state_for(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = self.state[param]
        if not state:
            state["step"] = Tensor._make(np.zeros((), np.float32))
            state["square_avg"] = Tensor._make(np.zeros_like(param._data))
            if group["momentum"] > 0:
                state["momentum_buffer"] = Tensor._make(np.zeros_like(param._data))
            if group["centered"]:
                state["grad_avg"] = Tensor._make(np.zeros_like(param._data))
        return state

    def _update(self, group: dict[str, Any]) -> None:
        lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
        for param in group["params"]:
            if param._grad is None:
                continue
            real = param._data.dtype.type
            state = self._state_for(param, group)
            state["step"]._data += 1
            grad = self._gradient(param, group)
            square_avg = state["square_avg"]._data
            square_avg *= real(alpha)
            square_avg += grad * grad * real(1 - alpha)
            if group["centered"]:
                grad_avg = state["grad_avg"]._data
                grad_avg += (grad - grad_avg) * real(1 - alpha)
                average = np.sqrt(square_avg - grad_avg * grad_avg)
            else:
                average = np.sqrt(square_avg)
            average += real(eps)
            if momentum > 0:
                buffer = state["momentum_buffer"]._data
                buffer *= real(momentum)
                buffer += grad / average
                param._data -= buffer * real(lr)
            else:
                param._data += real(-lr) * grad / average
            for tensor in state.values():
                bump(tensor)
            bump(param)


from gradstudio.engine import lr_scheduler  # noqa: E402  (it names optimizers in messages only; no cycle at import)
