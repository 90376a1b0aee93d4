"""Random programs over the engine's surface, for differential fuzzing against PyTorch.

`generate(seed)` writes a short program as text: leaves made by a creation call,
then a few steps, each one op (pointwise, reduction, shape, indexing, matmul,
loss, ...) applied to earlier values, ending in `out`. The same text runs with
`torch` bound to either module (`run`), and `outcome` records what a user would
see: every value's dtype, shape, values, `requires_grad` and grad_fn name, the
gradients of the leaves after backward on `out`'s sum, and the exception (type
and message) or warnings a step raised. The generator runs each step with the
engine to learn its shape, so most programs are valid; a step that raises is
kept as the program's last one now and then, so error paths are fuzzed too.
This module never imports torch.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import gradstudio.engine as engine
from gradstudio.engine.ops.shape import WARNED_ONCE

FLOATS = ("float32", "float64")


@dataclass
class Value:
    """A named value of the program as the generator knows it (from running the prefix with the engine)."""

    name: str
    shape: tuple[int, ...]
    dtype: str


def _literal(rng: np.random.Generator, shape: tuple[int, ...], kind: str) -> str:
    if kind == "bool":
        data = rng.integers(0, 2, shape).astype(bool)
    elif kind == "int":
        data = rng.integers(-3, 4, shape)
    else:  # distinct-ish values on a coarse grid: exact in float32 and rarely tied
        data = np.round(rng.uniform(-2.0, 2.0, shape), 2)
        if rng.random() < 0.1 and data.size:
            data.flat[rng.integers(0, data.size)] = 0.0
    return repr(data.tolist())


def _shape(rng: np.random.Generator) -> tuple[int, ...]:
    ndim = int(rng.choice([0, 1, 1, 2, 2, 2, 3]))
    return tuple(int(rng.integers(1, 4)) for _ in range(ndim))


def _leaf(rng: np.random.Generator, name: str) -> str:
    """A creation call: most leaves are float tensors that require grad."""
    shape = _shape(rng)
    roll = rng.random()
    if roll < 0.6:
        dtype = FLOATS[int(rng.random() < 0.25)]
        return (f"{name} = torch.tensor({_literal(rng, shape, 'float')}, dtype=torch.{dtype}, "
                f"requires_grad=True)")
    if roll < 0.7:
        return f"{name} = torch.tensor({_literal(rng, shape, 'int')})"
    if roll < 0.75:
        return f"{name} = torch.tensor({_literal(rng, shape, 'bool')})"
    if roll < 0.82:
        return f"{name} = torch.ones({shape!r}, requires_grad=True)"
    if roll < 0.88:
        return f"{name} = torch.full({shape!r}, {float(np.round(rng.uniform(-2, 2), 2))})"
    if roll < 0.94:
        return f"{name} = torch.arange({int(rng.integers(1, 7))}.0, requires_grad=True)"
    return f"{name} = torch.linspace(-1, 1, {int(rng.integers(2, 6))}, requires_grad=True)"


# Each template names its operands {x}, {y} (earlier values), {d} (a dim of x), {k} (a keepdim flag),
# {s} (a Python scalar), {i} (an index in x's first dim), {n} (x's first extent), {p} (a permutation of x's dims).
UNARY = [
    "{x}.exp()", "torch.tanh({x})", "{x}.abs()", "torch.sigmoid({x})", "torch.relu({x})", "{x}.sin()",
    "{x}.cos()", "{x}.sqrt()", "torch.log({x})", "-{x}", "{x} ** 2", "{x} ** {s}", "{x}.clamp(-0.5, 0.5)",
    "{x}.clamp(min={s})", "{x}.reciprocal()", "{x} * {s}", "{s} - {x}", "{s} / {x}", "{x} + {s}", "2 ** {x}",
    "{x}.float()", "{x}.double()", "{x}.clone()", "{x}.detach()", "{x}.long()",
    "torch.nn.functional.softmax({x}, dim={d})", "torch.nn.functional.log_softmax({x}, dim={d})",
]
REDUCTION = [
    "{x}.sum()", "{x}.sum(dim={d}, keepdim={k})", "{x}.mean()", "torch.mean({x}, {d}, keepdim={k})",
    "{x}.max()", "{x}.max(dim={d}, keepdim={k}).values", "{x}.min({d})[0]", "{x}.min()", "{x}.prod()",
    "{x}.prod({d}, keepdim={k})", "{x}.var()", "{x}.std(dim={d})", "{x}.var({d}, unbiased=False)",
    "{x}.softmax({d})", "{x}.log_softmax(dim={d})",
]
SHAPE = [
    "{x}.reshape(-1)", "{x}.view(-1)", "{x}.transpose(0, -1)", "{x}.t()", "{x}.permute({p})", "{x}.unsqueeze({d})",
    "{x}.squeeze()", "{x}.squeeze({d})", "{x}.flatten()", "{x}.expand(2, *{x}.shape)", "{x}[{i}]", "{x}[..., None]",
    "{x}[:, 1:]", "{x}[1:]", "{x}[{i}, ...]", "torch.cat([{x}, {x}], dim={d})", "torch.stack([{x}, {y}])",
    "{x}.mT", "{x}.contiguous()",
]
BINARY = [
    "{x} + {y}", "{x} - {y}", "{x} * {y}", "{x} / {y}", "torch.maximum({x}, {y})", "torch.minimum({x}, {y})",
    "torch.where({x} > 0, {x}, {y})", "{x} ** {y}", "torch.add({x}, {y}, alpha=2)", "{x} > {y}", "{x} == {y}",
    "torch.max({x}, {y})", "torch.clamp({x}, {y})",
]
MATMUL = ["{x} @ {y}", "torch.matmul({x}, {y})", "torch.mm({x}, {y})", "{x}.mv({y})", "torch.dot({x}, {y})"]
LOSS = [
    "torch.nn.functional.mse_loss({x}, {y})", "torch.nn.functional.mse_loss({x}, {y}, reduction='sum')",
    "torch.nn.functional.binary_cross_entropy(torch.sigmoid({x}), torch.sigmoid({y}))",
    "torch.nn.functional.binary_cross_entropy_with_logits({x}, torch.sigmoid({y}))",
    "torch.nn.functional.cross_entropy({x}, torch.tensor([0] * {n}))",
]
INDEXING = [
    "{x}[[0, -1]]", "{x}[{x} > 0]", "{x}[torch.tensor([0, 0])]", "{x}[:, [0]]", "{x}[..., [True]]",
    "{x}[torch.tensor([{i}, 0]), ...]", "{x}[[0], 0]",
]
SURFACE = [
    "{x} // 2", "{x} % 1.5", "{x} % {y}", "{x}.argmax()", "{x}.argmin(dim={d}, keepdim={k})", "{x}.any()",
    "{x}.all(dim={d})", "{x}.sort(dim={d}).values", "{x}.sort(descending=True)[0]", "{x}.topk(1, dim={d}).values",
    "{x}.norm()", "{x}.norm(dim={d})", "torch.norm({x}, p=1)", "{x}.expand_as({y})", "{x}.flip({d})",
    "{x}.chunk(2, {d})[0]", "{x}.split(1, {d})[-1]", "{x}.unbind({d})[0]", "{x}.cumsum({d})", "{x}.cumprod({d})",
    "{x}.logsumexp({d})", "{x}.masked_fill({x} > 0, 0.5)", "{x}.tril()", "{x}.triu(1)", "torch.diag({x})",
    "torch.outer({x}.flatten(), {y}.flatten())", "{x}.isnan()", "{x}.isfinite()", "{x}.sum(axis={d}, keepdims={k})",
    "torch.mean(input={x})", "{x} & {y}", "{x} | 1", "~{x}", "{x} ^ {y}", "torch.einsum('ij->ji', {x})",
    "{x}.gather({d}, torch.zeros({x}.shape, dtype=torch.long))", "{x}.repeat(2, *([1] * {x}.dim()))",
    "torch.allclose({x}, {y})",
]
FUNCTIONAL = [
    "torch.nn.functional.leaky_relu({x}, 0.1)", "torch.nn.functional.gelu({x})", "torch.nn.functional.silu({x})",
    "torch.nn.functional.elu({x})", "torch.nn.functional.softplus({x})", "torch.nn.functional.l1_loss({x}, {y})",
    "torch.nn.functional.smooth_l1_loss({x}, {y})", "torch.nn.functional.huber_loss({x}, {y}, delta=0.5)",
    "torch.nn.functional.normalize({x}, dim={d})", "torch.nn.functional.kl_div({x}, {y}.abs(), reduction='sum')",
]
FAMILIES: dict[str, list[str]] = {
    "unary": UNARY, "reduction": REDUCTION, "shape": SHAPE, "binary": BINARY, "matmul": MATMUL, "loss": LOSS,
    "indexing": INDEXING, "surface": SURFACE, "functional": FUNCTIONAL,
}
WEIGHTS = {"unary": 4, "reduction": 3, "shape": 3, "binary": 4, "matmul": 1, "loss": 1, "indexing": 2, "surface": 4,
           "functional": 2}


def _fill(rng: np.random.Generator, template: str, x: Value, y: Value) -> str:
    ndim = len(x.shape)
    dims = list(range(-ndim, ndim)) if ndim else [0]
    permutation = rng.permutation(ndim).tolist() if ndim else []
    return template.format(
        x=x.name, y=y.name, d=int(rng.choice(dims)), k=bool(rng.random() < 0.5),
        s=float(rng.choice([0.5, 2.0, -1.5, 3.0])), i=int(rng.integers(-1, 2)) if ndim else 0,
        n=x.shape[0] if ndim else 1, p=", ".join(map(str, permutation)) or "()")


def _describe(value: Any) -> tuple[tuple[int, ...], str] | None:
    if isinstance(value, engine.Tensor):
        return tuple(value.shape), str(value.dtype).removeprefix("torch.")
    return None


def generate(seed: int, steps: int = 6) -> str:
    """A random program (text) ending in `out`; the same seed always gives the same text."""
    warned_once = set(WARNED_ONCE)  # running the prefix must not use up the engine's once-per-process warnings
    try:
        return _generate(seed, steps)
    finally:
        WARNED_ONCE.clear()
        WARNED_ONCE.update(warned_once)


def _generate(seed: int, steps: int) -> str:
    rng = np.random.default_rng(seed)
    lines: list[str] = []
    values: list[Value] = []
    namespace: dict[str, Any] = {"torch": engine}
    for index in range(int(rng.integers(1, 4))):
        line = _leaf(rng, f"a{index}")
        _execute(line, namespace)
        shape, dtype = _describe(namespace[f"a{index}"])
        lines.append(line)
        values.append(Value(f"a{index}", shape, dtype))
    families = list(FAMILIES)
    weights = np.array([WEIGHTS[f] for f in families], dtype=float)
    for step in range(steps):
        name = f"v{step}"
        for _ in range(8):  # a few draws for a step that runs; one that raises ends the program sometimes
            family = families[int(rng.choice(len(families), p=weights / weights.sum()))]
            template = FAMILIES[family][int(rng.integers(len(FAMILIES[family])))]
            x, y = values[-1 if rng.random() < 0.6 else int(rng.integers(len(values)))], \
                values[int(rng.integers(len(values)))]
            line = f"{name} = {_fill(rng, template, x, y)}"
            try:
                _execute(line, namespace)
                described = _describe(namespace[name])
            except Exception:  # noqa: BLE001 - a raising step is a candidate error program
                if rng.random() < 0.08:
                    lines.append(line)
                    return "\n".join(lines + ["out = None"])
                continue
            if described is not None:
                lines.append(line)
                values.append(Value(name, *described))
                break
    lines.append(f"out = {values[-1].name}")
    return "\n".join(lines)


def _execute(line: str, namespace: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(line, namespace)  # noqa: S102 - the fuzzer's own generated program


def _tensor_facts(value: Any) -> dict[str, Any]:
    return {"dtype": str(value.dtype), "shape": list(value.shape), "requires_grad": value.requires_grad,
            "grad_fn": None if value.grad_fn is None else value.grad_fn.name(),
            "values": np.array(value.detach().numpy(), copy=True)}


def outcome(text: str, module: Any) -> dict[str, Any]:
    """Run `text` with `torch` bound to `module`: each line's result or error, warnings, and leaf gradients."""
    namespace: dict[str, Any] = {"torch": module}
    seen: dict[str, Any] = {"steps": [], "warnings": []}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for line in text.splitlines():
            name = line.split(" = ", 1)[0]
            try:
                exec(line, namespace)  # noqa: S102 - generated program text
            except Exception as error:  # noqa: BLE001 - the error is the observation
                seen["steps"].append(("raised", type(error).__name__, str(error)))
                break
            value = namespace[name]
            seen["steps"].append(_tensor_facts(value) if _describe_any(value) else repr(value))
        out = namespace.get("out")
        if _describe_any(out) and out.requires_grad:
            try:
                out.sum().backward()
            except Exception as error:  # noqa: BLE001
                seen["backward"] = ("raised", type(error).__name__, str(error))
            seen["grads"] = {name: None if value.grad is None else _tensor_facts(value.grad)
                             for name, value in namespace.items() if name.startswith("a") and _describe_any(value)}
    seen["warnings"] = sorted({(w.category.__name__, str(w.message)) for w in caught})
    return seen


def _describe_any(value: Any) -> bool:
    return hasattr(value, "grad_fn") and hasattr(value, "detach")


def differences(ours: Any, theirs: Any, path: str = "", rtol: float = 1e-4, atol: float = 1e-5) -> list[str]:
    """Where two outcomes differ (floats within a tolerance, the rest exactly); empty when they agree."""
    if isinstance(ours, np.ndarray) and isinstance(theirs, np.ndarray):
        if ours.shape != theirs.shape or ours.dtype != theirs.dtype:
            return [f"{path}: {ours.dtype}{list(ours.shape)} vs {theirs.dtype}{list(theirs.shape)}"]
        if ours.dtype.kind == "f":
            ok = np.allclose(ours, theirs, rtol=rtol, atol=atol, equal_nan=True)
        else:
            ok = np.array_equal(ours, theirs)
        return [] if ok else [f"{path}: values {ours.tolist()} vs {theirs.tolist()}"]
    if isinstance(ours, float) and isinstance(theirs, float):
        same = math.isclose(ours, theirs, rel_tol=rtol, abs_tol=atol) or (math.isnan(ours) and math.isnan(theirs))
        return [] if same else [f"{path}: {ours} vs {theirs}"]
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found = [d for key in ours if key in theirs
                 for d in differences(ours[key], theirs[key], f"{path}.{key}", rtol, atol)]
        return found + ([f"{path}: keys {sorted(ours)} vs {sorted(theirs)}"] if ours.keys() != theirs.keys() else [])
    if isinstance(ours, (list, tuple)) and isinstance(theirs, (list, tuple)) and type(ours) is type(theirs):
        if len(ours) != len(theirs):
            return [f"{path}: {ours!r} vs {theirs!r}"]
        return [d for i, (a, b) in enumerate(zip(ours, theirs)) for d in differences(a, b, f"{path}[{i}]", rtol, atol)]
    return [] if ours == theirs else [f"{path}: {ours!r} vs {theirs!r}"]


Classifier = Callable[[str, dict, dict, list[str]], "str | None"]


def fuzz(torch: Any, seeds: range, known: Classifier = lambda *_: None
         ) -> tuple[int, dict[int, tuple[str, list[str]]], dict[int, str]]:
    """Run the programs of `seeds` under both engines: (count, unexplained divergences, known ones by reason)."""
    divergent: dict[int, tuple[str, list[str]]] = {}
    explained: dict[int, str] = {}
    for seed in seeds:
        text = generate(seed)
        ours, theirs = outcome(text, engine), outcome(text, torch)
        found = differences(ours, theirs)
        if found:
            reason = known(text, ours, theirs, found)
            if reason:
                explained[seed] = reason
            else:
                divergent[seed] = (text, found)
    return len(seeds), divergent, explained
