"""The window's furniture: object names of the testing contract, palette, panels, menus, history, themes."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QAction, QContextMenuEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QGraphicsView, QLabel, QUndoView, QWidget
from ui_helpers import DialogRecorder, click

from gradstudio.model.catalog import CATALOG, CATEGORIES
from gradstudio.ui.canvas.edge_items import bezier
from gradstudio.ui.canvas.view import OP_MIME
from gradstudio.ui.main_window import MainWindow
from gradstudio.ui.panels import PANELS

WIDGETS = ["canvas", "palette", "inspector", "valuesPanel", "codePanel", "trainPanel"]
ACTIONS = ("actionNew actionOpen actionSave actionSaveAs actionUndo actionRedo actionBackward actionStepBackward "
           "actionZeroGrad actionNoGrad actionAutoLayout actionFitView actionFitSelection actionExportImage "
           "actionExportCode actionImportCode").split()


@pytest.mark.parametrize("name", WIDGETS)
def test_widgets_have_the_contracts_object_names(window: MainWindow, name: str) -> None:
    [widget] = window.findChildren(QWidget, name)
    assert isinstance(widget, QGraphicsView if name == "canvas" else QDockWidget)


@pytest.mark.parametrize("name", ACTIONS)
def test_actions_have_the_contracts_object_names(window: MainWindow, name: str) -> None:
    [action] = [a for a in window.findChildren(QAction) if a.objectName() == name]
    assert action.text()


def test_import_code_is_no_longer_a_coming_item(window: MainWindow) -> None:
    action = window.actions.actionImportCode
    assert action.isEnabled() and "PyTorch code" in action.toolTip()


def test_standard_shortcuts(window: MainWindow) -> None:
    shortcuts = {name: [key.toString() for key in action.shortcuts()] for name, action in window.actions.all.items()}
    assert "Ctrl+S" in shortcuts["actionSave"] and "Ctrl+Z" in shortcuts["actionUndo"]
    assert {"Del", "Backspace"} <= set(shortcuts["actionDelete"])
    assert shortcuts["actionDuplicate"] == ["Ctrl+D"] and shortcuts["actionFitView"] == ["F"]
    assert shortcuts["actionFitSelection"] == ["Shift+F"]
    assert {"Ctrl+Shift+Z", "Ctrl+Y"} <= set(shortcuts["actionRedo"])


def test_ctrl_y_redoes(chain: MainWindow, qtbot: Any) -> None:
    chain.scene.select(["w"])
    chain.actions.actionDelete.trigger()
    qtbot.keyClick(chain.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "w" in chain.document.nodes
    qtbot.keyClick(chain.view, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert "w" not in chain.document.nodes


def test_palette_lists_every_op_by_category_with_tool_tips(window: MainWindow) -> None:
    tree = window.palette.tree
    groups = [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]
    assert groups == list(CATEGORIES)
    for kind, spec in CATALOG.items():
        item = tree.op_item(kind)
        assert item.parent().text(0) == spec.category
        assert spec.doc in item.toolTip(0)


def test_palette_filter(window: MainWindow, qtbot: Any) -> None:
    qtbot.keyClicks(window.palette.filter, "soft")
    tree = window.palette.tree
    shown = [tree.topLevelItem(i).child(j).data(0, Qt.ItemDataRole.UserRole)
             for i in range(tree.topLevelItemCount()) for j in range(tree.topLevelItem(i).childCount())
             if not tree.topLevelItem(i).child(j).isHidden()]
    assert set(shown) == {"softmax", "log_softmax", "softplus", "cross_entropy"}
    assert tree.topLevelItem(CATEGORIES.index("Shape")).isHidden()


def test_palette_drags_the_op_kind(window: MainWindow) -> None:
    mime = window.palette.tree.mimeData([window.palette.tree.op_item("matmul")])
    assert bytes(mime.data(OP_MIME).data()).decode("utf-8") == "matmul"
    assert window.palette.tree.mimeTypes() == [OP_MIME]


def test_palette_double_click_adds_at_the_centre(window: MainWindow, qtbot: Any) -> None:
    tree = window.palette.tree
    item = tree.op_item("exp")
    tree.scrollToItem(item)
    spot = tree.visualItemRect(item).center()
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=spot)  # item views act on a pressed item
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    [node] = window.document.nodes.values()
    assert node.kind == "exp" and window.scene.selected_node_ids() == [node.id]


def test_selection_shows_in_inspector_and_values(chain: MainWindow, qtbot: Any) -> None:
    click(qtbot, chain, chain.scene.nodes["z"].scenePos() + QPointF(40, 10))
    assert "tensor([9., 9., 9.], grad_fn=<MulBackward0>)" in chain.values_panel.value_view.text.toPlainText()
    labels = chain.inspector.findChildren(QLabel)
    assert any("<b>z</b>" in label.text() for label in labels)


def test_no_grad_toggle_is_undoable_and_follows_undo(chain: MainWindow) -> None:
    action = chain.actions.actionNoGrad
    action.trigger()
    assert chain.document.settings.grad_mode == "no_grad"
    chain.workspace.refresh()
    assert chain.workspace.results()["z"].value.grad_fn is None
    chain.undo_stack.undo()
    assert chain.document.settings.grad_mode == "normal" and not action.isChecked()


def test_history_view(window: MainWindow) -> None:
    window.actions.actionHistory.trigger()
    assert window.history.isVisible()
    assert isinstance(window.history.widget(), QUndoView)
    assert window.history.widget().stack() is window.undo_stack


def test_node_context_menu_rename(chain: MainWindow, dialogs: DialogRecorder) -> None:
    menu = chain.context_menus.build(chain.scene.nodes["y"], QPointF())
    dialogs.answers["getText"] = ("hidden", True)
    [rename] = [a for a in menu.actions() if a.text() == "&Rename…"]
    rename.trigger()
    assert chain.document.nodes["y"].name == "hidden"
    dialogs.answers["getText"] = ("z", True)
    rename.trigger()
    assert chain.document.nodes["y"].name == "hidden"
    assert "already used" in chain.statusBar().currentMessage()


def test_edge_and_canvas_context_menus(chain: MainWindow) -> None:
    edge_menu = chain.context_menus.build(chain.scene.edges[("z", "b")], QPointF())
    [disconnect] = edge_menu.actions()
    disconnect.trigger()
    assert ("z", "b") not in chain.document.edges
    canvas_menu = chain.context_menus.build(None, QPointF(10, 10))
    texts = [action.text() for action in canvas_menu.actions()]
    assert "Add &Node…" in texts and "&Paste" in texts and "Auto &Layout" in texts


def test_theme_switch_repaints_in_dark(window: MainWindow) -> None:
    window.actions.actionThemeDark.trigger()
    assert window.scene.theme.name == "dark" and window.settings.theme() == "dark"
    window.actions.actionThemeLight.trigger()
    assert window.scene.theme.name == "light"


def right_click_menu(window: MainWindow, scene_point: QPointF) -> list[str]:
    """Send a real context-menu event to the canvas at a scene point; the entries of the menu that pops up."""
    viewport = window.view.viewport()
    at = window.view.mapFromScene(scene_point)
    entries: list[str] = []

    def read_and_close() -> None:
        menu = QApplication.activePopupWidget()
        entries.extend(action.text() for action in menu.actions() if action.text())
        menu.close()

    QTimer.singleShot(0, read_and_close)
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, viewport.mapToGlobal(at)))
    return entries


def test_right_click_opens_the_menu_of_what_is_under_the_mouse(chain: MainWindow) -> None:
    chain.scene.select(["x"])
    node_menu = right_click_menu(chain, chain.scene.nodes["y"].scenePos() + QPointF(40, 10))
    assert "&Rename…" in node_menu and "&Delete" in node_menu
    assert chain.scene.selected_node_ids() == ["y"]
    nodes = chain.scene.nodes
    middle = bezier(nodes["y"].output_anchor(), nodes["z"].input_anchor("b")).pointAtPercent(0.5)
    assert right_click_menu(chain, middle) == ["&Disconnect"]
    assert chain.scene.selected_edges() == [chain.document.edges[("z", "b")]]
    canvas_menu = right_click_menu(chain, QPointF(-300, -300))
    assert "Add &Node…" in canvas_menu and "&Paste" in canvas_menu


def test_docks_open_at_their_entries_widths(window: MainWindow) -> None:
    """The side docks open at their entries' widths: the Lesson panel's (a tab made when first shown) does not go
    to the inspector's column, which left the canvas too narrow to show the notes' example whole at 1366x768."""
    widths = {entry.attribute: entry.size for entry in PANELS if entry.tab_with is None
              and entry.area != Qt.DockWidgetArea.BottomDockWidgetArea and entry.size is not None}
    QApplication.processEvents()
    assert {name: getattr(window, name).width() for name in widths} == widths
    window.lesson_panel.show()
    QApplication.processEvents()
    assert window.lesson_panel.width() == next(entry.size for entry in PANELS if entry.attribute == "lesson_panel")
