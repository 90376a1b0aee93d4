"""Code export: the generated PyTorch code, run on the engine and on real PyTorch, computes what the Evaluator does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from codegen_runs import (
    TORCH_MISSING,
    add,
    assert_matches_evaluator,
    evaluated,
    leaf,
    run_code,
    target,
    wire,
)

from gradstudio.model.catalog import CATALOG
from gradstudio.model.document import EditError, GraphDocument
from gradstudio.model.edits import SetRetainGrad, SetSetting
from gradstudio.model.io.codegen import generate_code
from gradstudio.model.io.fileformat import load
from gradstudio.model.leaves import DTYPES, INITIALISERS

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "resources" / "examples").glob("*.gsg"))
# the .grad each example's code prints after backward (leaves requiring grad upstream of the target)
PRINTED_GRADS = {
    "linear_regression": ["w", "b"],
    "notes_forward_backward": ["x"],
    "notes_no_grad": None,
    "notes_randn_mean": ["a"],
    "notes_requires_grad_false": None,
    "softmax_classifier": ["W", "b"],
    "xor_mlp": ["W1", "b1", "W2", "b2"],
    "moons_mlp": ["W1", "b1", "W2", "b2"],
    "lesson_forward_chain": ["x"],
    "lesson_no_grad": None,
    "lesson_broadcasting": ["b"],
}


def test_every_example_has_its_printed_grads_listed() -> None:
    assert sorted(path.stem for path in EXAMPLES) == sorted(PRINTED_GRADS)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_code_on_the_engine_prints_and_computes_what_the_evaluator_does(path: Path) -> None:
    document = load(path)
    evaluator = evaluated(document)
    code = generate_code(document, evaluator.results)
    namespace, printed = run_code(code, "engine")
    assert_matches_evaluator(document, evaluator, namespace, exact=True)
    out = document.nodes[document.settings.backward_target]
    expected = [repr(evaluator.value(out.id))]
    grads = PRINTED_GRADS[path.stem]
    if grads is not None:
        ids = {node.name: node.id for node in document.nodes.values()}
        expected += [repr(evaluator.leaf_grad(ids[name])) for name in grads]
    assert printed == "\n".join(expected) + "\n"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.stem)
def test_example_code_on_real_pytorch_computes_what_the_evaluator_does(path: Path) -> None:
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    document = load(path)
    evaluator = evaluated(document)
    namespace, _ = run_code(generate_code(document, evaluator.results), "torch")
    assert namespace["torch"] is torch
    assert_matches_evaluator(document, evaluator, namespace, exact=False)


def test_the_notes_example_reads_like_the_notes() -> None:
    document = load(next(path for path in EXAMPLES if path.stem == "notes_forward_backward"))
    assert generate_code(document) == (
        "import torch\n\n"
        "x = torch.ones(3, requires_grad=True)\n\n"
        "y = x + 2\ny_squared = y * y\nz = y_squared * 3\nout = z.mean()\n\n"
        "print(out)\nout.backward()\nprint(x.grad)\n")


def test_without_results_the_exporter_evaluates_for_itself() -> None:
    for path in EXAMPLES:
        document = load(path)
        assert generate_code(document) == generate_code(document, evaluated(document).results)


# ----- every op kind of the catalog, built into a small graph ----------------------------------------------

# leaf attributes per input port where the default rand (2, 3) leaf does not fit the op
PORT_LEAVES: dict[str, dict[str, dict[str, Any]]] = {
    "matmul": {"b": dict(shape=(3, 2))},
    "mm": {"b": dict(shape=(3, 2))},
    "linear": {"weight": dict(shape=(4, 3)), "bias": dict(shape=(4,))},
    "cross_entropy": {"target": dict(shape=(2,), dtype="int64", init="values", values=(0, 2), requires_grad=False)},
    "binary_cross_entropy": {"target": dict(requires_grad=False)},
    "where": {"condition": dict(dtype="bool", init="values", values=(1, 0, 1, 0, 0, 1), requires_grad=False)},
    "expand": {"input": dict(shape=(1, 3))},
    "gather": {"index": dict(shape=(2, 2), dtype="int64", init="values", values=(0, 2, 1, 1), requires_grad=False)},
    **{kind: {"input": dict(requires_grad=False)} for kind in ("add_", "sub_", "mul_", "div_")},  # in place
}
# attribute variants beyond the defaults (reductions along a dim, optional bounds, index expressions, ...)
VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("sum", dict(dim=1, keepdim=True)), ("mean", dict(dim=-1)), ("max", dict(dim=0)),
    ("min", dict(dim=1, keepdim=True)), ("prod", dict(dim=0)), ("var", dict(dim=1, correction=0)),
    ("std", dict(correction=0)),
    ("clamp", dict(min=None, max=0.5)), ("clamp", dict(min=-0.25, max=0.75)), ("index", dict(index="1, 0:3:2")),
    ("index", dict(index="..., None")), ("index", dict(index="[1, 0, 1], 1:")), ("softmax", dict(dim=0)),
    ("reshape", dict(shape=(3, 2))),
    ("view", dict(shape=(6,))), ("transpose", dict(dim0=1, dim1=0)), ("unsqueeze", dict(dim=1)),
    ("squeeze", dict(dim=0)), ("flatten", dict(start_dim=1)), ("stack", dict(count=3, dim=1)),
    ("cat", dict(count=1)), ("mse_loss", dict(reduction="sum")), ("cross_entropy", dict(reduction="none")),
]
CASES = [(kind, {}) for kind in CATALOG if kind not in ("tensor", "scalar")] + VARIANTS


def op_graph(kind: str, attributes: dict[str, Any]) -> GraphDocument:
    """One op of `kind` fed by fresh leaves, summed into a scalar `loss` when its result can be differentiated."""
    document = GraphDocument()
    add(document, "op", kind, **attributes)
    for port in document.nodes["op"].input_ports():
        wire(document, leaf(document, f"in_{port}", **PORT_LEAVES.get(kind, {}).get(port, {})), "op", port)
    document.nodes = dict(reversed(list(document.nodes.items())))  # leaves first, as a user would add them
    value = evaluated(document).value("op")
    assert value is not None, f"{kind} fails on its test inputs"
    if value.requires_grad:
        target(document, "op" if value.numel() == 1 else add(document, "loss", "sum"))
        if "loss" in document.nodes:
            wire(document, "op", "loss", "input")
    return document


@pytest.mark.parametrize(("kind", "attributes"), CASES, ids=[f"{kind}{attrs or ''}" for kind, attrs in CASES])
@pytest.mark.parametrize("backend", ["engine", "torch"])
def test_every_op_exports_to_code_computing_the_same(kind: str, attributes: dict[str, Any], backend: str) -> None:
    if backend == "torch":
        pytest.importorskip("torch", reason=TORCH_MISSING)
    document = op_graph(kind, attributes)
    evaluator = evaluated(document)
    namespace, _ = run_code(generate_code(document, evaluator.results), backend)
    assert_matches_evaluator(document, evaluator, namespace, exact=backend == "engine")


SHAPES = [(), (4,), (2, 3), (2, 1, 3)]
# eye only makes matrices: its other shapes are refused by the leaf builder (tested in test_catalog.py)
LEAF_CASES = [(dict(init=init, dtype=dtype), shape) for init in INITIALISERS for dtype in DTYPES for shape in SHAPES
              if init != "eye" or len(shape) == 2]


@pytest.mark.parametrize(("attributes", "shape"), LEAF_CASES,
                         ids=[f"{attrs['init']}-{attrs['dtype']}-{shape}" for attrs, shape in LEAF_CASES])
@pytest.mark.parametrize("backend", ["engine", "torch"])
def test_every_initialiser_exports_the_same_leaf(attributes: dict, shape: tuple, backend: str) -> None:
    if backend == "torch":
        pytest.importorskip("torch", reason=TORCH_MISSING)
    count = 1 if not shape else int(__import__("math").prod(shape))
    floating = attributes["dtype"].startswith("float")
    document = GraphDocument()
    leaf(document, "x", shape=shape, fill=2.5, start=0.75, end=2.0, values=tuple(range(count)),
         requires_grad=floating, seed=5, **attributes)
    evaluator = evaluated(document)
    namespace, _ = run_code(generate_code(document, evaluator.results), backend)
    assert_matches_evaluator(document, evaluator, namespace, exact=backend == "engine")
    assert namespace["x"].is_leaf


# ----- what the code looks like ----------------------------------------------------------------------------


def chain(mode: str = "normal") -> GraphDocument:
    """x (ones, 3) -> y = x * c with c = -2 -> out = y.sum(); y retains its grad."""
    document = GraphDocument()
    leaf(document, "x", shape=(3,), init="ones")
    add(document, "c", "scalar", value=-2)
    add(document, "y", "mul")
    add(document, "out", "sum")
    wire(document, "x", "y", "a")
    wire(document, "c", "y", "b")
    wire(document, "y", "out", "input")
    document.apply(SetRetainGrad("y", True))
    document.apply(SetSetting("grad_mode", mode))
    target(document, "out")
    return document


def test_numbers_are_inlined_negative_ones_in_parentheses_and_retain_grad_follows_its_line() -> None:
    code = generate_code(chain())
    assert "y = x * (-2)\ny.retain_grad()\nout = y.sum()\n" in code
    assert code.endswith("out.backward()\nprint(x.grad)\nprint(y.grad)\n")
    assert "import torch.nn.functional" not in code and "\nc = " not in code


def test_retained_grad_printed_by_the_code_is_the_evaluators() -> None:
    document = chain()
    evaluator = evaluated(document)
    namespace, printed = run_code(generate_code(document, evaluator.results), "engine")
    assert printed.splitlines()[-1] == repr(evaluator.leaf_grad("y")) == "tensor([1., 1., 1.])"
    assert namespace["y"].retains_grad


def test_no_grad_mode_wraps_the_ops_and_explains_the_missing_backward() -> None:
    code = generate_code(chain("no_grad"))
    assert ("x = torch.ones(3, requires_grad=True)\n\n"
            "with torch.no_grad():\n    y = x * (-2)\n    out = y.sum()\n") in code
    assert "retain_grad" not in code
    assert code.endswith("print(out)\n# out.backward() would raise RuntimeError: element 0 of tensors does not "
                         "require grad and does not have a grad_fn\n")
    namespace, _ = run_code(code, "engine")
    assert namespace["out"].grad_fn is None


def test_a_non_scalar_target_says_backward_needs_a_gradient() -> None:
    document = chain()
    target(document, "y")
    code = generate_code(document)
    assert "# y.backward() would raise RuntimeError: grad can be implicitly created only for scalar outputs" in code
    run_code(code, "engine")


def test_unconnected_and_failing_nodes_become_comments_and_the_code_still_runs() -> None:
    document = chain()
    leaf(document, "w", shape=(4,))
    add(document, "bad", "add")
    add(document, "after", "exp")
    add(document, "lonely", "mul")
    wire(document, "x", "bad", "a")
    wire(document, "w", "bad", "b")
    wire(document, "bad", "after", "input")
    wire(document, "x", "lonely", "a")
    code = generate_code(document)
    assert "# bad cannot be computed: The size of tensor a (3) must match the size of tensor b (4)" in code
    assert "# bad = x + w\n" in code
    assert "# after cannot be computed: not run: bad has no value\n# after = torch.exp(bad)\n" in code
    assert "# lonely: input 'b' is not connected\n" in code
    namespace, _ = run_code(code, "engine")
    assert "bad" not in namespace and "out" in namespace


def test_a_leaf_that_cannot_be_made_is_a_comment() -> None:
    document = GraphDocument()
    leaf(document, "x", shape=(2, 3), init="values", values=(1, 2, 3))
    assert "# x cannot be computed: shape [2, 3] needs 6 values, got 3\n" in generate_code(document)


def test_an_unused_number_is_assigned() -> None:
    document = GraphDocument()
    add(document, "c", "scalar", value=2.5)
    assert generate_code(document) == "import torch\n\nc = 2.5\n"


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("shape", [(3,), (2, 2), (20,), (1025,)])
def test_random_leaves_call_the_seeded_generator_which_gives_the_leafs_numbers(dtype: str, shape: tuple) -> None:
    document = GraphDocument()
    leaf(document, "W", shape=shape, init="randn", seed=7, dtype=dtype, requires_grad=dtype != "int64")
    code = generate_code(document)
    assert "PyTorch's generator gives other numbers" not in code
    assert "torch.manual_seed(7)\nW = torch.randn(" in code
    evaluator = evaluated(document)
    namespace, _ = run_code(code, "engine")
    assert_matches_evaluator(document, evaluator, namespace, exact=True)


@pytest.mark.parametrize("init", ["rand", "randn"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_random_leaves_hold_real_pytorchs_numbers_for_their_seed(init: str, dtype: str) -> None:
    pytest.importorskip("torch", reason=TORCH_MISSING)
    document = GraphDocument()
    for index, shape in enumerate([(1,), (3, 5), (4, 4), (33,), (1025,)]):
        leaf(document, f"W{index}", shape=shape, init=init, seed=index - 2, dtype=dtype, requires_grad=False)
    evaluator = evaluated(document)
    namespace, _ = run_code(generate_code(document, evaluator.results), "torch")
    assert_matches_evaluator(document, evaluator, namespace, exact=True)


def test_values_are_written_row_by_row_and_floats_read_back_exactly() -> None:
    document = GraphDocument()
    leaf(document, "X", shape=(2, 2), init="values", values=(0.1, 1e-8, -3.0, 1 / 3), requires_grad=False)
    leaf(document, "D", shape=(2,), init="values", dtype="float64", values=(0.1, 2.0), requires_grad=False)
    code = generate_code(document)
    assert "X = torch.tensor([[0.1, 1e-08],\n                  [-3.0, 0.33333334]])\n" in code
    assert "D = torch.tensor([0.1, 2.0], dtype=torch.float64)\n" in code


def test_index_expressions_are_rewritten_from_their_parsed_form() -> None:
    document = GraphDocument()
    leaf(document, "x")
    add(document, "row", "index", index=" 1 , 0: :2")
    wire(document, "x", "row", "input")
    assert "row = x[1, 0::2]\n" in generate_code(document)


def test_the_functional_import_appears_only_when_used() -> None:
    document = op_graph("mse_loss", {})
    assert generate_code(document).startswith("import torch\nimport torch.nn.functional as F\n\n")


def test_ops_follow_the_topological_order_whatever_the_insertion_order() -> None:
    document = chain()
    add(document, "early", "exp")
    wire(document, "out", "early", "input")
    document.nodes = dict(reversed(list(document.nodes.items())))
    lines = [line.split(" = ")[0] for line in generate_code(document).splitlines() if " = " in line]
    graph = document.graph()
    ids = {node.name: node.id for node in document.nodes.values()}
    assert all(lines.index(document.nodes[a].name) < lines.index(document.nodes[b].name) for a, b in graph.edges
               if document.nodes[a].kind != "scalar")
    assert nx.is_directed_acyclic_graph(graph) and lines[-1] == "early" and ids["x"]


@pytest.mark.parametrize("name", ["break", "continue", "elif", "finally", "nonlocal", "async", "await"])
def test_variable_names_are_never_python_keywords(name: str) -> None:
    document = GraphDocument()
    with pytest.raises(EditError, match="not a valid variable name"):
        leaf(document, name)


@pytest.mark.parametrize("name", ["print", "float"])
def test_names_the_exported_code_uses_are_refused_and_never_suggested(name: str) -> None:
    document = GraphDocument()
    with pytest.raises(EditError, match="not a valid variable name"):
        leaf(document, name)
    assert document.new_name(name) == f"{name}1"


def test_a_number_as_target_has_no_backward() -> None:
    document = chain()
    target(document, "c")
    code = generate_code(document)
    assert code.endswith("# c is a Python number: nothing to run backward from\n")
    run_code(code, "engine")
