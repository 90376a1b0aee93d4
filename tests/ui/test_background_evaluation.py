"""A large refresh evaluates in a worker thread behind a modal progress dialog; Cancel leaves the rest dirty."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QProgressDialog, QPushButton
from ui_helpers import add_node

import gradstudio.engine as engine
from gradstudio.model.document import Edge, GraphDocument
from gradstudio.model.edits import Connect
from gradstudio.model.evaluation import Evaluator
from gradstudio.ui.main_window import MainWindow
from gradstudio.ui.workspace import Workspace

LENGTH = 40


def long_chain() -> GraphDocument:
    """x (3 ones, requires_grad) -> n1 = x + x -> n2 = n1 + x ... -> n40."""
    document = GraphDocument()
    add_node(document, "x", "tensor", (0, 0), requires_grad=True)
    previous = "x"
    for index in range(1, LENGTH + 1):
        add_node(document, f"n{index}", "add", (200 * index, 0))
        document.apply(Connect(Edge(previous, f"n{index}", "a")))
        document.apply(Connect(Edge("x", f"n{index}", "b")))
        previous = f"n{index}"
    return document


@pytest.fixture
def slow_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every node computed outside the UI thread takes a while; a refresh of over 10 nodes goes there."""
    compute = Evaluator._compute

    def slow(self: Evaluator, node_id: str, results: dict) -> Any:
        if threading.current_thread() is not threading.main_thread():
            time.sleep(0.03)
        return compute(self, node_id, results)

    monkeypatch.setattr(Evaluator, "_compute", slow)
    monkeypatch.setattr(Workspace, "background_nodes", 10)


def progress_dialog() -> QProgressDialog | None:
    """The visible progress dialog, if any."""
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QProgressDialog) and widget.objectName() == "progressDialog" and widget.isVisible():
            return widget
    return None


def values(results: Any) -> dict[str, tuple[Any, bool]]:
    """Each node's values and whether autograd tracks it."""
    return {node_id: (r.tensor.detach().numpy(), r.tracked) for node_id, r in results.items()}


def test_cancel_stops_between_nodes_and_a_later_refresh_completes(
        qtbot: Any, window: MainWindow, slow_worker: None) -> None:
    window.set_document(long_chain())
    qtbot.waitUntil(lambda: not window.workspace.model.evaluator.dirty)
    workspace = window.workspace
    ticks: list[int] = []
    ticker = QTimer()
    ticker.timeout.connect(lambda: ticks.append(len(ticks)))
    ticker.start(10)
    seen: dict[str, Any] = {}

    def watch() -> None:
        dialog = progress_dialog()
        if dialog is None:
            return
        seen.setdefault("first", (dialog.value(), len(ticks)))
        if dialog.value() >= 5 and "cancelled" not in seen:
            seen["cancelled"] = (dialog.value(), len(ticks), dialog.isModal(), workspace.busy)
            qtbot.mouseClick(dialog.findChild(QPushButton), Qt.MouseButton.LeftButton)

    watcher = QTimer()
    watcher.timeout.connect(watch)
    watcher.start(20)
    count = workspace.undo_stack.count()
    window.actions.all["actionNoGrad"].trigger()  # every non-leaf is dirty again: 40 nodes
    snapshot = workspace.document.snapshot()
    workspace.flush()
    watcher.stop()
    ticker.stop()
    first_value, first_ticks = seen["first"]
    value, later_ticks, modal, busy = seen["cancelled"]
    assert value > first_value and later_ticks > first_ticks  # progress moved while the UI thread ran
    assert modal and busy
    assert progress_dialog() is None
    dirty = workspace.model.evaluator.dirty
    assert 0 < len(dirty) < LENGTH
    assert "cancelled" in window.statusBar().currentMessage()
    assert workspace.document.snapshot() == snapshot and workspace.undo_stack.count() == count + 1
    assert workspace.busy is None and window.actions.all["actionBackward"].isEnabled()
    workspace.results()  # views read what is there: nothing is computed on the UI thread after a cancel
    assert workspace.model.evaluator.dirty == dirty

    workspace.refresh()
    assert not workspace.model.evaluator.dirty
    reference = Evaluator(workspace.document).evaluate()  # a synchronous evaluation of the same document
    got = values(workspace.results())
    for node_id, (array, tracked) in values(reference).items():
        assert np.array_equal(got[node_id][0], array) and got[node_id][1] == tracked
    assert not got["n40"][1] and got["x"][1]  # the worker evaluated under the document's no_grad


def test_a_small_refresh_stays_synchronous(qtbot: Any, window: MainWindow, slow_worker: None) -> None:
    shown: list[QProgressDialog | None] = []
    window.set_document(long_chain())
    window.workspace.values_changed.connect(lambda: shown.append(progress_dialog()))
    window.workspace.model.evaluator.recompute_downstream(["n35"])
    window.workspace.refresh()
    assert shown == [None] and not window.workspace.model.evaluator.dirty


def test_opening_a_large_graph_evaluates_it_in_the_background(
        qtbot: Any, window: MainWindow, slow_worker: None, monkeypatch: pytest.MonkeyPatch) -> None:
    on_ui_thread: list[str] = []
    compute = Evaluator._compute

    def watched(self: Evaluator, node_id: str, results: dict) -> Any:
        if threading.current_thread() is threading.main_thread():
            on_ui_thread.append(node_id)
        return compute(self, node_id, results)

    monkeypatch.setattr(Evaluator, "_compute", watched)
    dialogs: list[bool] = []
    watcher = QTimer()
    watcher.timeout.connect(lambda: dialogs.append(progress_dialog() is not None))
    watcher.start(20)
    window.set_document(long_chain())
    assert not window.workspace.results()  # the views drew the graph without computing it
    qtbot.waitUntil(lambda: not window.workspace.model.evaluator.dirty, timeout=30000)
    watcher.stop()
    assert not on_ui_thread and any(dialogs) and window.workspace.result("n40").ok


def test_backward_after_a_cancel_finishes_the_evaluation_first(
        qtbot: Any, window: MainWindow, slow_worker: None) -> None:
    window.set_document(long_chain())
    qtbot.waitUntil(lambda: not window.workspace.model.evaluator.dirty, timeout=30000)
    workspace = window.workspace
    workspace.model.evaluator.held = True  # as a cancel leaves it
    workspace.model.evaluator.mark_all_dirty()
    result = workspace.run_backward("n40", engine.ones(3))
    assert not workspace.model.evaluator.dirty and not workspace.model.evaluator.held
    assert np.array_equal(workspace.model.grad("x").numpy(), np.full(3, 41.0, dtype=np.float32))
    assert result.target == "n40"
