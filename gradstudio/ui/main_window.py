"""The main window: the canvas in the middle, palette and panels in docks, one document at a time."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QShowEvent, QUndoStack
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QUndoView

from gradstudio.model.document import GraphDocument
from gradstudio.model.evaluation import Evaluator
from gradstudio.ui import themes
from gradstudio.ui.actions import build_actions
from gradstudio.ui.backward.tools import BackwardTools
from gradstudio.ui.canvas.minimap import Minimap
from gradstudio.ui.canvas.scene import GraphScene
from gradstudio.ui.canvas.view import GraphView, graph_file_paths
from gradstudio.ui.edit.context_menus import show_context_menu
from gradstudio.ui.edit.editor import Editor
from gradstudio.ui.edit.selection import EditingController
from gradstudio.ui.io.files import FileController
from gradstudio.ui.panels.code_panel import CodeDock
from gradstudio.ui.panels.coming import coming_dock
from gradstudio.ui.panels.inspector import InspectorDock
from gradstudio.ui.panels.palette import Palette
from gradstudio.ui.panels.values_panel import ValuesDock
from gradstudio.ui.settings import AppSettings

APP_NAME = "GradStudio"
STATUS_TIMEOUT_MS = 8000


class MainWindow(QMainWindow):
    """GradStudio's top-level window; `document` is the open graph document."""

    def __init__(self, settings: AppSettings | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else AppSettings()
        self.undo_stack = QUndoStack(self)
        self.document = GraphDocument()
        self.evaluator: Evaluator | None = None
        self.editor: Editor | None = None
        self.scene: GraphScene | None = None
        self.path: str | None = None
        self.display_name = "Untitled"
        self.theme = themes.resolve(self.settings.theme())
        self._fitted_on_show = False
        self.resize(1280, 820)
        self.setAcceptDrops(True)
        self.view = GraphView(self)
        self.setCentralWidget(self.view)
        self.minimap = Minimap(self.view)
        self._build_docks()
        self.files = FileController(self)
        self.editing = EditingController(self)
        self.backward_tools = BackwardTools(self)
        self.backward = self.backward_tools.controller
        self.backward.display_changed.connect(lambda _view: self.update_panels())  # new .grad after Backward
        self.values_panel.raise_()  # the first tab below the canvas
        self.actions = build_actions(self)
        self.zoom_label = QLabel()
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.undo_stack.cleanChanged.connect(lambda clean: self.setWindowModified(not clean))
        self.undo_stack.indexChanged.connect(self.sync_actions)
        self.view.zoomed.connect(self.update_zoom_label)
        self.view.file_dropped.connect(self.files.open_path)
        self.view.context_menu_requested.connect(lambda item, at, where: show_context_menu(self, item, at, where))
        self.palette.activated.connect(self.editing.add_at_centre)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._follow_system_theme)
        self.set_document(GraphDocument())
        self.settings.restore_window(self)
        self.minimap.setVisible(self.settings.show_minimap())

    def _build_docks(self) -> None:
        self.palette = Palette(self)
        self.inspector = InspectorDock(self)
        self.values_panel = ValuesDock(self)
        self.code_panel = CodeDock(self)
        self.train_panel = coming_dock("trainPanel", "Train", "Training with an optimizer (SGD, Adam) arrives in a "
                                       "later release.", self)
        self.history = QDockWidget("History", self)
        self.history.setObjectName("historyPanel")
        self.history.setWidget(QUndoView(self.undo_stack))
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.palette)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.inspector)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.history)
        # value and gradient side by side need the width of the window: the values panel sits below the canvas
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.values_panel)
        self.tabifyDockWidget(self.values_panel, self.code_panel)
        self.tabifyDockWidget(self.code_panel, self.train_panel)
        for dock in (self.history, self.train_panel):
            dock.hide()
        self.resizeDocks([self.palette, self.inspector], [210, 330], Qt.Orientation.Horizontal)
        self.resizeDocks([self.values_panel], [290], Qt.Orientation.Vertical)

    # ----- the open document -------------------------------------------------------------------------------------

    def set_document(self, document: GraphDocument, path: str | None = None, display_name: str | None = None) -> None:
        """Show `document` (replacing the open one, whose undo history is dropped)."""
        if self.scene is not None:
            self.scene.close()
            self.evaluator.close()
        self.undo_stack.clear()
        self.document = document
        self.evaluator = Evaluator(document)
        self.editor = Editor(document, self.evaluator, self.undo_stack)
        self.editor.refused.connect(self.show_message)
        self.scene = GraphScene(self.editor, self.theme)
        self.scene.snap_to_grid = self.settings.snap_to_grid()
        self.scene.selectionChanged.connect(self.update_panels)
        self.scene.values_refreshed.connect(self.editor.evaluated)
        self.editor.evaluated.connect(self.update_panels)
        self.code_panel.set_source(document, self.evaluator)
        self.view.setScene(self.scene)
        self.minimap.set_scene(self.scene)
        self.backward_tools.attach()
        self.path = path
        self.display_name = display_name or (Path(path).name if path else "Untitled")
        self.undo_stack.setClean()
        self.setWindowModified(False)
        self.update_title()
        self.update_panels()
        self.sync_actions()
        self.view.fit_all()

    def update_title(self) -> None:
        """Show the file's name and the modified marker."""
        self.setWindowTitle(f"{self.display_name}[*] — {APP_NAME}")

    def is_modified(self) -> bool:
        """True when the document has edits that are not saved."""
        return not self.undo_stack.isClean()

    # ----- feedback ----------------------------------------------------------------------------------------------

    def show_message(self, text: str) -> None:
        """Say something in the status bar (a refused edit, a saved file, ...)."""
        self.statusBar().showMessage(str(text), STATUS_TIMEOUT_MS)

    def update_zoom_label(self, zoom: float | None = None) -> None:
        """Show the zoom level in the status bar."""
        self.zoom_label.setText(f"{self.view.zoom() if zoom is None else zoom:.0%}")

    def sync_actions(self) -> None:
        """Check actions that mirror document settings (they change with undo too)."""
        self.actions.actionNoGrad.setChecked(self.document.settings.grad_mode == "no_grad")
        self.backward_tools.sync()

    def update_panels(self) -> None:
        """Show the single selected node in the inspector and the values panel, and the graph's code."""
        selected = self.scene.selected_node_ids() if self.scene is not None else []
        node = self.document.nodes[selected[0]] if len(selected) == 1 else None
        self.inspector.show_node(node, self.editor, self.evaluator.results.get(node.id) if node is not None else None)
        self.values_panel.show_node(node, self.evaluator)
        self.code_panel.refresh()

    def set_theme(self, choice: str) -> None:
        """Switch to the light, dark or system theme and remember it."""
        self.settings.set_theme(choice)
        self.theme = themes.resolve(choice)
        app = QApplication.instance()
        if app is not None:
            app.setPalette(themes.application_palette(self.theme))
        self.scene.set_theme(self.theme)
        self.view.resetCachedContent()
        self.view.viewport().update()
        self.minimap.refit()

    def _follow_system_theme(self, _scheme: object) -> None:
        if self.settings.theme() == "system":
            self.set_theme("system")

    # ----- Qt overrides ------------------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._fitted_on_show:
            self._fitted_on_show = True
            self.view.fit_all()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.maybe_save():
            event.ignore()
            return
        self.settings.save_window(self)
        self.scene.close()
        self.evaluator.close()
        event.accept()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if graph_file_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = graph_file_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.files.open_path(paths[0])

    # ----- kept for `gradstudio FILE` ----------------------------------------------------------------------------

    def open_path(self, path: str) -> bool:
        """Open a graph file (asking to save unsaved work first)."""
        return self.files.open_path(path)
