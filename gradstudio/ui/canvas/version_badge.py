"""The version badge of a node face: `v1` in the header, with View > Show Versions (off by default).

A tensor's version counter (`tensor._version`, read through the model's
`tensor_version`) counts its in-place changes; a badge above 0 is drawn in amber,
so a tensor an in-place op changed stands out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter

from gradstudio.model.versions import tensor_version

if TYPE_CHECKING:
    from gradstudio.ui.canvas.items import NodeItem

CHANGED = QColor("#f5b041")  # a version above 0: the tensor was changed in place
UNCHANGED = QColor(255, 255, 255, 70)
HEIGHT = 16.0


def version_of(item: NodeItem) -> int | None:
    """The version counter of the node's tensor, read live; None for no tensor."""
    return tensor_version(item.result)


def shown_version(item: NodeItem) -> int | None:
    """The version the face shows: the tensor's counter while the scene shows versions, else None."""
    scene = item.graph_scene()
    return version_of(item) if scene is not None and scene.show_versions else None


def paint_badge(painter: QPainter, item: NodeItem, right: float, header: float, font: QFont) -> float:
    """A `v1` pill in the header ending at `right`, when the scene shows versions; returns the width it took."""
    version = shown_version(item)
    if version is None:
        return 0.0
    text = f"v{version}"
    width = QFontMetricsF(font).horizontalAdvance(text) + 10
    rect = QRectF(right - width, (header - HEIGHT) / 2, width, HEIGHT)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(CHANGED if version else UNCHANGED)
    painter.drawRoundedRect(rect, HEIGHT / 2, HEIGHT / 2)
    painter.setPen(QColor("#1f2328") if version else QColor("white"))
    painter.setFont(font)
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
    return width + 4
