"""Code import: the seed notes' blocks become the example graphs, and import -> export -> import is stable."""

from __future__ import annotations

import numpy as np
import pytest

from gradstudio.model.document import GraphDocument
from gradstudio.model.io import fileformat
from gradstudio.model.io.code_import import plan_import, read_source
from gradstudio.model.io.code_import.forms import FORMS
from gradstudio.model.io.code_import.leaf_calls import _READERS, INITIALISERS
from gradstudio.model.io.codegen import generate_code
from gradstudio.model.workspace import GraphWorkspace
from tests.model.code_import_helpers import (
    EXAMPLES,
    NOTES,
    SEED,
    imported,
    notes_blocks,
    same_structure,
)


def test_notes_in_resources_are_the_seed():
    if SEED.exists():
        assert SEED.read_text() == NOTES.read_text()
    assert len(notes_blocks()) == 7


def programs() -> dict[str, str]:
    """Each example of the notes and the notes' blocks that make it (section 5's "Or:" replaces the block)."""
    blocks = notes_blocks()
    no_grad_body = blocks[4].split(":", 1)[1].strip() + "\n"
    return {
        "notes_forward_backward": "".join(blocks[0:4]),
        "notes_no_grad": blocks[0] + blocks[4],
        "notes_requires_grad_false": blocks[0] + blocks[5] + no_grad_body,
        "notes_randn_mean": blocks[6],
    }


@pytest.mark.parametrize("example", sorted(programs()))
def test_notes_blocks_import_into_their_example(example):
    document = imported(programs()[example])
    expected = fileformat.load(EXAMPLES / f"{example}.gsg")
    assert same_structure(document, expected)
    modes = sorted(frame.grad_mode for frame in document.annotations.values() if frame.kind == "frame")
    assert modes == sorted(frame.grad_mode for frame in expected.annotations.values() if frame.kind == "frame")


def test_variable_names_become_node_names():
    document = imported("".join(notes_blocks()[0:4]))
    names = {node.name for node in document.nodes.values()}
    assert {"x", "y", "z", "out"} <= names
    assert document.nodes[document.settings.backward_target].name == "out"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.gsg")), ids=lambda p: p.stem)
def test_export_of_every_example_imports_back_to_it(path):
    original = fileformat.load(path)
    if original.settings.grad_mode == "no_grad":  # exported as a with block: it comes back as a frame
        original.settings.grad_mode = "normal"
    code = generate_code(original)
    again = imported(code)
    assert same_structure(again, original), code
    assert same_structure(imported(generate_code(again)), again)


@pytest.mark.parametrize("example", sorted(programs()))
def test_import_export_import_is_stable(example):
    first = imported(programs()[example])
    second = imported(generate_code(first))
    assert same_structure(first, second)
    assert {n.name for n in first.nodes.values()} == {n.name for n in second.nodes.values()}


def test_backward_on_out_gives_six_and_section_six_three_quarters():
    document = fileformat.loads(fileformat.dumps(import_notes()))
    workspace = GraphWorkspace(document)
    x, out, a, c = (document.name_owner(name) for name in ("x", "out", "a", "c"))
    workspace.backward(out)
    assert workspace.evaluator.leaf_grad(x).tolist() == [6.0, 6.0, 6.0]
    workspace.backward(c)
    assert workspace.evaluator.leaf_grad(a).tolist() == [[0.75, 0.75], [0.75, 0.75]]


def import_notes() -> GraphDocument:
    document = GraphDocument()
    document.apply(plan_import(document, read_source(NOTES)).edit())
    return document


def test_notes_become_one_document_of_titled_frames_with_notes_beside():
    document = import_notes()
    frames = [item for item in document.annotations.values() if item.kind == "frame" and item.grad_mode == "none"]
    headings = [block.heading for block in read_source(NOTES).blocks]
    assert [frame.text.split(" (part")[0] for frame in frames] == headings
    notes = [item for item in document.annotations.values() if item.kind == "note"]
    assert any("Sometimes, we don't need gradients" in note.text for note in notes)
    assert any("Key Takeaway" in note.text for note in notes)
    for note in notes:  # beside the frames (or below them all), never over one
        assert not any(_overlap((*note.position, *note.size), (*frame.position, *frame.size)) for frame in frames)
    beside = [note for note in notes if any(frame.position[1] == note.position[1] and 0 < frame.position[0]
                                            - note.position[0] - note.size[0] < 100 for frame in frames)]
    assert len(beside) == len(notes) - 1  # all but the summary after the last block
    # the later blocks wire into the first frame's x
    x = document.name_owner("x")
    users = {document.nodes[edge.target].name for edge in document.edges_from(x)}
    assert {"y", "y1", "x1"} <= users
    (no_grad,) = [item for item in document.annotations.values() if item.grad_mode == "no_grad"]
    assert no_grad.contains(document.nodes[document.name_owner("y1")].position)


def innermost_frame(document: GraphDocument, node_id: str):
    position = document.nodes[node_id].position
    frames = [item for item in document.annotations.values()
              if item.kind == "frame" and item.contains(position)]
    return min(frames, key=lambda item: item.size[0] * item.size[1]) if frames else None


def test_every_node_of_the_notes_lies_in_its_blocks_frame_and_nothing_overlaps():
    document = import_notes()
    rects = [(*node.position, 180.0, 70.0 + 20 * len(node.input_ports())) for node in document.nodes.values()]
    for index, first in enumerate(rects):
        for second in rects[index + 1:]:
            assert not _overlap(first, second)
    for node_id in document.nodes:
        assert innermost_frame(document, node_id) is not None
    boxes = [(*item.position, *item.size) for item in document.annotations.values()]
    outer = [box for box, item in zip(boxes, document.annotations.values()) if item.grad_mode == "none"]
    for index, first in enumerate(outer):
        for second in outer[index + 1:]:
            assert not _overlap(first, second)


def _overlap(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_grad_mode_blocks_become_frames_around_their_nodes():
    code = ("import torch\nx = torch.ones(2, requires_grad=True)\nwith torch.no_grad():\n    y = x * 2\n"
            "with torch.enable_grad():\n    z = x + 1\nwith torch.inference_mode():\n    w = x.exp()\nv = y + z\n")
    document = imported(code)
    for name, mode in (("y", "no_grad"), ("z", "enable_grad"), ("w", "inference_mode"), ("x", None), ("v", None)):
        frame = innermost_frame(document, document.name_owner(name))
        assert (frame.grad_mode if frame else None) == mode


def test_reassigned_names_get_fresh_node_names_and_later_code_reads_the_latest():
    document = imported("import torch\nx = torch.ones(3)\ny = x + 2\ny = x * 2\nz = y + 1\n")
    y, y1, z = (document.name_owner(name) for name in ("y", "y1", "z"))
    assert document.nodes[y].kind == "add" and document.nodes[y1].kind == "mul"
    assert document.inputs_of(z)["a"].source == y1


def test_pasting_wires_into_the_documents_names():
    document = imported("import torch\nx = torch.ones(3, requires_grad=True)\n")
    imported("y = x + 2\n", document)
    y = document.name_owner("y")
    assert document.nodes[document.inputs_of(y)["a"].source].name == "x"


def test_catalog_forms_cover_the_catalog():
    """Every op with a template is reachable from code, and every initialiser has a reader."""
    reachable = (set(FORMS.binary.values()) | set(FORMS.unary.values()) | set(FORMS.compare.values())
                 | set(FORMS.attribute.values()) | {FORMS.subscript}
                 | {form.kind for form in FORMS.functions.values()} | {form.kind for form in FORMS.methods.values()})
    from gradstudio.model.catalog import CATALOG

    assert reachable == set(CATALOG) - {"tensor", "scalar"}
    assert set(INITIALISERS) | {"tensor"} == set(_READERS)


@pytest.mark.parametrize("code, kind, attributes", [
    ("y = torch.exp(x)", "exp", {}),
    ("y = x.exp()", "exp", {}),
    ("y = x.sum(dim=0, keepdim=True)", "sum", {"dim": 0, "keepdim": True}),
    ("y = torch.sum(x, 0)", "sum", {"dim": 0}),
    ("y = x.max(0).values", "max", {"dim": 0}),
    ("y = torch.clamp(x, min=0.5)", "clamp", {"min": 0.5}),
    ("y = F.leaky_relu(x, 0.2)", "leaky_relu", {"negative_slope": 0.2}),
    ("y = torch.softmax(x, dim=0)", "softmax", {"dim": 0}),
    ("y = x.reshape(3, 1)", "reshape", {"shape": (3, 1)}),
    ("y = x.view((3, 1))", "view", {"shape": (3, 1)}),
    ("y = x[1:]", "index", {"index": "1:"}),
    ("y = x.T", "T", {}),
    ("y = -x", "neg", {}),
    ("y = x > 0", "gt", {}),
    ("y = torch.cat([x, x], dim=0)", "cat", {"count": 2, "dim": 0}),
    ("y = x.pow(2)", "pow", {}),
    ("y = x @ x", "matmul", {}),
])
def test_calls_operators_and_methods_become_catalog_nodes(code, kind, attributes):
    prefix = "import torch\nimport torch.nn.functional as F\nx = torch.ones(3)\n"
    document = imported(prefix + code + "\n")
    node = document.nodes[document.name_owner("y")]
    assert node.kind == kind
    assert {key: node.attributes[key] for key in attributes} == attributes


@pytest.mark.parametrize("code, init, attributes", [
    ("x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)", "values",
     {"shape": (2, 2), "values": (1.0, 2.0, 3.0, 4.0), "requires_grad": True}),
    ("x = torch.full((2, 3), 1.5)", "full", {"shape": (2, 3), "fill": 1.5}),
    ("x = torch.zeros(2, 3, dtype=torch.float64)", "zeros", {"shape": (2, 3), "dtype": "float64"}),
    ("x = torch.arange(0., 6.).reshape(2, 3).requires_grad_()", "arange", {"shape": (2, 3), "requires_grad": True}),
    ("x = torch.linspace(0., 1., 5)", "linspace", {"shape": (5,), "end": 1.0}),
    ("x = torch.eye(3)", "eye", {"shape": (3, 3)}),
    ("torch.manual_seed(7)\nx = torch.randn(2, 2)", "randn", {"seed": 7}),
    ("x = torch.tensor([0, 1, 1])", "values", {"dtype": "int64"}),
])
def test_creation_calls_become_leaves(code, init, attributes):
    document = imported("import torch\n" + code + "\n")
    node = document.nodes[document.name_owner("x")]
    assert node.attributes["init"] == init
    assert {key: node.attributes[key] for key in attributes} == attributes


def test_requires_grad_before_use_sets_the_leafs_flag():
    document = imported("import torch\nx = torch.ones(3)\nx.requires_grad_()\nx.requires_grad = False\n"
                        "x.requires_grad_(True)\ny = x * 2\ny.retain_grad()\n")
    assert document.nodes[document.name_owner("x")].attributes["requires_grad"] is True
    assert document.nodes[document.name_owner("y")].retain_grad is True
    assert len(document.nodes) == 3


def test_requires_grad_false_after_use_gives_later_code_a_detached_copy():
    document = imported("import torch\nx = torch.ones(3, requires_grad=True)\ny = x + 2\nx.requires_grad_(False)\n"
                        "z = x * 2\n")
    z = document.name_owner("z")
    source = document.nodes[document.inputs_of(z)["a"].source]
    assert source.kind == "detach"
    workspace = GraphWorkspace(document)
    results = workspace.evaluator.evaluate()
    assert not results[z].tracked and results[document.name_owner("y")].tracked


def test_in_place_update_of_an_unused_tensor_becomes_a_new_node():
    document = imported("import torch\nx = torch.ones(3, requires_grad=True)\ny = x * 2\ny += 1\nout = y.sum()\n")
    out = document.name_owner("out")
    updated = document.nodes[document.inputs_of(out)["input"].source]
    assert updated.kind == "add" and updated.name == "y1"


def test_backward_with_gradient_sets_the_target():
    document = imported("import torch\nx = torch.ones(3, requires_grad=True)\ny = x * 2\n"
                        "y.backward(gradient=torch.ones(3))\n")
    assert document.nodes[document.settings.backward_target].name == "y"
    assert len(document.nodes) == 3  # the gradient tensor is checked, not added


def test_imports_a_notebooks_code_cells(tmp_path):
    import json

    cells = [{"cell_type": "markdown", "source": ["# Lesson\n", "Make x"]},
             {"cell_type": "code", "source": ["import torch\n", "x = torch.ones(2, requires_grad=True)"]},
             {"cell_type": "code", "source": "out = (x * 3).sum()\nout.backward()"}]
    path = tmp_path / "lesson.ipynb"
    path.write_text(json.dumps({"cells": cells, "nbformat": 4}))
    document = GraphDocument()
    document.apply(plan_import(document, read_source(path)).edit())
    assert document.nodes[document.settings.backward_target].name == "out"
    frames = [item for item in document.annotations.values() if item.kind == "frame"]
    assert [frame.text for frame in frames] == ["Lesson", "Lesson (part 2)"]


def test_one_edit_that_undoes_whole():
    document = imported("import torch\nx = torch.ones(3)\n")
    before = document.snapshot()
    plan = plan_import(document, "".join(notes_blocks()))
    inverse = document.apply(plan.edit())
    assert document.snapshot() != before
    inverse.apply(document)
    assert document.snapshot() == before


def test_nested_grad_mode_blocks_nest_their_frames():
    code = ("x = torch.ones(2, requires_grad=True)\nwith torch.no_grad():\n    a = x * 2\n"
            "    with torch.enable_grad():\n        b = x * 3\n    c = a + b\nd = c.sum()\n")
    document = imported(code)
    modes = {}
    for name in ("x", "a", "b", "c", "d"):
        frame = innermost_frame(document, document.name_owner(name))
        modes[name] = frame.grad_mode if frame else None
    assert modes == {"x": None, "a": "no_grad", "b": "enable_grad", "c": "no_grad", "d": None}
    outer, inner = sorted(document.annotations.values(), key=lambda item: item.grad_mode != "no_grad")
    assert _inside((*inner.position, *inner.size), (*outer.position, *outer.size))
    for node in document.nodes.values():  # a node's whole face lies in its frames, or outside all of them
        face = (*node.position, 180.0, 70.0 + 20 * len(node.input_ports()))
        for frame in (outer, inner):
            box = (*frame.position, *frame.size)
            assert _inside(face, box) or not _overlap(face, box), (node.name, frame.grad_mode)


def _inside(a, b) -> bool:
    return b[0] <= a[0] and b[1] <= a[1] and a[0] + a[2] <= b[0] + b[2] and a[1] + a[3] <= b[1] + b[3]


TORCH_MISSING = "PyTorch not installed: the differential check against real PyTorch is skipped"


@pytest.mark.parametrize("example", ["notes_forward_backward", "notes_randn_mean"])
def test_imported_graph_gives_real_pytorchs_gradients(example):
    """Running the code under real PyTorch (seeded as the import seeds the leaf) gives the imported graph's .grad."""
    torch = pytest.importorskip("torch", reason=TORCH_MISSING)
    code = "torch.manual_seed(0)\n" + programs()[example]
    scope = {"torch": torch}
    exec(compile(code.replace("import torch\n", ""), example, "exec"), scope)  # the test runs it, never the importer
    document = imported(code)
    workspace = GraphWorkspace(document)
    workspace.backward(document.settings.backward_target)
    for node in document.nodes.values():
        if node.kind == "tensor" and node.attributes["requires_grad"]:
            ours = workspace.evaluator.leaf_grad(node.id).numpy()
            assert np.allclose(ours, scope[node.name].grad.numpy(), rtol=1e-6, atol=0)


def test_a_notebook_line_showing_x_grad_is_read_like_print():
    shown = imported("import torch\nx = torch.ones(3, requires_grad=True)\nout = x.sum()\nout.backward()\nx.grad\n")
    printed = imported("import torch\nx = torch.ones(3, requires_grad=True)\nout = x.sum()\nout.backward()\n"
                       "print(x.grad)\n")
    assert same_structure(shown, printed)
