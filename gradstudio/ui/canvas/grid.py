"""The canvas's grid: its step (`GRID`, which snapping and placement keep to), how far apart its lines are drawn at
a zoom, and drawing them over the area a paint exposes, never more than `MAX_GRID_LINES` whatever the zoom.

The view's `drawBackground` draws it (minor lines, and major ones every `GRID_MAJOR` while the minor ones are the
step itself); the view itself keeps zoom, panning and drops.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QPainter, QPen

GRID = 20.0
GRID_MAJOR = 5
MIN_GRID_PIXELS = 8  # grid lines closer than this on screen are drawn GRID_MAJOR times sparser
MAX_GRID_LINES = 2000  # per paint: a bound whatever the zoom and the exposed area


def grid_spacing(zoom: float, base: float = GRID) -> float:
    """The grid's spacing in scene units at `zoom`: `base` times a power of GRID_MAJOR, at least 8 pixels apart."""
    spacing = base
    while spacing * zoom < MIN_GRID_PIXELS and spacing < 1e12:
        spacing *= GRID_MAJOR
    return spacing


def draw_grid(painter: QPainter, rect: QRectF, spacing: float, color: object) -> int:
    """Draw grid lines `spacing` apart over `rect`; how many (none when they would be too many)."""
    if not all(math.isfinite(v) for v in (rect.left(), rect.right(), rect.top(), rect.bottom())):
        return 0
    columns = rect.width() / spacing + 1
    rows = rect.height() / spacing + 1
    if columns + rows > MAX_GRID_LINES:
        return 0
    painter.setPen(QPen(color, 0))
    left = math.floor(rect.left() / spacing) * spacing
    top = math.floor(rect.top() / spacing) * spacing
    lines = [QLineF(x, rect.top(), x, rect.bottom()) for x in _steps(left, rect.right(), spacing)]
    lines += [QLineF(rect.left(), y, rect.right(), y) for y in _steps(top, rect.bottom(), spacing)]
    painter.drawLines(lines)
    return len(lines)


def _steps(start: float, stop: float, step: float) -> list[float]:
    count = int((stop - start) / step) + 1
    return [start + i * step for i in range(count)]
