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
from gradstudio.ui.canvas.items import WIDTH, node_height
from gradstudio.ui.edit.placement import free_offset

if TYPE_CHECKING:
    from gradstudio.model.io.code_import import Source
    from gradstudio.ui.main_window import MainWindow

CODE_FILTER = "PyTorch code (*.py *.ipynb *.md *.markdown *.txt);;All files (*)"


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
        return bool(path) and self.import_file(path, None, ask=True)

    def import_file(self, path: str, at: QPointF | None, ask: bool = False) -> bool:
        """Import the code in `path` at `at` (None: the middle of the canvas)."""
        from gradstudio.model.io.code_import import CodeImportError, read_source  # loaded on the first import

        try:
            source = read_source(path)
        except CodeImportError as error:
            return self._refused(f"{Path(path).name}: {error}", ask)
        return self._import(source, at, f"Import {Path(path).name}", ask, fit=True)

    def import_text(self, text: str, at: QPointF | None = None) -> bool:
        """Paste code text: imported at the mouse pointer if it is over the canvas, else the middle."""
        if at is None:
            at = self._pointer()
        return self._import(text, at, "Paste code", ask=False, fit=False)

    def _pointer(self) -> QPointF | None:
        view = self.window.view
        point = view.viewport().mapFromGlobal(QCursor.pos())
        return view.mapToScene(point) if view.viewport().rect().contains(point) else None

    def _import(self, source: Source | str, at: QPointF | None, text: str, ask: bool, fit: bool) -> bool:
        from gradstudio.model.io.code_import import CodeImportError, plan_import

        workspace = self.window.workspace
        try:
            plan = plan_import(workspace.document, source, drawn_size)
        except CodeImportError as error:
            return self._refused(f"{text}: {error}", ask)
        if plan.empty:
            return self._refused(f"{text}: the code builds no graph", ask)
        at = at if at is not None else self.window.commands.visible_centre()
        rects = [QRectF(*rect) for rect in plan.rects()]
        offset = free_offset(workspace.document, rects, (at.x(), at.y()))
        if not workspace.editor.apply(plan.edit(offset), text):
            return False
        scene = self.window.scene
        scene.select(plan.node_ids)
        if fit:
            self.window.view.fit_all()
        message = f"{text}: {len(plan.node_ids)} nodes"
        self.window.show_message("; ".join([message, *plan.warnings]))
        return True

    def _refused(self, message: str, ask: bool) -> bool:
        self.window.show_message(message)
        if ask:
            QMessageBox.warning(self.window, "Cannot import code", message)
        return False
