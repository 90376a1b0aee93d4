"""Edit commands on the selection: delete, cut, copy, paste, duplicate, annotate, lay out, rename."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtWidgets import QInputDialog

from gradstudio.model.annotations import AddAnnotation, Annotation
from gradstudio.model.document import EditError, GraphDocument
from gradstudio.model.edits import RenameNode, SetRetainGrad, SetSetting
from gradstudio.model.io.fileformat import MAX_FILE_BYTES
from gradstudio.model.io.fileschema import GraphFileError
from gradstudio.ui.canvas.node_geometry import WIDTH
from gradstudio.ui.canvas.scene import GraphScene
from gradstudio.ui.canvas.view import GraphView
from gradstudio.ui.edit import clipboard
from gradstudio.ui.edit.editor import Editor
from gradstudio.ui.edit.placement import free_offset, node_rect
from gradstudio.ui.workspace import Workspace

FRAME_MARGIN = 30.0
FRAME_TITLE_SPACE = 30.0


class SelectionCommands:
    """The Edit and Graph menu commands that act on the canvas selection."""

    def __init__(self, canvas: GraphView) -> None:
        self.canvas = canvas
        self.workspace: Workspace | None = None
        self.paste_code: Callable[[str], bool] | None = None  # imports pasted code (the window's CodeImporter)

    def bind(self, workspace: Workspace) -> None:
        """Edit `workspace` from now on."""
        self.workspace = workspace

    @property
    def scene(self) -> GraphScene:
        """The canvas's scene (the open workspace's)."""
        return self.canvas.graph_scene()

    @property
    def editor(self) -> Editor:
        """The open workspace's editor."""
        return self.workspace.editor

    @property
    def document(self) -> GraphDocument:
        """The open document."""
        return self.workspace.document

    def say(self, text: str) -> None:
        """A line for the status bar."""
        self.workspace.message.emit(text)

    # ----- delete, clipboard, duplicate --------------------------------------------------------------------------

    def delete_selection(self) -> bool:
        """Delete the selected nodes, edges, notes and frames as one undo step."""
        scene = self.scene
        return self.editor.delete(scene.selected_node_ids(), scene.selected_edges(),
                                         scene.selected_annotation_ids())

    def _selection_fragment(self) -> dict | None:
        scene = self.scene
        nodes, annotations = scene.selected_node_ids(), scene.selected_annotation_ids()
        if not nodes and not annotations:
            self.say("Nothing selected")
            return None
        from gradstudio.model.io.fragment import fragment  # copy and paste load it when first used

        return fragment(self.document, nodes, annotations)

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
        """Paste the clipboard's fragment with fresh ids and names, offset from the original; Python code text
        on the clipboard is imported instead (`paste_code`)."""
        data = clipboard.from_clipboard()
        if data is None:
            text = clipboard.clipboard_text()
            if self.paste_code is not None and text.strip() and len(text) <= MAX_FILE_BYTES:
                return self.paste_code(text)  # code is imported; other text is refused there, saying why
            self.say("The clipboard holds no graph nodes")
            return False
        return self._insert(data, "Paste")

    def duplicate(self) -> bool:
        """Copy and paste the selection in one step, without touching the clipboard."""
        data = self._selection_fragment()
        return data is not None and self._insert(data, "Duplicate")

    def _insert(self, data: dict, text: str) -> bool:
        from gradstudio.model.io.fragment import PASTE_OFFSET, paste_edit, read_fragment

        try:
            piece = read_fragment(data)
            offset = free_offset(self.document, [node_rect(node) for node in piece.nodes], PASTE_OFFSET)
            edit, new_ids = paste_edit(self.document, piece, offset)
        except (GraphFileError, EditError) as error:
            self.say(f"{text}: {error}")
            return False
        if not self.editor.apply(edit, f"{text} {len(new_ids)} item{'s' if len(new_ids) != 1 else ''}"):
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
        view = self.canvas
        return view.mapToScene(view.viewport().rect().center())

    def add_at_centre(self, kind: str) -> None:
        """Add an op (double-clicked in the palette) in the middle of the canvas."""
        centre = self.visible_centre()
        node_id = self.editor.add_node(kind, (centre.x() - WIDTH / 2, centre.y() - 40))
        if node_id is not None:
            self.scene.select([node_id])

    def add_note(self, at: QPointF | None = None) -> None:
        """Add a comment note (at `at`, else the canvas centre)."""
        at = at if at is not None else self.visible_centre()
        note = Annotation(self.document.new_id(), "note", "Note", (at.x(), at.y()), (220.0, 90.0))
        if self.editor.apply(AddAnnotation(note), "Add note"):
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
        frame = Annotation(self.document.new_id(), "frame", "Frame", (rect.x(), rect.y()),
                           (rect.width(), rect.height()))
        if self.editor.apply(AddAnnotation(frame), "Add frame"):
            self.scene.select([frame.id])

    # ----- layout ------------------------------------------------------------------------------------------------

    def auto_layout(self) -> None:
        """Lay out the selected nodes (or all) in columns by depth, as one undo step."""
        selected = self.scene.selected_node_ids()
        ids = selected if len(selected) > 1 else list(self.document.nodes)
        sizes = {node_id: (WIDTH, self.scene.nodes[node_id].height()) for node_id in ids}
        from gradstudio.model.layout import layered_positions  # noqa: PLC0415 - networkx loads on first use

        positions = layered_positions(self.document, ids, sizes)
        nodes = self.document.nodes
        self.editor.move({node_id: (nodes[node_id].position, position) for node_id, position
                                 in positions.items()}, "Auto layout", mergeable=False)
        self.canvas.fit_all()

    # ----- node commands (context menu) --------------------------------------------------------------------------

    def rename(self, node_id: str) -> None:
        """Ask for a new variable name."""
        node = self.document.nodes[node_id]
        name, ok = QInputDialog.getText(self.canvas.window(), "Rename", f"New name for {node.name}:", text=node.name)
        if ok and name != node.name:
            self.editor.apply(RenameNode(node_id, name.strip()), f"Rename {node.name}")

    def set_backward_target(self, node_id: str) -> None:
        """Make `node_id` the node Backward starts from."""
        name = self.document.nodes[node_id].name
        self.editor.apply(SetSetting("backward_target", node_id), f"Backward from {name}")

    def toggle_retain_grad(self, node_id: str) -> None:
        """Switch `retain_grad()` on or off for a node."""
        node = self.document.nodes[node_id]
        self.editor.apply(SetRetainGrad(node_id, not node.retain_grad), f"Retain grad of {node.name}")
