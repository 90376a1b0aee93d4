"""The UI's workspace: one open graph with its undo stack, editor and refresh scheduling, behind a few signals.

The Qt-free `GraphWorkspace` owns the document, its evaluation and the backward
state; this object wraps it for the window. Every panel and controller binds to it
and repaints on its signals, so there is one path from a change to the screen:

- `values_changed`: an edit (or its undo) changed forward values; they are evaluated;
- `backward_changed(FlowView | None)`: gradients changed (Backward, Zero Grad) or their
  display did (a whole pass, one step of it, or nothing);
- `settings_changed(str)`: a document setting changed (`grad_mode`, `backward_target`);
- `selection_changed(list[str])`: the selected node ids changed;
- `message(str)`: something to say in the status bar (a refused edit, a result);
- `busy_changed(str | None)`: a job (a training run) started, with the reason edits are refused, or ended;
- `lesson_changed()`: a lesson's hidden items, its mode (author or play) or its reveals changed.

A refresh of many dirty nodes, or one after an evaluation that took long, evaluates in a worker thread
behind a modal progress dialog (`background.py`); Cancel leaves the rest dirty and held until the next
refresh, so no view computes it on the UI thread meanwhile.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from gradstudio.model.document import GraphDocument
from gradstudio.model.evaluation import BackwardResult, NodeResult
from gradstudio.model.flow_view import FlowView, flow_view
from gradstudio.model.lesson import LESSON_CHANGED, PredictionError
from gradstudio.model.lesson_play import Key, Lesson, Verdict
from gradstudio.model.workspace import GraphWorkspace, ShownGradient
from gradstudio.ui.background import evaluate_in_background
from gradstudio.ui.edit.editor import Editor
from gradstudio.ui.live_scrub import LiveScrub

# document events that change no value: they never call for a new evaluation
LAYOUT_EVENTS = frozenset({"node_moved", LESSON_CHANGED, "annotation_moved", "annotation_changed", "annotation_added",
                           "annotation_removed"})


EVALUATING = "an evaluation is running"


class Workspace(QObject):
    """One open graph in the window; panels bind to it, the window swaps it when another document opens."""

    background_nodes = 200  # a refresh of more dirty nodes than this runs in a worker thread...
    synchronous_seconds = 0.1  # ...unless the last evaluation's pace says it takes less than this
    background_seconds = 0.3  # so does one after an evaluation that took longer than this

    values_changed = Signal()
    backward_changed = Signal(object)
    settings_changed = Signal(str)
    selection_changed = Signal(object)
    message = Signal(str)
    busy_changed = Signal(object)
    lesson_changed = Signal()

    def __init__(self, document: GraphDocument | None = None, path: str | None = None,
                 display_name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = GraphWorkspace(document)
        self.undo_stack = QUndoStack(self)
        self.editor = Editor(self.model.document, self.model.evaluator, self.undo_stack)
        self.editor.refused.connect(self.message)
        self.lesson = Lesson(self.model, self.run_backward)  # a lesson file opens to be played
        self.path = path
        self.display_name = display_name or (Path(path).name if path else "Untitled")
        self.selection: list[str] = []
        self.flow: FlowView | None = None
        self.backward_result: BackwardResult | None = None
        self._refresh_pending = False
        self._regions_seen = 0
        self._evaluating = False
        self._last_seconds = 0.0
        self._seconds_per_node: float | None = None  # the last evaluation's pace
        self._closed = False
        self._running = False  # inside our own Backward or Zero Grad: they signal once, at the end
        self._holding = False  # inside `holding_display` (a scrub frame)
        self._held: set[str] = set()  # display events held meanwhile
        self.scrub = LiveScrub(self)
        self._unsubscribe_document = self.document.subscribe(self._on_document_event)
        self._unsubscribe_model = self.model.subscribe(self._on_model_event)
        self._saved_state = self.document.snapshot()
        self.undo_stack.indexChanged.connect(self._index_changed)
        if len(self.model.evaluator.dirty) > self.background_nodes:
            # a large graph is not evaluated by the first view to look: the first refresh does it, in a worker
            self.model.evaluator.held = True
            self.schedule_refresh()

    def mark_saved(self) -> None:
        """The document as it is now is what its file holds: the undo stack is clean here."""
        self._saved_state = self.document.snapshot()
        self.undo_stack.setClean()

    def _index_changed(self, _index: int) -> None:
        """An edit undone by its inverse (No Grad on, then off) brings the stack back to clean."""
        stack = self.undo_stack
        if stack.isClean() or stack.cleanIndex() < 0 or self._closed:
            return  # already clean, or no state of the stack is the saved one (a restored recovery file)
        try:
            same = self.document.state() == self._saved_state
        except ValueError:  # an attribute holding an array: not comparable cheaply, so call it changed
            same = False
        if same:
            stack.setClean()

    @property
    def document(self) -> GraphDocument:
        """The open graph document (the model object)."""
        return self.model.document

    def close(self) -> None:
        """Stop observing and signalling: the window is switching documents or closing."""
        if self._closed:
            return
        self.scrub.end()
        self._closed = True
        self._unsubscribe_document()
        self._unsubscribe_model()
        self.model.close()
        self.blockSignals(True)

    # ----- values ------------------------------------------------------------------------------------------------

    def results(self) -> Mapping[str, NodeResult]:
        """Every node's current result (evaluating what an edit made dirty first)."""
        return self.model.results()

    def result(self, node_id: str) -> NodeResult | None:
        """One node's current result."""
        return self.model.result(node_id)

    def shown_gradient(self, node_id: str) -> ShownGradient:
        """The gradient the node shows, and why (the model's one answer)."""
        return self.model.shown_gradient(node_id)

    def schedule_refresh(self) -> None:
        """Evaluate and signal `values_changed` once control returns to the event loop (edits come in bursts)."""
        if not self._refresh_pending and not self._closed:
            self._refresh_pending = True
            QTimer.singleShot(0, self, self._refresh_if_pending)

    def _refresh_if_pending(self) -> None:
        """The scheduled refresh, unless a `flush` ran it already (a scrub frame flushes at once)."""
        if self._refresh_pending:
            self.refresh()

    def refresh(self) -> None:
        """Evaluate now (a large set in a worker thread, with progress and Cancel) and tell every view."""
        self._refresh_pending = False
        if self._closed:
            return
        if self._evaluating:  # a refresh asked for inside the background one's event loop: run it after
            self._refresh_pending = True
            return
        evaluator = self.model.evaluator
        evaluator.held = False
        dirty = len(evaluator.dirty)
        started = time.monotonic()
        if dirty and (self._last_seconds > self.background_seconds or (
                dirty > self.background_nodes and self._predicted_seconds(dirty) >= self.synchronous_seconds)):
            completed = self._evaluate_in_background()
        else:
            self.model.results()
            completed = True
        if dirty:
            self._last_seconds = time.monotonic() - started
            self._seconds_per_node = self._last_seconds / dirty
        if not completed:
            evaluator.held = True
            left = len(evaluator.dirty)
            self.message.emit(f"Evaluation cancelled: {left:,} node{'s' if left != 1 else ''} not computed yet")
        self.values_changed.emit()
        if self._refresh_pending:  # asked for meanwhile: after a cancel the next edit asks again
            self._refresh_pending = False
            if completed:
                self.schedule_refresh()

    def _predicted_seconds(self, dirty: int) -> float:
        """How long evaluating `dirty` nodes should take at the last evaluation's pace (unknown: forever).

        A thousand cheap nodes compute in a few tens of milliseconds: a worker thread and a modal dialog
        would cost more than they save, and the values would show later."""
        return math.inf if self._seconds_per_node is None else dirty * self._seconds_per_node

    def _evaluate_in_background(self) -> bool:
        """Evaluate the dirty nodes in a worker thread with edits refused; False when cancelled."""
        self._evaluating = True
        previous = self.busy
        if previous is None:
            self.set_busy(EVALUATING)
        try:
            return evaluate_in_background(self.model.evaluator)
        finally:
            self._evaluating = False
            if previous is None:
                self.set_busy(None)

    def _on_document_event(self, event: str, payload: Any) -> None:
        if event == "settings_changed":
            self.settings_changed.emit(payload)
        if event == LESSON_CHANGED:
            self.lesson_changed.emit()
        if event == "node_removed" and payload.id in self.selection:
            self.set_selection([node_id for node_id in self.selection if node_id != payload.id])
        regions_version = self.model.evaluator.regions_version  # a node moved into or out of a grad-mode region
        if event not in LAYOUT_EVENTS or regions_version != self._regions_seen:
            self._regions_seen = regions_version
            self.schedule_refresh()

    def flush(self) -> None:
        """Run a pending refresh now, so what follows (a pin, a Backward) is not undone by a late one."""
        if self._refresh_pending:
            self.refresh()

    def _on_model_event(self, event: str, payload: Any) -> None:
        if self._running:
            return
        if self._holding and (event == "grads_changed" or payload is None):
            self._held.add(event)  # told at the end of the frame, unless a new pass replaced the display
        elif event == "backward_changed":
            if payload is None:
                self.clear_backward()
            else:
                self.show_backward(payload)
        elif event == "grads_changed":
            self.backward_changed.emit(self.flow)

    # ----- lesson -------------------------------------------------------------------------------------------------

    def set_lesson_playing(self, playing: bool) -> None:
        """Show the lesson as a learner plays it (hidden items masked) or as its author edits it."""
        if playing != self.lesson.playing:
            self.lesson.playing = playing
            self.lesson_changed.emit()

    def reveal(self, node_id: str, kind: str, text: str = "") -> Verdict:
        """Check a prediction and reveal the item (PredictionError, nothing revealed, for unreadable text)."""
        verdict = self.lesson.reveal(node_id, kind, text)
        self.lesson_changed.emit()
        return verdict

    def reveal_all(self, predictions: Mapping[Key, str]) -> None:
        """Reveal every item still hidden, checking its typed prediction (an unreadable one counts as none)."""
        lesson = self.lesson
        for key in lesson.items():
            if key not in lesson.verdicts:
                try:
                    lesson.reveal(*key, predictions.get(key, ""))
                except PredictionError:
                    lesson.reveal(*key)
        self.lesson_changed.emit()

    def restart_lesson(self) -> None:
        """Hide every item again and clear the score."""
        self.lesson.restart()
        self.lesson_changed.emit()

    # ----- jobs --------------------------------------------------------------------------------------------------

    @property
    def busy(self) -> str | None:
        """Why edits are refused now (a training run or an evaluation owns the graph), or None."""
        return self.editor.job

    def set_busy(self, reason: str | None) -> None:
        """A job owns the graph (`reason` says which: edits are refused with it) or, with None, gave it back."""
        if reason != self.editor.job:
            self.editor.job = reason
            self.busy_changed.emit(reason)

    # ----- settings ----------------------------------------------------------------------------------------------

    def no_grad(self) -> bool:
        """True while the whole graph evaluates under torch.no_grad()."""
        return self.document.settings.grad_mode == "no_grad"

    # ----- selection ---------------------------------------------------------------------------------------------

    def set_selection(self, node_ids: list[str]) -> None:
        """The canvas selected these nodes (document order); signal it when it changed."""
        node_ids = list(node_ids)
        if node_ids != self.selection:
            self.selection = node_ids
            self.selection_changed.emit(list(node_ids))

    def backward_start(self) -> str | None:
        """The node Backward starts from: the single selected node, else the document's backward target."""
        return self.selection[0] if len(self.selection) == 1 else self.document.settings.backward_target

    def name_of(self, node_id: str | None) -> str:
        """A node's variable name ('?' if it is gone)."""
        node = self.document.nodes.get(node_id) if node_id is not None else None
        return node.name if node is not None else "?"

    # ----- backward ----------------------------------------------------------------------------------------------

    def run_backward(self, target: str, gradient: Any = None) -> BackwardResult:
        """`target.backward(gradient)` on the model, then show the whole pass (engine errors propagate).

        After a cancelled evaluation the rest is evaluated first (in the background when large); cancelled
        again, the model refuses the pass.
        """
        if self.model.evaluator.held:
            self.refresh()
        self._running = True
        try:
            result = self.model.backward(target, gradient)
        finally:
            self._running = False
        self.show_backward(result)
        return result

    @contextmanager
    def holding_display(self) -> Iterator[None]:
        """Within, the backward display is taken down or repainted for an edit only if no new pass replaced it.

        A scrub frame changes a leaf and then runs the last Backward again: the canvas goes from one pass to
        the next without a bare frame between, and is painted once per frame, not three times.
        """
        self._holding, self._held = True, set()
        try:
            yield
        finally:
            self._holding, held = False, self._held
            self._held = set()
            if "backward_changed" in held:
                self.clear_backward()
            elif "grads_changed" in held:
                self.backward_changed.emit(self.flow)

    def show_backward(self, result: BackwardResult, step: int | None = None) -> None:
        """Display a pass (whole, or up to `step`)."""
        self._held = set()
        self.backward_result = result
        self.flow = flow_view(self.model.evaluator, result, step)
        self.backward_changed.emit(self.flow)

    def clear_backward(self) -> None:
        """Take the backward display down (the leaves' .grad stay)."""
        if self.flow is not None or self.backward_result is not None:
            self.flow, self.backward_result = None, None
            self.backward_changed.emit(None)

    def zero_grad(self) -> None:
        """Every .grad None again, and no backward display; gradient views repaint even when none was shown."""
        self._running = True
        try:
            self.model.zero_grad()
        finally:
            self._running = False
        self.flow, self.backward_result = None, None
        self.backward_changed.emit(None)
