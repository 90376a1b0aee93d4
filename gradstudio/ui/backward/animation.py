"""Play Forward and Play Backward: a pass as a short animation that never blocks input.

Forward lights the nodes in topological order, each with the edges that bring its
inputs; Backward walks the engine's order through the same step model as Step
Backward (`StepController`), so the canvas and the Backward Steps panel show each
grad_fn in turn. A `QTimer` drives both (no sleeping loop): the user can pause, go on
editing, and any edit stops the animation cleanly. One pass takes the seconds set in
Preferences, whatever the graph's size; with animations turned off, playing a pass
shows it finished at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QGraphicsView

from gradstudio.ui.backward.controller import BackwardController
from gradstudio.ui.backward.stepper import StepController
from gradstudio.ui.settings import ANIMATION_SECONDS, AppSettings

if TYPE_CHECKING:
    from gradstudio.ui.canvas.scene import GraphScene
    from gradstudio.ui.workspace import Workspace

FORWARD, BACKWARD = "forward", "backward"


class PassAnimator(QObject):
    """Plays one pass at a time on the bound workspace's canvas; `finished(kind)` when one reaches its end."""

    finished = Signal(str)
    playing_changed = Signal(bool)
    paused_changed = Signal(bool)

    def __init__(self, canvas: QGraphicsView, controller: BackwardController, stepper: StepController,
                 settings: AppSettings | None = None) -> None:
        super().__init__(canvas)
        self.canvas = canvas
        self.controller = controller
        self.stepper = stepper
        self.settings = settings
        self.workspace: Workspace | None = None
        self.kind: str | None = None
        self.order: list[str] = []
        self.index = -1
        self.paused = False
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)

    def bind(self, workspace: Workspace) -> None:
        """Animate passes of `workspace` from now on (one playing on the previous one stops)."""
        self.stop()
        if self.workspace is not None:
            self.workspace.values_changed.disconnect(self._edited)
            self.workspace.undo_stack.indexChanged.disconnect(self._edited)
        self.workspace = workspace
        workspace.values_changed.connect(self._edited)
        workspace.undo_stack.indexChanged.connect(self._edited)

    @property
    def playing(self) -> bool:
        """True while a pass is under way (paused or not)."""
        return self.kind is not None

    def animated(self) -> bool:
        """Whether the settings ask for animations."""
        return self.settings is None or self.settings.animate_passes()

    def seconds(self) -> float:
        """How long one pass takes."""
        return self.settings.animation_seconds() if self.settings is not None else ANIMATION_SECONDS

    def scene(self) -> GraphScene:
        """The canvas's scene."""
        return self.canvas.scene()  # type: ignore[return-value]

    # ----- playing -----------------------------------------------------------------------------------------------

    def play_forward(self) -> None:
        """Values flow along the edges, node by node in topological order."""
        self.stop()
        if self.stepper.index is not None:  # a Backward walk under way ends (showing its whole pass) first
            self.stepper.finish()
        workspace = self.workspace
        workspace.flush()
        if not self.animated():
            workspace.message.emit("Forward: every value is computed (animations are off in Preferences)")
            return
        self.order = [node_id for node_id in workspace.document.topological_order() if node_id in self.scene().nodes]
        if not self.order:
            return
        self._start(FORWARD, len(self.order))
        self._tick()

    def play_backward(self) -> None:
        """Gradients flow back, one grad_fn at a time in the engine's order (Step Backward's walk, on a timer)."""
        self.stop()
        if not self.animated():
            self.controller.run()
            return
        self.stepper.step()  # the walk's first step: replays the last pass, or runs one (maybe asking a gradient)
        result = self.stepper.result
        if self.stepper.index is None or result is None:
            return
        self._start(BACKWARD, len(result.steps))

    def _start(self, kind: str, steps: int) -> None:
        self.kind, self.index = kind, 0 if kind == BACKWARD else -1
        self._set_paused_flag(False)
        self._timer.start(max(1, round(self.seconds() * 1000 / max(steps, 1))))
        self.playing_changed.emit(True)
        self.workspace.message.emit(f"Playing {kind}: {steps} step{'s' if steps != 1 else ''}")

    def _tick(self) -> None:
        if self.kind == FORWARD:
            self.index += 1
            if self.index >= len(self.order):
                self._done()
                return
            self.scene().highlight.show_forward(self.order, self.index)
        elif self.kind == BACKWARD:
            if self.stepper.index is None:  # the walk was ended elsewhere
                self.stop()
                return
            self.stepper.go(self.stepper.index + 1)  # past the last step it shows the whole pass
            self.index = self.stepper.index if self.stepper.index is not None else self.index + 1
            if self.stepper.index is None:
                self._done()

    def _done(self) -> None:
        kind = self.kind
        self.stop()
        self.finished.emit(kind)

    def set_paused(self, paused: bool) -> None:
        """Hold the pass where it is (True) or go on."""
        if not self.playing:
            self._set_paused_flag(False)
            return
        self._set_paused_flag(paused)
        if paused:
            self._timer.stop()
        else:
            self._timer.start()

    def _set_paused_flag(self, paused: bool) -> None:
        if paused != self.paused:
            self.paused = paused
            self.paused_changed.emit(paused)

    def stop(self) -> None:
        """End the pass now; the canvas shows again what the workspace holds (a Backward walk stays where it is)."""
        self._timer.stop()
        kind, self.kind = self.kind, None
        self._set_paused_flag(False)
        if kind == FORWARD:
            scene = self.scene()
            scene.highlight.clear()
            scene.show_backward(self.workspace.flow)
        if kind is not None:
            self.playing_changed.emit(False)

    def _edited(self, *_args: object) -> None:
        """Any edit (or undo) stops a pass: its values or its gradients are no longer the graph's."""
        if self.playing:
            self.stop()
