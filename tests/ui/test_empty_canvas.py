"""An empty canvas says what to do; the hint goes with the first node and comes back with an empty canvas."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from gradstudio.ui.canvas.view import EMPTY_HINT
from gradstudio.ui.main_window import MainWindow


def hint_pixels(window: MainWindow) -> int:
    """How many pixels in the middle band of the canvas have the hint's colour."""
    image: QImage = window.view.viewport().grab().toImage()
    muted = window.scene.theme.muted_text
    middle = image.height() // 2
    count = 0
    for y in range(middle - 40, middle + 40, 2):
        for x in range(0, image.width(), 2):
            color = image.pixelColor(x, y)
            distance = sum(abs(a - b) for a, b in zip(color.getRgb()[:3], muted.getRgb()[:3], strict=True))
            count += distance < 40
    return count


def add_from_palette(qtbot: Any, window: MainWindow, kind: str) -> None:
    """Double-click an op in the palette (it lands in the middle of the canvas)."""
    tree = window.palette.tree
    item = tree.op_item(kind)
    tree.scrollToItem(item)
    spot = tree.visualItemRect(item).center()
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=spot)


def test_the_empty_canvas_says_what_to_do(window: MainWindow, qtbot: Any) -> None:
    assert "palette" in EMPTY_HINT and "Tab" in EMPTY_HINT and "example" in EMPTY_HINT
    assert hint_pixels(window) > 30
    add_from_palette(qtbot, window, "exp")
    qtbot.waitUntil(lambda: bool(window.document.nodes), timeout=2000)
    window.view.centerOn(window.view.mapToScene(-4000, -4000))  # the node out of view: only the hint could show
    qtbot.wait(20)
    assert hint_pixels(window) == 0
    window.undo_stack.undo()
    qtbot.wait(20)
    assert not window.document.nodes and hint_pixels(window) > 30
