"""Context menus of the canvas: on a node, an edge, a note or frame, and on empty canvas."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QPointF
from PySide6.QtWidgets import QGraphicsItem, QMenu

from gradstudio.ui.canvas.annotation_items import AnnotationItem
from gradstudio.ui.canvas.items import EdgeItem, NodeItem

if TYPE_CHECKING:
    from gradstudio.ui.main_window import MainWindow


def build_context_menu(window: MainWindow, item: QGraphicsItem | None, at: QPointF) -> QMenu:
    """The menu for `item` (None: empty canvas at scene point `at`)."""
    menu = QMenu(window)
    actions = window.actions
    if item is not None and not item.isSelected():
        window.scene.clearSelection()
        item.setSelected(True)
    if isinstance(item, NodeItem):
        _node_menu(window, menu, item)
    elif isinstance(item, EdgeItem):
        menu.addAction("&Disconnect", lambda: window.editor.disconnect(item.edge))
    elif isinstance(item, AnnotationItem):
        menu.addAction("&Edit Text…", item.edit_text)
        menu.addAction(actions.actionDelete)
    else:
        menu.addAction("Add &Node…", lambda: window.view.open_search(window.view.mapFromScene(at)))
        menu.addAction("Add &Note Here", lambda: window.editing.add_note(at))
        menu.addAction(actions.actionAddFrame)
        menu.addAction(actions.actionPaste)
        menu.addSeparator()
        menu.addActions([actions.actionSelectAll, actions.actionFitView, actions.actionAutoLayout])
    return menu


def _node_menu(window: MainWindow, menu: QMenu, item: NodeItem) -> None:
    node = item.node
    editing = window.editing
    menu.addAction("&Rename…", lambda: editing.rename(node.id))
    target = menu.addAction("Use as &Backward Target", lambda: editing.set_backward_target(node.id))
    target.setEnabled(window.document.settings.backward_target != node.id)
    retain = menu.addAction("Retain &Grad", lambda: editing.toggle_retain_grad(node.id))
    retain.setCheckable(True)
    retain.setChecked(node.retain_grad)
    _gradient_entries(window, menu, item)
    menu.addSeparator()
    menu.addActions([window.actions.actionCut, window.actions.actionCopy, window.actions.actionDuplicate,
                     window.actions.actionAddFrame, window.actions.actionDelete])


def _gradient_entries(window: MainWindow, menu: QMenu, item: NodeItem) -> None:
    """requires_grad (leaves), Backward from here (enabled even under no_grad, to show PyTorch's error), .grad."""
    node = item.node
    tools = window.backward_tools
    if node.kind == "tensor":
        requires = menu.addAction("requires_grad", lambda: tools.controller.set_requires_grad(
            node.id, not node.attributes["requires_grad"]))
        requires.setCheckable(True)
        requires.setChecked(bool(node.attributes["requires_grad"]))
    menu.addAction("&Backward from Here", lambda: tools.controller.run(node.id))
    menu.addAction(f"Print {node.name}.grad", lambda: tools.controller.read_grad(node.id))
    menu.addAction("Check Gradient…", lambda: tools.check_gradient(node.id))


def show_context_menu(window: MainWindow, item: QGraphicsItem | None, at: QPointF, where: QPoint) -> None:
    """Build the menu for `item` and show it at global position `where`."""
    build_context_menu(window, item, at).exec(where)
