"""Running exported code on the engine or on real PyTorch, and comparing it with the Evaluator (no display)."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import numpy as np

import gradstudio.engine as engine
from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect, SetSetting
from gradstudio.model.evaluation import Evaluator

TORCH_MISSING = "PyTorch not installed: differential tests against real PyTorch skipped"


def run_code(code: str, backend: str) -> tuple[dict[str, Any], str]:
    """Execute exported code with `torch` bound to the engine ("engine") or to real PyTorch ("torch")."""
    if backend == "engine":
        code = code.replace("import torch.nn.functional as F\n", "import gradstudio.engine.nn.functional as F\n")
        assert code.startswith("import torch\n")
        code = "import gradstudio.engine as torch\n" + code[len("import torch\n"):]
    namespace: dict[str, Any] = {}
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        exec(compile(code, "<exported>", "exec"), namespace)
    return namespace, printed.getvalue()


def evaluated(document: GraphDocument) -> Evaluator:
    """An evaluator of `document` after forward and, when the target allows it, one backward."""
    evaluator = Evaluator(document)
    evaluator.evaluate()
    target = document.settings.backward_target
    value = evaluator.value(target) if target else None
    if isinstance(value, engine.Tensor) and value.requires_grad and value.numel() == 1:
        evaluator.backward()
    return evaluator


def as_array(value: Any) -> np.ndarray:
    """A tensor (either library's) or number as a numpy array."""
    if hasattr(value, "detach"):
        return np.asarray(value.detach().numpy())
    return np.asarray(value)


def assert_same(ours: Any, theirs: Any, exact: bool) -> None:
    """Equal values, dtypes and autograd flags; exactly on the engine, to float32 rounding on real PyTorch."""
    a, b = as_array(ours), as_array(theirs)
    assert a.shape == b.shape and a.dtype == b.dtype
    if exact or a.dtype.kind not in "fc":
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)
    if hasattr(ours, "requires_grad"):
        assert ours.requires_grad == theirs.requires_grad and ours.is_leaf == theirs.is_leaf
        names = [t.grad_fn.name() if t.grad_fn is not None else None for t in (ours, theirs)]
        assert names[0] == names[1]


def assert_matches_evaluator(document: GraphDocument, evaluator: Evaluator, namespace: dict[str, Any],
                             exact: bool) -> None:
    """Every computed node's variable equals its result, and every leaf's .grad the evaluator's."""
    for node_id, result in evaluator.results.items():
        node = document.nodes[node_id]
        if not result.ok or node.kind == "scalar":
            continue
        ours = namespace[node.name]
        assert_same(ours, result.value, exact)
        expected_grad = evaluator.leaf_grad(node_id)
        actual_grad = ours.grad if ours.is_leaf or ours.retains_grad else None
        assert (actual_grad is None) == (expected_grad is None), node.name
        if expected_grad is not None:
            assert_same(actual_grad, expected_grad, exact)


def add(document: GraphDocument, name: str, kind: str, **attributes: Any) -> str:
    """Add a node named (and identified) `name`."""
    document.apply(AddNode(Node(name, kind, name, attributes)))
    return name


def wire(document: GraphDocument, source: str, target: str, port: str) -> None:
    """Connect `source` to port `port` of `target`."""
    document.apply(Connect(Edge(source, target, port)))


def leaf(document: GraphDocument, name: str, **attributes: Any) -> str:
    """A tensor node: rand (2, 3) requiring grad unless told otherwise."""
    defaults = dict(shape=(2, 3), init="rand", seed=len(document.nodes) + 1, requires_grad=True)
    return add(document, name, "tensor", **{**defaults, **attributes})


def target(document: GraphDocument, node: str) -> None:
    """Make `node` the backward target."""
    document.apply(SetSetting("backward_target", node))
