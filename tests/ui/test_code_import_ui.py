"""Code into the canvas: pasting code (Ctrl+V), File > Import Code…, and dropping a code file on the window."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from backward_helpers import badge, click_node, click_toolbar, node_id
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QCursor, QGuiApplication
from PySide6.QtWidgets import QFileDialog
from ui_helpers import overlaps, send_drop

from gradstudio.model.io import fileformat
from gradstudio.model.io.code_import import read_source
from gradstudio.ui.main_window import MainWindow

NOTES = Path(__file__).resolve().parents[2] / "resources" / "notes" / "pytorch_autograd_notes.md"
CTRL = Qt.KeyboardModifier.ControlModifier


def sections_two_to_four() -> str:
    return "".join(block.code for block in read_source(NOTES).blocks[:4])


def paste(qtbot: Any, window: MainWindow, text: str) -> None:
    QGuiApplication.clipboard().setText(text)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_V, CTRL)


def test_pasting_sections_two_to_four_then_backward_gives_six(window: MainWindow, qtbot: Any) -> None:
    paste(qtbot, window, sections_two_to_four())
    names = {node.name for node in window.document.nodes.values()}
    assert {"x", "y", "z", "out"} <= names
    assert window.undo_stack.count() == 1 and window.undo_stack.undoText() == "Paste code"
    assert set(window.scene.nodes) == set(window.document.nodes)
    assert overlaps(window) == []
    click_toolbar(qtbot, window, window.actions.actionBackward)
    assert repr(badge(window, "x", "grad").value) == "tensor([6., 6., 6.])"
    click_node(qtbot, window, "x")
    assert window.values_panel.grad_view.text.toPlainText() == "tensor([6., 6., 6.])"


def test_undo_takes_the_whole_paste_back(window: MainWindow, qtbot: Any) -> None:
    paste(qtbot, window, sections_two_to_four())
    qtbot.keyClick(window.view, Qt.Key.Key_Z, CTRL)
    assert not window.document.nodes and not window.scene.nodes


def test_refused_paste_is_a_message_and_changes_nothing(window: MainWindow, qtbot: Any) -> None:
    paste(qtbot, window, "import torch\nx = torch.ones(3)\nfor i in range(2):\n    x = x * 2\n")
    assert not window.document.nodes and window.undo_stack.count() == 0
    message = window.statusBar().currentMessage()
    assert "line 3, column 1: loops are not supported" in message


def test_opening_the_notes_gives_a_frame_per_block(window: MainWindow, qtbot: Any, dialogs: Any,
                                                    monkeypatch: Any) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(NOTES), ""))
    window.actions.actionImportCode.trigger()
    blocks = read_source(NOTES).blocks
    frames = [item for item in window.document.annotations.values() if item.kind == "frame"]
    lesson = [frame for frame in frames if frame.grad_mode == "none"]
    assert [frame.text.split(" (part")[0] for frame in lesson] == [block.heading for block in blocks]
    assert [frame.grad_mode for frame in frames if frame.grad_mode != "none"] == ["no_grad"]
    for frame in lesson:  # each frame is drawn and holds its block's nodes
        assert frame.id in window.scene.annotations
    inside = {name: [f.text for f in lesson if f.contains(window.document.nodes[node_id(window, name)].position)]
              for name in ("x", "out", "y1", "x1", "c")}
    assert inside == {"x": [lesson[0].text], "out": [lesson[2].text], "y1": [lesson[4].text],
                      "x1": [lesson[5].text], "c": [lesson[6].text]}
    assert overlaps(window) == []
    assert window.undo_stack.count() == 1
    click_node(qtbot, window, "out")  # Backward runs on the selected scalar
    click_toolbar(qtbot, window, window.actions.actionBackward)
    assert repr(badge(window, "x", "grad").value) == "tensor([6., 6., 6.])"
    click_node(qtbot, window, "c")
    click_toolbar(qtbot, window, window.actions.actionBackward)
    assert window.workspace.model.grad(node_id(window, "a")).tolist() == [[0.75, 0.75], [0.75, 0.75]]


def test_import_code_refusal_is_shown_in_a_dialog(window: MainWindow, dialogs: Any, monkeypatch: Any,
                                                 tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import subprocess\n")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(bad), ""))
    window.actions.actionImportCode.trigger()
    assert not window.document.nodes
    assert any("import of subprocess is refused" in str(call) for call in dialogs.calls)


def drop_file(window: MainWindow, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    send_drop(window, mime, QPoint(200, 200))


def test_dropping_a_python_file_imports_it_at_the_drop_point(window: MainWindow, tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text("import torch\nw = torch.ones(2, requires_grad=True)\nloss = (w * w).sum()\n")
    drop_file(window, script)
    names = {node.name for node in window.document.nodes.values()}
    assert {"w", "loss"} <= names and window.undo_stack.count() == 1


def test_dropping_notes_and_a_graph_file(window: MainWindow, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    shutil.copy(NOTES, notes)
    drop_file(window, notes)
    assert len([a for a in window.document.annotations.values() if a.kind == "frame"]) == 8
    window.undo_stack.setClean()
    graph = Path(__file__).resolve().parents[2] / "resources" / "examples" / "notes_no_grad.gsg"
    drop_file(window, graph)  # a .gsg drop opens it
    opened = fileformat.load(graph)
    assert window.document.nodes.keys() == opened.nodes.keys()
    assert window.document.annotations.keys() == opened.annotations.keys()


def test_pasted_code_wires_into_the_graphs_names_without_overlapping_it(chain: MainWindow, qtbot: Any) -> None:
    before = set(chain.document.nodes)
    paste(qtbot, chain, "v = torch.exp(x) * 3\n")
    new = {node.name: node for node in chain.document.nodes.values() if node.id not in before}
    assert set(new) == {"v", "v_exp", "three"}
    assert chain.document.inputs_of(new["v_exp"].id)["input"].source == "x"
    assert overlaps(chain) == []
    assert sorted(chain.scene.selected_node_ids()) == sorted(node.id for node in new.values())


def test_pasting_markdown_notes_text_builds_the_lesson(window: MainWindow, qtbot: Any) -> None:
    paste(qtbot, window, NOTES.read_text())
    frames = [item for item in window.document.annotations.values() if item.kind == "frame"]
    assert len(frames) == 8 and window.undo_stack.count() == 1


def warnings_shown(dialogs: Any) -> list[str]:
    """The texts of the warning dialogs shown so far."""
    return [str(args[2]) for name, args in dialogs.calls if name == "warning"]


LEARNER_MISTAKES = [
    ("import torch\nx = torch.ones(3, requires_grad=True\ny = x + 2\n", "line 2, column", "not valid Python"),
    ("import torch\nx = torch.ones(3)\nfor i in range(2):\n    x = x * 2\n", "line 3, column 1",
     "loops are not supported"),
    ("import torch\nx = torch.ones(3, requires_grad=True)\ns = x.sum().item()\n", "line 3, column 5",
     "leaves the graph: no node can hold it. Nearest supported form: keep the tensor"),
    ("import numpy as np\nimport torch\n", "line 1, column 1", "import of numpy is refused"),
    ("Autograd is PyTorch's automatic differentiation engine.", "Paste", "not PyTorch code"),
]


@pytest.mark.parametrize("text, where, why", LEARNER_MISTAKES, ids=[m[2][:30] for m in LEARNER_MISTAKES])
def test_a_refused_paste_says_where_and_why_in_a_dialog_and_changes_nothing(window: MainWindow, qtbot: Any,
                                                                           dialogs: Any, text: str, where: str,
                                                                           why: str) -> None:
    paste(qtbot, window, text)
    assert not window.document.nodes and window.undo_stack.count() == 0
    [shown] = warnings_shown(dialogs)
    assert where in shown and why in shown


@pytest.mark.parametrize("name, hint", [("data.csv", "Load Data"), ("picture.png", "not .png")])
def test_dropping_a_file_that_is_not_code_says_which_files_are_read(window: MainWindow, dialogs: Any,
                                                                     tmp_path: Path, name: str, hint: str) -> None:
    path = tmp_path / name
    path.write_text("a,b\n1,2\n")
    drop_file(window, path)  # send_drop asserts the canvas takes the drag
    assert not window.document.nodes and window.undo_stack.count() == 0
    [shown] = warnings_shown(dialogs)
    assert ".py, .md, .markdown, .txt, .ipynb" in shown and hint in shown


def test_code_pasted_at_the_canvas_edge_is_scrolled_into_view(window: MainWindow, qtbot: Any) -> None:
    viewport = window.view.viewport()
    corner = viewport.rect().bottomRight() - QPoint(10, 10)
    QCursor.setPos(viewport.mapToGlobal(corner))
    paste(qtbot, window, sections_two_to_four())
    visible = window.view.mapToScene(viewport.rect()).boundingRect()
    faces = [window.scene.nodes[node_id].sceneBoundingRect() for node_id in window.document.nodes]
    assert len(faces) == 7 and all(visible.contains(face) for face in faces)


def test_the_status_bar_counts_one_pasted_node_in_the_singular(window: MainWindow, qtbot: Any) -> None:
    paste(qtbot, window, "import torch\nx = torch.ones(3)\n")
    assert window.statusBar().currentMessage() == "Paste code: 1 node"
