"""What a paint exposes, in scene coordinates: an item as long as a wire across the whole graph skips a paint
that shows none of it, instead of drawing all of itself into a clip that keeps a few pixels.

A view repaints only the region its changed items cover (a scrub frame: the value lines that changed); Qt still
asks every item whose bounding rectangle meets that region to paint, and a long wire's rectangle meets most of them.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRect, QRectF
from PySide6.QtGui import QPainter, QRegion

_last: list = [None, None, None]  # the device region and transform last mapped, and the scene region they gave


def exposed_scene_region(painter: QPainter, margin: float) -> QRegion | None:
    """The scene area `painter` may change, grown by `margin` scene units; None when it may change anything (an
    image, a picture or a print: no system clip) or the view is rotated."""
    engine = painter.paintEngine()
    device = engine.systemClip() if engine is not None else QRegion()
    if device.isEmpty():
        return None
    transform = painter.deviceTransform()
    if transform.isRotating() or not transform.isAffine():
        return None
    key = (transform.m11(), transform.m22(), transform.dx(), transform.dy(), margin)
    if _last[1] == key and _last[0] == device:  # the items of one paint ask in turn: map the region once
        return _last[2]
    inverse = transform.inverted()[0]
    region = QRegion()
    for rect in device:
        scene = inverse.mapRect(QRectF(rect)).adjusted(-margin, -margin, margin, margin)
        region += scene.toAlignedRect()
    _last[:] = [device, key, region]
    return region


def cubic_pieces(x0: float, y0: float, x1: float, y1: float, x2: float, y2: float, x3: float, y3: float,
                 reach: float = 200.0) -> list[QRect]:
    """Rectangles that together hold the cubic from (x0, y0) to (x3, y3) with controls (x1, y1), (x2, y2): one per
    stretch of about `reach` along its control polygon, each the hull of that stretch's own control points."""
    length = math.hypot(x1 - x0, y1 - y0) + math.hypot(x2 - x1, y2 - y1) + math.hypot(x3 - x2, y3 - y2)
    count = max(1, min(32, math.ceil(length / reach)))

    def point(t: float) -> tuple[float, float]:
        s = 1 - t
        a, b, c, d = s * s * s, 3 * s * s * t, 3 * s * t * t, t * t * t
        return a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3

    def slope(t: float) -> tuple[float, float]:
        s = 1 - t
        a, b, c = 3 * s * s, 6 * s * t, 3 * t * t
        return a * (x1 - x0) + b * (x2 - x1) + c * (x3 - x2), a * (y1 - y0) + b * (y2 - y1) + c * (y3 - y2)

    pieces = []
    start, start_slope = point(0.0), slope(0.0)
    for index in range(1, count + 1):
        t = index / count
        end, end_slope = point(t), slope(t)
        third = 1 / (3 * count)
        xs = (start[0], start[0] + third * start_slope[0], end[0] - third * end_slope[0], end[0])
        ys = (start[1], start[1] + third * start_slope[1], end[1] - third * end_slope[1], end[1])
        left, top = math.floor(min(xs)), math.floor(min(ys))
        pieces.append(QRect(left, top, math.ceil(max(xs)) - left + 1, math.ceil(max(ys)) - top + 1))
        start, start_slope = end, end_slope
    return pieces
