"""gradstudio.from_torch: a live PyTorch graph becomes a document with the same values and gradients."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gradstudio.model.workspace import GraphWorkspace
from tests.model.graph_builders import add

from gradstudio.model.document import GraphDocument  # isort: skip

TORCH_MISSING = "PyTorch not installed: from_torch has nothing to read (pip install torch)"


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason=TORCH_MISSING)


def by_name(document: GraphDocument) -> dict[str, str]:
    return {node.name: node_id for node_id, node in document.nodes.items()}


def assert_matches_torch(document: GraphDocument, tensors: dict, leaves: dict) -> GraphWorkspace:
    """Each named tensor's value, and after Backward each leaf's .grad, agree with PyTorch's."""
    workspace = GraphWorkspace(document)
    names = by_name(document)
    results = workspace.results()
    assert all(result.ok for result in results.values()), {n: r.error for n, r in results.items()}
    for name, tensor in tensors.items():
        np.testing.assert_allclose(results[names[name]].value.detach().numpy(), tensor.detach().numpy(), rtol=1e-6,
                                   atol=1e-6, err_msg=name)
    workspace.backward()
    for name, tensor in leaves.items():
        np.testing.assert_allclose(workspace.grad(names[name]).numpy(), tensor.grad.numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=f"{name}.grad")
    return workspace


def test_the_notes_example(torch):
    from gradstudio import from_torch

    x = torch.ones(3, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    document = from_torch(out, names=locals())
    names = by_name(document)
    assert {"x", "y", "z", "out"} <= set(names)
    assert document.settings.backward_target == names["out"]
    leaf = document.nodes[names["x"]]
    assert leaf.attributes["init"] == "values" and leaf.attributes["requires_grad"] is True
    assert [document.nodes[n].kind for n in document.topological_order()].count("mul") == 2
    out.backward()
    workspace = assert_matches_torch(document, {"x": x, "y": y, "z": z, "out": out}, {"x": x})

    # the same numbers as the document built by hand
    hand = GraphDocument()
    add(hand, "x", "tensor", shape=(3,), init="ones", requires_grad=True)
    add(hand, "two", "scalar", value=2)
    add(hand, "y", "add", "x", "two")
    add(hand, "yy", "mul", "y", "y")
    add(hand, "three", "scalar", value=3)
    add(hand, "z", "mul", "yy", "three")
    add(hand, "out", "mean", "z")
    built = GraphWorkspace(hand)
    built.backward("out")
    assert built.result("out").value.item() == workspace.result(names["out"]).value.item()
    assert built.grad("x").tolist() == workspace.grad(names["x"]).tolist()


def test_a_small_mlp(torch):
    from gradstudio import from_torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2), torch.nn.Sigmoid())
    inputs = torch.randn(5, 3)
    target = torch.rand(5, 2)
    prediction = net(inputs)
    loss = torch.nn.functional.mse_loss(prediction, target)
    weight, bias = net[0].weight, net[0].bias
    document = from_torch(loss, names={"weight": weight, "bias": bias, "prediction": prediction, "loss": loss})
    kinds = {node.kind for node in document.nodes.values()}
    assert {"matmul", "add", "tanh", "sigmoid", "mse_loss", "T"} <= kinds
    loss.backward()
    leaves = {"weight": weight, "bias": bias}
    assert_matches_torch(document, {"prediction": prediction, "loss": loss}, leaves)
    # every parameter of the net is a leaf of the document, with its gradient
    assert sum(1 for n in document.nodes.values() if n.kind == "tensor" and n.attributes["requires_grad"]) == 4


def test_relu_pow_exp_sum_mm_and_a_constant_matrix(torch):
    from gradstudio import from_torch

    torch.manual_seed(1)
    w = torch.randn(3, 2, requires_grad=True)
    data = torch.randn(4, 3)
    h = torch.relu(data.mm(w) * 0.5 - w.sum())
    s = (h.pow(2) / 2).exp().sum(dim=0)
    out = s.sum() + h.mean()
    document = from_torch(out, names=locals())
    out.backward()
    assert_matches_torch(document, {"h": h, "s": s, "out": out}, {"w": w})


def test_an_op_the_catalog_lacks_becomes_an_opaque_node(torch):
    from gradstudio import from_torch

    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = torch.cumsum(x * 2, dim=0)
    c.retain_grad()
    out = (c * c).sum()
    document = from_torch(out, names=locals())
    names = by_name(document)
    opaque = document.nodes[names["c"]]
    assert opaque.kind == "tensor" and opaque.attributes["init"] == "values"
    [note] = document.annotations.values()
    assert "CumsumBackward0" in note.text and "Opaque" in note.text
    out.backward()
    workspace = assert_matches_torch(document, {"c": c, "out": out}, {})
    # the gradient reaching the opaque node is PyTorch's gradient of its output
    np.testing.assert_allclose(workspace.grad(names["c"]).numpy(), c.grad.numpy())
    # its input graph is still there (x and x * 2), just not wired to it
    assert "x" in names and not document.inputs_of(names["c"])


def test_an_unnamed_opaque_node_is_named_after_its_grad_fn(torch):
    from gradstudio import from_torch

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    document = from_torch((torch.cumsum(x, 0) ** 2).sum())
    assert "cumsum_opaque" in by_name(document)


def test_a_leaf_and_a_tensor_without_grad(torch):
    from gradstudio import from_torch

    document = from_torch(torch.tensor([[1.0, 2.0]], dtype=torch.float64))
    [node] = document.nodes.values()
    assert node.attributes["dtype"] == "float64" and node.attributes["requires_grad"] is False
    assert GraphWorkspace(document).results()[node.id].value.tolist() == [[1.0, 2.0]]


def test_not_a_tensor(torch):
    from gradstudio import from_torch

    with pytest.raises(TypeError, match="needs a torch.Tensor"):
        from_torch([1.0, 2.0])


def test_without_torch_it_says_how_to_install_it(monkeypatch):
    import gradstudio

    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match="pip install torch"):
        gradstudio.from_torch(object())


def test_importing_gradstudio_imports_neither_torch_nor_qt():
    code = ("import sys, gradstudio; gradstudio.from_torch; "
            "print(sorted(m for m in ('torch', 'PySide6') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_an_opaque_op_whose_output_nobody_saved_is_refused_saying_why(torch):
    from gradstudio import from_torch
    from gradstudio.model.from_torch import FromTorchError

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(FromTorchError, match="CumsumBackward0 is not in GradStudio's catalog and saved no value"):
        from_torch(torch.cumsum(x, 0).sum())


def test_backward_ran(torch):
    from gradstudio.model.from_torch import backward_ran

    x = torch.ones(2, requires_grad=True)
    out = (x * 2).sum()
    assert not backward_ran(out)
    out.backward()
    assert backward_ran(out)


def test_an_unsaved_constant_is_refused_saying_why(torch):
    from gradstudio import from_torch
    from gradstudio.model.from_torch import FromTorchError

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(FromTorchError, match="AddBackward0 has an operand .* PyTorch did not save"):
        from_torch((x + 1).sum())
