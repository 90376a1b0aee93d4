"""Editing on the canvas with real mouse and keyboard events; every edit undoes to the exact snapshot."""

from __future__ import annotations

import json
from typing import Any

import pytest
from panel_helpers import open_example
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QGuiApplication
from PySide6.QtWidgets import QApplication
from ui_helpers import add_node, click, drag, overlaps, send_drop, viewport_point

from gradstudio.model.document import Edge
from gradstudio.model.edits import Connect, Disconnect
from gradstudio.model.io.fileformat import to_data
from gradstudio.model.io.fileschema import CURRENT_VERSION
from gradstudio.ui.canvas.node_face import fitted_autograd, fitted_summary
from gradstudio.ui.edit.clipboard import FRAGMENT_MIME
from gradstudio.ui.main_window import MainWindow


def assert_undo_redo(window: MainWindow, before: tuple, qtbot: Any) -> None:
    """Undo restores `before` exactly; redo brings back what was there after the edit."""
    after = window.document.snapshot()
    assert after != before
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.snapshot() == before
    window.actions.actionRedo.trigger()
    assert window.document.snapshot() == after


def test_palette_drop_adds_the_node_at_the_drop_point(window: MainWindow, qtbot: Any) -> None:
    before = window.document.snapshot()
    tree = window.palette.tree
    mime = tree.mimeData([tree.op_item("sigmoid")])
    at = QPoint(300, 200)
    send_drop(window, mime, at)
    [node] = window.document.nodes.values()
    target = window.view.mapToScene(at)
    assert node.kind == "sigmoid"
    assert node.position == (target.x(), target.y())
    assert window.scene.nodes[node.id].pos() == target
    assert window.scene.nodes[node.id].isSelected()
    assert_undo_redo(window, before, qtbot)


def test_unknown_drop_is_ignored(window: MainWindow) -> None:
    mime = QMimeData()
    mime.setText("hello")
    event = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.view.viewport(), event)
    assert not event.isAccepted()


def test_dragging_from_output_to_input_connects(chain: MainWindow, qtbot: Any) -> None:
    add_node(chain.document, "s", "sigmoid", (260, 300))
    chain.undo_stack.clear()
    before = chain.document.snapshot()
    start = chain.scene.nodes["w"].output_anchor()
    end = chain.scene.nodes["s"].input_anchor("input")
    drag(qtbot, chain, start, end)
    assert chain.document.edges[("s", "input")] == Edge("w", "s", "input")
    assert chain.scene.edges[("s", "input")].isVisible()
    assert_undo_redo(chain, before, qtbot)


def test_dragging_from_input_back_to_output_connects(chain: MainWindow, qtbot: Any) -> None:
    add_node(chain.document, "s", "sigmoid", (260, 300))
    drag(qtbot, chain, chain.scene.nodes["s"].input_anchor("input"), chain.scene.nodes["z"].output_anchor())
    assert chain.document.edges[("s", "input")] == Edge("z", "s", "input")


def test_compatible_ports_light_up_while_dragging(chain: MainWindow, qtbot: Any) -> None:
    add_node(chain.document, "s", "sigmoid", (260, 300))
    viewport = chain.view.viewport()
    start = chain.scene.nodes["y"].output_anchor()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(chain, start))
    qtbot.mouseMove(viewport, viewport_point(chain, start + QPointF(60, 40)))
    lit = chain.scene.wires.highlighted_ports()
    # y's own inputs would make a cycle, z's are taken, x/two/w are upstream or have no inputs
    assert lit == {("s", "input")}
    assert chain.scene.wires.wire is not None
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(chain, start + QPointF(60, 40)))
    assert not chain.scene.wires.active
    assert not any(item.highlighted for item in chain.scene.nodes.values())


def test_a_cycle_is_refused_and_explained(chain: MainWindow, qtbot: Any) -> None:
    add_node(chain.document, "s", "sigmoid", (780, 0))
    chain.document.apply(Connect(Edge("z", "s", "input")))
    add_node(chain.document, "m", "mul", (780, 200))
    chain.document.apply(Connect(Edge("s", "m", "a")))
    chain.document.apply(Connect(Edge("x", "m", "b")))
    chain.workspace.refresh()
    chain.undo_stack.clear()
    before = chain.document.snapshot()
    drag(qtbot, chain, chain.scene.nodes["m"].output_anchor(), chain.scene.nodes["s"].input_anchor("input"))
    assert chain.document.snapshot() == before
    assert "cycle" in chain.statusBar().currentMessage()  # replacing s's wire would still close a loop
    chain.document.apply(Disconnect(Edge("z", "s", "input")))
    before = chain.document.snapshot()
    drag(qtbot, chain, chain.scene.nodes["m"].output_anchor(), chain.scene.nodes["s"].input_anchor("input"))
    assert chain.document.snapshot() == before
    assert "cycle" in chain.statusBar().currentMessage()
    assert chain.undo_stack.count() == 0


def test_dropping_a_wire_on_an_occupied_input_replaces_its_link(chain: MainWindow, qtbot: Any) -> None:
    chain.undo_stack.clear()
    before = chain.document.snapshot()
    drag(qtbot, chain, chain.scene.nodes["w"].output_anchor(), chain.scene.nodes["y"].input_anchor("a"))
    assert chain.document.edges[("y", "a")] == Edge("w", "y", "a")
    assert chain.scene.edges[("y", "a")].edge == Edge("w", "y", "a")
    assert "x" in chain.document.nodes and chain.undo_stack.count() == 1
    assert_undo_redo(chain, before, qtbot)


def test_an_occupied_input_lights_up_for_another_output(chain: MainWindow, qtbot: Any) -> None:
    viewport = chain.view.viewport()
    start = chain.scene.nodes["w"].output_anchor()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(chain, start))
    qtbot.mouseMove(viewport, viewport_point(chain, start + QPointF(60, 40)))
    assert {("y", "a"), ("y", "b"), ("z", "a"), ("z", "b")} <= chain.scene.wires.highlighted_ports()
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(chain, start + QPointF(60, 40)))


def test_a_replacing_wire_that_would_fail_leaves_the_old_link(chain: MainWindow, qtbot: Any) -> None:
    before = chain.document.snapshot()
    drag(qtbot, chain, chain.scene.nodes["w"].output_anchor(), chain.scene.nodes["z"].input_anchor("a"))
    assert chain.document.snapshot() == before
    assert "must match" in chain.statusBar().currentMessage()
    assert chain.scene.edges[("z", "a")].isVisible()


def test_a_shape_mismatch_is_refused_with_pytorchs_message(chain: MainWindow, qtbot: Any) -> None:
    add_node(chain.document, "s", "add", (260, 300))
    chain.document.apply(Connect(Edge("x", "s", "a")))
    before = chain.document.snapshot()
    drag(qtbot, chain, chain.scene.nodes["w"].output_anchor(), chain.scene.nodes["s"].input_anchor("b"))
    assert chain.document.snapshot() == before
    message = chain.statusBar().currentMessage()
    assert "The size of tensor a (3) must match the size of tensor b (4)" in message
    assert chain.undo_stack.count() == 0


def test_dragging_an_edge_end_off_its_port_disconnects(chain: MainWindow, qtbot: Any) -> None:
    before = chain.document.snapshot()
    port = chain.scene.nodes["z"].input_anchor("b")
    drag(qtbot, chain, port, port + QPointF(-40, 120))
    assert ("z", "b") not in chain.document.edges
    assert ("z", "b") not in chain.scene.edges
    assert_undo_redo(chain, before, qtbot)


def test_dragging_an_edge_end_to_another_port_rewires(chain: MainWindow, qtbot: Any) -> None:
    add_node(chain.document, "s", "sigmoid", (520, 250))
    chain.undo_stack.clear()
    before = chain.document.snapshot()
    drag(qtbot, chain, chain.scene.nodes["z"].input_anchor("b"), chain.scene.nodes["s"].input_anchor("input"))
    assert ("z", "b") not in chain.document.edges
    assert chain.document.edges[("s", "input")] == Edge("y", "s", "input")
    assert chain.undo_stack.count() == 1
    assert_undo_redo(chain, before, qtbot)


def test_deleting_a_node_mid_wire_drops_the_wire_quietly(chain: MainWindow, qtbot: Any) -> None:
    before = chain.document.snapshot()
    viewport = chain.view.viewport()
    port = chain.scene.nodes["z"].input_anchor("b")
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(chain, port))
    qtbot.mouseMove(viewport, viewport_point(chain, port + QPointF(-30, 60)))
    chain.scene.select(["y"])
    qtbot.keyClick(chain.view, Qt.Key.Key_Delete)
    assert not chain.scene.wires.active and chain.scene.wires.wire is None
    qtbot.mouseMove(viewport, viewport_point(chain, port + QPointF(-60, 90)))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(chain, port + QPointF(-60, 90)))
    assert chain.statusBar().currentMessage() == "" and chain.undo_stack.count() == 1
    chain.undo_stack.undo()
    assert chain.document.snapshot() == before
    assert all(item.isVisible() for item in chain.scene.edges.values())


def test_moving_a_node_is_one_undoable_move(chain: MainWindow, qtbot: Any) -> None:
    before = chain.document.snapshot()
    item = chain.scene.nodes["y"]
    grip = item.scenePos() + QPointF(40, 10)
    drag(qtbot, chain, grip, grip + QPointF(100, 60))
    assert chain.document.nodes["y"].position == (360.0, 60.0)
    assert chain.undo_stack.count() == 1
    edge = chain.scene.edges[("y", "a")]
    assert edge.boundingRect().contains(edge.mapFromScene(chain.scene.nodes["x"].output_anchor()))
    assert_undo_redo(chain, before, qtbot)
    assert item.pos() == QPointF(360, 60)


def test_snap_to_grid(chain: MainWindow, qtbot: Any) -> None:
    chain.actions.actionSnapToGrid.trigger()
    grip = chain.scene.nodes["y"].scenePos() + QPointF(40, 10)
    drag(qtbot, chain, grip, grip + QPointF(47, 33))
    assert chain.document.nodes["y"].position == (300.0, 40.0)


def test_delete_and_backspace_remove_the_selection(chain: MainWindow, qtbot: Any) -> None:
    before = chain.document.snapshot()
    click(qtbot, chain, chain.scene.nodes["y"].scenePos() + QPointF(40, 10))
    assert chain.scene.selected_node_ids() == ["y"]
    qtbot.keyClick(chain.view, Qt.Key.Key_Delete)
    assert "y" not in chain.document.nodes and not chain.document.inputs_of("z")
    assert "y" not in chain.scene.nodes
    assert_undo_redo(chain, before, qtbot)
    chain.undo_stack.undo()
    click(qtbot, chain, chain.scene.nodes["w"].scenePos() + QPointF(40, 10))
    qtbot.keyClick(chain.view, Qt.Key.Key_Backspace)
    assert "w" not in chain.document.nodes


def test_a_selected_edge_can_be_deleted(chain: MainWindow, qtbot: Any) -> None:
    before = chain.document.snapshot()
    chain.scene.edges[("y", "b")].setSelected(True)
    chain.actions.actionDelete.trigger()
    assert ("y", "b") not in chain.document.edges and "two" in chain.document.nodes
    assert_undo_redo(chain, before, qtbot)


def test_copy_paste_gives_fresh_ids_names_and_an_offset(chain: MainWindow, qtbot: Any) -> None:
    before = chain.document.snapshot()
    chain.scene.select(["x", "y"])
    qtbot.keyClick(chain.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(chain.view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    new = [node for node in chain.document.nodes.values() if node.id not in {"x", "two", "y", "z", "w"}]
    assert sorted(node.name for node in new) == ["x1", "y1"]
    copy_of = {node.name: node for node in new}
    assert overlaps(chain) == []
    assert copy_of["x1"].attributes == chain.document.nodes["x"].attributes
    assert chain.document.edges[(copy_of["y1"].id, "a")].source == copy_of["x1"].id
    assert (copy_of["y1"].id, "b") not in chain.document.edges
    assert sorted(chain.scene.selected_node_ids()) == sorted(node.id for node in new)
    assert chain.undo_stack.count() == 1
    assert_undo_redo(chain, before, qtbot)


def test_repeated_pastes_cascade_instead_of_stacking(chain: MainWindow, qtbot: Any) -> None:
    chain.scene.select(["x"])
    qtbot.keyClick(chain.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    for _ in range(3):
        qtbot.keyClick(chain.view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    copies = {node.name: node.position for node in chain.document.nodes.values() if node.name.startswith("x")}
    assert len(set(copies.values())) == 4
    assert overlaps(chain) == []


NOT_NODES = "(not code or nodes)"  # text: not PyTorch code (a dialog says so); a fragment: no graph nodes
FRAGMENT = '{"format": "gradstudio-fragment", "version": 2, "nodes": [%s], "edges": [], "annotations": [%s]}'
GARBAGE = {
    "not json": ("not json", NOT_NODES),
    "an array": ("[1, 2]", NOT_NODES),
    "no version": ('{"format": "gradstudio-fragment"}', "Paste: version: missing"),
    "a graph file": ('{"format": "gradstudio-graph", "version": 2, "nodes": []}',
                     "Paste: format: expected 'gradstudio-fragment', got 'gradstudio-graph'"),
    "name a number": (FRAGMENT % ('{"id": "a", "kind": "tensor", "name": 5}', ""),
                      "Paste: nodes[0].name: expected a string, got a number"),
    "NaN position": (FRAGMENT % ('{"id": "a", "kind": "tensor", "name": "q", "position": [NaN, Infinity]}', ""),
                     "Paste: nodes[0].position[0]: expected a finite number, got nan"),
    "unknown kind": (FRAGMENT % ('{"id": "a", "kind": "nope", "name": "q"}', ""),
                     "Paste: nodes[0].kind: unknown op kind 'nope'"),
    "wrong attribute type": (FRAGMENT % ('{"id": "a", "kind": "mean", "name": "q", "attributes": {"keepdim": 1}}',
                                         ""), "Paste: nodes[0].attributes.keepdim: keepdim must be true or false"),
    "note text a number": (FRAGMENT % ("", '{"id": "a", "kind": "note", "text": 7}'),
                           "Paste: annotations[0].text: expected a string, got a number"),
}


@pytest.mark.parametrize("as_fragment", [False, True], ids=["text", "mime"])
@pytest.mark.parametrize("text, message", GARBAGE.values(), ids=GARBAGE.keys())
def test_pasting_garbage_changes_nothing_and_says_so(chain: MainWindow, qtbot: Any, text: str, message: str,
                                                     as_fragment: bool) -> None:
    mime = QMimeData()
    mime.setText(text)
    if as_fragment:
        mime.setData(FRAGMENT_MIME, text.encode("utf-8"))
    QGuiApplication.clipboard().setMimeData(mime)
    before = chain.document.snapshot()
    qtbot.keyClick(chain.view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert chain.document.snapshot() == before and chain.undo_stack.count() == 0
    if message == NOT_NODES:
        message = "The clipboard holds no graph nodes" if as_fragment else "Paste: the clipboard holds text, not"
    assert chain.statusBar().currentMessage().startswith(message)


def test_copy_puts_the_file_records_on_the_clipboard(chain: MainWindow, qtbot: Any) -> None:
    chain.scene.select(["x", "y"])
    qtbot.keyClick(chain.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    mime = QGuiApplication.clipboard().mimeData()
    data = json.loads(bytes(mime.data(FRAGMENT_MIME).data()).decode("utf-8"))
    assert json.loads(mime.text()) == data
    assert (data["format"], data["version"]) == ("gradstudio-fragment", CURRENT_VERSION)
    file = to_data(chain.document)
    assert data["nodes"] == [record for record in file["nodes"] if record["id"] in {"x", "y"}]
    assert data["edges"] == [{"source": "x", "target": "y", "port": "a"}]


def test_cut_then_paste(chain: MainWindow, qtbot: Any) -> None:
    chain.scene.select(["w"])
    qtbot.keyClick(chain.view, Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier)
    assert "w" not in chain.document.nodes
    chain.actions.actionPaste.trigger()
    [pasted] = [node for node in chain.document.nodes.values() if node.kind == "tensor" and node.id != "x"]
    assert pasted.name == "w" and pasted.attributes["shape"] == (4,)


def test_duplicate_with_ctrl_d(chain: MainWindow, qtbot: Any) -> None:
    before = chain.document.snapshot()
    chain.scene.select(["y", "z"])
    qtbot.keyClick(chain.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    names = sorted(node.name for node in chain.document.nodes.values())
    assert names == ["two", "w", "x", "y", "y1", "z", "z1"]
    assert_undo_redo(chain, before, qtbot)


def test_select_all_and_rubber_band(chain: MainWindow, qtbot: Any) -> None:
    qtbot.keyClick(chain.view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert sorted(chain.scene.selected_node_ids()) == sorted(chain.document.nodes)
    click(qtbot, chain, QPointF(-100, -100))
    assert chain.scene.selected_node_ids() == []
    drag(qtbot, chain, QPointF(-30, -30), QPointF(200, 250))
    assert sorted(chain.scene.selected_node_ids()) == ["two", "x"]


def test_tab_opens_the_quick_add_box(chain: MainWindow, qtbot: Any) -> None:
    qtbot.keyClick(chain.view, Qt.Key.Key_Tab)
    search = chain.view.search
    assert search.isVisible()
    qtbot.keyClicks(search.line, "tanh")
    qtbot.keyClick(search.line, Qt.Key.Key_Return)
    assert not search.isVisible()
    assert [node.kind for node in chain.document.nodes.values()].count("tanh") == 1


def test_double_click_on_empty_canvas_opens_quick_add_there(chain: MainWindow, qtbot: Any) -> None:
    spot = QPointF(700, 300)
    qtbot.mouseDClick(chain.view.viewport(), Qt.MouseButton.LeftButton, pos=viewport_point(chain, spot))
    assert chain.view.search.isVisible()
    qtbot.keyClicks(chain.view.search.line, "mse")
    qtbot.keyClick(chain.view.search.line, Qt.Key.Key_Enter)
    [node] = [node for node in chain.document.nodes.values() if node.kind == "mse_loss"]
    assert node.position == (700.0, 300.0)


def test_node_faces_show_name_op_shape_and_values(chain: MainWindow) -> None:
    chain.workspace.refresh()
    preview = chain.scene.nodes["z"].preview()
    assert (preview.summary, preview.values) == ("[3] float32", "[9, 9, 9]")
    assert "grad_fn=<MulBackward0>" in preview.tooltip
    assert chain.scene.nodes["two"].preview().summary == "Python int"


def test_quick_moves_of_the_same_nodes_merge_into_one_step(chain: MainWindow, qtbot: Any) -> None:
    before = chain.document.snapshot()
    grip = chain.scene.nodes["y"].scenePos() + QPointF(40, 10)
    drag(qtbot, chain, grip, grip + QPointF(20, 0))
    drag(qtbot, chain, grip + QPointF(20, 0), grip + QPointF(40, 0))
    assert chain.undo_stack.count() == 1
    assert chain.document.nodes["y"].position == (300.0, 0.0)
    grip = chain.scene.nodes["w"].scenePos() + QPointF(40, 10)
    drag(qtbot, chain, grip, grip + QPointF(0, 20))
    assert chain.undo_stack.count() == 2
    chain.undo_stack.undo()
    chain.undo_stack.undo()
    assert chain.document.snapshot() == before


def test_a_blocked_nodes_preview_follows_a_rename(chain: MainWindow) -> None:
    from gradstudio.model.edits import RenameNode, SetAttribute

    chain.editor.apply(SetAttribute("x", "init", "values"), "values without any")
    chain.workspace.refresh()
    assert chain.scene.nodes["z"].preview().values == "on x"
    chain.editor.apply(RenameNode("x", "inputs"), "rename")
    assert chain.scene.nodes["z"].preview().values == "on inputs"


def test_quick_add_ranks_names_before_descriptions(window: MainWindow, qtbot: Any) -> None:
    window.view.open_search(QPoint(50, 50))
    qtbot.keyClicks(window.view.search.line, "re")
    first = window.view.search.list.item(0).data(Qt.ItemDataRole.UserRole)
    assert first in {"relu", "reshape"}


def test_an_unwired_node_waits_instead_of_failing(window: MainWindow) -> None:
    node_id = window.editor.add_node("sigmoid", (0, 0))
    window.workspace.refresh()
    preview = window.scene.nodes[node_id].preview()
    assert (preview.summary, preview.values, preview.is_error) == ("needs input", "input", False)



@pytest.mark.parametrize("example", ["notes_forward_backward", "notes_randn_mean", "xor_mlp"])
def test_node_faces_show_shape_and_dtype_whole_beside_the_grad_fn(window: MainWindow, example: str) -> None:
    # `[2, 2]  float32` beside MulBackward0 and `scalar  float32` beside MeanBackward0 were cut to `float…`
    open_example(window, example)
    for item in window.scene.nodes.values():
        preview = item.preview()
        autograd = fitted_autograd(preview.autograd, preview.summary)
        assert fitted_summary(preview.summary, autograd) == preview.summary, item.node.name
        assert autograd[:3] == preview.autograd[:3]  # a grad_fn cut for room still names its op
    target = window.scene.nodes[window.document.settings.backward_target].preview()
    assert target.summary == "[] float32"  # a 0-d tensor, as torch.Size([]) and the wires say
