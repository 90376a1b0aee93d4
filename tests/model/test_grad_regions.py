"""Grad-mode regions (frames as `with torch.no_grad():` blocks): membership and nesting, the reversible edit and its
refusals, evaluation under the region's mode nested in the graph's, exactly the affected nodes recomputed, Backward
through untracked results, the file format, and code export (no display needed)."""

from __future__ import annotations

import contextlib
import json

import pytest
from codegen_runs import TORCH_MISSING, add, assert_matches_evaluator, evaluated, leaf, run_code, target, wire

import gradstudio.engine as engine
from gradstudio.model.annotations import AddAnnotation, Annotation, SetAnnotationRect
from gradstudio.model.document import EditError, GraphDocument
from gradstudio.model.edits import MoveNode, SetSetting
from gradstudio.model.evaluation import Evaluator
from gradstudio.model.grad_regions import SetFrameGradMode, node_modes, region_of
from gradstudio.model.io.codegen import generate_code
from gradstudio.model.io.fileformat import GraphFileError, dumps, loads
from gradstudio.model.port_constants import SetPortConstant

INSIDE, OUTSIDE = (220.0, 40.0), (900.0, 40.0)


def notes_section_5(mode: str = "no_grad") -> GraphDocument:
    """x = ones(3, requires_grad=True); y = x * 2 inside a frame of `mode`; z = y.sum() outside it."""
    document = GraphDocument()
    leaf(document, "x", shape=(3,), init="ones")
    add(document, "y", "mul")
    wire(document, "x", "y", "a")
    document.apply(SetPortConstant("y", "b", 2))
    add(document, "z", "sum")
    wire(document, "y", "z", "input")
    document.apply(MoveNode("y", INSIDE))
    document.apply(MoveNode("z", OUTSIDE))
    document.apply(AddAnnotation(Annotation("f", "frame", "no grad", (200, 0), (300, 200), grad_mode=mode)))
    return document


def frame(document: GraphDocument, frame_id: str, position: tuple[float, float], size: tuple[float, float],
          mode: str) -> None:
    document.apply(AddAnnotation(Annotation(frame_id, "frame", frame_id, position, size, grad_mode=mode)))


# ----- membership ------------------------------------------------------------------------------------------


def test_a_node_belongs_to_the_region_holding_its_position() -> None:
    document = notes_section_5()
    assert node_modes(document) == {"y": "no_grad"}
    assert region_of(document, "y").id == "f" and region_of(document, "z") is None


def test_a_plain_frame_is_no_region() -> None:
    document = notes_section_5("none")
    assert node_modes(document) == {} and region_of(document, "y") is None


def test_the_innermost_region_decides_and_a_plain_inner_frame_does_not() -> None:
    document = notes_section_5()
    frame(document, "inner", (210, 10), (100, 100), "enable_grad")
    frame(document, "plain", (215, 20), (60, 60), "none")
    frame(document, "outer", (0, 0), (2000, 2000), "inference_mode")
    assert node_modes(document) == {"x": "inference_mode", "y": "enable_grad", "z": "inference_mode"}


def test_of_two_equal_regions_the_later_one_decides() -> None:
    document = notes_section_5()
    frame(document, "twin", (200, 0), (300, 200), "enable_grad")
    assert node_modes(document) == {"y": "enable_grad"}


# ----- the edit --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["none", "enable_grad", "inference_mode"])
def test_setting_a_mode_is_undone_by_its_inverse(mode: str) -> None:
    document = notes_section_5()
    before = document.snapshot()
    events = []
    document.subscribe(lambda event, payload: events.append((event, payload.id)))
    inverse = document.apply(SetFrameGradMode("f", mode))
    assert document.annotations["f"].grad_mode == mode and events == [("annotation_changed", "f")]
    document.apply(inverse)
    assert document.snapshot() == before


@pytest.mark.parametrize(("make", "message"), [
    (lambda: SetFrameGradMode("f", "off"), "a frame's grad mode must be one of none, no_grad, enable_grad, "
                                           "inference_mode, got 'off'"),
    (lambda: SetFrameGradMode("f", None), "a frame's grad mode must be one of .* got None"),
    (lambda: SetFrameGradMode("note", "no_grad"), "only frames have a grad mode; 'note' is a note"),
    (lambda: SetFrameGradMode("nope", "no_grad"), "no annotation with id 'nope'"),
    (lambda: AddAnnotation(Annotation("n2", "note", grad_mode="no_grad")), "only frames have a grad mode, not a note"),
    (lambda: AddAnnotation(Annotation("f2", "frame", grad_mode="maybe")), "a frame's grad mode must be one of"),
])
def test_bad_modes_and_non_frames_are_refused_and_change_nothing(make, message: str) -> None:
    document = notes_section_5()
    document.apply(AddAnnotation(Annotation("note", "note", "a note", (0, 400))))
    before = document.snapshot()
    with pytest.raises(EditError, match=message):
        document.apply(make())
    assert document.snapshot() == before


# ----- evaluation ------------------------------------------------------------------------------------------


def test_the_regions_node_is_untracked_and_the_leaf_stays_tracked() -> None:
    evaluator = Evaluator(notes_section_5())
    results = evaluator.evaluate()
    with engine.no_grad():
        expected = engine.ones(3, requires_grad=True) * 2
    assert repr(results["y"].value) == repr(expected) == "tensor([2., 2., 2.])"
    assert results["x"].tracked and not results["y"].tracked and not results["z"].tracked


@pytest.mark.parametrize(("graph_mode", "region", "tracked"), [
    ("normal", "no_grad", False), ("normal", "enable_grad", True), ("normal", "inference_mode", False),
    ("no_grad", "enable_grad", True), ("no_grad", "no_grad", False), ("no_grad", "none", False),
])
def test_a_region_nests_in_the_graphs_mode_as_pytorch_nests_context_managers(graph_mode: str, region: str,
                                                                            tracked: bool) -> None:
    document = notes_section_5(region)
    document.apply(SetSetting("grad_mode", graph_mode))
    results = Evaluator(document).evaluate()
    outer = engine.no_grad() if graph_mode == "no_grad" else engine.enable_grad()
    inner = {"no_grad": engine.no_grad, "enable_grad": engine.enable_grad,
             "inference_mode": engine.inference_mode, "none": contextlib.nullcontext}[region]
    x = engine.ones(3, requires_grad=True)
    with outer, inner():
        y = x * 2
    assert results["y"].tracked == y.requires_grad == tracked
    assert results["x"].tracked


def test_an_inference_mode_result_refuses_tracked_use_downstream_as_pytorch_does() -> None:
    document = notes_section_5("inference_mode")
    add(document, "w", "mul")
    wire(document, "y", "w", "a")
    wire(document, "x", "w", "b")
    result = Evaluator(document).evaluate()["w"]
    assert result.error is not None and result.error.startswith("Inference tensors cannot be saved for backward")


def _fresh(document: GraphDocument) -> Evaluator:
    evaluator = Evaluator(document)
    evaluator.evaluate()
    assert not evaluator.dirty
    return evaluator


@pytest.mark.parametrize(("change", "dirty"), [
    (lambda d: d.apply(MoveNode("y", OUTSIDE)), {"y", "z"}),
    (lambda d: d.apply(MoveNode("z", (300, 100))), {"z"}),
    (lambda d: d.apply(MoveNode("y", (260, 60))), set()),  # within the region
    (lambda d: d.apply(MoveNode("x", INSIDE)), set()),  # a leaf is made alike under no_grad
    (lambda d: d.apply(SetFrameGradMode("f", "none")), {"y", "z"}),
    (lambda d: d.apply(SetFrameGradMode("f", "enable_grad")), {"y", "z"}),
    (lambda d: d.apply(SetAnnotationRect("f", (200, 0), (800, 200))), {"z"}),
    (lambda d: d.apply(SetAnnotationRect("f", (0, 0), (200, 200))), {"y", "z"}),  # x in, y out
    (lambda d: frame(d, "all", (-50, -50), (1200, 400), "inference_mode"), {"x", "y", "z"}),
])
def test_exactly_the_affected_nodes_are_recomputed(change, dirty: set[str]) -> None:
    document = notes_section_5()
    evaluator = _fresh(document)
    change(document)
    assert evaluator.dirty == dirty
    evaluator.evaluate()
    fresh = Evaluator(document).evaluate()
    assert {k: (r.tracked, repr(r.value)) for k, r in evaluator.results.items()} == \
        {k: (r.tracked, repr(r.value)) for k, r in fresh.items()}


def test_undoing_a_mode_change_tracks_again_and_a_leaf_keeps_its_grad() -> None:
    document = notes_section_5("none")
    target(document, "z")
    evaluator = _fresh(document)
    evaluator.backward()
    x = evaluator.results["x"].value
    assert repr(x.grad) == "tensor([2., 2., 2.])"
    inverse = document.apply(SetFrameGradMode("f", "no_grad"))
    assert evaluator.last_backward is None and not evaluator.value("z").requires_grad
    document.apply(inverse)
    assert evaluator.value("z").requires_grad and evaluator.results["x"].value is x and x.grad is not None


def test_backward_through_an_untracked_region_sees_only_the_tracked_path() -> None:
    document = notes_section_5()
    add(document, "s", "add")
    wire(document, "x", "s", "a")
    wire(document, "y", "s", "b")
    add(document, "out", "sum")
    wire(document, "s", "out", "input")
    target(document, "out")
    evaluator = _fresh(document)
    result = evaluator.backward()
    assert repr(evaluator.leaf_grad("x")) == "tensor([1., 1., 1.])"
    assert ("s", "a") in result.path and ("s", "b") not in result.path and ("y", "a") not in result.path
    target(document, "z")
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        engine.autograd.backward(evaluator.value("z"))


# ----- the file --------------------------------------------------------------------------------------------


def test_frames_save_their_mode_notes_none_and_the_file_reads_back() -> None:
    document = notes_section_5("enable_grad")
    document.apply(AddAnnotation(Annotation("note", "note", "a note", (0, 400))))
    text = dumps(document)
    data = json.loads(text)
    records = {item["id"]: item for item in data["annotations"]}
    assert data["version"] == 5 and records["f"]["grad_mode"] == "enable_grad" and "grad_mode" not in records["note"]
    assert list(records["f"]) == ["id", "kind", "text", "position", "size", "grad_mode"]
    loaded = loads(text)
    assert loaded.annotations["f"].grad_mode == "enable_grad" and dumps(loaded) == text


def test_a_version_4_file_loads_with_plain_frames() -> None:
    data = json.loads(dumps(notes_section_5()))
    data["version"] = 4
    for item in data["annotations"]:
        del item["grad_mode"]
    document = loads(json.dumps(data))
    assert document.annotations["f"].grad_mode == "none" and node_modes(document) == {}
    assert json.loads(dumps(document))["annotations"][0]["grad_mode"] == "none"


def test_a_refused_mode_names_its_place() -> None:
    data = json.loads(dumps(notes_section_5()))
    data["annotations"][0]["grad_mode"] = "NO_GRAD"
    with pytest.raises(GraphFileError, match=r"^annotations\[0\]\.grad_mode: expected one of none, no_grad, "):
        loads(json.dumps(data))


# ----- code export -----------------------------------------------------------------------------------------


def test_the_notes_region_exports_as_a_with_block() -> None:
    assert generate_code(notes_section_5()) == (
        "import torch\n\nx = torch.ones(3, requires_grad=True)\n\n"
        "with torch.no_grad():\n    y = x * 2\nz = y.sum()\n")


def interleaved() -> GraphDocument:
    """a = x * 2 (region), b = x + 1 (outside), c = a * 3 (region), d = b * c (outside), in that node order."""
    document = GraphDocument()
    leaf(document, "x", shape=(3,), init="ones")
    for name, kind, source, constant, position in [("a", "mul", "x", 2, INSIDE), ("b", "add", "x", 1, OUTSIDE),
                                                   ("c", "mul", "a", 3, (300, 100))]:
        add(document, name, kind)
        wire(document, source, name, "a")
        document.apply(SetPortConstant(name, "b", constant))
        document.apply(MoveNode(name, position))
    add(document, "d", "mul")
    wire(document, "b", "d", "a")
    wire(document, "c", "d", "b")
    document.apply(MoveNode("d", (900, 200)))
    add(document, "out", "sum")
    wire(document, "d", "out", "input")
    document.apply(MoveNode("out", (1100, 200)))
    target(document, "out")
    frame(document, "f", (200, 0), (300, 200), "no_grad")
    return document


def test_a_regions_lines_stay_together_where_the_dependencies_allow() -> None:
    document = interleaved()
    assert document.topological_order() == ["x", "a", "b", "c", "d", "out"]
    assert "\n\nb = x + 1\nwith torch.no_grad():\n    a = x * 2\n    c = a * 3\nd = b * c\n" in generate_code(document)


def test_a_region_the_dependencies_split_is_written_as_several_blocks() -> None:
    document = notes_section_5()  # y = x * 2 in the region, then q = y + 1 outside it, then r = q * 3 inside
    add(document, "q", "add")
    wire(document, "y", "q", "a")
    document.apply(SetPortConstant("q", "b", 1))
    document.apply(MoveNode("q", OUTSIDE))
    add(document, "r", "mul")
    wire(document, "q", "r", "a")
    document.apply(SetPortConstant("r", "b", 3))
    document.apply(MoveNode("r", (300, 120)))
    assert generate_code(document).endswith(
        "\n\nwith torch.no_grad():\n    y = x * 2\nz = y.sum()\nq = y + 1\nwith torch.no_grad():\n    r = q * 3\n")


@pytest.mark.parametrize("graph_mode", ["normal", "no_grad"])
@pytest.mark.parametrize("region", ["no_grad", "enable_grad", "none"])
@pytest.mark.parametrize("backend", ["engine", "torch"])
def test_exported_regions_compute_what_the_evaluator_does(graph_mode: str, region: str, backend: str) -> None:
    if backend == "torch":
        pytest.importorskip("torch", reason=TORCH_MISSING)
    document = interleaved()
    document.apply(SetFrameGradMode("f", region))
    document.apply(SetSetting("grad_mode", graph_mode))
    evaluator = evaluated(document)
    code = generate_code(document, evaluator.results)
    assert (f"with torch.{region}():" in code) == (region != "none")
    namespace, printed = run_code(code, backend)
    assert_matches_evaluator(document, evaluator, namespace, exact=backend == "engine")
    assert printed.splitlines()[0] == repr(evaluator.value("out"))


def test_a_leaf_inside_a_region_is_made_inside_its_block() -> None:
    document = notes_section_5("inference_mode")
    document.apply(MoveNode("x", (300, 150)))
    assert generate_code(document) == (
        "import torch\n\nwith torch.inference_mode():\n    x = torch.ones(3, requires_grad=True)\n"
        "    y = x * 2\nz = y.sum()\n")


def test_a_copied_region_pastes_as_a_region_with_its_nodes() -> None:
    from gradstudio.model.io.fragment import fragment, paste_edit, read_fragment

    document = notes_section_5()
    piece = read_fragment(json.loads(json.dumps(fragment(document, ["x", "y"], ["f"]))))
    edit, new_ids = paste_edit(document, piece, (0.0, 600.0))
    document.apply(edit)
    pasted = {document.nodes[node_id].name: mode for node_id, mode in node_modes(document).items()}
    assert pasted == {"y": "no_grad", "y1": "no_grad"}
    assert sum(item.grad_mode == "no_grad" for item in document.annotations.values()) == 2


def test_training_passes_no_gradient_back_through_a_no_grad_region() -> None:
    from pathlib import Path

    from gradstudio.model.io.fileformat import load
    from gradstudio.model.training import train
    from gradstudio.model.workspace import GraphWorkspace

    document = load(Path(__file__).resolve().parents[2] / "resources" / "examples" / "xor_mlp.gsg")
    ids = {node.name: node_id for node_id, node in document.nodes.items()}
    first_layer = [document.nodes[ids[name]].position for name in ("XW1", "z1", "h")]
    left, top = min(x for x, _ in first_layer) - 10, min(y for _, y in first_layer) - 10
    right, bottom = max(x for x, _ in first_layer) + 10, max(y for _, y in first_layer) + 50
    frame(document, "frozen", (left, top), (right - left, bottom - top), "no_grad")
    workspace = GraphWorkspace(document)
    before = {name: workspace.value(ids[name]).detach().numpy().copy() for name in ("W1", "b1", "W2", "b2")}
    settings = document.settings.training
    train(workspace, type(settings)(**{**settings.__dict__, "steps": 20}))
    after = {name: GraphWorkspace(document).value(ids[name]).detach().numpy() for name in before}
    assert (after["W1"] == before["W1"]).all() and (after["b1"] == before["b1"]).all()
    assert not (after["W2"] == before["W2"]).all()
