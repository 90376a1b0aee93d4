"""Helpers for the backward tests: open an example, find nodes by name, press actions as a user would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QToolBar

from gradstudio.ui.canvas.highlight import badges_of
from gradstudio.ui.canvas.items import NodeItem
from gradstudio.ui.main_window import MainWindow

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def open_example(window: MainWindow, name: str) -> MainWindow:
    """Open `resources/examples/<name>.gsg` and let the canvas settle."""
    assert window.files.open_path(str(EXAMPLES / f"{name}.gsg"), as_example=True)
    window.workspace.refresh()
    return window


def node_id(window: MainWindow, name: str) -> str:
    """The id of the node called `name`."""
    found = window.document.name_owner(name)
    assert found is not None, name
    return found


def item(window: MainWindow, name: str) -> NodeItem:
    """The canvas item of the node called `name`."""
    return window.scene.nodes[node_id(window, name)]


def badge(window: MainWindow, name: str, kind: str) -> Any:
    """The `grad` or `flow` badge under a node (None if it has none)."""
    return badges_of(item(window, name)).get(kind)


def press_backward(qtbot: Any, window: MainWindow) -> None:
    """Ctrl+B on the canvas, as the user presses it."""
    qtbot.keyClick(window.view, Qt.Key.Key_B, CTRL)


def press_step(qtbot: Any, window: MainWindow) -> None:
    """Ctrl+Shift+B on the canvas."""
    qtbot.keyClick(window.view, Qt.Key.Key_B, CTRL_SHIFT)


def click_toolbar(qtbot: Any, window: MainWindow, action: QAction) -> None:
    """Click the toolbar button of `action`."""
    toolbar = window.findChild(QToolBar, "mainToolbar")
    button = toolbar.widgetForAction(action)
    assert button is not None and button.isVisible()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def click_node(qtbot: Any, window: MainWindow, name: str) -> None:
    """Left-click a node's body (selecting it)."""
    target = item(window, name)
    point = window.view.mapFromScene(target.scenePos() + QPointF(120, target.height() - 10))
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)


def edge_names(window: MainWindow, keys: Any) -> set[tuple[str, str]]:
    """Edge keys (target id, port) as (target name, port)."""
    return {(window.document.nodes[target].name, port) for target, port in keys}
