"""Autosave and recovery through the real window: when the recovery file is written and removed, and the prompt."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication, QMessageBox
from recovery_helpers import answer_prompts, move_steps, plant_recovery
from ui_helpers import DialogRecorder, chain_document

from gradstudio.model.io import fileformat
from gradstudio.ui.app import create_window
from gradstudio.ui.io.recovery import AUTOSAVE_EDITS, recovery_folder
from gradstudio.ui.io.recovery_files import RecoveryStore, process_start
from gradstudio.ui.main_window import MainWindow
from gradstudio.ui.settings import AppSettings

Buttons = QMessageBox.StandardButton


def recovery_files(folder: Path) -> list[Path]:
    """The recovery graph files in `folder`."""
    return sorted(folder.glob("recovery-*.gsg")) if folder.is_dir() else []


def start(qtbot: Any, settings: AppSettings, answers: list[str]) -> tuple[MainWindow, list[str]]:
    """Start the app's window as `gradstudio` does, clicking `answers` in the recovery prompts."""
    texts: list[str] = []
    answer_prompts(answers, texts)
    window = create_window(settings=settings)
    qtbot.addWidget(window, before_close_func=lambda widget: widget.undo_stack.setClean())
    return window, texts


def test_recovery_folder_is_in_the_overridable_state_folder(state_dir: Path) -> None:
    assert recovery_folder() == state_dir / "recovery"


def test_autosave_writes_after_twenty_edits_only(chain: MainWindow) -> None:
    store = chain.autosave.store
    move_steps(chain, AUTOSAVE_EDITS - 1)
    chain.autosave.wait()
    assert not store.exists()
    move_steps(chain, 1)
    chain.autosave.wait()  # written on the worker thread
    assert store.exists()
    assert fileformat.to_data(fileformat.load(store.graph_file)) == fileformat.to_data(chain.document)
    header = json.loads(store.sidecar.read_text(encoding="utf-8"))
    assert header["pid"] == os.getpid()
    assert header["original_path"] is None
    assert header["display_name"] == "Untitled"
    move_steps(chain, AUTOSAVE_EDITS)  # the next twenty write again
    chain.autosave.wait()
    assert fileformat.to_data(fileformat.load(store.graph_file)) == fileformat.to_data(chain.document)


def test_autosave_on_the_timer_only_when_there_are_unsaved_changes(qtbot: Any, chain: MainWindow) -> None:
    chain.undo_stack.setClean()
    chain.autosave.timer.setInterval(20)
    qtbot.wait(100)
    assert not chain.autosave.store.exists()
    move_steps(chain, 1)
    with qtbot.waitSignal(chain.autosave.written, timeout=2000):
        pass
    assert fileformat.to_data(fileformat.load(chain.autosave.store.graph_file)) == fileformat.to_data(chain.document)


def test_saving_or_undoing_back_to_the_saved_state_removes_the_recovery_file(chain: MainWindow,
                                                                          tmp_path: Path) -> None:
    store = chain.autosave.store
    move_steps(chain, 1)
    assert chain.autosave.autosave()
    assert chain.files.save_to(str(tmp_path / "saved.gsg"))
    assert not store.exists()
    move_steps(chain, 2)
    assert chain.autosave.autosave()
    chain.undo_stack.undo()
    chain.undo_stack.undo()
    assert not store.exists()
    assert not chain.autosave.autosave()  # nothing unsaved: nothing written
    assert recovery_files(store.folder) == []


def test_a_clean_exit_removes_the_recovery_file_and_cancel_keeps_it(chain: MainWindow,
                                                                    dialogs: DialogRecorder) -> None:
    store = chain.autosave.store
    move_steps(chain, AUTOSAVE_EDITS)
    chain.autosave.wait()
    assert store.exists()
    dialogs.answers["question"] = Buttons.Cancel
    assert not chain.close()
    assert store.exists()
    dialogs.answers["question"] = Buttons.Discard
    assert chain.close()
    assert not store.exists()
    assert not chain.autosave.timer.isActive()


def test_switching_documents_drops_the_old_documents_recovery_file(chain: MainWindow,
                                                                   dialogs: DialogRecorder) -> None:
    store = chain.autosave.store
    move_steps(chain, AUTOSAVE_EDITS)
    dialogs.answers["question"] = Buttons.Discard
    assert chain.files.new()
    assert not store.exists()
    assert chain.editor.add_node("tensor", (0, 0)) is not None
    assert chain.autosave.autosave()
    chain.autosave.wait()
    assert fileformat.to_data(fileformat.load(store.graph_file)) == fileformat.to_data(chain.document)


def test_a_stale_recovery_file_is_offered_at_start_and_restore_gives_the_same_document(
        qtbot: Any, settings: AppSettings, dialogs: DialogRecorder, state_dir: Path) -> None:
    document = chain_document()
    original = str(state_dir / "lesson.gsg")
    stale = plant_recovery(recovery_folder(), document, original, "lesson.gsg")
    window, texts = start(qtbot, settings, ["recoveryRestore"])
    assert len(texts) == 1 and "lesson.gsg" in texts[0] and original in texts[0]
    assert fileformat.to_data(window.document) == fileformat.to_data(document)
    assert window.isWindowModified()
    assert window.workspace.path == original and window.workspace.display_name == "lesson.gsg"
    assert not Path(original).exists()  # nothing written to the original file
    assert not stale.graph_file.exists() and not stale.sidecar.exists()
    assert window.autosave.store.exists()  # the restored work is protected again, under this run
    assert window.autosave.store.stale() == []


def test_an_untitled_document_restores_untitled_and_modified_without_other_questions(
        qtbot: Any, settings: AppSettings, dialogs: DialogRecorder) -> None:
    plant_recovery(recovery_folder(), chain_document(), None, "Xor mlp (example)")
    window, _ = start(qtbot, settings, ["recoveryRestore"])
    assert window.isWindowModified()
    assert window.workspace.path is None and window.workspace.display_name == "Xor mlp (example)"
    assert dialogs.names() == []  # the start document was empty and clean: nothing to ask about


def test_discard_deletes_the_stale_recovery_file(qtbot: Any, settings: AppSettings, dialogs: DialogRecorder) -> None:
    stale = plant_recovery(recovery_folder(), chain_document(), None, "Untitled")
    window, texts = start(qtbot, settings, ["recoveryDiscard"])
    assert len(texts) == 1
    assert not stale.graph_file.exists() and not stale.sidecar.exists()
    assert window.document.nodes == {} and not window.isWindowModified()


def test_show_file_says_where_it_is_then_keep_for_later_keeps_it(qtbot: Any, settings: AppSettings,
                                                                 dialogs: DialogRecorder) -> None:
    stale = plant_recovery(recovery_folder(), chain_document(), None, "Untitled")
    window, texts = start(qtbot, settings, ["recoveryShowFile", "recoveryLater"])
    assert len(texts) == 2  # Show File asks again
    assert dialogs.names() == ["information"]
    assert str(stale.graph_file) in dialogs.calls[0][1][2]
    assert QApplication.clipboard().text() == str(stale.graph_file)
    assert stale.graph_file.exists() and stale.sidecar.exists()
    assert window.document.nodes == {}


def test_a_recovery_file_of_a_live_process_is_not_offered(qtbot: Any, settings: AppSettings,
                                                          dialogs: DialogRecorder) -> None:
    live = plant_recovery(recovery_folder(), chain_document(), None, "Untitled", os.getpid(),
                          process_start(os.getpid()))
    window, texts = start(qtbot, settings, [])
    assert texts == []
    assert live.graph_file.exists()
    assert window.document.nodes == {}


def test_a_reused_process_id_does_not_hide_a_stale_file(tmp_path: Path) -> None:
    plant_recovery(tmp_path, chain_document(), None, "Untitled", os.getpid(), "not-this-process")
    assert len(RecoveryStore(tmp_path).stale()) == 1


def test_unreadable_sidecars_and_damaged_graphs_are_handled(qtbot: Any, settings: AppSettings,
                                                            dialogs: DialogRecorder) -> None:
    folder = recovery_folder()
    folder.mkdir(parents=True)
    (folder / "recovery-1-junk.json").write_text("{not json", encoding="utf-8")
    damaged = plant_recovery(folder, chain_document(), None, "Untitled")
    damaged.graph_file.write_text("{}", encoding="utf-8")
    window, texts = start(qtbot, settings, ["recoveryRestore"])
    assert len(texts) == 1  # the junk sidecar is not offered
    assert dialogs.names() == ["critical"]
    assert damaged.graph_file.exists()  # kept for the user to look at
    assert window.document.nodes == {}


def test_the_timer_does_not_rewrite_an_unchanged_document(chain: MainWindow) -> None:
    move_steps(chain, 1)
    assert chain.autosave.autosave()
    assert not chain.autosave.autosave()
    move_steps(chain, 1)
    assert chain.autosave.autosave()


def test_a_failing_autosave_says_so_once_and_editing_and_closing_go_on(chain: MainWindow, tmp_path: Path,
                                                                       dialogs: DialogRecorder) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    chain.autosave.store = RecoveryStore(blocker / "recovery")
    messages: list[str] = []
    chain.workspace.message.connect(messages.append)
    move_steps(chain, AUTOSAVE_EDITS)
    chain.autosave.wait()
    move_steps(chain, AUTOSAVE_EDITS)
    chain.autosave.wait()
    assert len(messages) == 1 and messages[0].startswith("Autosave failed")
    assert chain.isWindowModified()
    dialogs.answers["question"] = Buttons.Discard
    assert chain.close()
