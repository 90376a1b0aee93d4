"""The measures of a node on the canvas: its face's width, header and rows, where its ports and value line sit, and
the zoom levels at which faces simplify.

Kept apart from the item (items.py) and its painting (node_face.py) so that everything laying nodes out or drawing
around them (wires, the view, placement, code import) reads the numbers without importing either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF

if TYPE_CHECKING:
    from gradstudio.ui.canvas.items import NodeItem

WIDTH = 176.0
HEADER = 26.0
ROW = 20.0
LINE = 16.0
PADDING = 6.0
PORT_RADIUS = 5.0
LOD_SIMPLE = 0.5  # below this zoom a face shows only its name and value, in letters large enough to read
LOD_TINY = 0.085  # below this zoom those letters would be under 3 pixels tall: faces are coloured blocks, wires lines


def node_height(port_count: int) -> float:
    """Height of a node face with `port_count` input ports."""
    return HEADER + max(port_count, 1) * ROW + 2 * LINE + PADDING


def value_line(item: NodeItem) -> QRectF:
    """Where a face writes its values (the line a drag on a leaf scrubs), in item coordinates."""
    top = HEADER + max(len(item.inputs), 1) * ROW
    return QRectF(8, top + 2 + LINE, WIDTH - 16, LINE)


def values_rect(item: NodeItem, zoom: float) -> QRectF:
    """Where a face shows its values at `zoom` (item coordinates), with room for antialiasing and the scrub field:
    the value line, or zoomed far out the lower half of the face."""
    if zoom < LOD_SIMPLE:
        height = item.height()
        return QRectF(-1, height / 2 - 2, WIDTH + 2, height / 2 + 4)
    return value_line(item).adjusted(-6, -3, 6, 3)
