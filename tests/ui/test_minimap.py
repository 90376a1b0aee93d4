"""The overview: small, translucent, collapsible, up to date with the scene, shown only when it helps."""

from __future__ import annotations

from typing import Any

from backward_helpers import click_toolbar, item, open_example
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from gradstudio.ui.canvas import requires_grad_face as face
from gradstudio.ui.canvas.minimap import Minimap
from gradstudio.ui.main_window import MainWindow


def zoomed_in(window: MainWindow, qtbot: Any) -> Minimap:
    """The window zoomed in on its graph, so the overview shows; the overview settled."""
    window.view.zoom_at(2.5, window.view.viewport().rect().center())
    window.minimap.refit()
    qtbot.waitUntil(window.minimap.isVisible, timeout=2000)
    return window.minimap


def picture(minimap: Minimap) -> QImage:
    """The overview's current snapshot."""
    return minimap._picture.toImage()


def test_hidden_on_an_empty_canvas(window: MainWindow, qtbot: Any) -> None:
    window.minimap.refit()
    qtbot.wait(300)
    assert not window.minimap.isVisible()


def test_hidden_while_the_whole_graph_is_in_view_shown_when_not(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    window.actions.actionFitView.trigger()
    window.minimap.refit()
    assert not window.minimap.isVisible()
    zoomed_in(window, qtbot)
    window.actions.actionFitView.trigger()
    assert not window.minimap.isVisible()


def test_small_translucent_and_collapsible(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "xor_mlp")
    minimap = zoomed_in(window, qtbot)
    assert minimap.width() <= 170 and minimap.height() <= 110
    assert picture(minimap).pixelColor(1, 1).alpha() < 255
    corner = minimap.button_rect().center().toPoint()
    qtbot.mouseClick(minimap, Qt.MouseButton.LeftButton, pos=corner)
    assert minimap.collapsed and minimap.width() <= 24 and minimap.isVisible()
    qtbot.mouseClick(minimap, Qt.MouseButton.LeftButton, pos=QPoint(8, 8))
    assert not minimap.collapsed and minimap.width() > 100


def test_follows_a_requires_grad_click_and_no_grad(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_requires_grad_false")
    minimap = zoomed_in(window, qtbot)
    x = item(window, "x")
    window.view.centerOn(x)
    before = picture(minimap)
    point = window.view.mapFromScene(x.mapToScene(face.checkbox_rect(x).center()))
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    qtbot.waitUntil(lambda: picture(minimap) != before, timeout=2000)
    before = picture(minimap)
    click_toolbar(qtbot, window, window.actions.actionNoGrad)
    qtbot.waitUntil(lambda: picture(minimap) != before, timeout=2000)


def test_follows_a_rename_and_a_paste(window: MainWindow, qtbot: Any, dialogs: Any) -> None:
    open_example(window, "notes_forward_backward")
    minimap = zoomed_in(window, qtbot)
    before = picture(minimap)
    dialogs.answers["getText"] = ("a_much_longer_name", True)
    window.commands.rename(item(window, "y").node.id)
    qtbot.waitUntil(lambda: picture(minimap) != before, timeout=2000)
    before = picture(minimap)
    window.scene.select([item(window, "out").node.id])
    qtbot.keyClick(window.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window.view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: picture(minimap) != before, timeout=2000)


def test_an_idle_canvas_is_not_redrawn_over_and_over(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "xor_mlp")
    minimap = zoomed_in(window, qtbot)
    qtbot.wait(600)  # the redraw resets the items' caches: that must not count as a change of the scene
    pictures = set()
    for _ in range(8):
        qtbot.wait(100)
        pictures.add(minimap._picture.cacheKey())
    assert len(pictures) == 1


def test_no_redraw_while_a_job_runs_and_one_when_it_ends(window: MainWindow, qtbot: Any) -> None:
    """Values changing under a training run leave the overview alone; it catches up once the run ends."""
    open_example(window, "xor_mlp")
    minimap = zoomed_in(window, qtbot)
    qtbot.wait(400)
    before = minimap._picture.cacheKey()
    window.workspace.set_busy("a training run is using the graph")
    for _ in range(3):
        window.workspace.values_changed.emit()
        qtbot.wait(350)  # longer than the overview's settling delay each time
    assert minimap._picture.cacheKey() == before
    window.workspace.set_busy(None)
    qtbot.waitUntil(lambda: minimap._picture.cacheKey() != before, timeout=2000)
