"""gradstudio.show opens a live PyTorch tensor's graph in a window, named after the caller's variables."""

import numpy as np
import pytest

import gradstudio


@pytest.fixture
def torch():
    return pytest.importorskip("torch", reason="PyTorch not installed: gradstudio.show has nothing to read")


def test_show_names_nodes_after_the_callers_variables_and_shows_gradients(qtbot, torch, monkeypatch):
    monkeypatch.setattr("PySide6.QtWidgets.QMessageBox.question", lambda *a, **k: 0)
    weights = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    scaled = weights * 3
    loss = (scaled * scaled).mean()
    loss.backward(retain_graph=True)  # a plain backward() frees what from_torch reads
    window = gradstudio.show(loss, block=False)
    qtbot.addWidget(window)
    document = window.document
    names = {node.name: node_id for node_id, node in document.nodes.items()}
    assert {"weights", "scaled", "loss"} <= set(names)
    assert "(from PyTorch)" in window.windowTitle()
    # the script ran backward, so the window shows the gradients: the same as PyTorch's
    grad = window.workspace.model.grad(names["weights"])
    np.testing.assert_allclose(grad.numpy(), weights.grad.numpy(), rtol=1e-6)
    window.workspace.undo_stack.setClean()


def test_show_without_backward_shows_no_gradient(qtbot, torch):
    x = torch.ones(2, requires_grad=True)
    total = (x * 2).sum()
    window = gradstudio.show(total, block=False)
    qtbot.addWidget(window)
    names = {node.name: node_id for node_id, node in window.document.nodes.items()}
    assert window.workspace.model.grad(names["x"]) is None
    assert window.workspace.results()[names["total"]].value.item() == 4.0


def test_after_a_plain_backward_show_says_what_to_do(qtbot, torch):
    from gradstudio.model.from_torch import FromTorchError

    x = torch.ones(2, requires_grad=True)
    total = (x * 3).sum()
    total.backward()
    with pytest.raises(FromTorchError, match="retain_graph=True"):
        gradstudio.show(total, block=False)


def test_the_readme_script_runs(qtbot, torch, monkeypatch):
    from pathlib import Path

    from gradstudio.ui.show_tensor import caller_names, show

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    script = readme.split("## Opening a PyTorch computation")[1].split("```python\n")[1].split("```")[0]
    windows = []

    def show_without_blocking(tensor):
        windows.append(show(tensor, names=caller_names(), block=False))

    monkeypatch.setattr(gradstudio, "show", show_without_blocking, raising=False)
    exec(compile(script, "README.md", "exec"), {"__name__": "readme"})  # noqa: S102
    [window] = windows
    qtbot.addWidget(window)
    names = {node.name: node_id for node_id, node in window.document.nodes.items()}
    assert {"x", "y", "z", "out"} <= set(names)
    assert window.workspace.model.grad(names["x"]).tolist() == [6.0, 6.0, 6.0]
