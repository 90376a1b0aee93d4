"""The autograd graph view: PyTorch's grad_fn graph of the target, laid out by depth, highlighted after Backward."""

from __future__ import annotations

from typing import Any

import pytest
from backward_helpers import node_id, open_example, press_backward, press_step
from PySide6.QtCore import QPointF

from gradstudio.ui.main_window import MainWindow


@pytest.fixture
def notes(window: MainWindow) -> MainWindow:
    """The notes' example with the autograd view switched on from the View menu."""
    open_example(window, "notes_forward_backward")
    view_menu = next(action.menu() for action in window.menuBar().actions() if action.text() == "&View")
    [toggle] = [action for action in view_menu.actions() if action.objectName() == "actionAutogradGraph"]
    assert toggle.isCheckable() and not toggle.isChecked()
    toggle.trigger()
    assert window.autograd_panel.isVisible()
    return window


def labels(window: MainWindow) -> dict[str, str]:
    """Function id -> the name its box shows."""
    return {key: item.label for key, item in window.autograd_panel.items.items()}


def test_the_view_shows_the_grad_fn_graph_of_the_target(notes: MainWindow) -> None:
    dock = notes.autograd_panel
    assert notes.actions.actionAutogradGraph.isChecked()
    assert labels(notes) == {"f0": "MeanBackward0", "f1": "MulBackward0", "f2": "MulBackward0",
                             "f3": "AddBackward0", "f4": "AccumulateGrad"}
    assert "torch::autograd::AccumulateGrad" in dock.items["f4"].toolTip()
    assert "created by node x" in dock.items["f4"].toolTip()
    assert set(dock.edges) == {("f0", "f1", 0), ("f1", "f2", 0), ("f2", "f3", 0), ("f2", "f3", 1), ("f3", "f4", 0)}
    # layered by depth: AccumulateGrad on the left, the root on the right
    xs = [dock.items[key].rect().x() for key in ("f4", "f3", "f2", "f1", "f0")]
    assert xs == sorted(xs) and len(set(xs)) == 5


def test_backward_lights_the_same_path_in_the_view(notes: MainWindow, qtbot: Any) -> None:
    dock = notes.autograd_panel
    assert dock.lit_edges() == set()
    press_backward(qtbot, notes)
    assert dock.lit_edges() == set(dock.edges)
    assert dock.lit[("f3", "f4", 0)] > dock.lit[("f0", "f1", 0)]  # 6 flows into x, 1/3 out of the mean
    assert all(item.opacity() == 1.0 for item in dock.items.values())


def test_stepping_rings_the_current_function(notes: MainWindow, qtbot: Any) -> None:
    dock = notes.autograd_panel
    press_step(qtbot, notes)
    press_step(qtbot, notes)
    assert dock.current == "f1" and dock.lit_edges() == {("f0", "f1", 0), ("f1", "f2", 0)}
    assert dock.items["f4"].opacity() < 1.0 and dock.items["f1"].opacity() == 1.0


def test_selection_picks_the_graph_and_no_grad_empties_it(notes: MainWindow) -> None:
    dock = notes.autograd_panel
    notes.context_menus.build(notes.scene.nodes[node_id(notes, "y")], QPointF())  # selects y
    assert labels(notes) == {"f0": "AddBackward0", "f1": "AccumulateGrad"}
    notes.scene.clearSelection()
    notes.actions.actionNoGrad.trigger()
    notes.workspace.refresh()
    assert dock.items == {} and dock.stack.currentWidget() is dock.empty
    assert "No grad_fn: out was not recorded" in dock.empty.text()
