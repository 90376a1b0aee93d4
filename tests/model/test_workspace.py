"""GraphWorkspace: the shown gradient and its texts, pass counts, events, grad holders, and the Zero Grad regression."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from graph_builders import add, add_notes_chain

from gradstudio.model import gradients
from gradstudio.model.document import GraphDocument, Node
from gradstudio.model.edits import AddNode, MoveNode, SetAttribute, SetRetainGrad, SetSetting
from gradstudio.model.io.fileformat import load
from gradstudio.model.workspace import GraphWorkspace, ShownGradient

ROOT = Path(__file__).resolve().parents[2]
NOTES_FILE = ROOT / "resources" / "examples" / "notes_forward_backward.gsg"
NOT_REQUIRING_GRAD = "element 0 of tensors does not require grad and does not have a grad_fn"


def notes_document() -> GraphDocument:
    """x = ones(3, requires_grad=True); y = x + 2; yy = y * y; z = yy * 3; out = z.mean(); c = ones(3) off the path."""
    document = add_notes_chain(GraphDocument())
    add(document, "c", "tensor", shape=(3,), requires_grad=False)
    document.apply(SetSetting("backward_target", "out"))
    return document


@pytest.fixture
def workspace() -> GraphWorkspace:
    """A workspace on a fresh notes document."""
    return GraphWorkspace(notes_document())


@pytest.fixture
def events(workspace: GraphWorkspace) -> list[tuple[str, Any]]:
    """Every event the workspace emits, in order."""
    heard: list[tuple[str, Any]] = []
    workspace.subscribe(lambda event, payload: heard.append((event, payload)))
    return heard


def values(tensor: Any) -> list[float] | None:
    """A tensor's values as a flat list (None stays None)."""
    return None if tensor is None else tensor.detach().numpy().ravel().tolist()


# ----- the shown gradient: every kind, and its texts ---------------------------------------------------------------


def test_a_leaf_before_backward_shows_an_empty_grad(workspace: GraphWorkspace) -> None:
    assert workspace.shown_gradient("x") == ShownGradient(None, "none", "x.grad",
                                                          "x.grad is None: run Backward to fill it.")


def test_a_leaf_after_backward_shows_its_grad(workspace: GraphWorkspace) -> None:
    workspace.backward()
    shown = workspace.shown_gradient("x")
    assert (shown.kind, shown.title, shown.note) == ("grad", "x.grad", "")
    assert values(shown.value) == [6.0, 6.0, 6.0] and shown.value is workspace.grad("x")


def test_a_retained_non_leaf_shows_its_grad(workspace: GraphWorkspace) -> None:
    workspace.document.apply(SetRetainGrad("y", True))
    workspace.backward()
    shown = workspace.shown_gradient("y")
    assert (shown.kind, shown.title, shown.note) == ("retained", "y.grad (retained)",
                                                     "y.retain_grad() keeps it on this non-leaf.")
    assert values(shown.value) == [6.0, 6.0, 6.0] and shown.value is workspace.grad("y")


def test_a_non_leaf_shows_the_gradient_that_flowed_through_it(workspace: GraphWorkspace) -> None:
    workspace.backward()
    shown = workspace.shown_gradient("yy")
    assert (shown.kind, shown.title) == ("flowed", "Gradient that flowed through yy")
    assert shown.note == "Not yy.grad: PyTorch keeps .grad only on leaves (Retain Grad keeps it here)."
    assert values(shown.value) == [1.0, 1.0, 1.0]
    assert workspace.grad("yy") is None


def test_a_non_leaf_before_backward_says_what_backward_will_show(workspace: GraphWorkspace) -> None:
    assert workspace.shown_gradient("yy") == ShownGradient(
        None, "none", "Gradient", "yy is not a leaf: its .grad stays None. Run Backward to see the gradient that "
                                  "flows through it.")


def test_an_untracked_tensor_says_no_gradient_flows(workspace: GraphWorkspace) -> None:
    workspace.backward()
    assert workspace.shown_gradient("c") == ShownGradient(None, "none", "c.grad",
                                                          "c does not require grad: no gradient flows here.")


def test_a_python_number_has_no_gradient(workspace: GraphWorkspace) -> None:
    workspace.backward()
    assert workspace.shown_gradient("two") == ShownGradient(None, "none", "Gradient",
                                                            "A Python number has no gradient.")


def test_a_node_without_a_value_shows_no_gradient(workspace: GraphWorkspace) -> None:
    add(workspace.document, "broken", "add")
    add(workspace.document, "after", "exp", "broken")
    assert workspace.result("broken").error == "input 'a' is not connected"
    assert workspace.result("after").blocked_by == "broken"
    for node_id in ("broken", "after"):
        assert workspace.shown_gradient(node_id) == ShownGradient(None, "none", "Gradient", "")


def test_grad_never_warns_on_a_non_leaf(workspace: GraphWorkspace) -> None:
    workspace.backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert workspace.grad("y") is None and workspace.grad("two") is None and workspace.grad("gone") is None


def test_a_grad_kept_through_an_edit_is_shown_as_an_earlier_backwards(workspace: GraphWorkspace) -> None:
    workspace.backward()
    assert not workspace.shown_gradient("x").earlier
    workspace.document.apply(SetAttribute("three", "value", 4))
    shown = workspace.shown_gradient("x")
    assert (shown.kind, shown.title, shown.earlier) == ("grad", "x.grad", True)
    assert values(shown.value) == [6.0, 6.0, 6.0] and shown.value is workspace.grad("x")
    assert shown.note == "From a Backward before the last edit: PyTorch keeps x.grad until Zero Grad; the next " \
                         "Backward adds to it."
    assert workspace.shown_gradient("yy").value is None  # what flowed through a non-leaf went with the pass
    workspace.backward()
    assert not workspace.shown_gradient("x").earlier and values(workspace.grad("x")) == [14.0, 14.0, 14.0]


def test_a_grad_the_last_backward_did_not_reach_says_so() -> None:
    workspace = GraphWorkspace(holders_document())
    add(workspace.document, "g", "sum", "w")
    workspace.backward("f")
    workspace.backward("g")
    shown = workspace.shown_gradient("a")
    assert shown.earlier and values(shown.value) == [3.0, 4.0]
    assert shown.note == "From an earlier Backward (the last one did not reach a): PyTorch keeps it until Zero Grad."
    retained = workspace.shown_gradient("d")
    assert retained.kind == "retained" and retained.earlier
    assert retained.note.startswith("d.retain_grad() keeps it on this non-leaf. From an earlier Backward")
    assert not workspace.shown_gradient("w").earlier


def test_kept_grads_are_every_grad_shown_except_what_an_edit_recomputes() -> None:
    workspace = GraphWorkspace(holders_document())
    workspace.backward("f")
    assert set(gradients.kept_grads(workspace.evaluator)) == {"a", "b", "d"}
    workspace.document.apply(SetAttribute("a", "values", (5.0, 6.0)))  # a (and d below it) are made afresh
    kept = gradients.kept_grads(workspace.evaluator)  # without evaluating: the dirty ones are already left out
    assert set(kept) == {"b"} and kept["b"] == workspace.shown_gradient("b")
    assert set(gradients.kept_grads(workspace.evaluator)) == {"b"}


def test_requires_grad_off_keeps_the_grad_as_requires_grad_false_does_and_undo_restores_it(
        workspace: GraphWorkspace) -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed: differential check skipped")
    x = torch.ones(3, requires_grad=True)
    ((x + 2) * (x + 2) * 3).mean().backward()
    x.requires_grad_(False)
    workspace.backward()
    workspace.backward()
    grad = workspace.grad("x")
    undo = workspace.document.apply(SetAttribute("x", "requires_grad", False))
    assert not workspace.tracked("x") and not workspace.tracked("out")
    assert workspace.grad("x") is grad and values(grad) == [12.0, 12.0, 12.0]
    assert workspace.shown_gradient("x").value is grad and x.grad is not None  # PyTorch keeps it too
    assert dict(workspace.passes) == {"x": 2}
    workspace.document.apply(undo)
    assert workspace.tracked("x") and workspace.tracked("out")
    assert workspace.grad("x") is grad and values(grad) == [12.0, 12.0, 12.0] and dict(workspace.passes) == {"x": 2}
    workspace.backward()
    assert values(workspace.grad("x")) == [18.0, 18.0, 18.0]


def test_requires_grad_on_an_integer_leaf_is_refused_as_before(workspace: GraphWorkspace) -> None:
    add(workspace.document, "n", "tensor", shape=(2,), dtype="int64", requires_grad=False)
    assert workspace.result("n").ok
    workspace.document.apply(SetAttribute("n", "requires_grad", True))
    assert workspace.result("n").error == "only Tensors of floating point dtype can require gradients"


# ----- pass counts -------------------------------------------------------------------------------------------------


def test_passes_count_each_backward_into_a_grad(workspace: GraphWorkspace) -> None:
    workspace.document.apply(SetRetainGrad("y", True))
    workspace.backward()
    assert dict(workspace.passes) == {"x": 1, "y": 1} and workspace.accumulated() == []
    workspace.backward()
    assert dict(workspace.passes) == {"x": 2, "y": 2} and workspace.accumulated() == ["x", "y"]
    assert values(workspace.grad("x")) == [12.0, 12.0, 12.0]


def test_zero_grad_clears_grads_passes_and_the_last_backward(workspace: GraphWorkspace) -> None:
    workspace.backward()
    workspace.backward()
    workspace.zero_grad()
    assert dict(workspace.passes) == {} and workspace.accumulated() == []
    assert workspace.grad("x") is None and workspace.last_backward is None
    workspace.backward()
    assert dict(workspace.passes) == {"x": 1}


def test_editing_a_leaf_resets_its_grad_and_its_count(workspace: GraphWorkspace) -> None:
    workspace.backward()
    workspace.backward()
    workspace.document.apply(SetAttribute("x", "init", "zeros"))
    assert dict(workspace.passes) == {} and workspace.grad("x") is None
    workspace.backward()
    assert dict(workspace.passes) == {"x": 1} and workspace.accumulated() == []
    assert values(workspace.grad("x")) == [4.0, 4.0, 4.0]


def test_an_edit_elsewhere_keeps_the_count_as_pytorch_keeps_the_grad(workspace: GraphWorkspace) -> None:
    workspace.backward()
    workspace.document.apply(SetAttribute("three", "value", 4))
    workspace.backward()
    assert dict(workspace.passes) == {"x": 2} and workspace.accumulated() == ["x"]
    assert values(workspace.grad("x")) == [14.0, 14.0, 14.0]


def test_a_refused_backward_raises_unchanged_and_counts_nothing(workspace: GraphWorkspace,
                                                                events: list[tuple[str, Any]]) -> None:
    with pytest.raises(RuntimeError, match=NOT_REQUIRING_GRAD):
        workspace.backward("c")
    assert events == [] and dict(workspace.passes) == {} and workspace.last_backward is None


# ----- events ------------------------------------------------------------------------------------------------------


def test_backward_announces_the_result_and_the_grads(workspace: GraphWorkspace, events: list[tuple[str, Any]]) -> None:
    result = workspace.backward()
    assert workspace.last_backward is result
    assert events == [("grads_changed", None), ("backward_changed", result)]


def test_zero_grad_announces_both_events(workspace: GraphWorkspace, events: list[tuple[str, Any]]) -> None:
    workspace.backward()
    events.clear()
    workspace.zero_grad()
    assert sorted(events, key=str) == [("backward_changed", None), ("grads_changed", None)]


def test_an_edit_that_changes_values_clears_the_last_backward(workspace: GraphWorkspace,
                                                              events: list[tuple[str, Any]]) -> None:
    workspace.backward()
    events.clear()
    workspace.document.apply(SetAttribute("three", "value", 4))
    assert events == [("backward_changed", None)] and workspace.last_backward is None
    workspace.document.apply(SetAttribute("three", "value", 5))
    assert events == [("backward_changed", None)]  # told once: it was already cleared


def test_editing_a_leaf_with_a_grad_announces_the_grads_once(workspace: GraphWorkspace,
                                                             events: list[tuple[str, Any]]) -> None:
    workspace.backward()
    events.clear()
    workspace.document.apply(SetAttribute("x", "init", "zeros"))
    assert sorted(events, key=str) == [("backward_changed", None), ("grads_changed", None)]
    workspace.document.apply(SetAttribute("x", "init", "ones"))
    assert len(events) == 2  # not evaluated in between: the same .grad is still going away


def test_moving_a_node_changes_nothing_computed(workspace: GraphWorkspace, events: list[tuple[str, Any]]) -> None:
    result = workspace.backward()
    events.clear()
    workspace.document.apply(MoveNode("x", (40.0, 80.0)))
    assert events == [] and workspace.last_backward is result


def test_unsubscribe_and_close_stop_the_events(workspace: GraphWorkspace) -> None:
    heard: list[str] = []
    unsubscribe = workspace.subscribe(lambda event, _: heard.append(event))
    unsubscribe()
    workspace.backward()
    assert heard == []
    workspace.subscribe(lambda event, _: heard.append(event))
    workspace.close()
    workspace.document.apply(SetAttribute("x", "init", "zeros"))
    assert heard == []


# ----- forward, tracking and the new document ----------------------------------------------------------------------


def test_a_new_workspace_has_an_empty_document() -> None:
    workspace = GraphWorkspace()
    assert workspace.document.nodes == {} and dict(workspace.results()) == {}
    add(workspace.document, "a", "scalar", value=1.5)
    assert workspace.value("a") == 1.5 and workspace.value("missing") is None


def test_results_evaluate_what_an_edit_made_dirty(workspace: GraphWorkspace) -> None:
    assert values(workspace.value("out")) == [27.0]
    workspace.document.apply(SetAttribute("three", "value", 4))
    assert values(workspace.value("out")) == [36.0]
    assert workspace.results()["out"] is workspace.result("out")


def test_tracked_follows_requires_grad_and_the_grad_mode(workspace: GraphWorkspace) -> None:
    assert [workspace.tracked(n) for n in ("x", "two", "y", "out", "c", "missing")] == [
        True, False, True, True, False, False]
    workspace.document.apply(SetSetting("grad_mode", "no_grad"))
    assert [workspace.tracked(n) for n in ("x", "y", "out")] == [True, False, False]


# ----- which .grad PyTorch keeps -----------------------------------------------------------------------------------


def holders_document() -> GraphDocument:
    """a, b tracked leaves; d = a * b retained; e = d + c (c untracked); f = e.sum(); w tracked but unused."""
    document = GraphDocument()
    add(document, "a", "tensor", shape=(2,), init="values", values=[1.0, 2.0], requires_grad=True)
    add(document, "b", "tensor", shape=(2,), init="values", values=[3.0, 4.0], requires_grad=True)
    add(document, "c", "tensor", shape=(2,), requires_grad=False)
    add(document, "w", "tensor", shape=(2,), requires_grad=True)
    add(document, "d", "mul", "a", "b")
    add(document, "e", "add", "d", "c")
    add(document, "f", "sum", "e")
    document.apply(SetRetainGrad("d", True))
    return document


def test_grad_holders_are_upstream_tracked_leaves_and_retained_non_leaves() -> None:
    workspace = GraphWorkspace(holders_document())
    assert workspace.grad_holders("f") == ["a", "b", "d"]
    assert workspace.grad_holders() == ["a", "b", "w", "d"]
    assert workspace.grad_holders("a") == ["a"]


def test_grad_holders_match_what_pytorch_keeps() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch not installed: differential check skipped")
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 4.0], requires_grad=True)
    c = torch.ones(2)
    w = torch.ones(2, requires_grad=True)
    d = a * b
    d.retain_grad()
    e = d + c
    f = e.sum()
    f.backward()
    tensors = {"a": a, "b": b, "c": c, "w": w, "d": d, "e": e, "f": f}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reading a non-leaf's .grad warns: that is the point of asking
        kept = [name for name, tensor in tensors.items() if tensor.grad is not None]
    workspace = GraphWorkspace(holders_document())
    workspace.backward("f")
    assert sorted(workspace.grad_holders("f")) == sorted(kept)
    for name in kept:
        np.testing.assert_array_equal(workspace.grad(name).numpy(), tensors[name].grad.numpy())


# ----- the regression: Zero Grad after an unrelated edit -----------------------------------------------------------


def test_zero_grad_after_an_unrelated_edit_empties_the_shown_gradient() -> None:
    workspace = GraphWorkspace(load(NOTES_FILE))
    x = workspace.document.name_owner("x")
    workspace.backward()
    assert values(workspace.shown_gradient(x).value) == [6.0, 6.0, 6.0]
    workspace.document.apply(AddNode(Node(workspace.document.new_id(), "scalar", "k", {"value": 1})))
    workspace.zero_grad()
    assert workspace.shown_gradient(x).value is None and workspace.grad(x) is None
    assert workspace.shown_gradient(x).note == "x.grad is None: run Backward to fill it."
