"""Where new nodes go: the free spot nearest to where they were asked for, never on top of another node."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from PySide6.QtCore import QRectF

from gradstudio.model.document import GraphDocument, Node
from gradstudio.ui.canvas.items import GRID, WIDTH, node_height

GAP = 10.0  # room kept between nodes
REACH = 60  # grid steps searched in every direction before giving up (and taking the wanted spot)
# grid shifts, nearest first (ties: below, then right)
OFFSETS = sorted(((i * GRID, j * GRID) for i in range(-REACH, REACH + 1) for j in range(-REACH, REACH + 1)
                  if i * i + j * j <= REACH * REACH), key=lambda d: (math.hypot(*d), -d[1], -d[0]))


def node_rect(node: Node, position: tuple[float, float] | None = None) -> QRectF:
    """The area a node's face takes (at `position`, else where it is)."""
    x, y = position if position is not None else node.position
    return QRectF(x, y, WIDTH, node_height(len(node.input_ports())))


def free_offset(document: GraphDocument, rects: Sequence[QRectF], start: tuple[float, float] = (0.0, 0.0),
                ignore: Iterable[str] = ()) -> tuple[float, float]:
    """The shift nearest to `start` (on the grid around it) at which no rect overlaps a node of the document."""
    if not rects:
        return start
    ignored = set(ignore)
    bounds = QRectF(rects[0])
    for rect in rects[1:]:
        bounds = bounds.united(rect)
    reach = REACH * GRID + GAP
    area = bounds.translated(*start).adjusted(-reach, -reach, reach, reach)
    taken = [rect.adjusted(-GAP, -GAP, GAP, GAP) for node in document.nodes.values()
             if node.id not in ignored and (rect := node_rect(node)).intersects(area)]
    for dx, dy in OFFSETS:
        shift = (start[0] + dx, start[1] + dy)
        if not any(rect.translated(*shift).intersects(other) for rect in rects for other in taken):
            return shift
    return start


def free_position(document: GraphDocument, node: Node) -> tuple[float, float]:
    """The spot nearest to `node.position` where it overlaps no other node of the document."""
    dx, dy = free_offset(document, [node_rect(node)], ignore=[node.id])
    return node.position[0] + dx, node.position[1] + dy
