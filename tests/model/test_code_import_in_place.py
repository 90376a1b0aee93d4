"""In-place methods and operators in imported code (`b.add_(1)`, `b *= 3`) become the catalog's in-place ops
where the graph can show the change, and give real PyTorch's values, gradients and refusals."""

from __future__ import annotations

import numpy as np
import pytest

from gradstudio.model.io.code_import import CodeImportError, plan_import
from gradstudio.model.io.codegen import generate_code
from gradstudio.model.workspace import GraphWorkspace
from tests.model.code_import_helpers import imported, same_structure

TORCH_MISSING = "PyTorch not installed: the differential check against real PyTorch is skipped"
PRELUDE = "import torch\nx = torch.tensor([1., 2., 3.], requires_grad=True)\n"

PROGRAMS = {
    "changed after a reader": "b = x * 2\nc = b * 3\nb.add_(1)\nb.mul_(3)\nout = (b + c).sum()\n",
    "read again after the change": "b = x * 2\nc = b.sum()\nb.mul_(3)\nd = b * x\nout = d.sum() + c\n",
    "aliases and the returned tensor": "b = x + 1\na = b\nc = b.add_(2)\nb.div_(4)\nout = (a * c * b).sum()\n",
    "operator after a reader": "b = x + 1\nc = b.exp()\nb -= 1\nout = (b * c).sum()\n",
    "leaf without grad": "w = torch.ones(3)\ny = x + w\nw.mul_(2)\nout = (y * w).sum()\n",
    "saved tensor changed": "b = x + 1\nc = b * b\nb += 1\nout = (b + c).sum()\n",
}


def pytorch_run(code: str):
    """Run the program under real PyTorch (the test runs it, never the importer): out, x.grad or the error."""
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    scope = {"torch": torch}
    exec(compile(code.replace("import torch\n", ""), "program", "exec"), scope)
    try:
        scope["out"].backward()
    except RuntimeError as error:
        return scope["out"], error
    return scope["out"], scope["x"].grad


@pytest.mark.parametrize("body", PROGRAMS.values(), ids=PROGRAMS.keys())
def test_in_place_changes_give_pytorchs_values_and_gradients(body):
    code = PRELUDE + body
    torch_out, torch_grad = pytorch_run(code)
    document = imported(code)
    workspace = GraphWorkspace(document)
    out = document.name_owner("out")
    ours = workspace.evaluator.evaluate()[out].tensor.detach().numpy()
    assert np.allclose(ours, torch_out.detach().numpy(), rtol=1e-6)
    if isinstance(torch_grad, RuntimeError):
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            workspace.backward(out)
        assert "modified by an inplace operation" in str(torch_grad)
        return
    workspace.backward(out)
    ours = workspace.evaluator.leaf_grad(document.name_owner("x")).numpy()
    assert np.allclose(ours, torch_grad.numpy(), rtol=1e-6)


def test_a_change_after_a_reader_is_the_catalogs_in_place_op():
    document = imported(PRELUDE + PROGRAMS["changed after a reader"])
    kinds = [node.kind for node in document.nodes.values()]
    assert kinds.count("add_") == 1 and kinds.count("mul_") == 1
    mul_ = next(node for node in document.nodes.values() if node.kind == "mul_")
    added = document.nodes[document.inputs_of(mul_.id)["input"].source]
    assert added.kind == "add_" and document.nodes[document.inputs_of(added.id)["input"].source].name == "b"


REFUSED = [
    ("b = x * 2\nv = b.view(3, 1)\nb.add_(1)", "v took a view of it"),
    ("b = x * 2\nv = b.detach()\nb.add_(1)", "v took a view of it"),
    ("b = x * 2\nv = b[0]\nv.mul_(2)", "v is a view of another tensor"),
    ("b = x * 2\nc = b + 1\nb **= 2", "pow has no in-place node"),
    ("b = x * 2\nb.add_(1, alpha=2)", "takes one operand here"),
    ("x.mul_(2)", "a leaf Variable that requires grad is being used in an in-place operation"),
]


@pytest.mark.parametrize("body, reason", REFUSED, ids=[reason for _, reason in REFUSED])
def test_changes_the_graph_cannot_show_are_refused(body, reason):
    with pytest.raises(CodeImportError, match=reason):
        plan_import(imported(PRELUDE), PRELUDE + body + "\n")


def test_the_exported_code_of_an_in_place_graph_imports_back_to_the_same_graph():
    document = imported(PRELUDE + PROGRAMS["changed after a reader"])
    exported = generate_code(document)
    assert "b1 = b.add_(1)" in exported  # the export names each in-place result; importing that must work too
    assert same_structure(document, imported(exported))
