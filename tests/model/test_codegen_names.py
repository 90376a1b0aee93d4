"""Exported code names what the graph names: identifiers compared as Python compares them, no empty blocks."""

from __future__ import annotations

import pytest
from codegen_runs import TORCH_MISSING, assert_matches_evaluator, evaluated, run_code

from gradstudio.model.document import Edge, EditError, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect, SetSetting
from gradstudio.model.io.codegen import generate_code
from gradstudio.model.limits import name_key


def by_graph_names(document: GraphDocument, namespace: dict) -> dict:
    """The script's variables under the graph's names (Python stores `ﬁx` as `fix`)."""
    return {node.name: namespace[name_key(node.name)] for node in document.nodes.values()
            if name_key(node.name) in namespace}


def unicode_graph() -> GraphDocument:
    """Leaves named `ﬁx` and `ｙ` (Python reads them as `fix` and `y`) feeding `résultat = ﬁx * ｙ`, summed."""
    document = GraphDocument()
    document.apply(AddNode(Node("n1", "tensor", "ﬁx", {"shape": (3,), "init": "arange", "requires_grad": True})))
    document.apply(AddNode(Node("n2", "tensor", "ｙ", {"shape": (3,), "init": "full", "fill": 2.5})))
    document.apply(AddNode(Node("n3", "mul", "résultat")))
    document.apply(AddNode(Node("n4", "sum", "total")))
    for edge in (Edge("n1", "n3", "a"), Edge("n2", "n3", "b"), Edge("n3", "n4", "input")):
        document.apply(Connect(edge))
    document.apply(SetSetting("backward_target", "n4"))
    return document


@pytest.mark.parametrize(("existing", "clashing"), [("fi", "ﬁ"), ("y", "ｙ"), ("Ａ", "A"), ("ℌ", "H")])
def test_names_python_reads_as_one_variable_are_refused(existing: str, clashing: str) -> None:
    document = GraphDocument()
    document.apply(AddNode(Node("n1", "tensor", existing)))
    with pytest.raises(EditError, match="already used"):
        document.apply(AddNode(Node("n2", "tensor", clashing)))


@pytest.mark.parametrize("name", ["ｐｒｉｎｔ", "ｔｏｒｃｈ", "Ｆ", "ｆｌｏａｔ", "Ｎｏｎｅ", "ｉｍｐｏｒｔ"])
def test_full_width_spellings_of_names_the_code_uses_are_refused(name: str) -> None:
    with pytest.raises(EditError, match="is not a valid variable name"):
        GraphDocument().apply(AddNode(Node("n1", "tensor", name)))


def test_code_with_unicode_names_prints_what_the_app_computes_on_the_engine() -> None:
    document = unicode_graph()
    evaluator = evaluated(document)
    code = generate_code(document, evaluator.results)
    namespace, printed = run_code(code, "engine")
    assert "fix" in namespace and "y" in namespace
    assert_matches_evaluator(document, evaluator, by_graph_names(document, namespace), exact=True)
    assert printed.splitlines() == [repr(evaluator.results["n4"].value), repr(evaluator.leaf_grad("n1"))]


def test_code_with_unicode_names_computes_what_the_app_does_on_real_pytorch() -> None:
    pytest.importorskip("torch", reason=TORCH_MISSING)
    document = unicode_graph()
    evaluator = evaluated(document)
    namespace, _ = run_code(generate_code(document, evaluator.results), "torch")
    assert_matches_evaluator(document, evaluator, by_graph_names(document, namespace), exact=False)


def test_no_grad_with_every_op_commented_out_still_compiles() -> None:
    document = GraphDocument()
    document.apply(AddNode(Node("n1", "tensor", "x", {"shape": (3,)})))
    document.apply(AddNode(Node("n2", "tensor", "w", {"shape": (4,)})))
    document.apply(AddNode(Node("n3", "add", "bad")))
    document.apply(AddNode(Node("n4", "exp", "lonely")))
    document.apply(Connect(Edge("n1", "n3", "a")))
    document.apply(Connect(Edge("n2", "n3", "b")))
    document.apply(SetSetting("grad_mode", "no_grad"))
    code = generate_code(document)
    assert "with torch.no_grad():\n    # bad cannot be computed" in code
    assert "    # lonely: input 'input' is not connected\n    pass\n" in code
    namespace, _ = run_code(code, "engine")
    assert "bad" not in namespace and "x" in namespace
