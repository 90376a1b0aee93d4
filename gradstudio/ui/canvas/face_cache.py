"""Node faces rendered once into pixmaps, keyed by what they show and the zoom, shared by every scene.

Painting a face (fonts, elided text, a tensor's preview) costs far more than drawing a pixmap, and a large
graph repaints hundreds of faces on every pan and zoom. A face is cached under a key holding everything it
shows (name, values, ports, selection, colours: the item builds it), the device scale and the fraction
of a pixel it is drawn at, so a cached face is the very pixels a direct paint would make: nothing goes stale
(a new value, theme or selection is a new key) and nothing is scaled (another zoom is another key). Old
faces leave least recently used first once the cache holds more than its budget of pixels.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Hashable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPaintEngine, QPainter, QPixmap, QTransform

BUDGET_BYTES = 96 * 1024 * 1024
SUBPIXEL_STEPS = 1024  # a face is rendered at the fraction of a device pixel it is drawn at (panning keeps it)
CACHED_ENGINES = frozenset({QPaintEngine.Type.Raster, QPaintEngine.Type.OpenGL2})


class FaceCache:
    """Least-recently-used pixmaps of rendered faces, within a budget of bytes."""

    def __init__(self, budget_bytes: int = BUDGET_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self._faces: OrderedDict[Hashable, QPixmap] = OrderedDict()
        self._bytes = 0
        self.renders = 0  # faces rendered so far (a miss); tests read it to see what was repainted
        self.hits = 0

    def __len__(self) -> int:
        return len(self._faces)

    def clear(self) -> None:
        """Forget every face."""
        self._faces.clear()
        self._bytes = 0

    def face(self, key: Hashable, make: Callable[[], QPixmap]) -> QPixmap:
        """The pixmap cached under `key`, made (and kept) now if there is none."""
        pixmap = self._faces.get(key)
        if pixmap is not None:
            self._faces.move_to_end(key)
            self.hits += 1
            return pixmap
        pixmap = make()
        self.renders += 1
        self._faces[key] = pixmap
        self._bytes += _bytes(pixmap)
        while self._bytes > self.budget_bytes and len(self._faces) > 1:
            _, old = self._faces.popitem(last=False)
            self._bytes -= _bytes(old)
        return pixmap


FACES = FaceCache()


def _bytes(pixmap: QPixmap) -> int:
    return pixmap.width() * pixmap.height() * 4


def cacheable(painter: QPainter) -> bool:
    """True when `painter` draws pixels with a plain scale and offset (a view, a grab, the overview); an SVG,
    a printer or a rotated view gets the face painted directly."""
    engine = painter.paintEngine()
    transform = painter.worldTransform()
    return (engine is not None and engine.type() in CACHED_ENGINES and transform.m12() == 0 and transform.m21() == 0
            and transform.m11() > 0 and transform.m22() > 0)


def draw_cached(painter: QPainter, bounds: QRectF, key: Hashable, paint: Callable[[QPainter], None],
                cache: FaceCache = FACES) -> None:
    """Draw what `paint` draws in item coordinates within `bounds`, from the cache (rendering it on a miss)."""
    transform = painter.worldTransform()
    ratio = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
    scale_x, scale_y = transform.m11() * ratio, transform.m22() * ratio
    origin = transform.map(bounds.topLeft()) * ratio  # in device pixels
    whole_x, whole_y = math.floor(origin.x()), math.floor(origin.y())
    offset_x = round((origin.x() - whole_x) * SUBPIXEL_STEPS) / SUBPIXEL_STEPS
    offset_y = round((origin.y() - whole_y) * SUBPIXEL_STEPS) / SUBPIXEL_STEPS

    def make() -> QPixmap:
        width = max(1, math.ceil(bounds.width() * scale_x + offset_x) + 1)
        height = max(1, math.ceil(bounds.height() * scale_y + offset_y) + 1)
        pixmap = QPixmap(width, height)
        pixmap.fill(Qt.GlobalColor.transparent)
        face = QPainter(pixmap)
        face.setRenderHints(painter.renderHints())
        face.setTransform(QTransform(scale_x, 0, 0, scale_y, offset_x - bounds.left() * scale_x,
                                     offset_y - bounds.top() * scale_y))
        paint(face)
        face.end()
        return pixmap

    pixmap = cache.face((key, round(scale_x, 5), round(scale_y, 5), offset_x, offset_y), make)
    painter.save()
    painter.setWorldTransform(QTransform())
    painter.drawPixmap(QPointF(whole_x / ratio, whole_y / ratio),
                       pixmap if ratio == 1.0 else _with_ratio(pixmap, ratio))
    painter.restore()


def _with_ratio(pixmap: QPixmap, ratio: float) -> QPixmap:
    shown = QPixmap(pixmap)
    shown.setDevicePixelRatio(ratio)
    return shown
