"""`torch.optim`: `Optimizer`, `SGD` (momentum, Nesterov), `Adam`, `AdamW`, `RMSprop`, as PyTorch computes them.

Updates run under `no_grad` and write into each parameter's own array, bumping
its version counter once per in-place update as PyTorch's `add_`/`addcdiv_` do.
The arithmetic is done in the parameter's dtype, in PyTorch's order, so that a
float32 run tracks PyTorch's to rounding.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from gradstudio.engine import _adam, _aligned, _dtype, grad_mode
from gradstudio.engine._tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]

_DUPLICATE_WARNING = ("optimizer contains a parameter group with duplicate parameters; in future, this will cause an "
                      "error; see github.com/pytorch/pytorch/issues/40967 for more information")


class _Required:
    """Marks a hyper-parameter every group must give (PyTorch's `required`)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def _type_name(value: Any) -> str:
    if isinstance(value, Tensor):
        return _dtype.legacy_type_name(value._data.dtype)
    return type(value).__name__


def _bump(tensor: Tensor) -> None:
    """Record one in-place change of `tensor` (what autograd's saved-tensor check looks at)."""
    tensor._version_counter.value += 1


class Optimizer:
    """Holds parameter groups and per-parameter state; subclasses implement `_update(group)`."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._buffers: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, but "
                            f"got {_type_name(params)}")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyper-parameters (missing ones come from the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        param_group["params"] = params = list(params)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_type_name(param)}")
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            warnings.warn(_DUPLICATE_WARNING, UserWarning, stacklevel=3)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if seen & {id(p) for p in params}:
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: set it to None (default) or zero it in place."""
        for group in self.param_groups:
            for param in group["params"]:
                grad = param._grad
                if grad is None:
                    continue
                if set_to_none:
                    param._grad = None
                    continue
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad._requires_grad = False
                grad._data[...] = 0
                _bump(grad)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns `closure()` if one is given."""
        loss = None
        if closure is not None:
            with grad_mode.enable_grad():
                loss = closure()
        with grad_mode.no_grad():
            for group in self.param_groups:
                self._update(group)
        return loss

    def _update(self, group: dict[str, Any]) -> None:
        raise NotImplementedError

    def _scratch(self, param: Tensor, size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Two work arrays shaped like `param` (or flat, of `size` elements), kept between steps (not part of the
        PyTorch-visible state), cache-line aligned (see _aligned.py)."""
        shape = param._data.shape if size is None else (size,)
        buffers = self._buffers.get(id(param))
        if buffers is None or buffers[0].shape != shape or buffers[0].dtype != param._data.dtype:
            buffers = self._buffers[id(param)] = (_aligned.empty(shape, param._data.dtype),
                                                  _aligned.empty(shape, param._data.dtype))
        return buffers

    def _gradient(self, param: Tensor, group: dict[str, Any]) -> np.ndarray:
        """The gradient the update uses: negated to maximize, plus weight decay when not decoupled."""
        grad = param._grad._data
        if group["maximize"]:
            grad = -grad
        decay = group["weight_decay"]
        if decay != 0 and not group.get("decoupled_weight_decay", False):
            grad = grad + param._data * decay
        return grad

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's layout: parameters numbered in group order, `state` by number, groups with numbers."""
        numbers: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            for param in group["params"]:
                numbers.setdefault(id(param), len(numbers))
            packed["params"] = [numbers[id(param)] for param in group["params"]]
            groups.append(packed)
        state = {numbers[id(param)]: dict(values) for param, values in self.state.items() if id(param) in numbers}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyper-parameters and per-parameter state saved by `state_dict()`."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(saved["params"]) != len(group["params"]) for saved, group in zip(saved_groups, self.param_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        by_number = {number: param for saved, group in zip(saved_groups, self.param_groups)
                     for number, param in zip(saved["params"], group["params"])}
        self.state = defaultdict(dict)
        for number, values in state_dict["state"].items():
            param = by_number[number]
            self.state[param] = {key: _restored(value, param, key) for key, value in values.items()}
        self.param_groups = [{**{key: value for key, value in saved.items() if key != "params"},
                              "params": group["params"]} for saved, group in zip(saved_groups, self.param_groups)]

    def __repr__(self) -> str:
        text = f"{type(self).__name__} ("
        for index, group in enumerate(self.param_groups):  # PyTorch's layout: a blank line between groups
            text += f"\nParameter Group {index}\n"
            text += "".join(f"    {key}: {group[key]}\n" for key in sorted(group) if key != "params")
        return text + ")"


def _restored(value: Any, param: Tensor, key: str) -> Any:
    """A saved state value as PyTorch loads it: floating tensors converted to the parameter's dtype (the same
    tensor, shared with the state dict, when it already has it); the step count as it is."""
    if not isinstance(value, Tensor) or key == "step" or value._data.dtype.kind != "f":
        return value
    return value if value._data.dtype == param._data.dtype else Tensor._make(value._data.astype(param._data.dtype))


def _check_unsupported(differentiable: bool) -> None:
    if differentiable:
        raise NotImplementedError("differentiable=True (optimizer steps recorded by autograd) is not supported")


def _check_non_negative(name: str, value: float) -> None:
    if value < 0.0:
        raise ValueError(f"Invalid {name}: {value}")


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (heavy-ball or Nesterov), dampening and weight decay."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        _check_non_negative("learning rate", lr)
        _check_non_negative("momentum value", momentum)
        _check_non_negative("weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_unsupported(differentiable)
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
            if momentum != 0:
                step = self._momentum_step(param, step, momentum, dampening, group["nesterov"])
            scratch = self._scratch(param)[0]
            np.multiply(step, param._data.dtype.type(lr), out=scratch)
            param._data -= scratch
            _bump(param)

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
            _bump(buffer)
        return grad + buffer._data * grad.dtype.type(momentum) if nesterov else buffer._data


class Adam(Optimizer):
    """Adam with bias correction; `amsgrad`, weight decay (coupled, or decoupled as in AdamW) and `maximize`."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        _check_non_negative("learning rate", lr)
        _check_non_negative("epsilon value", eps)
        for index, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
        _check_non_negative("weight_decay value", weight_decay)
        _check_unsupported(differentiable)
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
        small = [param for param in params if param._data.size <= _adam.SMALL]
        states = [self.state[param] for param in small]
        flat = self._flat_moments(group, small, states) if len(small) > 1 else None
        for param in params:
            if flat is None or param._data.size > _adam.SMALL:
                self._update_param(param, group)
        if flat is not None:
            self._update_flat(flat, states, group)

    def _flat_moments(self, group: dict[str, Any], small: list[Tensor],
                      states: list[dict[str, Any]]) -> _adam.FlatMoments | None:
        """The flat state that lets the group's small parameters share one update, when it can."""
        if len({param._data.dtype for param in small}) != 1:
            return None
        flat = self._flat.get(id(group))
        if flat is not None and flat.serves(small, states, group["amsgrad"]):
            return flat
        if any(states):
            return None
        flat = self._flat[id(group)] = _adam.FlatMoments(small, group["amsgrad"])
        flat.create_states(states)
        return flat

    def _begin_step(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> float:
        """Count the step in the parameter's state and apply decoupled weight decay; the step number."""
        step_tensor = state["step"]
        step_tensor._data += 1
        _bump(step_tensor)
        if group["decoupled_weight_decay"] and group["weight_decay"] != 0:
            param._data *= param._data.dtype.type(1 - group["lr"] * group["weight_decay"])
            _bump(param)
        return float(step_tensor._data)

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
        arrays = [param._data, grad, *moments]
        if param._data.size > _adam.CHUNK and all(a is None or a.flags.c_contiguous for a in arrays):
            _adam.update_in_pieces(param._data, grad, moments, *self._scratch(param, _adam.CHUNK), factors)
        else:
            param._data += _adam.update(grad, *moments, *self._scratch(param), factors)
        for tensor in (state["exp_avg"], state["exp_avg_sq"], param):
            _bump(tensor)

    def _update_flat(self, flat: _adam.FlatMoments, states: list[dict[str, Any]], group: dict[str, Any]) -> None:
        """One update of the small parameters together, in the same arithmetic as `_update_param`."""
        step = 0.0
        for param, state in zip(flat.params, states):
            step = self._begin_step(param, state, group)
        grads = [self._gradient(param, group) for param in flat.params]
        flat.step(grads, self._factors(group, flat.params[0]._data.dtype.type, step))
        for param, state in zip(flat.params, states):
            state["exp_avg"]._version_counter.value += 1  # _bump, inlined
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
        _check_non_negative("learning rate", lr)
        _check_non_negative("epsilon value", eps)
        _check_non_negative("momentum value", momentum)
        _check_non_negative("weight_decay value", weight_decay)
        _check_non_negative("alpha value", alpha)
        _check_unsupported(differentiable)
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
                _bump(tensor)
            _bump(param)


from gradstudio.engine import lr_scheduler  # noqa: E402  (it names optimizers in messages only; no cycle at import)
