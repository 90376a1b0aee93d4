"""Training through the real window: Start, a falling loss, Pause, Resume, Stop, one undo step that restores the
parameters exactly, edits refused while it runs, the run saved and reopened; data loaded from files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from backward_helpers import item
from panel_helpers import click_node, node_id, open_example, settle
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton, QToolButton, QWidget
from ui_helpers import DialogRecorder

from gradstudio.model.train_settings import MAX_STEPS
from gradstudio.ui.main_window import MainWindow

LONG_RUN = MAX_STEPS  # more steps than any test waits for: a run the test stops itself (a fast engine did 200,000)

PARAMETERS = ("W1", "b1", "W2", "b2")


def _values(window: MainWindow) -> dict[str, np.ndarray]:
    return {name: window.workspace.model.value(node_id(window, name)).detach().numpy().copy() for name in PARAMETERS}


def _button(window: MainWindow, action_name: str) -> QToolButton:
    action = window.actions.all[action_name]
    return next(button for button in window.train_panel.findChildren(QToolButton) if button.defaultAction() is action)


def _click(qtbot: Any, window: MainWindow, action_name: str) -> None:
    qtbot.mouseClick(_button(window, action_name), Qt.MouseButton.LeftButton)


def _type_steps(qtbot: Any, window: MainWindow, steps: int) -> None:
    box = window.train_panel.form.steps
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, str(steps))
    qtbot.keyClick(box, Qt.Key.Key_Tab)
    assert box.value() == steps


def test_train_pause_resume_stop_undo_save_and_reopen(qtbot: Any, window: MainWindow, dialogs: DialogRecorder,
                                                      tmp_path: Path) -> None:
    open_example(window, "xor_mlp")
    panel = window.train_panel
    panel.show()
    panel.raise_()
    settle()
    assert panel.form.loss.currentText() == "loss" and panel.form.optimiser.currentText() == "Adam"
    before, snapshot = _values(window), window.document.snapshot()
    _type_steps(qtbot, window, LONG_RUN)
    _click(qtbot, window, "actionTrainStart")
    assert panel.running and window.workspace.busy is not None
    qtbot.waitUntil(lambda: panel.progress.value() >= 30, timeout=20_000)
    history = list(panel.run.history)
    assert history[-1] < history[0]
    assert panel.curve.getData()[1] is not None and len(panel.curve.getData()[1]) >= 30
    # the canvas shows the parameters and the loss moving while the run goes on
    first_loss = window.workspace.model.value(node_id(window, "loss")).item()
    qtbot.waitUntil(lambda: not np.array_equal(_values(window)["W1"], before["W1"]), timeout=5_000)
    qtbot.waitUntil(lambda: window.workspace.model.value(node_id(window, "loss")).item() < first_loss,
                    timeout=5_000)

    # edits and Backward wait for the run, saying why; undo is off
    click_node(qtbot, window, "b2")
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Delete)
    settle()
    assert node_id(window, "b2") in window.document.nodes
    assert "training run" in window.statusBar().currentMessage()
    assert not window.actions.actionBackward.isEnabled() and not window.undo_group.canUndo()

    _click(qtbot, window, "actionTrainPause")
    assert panel.run.paused and window.actions.actionTrainPause.isChecked()
    qtbot.wait(300)
    paused_at = len(panel.run.history)
    qtbot.wait(400)
    assert len(panel.run.history) == paused_at and "paused" in panel.status.text()
    _click(qtbot, window, "actionTrainPause")
    qtbot.waitUntil(lambda: len(panel.run.history) > paused_at + 10, timeout=10_000)
    _click(qtbot, window, "actionTrainStop")
    settle()
    assert not panel.running and window.workspace.busy is None
    steps = len(window.document.settings.loss_history)
    assert window.undo_stack.undoText() == f"Train {steps} steps" and paused_at + 10 < steps < LONG_RUN
    trained = _values(window)
    assert not np.array_equal(trained["W1"], before["W1"])
    assert window.actions.actionBackward.isEnabled() and window.undo_group.canUndo()

    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle()
    assert window.document.snapshot() == snapshot
    for name, array in before.items():
        np.testing.assert_array_equal(_values(window)[name], array)
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    settle()
    history = window.document.settings.loss_history
    assert len(history) == steps

    path = tmp_path / "trained.gsg"
    dialogs.answers["getSaveFileName"] = (str(path), "")
    window.actions.actionSave.trigger()
    window.actions.actionClose.trigger()
    assert window.document.nodes == {}
    dialogs.answers["getOpenFileName"] = (str(path), "")
    window.actions.actionOpen.trigger()
    settle()
    for name, array in trained.items():
        np.testing.assert_array_equal(_values(window)[name], array)
    assert window.document.settings.loss_history == history
    assert window.train_panel.form.steps.value() == LONG_RUN
    assert len(window.train_panel.curve.yData) == steps  # all of it (getData gives what is drawn: downsampled)


def test_a_graph_without_a_loss_is_refused_with_a_reason(qtbot: Any, window: MainWindow) -> None:
    window.train_panel.show()
    _click(qtbot, window, "actionTrainStart")
    assert not window.train_panel.running
    assert "choose the loss node" in window.train_panel.status.text()


def test_log_scale_redraws_the_curve(qtbot: Any, window: MainWindow) -> None:
    open_example(window, "linear_regression")
    panel = window.train_panel
    panel.show()
    _type_steps(qtbot, window, 40)
    _click(qtbot, window, "actionTrainStart")
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)
    qtbot.mouseClick(panel.log_scale, Qt.MouseButton.LeftButton, pos=panel.log_scale.rect().center())
    assert panel.log_scale.isChecked() and panel.plot.getPlotItem().ctrl.logYCheck.isChecked()


def test_load_data_fills_a_tensor_and_a_bad_file_changes_nothing(qtbot: Any, window: MainWindow,
                                                                 dialogs: DialogRecorder, tmp_path: Path) -> None:
    open_example(window, "linear_regression")
    click_node(qtbot, window, "X")
    button = window.inspector.findChild(QPushButton, "loadDataButton")
    bad = tmp_path / "bad.csv"
    bad.write_text("x\n1\n2\nthree\n", encoding="utf-8")
    snapshot, depth = window.document.snapshot(), window.undo_stack.count()
    dialogs.answers["getOpenFileName"] = (str(bad), "")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.document.snapshot() == snapshot and window.undo_stack.count() == depth
    assert "row 3, column 1: expected a number, got 'three'" in window.inspector.status.text()
    good = tmp_path / "x.csv"
    good.write_text("x\n0\n1\n2\n3\n", encoding="utf-8")
    dialogs.answers["getOpenFileName"] = (str(good), "")
    qtbot.mouseClick(window.inspector.findChild(QPushButton, "loadDataButton"), Qt.MouseButton.LeftButton)
    QApplication.processEvents()
    assert window.document.nodes[node_id(window, "X")].attributes["shape"] == (4,)
    assert window.undo_stack.undoText() == "Load data into X"


def test_the_values_panel_draws_a_classifiers_decision_regions(qtbot: Any, window: MainWindow) -> None:
    open_example(window, "softmax_classifier")
    window.values_panel.show()
    click_node(qtbot, window, "logits")
    plot = window.values_panel.findChild(QWidget, "regionsPlot")
    assert plot is not None and plot.isVisibleTo(window)
    image = next(item for item in plot.getPlotItem().items if type(item).__name__ == "ImageItem")
    assert image.image.shape[:2] == (80, 80)
    click_node(qtbot, window, "loss")
    assert not plot.isVisibleTo(window)


def test_closing_the_window_stops_the_run_and_asks_to_save_what_it_trained(qtbot: Any, window: MainWindow,
                                                                          dialogs: DialogRecorder) -> None:
    open_example(window, "xor_mlp")
    panel = window.train_panel
    panel.show()
    _type_steps(qtbot, window, LONG_RUN)
    _click(qtbot, window, "actionTrainStart")
    qtbot.waitUntil(lambda: panel.progress.value() >= 5, timeout=20_000)
    window.close()  # the prompt answers Cancel: the window stays, with the run applied as an edit
    assert not panel.running and window.isVisible() and window.isWindowModified()
    assert window.undo_stack.undoText().startswith("Train ") and "question" in dialogs.names()



def test_the_canvas_shows_the_parameters_moving_while_a_run_goes_on(qtbot: Any, window: MainWindow) -> None:
    open_example(window, "xor_mlp")
    panel = window.train_panel
    panel.show()
    settle()
    leaf = item(window, "W1")
    shown_before = leaf.preview().values
    panel.form.steps.setValue(LONG_RUN)
    _click(qtbot, window, "actionTrainStart")
    qtbot.waitUntil(lambda: panel.progress.value() >= 30, timeout=20_000)
    # a poll reads the parameters changed in place and the leaf's face shows them, not its values at Start
    qtbot.waitUntil(lambda: leaf.preview().values != shown_before, timeout=5_000)
    _click(qtbot, window, "actionTrainStop")
    settle()
    values = window.workspace.model.value(node_id(window, "W1")).detach().numpy()
    assert leaf.preview().values.startswith(f"[{values.reshape(-1)[0]:.4g}")
