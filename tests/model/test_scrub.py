"""Live scrubbing in the model: each frame's values and re-run Backward agree with PyTorch; a drag undoes exactly."""

from __future__ import annotations

import numpy as np
import pytest
from graph_builders import add, add_notes_chain

from gradstudio.model.document import GraphDocument
from gradstudio.model.scrub import ScrubError, ScrubSession, rounded, scrub_step
from gradstudio.model.workspace import GraphWorkspace

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential check skipped")


def linear_document() -> GraphDocument:
    """w (2 values), x (2 ones), b (scalar tensor), all tracked: loss = (w * x + b).sum()."""
    document = GraphDocument()
    add(document, "w", "tensor", shape=(2,), init="values", values=(0.5, -1.5), requires_grad=True)
    add(document, "x", "tensor", shape=(2,), requires_grad=True)
    add(document, "b", "tensor", shape=(), init="full", fill=0.25, requires_grad=True)
    add(document, "wx", "mul", "w", "x")
    add(document, "s", "add", "wx", "b")
    add(document, "loss", "sum", "s")
    return document


def torch_linear(x_values: list[float], passes_w: int = 1) -> dict[str, np.ndarray]:
    """PyTorch's loss and grads for `linear_document` with x set to `x_values`; w's grad summed over passes."""
    w = torch.tensor([0.5, -1.5], requires_grad=True)
    x = torch.tensor(x_values, requires_grad=True)
    b = torch.tensor(0.25, requires_grad=True)
    for _ in range(passes_w - 1):
        (w * torch.ones(2) + b).sum().backward()  # the earlier passes, at the values x had then
    loss = (w * x + b).sum()
    loss.backward()
    return {"loss": loss.detach().numpy(), "w": w.grad.numpy(), "x": x.grad.numpy(), "b": b.grad.numpy()}


def test_step_follows_the_values_decade_and_shift_makes_it_finer() -> None:
    assert scrub_step(1.0) == pytest.approx(0.01)
    assert scrub_step(250.0) == pytest.approx(1.0)
    assert scrub_step(0.03) == pytest.approx(0.001)
    assert scrub_step(0.0) == pytest.approx(0.001)
    assert scrub_step(1.0, fine=True) == pytest.approx(0.001)
    assert scrub_step(3.0, integer=True) == 1.0
    assert rounded(1.3700000000000001, 0.01) == 1.37


def test_each_frame_reruns_the_last_backward_as_one_pass_at_the_new_value() -> None:
    workspace = GraphWorkspace(linear_document())
    workspace.backward("loss")
    session = ScrubSession(workspace, "x", cell=1)
    for value in (1.25, 2.0, -0.5):
        session.set_value(value)
        expected = torch_linear([1.0, value])
        np.testing.assert_allclose(workspace.value("loss").detach().numpy(), expected["loss"], rtol=1e-6)
        for name in ("w", "x", "b"):  # w and b are not recomputed: their .grad is one pass's, not a sum
            np.testing.assert_allclose(workspace.grad(name).numpy(), expected[name], rtol=1e-6)
        assert workspace.passes["w"] == 1
    assert [value for value, _ in session.samples] == [1.0, 1.25, 2.0, -0.5]
    assert session.samples[-1][1] == pytest.approx(float(torch_linear([1.0, -0.5])["loss"]))
    assert session.slopes[2.0] == pytest.approx(float(torch_linear([1.0, 2.0])["x"][1]))


def test_a_grad_accumulated_over_earlier_passes_keeps_them() -> None:
    workspace = GraphWorkspace(linear_document())
    workspace.backward("loss")
    workspace.backward("loss")  # w.grad sums two passes now
    session = ScrubSession(workspace, "x", cell=0)
    session.set_value(3.0)
    session.set_value(4.0)
    expected = torch_linear([4.0, 1.0], passes_w=2)
    np.testing.assert_allclose(workspace.grad("w").numpy(), expected["w"], rtol=1e-6)
    assert workspace.passes["w"] == 2


def test_finish_gives_one_edit_whose_inverse_restores_the_leaf_exactly() -> None:
    document = linear_document()
    workspace = GraphWorkspace(document)
    before = dict(document.nodes["x"].attributes)
    session = ScrubSession(workspace, "x", cell=0)
    for value in (1.1, 1.2, 1.3):
        session.set_value(value)
    edit, inverse = session.finish()
    assert document.nodes["x"].attributes["init"] == "values"
    assert document.nodes["x"].attributes["values"] == (1.3, 1.0)
    inverse.apply(document)
    assert document.nodes["x"].attributes == before
    edit.apply(document)
    np.testing.assert_array_equal(workspace.value("x").detach().numpy(), np.array([1.3, 1.0], dtype=np.float32))


def test_a_drag_back_to_the_start_changes_nothing() -> None:
    document = GraphDocument()
    add_notes_chain(document)
    workspace = GraphWorkspace(document)
    session = ScrubSession(workspace, "two")
    session.set_value(2.5)
    session.set_value(2)
    assert session.finish() is None
    assert document.nodes["two"].attributes["value"] == 2


def test_scalar_node_scrubs_and_the_target_follows() -> None:
    document = GraphDocument()
    add_notes_chain(document)
    workspace = GraphWorkspace(document)
    workspace.backward("out")
    session = ScrubSession(workspace, "two")
    session.set_value(3.0)
    x = torch.ones(3, requires_grad=True)
    out = ((x + 3.0) * (x + 3.0) * 3).mean()
    out.backward()
    assert float(workspace.value("out").detach().numpy()) == pytest.approx(out.item())
    np.testing.assert_allclose(workspace.grad("x").numpy(), x.grad.numpy(), rtol=1e-6)


def test_non_leaves_and_bool_tensors_are_refused() -> None:
    document = linear_document()
    add(document, "flag", "tensor", shape=(2,), dtype="bool")
    workspace = GraphWorkspace(document)
    with pytest.raises(ScrubError, match="leaf"):
        ScrubSession(workspace, "wx")
    with pytest.raises(ScrubError, match="bool"):
        ScrubSession(workspace, "flag")
    with pytest.raises(ScrubError, match="element 5"):
        ScrubSession(workspace, "w", cell=5)


def test_later_frames_of_a_drag_change_only_the_values_and_the_undo_step_still_restores_init() -> None:
    document = linear_document()
    workspace = GraphWorkspace(document)
    before = dict(document.nodes["x"].attributes)
    session = ScrubSession(workspace, "x", cell=1)
    events: list[tuple[str, str]] = []
    document.subscribe(lambda event, payload: events.append((event, payload[1])))
    session.set_value(1.5)
    assert events == [("attribute_changed", "values"), ("attribute_changed", "init")]
    events.clear()
    session.set_value(1.75)
    assert events == [("attribute_changed", "values")]
    np.testing.assert_array_equal(workspace.value("x").detach().numpy(), np.array([1.0, 1.75], dtype=np.float32))
    edit, inverse = session.finish()
    inverse.apply(document)
    assert document.nodes["x"].attributes == before
    edit.apply(document)
    assert document.nodes["x"].attributes["init"] == "values"
    assert document.nodes["x"].attributes["values"] == (1.0, 1.75)
