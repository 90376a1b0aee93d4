"""The values panel: the selected node's value and gradient, charted by rank, printed as PyTorch does, tabulated."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from panel_helpers import backward, click_node, node_id, open_example, settle
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from ui_helpers import add_node

from gradstudio.model.document import Edge, GraphDocument
from gradstudio.model.edits import Connect, SetAttribute, SetRetainGrad
from gradstudio.ui.main_window import MainWindow


def plot_items(view: Any) -> list[str]:
    """Class names of the items in a column's pyqtgraph plot."""
    return [type(item).__name__ for item in view.plot.getPlotItem().items]


def table_column(view: Any, column: int = 0) -> list[str]:
    """The texts of one column of a view's table."""
    model = view.table_model
    return [model.data(model.index(row, column)) for row in range(model.rowCount())]


def test_selecting_y_shows_its_repr_a_bar_chart_and_the_exact_numbers(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "y")
    view = window.values_panel.value_view
    assert view.text.toPlainText() == "tensor([3., 3., 3.], grad_fn=<AddBackward0>)"
    assert view.kind == "bar" and "BarGraphItem" in plot_items(view)
    [bars] = [item for item in view.plot.getPlotItem().items if type(item).__name__ == "BarGraphItem"]
    assert list(bars.opts["height"]) == [3.0, 3.0, 3.0]
    assert table_column(view) == ["3.0", "3.0", "3.0"]
    assert "grad_fn=AddBackward0" in window.values_panel.header.text()


def test_a_scalar_is_a_large_number(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "out")
    view = window.values_panel.value_view
    assert view.kind == "scalar" and view.number.text() == "27.0" and view.plot is None
    assert view.text.toPlainText() == "tensor(27., grad_fn=<MeanBackward0>)"
    click_node(qtbot, window, "three")
    assert view.kind == "scalar" and view.number.text() == "3" and view.text.toPlainText() == "3"
    assert window.values_panel.grad_view.note.text() == "A Python number has no gradient."


def test_a_matrix_is_a_heatmap_with_a_colour_bar(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "softmax_classifier")
    click_node(qtbot, window, "W")
    view = window.values_panel.value_view
    assert view.kind == "heatmap" and "ImageItem" in plot_items(view)
    image = next(item for item in view.plot.getPlotItem().items if type(item).__name__ == "ImageItem")
    expected = window.workspace.model.value(node_id(window, "W")).detach().numpy()
    np.testing.assert_array_equal(image.image, expected)
    bars = [item for item in view.plot.getPlotItem().scene().items() if type(item).__name__ == "ColorBarItem"]
    assert len(bars) == 1 and bars[0].levels()[0] == -bars[0].levels()[1]  # signed data: symmetric about 0
    assert view.table_model.rowCount() == 2 and view.table_model.columnCount() == 3


def test_higher_ranks_show_one_slice_chosen_with_a_selector(window: MainWindow, qtbot: Any) -> None:
    document = GraphDocument()
    add_node(document, "cube", "tensor", (0, 0), shape=(2, 2, 3), init="arange")
    window.set_document(document)
    click_node(qtbot, window, "cube")
    view = window.values_panel.value_view
    assert view.kind == "slices" and "ImageItem" in plot_items(view)
    assert table_column(view) == ["0.0", "3.0"]
    [spin] = view._spins
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "1")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    assert table_column(view) == ["6.0", "9.0"] and table_column(view, 2) == ["8.0", "11.0"]


def test_the_gradient_column_says_which_gradient_it_shows(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "x")
    grad = window.values_panel.grad_view
    assert grad.value is None and "run Backward" in grad.note.text()
    backward(window)
    assert grad.title.text() == "x.grad" and grad.text.toPlainText() == "tensor([6., 6., 6.])"
    assert grad.kind == "bar"
    click_node(qtbot, window, "y")
    assert grad.title.text() == "Gradient that flowed through y" and "Not y.grad" in grad.note.text()
    assert grad.text.toPlainText() == "tensor([6., 6., 6.])"
    window.editor.apply(SetRetainGrad(node_id(window, "y"), True), "Retain y.grad")
    settle()
    assert grad.value is None  # the edit re-evaluated y: a fresh graph, no gradient yet
    backward(window)
    assert grad.title.text() == "y.grad (retained)" and window.values_panel.gradient.kind == "retained"


def test_backward_twice_accumulates_and_zero_grad_clears_in_the_panel(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "out")
    window.actions.actionBackward.trigger()
    settle()
    assert window.values_panel.grad_view.text.toPlainText() == "tensor(1.)"
    click_node(qtbot, window, "x")
    backward(window)
    backward(window)
    grad = window.values_panel.grad_view
    assert grad.text.toPlainText() == "tensor([18., 18., 18.])"  # three passes into one tensor, redrawn each time
    assert table_column(grad) == ["18.0", "18.0", "18.0"]
    window.actions.actionZeroGrad.trigger()
    settle()
    assert grad.value is None and grad.text.toPlainText() == ""


def test_the_panel_follows_edits_of_the_value(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "y")
    window.editor.apply(SetAttribute(node_id(window, "two"), "value", 5), "Set two")
    settle()
    assert window.values_panel.value_view.text.toPlainText() == "tensor([6., 6., 6.], grad_fn=<AddBackward0>)"
    window.undo_stack.undo()
    settle()
    assert window.values_panel.value_view.text.toPlainText() == "tensor([3., 3., 3.], grad_fn=<AddBackward0>)"


def test_no_grad_mode_shows_values_without_grad_fn(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_no_grad")
    click_node(qtbot, window, "y")
    panel = window.values_panel
    assert panel.value_view.text.toPlainText() == "tensor([2., 2., 2.])"
    assert "y does not require grad" in panel.grad_view.note.text()


def test_a_failing_node_shows_its_error(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    window.editor.apply(SetAttribute(node_id(window, "x"), "init", "values"), "Set init")
    settle()
    click_node(qtbot, window, "x")
    panel = window.values_panel
    assert panel.header.text() == "x cannot be computed: shape [3] needs 3 values, got 0"
    assert panel.value_view.kind == "none" and not panel.copy_value.isEnabled()
    click_node(qtbot, window, "y")
    assert panel.header.text() == "y waits for x, which has no value"


def test_copy_button_and_ctrl_c_copy_pytorchs_repr(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "x")
    backward(window)
    panel = window.values_panel
    clipboard = QGuiApplication.clipboard()
    qtbot.mouseClick(panel.copy_value, Qt.MouseButton.LeftButton)
    assert clipboard.text() == "tensor([1., 1., 1.], requires_grad=True)"
    qtbot.mouseClick(panel.copy_grad, Qt.MouseButton.LeftButton)
    assert clipboard.text() == "tensor([6., 6., 6.])"
    clipboard.clear()
    panel.value_view.table.setFocus()
    qtbot.keyClick(panel.value_view.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert clipboard.text() == "tensor([1., 1., 1.], requires_grad=True)"
    panel.grad_view.table.setFocus()
    qtbot.keyClick(panel.grad_view.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert clipboard.text() == "tensor([6., 6., 6.])"
    assert window.scene.selected_node_ids() == [node_id(window, "x")]  # the canvas Copy did not run instead


def test_nothing_selected_says_so(window: MainWindow) -> None:
    assert window.values_panel.header.text() == "Select a node to see its value and gradient."
    assert window.values_panel.value_view.kind == "none"


def test_with_nothing_selected_an_edit_leaves_the_panel_untouched_and_a_selection_still_shows(
        window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    open_example(window, "notes_forward_backward")
    panel = window.values_panel
    shown: list[Any] = []
    show_value = type(panel.value_view).show_value
    monkeypatch.setattr(type(panel.value_view), "show_value",
                        lambda view, value, *rest: shown.append(value) or show_value(view, value, *rest))
    window.editor.apply(SetAttribute(node_id(window, "two"), "value", 5), "Set two")
    settle()
    assert shown == [] and panel.header.text() == "Select a node to see its value and gradient."
    click_node(qtbot, window, "y")
    assert panel.value_view.text.toPlainText() == "tensor([6., 6., 6.], grad_fn=<AddBackward0>)"
    empty = next(QPoint(x, y) for y in range(5, 200, 10) for x in range(5, 400, 10) if window.view.itemAt(x, y) is None)
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=empty)
    settle()
    assert window.scene.selected_node_ids() == [] and panel.value_view.kind == "none"
    assert panel.header.text() == "Select a node to see its value and gradient."


@pytest.mark.parametrize("select", [None, "three"])
def test_start_up_and_plain_numbers_do_not_import_pyqtgraph(select: str | None) -> None:
    script = (
        "import os, sys\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "sys.path.insert(0, 'tests/ui')\n"
        "from PySide6.QtCore import QSettings\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from gradstudio.ui.main_window import MainWindow\n"
        "from gradstudio.ui.settings import AppSettings\n"
        "from panel_helpers import open_example, node_id\n"
        "window = MainWindow(AppSettings(QSettings(os.devnull, QSettings.Format.IniFormat)))\n"
        "window.show()\n"
        "open_example(window, 'notes_forward_backward')\n"
        f"select = {select!r}\n"
        "if select: window.scene.select([node_id(window, select)]); app.processEvents()\n"
        "print('pyqtgraph' in sys.modules)\n"
    )
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "False"


@pytest.mark.parametrize(("attributes", "kind", "wrapper"), [
    (dict(shape=(0,)), "empty", None), (dict(shape=(3,), init="zeros"), "bar", "log"),
    (dict(shape=(2, 2), init="zeros"), "heatmap", "log"), (dict(shape=(5000,), init="randn"), "bar", None),
    (dict(shape=(40, 60), init="randn"), "heatmap", None),
])
def test_awkward_values_draw_without_warnings(window: MainWindow, qtbot: Any, attributes: dict, kind: str,
                                              wrapper: str | None) -> None:
    document = GraphDocument()
    add_node(document, "x", "tensor", (0, 0), **attributes)
    if wrapper is not None:  # log(0) = -inf everywhere: nothing finite to scale by
        add_node(document, "f", wrapper, (260, 0))
        document.apply(Connect(Edge("x", "f", "input")))
    window.set_document(document)
    click_node(qtbot, window, "f" if wrapper else "x")
    view = window.values_panel.value_view
    assert view.kind == kind
    assert view.table_model.rowCount() == (attributes["shape"][0] if kind != "empty" else 0)


def test_a_large_tensor_is_shown_without_measuring_every_cell(window: MainWindow, qtbot: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from gradstudio.ui.widgets.tensor_view import ArrayModel

    calls = []
    original = ArrayModel.data
    monkeypatch.setattr(ArrayModel, "data", lambda self, *args: calls.append(1) or original(self, *args))
    open_example(window, "notes_forward_backward")
    window.editor.apply(SetAttribute(node_id(window, "x"), "shape", (300, 300)), "shape")
    backward(window)
    click_node(qtbot, window, "x")
    grad = window.values_panel.grad_view
    assert grad.kind == "heatmap" and grad.table_model.columnCount() == 300
    assert len(calls) < 20_000  # fitting columns to contents read all 90,000 cells many times over (seconds)
    header = grad.table.horizontalHeader()
    text = grad.table_model.data(grad.table_model.index(0, 0))
    assert header.sectionSize(299) >= grad.table.fontMetrics().horizontalAdvance(text)


def test_nan_and_infinities_read_as_pytorch_prints_them_and_the_chart_says_how_it_draws_them(
        window: MainWindow, qtbot: Any) -> None:
    document = GraphDocument()
    add_node(document, "x", "tensor", (0, 0), shape=(4,), init="values",
             values=(float("nan"), float("inf"), -float("inf"), 2.0))
    window.set_document(document)
    click_node(qtbot, window, "x")
    view = window.values_panel.value_view
    assert table_column(view) == ["nan", "inf", "-inf", "2.0"]
    assert view.caption.text() == "1 NaN drawn as 0, 2 ±inf drawn at the finite extremes"
    assert not view.caption.isHidden()
    window.editor.apply(SetAttribute("x", "values", (1.0, 2.0, 3.0, 4.0)), "values")
    settle()
    assert view.caption.isHidden() and view.caption.text() == ""
