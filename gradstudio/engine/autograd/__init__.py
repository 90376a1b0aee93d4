"""`torch.autograd`: `backward`, `grad`, `gradcheck`, anomaly detection, `Function` and `functional`."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from gradstudio.engine import _backward as engine
from gradstudio.engine import grad_mode
from gradstudio.engine._backward import ANOMALY, BackwardObserver
from gradstudio.engine._graph import Node, gradient_edge
from gradstudio.engine._tensor import Tensor
from gradstudio.engine.autograd import (
    functional,  # noqa: F401 - `torch.autograd.functional`, a public submodule
    graph,  # noqa: F401 - `torch.autograd.graph`, a public submodule
)
from gradstudio.engine.autograd.function import Function, FunctionCtx  # noqa: F401 - public names
from gradstudio.engine.autograd.gradcheck import gradcheck, gradgradcheck

ANOMALY_WARNING = ("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                   "enabled for debugging.")


CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter and its "
    "gradient which can cause a memory leak. We recommend using autograd.grad when creating the graph to avoid "
    "this. If you have to use this function, make sure to reset the .grad fields of your parameters to None "
    "after use to break the cycle and avoid the leak. (Triggered internally at "
    "/__w/pytorch/pytorch/torch/csrc/autograd/engine.cpp:1307.)"
)


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, Tensor):
        return [value]
    return list(value)


def _root_gradients(outputs: list[Tensor], grad_outputs: list) -> list[Tensor]:
    grads = []
    for index, output in enumerate(outputs):
        given = grad_outputs[index] if index < len(grad_outputs) else None
        if gradient_edge(output) is None:  # also a view made under no_grad, which reports requires_grad=True
            raise RuntimeError(f"element {index} of tensors does not require grad and does not have a grad_fn")
        if given is None:
            data = output._data
            if data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            given = Tensor._make(np.ones(data.shape, data.dtype))  # ones_like(output), without its checks
        elif not isinstance(given, Tensor):
            from gradstudio.engine.creation import tensor

            given = tensor(given, dtype=output.dtype)
        elif given._data.shape != output._data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{index}] has a shape of {given.shape} and "
                               f"output[{index}] has a shape of {output.shape}.")
        grads.append(given)
    return grads


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Any = None, observer: BackwardObserver | None = None) -> None:
    """Accumulate gradients of `tensors` into the leaves (or only into `inputs`)."""
    if create_graph:
        warnings.warn(CREATE_GRAPH_WARNING, UserWarning, stacklevel=3)
    outputs = _as_list(tensors)
    grads = _root_gradients(outputs, _as_list(grad_tensors))
    retain = create_graph if retain_graph is None else retain_graph
    chosen = None if inputs is None else _as_list(inputs)
    if chosen is not None and not chosen:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    engine.execute(outputs, grads, retain_graph=retain, create_graph=create_graph, inputs=chosen,
                   accumulate=True, observer=observer)


ONLY_INPUTS_WARNING = ("only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate "
                       "gradient for other parts of the graph, please use torch.autograd.backward.")


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple[Tensor | None, ...]:
    """Gradients of `outputs` with respect to `inputs`, returned instead of accumulated."""
    if not only_inputs:
        warnings.warn(ONLY_INPUTS_WARNING, FutureWarning, stacklevel=2)
    outputs_list, inputs_list = _as_list(outputs), _as_list(inputs)
    if not inputs_list:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if is_grads_batched:
        return _batched_grad(outputs_list, inputs_list, _as_list(grad_outputs), retain_graph, create_graph,
                             allow_unused, materialize_grads)
    for tensor in inputs_list:
        if not tensor._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    grads = _root_gradients(outputs_list, _as_list(grad_outputs))
    retain = create_graph if retain_graph is None else retain_graph
    results = engine.execute(outputs_list, grads, retain_graph=retain, create_graph=create_graph,
                             inputs=inputs_list, accumulate=False)
    for index, result in enumerate(results):
        if result is None and not (allow_unused or materialize_grads):
            raise RuntimeError(f"The differentiated Tensor at index {index} appears to not have been used in the "
                               "graph. Set allow_unused=True if this is the desired behavior.")
    if materialize_grads:
        from gradstudio.engine.creation import zeros_like

        results = [zeros_like(t) if r is None else r for t, r in zip(inputs_list, results)]
    if not create_graph:
        results = [None if r is None else r.detach() for r in results]
    return tuple(results)


def _batched_grad(outputs: list, inputs: list, grad_outputs: list, retain_graph: bool | None, create_graph: bool,
                  allow_unused: bool | None, materialize_grads: bool) -> tuple[Tensor | None, ...]:
    """`grad(..., is_grads_batched=True)`: one backward per row of the grad_outputs, the results stacked."""
    from gradstudio.engine.ops.joining import stack

    count = grad_outputs[0]._data.shape[0]
    rows = []
    for index in range(count):
        keep = True if index < count - 1 else retain_graph
        rows.append(grad(outputs, inputs, [g[index] for g in grad_outputs], keep, create_graph,
                         allow_unused=allow_unused, materialize_grads=materialize_grads))
    return tuple(None if row[0] is None else stack(list(row)) for row in zip(*rows))


class set_detect_anomaly:  # noqa: N801 - PyTorch's name
    """Turn anomaly detection on or off now; as a context manager, restore the previous setting on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._previous = (ANOMALY.enabled, ANOMALY.check_nan)
        ANOMALY.enabled, ANOMALY.check_nan = bool(mode), check_nan

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        ANOMALY.enabled, ANOMALY.check_nan = self._previous


def is_anomaly_enabled() -> bool:
    """True while anomaly detection is on."""
    return ANOMALY.enabled


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Context manager that turns anomaly detection on inside the block."""

    def __init__(self, check_nan: bool = True) -> None:
        warnings.warn(ANOMALY_WARNING, UserWarning, stacklevel=2)
        self._check_nan = check_nan

    def __enter__(self) -> None:
        self._previous = (ANOMALY.enabled, ANOMALY.check_nan)
        ANOMALY.enabled, ANOMALY.check_nan = True, self._check_nan

    def __exit__(self, *exc: object) -> None:
        ANOMALY.enabled, ANOMALY.check_nan = self._previous


no_grad, enable_grad, set_grad_enabled = grad_mode.no_grad, grad_mode.enable_grad, grad_mode.set_grad_enabled

__all__ = ["backward", "grad", "gradcheck", "gradgradcheck", "set_detect_anomaly", "detect_anomaly",
           "is_anomaly_enabled", "Node", "Sequence"]
