"""Autosave off the UI thread: where the write runs, what it writes while editing goes on, coalescing, and that
neither a save, an exit nor a failed write loses work or leaves a recovery file behind."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox
from recovery_helpers import move_steps
from ui_helpers import DialogRecorder

from gradstudio.model.document import GraphDocument, Node
from gradstudio.model.edits import AddNode
from gradstudio.model.io import fileformat
from gradstudio.model.io.datafiles import LARGE
from gradstudio.ui.io.background_writer import BackgroundWriter
from gradstudio.ui.io.recovery_files import RecoverySnapshot, RecoveryStore
from gradstudio.ui.main_window import MainWindow

Buttons = QMessageBox.StandardButton


class ScriptedStore(RecoveryStore):
    """A recovery store whose writes record their thread, wait at a gate while it is closed, and fail on request.

    A held write goes on when the gate opens or it is cancelled, and then writes anyway: the worst case of a
    write that cannot stop midway."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.threads: list[threading.Thread] = []
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Semaphore(0)
        self.failing: set[int] = set()  # which writes (1, 2, ...) raise

    def write_snapshot(self, recovery: RecoverySnapshot, cancelled: Callable[[], bool] = lambda: False,
                       pace: Callable[[], None] | None = None) -> Path:
        self.threads.append(threading.current_thread())
        number = len(self.threads)
        self.started.release()
        while not (self.gate.is_set() or cancelled()):
            self.gate.wait(0.01)
        if number in self.failing:
            raise OSError(28, "No space left on device")
        super().write_snapshot(recovery)
        return self.graph_file

    def hold(self) -> None:
        """Hold the next writes at the gate."""
        self.gate.clear()

    def wait_started(self) -> None:
        """Block until a write has reached the gate."""
        assert self.started.acquire(timeout=10)


@pytest.fixture
def scripted(chain: MainWindow) -> Iterator[ScriptedStore]:
    """The chain window's autosave writing through a ScriptedStore (the gate reopened at the end)."""
    store = ScriptedStore(chain.autosave.store.folder)
    chain.autosave.store = store
    yield store
    store.gate.set()


def saved_data(store: RecoveryStore) -> dict[str, Any]:
    """The document in the store's recovery file, as file data."""
    return fileformat.to_data(fileformat.load(store.graph_file))


def leftovers(folder: Path) -> list[str]:
    """Everything in the recovery folder: recovery files, sidecars, temporary files."""
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


def test_the_write_runs_on_a_worker_thread_and_reports_on_the_ui_thread(chain: MainWindow,
                                                                       scripted: ScriptedStore) -> None:
    reported_on: list[threading.Thread] = []
    chain.autosave.written.connect(lambda _path: reported_on.append(threading.current_thread()))
    move_steps(chain, 1)
    assert chain.autosave.autosave()
    chain.autosave.wait()
    assert len(scripted.threads) == 1 and scripted.threads[0] is not threading.main_thread()
    assert reported_on == [threading.main_thread()]
    assert saved_data(scripted) == fileformat.to_data(chain.document)


def test_edits_during_a_write_do_not_leak_into_it(chain: MainWindow, scripted: ScriptedStore) -> None:
    move_steps(chain, 1)
    at_autosave = fileformat.to_data(chain.document)
    scripted.hold()
    assert chain.autosave.autosave()
    scripted.wait_started()
    move_steps(chain, 3)
    chain.editor.add_node("tensor", (0, 0))
    assert fileformat.to_data(chain.document) != at_autosave
    scripted.gate.set()
    chain.autosave.wait()
    assert saved_data(scripted) == at_autosave


def test_autosaves_during_a_write_coalesce_into_one_write_of_the_latest_state(chain: MainWindow,
                                                                             scripted: ScriptedStore) -> None:
    written: list[str] = []
    chain.autosave.written.connect(written.append)
    move_steps(chain, 1)
    scripted.hold()
    assert chain.autosave.autosave()
    scripted.wait_started()
    for _ in range(3):
        move_steps(chain, 1)
        assert chain.autosave.autosave()
    latest = fileformat.to_data(chain.document)
    scripted.gate.set()
    chain.autosave.wait()
    assert len(scripted.threads) == 2  # the running write, then one for the three that came meanwhile
    assert len(written) == 2
    assert saved_data(scripted) == latest
    assert not chain.autosave.autosave()  # nothing new since: nothing more to write


def test_saving_during_a_write_leaves_no_recovery_file(chain: MainWindow, scripted: ScriptedStore,
                                                       tmp_path: Path, qtbot: Any) -> None:
    move_steps(chain, 1)
    scripted.hold()
    assert chain.autosave.autosave()
    scripted.wait_started()
    assert chain.files.save_to(str(tmp_path / "saved.gsg"))
    qtbot.wait(50)  # any report the worker queued has been delivered
    assert leftovers(scripted.folder) == []
    assert not chain.autosave.writer.busy()


def test_exiting_during_a_write_leaves_no_recovery_file(chain: MainWindow, scripted: ScriptedStore,
                                                        dialogs: DialogRecorder, qtbot: Any) -> None:
    move_steps(chain, 1)
    assert chain.autosave.autosave()
    chain.autosave.wait()
    assert scripted.exists()
    move_steps(chain, 1)
    scripted.hold()
    assert chain.autosave.autosave()
    scripted.wait_started()
    move_steps(chain, 1)
    assert chain.autosave.autosave()  # and one more waiting behind it
    dialogs.answers["question"] = Buttons.Discard
    assert chain.close()
    qtbot.wait(50)
    assert leftovers(scripted.folder) == []
    assert len(scripted.threads) == 2  # the waiting write never started


def test_a_failed_write_does_not_lose_the_next_autosave(chain: MainWindow, scripted: ScriptedStore) -> None:
    messages: list[str] = []
    chain.workspace.message.connect(messages.append)
    move_steps(chain, 1)
    assert chain.autosave.autosave()
    chain.autosave.wait()
    scripted.failing = {2}
    move_steps(chain, 1)
    assert chain.autosave.autosave()
    chain.autosave.wait()
    assert len(messages) == 1 and messages[0].startswith("Autosave failed")
    assert saved_data(scripted) != fileformat.to_data(chain.document)  # the older autosave is still there
    assert chain.autosave.autosave()  # the timer's next autosave writes what failed, with no new edit
    chain.autosave.wait()
    assert saved_data(scripted) == fileformat.to_data(chain.document)


def test_a_failed_write_does_not_drop_the_write_waiting_behind_it(chain: MainWindow, scripted: ScriptedStore) -> None:
    scripted.failing = {1}
    move_steps(chain, 1)
    scripted.hold()
    assert chain.autosave.autosave()
    scripted.wait_started()
    move_steps(chain, 1)
    assert chain.autosave.autosave()
    scripted.gate.set()
    chain.autosave.wait()
    assert saved_data(scripted) == fileformat.to_data(chain.document)


def test_cancel_stops_a_running_job_at_its_next_pace_and_reports_nothing(qtbot: Any) -> None:
    writer = BackgroundWriter("test-writer")
    reports: list[tuple[object, object]] = []
    writer.finished.connect(lambda result, error: reports.append((result, error)))
    started, seen = threading.Event(), {}

    def endless(cancelled: Callable[[], bool], pace: Callable[[], None]) -> str:
        seen["collector on"] = gc.isenabled()
        started.set()
        while True:  # only pace's WriteCancelled ends it
            pace()

    writer.submit(endless)
    writer.submit(lambda cancelled, pace: "never")  # waiting: dropped by the cancel
    assert started.wait(10)
    writer.cancel()
    qtbot.wait(50)
    assert reports == [] and not writer.busy()
    assert seen["collector on"] is True and gc.isenabled()  # a worker leaves the collector alone
    writer.submit(lambda cancelled, pace: "next")
    writer.wait()
    assert reports == [("next", None)]
    writer.shutdown()


def test_a_submit_after_shutdown_is_ignored() -> None:
    writer = BackgroundWriter("test-writer")
    writer.shutdown()
    writer.submit(lambda cancelled, pace: "late")
    assert not writer.busy()


def test_clearing_removes_the_large_leaf_data_written_beside_the_recovery_file(tmp_path: Path) -> None:
    document = GraphDocument()
    document.apply(AddNode(Node("big", "tensor", "big", {"shape": (LARGE + 1,), "init": "values",
                                                        "values": tuple(range(LARGE + 1))})))
    store = RecoveryStore(tmp_path)
    store.write(document, None, "Untitled")
    assert (store.data_folder / "big.npy").is_file()
    assert fileformat.to_data(fileformat.load(store.graph_file)) == fileformat.to_data(document)
    store.clear()
    assert leftovers(tmp_path) == []
