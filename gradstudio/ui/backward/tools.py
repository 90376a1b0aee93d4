"""The gradient tools of the main window in one place: Backward, stepping, animated passes, the gradient check.

`BackwardTools` is created once per window (the actions call into it) and bound
to each newly opened workspace.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QGraphicsView

from gradstudio.ui.backward.animation import PassAnimator
from gradstudio.ui.backward.controller import BackwardController
from gradstudio.ui.backward.stepper import StepController
from gradstudio.ui.panels.step_panel import StepPanel
from gradstudio.ui.settings import AppSettings
from gradstudio.ui.workspace import Workspace

if TYPE_CHECKING:  # the gradient check and its dialog load when a check is first asked for
    from gradstudio.ui.dialogs.gradcheck_dialog import GradCheckDialog


class BackwardTools:
    """Owns the backward controller, the step-through and the gradient-check dialog."""

    def __init__(self, canvas: QGraphicsView, step_panel: StepPanel, settings: AppSettings | None = None) -> None:
        self.canvas = canvas
        self.workspace: Workspace | None = None
        self.controller = BackwardController(canvas)
        self.step_panel = step_panel
        self.stepper = StepController(self.controller, step_panel)
        self.animator = PassAnimator(canvas, self.controller, self.stepper, settings)
        self.gradcheck_dialog: GradCheckDialog | None = None

    def bind(self, workspace: Workspace) -> None:
        """Work on `workspace` from now on."""
        self.workspace = workspace
        self.controller.bind(workspace)
        self.stepper.bind(workspace)
        self.animator.bind(workspace)

    def check_gradient(self, node_id: str) -> GradCheckDialog:
        """Compare autograd with finite differences for d target / d node, in a non-modal dialog."""
        from gradstudio.model.gradcheck import GradCheckError, check_gradient
        from gradstudio.ui.dialogs.gradcheck_dialog import GradCheckDialog

        workspace = self.workspace
        name = workspace.name_of
        shown = workspace.backward_result
        target = shown.target if shown is not None else workspace.document.settings.backward_target
        dialog = self.gradcheck_dialog or GradCheckDialog("Check Gradient", self.canvas.window())
        self.gradcheck_dialog = dialog
        dialog.setWindowTitle(f"Check Gradient: {name(node_id)}")
        try:
            check = check_gradient(workspace.model.evaluator, node_id, target)
        except (GradCheckError, RuntimeError, ValueError, TypeError) as error:
            dialog.show_problem(str(error))
        else:
            dialog.show_check(check, name(node_id), name(check.target))
        dialog.show()
        dialog.raise_()
        return dialog
