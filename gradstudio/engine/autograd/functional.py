"""`torch.autograd.functional`: jacobian, hessian, vjp, jvp, hvp and vhp of a function of tensors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gradstudio.engine import grad_mode
from gradstudio.engine._tensor import Tensor


def _as_tuple(value: Any, name: str, function: str) -> tuple[bool, tuple]:
    """(was a tuple, the value as a tuple), refusing what PyTorch refuses."""
    start = f"The {name} given to {function} must be either a Tensor or a tuple of Tensors but"
    if isinstance(value, Tensor):
        return False, (value,)
    if not isinstance(value, tuple):
        raise TypeError(f"{start} the given {name} has type {type(value)}.")
    for index, item in enumerate(value):
        if not isinstance(item, Tensor):
            raise TypeError(f"{start} the value at index {index} has type {type(item)}.")
    return True, value


def _prepared(inputs: tuple, create_graph: bool) -> tuple:
    """Inputs that require grad: views keeping the caller's graph (create_graph), else detached copies."""
    if create_graph:
        return tuple(x.view_as(x) if x._requires_grad else x.detach().requires_grad_(True) for x in inputs)
    return tuple(x.detach().requires_grad_(True) for x in inputs)


def _finished(values: tuple, create_graph: bool) -> tuple:
    return tuple(v if create_graph or v is None else v.detach() for v in values)


def _grads(outputs: tuple, inputs: tuple, grad_outputs: tuple, create_graph: bool) -> tuple:
    """Gradients of `outputs` (weighted by `grad_outputs`) for `inputs`; zeros where an input is unused."""
    from gradstudio.engine.autograd import grad
    from gradstudio.engine.creation import zeros_like

    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o._requires_grad]
    if not pairs:
        return tuple(zeros_like(x) for x in inputs)
    results = grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs], retain_graph=True,
                   create_graph=create_graph, allow_unused=True)
    return tuple(zeros_like(x) if r is None else r for x, r in zip(inputs, results))


def _call(func: Callable, inputs: tuple, name: str) -> tuple[bool, tuple]:
    with grad_mode.enable_grad():
        return _as_tuple(func(*inputs), "outputs of the user-provided function", name)


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
        ) -> tuple[Any, Any]:
    """(func(inputs), v^T J): the vector-Jacobian product."""
    from gradstudio.engine.creation import ones_like

    was_tuple, inputs_t = _as_tuple(inputs, "inputs", "vjp")
    with grad_mode.enable_grad():
        prepared = _prepared(inputs_t, create_graph)
        out_tuple, outputs = _call(func, prepared, "vjp")
        if v is None:
            if any(o._data.size != 1 for o in outputs):
                raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                                   "Tensor with a single element.")
            vs = tuple(ones_like(o) for o in outputs)
        else:
            vs = _as_tuple(v, "v", "vjp")[1]
        result = _grads(outputs, prepared, vs, create_graph)
    outputs, result = _finished(outputs, create_graph), _finished(result, create_graph)
    return (outputs if out_tuple else outputs[0]), (result if was_tuple else result[0])


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
        ) -> tuple[Any, Any]:
    """(func(inputs), J v): the Jacobian-vector product, by differentiating a vector-Jacobian product."""
    from gradstudio.engine.creation import ones_like, zeros_like

    was_tuple, inputs_t = _as_tuple(inputs, "inputs", "jvp")
    if v is None:
        if any(x._data.size != 1 for x in inputs_t):
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                               "single Tensor with a single element.")
        vs = tuple(ones_like(x) for x in inputs_t)
    else:
        vs = _as_tuple(v, "v", "jvp")[1]
    with grad_mode.enable_grad():
        prepared = _prepared(inputs_t, create_graph)
        out_tuple, outputs = _call(func, prepared, "jvp")
        dummies = tuple(zeros_like(o).requires_grad_(True) for o in outputs)
        firsts = _grads(outputs, prepared, dummies, True)
        result = _grads(firsts, dummies, vs, create_graph)
    outputs, result = _finished(outputs, create_graph), _finished(result, create_graph)
    return (outputs if out_tuple else outputs[0]), (result if out_tuple else result[0])


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """d func(inputs) / d inputs: shape output.shape + input.shape (tuples of tuples for several of either)."""
    from gradstudio.engine.creation import zeros_like
    from gradstudio.engine.ops.joining import stack
    from gradstudio.engine.ops.shape import reshape

    was_tuple, inputs_t = _as_tuple(inputs, "inputs", "jacobian")
    with grad_mode.enable_grad():
        prepared = _prepared(inputs_t, create_graph)
        out_tuple, outputs = _call(func, prepared, "jacobian")
        rows: list[tuple] = []
        for index, output in enumerate(outputs):
            per_input: list[list] = [[] for _ in prepared]
            for position in range(output._data.size):
                seeds = tuple(zeros_like(o) for o in outputs)
                seed = seeds[index]._data.reshape(-1)
                seed[position] = 1
                for j, g in enumerate(_grads((output,), prepared, (seeds[index],), create_graph)):
                    per_input[j].append(g)
            rows.append(tuple(
                reshape(stack(grads), output._data.shape + x._data.shape) if grads else
                zeros_like(x).reshape(output._data.shape + x._data.shape)
                for grads, x in zip(per_input, prepared)))
    rows = [_finished(row, create_graph) for row in rows]
    if not was_tuple and not out_tuple:
        return rows[0][0]
    if not out_tuple:
        return rows[0]
    return tuple(row if was_tuple else row[0] for row in rows)


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The matrix of second derivatives of a scalar function: the Jacobian of its gradient."""
    was_tuple, inputs_t = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs: Tensor) -> Any:
        out_tuple, outputs = _as_tuple(func(*xs), "outputs of the user-provided function", "hessian")
        if len(outputs) != 1 or outputs[0]._data.size != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor with a single element.")
        grads = _grads(outputs, xs, (_one(outputs[0]),), True)
        return grads if was_tuple else grads[0]

    return jacobian(gradient, inputs_t if was_tuple else inputs_t[0], create_graph=create_graph)


def _one(output: Tensor) -> Tensor:
    from gradstudio.engine.creation import ones_like

    return ones_like(output)


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
        ) -> tuple[Any, Any]:
    """(func(inputs), v^T H) for a scalar function."""
    was_tuple, inputs_t = _as_tuple(inputs, "inputs", "vhp")
    vs = _as_tuple(v, "v", "vhp")[1] if v is not None else None
    with grad_mode.enable_grad():
        prepared = _prepared(inputs_t, create_graph)
        _, outputs = _call(func, prepared, "vhp")
        if len(outputs) != 1 or outputs[0]._data.size != 1:
            raise RuntimeError("The function given to vhp should return a single Tensor with a single element.")
        firsts = _grads(outputs, prepared, (_one(outputs[0]),), True)
        if vs is None:
            raise RuntimeError("The vector v can only be None if the input to the user-provided function is a "
                               "single Tensor with a single element.")
        result = _grads(firsts, prepared, vs, create_graph)
    output, result = _finished(outputs, create_graph)[0], _finished(result, create_graph)
    return output, (result if was_tuple else result[0])


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
        ) -> tuple[Any, Any]:
    """(func(inputs), H v) for a scalar function (H is symmetric, so this is v^T H)."""
    return vhp(func, inputs, v, create_graph, strict)
