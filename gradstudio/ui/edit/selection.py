"""Edit commands on the selection: delete, cut, copy, paste, duplicate, annotate, lay out, rename."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtWidgets import QInputDialog

from gradstudio.model.annotations import AddAnnotation, Annotation
from gradstudio.model.document import EditError, RenameNode, SetRetainGrad, SetSetting
from gradstudio.model.io.fileschema import GraphFileError
from gradstudio.model.io.fragment import fragment, paste_edit, read_fragment
from gradstudio.model.layout import layered_positions
from gradstudio.ui.canvas.items import WIDTH
from gradstudio.ui.edit import clipboard

if TYPE_CHECKING:
    from gradstudio.ui.canvas.scene import GraphScene
    from gradstudio.ui.main_window import MainWindow

FRAME_MARGIN = 30.0
FRAME_TITLE_SPACE = 30.0


class EditingController:
    """The Edit and Graph menu commands that act on the canvas selection."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window

    @property
    def scene(self) -> GraphScene:
        """The window's current scene (it changes with the document)."""
        return self.window.scene

    # ----- delete, clipboard, duplicate --------------------------------------------------------------------------

    def delete_selection(self) -> bool:
        """Delete the selected nodes, edges, notes and frames as one undo step."""
        scene = self.scene
        return self.window.editor.delete(scene.selected_node_ids(), scene.selected_edges(),
                                         scene.selected_annotation_ids())

    def _selection_fragment(self) -> dict | None:
        scene = self.scene
        nodes, annotations = scene.selected_node_ids(), scene.selected_annotation_ids()
        if not nodes and not annotations:
            self.window.show_message("Nothing selected")
            return None
        return fragment(self.window.document, nodes, annotations)

    def copy(self) -> bool:
        """Copy the selection to the clipboard as a graph fragment."""
        data = self._selection_fragment()
        if data is not None:
            clipboard.copy_to_clipboard(data)
        return data is not None

    def cut(self) -> bool:
        """Copy the selection, then delete it."""
        return self.copy() and self.delete_selection()

    def paste(self) -> bool:
        """Paste the clipboard's fragment with fresh ids and names, offset from the original."""
        data = clipboard.from_clipboard()
        if data is None:
            self.window.show_message("The clipboard holds no graph nodes")
            return False
        return self._insert(data, "Paste")

    def duplicate(self) -> bool:
        """Copy and paste the selection in one step, without touching the clipboard."""
        data = self._selection_fragment()
        return data is not None and self._insert(data, "Duplicate")

    def _insert(self, data: dict, text: str) -> bool:
        try:
            edit, new_ids = paste_edit(self.window.document, read_fragment(data))
        except (GraphFileError, EditError) as error:
            self.window.show_message(f"{text}: {error}")
            return False
        if not self.window.editor.apply(edit, f"{text} {len(new_ids)} item{'s' if len(new_ids) != 1 else ''}"):
            return False
        self.scene.select(new_ids)
        return True

    def select_all(self) -> None:
        """Select every node, edge and annotation."""
        for item in self.scene.items():
            if item.parentItem() is None and item.flags() & item.GraphicsItemFlag.ItemIsSelectable:
                item.setSelected(True)

    # ----- adding ------------------------------------------------------------------------------------------------

    def visible_centre(self) -> QPointF:
        """The scene point at the centre of the canvas."""
        view = self.window.view
        return view.mapToScene(view.viewport().rect().center())

    def add_at_centre(self, kind: str) -> None:
        """Add an op (double-clicked in the palette) in the middle of the canvas."""
        centre = self.visible_centre()
        node_id = self.window.editor.add_node(kind, (centre.x() - WIDTH / 2, centre.y() - 40))
        if node_id is not None:
            self.scene.select([node_id])

    def add_note(self, at: QPointF | None = None) -> None:
        """Add a comment note (at `at`, else the canvas centre)."""
        at = at if at is not None else self.visible_centre()
        note = Annotation(self.window.document.new_id(), "note", "Note", (at.x(), at.y()), (220.0, 90.0))
        if self.window.editor.apply(AddAnnotation(note), "Add note"):
            self.scene.select([note.id])

    def add_frame(self) -> None:
        """Add a titled frame around the selected nodes (or an empty one at the centre)."""
        rect = QRectF()
        for node_id in self.scene.selected_node_ids():
            rect = rect.united(self.scene.nodes[node_id].sceneBoundingRect())
        if rect.isEmpty():
            centre = self.visible_centre()
            rect = QRectF(centre.x() - 200, centre.y() - 120, 400, 240)
        rect = rect.adjusted(-FRAME_MARGIN, -FRAME_MARGIN - FRAME_TITLE_SPACE, FRAME_MARGIN, FRAME_MARGIN)
        frame = Annotation(self.window.document.new_id(), "frame", "Frame", (rect.x(), rect.y()),
                           (rect.width(), rect.height()))
        if self.window.editor.apply(AddAnnotation(frame), "Add frame"):
            self.scene.select([frame.id])

    # ----- layout ------------------------------------------------------------------------------------------------

    def auto_layout(self) -> None:
        """Lay out the selected nodes (or all) in columns by depth, as one undo step."""
        selected = self.scene.selected_node_ids()
        ids = selected if len(selected) > 1 else list(self.window.document.nodes)
        sizes = {node_id: (WIDTH, self.scene.nodes[node_id].height()) for node_id in ids}
        positions = layered_positions(self.window.document, ids, sizes)
        nodes = self.window.document.nodes
        self.window.editor.move({node_id: (nodes[node_id].position, position) for node_id, position
                                 in positions.items()}, "Auto layout", mergeable=False)
        self.window.view.fit_all()

    # ----- node commands (context menu) --------------------------------------------------------------------------

    def rename(self, node_id: str) -> None:
        """Ask for a new variable name."""
        node = self.window.document.nodes[node_id]
        name, ok = QInputDialog.getText(self.window, "Rename", f"New name for {node.name}:", text=node.name)
        if ok and name != node.name:
            self.window.editor.apply(RenameNode(node_id, name.strip()), f"Rename {node.name}")

    def set_backward_target(self, node_id: str) -> None:
        """Make `node_id` the node Backward starts from."""
        name = self.window.document.nodes[node_id].name
        self.window.editor.apply(SetSetting("backward_target", node_id), f"Backward from {name}")

    def toggle_retain_grad(self, node_id: str) -> None:
        """Switch `retain_grad()` on or off for a node."""
        node = self.window.document.nodes[node_id]
        self.window.editor.apply(SetRetainGrad(node_id, not node.retain_grad), f"Retain grad of {node.name}")

    def set_no_grad(self, on: bool) -> None:
        """Evaluate the whole graph under `torch.no_grad()` (or not), as an undoable setting."""
        mode = "no_grad" if on else "normal"
        if self.window.document.settings.grad_mode != mode:
            self.window.editor.apply(SetSetting("grad_mode", mode), "No grad" if on else "Grad mode")
