"""Far-apart nodes: fit stops at the minimum zoom and the grid draws a bounded number of lines per paint."""

from __future__ import annotations

import time
from typing import Any

from panel_helpers import settle
from PySide6.QtCore import QPoint, QPointF, Qt
from test_view import wheel
from ui_helpers import DialogRecorder, add_node

from gradstudio.model.document import GraphDocument
from gradstudio.model.io.fileformat import save
from gradstudio.ui.canvas.grid import MAX_GRID_LINES
from gradstudio.ui.canvas.view import MIN_ZOOM
from gradstudio.ui.main_window import MainWindow

CTRL = Qt.KeyboardModifier.ControlModifier


def _paint(window: MainWindow) -> int:
    window.view.resetCachedContent()
    window.view.viewport().grab()
    return window.view.grid_lines_drawn


def test_opening_a_file_with_nodes_far_apart_is_quick_and_fit_keeps_the_minimum_zoom(
        window: MainWindow, qtbot: Any, dialogs: DialogRecorder, tmp_path: Any) -> None:
    document = GraphDocument()
    add_node(document, "far_left", "tensor", (-1e7, -1e7))
    add_node(document, "far_right", "tensor", (1e7, 1e7))
    path = tmp_path / "far.gsg"
    save(document, path)
    dialogs.answers["getOpenFileName"] = (str(path), "")
    start = time.perf_counter()
    qtbot.keyClick(window.view, Qt.Key.Key_O, CTRL)
    settle()
    lines = _paint(window)
    assert time.perf_counter() - start < 2.0
    assert set(window.document.nodes) == {"far_left", "far_right"}
    assert window.view.zoom() >= MIN_ZOOM - 1e-12 and 0 < lines <= MAX_GRID_LINES
    qtbot.keyClick(window.view, Qt.Key.Key_F)
    assert window.view.zoom() >= MIN_ZOOM - 1e-12


def test_the_grid_at_every_zoom_draws_a_bounded_number_of_lines(window: MainWindow, qtbot: Any) -> None:
    window.resize(1900, 1200)
    settle()
    centre = window.view.viewport().rect().center()
    for _ in range(40):
        wheel(window, QPoint(centre), -480)
        assert 0 < _paint(window) <= MAX_GRID_LINES
    assert abs(window.view.zoom() - MIN_ZOOM) < 1e-9
    window.view.scale(1e-4, 1e-4)  # below any zoom the UI allows: still bounded
    assert _paint(window) <= MAX_GRID_LINES
    window.view.centerOn(QPointF(1e9, -1e9))
    assert _paint(window) <= MAX_GRID_LINES
