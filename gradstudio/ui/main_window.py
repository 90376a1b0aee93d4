"""The main window: the canvas in the middle, panels in docks, one workspace (one open graph) at a time."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QShowEvent, QUndoGroup, QUndoStack
from PySide6.QtWidgets import QApplication, QDialog, QDockWidget, QLabel, QMainWindow, QUndoView

from gradstudio.model import limits
from gradstudio.model.document import GraphDocument
from gradstudio.ui import themes
from gradstudio.ui.actions import build_actions
from gradstudio.ui.app import app_icon
from gradstudio.ui.backward.tools import BackwardTools
from gradstudio.ui.canvas.banner import NoGradBanner
from gradstudio.ui.canvas.minimap import Minimap
from gradstudio.ui.canvas.scene import GraphScene
from gradstudio.ui.canvas.view import GraphView, code_file_paths, graph_file_paths
from gradstudio.ui.edit.context_menus import ContextMenus
from gradstudio.ui.edit.editor import Editor
from gradstudio.ui.edit.selection import SelectionCommands
from gradstudio.ui.io.code_import import CodeImporter
from gradstudio.ui.io.files import FileController
from gradstudio.ui.io.recovery import Autosaver, recovery_folder
from gradstudio.ui.io.recovery_files import RecoveryStore
from gradstudio.ui.panels import PANELS, PanelEntry
from gradstudio.ui.panels.base import PanelDock
from gradstudio.ui.settings import AppSettings
from gradstudio.ui.text_limits import clip
from gradstudio.ui.workspace import Workspace

APP_NAME = "GradStudio"
STATUS_TIMEOUT_MS = 8000
DEFAULT_SIZE = QSize(1280, 820)
FRAME_ALLOWANCE = QSize(16, 48)  # a window manager's borders and title bar


def default_size(wanted: QSize | None = None) -> QSize:
    """`wanted` (by default 1280x820, or 85 % of a larger screen), shrunk to the screen's available area less
    room for the window frame, so the status bar and the bottom tabs never fall off the screen."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return wanted or DEFAULT_SIZE
    return size_for_screen(screen.availableGeometry().size(), wanted)


def size_for_screen(available: QSize, wanted: QSize | None = None) -> QSize:
    """The window size `default_size` picks on a screen whose available area is `available`."""
    if wanted is None:
        wanted = DEFAULT_SIZE.expandedTo(QSize(round(available.width() * 0.85), round(available.height() * 0.85)))
    return wanted.boundedTo(available - FRAME_ALLOWANCE)


class MainWindow(QMainWindow):
    """GradStudio's top-level window; `workspace` is the open graph, `document` its model document."""

    def __init__(self, settings: AppSettings | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else AppSettings()
        self.undo_group = QUndoGroup(self)
        self.workspace: Workspace | None = None
        self.theme = themes.resolve(self.settings.theme())
        self._fitted_on_show = False
        self.resize(default_size())
        if QApplication.windowIcon().isNull():  # run_app gave it to the application, whose windows show it
            self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.view = GraphView(self)
        self.setCentralWidget(self.view)
        self.minimap = Minimap(self.view)
        self.banner = NoGradBanner(self.view)
        self.panels = self._build_panels()
        self.history = self._build_history()
        self.files = FileController(self)
        self.autosave = Autosaver(RecoveryStore(recovery_folder()), parent=self)
        self.commands = SelectionCommands(self.view)
        self.code_import = CodeImporter(self)
        self.commands.paste_code = self.code_import.import_text
        self.backward_tools = BackwardTools(self.view, self.step_panel, self.settings)
        self.backward = self.backward_tools.controller
        self.actions = build_actions(self)
        self.context_menus = ContextMenus(self.actions, self.view, self.commands, self.backward_tools)
        self.zoom_label = QLabel()
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.view.zoomed.connect(self.update_zoom_label)
        self.view.file_dropped.connect(self.files.open_path)
        self.view.code_dropped.connect(self.code_import.import_file)
        self.view.context_menu_requested.connect(self.context_menus.show)
        self.palette.activated.connect(self.commands.add_at_centre)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._follow_system_theme)
        limits.set_max_elements(self.settings.max_elements())
        self.set_document(GraphDocument())
        if self.settings.restore_window(self):
            self.resize(self.size().boundedTo(default_size(self.size())))
        self.minimap.set_enabled(self.settings.show_minimap())

    def _build_panels(self) -> dict[str, PanelDock]:
        """Every registered panel, docked where its entry says, bottom ones sharing tabs."""
        panels: dict[str, PanelDock] = {}
        bottom: list[PanelDock] = []
        for entry in PANELS:
            dock = entry.factory(self)
            panels[entry.attribute] = dock
            setattr(self, entry.attribute, dock)
            self.addDockWidget(entry.area, dock)
            if entry.tab_with is not None:
                self._tab_when_shown(dock, panels[entry.tab_with], entry.size)
            elif entry.area == Qt.DockWidgetArea.BottomDockWidgetArea:
                if bottom:
                    self.tabifyDockWidget(bottom[-1], dock)
                bottom.append(dock)
            dock.setVisible(entry.shown)
        self._size_docks(PANELS, panels)
        if bottom:
            bottom[0].raise_()  # the first tab below the canvas
        return panels

    def _tab_when_shown(self, dock: QDockWidget, beside: QDockWidget, width: int | None) -> None:
        """Make `dock` a tab beside `beside` (the column `width` wide) when it is first shown: tabified while
        hidden, Qt leaves a stray tab bar drawn over the status bar under X11."""
        def tabify(visible: bool) -> None:
            if visible and not self.tabifiedDockWidgets(dock):
                self.tabifyDockWidget(beside, dock)
                dock.raise_()
                if width is not None:
                    self.resizeDocks([dock], [width], Qt.Orientation.Horizontal)

        dock.visibilityChanged.connect(tabify)

    def _size_docks(self, entries: tuple[PanelEntry, ...], panels: dict[str, PanelDock]) -> None:
        """Give each dock its first size; a tab made when first shown gets its size then (given now, the Lesson
        panel's width went to the inspector's column, and the canvas opened too narrow to show the graph whole)."""
        for entry in entries:
            if entry.size is not None and entry.tab_with is None:
                vertical = entry.area == Qt.DockWidgetArea.BottomDockWidgetArea
                orientation = Qt.Orientation.Vertical if vertical else Qt.Orientation.Horizontal
                self.resizeDocks([panels[entry.attribute]], [entry.size], orientation)

    def _build_history(self) -> QDockWidget:
        history = QDockWidget("History", self)
        history.setObjectName("historyPanel")
        history.setWidget(QUndoView(self.undo_group))
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, history)
        history.hide()
        return history

    # ----- the open workspace ------------------------------------------------------------------------------------

    @property
    def document(self) -> GraphDocument:
        """The open graph document (the model object)."""
        return self.workspace.document

    @property
    def scene(self) -> GraphScene:
        """The canvas's scene of the open workspace."""
        return self.view.graph_scene()

    @property
    def editor(self) -> Editor:
        """The open workspace's editor."""
        return self.workspace.editor

    @property
    def undo_stack(self) -> QUndoStack:
        """The open workspace's undo stack."""
        return self.workspace.undo_stack

    def set_document(self, document: GraphDocument, path: str | None = None, display_name: str | None = None) -> None:
        """Open `document` in a new workspace, replacing the open one (whose undo history goes with it)."""
        self.set_workspace(Workspace(document, path, display_name, self))

    def set_workspace(self, workspace: Workspace) -> None:
        """Swap in `workspace`: the canvas, every panel and every controller follow it."""
        old, old_scene = self.workspace, self.view.scene()
        scene = GraphScene(workspace, self.theme)
        scene.snap_to_grid = self.settings.snap_to_grid()
        scene.show_versions = self.settings.show_versions()
        self.workspace = workspace
        self.autosave.bind(workspace)
        self.undo_group.addStack(workspace.undo_stack)
        self.undo_group.setActiveStack(workspace.undo_stack)
        workspace.undo_stack.cleanChanged.connect(self._clean_changed)
        workspace.settings_changed.connect(self.sync_settings)
        workspace.message.connect(self.show_message)
        workspace.busy_changed.connect(self._busy_changed)
        workspace.lesson_changed.connect(self.sync_lesson)
        self.view.setScene(scene)
        self.minimap.set_scene(scene)
        self.minimap.bind(workspace)
        for bound in (*self.panels.values(), self.commands, self.backward_tools, self.context_menus):
            bound.bind(workspace)
        if old is not None:
            self._retire(old, old_scene)
        self.setWindowModified(False)
        self.update_title()
        self.sync_settings()
        self.sync_lesson()
        if workspace.lesson.playing:  # a lesson file opens to be played: its panel comes forward
            self.lesson_panel.show()
            self.lesson_panel.raise_()
        elif not self.lesson_panel.isHidden():  # a graph that hides nothing: the inspector's tab comes forward
            self.inspector.raise_()
        self.view.show_on_open()

    def _retire(self, workspace: Workspace, scene: GraphScene) -> None:
        """Let a replaced workspace go: its scene, its undo stack, its signals."""
        scene.close()
        scene.deleteLater()
        self.undo_group.removeStack(workspace.undo_stack)
        workspace.close()
        workspace.deleteLater()

    def _busy_changed(self, reason: str | None) -> None:
        """While a job owns the graph, undo, redo and the gradient actions wait (the editor refuses edits)."""
        self.undo_group.setActiveStack(None if reason else self.workspace.undo_stack)
        for name in ("actionBackward", "actionStepBackward", "actionZeroGrad", "actionNoGrad", "actionPlayBackward"):
            self.actions.all[name].setEnabled(reason is None)

    def _clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)

    def update_title(self) -> None:
        """Show the file's name and the modified marker."""
        self.setWindowTitle(f"{self.workspace.display_name}[*] — {APP_NAME}")

    def is_modified(self) -> bool:
        """True when the document has edits that are not saved."""
        return not self.workspace.undo_stack.isClean()

    # ----- undo, redo and commands ------------------------------------------------------------------------------

    def commit_pending_edits(self) -> None:
        """Turn typing not yet entered in the inspector into its own step, before any command, undo or redo."""
        if self.workspace is not None:
            self.inspector.commit_pending()

    def undo(self) -> None:
        """Undo the last step (after committing pending typing); refused while the stack is already running."""
        self._run_history(self.undo_group.undo)

    def redo(self) -> None:
        """Redo the next step (after committing pending typing); refused while the stack is already running."""
        self._run_history(self.undo_group.redo)

    def _run_history(self, run: Callable[[], None]) -> None:
        if self.workspace is None:
            return
        reason = self.editor.busy
        if reason is not None:
            self.show_message(reason)
            return
        self.commit_pending_edits()
        run()

    # ----- feedback ----------------------------------------------------------------------------------------------

    def open_preferences(self) -> None:
        """Edit > Preferences…: a new element limit is remembered, applied and the graph evaluated again; the
        animation settings are remembered."""
        from gradstudio.ui.dialogs.preferences_dialog import PreferencesDialog  # loaded when first opened

        dialog = PreferencesDialog(limits.max_elements(), self, self.settings.animate_passes(),
                                   self.settings.animation_seconds())
        count = dialog.max_elements() if dialog.exec() == QDialog.DialogCode.Accepted else None
        if count is None:
            return
        self.settings.set_animate_passes(dialog.animate_check.isChecked())
        self.settings.set_animation_seconds(dialog.seconds_spin.value())
        if count == limits.max_elements():
            return
        self.settings.set_max_elements(count)
        limits.set_max_elements(count)
        self.workspace.model.limit_changed()
        self.workspace.refresh()
        self.show_message(f"One tensor may now hold up to {count:,} elements")

    def show_message(self, text: str) -> None:
        """Say something in the status bar (a refused edit, a saved file, ...)."""
        self.statusBar().showMessage(clip(text), STATUS_TIMEOUT_MS)  # one line: a long path must not widen the window

    def update_zoom_label(self, zoom: float | None = None) -> None:
        """Show the zoom level in the status bar."""
        self.zoom_label.setText(f"{self.view.zoom() if zoom is None else zoom:.0%}")

    def sync_settings(self, _name: str = "") -> None:
        """Actions and the banner mirror the document's settings (which undo and redo change too)."""
        off = self.workspace.no_grad()
        self.actions.actionNoGrad.setChecked(off)
        self.banner.set_active(off)
        for action in (self.actions.actionBackward, self.actions.actionStepBackward, self.actions.actionPlayBackward):
            action.setEnabled(not off)
        tip = "Backward is unavailable under torch.no_grad()" if off else "Run backward from the selected scalar"
        self.actions.actionBackward.setToolTip(tip)

    def set_lesson_playing(self, playing: bool) -> None:
        """Play the open lesson as a learner, or author it (View > Play Lesson)."""
        self.workspace.set_lesson_playing(playing)
        if playing:
            self.lesson_panel.show()
            self.lesson_panel.raise_()

    def sync_lesson(self) -> None:
        """The Play Lesson and Reveal All actions mirror the open lesson."""
        lesson = self.workspace.lesson
        self.actions.actionLessonMode.setChecked(lesson.playing)
        self.actions.actionReveal.setEnabled(lesson.playing and bool(lesson.items()))

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
            self.view.show_on_open()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.train_panel.stop()  # what a running job trained becomes an edit first, so the save prompt sees it
        if not self.files.maybe_save():
            event.ignore()
            return
        self.autosave.stop()
        self.settings.save_window(self)
        self.scene.close()
        self.workspace.close()
        event.accept()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if graph_file_paths(event.mimeData()) or code_file_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = graph_file_paths(event.mimeData())
        code = code_file_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.files.open_path(paths[0])
        elif code:
            event.acceptProposedAction()
            self.code_import.import_file(code[0], None)

    # ----- kept for `gradstudio FILE` ----------------------------------------------------------------------------

    def open_path(self, path: str) -> bool:
        """Open a graph file (asking to save unsaved work first)."""
        return self.files.open_path(path)
