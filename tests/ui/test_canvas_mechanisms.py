"""The canvas's shortcuts for large graphs draw exactly what the plain way would (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from gradstudio.model.document import AddNode, Edge, GraphDocument, Node
from gradstudio.ui.canvas.items import EdgeItem, bezier, bezier_extent


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
