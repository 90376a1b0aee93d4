"""A seeded monkey: random user actions through the real window, checking after each that scene and model agree.

Every action is a real gesture (drops on the viewport, mouse drags between ports, clicks on the toolbar, keys
in the inspector's fields, Ctrl+V of a clipboard fragment). `Monkey.run` returns a log of the actions taken;
a failed check raises with the last actions, so a seed and a step reproduce it.
"""

from __future__ import annotations

import copy
import json
import keyword
import random
from pathlib import Path
from typing import Any

import shiboken6
from panel_helpers import settle
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QLineEdit,
    QTableWidget,
    QToolBar,
    QWidget,
)
from ui_helpers import DialogRecorder, drag, send_drop

from gradstudio.model.catalog import CATALOG
from gradstudio.model.io.fileformat import dumps
from gradstudio.model.io.fragment import fragment
from gradstudio.model.limits import MAX_NAME_LENGTH
from gradstudio.ui.canvas.view import OP_MIME
from gradstudio.ui.edit.clipboard import copy_to_clipboard
from gradstudio.ui.main_window import MainWindow

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
LEFT = Qt.MouseButton.LeftButton
KINDS = sorted(CATALOG)
TEXTS = ["2, 3", "3", "", "-1", "0", "1e400", "nan", "inf", "9" * 400, "x" * 300, "2,,3", "[1, 2]", "(4,)",
         "'; import os", "🙂", "é", "-0.5", "100000, 100000", "1, -1", "True", "None", "print", "ｐｒｉｎｔ",
         "__class__", "a b", "0x10", "1_000", "  7  "]
WEIRD = [None, [], {}, "", "x" * 500, 10**400, -1, 1e308, float("nan"), True, [1, [2]], "tensor", {"a": 1}]
MAX_NODES = 40


def type_text(qtbot: Any, widget: QWidget, text: str) -> None:
    """Type `text` key by key (QTest types only ASCII: other characters go as key events carrying their text)."""
    for char in text:
        if char.isascii():
            qtbot.keyClicks(widget, char)
            continue
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))


class Monkey:
    """Random actions on one window; `first` is the document the undo history starts from."""

    def __init__(self, window: MainWindow, qtbot: Any, dialogs: DialogRecorder, folder: Path, seed: int) -> None:
        self.window, self.qtbot, self.dialogs, self.folder = window, qtbot, dialogs, folder
        self.rng = random.Random(seed)
        self.seed = seed
        self.log: list[str] = []
        self.saves = 0
        self.first = dumps(window.document)
        self.actions = [(self.drop, 8), (self.wire, 8), (self.delete, 3), (self.move, 5), (self.type, 10),
                        (self.paste, 3), (self.undo, 6), (self.redo, 4), (self.type_then_command, 4),
                        (self.no_grad, 1), (self.backward, 3), (self.step, 2), (self.zero_grad, 1),
                        (self.save_and_reopen, 1), (self.select, 4)]

    # ----- the run -------------------------------------------------------------------------------------------

    def run(self, count: int) -> list[str]:
        """Take `count` random actions, checking scene and model after each; then undo all and redo all."""
        functions, weights = zip(*self.actions)
        for step in range(count):
            action = self.rng.choices(functions, weights)[0]
            with self.qtbot.captureExceptions() as caught:
                action()
                settle()
            self.log.append(f"{step}: {self.log_entry}")
            self.check(caught)
        last, index = self.last_document(), self.window.undo_stack.index()
        self.undo_all()
        assert dumps(self.window.document) == self.first, self.report("undo-all did not restore the first document")
        self.redo_all(index)  # the last actions may have been undos: redo up to where the run ended
        assert dumps(self.window.document) == last, self.report("redo-all did not restore the last document")
        return self.log

    def last_document(self) -> str:
        """The document once pending typing is committed (as the next Undo would do it)."""
        self.window.commit_pending_edits()
        settle()
        return dumps(self.window.document)

    def undo_all(self) -> None:
        """Undo every step through the window's Undo action."""
        while self.window.undo_stack.canUndo():
            self.window.actions.actionUndo.trigger()
        settle()

    def redo_all(self, index: int) -> None:
        """Redo through the window's Redo action until the stack is at `index`."""
        while self.window.undo_stack.canRedo() and self.window.undo_stack.index() < index:
            self.window.actions.actionRedo.trigger()
        settle()

    def report(self, problem: str) -> str:
        """The problem with the seed and the last actions."""
        return f"seed {self.seed}: {problem}\n" + "\n".join(self.log[-15:])

    def check(self, caught: list) -> None:
        """No exception escaped, and every node, edge and annotation of the model has its item, where it is."""
        if caught:
            raise AssertionError(self.report(f"exception: {caught[0][1]!r}")) from caught[0][1]
        fields = self.window.inspector.fields.values()
        assert all(shiboken6.isValid(field.editor) for field in fields), self.report("a field's widget was deleted")
        document, scene = self.window.document, self.window.scene
        assert set(scene.nodes) == set(document.nodes), self.report("scene nodes differ from the model's")
        assert set(scene.edges) == set(document.edges), self.report("scene edges differ from the model's")
        assert set(scene.annotations) == set(document.annotations), self.report("annotations differ")
        for node_id, item in scene.nodes.items():
            where = (item.pos().x(), item.pos().y())
            assert where == document.nodes[node_id].position, self.report(f"{node_id} drawn at {where}")

    # ----- helpers -------------------------------------------------------------------------------------------

    def note(self, text: str) -> None:
        """What the current action did (for the log)."""
        self.log_entry = text

    def node_ids(self) -> list[str]:
        """The document's node ids."""
        return list(self.window.document.nodes)

    def click_node(self, node_id: str) -> None:
        """Click a node's title bar (scrolling it into view first)."""
        item = self.window.scene.nodes[node_id]
        self.window.view.ensureVisible(item, 20, 20)
        rect = item.sceneBoundingRect()
        point = self.window.view.mapFromScene(QPointF(rect.left() + 30, rect.top() + 8))
        self.qtbot.mouseClick(self.window.view.viewport(), LEFT, pos=point)

    def toolbar(self, name: str) -> None:
        """Click a toolbar button."""
        bar = self.window.findChild(QToolBar, "mainToolbar")
        button = bar.widgetForAction(self.window.actions.all[name])
        if button.isEnabled():
            self.qtbot.mouseClick(button, LEFT)

    # ----- the actions ---------------------------------------------------------------------------------------

    def drop(self) -> None:
        """Drop a palette op on the canvas."""
        if len(self.window.document.nodes) >= MAX_NODES:
            return self.delete()
        kind = self.rng.choice(KINDS)
        mime = QMimeData()
        mime.setData(OP_MIME, kind.encode("utf-8"))
        viewport = self.window.view.viewport().rect()
        at = QPoint(self.rng.randrange(10, max(11, viewport.width() - 10)),
                    self.rng.randrange(10, max(11, viewport.height() - 10)))
        send_drop(self.window, mime, at)
        self.note(f"drop {kind} at {at.x()},{at.y()}")

    def wire(self) -> None:
        """Drag from one node's output to another node's input."""
        scene, ids = self.window.scene, self.node_ids()
        targets = [i for i in ids if scene.nodes[i].inputs]
        if len(ids) < 2 or not targets:
            return self.drop()
        source, target = self.rng.choice(ids), self.rng.choice(targets)
        port = self.rng.choice(scene.nodes[target].inputs)
        view = self.window.view
        view.ensureVisible(scene.nodes[source], 10, 10)
        start = scene.nodes[source].mapToScene(scene.nodes[source].port_position(None))
        end = scene.nodes[target].mapToScene(scene.nodes[target].port_position(port))
        if not view.viewport().rect().contains(view.mapFromScene(end)):
            view.zoom_at(0.5 ** 3)
            view.centerOn((start + end) / 2)
        drag(self.qtbot, self.window, start, end)
        self.note(f"wire {source} -> {target}.{port}")

    def delete(self) -> None:
        """Select a node (or a rubber band of several) and press Delete."""
        ids = self.node_ids()
        if not ids:
            return self.drop()
        node_id = self.rng.choice(ids)
        self.click_node(node_id)
        self.qtbot.keyClick(self.window.view, Qt.Key.Key_Delete)
        self.note(f"delete {node_id}")

    def move(self) -> None:
        """Drag a node by its title bar."""
        ids = self.node_ids()
        if not ids:
            return self.drop()
        node_id = self.rng.choice(ids)
        item = self.window.scene.nodes[node_id]
        self.window.view.ensureVisible(item, 20, 20)
        start = QPointF(item.sceneBoundingRect().left() + 30, item.sceneBoundingRect().top() + 8)
        offset = QPointF(self.rng.uniform(-200, 200), self.rng.uniform(-150, 150))
        drag(self.qtbot, self.window, start, start + offset)
        self.note(f"move {node_id} by {offset.x():.0f},{offset.y():.0f}")

    def select(self) -> None:
        """Click a node, or the empty canvas."""
        ids = self.node_ids()
        if ids and self.rng.random() < 0.8:
            node_id = self.rng.choice(ids)
            self.click_node(node_id)
            self.note(f"select {node_id}")
        else:
            self.qtbot.mouseClick(self.window.view.viewport(), LEFT, pos=QPoint(3, 3))
            self.note("click empty canvas")

    def _field(self) -> tuple[str, Any] | None:
        """A field of the inspector (selecting a node first when none is)."""
        ids = self.node_ids()
        if not ids:
            return None
        if self.window.inspector.node is None or self.rng.random() < 0.3:
            self.click_node(self.rng.choice(ids))
            settle()
        fields = self.window.inspector.fields
        return (key := self.rng.choice(list(fields)), fields[key]) if fields else None

    def type(self, enter: bool | None = None) -> None:
        """Type a random string into a random inspector field (pressing Enter, or leaving it pending)."""
        chosen = self._field()
        if chosen is None:
            return self.drop()
        key, field = chosen
        enter = self.rng.random() < 0.7 if enter is None else enter
        editor = field.editor
        text = self.rng.choice(TEXTS) if self.rng.random() < 0.8 else "".join(
            self.rng.choice("0123456789,.-e xyz[]()") for _ in range(self.rng.randrange(1, 12)))
        if isinstance(editor, QCheckBox):
            self.qtbot.mouseClick(editor, LEFT, pos=QPoint(8, editor.height() // 2))
            return self.note(f"toggle {key}")
        if isinstance(editor, QComboBox):
            editor.setFocus()
            self.qtbot.keyClick(editor, Qt.Key.Key_Down)
            return self.note(f"next choice of {key}")
        if isinstance(editor, QTableWidget):
            if editor.rowCount() * editor.columnCount() == 0:
                return None
            rect = editor.visualRect(editor.model().index(0, 0))
            self.qtbot.mouseClick(editor.viewport(), LEFT, pos=rect.center())
            self.qtbot.keyClick(editor, Qt.Key.Key_F2)
            line = editor.findChild(QLineEdit)
            if line is None:
                return None
        else:
            line = editor.lineEdit() if isinstance(editor, QAbstractSpinBox) else editor
        line.setFocus()
        line.selectAll()
        type_text(self.qtbot, line, text)
        if enter:
            self.qtbot.keyClick(line, Qt.Key.Key_Return)
        self.note(f"type {text[:30]!r} in {key}{' + Enter' if enter else ' (pending)'}")

    def type_then_command(self) -> None:
        """Leave typing pending, then click Undo or Redo, or press Ctrl+D, Ctrl+Shift+N or Ctrl+G."""
        self.type(enter=False)
        command = self.rng.choice(["undo", "redo", "duplicate", "note", "frame", "ctrl+z"])
        inspector = self.window.inspector
        node, name = inspector.node, inspector.fields["name"].editor.text() if "name" in inspector.fields else ""
        # a fresh valid name typed but not entered: the command must not lose it (it becomes its own step first)
        fresh = (node is not None and "(pending)" in self.log_entry and " in name " in self.log_entry
                 and name.isidentifier() and not keyword.iskeyword(name) and name.isascii()
                 and len(name) <= MAX_NAME_LENGTH
                 and name not in {n.name for n in self.window.document.nodes.values()}
                 and name not in ("print", "torch", "float", "nn", "F", "None", "True", "False"))
        focus = QGuiApplication.focusObject() or self.window.view
        if command in ("undo", "redo"):
            self.toolbar("actionUndo" if command == "undo" else "actionRedo")
        elif command == "ctrl+z":
            self.qtbot.keyClick(focus, Qt.Key.Key_Z, CTRL)
        else:
            key = {"duplicate": Qt.Key.Key_D, "note": Qt.Key.Key_N, "frame": Qt.Key.Key_G}[command]
            self.qtbot.keyClick(focus, key, CTRL | SHIFT if command == "note" else CTRL)
        self.log_entry += f", then {command}"
        if fresh and command in ("duplicate", "note", "frame"):
            settle()
            kept = self.window.document.nodes.get(node.id)
            assert kept is not None and kept.name == name, self.report(f"typed name {name!r} lost by {command}")

    def paste(self) -> None:
        """Copy a fragment of the document (or a crafted or random one) to the clipboard and press Ctrl+V."""
        document = self.window.document
        ids = self.node_ids()
        data = fragment(document, self.rng.sample(ids, min(len(ids), self.rng.randrange(1, 4))),
                        list(document.annotations)[:1]) if ids else {"format": "gradstudio-fragment", "version": 1}
        how = "copy"
        if self.rng.random() < 0.6:
            data, how = self.craft(copy.deepcopy(data)), "crafted"
        if self.rng.random() < 0.1:
            data, how = self.rng.choice(WEIRD), "random"
        try:
            copy_to_clipboard(data) if isinstance(data, dict) else QGuiApplication.clipboard().setText(json.dumps(data))
        except (ValueError, TypeError, OverflowError):
            QGuiApplication.clipboard().setText(repr(data))
        self.qtbot.keyClick(self.window.view, Qt.Key.Key_V, CTRL)
        self.note(f"paste {how} fragment")

    def craft(self, data: dict) -> dict:
        """Change one value somewhere in a fragment to a weird one."""
        places: list[tuple[Any, Any]] = []

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                places.extend((value, key) for key in value)
                for inner in value.values():
                    walk(inner)
            elif isinstance(value, list):
                places.extend((value, index) for index in range(len(value)))
                for inner in value:
                    walk(inner)

        walk(data)
        if places:
            container, key = self.rng.choice(places)
            container[key] = self.rng.choice(WEIRD)
        return data

    def undo(self) -> None:
        """Undo from the toolbar, or with Ctrl+Z on the canvas."""
        if self.rng.random() < 0.5:
            self.toolbar("actionUndo")
        else:
            self.qtbot.keyClick(self.window.view, Qt.Key.Key_Z, CTRL)
        self.note("undo")

    def redo(self) -> None:
        """Redo from the toolbar, or with Ctrl+Shift+Z on the canvas."""
        if self.rng.random() < 0.5:
            self.toolbar("actionRedo")
        else:
            self.qtbot.keyClick(self.window.view, Qt.Key.Key_Z, CTRL | SHIFT)
        self.note("redo")

    def no_grad(self) -> None:
        """Toggle No Grad on the toolbar."""
        self.toolbar("actionNoGrad")
        self.note("toggle no grad")

    def backward(self) -> None:
        """Select a node and press Backward."""
        ids = self.node_ids()
        if ids:
            self.click_node(self.rng.choice(ids))
        self.toolbar("actionBackward")
        self.note("backward")

    def step(self) -> None:
        """Step Backward."""
        self.toolbar("actionStepBackward")
        self.note("step backward")

    def zero_grad(self) -> None:
        """Zero Grad."""
        self.toolbar("actionZeroGrad")
        self.note("zero grad")

    def save_and_reopen(self) -> None:
        """Save As into the folder, open it again: the same document, and its undo history starts there."""
        self.window.commit_pending_edits()
        settle()
        before = dumps(self.window.document)
        self.saves += 1
        path = str(self.folder / f"monkey{self.saves}.gsg")
        self.dialogs.answers["getSaveFileName"] = (path, "")
        self.dialogs.answers["getOpenFileName"] = (path, "")
        self.qtbot.keyClick(self.window.view, Qt.Key.Key_S, CTRL | SHIFT)
        self.qtbot.keyClick(self.window.view, Qt.Key.Key_O, CTRL)
        settle()
        assert "critical" not in self.dialogs.names(), self.report(f"save or reopen failed: {self.dialogs.calls[-1]}")
        assert dumps(self.window.document) == before, self.report("the reopened document differs")
        self.first = before
        self.note(f"save and reopen {path}")
