"""Zoom, fit, pan, the overview and auto-layout on the canvas."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication
from ui_helpers import drag

from gradstudio.model.edits import MoveNode
from gradstudio.ui.main_window import MainWindow


def wheel(window: MainWindow, at: QPoint, delta: int) -> None:
    """Turn the mouse wheel over the canvas viewport."""
    event = QWheelEvent(QPointF(at), QPointF(window.view.viewport().mapToGlobal(at)), QPoint(), QPoint(0, delta),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(window.view.viewport(), event)


def test_wheel_zooms_around_the_cursor(chain: MainWindow) -> None:
    view = chain.view
    at = QPoint(150, 120)
    under = view.mapToScene(at)
    wheel(chain, at, 240)
    assert view.zoom() > 1.2
    after = view.mapToScene(at)
    assert abs(after.x() - under.x()) < 2 and abs(after.y() - under.y()) < 2
    wheel(chain, at, -480)
    assert view.zoom() < 1.0
    assert chain.zoom_label.text() == f"{view.zoom():.0%}"


def test_zoom_keys(chain: MainWindow, qtbot: Any) -> None:
    view = chain.view
    qtbot.keyClick(view, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == 1.25
    qtbot.keyClick(view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert abs(view.zoom() - 0.8) < 1e-9
    qtbot.keyClick(view, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom() == 1.0


def test_zoom_is_bounded(chain: MainWindow) -> None:
    for _ in range(40):
        chain.view.zoom_in()
    assert chain.view.zoom() == 4.0
    for _ in range(80):
        chain.view.zoom_out()
    assert abs(chain.view.zoom() - 0.05) < 1e-9


def test_fit_view_with_f_shows_the_whole_graph(chain: MainWindow, qtbot: Any) -> None:
    view = chain.view
    view.zoom_at(3.0)
    view.centerOn(QPointF(5000, 5000))
    before = view.transform()
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert view.transform() != before
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    for item in chain.scene.nodes.values():
        assert visible.contains(item.sceneBoundingRect())


def test_fit_view_fits_the_whole_graph_even_with_a_selection(chain: MainWindow, qtbot: Any) -> None:
    chain.view.zoom_at(3.0)
    chain.scene.select(["z"])
    qtbot.keyClick(chain.view, Qt.Key.Key_F)
    visible = chain.view.mapToScene(chain.view.viewport().rect()).boundingRect()
    assert all(visible.contains(item.sceneBoundingRect()) for item in chain.scene.nodes.values())


def test_fit_selection_is_its_own_action_on_shift_f(chain: MainWindow, qtbot: Any) -> None:
    [view_menu] = [action.menu() for action in chain.menuBar().actions() if action.text() == "&View"]
    assert chain.actions.actionFitSelection in view_menu.actions()
    assert [key.toString() for key in chain.actions.actionFitSelection.shortcuts()] == ["Shift+F"]
    chain.view.zoom_at(0.1)
    chain.scene.select(["z"])
    qtbot.keyClick(chain.view, Qt.Key.Key_F, Qt.KeyboardModifier.ShiftModifier)
    assert chain.view.zoom() == 1.0
    centre = chain.view.mapToScene(chain.view.viewport().rect().center())
    target = chain.scene.nodes["z"].sceneBoundingRect().center()
    assert abs(centre.x() - target.x()) <= 1 and abs(centre.y() - target.y()) <= 1


def test_far_away_nodes_stay_reachable(chain: MainWindow, qtbot: Any) -> None:
    chain.editor.apply(MoveNode("w", (90_000.0, -70_000.0)), "far away")
    qtbot.waitUntil(lambda: chain.view.sceneRect().contains(QPointF(90_000, -70_000)), timeout=2000)
    chain.scene.select(["w"])
    qtbot.keyClick(chain.view, Qt.Key.Key_F, Qt.KeyboardModifier.ShiftModifier)
    visible = chain.view.mapToScene(chain.view.viewport().rect()).boundingRect()
    assert visible.contains(chain.scene.nodes["w"].sceneBoundingRect())


def test_middle_drag_pans(chain: MainWindow, qtbot: Any) -> None:
    view = chain.view
    viewport = view.viewport()
    start = view.mapToScene(QPoint(200, 200))
    qtbot.mousePress(viewport, Qt.MouseButton.MiddleButton, pos=QPoint(200, 200))
    qtbot.mouseMove(viewport, QPoint(260, 230))
    qtbot.mouseRelease(viewport, Qt.MouseButton.MiddleButton, pos=QPoint(260, 230))
    moved = view.mapToScene(QPoint(200, 200))
    assert (round(start.x() - moved.x()), round(start.y() - moved.y())) == (60, 30)
    assert chain.undo_stack.count() == 0


def test_space_drag_pans_even_over_a_node(chain: MainWindow, qtbot: Any) -> None:
    view = chain.view
    node = chain.scene.nodes["y"]
    grip = node.scenePos() + QPointF(40, 10)
    before = view.mapFromScene(grip)
    qtbot.keyPress(view, Qt.Key.Key_Space)
    drag(qtbot, chain, grip, grip + QPointF(50, 0), steps=1)
    qtbot.keyRelease(view, Qt.Key.Key_Space)
    assert chain.document.nodes["y"].position == (260.0, 0.0)
    assert view.mapFromScene(grip).x() - before.x() == 50


def test_space_released_elsewhere_stops_panning(chain: MainWindow, qtbot: Any) -> None:
    qtbot.keyPress(chain.view, Qt.Key.Key_Space)
    chain.palette.filter.setFocus()
    qtbot.waitUntil(lambda: not chain.view.hasFocus())
    qtbot.keyRelease(chain.palette.filter, Qt.Key.Key_Space)
    grip = chain.scene.nodes["y"].scenePos() + QPointF(40, 10)
    drag(qtbot, chain, grip, grip + QPointF(60, 0))
    assert chain.document.nodes["y"].position == (320.0, 0.0)


def test_overview_shows_the_whole_graph(chain: MainWindow) -> None:
    minimap = chain.minimap
    chain.view.zoom_at(3.0)  # part of the graph out of view: the overview shows
    minimap.refit()
    assert minimap.isVisible()
    top_left, bottom_right = minimap.to_scene(QPointF(0, 0)), minimap.to_scene(QPointF(minimap.rect().bottomRight()))
    seen = QRectF(top_left, bottom_right)
    assert seen.contains(chain.scene.itemsBoundingRect())
    chain.actions.actionMinimap.trigger()
    assert not minimap.isVisible() and not chain.settings.show_minimap()


def test_overview_redraws_once_the_graph_settles(chain: MainWindow, qtbot: Any) -> None:
    minimap = chain.minimap
    minimap.refit()
    before = minimap._source
    chain.editor.apply(MoveNode("w", (0.0, 2000.0)), "far away")
    qtbot.waitUntil(lambda: minimap._source != before, timeout=2000)
    assert minimap._source.contains(QPointF(0, 2000))


def test_clicking_the_overview_moves_the_view(chain: MainWindow, qtbot: Any) -> None:
    minimap = chain.minimap
    chain.view.zoom_at(3.0)
    minimap.refit()
    spot = minimap.rect().center()
    qtbot.mouseClick(minimap, Qt.MouseButton.LeftButton, pos=spot)
    centre = chain.view.mapToScene(chain.view.viewport().rect().center())
    expected = minimap.to_scene(QPointF(spot))
    assert abs(centre.x() - expected.x()) < 2 and abs(centre.y() - expected.y()) < 2


def test_auto_layout_is_one_undo_step_in_columns(chain: MainWindow, qtbot: Any) -> None:
    for node_id in chain.document.nodes:
        chain.editor.apply(MoveNode(node_id, (0.0, 0.0)), "stack")
    before = chain.document.snapshot()
    steps = chain.undo_stack.count()
    chain.actions.actionAutoLayout.trigger()
    assert chain.undo_stack.count() == steps + 1
    positions = {node_id: node.position for node_id, node in chain.document.nodes.items()}
    assert positions["x"][0] < positions["y"][0] < positions["z"][0]
    rects = [item.sceneBoundingRect().adjusted(3, 3, -3, -3) for item in chain.scene.nodes.values()]
    assert not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1:])
    chain.undo_stack.undo()
    assert chain.document.snapshot() == before


def test_auto_layout_of_the_selection_leaves_the_rest_alone(chain: MainWindow, qtbot: Any) -> None:
    for node_id in ("x", "two", "y"):
        chain.editor.apply(MoveNode(node_id, (600.0, 400.0)), "stack")
    before = chain.document.snapshot()
    chain.scene.select(["x", "two", "y"])
    qtbot.keyClick(chain.view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    nodes = chain.document.nodes
    assert (nodes["z"].position, nodes["w"].position) == ((520.0, 0.0), (0.0, 300.0))
    assert nodes["x"].position[0] == nodes["two"].position[0] < nodes["y"].position[0]
    assert min(nodes[n].position[0] for n in ("x", "two", "y")) == 600.0
    chain.undo_stack.undo()
    assert chain.document.snapshot() == before
