"""Panels and messages survive extreme values: nan and inf, huge numbers, huge views, huge names and paths."""

from __future__ import annotations

import time
from typing import Any

import pytest
from panel_helpers import click_node, settle
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from ui_helpers import DialogRecorder, add_node

from gradstudio.model.document import Edge, GraphDocument
from gradstudio.model.edits import Connect
from gradstudio.model.io.fileschema import CURRENT_VERSION
from gradstudio.ui.edit.clipboard import copy_to_clipboard
from gradstudio.ui.main_window import MainWindow
from gradstudio.ui.text_limits import MESSAGE_LIMIT

CTRL = Qt.KeyboardModifier.ControlModifier


def _open(window: MainWindow, document: GraphDocument) -> None:
    window.set_document(document)
    settle()


def _enter(qtbot: Any, window: MainWindow, key: str, text: str) -> None:
    """Put `text` in inspector field `key` (typed when short) and press Enter."""
    line = window.inspector.fields[key].editor
    line.setFocus()
    line.selectAll()
    if len(text) <= 500:
        qtbot.keyClicks(line, text)
    else:
        line.setText(text)  # as a paste does: typing 100,000 keys takes minutes
    qtbot.keyClick(line, Qt.Key.Key_Return)
    settle()


@pytest.mark.parametrize("fill", [float("nan"), float("inf"), float("-inf")])
def test_a_tensor_full_of_nan_or_inf_shows_in_every_panel(window: MainWindow, qtbot: Any, fill: float) -> None:
    document = GraphDocument()
    add_node(document, "x", "tensor", (0, 0), init="full", fill=fill, shape=(2, 3), requires_grad=True)
    add_node(document, "s", "sum", (300, 0))
    document.apply(Connect(Edge("x", "s", "input")))
    _open(window, document)
    window.code_panel.show()
    click_node(qtbot, window, "s")
    qtbot.keyClick(window.view, Qt.Key.Key_B, CTRL)
    settle()
    click_node(qtbot, window, "x")
    cells = window.inspector.fields["values"].editor
    assert cells.item(0, 0).text() == str(fill)
    assert str(fill) in window.values_panel.value_view.copy_text()


def test_a_scalar_beyond_float_range_is_refused_inline_and_the_panels_keep_working(
        window: MainWindow, qtbot: Any, dialogs: DialogRecorder, tmp_path: Any) -> None:
    document = GraphDocument()
    add_node(document, "c", "scalar", (0, 0))
    _open(window, document)
    window.code_panel.show()
    click_node(qtbot, window, "c")
    before = window.document.nodes["c"].attributes["value"]
    _enter(qtbot, window, "value", "1" + "0" * 400)
    assert window.document.nodes["c"].attributes["value"] == before  # the model refuses it: nothing changed
    assert window.inspector.fields["value"].refused
    assert "c = " in window.code_panel.code()
    dialogs.answers["getSaveFileName"] = (str(tmp_path / "big.py"), "")
    window.actions.actionExportCode.trigger()
    settle()
    assert (tmp_path / "big.py").exists()


def test_a_400_digit_cell_never_breaks_the_code_panel_or_export_code(window: MainWindow, qtbot: Any,
                                                                    dialogs: DialogRecorder, tmp_path: Any) -> None:
    document = GraphDocument()
    add_node(document, "x", "tensor", (0, 0), shape=(2,))
    _open(window, document)
    window.code_panel.show()
    click_node(qtbot, window, "x")
    table = window.inspector.fields["values"].editor
    rect = table.visualItemRect(table.item(0, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.keyClick(table, Qt.Key.Key_F2)
    editor = table.findChild(QLineEdit)
    editor.setText("9" * 400)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    settle()
    code = window.code_panel.code()
    assert code.startswith("# This graph cannot be written as code") or "import torch" in code
    dialogs.answers["getSaveFileName"] = (str(tmp_path / "cells.py"), "")
    window.actions.actionExportCode.trigger()
    settle()
    assert (tmp_path / "cells.py").exists() or "critical" in dialogs.names()


def test_a_huge_expanded_view_is_summarised_not_materialised(window: MainWindow, qtbot: Any) -> None:
    document = GraphDocument()
    add_node(document, "x", "tensor", (0, 0), shape=(1,))
    add_node(document, "big", "expand", (300, 0), shape=(2_000, 4_000))
    document.apply(Connect(Edge("x", "big", "input")))
    start = time.perf_counter()
    _open(window, document)
    click_node(qtbot, window, "big")
    assert time.perf_counter() - start < 5.0
    item = window.scene.nodes["big"]
    assert "summarised" in item.toolTip() or "size=[2000, 4000]" in item.toolTip()
    view = window.values_panel.value_view
    assert "[2000, 4000]" in view.caption.text() and view.table_model.rowCount() <= 1000


def test_an_expand_past_the_element_limit_is_an_error_on_its_node(window: MainWindow, qtbot: Any) -> None:
    document = GraphDocument()
    add_node(document, "x", "tensor", (0, 0), shape=(1,))
    add_node(document, "big", "expand", (300, 0), shape=(100_000, 100_000))
    document.apply(Connect(Edge("x", "big", "input")))
    _open(window, document)
    click_node(qtbot, window, "big")
    assert "the limit for one tensor" in window.scene.nodes["big"].toolTip()
    assert "cannot be computed" in window.values_panel.header.text()


def test_a_100000_character_name_neither_widens_the_window_nor_breaks_painting(window: MainWindow,
                                                                               qtbot: Any) -> None:
    document = GraphDocument()
    add_node(document, "x", "tensor", (0, 0))
    _open(window, document)
    for panel in window.panels.values():
        panel.show()
    width = window.width()
    click_node(qtbot, window, "x")
    _enter(qtbot, window, "name", "n" * 100_000)
    window.scene.select(["x"])
    settle()
    assert window.width() <= max(width, 2000)
    assert not window.grab().isNull() and not window.view.viewport().grab().isNull()
    assert len(window.inspector.header.text()) < 400


def test_status_messages_and_paths_are_cut_to_one_short_line(window: MainWindow, qtbot: Any,
                                                             dialogs: DialogRecorder, tmp_path: Any) -> None:
    long_name = "p" * 200 + ".gsg"
    dialogs.answers["getOpenFileName"] = (str(tmp_path / ("d" * 100_000) / long_name), "")
    qtbot.keyClick(window.view, Qt.Key.Key_O, CTRL)
    settle()
    shown = " ".join(str(arg) for name, args in dialogs.calls if name == "critical" for arg in args[1:])
    assert 0 < len(shown) < 2100
    window.workspace.message.emit("x" * 100_000 + "\nsecond line")
    message = window.statusBar().currentMessage()
    assert len(message) <= MESSAGE_LIMIT and "\n" not in message


@pytest.mark.parametrize("kind", ["note", "frame"])
def test_a_pasted_100000_character_note_or_frame_paints_quickly(window: MainWindow, qtbot: Any, kind: str) -> None:
    text = ("word " * 20_000) if kind == "note" else "t" * 100_000
    record = {"id": "a1", "kind": kind, "text": text, "position": [0.0, 0.0], "size": [300.0, 200.0]}
    copy_to_clipboard({"format": "gradstudio-fragment", "version": CURRENT_VERSION, "nodes": [], "edges": [],
                       "annotations": [record]})
    width = window.width()
    qtbot.keyClick(window.view, Qt.Key.Key_V, CTRL)
    settle()
    if not window.document.annotations:
        pytest.skip("the model now refuses texts this long")
    window.view.fit_all()
    start = time.perf_counter()
    for _ in range(10):
        window.view.viewport().grab()
    assert time.perf_counter() - start < 1.5  # laying out all 100,000 characters took ~0.35 s a paint
    assert window.width() <= max(width, 2000)
