"""`gradcheck` / `gradgradcheck`: analytic Jacobians from backward versus central finite differences."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from gradstudio.engine import grad_mode
from gradstudio.engine._tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised by gradcheck when the analytic and numerical Jacobians differ."""


def _outputs(function: Callable, inputs: tuple) -> list[Tensor]:
    result = function(*inputs)
    return [result] if isinstance(result, Tensor) else [r for r in result if isinstance(r, Tensor)]


def _differentiable_outputs(function: Callable, inputs: tuple) -> list[Tensor]:
    """The outputs that carry gradients (max(dim) also returns integer indices, which do not)."""
    with grad_mode.enable_grad():
        return [out for out in _outputs(function, inputs) if out._requires_grad]


def numerical_jacobians(function: Callable, inputs: tuple, eps: float) -> list[list[np.ndarray]]:
    """d(output)/d(input) by central differences: one (input numel x output numel) matrix per pair."""
    with grad_mode.no_grad():
        outputs = _outputs(function, inputs)
        jacobians = [[np.zeros((x._data.size, out._data.size)) for out in outputs] for x in inputs]
        for i, x in enumerate(inputs):
            if not (isinstance(x, Tensor) and x._requires_grad):
                continue
            data = x._data  # perturbed element by element: reshape(-1) would copy a non-contiguous input
            for k, index in enumerate(np.ndindex(data.shape)):
                original = data[index]
                data[index] = original + eps
                plus = [o._data.astype(np.float64).reshape(-1).copy() for o in _outputs(function, inputs)]
                data[index] = original - eps
                minus = [o._data.astype(np.float64).reshape(-1).copy() for o in _outputs(function, inputs)]
                data[index] = original
                for j, (p, m) in enumerate(zip(plus, minus)):
                    jacobians[i][j][k] = (p - m) / (2 * eps)
    return jacobians


def analytical_jacobians(function: Callable, inputs: tuple) -> list[list[np.ndarray]]:
    """d(output)/d(input) from backward, one vector-Jacobian product per output element."""
    from gradstudio.engine.autograd import grad

    outputs = _outputs(function, inputs)
    differentiable = [x for x in inputs if isinstance(x, Tensor) and x._requires_grad]
    jacobians = [[np.zeros((x._data.size, out._data.size)) for out in outputs] for x in inputs]
    for j, out in enumerate(outputs):
        if not out._requires_grad:
            continue
        for k in range(out._data.size):
            seed = np.zeros(out._data.size, dtype=out._data.dtype)
            seed[k] = 1
            grads = grad(out, differentiable, Tensor._make(seed.reshape(out._data.shape)), retain_graph=True,
                         allow_unused=True)
            grads_by_input = iter(grads)
            for i, x in enumerate(inputs):
                if isinstance(x, Tensor) and x._requires_grad:
                    g = next(grads_by_input)
                    if g is not None:
                        jacobians[i][j][:, k] = g._data.reshape(-1)
    return jacobians


def gradcheck(function: Callable, inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, **_: Any) -> bool:
    """True when backward agrees with finite differences for every input and output element."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not any(isinstance(x, Tensor) and x._requires_grad for x in inputs):
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x._requires_grad and x._data.dtype != np.float64:
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating point "
                          "or complex. ", UserWarning, stacklevel=2)
    numerical = numerical_jacobians(function, inputs, eps)
    analytical = analytical_jacobians(function, inputs)
    for i, (num_row, ana_row) in enumerate(zip(numerical, analytical)):
        for j, (num, ana) in enumerate(zip(num_row, ana_row)):
            if not np.allclose(ana, num, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                shown = inputs[i]._data.dtype  # PyTorch shows the Jacobians in the input's dtype
                raise GradcheckError(f"Jacobian mismatch for output {j} with respect to input {i},\n"
                                     f"numerical:{Tensor._make(num.astype(shown))!r}\n"
                                     f"analytical:{Tensor._make(ana.astype(shown))!r}\n")
    return True


def gradgradcheck(function: Callable, inputs: Any, grad_outputs: Any = None, *, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True, **_: Any) -> bool:
    """gradcheck applied to the gradient itself: checks second derivatives."""
    from gradstudio.engine.autograd import grad

    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    outputs = _differentiable_outputs(function, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [Tensor._make(rng.standard_normal(o._data.shape).astype(o._data.dtype), True)
                        for o in outputs]
    grad_outputs = list(grad_outputs)
    differentiable = [x for x in inputs if isinstance(x, Tensor) and x._requires_grad]

    def first_derivatives(*all_inputs: Tensor) -> tuple:
        primal = all_inputs[:len(inputs)]
        cotangents = all_inputs[len(inputs):]
        chosen = [x for x in primal if isinstance(x, Tensor) and x._requires_grad]
        # the finite differences run under no_grad; the first derivatives must still be recorded
        with grad_mode.enable_grad():
            result = grad(_differentiable_outputs(function, primal), chosen, list(cotangents), create_graph=True,
                          allow_unused=True, materialize_grads=True)
        return tuple(result)

    assert differentiable
    return gradcheck(first_derivatives, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
