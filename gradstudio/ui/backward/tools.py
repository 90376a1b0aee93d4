"""The gradient tools of the main window in one place: Backward, stepping, the autograd view, gradient checks.

`BackwardTools(window)` is created before the actions (they call into it) and
`attach()` is called for every newly opened document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from gradstudio.model.gradcheck import GradCheckError, check_gradient
from gradstudio.ui.backward.controller import BackwardController
from gradstudio.ui.backward.stepper import StepController, build_step_panel
from gradstudio.ui.dialogs.gradcheck_dialog import GradCheckDialog
from gradstudio.ui.panels.autograd_view import build_autograd_dock

if TYPE_CHECKING:
    from gradstudio.ui.main_window import MainWindow


class BackwardTools:
    """Owns the backward controller, the step-through, the autograd view and the gradient-check dialog."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.controller = BackwardController(window)
        self.step_panel = build_step_panel(window)
        self.stepper = StepController(window, self.controller, self.step_panel)
        self.autograd, self.autograd_action = build_autograd_dock(window, self.controller)
        self._join_bottom_tabs()
        self.gradcheck_dialog: GradCheckDialog | None = None
        self.controller.display_changed.connect(lambda _view: self.autograd.refresh())

    def _join_bottom_tabs(self) -> None:
        """Share the tabs of the docks already below the canvas (side by side, each would be too narrow)."""
        window = self.window
        mine = (self.step_panel, self.autograd)
        bottom = [dock for dock in window.findChildren(QDockWidget) if dock not in mine
                  and window.dockWidgetArea(dock) == Qt.DockWidgetArea.BottomDockWidgetArea]
        if bottom:
            window.tabifyDockWidget(bottom[0], self.step_panel)
        window.tabifyDockWidget(self.step_panel, self.autograd)

    def attach(self) -> None:
        """Follow a newly opened document."""
        self.controller.attach()
        scene = self.window.scene
        scene.selectionChanged.connect(self._selection_changed)
        scene.values_refreshed.connect(self.autograd.refresh)
        self.autograd.refresh()

    def _selection_changed(self) -> None:
        if self.controller.result is None:
            self.autograd.refresh()

    def sync(self) -> None:
        """Follow the grad mode (after edits, undo and redo)."""
        self.controller.sync()

    def check_gradient(self, node_id: str) -> GradCheckDialog:
        """Compare autograd with finite differences for d target / d node, in a non-modal dialog."""
        window = self.window
        name = self.controller.name_of
        shown = self.controller.result
        target = shown.target if shown is not None else window.document.settings.backward_target
        dialog = self.gradcheck_dialog or GradCheckDialog("Check Gradient", window)
        self.gradcheck_dialog = dialog
        dialog.setWindowTitle(f"Check Gradient: {name(node_id)}")
        try:
            check = check_gradient(window.evaluator, node_id, target)
        except (GradCheckError, RuntimeError, ValueError, TypeError) as error:
            dialog.show_problem(str(error))
        else:
            dialog.show_check(check, name(node_id), name(check.target))
        dialog.show()
        dialog.raise_()
        return dialog
