"""What a scrub frame repaints: only the items whose content changed ask for a repaint, unchanged faces come
from the face cache, and the wires where tracking stops are drawn as cheap hairlines that still show."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from backward_helpers import badge, item
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QGraphicsItem

from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.edits import AddNode, Connect
from gradstudio.ui.canvas.edge_items import EdgeItem, hairline_offset
from gradstudio.ui.canvas.face_cache import FaceCache
from gradstudio.ui.canvas.highlight import STOPPED, GradBadge, flow_pen
from gradstudio.ui.canvas.node_geometry import value_line
from gradstudio.ui.canvas.preview import compact_values
from gradstudio.ui.main_window import MainWindow

LEFT = Qt.MouseButton.LeftButton


def sum_graph(constant_input: bool = False) -> GraphDocument:
    """out = (a + b).sum(), a and b tracked leaves: dragging a's value changes c and out, never a gradient.

    With `constant_input`, k (a Python number) is wired into a second Add: out = (a + b + k).sum(), and the
    wire from k shows where tracking stops.
    """
    document = GraphDocument()

    def add(node: Node, *sources: str) -> None:
        document.apply(AddNode(node))
        for port, source in zip(node.input_ports(), sources):
            document.apply(Connect(Edge(source, node.id, port)))

    for index, name in enumerate("ab"):
        add(Node(name, "tensor", name, {"shape": (3,), "init": "values", "values": [1.0 + index, 2.0, 3.0],
                                        "requires_grad": True}, (0.0, 200.0 * index)))
    add(Node("c", "add", "c", {}, (260.0, 80.0)), "a", "b")
    last = "c"
    if constant_input:
        add(Node("k", "scalar", "k", {"value": 5.0}, (260.0, 300.0)))
        add(Node("d", "add", "d", {}, (520.0, 180.0)), "c", "k")
        last = "d"
    add(Node("out", "sum", "out", {}, (780.0 if constant_input else 520.0, 80.0)), last)
    document.settings.backward_target = "out"
    return document


@pytest.fixture
def summed(window: MainWindow, qtbot: Any) -> MainWindow:
    window.set_document(sum_graph())
    window.workspace.refresh()
    window.view.reset_zoom()
    window.view.centerOn(item(window, "c").sceneBoundingRect().center())
    window.backward.run("out")  # the Backward the drag re-runs (pressing it is tested in test_backward_ui)
    return window


def drag_value(qtbot: Any, window: MainWindow, name: str, pixels: list[int]) -> None:
    """Press on the value line of `name`, move right by each of `pixels` (a frame each), release."""
    viewport = window.view.viewport()
    target = item(window, name)
    line = value_line(target)
    start = window.view.mapFromScene(target.mapToScene(QPointF(line.center().x(), line.center().y())))
    qtbot.mousePress(viewport, LEFT, pos=start)
    point = start
    for offset in pixels:
        point = start + QPoint(offset, 0)
        qtbot.mouseMove(viewport, point)
        qtbot.wait(20)
    qtbot.mouseRelease(viewport, LEFT, pos=point)


def spy_updates(window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> list[QGraphicsItem]:
    """Every node, edge and gradient badge of the canvas records its update() calls in the returned list."""
    calls: list[QGraphicsItem] = []
    for cls in (EdgeItem, GradBadge, type(item(window, "a"))):
        original = cls.update

        def recording(self: QGraphicsItem, *args: Any, _original: Any = original) -> None:
            calls.append(self)
            _original(self, *args)
        monkeypatch.setattr(cls, "update", recording)
    return calls


def test_a_scrub_frame_repaints_only_what_changed(summed: MainWindow, qtbot: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    window = summed
    drag_value(qtbot, window, "a", [10])  # a first frame: the display of the drag is up
    grads_before = {name: badge(window, name, "grad").text for name in "ab"}
    calls = spy_updates(window, monkeypatch)
    live = window.workspace.scrub
    frames = live.frames
    drag_value(qtbot, window, "a", [20, 40])
    assert live.frames - frames == 2
    a, b = (window.workspace.model.value(name).detach().numpy() for name in "ab")
    assert a.tolist() != [1.0, 2.0, 3.0]  # the drag moved a value, and c followed
    np.testing.assert_allclose(window.workspace.model.value("c").detach().numpy(), a + b)
    assert item(window, "c").preview().values == compact_values(window.workspace.model.value("c"))
    np.testing.assert_array_equal(window.workspace.model.grad("a").numpy(), [1.0, 1.0, 1.0])
    updated = {getattr(thing, "node", None) and thing.node.id for thing in calls if not isinstance(thing, EdgeItem)}
    assert not [thing for thing in calls if isinstance(thing, (EdgeItem, GradBadge))]  # same pens, same gradients
    assert updated == {"a", "c", "out"}  # b's face shows what it showed: never asked to repaint
    assert {name: badge(window, name, "grad").text for name in "ab"} == grads_before == {
        "a": "[1, 1, 1]", "b": "[1, 1, 1]"}


def test_unchanged_faces_come_from_the_face_cache_during_a_scrub(summed: MainWindow, qtbot: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    window = summed
    drag_value(qtbot, window, "a", [10])
    window.view.viewport().repaint()
    asked: list[tuple[Any, bool]] = []  # (key, already cached) of every face drawn
    original = FaceCache.face

    def recording(cache: FaceCache, key: Any, make: Any) -> Any:
        asked.append((key, key in cache._faces))
        return original(cache, key, make)
    monkeypatch.setattr(FaceCache, "face", recording)
    viewport = window.view.viewport()
    target = item(window, "a")
    start = window.view.mapFromScene(target.mapToScene(value_line(target).center()))
    qtbot.mousePress(viewport, LEFT, pos=start)
    qtbot.mouseMove(viewport, start + QPoint(30, 0))
    qtbot.wait(20)
    window.view.viewport().repaint()  # the whole canvas: every face and badge is drawn once more
    qtbot.mouseRelease(viewport, LEFT, pos=start + QPoint(30, 0))
    tabs = [cached for key, cached in asked if key[0][0] == "grad badge"]
    faces = [cached for key, cached in asked if key[0][0] != "grad badge"]
    assert len(tabs) >= 4 and all(tabs)  # every badge's tab and label: pixels drawn before
    assert 1 <= faces.count(False) <= 3 and faces.count(True) >= 1  # only a, c and out can be new; b is a hit


def test_wire_tips_are_written_when_asked_for(summed: MainWindow, qtbot: Any) -> None:
    window = summed
    viewport = window.view.viewport()
    target = item(window, "a")
    start = window.view.mapFromScene(target.mapToScene(value_line(target).center()))
    qtbot.mousePress(viewport, LEFT, pos=start)
    qtbot.mouseMove(viewport, start + QPoint(20, 0))
    qtbot.wait(20)
    edge = window.scene.edges[("c", "a")]
    assert QGraphicsItem.toolTip(edge) == ""  # the frames re-tipped every wire without writing a text
    assert edge.toolTip() == "gradient flowing back: [1, 1, 1]"  # asked for (a hover): written, the first values
    assert QGraphicsItem.toolTip(edge) == "gradient flowing back: [1, 1, 1]"
    qtbot.mouseRelease(viewport, LEFT, pos=start + QPoint(20, 0))
    window.backward.run("out")
    assert edge.toolTip() == "gradient flowing back: tensor([1., 1., 1.])"  # a Backward of its own: the repr


def test_pens_are_shared_so_a_small_change_keeps_the_pen() -> None:
    assert flow_pen(0.5) is flow_pen(0.5 + 1e-4)
    assert flow_pen(0.2) is not flow_pen(0.8) and flow_pen(0.8).widthF() > flow_pen(0.2).widthF()


def test_wires_where_tracking_stops_are_dashed_hairlines_that_show(window: MainWindow, qtbot: Any) -> None:
    window.set_document(sum_graph(constant_input=True))
    window.workspace.refresh()
    window.view.reset_zoom()
    window.backward.run("out")
    stopped = window.scene.edges[("d", "b")]
    assert ("d", "b") in window.scene.highlight.stopped
    pen = stopped.flow_pen
    assert pen.isCosmetic() and pen.style() == Qt.PenStyle.CustomDashLine
    # drawn: grey dashes along the wire, about two pixels thick
    bounds = stopped.boundingRect()
    image = QImage(int(bounds.width()), int(bounds.height()), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    window.scene.render(painter, QRectF(image.rect()), bounds)
    painter.end()
    grey = sum(1 for x in range(image.width()) for y in range(image.height())
               if _near(QColor(image.pixel(x, y)), STOPPED))
    length = stopped.shape().boundingRect().width()
    assert grey > length * 0.5  # dashes two-thirds of the way, a pixel or two thick
    QApplication.processEvents()


def _near(color: QColor, wanted: QColor) -> bool:
    return all(abs(a - b) <= 40 for a, b in ((color.red(), wanted.red()), (color.green(), wanted.green()),
                                             (color.blue(), wanted.blue())))


@pytest.mark.parametrize("ends", [(0, 0, 300, 0), (0, 0, 10, 400), (0, 0, 300, 300), (300, 300, 0, 0),
                                  (0, 300, 300, 0), (300, 0, 0, 10), (300, 0, 290, 400)])
def test_the_second_hairline_is_shifted_across_every_part_of_the_wire(ends: tuple[float, ...]) -> None:
    dx, dy = hairline_offset(*ends)
    assert dx * dx + dy * dy == pytest.approx(1.0)
    # across the flat ends (horizontal) and across the chord, by at least 0.7 pixel each
    x0, y0, x1, y1 = ends
    length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
    assert abs(dy) >= 0.7
    assert abs(dx * (y1 - y0) / length - dy * (x1 - x0) / length) >= 0.7
