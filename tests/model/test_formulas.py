"""Every catalog formula against the engine: the gradient each edge's formula predicts is the one Backward sent."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import gradstudio.engine as engine
from gradstudio.model.catalog import CATALOG
from gradstudio.model.derivatives import A, B, Var, X, call, choose, number_text
from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect
from gradstudio.model.evaluation import Evaluator
from gradstudio.model.formulas import edge_formula
from tests.model.graph_builders import add, add_notes_chain

RNG = np.random.default_rng(7)


def floats(*shape: int, low: float = -2.0, high: float = 2.0) -> np.ndarray:
    """Distinct values away from zero, ties and kinks, so every branch is well defined."""
    values = RNG.uniform(low, high, size=shape)
    return np.where(np.abs(values) < 0.15, values + 0.3, values).round(3)


def positive(*shape: int) -> np.ndarray:
    return floats(*shape, low=0.3, high=2.0)


def probabilities(*shape: int) -> np.ndarray:
    return floats(*shape, low=0.1, high=0.9)


M23, V3 = floats(2, 3), floats(3)
# kind, inputs by port (arrays become leaves; a float array requires grad), attributes
CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("add", {"a": M23, "b": V3}, {}),
    ("sub", {"a": V3, "b": M23}, {}),
    ("mul", {"a": M23, "b": floats(2, 1)}, {}),
    ("div", {"a": M23, "b": positive(3)}, {}),
    ("pow", {"a": positive(3), "b": floats(3)}, {}),
    ("matmul", {"a": M23, "b": floats(3, 4)}, {}),
    ("matmul", {"a": V3, "b": floats(3, 2)}, {}),
    ("neg", {"input": M23}, {}),
    *[(kind, {"input": M23}, {}) for kind in ("abs", "exp", "sin", "cos", "relu", "sigmoid", "tanh", "silu",
                                              "elu", "leaky_relu", "clone")],
    ("log", {"input": positive(2, 3)}, {}),
    ("sqrt", {"input": positive(2, 3)}, {}),
    ("clamp", {"input": M23}, {"min": -0.5, "max": 0.5}),
    ("clamp", {"input": M23}, {"min": 0.0, "max": None}),
    ("maximum", {"a": M23, "b": V3}, {}),
    ("minimum", {"a": M23, "b": V3}, {}),
    ("where", {"condition": np.array([[True, False, True], [False, True, True]]), "a": M23, "b": V3}, {}),
    ("gelu", {"input": M23}, {"approximate": "none"}),
    ("gelu", {"input": M23}, {"approximate": "tanh"}),
    ("softplus", {"input": M23}, {"beta": 2.0, "threshold": 1.0}),
    ("softmax", {"input": M23}, {"dim": 1}),
    ("log_softmax", {"input": M23}, {"dim": 0}),
    ("sum", {"input": M23}, {}),
    ("sum", {"input": M23}, {"dim": 1}),
    ("mean", {"input": M23}, {"dim": 0, "keepdim": True}),
    ("max", {"input": M23}, {}),
    ("max", {"input": M23}, {"dim": 1}),
    ("min", {"input": M23}, {"dim": 0}),
    ("prod", {"input": M23}, {"dim": 1}),
    ("var", {"input": M23}, {"dim": 1}),
    ("std", {"input": M23}, {}),
    ("norm", {"input": M23}, {}),
    ("norm", {"input": M23}, {"p": 1.0, "dim": 1}),
    ("reshape", {"input": M23}, {"shape": (3, 2)}),
    ("view", {"input": M23}, {"shape": (6,)}),
    ("transpose", {"input": M23}, {}),
    ("T", {"input": M23}, {}),
    ("permute", {"input": M23}, {"dims": (1, 0)}),
    ("unsqueeze", {"input": M23}, {"dim": 1}),
    ("squeeze", {"input": floats(2, 1, 3)}, {}),
    ("flatten", {"input": floats(2, 2, 3)}, {}),
    ("expand", {"input": floats(1, 3)}, {"shape": (4, -1)}),
    ("index", {"input": M23}, {"index": "1"}),
    ("index", {"input": floats(4, 3)}, {"index": "[0, 2, 0]"}),
    ("gather", {"input": M23, "index": np.array([[0, 2], [1, 1]])}, {"dim": 1}),
    ("cat", {"tensor0": M23, "tensor1": floats(1, 3)}, {"count": 2, "dim": 0}),
    ("stack", {"tensor0": V3, "tensor1": floats(3)}, {"count": 2, "dim": 1}),
    ("mm", {"a": M23, "b": floats(3, 2)}, {}),
    ("linear", {"input": M23, "weight": floats(4, 3), "bias": floats(4)}, {}),
    ("mse_loss", {"input": M23, "target": floats(2, 3)}, {}),
    ("mse_loss", {"input": M23, "target": floats(2, 3)}, {"reduction": "none"}),
    ("l1_loss", {"input": M23, "target": floats(2, 3)}, {"reduction": "sum"}),
    ("smooth_l1_loss", {"input": M23, "target": floats(2, 3)}, {"beta": 0.8}),
    ("huber_loss", {"input": M23, "target": floats(2, 3)}, {"delta": 0.8}),
    ("binary_cross_entropy", {"input": probabilities(2, 3), "target": probabilities(2, 3)}, {}),
    ("cross_entropy", {"input": floats(4, 3), "target": np.array([0, 2, 1, 2])}, {}),
    ("cross_entropy", {"input": floats(4, 3), "target": probabilities(4, 3)}, {"reduction": "sum"}),
    # in place: the changed input comes through a clone (a leaf that requires grad cannot change in place)
    ("add_", {"input": M23, "other": V3}, {}),
    ("sub_", {"input": M23, "other": floats(2, 3)}, {}),
    ("mul_", {"input": M23, "other": floats(2, 1)}, {}),
    ("div_", {"input": M23, "other": positive(3)}, {}),
]


def _leaf(document: GraphDocument, name: str, values: np.ndarray) -> None:
    dtype = {"f": "float64", "i": "int64", "b": "bool"}[values.dtype.kind]
    add(document, name, "tensor", shape=values.shape, dtype=dtype, init="values",
        values=values.tolist(), requires_grad=dtype == "float64")


def build(kind: str, inputs: dict[str, Any], attributes: dict[str, Any]) -> tuple[GraphDocument, Evaluator]:
    """A leaf per input, the op under test, evaluated."""
    document = GraphDocument()
    for port, values in inputs.items():
        _leaf(document, f"in_{port}", values)
    document.apply(AddNode(Node("op", kind, "op", attributes)))
    changed = CATALOG[kind].modifies
    if changed is not None:
        add(document, "copy", "clone", f"in_{changed}")
    for port in inputs:
        document.apply(Connect(Edge("copy" if port == changed else f"in_{port}", "op", port)))
    evaluator = Evaluator(document)
    assert evaluator.evaluate()["op"].ok, evaluator.results["op"].error
    return document, evaluator


@pytest.mark.parametrize(("kind", "inputs", "attributes"), CASES,
                         ids=[f"{kind}-{i}" for i, (kind, _, _) in enumerate(CASES)])
def test_formula_gradient_is_the_engines(kind: str, inputs: dict[str, Any], attributes: dict[str, Any]) -> None:
    document, evaluator = build(kind, inputs, attributes)
    output = evaluator.results["op"].tensor
    seed = engine.from_numpy(floats(*output.shape)) if output.numel() > 1 else None
    backward = evaluator.backward("op", seed)
    checked = 0
    for key, grad in backward.edge_grads.items():
        formula = edge_formula(document, evaluator.results, backward, document.edges[key])
        assert formula is not None, key
        np.testing.assert_allclose(formula.gradient, grad.numpy(), rtol=1e-5, atol=1e-7, err_msg=formula.text)
        # the tool tip ends with the engine's gradient at its representative element
        assert formula.text.endswith(number_text(grad.numpy()[formula.index])), formula.text
        checked += 1
    clones = CATALOG[kind].modifies is not None
    assert checked == sum(1 for values in inputs.values() if values.dtype.kind == "f") + clones
    if CATALOG[kind].modifies is not None:  # the clone's edge: the gradient the in-place op passed back to it
        np.testing.assert_allclose(backward.edge_grads[("op", "input")].numpy(),
                                   backward.node_grads["copy"].numpy(), rtol=1e-6)


def test_every_differentiable_op_has_a_formula_and_a_case() -> None:
    differentiable = {kind for kind, spec in CATALOG.items() if spec.derivative is not None}
    assert differentiable == {kind for kind, _, _ in CASES}
    assert {"tensor", "scalar", "detach", "gt", "lt"}.isdisjoint(differentiable)


def test_notes_chain_formula_reads_with_names_and_numbers() -> None:
    document = add_notes_chain(GraphDocument())
    evaluator = Evaluator(document)
    backward = evaluator.backward("out")
    text = edge_formula(document, evaluator.results, backward, document.edges[("z", "a")]).text
    incoming = backward.node_grads["z"].numpy()[0]
    assert text == f"at [0]: ∂z/∂yy = three = 3, times the incoming {number_text(incoming)}, gives 1"
    square = edge_formula(document, evaluator.results, backward, document.edges[("yy", "a")]).text
    assert "∂yy/∂y = y = 3" in square


def test_no_formula_for_an_edge_no_gradient_flowed_along() -> None:
    document = add_notes_chain(GraphDocument())
    evaluator = Evaluator(document)
    backward = evaluator.backward("out")
    assert edge_formula(document, evaluator.results, backward, document.edges[("y", "b")]) is None


@pytest.mark.parametrize(("value", "text"), [(1 / 3, "1/3"), (np.float32(1 / 3), "1/3"), (0.5, "0.5"), (18.0, "18"),
                                             (-0.086451, "-0.08645"), (2 / 7, "2/7"), (0.0, "0"), (-0.0, "0")])
def test_numbers_read_as_short_decimals_or_simple_fractions(value: float, text: str) -> None:
    assert number_text(value) == text


def test_formulas_render_with_the_precedence_they_evaluate_with() -> None:
    cases = [(B * A ** (B - 1), "b·a^(b - 1)", {"a": 2.0, "b": 3.0}, 12.0),
             (-A / B ** 2, "-a/b²", {"a": 1.0, "b": 2.0}, -0.25),
             ((A - B) - (A - B), "a - b - (a - b)", {"a": 5.0, "b": 2.0}, 0.0),
             (choose(X > 0, 1, Var("s")), "1 if input > 0 else s", {"input": -1.0, "s": 0.01}, 0.01),
             (1 - call("tanh", X) ** 2, "1 - tanh(input)²", {"input": 0.0}, 1.0)]
    for expression, text, env, value in cases:
        assert expression.render({}) == text
        assert float(expression.evaluate(env)) == pytest.approx(value)
    assert (A * B).render({"a": "(-2)", "b": "(1/3)"}) == "(-2)·(1/3)"
