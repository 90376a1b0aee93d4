"""Broadcasting made visible and formulas with the numbers: the marker on the softmax example's bias wire, and
the tool tip of a hovered wire, checked against the engine's gradients."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from backward_helpers import item, node_id, open_example, press_backward
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QToolTip

from gradstudio.model.derivatives import number_text
from gradstudio.model.edits import Disconnect
from gradstudio.ui.canvas.edge_items import EdgeItem
from gradstudio.ui.main_window import MainWindow


def wire(window: MainWindow, target: str, port: str) -> EdgeItem:
    """The canvas item of the wire into `target`'s `port`."""
    return window.scene.edges[(node_id(window, target), port)]


def wire_point(window: MainWindow, item: EdgeItem) -> QPoint:
    """A viewport point on the wire, a third of the way along (clear of the label at the midpoint)."""
    window.view.centerOn(item)
    return window.view.mapFromScene(item.point_at(0.3))


def move_onto(qtbot: Any, window: MainWindow, point: QPoint) -> None:
    """Move the mouse, no button held, onto `point` of the canvas, as a user would."""
    QToolTip.hideText()
    window.activateWindow()  # Qt shows tool tips of the active window only
    qtbot.waitUntil(window.isActiveWindow)
    viewport = window.view.viewport()
    if QApplication.mouseButtons() != Qt.MouseButton.NoButton:  # QTest may think an earlier test's button is held
        qtbot.mouseRelease(viewport, QApplication.mouseButtons(), pos=point - QPoint(30, 30))
    qtbot.mouseMove(viewport, point - QPoint(30, 30))
    qtbot.mouseMove(viewport, point)


def hover(qtbot: Any, window: MainWindow, point: QPoint) -> str:
    """Move onto `point` and wait for the tool tip."""
    move_onto(qtbot, window, point)
    qtbot.waitUntil(QToolTip.isVisible, timeout=5000)
    return QToolTip.text()


@pytest.fixture
def softmax(window: MainWindow) -> MainWindow:
    return open_example(window, "softmax_classifier")


def test_bias_wire_shows_its_broadcast_and_after_backward_how_it_was_summed(softmax: MainWindow, qtbot: Any) -> None:
    bias = wire(softmax, "logits", "b")
    assert (bias.label, bias.broadcast) == ("[3] → [6, 3]", True)
    marker = bias.marker  # its own item above the nodes: never hidden under a face
    assert marker.scene() is softmax.scene and marker.text == bias.label
    assert marker.zValue() > item(softmax, "logits").zValue() > bias.zValue()
    assert not wire(softmax, "logits", "a").broadcast  # XW already has the output's shape
    press_backward(qtbot, softmax)
    assert bias.label == "[3] → [6, 3]\nsummed over dim 0"
    flowed = softmax.workspace.backward_result
    b_grad = softmax.workspace.model.grad(node_id(softmax, "b")).numpy()
    logits_grad = flowed.node_grads[node_id(softmax, "logits")].numpy()
    np.testing.assert_allclose(b_grad, logits_grad.sum(axis=0), rtol=1e-6)  # what "summed over dim 0" says
    softmax.workspace.zero_grad()
    assert bias.label == "[3] → [6, 3]" and marker.text == bias.label
    softmax.workspace.editor.apply(Disconnect(bias.edge), "disconnect b")  # the marker goes with its wire
    assert marker.scene() is None and softmax.scene.edges.get((node_id(softmax, "logits"), "b")) is None


def test_hovering_the_bias_wire_shows_its_formula_with_the_engines_numbers(softmax: MainWindow, qtbot: Any) -> None:
    press_backward(qtbot, softmax)
    text = hover(qtbot, softmax, wire_point(softmax, wire(softmax, "logits", "b")))
    incoming = softmax.workspace.backward_result.node_grads[node_id(softmax, "logits")].numpy()
    b_grad = softmax.workspace.model.grad(node_id(softmax, "b")).numpy()
    assert text.startswith("at [0, 0]: ∂logits/∂b = 1")
    assert f"times the incoming {number_text(incoming[0, 0])}, gives {number_text(incoming[0, 0])}" in text
    assert text.endswith(f"summed over dim 0 to [3]: {number_text(b_grad[0])}")


def test_hovering_a_notes_wire_reads_local_derivative_times_incoming(window: MainWindow, qtbot: Any) -> None:
    notes = open_example(window, "notes_forward_backward")
    press_backward(qtbot, notes)
    text = hover(qtbot, notes, wire_point(notes, wire(notes, "z", "a")))
    backward = notes.workspace.backward_result
    incoming = backward.node_grads[node_id(notes, "z")].numpy()[0]
    sent = backward.edge_grads[(node_id(notes, "z"), "a")].numpy()[0]
    assert text == (f"at [0]: ∂z/∂y_squared = three = 3, times the incoming {number_text(incoming)}, "
                    f"gives {number_text(sent)}")


def test_no_formula_before_backward(softmax: MainWindow, qtbot: Any) -> None:
    move_onto(qtbot, softmax, wire_point(softmax, wire(softmax, "logits", "b")))
    qtbot.wait(900)  # longer than the tool tip's wake-up delay
    assert "∂" not in QToolTip.text()
    assert softmax.scene.edge_tooltip(wire(softmax, "logits", "b").edge) is None
