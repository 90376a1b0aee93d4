"""The inspector: fields generated from the catalog, edits as undoable commands, refusals shown inline."""

from __future__ import annotations

from typing import Any

import pytest
from panel_helpers import click_node, node_id, open_example, settle
from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QLabel, QLineEdit, QSpinBox, QTableWidget
from ui_helpers import add_node

from gradstudio.model.catalog import CATALOG
from gradstudio.model.document import GraphDocument
from gradstudio.ui.main_window import MainWindow
from gradstudio.ui.panels.inspector import visible_attributes

WIDGETS = {"bool": QCheckBox, "int": QSpinBox, "choice": QComboBox}
CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def type_into(qtbot: Any, window: MainWindow, key: str, text: str) -> None:
    """Replace the text of inspector field `key` by typing, then press Enter."""
    editor = window.inspector.fields[key].editor
    line = editor.lineEdit() if isinstance(editor, QSpinBox) else editor
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)
    settle()


def press(qtbot: Any, window: MainWindow, key: str, modifiers: Qt.KeyboardModifier) -> None:
    """A shortcut pressed while the focus is wherever it is."""
    qtbot.keyClick(window.focusWidget() or window, key, modifiers)
    settle()


@pytest.mark.parametrize("kind", sorted(CATALOG))
def test_fields_are_generated_from_the_catalog_with_doc_tool_tips(window: MainWindow, qtbot: Any, kind: str) -> None:
    document = GraphDocument()
    add_node(document, "node", kind, (0, 0))
    window.set_document(document)
    click_node(qtbot, window, "node")
    node = window.document.nodes["node"]
    fields = window.inspector.fields
    expected = ["name", *(spec.name for spec in visible_attributes(node))]
    expected += ["retain_grad"] if node.input_ports() else []
    expected += [f"port_{port}" for port in node.input_ports()]  # every input is unwired: each takes a constant
    expected += ["values"] if kind == "tensor" else []
    expected += ["hide_value", "hide_grad"]  # the lesson's author may hide the node's value or gradient
    assert list(fields) == expected
    for spec in visible_attributes(node):
        editor = fields[spec.name].editor
        assert isinstance(editor, WIDGETS.get(spec.kind, QLineEdit)), spec
        assert editor.toolTip() == (spec.doc or f"{spec.name} ({spec.kind})")
    header = window.inspector.header
    assert f"<b>node</b> — {node.spec.title}" in header.text() and header.toolTip() == node.spec.doc


def test_a_tensor_shows_the_fields_its_initialiser_reads(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "softmax_classifier")
    click_node(qtbot, window, "W")
    assert list(window.inspector.fields) == ["name", "shape", "dtype", "init", "seed", "requires_grad", "values",
                                             "hide_value", "hide_grad"]
    combo = window.inspector.fields["init"].editor
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)  # ones: a combo box commits what the keyboard picks
    settle()
    assert window.document.nodes[node_id(window, "W")].attributes["init"] == "ones"
    assert "seed" not in window.inspector.fields
    assert window.workspace.model.value(node_id(window, "W")).tolist() == [[1.0] * 3] * 2


def test_typed_shape_changes_the_model_re_evaluates_and_undoes_exactly(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "x")
    before = window.document.snapshot()
    type_into(qtbot, window, "shape", "2, 3")
    x = window.document.nodes[node_id(window, "x")]
    assert x.attributes["shape"] == (2, 3) and window.undo_stack.count() == 1
    assert list(window.workspace.model.value(node_id(window, "out")).shape) == []
    assert window.values_panel.value_view.kind == "heatmap"
    after = window.document.snapshot()
    assert window.inspector.fields["shape"].editor.hasFocus()
    press(qtbot, window, Qt.Key.Key_Z, CTRL)
    assert window.document.snapshot() == before
    assert window.inspector.fields["shape"].editor.text() == "3"
    press(qtbot, window, Qt.Key.Key_Z, CTRL | SHIFT)
    assert window.document.snapshot() == after
    press(qtbot, window, Qt.Key.Key_Z, CTRL)
    press(qtbot, window, Qt.Key.Key_Y, CTRL)
    assert window.document.snapshot() == after and window.inspector.fields["shape"].editor.text() == "2, 3"


@pytest.mark.parametrize(("key", "text", "reason"), [
    ("shape", "2, a", "shape must be a list of integers, got '2, a'"),
    ("shape", "-2", "shape extents must be at least 0, got [-2]"),  # not "(or -1 to infer)": a leaf infers none
    ("shape", "-1", "shape extents must be at least 0, got [-1]"),
    ("shape", "100000, 100000", "has more than 10,000,000 elements, the limit for one tensor"),
    ("name", "y", "the name 'y' is already used"),
    ("name", "2x", "'2x' is not a valid variable name"),
    ("name", "break", "'break' is not a valid variable name"),
])
def test_invalid_input_is_refused_inline_and_changes_nothing(window: MainWindow, qtbot: Any, key: str, text: str,
                                                             reason: str) -> None:
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "x")
    before = window.document.snapshot()
    type_into(qtbot, window, key, text)
    field = window.inspector.fields[key]
    assert window.document.snapshot() == before and window.undo_stack.count() == 0
    assert field.refused and reason in field.error.text() and field.error.isVisible()
    assert field.editor.property("invalid") and "border" in field.editor.styleSheet()
    assert field.editor.text() == text  # the input stays, to be corrected
    type_into(qtbot, window, key, "x2" if key == "name" else "4")
    field = window.inspector.fields[key]  # a new shape rebuilds the form (once the edit has returned)
    assert not field.refused and field.editor.styleSheet() == "" and window.undo_stack.count() == 1


def test_spin_box_edits_and_refusals(window: MainWindow, qtbot: Any) -> None:
    document = GraphDocument()
    add_node(document, "joined", "cat", (0, 0))
    window.set_document(document)
    click_node(qtbot, window, "joined")
    type_into(qtbot, window, "count", "3")
    node = window.document.nodes["joined"]
    assert node.attributes["count"] == 3 and node.input_ports() == ("tensor0", "tensor1", "tensor2")
    type_into(qtbot, window, "count", "0")
    field = window.inspector.fields["count"]
    assert node.attributes["count"] == 3 and "count must be between 1 and 64, got 0" in field.error.text()
    assert window.undo_stack.count() == 1


def test_checkboxes_commit_requires_grad_and_retain_grad(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "x")
    qtbot.mouseClick(window.inspector.fields["requires_grad"].editor, Qt.MouseButton.LeftButton)
    settle()
    assert window.document.nodes[node_id(window, "x")].attributes["requires_grad"] is False
    assert window.workspace.model.value(node_id(window, "out")).grad_fn is None
    click_node(qtbot, window, "y")
    qtbot.mouseClick(window.inspector.fields["retain_grad"].editor, Qt.MouseButton.LeftButton)
    settle()
    assert window.document.nodes[node_id(window, "y")].retain_grad
    assert [window.undo_stack.text(i) for i in range(2)] == ["Set x.requires_grad", "Retain y.grad"]
    window.undo_stack.undo()
    settle()
    assert not window.inspector.fields["retain_grad"].editor.isChecked()


def test_a_number_field_sets_a_python_number(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "two")
    type_into(qtbot, window, "value", "0.5")
    assert window.document.nodes[node_id(window, "two")].attributes["value"] == 0.5
    y = window.workspace.model.value(node_id(window, "y"))
    assert repr(y) == "tensor([1.5000, 1.5000, 1.5000], grad_fn=<AddBackward0>)"
    type_into(qtbot, window, "value", "half")
    assert "value must be a number, got 'half'" in window.inspector.fields["value"].error.text()


def test_the_values_table_edits_a_small_tensor_in_one_undoable_step(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "x")
    table = window.inspector.fields["values"].editor
    assert isinstance(table, QTableWidget) and (table.rowCount(), table.columnCount()) == (1, 3)
    before = window.document.snapshot()
    table.setCurrentCell(0, 1)
    table.editItem(table.item(0, 1))
    editor = table.findChild(QLineEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, "5")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    settle()
    x = window.document.nodes[node_id(window, "x")]
    assert x.attributes["init"] == "values" and x.attributes["values"] == (1.0, 5, 1.0)
    assert repr(window.workspace.model.value(x.id)) == "tensor([1., 5., 1.], requires_grad=True)"
    assert window.undo_stack.count() == 1
    window.undo_stack.undo()
    settle()
    assert window.document.snapshot() == before and table.item(0, 1).text() == "1.0"


def test_a_refused_table_value_is_shown_under_the_table(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "x")
    before = window.document.snapshot()
    table = window.inspector.fields["values"].editor
    table.item(0, 0).setText("one")
    settle()
    field = window.inspector.fields["values"]
    assert "values must be numbers" in field.error.text() and window.document.snapshot() == before


def test_a_node_that_cannot_compute_says_why_in_the_inspector(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "x")
    assert window.inspector.status.isHidden()
    combo = window.inspector.fields["init"].editor
    combo.setFocus()
    qtbot.keyClicks(combo, "values")  # typing selects the matching choice, as in any combo box
    settle()
    assert window.inspector.status.text() == "Cannot compute: shape [3] needs 3 values, got 0"
    assert not window.inspector.status.isHidden()
    click_node(qtbot, window, "y")
    assert window.inspector.status.text() == "Waits for an input that has no value"
    labels = [label.text() for label in window.inspector.findChildren(QLabel)]
    assert "a, b" in labels


def test_editing_keys_in_a_field_edit_the_text_not_the_graph(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "x")
    line = window.inspector.fields["name"].editor
    line.setFocus()
    line.end(False)
    for key in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete):
        qtbot.keyClick(line, key)
    qtbot.keyClicks(line, "inputs")
    qtbot.keyClick(line, Qt.Key.Key_Z, CTRL)  # pending typing: Ctrl+Z belongs to the line edit
    settle()
    assert len(window.document.nodes) == 7 and window.undo_stack.count() == 0
    assert line.text() != "inputs"


def test_forms_of_earlier_selections_are_deleted(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    for name in ("x", "y", "out", "x", "two"):
        click_node(qtbot, window, name)
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert len(window.inspector.findChildren(QLineEdit, "", Qt.FindChildOption.FindChildrenRecursively)) == 2


def test_a_grown_shape_leaves_empty_cells_to_fill(window: MainWindow, qtbot: Any) -> None:
    document = GraphDocument()
    add_node(document, "v", "tensor", (0, 0), shape=(2,), init="values", values=(1.0, 2.0))
    window.set_document(document)
    click_node(qtbot, window, "v")
    type_into(qtbot, window, "shape", "3")
    table = window.inspector.fields["values"].editor
    assert [table.item(0, i).text() for i in range(3)] == ["1.0", "2.0", ""]
    assert window.inspector.status.text() == "Cannot compute: shape [3] needs 3 values, got 2"
    table.item(0, 2).setText("7")
    settle()
    assert repr(window.workspace.model.value("v")) == "tensor([1., 2., 7.])"


def test_a_computing_error_is_explained_in_plain_words(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "x")
    combo = window.inspector.fields["dtype"].editor
    combo.setFocus()
    qtbot.keyClicks(combo, "int64")  # requires_grad stays on, which PyTorch refuses for integers
    settle()
    assert window.inspector.status.text() == (
        "Cannot compute: only Tensors of floating point dtype can require gradients\n"
        "Gradients need real numbers: make the tensor float32 or float64 before asking for requires_grad.")
    window.undo_stack.undo()
    settle()
    assert window.inspector.status.isHidden()


@pytest.mark.parametrize("texts", [["100000, 100000"], ["2, a", "100000, 100000"]], ids=["first", "longer"])
def test_a_refusal_is_shown_whole_when_the_inspector_scrolls(window: MainWindow, qtbot: Any, texts: list[str]) -> None:
    """On a small screen the inspector's form is taller than its dock and scrolls: a refusal that wraps onto more
    lines than the one before it still gets the height it needs (it was cut to the old height, lines clipped)."""
    window.resize(QSize(1280, 600))
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "x")
    assert window.inspector.scroll.verticalScrollBar().maximum() > 0  # the form overflows the dock
    for text in texts:
        type_into(qtbot, window, "shape", text)
    error = window.inspector.fields["shape"].error
    assert error.isVisible() and error.heightForWidth(error.width()) > 2 * error.fontMetrics().height()
    assert error.height() >= error.heightForWidth(error.width())


@pytest.mark.parametrize("enter", [True, False], ids=["refused", "typed"])
def test_escape_in_a_text_field_gives_back_the_models_value(window: MainWindow, qtbot: Any, enter: bool) -> None:
    """Escape in a field holding refused input (red, the reason underneath) or typing not yet entered shows the
    model's value again; the document never changed, and a second Escape has nothing to drop."""
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "x")
    before = window.document.snapshot()
    field = window.inspector.fields["name"]
    line = field.editor
    line.setFocus()
    line.selectAll()
    qtbot.keyClicks(line, "2x")
    if enter:
        qtbot.keyClick(line, Qt.Key.Key_Return)
        settle()
        assert field.refused
    qtbot.keyClick(line, Qt.Key.Key_Escape)
    settle()
    assert line.text() == "x" and not field.refused and not field.error.isVisible()
    assert line.styleSheet() == "" and not field.has_pending_input()
    assert window.document.snapshot() == before and window.undo_stack.count() == 0


@pytest.mark.parametrize("theme", ["Light", "Dark"])
def test_the_values_table_of_a_four_element_tensor_fits_without_scrolling(window: MainWindow, qtbot: Any,
                                                                           theme: str) -> None:
    window.resize(1366, 768)  # the small screen where the last column was cut off
    window.findChild(QAction, f"actionTheme{theme}").trigger()
    window.commands.add_at_centre("tensor")
    settle()
    type_into(qtbot, window, "shape", "4")
    table = window.inspector.fields["values"].editor
    settle()
    columns = sum(table.columnWidth(column) for column in range(4))
    assert table.columnCount() == 4 and columns <= table.viewport().width()
    assert table.horizontalScrollBar().maximum() == 0
