"""Notes and frames on the canvas: added, edited, moved (a frame carries its nodes), undone, deleted."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, Qt
from ui_helpers import DialogRecorder, drag

from gradstudio.ui.main_window import MainWindow


def test_frame_around_the_selection_carries_its_nodes(chain: MainWindow, qtbot: Any) -> None:
    chain.scene.select(["x", "two"])
    chain.actions.actionAddFrame.trigger()
    [frame] = chain.document.annotations.values()
    assert frame.kind == "frame" and frame.text == "Frame"
    frame_item = chain.scene.annotations[frame.id]
    for node_id in ("x", "two"):
        assert frame_item.sceneBoundingRect().contains(chain.scene.nodes[node_id].sceneBoundingRect())
    chain.scene.clearSelection()
    before = chain.document.snapshot()
    left, top = frame.position
    title = QPointF(left + 60, top + 10)
    drag(qtbot, chain, title, title + QPointF(0, -200))
    assert chain.document.nodes["x"].position == (0.0, -200.0)
    assert chain.document.nodes["two"].position == (0.0, -50.0)
    assert chain.document.nodes["y"].position == (260.0, 0.0)
    assert chain.document.annotations[frame.id].position == (left, top - 200)
    edge = chain.scene.edges[("y", "a")]
    assert edge.boundingRect().contains(edge.mapFromScene(chain.scene.nodes["x"].output_anchor()))
    chain.undo_stack.undo()
    assert chain.document.snapshot() == before
    assert chain.scene.nodes["x"].pos() == QPointF(0, 0)


def test_note_text_is_edited_by_double_click(chain: MainWindow, dialogs: DialogRecorder, qtbot: Any) -> None:
    chain.actions.actionAddNote.trigger()
    [note] = chain.document.annotations.values()
    dialogs.answers["getMultiLineText"] = ("Backward starts at z", True)
    centre = chain.scene.annotations[note.id].sceneBoundingRect().center()
    qtbot.mouseDClick(chain.view.viewport(), Qt.MouseButton.LeftButton,
                      pos=chain.view.mapFromScene(centre))
    assert chain.document.annotations[note.id].text == "Backward starts at z"
    chain.undo_stack.undo()
    assert chain.document.annotations[note.id].text == "Note"


def test_frames_resize_from_their_corner(chain: MainWindow, qtbot: Any) -> None:
    chain.actions.actionAddFrame.trigger()
    [frame] = chain.document.annotations.values()
    (x, y), (width, height) = frame.position, frame.size
    before = chain.document.snapshot()
    corner = QPointF(x + width - 4, y + height - 4)
    drag(qtbot, chain, corner, corner + QPointF(-100, -50))
    resized = chain.document.annotations[frame.id]
    assert resized.position == (x, y)
    assert resized.size == (width - 100, height - 50)
    chain.undo_stack.undo()
    assert chain.document.snapshot() == before


def test_deleting_a_note_and_undo(chain: MainWindow, qtbot: Any) -> None:
    chain.actions.actionAddNote.trigger()
    before = chain.document.snapshot()
    chain.actions.actionDelete.trigger()
    assert chain.document.annotations == {} and chain.scene.annotations == {}
    chain.undo_stack.undo()
    assert chain.document.snapshot() == before
    assert len(chain.scene.annotations) == 1


def test_copy_paste_includes_annotations(chain: MainWindow) -> None:
    chain.actions.actionAddNote.trigger()
    chain.actions.actionDuplicate.trigger()
    texts = sorted(a.text for a in chain.document.annotations.values())
    assert texts == ["Note", "Note"] and len(set(chain.document.annotations)) == 2
