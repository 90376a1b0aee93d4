"""The gradient tools of the main window in one place: Backward, stepping, the autograd view, gradient checks.

`BackwardTools(window)` is created before the actions (they call into it) and
`attach()` is called for every newly opened document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from gradstudio.model.gradcheck import GradCheckError, check_gradient
from gradstudio.ui.autograd_view import build_autograd_dock
from gradstudio.ui.backward import BackwardController
from gradstudio.ui.gradcheck_dialog import GradCheckDialog
from gradstudio.ui.stepper import StepController, build_step_panel

if TYPE_CHECKING:
    from gradstudio.ui.main_window import MainWindow

BOTTOM_HEIGHT = 240


class BackwardTools:
    """Owns the backward controller, the step-through, the autograd view and the gradient-check dialog."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.controller = BackwardController(window)
        self.step_panel = build_step_panel(window)
        self.stepper = StepController(window, self.controller, self.step_panel)
        self.autograd, self.autograd_action = build_autograd_dock(window, self.controller)
        window.tabifyDockWidget(self.step_panel, self.autograd)
        self._sized = False
        for dock in (self.step_panel, self.autograd):
            dock.visibilityChanged.connect(self._size_bottom_docks)
        self.gradcheck_dialog: GradCheckDialog | None = None
        self.controller.display_changed.connect(lambda _view: self.autograd.refresh())

    def _size_bottom_docks(self, visible: bool) -> None:
        """The first time a bottom dock opens, give it a third of the window's height, not half."""
        if visible and not self._sized:
            self._sized = True
            dock = self.step_panel if self.step_panel.isVisible() else self.autograd
            self.window.resizeDocks([dock], [BOTTOM_HEIGHT], Qt.Orientation.Vertical)

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
