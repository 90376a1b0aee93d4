"""An edit recomputes what depends on it and repaints only those items; small refreshes stay on the UI thread
(issue 15)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QProgressDialog
from ui_helpers import add_node

from gradstudio.model.document import Edge, GraphDocument
from gradstudio.model.edits import Connect, SetAttribute
from gradstudio.ui.canvas.items import NodeItem
from gradstudio.ui.main_window import MainWindow
from gradstudio.ui.workspace import Workspace


def branching_chain(length: int = 30) -> GraphDocument:
    """x -> a1 -> ... -> a{length} -> total (a sum), and x -> side (an exp) on its own branch."""
    document = GraphDocument()
    add_node(document, "x", "tensor", (0, 0), shape=(4,), requires_grad=True)
    previous = "x"
    for index in range(1, length + 1):
        add_node(document, f"a{index}", "tanh", (200 * index, 0))
        document.apply(Connect(Edge(previous, f"a{index}", "input")))
        previous = f"a{index}"
    add_node(document, "total", "sum", (200 * (length + 1), 0))
    document.apply(Connect(Edge(previous, "total", "input")))
    add_node(document, "side", "exp", (200, 300))
    document.apply(Connect(Edge("x", "side", "input")))
    return document


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the node items given a new result (and so repainted), in order."""
    given: list[str] = []
    set_result = NodeItem.set_result

    def recording(self: NodeItem, result: Any) -> None:
        given.append(self.node.id)
        set_result(self, result)

    monkeypatch.setattr(NodeItem, "set_result", recording)
    return given


def test_a_local_edit_repaints_only_the_items_it_changes(window: MainWindow, shown: list[str]) -> None:
    window.set_document(branching_chain())
    window.workspace.flush()
    shown.clear()
    before = {node_id: item.result for node_id, item in window.scene.nodes.items()}
    window.editor.apply(SetAttribute("total", "dim", 0), "dim")
    window.workspace.flush()
    assert shown == ["total"] and window.workspace.result("total").ok
    assert all(item.result is before[node_id] for node_id, item in window.scene.nodes.items() if node_id != "total")


def test_an_upstream_edit_repaints_its_descendants_and_nothing_else(window: MainWindow, shown: list[str]) -> None:
    window.set_document(branching_chain())
    window.workspace.flush()
    shown.clear()
    window.editor.apply(SetAttribute("x", "init", "ones"), "init")
    window.workspace.flush()
    assert sorted(shown) == sorted(["x", "side", "total", *(f"a{index}" for index in range(1, 31))])
    shown.clear()
    window.editor.apply(SetAttribute("x", "requires_grad", False), "requires_grad")  # a1... are recomputed
    window.workspace.flush()
    assert "side" in shown and "total" in shown and len(shown) == 33


def dialogs_shown() -> list[QProgressDialog]:
    """Visible progress dialogs."""
    return [widget for widget in QApplication.topLevelWidgets()
            if isinstance(widget, QProgressDialog) and widget.isVisible()]


def test_many_dirty_nodes_at_a_fast_pace_evaluate_without_a_worker(
        window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over `background_nodes` dirty nodes go to a worker only when the last evaluation's pace says it is
    worth it; unknown (a file just opened) or slow, they do."""
    monkeypatch.setattr(Workspace, "background_nodes", 10)
    backgrounds: list[int] = []
    evaluate = Workspace._evaluate_in_background

    def counted(self: Workspace) -> bool:
        backgrounds.append(len(self.model.evaluator.dirty))
        return evaluate(self)

    monkeypatch.setattr(Workspace, "_evaluate_in_background", counted)
    window.set_document(branching_chain())
    window.workspace.flush()
    assert backgrounds == [33], "a just-opened graph of unknown pace: in the background"
    # the pace is now known; whatever it is on this machine, it is under a budget this large
    monkeypatch.setattr(Workspace, "synchronous_seconds", 1e9)
    monkeypatch.setattr(Workspace, "background_seconds", 1e9)
    window.editor.apply(SetAttribute("x", "init", "ones"), "init")
    window.workspace.flush()
    assert backgrounds == [33], "predicted under synchronous_seconds: on the UI thread"
    monkeypatch.setattr(Workspace, "synchronous_seconds", 0.0)
    window.editor.apply(SetAttribute("x", "init", "zeros"), "init")
    window.workspace.flush()
    assert backgrounds == [33, 33] and not dialogs_shown()
