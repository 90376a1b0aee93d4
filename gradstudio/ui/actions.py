"""The window's actions (with the object names of the testing contract), menus and toolbar."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMessageBox

from gradstudio.ui.icons import ACTION_ICONS, action_icon
from gradstudio.ui.themes import THEME_CHOICES

if TYPE_CHECKING:
    from gradstudio.ui.main_window import MainWindow

Keys = QKeySequence.StandardKey


class Actions:
    """Every QAction of the main window, as attributes named by object name (`actions.actionSave`) and in `all`."""

    def __init__(self) -> None:
        self.all: dict[str, QAction] = {}

    def add(self, action: QAction) -> QAction:
        """Register `action` under its object name."""
        self.all[action.objectName()] = action
        setattr(self, action.objectName(), action)
        return action


def _action(window: MainWindow, actions: Actions, name: str, text: str, slot: Callable | None = None,
            keys: list | None = None, tip: str = "", checkable: bool = False) -> QAction:
    action = QAction(text, window)
    action.setObjectName(name)
    if keys:
        action.setShortcuts([QKeySequence(key) for key in keys])
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.setCheckable(checkable)
    if slot is not None:
        # first: typing not yet entered in the inspector becomes its own step before the command runs
        action.triggered.connect(window.commit_pending_edits)
        action.triggered.connect(lambda checked=False: slot(checked) if checkable else slot())
    window.addAction(action)
    return actions.add(action)


def build_actions(window: MainWindow) -> Actions:
    """Create the actions, the menus and the toolbar of `window`."""
    actions = Actions()
    _file_actions(window, actions)
    _edit_actions(window, actions)
    _view_actions(window, actions)
    _graph_actions(window, actions)
    _menus(window, actions)
    _toolbar(window, actions)
    return actions


def _file_actions(window: MainWindow, a: Actions) -> None:
    files = window.files
    _action(window, a, "actionNew", "&New", files.new, [Keys.New], "Start an empty graph")
    _action(window, a, "actionOpen", "&Open…", files.open, [Keys.Open], "Open a graph file")
    _action(window, a, "actionSave", "&Save", files.save, [Keys.Save], "Save the graph")
    _action(window, a, "actionSaveAs", "Save &As…", files.save_as, [Keys.SaveAs], "Save the graph to a new file")
    _action(window, a, "actionClose", "&Close", files.close, [Keys.Close], "Close the graph")
    _action(window, a, "actionExportImage", "Export &Image…", files.export_image, [],
            "Export the graph as a PNG or SVG image")
    _action(window, a, "actionExportCode", "Export &Code…", files.export_code, [],
            "Save the graph as a PyTorch script (the code panel's text)")
    _action(window, a, "actionImportCode", "&Import Code…", window.code_import.ask,
            tip="Build a graph from PyTorch code: a .py file, a notebook, or Markdown notes with code blocks")
    quit_action = _action(window, a, "actionQuit", "&Quit", window.close, [Keys.Quit], "Quit GradStudio")
    quit_action.setMenuRole(QAction.MenuRole.QuitRole)


def _edit_actions(window: MainWindow, a: Actions) -> None:
    editing = window.commands
    undo = window.undo_group.createUndoAction(window, "&Undo")
    undo.setObjectName("actionUndo")
    undo.setShortcuts(QKeySequence.keyBindings(Keys.Undo))
    redo = window.undo_group.createRedoAction(window, "&Redo")
    redo.setObjectName("actionRedo")
    # the platform's keys, and Ctrl+Y wherever that is not already one of them
    redo.setShortcuts(list(dict.fromkeys([*QKeySequence.keyBindings(Keys.Redo), QKeySequence("Ctrl+Y")])))
    for action, run in ((undo, window.undo), (redo, window.redo)):
        action.triggered.disconnect()  # the group's own slot: undo and redo go through the window instead
        action.triggered.connect(run)
        window.addAction(action)
        a.add(action)
    _action(window, a, "actionCut", "Cu&t", editing.cut, [Keys.Cut], "Cut the selection")
    _action(window, a, "actionCopy", "&Copy", editing.copy, [Keys.Copy], "Copy the selection")
    _action(window, a, "actionPaste", "&Paste", editing.paste, [Keys.Paste], "Paste nodes from the clipboard")
    _action(window, a, "actionDuplicate", "D&uplicate", editing.duplicate, ["Ctrl+D"], "Duplicate the selection")
    delete_keys = [*QKeySequence.keyBindings(Keys.Delete), QKeySequence(Qt.Key.Key_Backspace)]
    _action(window, a, "actionDelete", "&Delete", editing.delete_selection, delete_keys, "Delete the selection")
    _action(window, a, "actionSelectAll", "Select &All", editing.select_all, [Keys.SelectAll], "Select everything")
    _action(window, a, "actionAddNote", "Add &Note", editing.add_note, ["Ctrl+Shift+N"], "Add a comment note")
    _action(window, a, "actionAddFrame", "Add &Frame", editing.add_frame, ["Ctrl+G"],
            "Frame the selected nodes with a titled backdrop")
    preferences = _action(window, a, "actionPreferences", "Pre&ferences…", window.open_preferences,
                          [Keys.Preferences], "Change the limit on a tensor's elements")
    preferences.setMenuRole(QAction.MenuRole.PreferencesRole)
    history = window.history.toggleViewAction()
    history.setText("&History")
    history.setObjectName("actionHistory")
    a.add(history)


def _view_actions(window: MainWindow, a: Actions) -> None:
    view = window.view
    _action(window, a, "actionZoomIn", "Zoom &In", view.zoom_in, [Keys.ZoomIn, "Ctrl+="], "Zoom in")
    _action(window, a, "actionZoomOut", "Zoom &Out", view.zoom_out, [Keys.ZoomOut], "Zoom out")
    _action(window, a, "actionZoomReset", "&Actual Size", view.reset_zoom, ["Ctrl+0"], "Zoom to 100 %")
    _action(window, a, "actionFitView", "&Fit View", view.fit_all, ["F"], "Show the whole graph")
    _action(window, a, "actionFitSelection", "Fit &Selection", view.fit_selection, ["Shift+F"],
            "Show the selected nodes")
    _action(window, a, "actionAutoLayout", "Auto &Layout", window.commands.auto_layout, ["Ctrl+L"],
            "Arrange the selection (or the whole graph) in columns by depth")
    snap = _action(window, a, "actionSnapToGrid", "&Snap to Grid", _snap_setter(window), [], checkable=True,
                   tip="Snap dragged nodes to the grid")
    snap.setChecked(window.settings.snap_to_grid())
    minimap = _action(window, a, "actionMinimap", "&Overview", _minimap_setter(window), [], checkable=True,
                      tip="Show an overview of the whole graph")
    minimap.setChecked(window.settings.show_minimap())
    versions = _action(window, a, "actionShowVersions", "Show &Versions", _versions_setter(window), [],
                       checkable=True, tip="Show each tensor's version counter (tensor._version) on its node")
    versions.setChecked(window.settings.show_versions())
    _action(window, a, "actionLessonMode", "Play &Lesson", window.set_lesson_playing, ["Ctrl+Shift+L"],
            checkable=True, tip="Play the lesson as a learner (hidden values and gradients show ?), or author it")
    _action(window, a, "actionReveal", "&Reveal All", window.lesson_panel.reveal_everything, [],
            "Check every prediction typed in the Lesson panel and show every hidden item")
    group = QActionGroup(window)
    for choice in THEME_CHOICES:
        label = {"light": "&Light", "dark": "&Dark", "system": "Follow &System"}[choice]
        action = _action(window, a, f"actionTheme{choice.capitalize()}", label,
                         lambda _on, c=choice: window.set_theme(c), checkable=True)
        action.setChecked(window.settings.theme() == choice)
        group.addAction(action)


def _versions_setter(window: MainWindow) -> Callable[[bool], None]:
    def set_versions(on: bool) -> None:
        window.settings.set_show_versions(on)
        window.scene.set_show_versions(on)

    return set_versions


def _snap_setter(window: MainWindow) -> Callable[[bool], None]:
    def set_snap(on: bool) -> None:
        window.settings.set_snap_to_grid(on)
        window.scene.snap_to_grid = on

    return set_snap


def _minimap_setter(window: MainWindow) -> Callable[[bool], None]:
    def set_minimap(on: bool) -> None:
        window.settings.set_show_minimap(on)
        window.minimap.set_enabled(on)

    return set_minimap


def _graph_actions(window: MainWindow, a: Actions) -> None:
    tools = window.backward_tools
    _action(window, a, "actionBackward", "&Backward", tools.controller.run, ["Ctrl+B"],
            "Run backward from the selected scalar")
    _action(window, a, "actionStepBackward", "&Step Backward", tools.stepper.step, ["Ctrl+Shift+B"],
            "Walk the backward pass one grad_fn at a time")
    _action(window, a, "actionZeroGrad", "&Zero Grad", tools.controller.zero_grad, ["Ctrl+Shift+G"],
            "Clear every .grad")
    animator = tools.animator
    _action(window, a, "actionPlayForward", "Play &Forward", animator.play_forward, ["Ctrl+Alt+F"],
            "Animate the forward pass: values flow along the edges in topological order")
    _action(window, a, "actionPlayBackward", "Play Bac&kward", animator.play_backward, ["Ctrl+Alt+B"],
            "Animate the backward pass: gradients flow back in the engine's order")
    pause = _action(window, a, "actionPlayPause", "Pause &Animation", animator.set_paused, ["Ctrl+Alt+P"],
                    checkable=True, tip="Hold the animated pass where it is")
    pause.setEnabled(False)
    animator.playing_changed.connect(pause.setEnabled)
    animator.paused_changed.connect(pause.setChecked)
    a.add(_autograd_action(window))
    _action(window, a, "actionNoGrad", "&No Grad", tools.controller.set_no_grad, [], checkable=True,
            tip="Evaluate the whole graph under torch.no_grad()")
    panel = window.train_panel
    start = _action(window, a, "actionTrainStart", "&Train", _show_and(window, panel.start), ["Ctrl+T"],
                    "Train the parameters with the Train panel's settings")
    pause = _action(window, a, "actionTrainPause", "&Pause Training", panel.set_paused, [], checkable=True,
                    tip="Hold the training run between steps")
    stop = _action(window, a, "actionTrainStop", "St&op Training", panel.stop, [],
                   "Stop the run; the steps taken so far become one undoable edit")
    panel.use_actions(start, pause, stop)


def _show_and(window: MainWindow, start: Callable[[], bool]) -> Callable[[], None]:
    """Raise the Train panel, then start a run (its refusal shows there)."""
    def show_and_start() -> None:
        window.train_panel.show()
        window.train_panel.raise_()
        start()

    return show_and_start


def _autograd_action(window: MainWindow) -> QAction:
    """`actionAutogradGraph`: the autograd panel's show/hide toggle, raised to the front when shown."""
    dock = window.autograd_panel
    action = dock.toggleViewAction()
    action.setObjectName("actionAutogradGraph")
    action.setText("&Autograd Graph")
    action.setShortcut("Ctrl+Shift+A")
    action.setToolTip("Show the grad_fn graph PyTorch records for the backward target")
    action.setStatusTip(action.toolTip())
    action.toggled.connect(lambda on: QTimer.singleShot(0, dock.raise_) if on else None)
    window.addAction(action)
    return action


def _menus(window: MainWindow, a: Actions) -> None:
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addActions([a.actionNew, a.actionOpen])
    recent = file_menu.addMenu("Open &Recent")
    recent.aboutToShow.connect(lambda: window.files.fill_recent_menu(recent))
    examples = file_menu.addMenu("&Examples")
    examples.aboutToShow.connect(lambda: window.files.fill_examples_menu(examples))
    window.files.fill_examples_menu(examples)
    file_menu.addSeparator()
    file_menu.addActions([a.actionSave, a.actionSaveAs])
    file_menu.addSeparator()
    file_menu.addActions([a.actionExportImage, a.actionExportCode, a.actionImportCode])
    file_menu.addSeparator()
    file_menu.addActions([a.actionClose, a.actionQuit])
    edit_menu = bar.addMenu("&Edit")
    edit_menu.addActions([a.actionUndo, a.actionRedo, a.actionHistory])
    edit_menu.addSeparator()
    edit_menu.addActions([a.actionCut, a.actionCopy, a.actionPaste, a.actionDuplicate, a.actionDelete])
    edit_menu.addSeparator()
    edit_menu.addActions([a.actionSelectAll, a.actionAddNote, a.actionAddFrame])
    edit_menu.addSeparator()
    edit_menu.addAction(a.actionPreferences)
    view_menu = bar.addMenu("&View")
    view_menu.addActions([a.actionZoomIn, a.actionZoomOut, a.actionZoomReset, a.actionFitView,
                              a.actionFitSelection])
    view_menu.addSeparator()
    view_menu.addActions([a.actionAutoLayout, a.actionSnapToGrid, a.actionMinimap, a.actionAutogradGraph,
                           a.actionShowVersions])
    view_menu.addSeparator()
    view_menu.addActions([a.actionLessonMode, a.actionReveal])
    theme_menu = view_menu.addMenu("&Theme")
    theme_menu.addActions([a.actionThemeLight, a.actionThemeDark, a.actionThemeSystem])
    panels = view_menu.addMenu("&Panels")
    for dock in window.panels.values():
        panels.addAction(dock.toggleViewAction())
    graph_menu = bar.addMenu("&Graph")
    graph_menu.addActions([a.actionBackward, a.actionStepBackward, a.actionZeroGrad, a.actionNoGrad])
    graph_menu.addSeparator()
    graph_menu.addActions([a.actionPlayForward, a.actionPlayBackward, a.actionPlayPause])
    graph_menu.addSeparator()
    graph_menu.addActions([a.actionTrainStart, a.actionTrainPause, a.actionTrainStop])
    help_menu = bar.addMenu("&Help")
    help_menu.addAction("&About GradStudio", lambda: QMessageBox.about(
        window, "About GradStudio", "GradStudio: build autograd graphs by hand and watch them compute."))


def _toolbar(window: MainWindow, a: Actions) -> None:
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("mainToolbar")
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    toolbar.setIconSize(QSize(18, 18))
    for name, (theme_name, stem) in ACTION_ICONS.items():
        a.all[name].setIcon(action_icon(theme_name, stem))
    toolbar.addActions([a.actionNew, a.actionOpen, a.actionSave])
    toolbar.addSeparator()
    toolbar.addActions([a.actionUndo, a.actionRedo])
    toolbar.addSeparator()
    toolbar.addActions([a.actionFitView, a.actionAutoLayout])
    toolbar.addSeparator()
    toolbar.addActions([a.actionBackward, a.actionStepBackward, a.actionZeroGrad, a.actionNoGrad])
