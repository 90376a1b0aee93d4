"""Context menus of the canvas: on a node, an edge, a note or frame, and on empty canvas."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF
from PySide6.QtWidgets import QGraphicsItem, QMenu

from gradstudio.model.annotations import FRAME_GRAD_MODES
from gradstudio.model.grad_regions import MODE_LABELS, SetFrameGradMode
from gradstudio.model.lesson import GRAD, VALUE
from gradstudio.ui.backward.tools import BackwardTools
from gradstudio.ui.canvas.annotation_items import AnnotationItem, FrameItem
from gradstudio.ui.canvas.edge_items import EdgeItem
from gradstudio.ui.canvas.items import NodeItem
from gradstudio.ui.canvas.view import GraphView
from gradstudio.ui.edit.selection import SelectionCommands
from gradstudio.ui.panels.lesson_fields import lesson_edit
from gradstudio.ui.workspace import Workspace


class ContextMenus:
    """Builds the canvas's context menus from the window's actions and the commands they call."""

    def __init__(self, actions: object, canvas: GraphView, commands: SelectionCommands, tools: BackwardTools) -> None:
        self.actions = actions
        self.canvas = canvas
        self.commands = commands
        self.tools = tools
        self.workspace: Workspace | None = None

    def bind(self, workspace: Workspace) -> None:
        """Build menus for `workspace` from now on."""
        self.workspace = workspace

    def build(self, item: QGraphicsItem | None, at: QPointF) -> QMenu:
        """The menu for `item` (None: empty canvas at scene point `at`)."""
        menu = QMenu(self.canvas)
        actions = self.actions
        if item is not None and not item.isSelected():
            self.canvas.scene().clearSelection()
            item.setSelected(True)
        if isinstance(item, NodeItem):
            self._node_menu(menu, item)
        elif isinstance(item, EdgeItem):
            menu.addAction("&Disconnect", lambda: self.workspace.editor.disconnect(item.edge))
        elif isinstance(item, AnnotationItem):
            menu.addAction("&Edit Text…", item.edit_text)
            if isinstance(item, FrameItem):
                self._grad_mode_menu(menu, item)
            menu.addAction(actions.actionDelete)
        else:
            menu.addAction("Add &Node…", lambda: self.canvas.open_search(self.canvas.mapFromScene(at)))
            menu.addAction("Add &Note Here", lambda: self.commands.add_note(at))
            menu.addAction(actions.actionAddFrame)
            menu.addAction(actions.actionPaste)
            menu.addSeparator()
            menu.addActions([actions.actionSelectAll, actions.actionFitView, actions.actionAutoLayout])
        return menu

    def _grad_mode_menu(self, menu: QMenu, item: FrameItem) -> None:
        """A submenu making the frame a plain frame or a no_grad / enable_grad / inference_mode block."""
        modes = menu.addMenu("&Grad Mode")
        modes.setObjectName("frameGradModeMenu")
        frame = item.annotation
        for mode in FRAME_GRAD_MODES:
            action = modes.addAction(MODE_LABELS[mode], lambda mode=mode: self.workspace.editor.apply(
                SetFrameGradMode(frame.id, mode), "Set Frame Grad Mode"))
            action.setCheckable(True)
            action.setChecked(frame.grad_mode == mode)
            action.setObjectName(f"frameGradMode_{mode}")

    def _node_menu(self, menu: QMenu, item: NodeItem) -> None:
        node = item.node
        commands = self.commands
        menu.addAction("&Rename…", lambda: commands.rename(node.id))
        target = menu.addAction("Use as &Backward Target", lambda: commands.set_backward_target(node.id))
        target.setEnabled(self.workspace.document.settings.backward_target != node.id)
        retain = menu.addAction("Retain &Grad", lambda: commands.toggle_retain_grad(node.id))
        retain.setCheckable(True)
        retain.setChecked(node.retain_grad)
        self._gradient_entries(menu, item)
        self._lesson_entries(menu, item)
        menu.addSeparator()
        a = self.actions
        menu.addActions([a.actionCut, a.actionCopy, a.actionDuplicate, a.actionAddFrame, a.actionDelete])

    def _gradient_entries(self, menu: QMenu, item: NodeItem) -> None:
        """requires_grad (leaves), Backward from here (enabled even under no_grad, to show PyTorch's error), .grad."""
        node = item.node
        controller = self.tools.controller
        if node.kind == "tensor":
            requires = menu.addAction("requires_grad", lambda: controller.set_requires_grad(
                node.id, not node.attributes["requires_grad"]))
            requires.setCheckable(True)
            requires.setChecked(bool(node.attributes["requires_grad"]))
        menu.addAction("&Backward from Here", lambda: controller.run(node.id))
        printing = menu.addAction(f"Print {node.name}.grad", lambda: controller.read_grad(node.id))
        printing.setEnabled(not self.workspace.lesson.masks(node.id, "grad"))
        menu.addAction("Check Gradient…", lambda: self.tools.check_gradient(node.id))

    def _lesson_entries(self, menu: QMenu, item: NodeItem) -> None:
        """Hide Value / Hide Gradient for the lesson's author (a learner playing it does not see them)."""
        if self.workspace.lesson.playing:
            return
        node = item.node
        menu.addSeparator()
        for kind, text in ((VALUE, "Hide &Value (Lesson)"), (GRAD, "Hide Gra&dient (Lesson)")):
            action = menu.addAction(text, lambda kind=kind: self._toggle_hidden(node.id, kind))
            action.setObjectName(f"hide_{kind}")
            action.setCheckable(True)
            action.setChecked(kind in node.hidden)

    def _toggle_hidden(self, node_id: str, kind: str) -> None:
        node = self.workspace.document.nodes.get(node_id)
        if node is not None:
            edit, text = lesson_edit(node, f"hide_{kind}", kind not in node.hidden)
            self.workspace.editor.apply(edit, text)

    def show(self, item: QGraphicsItem | None, at: QPointF, where: QPoint) -> None:
        """Build the menu for `item` and show it at global position `where`."""
        self.build(item, at).exec(where)
