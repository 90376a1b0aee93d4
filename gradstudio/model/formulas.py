"""An edge's local derivative after Backward, as a formula with the numbers plugged in.

`edge_formula` reads the symbolic derivative the catalog attaches to the target's
op (`model/derivatives.py`), fills it with the graph's names and with one
element's numbers, and multiplies by the incoming gradient, as in
`∂z/∂y = 3·2·y = 3·2·3 = 18, times the incoming 1/3, gives 6`. It also gives the
whole gradient the formula predicts, which the tests compare with the engine's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

import gradstudio.engine as engine
from gradstudio.model.broadcasting import broadcast, shape_text
from gradstudio.model.derivatives import Matrix, Pointwise, Reduce, Route, factor_text, number_text
from gradstudio.model.document import Edge, GraphDocument
from gradstudio.model.evaluation import BackwardResult, NodeResult
from gradstudio.model.matrix_derivatives import unbroadcast


@dataclass(frozen=True)
class EdgeFormula:
    """The lines of an edge's tool tip and the gradient the formula gives its input."""

    lines: tuple[str, ...]
    gradient: np.ndarray
    index: tuple[int, ...] = ()  # the input element whose numbers the lines end with

    @property
    def text(self) -> str:
        """The lines joined for a tool tip."""
        return "\n".join(self.lines)


@dataclass(frozen=True)
class _Context:
    """What every kind of derivative reads: values by port, names by port, the output and its gradient."""

    env: dict[str, Any]
    names: dict[str, str]
    port: str
    out_name: str
    in_name: str

    @property
    def head(self) -> str:
        return f"∂{self.out_name}/∂{self.in_name}"


def edge_formula(document: GraphDocument, results: Mapping[str, NodeResult], backward: BackwardResult,
                 edge: Edge) -> EdgeFormula | None:
    """The formula of the gradient that flowed along `edge` in `backward`; None when none flowed or none is known."""
    node = document.nodes.get(edge.target)
    incoming = backward.node_grads.get(edge.target)
    if node is None or node.spec.derivative is None or incoming is None:
        return None
    if (edge.target, edge.port) not in backward.edge_grads:
        return None
    context = _context(document, results, edge, incoming, backward.target)
    if context is None:
        return None
    derivative = node.spec.derivative
    with np.errstate(all="ignore"):  # a branch not taken may divide by zero (a clamp's bound, β = 0)
        if isinstance(derivative, Pointwise):
            return _pointwise(derivative, context)
        if isinstance(derivative, Reduce):
            return _reduce(derivative, context)
        if isinstance(derivative, Route):
            return _route(derivative, context, node.spec.compute, node.attributes)
        if isinstance(derivative, Matrix):
            return _matrix(derivative, context)
    return None


def _array(value: Any) -> np.ndarray:
    if isinstance(value, engine.Tensor):
        array = value.detach().numpy()
        return array.astype(float) if array.dtype.kind == "f" else array
    return np.asarray(value)


def _context(document: GraphDocument, results: Mapping[str, NodeResult], edge: Edge, incoming: Any,
             backward_target: str) -> _Context | None:
    node = document.nodes[edge.target]
    output = results.get(edge.target)
    if output is None or output.tensor is None:
        return None
    env: dict[str, Any] = {"out": _array(output.tensor), "g": _array(incoming)}
    names: dict[str, str] = {"out": node.name, "L": document.nodes[backward_target].name}
    for port in node.input_ports():
        source = document.edges.get((node.id, port))
        if source is not None:
            result = results.get(source.source)
            if result is None or not result.ok:
                return None
            env[port], names[port] = result.value, document.nodes[source.source].name
        elif port in node.port_constants:
            env[port] = node.port_constants[port]
            names[port] = number_text(env[port])
        env[port] = _array(env[port])
    for name, value in node.attributes.items():
        env.setdefault(name, value)
        names.setdefault(name, number_text(value) if isinstance(value, (int, float)) and value is not True
                         and value is not False else str(value))
    return _Context(env, names, edge.port, node.name, names.get(edge.port, edge.port))


def _at(index: tuple[int, ...]) -> str:
    return f"at [{', '.join(str(i) for i in index)}]: " if index else ""


def _equation(context: _Context, symbolic: str, numeric: str, value: float) -> str:
    """`∂z/∂y = 3·y = 3·2 = 6`, dropping a step that repeats the one before."""
    parts = [context.head, symbolic]
    for part in (numeric, number_text(value)):
        if part != parts[-1]:
            parts.append(part)
    return " = ".join(parts)


def _pointwise(derivative: Pointwise, context: _Context) -> EdgeFormula | None:
    expression = derivative.locals.get(context.port)
    if expression is None:
        return None
    env, port = context.env, context.port
    if "reduction" in env:  # losses: N, the count the mean divides by (1 for sum and none)
        env["N"] = float(np.prod(np.shape(env["out"]) if env["reduction"] == "none" else
                                 np.broadcast_shapes(np.shape(env["input"]), np.shape(env["target"]))))
        env["N"] = env["N"] if env["reduction"] == "mean" else 1.0
    local = np.asarray(expression.evaluate(env), dtype=float)
    shape = np.broadcast_shapes(local.shape, np.shape(env["g"]), np.shape(env[port]), np.shape(env["out"]))
    local = np.broadcast_to(local, shape)
    full = local * np.broadcast_to(env["g"], shape)
    gradient = unbroadcast(full, np.shape(env[port]))
    index = (0,) * len(shape)
    numbers = dict(context.names)
    for name, value in env.items():
        if isinstance(value, np.ndarray) and value.dtype.kind in "fiub" and name not in ("N",):
            numbers[name] = _number(np.broadcast_to(value, np.broadcast_shapes(value.shape, shape))[index]
                                    if value.ndim <= len(shape) else value.reshape(-1)[0])
    if "N" in env:
        numbers["N"] = number_text(env["N"])
    g0 = np.broadcast_to(env["g"], shape)[index]
    lines = [_at(index) + _equation(context, expression.render(context.names), expression.render(numbers),
                                     local[index])
             + f", times the incoming {number_text(g0)}, gives {number_text(full[index])}"]
    fact = broadcast(np.shape(env[port]), shape)
    if fact is not None and gradient.size:
        lines.append(f"{fact.reduction} to {shape_text(fact.source)}: {number_text(gradient.reshape(-1)[0])}")
    return EdgeFormula(tuple(lines), gradient, (0,) * gradient.ndim)


def _number(value: Any) -> str:
    return factor_text(float(value))


def _expanded(array: np.ndarray, dims: tuple[int, ...] | None, keepdim: bool, ndim: int) -> np.ndarray:
    """A reduction's result (or its gradient) with the reduced dims back as size one."""
    if dims is None:
        return np.asarray(array).reshape((1,) * ndim)
    return array if keepdim else np.expand_dims(array, dims)


def _reduce(derivative: Reduce, context: _Context) -> EdgeFormula:
    env = dict(context.env)
    x = np.asarray(env[derivative.port], dtype=float)
    dim = env.get("dim")
    dims = None if dim is None else tuple(sorted(d % max(x.ndim, 1) for d in (dim if isinstance(dim, tuple)
                                                                              else (dim,))))
    keepdim = bool(env.get("keepdim"))
    env["out"] = _expanded(env["out"], dims, keepdim, x.ndim)
    g = np.broadcast_to(_expanded(env["g"], dims, keepdim, x.ndim), x.shape)
    env["N"] = float(x.size // max(env["out"].size, 1))
    env["mean"] = x.mean(axis=dims, keepdims=True)
    env["ties"] = (x == env["out"]).sum(axis=dims, keepdims=True)
    local = np.broadcast_to(np.asarray(derivative.local.evaluate(env), dtype=float), x.shape)
    gradient = local * g
    index = (0,) * x.ndim
    numbers = {**context.names, "N": number_text(env["N"])}
    for name in ("input", "out", "mean", "ties"):
        numbers[name] = _number(np.broadcast_to(env[name], x.shape)[index])
    first = _equation(context, derivative.local.render(context.names), derivative.local.render(numbers),
                      local[index])
    return EdgeFormula((_at(index) + first + f", times the incoming {number_text(g[index])} of the result it "
                                             f"feeds, gives {number_text(gradient[index])}",), gradient, index)


def _route(derivative: Route, context: _Context, compute: Any, attributes: Mapping[str, Any]) -> EdgeFormula:
    """Run the op on the element numbers 0, 1, 2, … of this input: each output element names where it came from."""
    env, port = context.env, context.port
    shape = np.shape(env[port])
    size = int(np.prod(shape))
    inputs: dict[str, Any] = {}
    for name, value in env.items():
        if name in attributes or name in ("out", "g"):
            continue
        if name == port:
            inputs[name] = engine.from_numpy(np.arange(size, dtype=np.float64).reshape(shape))
        elif value.dtype.kind == "f":  # another tensor joined in (cat): its elements are marked -1
            inputs[name] = engine.from_numpy(np.full(value.shape, -1.0))
        else:
            inputs[name] = engine.from_numpy(value)
    with engine.no_grad():
        moved = np.asarray(compute(inputs, attributes).numpy()).astype(np.int64)
    g = np.broadcast_to(env["g"], moved.shape)
    mine = moved >= 0
    gradient = np.bincount(moved[mine], weights=g[mine], minlength=size).reshape(shape)
    first = int(moved[mine].min()) if mine.any() else 0  # the first input element that went anywhere
    index = tuple(int(i) for i in np.unravel_index(first, shape)) if shape else ()
    places = [tuple(int(i) for i in place) for place in np.argwhere(moved == first)]
    sent = " + ".join(number_text(g[place]) for place in places[:3]) + (" + …" if len(places) > 3 else "")
    where = ", ".join(f"[{', '.join(map(str, place))}]" for place in places[:3]) + (", …" if len(places) > 3 else "")
    lines = [f"{context.head} = 1 for each element moved: {derivative.what}"]
    if places:
        lines.append(f"{_at(index)}it went to {context.out_name}{where}, whose incoming {sent} "
                     f"gives {number_text(gradient[index])}")
    return EdgeFormula(tuple(lines), gradient, index)


def _matrix(derivative: Matrix, context: _Context) -> EdgeFormula | None:
    form = derivative.forms.get(context.port)
    if form is None:
        return None
    gradient = form.gradient(context.env)
    target = context.names["L"]
    legend = f"G = ∂{target}/∂{context.out_name}, the incoming gradient {shape_text(np.shape(context.env['g']))}"
    return EdgeFormula((form.formula.format(**context.names), legend, form.element(context.env, context.names)),
                       np.asarray(gradient), (0,) * np.ndim(gradient))
