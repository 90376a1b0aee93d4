"""Gradient check of one node: the analytic gradient of the backward target against central differences.

Works on a float64 copy of the part of the graph between the checked node and the
target (the open document's tensors are never touched): the checked node's value
becomes a float64 leaf, everything downstream is recomputed from it, and
`sum(target * gradient)` is differentiated once by autograd and once by
perturbing each element by ±eps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

import gradstudio.engine as engine
from gradstudio.model.document import GraphDocument
from gradstudio.model.evaluation import Evaluator
from gradstudio.model.port_constants import unconnected_constants

EPS = 1e-6
ATOL = 1e-5
RTOL = 1e-3
MAX_ELEMENTS = 4096


class GradCheckError(ValueError):
    """The check cannot run (no target, a value that is not a float tensor, too many elements, ...)."""


@dataclass(frozen=True)
class GradCheck:
    """Both gradients of the target w.r.t. one node (float64, the node's shape) and how far apart they are."""

    node: str
    target: str
    analytic: np.ndarray
    numerical: np.ndarray
    eps: float = EPS

    @property
    def difference(self) -> np.ndarray:
        """Elementwise |analytic - numerical|."""
        return np.abs(self.analytic - self.numerical)

    @property
    def max_difference(self) -> float:
        """The largest elementwise difference (0.0 for an empty tensor)."""
        return float(self.difference.max()) if self.difference.size else 0.0

    @property
    def passed(self) -> bool:
        """True when every element agrees within atol + rtol * |numerical| (torch.autograd.gradcheck's test)."""
        return bool(np.all(self.difference <= ATOL + RTOL * np.abs(self.numerical)))


def check_gradient(evaluator: Evaluator, node_id: str, target: str | None = None, gradient: Any = None,
                   eps: float = EPS) -> GradCheck:
    """Compare d sum(target * gradient) / d node computed by autograd with central finite differences."""
    document = evaluator.document
    target = target or document.settings.backward_target
    if target is None:
        raise GradCheckError("choose a backward target first")
    results = evaluator.evaluate()
    name = document.node(node_id).name
    start = _float_tensor(results, node_id, name)
    _float_tensor(results, target, document.node(target).name)
    if start.numel() > MAX_ELEMENTS:
        raise GradCheckError(f"{name} has {start.numel()} elements; the check perturbs at most {MAX_ELEMENTS}")
    chain = _between(document, node_id, target)
    weights = _weights(results[target].value, gradient)

    def objective(value: engine.Tensor) -> engine.Tensor:
        """sum(target * gradient) as a function of the checked node's value."""
        output = _forward(document, results, chain, node_id, value, target)
        return (output.double() * weights).sum()

    with engine.enable_grad():
        leaf = start.detach().double().requires_grad_(True)
        output = objective(leaf)
        analytic = _analytic(output, leaf)
    with engine.no_grad():
        numerical = _numerical(objective, start.detach().double().numpy().copy(), eps)
    return GradCheck(node_id, target, analytic, numerical, eps)


def _float_tensor(results: Mapping[str, Any], node_id: str, name: str) -> engine.Tensor:
    result = results.get(node_id)
    if result is None or not result.ok:
        raise GradCheckError(f"{name} has no value")
    value = result.value
    if not isinstance(value, engine.Tensor):
        raise GradCheckError(f"{name} is a Python number, not a tensor")
    if not value.dtype.is_floating_point:
        raise GradCheckError(f"{name} is {value.dtype}: gradients need a floating point tensor")
    return value


def _between(document: GraphDocument, start: str, target: str) -> list[str]:
    """Nodes downstream of `start` that feed `target` (and `target`), in topological order."""
    wanted = (document.descendants([start]) & (document.ancestors(target) | {target})) - {start}
    return [node_id for node_id in document.topological_order() if node_id in wanted]


def _weights(output: engine.Tensor, gradient: Any) -> engine.Tensor:
    """The gradient argument as float64 weights: ones of the output's shape unless given."""
    if gradient is None:
        return engine.ones_like(output.detach()).double()
    weights = gradient if isinstance(gradient, engine.Tensor) else engine.tensor(gradient)
    if tuple(weights.shape) != tuple(output.shape):
        raise GradCheckError(f"the gradient has shape {list(weights.shape)}, the target {list(output.shape)}")
    return weights.detach().double()


def _as_float64(value: Any) -> Any:
    if isinstance(value, engine.Tensor):
        detached = value.detach()
        return detached.double() if detached.dtype.is_floating_point else detached
    return value


def _forward(document: GraphDocument, results: Mapping[str, Any], chain: list[str], start: str,
             value: engine.Tensor, target: str) -> engine.Tensor:
    """The target recomputed from `value` in place of node `start` (other inputs as float64 constants)."""
    values: dict[str, Any] = {start: value}
    for node_id in chain:
        node = document.nodes[node_id]
        inputs: dict[str, Any] = dict(unconnected_constants(document, node))
        for port, edge in document.inputs_of(node_id).items():
            inputs[port] = values[edge.source] if edge.source in values else _as_float64(results[edge.source].value)
        values[node_id] = node.spec.compute(inputs, node.attributes)
    return values[target] if target in values else _as_float64(results[target].value)


def _analytic(output: engine.Tensor, leaf: engine.Tensor) -> np.ndarray:
    if not output.requires_grad:
        return np.zeros(leaf.shape)
    (grad,) = engine.autograd.grad(output, [leaf], allow_unused=True, materialize_grads=True)
    return grad.detach().numpy().astype(np.float64)


def _numerical(objective: Any, data: np.ndarray, eps: float) -> np.ndarray:
    """Central differences (f(x + eps) - f(x - eps)) / 2 eps, one element at a time."""
    result = np.zeros(data.shape)
    flat = data.reshape(-1)
    for index in range(flat.size):
        original = flat[index]
        flat[index] = original + eps
        above = objective(engine.from_numpy(data.copy())).item()
        flat[index] = original - eps
        below = objective(engine.from_numpy(data.copy())).item()
        flat[index] = original
        result.reshape(-1)[index] = (above - below) / (2 * eps)
    return result
