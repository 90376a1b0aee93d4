"""Export the graph as an image: PNG through QImage, SVG through QSvgGenerator (both via scene.render)."""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

MARGIN = 30.0
PNG_SCALE = 2.0  # pixels per scene unit: sharp on high-density screens and slides
MAX_PNG_PIXELS = 64_000_000  # 256 MB of ARGB: a 5,000-node graph at PNG_SCALE would need gigabytes and a minute


def graph_rect(scene: QGraphicsScene) -> QRectF:
    """The scene area covered by the graph, with a margin."""
    rect = scene.itemsBoundingRect()
    if rect.isEmpty():
        rect = QRectF(0, 0, 200, 100)
    return rect.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)


def _render(scene: QGraphicsScene, painter: QPainter, source: QRectF, target: QRectF) -> None:
    """Draw the graph without selection marks, buttons or item caches (an SVG gets vectors and text)."""
    selected = scene.selectedItems()
    scene.clearSelection()
    cached = [item for item in scene.items() if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
    modes = [item.cacheMode() for item in cached]
    for item in cached:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    scene.exporting = True  # no close crosses or fix buttons in a picture
    try:
        painter.fillRect(target, scene.theme.background)
        scene.render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)
    finally:
        scene.exporting = False
        for item, mode in zip(cached, modes):
            item.setCacheMode(mode)
        for item in selected:
            item.setSelected(True)


def export_png(scene: QGraphicsScene, path: str | Path) -> bool:
    """Write the graph as a PNG; True on success."""
    source = graph_rect(scene)
    scale = min(PNG_SCALE, math.sqrt(MAX_PNG_PIXELS / (source.width() * source.height())))
    size = QSize(max(1, round(source.width() * scale)), max(1, round(source.height() * scale)))
    image = QImage(size, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    _render(scene, painter, source, QRectF(0, 0, size.width(), size.height()))
    painter.end()
    return image.save(str(path), "PNG")


def export_svg(scene: QGraphicsScene, path: str | Path) -> bool:
    """Write the graph as an SVG; True on success."""
    from PySide6.QtSvg import QSvgGenerator

    source = graph_rect(scene)
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(round(source.width()), round(source.height())))
    generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
    generator.setTitle("GradStudio graph")
    painter = QPainter(generator)
    _render(scene, painter, source, QRectF(0, 0, source.width(), source.height()))
    return painter.end()


def export_image(scene: QGraphicsScene, path: str | Path) -> bool:
    """PNG or SVG by the file's extension (PNG when it has neither)."""
    return export_svg(scene, path) if str(path).lower().endswith(".svg") else export_png(scene, path)
