"""No-grad regions on the canvas, built with real mouse and key events: the notes' section 5
(`x = torch.ones(3, requires_grad=True)`; `with torch.no_grad(): y = x * 2`) from an empty canvas, the frame made a
no_grad block from its context menu, undone and redone; the exported code run under real PyTorch and our engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from backward_helpers import click_node, click_toolbar, item, node_id
from panel_helpers import settle
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu
from test_code_import_ui import paste
from test_rebuild_notes import Actions
from ui_helpers import drag

from gradstudio.model.document import Edge
from gradstudio.model.grad_regions import node_modes
from gradstudio.ui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]


def choose(window: MainWindow, qtbot: Any, scene_point: QPointF, *path: str) -> list[str]:
    """Right-click the canvas at `scene_point` and click the entries of `path` in turn (a submenu, then its entry).

    Returns the labels of the last menu clicked in."""
    viewport = window.view.viewport()
    at = window.view.mapFromScene(scene_point)
    offered: list[str] = []

    def click(step: int) -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu), path[:step + 1]
        offered[:] = [action.text() for action in menu.actions() if action.text()]
        [action] = [action for action in menu.actions() if action.text() == path[step]]
        if step + 1 < len(path):
            QTimer.singleShot(50, lambda: click(step + 1))
        qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())

    QTimer.singleShot(0, lambda: click(0))
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, viewport.mapToGlobal(at)))
    settle()
    window.activateWindow()  # offscreen has no window manager to give activation back when the popup closes
    qtbot.waitUntil(window.isActiveWindow)
    return offered


def choose_grad_mode(window: MainWindow, qtbot: Any, label: str) -> list[str]:
    """Set the one frame's grad mode from its context menu (right-click on its title); the modes offered."""
    [frame] = window.document.annotations.values()
    return choose(window, qtbot, QPointF(frame.position[0] + 40, frame.position[1] + 12), "&Grad Mode", label)


def build_section_5(window: MainWindow, qtbot: Any) -> dict[str, str]:
    """x (ones, requires_grad) -> y = x * two, y the backward target, a frame around y: the node ids by name."""
    window.view.reset_zoom()
    window.view.centerOn(QPointF(300, 120))
    act = Actions(window, qtbot)
    scene = window.scene
    x = act.drop_op("tensor", QPointF(-60, 0))
    act.click_requires_grad(x)
    act.wire(scene.nodes[x].output_anchor(), scene.nodes[x].output_anchor() + QPointF(80, 0))
    y = act.quick_add("y = *")
    act.wire(scene.nodes[y].input_anchor("b"), scene.nodes[y].input_anchor("b") + QPointF(-40, 160))
    two = act.quick_add("two = scalar")
    y_item = scene.nodes[y]
    choose(window, qtbot, y_item.scenePos() + QPointF(120, y_item.height() - 10), "Use as &Backward Target")
    assert window.document.settings.backward_target == y
    click_node(qtbot, window, "y")
    act.key(Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)  # a frame around the selection
    assert set(window.document.edges.values()) == {Edge(x, y, "a"), Edge(two, y, "b")}
    return {"x": x, "y": y, "two": two}


def run_script(code: str, backend: str) -> str:
    """What `code` prints in a fresh interpreter, on real PyTorch or (its import substituted) on our engine."""
    if backend == "engine":
        code = code.replace("import torch\n", "import gradstudio.engine as torch\n", 1)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_notes_no_grad_block_is_built_on_the_canvas(window: MainWindow, qtbot: Any) -> None:
    ids = build_section_5(window, qtbot)
    [frame] = window.document.annotations.values()
    assert node_modes(window.document) == {}
    assert window.workspace.model.tracked(ids["y"])
    offered = choose_grad_mode(window, qtbot, "with torch.no_grad():")
    assert offered == ["Plain frame", "with torch.no_grad():", "with torch.enable_grad():",
                       "with torch.inference_mode():"]
    assert window.document.annotations[frame.id].grad_mode == "no_grad"
    assert node_modes(window.document) == {ids["y"]: "no_grad"}  # x and two lie outside the frame
    results = window.workspace.results()
    assert results[ids["x"]].tracked and not results[ids["y"]].tracked
    assert repr(results[ids["y"]].value) == "tensor([2., 2., 2.])"
    assert window.scene.annotations[frame.id].badge == "with torch.no_grad():"
    assert window.scene.annotations[frame.id].members() == ["y"]  # the frame's tooltip lists them

    code = window.code_panel.code()
    assert "x = torch.ones(3, requires_grad=True)\n\nwith torch.no_grad():\n    y = x * 2.0\n" in code
    printed = run_script(code, "engine")
    assert printed == "tensor([2., 2., 2.])\n" == repr(results[ids["y"]].value) + "\n"
    try:
        import torch  # noqa: F401
    except ImportError:
        pytest.skip("PyTorch not installed: the real-PyTorch half of this test needs it")
    assert run_script(code, "torch") == printed

    window.undo_stack.undo()
    settle()
    assert window.document.annotations[frame.id].grad_mode == "none"
    assert window.workspace.results()[ids["y"]].tracked
    window.undo_stack.redo()
    settle()
    assert not window.workspace.results()[ids["y"]].tracked


def test_dragging_a_node_out_of_the_region_tracks_it_again(window: MainWindow, qtbot: Any) -> None:
    ids = build_section_5(window, qtbot)
    choose_grad_mode(window, qtbot, "with torch.no_grad():")
    assert not window.workspace.results()[ids["y"]].tracked
    y = window.scene.nodes[ids["y"]]
    start = y.scenePos() + QPointF(120, y.height() - 10)
    drag(qtbot, window, start, start + QPointF(0, 400))
    settle()
    assert node_modes(window.document) == {}
    assert window.workspace.results()[ids["y"]].tracked
    assert "with torch.no_grad()" not in window.code_panel.code()
    window.undo_stack.undo()
    settle()
    assert not window.workspace.results()[ids["y"]].tracked


def test_backward_cut_by_a_no_grad_frame_says_so_and_offers_no_requires_grad_fix(window: MainWindow,
                                                                                 qtbot: Any) -> None:
    paste(qtbot, window, "import torch\nx = torch.ones(3, requires_grad=True)\nwith torch.no_grad():\n"
                         "    y = x * 2\nz = x * 3\nout = z.sum()\n")
    window.scene.clearSelection()
    [frame] = [a for a in window.document.annotations.values() if a.grad_mode == "no_grad"]
    z = item(window, "z").sceneBoundingRect()
    inside = QPointF(frame.position[0] + 20 + 40, frame.position[1] + frame.size[1] - 30 + 8)
    drag(qtbot, window, QPointF(z.left() + 40, z.top() + 8), inside)  # by its header, into the frame
    assert node_modes(window.document).get(node_id(window, "z")) == "no_grad"
    click_node(qtbot, window, "out")
    click_toolbar(qtbot, window, window.actions.actionBackward)
    pin = window.backward.pins[node_id(window, "out")]
    assert "does not require grad" in pin.explanation.message
    assert pin.explanation.explanation.startswith("z is computed inside the frame `with torch.no_grad():`")
    assert pin.explanation.fix is None  # x already requires grad: setting requires_grad would change nothing
