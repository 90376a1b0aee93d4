"""Live scrubbing with real mouse events: drag a leaf's value on its face, watch values and gradients follow."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from backward_helpers import badge, item, node_id, open_example, press_backward
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QSlider

from gradstudio.ui.canvas.node_geometry import value_line
from gradstudio.ui.main_window import MainWindow

torch = pytest.importorskip("torch", reason="PyTorch not installed: differential check skipped")
LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def notes(window: MainWindow) -> MainWindow:
    """The notes' example with Backward pressed once (out = mean(3 (x + 2)^2))."""
    open_example(window, "notes_forward_backward")
    window.view.reset_zoom()
    window.view.centerOn(item(window, "y").sceneBoundingRect().center())
    return window


def value_point(window: MainWindow, name: str, x: float | None = None) -> QPoint:
    """The viewport point over the value line of a node's face (at item x-coordinate `x`, else its middle)."""
    target = item(window, name)
    line = value_line(target)
    local = QPointF(x if x is not None else line.center().x(), line.center().y())
    return window.view.mapFromScene(target.mapToScene(local))


def scrub(qtbot: Any, window: MainWindow, name: str, pixels: list[int],
          modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier, x: float | None = None) -> None:
    """Press on the value of `name`, move right by each of `pixels` in turn (waiting a frame each), release."""
    viewport = window.view.viewport()
    start = value_point(window, name, x)
    qtbot.mousePress(viewport, LEFT, modifier, start)
    point = start
    for offset in pixels:
        point = start + QPoint(offset, 0)
        qtbot.mouseMove(viewport, point)
        qtbot.wait(20)
    qtbot.mouseRelease(viewport, LEFT, modifier, point)


def torch_notes(two: float, x0: float = 1.0) -> tuple[float, np.ndarray]:
    x = torch.tensor([x0, 1.0, 1.0], requires_grad=True)
    out = ((x + two) * (x + two) * 3).mean()
    out.backward()
    return out.item(), x.grad.numpy()


def test_dragging_a_scalar_updates_values_and_gradients_and_undoes_as_one_step(notes: MainWindow,
                                                                                 qtbot: Any) -> None:
    press_backward(qtbot, notes)
    two = node_id(notes, "two")
    depth = notes.undo_stack.count()
    assert notes.view.viewport().cursor().shape() != Qt.CursorShape.SizeHorCursor
    scrub(qtbot, notes, "two", [10, 30, 50])  # 50 px at 0.01 a pixel: 2 -> 2.5
    assert notes.document.nodes[two].attributes["value"] == pytest.approx(2.5)
    expected_out, expected_grad = torch_notes(2.5)
    out = notes.workspace.model.value(node_id(notes, "out"))
    assert out.item() == pytest.approx(expected_out)
    assert item(notes, "out").preview().values == f"{expected_out:.4g}"  # the downstream face repainted
    np.testing.assert_allclose(notes.workspace.model.grad(node_id(notes, "x")).numpy(), expected_grad, rtol=1e-6)
    assert badge(notes, "x", "grad").value.numpy() == pytest.approx(expected_grad)  # the face's .grad badge
    assert notes.undo_stack.count() == depth + 1
    assert notes.undo_stack.undoText().startswith("Scrub two")
    notes.undo_stack.undo()
    assert notes.document.nodes[two].attributes["value"] == 2
    assert notes.workspace.model.value(node_id(notes, "out")).item() == pytest.approx(27.0)


def test_the_sparkline_plots_the_target_against_the_value(notes: MainWindow, qtbot: Any) -> None:
    press_backward(qtbot, notes)
    scrub(qtbot, notes, "two", [20, 40, 60])
    sparkline = notes.scene.face_scrub.sparkline
    assert sparkline is not None and sparkline.isVisible() and sparkline.parentItem() is item(notes, "two")
    samples = sparkline.samples()
    assert [value for value, _ in samples] == pytest.approx([2.0, 2.2, 2.4, 2.6])
    for value, level in samples:
        assert level == pytest.approx(torch_notes(value)[0])
    notes.undo_stack.undo()  # the next edit takes it down
    assert notes.scene.face_scrub.sparkline is None


def test_a_tensor_cell_scrubs_alone_and_shift_makes_steps_finer(notes: MainWindow, qtbot: Any) -> None:
    press_backward(qtbot, notes)
    x = node_id(notes, "x")
    target = item(notes, "x")
    first_cell_x = value_line(target).left() + 14  # over the first number of "[1, 1, 1]"
    scrub(qtbot, notes, "x", [40], x=first_cell_x)
    assert notes.document.nodes[x].attributes["values"] == (1.4, 1.0, 1.0)
    expected_out, expected_grad = torch_notes(2.0, x0=1.4)
    assert notes.workspace.model.value(node_id(notes, "out")).item() == pytest.approx(expected_out)
    np.testing.assert_allclose(notes.workspace.model.grad(x).numpy(), expected_grad, rtol=1e-6)
    scrub(qtbot, notes, "x", [40], Qt.KeyboardModifier.ShiftModifier, x=first_cell_x)
    assert notes.document.nodes[x].attributes["values"][0] == pytest.approx(1.44)
    notes.undo_stack.undo()
    notes.undo_stack.undo()
    assert notes.document.nodes[x].attributes["init"] == "ones"
    assert notes.document.nodes[x].attributes["values"] == ()


def test_moves_within_one_frame_are_applied_once(notes: MainWindow, qtbot: Any) -> None:
    viewport = notes.view.viewport()
    start = value_point(notes, "two")
    live = notes.workspace.scrub
    frames = live.frames
    qtbot.mousePress(viewport, LEFT, pos=start)
    for offset in range(1, 11):  # ten moves without the event loop turning: one frame's worth
        qtbot.mouseMove(viewport, start + QPoint(offset * 3, 0))
    qtbot.mouseRelease(viewport, LEFT, pos=start + QPoint(30, 0))
    assert live.frames == frames + 1
    assert notes.document.nodes[node_id(notes, "two")].attributes["value"] == pytest.approx(2.3)


def test_a_drag_on_the_header_still_moves_the_node(notes: MainWindow, qtbot: Any) -> None:
    target = item(notes, "two")
    before = target.node.position
    viewport = notes.view.viewport()
    start = notes.view.mapFromScene(target.mapToScene(QPointF(60, 10)))
    qtbot.mousePress(viewport, LEFT, pos=start)
    qtbot.mouseMove(viewport, start + QPoint(30, 0))
    qtbot.mouseRelease(viewport, LEFT, pos=start + QPoint(30, 0))
    assert target.node.position[0] == pytest.approx(before[0] + 30)
    assert target.node.attributes["value"] == 2


def test_the_inspector_slider_scrubs_the_selected_leaf(notes: MainWindow, qtbot: Any) -> None:
    press_backward(qtbot, notes)
    notes.scene.select([node_id(notes, "two")])
    slider = notes.inspector.findChild(QSlider, "scrubSlider")
    assert slider is not None and slider.isVisible()
    depth = notes.undo_stack.count()
    handle = slider.rect().center()
    qtbot.mousePress(slider, LEFT, pos=handle)
    for offset in (10, 20, 30):
        qtbot.mouseMove(slider, handle + QPoint(offset, 0))
        qtbot.wait(20)
    qtbot.mouseRelease(slider, LEFT, pos=handle + QPoint(30, 0))
    value = notes.document.nodes[node_id(notes, "two")].attributes["value"]
    assert value > 2
    assert notes.undo_stack.count() == depth + 1
    expected_out, expected_grad = torch_notes(value)
    assert notes.workspace.model.value(node_id(notes, "out")).item() == pytest.approx(expected_out)
    np.testing.assert_allclose(notes.workspace.model.grad(node_id(notes, "x")).numpy(), expected_grad, rtol=1e-6)
    notes.undo_stack.undo()
    assert notes.document.nodes[node_id(notes, "two")].attributes["value"] == 2


def test_the_value_line_shows_a_resize_cursor_and_the_header_does_not(notes: MainWindow, qtbot: Any) -> None:
    viewport = notes.view.viewport()
    two = item(notes, "two")
    qtbot.mouseMove(viewport, value_point(notes, "two"))
    assert two.hasCursor() and two.cursor().shape() == Qt.CursorShape.SizeHorCursor and two.value_hovered
    qtbot.mouseMove(viewport, notes.view.mapFromScene(two.mapToScene(QPointF(60, 10))))
    assert not two.hasCursor() and not two.value_hovered
    y = item(notes, "y")  # not a leaf: its values are computed, nothing to scrub
    qtbot.mouseMove(viewport, value_point(notes, "y"))
    assert not y.hasCursor()


def test_a_tensor_leafs_sparkline_has_the_slope_backward_gave(notes: MainWindow, qtbot: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gradstudio.ui.canvas.scrubbing.SPARK_SECONDS", 0.05)
    press_backward(qtbot, notes)
    first_cell_x = value_line(item(notes, "x")).left() + 14
    scrub(qtbot, notes, "x", [10, 20], x=first_cell_x)
    sparkline = notes.scene.face_scrub.sparkline
    session = sparkline.session
    assert session.value == pytest.approx(1.2)
    # d out / d x[0] = 2 (x[0] + 2) at the value reached, as PyTorch computes it
    assert session.slopes[session.value] == pytest.approx(float(torch_notes(2.0, x0=1.2)[1][0]))
    assert sparkline.caption() == f"out vs x   slope {session.slopes[session.value]:.4g}"
    qtbot.waitUntil(lambda: notes.scene.face_scrub.sparkline is None, timeout=2000)  # it goes after a while


def test_scrub_frames_leave_cheap_gradient_tool_tips(notes: MainWindow, qtbot: Any) -> None:
    press_backward(qtbot, notes)
    scrub(qtbot, notes, "two", [10])  # the scrub frames leave badges whose tip waits for a hover
    flow = badge(notes, "y", "flow")
    assert flow.toolTip() == ""
    viewport = notes.view.viewport()
    qtbot.mouseMove(viewport, notes.view.mapFromScene(flow.mapToScene(flow.boundingRect().center())))
    assert flow.toolTip().startswith("∂out/∂y = tensor([6.2")
    edge = next(edge for key, edge in notes.scene.edges.items() if key[0] == node_id(notes, "out"))
    assert edge.toolTip() == "gradient flowing back: [0.3333, 0.3333, 0.3333]"  # scrubbing: the first values
    notes.backward.run(node_id(notes, "out"))  # a Backward of its own writes the whole repr again
    assert edge.toolTip().startswith("gradient flowing back: tensor([0.3333, 0.3333, 0.3333]")


def test_each_frame_repaints_the_backward_display_once(notes: MainWindow, qtbot: Any) -> None:
    press_backward(qtbot, notes)
    shown: list[Any] = []
    notes.workspace.backward_changed.connect(shown.append)
    live = notes.workspace.scrub
    frames = live.frames
    scrub(qtbot, notes, "two", [10, 20, 30])
    assert live.frames - frames == 3
    assert len(shown) == 3 and all(view is not None and view.step is None for view in shown)  # never a bare frame


def test_a_right_click_during_the_drag_cancels_it(notes: MainWindow, qtbot: Any) -> None:
    viewport = notes.view.viewport()
    start = value_point(notes, "two")
    depth = notes.undo_stack.count()
    qtbot.mousePress(viewport, LEFT, pos=start)
    qtbot.mouseMove(viewport, start + QPoint(40, 0))
    qtbot.wait(20)
    assert notes.document.nodes[node_id(notes, "two")].attributes["value"] == pytest.approx(2.4)
    qtbot.mousePress(viewport, Qt.MouseButton.RightButton, pos=start + QPoint(40, 0))
    qtbot.mouseRelease(viewport, Qt.MouseButton.RightButton, pos=start + QPoint(40, 0))
    qtbot.mouseRelease(viewport, LEFT, pos=start + QPoint(40, 0))
    assert notes.document.nodes[node_id(notes, "two")].attributes["value"] == 2
    assert notes.undo_stack.count() == depth and notes.workspace.busy is None
    assert notes.workspace.model.value(node_id(notes, "out")).item() == pytest.approx(27.0)
    menus: list[Any] = []
    notes.view.context_menu_requested.disconnect(notes.context_menus.show)  # a real menu would wait for a choice
    notes.view.context_menu_requested.connect(lambda *args: menus.append(args))
    point = start + QPoint(40, 0)
    for _ in range(2):  # the right click that cancelled opens no menu; the next one does
        QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point,
                                                           viewport.mapToGlobal(point)))
    assert len(menus) == 1
