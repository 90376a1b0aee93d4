"""Play Forward and Play Backward: passes animated on a timer, pausable, stopped by an edit, off in Preferences."""

from __future__ import annotations

from typing import Any

import pytest
from backward_helpers import node_id, open_example
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from gradstudio.ui.main_window import MainWindow

CTRL_ALT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
FAST = 0.05  # seconds per pass: the fastest the settings allow, so the tests stay quick


@pytest.fixture
def notes(window: MainWindow) -> MainWindow:
    """The notes' example, animations at their fastest."""
    window.settings.set_animation_seconds(FAST)
    return open_example(window, "notes_forward_backward")


def test_play_backward_walks_the_engines_order_to_the_end(notes: MainWindow, qtbot: Any) -> None:
    animator = notes.backward_tools.animator
    seen: list[str] = []
    notes.workspace.backward_changed.connect(
        lambda view: seen.append(notes.document.nodes[view.current].name) if view is not None and view.current
        else None)
    with qtbot.waitSignal(animator.finished, timeout=5000) as finished:
        qtbot.keyClick(notes.view, Qt.Key.Key_B, CTRL_ALT)
        assert animator.playing  # the key returned at once: the pass plays on while input goes on
    assert finished.args == ["backward"]
    assert seen == ["out", "z", "y_squared", "y", "x"]  # Step Backward's order, each grad_fn in turn
    assert not animator.playing
    assert notes.workspace.flow is not None and notes.workspace.flow.step is None  # the whole pass at the end
    assert notes.workspace.model.grad(node_id(notes, "x")) is not None


def test_play_forward_lights_the_nodes_in_topological_order(notes: MainWindow, qtbot: Any) -> None:
    animator = notes.backward_tools.animator
    highlight = notes.scene.highlight
    rings: list[str] = []
    original = highlight.show_forward

    def record(order: list[str], index: int) -> None:
        original(order, index)
        rings.append(notes.document.nodes[order[index]].name)

    highlight.show_forward = record
    notes.actions.actionPlayForward.trigger()
    qtbot.waitUntil(lambda: not animator.playing, timeout=5000)
    assert rings == [notes.document.nodes[n].name for n in notes.document.topological_order()]
    assert all(item.opacity() == 1.0 for item in notes.scene.nodes.values())  # the canvas is back as it was


def test_pause_holds_the_pass_and_an_edit_stops_it_cleanly(notes: MainWindow, qtbot: Any) -> None:
    notes.settings.set_animation_seconds(2.0)  # slow enough to catch it part-way
    animator = notes.backward_tools.animator
    notes.actions.actionPlayBackward.trigger()
    qtbot.waitUntil(lambda: animator.index >= 1, timeout=5000)
    notes.actions.actionPlayPause.trigger()
    assert animator.paused and notes.actions.actionPlayPause.isChecked()
    held = notes.backward_tools.stepper.index
    qtbot.wait(600)
    assert notes.backward_tools.stepper.index == held
    notes.actions.actionPlayPause.trigger()
    assert not animator.paused
    notes.scene.select([node_id(notes, "two")])  # an edit mid-animation: the scalar 2 becomes 5
    notes.inspector.fields["value"].editor.setText("5")
    notes.inspector.fields["value"].commit_pending()
    notes.workspace.flush()
    assert not animator.playing and not notes.actions.actionPlayPause.isEnabled()
    assert notes.workspace.flow is None  # the pass belonged to the old values
    assert notes.workspace.model.value(node_id(notes, "out")).item() == pytest.approx(108.0)


def test_preferences_turn_animations_off(notes: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        qtbot.mouseClick(dialog.animate_check, Qt.MouseButton.LeftButton)
        assert not dialog.seconds_spin.isEnabled()
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()

    QTimer.singleShot(50, answer)
    notes.actions.actionPreferences.trigger()
    assert notes.settings.animate_passes() is False
    animator = notes.backward_tools.animator
    notes.actions.actionPlayBackward.trigger()
    assert not animator.playing  # the finished pass at once
    assert notes.workspace.flow is not None and notes.workspace.flow.step is None
    notes.actions.actionPlayForward.trigger()
    assert not animator.playing


def test_play_forward_ends_a_backward_walk_first(notes: MainWindow, qtbot: Any) -> None:
    notes.settings.set_animation_seconds(2.0)
    animator = notes.backward_tools.animator
    notes.actions.actionPlayBackward.trigger()
    qtbot.waitUntil(lambda: animator.index >= 1, timeout=5000)
    qtbot.keyClick(notes.view, Qt.Key.Key_F, CTRL_ALT)
    assert animator.kind == "forward" and notes.backward_tools.stepper.index is None
    assert "Backward done" in notes.backward_tools.step_panel.text.toPlainText()
    animator.stop()
    assert notes.workspace.flow is not None and notes.workspace.flow.step is None  # the whole pass is back
