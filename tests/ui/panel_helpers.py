"""Helpers for the panel tests: open an example, select a node with a real click, let the refresh run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from gradstudio.model.document import GraphDocument
from gradstudio.model.io.fileformat import load
from gradstudio.ui.main_window import MainWindow

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def open_example(window: MainWindow, stem: str) -> GraphDocument:
    """Show an example graph in `window` (fitted to the view)."""
    window.set_document(load(EXAMPLES / f"{stem}.gsg"))
    settle()
    return window.document


def node_id(window: MainWindow, name: str) -> str:
    """The id of the node named `name`."""
    return next(node.id for node in window.document.nodes.values() if node.name == name)


def click_node(qtbot: Any, window: MainWindow, name: str) -> None:
    """Select a node the way a user does: a left click on its title bar on the canvas."""
    item = window.scene.nodes[node_id(window, name)]
    window.view.ensureVisible(item)
    rect = item.sceneBoundingRect()
    point = window.view.mapFromScene(QPointF(rect.center().x(), rect.top() + 10))
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    settle()
    assert window.scene.selected_node_ids() == [node_id(window, name)]


def settle() -> None:
    """Let deferred work (the scene's re-evaluation, deleted widgets) run."""
    for _ in range(3):
        QApplication.processEvents()


def backward(window: MainWindow) -> None:
    """Run Backward from the document's target with the window's Backward controller."""
    assert window.backward.run(window.document.settings.backward_target) is not None
    settle()
