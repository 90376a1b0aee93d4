"""Live scrubbing in the window: a drag (on a node face, or the inspector's slider) changes a leaf frame by frame.

`LiveScrub` belongs to one `Workspace`. A gesture calls `begin(node, cell)`, then
`move_to(value)` as often as the mouse moves: moves are coalesced, so the graph is
evaluated and the last Backward re-run (through the workspace, which repaints every
view) at most once per display frame. `end()` applies the last value and pushes the
whole drag as ONE undo step, whose undo restores the leaf exactly.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QGuiApplication

from gradstudio.model.document import EditError
from gradstudio.model.scrub import ScrubError, ScrubSession, rounded
from gradstudio.ui.edit.commands import ApplyEdit

if TYPE_CHECKING:
    from gradstudio.ui.workspace import Workspace

SCRUBBING = "a value is being scrubbed"
DEFAULT_RATE = 60.0  # frames per second when the screen does not say


def frame_seconds() -> float:
    """How long one display frame lasts (from the primary screen's refresh rate)."""
    screen = QGuiApplication.primaryScreen()
    rate = screen.refreshRate() if screen is not None else DEFAULT_RATE
    return 1.0 / (rate if rate and rate > 1 else DEFAULT_RATE)


class LiveScrub(QObject):
    """The drag of one leaf's number in one workspace; `sampled` after each frame, `ended` when it is over."""

    sampled = Signal(object)  # the ScrubSession, after a frame was applied
    ended = Signal(object)  # the ScrubSession, committed or cancelled

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        self.session: ScrubSession | None = None
        self.frames = 0  # evaluations run for drags so far (the coalescing is tested on it)
        self._pending: float | None = None
        self._last_frame = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.apply_pending)

    @property
    def active(self) -> bool:
        """True while a drag is under way."""
        return self.session is not None

    def begin(self, node_id: str, cell: int = 0) -> ScrubSession | None:
        """Start dragging a number of a leaf; None (and the reason in the status bar) when it cannot be."""
        workspace = self.workspace
        if self.session is not None:
            self.end()
        if workspace.busy is not None:
            workspace.message.emit(f"Scrub: {workspace.busy}")
            return None
        workspace.flush()
        try:
            self.session = ScrubSession(workspace.model, node_id, cell, backward=workspace.run_backward)
        except ScrubError as error:
            workspace.message.emit(f"Scrub {workspace.name_of(node_id)}: {error}")
            return None
        workspace.set_busy(SCRUBBING)  # no other edit, undo or redo in the middle of a drag
        return self.session

    def move_to(self, value: float) -> None:
        """The drag reached `value`: applied at the next frame (later moves in the same frame replace it)."""
        if self.session is None:
            return
        self._pending = value
        if not self._timer.isActive():
            wait = frame_seconds() - (time.monotonic() - self._last_frame)
            self._timer.start(max(0, round(wait * 1000)))

    def step(self, fine: bool = False) -> float:
        """What one pixel of drag changes now."""
        return self.session.step(fine) if self.session is not None else 0.0

    def apply_pending(self) -> None:
        """Apply the latest value asked for (one evaluation and one Backward), and repaint."""
        session, value = self.session, self._pending
        self._pending = None
        if session is None or value is None:
            return
        self._last_frame = time.monotonic()
        value = rounded(value, session.step(fine=True))
        if value == session.value:
            return
        try:
            with self.workspace.holding_display():
                session.set_value(value)
        except EditError as error:
            self.workspace.message.emit(f"Scrub {session.node.name}: {error}")
            return
        self.frames += 1
        self.workspace.flush()  # every face shows the new values now, not after the next event-loop turn
        self.sampled.emit(session)

    def end(self) -> bool:
        """The drag is over: apply its last value and push it as one undo step; True if it changed the leaf."""
        session = self.session
        if session is None:
            return False
        self._timer.stop()
        self.apply_pending()
        self.session = None
        self.workspace.set_busy(None)
        outcome = session.finish()
        if outcome is not None:
            edit, inverse = outcome
            editor = self.workspace.editor
            text = f"Scrub {session.node.name} to {session.value:g}"
            editor.stack.push(ApplyEdit(self.workspace.document, edit, inverse, text, editor.guard))
        self.workspace.flush()
        self.ended.emit(session)
        return outcome is not None

    def cancel(self) -> None:
        """Drop the drag: the leaf goes back to where it was, nothing is recorded."""
        session = self.session
        if session is None:
            return
        self._timer.stop()
        self._pending = None
        self.session = None
        self.workspace.set_busy(None)
        session.cancel()
        self.workspace.flush()
        self.ended.emit(session)
