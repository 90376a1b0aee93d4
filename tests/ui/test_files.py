"""File commands through the window: save/close/open round trip, the unsaved-work prompt, bad files, examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox
from ui_helpers import DialogRecorder, chain_document, send_drop

from gradstudio.model.annotations import AddAnnotation, Annotation
from gradstudio.model.edits import MoveNode
from gradstudio.model.io import fileformat
from gradstudio.model.io.codegen import generate_code
from gradstudio.ui.io import export, files
from gradstudio.ui.io.export import PNG_SCALE, export_png, graph_rect
from gradstudio.ui.io.files import example_files
from gradstudio.ui.main_window import MainWindow

Buttons = QMessageBox.StandardButton


def test_save_close_open_round_trip(chain: MainWindow, dialogs: DialogRecorder, tmp_path: Path) -> None:
    path = tmp_path / "lesson.gsg"
    chain.editor.apply(AddAnnotation(Annotation("note1", "note", "x is a leaf", (0, -120), (220, 80))), "Add note")
    chain.editor.apply(AddAnnotation(Annotation("frame1", "frame", "Forward", (-40, -40), (800, 260))), "Add frame")
    saved = chain.document.snapshot()
    assert chain.isWindowModified()
    dialogs.answers["getSaveFileName"] = (str(path), "")
    chain.actions.actionSave.trigger()
    assert path.is_file() and not chain.isWindowModified()
    assert chain.windowTitle() == "lesson.gsg[*] — GradStudio"
    chain.actions.actionClose.trigger()
    assert chain.document.nodes == {} and chain.workspace.path is None
    dialogs.answers["getOpenFileName"] = (str(path), "")
    chain.actions.actionOpen.trigger()
    assert chain.document.snapshot() == saved
    assert set(chain.scene.annotations) == {"note1", "frame1"}
    assert chain.scene.annotations["note1"].annotation.text == "x is a leaf"
    assert chain.workspace.path == str(path.resolve())
    assert chain.settings.recent_files() == [str(path.resolve())]
    assert "question" not in dialogs.names()


def test_title_marks_unsaved_changes_and_undo_back_to_clean_clears_it(chain: MainWindow) -> None:
    assert chain.windowTitle() == "Untitled[*] — GradStudio" and not chain.isWindowModified()
    chain.editor.apply(MoveNode("x", (5, 5)), "Move x")
    assert chain.isWindowModified()
    chain.undo_stack.undo()
    assert not chain.isWindowModified()


def test_cancel_in_the_unsaved_changes_prompt_keeps_everything(chain: MainWindow, dialogs: DialogRecorder) -> None:
    chain.editor.apply(MoveNode("x", (5, 5)), "Move x")
    document, before, steps = chain.document, chain.document.snapshot(), chain.undo_stack.count()
    for action in (chain.actions.actionNew, chain.actions.actionClose):
        action.trigger()
    chain.files.open_path(str(example_files()[0]))
    assert dialogs.names() == ["question"] * 3
    assert chain.document is document and document.snapshot() == before
    assert chain.undo_stack.count() == steps and chain.isWindowModified()
    chain.close()
    assert chain.isVisible()


def test_discard_in_the_prompt_drops_the_work(chain: MainWindow, dialogs: DialogRecorder) -> None:
    chain.editor.apply(MoveNode("x", (5, 5)), "Move x")
    dialogs.answers["question"] = Buttons.Discard
    chain.actions.actionNew.trigger()
    assert chain.document.nodes == {} and not chain.isWindowModified()


def test_save_in_the_prompt_saves_first(chain: MainWindow, dialogs: DialogRecorder, tmp_path: Path) -> None:
    chain.editor.apply(MoveNode("x", (5, 5)), "Move x")
    dialogs.answers["question"] = Buttons.Save
    dialogs.answers["getSaveFileName"] = (str(tmp_path / "kept"), "")
    chain.actions.actionNew.trigger()
    assert fileformat.load(tmp_path / "kept.gsg").nodes["x"].position == (5.0, 5.0)
    assert chain.document.nodes == {}


def test_a_bad_file_is_reported_and_the_open_document_stays(chain: MainWindow, dialogs: DialogRecorder,
                                                            tmp_path: Path) -> None:
    chain.editor.apply(MoveNode("x", (5, 5)), "Move x")
    bad = tmp_path / "broken.gsg"
    bad.write_text('{"format": "gradstudio-graph", "version": 2, "nodes": [{"id": 1}]}')
    document, before = chain.document, chain.document.snapshot()
    dialogs.answers["question"] = Buttons.Discard
    assert not chain.files.open_path(str(bad))
    assert chain.document is document and document.snapshot() == before
    assert chain.isWindowModified() and chain.undo_stack.canUndo()
    [(_, args)] = [call for call in dialogs.calls if call[0] == "critical"]
    assert args[1] == "Cannot open graph" and args[2].startswith("broken.gsg: nodes[0]")


def test_dropping_a_graph_file_on_the_canvas_opens_it(window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "dropped.gsg"
    fileformat.save(chain_document(), path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    send_drop(window, mime, QPoint(100, 100))
    assert set(window.document.nodes) == {"x", "two", "y", "z", "w"}
    assert window.windowTitle().startswith("dropped.gsg")


def test_examples_menu_opens_each_example_as_an_untitled_copy(window: MainWindow) -> None:
    menu = QMenu()
    window.files.fill_examples_menu(menu)
    titles = [action.text() for action in menu.actions()]
    assert len(titles) == len(example_files()) >= 3 and "Notes forward backward" in titles
    [entry] = [action for action in menu.actions() if action.text() == "Notes forward backward"]
    entry.trigger()
    assert window.workspace.path is None and window.document.nodes
    assert window.windowTitle() == "Notes forward backward (example)[*] — GradStudio"
    assert all(result.ok for result in window.workspace.results().values())


def test_recent_files_menu(window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "recent.gsg"
    fileformat.save(chain_document(), path)
    window.files.open_path(str(path))
    window.files.new()
    menu = QMenu()
    window.files.fill_recent_menu(menu)
    menu.actions()[0].trigger()
    assert window.workspace.path == str(path.resolve())


def test_export_png_and_svg(chain: MainWindow, dialogs: DialogRecorder, tmp_path: Path) -> None:
    dialogs.answers["getSaveFileName"] = (str(tmp_path / "graph"), "PNG image (*.png)")
    chain.actions.actionExportImage.trigger()
    assert (tmp_path / "graph.png").read_bytes().startswith(b"\x89PNG")
    dialogs.answers["getSaveFileName"] = (str(tmp_path / "graph.svg"), "SVG drawing (*.svg)")
    chain.actions.actionExportImage.trigger()
    svg = (tmp_path / "graph.svg").read_text()
    assert "<svg" in svg and "two" in svg


def test_a_huge_png_export_is_scaled_down_to_a_pixel_budget(chain: MainWindow, tmp_path: Path,
                                                            monkeypatch: Any) -> None:
    source = graph_rect(chain.scene)
    assert export_png(chain.scene, tmp_path / "sharp.png")
    assert QImage(str(tmp_path / "sharp.png")).width() == round(source.width() * PNG_SCALE)
    monkeypatch.setattr(export, "MAX_PNG_PIXELS", 250_000)
    assert export_png(chain.scene, tmp_path / "budget.png")
    image = QImage(str(tmp_path / "budget.png"))
    assert image.width() * image.height() <= 250_000 * 1.01
    assert abs(image.width() / image.height() - source.width() / source.height()) < 0.01


def test_settings_remember_window_state_theme_and_snapping(qtbot: Any, settings: Any, dialogs: Any) -> None:
    first = MainWindow(settings)
    qtbot.addWidget(first)
    first.show()
    first.resize(700, 500)
    first.actions.actionThemeDark.trigger()
    first.actions.actionSnapToGrid.trigger()
    first.close()
    second = MainWindow(settings)
    qtbot.addWidget(second)
    second.show()
    assert (second.width(), second.height()) == (700, 500)
    assert second.theme.name == "dark" and second.actions.actionThemeDark.isChecked()
    assert second.scene.snap_to_grid
    second.set_theme("light")
    QApplication.instance().setPalette(QApplication.style().standardPalette())


def test_a_failed_save_says_why_and_keeps_the_work_unsaved(chain: MainWindow, dialogs: DialogRecorder,
                                                           tmp_path: Path) -> None:
    chain.editor.apply(MoveNode("x", (5, 5)), "Move x")
    dialogs.answers["getSaveFileName"] = (str(tmp_path / "missing" / "folder" / "g.gsg"), "")
    assert not chain.files.save()
    [(_, args)] = [call for call in dialogs.calls if call[0] == "critical"]
    assert args[1] == "Cannot save graph" and "No such file or directory" in args[2]
    assert chain.isWindowModified() and chain.workspace.path is None


def test_export_code_writes_the_code_panels_script(chain: MainWindow, dialogs: DialogRecorder,
                                                   tmp_path: Path) -> None:
    dialogs.answers["getSaveFileName"] = (str(tmp_path / "graph"), "Python source (*.py)")
    assert chain.actions.actionExportCode.isEnabled()
    chain.actions.actionExportCode.trigger()
    written = (tmp_path / "graph.py").read_text()
    assert written == generate_code(chain.document, chain.workspace.results())
    assert "import torch" in written and "y = x + 2" in written


def test_export_code_failure_says_why_and_writes_nothing(chain: MainWindow, dialogs: DialogRecorder,
                                                         tmp_path: Path) -> None:
    dialogs.answers["getSaveFileName"] = (str(tmp_path / "missing" / "graph.py"), "Python source (*.py)")
    chain.actions.actionExportCode.trigger()
    assert "critical" in dialogs.names()
    assert not (tmp_path / "missing").exists()


def test_save_as_asks_before_replacing_a_file_the_added_suffix_names(chain: MainWindow, dialogs: DialogRecorder,
                                                                     tmp_path: Path) -> None:
    existing = tmp_path / "graph.gsg"
    existing.write_text("keep me")
    dialogs.answers["getSaveFileName"] = (str(tmp_path / "graph"), "GradStudio graph (*.gsg)")
    assert not chain.files.save_as()
    assert "question" in dialogs.names() and existing.read_text() == "keep me"
    dialogs.answers["question"] = QMessageBox.StandardButton.Yes
    assert chain.files.save_as()
    assert fileformat.load(existing).nodes.keys() == chain.document.nodes.keys()


@pytest.mark.parametrize(("answer", "replaced"), [("No", False), ("Yes", True)])
def test_saving_onto_a_read_only_file_asks_first(chain: MainWindow, dialogs: DialogRecorder, tmp_path: Path,
                                                 qtbot: Any, answer: str, replaced: bool) -> None:
    target = tmp_path / "locked.gsg"
    target.write_text("old contents", encoding="utf-8")
    target.chmod(0o444)
    chain.editor.move({"x": ((0.0, 0.0), (20.0, 20.0))})
    dialogs.answers["getSaveFileName"] = (str(target), "")
    dialogs.answers["question"] = getattr(QMessageBox.StandardButton, answer)
    qtbot.keyClick(chain.view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert "question" in dialogs.names()
    assert (target.read_text(encoding="utf-8") != "old contents") == replaced
    assert chain.is_modified() != replaced
    if not replaced:
        assert "read-only" in chain.statusBar().currentMessage()
    else:
        assert target.stat().st_mode & 0o222 == 0  # it stays read-only


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped examples standing in for the real ones (a failing test must not touch the checkout)."""
    root = tmp_path / "resources"
    (root / "examples").mkdir(parents=True)
    for path in example_files():
        (root / "examples" / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr(files, "resource_roots", lambda: [root])
    return root / "examples"


def test_opening_a_shipped_example_by_path_opens_an_untitled_copy(window: MainWindow, dialogs: DialogRecorder,
                                                                  shipped: Path) -> None:
    example = shipped / "notes_forward_backward.gsg"
    before = example.read_bytes()
    assert window.open_path(str(example))  # what `gradstudio FILE` and `make run` do
    assert window.workspace.path is None
    assert window.windowTitle() == "Notes forward backward (example)[*] — GradStudio"
    window.editor.apply(MoveNode(next(iter(window.document.nodes)), (5, 5)), "Move")
    dialogs.answers["question"] = Buttons.Save  # Enter on the prompt
    window.actions.actionNew.trigger()
    assert "getSaveFileName" in dialogs.names() and example.read_bytes() == before


def test_save_never_writes_over_a_shipped_example(window: MainWindow, dialogs: DialogRecorder, shipped: Path) -> None:
    example = shipped / "linear_regression.gsg"
    before = example.read_bytes()
    window.set_document(fileformat.load(example), str(example.resolve()))  # e.g. restored from a recovery file
    window.editor.apply(MoveNode(next(iter(window.document.nodes)), (5, 5)), "Move")
    window.actions.actionSave.trigger()
    assert dialogs.names() == ["getSaveFileName"] and example.read_bytes() == before
