"""Versions and in-place ops on the canvas: the version badge from View > Show Versions, and a version refusal
pinned on both the saved tensor's node and the op that changed it."""

from __future__ import annotations

from typing import Any

import pytest
from backward_helpers import item, node_id, press_backward
from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QImage, QPainter

from gradstudio.engine.autograd.graph import version
from gradstudio.model.document import GraphDocument
from gradstudio.model.edits import SetAttribute, SetSetting
from gradstudio.ui.main_window import MainWindow
from tests.model.graph_builders import add


def saved_then_changed() -> GraphDocument:
    """a -> b = sigmoid(a) -> c = b * b (saves b); m = b.mul_(2) changes b; loss = c.sum() is the target."""
    document = GraphDocument()
    add(document, "a", "tensor", shape=(3,), requires_grad=True)
    add(document, "b", "sigmoid", "a")
    add(document, "two", "scalar", value=2)
    add(document, "c", "mul", "b", "b")
    add(document, "m", "mul_", "b", "two")
    add(document, "loss", "sum", "c")
    for node_id_, position in {"a": (0, 0), "two": (0, 330), "b": (260, 0), "c": (560, 0), "m": (560, 330),
                               "loss": (860, 0)}.items():
        document.nodes[node_id_].position = position
    document.apply(SetSetting("backward_target", "loss"))
    return document


@pytest.fixture
def in_place(window: MainWindow) -> MainWindow:
    window.set_document(saved_then_changed())
    window.workspace.refresh()
    window.view.fit_all()
    return window


def click_menu_action(qtbot: Any, window: MainWindow, menu_title: str, name: str) -> None:
    """Open a menu of the menu bar and click one of its actions with the mouse."""
    menu = next(action.menu() for action in window.menuBar().actions() if action.text() == menu_title)
    action = window.actions.all[name]
    menu.popup(window.mapToGlobal(QPoint(40, 40)))
    qtbot.waitUntil(menu.isVisible)
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: not menu.isVisible())


def face(window: MainWindow, name: str) -> QImage:
    """The node's face as the scene paints it."""
    rect = item(window, name).sceneBoundingRect()
    image = QImage(int(rect.width()), int(rect.height()), QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    window.scene.render(painter, QRectF(image.rect()), rect)
    painter.end()
    return image


def test_show_versions_puts_the_version_badge_on_node_faces(in_place: MainWindow, qtbot: Any) -> None:
    toggle = in_place.actions.actionShowVersions
    assert not toggle.isChecked() and not in_place.scene.show_versions  # off by default
    plain = face(in_place, "b")
    click_menu_action(qtbot, in_place, "&View", "actionShowVersions")
    assert toggle.isChecked() and in_place.scene.show_versions and in_place.settings.show_versions()
    b, m, c = (in_place.workspace.model.value(node_id(in_place, name)) for name in ("b", "m", "c"))
    assert b is m  # mul_ returns the tensor it changed
    assert item(in_place, "b").version() == item(in_place, "m").version() == version(b) == 1
    assert item(in_place, "c").version() == version(c) == 0
    assert item(in_place, "two").version() is None  # a Python number has no version
    assert face(in_place, "b") != plain  # the badge is painted
    click_menu_action(qtbot, in_place, "&View", "actionShowVersions")
    assert not in_place.scene.show_versions and not in_place.settings.show_versions()


def test_version_refusal_is_pinned_on_the_saved_node_and_on_the_in_place_op(in_place: MainWindow,
                                                                            qtbot: Any) -> None:
    press_backward(qtbot, in_place)
    pins = in_place.backward.pins
    saved, writer = node_id(in_place, "b"), node_id(in_place, "m")
    assert set(pins) == {saved, writer}
    for pin in pins.values():
        assert "modified by an inplace operation" in pin.explanation.message
        assert "is at version 1; expected version 0 instead" in pin.explanation.message
        assert "saved at version 0, now 1" in pin.explanation.explanation
    assert pins[saved].explanation.explanation.startswith("b: saved at version 0, now 1. m changed it in place")
    assert pins[writer].explanation.explanation.startswith("m changed b in place: saved at version 0, now 1.")
    assert pins[saved].parentItem() is item(in_place, "b") and pins[writer].parentItem() is item(in_place, "m")
    # an edit that changes values takes the pins away, as for every refusal
    in_place.workspace.editor.apply(SetAttribute(node_id(in_place, "two"), "value", 3.0), "two = 3")
    in_place.workspace.refresh()
    assert in_place.backward.pins == {}
