"""Wiring as node editors do: quick add from a dropped wire, what people type, inserting on a wire, free spots,
and the shapes wires carry."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from test_canvas_editing import assert_undo_redo
from ui_helpers import add_node, drag, overlaps, send_drop, viewport_point

from gradstudio.model.catalog import CATALOG
from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect, SetAttribute
from gradstudio.ui.canvas.search import SYNONYMS
from gradstudio.ui.canvas.wire_labels import label_rect
from gradstudio.ui.edit.placement import free_position, node_rect
from gradstudio.ui.main_window import MainWindow


def test_a_wire_dropped_on_a_nodes_face_takes_its_first_free_input(chain: MainWindow, qtbot: Any) -> None:
    add_node(chain.document, "s", "add", (520, 250))
    chain.document.apply(Connect(Edge("x", "s", "a")))
    chain.undo_stack.clear()
    face = chain.scene.nodes["s"].pos() + QPointF(90, 60)
    drag(qtbot, chain, chain.scene.nodes["two"].output_anchor(), face)
    assert chain.document.edges[("s", "b")] == Edge("two", "s", "b")
    assert not chain.view.search.isVisible() and chain.undo_stack.count() == 1
    drag(qtbot, chain, chain.scene.nodes["w"].output_anchor(), face)
    assert "every input of s is taken" in chain.statusBar().currentMessage()
    assert chain.undo_stack.count() == 1


def test_a_wire_from_an_input_dropped_on_a_face_takes_its_output(chain: MainWindow, qtbot: Any) -> None:
    add_node(chain.document, "s", "sigmoid", (520, 250))
    drag(qtbot, chain, chain.scene.nodes["s"].input_anchor("input"), chain.scene.nodes["w"].pos() + QPointF(90, 60))
    assert chain.document.edges[("s", "input")] == Edge("w", "s", "input")


def shown_kinds(window: MainWindow) -> list[str]:
    """The op kinds the quick-add box lists now."""
    found = window.view.search.list
    return [found.item(row).data(Qt.ItemDataRole.UserRole) for row in range(found.count())]


def test_a_wire_dropped_on_empty_canvas_quick_adds_a_wired_node(chain: MainWindow, qtbot: Any) -> None:
    chain.undo_stack.clear()
    before = chain.document.snapshot()
    start = chain.scene.nodes["z"].output_anchor()
    drop = start + QPointF(160, 60)
    drag(qtbot, chain, start, drop)
    search = chain.view.search
    assert search.isVisible() and chain.document.snapshot() == before
    kinds = shown_kinds(chain)
    assert "relu" in kinds and "mean" in kinds and "add" in kinds
    assert "tensor" not in kinds and "scalar" not in kinds  # nothing to wire into
    qtbot.keyClicks(search.line, "relu")
    qtbot.keyClick(search.line, Qt.Key.Key_Return)
    [relu] = [node for node in chain.document.nodes.values() if node.kind == "relu"]
    assert chain.scene.wires.pending is None
    assert chain.document.edges[(relu.id, "input")] == Edge("z", relu.id, "input")
    assert chain.scene.nodes[relu.id].input_anchor("input") == drop
    assert chain.undo_stack.count() == 1
    assert_undo_redo(chain, before, qtbot)


def test_quick_add_from_a_wire_offers_only_ops_that_take_its_tensor(chain: MainWindow, qtbot: Any) -> None:
    drag(qtbot, chain, chain.scene.nodes["x"].output_anchor(), QPointF(200, -150))
    kinds = shown_kinds(chain)
    assert "sigmoid" in kinds
    assert "transpose" not in kinds  # x is 1-D: transpose(0, 1) is refused
    assert chain.scene.wires.pending is not None and chain.scene.wires.pending.scene() is chain.scene  # still hangs
    qtbot.keyClick(chain.view.search.line, Qt.Key.Key_Escape)
    assert not chain.view.search.isVisible()
    assert chain.scene.wires.pending is None
    qtbot.keyClick(chain.view, Qt.Key.Key_Tab)
    assert "tensor" in shown_kinds(chain)  # an unwired quick add offers every op again


def test_a_wire_dragged_from_an_input_quick_adds_its_source(window: MainWindow, qtbot: Any) -> None:
    add_node(window.document, "s", "sigmoid", (300, 0))
    window.view.reset_zoom()
    window.view.centerOn(QPointF(200, 50))
    start = window.scene.nodes["s"].input_anchor("input")
    drag(qtbot, window, start, start - QPointF(220, 0))
    qtbot.keyClicks(window.view.search.line, "tensor")
    qtbot.keyClick(window.view.search.line, Qt.Key.Key_Return)
    [leaf] = [node for node in window.document.nodes.values() if node.kind == "tensor"]
    assert window.document.edges[("s", "input")] == Edge(leaf.id, "s", "input")
    assert window.scene.nodes[leaf.id].output_anchor() == start - QPointF(220, 0)


@pytest.mark.parametrize("typed, kind", [("+", "add"), ("plus", "add"), ("times", "mul"), ("*", "mul"),
                                         ("@", "matmul"), ("matmul", "matmul"), ("relu", "relu"),
                                         ("mean", "mean"), ("-", "sub"), ("transpose", "transpose"),
                                         ("ones", "tensor"), ("randn", "tensor")])
def test_quick_add_understands_what_people_type(window: MainWindow, qtbot: Any, typed: str, kind: str) -> None:
    qtbot.keyClick(window.view, Qt.Key.Key_Tab)
    qtbot.keyClicks(window.view.search.line, typed)
    qtbot.keyClick(window.view.search.line, Qt.Key.Key_Return)
    assert [node.kind for node in window.document.nodes.values()] == [kind]


def test_every_synonym_names_a_catalog_op() -> None:
    assert set(SYNONYMS) <= set(CATALOG)
    assert all(word == word.lower() for words in SYNONYMS.values() for word in words)


def test_dropping_a_node_on_a_wire_inserts_it(chain: MainWindow, qtbot: Any) -> None:
    add_node(chain.document, "s", "sigmoid", (260, 300))
    chain.undo_stack.clear()
    before = chain.document.snapshot()
    on_wire = (chain.scene.nodes["x"].output_anchor() + chain.scene.nodes["y"].input_anchor("a")) / 2
    grip = chain.scene.nodes["s"].pos() + QPointF(60, 10)
    drag(qtbot, chain, grip, on_wire)
    edges = chain.document.edges
    assert edges[("s", "input")] == Edge("x", "s", "input") and edges[("y", "a")] == Edge("s", "y", "a")
    assert chain.undo_stack.count() == 1
    assert_undo_redo(chain, before, qtbot)


def test_a_wire_lights_up_while_a_node_hovers_over_it(chain: MainWindow, qtbot: Any) -> None:
    add_node(chain.document, "s", "sigmoid", (260, 300))
    on_wire = (chain.scene.nodes["x"].output_anchor() + chain.scene.nodes["y"].input_anchor("a")) / 2
    grip = chain.scene.nodes["s"].pos() + QPointF(60, 10)
    viewport = chain.view.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(chain, grip))
    for step in range(1, 5):
        qtbot.mouseMove(viewport, viewport_point(chain, grip + (on_wire - grip) * (step / 4)))
    assert [key for key, item in chain.scene.edges.items() if item.hinted] == [("y", "a")]
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(chain, on_wire))
    assert not any(item.hinted for item in chain.scene.edges.values())


def test_a_wired_node_dropped_on_a_wire_only_moves(chain: MainWindow, qtbot: Any) -> None:
    on_wire = (chain.scene.nodes["x"].output_anchor() + chain.scene.nodes["y"].input_anchor("a")) / 2
    drag(qtbot, chain, chain.scene.nodes["z"].pos() + QPointF(60, 10), on_wire)
    assert chain.document.edges[("y", "a")] == Edge("x", "y", "a")
    assert chain.document.nodes["z"].position != (520, 0)


def test_a_palette_op_dropped_on_a_wire_is_inserted(chain: MainWindow, qtbot: Any) -> None:
    chain.undo_stack.clear()
    before = chain.document.snapshot()
    on_wire = (chain.scene.nodes["x"].output_anchor() + chain.scene.nodes["y"].input_anchor("a")) / 2
    tree = chain.palette.tree
    send_drop(chain, tree.mimeData([tree.op_item("tanh")]), viewport_point(chain, on_wire))
    [tanh] = [node for node in chain.document.nodes.values() if node.kind == "tanh"]
    assert chain.document.edges[(tanh.id, "input")] == Edge("x", tanh.id, "input")
    assert chain.document.edges[("y", "a")] == Edge(tanh.id, "y", "a")
    assert chain.undo_stack.count() == 1
    assert_undo_redo(chain, before, qtbot)


def test_new_and_quick_added_nodes_land_beside_existing_ones(chain: MainWindow, qtbot: Any) -> None:
    assert overlaps(chain) == []
    on_y = chain.scene.nodes["y"].pos() + QPointF(30, 30)
    tree = chain.palette.tree
    send_drop(chain, tree.mimeData([tree.op_item("exp")]), viewport_point(chain, on_y))
    qtbot.mouseDClick(chain.view.viewport(), Qt.MouseButton.LeftButton,
                      pos=viewport_point(chain, chain.scene.nodes["z"].pos() + QPointF(185, 10)))
    qtbot.keyClicks(chain.view.search.line, "exp")
    qtbot.keyClick(chain.view.search.line, Qt.Key.Key_Return)
    kinds = [node.kind for node in chain.document.nodes.values()]
    assert kinds.count("exp") == 2
    assert overlaps(chain) == []
    [first, _] = [node for node in chain.document.nodes.values() if node.kind == "exp"]
    assert abs(first.position[0] - on_y.x()) + abs(first.position[1] - on_y.y()) < 400  # nearby, not far off


def test_each_wire_shows_the_shape_of_its_tensor(chain: MainWindow) -> None:
    chain.workspace.refresh()
    labels = {key: item.label for key, item in chain.scene.edges.items()}
    # two is a Python number; y feeds z twice: one label says it
    assert labels == {("y", "a"): "[3]", ("y", "b"): None, ("z", "a"): "[3]", ("z", "b"): None}
    assert chain.editor.apply(SetAttribute("x", "shape", (4, 2)), "reshape x")
    chain.workspace.refresh()
    assert chain.scene.edges[("y", "a")].label == "[4, 2]" and chain.scene.edges[("z", "a")].label == "[4, 2]"


def test_the_shape_is_drawn_at_the_wires_midpoint(chain: MainWindow) -> None:
    chain.workspace.refresh()
    edge = chain.scene.edges[("y", "a")]
    middle = (chain.scene.nodes["x"].output_anchor() + chain.scene.nodes["y"].input_anchor("a")) / 2  # level wire
    area = chain.view.mapFromScene(label_rect("[3]", middle)).boundingRect()
    shown = chain.view.viewport().grab(area).toImage()
    edge.set_label(None)
    chain.view.viewport().repaint()
    bare = chain.view.viewport().grab(area).toImage()
    assert shown != bare
    assert edge.boundingRect().contains(label_rect("[3]", middle))


def test_a_crowded_canvas_puts_the_new_node_below_everything() -> None:
    document = GraphDocument()
    for i in range(40):
        for j in range(40):
            document.apply(AddNode(Node(f"n{i}_{j}", "sigmoid", f"n{i}_{j}", position=(i * 190.0, j * 100.0))))
    node = Node("q", "sigmoid", "q", position=(3000.0, 2000.0))
    node.position = free_position(document, node)
    assert node.position[1] > 39 * 100.0 + 84
    assert not any(node_rect(node).intersects(node_rect(other)) for other in document.nodes.values())


def test_the_quick_add_box_opens_above_the_overview(chain: MainWindow, qtbot: Any) -> None:
    chain.minimap.show()
    corner = chain.minimap.geometry().center()
    chain.view.open_search(chain.view.viewport().mapFrom(chain.view, corner) - QPoint(60, 60))
    search = chain.view.search
    assert search.geometry().contains(corner)
    assert search.isAncestorOf(chain.view.childAt(corner)) or chain.view.childAt(corner) is search


def test_an_insert_that_would_fail_is_refused(chain: MainWindow, qtbot: Any) -> None:
    add_node(chain.document, "t", "transpose", (260, 300))  # x is 1-D: transpose(0, 1) fails
    on_wire = (chain.scene.nodes["x"].output_anchor() + chain.scene.nodes["y"].input_anchor("a")) / 2
    drag(qtbot, chain, chain.scene.nodes["t"].pos() + QPointF(60, 10), on_wire)
    assert chain.document.edges[("y", "a")] == Edge("x", "y", "a") and ("t", "input") not in chain.document.edges
    assert "Cannot insert t: t would fail" in chain.statusBar().currentMessage()
    tree = chain.palette.tree
    send_drop(chain, tree.mimeData([tree.op_item("transpose")]), viewport_point(chain, on_wire))
    [added] = [node for node in chain.document.nodes.values() if node.kind == "transpose" and node.id != "t"]
    assert chain.document.edges[("y", "a")] == Edge("x", "y", "a")  # added, but left unwired
    assert "would fail" in chain.statusBar().currentMessage()


def test_quick_add_names_the_node_as_code_is_written(chain: MainWindow, qtbot: Any) -> None:
    """`total = +` in the quick-add box adds an Add named total; a taken name gives way to a fresh one."""
    for typed, kind, expected in (("total = +", "add", "total"), ("y = *", "mul", None)):
        chain.view.setFocus()
        qtbot.keyClick(chain.view, Qt.Key.Key_Tab)
        line = chain.view.search.line
        qtbot.keyClicks(line, typed)
        qtbot.keyClick(line, Qt.Key.Key_Return)
        [node_id] = chain.scene.selected_node_ids()
        node = chain.document.nodes[node_id]
        assert node.kind == kind
        assert node.name == expected if expected else node.name not in ("y", "")


def test_the_notes_creation_calls_find_the_tensor_node(window: MainWindow, qtbot: Any) -> None:
    """A learner types what the notes write: `x = ones` in quick-add makes their x (a Tensor named x, whose
    defaults are ones(3)), and `randn` in the palette's filter leaves the Tensor op to drag."""
    qtbot.keyClick(window.view, Qt.Key.Key_Tab)
    qtbot.keyClicks(window.view.search.line, "x = ones")
    qtbot.keyClick(window.view.search.line, Qt.Key.Key_Return)
    [node] = window.document.nodes.values()
    assert (node.kind, node.name, node.attributes["init"], node.attributes["shape"]) == ("tensor", "x", "ones", (3,))
    qtbot.keyClicks(window.palette.filter, "randn")
    tree = window.palette.tree
    shown = [tree.topLevelItem(i).child(j).text(0) for i in range(tree.topLevelItemCount())
             for j in range(tree.topLevelItem(i).childCount()) if not tree.topLevelItem(i).child(j).isHidden()]
    assert shown == ["Tensor"]
