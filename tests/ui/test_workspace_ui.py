"""One owner per open graph: panels bind to the window's workspace and follow its signals, nothing else."""

from __future__ import annotations

from typing import Any

from backward_helpers import badge, click_node, click_toolbar, node_id, open_example, press_backward
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gradstudio.model.document import GraphDocument
from gradstudio.ui.main_window import MainWindow
from gradstudio.ui.panels import PANELS
from gradstudio.ui.panels.base import PanelDock


def settle() -> None:
    """Let queued refreshes run, as the event loop would between two user actions."""
    for _ in range(3):
        QApplication.processEvents()


def add_from_palette(qtbot: Any, window: MainWindow, kind: str) -> None:
    """Double-click an op in the palette (it lands at the canvas centre)."""
    tree = window.palette.tree
    item = tree.op_item(kind)
    tree.scrollToItem(item)
    spot = tree.visualItemRect(item).center()
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=spot)  # item views act on a pressed item
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=spot)


def test_zero_grad_after_an_unrelated_edit_clears_the_values_panel(window: MainWindow, qtbot: Any) -> None:
    notes = open_example(window, "notes_forward_backward")
    press_backward(qtbot, notes)  # from the backward target, out
    click_node(qtbot, notes, "x")
    settle()
    x = node_id(notes, "x")
    assert notes.values_panel.grad_view.value.tolist() == [6.0, 6.0, 6.0]
    nodes_before = len(notes.document.nodes)
    add_from_palette(qtbot, notes, "exp")  # unrelated to x: the backward display goes, x.grad stays
    settle()
    assert len(notes.document.nodes) == nodes_before + 1
    click_node(qtbot, notes, "x")
    settle()
    assert notes.values_panel.grad_view.value.tolist() == [6.0, 6.0, 6.0]
    click_toolbar(qtbot, notes, notes.actions.actionZeroGrad)
    settle()
    assert notes.workspace.model.grad(x) is None
    assert notes.values_panel.grad_view.value is None
    assert notes.values_panel.gradient.title == "x.grad" and "run Backward" in notes.values_panel.gradient.note
    assert badge(notes, "x", "grad") is None


def test_every_registered_panel_is_docked_bound_and_listed(window: MainWindow) -> None:
    panels_menu = next(action.menu() for action in window.menuBar().actions() if action.text() == "&View")
    listed = {action.text() for sub in panels_menu.actions() if sub.menu() is not None
              for action in sub.menu().actions()}
    for entry in PANELS:
        dock = getattr(window, entry.attribute)
        assert isinstance(dock, PanelDock) and dock.workspace is window.workspace
        assert dock.toggleViewAction().text() in listed


def test_opening_another_document_rebinds_every_panel_and_lets_the_old_one_go(window: MainWindow) -> None:
    old = window.workspace
    window.set_document(GraphDocument())
    assert window.workspace is not old
    assert all(dock.workspace is window.workspace for dock in window.panels.values())
    assert window.undo_group.activeStack() is window.workspace.undo_stack
    assert old.undo_stack not in window.undo_group.stacks()
    old.values_changed.emit()  # a closed workspace signals nothing
    assert window.inspector.workspace is window.workspace


def test_undo_of_no_grad_syncs_the_toggle_and_banner_through_settings_changed(window: MainWindow,
                                                                             qtbot: Any) -> None:
    notes = open_example(window, "notes_forward_backward")
    click_toolbar(qtbot, notes, notes.actions.actionNoGrad)
    assert notes.actions.actionNoGrad.isChecked() and notes.banner.isVisible()
    assert not notes.actions.actionBackward.isEnabled()
    click_toolbar(qtbot, notes, notes.actions.actionUndo)
    assert not notes.actions.actionNoGrad.isChecked() and not notes.banner.isVisible()
    assert notes.actions.actionBackward.isEnabled()


def test_selection_reaches_the_workspace_and_the_panels(window: MainWindow, qtbot: Any) -> None:
    notes = open_example(window, "notes_forward_backward")
    click_node(qtbot, notes, "z")
    z = node_id(notes, "z")
    assert notes.workspace.selection == [z]
    assert notes.inspector.node.id == z and notes.values_panel.node.id == z
    assert notes.workspace.backward_start() == z
