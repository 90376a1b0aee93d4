"""Where new nodes go: the free spot nearest to where they were asked for, never on top of another node."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence

import numpy as np
from PySide6.QtCore import QRectF

from gradstudio.model.document import GraphDocument, Node
from gradstudio.ui.canvas.grid import GRID
from gradstudio.ui.canvas.node_geometry import WIDTH, node_height

GAP = 10.0  # room kept between nodes
MAX_RECTS = 20  # a group with more nodes is placed by its outline
REACH = 60  # grid steps searched in every direction before giving up (and taking the wanted spot)


@functools.cache
def grid_offsets() -> tuple[tuple[float, float], ...]:
    """Grid shifts within REACH steps, nearest first (ties: below, then right); computed on first use, not at
    start-up (ten thousand shifts sorted take tens of milliseconds)."""
    return tuple(sorted(((i * GRID, j * GRID) for i in range(-REACH, REACH + 1) for j in range(-REACH, REACH + 1)
                         if i * i + j * j <= REACH * REACH), key=lambda d: (math.hypot(*d), -d[1], -d[0])))


def node_rect(node: Node, position: tuple[float, float] | None = None) -> QRectF:
    """The area a node's face takes (at `position`, else where it is)."""
    x, y = position if position is not None else node.position
    return QRectF(x, y, WIDTH, node_height(len(node.input_ports())))


def free_offset(document: GraphDocument, rects: Sequence[QRectF], start: tuple[float, float] = (0.0, 0.0),
                ignore: Iterable[str] = ()) -> tuple[float, float]:
    """The shift nearest to `start` (on the grid around it) at which no rect overlaps a node of the document."""
    if not rects:
        return start
    bounds = QRectF(rects[0])
    for rect in rects[1:]:
        bounds = bounds.united(rect)
    if len(rects) > MAX_RECTS:  # a big group is placed by its outline: each candidate stays cheap
        rects = [bounds]
    reach = REACH * GRID + GAP
    area = bounds.translated(*start).adjusted(-reach, -reach, reach, reach)
    ignored = set(ignore)
    taken = np.array([_edges(rect.adjusted(-GAP, -GAP, GAP, GAP)) for node in document.nodes.values()
                      if node.id not in ignored and (rect := node_rect(node)).intersects(area)]).reshape(-1, 4)
    moving = np.array([_edges(rect.translated(*start)) for rect in rects])
    for dx, dy in grid_offsets():
        shifted = moving + (dx, dy, dx, dy)
        overlap = ((shifted[:, None, 0] < taken[None, :, 2]) & (taken[None, :, 0] < shifted[:, None, 2])
                   & (shifted[:, None, 1] < taken[None, :, 3]) & (taken[None, :, 1] < shifted[:, None, 3]))
        if not overlap.any():
            return start[0] + dx, start[1] + dy
    # nothing free nearby: below the whole graph
    bottom = max(node_rect(node).bottom() for node in document.nodes.values() if node.id not in ignored)
    return start[0], bottom + 4 * GAP - bounds.top()


def _edges(rect: QRectF) -> tuple[float, float, float, float]:
    return rect.left(), rect.top(), rect.right(), rect.bottom()


def free_position(document: GraphDocument, node: Node) -> tuple[float, float]:
    """The spot nearest to `node.position` where it overlaps no other node of the document."""
    dx, dy = free_offset(document, [node_rect(node)], ignore=[node.id])
    return node.position[0] + dx, node.position[1] + dy
