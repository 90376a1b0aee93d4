"""The Train panel (`trainPanel`): choose what to train and how, then Start, Pause, Stop and watch the loss fall.

A run (`model/training.TrainRun`) works in a worker thread on the workspace's
own parameter tensors. The panel never waits for it: a timer polls the run a few
times a second, moves the progress bar, redraws the loss curve and asks the
workspace to repaint the values. While it runs, the workspace is busy, so edits,
undo and Backward are refused with the reason. When it ends (or is stopped) its
result becomes one undoable edit, "Train N steps"; undo restores the parameters.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtGui import QAction, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gradstudio.model.train_settings import TrainSettings
from gradstudio.ui.panels.base import PanelDock
from gradstudio.ui.widgets.charts import new_plot
from gradstudio.ui.workspace import Workspace

if TYPE_CHECKING:  # the form and the training model load with the form (the panel starts closed)
    from gradstudio.model.training import TrainResult, TrainRun
    from gradstudio.ui.panels.train_form import TrainForm

POLL_MS = 200  # how often a running job is looked at: progress, curve and canvas values
# While the worker runs, every return of the UI thread from Qt waits for the GIL until the worker gives it up:
# a short switch interval keeps each wait, and so the event loop's pauses, short.
SWITCH_INTERVAL = 0.0005
BUSY = "a training run is changing the parameters; pause or stop it first"


class TrainDock(PanelDock):
    """The training panel: a settings form, Start / Pause / Stop, a progress bar and a live loss curve."""

    follows = ("settings_changed", "values_changed")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Train", "trainPanel", parent)
        self._form: TrainForm | None = None  # built when first needed: the panel starts closed
        self._form_area = QScrollArea()
        self.progress = QProgressBar(objectName="trainProgress")
        self.status = QLabel("Choose a loss and press Start.", objectName="trainStatus")
        self.status.setWordWrap(True)
        self.log_scale = QCheckBox("Log scale", objectName="trainLogScale")
        self.plot = None  # pyqtgraph is imported with the first curve, never at start-up
        self.curve = None
        self.plot_box = QVBoxLayout()
        self.buttons = QHBoxLayout()
        self.run: TrainRun | None = None
        self.result: TrainResult | None = None
        self._thread: threading.Thread | None = None
        self._owner: Workspace | None = None
        self._shown_history: list[float] = []
        self._series = GrowingSeries()  # the history as an array, converted a poll's new steps at a time
        self._drawn_log: bool | None = None
        self._form_key: tuple | None = None
        self._switch_interval = sys.getswitchinterval()
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.log_scale.toggled.connect(self._draw)
        self._build()

    def _build(self) -> None:
        scroll = self._form_area
        scroll.setWidgetResizable(True)
        right = QVBoxLayout()
        self.buttons.addStretch()
        self.buttons.addWidget(self.log_scale)
        right.addLayout(self.buttons)
        right.addWidget(self.progress)
        right.addWidget(self.status)
        right.addLayout(self.plot_box, 1)
        body = QWidget()
        layout = QHBoxLayout(body)
        layout.addWidget(scroll, 2)
        layout.addLayout(right, 3)
        self.setWidget(body)

    @property
    def form(self) -> TrainForm:
        """The settings form, made when first asked for (the panel's first show at the latest): the panel starts
        closed, and its ~20 widgets cost start-up as much as all the other closed panels."""
        return self._ensure_form()

    def _ensure_form(self) -> TrainForm:
        if self._form is None:
            from gradstudio.ui.panels.train_form import TrainForm

            self._form = TrainForm()
            self._form_area.setWidget(self._form)
        return self._form

    def use_actions(self, start: QAction, pause: QAction, stop: QAction) -> None:
        """Show the window's Start / Pause / Stop actions as the panel's buttons."""
        self.actions = (start, pause, stop)
        for index, action in enumerate(self.actions):
            button = QToolButton()
            button.setDefaultAction(action)
            self.buttons.insertWidget(index, button)
        self._sync_actions()

    # ----- binding -----------------------------------------------------------------------------------------------

    def bind(self, workspace: Workspace) -> None:
        """Follow another document; a run on the old one is stopped and dropped."""
        if self.running:
            self.abandon()
        super().bind(workspace)

    def refresh(self) -> None:
        """Show the document's training settings and last loss history (not while a run is drawing its own)."""
        if self.workspace is None or self.running:
            return
        document = self.workspace.document
        settings = document.settings
        key = (settings.training, settings.backward_target,
               tuple((node_id, node.name, node.attributes.get("requires_grad")) for node_id, node in
                     document.nodes.items()))
        if key != self._form_key:  # keep the user's draft unless what it chooses from changed
            self._form_key = key
            draft = settings.training or (self.form.settings() if self.form.loss.count() else TrainSettings())
            self.form.show_settings(document, draft)
        self._shown_history = list(settings.loss_history)
        self._draw()

    @property
    def running(self) -> bool:
        """True from Start until the run's result is applied (paused included)."""
        return self.run is not None

    # ----- start, pause, stop ------------------------------------------------------------------------------------

    def start(self) -> bool:
        """Check the settings against the graph and start a run in a worker thread; False (and why) if refused."""
        workspace = self.workspace
        if workspace is None or self.running:
            return False
        if workspace.busy is not None:
            self._say(f"Train: {workspace.busy}")
            return False
        from gradstudio.model.training import TrainingError, TrainRun

        workspace.flush()
        settings = self.form.settings(workspace.document.settings.training)
        try:
            run = TrainRun(workspace.model, settings)
        except TrainingError as error:
            self._say(f"Train: {error}")
            return False
        self.run, self.result, self._owner = run, None, workspace
        self._shown_history = run.history
        self.progress.setRange(0, settings.steps)
        self.progress.setValue(0)
        self.status.setText(f"Training {len(run.parameters)} parameters for {settings.steps} steps…")
        workspace.set_busy(BUSY)
        self._ensure_plot()
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        self._thread = threading.Thread(target=self._work, name="gradstudio-train", daemon=True)
        self._thread.start()
        self.timer.start()
        self._sync_actions()
        return True

    def _work(self) -> None:
        self.result = self.run.run()

    def set_paused(self, paused: bool) -> None:
        """Hold or release the run between steps."""
        if self.run is None:
            return
        if paused:
            self.run.pause()
        else:
            self.run.resume()
        self.poll()
        self._sync_actions()

    def stop(self) -> None:
        """End the run before its next step; what it trained so far becomes the undoable edit."""
        if self.run is not None:
            self.run.stop()
            self._thread.join()
            self.poll()

    def abandon(self) -> None:
        """Stop the run and put its parameters back, without an edit (the document is being closed)."""
        if self.run is None:
            return
        run, owner = self.run, self._owner
        run.stop()
        self._thread.join()
        run.restore()
        self._end(owner)

    # ----- while it runs -----------------------------------------------------------------------------------------

    def poll(self) -> None:
        """Show the run's progress; apply its result once the worker has finished."""
        run = self.run
        if run is None:
            return
        # The worker waits between steps while the UI thread shows the run, and the layout and paint this
        # causes are done now, not later in the event loop: each call from Qt into Python (a node's paint, a
        # widget's size hint) must take the GIL back, and with the worker running, each waits for it.
        run.hold()
        try:
            self._show_progress(run)
            if self._owner is not None:
                self._owner.model.leaves_moved(run.parameters)
                self._owner.refresh()
            QCoreApplication.sendPostedEvents()
        finally:
            run.release()
        if self._thread is not None and not self._thread.is_alive():
            self._finish()

    def _show_progress(self, run: TrainRun) -> None:
        steps = len(run.history)
        self.progress.setValue(steps)
        last = f", loss {run.history[-1]:.6g}" if steps else ""
        state = "paused" if run.paused else "running"
        self.status.setText(f"Step {steps} of {run.settings.steps}{last} ({state})")
        self._draw()

    def _finish(self) -> None:
        run, result, owner = self.run, self.result, self._owner
        self._end(owner)
        if result is None or owner is None:
            return
        if result.steps == 0:
            run.restore()
            owner.refresh()
            self.status.setText("Stopped before the first step; nothing changed.")
            return
        from gradstudio.model.training import training_edit

        label = f"Train {result.steps} steps"
        owner.editor.apply(training_edit(owner.document, run.settings, result), label)
        ending = "stopped" if result.stopped else "done"
        if result.error is not None:
            ending = f"ended by an error: {result.error}"
        self.status.setText(f"{label}: {ending}; loss {result.history[-1]:.6g}. Undo restores the parameters.")
        self._say(f"{label}: {ending}")

    def _end(self, owner: Workspace | None) -> None:
        self.timer.stop()
        sys.setswitchinterval(self._switch_interval)
        self.run, self._thread, self._owner = None, None, None
        if owner is not None:
            owner.set_busy(None)
        self._sync_actions()

    # ----- drawing -----------------------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        # the plot's first paint is slow (pyqtgraph loads): pay it when the panel opens, not when a run starts
        self._ensure_form()  # there before the panel's first paint
        super().showEvent(event)
        self._ensure_plot()

    def _ensure_plot(self) -> None:
        if self.plot is None:
            self.plot = new_plot()
            self.plot.setObjectName("trainLossPlot")
            self.plot.setLabel("bottom", "step")
            self.plot.setLabel("left", "loss")
            # a million steps draw in the time of a few thousand: only what is in view, at most a point a pixel
            self.plot.setClipToView(True)
            self.plot.setDownsampling(auto=True, mode="peak")
            self.curve = self.plot.plot([], [])
            self.plot_box.addWidget(self.plot)

    def _draw(self) -> None:
        if self.plot is None and not self._shown_history:
            return
        self._ensure_plot()
        history = self._series.follow(self._shown_history)
        log = self.log_scale.isChecked()
        if log != self._drawn_log:  # changing the axes' mode lays the plot out again: only when it changes
            self._drawn_log = log
            self.plot.setLogMode(y=log)
        if log:
            history = np.where(history > 0, history, np.nan)  # log of 0 or less has no place on the axis
        self.curve.setData(self._series.steps(len(history)), history, connect="finite")

    def _sync_actions(self) -> None:
        actions = getattr(self, "actions", None)
        if actions is None:
            return
        start, pause, stop = actions
        start.setEnabled(not self.running)
        pause.setEnabled(self.running)
        stop.setEnabled(self.running)
        pause.setChecked(self.run is not None and self.run.paused)

    def _say(self, text: str) -> None:
        self.status.setText(text)
        if self.workspace is not None:
            self.workspace.message.emit(text)


class GrowingSeries:
    """A list of floats that only grows (a run's loss history) kept as a float64 array: each look converts
    only the values appended since the last, so a poll costs the same at step 100 and at step 100,000."""

    def __init__(self) -> None:
        self._source: list[float] | None = None
        self._values = np.empty(0)
        self._steps = np.empty(0)
        self._count = 0

    def follow(self, values: list[float]) -> np.ndarray:
        """The values as an array (a view of the buffer: read it before the next call)."""
        if values is not self._source or len(values) < self._count:
            self._source, self._count = values, 0
        new = len(values) - self._count
        if self._count + new > len(self._values):
            grown = np.empty(max(2 * len(self._values), self._count + new, 1024))
            grown[: self._count] = self._values[: self._count]
            self._values = grown
            self._steps = np.arange(1, len(grown) + 1, dtype=np.float64)
        self._values[self._count: self._count + new] = values[self._count: self._count + new]
        self._count += new
        return self._values[: self._count]

    def steps(self, count: int) -> np.ndarray:
        """1, 2, ..., count (at most the values followed) as the x values of the curve."""
        return self._steps[:count]

