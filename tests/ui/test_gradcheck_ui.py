"""Check Gradient from the node menu: autograd against central differences, both shown with their difference."""

from __future__ import annotations

import pytest
from backward_helpers import item, open_example
from PySide6.QtCore import QPointF

from gradstudio.ui.main_window import MainWindow


def check(window: MainWindow, name: str) -> None:
    """Choose Check Gradient… in the node's context menu."""
    menu = window.context_menus.build(item(window, name), QPointF())
    [action] = [a for a in menu.actions() if a.text() == "Check Gradient…"]
    action.trigger()


def rows(window: MainWindow) -> list[list[str]]:
    """The dialog's table as text."""
    table = window.backward_tools.gradcheck_dialog.table
    return [[table.item(row, column).text() for column in range(table.columnCount())]
            for row in range(table.rowCount())]


@pytest.mark.parametrize(("example", "leaf", "value", "count"), [("notes_forward_backward", "x", "6", 3),
                                                                ("notes_randn_mean", "a", "0.75", 4)])
def test_the_notes_leaves_pass_the_check(window: MainWindow, example: str, leaf: str, value: str,
                                         count: int) -> None:
    open_example(window, example)
    check(window, leaf)
    dialog = window.backward_tools.gradcheck_dialog
    assert dialog.isVisible() and not dialog.isModal()
    table = rows(window)
    assert len(table) == count
    assert all(row[1] == value and float(row[2]) == pytest.approx(float(value), rel=1e-7) for row in table)
    assert all(float(row[3]) < 1e-6 for row in table)
    assert "agree" in dialog.summary.text() and "max |difference|" in dialog.summary.text()


def test_an_intermediate_node_and_a_python_number(window: MainWindow) -> None:
    open_example(window, "notes_forward_backward")
    check(window, "z")
    assert [row[1] for row in rows(window)] == ["0.33333333"] * 3
    assert "∂out/∂z" in window.backward_tools.gradcheck_dialog.summary.text()
    check(window, "two")
    dialog = window.backward_tools.gradcheck_dialog
    assert "two is a Python number, not a tensor" in dialog.summary.text() and rows(window) == []
