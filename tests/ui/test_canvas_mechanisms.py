"""The canvas's shortcuts for large graphs draw exactly what the plain way would (issue 15)."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from backward_helpers import item, open_example
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QStyleOptionGraphicsItem
from ui_helpers import chain_document

from gradstudio.model.document import Edge, GraphDocument, Node
from gradstudio.model.edits import AddNode, Disconnect, SetAttribute
from gradstudio.ui.canvas.edge_items import EdgeItem, bezier, bezier_extent
from gradstudio.ui.canvas.face_cache import FACES, FaceCache, draw_cached
from gradstudio.ui.canvas.items import NodeItem
from gradstudio.ui.canvas.node_geometry import LOD_TINY
from gradstudio.ui.canvas.scene import GraphScene
from gradstudio.ui.main_window import MainWindow


@pytest.mark.parametrize("start, end", [((0, 0), (300, 120)), ((500, 40), (20, -300)), ((10, 10), (12, 10)),
                                        ((0, 0), (0, 0)), ((-80, 900), (-60, -900))])
def test_wire_extent_holds_the_curve_and_finds_its_midpoint(start: tuple, end: tuple) -> None:
    """The arithmetic hull contains the drawn curve, and its midpoint is the curve's point at one half."""
    a, b = QPointF(*start), QPointF(*end)
    path = bezier(a, b)
    hull, middle = bezier_extent(a, b)
    exact = path.boundingRect()
    assert hull.left() <= exact.left() + 1e-6 and exact.right() <= hull.right() + 1e-6
    assert hull.top() <= exact.top() + 1e-6 and exact.bottom() <= hull.bottom() + 1e-6
    halfway = path.pointAtPercent(0.5)
    assert (middle.x(), middle.y()) == pytest.approx((halfway.x(), halfway.y()), abs=1e-6)


def test_wire_bounds_cover_the_curve_once_drawn() -> None:
    """An edge item's bounding rectangle (known before any path is built) covers the path it then paints."""
    item = EdgeItem(Edge("a", "b", "x"))
    item.set_ends(QPointF(0, 0), QPointF(400, -250))
    bounds = item.boundingRect()
    assert bounds.contains(item.shape().boundingRect().adjusted(2, 2, -2, -2))


def test_snapshot_copies_mutable_values_and_shares_the_rest() -> None:
    """A snapshot does not follow an attribute array changed in place, and compares equal to the state it took."""
    document = GraphDocument()
    document.apply(AddNode(Node("t", "tensor", "t", {"shape": (3,)})))
    node = document.nodes["t"]
    node.attributes["data"] = np.zeros(3)  # a mutable value, as loaded data is
    snapshot = document.snapshot()
    assert snapshot[0][0] is not node and snapshot[0][0].attributes["shape"] is node.attributes["shape"]
    node.attributes["data"][0] = 5.0
    assert snapshot[0][0].attributes["data"][0] == 0.0


def test_wires_built_with_a_scene_match_wires_placed_one_by_one(window: MainWindow) -> None:
    """Building the scene places wires by arithmetic on model positions; placing each from its nodes' items
    (as an edit does) gives the same ends and bounds."""
    window.set_document(chain_document())
    scene = window.scene
    built = {key: (wire.boundingRect(), wire.shape().boundingRect()) for key, wire in scene.edges.items()}
    for wire in scene.edges.values():
        scene._set_edge_ends(wire)
    assert {key: (wire.boundingRect(), wire.shape().boundingRect()) for key, wire in scene.edges.items()} == built


@pytest.mark.parametrize("example", ["softmax_classifier", "notes_forward_backward"])
def test_a_scene_built_over_computed_values_labels_its_wires_as_a_refresh_does(window: MainWindow,
                                                                               example: str) -> None:
    """A scene built for a workspace with values (labelling only wires whose source has one, with the collector
    paused) shows the labels and broadcast markers that refreshing the values gave the open scene."""
    open_example(window, example)
    shown = {key: (wire.label, wire.broadcast) for key, wire in window.scene.edges.items()}
    assert any(label for label, _ in shown.values())
    rebuilt = GraphScene(window.workspace, window.scene.theme)
    try:
        assert {key: (wire.label, wire.broadcast) for key, wire in rebuilt.edges.items()} == shown
        assert gc.isenabled()
    finally:
        rebuilt.close()


def test_removing_a_wire_takes_its_broadcast_marker_along(window: MainWindow) -> None:
    """A broadcast wire's marker is its own item: deleting the wire (an undoable edit) removes it, undo brings it
    back."""
    open_example(window, "softmax_classifier")
    key, wire = next((key, wire) for key, wire in window.scene.edges.items() if wire.broadcast)
    marker = wire.marker
    assert marker is not None and marker.scene() is window.scene
    window.workspace.editor.apply(Disconnect(wire.edge), "disconnect")
    assert marker.scene() is None and key not in window.scene.edges
    window.workspace.undo_stack.undo()
    window.workspace.refresh()
    assert window.scene.edges[key].marker is not None and window.scene.edges[key].marker.scene() is window.scene


def face_image(node: NodeItem, zoom: float, cached: bool) -> QImage:
    """The node painted at `zoom` on a transparent image: through the item's paint (the face cache) or directly."""
    image = QImage(500, 400, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    painter.translate(20, 20)
    painter.scale(zoom, zoom)
    if cached:
        node.paint(painter, QStyleOptionGraphicsItem())
    else:
        node.paint_face(painter, QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform()))
    painter.end()
    return image


def largest_difference(first: QImage, second: QImage) -> int:
    """The largest difference of one colour channel between two images of the same size."""
    def channels(image: QImage) -> np.ndarray:
        return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.width(), 4).astype(int)

    return int(np.abs(channels(first) - channels(second)).max())


@pytest.mark.parametrize("zoom", [0.3, 0.55, 0.7, 1.0, 1.6])
def test_a_cached_face_is_the_very_pixels_of_a_direct_paint(window: MainWindow, zoom: float) -> None:
    """No blur, no shift: the face drawn from the cache equals the face painted directly, at every zoom."""
    open_example(window, "notes_forward_backward")
    node = item(window, "y_squared")
    FACES.clear()
    direct = face_image(node, zoom, cached=False)
    # equal but for antialiasing rounding (a few levels of 255 on edge pixels): same glyphs, same place, no blur
    assert largest_difference(face_image(node, zoom, cached=True), direct) <= 4
    assert len(FACES) == 1
    assert largest_difference(face_image(node, zoom, cached=True), direct) <= 4, "and again from the cache"


def test_face_keys_change_with_content_selection_and_theme_only(window: MainWindow) -> None:
    """A face's cache key follows what it shows: a new value upstream, a selection or a theme is a new key;
    undoing the change brings the old key (and its cached pixels) back."""
    open_example(window, "notes_forward_backward")
    node = item(window, "y")
    key = node.face_key(window.theme)
    assert node.face_key(window.theme) == key, "nothing changed"
    node.setSelected(True)
    assert node.face_key(window.theme) != key
    node.setSelected(False)
    assert node.face_key(window.theme) == key
    window.set_theme("dark")
    assert node.face_key(window.theme) != key
    window.set_theme("light")
    assert node.face_key(window.theme) == key
    click_requires_grad(window, item(window, "x"))
    assert node.face_key(window.theme) != key, "x's requires_grad changes y's value (its grad_fn)"
    undo_all(window)
    window.workspace.refresh()
    assert node.face_key(window.theme) == key


def test_faces_render_once_per_key_and_zoom() -> None:
    """Drawing a face again at a zoom seen before is a cache hit; another zoom or key renders anew."""
    cache = FaceCache()
    bounds = QRectF(0, 0, 50, 20)
    painted: list[float] = []

    def draw(zoom: float, key: str) -> None:
        image = QImage(200, 100, QImage.Format.Format_ARGB32_Premultiplied)
        painter = QPainter(image)
        painter.translate(3, 4)
        painter.scale(zoom, zoom)
        draw_cached(painter, bounds, key, lambda face: painted.append(face.worldTransform().m11()), cache)
        painter.end()

    draw(1.0, "a")
    draw(1.0, "a")
    draw(0.7, "a")
    draw(1.0, "a")
    draw(1.0, "b")
    assert painted == [1.0, 0.7, 1.0] and cache.renders == 3 and cache.hits == 2


def test_the_face_cache_keeps_to_its_budget() -> None:
    """Least recently used faces leave once the pixels pass the budget."""
    cache = FaceCache(budget_bytes=3 * 10 * 10 * 4)
    for key in "abcd":
        cache.face(key, lambda: QPixmap(10, 10))
    cache.face("b", lambda: QPixmap(10, 10))  # used again: now the most recent
    cache.face("e", lambda: QPixmap(10, 10))
    assert len(cache) == 3 and cache.renders == 5


def click_requires_grad(window: MainWindow, leaf: NodeItem) -> None:
    """Toggle a leaf's requires_grad checkbox through the editor and let the values refresh."""
    window.editor.apply(SetAttribute(leaf.node.id, "requires_grad", not leaf.node.attributes["requires_grad"]),
                        "requires_grad")
    window.workspace.refresh()


def undo_all(window: MainWindow) -> None:
    """Leave the document as opened (no save prompt at teardown)."""
    while window.undo_stack.canUndo():
        window.undo_stack.undo()
    window.undo_stack.setClean()


def test_far_out_faces_are_blocks_and_wires_are_lines(window: MainWindow) -> None:
    """Below the tiny level of detail a face paints no text and a wire no curve: a block and a line."""
    open_example(window, "notes_forward_backward")
    node = item(window, "y_squared")
    image = QImage(100, 100, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = RecordingPainter(image)
    painter.scale(LOD_TINY * 0.9, LOD_TINY * 0.9)
    node.paint(painter, QStyleOptionGraphicsItem())
    next(iter(window.scene.edges.values())).paint(painter, QStyleOptionGraphicsItem())
    painter.end()
    assert painter.calls == ["drawRect", "drawLine"]


class RecordingPainter(QPainter):
    """A painter that lists the drawing calls made on it."""

    def __init__(self, image: QImage) -> None:
        super().__init__(image)
        self.calls: list[str] = []

    def drawRect(self, *args: object) -> None:  # noqa: N802 - Qt's name
        self.calls.append("drawRect")
        super().drawRect(*args)

    def drawLine(self, *args: object) -> None:  # noqa: N802 - Qt's name
        self.calls.append("drawLine")
        super().drawLine(*args)

    def drawPath(self, *args: object) -> None:  # noqa: N802 - Qt's name
        self.calls.append("drawPath")
        super().drawPath(*args)

    def drawText(self, *args: object) -> None:  # noqa: N802 - Qt's name
        self.calls.append("drawText")
        super().drawText(*args)
