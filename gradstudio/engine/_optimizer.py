"""The optimiser base class: parameter groups, per-parameter state, `zero_grad`, `state_dict` and loading, as
PyTorch's `torch.optim.Optimizer` (the algorithms, in `optim.py`, implement `_update(group)`)."""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from gradstudio.engine import _aligned, _dtype, grad_mode
from gradstudio.engine._tensor import Tensor

_DUPLICATE_WARNING = ("optimizer contains a parameter group with duplicate parameters; in future, this will cause an "
                      "error; see github.com/pytorch/pytorch/issues/40967 for more information")


class _Required:
    """Marks a hyper-parameter every group must give (PyTorch's `required`)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def type_name(value: Any) -> str:
    if isinstance(value, Tensor):
        return _dtype.legacy_type_name(value._data.dtype)
    return type(value).__name__


def bump(tensor: Tensor) -> None:
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
                            f"got {type_name(params)}")
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
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type_name(param)}")
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
                bump(grad)

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


def check_unsupported(differentiable: bool) -> None:
    if differentiable:
        raise NotImplementedError("differentiable=True (optimizer steps recorded by autograd) is not supported")


def check_non_negative(name: str, value: float) -> None:
    if value < 0.0:
        raise ValueError(f"Invalid {name}: {value}")
