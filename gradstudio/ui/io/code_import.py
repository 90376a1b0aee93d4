"""Code into the open graph from the UI: File > Import Code, pasting code text on the canvas, dropping a
.py/.ipynb/.md/.txt file. Each import is one undoable command; a refusal is shown and changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QFileDialog, QMessageBox

from gradstudio.model.document import Node
from gradstudio.model.io.code_suffixes import SUFFIXES
from gradstudio.ui.canvas.node_geometry import WIDTH, node_height
from gradstudio.ui.edit.placement import free_offset

if TYPE_CHECKING:
    from gradstudio.model.io.code_import import Source
    from gradstudio.ui.main_window import MainWindow

CODE_FILTER = "PyTorch code (*.py *.ipynb *.md *.markdown *.txt);;All files (*)"
DATA_SUFFIXES = (".csv", ".npy")
NOT_CODE = ("the clipboard holds text, not PyTorch code or graph nodes. Nearest supported form: copy Python code "
            "such as x = torch.ones(3, requires_grad=True), or nodes from a canvas")


def drawn_size(node: Node) -> tuple[float, float]:
    """The size the canvas draws a node's face at."""
    return WIDTH, node_height(len(node.input_ports()))


def is_code_file(path: str) -> bool:
    """True for a file the importer reads (.py, .ipynb, .md, .txt)."""
    return path.lower().endswith(SUFFIXES)


class CodeImporter:
    """Imports code into the window's open document, at a point of the canvas."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window

    def ask(self) -> bool:
        """File > Import Code…: choose a file, import it at the middle of the canvas."""
        path, _ = QFileDialog.getOpenFileName(self.window, "Import code", "", CODE_FILTER)
        return bool(path) and self.import_file(path, None)

    def import_file(self, path: str, at: QPointF | None) -> bool:
        """Import the code in `path` at `at` (None: the middle of the canvas)."""
        name = Path(path).name
        if not is_code_file(path):
            hint = " To load data into a tensor: select a Tensor node, then Load Data… in the inspector." \
                if path.lower().endswith(DATA_SUFFIXES) else ""
            return self._refused(f"{name}: GradStudio opens .gsg graphs and imports code from "
                                 f"{', '.join(SUFFIXES)} files, not {Path(path).suffix or 'a file without a suffix'}."
                                 + hint)
        from gradstudio.model.io.code_import import CodeImportError, read_source  # loaded on the first import

        try:
            source = read_source(path)
        except CodeImportError as error:
            return self._refused(f"{name}: {error}")
        return self._import(source, at, f"Import {Path(path).name}", fit=True)

    def import_text(self, text: str, at: QPointF | None = None) -> bool:
        """Paste code text: imported at the mouse pointer if it is over the canvas, else the middle (prose is
        refused: it is neither code nor nodes)."""
        from gradstudio.model.io.code_import import looks_like_code  # loaded on the first paste of text

        if not looks_like_code(text):
            return self._refused(f"Paste: {NOT_CODE}")
        if at is None:
            at = self._pointer()
        return self._import(text, at, "Paste code", fit=False)

    def _pointer(self) -> QPointF | None:
        view = self.window.view
        point = view.viewport().mapFromGlobal(QCursor.pos())
        return view.mapToScene(point) if view.viewport().rect().contains(point) else None

    def _import(self, source: Source | str, at: QPointF | None, text: str, fit: bool) -> bool:
        from gradstudio.model.io.code_import import CodeImportError, plan_import

        workspace = self.window.workspace
        try:
            plan = plan_import(workspace.document, source, drawn_size)
        except CodeImportError as error:
            return self._refused(f"{text}: {error}")
        if plan.empty:
            return self._refused(f"{text}: the code builds no graph")
        at = at if at is not None else self.window.commands.visible_centre()
        rects = [QRectF(*rect) for rect in plan.rects()]
        offset = free_offset(workspace.document, rects, (at.x(), at.y()))
        if not workspace.editor.apply(plan.edit(offset), text):
            return False
        scene = self.window.scene
        scene.select(plan.node_ids)
        if fit:
            self.window.view.fit_all()
        else:
            self._show_pasted(plan.node_ids)
        count = len(plan.node_ids)
        message = f"{text}: {count} node{'' if count == 1 else 's'}"
        self.window.show_message("; ".join([message, *plan.warnings]))
        return True

    def _show_pasted(self, node_ids: list[str]) -> None:
        """Code pasted at the pointer may reach past the canvas's edge: scroll it into view, zooming out only
        when it is larger than the view."""
        view, placed = self.window.view, QRectF()
        for node_id in node_ids:
            placed = placed.united(self.window.scene.nodes[node_id].sceneBoundingRect())
        visible = view.mapToScene(view.viewport().rect()).boundingRect()
        if visible.contains(placed):
            return
        if placed.width() + 40 <= visible.width() and placed.height() + 40 <= visible.height():
            view.centerOn(placed.center())  # not just past the edge: the minimap sits in the corner
        else:
            view.fit_rect(placed)

    def _refused(self, message: str) -> bool:
        """Say why nothing was imported where the user looks (a dialog), and in the status bar."""
        self.window.show_message(message)
        QMessageBox.warning(self.window, "Cannot import code", message)
        return False
