"""Lesson mode driven as a teacher and a learner do: tick Hide, type a hint, undo, save, reopen, predict, Reveal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from backward_helpers import badge, click_toolbar, item
from panel_helpers import EXAMPLES, click_node, node_id, open_example, settle
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QLineEdit, QMenu
from ui_helpers import DialogRecorder

from gradstudio.model.lesson import Hidden
from gradstudio.ui.backward.stepper import HIDDEN_STEPS
from gradstudio.ui.canvas.lesson_face import HIDDEN_TIP
from gradstudio.ui.main_window import MainWindow

torch = pytest.importorskip("torch", reason="real PyTorch computes the answers the learner types")
CTRL = Qt.KeyboardModifier.ControlModifier


def type_into(qtbot: Any, editor: Any, text: str) -> None:
    """Click into a line edit, replace its text by typing, and press Enter."""
    qtbot.mouseClick(editor, Qt.MouseButton.LeftButton)
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    settle()


def press_undo(qtbot: Any, window: MainWindow) -> None:
    """Ctrl+Z wherever the focus is (the inspector's field just typed in)."""
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_Z, CTRL)
    settle()


def answers() -> dict[str, str]:
    """The notes' numbers, from PyTorch, as a learner types them."""
    x = torch.ones(3, requires_grad=True)
    y = x + 2
    out = (y * y * 3).mean()
    out.backward()
    return {"y": json.dumps(y.tolist()), "x.grad": json.dumps(x.grad.tolist())}


def row(window: MainWindow, name: str, kind: str) -> Any:
    return window.lesson_panel.rows[(node_id(window, name), kind)]


def open_lesson(window: MainWindow) -> MainWindow:
    window.files.open_path(str(EXAMPLES / "lesson_forward_chain.gsg"))
    settle()
    assert window.isActiveWindow()  # the panel's rows never flash up as windows of their own
    return window


# ----- authoring ----------------------------------------------------------------------------------------------


def test_a_teacher_hides_a_value_sets_a_hint_and_undoes(window: MainWindow, qtbot: Any) -> None:
    open_example(window, "notes_forward_backward")
    assert not window.workspace.lesson.playing  # a graph that hides nothing opens for its author
    click_node(qtbot, window, "y")
    fields = window.inspector.fields
    qtbot.mouseClick(fields["hide_value"].editor, Qt.MouseButton.LeftButton)
    settle()
    y = window.document.nodes[node_id(window, "y")]
    assert list(y.hidden) == ["value"]
    type_into(qtbot, window.inspector.fields["hint_value"].editor, "x + 2, elementwise")
    type_into(qtbot, window.inspector.fields["rtol_value"].editor, "5%")
    assert (y.hidden["value"].hint, y.hidden["value"].rtol) == ("x + 2, elementwise", 0.05)
    type_into(qtbot, window.inspector.fields["atol_value"].editor, "lots")
    assert "atol must be a number" in window.inspector.fields["atol_value"].error.text()
    assert y.hidden["value"].atol == 0.001  # refused: nothing changed
    type_into(qtbot, window.inspector.fields["atol_value"].editor, "0.002")
    assert y.hidden["value"].atol == 0.002
    assert item(window, "y").preview().values == "[3, 3, 3]"  # the author still sees the numbers
    window.lesson_panel.show()
    settle()
    assert window.lesson_panel.score.text() == "1 hidden item"
    assert "answer: [3, 3, 3]" in row(window, "y", "value").verdict.text()
    for _ in range(3):
        press_undo(qtbot, window)
    assert y.hidden["value"] == Hidden()
    press_undo(qtbot, window)
    assert y.hidden == {} and window.inspector.fields["hide_value"].editor.isChecked() is False
    assert window.lesson_panel.rows == {}


def test_the_node_menu_hides_a_gradient_for_the_author_only(window: MainWindow) -> None:
    open_example(window, "notes_forward_backward")
    menu = window.context_menus.build(item(window, "x"), QPointF())
    hide = menu.findChild(type(menu.actions()[0]), "hide_grad")
    assert hide is not None and not hide.isChecked()
    hide.trigger()
    assert list(window.document.nodes[node_id(window, "x")].hidden) == ["grad"]
    window.actions.actionLessonMode.trigger()  # View > Play Lesson
    assert window.workspace.lesson.playing and window.lesson_panel.isVisible()
    playing_menu: QMenu = window.context_menus.build(item(window, "x"), QPointF())
    assert playing_menu.findChild(type(menu.actions()[0]), "hide_grad") is None
    printing = next(action for action in playing_menu.actions() if action.text() == "Print x.grad")
    assert not printing.isEnabled()  # it would print the hidden gradient


def test_an_authored_lesson_is_saved_and_reopens_to_be_played(window: MainWindow, qtbot: Any,
                                                             dialogs: DialogRecorder, tmp_path: Path) -> None:
    open_example(window, "notes_forward_backward")
    click_node(qtbot, window, "z")
    qtbot.mouseClick(window.inspector.fields["hide_grad"].editor, Qt.MouseButton.LeftButton)
    settle()
    type_into(qtbot, window.inspector.fields["hint_grad"].editor, "mean divides by 3")
    path = tmp_path / "lesson.gsg"
    dialogs.answers["getSaveFileName"] = (str(path), "")
    window.actions.actionSave.trigger()
    assert path.exists() and not window.isWindowModified()
    window.set_document(open_example(window, "notes_randn_mean"))
    dialogs.answers["getOpenFileName"] = (str(path), "")
    window.actions.actionOpen.trigger()
    settle()
    assert window.workspace.lesson.playing and window.lesson_panel.isVisible()
    z_row = row(window, "z", "grad")
    assert z_row.hint.text() == "<i>Hint: mean divides by 3</i>"
    assert "hide_grad" not in window.inspector.fields  # a learner sees no authoring rows


# ----- playing ------------------------------------------------------------------------------------------------


def test_a_learner_predicts_reveals_and_is_scored(window: MainWindow, qtbot: Any) -> None:
    open_lesson(window)
    typed = answers()
    panel = window.lesson_panel
    assert window.workspace.lesson.playing and panel.isVisible()
    assert panel.score.text() == "Score: 0 of 0 right · 0 of 5 answered"
    assert item(window, "y").preview().values == "?" and item(window, "x").preview().values == "[1, 1, 1]"
    type_into(qtbot, row(window, "y", "value").prediction, typed["y"])  # Enter reveals
    assert "✓ Right: y = [3, 3, 3]" in row(window, "y", "value").verdict.text()
    assert item(window, "y").preview().values == "[3, 3, 3]"
    wrong = row(window, "x", "grad")
    qtbot.mouseClick(wrong.prediction, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(wrong.prediction, "[2, 2, 2]")
    qtbot.mouseClick(wrong.button, Qt.MouseButton.LeftButton)
    settle()
    assert f"✗ Not quite: x.grad = {typed['x.grad'].replace('.0', '')}, you said [2, 2, 2]" in wrong.verdict.text()
    assert not wrong.button.isEnabled() and wrong.prediction.isReadOnly()
    assert panel.score.text() == "Score: 1 of 2 right · 2 of 5 answered"


def test_an_unreadable_prediction_is_refused_and_reveals_nothing(window: MainWindow, qtbot: Any) -> None:
    open_lesson(window)
    z = row(window, "z", "value")
    type_into(qtbot, z.prediction, "[27, 27")
    assert z.verdict.text() == "a [ is not closed by a ]" and z.button.isEnabled()
    assert item(window, "z").preview().values == "?"
    assert window.lesson_panel.score.text() == "Score: 0 of 0 right · 0 of 5 answered"


def test_hidden_numbers_leak_nowhere_until_revealed(window: MainWindow, qtbot: Any) -> None:
    open_lesson(window)
    click_toolbar(qtbot, window, window.actions.actionBackward)
    settle()
    click_node(qtbot, window, "y")
    values = window.values_panel
    assert values.value_view.value is None and values.value_view.title.text() == "Value of y = ?"
    assert values.grad_view.value is None and values.grad_view.note.text() == HIDDEN_TIP
    assert values.copy_text("value") == "" and values.copy_text("gradient") == ""
    assert badge(window, "y", "flow").text == "?" and "6" not in badge(window, "y", "flow").toolTip()
    assert badge(window, "x", "grad").text == "?"
    assert item(window, "y").preview().tooltip == HIDDEN_TIP
    edge = window.scene.edges[(node_id(window, "y"), "a")]  # x feeds y: its gradient is x.grad
    assert HIDDEN_TIP in edge.toolTip()
    click_toolbar(qtbot, window, window.actions.actionStepBackward)
    assert window.step_panel.isHidden()  # its chain rule would show the hidden gradients
    window.actions.actionAutogradGraph.trigger()
    settle()
    lit = window.autograd_panel.lit_edges()
    assert lit and all(window.autograd_panel.edges[key].toolTip() == f"gradient: {HIDDEN_TIP}" for key in lit)
    assert window.statusBar().currentMessage() == HIDDEN_STEPS
    qtbot.mouseClick(window.lesson_panel.reveal_all, Qt.MouseButton.LeftButton)
    settle()
    assert values.value_view.value is not None and values.grad_view.value is not None
    assert badge(window, "x", "grad").text == "[6, 6, 6]"
    assert window.lesson_panel.score.text() == "Score: 0 of 0 right · 0 of 5 answered"
    assert all(not r.button.isEnabled() for r in window.lesson_panel.rows.values())


def test_the_author_switches_between_play_and_author(window: MainWindow, qtbot: Any) -> None:
    open_lesson(window)
    panel = window.lesson_panel
    qtbot.mouseClick(panel.play, Qt.MouseButton.LeftButton)
    settle()
    assert not window.workspace.lesson.playing and not window.actions.actionLessonMode.isChecked()
    assert item(window, "y").preview().values == "[3, 3, 3]"
    assert "answer: [3, 3, 3]" in row(window, "y", "value").verdict.text()
    qtbot.mouseClick(panel.play, Qt.MouseButton.LeftButton)
    settle()
    assert window.workspace.lesson.playing and item(window, "y").preview().values == "?"


def test_the_three_lessons_open_from_the_examples_menu(window: MainWindow) -> None:
    menu = QMenu()
    window.files.fill_examples_menu(menu)
    titles = {action.text(): action for action in menu.actions()}
    for title in ("Lesson forward chain", "Lesson no grad", "Lesson broadcasting"):
        titles[title].trigger()
        settle()
        assert window.workspace.lesson.playing and window.lesson_panel.rows, title
    b = row(window, "b", "grad")
    b.prediction.setText("[2, 2, 2]")
    b.reveal()
    assert "summed over dim 0" in b.verdict.text()


def test_a_tensor_prediction_is_typed_cell_by_cell(window: MainWindow, qtbot: Any) -> None:
    window.files.open_path(str(EXAMPLES / "lesson_broadcasting.gsg"))
    settle()
    X = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    h = X + torch.tensor([0.5, -1.0, 2.0])
    h_row = row(window, "h", "value")
    assert row(window, "b", "grad").table_button is not None  # shape [3]
    qtbot.mouseClick(h_row.table_button, Qt.MouseButton.LeftButton)
    table = h_row.cells.editor
    assert (table.rowCount(), table.columnCount()) == (2, 3)
    for index, number in enumerate(h.flatten().tolist()):
        rect = table.visualItemRect(table.item(*divmod(index, 3)))
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.keyClick(table, Qt.Key.Key_F2)
        editor = table.findChild(QLineEdit)
        qtbot.keyClicks(editor, f"{number:g}")
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        settle()
    assert h_row.prediction.text() == json.dumps(h.tolist())
    qtbot.mouseClick(h_row.button, Qt.MouseButton.LeftButton)
    settle()
    assert "✓ Right: h = [[1.5, 1, 5], [4.5, 4, 8]]" in h_row.verdict.text()
    assert not h_row.cells.isEnabled()


def test_a_graph_that_hides_nothing_opens_on_the_inspector_tab(window: MainWindow) -> None:
    open_lesson(window)
    assert not window.lesson_panel.visibleRegion().isEmpty()
    window.files.open_path(str(EXAMPLES / "notes_forward_backward.gsg"))
    settle()
    assert window.lesson_panel.visibleRegion().isEmpty()
    assert not window.inspector.visibleRegion().isEmpty()


def test_restart_empties_the_prediction_fields(window: MainWindow, qtbot: Any) -> None:
    open_lesson(window)
    y = row(window, "y", "value")
    type_into(qtbot, y.prediction, answers()["y"])
    type_into(qtbot, row(window, "z", "value").prediction, "[27, 27")  # refused: a problem under the field
    qtbot.mouseClick(window.lesson_panel.restart, Qt.MouseButton.LeftButton)
    settle()
    fields = [entry.prediction for entry in window.lesson_panel.rows.values()]
    assert [field.text() for field in fields] == [""] * 5 and not any(field.isReadOnly() for field in fields)
    assert not any(entry.verdict.isVisible() for entry in window.lesson_panel.rows.values())
    assert window.lesson_panel.score.text() == "Score: 0 of 0 right · 0 of 5 answered"


def test_another_lesson_opens_with_empty_prediction_fields(window: MainWindow, qtbot: Any) -> None:
    open_lesson(window)
    draft = row(window, "y", "value").prediction
    qtbot.mouseClick(draft, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(draft, "12345")  # typed, not yet revealed
    window.undo_stack.setClean()
    menu = QMenu()
    window.files.fill_examples_menu(menu)
    next(action for action in menu.actions() if action.text() == "Lesson no grad").trigger()
    settle()
    assert window.lesson_panel.rows  # the node ids repeat across the examples: the rows are new, and empty
    assert [entry.prediction.text() for entry in window.lesson_panel.rows.values()] == [""] * len(
        window.lesson_panel.rows)


def test_the_author_view_has_no_table_button(window: MainWindow, qtbot: Any) -> None:
    open_lesson(window)
    panel = window.lesson_panel
    assert any(entry.table_button is not None and entry.table_button.isVisible() for entry in panel.rows.values())
    qtbot.mouseClick(panel.play, Qt.MouseButton.LeftButton)  # to the author's view
    settle()
    assert not window.workspace.lesson.playing
    assert not any(entry.table_button is not None and entry.table_button.isVisible() for entry in panel.rows.values())
