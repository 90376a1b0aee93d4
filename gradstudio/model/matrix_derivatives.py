"""The matrix-form derivatives of matmul, linear, softmax, log-softmax and cross entropy.

Each gives the standard formula (`∂L/∂a = G·bᵀ`, L the Backward target, G the
incoming gradient ∂L/∂out), the whole gradient computed
from it with numpy, and the numbers of one element, as `derivatives.MatrixForm`s
the catalog attaches to its entries.
"""

from __future__ import annotations

import numpy as np

from gradstudio.model.derivatives import Env, Matrix, MatrixForm, Names, factor_text, number_text

TERMS = 3  # terms of a sum written out before "…"


def _sum_text(pairs: list[tuple[float, float]]) -> str:
    """`0.1·2 + 0.3·(-1) + …` for a sum of products."""
    shown = [f"{_factor(a)}·{_factor(b)}" for a, b in pairs[:TERMS]]
    return " + ".join(shown) + (" + …" if len(pairs) > TERMS else "")


def _factor(value: float) -> str:
    return factor_text(value)


def unbroadcast(gradient: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `gradient` back to `shape`, as Backward does for a broadcast input."""
    lead = gradient.ndim - len(shape)
    gradient = gradient.sum(axis=tuple(range(lead))) if lead > 0 else gradient
    kept = tuple(dim for dim, size in enumerate(shape) if size == 1 and gradient.shape[dim] != 1)
    return gradient.sum(axis=kept, keepdims=True) if kept else gradient


# ----- matmul ------------------------------------------------------------------------------------------------------


def _as_matrices(env: Env) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """a, b and the incoming gradient G with 1-d operands promoted to matrices, as matmul does."""
    a, b, g = (np.asarray(env[name], dtype=float) for name in ("a", "b", "g"))
    if a.ndim == 1:
        a, g = a[None, :], np.expand_dims(g, -2)
    if b.ndim == 1:
        b, g = b[:, None], np.expand_dims(g, -1)
    return a, b, g


def _matmul_grad_a(env: Env) -> np.ndarray:
    a, b, g = _as_matrices(env)
    shape = np.shape(env["a"])
    return unbroadcast(g @ np.swapaxes(b, -1, -2), a.shape).reshape(shape)


def _matmul_grad_b(env: Env) -> np.ndarray:
    a, b, g = _as_matrices(env)
    shape = np.shape(env["b"])
    return unbroadcast(np.swapaxes(a, -1, -2) @ g, b.shape).reshape(shape)


def _matmul_element_a(env: Env, names: Names) -> str:
    a, b, g = _as_matrices(env)
    g, b = g.reshape(-1, *g.shape[-2:])[0], b.reshape(-1, *b.shape[-2:])[0]
    pairs = [(g[0, k], b[0, k]) for k in range(g.shape[1])]
    value = sum(x * y for x, y in pairs)
    return f"element [0, 0]: Σₖ G[0, k]·{names['b']}[0, k] = {_sum_text(pairs)} = {number_text(value)}"


def _matmul_element_b(env: Env, names: Names) -> str:
    a, b, g = _as_matrices(env)
    g, a = g.reshape(-1, *g.shape[-2:])[0], a.reshape(-1, *a.shape[-2:])[0]
    pairs = [(a[k, 0], g[k, 0]) for k in range(g.shape[0])]
    value = sum(x * y for x, y in pairs)
    return f"element [0, 0]: Σₖ {names['a']}[k, 0]·G[k, 0] = {_sum_text(pairs)} = {number_text(value)}"


MATMUL = Matrix({
    "a": MatrixForm("∂{L}/∂{a} = G·{b}ᵀ", _matmul_grad_a, _matmul_element_a),
    "b": MatrixForm("∂{L}/∂{b} = {a}ᵀ·G", _matmul_grad_b, _matmul_element_b),
})


# ----- linear: x @ Wᵀ + bias ---------------------------------------------------------------------------------------


def _rows(env: Env) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The input and the incoming gradient as rows (batch dims flattened), and the weight."""
    x = np.asarray(env["input"], dtype=float)
    w = np.asarray(env["weight"], dtype=float)
    g = np.asarray(env["g"], dtype=float)
    return x.reshape(-1, x.shape[-1]), w, g.reshape(-1, w.shape[0])


def _linear_input(env: Env) -> np.ndarray:
    x, w, g = _rows(env)
    return (g @ w).reshape(np.shape(env["input"]))


def _linear_weight(env: Env) -> np.ndarray:
    x, w, g = _rows(env)
    return g.T @ x


def _linear_bias(env: Env) -> np.ndarray:
    return _rows(env)[2].sum(axis=0)


def _linear_element_input(env: Env, names: Names) -> str:
    x, w, g = _rows(env)
    pairs = [(g[0, k], w[k, 0]) for k in range(w.shape[0])]
    return (f"element [0, 0]: Σₖ G[0, k]·{names['weight']}[k, 0] = {_sum_text(pairs)} = "
            f"{number_text(sum(p * q for p, q in pairs))}")


def _linear_element_weight(env: Env, names: Names) -> str:
    x, w, g = _rows(env)
    pairs = [(g[n, 0], x[n, 0]) for n in range(x.shape[0])]
    return (f"element [0, 0]: Σₙ G[n, 0]·{names['input']}[n, 0] = {_sum_text(pairs)} = "
            f"{number_text(sum(p * q for p, q in pairs))}")


def _linear_element_bias(env: Env, names: Names) -> str:
    g = _rows(env)[2][:, 0]
    shown = " + ".join(number_text(v) for v in g[:TERMS]) + (" + …" if len(g) > TERMS else "")
    return f"element [0]: Σₙ G[n, 0] = {shown} = {number_text(g.sum())}"


LINEAR = Matrix({
    "input": MatrixForm("∂{L}/∂{input} = G·{weight}", _linear_input, _linear_element_input),
    "weight": MatrixForm("∂{L}/∂{weight} = Gᵀ·{input}", _linear_weight, _linear_element_weight),
    "bias": MatrixForm("∂{L}/∂{bias} = Σₙ G[n] (summed over the batch)", _linear_bias, _linear_element_bias),
})


# ----- softmax and log-softmax along dim ---------------------------------------------------------------------------


def _first_row(array: np.ndarray, dim: int) -> np.ndarray:
    """The first slice along `dim`: the elements one softmax normalised together."""
    moved = np.moveaxis(np.asarray(array, dtype=float), dim, -1)
    return moved.reshape(-1, moved.shape[-1])[0] if moved.ndim else moved.reshape(1)


def _softmax(env: Env) -> np.ndarray:
    s, g = np.asarray(env["out"], dtype=float), np.asarray(env["g"], dtype=float)
    return s * (g - (g * s).sum(axis=env["dim"], keepdims=True))


def _softmax_element(env: Env, names: Names) -> str:
    s, g = _first_row(env["out"], env["dim"]), _first_row(env["g"], env["dim"])
    inner = float((g * s).sum())
    return (f"element 0: s₀·(G₀ - Σⱼ Gⱼ·sⱼ) = {number_text(s[0])}·({number_text(g[0])} - "
            f"{_factor(inner)}) = {number_text(s[0] * (g[0] - inner))}")


def _log_softmax(env: Env) -> np.ndarray:
    g = np.asarray(env["g"], dtype=float)
    return g - np.exp(np.asarray(env["out"], dtype=float)) * g.sum(axis=env["dim"], keepdims=True)


def _log_softmax_element(env: Env, names: Names) -> str:
    p, g = np.exp(_first_row(env["out"], env["dim"])), _first_row(env["g"], env["dim"])
    return (f"element 0: G₀ - softmax₀·Σⱼ Gⱼ = {number_text(g[0])} - {_factor(p[0])}·{_factor(g.sum())} = "
            f"{number_text(g[0] - p[0] * g.sum())}")


SOFTMAX = Matrix({"input": MatrixForm("∂{L}/∂{input} = s ⊙ (G - Σ_dim G ⊙ s), s = softmax({input})",
                                      _softmax, _softmax_element)})
LOG_SOFTMAX = Matrix({"input": MatrixForm("∂{L}/∂{input} = G - softmax({input}) ⊙ Σ_dim G",
                                          _log_softmax, _log_softmax_element)})


# ----- cross entropy -----------------------------------------------------------------------------------------------


def _cross_entropy_parts(env: Env) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Softmax of the logits (classes last), the target as probabilities, the mean's N, and G per row."""
    x = np.asarray(env["input"], dtype=float)
    target = np.asarray(env["target"])
    logits = np.moveaxis(x, 1, -1) if x.ndim > 1 else x
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p = shifted / shifted.sum(axis=-1, keepdims=True)
    if np.issubdtype(target.dtype, np.integer):
        onehot = np.eye(logits.shape[-1])[target]
    else:
        onehot = np.moveaxis(target.astype(float), 1, -1) if x.ndim > 1 else target.astype(float)
    count = float(p[..., 0].size) if env["reduction"] == "mean" else 1.0
    g = np.asarray(env["g"], dtype=float)
    g = g[..., None] if env["reduction"] == "none" else g
    return p, onehot, count, g


def _cross_entropy(env: Env) -> np.ndarray:
    p, onehot, count, g = _cross_entropy_parts(env)
    grad = (p * onehot.sum(axis=-1, keepdims=True) - onehot) * g / count
    return np.moveaxis(grad, -1, 1) if grad.ndim > 2 else grad


def _cross_entropy_element(env: Env, names: Names) -> str:
    p, onehot, count, g = _cross_entropy_parts(env)
    p0, t0, g0 = p.reshape(-1)[0], onehot.reshape(-1)[0], np.asarray(g).reshape(-1)[0]
    total = onehot.reshape(-1, onehot.shape[-1])[0].sum()
    return (f"element [0, 0]: (p·Σy - y)·G/N = ({number_text(p0)}·{number_text(total)} - {number_text(t0)})·"
            f"{_factor(g0)}/{number_text(count)} = {number_text((p0 * total - t0) * g0 / count)}")


def _cross_entropy_target(env: Env) -> np.ndarray:
    p, _, count, g = _cross_entropy_parts(env)
    grad = -np.log(p) * g / count
    return np.moveaxis(grad, -1, 1) if grad.ndim > 2 else grad


def _cross_entropy_target_element(env: Env, names: Names) -> str:
    p, _, count, g = _cross_entropy_parts(env)
    p0, g0 = p.reshape(-1)[0], np.asarray(g).reshape(-1)[0]
    return (f"element [0, 0]: -log p·G/N = -log({number_text(p0)})·{_factor(g0)}/{number_text(count)} = "
            f"{number_text(-np.log(p0) * g0 / count)}")


CROSS_ENTROPY = Matrix({
    "input": MatrixForm("∂{L}/∂{input} = (p·Σy - y)·G/N, p = softmax({input}),\n"
                        "y = onehot({target}) or its probabilities", _cross_entropy,
                        _cross_entropy_element),
    "target": MatrixForm("∂{L}/∂{target} = -log softmax({input})·G/N", _cross_entropy_target,
                         _cross_entropy_target_element),
})
